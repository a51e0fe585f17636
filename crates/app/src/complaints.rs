//! Complaints about the protection of personal information, as
//! pia/governance.md (section 6) sets the process: a citizen files one from
//! their account page and gets a file number and the date the answer is due
//! (30 days); the privacy officer reads and answers it, and each of those
//! accesses is a `staff_access` entry of the citizen's ledger, like any
//! other look at their file.
use sqin_ledger_service::LedgerEvent;
use sqin_store::complaints::{self, Complaint};

use crate::{AppError, During, Services};

/// Days the body has to answer (pia/governance.md).
pub const ANSWER_DAYS: i64 = 30;
/// The role that handles complaints (pia/inventory.toml).
pub const HANDLER_ROLE: &str = "privacy-officer";

/// A file number: the date and six random characters ("20261123-K7Q2ZD").
fn file_number(now: i64) -> Result<String, AppError> {
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
    };
    let mut conn = services.store.pool().acquire().await?;
    complaints::insert(&mut conn, &complaint).await?;
    tracing::info!(complaint = %complaint.id, "complaint received");
    Ok(complaint)
}

/// Records, in the caller's transaction, that the privacy officer looked at
/// the complaint of a citizen (who sees it under "Who looked at my file").
async fn record_access(
    tx: &mut sqin_store::Connection,
    services: &Services,
    complaint: &Complaint,
    staff_id: &str,
    purpose: String,
    now: i64,
) -> Result<(), AppError> {
    let Some(citizen_id) = &complaint.citizen_id else {
        return Ok(());
    };
    sqin_ledger_service::append(
        tx,
        &services.ledger,
        LedgerEvent::StaffAccess {
            citizen_id: citizen_id.clone(),
            staff_id: staff_id.to_owned(),
            role: HANDLER_ROLE.to_owned(),
            purpose,
            seen: vec!["complaint.record".into()],
        },
        now,
    )
    .await
    .during("recording the access in the ledger (nothing is shown without it)")?;
    Ok(())
}

fn check_staff(staff_id: &str) -> Result<&str, AppError> {
    let staff_id = staff_id.trim();
    if staff_id.is_empty() || staff_id.len() > 100 {
        return Err(AppError::Refused(
            "give your staff identifier (1 to 100 characters)".into(),
        ));
    }
    Ok(staff_id)
}

/// The privacy officer opens a complaint: recorded, then shown.
pub async fn open(
    services: &Services,
    id: &str,
    staff_id: &str,
    now: i64,
) -> Result<Complaint, AppError> {
    let staff_id = check_staff(staff_id)?;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let complaint = complaints::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no complaint {id}")))?;
    record_access(
        &mut tx,
        services,
        &complaint,
        staff_id,
        format!("Complaint {id}"),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(complaint)
}

/// The privacy officer answers a complaint, which closes it; the citizen
/// reads the answer on their complaints page.
pub async fn answer(
    services: &Services,
    id: &str,
    staff_id: &str,
    text: &str,
    now: i64,
) -> Result<Complaint, AppError> {
    let staff_id = check_staff(staff_id)?;
    let text = check_text("the answer", text, 10_000)?;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let complaint = complaints::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no complaint {id}")))?;
    if !complaints::answer(&mut tx, id, &text, staff_id, now).await? {
        return Err(AppError::Conflict(format!(
            "complaint {id} is already answered"
        )));
    }
    record_access(
        &mut tx,
        services,
        &complaint,
        staff_id,
        format!("Complaint {id}: answer"),
        now,
    )
    .await?;
    tx.commit().await?;
    let mut conn = services.store.pool().acquire().await?;
    complaints::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no complaint {id}")))
}
