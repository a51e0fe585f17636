//! Everything sqin holds about a citizen, as one document they can read
//! and take elsewhere (A-2.1 s. 83 access, s. 84 portability in a
//! structured, commonly used format): `GET /account/data`.
//!
//! Its shape is a published JSON Schema (draft 2020-12),
//! `docs/schemas/account-data-v{N}.json`, served at
//! `/account/data/schema/v{N}.json`; [`SCHEMA_VERSION`] says which. Any
//! change of shape (a member added, removed, renamed or retyped) is a new
//! version with a new schema file; the old files stay published, for
//! documents already downloaded. Times are RFC 3339 in UTC.
//!
//! Never in it: secrets and what only protects them (code, session and
//! token hashes or values, grant ids, passkey public keys and counters).
use serde::Serialize;
use sqin_ledger_service::event::{Category, LedgerEvent};
use sqin_ledger_service::history::{self, rfc3339, HistoryFilter, HISTORY_FORMAT};
use sqin_store::{citizens, clients, complaints, consents, corrections, grants, sessions};

use crate::{AppError, AppResult, Services};

/// The document's `format`.
pub const DATA_FORMAT: &str = "sqin-citizen-data/2";

/// The version of the published schema the document follows.
pub const SCHEMA_VERSION: u32 = 2;

/// Where the ledger download (with proofs) is.
pub const HISTORY_DOWNLOAD: &str = "/account/ledger/download";

/// The citizen's data (see the module doc).
#[derive(Debug, Clone, Serialize)]
pub struct CitizenData {
    /// [`DATA_FORMAT`].
    pub format: &'static str,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The schema's URL on this server.
    pub schema: String,
    pub generated_at: String,
    pub register: RegisterRecord,
    pub passkeys: Vec<Passkey>,
    pub sessions: Vec<Session>,
    /// Live consents.
    pub consents: Vec<Consent>,
    /// The access services hold now (live grants).
    pub grants: Vec<Grant>,
    /// Complaints filed, with their answers.
    pub complaints: Vec<Complaint>,
    /// Correction requests, where each stands and the answer.
    pub corrections: Vec<Correction>,
    /// The account's security events, newest first.
    pub security_events: Vec<SecurityEvent>,
    pub history: History,
}

/// The citizen's record in the register.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterRecord {
    pub register_id: String,
    pub given_name: String,
    pub family_name: String,
    pub birthdate: String,
    pub email: Option<String>,
    pub address: Option<String>,
    pub locale: Option<String>,
    pub status: &'static str,
    pub registered_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Passkey {
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub synced: bool,
    pub enrolled_via: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub signed_in_at: String,
    pub acr: String,
    pub amr: Vec<String>,
    pub expires_at: String,
}

/// A relying party as registered now, in both languages; `None` where it
/// is no longer registered.
#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub name: String,
    pub name_fr: Option<String>,
    pub purpose: String,
    pub purpose_fr: Option<String>,
}

impl Service {
    fn of(client: &clients::ClientRecord) -> Self {
        Self {
            name: client.name.clone(),
            name_fr: client.name_fr.clone(),
            purpose: client.purpose.clone(),
            purpose_fr: client.purpose_fr.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Consent {
    pub client_id: String,
    pub service: Option<Service>,
    /// The purpose as it was when the citizen agreed.
    pub purpose: String,
    pub scopes: Vec<String>,
    pub claims: Vec<String>,
    pub granted_at: String,
    pub expires_at: String,
}

/// A service's live access: what it may still obtain (userinfo, refresh)
/// under one sign-in. No token, hash or grant id.
#[derive(Debug, Clone, Serialize)]
pub struct Grant {
    pub client_id: String,
    pub service: Option<Service>,
    pub scopes: Vec<String>,
    /// The claims it can obtain under this grant.
    pub claims: Vec<String>,
    /// Whether it may keep acting while the citizen is away (refresh).
    pub offline_access: bool,
    pub issued_at: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Complaint {
    /// The file number.
    pub id: String,
    pub subject: String,
    pub facts: String,
    pub received_at: String,
    pub answer_due: String,
    pub answer: Option<String>,
    pub closed_at: Option<String>,
}

/// A request to correct the file (A-2.1 s. 89).
#[derive(Debug, Clone, Serialize)]
pub struct Correction {
    /// The request's reference.
    pub id: String,
    /// The element concerned (its PIA id).
    pub element: String,
    pub details: String,
    pub received_at: String,
    pub answer_due: String,
    /// When a member of staff first opened the file for it.
    pub opened_at: Option<String>,
    /// `corrected` or `refused`, once answered.
    pub decision: Option<&'static str>,
    pub answer: Option<String>,
    pub closed_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SecurityEvent {
    pub kind: String,
    pub detail: serde_json::Value,
    pub at: String,
}

/// The citizen's ledger entries in short; the download has them whole,
/// each with its proof.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// The download's format (`sqin-citizen-history/1`).
    pub format: &'static str,
    /// Where to download it.
    pub download: &'static str,
    /// Entries, oldest first.
    pub entries: Vec<HistoryEntry>,
    /// Whether there were more entries than the download holds at once.
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// Its sequence number in the ledger.
    pub seq: u64,
    pub time: String,
    pub kind: &'static str,
    pub category: Category,
    /// The relying party concerned, if any.
    pub client_id: Option<String>,
    /// The claims consented to or disclosed, for those entries.
    pub claims: Option<Vec<String>>,
    /// Whether its details were destroyed at the end of their retention.
    pub shredded: bool,
}

fn time(unix: i64) -> String {
    rfc3339(unix)
}

/// A relying party's registration, looked up once per export.
async fn service_of(
    conn: &mut sqin_store::Connection,
    known: &mut Vec<clients::ClientRecord>,
    client_id: &str,
) -> AppResult<Option<clients::ClientRecord>> {
    if let Some(c) = known.iter().find(|c| c.client_id == client_id) {
        return Ok(Some(c.clone()));
    }
    let found = clients::get(conn, client_id).await?;
    if let Some(c) = &found {
        known.push(c.clone());
    }
    Ok(found)
}

/// Everything sqin holds about `citizen_id` at `now`; `issuer` makes the
/// schema's URL.
pub async fn export(services: &Services, citizen_id: &str, issuer: &str) -> AppResult<CitizenData> {
    let mut conn = services.store.pool().acquire().await?;
    let now = services.now();
    let person = citizens::by_id(&mut conn, &services.register, citizen_id)
        .await?
        .ok_or_else(|| AppError::NotFound("the account is gone".into()))?;
    let passkeys = services.passkeys.list(&mut conn, citizen_id).await?;
    let live_sessions = sessions::live_for_citizen(&mut conn, citizen_id, now).await?;
    let mut known: Vec<clients::ClientRecord> = Vec::new();
    let mut live_consents = Vec::new();
    for c in consents::for_citizen(&mut conn, citizen_id).await? {
        if c.revoked_at.is_some() || c.expires_at <= now {
            continue;
        }
        let client = service_of(&mut conn, &mut known, &c.client_id).await?;
        live_consents.push(Consent {
            service: client.as_ref().map(Service::of),
            client_id: c.client_id,
            purpose: c.purpose,
            scopes: c.scope,
            claims: c.claims,
            granted_at: time(c.granted_at),
            expires_at: time(c.expires_at),
        });
    }
    let mut live_grants = Vec::new();
    for g in grants::live_for_citizen(&mut conn, citizen_id, now).await? {
        let client = service_of(&mut conn, &mut known, &g.client_id).await?;
        let scope = g.scope.join(" ");
        live_grants.push(Grant {
            service: client.as_ref().map(Service::of),
            claims: client
                .as_ref()
                .map(|c| sqin_oidc::authorize::disclosed_claims(c, &scope, g.claims.as_deref()))
                .unwrap_or_default(),
            offline_access: g.scope.iter().any(|s| s == "offline_access"),
            client_id: g.client_id,
            scopes: g.scope,
            issued_at: time(g.created_at),
            expires_at: time(g.expires_at),
        });
    }
    let filed = complaints::for_citizen(&mut conn, citizen_id).await?;
    let asked = corrections::for_citizen(&mut conn, citizen_id).await?;
    let events = sqin_webauthn::events::recent(&mut conn, citizen_id, None, 1000).await?;
    let ledger = history::download(
        &mut conn,
        &services.ledger,
        citizen_id,
        &HistoryFilter::default(),
        now,
    )
    .await?;
    Ok(CitizenData {
        format: DATA_FORMAT,
        schema_version: SCHEMA_VERSION,
        schema: format!(
            "{}/account/data/schema/v{SCHEMA_VERSION}.json",
            issuer.trim_end_matches('/')
        ),
        generated_at: time(now),
        register: RegisterRecord {
            register_id: person.register_id,
            given_name: person.given_name,
            family_name: person.family_name,
            birthdate: person.birthdate,
            email: person.email,
            address: person.address,
            locale: person.locale,
            status: person.status.as_str(),
            registered_at: time(person.created_at),
        },
        passkeys: passkeys
            .into_iter()
            .map(|p| Passkey {
                name: p.name,
                created_at: time(p.created_at),
                last_used_at: p.last_used_at.map(time),
                synced: p.synced,
                enrolled_via: p.enrolled_via,
            })
            .collect(),
        sessions: live_sessions
            .into_iter()
            .map(|s| Session {
                signed_in_at: time(s.auth_time),
                acr: s.acr,
                amr: s.amr,
                expires_at: time(s.expires_at),
            })
            .collect(),
        consents: live_consents,
        grants: live_grants,
        complaints: filed
            .into_iter()
            .map(|c| Complaint {
                id: c.id,
                subject: c.subject,
                facts: c.facts,
                received_at: time(c.received_at),
                answer_due: time(c.answer_due),
                answer: c.answer,
                closed_at: c.closed_at.map(time),
            })
            .collect(),
        corrections: asked
            .into_iter()
            .map(|c| Correction {
                id: c.id,
                element: c.element,
                details: c.details,
                received_at: time(c.received_at),
                answer_due: time(c.answer_due),
                opened_at: c.opened_at.map(time),
                decision: c.decision.map(corrections::Decision::as_str),
                answer: c.answer,
                closed_at: c.closed_at.map(time),
            })
            .collect(),
        security_events: events
            .into_iter()
            .map(|e| SecurityEvent {
                kind: e.kind,
                detail: e.detail,
                at: time(e.at),
            })
            .collect(),
        history: History {
            format: HISTORY_FORMAT,
            download: HISTORY_DOWNLOAD,
            truncated: ledger.truncated,
            entries: ledger
                .entries
                .into_iter()
                .map(|e| HistoryEntry {
                    seq: e.seq,
                    time: e.time,
                    kind: e.kind.as_str(),
                    category: e.category,
                    client_id: e
                        .details
                        .as_ref()
                        .and_then(LedgerEvent::client_id)
                        .map(str::to_owned),
                    claims: match &e.details {
                        Some(LedgerEvent::ConsentGranted { claims, .. })
                        | Some(LedgerEvent::Disclosure { claims, .. }) => Some(claims.clone()),
                        _ => None,
                    },
                    shredded: e.shredded,
                })
                .collect(),
        },
    })
}
