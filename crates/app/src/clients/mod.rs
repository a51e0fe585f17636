//! Relying parties, bound to the privacy impact assessment: every client
//! names its entry in the PIA's register of relying parties and can never be
//! registered or edited beyond it; a new one, or an edit that widens what
//! one receives, takes effect only once a privacy officer approves it; and
//! every change is a public governance entry of the ledger. The CLI, the
//! staff console, the admin API and RFC 7591/7592 all come through here.
//!
//! - [`metadata`]: the editable part of a registration, as stored in a
//!   four-eyes request and as the admin API shows it.
//! - [`reconcile`]: start-up's check of every stored client against the
//!   PIA.
//! - [`tokens`]: initial access tokens and registration access tokens.
//! - [`jwks_uri`]: fetching the keys clients publish, safely.
//! - [`dynamic`]: RFC 7591 registration and RFC 7592 management by the
//!   ministries' own pipelines.
use sqin_crypto::SecretString;
use sqin_oidc::client::{self as oidc_client, ClientRegistration, RegistrationBounds};
use sqin_staff::four_eyes::RequestKind;
use sqin_staff::limits::REQUEST_SECS;
use sqin_staff::StaffAction;
use sqin_store::clients::{self, ClientRecord, ClientStatus};
use sqin_store::staff_requests::{self, StaffRequest};
use sqin_store::Connection;

use crate::staff::{record_governance, StaffActor, OPERATOR};
use crate::{AppError, AppResult, Services};

pub mod dynamic;
pub mod jwks_uri;
pub mod metadata;
pub mod reconcile;
pub mod tokens;

pub use metadata::ClientMetadata;

/// Who changes a relying party.
#[derive(Debug, Clone)]
pub enum ClientActor<'a> {
    /// The operator, with the `sqin` command on the server host.
    Operator,
    /// A member of staff, in the console or through the admin API.
    Staff(&'a StaffActor),
    /// A ministry's own pipeline (RFC 7591 with an initial access token for
    /// `entry`, or RFC 7592 with its client's registration access token).
    Ministry { entry: String },
}

impl ClientActor<'_> {
    /// How governance entries name them.
    pub fn name(&self) -> String {
        match self {
            Self::Operator => OPERATOR.to_owned(),
            Self::Staff(a) => a.member.badge.clone(),
            Self::Ministry { entry } => format!("ministry:{entry}"),
        }
    }

    /// The id four-eyes requests record as the requester.
    fn requester_id(&self) -> String {
        match self {
            Self::Operator => OPERATOR.to_owned(),
            Self::Staff(a) => a.member.id.clone(),
            Self::Ministry { entry } => format!("ministry:{entry}"),
        }
    }

    fn now(&self, services: &Services) -> i64 {
        match self {
            Self::Staff(a) => a.now,
            _ => services.now(),
        }
    }

    /// Staff need the administrator's right; a ministry acts only within
    /// its own entry.
    fn may_manage(&self, services: &Services, entry: Option<&str>) -> AppResult<()> {
        match self {
            Self::Operator => Ok(()),
            Self::Staff(a) => a.role_for(services, StaffAction::ClientsManage).map(|_| ()),
            Self::Ministry { entry: mine } => match entry {
                Some(e) if e == mine => Ok(()),
                _ => Err(AppError::Forbidden),
            },
        }
    }
}

/// A PIA entry, as registration needs it.
#[derive(Debug, Clone)]
pub struct PiaEntry {
    pub bounds: RegistrationBounds,
    /// A synthetic demonstration service: its clients need no approval.
    pub demo: bool,
    pub name: String,
}

/// The entry with this id in the PIA the server runs under.
pub fn entry(services: &Services, id: &str) -> AppResult<PiaEntry> {
    let rp = services
        .pia
        .pia
        .relying_party(id.trim())
        .filter(|rp| !rp.planned)
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "no relying party {id:?} in the privacy impact assessment: a service is registered only within an entry of its register of relying parties"
            ))
        })?;
    let sector = if rp.sector.is_empty() {
        rp.id.clone()
    } else {
        rp.sector.clone()
    };
    Ok(PiaEntry {
        bounds: RegistrationBounds {
            entry: rp.id.clone(),
            scopes: rp.scopes.clone(),
            claims: rp.claims.clone(),
            hosts: if rp.hosts.is_empty() {
                vec![sector.clone()]
            } else {
                rp.hosts.clone()
            },
            sector,
            public_subject: rp.subject_type == "public",
            purpose: rp.purpose.clone(),
            purpose_fr: if rp.purpose_fr.is_empty() {
                rp.purpose.clone()
            } else {
                rp.purpose_fr.clone()
            },
        },
        demo: rp.demo,
        name: rp.name.clone(),
    })
}

/// What a registration produced.
#[derive(Debug)]
pub struct Registration {
    pub record: ClientRecord,
    /// Shown once; stored only as a hash.
    pub client_secret: Option<SecretString>,
    /// The four-eyes request a privacy officer must approve before the
    /// client works (`None` for a demonstration entry).
    pub approval_request: Option<String>,
}

fn new_id() -> AppResult<String> {
    Ok(
        uuid::Builder::from_random_bytes(sqin_crypto::random_bytes::<16>()?)
            .into_uuid()
            .to_string(),
    )
}

async fn ask_privacy_officer(
    tx: &mut Connection,
    by: &ClientActor<'_>,
    client: &ClientRecord,
    payload: &metadata::RequestPayload,
    reason: &str,
    now: i64,
) -> AppResult<String> {
    let request = StaffRequest {
        id: new_id()?,
        kind: RequestKind::RelyingParty.as_str().into(),
        citizen_id: None,
        grantee_id: None,
        role: None,
        grant_until: None,
        purpose: reason.to_owned(),
        reference: client.pia_entry.clone().unwrap_or_else(|| "-".into()),
        requested_by: by.requester_id(),
        requested_at: now,
        expires_at: now + REQUEST_SECS,
        decided_by: None,
        decided_at: None,
        decision: None,
        client_id: Some(client.client_id.clone()),
        payload: Some(payload.to_json()?),
    };
    staff_requests::insert(tx, &request).await?;
    Ok(request.id)
}

/// A `jwks_uri` is checked when it is registered (https, a public
/// address), not only when it is first fetched.
async fn check_jwks_uri(services: &Services, reg: &ClientRegistration) -> AppResult<()> {
    if let Some(uri) = &reg.jwks_uri {
        jwks_uri::check_uri(uri, services.client_keys.allows_private())
            .await
            .map_err(|message| {
                AppError::Oidc(sqin_oidc::OidcError::InvalidMetadata {
                    field: "jwks_uri",
                    message,
                })
            })?;
    }
    Ok(())
}

/// Registers a relying party within PIA entry `entry_id`. It is pending
/// (its credentials refused) until a privacy officer approves it, except
/// for a demonstration entry.
pub async fn register(
    services: &Services,
    by: &ClientActor<'_>,
    entry_id: &str,
    registration: ClientRegistration,
) -> AppResult<Registration> {
    let entry = entry(services, entry_id)?;
    by.may_manage(services, Some(&entry.bounds.entry))?;
    check_jwks_uri(services, &registration).await?;
    let now = by.now(services);
    let status = if entry.demo {
        ClientStatus::Active
    } else {
        ClientStatus::Pending
    };
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let registered =
        oidc_client::register(&mut tx, registration, &entry.bounds, status, now).await?;
    let record = registered.record;
    let approval_request = if status == ClientStatus::Pending {
        Some(
            ask_privacy_officer(
                &mut tx,
                by,
                &record,
                &metadata::RequestPayload::Register,
                &format!("new relying party {} for {}", record.name, entry.name),
                now,
            )
            .await?,
        )
    } else {
        None
    };
    let md = ClientMetadata::of(&record);
    record_governance(
        &mut tx,
        services,
        &by.name(),
        "client.registered",
        &[
            ("client_id", &record.client_id),
            ("pia_entry", &entry.bounds.entry),
            ("status", record.status.as_str()),
            ("fields", &md.public_summary()),
        ],
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Registration {
        record,
        client_secret: registered.client_secret,
        approval_request,
    })
}

/// What an edit did.
#[derive(Debug)]
pub struct Edited {
    /// The client as it is now (unchanged when the edit awaits approval).
    pub record: ClientRecord,
    /// The fields that widen and the request a privacy officer must
    /// approve before they take effect.
    pub awaiting_approval: Option<(Vec<&'static str>, String)>,
    /// The fields changed now.
    pub changed: Vec<&'static str>,
}

/// Loads a client the actor may manage.
async fn managed(
    conn: &mut Connection,
    services: &Services,
    by: &ClientActor<'_>,
    client_id: &str,
) -> AppResult<ClientRecord> {
    let client = clients::get(conn, client_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no relying party {client_id}")))?;
    by.may_manage(services, client.pia_entry.as_deref())?;
    Ok(client)
}

/// Edits a relying party's metadata, if it is still at `if_match` (the
/// version the editor saw). What stays within what it already receives
/// takes effect at once; what widens it (scopes, claims, sector, a public
/// `sub`, another PIA entry, the purpose citizens read) waits for a privacy
/// officer, and nothing of the edit changes until then.
pub async fn edit(
    services: &Services,
    by: &ClientActor<'_>,
    client_id: &str,
    registration: ClientRegistration,
    entry_id: Option<&str>,
    if_match: i64,
) -> AppResult<Edited> {
    let now = by.now(services);
    check_jwks_uri(services, &registration).await?;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let current = managed(&mut tx, services, by, client_id).await?;
    if current.version != if_match {
        return Err(AppError::Stale(format!(
            "relying party {client_id} changed since version {if_match} (it is at {}): read it again and reapply your change",
            current.version
        )));
    }
    let entry_id = entry_id
        .map(str::to_owned)
        .or_else(|| current.pia_entry.clone())
        .ok_or_else(|| {
            AppError::Refused(format!(
                "relying party {client_id} has no PIA entry: name one (pia_entry)"
            ))
        })?;
    let entry = entry(services, &entry_id)?;
    by.may_manage(services, Some(&entry.bounds.entry))?;
    let next = oidc_client::proposed(registration, &entry.bounds, &current, now)?;
    let changed = ClientMetadata::of(&current).changed(&ClientMetadata::of(&next));
    if changed.is_empty() {
        tx.commit().await?;
        return Ok(Edited {
            record: current,
            awaiting_approval: None,
            changed,
        });
    }
    let widened = oidc_client::widening(&current, &next);
    if !widened.is_empty() {
        let request = ask_privacy_officer(
            &mut tx,
            by,
            &current,
            &metadata::RequestPayload::Edit {
                base_version: current.version,
                metadata: Box::new(ClientMetadata::of(&next)),
            },
            &format!("{} widens: {}", current.name, widened.join(", ")),
            now,
        )
        .await?;
        record_governance(
            &mut tx,
            services,
            &by.name(),
            "client.edit_requested",
            &[
                ("client_id", client_id),
                ("widens", &widened.join(" ")),
                ("fields", &changed.join(" ")),
                ("request", &request),
            ],
            now,
        )
        .await?;
        tx.commit().await?;
        return Ok(Edited {
            record: current,
            awaiting_approval: Some((widened, request)),
            changed: Vec::new(),
        });
    }
    if !clients::update(&mut tx, &next, if_match).await? {
        return Err(AppError::Stale(format!(
            "relying party {client_id} changed meanwhile: read it again"
        )));
    }
    record_governance(
        &mut tx,
        services,
        &by.name(),
        "client.edited",
        &[
            ("client_id", client_id),
            ("fields", &changed.join(" ")),
            (
                "now",
                &ClientMetadata::of(&next).public_summary_of(&changed),
            ),
        ],
        now,
    )
    .await?;
    let record = clients::get(&mut tx, client_id)
        .await?
        .ok_or_else(|| AppError::Conflict("the relying party was removed meanwhile".into()))?;
    tx.commit().await?;
    services.clients.forget(client_id);
    Ok(Edited {
        record,
        awaiting_approval: None,
        changed,
    })
}

/// Applies an approved four-eyes request about a relying party, in the
/// approval's transaction.
pub(crate) async fn apply_approved(
    tx: &mut Connection,
    services: &Services,
    request: &StaffRequest,
    approver: &str,
    now: i64,
) -> AppResult<()> {
    let client_id = request
        .client_id
        .as_deref()
        .ok_or_else(|| AppError::Conflict("the request names no relying party".into()))?;
    let current = clients::get(tx, client_id)
        .await?
        .ok_or_else(|| AppError::Conflict(format!("relying party {client_id} was removed")))?;
    let payload = metadata::RequestPayload::from_json(request.payload.as_deref().unwrap_or(""))?;
    match payload {
        metadata::RequestPayload::Register => {
            if current.status != ClientStatus::Pending {
                return Err(AppError::Conflict(format!(
                    "relying party {client_id} is {} and no longer waits for approval",
                    current.status.as_str()
                )));
            }
            // The PIA may have changed since the registration (a restart).
            let entry = entry(services, current.pia_entry.as_deref().unwrap_or_default())?;
            let over = entry.bounds.check(&current);
            if !over.is_empty() {
                return Err(AppError::Oidc(sqin_oidc::OidcError::BeyondPia {
                    entry: entry.bounds.entry,
                    overreach: over,
                }));
            }
            clients::set_status(tx, client_id, ClientStatus::Active, None, now).await?;
            record_governance(
                tx,
                services,
                approver,
                "client.approved",
                &[("client_id", client_id), ("request", &request.id)],
                now,
            )
            .await?;
        }
        metadata::RequestPayload::Edit {
            base_version,
            metadata,
        } => {
            let next = metadata.applied_to(&current, now)?;
            // The PIA may have changed since the request (a restart).
            let entry = entry(services, next.pia_entry.as_deref().unwrap_or_default())?;
            let over = entry.bounds.check(&next);
            if !over.is_empty() {
                return Err(AppError::Oidc(sqin_oidc::OidcError::BeyondPia {
                    entry: entry.bounds.entry,
                    overreach: over,
                }));
            }
            if !clients::update(tx, &next, base_version).await? {
                return Err(AppError::Stale(format!(
                    "relying party {client_id} changed since this request was made: refuse it and ask again"
                )));
            }
            let changed = ClientMetadata::of(&current).changed(&metadata);
            record_governance(
                tx,
                services,
                approver,
                "client.edit_approved",
                &[
                    ("client_id", client_id),
                    ("request", &request.id),
                    ("fields", &changed.join(" ")),
                    ("now", &metadata.public_summary_of(&changed)),
                ],
                now,
            )
            .await?;
        }
    }
    services.clients.forget(client_id);
    Ok(())
}

/// Suspends a relying party (its tokens and sign-ins stop within the
/// client cache's lifetime), or resumes one: to active if a privacy
/// officer had approved it, else back to pending. Resuming a pending
/// client whose request lapsed asks the privacy officer again.
pub async fn set_suspended(
    services: &Services,
    by: &ClientActor<'_>,
    client_id: &str,
    suspend: bool,
    reason: &str,
) -> AppResult<ClientRecord> {
    let now = by.now(services);
    let reason = crate::staff::text("the reason", reason, 500)?;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let current = managed(&mut tx, services, by, client_id).await?;
    let (status, what) = match (suspend, current.status) {
        (true, ClientStatus::Active) => (ClientStatus::Suspended, "client.suspended"),
        (false, ClientStatus::Suspended) => {
            // Resuming a client start-up suspended for being outside the
            // PIA would only see it suspended again: check now.
            let entry = current
                .pia_entry
                .as_deref()
                .ok_or_else(|| {
                    AppError::Refused(format!(
                        "relying party {client_id} has no PIA entry: edit it to name one first"
                    ))
                })
                .and_then(|e| entry(services, e))?;
            let over = entry.bounds.check(&current);
            if !over.is_empty() {
                return Err(AppError::Oidc(sqin_oidc::OidcError::BeyondPia {
                    entry: entry.bounds.entry,
                    overreach: over,
                }));
            }
            if approved(&mut tx, &entry, client_id).await? {
                (ClientStatus::Active, "client.resumed")
            } else {
                // Suspended before a privacy officer approved it (start-up
                // found it outside the PIA): resuming puts it back where it
                // was, waiting, never straight to active.
                (ClientStatus::Pending, "client.resumed_pending")
            }
        }
        (false, ClientStatus::Pending) => {
            // A registration whose request lapsed: ask again.
            let open = staff_requests::for_client(&mut tx, client_id)
                .await?
                .into_iter()
                .any(|r| r.decided_at.is_none() && r.expires_at > now);
            if open {
                return Err(AppError::Conflict(format!(
                    "relying party {client_id} already waits for a privacy officer's approval"
                )));
            }
            let request = ask_privacy_officer(
                &mut tx,
                by,
                &current,
                &metadata::RequestPayload::Register,
                &format!("relying party {} (asked again)", current.name),
                now,
            )
            .await?;
            record_governance(
                &mut tx,
                services,
                &by.name(),
                "client.approval_requested",
                &[("client_id", client_id), ("request", &request)],
                now,
            )
            .await?;
            tx.commit().await?;
            return Ok(current);
        }
        (_, s) => {
            return Err(AppError::Conflict(format!(
                "relying party {client_id} is {}",
                s.as_str()
            )))
        }
    };
    clients::set_status(
        &mut tx,
        client_id,
        status,
        suspend.then_some(reason.as_str()),
        now,
    )
    .await?;
    record_governance(
        &mut tx,
        services,
        &by.name(),
        what,
        &[("client_id", client_id), ("reason", &reason)],
        now,
    )
    .await?;
    let record = clients::get(&mut tx, client_id)
        .await?
        .ok_or_else(|| AppError::Conflict("the relying party was removed meanwhile".into()))?;
    tx.commit().await?;
    services.clients.forget(client_id);
    Ok(record)
}

/// Whether a client's registration was approved by a privacy officer (or
/// needs no approval: a demonstration entry).
async fn approved(tx: &mut Connection, entry: &PiaEntry, client_id: &str) -> AppResult<bool> {
    if entry.demo {
        return Ok(true);
    }
    Ok(staff_requests::for_client(tx, client_id)
        .await?
        .iter()
        .any(|r| {
            r.decision.as_deref() == Some("approved")
                && r.payload
                    .as_deref()
                    .and_then(|p| metadata::RequestPayload::from_json(p).ok())
                    .is_some_and(|p| matches!(p, metadata::RequestPayload::Register))
        }))
}

/// Removes a relying party: its grants, codes and tokens go with it (the
/// schema's cascades); the citizens' ledger histories keep what it
/// received.
pub async fn remove(services: &Services, by: &ClientActor<'_>, client_id: &str) -> AppResult<()> {
    let now = by.now(services);
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let current = managed(&mut tx, services, by, client_id).await?;
    clients::delete(&mut tx, client_id).await?;
    record_governance(
        &mut tx,
        services,
        &by.name(),
        "client.removed",
        &[
            ("client_id", client_id),
            ("pia_entry", current.pia_entry.as_deref().unwrap_or("-")),
        ],
        now,
    )
    .await?;
    tx.commit().await?;
    services.clients.forget(client_id);
    Ok(())
}

/// A new client secret, shown once; the old one stops working at once.
pub async fn rotate_secret(
    services: &Services,
    by: &ClientActor<'_>,
    client_id: &str,
) -> AppResult<SecretString> {
    let now = by.now(services);
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    managed(&mut tx, services, by, client_id).await?;
    let secret = oidc_client::rotate_secret(&mut tx, client_id, now).await?;
    record_governance(
        &mut tx,
        services,
        &by.name(),
        "client.secret_rotated",
        &[("client_id", client_id)],
        now,
    )
    .await?;
    tx.commit().await?;
    services.clients.forget(client_id);
    Ok(secret)
}

/// Every relying party (for those who manage them).
pub async fn list(services: &Services, by: &ClientActor<'_>) -> AppResult<Vec<ClientRecord>> {
    by.may_manage(services, None)?;
    let mut conn = services.store.pool().acquire().await?;
    Ok(clients::list(&mut conn).await?)
}

/// One relying party.
pub async fn get(
    services: &Services,
    by: &ClientActor<'_>,
    client_id: &str,
) -> AppResult<ClientRecord> {
    let mut conn = services.store.pool().acquire().await?;
    managed(&mut conn, services, by, client_id).await
}
