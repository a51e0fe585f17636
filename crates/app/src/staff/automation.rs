//! Automation for the admin API: a member of staff registers an automation
//! client (a pipeline's credentials) that obtains short-lived admin access
//! tokens with the OAuth 2.0 client credentials grant and acts as its owner
//! (the owner's live roles, checked on every call; never more). A token is
//! obtained by presenting the client's secret, so for its ten minutes it
//! counts as a fresh confirmation; the owner's passkey is not involved.
use sqin_crypto::{random_token, sha256, HashedSecret, SecretString};
use sqin_store::automation::{self, AutomationClient};
use sqin_store::staff::{self, StaffSession};

use super::{record_governance, StaffActor};
use crate::{AppError, AppResult, Services};

/// How long an admin access token lives.
pub const TOKEN_SECS: i64 = 600;
/// The scope admin access tokens carry.
pub const ADMIN_SCOPE: &str = "sqin:admin";

/// A new automation client, with its secret shown once.
#[derive(Debug)]
pub struct NewAutomationClient {
    pub client_id: String,
    pub name: String,
    pub client_secret: SecretString,
}

/// Registers an automation client owned by `actor`: it will act with the
/// actor's roles. A sensitive act (it hands out a credential).
pub async fn create(
    services: &Services,
    actor: &StaffActor,
    name: &str,
) -> AppResult<NewAutomationClient> {
    actor.require_fresh()?;
    if actor.roles.is_empty() {
        return Err(AppError::Forbidden);
    }
    let name = super::text("the name", name, 120)?;
    let client_id = format!(
        "automation-{}",
        sqin_crypto::b64url(&sqin_crypto::random_bytes::<12>()?)
    );
    let secret = random_token()?;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    automation::insert(
        &mut tx,
        &AutomationClient {
            client_id: client_id.clone(),
            name: name.clone(),
            owner_staff_id: actor.member.id.clone(),
            secret_hash: secret.hash().0.to_vec(),
            created_at: actor.now,
            revoked_at: None,
        },
    )
    .await?;
    record_governance(
        &mut tx,
        services,
        &actor.member.badge,
        "automation_client.created",
        &[
            ("client_id", &client_id),
            ("name", &name),
            ("roles", &actor.roles.join(" ")),
        ],
        actor.now,
    )
    .await?;
    tx.commit().await?;
    Ok(NewAutomationClient {
        client_id,
        name,
        client_secret: secret,
    })
}

/// The actor's automation clients.
pub async fn mine(services: &Services, actor: &StaffActor) -> AppResult<Vec<AutomationClient>> {
    let mut conn = services.store.pool().acquire().await?;
    Ok(automation::of_owner(&mut conn, &actor.member.id).await?)
}

/// Revokes one of the actor's automation clients (and its tokens).
pub async fn revoke(services: &Services, actor: &StaffActor, client_id: &str) -> AppResult<()> {
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let client = automation::get(&mut tx, client_id)
        .await?
        .filter(|c| c.owner_staff_id == actor.member.id)
        .ok_or_else(|| AppError::NotFound(format!("you have no automation client {client_id}")))?;
    if !automation::revoke(&mut tx, &client.client_id, actor.now).await? {
        return Err(AppError::Conflict("it was already revoked".into()));
    }
    record_governance(
        &mut tx,
        services,
        &actor.member.badge,
        "automation_client.revoked",
        &[("client_id", client_id)],
        actor.now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What the client credentials grant answers.
#[derive(Debug)]
pub struct AdminToken {
    pub access_token: SecretString,
    pub expires_in: i64,
}

/// The client credentials grant (RFC 6749 4.4) for an automation client:
/// `None` when the client is unknown, revoked, its secret wrong, or its
/// owner gone (the caller answers `invalid_client` for all of them).
pub async fn token(
    services: &Services,
    client_id: &str,
    secret: &str,
) -> AppResult<Option<AdminToken>> {
    let now = services.now();
    let mut conn = services.store.pool().acquire().await?;
    let Some(client) = automation::get(&mut conn, client_id)
        .await?
        .filter(|c| c.revoked_at.is_none())
    else {
        return Ok(None);
    };
    let matches = HashedSecret::from_slice(&client.secret_hash).is_some_and(|h| h.matches(secret));
    let owner_active = staff::member(&mut conn, &client.owner_staff_id)
        .await?
        .is_some_and(|m| m.disabled_at.is_none());
    if !matches || !owner_active {
        return Ok(None);
    }
    let token = random_token()?;
    automation::insert_token(
        &mut conn,
        &sha256(token.expose().as_bytes()),
        client_id,
        now,
        now + TOKEN_SECS,
    )
    .await?;
    Ok(Some(AdminToken {
        access_token: token,
        expires_in: TOKEN_SECS,
    }))
}

/// The member of staff an admin access token acts as, with their live
/// roles now; `None` when the token is not live.
pub async fn actor(services: &Services, token: &str) -> AppResult<Option<StaffActor>> {
    let now = services.now();
    let mut conn = services.store.pool().acquire().await?;
    let hash = sha256(token.as_bytes());
    let Some((client, issued_at)) = automation::client_of_token(&mut conn, &hash, now).await?
    else {
        return Ok(None);
    };
    let Some(member) = staff::member(&mut conn, &client.owner_staff_id)
        .await?
        .filter(|m| m.disabled_at.is_none())
    else {
        return Ok(None);
    };
    let roles = staff::live_grants(&mut conn, &member.id, now)
        .await?
        .into_iter()
        .map(|g| g.role)
        .collect();
    Ok(Some(StaffActor {
        session: StaffSession {
            token_hash: hash.to_vec(),
            staff_id: member.id.clone(),
            created_at: issued_at,
            last_seen_at: now,
            // The secret was presented to obtain the token.
            reauth_at: now.min(issued_at + TOKEN_SECS),
            expires_at: issued_at + TOKEN_SECS,
            ended_at: None,
        },
        member,
        roles,
        now,
    }))
}
