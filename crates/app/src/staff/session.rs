//! Staff sessions: begun by a passkey sign-in, ended by sign-out, 15
//! minutes without a request, or 8 hours whatever happens; a sensitive
//! action needs a passkey assertion from the last 5 minutes.
use sqin_crypto::{random_token, sha256, SecretString};
use sqin_staff::limits::{REAUTH_SECS, SESSION_ABSOLUTE_SECS, SESSION_IDLE_SECS};
use sqin_staff::{RolePolicy, StaffAction};
use sqin_store::staff::{self, StaffMember, StaffSession};

use crate::{AppError, AppResult, Services};

/// A signed-in member of staff, as every staff request sees them.
#[derive(Debug, Clone)]
pub struct StaffActor {
    pub member: StaffMember,
    /// The roles they hold now (live grants).
    pub roles: Vec<String>,
    pub session: StaffSession,
    /// The time of the request.
    pub now: i64,
}

impl StaffActor {
    /// Whether their last passkey assertion is recent enough for a
    /// sensitive action.
    pub fn fresh(&self) -> bool {
        self.now - self.session.reauth_at <= REAUTH_SECS
    }

    /// Refuses a sensitive action without a fresh assertion.
    pub fn require_fresh(&self) -> AppResult<()> {
        if self.fresh() {
            Ok(())
        } else {
            Err(AppError::ReauthenticationRequired)
        }
    }

    /// The role among theirs that allows `action`.
    pub fn role_for<'p>(
        &self,
        services: &'p Services,
        action: StaffAction,
    ) -> AppResult<&'p RolePolicy> {
        Ok(services.staff_policy.acting_role(&self.roles, action)?)
    }

    /// Whether any of their roles allows `action` (for what a page shows).
    pub fn may(&self, services: &Services, action: StaffAction) -> bool {
        self.role_for(services, action).is_ok()
    }
}

/// Starts a session for a member of staff who just signed in with their
/// passkey; the cookie value, shown once.
pub async fn begin(services: &Services, staff_id: &str) -> AppResult<SecretString> {
    let now = services.now();
    let token = random_token()?;
    let mut conn = services.store.pool().acquire().await?;
    let member = staff::member(&mut conn, staff_id)
        .await?
        .filter(|m| m.disabled_at.is_none())
        .ok_or(AppError::Forbidden)?;
    staff::insert_session(
        &mut conn,
        &StaffSession {
            token_hash: sha256(token.expose().as_bytes()).to_vec(),
            staff_id: member.id,
            created_at: now,
            last_seen_at: now,
            reauth_at: now,
            expires_at: now + SESSION_ABSOLUTE_SECS,
            ended_at: None,
        },
    )
    .await?;
    Ok(token)
}

/// The member of staff a session cookie names, if the session is live (it
/// then counts as used now).
pub async fn actor(services: &Services, token: &str) -> AppResult<Option<StaffActor>> {
    let now = services.now();
    let mut conn = services.store.pool().acquire().await?;
    let hash = sha256(token.as_bytes());
    let Some(session) = staff::touch_session(&mut conn, &hash, now, SESSION_IDLE_SECS).await?
    else {
        return Ok(None);
    };
    let Some(member) = staff::member(&mut conn, &session.staff_id)
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
        member,
        roles,
        session,
        now,
    }))
}

/// Records a fresh passkey assertion on the actor's session.
pub async fn reauthenticated(services: &Services, actor: &StaffActor) -> AppResult<()> {
    let mut conn = services.store.pool().acquire().await?;
    if !staff::reauthenticated(&mut conn, &actor.session.token_hash, services.now()).await? {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

/// Ends the session a cookie names.
pub async fn end(services: &Services, token: &str) -> AppResult<()> {
    let mut conn = services.store.pool().acquire().await?;
    staff::end_session(&mut conn, &sha256(token.as_bytes()), services.now()).await?;
    Ok(())
}
