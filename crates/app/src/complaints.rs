//! Complaints about the protection of personal information, as
//! pia/governance.md (section 6) sets the process: a citizen files one from
//! their account page and gets a file number and the date the answer is due
//! (30 days); the privacy officer reads and answers it, and each of those
//! accesses is a `staff_access` entry of the citizen's ledger, like any
//! other look at their file.
use sqin_staff::StaffAction;
use sqin_store::complaints::{self, Complaint};

use crate::staff::{record_file_act, FileAct, StaffActor};
use crate::{AppError, Services};

/// Days the body has to answer (pia/governance.md).
pub const ANSWER_DAYS: i64 = 30;

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
