//! The privacy officer's review of the staff access register: accesses
//! across citizens, filtered, each with its flags, and the alerts raised
//! when a member of staff ran into the look-up rate.
use serde::Serialize;
use sqin_staff::review::{flags, Flag, ReviewedAccess, WorkingHours};
use sqin_staff::StaffAction;
use sqin_store::staff_access::{self, AccessFilter, StaffAlert};

use super::{citizen_ref, StaffActor};
use crate::{AppError, AppResult, Services};

/// Most rows a review page shows.
pub const REVIEW_LIMIT: i64 = 2000;

/// What the privacy officer asks for.
#[derive(Debug, Clone, Default)]
pub struct ReviewFilter {
    /// A member of staff, by badge.
    pub badge: Option<String>,
    /// A citizen, by register id (matched through its keyed hash: the
    /// register holds no register id).
    pub register_id: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Only flagged accesses.
    pub flagged_only: bool,
}

/// One access as the review shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewRow {
    pub seq: i64,
    pub at: i64,
    pub badge: String,
    pub role: String,
    pub action: String,
    pub purpose: String,
    pub reference: String,
    pub elements: Vec<String>,
    /// The citizen's pseudonymous reference, shortened (the same citizen
    /// shows the same reference across rows).
    pub citizen: String,
    pub flags: Vec<&'static str>,
}

/// The accesses matching `filter`, with their flags.
pub async fn accesses(
    services: &Services,
    actor: &StaffActor,
    filter: &ReviewFilter,
) -> AppResult<Vec<ReviewRow>> {
    actor.role_for(services, StaffAction::AccessReview)?;
    let mut conn = services.store.pool().acquire().await?;
    let staff_id = match filter
        .badge
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        Some(badge) => Some(
            sqin_store::staff::member_by_badge(&mut conn, badge)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("no member of staff {badge}")))?
                .id,
        ),
        None => None,
    };
    let records = staff_access::list(
        &mut conn,
        &AccessFilter {
            staff_id,
            citizen_ref: filter
                .register_id
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(|r| citizen_ref(services, r)),
            from: filter.from,
            to: filter.to,
        },
        REVIEW_LIMIT,
    )
    .await?;
    let reviewed: Vec<ReviewedAccess> = records
        .iter()
        .map(|r| ReviewedAccess {
            seq: r.seq,
            at: r.at,
            staff_id: r.staff_id.clone(),
            action: r.action.clone(),
            citizen_ref: r.citizen_ref.clone(),
        })
        .collect();
    let flagged = flags(&reviewed, WorkingHours::default(), actor.now);
    Ok(records
        .into_iter()
        .zip(flagged)
        .filter(|(_, f)| !filter.flagged_only || !f.is_empty())
        .map(|(r, f)| ReviewRow {
            seq: r.seq,
            at: r.at,
            badge: r.badge,
            role: r.role,
            action: r.action,
            purpose: r.purpose,
            reference: r.reference,
            elements: r.elements,
            citizen: sqin_crypto::b64url(r.citizen_ref.get(..6).unwrap_or(&r.citizen_ref)),
            flags: f.iter().map(|x: &Flag| x.as_str()).collect(),
        })
        .collect())
}

/// Alerts not acknowledged yet.
pub async fn alerts(services: &Services, actor: &StaffActor) -> AppResult<Vec<StaffAlert>> {
    actor.role_for(services, StaffAction::AccessReview)?;
    let mut conn = services.store.pool().acquire().await?;
    Ok(staff_access::open_alerts(&mut conn).await?)
}

/// Acknowledges an alert.
pub async fn acknowledge(services: &Services, actor: &StaffActor, id: i64) -> AppResult<()> {
    actor.role_for(services, StaffAction::AccessReview)?;
    let mut conn = services.store.pool().acquire().await?;
    if !staff_access::acknowledge_alert(&mut conn, id, &actor.member.badge, actor.now).await? {
        return Err(AppError::NotFound("no open alert with this number".into()));
    }
    Ok(())
}
