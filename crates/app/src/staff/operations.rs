//! The staff roles that see no citizen at all: the administrator rotates
//! the token signing keys, the auditor verifies the ledger and reads
//! aggregates for the Commission. Both work in the console like everyone
//! else, on the record, so the operator's shell is not the only way to do
//! them and not a way around the record.
use std::sync::atomic::AtomicBool;

use sqin_staff::StaffAction;
use sqin_store::keys::SigningKeyRow;
use sqin_store::staff_access::AccessCount;

use super::{record_governance, StaffActor};
use crate::{AppError, AppResult, During, Services};

/// The signing keys and their states, for the administrator.
pub async fn signing_keys(
    services: &Services,
    actor: &StaffActor,
) -> AppResult<Vec<SigningKeyRow>> {
    actor.role_for(services, StaffAction::KeysRotate)?;
    let mut conn = services.store.pool().acquire().await?;
    Ok(sqin_store::keys::list_all(&mut conn).await?)
}

/// Rotates the token signing keys of every algorithm (what `sqin keys
/// rotate` does): a
/// sensitive action, so it needs a fresh passkey assertion; recorded as a
/// governance entry in the rotation's transaction, and picked up by this
/// node at once (other nodes on their next key reload).
pub async fn rotate_keys(
    services: &Services,
    actor: &StaffActor,
) -> AppResult<sqin_oidc::keys::Rotation> {
    actor.role_for(services, StaffAction::KeysRotate)?;
    actor.require_fresh()?;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let rotation = sqin_oidc::keys::rotate(
        &mut tx,
        &services.kek,
        actor.now,
        services.settings.token_ttl_secs * 2,
    )
    .await
    .during("rotating the signing keys")?;
    record_governance(
        &mut tx,
        services,
        &actor.member.badge,
        "keys.rotated",
        &[
            ("current", &rotation.currents()),
            ("next", &rotation.nexts()),
        ],
        actor.now,
    )
    .await?;
    tx.commit().await?;
    services.reload_keys().await?;
    Ok(rotation)
}

/// What the auditor sees: counts, never a person.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Aggregates {
    /// Ledger entries by kind: (kind, count, first entry's time).
    pub entries: Vec<(String, i64, i64)>,
    /// Staff acts in the period, by role, action and purpose.
    pub staff_acts: Vec<AccessCount>,
    pub from: i64,
    pub to: i64,
}

/// The aggregates over `[from, to)` (staff acts) and the whole log.
pub async fn aggregates(
    services: &Services,
    actor: &StaffActor,
    from: i64,
    to: i64,
) -> AppResult<Aggregates> {
    actor.role_for(services, StaffAction::LedgerVerify)?;
    if from >= to {
        return Err(AppError::Refused(
            "the period must end after it starts".into(),
        ));
    }
    let mut conn = services.store.pool().acquire().await?;
    Ok(Aggregates {
        entries: sqin_store::ledger::counts_by_kind(&mut conn).await?,
        staff_acts: sqin_store::staff_access::counts(&mut conn, from, to).await?,
        from,
        to,
    })
}

/// The report for the Commission over `[from, to)` ([`crate::report`]),
/// for the auditor (and whoever may verify the ledger): counts only.
pub async fn commission_report(
    services: &Services,
    actor: &StaffActor,
    from: i64,
    to: i64,
) -> AppResult<crate::report::CommissionReport> {
    actor.role_for(services, StaffAction::LedgerVerify)?;
    crate::report::build(services, from, to).await
}

/// What the auditor brings to a verification: the verifier key as
/// published (to pin it) and checkpoints obtained independently, one note
/// per block separated by a blank line.
#[derive(Debug, Clone, Default)]
pub struct AuditInput {
    pub vkey: Option<String>,
    pub checkpoints: Vec<String>,
}

/// Verifies the whole log as `sqin ledger verify` does (every entry, the
/// tree, every stored checkpoint's signature, the consistency of each
/// checkpoint brought) and records that the auditor did, with the outcome:
/// a log that does not verify is an answer (`Err` inside), not an error of
/// the request.
pub async fn verify_ledger(
    services: &Services,
    actor: &StaffActor,
    input: AuditInput,
) -> AppResult<Result<sqin_ledger_service::VerifyReport, String>> {
    actor.role_for(services, StaffAction::LedgerVerify)?;
    let opts = sqin_ledger_service::VerifyOptions {
        vkey: input.vkey.filter(|k| !k.trim().is_empty()),
        checkpoints: input.checkpoints,
        ..Default::default()
    };
    let mut conn = services.store.pool().acquire().await?;
    sqin_ledger_service::sequence(&mut conn, &services.ledger).await?;
    let outcome = sqin_ledger_service::verify::verify_store(
        &mut conn,
        &services.ledger,
        &opts,
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
    .await;
    let (result, entries) = match &outcome {
        Ok(report) => ("verified".to_owned(), report.entries.to_string()),
        Err(e) => (format!("failed: {e}"), "-".to_owned()),
    };
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    record_governance(
        &mut tx,
        services,
        &actor.member.badge,
        "ledger.verified",
        &[
            ("result", &result),
            ("entries", &entries),
            ("pinned", if opts.vkey.is_some() { "true" } else { "false" }),
            ("checkpoints_brought", &opts.checkpoints.len().to_string()),
        ],
        actor.now,
    )
    .await?;
    tx.commit().await?;
    Ok(outcome.map_err(|e| e.to_string()))
}

/// Signs a new ledger checkpoint now, if the log grew since the last one
/// (operations: the administrator), recorded as a governance entry.
pub async fn checkpoint(
    services: &Services,
    actor: &StaffActor,
) -> AppResult<sqin_ledger_service::checkpoints::PublishedCheckpoint> {
    actor.role_for(services, StaffAction::KeysRotate)?;
    let mut conn = services.store.pool().acquire().await?;
    let (cp, new) = sqin_ledger_service::checkpoints::publish(
        &mut conn,
        &services.ledger,
        actor.now,
        sqin_ledger_service::CheckpointPolicy::IfGrown,
    )
    .await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    record_governance(
        &mut tx,
        services,
        &actor.member.badge,
        "ledger.checkpoint",
        &[
            ("tree_size", &cp.tree_size.to_string()),
            ("new", if new { "true" } else { "false" }),
        ],
        actor.now,
    )
    .await?;
    tx.commit().await?;
    Ok(cp)
}
