//! Staff access to a citizen's file, as the privacy impact assessment allows
//! it and always on the record.
//!
//! Who in the organisation may see what is not a promise here but the PIA's
//! `roles` table, read at start-up: a member of staff acting in a role sees
//! the elements that role may `read`, can only check the ones it may
//! `verify` (the caller states the value, the tool answers match or no
//! match), and sees nothing else. Before anything is shown, a `staff_access`
//! entry (who, role, stated purpose, which elements were seen or checked,
//! never values) is written to the consent ledger in the same transaction,
//! so the citizen's "Who looked at my file" is complete: no access without
//! its entry.
use std::collections::BTreeMap;

use serde::Serialize;
use sqin_ledger_service::LedgerEvent;
use sqin_pia::{AccessKind, RoleKind};
use sqin_store::citizens::{self, Citizen};

use crate::{AppError, AppResult, During, Services};

/// What a member of staff asks.
#[derive(Debug, Clone)]
pub struct LookupRequest {
    /// The register identifier the caller states.
    pub register_id: String,
    pub staff_id: String,
    /// A `[[role]]` of kind `staff` in the PIA.
    pub role: String,
    /// Why, in words; recorded.
    pub purpose: String,
    /// Values the caller states, to check without seeing the stored ones:
    /// element id (`citizen.birthdate`) and value.
    pub verify: Vec<(String, String)>,
}

/// What the member of staff is shown.
#[derive(Debug, Clone, Serialize)]
pub struct LookupResult {
    pub register_id: String,
    pub role: String,
    /// Element id to value, for the elements the role may read.
    pub shown: BTreeMap<String, Option<String>>,
    /// Element id to whether the stated value matches.
    pub verified: BTreeMap<String, bool>,
    /// The ledger entry that records the access.
    pub ledger_entry: String,
}

/// The value of a citizen's element, for the elements a file holds.
fn element_value(c: &Citizen, element: &str) -> Option<Option<String>> {
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

/// Looks a citizen's file up for a member of staff, as the PIA's roles
/// allow, and records the access first.
pub async fn lookup(
    services: &Services,
    request: &LookupRequest,
    now: i64,
) -> AppResult<LookupResult> {
    let pia = &services.pia.pia;
    let role = pia
        .inventory()
        .roles
        .iter()
        .find(|r| r.id == request.role)
        .ok_or_else(|| AppError::Refused(format!("the PIA has no role {:?}", request.role)))?;
    if role.kind != RoleKind::Staff {
        return Err(AppError::Refused(format!(
            "{} is not a staff role in the PIA ({}); only the personnel's roles look files up",
            role.id,
            role.kind.as_str()
        )));
    }
    let purpose = request.purpose.trim();
    if purpose.is_empty() || purpose.len() > 500 {
        return Err(AppError::Refused("state the purpose of the look-up (1 to 500 characters): it is recorded and shown to the citizen".into()));
    }
    let staff_id = request.staff_id.trim();
    if staff_id.is_empty() || staff_id.len() > 100 {
        return Err(AppError::Refused(
            "give the staff member's identifier (1 to 100 characters)".into(),
        ));
    }
    // What this role may do with each element of a file.
    let allowed = |element: &str, kind: AccessKind| {
        pia.element(element).is_some_and(|e| {
            e.roles
                .iter()
                .any(|a| a.role == role.id && a.access.contains(&kind))
        })
    };
    let readable: Vec<&str> = pia
        .inventory()
        .elements
        .iter()
        .map(|e| e.id.as_str())
        .filter(|id| id.starts_with("citizen.") && allowed(id, AccessKind::Read))
        .collect();
    for (element, _) in &request.verify {
        if !allowed(element, AccessKind::Verify) && !allowed(element, AccessKind::Read) {
            return Err(AppError::Refused(format!(
                "the role {} may not check {element}",
                role.id
            )));
        }
    }
    // Finding the file by the stated register id is itself a check of it.
    if !allowed("citizen.register_id", AccessKind::Verify)
        && !allowed("citizen.register_id", AccessKind::Read)
    {
        return Err(AppError::Refused(format!(
            "the role {} may not look a file up by register id",
            role.id
        )));
    }
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let citizen = citizens::by_register_id(&mut tx, request.register_id.trim())
        .await?
        .ok_or_else(|| AppError::NotFound("no match: no citizen has this register id".into()))?;
    let mut shown = BTreeMap::new();
    for element in &readable {
        if let Some(value) = element_value(&citizen, element) {
            shown.insert((*element).to_owned(), value);
        }
    }
    let mut verified = BTreeMap::new();
    for (element, stated) in &request.verify {
        let stored = element_value(&citizen, element).ok_or_else(|| {
            AppError::Refused(format!("{element} is not part of a citizen's file"))
        })?;
        verified.insert(
            element.clone(),
            stored.as_deref().map(str::trim) == Some(stated.trim()),
        );
    }
    let mut seen: Vec<String> = shown.keys().cloned().collect();
    seen.extend(verified.keys().map(|e| format!("{e} (checked)")));
    seen.push("citizen.register_id (checked)".into());
    let appended = sqin_ledger_service::append(
        &mut tx,
        &services.ledger,
        LedgerEvent::StaffAccess {
            citizen_id: citizen.id.clone(),
            staff_id: staff_id.to_owned(),
            role: role.id.clone(),
            purpose: purpose.to_owned(),
            seen,
        },
        now,
    )
    .await
    .during("recording the access in the ledger (nothing is shown without it)")?;
    tx.commit().await?;
    Ok(LookupResult {
        register_id: citizen.register_id,
        role: role.id.clone(),
        shown,
        verified,
        ledger_entry: appended.uid,
    })
}
