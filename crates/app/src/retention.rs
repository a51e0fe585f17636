//! Retention enforced by code, element by element, on the periods of the
//! privacy impact assessment the server runs under.
//!
//! [`ENFORCEMENT`] says, for every element of personal information the store
//! keeps (`sqin_store::PERSONAL_DATA`), what destroys it; a test fails when
//! an element has no entry, so nothing is stored without a way out. [`run`]
//! is the scheduled part: each statement deletes what the PIA's period
//! (read at start-up, never a constant here) says has been kept long enough.
use std::collections::BTreeMap;

use serde::Serialize;
use sqin_store::citizens;
use sqin_store::retention as purge;

use crate::{AppError, AppResult, During, Services};

/// What destroys an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    /// [`run`], on the element's retention in the PIA.
    Scheduled,
    /// The account's deletion (`sqin citizen delete`, or [`run`] closing a
    /// registration that never enrolled).
    WithAccount,
    /// Removing the passkey (the citizen's account page), or the account.
    WithCredential,
    /// The ledger's retention purge, by crypto-shredding.
    LedgerPurge,
    /// Kept with the append-only log; anonymised when the account goes.
    LedgerSkeleton,
    /// Deleted with the member of staff's record.
    WithStaffMember,
    /// [`run`], through the staff access register's own permit (the storage
    /// refuses any other deletion).
    AccessRegisterPurge,
}

/// Every stored element of personal information and what destroys it.
pub const ENFORCEMENT: &[(&str, Enforcement)] = &[
    ("citizen.id", Enforcement::WithAccount),
    ("citizen.register_id", Enforcement::WithAccount),
    ("citizen.given_name", Enforcement::WithAccount),
    ("citizen.family_name", Enforcement::WithAccount),
    ("citizen.birthdate", Enforcement::WithAccount),
    ("citizen.email", Enforcement::Scheduled),
    ("citizen.address", Enforcement::Scheduled),
    ("citizen.locale", Enforcement::Scheduled),
    ("citizen.status", Enforcement::WithAccount),
    ("enrolment_code.code_hash", Enforcement::Scheduled),
    ("enrolment_code.failed_attempts", Enforcement::Scheduled),
    ("passkey.credential_id", Enforcement::WithCredential),
    ("passkey.public_key", Enforcement::WithCredential),
    ("passkey.sign_count", Enforcement::WithCredential),
    ("passkey.name", Enforcement::WithCredential),
    ("passkey.user_handle", Enforcement::WithAccount),
    ("security_event.record", Enforcement::Scheduled),
    ("session.id", Enforcement::Scheduled),
    ("session.auth_time", Enforcement::Scheduled),
    ("session.ip_address", Enforcement::Scheduled),
    ("webauthn_ceremony.record", Enforcement::Scheduled),
    ("consent.record", Enforcement::Scheduled),
    ("grant.record", Enforcement::Scheduled),
    ("logout_notice.record", Enforcement::Scheduled),
    ("complaint.record", Enforcement::Scheduled),
    ("correction.record", Enforcement::Scheduled),
    ("incident.record", Enforcement::Scheduled),
    ("ledger.entry", Enforcement::LedgerSkeleton),
    ("ledger.consent_record", Enforcement::LedgerPurge),
    ("ledger.disclosure_record", Enforcement::LedgerPurge),
    ("ledger.sign_in_record", Enforcement::LedgerPurge),
    ("ledger.security_record", Enforcement::LedgerPurge),
    ("ledger.staff_access_record", Enforcement::LedgerPurge),
    ("ledger.request_record", Enforcement::LedgerPurge),
    ("staff.member", Enforcement::Scheduled),
    ("staff.invitation", Enforcement::Scheduled),
    ("staff.passkey", Enforcement::WithStaffMember),
    ("staff.session", Enforcement::Scheduled),
    ("staff.grant", Enforcement::Scheduled),
    ("staff.request", Enforcement::Scheduled),
    ("staff.alert", Enforcement::Scheduled),
    ("staff.access_record", Enforcement::AccessRegisterPurge),
    ("letter.record", Enforcement::Scheduled),
];

/// Registrations closed per pass at most (each is one transaction).
const DORMANT_BATCH: i64 = 100;

/// What one pass deleted, per element (elements sharing a row are counted
/// under the first), plus the registrations it closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    pub deleted: BTreeMap<&'static str, u64>,
    pub registrations_closed: Vec<String>,
}

impl RetentionReport {
    pub fn total(&self) -> u64 {
        self.deleted.values().sum::<u64>() + self.registrations_closed.len() as u64
    }

    /// What was destroyed, per element, for a governance entry (counts
    /// only: `element=n` for each element that lost something).
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .deleted
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(e, n)| format!("{e}={n}"))
            .collect();
        if !self.registrations_closed.is_empty() {
            parts.push(format!(
                "registrations_closed={}",
                self.registrations_closed.len()
            ));
        }
        parts.join(" ")
    }
}

/// The element's retention period in seconds (its `+duration` part; a
/// year counts 365 days, a month 30), from the adopted PIA.
fn period(services: &Services, element: &str) -> AppResult<i64> {
    let retention =
        services.pia.pia.retention_for(element).ok_or_else(|| {
            AppError::Refused(format!("the PIA gives no retention for {element}"))
        })?;
    i64::try_from(retention.after.approx_seconds()).during(format!("the retention of {element}"))
}

/// One pass of the scheduled part: every [`Enforcement::Scheduled`] element
/// past its period is deleted, and never-enrolled registrations past theirs
/// are closed like an account (which also shreds their ledger history).
/// Each statement commits on its own, so an interrupted pass leaves only
/// whole deletions and the next pass goes on.
pub async fn run(services: &Services, now: i64) -> AppResult<RetentionReport> {
    let mut report = RetentionReport::default();
    let mut conn = services.store.pool().acquire().await?;
    let cutoff = |element: &str| -> AppResult<i64> { Ok(now - period(services, element)?) };

    for &(element, statement) in purge::SCHEDULED {
        let n = purge::delete_due(&mut conn, statement, cutoff(element)?).await?;
        // An element may live in several tables: its count is their sum.
        *report.deleted.entry(element).or_insert(0) += n;
    }
    // Ceremonies are deleted once expired (their lifetime is shorter than
    // the PIA's period); rate-limit buckets once their window is over.
    report.deleted.insert(
        "webauthn_ceremony.record",
        sqin_store::ceremonies::purge_expired(&mut conn, now).await?,
    );
    report.deleted.insert("staff.access_record", {
        let mut tx = sqin_store::begin_on(&mut conn).await?;
        let n =
            sqin_store::staff_access::purge_before(&mut tx, cutoff("staff.access_record")?).await?;
        tx.commit().await?;
        n
    });
    report.deleted.insert(
        "session.ip_address",
        sqin_store::rate_limits::purge_before(&mut conn, cutoff("session.ip_address")?).await?,
    );
    // A registration that never enrolled: contact details go first (the
    // shortest of their periods), the registration itself later.
    let contact = ["citizen.email", "citizen.address", "citizen.locale"]
        .iter()
        .map(|e| cutoff(e))
        .collect::<AppResult<Vec<i64>>>()?
        .into_iter()
        .max()
        .unwrap_or(now);
    // Each record is opened and sealed again (SQL cannot clear a field it
    // cannot read), one transaction per record, until none is left.
    let mut cleared = 0;
    loop {
        let due = purge::dormant_contact_details(&mut conn, contact, DORMANT_BATCH).await?;
        let last = (due.len() as i64) < DORMANT_BATCH;
        for id in due {
            let mut tx = sqin_store::begin_on(&mut conn).await?;
            if citizens::clear_contact_details(&mut tx, &services.register, &id, now).await? {
                cleared += 1;
            }
            tx.commit().await?;
        }
        if last {
            break;
        }
    }
    report.deleted.insert("citizen.email", cleared);
    let dormant =
        purge::dormant_registrations(&mut conn, cutoff("citizen.id")?, DORMANT_BATCH).await?;
    let mut register_ids = Vec::with_capacity(dormant.len());
    for id in dormant {
        if let Some(c) = citizens::by_id(&mut conn, &services.register, &id).await? {
            register_ids.push(c.register_id);
        }
    }
    drop(conn);
    for register_id in register_ids {
        let closed = crate::account::close(services, &register_id, now).await?;
        report.registrations_closed.push(closed.register_id);
    }
    if report.total() > 0 {
        tracing::info!(
            deleted = ?report.deleted,
            registrations_closed = report.registrations_closed.len(),
            "retention pass"
        );
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_element_has_a_way_out() {
        let stored: std::collections::BTreeSet<&str> =
            sqin_store::PERSONAL_DATA.iter().map(|(e, _)| *e).collect();
        let enforced: std::collections::BTreeSet<&str> =
            ENFORCEMENT.iter().map(|(e, _)| *e).collect();
        assert_eq!(stored, enforced, "PERSONAL_DATA and ENFORCEMENT differ");
    }

    #[test]
    fn the_scheduled_statements_are_the_scheduled_elements() {
        for (element, _) in sqin_store::retention::SCHEDULED {
            assert!(
                ENFORCEMENT.contains(&(*element, Enforcement::Scheduled)),
                "{element}"
            );
        }
    }

    #[test]
    fn scheduled_elements_have_a_period_in_the_built_in_pia() {
        let pia = crate::pia::load(None).unwrap().pia;
        for (element, how) in ENFORCEMENT {
            let retention = pia
                .retention_for(element)
                .unwrap_or_else(|| panic!("{element} has no retention"));
            if *how == Enforcement::Scheduled {
                // Either a plain period, or a condition whose end the
                // deletion statement reads from the row.
                assert!(
                    retention.condition.is_some() || !retention.after.is_zero(),
                    "{element}: {retention}"
                );
            }
        }
    }
}
