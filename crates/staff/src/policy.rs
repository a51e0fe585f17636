//! What each staff role of the adopted PIA allows, as a table the server
//! asks on every request.
use std::collections::{BTreeMap, BTreeSet};

use sqin_pia::{AccessKind, Pia, RoleKind};

use crate::{StaffAction, StaffError};

/// One staff role's rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolePolicy {
    pub id: String,
    pub name: String,
    pub actions: BTreeSet<StaffAction>,
    /// Purposes (PIA ids) it may state to open a file.
    pub lookup_purposes: Vec<String>,
    /// Roles it may grant.
    pub may_grant: BTreeSet<String>,
    /// Elements of a citizen's file it may see in clear.
    pub readable: Vec<String>,
    /// Elements it may only check a stated value against.
    pub verifiable: Vec<String>,
}

impl RolePolicy {
    pub fn may(&self, action: StaffAction) -> bool {
        self.actions.contains(&action)
    }

    /// Checks that this role may take `action`.
    pub fn require(&self, action: StaffAction) -> Result<(), StaffError> {
        if self.may(action) {
            Ok(())
        } else {
            Err(StaffError::Forbidden)
        }
    }
}

/// Every staff role's rights, from the PIA.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffPolicy {
    roles: BTreeMap<String, RolePolicy>,
}

impl StaffPolicy {
    /// The policy the PIA sets. Actions the code does not know are left out
    /// (the PIA check at start-up refuses such an inventory anyway).
    pub fn from_pia(pia: &Pia) -> Self {
        let inventory = pia.inventory();
        let mut roles = BTreeMap::new();
        for role in inventory.roles.iter().filter(|r| r.kind == RoleKind::Staff) {
            let may = |kind: AccessKind| -> Vec<String> {
                inventory
                    .elements
                    .iter()
                    .filter(|e| e.id.starts_with("citizen.") && !e.planned)
                    .filter(|e| {
                        e.roles
                            .iter()
                            .any(|a| a.role == role.id && a.access.contains(&kind))
                    })
                    .map(|e| e.id.clone())
                    .collect()
            };
            let readable = may(AccessKind::Read);
            let verifiable = may(AccessKind::Verify)
                .into_iter()
                .filter(|e| !readable.contains(e))
                .collect();
            roles.insert(
                role.id.clone(),
                RolePolicy {
                    id: role.id.clone(),
                    name: role.name.clone(),
                    actions: role
                        .actions
                        .iter()
                        .filter_map(|a| StaffAction::parse(a))
                        .collect(),
                    lookup_purposes: role.lookup_purposes.clone(),
                    may_grant: role.may_grant.iter().cloned().collect(),
                    readable,
                    verifiable,
                },
            );
        }
        Self { roles }
    }

    /// Adds (or replaces) a role: for tests and tools that build a policy
    /// without a PIA file.
    pub fn insert(&mut self, role: RolePolicy) {
        self.roles.insert(role.id.clone(), role);
    }

    /// The staff role `id`, if the PIA has one.
    pub fn role(&self, id: &str) -> Option<&RolePolicy> {
        self.roles.get(id)
    }

    /// Every staff role.
    pub fn roles(&self) -> impl Iterator<Item = &RolePolicy> {
        self.roles.values()
    }

    /// The role among `held` that allows `action`, preferring the first
    /// listed; `Forbidden` if none does.
    pub fn acting_role<'a>(
        &'a self,
        held: &[String],
        action: StaffAction,
    ) -> Result<&'a RolePolicy, StaffError> {
        held.iter()
            .filter_map(|r| self.role(r))
            .find(|r| r.may(action))
            .ok_or(StaffError::Forbidden)
    }

    /// Checks a file look-up's stated purpose and reference: the purpose is
    /// one the role may state, and the reference (a ticket, complaint or
    /// request number) is given. Free text alone is never a purpose.
    pub fn check_lookup(
        &self,
        role: &RolePolicy,
        purpose: &str,
        reference: &str,
    ) -> Result<(), StaffError> {
        role.require(StaffAction::FileLookup)?;
        if !role.lookup_purposes.iter().any(|p| p == purpose) {
            return Err(StaffError::Invalid(format!(
                "choose the purpose of the look-up among those of your role ({})",
                role.lookup_purposes.join(", ")
            )));
        }
        check_reference(reference)?;
        Ok(())
    }
}

/// A reference is a file, ticket, complaint or request number: 3 to 64
/// letters, digits and `-_/.#`, with at least one digit.
pub fn check_reference(reference: &str) -> Result<(), StaffError> {
    let r = reference.trim();
    let shaped = (3..=64).contains(&r.len())
        && r.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_/.#".contains(&b))
        && r.bytes().any(|b| b.is_ascii_digit());
    if shaped {
        Ok(())
    } else {
        Err(StaffError::Invalid(
            "give the reference of the ticket, complaint or request (3 to 64 letters and digits, with a number)".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_numbers_not_prose() {
        assert!(check_reference("T-2026-0042").is_ok());
        assert!(check_reference("20261123-K7Q2ZD").is_ok());
        assert!(check_reference(".").is_err());
        assert!(check_reference("funding").is_err());
        assert!(check_reference("for a funding application").is_err());
        assert!(check_reference("x1").is_err());
    }
}
