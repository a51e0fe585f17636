//! The letters that carry codes to the registered address: sealed in the
//! database until the registrar prints them for the mail, which is on the
//! record for each citizen concerned.
use sqin_staff::StaffAction;
use sqin_store::staff_requests;

use super::requests::{letter_context, LetterContent};
use super::{record_file_act, FileAct, StaffActor};
use crate::{AppError, AppResult, Services};

/// How many letters wait for the mail (no content).
pub async fn waiting(services: &Services, actor: &StaffActor) -> AppResult<usize> {
    actor.role_for(services, StaffAction::LettersPrint)?;
    let mut conn = services.store.pool().acquire().await?;
    Ok(staff_requests::unprinted_letters(&mut conn).await?.len())
}

/// Opens every waiting letter for the mail merge and marks it printed, in
/// one transaction with the records of the access: a CSV document for the
/// print shop (register id, names, address, code, expiry).
pub async fn print(services: &Services, actor: &StaffActor) -> AppResult<String> {
    actor.require_fresh()?;
    let role = actor.role_for(services, StaffAction::LettersPrint)?;
    let now = actor.now;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "register_id",
        "given_name",
        "family_name",
        "address",
        "code",
        "expires_at",
        "purpose",
    ];
    out.write_record(header).map_err(csv_error)?;
    for letter in staff_requests::unprinted_letters(&mut tx).await? {
        if !staff_requests::letter_printed(&mut tx, &letter.id, &actor.member.badge, now).await? {
            continue;
        }
        let plain = services
            .kek
            .open(&letter_context(&letter.id), &letter.sealed)?;
        let content: LetterContent =
            serde_json::from_slice(&plain).map_err(|e| AppError::Failed {
                step: "opening a letter".into(),
                source: Box::new(e),
            })?;
        record_file_act(
            &mut tx,
            services,
            FileAct {
                actor,
                role: &role.id,
                action: StaffAction::LettersPrint.as_str(),
                purpose: "enrolment",
                reference: &letter.id,
                register_id: &content.register_id,
                citizen_id: letter.citizen_id.as_deref(),
                elements: vec![
                    "citizen.given_name".into(),
                    "citizen.family_name".into(),
                    "citizen.address".into(),
                    "letter.record".into(),
                ],
            },
            now,
        )
        .await?;
        out.write_record([
            content.register_id.as_str(),
            &content.given_name,
            &content.family_name,
            content.address.as_deref().unwrap_or(""),
            &content.code,
            &sqin_ledger_service::history::rfc3339(content.code_expires_at),
            &content.purpose,
        ])
        .map_err(csv_error)?;
    }
    let bytes = out.into_inner().map_err(|e| AppError::Failed {
        step: "writing the letters".into(),
        source: Box::new(e.into_error()),
    })?;
    tx.commit().await?;
    String::from_utf8(bytes).map_err(|e| AppError::Failed {
        step: "writing the letters".into(),
        source: Box::new(e),
    })
}

fn csv_error(e: csv::Error) -> AppError {
    AppError::Failed {
        step: "writing the letters".into(),
        source: Box::new(e),
    }
}
