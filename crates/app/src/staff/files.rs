//! Opening a citizen's file, as the PIA's roles allow it and always on the
//! record.
//!
//! A file is found by its register id only: there is no search by name, no
//! listing and no export of citizen data for any role. The member of staff
//! states a purpose of their role and a reference (a ticket, complaint or
//! request number); they see the elements their role may `read`, get
//! "match" or "no match" for those it may only `verify`, and nothing else.
//! The access is written to the access register and to the citizen's ledger
//! history in one transaction before anything is shown; a look-up that
//! finds nobody is recorded too, so a loop over register ids shows, and
//! counts against the member's look-up rate.
use std::collections::BTreeMap;

use serde::Serialize;
use sqin_staff::limits::{LOOKUPS_PER_WINDOW, LOOKUP_WINDOW_SECS};
use sqin_staff::StaffAction;
use sqin_store::citizens::{self, Citizen};
use sqin_store::staff_access;

use super::{record_file_act, FileAct, StaffActor};
use crate::{AppError, AppResult, Services};

/// What a member of staff asks.
#[derive(Debug, Clone, Default)]
pub struct FileRequest {
    pub register_id: String,
    /// A purpose (PIA id) of the role.
    pub purpose: String,
    pub reference: String,
    /// Values the caller states, to check without seeing the stored ones:
    /// element id and value.
    pub verify: Vec<(String, String)>,
}

/// What the member of staff is shown.
#[derive(Debug, Clone, Serialize)]
pub struct FileView {
    pub register_id: String,
    pub role: String,
    /// Element id to value, for the elements the role may read.
    pub shown: BTreeMap<String, Option<String>>,
    /// Element id to whether the stated value matches.
    pub verified: BTreeMap<String, bool>,
    /// The elements the role may check (for the form).
    pub verifiable: Vec<String>,
}

/// The value of a citizen's element, for the elements a file holds.
pub(crate) fn element_value(c: &Citizen, element: &str) -> Option<Option<String>> {
    Some(match element {
        "citizen.id" => Some(c.id.clone()),
        "citizen.register_id" => Some(c.register_id.clone()),
        "citizen.given_name" => Some(c.given_name.clone()),
        "citizen.family_name" => Some(c.family_name.clone()),
        "citizen.birthdate" => Some(c.birthdate.clone()),
        "citizen.email" => c.email.clone(),
        "citizen.address" => c.address.clone(),
        "citizen.locale" => c.locale.clone(),
        "citizen.status" => Some(c.status.as_str().to_owned()),
        _ => return None,
    })
}

/// Refuses the look-up past the member's rate, and alerts the privacy
/// officer once per window.
async fn check_rate(
    tx: &mut sqin_store::Connection,
    actor: &StaffActor,
    now: i64,
) -> AppResult<()> {
    let since = now - LOOKUP_WINDOW_SECS;
    let made = staff_access::lookups_since(tx, &actor.member.id, since).await?;
    if made < LOOKUPS_PER_WINDOW {
        return Ok(());
    }
    Err(AppError::RateLimited {
        retry_after: LOOKUP_WINDOW_SECS,
    })
}

/// Opens a file for `actor`, as their role allows; records the access first.
pub async fn lookup(
    services: &Services,
    actor: &StaffActor,
    request: &FileRequest,
) -> AppResult<FileView> {
    let role = actor.role_for(services, StaffAction::FileLookup)?;
    lookup_as(services, actor, role, request).await
}

/// [`lookup`] in a given role of the actor's (the one whose work the
/// look-up serves, such as answering a correction request).
pub(crate) async fn lookup_as(
    services: &Services,
    actor: &StaffActor,
    role: &sqin_staff::RolePolicy,
    request: &FileRequest,
) -> AppResult<FileView> {
    let now = actor.now;
    if !actor.roles.contains(&role.id) {
        return Err(AppError::Forbidden);
    }
    services
        .staff_policy
        .check_lookup(role, &request.purpose, &request.reference)?;
    for (element, _) in &request.verify {
        if !role.verifiable.contains(element) && !role.readable.contains(element) {
            return Err(AppError::Forbidden);
        }
    }
    let register_id = request.register_id.trim();
    if register_id.is_empty() || register_id.len() > 100 {
        return Err(AppError::Refused(
            "give the register id of the file (1 to 100 characters)".into(),
        ));
    }
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    if let Err(limited) = check_rate(&mut tx, actor, now).await {
        tx.rollback().await?;
        alert_rate(services, actor, now).await?;
        return Err(limited);
    }
    let citizen = citizens::by_register_id(&mut tx, &services.register, register_id).await?;
    let mut shown = BTreeMap::new();
    let mut verified = BTreeMap::new();
    let mut seen = Vec::new();
    if let Some(citizen) = &citizen {
        for element in &role.readable {
            if let Some(value) = element_value(citizen, element) {
                shown.insert(element.clone(), value);
                seen.push(element.clone());
            }
        }
        for (element, stated) in &request.verify {
            let stored = element_value(citizen, element).ok_or(AppError::Forbidden)?;
            verified.insert(
                element.clone(),
                stored.as_deref().map(str::trim) == Some(stated.trim()),
            );
            seen.push(format!("{element} (checked)"));
        }
    }
    seen.push("citizen.register_id (checked)".into());
    record_file_act(
        &mut tx,
        services,
        FileAct {
            actor,
            role: &role.id,
            action: StaffAction::FileLookup.as_str(),
            purpose: &request.purpose,
            reference: &request.reference,
            register_id,
            citizen_id: citizen.as_ref().map(|c| c.id.as_str()),
            elements: seen,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    if citizen.is_none() {
        return Err(AppError::NotFound(
            "no match: no file has this register id (the look-up is recorded)".into(),
        ));
    }
    Ok(FileView {
        register_id: register_id.to_owned(),
        role: role.id.clone(),
        shown,
        verified,
        verifiable: role.verifiable.clone(),
    })
}

/// Raises a look-up-rate alert for the privacy officer, once per window
/// and member.
async fn alert_rate(services: &Services, actor: &StaffActor, now: i64) -> AppResult<()> {
    let mut conn = services.store.pool().acquire().await?;
    let open = staff_access::open_alerts(&mut conn).await?;
    let already = open.iter().any(|a| {
        a.staff_id == actor.member.id && a.kind == "lookup_rate" && now - a.at < LOOKUP_WINDOW_SECS
    });
    if !already {
        staff_access::raise_alert(
            &mut conn,
            now,
            &actor.member.id,
            &actor.member.badge,
            "lookup_rate",
            &format!(
                "{} reached {LOOKUPS_PER_WINDOW} look-ups within {} minutes; further look-ups are refused",
                actor.member.badge,
                LOOKUP_WINDOW_SECS / 60
            ),
        )
        .await?;
        tracing::warn!(badge = %actor.member.badge, "staff look-up rate exceeded: alert raised");
    }
    Ok(())
}
