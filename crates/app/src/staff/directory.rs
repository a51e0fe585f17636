//! Members of staff and their roles: the operator's bootstrap, invitations
//! from the console, grants (each approved by a second person) and their
//! revocation.
use sqin_crypto::{random_bytes, SecretString};
use sqin_staff::four_eyes::RequestKind;
use sqin_staff::limits::{INVITATION_SECS, REQUEST_SECS};
use sqin_staff::{RequestRule, StaffAction};
use sqin_store::staff::{self, StaffGrant, StaffMember};
use sqin_store::staff_requests::{self, StaffRequest};
use sqin_store::{Connection, StoreError};

use super::{record_governance, text, StaffActor, OPERATOR};
use crate::{AppError, AppResult, Services};

/// Longest a grant may be made for: it ends, and is granted again if still
/// needed (least privilege over time).
pub const MAX_GRANT_SECS: i64 = 366 * 86_400;

/// An invitation, with its one-time code: shown once, to be handed to the
/// new member of staff in person.
#[derive(Debug)]
pub struct Invitation {
    pub member: StaffMember,
    pub code: SecretString,
    pub expires_at: i64,
    /// The grant request awaiting a second person's approval (console
    /// invitations); `None` when the operator granted the role at once.
    pub request_id: Option<String>,
}

/// Symbols that cannot be mistaken for one another.
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

fn invitation_code() -> AppResult<SecretString> {
    let raw = random_bytes::<20>()?;
    let symbols: Vec<u8> = raw
        .iter()
        .map(|b| ALPHABET.get(usize::from(b & 31)).copied().unwrap_or(b'X'))
        .collect();
    let grouped = symbols
        .chunks(5)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-");
    Ok(SecretString::new(grouped))
}

fn new_id() -> AppResult<String> {
    Ok(uuid::Builder::from_random_bytes(random_bytes::<16>()?)
        .into_uuid()
        .to_string())
}

fn check_role(services: &Services, role: &str) -> AppResult<()> {
    match services.staff_policy.role(role) {
        Some(_) => Ok(()),
        None => Err(AppError::Refused(format!(
            "the PIA has no staff role {role:?}; roles: {}",
            services
                .staff_policy
                .roles()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Creates a member with a fresh badge and an invitation code.
async fn create_member(
    tx: &mut Connection,
    name: &str,
    created_by: &str,
    now: i64,
) -> AppResult<(StaffMember, SecretString, i64)> {
    let name = text("the name", name, 120)?;
    let mut tries = 0;
    let member = loop {
        let member = StaffMember {
            id: new_id()?,
            display_name: name.clone(),
            badge: sqin_staff::badge::badge(random_bytes::<4>()?),
            created_at: now,
            created_by: created_by.to_owned(),
            disabled_at: None,
        };
        match staff::insert_member(tx, &member).await {
            Ok(()) => break member,
            Err(StoreError::Conflict(_)) if tries < 5 => tries += 1,
            Err(e) => return Err(e.into()),
        }
    };
    let code = invitation_code()?;
    let expires_at = now + INVITATION_SECS;
    staff::insert_invitation(
        tx,
        &sqin_webauthn::staff::invitation_hash(code.expose()),
        &member.id,
        now,
        expires_at,
    )
    .await?;
    Ok((member, code, expires_at))
}

/// The operator's bootstrap (`sqin staff invite` on the server host): a
/// member of staff with `role` granted at once, recorded as an operator
/// action. Refused once the console can grant it with four eyes (one
/// member of staff may ask for it and another may approve it): after the
/// first privacy officer and administrator, staff are invited there.
pub async fn bootstrap_invite(
    services: &Services,
    name: &str,
    role: &str,
    reason: &str,
) -> AppResult<Invitation> {
    check_role(services, role)?;
    let reason = text("the reason", reason, 500)?;
    let now = services.now();
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    // The console can grant the role once one person may ask for it and a
    // different person may approve it; until then only the operator can
    // (the first privacy officer and administrator, or a second holder of
    // a role only one person holds).
    let mut requesters = std::collections::BTreeSet::new();
    let mut approvers = std::collections::BTreeSet::new();
    for grantor in services.staff_policy.roles() {
        if !grantor.may_grant.contains(role) {
            continue;
        }
        let holders = staff::holder_ids(&mut tx, &grantor.id, now).await?;
        if grantor.may(StaffAction::StaffInvite) {
            requesters.extend(holders.iter().cloned());
        }
        if grantor.may(StaffAction::GrantApprove) {
            approvers.extend(holders);
        }
    }
    if requesters.iter().any(|r| approvers.iter().any(|a| a != r)) {
        return Err(AppError::Refused(format!(
            "two members of staff can already grant {role} in the staff console (one asks, the other approves): invite from there"
        )));
    }
    let (member, code, expires_at) = create_member(&mut tx, name, OPERATOR, now).await?;
    staff::insert_grant(
        &mut tx,
        &StaffGrant {
            id: new_id()?,
            staff_id: member.id.clone(),
            role: role.to_owned(),
            reason: reason.clone(),
            requested_by: OPERATOR.into(),
            approved_by: OPERATOR.into(),
            granted_at: now,
            expires_at: now + MAX_GRANT_SECS,
            revoked_at: None,
            revoked_by: None,
        },
    )
    .await?;
    record_governance(
        &mut tx,
        services,
        OPERATOR,
        "staff.invited",
        &[
            ("badge", &member.badge),
            ("role", role),
            ("reason", &reason),
            ("bootstrap", "true"),
        ],
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Invitation {
        member,
        code,
        expires_at,
        request_id: None,
    })
}

/// What an invitation or a grant request asks.
#[derive(Debug, Clone)]
pub struct GrantAsk {
    pub role: String,
    pub reason: String,
    /// When the grant ends (at most a year from now).
    pub until: i64,
}

fn check_ask(services: &Services, ask: &GrantAsk, now: i64) -> AppResult<String> {
    check_role(services, &ask.role)?;
    if ask.until <= now || ask.until > now + MAX_GRANT_SECS {
        return Err(AppError::Refused(
            "a grant ends within a year (give its end date)".into(),
        ));
    }
    text("the reason", &ask.reason, 500)
}

/// Inserts a pending grant request for `grantee`, by `actor`.
async fn insert_grant_request(
    tx: &mut Connection,
    actor: &StaffActor,
    grantee: &str,
    ask: &GrantAsk,
    reason: &str,
    now: i64,
) -> AppResult<StaffRequest> {
    let request = StaffRequest {
        id: new_id()?,
        kind: RequestKind::Grant.as_str().into(),
        citizen_id: None,
        grantee_id: Some(grantee.to_owned()),
        role: Some(ask.role.clone()),
        grant_until: Some(ask.until),
        purpose: reason.to_owned(),
        reference: "-".into(),
        requested_by: actor.member.id.clone(),
        requested_at: now,
        expires_at: now + REQUEST_SECS,
        decided_by: None,
        decided_at: None,
        decision: None,
        client_id: None,
        payload: None,
    };
    staff_requests::insert(tx, &request).await?;
    Ok(request)
}

/// Invites a new member of staff from the console, asking that `ask.role`
/// be granted: the role takes effect only when a second person whose role
/// may grant it approves ([`super::requests::approve`]). The invitation
/// code is shown once.
pub async fn invite(
    services: &Services,
    actor: &StaffActor,
    name: &str,
    ask: &GrantAsk,
) -> AppResult<Invitation> {
    actor.require_fresh()?;
    let now = actor.now;
    let reason = check_ask(services, ask, now)?;
    RequestRule::requester(
        &services.staff_policy,
        &actor.roles,
        RequestKind::Grant,
        Some(&ask.role),
    )?;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let (member, code, expires_at) = create_member(&mut tx, name, &actor.member.badge, now).await?;
    let request = insert_grant_request(&mut tx, actor, &member.id, ask, &reason, now).await?;
    record_governance(
        &mut tx,
        services,
        &actor.member.badge,
        "staff.invited",
        &[
            ("badge", &member.badge),
            ("role_requested", &ask.role),
            ("reason", &reason),
            ("request", &request.id),
        ],
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Invitation {
        member,
        code,
        expires_at,
        request_id: Some(request.id),
    })
}

/// Asks that an existing member of staff be granted a role (approved by a
/// second person).
pub async fn request_grant(
    services: &Services,
    actor: &StaffActor,
    badge: &str,
    ask: &GrantAsk,
) -> AppResult<StaffRequest> {
    actor.require_fresh()?;
    let now = actor.now;
    let reason = check_ask(services, ask, now)?;
    RequestRule::requester(
        &services.staff_policy,
        &actor.roles,
        RequestKind::Grant,
        Some(&ask.role),
    )?;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let grantee = staff::member_by_badge(&mut tx, badge.trim())
        .await?
        .filter(|m| m.disabled_at.is_none())
        .ok_or_else(|| AppError::NotFound(format!("no active member of staff {badge}")))?;
    let request = insert_grant_request(&mut tx, actor, &grantee.id, ask, &reason, now).await?;
    record_governance(
        &mut tx,
        services,
        &actor.member.badge,
        "role.requested",
        &[
            ("badge", &grantee.badge),
            ("role", &ask.role),
            ("reason", &reason),
            ("request", &request.id),
        ],
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(request)
}

/// Revokes a grant at once (taking a right away needs no second person),
/// by someone whose role may grant it.
pub async fn revoke_grant(
    services: &Services,
    actor: &StaffActor,
    grant_id: &str,
    reason: &str,
) -> AppResult<()> {
    actor.require_fresh()?;
    let reason = text("the reason", reason, 500)?;
    let now = actor.now;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let grant = find_grant(&mut tx, grant_id).await?;
    RequestRule::requester(
        &services.staff_policy,
        &actor.roles,
        RequestKind::Grant,
        Some(&grant.role),
    )?;
    if !staff::revoke_grant(&mut tx, grant_id, &actor.member.badge, now).await? {
        return Err(AppError::Conflict("this grant is already revoked".into()));
    }
    let badge = staff::member(&mut tx, &grant.staff_id)
        .await?
        .map(|m| m.badge)
        .unwrap_or_default();
    record_governance(
        &mut tx,
        services,
        &actor.member.badge,
        "role.revoked",
        &[
            ("badge", &badge),
            ("role", &grant.role),
            ("reason", &reason),
        ],
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn find_grant(tx: &mut Connection, grant_id: &str) -> AppResult<StaffGrant> {
    staff::grant(tx, grant_id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such grant".into()))
}

/// A member of staff as the directory page shows them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MemberView {
    pub badge: String,
    pub display_name: String,
    pub active: bool,
    pub grants: Vec<GrantView>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct GrantView {
    pub id: String,
    pub role: String,
    pub reason: String,
    pub requested_by: String,
    pub approved_by: String,
    pub granted_at: i64,
    pub expires_at: i64,
    pub live: bool,
}

/// The staff directory, for those who invite or approve grants.
pub async fn members(services: &Services, actor: &StaffActor) -> AppResult<Vec<MemberView>> {
    if !actor.may(services, StaffAction::StaffInvite)
        && !actor.may(services, StaffAction::GrantApprove)
    {
        return Err(AppError::Forbidden);
    }
    let now = actor.now;
    let mut conn = services.store.pool().acquire().await?;
    let mut out = Vec::new();
    for m in staff::members(&mut conn).await? {
        let grants = staff::grants_of(&mut conn, &m.id)
            .await?
            .into_iter()
            .map(|g| GrantView {
                live: g.revoked_at.is_none() && g.expires_at > now && m.disabled_at.is_none(),
                id: g.id,
                role: g.role,
                reason: g.reason,
                requested_by: g.requested_by,
                approved_by: g.approved_by,
                granted_at: g.granted_at,
                expires_at: g.expires_at,
            })
            .collect();
        out.push(MemberView {
            badge: m.badge,
            display_name: m.display_name,
            active: m.disabled_at.is_none(),
            grants,
        });
    }
    Ok(out)
}
