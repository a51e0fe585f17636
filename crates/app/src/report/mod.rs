//! The report for the Commission over a period (`sqin report`, and the
//! auditor's console): how the service was used and governed, in counts.
//! Sign-ins per relying party and level of assurance, disclosures per claim
//! and relying party, staff accesses per role and purpose, complaints and
//! their handling times against the legal deadline, incidents, retention
//! purges, and the witnesses' status.
//!
//! It names no citizen: it is built from the ledger's counts
//! ([`sqin_ledger_service::statistics`]), the access register's counts and
//! the complaint and incident registers' dates; no name, birthdate,
//! register id, pseudonym or free text (a complaint's facts, an incident's
//! description) is read into it. The JSON is versioned ([`REPORT_FORMAT`]).
use std::collections::BTreeMap;

use serde::Serialize;
use sqin_ledger_service::statistics::LedgerTally;
use sqin_store::ledger as ledger_store;

use crate::{AppError, AppResult, Services};

mod html;

pub use html::render_html;

/// The JSON's format and version: a change of shape is a new version.
pub const REPORT_FORMAT: &str = "sqin-commission-report/1";
/// Days a public body has to answer a complaint (A-2.1 s. 98: 30 days).
pub const COMPLAINT_DEADLINE_DAYS: i64 = 30;
/// The longest period one report covers (the ledger is read whole).
pub const MAX_PERIOD_SECS: i64 = 366 * 2 * 86_400;

/// A relying party as the report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub client_id: String,
    pub name: String,
    pub name_fr: Option<String>,
}

/// One count of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub key: String,
    pub count: u64,
}

/// Disclosures to one relying party: how many times claims left for it,
/// and how many times each claim did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disclosures {
    pub client_id: String,
    pub disclosures: u64,
    pub claims: Vec<Count>,
}

/// Staff acts of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffActs {
    pub role: String,
    pub action: String,
    pub purpose: String,
    pub count: u64,
}

/// Complaints received in the period, and how they were handled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ComplaintStats {
    pub deadline_days: i64,
    pub received: u64,
    pub answered: u64,
    pub answered_within_deadline: u64,
    pub answered_late: u64,
    /// Still open at the report's end, their deadline passed.
    pub open_overdue: u64,
    /// Still open, within their deadline.
    pub open_within_deadline: u64,
    /// Days from receipt to answer, of those answered.
    pub median_days_to_answer: Option<i64>,
    pub longest_days_to_answer: Option<i64>,
}

/// Incidents recorded in the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IncidentStats {
    pub recorded: u64,
    /// Judged to present a risk of serious injury (notified).
    pub serious: u64,
    pub commission_notified: u64,
    pub persons_notified: u64,
    pub closed: u64,
}

/// Retention over the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeStats {
    /// Ledger data keys destroyed past retention, by the entry kind they
    /// sealed.
    pub ledger_keys_purged: Vec<Count>,
    pub ledger_keys_shredded_with_accounts: u64,
    /// Retention passes recorded as governance acts.
    pub retention_runs: u64,
    /// Entries of the period that can no longer be read, by kind.
    pub entries_shredded: Vec<Count>,
}

/// One configured witness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WitnessStatus {
    /// Its verifier key's name (the part before `+`).
    pub witness: String,
    /// The tree size it last cosigned, if it ever did.
    pub cosigned_size: Option<i64>,
    /// Whether that is the latest checkpoint's size.
    pub up_to_date: bool,
}

/// The ledger at the report's making.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LedgerStatus {
    pub tree_size: i64,
    pub latest_checkpoint_size: Option<i64>,
    pub latest_checkpoint_at: Option<String>,
    pub entries_in_period: u64,
    pub entries_by_kind: Vec<Count>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommissionReport {
    pub format: &'static str,
    pub issuer: String,
    pub generated_at: String,
    /// The period, `[from, to)`, RFC 3339 in UTC.
    pub from: String,
    pub to: String,
    pub services: Vec<Service>,
    pub sign_ins: Vec<Count>,
    pub sign_ins_by_acr: Vec<Count>,
    pub disclosures: Vec<Disclosures>,
    pub consents_granted: Vec<Count>,
    pub consents_ended: Vec<Count>,
    pub staff_accesses: Vec<StaffActs>,
    pub governance: Vec<Count>,
    pub complaints: ComplaintStats,
    pub incidents: IncidentStats,
    pub purges: PurgeStats,
    pub witnesses: Vec<WitnessStatus>,
    pub ledger: LedgerStatus,
}

fn counts(map: &BTreeMap<String, u64>) -> Vec<Count> {
    map.iter()
        .map(|(key, count)| Count {
            key: key.clone(),
            count: *count,
        })
        .collect()
}

fn rfc3339(unix: i64) -> String {
    sqin_ledger_service::history::rfc3339(unix)
}

/// Builds the report over `[from, to)` (Unix seconds).
pub async fn build(services: &Services, from: i64, to: i64) -> AppResult<CommissionReport> {
    if from >= to {
        return Err(AppError::Refused(
            "the period must end after it starts".into(),
        ));
    }
    if to - from > MAX_PERIOD_SECS {
        return Err(AppError::Refused(
            "a report covers at most two years; make one per year".into(),
        ));
    }
    let now = services.now();
    let mut conn = services.store.pool().acquire().await?;
    let tally: LedgerTally =
        sqin_ledger_service::statistics::tally(&mut conn, &services.ledger, from, to).await?;
    let services_list = sqin_store::clients::list(&mut conn)
        .await?
        .into_iter()
        .map(|c| Service {
            client_id: c.client_id,
            name: c.name,
            name_fr: c.name_fr,
        })
        .collect();
    let staff_accesses = sqin_store::staff_access::counts(&mut conn, from, to)
        .await?
        .into_iter()
        .map(|c| StaffActs {
            role: c.role,
            action: c.action,
            purpose: c.purpose,
            count: u64::try_from(c.count).unwrap_or(0),
        })
        .collect();
    let complaints = complaint_stats(
        sqin_store::complaints::list(&mut conn, false)
            .await?
            .iter()
            .map(|c| ComplaintDates {
                received_at: c.received_at,
                answer_due: c.answer_due,
                closed_at: c.closed_at,
            }),
        from,
        to,
    );
    let mut incidents = IncidentStats::default();
    for incident in sqin_store::incidents::list(&mut conn).await? {
        if incident.recorded_at < from || incident.recorded_at >= to {
            continue;
        }
        incidents.recorded += 1;
        incidents.serious += u64::from(incident.serious);
        let lines = sqin_store::incidents::lines(&mut conn, &incident.id).await?;
        let has = |kind: &str| lines.iter().any(|l| l.kind == kind && l.at < to);
        incidents.commission_notified += u64::from(has("notice_commission"));
        incidents.persons_notified += u64::from(has("notice_persons"));
        incidents.closed += u64::from(has("closed"));
    }
    let latest = ledger_store::latest_checkpoint(&mut conn).await?;
    let mut witnesses = Vec::new();
    for w in &services.settings.ledger_witnesses {
        let cosigned_size = ledger_store::witness_size(&mut conn, &w.vkey).await?;
        witnesses.push(WitnessStatus {
            witness: w.vkey.split('+').next().unwrap_or_default().to_owned(),
            cosigned_size,
            up_to_date: latest
                .as_ref()
                .is_some_and(|c| cosigned_size == Some(c.tree_size)),
        });
    }
    let ledger = LedgerStatus {
        tree_size: ledger_store::size(&mut conn).await?,
        latest_checkpoint_size: latest.as_ref().map(|c| c.tree_size),
        latest_checkpoint_at: latest.as_ref().map(|c| rfc3339(c.created_at)),
        entries_in_period: tally.entries.values().sum(),
        entries_by_kind: counts(&tally.entries),
    };
    let purges = PurgeStats {
        ledger_keys_purged: counts(&tally.keys_purged),
        ledger_keys_shredded_with_accounts: tally.keys_shredded_with_accounts,
        retention_runs: tally.governance.get("retention.run").copied().unwrap_or(0),
        entries_shredded: counts(&tally.shredded),
    };
    Ok(CommissionReport {
        format: REPORT_FORMAT,
        issuer: services.settings.issuer.to_string(),
        generated_at: rfc3339(now),
        from: rfc3339(from),
        to: rfc3339(to),
        services: services_list,
        sign_ins: counts(&tally.sign_ins),
        sign_ins_by_acr: counts(&tally.sign_ins_by_acr),
        disclosures: tally
            .disclosures
            .iter()
            .map(|(client_id, claims)| Disclosures {
                client_id: client_id.clone(),
                disclosures: tally.disclosure_events.get(client_id).copied().unwrap_or(0),
                claims: counts(claims),
            })
            .collect(),
        consents_granted: counts(&tally.consents_granted),
        consents_ended: counts(&tally.consents_ended),
        staff_accesses,
        governance: counts(&tally.governance),
        complaints,
        incidents,
        purges,
        witnesses,
        ledger,
    })
}

/// All the report reads of a complaint: its dates.
struct ComplaintDates {
    received_at: i64,
    answer_due: i64,
    closed_at: Option<i64>,
}

/// Complaints received in `[from, to)`, their handling as of `to`.
fn complaint_stats(
    all: impl Iterator<Item = ComplaintDates>,
    from: i64,
    to: i64,
) -> ComplaintStats {
    let mut stats = ComplaintStats {
        deadline_days: COMPLAINT_DEADLINE_DAYS,
        ..Default::default()
    };
    let mut days = Vec::new();
    for c in all.filter(|c| c.received_at >= from && c.received_at < to) {
        stats.received += 1;
        match c.closed_at.filter(|at| *at < to) {
            Some(at) => {
                stats.answered += 1;
                if at <= c.answer_due {
                    stats.answered_within_deadline += 1;
                } else {
                    stats.answered_late += 1;
                }
                days.push((at - c.received_at) / 86_400);
            }
            None if c.answer_due < to => stats.open_overdue += 1,
            None => stats.open_within_deadline += 1,
        }
    }
    days.sort_unstable();
    stats.median_days_to_answer = days.get(days.len() / 2).copied();
    stats.longest_days_to_answer = days.last().copied();
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complaint(received_at: i64, closed_at: Option<i64>) -> ComplaintDates {
        ComplaintDates {
            received_at,
            answer_due: received_at + COMPLAINT_DEADLINE_DAYS * 86_400,
            closed_at,
        }
    }

    #[test]
    fn complaint_handling_is_measured_against_the_deadline() {
        let day = 86_400;
        let all = [
            complaint(0, Some(3 * day)),
            complaint(day, Some(40 * day)),
            complaint(2 * day, None),
            complaint(50 * day, None),
            complaint(-day, Some(day)),
        ];
        let s = complaint_stats(all.into_iter(), 0, 60 * day);
        assert_eq!(s.received, 4);
        assert_eq!(s.answered, 2);
        assert_eq!(s.answered_within_deadline, 1);
        assert_eq!(s.answered_late, 1);
        assert_eq!(s.open_overdue, 1);
        assert_eq!(s.open_within_deadline, 1);
        assert_eq!(s.median_days_to_answer, Some(39));
        assert_eq!(s.longest_days_to_answer, Some(39));
    }
}
