//! Start-up holds every stored client to the PIA the server runs under:
//! the assessment may have narrowed or dropped an entry since a client was
//! registered, and a client registered before entries existed names none.
//! Such a client is suspended, with the reason, and reported; never kept
//! silently. (An administrator then edits it into its entry, or removes
//! it; resuming checks again.)
use sqin_store::clients::{self, ClientStatus};

use super::entry;
use crate::staff::record_governance;
use crate::{AppResult, Services};

/// Who suspends at start-up, in governance entries.
pub const START_UP: &str = "sqin (start-up check against the PIA)";

/// A client found outside the PIA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub client_id: String,
    pub name: String,
    /// Why it is outside, in words (each difference named).
    pub reason: String,
    /// Whether this run suspended it (`false`: it already was).
    pub suspended_now: bool,
}

/// Checks every client; suspends those outside the PIA and returns them.
/// A client from before entries existed whose `client_id` is an entry's
/// id, and within it, is assigned to it.
pub async fn check_all(services: &Services) -> AppResult<Vec<Finding>> {
    let now = services.now();
    let mut conn = services.store.pool().acquire().await?;
    let mut findings = Vec::new();
    for client in clients::list(&mut conn).await? {
        let entry_id = client
            .pia_entry
            .clone()
            .unwrap_or_else(|| client.client_id.clone());
        let reason = match entry(services, &entry_id) {
            Err(_) if client.pia_entry.is_none() => Some(
                "registered before relying parties were bound to the PIA, and in no entry of it: edit it to name its entry (pia_entry)".to_owned(),
            ),
            Err(_) => Some(format!("its PIA entry {entry_id} is no longer in the assessment")),
            Ok(e) => {
                let over = e.bounds.check(&client);
                if over.is_empty() {
                    None
                } else {
                    Some(format!(
                        "beyond PIA entry {entry_id}: {}",
                        over.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
                    ))
                }
            }
        };
        let mut tx = sqin_store::begin_on(&mut conn).await?;
        match reason {
            None if client.pia_entry.is_none() => {
                // Assigned to the entry that bears its id.
                let mut assigned = client.clone();
                assigned.pia_entry = Some(entry_id.clone());
                assigned.updated_at = now;
                if clients::update(&mut tx, &assigned, client.version).await? {
                    record_governance(
                        &mut tx,
                        services,
                        START_UP,
                        "client.assigned",
                        &[("client_id", &client.client_id), ("pia_entry", &entry_id)],
                        now,
                    )
                    .await?;
                }
            }
            None => {}
            Some(reason) => {
                let suspended_now = client.status != ClientStatus::Suspended;
                if suspended_now {
                    clients::set_status(
                        &mut tx,
                        &client.client_id,
                        ClientStatus::Suspended,
                        Some(&reason),
                        now,
                    )
                    .await?;
                    record_governance(
                        &mut tx,
                        services,
                        START_UP,
                        "client.suspended",
                        &[("client_id", &client.client_id), ("reason", &reason)],
                        now,
                    )
                    .await?;
                    services.clients.forget(&client.client_id);
                }
                findings.push(Finding {
                    client_id: client.client_id.clone(),
                    name: client.name.clone(),
                    reason,
                    suspended_now,
                });
            }
        }
        tx.commit().await?;
    }
    Ok(findings)
}
