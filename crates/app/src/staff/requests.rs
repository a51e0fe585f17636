//! Four eyes on sensitive actions: recovery of an account (a new code, by
//! mail), closing an account on the citizen's request by phone or mail, and
//! granting a role. One member of staff requests, with a purpose and a
//! reference; a different member whose role allows it approves before the
//! request lapses; both steps are on the record. The requester never sees a
//! recovery code: it goes into a sealed letter for the registered address.
use serde::Serialize;
use sqin_crypto::random_bytes;
use sqin_staff::four_eyes::{PendingRequest, RequestKind};
use sqin_staff::limits::REQUEST_SECS;
use sqin_staff::policy::check_reference;
use sqin_staff::RequestRule;
use sqin_store::citizens::{self, CitizenStatus};
use sqin_store::enrolment::CodePurpose;
use sqin_store::staff::{self, StaffGrant};
use sqin_store::staff_requests::{self, Letter, StaffRequest};
use sqin_store::Connection;

use super::{record_file_act, record_governance, FileAct, StaffActor};
use crate::{AppError, AppResult, Services};

fn new_id() -> AppResult<String> {
    Ok(uuid::Builder::from_random_bytes(random_bytes::<16>()?)
        .into_uuid()
        .to_string())
}

/// Asks for a recovery code or a closure for the citizen with
/// `register_id`, for a purpose of the requester's role and a reference.
pub async fn request(
    services: &Services,
    actor: &StaffActor,
    kind: RequestKind,
    register_id: &str,
    purpose: &str,
    reference: &str,
) -> AppResult<StaffRequest> {
    match kind {
        RequestKind::Grant => {
            return Err(AppError::Refused(
                "a role is requested from the staff directory".into(),
            ))
        }
        RequestKind::RelyingParty => {
            return Err(AppError::Refused(
                "a relying party is registered or edited from its own page".into(),
            ))
        }
        RequestKind::Recovery | RequestKind::Closure => {}
    }
    actor.require_fresh()?;
    let now = actor.now;
    let role = RequestRule::requester(&services.staff_policy, &actor.roles, kind, None)?;
    if !role.lookup_purposes.iter().any(|p| p == purpose) {
        return Err(AppError::Refused(format!(
            "choose the purpose among those of your role ({})",
            role.lookup_purposes.join(", ")
        )));
    }
    check_reference(reference)?;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let citizen = citizens::by_register_id(&mut tx, &services.register, register_id.trim())
        .await?
        .ok_or_else(|| AppError::NotFound("no file has this register id".into()))?;
    let request = StaffRequest {
        id: new_id()?,
        kind: kind.as_str().into(),
        citizen_id: Some(citizen.id.clone()),
        grantee_id: None,
        role: None,
        grant_until: None,
        purpose: purpose.to_owned(),
        reference: reference.trim().to_owned(),
        requested_by: actor.member.id.clone(),
        requested_at: now,
        expires_at: now + REQUEST_SECS,
        decided_by: None,
        decided_at: None,
        decision: None,
        client_id: None,
        payload: None,
    };
    staff_requests::insert(&mut tx, &request).await?;
    record_file_act(
        &mut tx,
        services,
        FileAct {
            actor,
            role: &role.id,
            action: kind.request_action().as_str(),
            purpose,
            reference,
            register_id: &citizen.register_id,
            citizen_id: Some(&citizen.id),
            elements: vec!["citizen.register_id (checked)".into()],
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(request)
}

/// What an approval did.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub request_id: String,
    pub kind: String,
    pub approved: bool,
    /// For a recovery: a letter is waiting for the mail.
    pub letter_queued: bool,
}

async fn pending(tx: &mut Connection, id: &str) -> AppResult<StaffRequest> {
    staff_requests::get(tx, id)
        .await?
        .filter(|r| r.decided_at.is_none())
        .ok_or_else(|| AppError::NotFound("no open request with this number".into()))
}

fn kind_of(r: &StaffRequest) -> AppResult<RequestKind> {
    RequestKind::parse(&r.kind).ok_or_else(|| AppError::Conflict("unknown request kind".into()))
}

/// Approves another person's request; its effect commits with the approval.
pub async fn approve(
    services: &Services,
    actor: &StaffActor,
    request_id: &str,
) -> AppResult<Decision> {
    actor.require_fresh()?;
    let now = actor.now;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let request = pending(&mut tx, request_id).await?;
    let kind = kind_of(&request)?;
    let role = RequestRule::approver(
        &services.staff_policy,
        &actor.member.id,
        &actor.roles,
        &PendingRequest {
            kind,
            requested_by: &request.requested_by,
            expires_at: request.expires_at,
            role: request.role.as_deref(),
        },
        now,
    )?;
    if !staff_requests::decide(&mut tx, &request.id, &actor.member.id, "approved", now).await? {
        return Err(AppError::Conflict(
            "this request was decided or lapsed meanwhile".into(),
        ));
    }
    let requester = requester_name(&mut tx, &request.requested_by).await?;
    let mut letter_queued = false;
    match kind {
        RequestKind::RelyingParty => {
            crate::clients::apply_approved(&mut tx, services, &request, &actor.member.badge, now)
                .await?;
        }
        RequestKind::Grant => {
            let (Some(grantee), Some(granted_role), Some(until)) =
                (&request.grantee_id, &request.role, request.grant_until)
            else {
                return Err(AppError::Conflict("a grant request lacks its grant".into()));
            };
            let member = staff::member(&mut tx, grantee)
                .await?
                .filter(|m| m.disabled_at.is_none())
                .ok_or_else(|| AppError::Conflict("the member of staff has left".into()))?;
            staff::insert_grant(
                &mut tx,
                &StaffGrant {
                    id: new_id()?,
                    staff_id: member.id.clone(),
                    role: granted_role.clone(),
                    reason: request.purpose.clone(),
                    requested_by: requester.clone(),
                    approved_by: actor.member.badge.clone(),
                    granted_at: now,
                    expires_at: until,
                    revoked_at: None,
                    revoked_by: None,
                },
            )
            .await?;
            record_governance(
                &mut tx,
                services,
                &actor.member.badge,
                "role.granted",
                &[
                    ("badge", &member.badge),
                    ("role", granted_role),
                    ("requested_by", &requester),
                    ("request", &request.id),
                    ("reason", &request.purpose),
                ],
                now,
            )
            .await?;
        }
        RequestKind::Recovery | RequestKind::Closure => {
            let citizen_id = request
                .citizen_id
                .clone()
                .ok_or_else(|| AppError::Conflict("the account is gone".into()))?;
            let citizen = citizens::by_id(&mut tx, &services.register, &citizen_id)
                .await?
                .ok_or_else(|| AppError::Conflict("the account is gone".into()))?;
            record_file_act(
                &mut tx,
                services,
                FileAct {
                    actor,
                    role: &role.id,
                    action: kind.approve_action().as_str(),
                    purpose: &request.purpose,
                    reference: &request.reference,
                    register_id: &citizen.register_id,
                    citizen_id: Some(&citizen.id),
                    elements: vec!["citizen.register_id (checked)".into()],
                },
                now,
            )
            .await?;
            if kind == RequestKind::Recovery {
                queue_recovery_letter(&mut tx, services, &citizen, now).await?;
                letter_queued = true;
            } else {
                super::super::account::close_in(&mut tx, services, &citizen.register_id, now)
                    .await?;
            }
        }
    }
    tx.commit().await?;
    if kind == RequestKind::Closure {
        services.backchannel_wake.notify_one();
    }
    Ok(Decision {
        request_id: request.id,
        kind: kind.as_str().into(),
        approved: true,
        letter_queued,
    })
}

/// How a requester is named: a badge, or the operator or ministry that
/// made a request without a staff identity.
async fn requester_name(conn: &mut Connection, requested_by: &str) -> AppResult<String> {
    Ok(match staff::member(conn, requested_by).await? {
        Some(m) => m.badge,
        None => requested_by.to_owned(),
    })
}

/// What a letter for the mail carries, sealed until it is printed.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct LetterContent {
    pub register_id: String,
    pub given_name: String,
    pub family_name: String,
    pub address: Option<String>,
    pub code: String,
    pub code_expires_at: i64,
    pub purpose: String,
}

/// Issues a new code (earlier ones stop working), records it on the
/// citizen's account page and in their history, and seals it into a letter
/// for the registered address.
async fn queue_recovery_letter(
    tx: &mut Connection,
    services: &Services,
    citizen: &sqin_store::citizens::Citizen,
    now: i64,
) -> AppResult<()> {
    let purpose = if citizen.status == CitizenStatus::Enrolled {
        CodePurpose::Recovery
    } else {
        CodePurpose::Enrolment
    };
    let issued = services.codes.issue(tx, &citizen.id, purpose, now).await?;
    sqin_webauthn::events::record(
        tx,
        &citizen.id,
        &sqin_webauthn::SecurityEvent::CodeReissued {
            purpose: purpose.as_str().into(),
        },
        now,
    )
    .await?;
    let id = new_id()?;
    let content = LetterContent {
        register_id: citizen.register_id.clone(),
        given_name: citizen.given_name.clone(),
        family_name: citizen.family_name.clone(),
        address: citizen.address.clone(),
        code: issued.code.expose().to_owned(),
        code_expires_at: issued.expires_at,
        purpose: purpose.as_str().into(),
    };
    let plain = serde_json::to_vec(&content).map_err(|e| AppError::Failed {
        step: "sealing the letter".into(),
        source: Box::new(e),
    })?;
    let sealed = services.kek.seal(&letter_context(&id), &plain)?;
    staff_requests::insert_letter(
        tx,
        &Letter {
            id,
            citizen_id: Some(citizen.id.clone()),
            kind: "recovery".into(),
            sealed,
            created_at: now,
            printed_at: None,
            printed_by: None,
        },
    )
    .await?;
    Ok(())
}

/// The associated data a letter is sealed with.
pub(crate) fn letter_context(id: &str) -> String {
    format!("mail-letter:{id}")
}

/// Refuses another person's request.
pub async fn refuse(services: &Services, actor: &StaffActor, request_id: &str) -> AppResult<()> {
    let now = actor.now;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let request = pending(&mut tx, request_id).await?;
    let kind = kind_of(&request)?;
    RequestRule::approver(
        &services.staff_policy,
        &actor.member.id,
        &actor.roles,
        &PendingRequest {
            kind,
            requested_by: &request.requested_by,
            expires_at: request.expires_at,
            role: request.role.as_deref(),
        },
        now,
    )?;
    if !staff_requests::decide(&mut tx, &request.id, &actor.member.id, "refused", now).await? {
        return Err(AppError::Conflict(
            "this request was decided or lapsed meanwhile".into(),
        ));
    }
    record_governance(
        &mut tx,
        services,
        &actor.member.badge,
        "request.refused",
        &[("request", &request.id), ("kind", kind.as_str())],
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An open request, as the requests page shows it: nothing about the
/// citizen (the approver opens the file themselves, on the record, if they
/// need to).
#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    pub id: String,
    pub kind: String,
    pub requested_by: String,
    pub purpose: String,
    pub reference: String,
    pub requested_at: i64,
    pub expires_at: i64,
    /// For a grant: who and which role.
    pub grantee: Option<String>,
    pub role: Option<String>,
    pub grant_until: Option<i64>,
    /// For a relying party: which, and what the request would change.
    pub client_id: Option<String>,
    pub change: Option<String>,
    /// Whether this actor may approve it.
    pub can_decide: bool,
    /// Whether this actor made it.
    pub mine: bool,
}

/// The open requests this actor made or may decide.
pub async fn open(services: &Services, actor: &StaffActor) -> AppResult<Vec<RequestView>> {
    let now = actor.now;
    let mut conn = services.store.pool().acquire().await?;
    let mut out = Vec::new();
    for r in staff_requests::open(&mut conn, now).await? {
        let Some(kind) = RequestKind::parse(&r.kind) else {
            continue;
        };
        let can_decide = RequestRule::approver(
            &services.staff_policy,
            &actor.member.id,
            &actor.roles,
            &PendingRequest {
                kind,
                requested_by: &r.requested_by,
                expires_at: r.expires_at,
                role: r.role.as_deref(),
            },
            now,
        )
        .is_ok();
        let mine = r.requested_by == actor.member.id;
        if !can_decide && !mine {
            continue;
        }
        let requested_by = requester_name(&mut conn, &r.requested_by).await?;
        let grantee = match &r.grantee_id {
            Some(g) => staff::member(&mut conn, g).await?.map(|m| m.badge),
            None => None,
        };
        out.push(RequestView {
            id: r.id,
            kind: r.kind,
            requested_by,
            purpose: r.purpose,
            reference: r.reference,
            requested_at: r.requested_at,
            expires_at: r.expires_at,
            grantee,
            role: r.role,
            grant_until: r.grant_until,
            change: r
                .payload
                .as_deref()
                .and_then(|p| crate::clients::metadata::RequestPayload::from_json(p).ok())
                .map(|p| p.describe()),
            client_id: r.client_id,
            can_decide,
            mine,
        });
    }
    Ok(out)
}
