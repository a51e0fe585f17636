//! The staff plane: members of staff authenticated with passkeys, acting in
//! the roles of the PIA that a privacy officer (with a second person)
//! granted them, opening a citizen's file only by register id for a stated
//! purpose, asking a second person to approve what is sensitive, and never
//! acting off the record.
//!
//! - [`session`]: a signed-in member of staff ([`StaffActor`]): their
//!   session, their live roles, how fresh their last passkey assertion is.
//! - [`directory`]: invitations (the operator's bootstrap, then the
//!   console's) and role grants.
//! - [`files`]: opening a citizen's file, as the role allows, recorded first.
//! - [`requests`]: four eyes on recovery, closure and grants.
//! - [`letters`]: printing the letters that carry codes to the registered
//!   address.
//! - [`review`]: the privacy officer's review of the access register, with
//!   flags and alerts.
//! - [`operations`]: the roles that see no citizen: key rotation for the
//!   administrator, ledger verification and aggregates for the auditor.
//!
//! Everything about a citizen is written twice, in the transaction of the
//! act: in the staff access register (pseudonymous, kept for the PIA's
//! period even after the account is closed) and in the citizen's own ledger
//! history ("Who looked at my file", while the account exists). Everything
//! else (invitations, grants, approvals) is a public governance entry of the
//! ledger.
use std::collections::BTreeMap;

use sqin_store::staff_access::{self, AccessRecord};
use sqin_store::Connection;

use crate::{AppResult, Services};

pub mod automation;
pub mod directory;
pub mod files;
pub mod letters;
pub mod operations;
pub mod requests;
pub mod review;
pub mod session;

pub use session::StaffActor;

/// The actor named in governance entries for what the operator does on the
/// server host (the CLI).
pub const OPERATOR: &str = "operator";

/// The pseudonymous reference to a citizen in the access register: a keyed
/// hash of the register id, so the register names nobody and still answers
/// "who opened R-2's file" after the account is gone.
pub fn citizen_ref(services: &Services, register_id: &str) -> Vec<u8> {
    services
        .staff_key
        .sign(&[b"staff-access\0", register_id.trim().as_bytes()])
        .to_vec()
}

/// What an act on a citizen's file puts on the record.
pub struct FileAct<'a> {
    pub actor: &'a StaffActor,
    pub role: &'a str,
    pub action: &'a str,
    pub purpose: &'a str,
    pub reference: &'a str,
    pub register_id: &'a str,
    /// The citizen's account, when there is one (a look-up that found
    /// nothing is recorded too, in the register only).
    pub citizen_id: Option<&'a str>,
    pub elements: Vec<String>,
}

/// Records an act on a citizen's file in the caller's transaction: the
/// access register, and the citizen's ledger history. Nothing is shown or
/// done unless this commits.
pub async fn record_file_act(
    tx: &mut Connection,
    services: &Services,
    act: FileAct<'_>,
    now: i64,
) -> AppResult<()> {
    staff_access::append(
        tx,
        &AccessRecord {
            seq: 0,
            at: now,
            staff_id: act.actor.member.id.clone(),
            badge: act.actor.member.badge.clone(),
            role: act.role.to_owned(),
            action: act.action.to_owned(),
            purpose: act.purpose.to_owned(),
            reference: act.reference.trim().to_owned(),
            citizen_ref: citizen_ref(services, act.register_id),
            elements: act.elements.clone(),
        },
    )
    .await?;
    if let Some(citizen_id) = act.citizen_id {
        sqin_ledger_service::append(
            tx,
            &services.ledger,
            sqin_ledger_contract::LedgerEvent::StaffAccess {
                citizen_id: citizen_id.to_owned(),
                staff_id: act.actor.member.badge.clone(),
                role: act.role.to_owned(),
                purpose: act.purpose.to_owned(),
                seen: act.elements,
                action: Some(act.action.to_owned()),
                reference: Some(act.reference.trim().to_owned()),
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// Records a governance act (on the service, not on a citizen) in the
/// caller's transaction, as a public ledger entry.
pub(crate) async fn record_governance(
    tx: &mut Connection,
    services: &Services,
    actor: &str,
    what: &str,
    details: &[(&str, &str)],
    now: i64,
) -> AppResult<()> {
    let details: BTreeMap<String, String> = details
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    sqin_ledger_service::append_governance(tx, &services.ledger, actor, what, details, now).await?;
    Ok(())
}

/// Records an operator action (the CLI on the server host) as a public
/// governance entry.
pub async fn record_operator_action(
    services: &Services,
    what: &str,
    details: &[(&str, &str)],
) -> AppResult<()> {
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    record_governance(&mut tx, services, OPERATOR, what, details, services.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Who the server's own scheduled work is, in governance entries.
pub const SCHEDULED: &str = "sqin (scheduled)";

/// Records what the server's scheduled work did to the service (a
/// retention pass that destroyed something) as a governance entry.
pub async fn record_service_action(
    services: &Services,
    what: &str,
    details: &[(&str, &str)],
) -> AppResult<()> {
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    record_governance(&mut tx, services, SCHEDULED, what, details, services.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// A trimmed text of 1 to `max` characters, or a refusal naming `what`.
pub(crate) fn text(what: &str, value: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(crate::AppError::Refused(format!(
            "{what} must be 1 to {max} characters"
        )));
    }
    Ok(v.to_owned())
}
