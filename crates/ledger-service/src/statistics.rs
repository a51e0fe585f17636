//! What the log says about a period, in counts: the ledger's part of the
//! report for the Commission (`sqin report`). Personal entries are opened
//! with their data keys to read which relying party, which claims, which
//! role and purpose; nothing about a citizen leaves this module, not even
//! their pseudonym. An entry whose key was destroyed (retention, a closed
//! account) is counted as shredded, by kind, and read no further.
use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use sqin_ledger::DataKey;
use sqin_store::ledger as store;
use sqin_store::Connection;

use crate::append::unwrap_row;
use crate::entry::Entry;
use crate::event::{Housekeeping, LedgerEvent};
use crate::history::open_details;
use crate::{Ledger, LedgerServiceError};

/// Entries read per query.
const PAGE: i64 = 2_000;

/// Counts over the entries of one period, keyed by names that identify no
/// one (relying-party ids, claim names, levels of assurance, roles,
/// purposes, entry kinds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LedgerTally {
    /// Entries written in the period, by kind.
    pub entries: BTreeMap<String, u64>,
    /// Personal entries of the period that can no longer be read (their key
    /// was destroyed), by kind.
    pub shredded: BTreeMap<String, u64>,
    /// Sign-ins through sqin, by relying party (`sqin` for sqin's own pages).
    pub sign_ins: BTreeMap<String, u64>,
    /// Sign-ins by level of assurance (`acr`).
    pub sign_ins_by_acr: BTreeMap<String, u64>,
    /// Disclosures (claims leaving sqin at once) by relying party.
    pub disclosure_events: BTreeMap<String, u64>,
    /// Claims disclosed, by relying party, then claim.
    pub disclosures: BTreeMap<String, BTreeMap<String, u64>>,
    /// Consents given, by relying party.
    pub consents_granted: BTreeMap<String, u64>,
    /// Consents withdrawn or lapsed, by relying party.
    pub consents_ended: BTreeMap<String, u64>,
    /// Staff accesses to citizens' files, by role, then purpose.
    pub staff_accesses: BTreeMap<String, BTreeMap<String, u64>>,
    /// Data keys destroyed by the retention purge, by the kind they sealed.
    pub keys_purged: BTreeMap<String, u64>,
    /// Data keys destroyed with a closed account.
    pub keys_shredded_with_accounts: u64,
    /// Governance acts, by what was done.
    pub governance: BTreeMap<String, u64>,
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str, by: u64) {
    *map.entry(key.to_owned()).or_default() += by;
}

impl LedgerTally {
    fn count(&mut self, entry: &Entry, event: Option<&LedgerEvent>) {
        let kind = entry.kind.as_str();
        bump(&mut self.entries, kind, 1);
        if let Some(details) = &entry.details {
            match details {
                Housekeeping::RetentionPurge {
                    purged_kind, keys, ..
                } => bump(
                    &mut self.keys_purged,
                    purged_kind.as_str(),
                    keys.len() as u64,
                ),
                Housekeeping::AccountShredded { keys } => {
                    self.keys_shredded_with_accounts += keys.len() as u64;
                }
                Housekeeping::Governance { what, .. } => bump(&mut self.governance, what, 1),
                _ => {}
            }
        }
        if !entry.kind.is_personal() {
            return;
        }
        let Some(event) = event else {
            bump(&mut self.shredded, kind, 1);
            return;
        };
        match event {
            LedgerEvent::SignIn { client_id, acr, .. } => {
                bump(
                    &mut self.sign_ins,
                    client_id.as_deref().unwrap_or("sqin"),
                    1,
                );
                bump(&mut self.sign_ins_by_acr, acr, 1);
            }
            LedgerEvent::Disclosure {
                client_id, claims, ..
            } => {
                bump(&mut self.disclosure_events, client_id, 1);
                let per_claim = self.disclosures.entry(client_id.clone()).or_default();
                for claim in claims {
                    bump(per_claim, claim, 1);
                }
            }
            LedgerEvent::ConsentGranted { client_id, .. } => {
                bump(&mut self.consents_granted, client_id, 1);
            }
            LedgerEvent::ConsentRevoked { client_id, .. }
            | LedgerEvent::ConsentExpired { client_id, .. } => {
                bump(&mut self.consents_ended, client_id, 1);
            }
            LedgerEvent::StaffAccess { role, purpose, .. } => {
                let per_purpose = self.staff_accesses.entry(role.clone()).or_default();
                bump(per_purpose, purpose, 1);
            }
            _ => {}
        }
    }
}

/// Tallies the entries written in `[from, to)` (Unix seconds). Entries
/// still queued are sequenced first, so the period is complete up to now.
pub async fn tally(
    conn: &mut Connection,
    ledger: &Ledger,
    from: i64,
    to: i64,
) -> Result<LedgerTally, LedgerServiceError> {
    crate::append::sequence(conn, ledger).await?;
    let mut tally = LedgerTally::default();
    // A data key seals one citizen's entries of one kind and period: many
    // entries share one, so each is fetched and unwrapped once.
    let mut keys: HashMap<String, DataKey> = HashMap::new();
    let mut destroyed: HashSet<String> = HashSet::new();
    let mut after = -1;
    loop {
        let rows = store::entries_between(conn, from, to, after, PAGE).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for row in &rows {
            let entry = Entry::decode(&row.entry)
                .map_err(|e| LedgerServiceError::Corrupt(format!("entry {}: {e}", row.seq)))?;
            if let Some(key_id) = entry.key.as_deref() {
                if !keys.contains_key(key_id) && !destroyed.contains(key_id) {
                    match store::data_key_by_id(conn, key_id).await? {
                        Some(row) => {
                            keys.insert(key_id.to_owned(), unwrap_row(ledger, &row)?);
                        }
                        None => {
                            destroyed.insert(key_id.to_owned());
                        }
                    }
                }
            }
            let event = open_details(&entry, &keys)?;
            tally.count(&entry, event.as_ref());
        }
        if rows.len() < PAGE as usize {
            break;
        }
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EntryKind;

    fn entry(kind: EntryKind, details: Option<Housekeeping>) -> Entry {
        Entry {
            v: crate::entry::ENTRY_VERSION,
            seq: 0,
            uid: "u".into(),
            time: 0,
            kind,
            subject: None,
            key: None,
            sealed: None,
            details,
        }
    }

    #[test]
    fn counts_name_services_claims_and_roles_never_citizens() {
        let mut t = LedgerTally::default();
        let sign_in = LedgerEvent::SignIn {
            citizen_id: "QC-SECRET".into(),
            client_id: Some("family".into()),
            acr: "loa2".into(),
            amr: vec!["hwk".into()],
            passkey: Some("pk".into()),
        };
        t.count(&entry(EntryKind::SignIn, None), Some(&sign_in));
        t.count(&entry(EntryKind::SignIn, None), None);
        let disclosure = LedgerEvent::Disclosure {
            citizen_id: "QC-SECRET".into(),
            client_id: "family".into(),
            consent_id: None,
            grant_id: None,
            endpoint: crate::event::DisclosureEndpoint::IdToken,
            claims: vec!["name".into(), "birthdate".into()],
        };
        t.count(&entry(EntryKind::Disclosure, None), Some(&disclosure));
        t.count(
            &entry(
                EntryKind::RetentionPurge,
                Some(Housekeeping::RetentionPurge {
                    purged_kind: EntryKind::SignIn,
                    retention_days: 365,
                    cutoff: 0,
                    keys: vec!["k1".into(), "k2".into()],
                }),
            ),
            None,
        );
        assert_eq!(t.sign_ins["family"], 1);
        assert_eq!(t.sign_ins_by_acr["loa2"], 1);
        assert_eq!(t.shredded["sign_in"], 1);
        assert_eq!(t.entries["sign_in"], 2);
        assert_eq!(t.disclosures["family"]["birthdate"], 1);
        assert_eq!(t.keys_purged["sign_in"], 2);
        let json = serde_json::to_string(&t).unwrap();
        assert!(!json.contains("QC-SECRET"));
    }
}
