//! Complaints about the protection of personal information, as
//! pia/governance.md (section 6) sets the process: a citizen files one from
//! their account page and gets a file number and the date the answer is due
//! (30 days); the privacy officer reads and answers it, and each of those
//! accesses is a `staff_access` entry of the citizen's ledger, like any
//! other look at their file.
//!
//! Someone without an account files one from the public complaint page with
//! a contact (an email or a postal address) instead of a sign-in
//! ([`file_without_account`], rate-limited per client address): they get the
//! file number and a status code, shown once and stored only as a hash,
//! with which they read the answer ([`status`]). The privacy officer handles
//! it with the same tooling; its accesses are in the access register under
//! the file's number (there is no citizen history to write to).
use std::net::IpAddr;

use sqin_crypto::{normalise_typed_code, sha256, HashedSecret, SecretString, ENROLMENT_ALPHABET};
use sqin_staff::StaffAction;
use sqin_store::complaints::{self, Complaint};
use sqin_store::rate_limits::{self, Budget};

use crate::staff::{record_file_act, FileAct, StaffActor};
use crate::{AppError, Services};

/// Days the body has to answer (pia/governance.md).
pub const ANSWER_DAYS: i64 = 30;

/// Complaints one client address may file without an account per window
/// of the passkey service's rate limits (15 minutes by default).
pub const FILED_PER_ADDRESS: i64 = 3;

/// Status look-ups one client address may make per window.
pub const STATUS_READS_PER_ADDRESS: i64 = 20;

/// Longest contact, in characters.
pub const MAX_CONTACT: usize = 500;

/// A file number: the date and six random characters ("20261123-K7Q2ZD").
pub(crate) fn file_number(now: i64) -> Result<String, AppError> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let date = sqin_ledger_service::history::rfc3339(now);
    let day: String = date.chars().take(10).filter(|c| *c != '-').collect();
    let random = sqin_crypto::random_bytes::<6>()?;
    let tail: String = random
        .iter()
        .map(|b| {
            let i = usize::from(*b) % ALPHABET.len();
            char::from(ALPHABET.get(i).copied().unwrap_or(b'X'))
        })
        .collect();
    Ok(format!("{day}-{tail}"))
}

fn check_text(what: &str, text: &str, max: usize) -> Result<String, AppError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max {
        return Err(AppError::Refused(format!(
            "{what} must be 1 to {max} characters"
        )));
    }
    Ok(text.to_owned())
}

/// Files a complaint for a signed-in citizen.
pub async fn file(
    services: &Services,
    citizen_id: &str,
    subject: &str,
    facts: &str,
    now: i64,
) -> Result<Complaint, AppError> {
    let complaint = Complaint {
        id: file_number(now)?,
        citizen_id: Some(citizen_id.to_owned()),
        subject: check_text("the subject", subject, 200)?,
        facts: check_text("the description", facts, 5000)?,
        received_at: now,
        answer_due: now + ANSWER_DAYS * 86_400,
        answer: None,
        answered_by: None,
        closed_at: None,
        contact: None,
        status_code_hash: None,
    };
    let mut conn = services.store.pool().acquire().await?;
    complaints::insert(&mut conn, &complaint).await?;
    tracing::info!(complaint = %complaint.id, "complaint received");
    Ok(complaint)
}

/// How to answer someone who filed without an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    Email(String),
    Postal(String),
}

impl Contact {
    /// The contact from a form: its kind (`email` or `postal`) and value,
    /// checked; the message says what to fix.
    pub fn parse(kind: &str, value: &str) -> Result<Contact, AppError> {
        let value = value.trim();
        match kind {
            "email" => {
                let valid = value.len() <= 254
                    && !value.chars().any(char::is_whitespace)
                    && value.split_once('@').is_some_and(|(local, domain)| {
                        !local.is_empty()
                            && domain.contains('.')
                            && !domain.starts_with('.')
                            && !domain.ends_with('.')
                    });
                if valid {
                    Ok(Contact::Email(value.to_owned()))
                } else {
                    Err(AppError::Refused(
                        "give an email address to be answered at".into(),
                    ))
                }
            }
            "postal" => Ok(Contact::Postal(check_text(
                "the postal address",
                value,
                MAX_CONTACT,
            )?)),
            _ => Err(AppError::Refused(
                "say how to answer you: by email or by mail".into(),
            )),
        }
    }

    /// The stored form: `email:` or `postal:` and the value.
    pub fn stored(&self) -> String {
        match self {
            Contact::Email(v) => format!("email:{v}"),
            Contact::Postal(v) => format!("postal:{v}"),
        }
    }

    /// The stored form read back.
    pub fn from_stored(text: &str) -> Option<Contact> {
        if let Some(v) = text.strip_prefix("email:") {
            return Some(Contact::Email(v.to_owned()));
        }
        text.strip_prefix("postal:")
            .map(|v| Contact::Postal(v.to_owned()))
    }

    /// `email` or `postal`.
    pub fn kind(&self) -> &'static str {
        match self {
            Contact::Email(_) => "email",
            Contact::Postal(_) => "postal",
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Contact::Email(v) | Contact::Postal(v) => v,
        }
    }
}

/// A status code: 20 symbols (100 bits) of the alphabet of enrolment codes,
/// in groups of five, typed or pasted by a person.
fn status_code() -> Result<SecretString, AppError> {
    let random = sqin_crypto::random_bytes::<20>()?;
    let symbols: Vec<char> = random
        .iter()
        .map(|b| {
            char::from(
                ENROLMENT_ALPHABET
                    .get(usize::from(b & 31))
                    .copied()
                    .unwrap_or(b'0'),
            )
        })
        .collect();
    let groups: Vec<String> = symbols
        .chunks(5)
        .map(|c| c.iter().collect::<String>())
        .collect();
    Ok(SecretString::new(groups.join("-")))
}

fn status_code_hash(typed: &str) -> Vec<u8> {
    sha256(normalise_typed_code(typed).as_bytes()).to_vec()
}

/// Counts an attempt from `client` in the `what` bucket, or refuses it
/// (429). The bucket is a keyed hash: the address is not stored.
async fn admit(
    services: &Services,
    conn: &mut sqin_store::Connection,
    what: &[u8],
    limit: i64,
    client: IpAddr,
    now: i64,
) -> Result<(), AppError> {
    let bucket = services.form_key.sign(&[
        b"rate-limit\0",
        what,
        b"\0",
        &rate_limits::client_prefix(client),
    ]);
    let window = services.passkeys.limits().window_secs;
    match rate_limits::hit(
        conn,
        &[Budget {
            bucket: &bucket,
            limit,
        }],
        window,
        now,
    )
    .await?
    {
        Ok(()) => Ok(()),
        Err(refused) => {
            tracing::warn!(
                limit = %String::from_utf8_lossy(what),
                retry_after = refused.retry_after,
                "rate limit reached: attempt refused with 429"
            );
            Err(AppError::RateLimited {
                retry_after: refused.retry_after,
            })
        }
    }
}

/// Someone without an account files a complaint with a contact to be
/// answered at. They get the file number and a status code, shown once
/// (returned here) and stored as a hash only.
pub async fn file_without_account(
    services: &Services,
    contact: &Contact,
    subject: &str,
    facts: &str,
    client: IpAddr,
    now: i64,
) -> Result<(Complaint, SecretString), AppError> {
    let code = status_code()?;
    let complaint = Complaint {
        id: file_number(now)?,
        citizen_id: None,
        subject: check_text("the subject", subject, 200)?,
        facts: check_text("the description", facts, 5000)?,
        received_at: now,
        answer_due: now + ANSWER_DAYS * 86_400,
        answer: None,
        answered_by: None,
        closed_at: None,
        contact: Some(contact.stored()),
        status_code_hash: Some(status_code_hash(code.expose())),
    };
    let mut conn = services.store.pool().acquire().await?;
    admit(
        services,
        &mut conn,
        b"complaints-filed-from",
        FILED_PER_ADDRESS,
        client,
        now,
    )
    .await?;
    complaints::insert(&mut conn, &complaint).await?;
    tracing::info!(complaint = %complaint.id, "complaint received without an account");
    Ok((complaint, code))
}

/// The complaint filed without an account with this number and status
/// code; a wrong code and an unknown number are the same "not found".
/// Rate-limited per client address.
pub async fn status(
    services: &Services,
    number: &str,
    code: &str,
    client: IpAddr,
    now: i64,
) -> Result<Complaint, AppError> {
    let mut conn = services.store.pool().acquire().await?;
    admit(
        services,
        &mut conn,
        b"complaint-status-from",
        STATUS_READS_PER_ADDRESS,
        client,
        now,
    )
    .await?;
    let number = number.trim().to_uppercase();
    let not_found = || AppError::NotFound("no complaint has this number and status code".into());
    if number.is_empty() || number.len() > 64 {
        return Err(not_found());
    }
    let complaint = complaints::get(&mut conn, &number)
        .await?
        .ok_or_else(not_found)?;
    let matches = complaint
        .status_code_hash
        .as_deref()
        .and_then(HashedSecret::from_slice)
        .is_some_and(|stored| stored.matches(&normalise_typed_code(code)));
    if matches {
        Ok(complaint)
    } else {
        Err(not_found())
    }
}

/// Records, in the caller's transaction, that a member of staff handled the
/// complaint: in the access register and, while the account exists, in the
/// citizen's ledger history ("Who looked at my file").
async fn record_access(
    tx: &mut sqin_store::Connection,
    services: &Services,
    actor: &StaffActor,
    role: &str,
    complaint: &Complaint,
    action: &str,
    now: i64,
) -> Result<(), AppError> {
    let register_id = match &complaint.citizen_id {
        Some(id) => sqin_store::citizens::by_id(&mut *tx, &services.register, id)
            .await?
            .map(|c| c.register_id),
        None => None,
    };
    record_file_act(
        tx,
        services,
        FileAct {
            actor,
            role,
            action,
            purpose: "accountability",
            reference: &complaint.id,
            // A complaint whose account is gone is still on the record,
            // under its own number.
            register_id: register_id
                .as_deref()
                .unwrap_or(&format!("complaint:{}", complaint.id)),
            citizen_id: register_id.as_ref().and(complaint.citizen_id.as_deref()),
            elements: vec!["complaint.record".into()],
        },
        now,
    )
    .await
}

/// The complaints (the open ones with `open_only`), without their text:
/// numbers, dates and deadlines.
pub async fn list(
    services: &Services,
    actor: &StaffActor,
    open_only: bool,
) -> Result<Vec<Complaint>, AppError> {
    actor.role_for(services, StaffAction::ComplaintsHandle)?;
    let mut conn = services.store.pool().acquire().await?;
    Ok(complaints::list(&mut conn, open_only).await?)
}

/// A member of staff who handles complaints opens one: recorded, then shown.
pub async fn open(
    services: &Services,
    actor: &StaffActor,
    id: &str,
) -> Result<Complaint, AppError> {
    let role = actor.role_for(services, StaffAction::ComplaintsHandle)?;
    let now = actor.now;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let complaint = complaints::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no complaint {id}")))?;
    record_access(
        &mut tx,
        services,
        actor,
        &role.id,
        &complaint,
        "complaint.open",
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(complaint)
}

/// Answers a complaint, which closes it; the citizen reads the answer on
/// their complaints page.
pub async fn answer(
    services: &Services,
    actor: &StaffActor,
    id: &str,
    text: &str,
) -> Result<Complaint, AppError> {
    actor.require_fresh()?;
    let role = actor.role_for(services, StaffAction::ComplaintsHandle)?;
    let now = actor.now;
    let text = check_text("the answer", text, 10_000)?;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let complaint = complaints::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no complaint {id}")))?;
    if !complaints::answer(&mut tx, id, &text, &actor.member.badge, now).await? {
        return Err(AppError::Conflict(format!(
            "complaint {id} is already answered"
        )));
    }
    record_access(
        &mut tx,
        services,
        actor,
        &role.id,
        &complaint,
        "complaint.answer",
        now,
    )
    .await?;
    tx.commit().await?;
    let mut conn = services.store.pool().acquire().await?;
    complaints::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no complaint {id}")))
}
