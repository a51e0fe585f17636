//! The comparison between the PIA and what the code declares.
//!
//! The server builds a [`CodeDeclarations`] from its claim catalog and the
//! list of columns that hold personal information, and fails CI on any
//! [`Mismatch`]. Each direction matters: a claim the code can release that the
//! PIA does not declare is an undeclared disclosure; a claim the PIA declares
//! that the code cannot release means the PIA describes a system that does not
//! exist. A planned element may be missing from the code until it lands, but
//! once the code stores or releases it, it is no longer planned: saying so
//! would exempt it from the check. Where the code says it keeps each element
//! is compared with the PIA's `storage`.
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::model::Inventory;

/// What the code says about personal information.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeDeclarations {
    /// Every claim the code can release.
    pub claims: Vec<String>,
    /// Every scope with the claims it releases. Scopes that carry no claims
    /// (`openid`, `offline_access`) may be listed or left out: only scopes
    /// that carry claims are compared.
    pub scopes: Vec<(String, Vec<String>)>,
    /// Ids of the elements the code persists (`citizen.email`, ...).
    pub stored_elements: Vec<String>,
    /// Where the code keeps them: `(element, location)`, a location being
    /// `table.column` or `table.*` (a whole row), as `sqin_store::PERSONAL_DATA`
    /// declares them. An element may be in several places; the PIA's
    /// `storage` must be one of them (`ledger` is any `ledger_*` table). An
    /// element with no location listed here is not compared.
    pub storage: Vec<(String, String)>,
    /// Each kind of consent-ledger entry with a personal part, and the
    /// element whose retention the code enforces on it: `(kind, element)`.
    pub ledger_kinds: Vec<(String, String)>,
    /// Every action of the staff plane (`file.lookup`, ...): each must be
    /// granted to at least one staff role, and a role may be granted only
    /// these.
    pub staff_actions: Vec<String>,
}

/// One disagreement between the code and the PIA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The code can release a claim no PIA element discloses.
    ClaimNotInPia { claim: String },
    /// A PIA element is disclosed as a claim the code cannot release.
    ClaimNotInCode { claim: String, element: String },
    /// The code has a scope carrying claims that the PIA does not list.
    ScopeNotInPia { scope: String, claims: Vec<String> },
    /// The PIA lists a scope carrying claims that the code does not have.
    ScopeNotInCode { scope: String },
    /// The scope exists on both sides with different claims.
    ScopeClaimsDiffer {
        scope: String,
        code: Vec<String>,
        pia: Vec<String>,
    },
    /// The code stores an element the PIA does not declare.
    ElementNotInPia { element: String },
    /// The code stores an element the PIA says is held only in memory or
    /// derived on demand.
    ElementStoredContraryToPia { element: String, storage: String },
    /// The PIA says an element is stored; the code does not declare it.
    ElementNotInCode { element: String, storage: String },
    /// The PIA keeps an element somewhere the code does not.
    StorageDiffers {
        element: String,
        pia: String,
        code: Vec<String>,
    },
    /// The code stores an element the PIA marks planned.
    PlannedButStored { element: String },
    /// The code releases a claim whose element the PIA marks planned.
    PlannedButReleased { claim: String, element: String },
    /// A ledger entry kind's element is missing, planned, or not kept in the
    /// ledger.
    LedgerKindNotInPia { kind: String, element: String },
    /// A role is granted an action the staff plane does not have.
    ActionNotInCode { role: String, action: String },
    /// The staff plane has an action no role is granted.
    ActionNotInPia { action: String },
    /// A ledger entry kind's element has no fixed retention the purge can
    /// enforce (a condition, or zero).
    LedgerRetentionNotFixed {
        kind: String,
        element: String,
        retention: String,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::ClaimNotInPia { claim } => write!(
                f,
                "the code can release claim `{claim}` but no element of pia/inventory.toml has disclosed_as_claim = \"{claim}\""
            ),
            Mismatch::ClaimNotInCode { claim, element } => write!(
                f,
                "pia/inventory.toml discloses element `{element}` as claim `{claim}`, which the code cannot release"
            ),
            Mismatch::ScopeNotInPia { scope, claims } => write!(
                f,
                "the code has scope `{scope}` releasing {} but pia/inventory.toml has no [[scope]] `{scope}`",
                claims.join(", ")
            ),
            Mismatch::ScopeNotInCode { scope } => write!(
                f,
                "pia/inventory.toml lists scope `{scope}`, which the code does not have"
            ),
            Mismatch::ScopeClaimsDiffer { scope, code, pia } => write!(
                f,
                "scope `{scope}` releases [{}] in the code but [{}] in pia/inventory.toml",
                code.join(", "),
                pia.join(", ")
            ),
            Mismatch::ElementNotInPia { element } => write!(
                f,
                "the code stores `{element}` but pia/inventory.toml has no such element"
            ),
            Mismatch::ElementStoredContraryToPia { element, storage } => write!(
                f,
                "the code stores `{element}` but pia/inventory.toml says storage = \"{storage}\" (not persisted)"
            ),
            Mismatch::ElementNotInCode { element, storage } => write!(
                f,
                "pia/inventory.toml says `{element}` is stored in {storage}, but the code does not declare it (mark it planned if it has not landed)"
            ),
            Mismatch::StorageDiffers { element, pia, code } => write!(
                f,
                "pia/inventory.toml says `{element}` is kept in storage = \"{pia}\", but the code keeps it in {}",
                code.join(", ")
            ),
            Mismatch::PlannedButStored { element } => write!(
                f,
                "the code stores `{element}` but pia/inventory.toml marks it planned: it has landed, so remove `planned` and let the check see it"
            ),
            Mismatch::PlannedButReleased { claim, element } => write!(
                f,
                "the code releases claim `{claim}` but pia/inventory.toml marks its element `{element}` planned: it has landed, so remove `planned`"
            ),
            Mismatch::LedgerKindNotInPia { kind, element } => write!(
                f,
                "the ledger writes `{kind}` entries under element `{element}`, which pia/inventory.toml lacks, marks planned, or does not keep in storage = \"ledger\""
            ),
            Mismatch::ActionNotInCode { role, action } => write!(
                f,
                "pia/inventory.toml grants role `{role}` the action `{action}`, which the staff plane does not have"
            ),
            Mismatch::ActionNotInPia { action } => write!(
                f,
                "the staff plane has the action `{action}` but no staff role of pia/inventory.toml is granted it"
            ),
            Mismatch::LedgerRetentionNotFixed {
                kind,
                element,
                retention,
            } => write!(
                f,
                "the ledger purges `{kind}` entries by the retention of `{element}`, but pia/inventory.toml gives it retention = \"{retention}\"; it needs a plain duration such as \"P5Y\""
            ),
        }
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let set: BTreeSet<&String> = v.iter().collect();
    set.into_iter().cloned().collect()
}

/// Whether the PIA's `storage` names a place where the code keeps the
/// element: the same `table.column`, a column of a row the code keeps whole
/// (`table.*`) or the reverse, or `ledger` for a table of the ledger.
fn location_matches(pia: &str, code: &str) -> bool {
    let Some((code_table, code_column)) = code.split_once('.') else {
        return pia == code;
    };
    if pia == "ledger" {
        return code_table.starts_with("ledger_");
    }
    match pia.split_once('.') {
        Some((table, column)) => {
            table == code_table && (column == code_column || column == "*" || code_column == "*")
        }
        None => false,
    }
}

pub(crate) fn check(inv: &Inventory, declared: &CodeDeclarations) -> Vec<Mismatch> {
    let mut out = Vec::new();

    // Claims, both directions. The code's releasable claims are its claim
    // list plus whatever its scopes carry.
    let mut code_claims: BTreeSet<&str> = declared.claims.iter().map(String::as_str).collect();
    for (_, claims) in &declared.scopes {
        code_claims.extend(claims.iter().map(String::as_str));
    }
    let mut pia_claims: BTreeMap<&str, (&str, bool)> = BTreeMap::new();
    for e in &inv.elements {
        if let Some(c) = &e.disclosed_as_claim {
            pia_claims.insert(c.as_str(), (e.id.as_str(), e.planned));
        }
    }
    for claim in &code_claims {
        if !pia_claims.contains_key(claim) {
            out.push(Mismatch::ClaimNotInPia {
                claim: (*claim).to_owned(),
            });
        }
    }
    for (claim, (element, planned)) in &pia_claims {
        if !planned && !code_claims.contains(claim) {
            out.push(Mismatch::ClaimNotInCode {
                claim: (*claim).to_owned(),
                element: (*element).to_owned(),
            });
        }
        if *planned && code_claims.contains(claim) {
            out.push(Mismatch::PlannedButReleased {
                claim: (*claim).to_owned(),
                element: (*element).to_owned(),
            });
        }
    }

    // Scopes that carry claims, both directions.
    let code_scopes: BTreeMap<&str, Vec<String>> = declared
        .scopes
        .iter()
        .filter(|(_, c)| !c.is_empty())
        .map(|(s, c)| (s.as_str(), sorted(c)))
        .collect();
    let pia_scopes: BTreeMap<&str, Vec<String>> = inv
        .scopes
        .iter()
        .filter(|s| !s.claims.is_empty())
        .map(|s| (s.name.as_str(), sorted(&s.claims)))
        .collect();
    for (scope, claims) in &code_scopes {
        match pia_scopes.get(scope) {
            None => out.push(Mismatch::ScopeNotInPia {
                scope: (*scope).to_owned(),
                claims: claims.clone(),
            }),
            Some(pia) if pia != claims => out.push(Mismatch::ScopeClaimsDiffer {
                scope: (*scope).to_owned(),
                code: claims.clone(),
                pia: pia.clone(),
            }),
            Some(_) => {}
        }
    }
    for scope in pia_scopes.keys() {
        if !code_scopes.contains_key(scope) {
            out.push(Mismatch::ScopeNotInCode {
                scope: (*scope).to_owned(),
            });
        }
    }

    // Stored elements, both directions; a planned element may be missing
    // from the code, never stored by it.
    let stored: BTreeSet<&str> = declared
        .stored_elements
        .iter()
        .map(String::as_str)
        .collect();
    for id in &stored {
        match inv.elements.iter().find(|e| e.id == *id) {
            None => out.push(Mismatch::ElementNotInPia {
                element: (*id).to_owned(),
            }),
            Some(e) if e.planned => out.push(Mismatch::PlannedButStored {
                element: e.id.clone(),
            }),
            Some(e) if !e.is_stored() => out.push(Mismatch::ElementStoredContraryToPia {
                element: e.id.clone(),
                storage: e.storage.clone(),
            }),
            Some(e) => {
                let places: Vec<String> = sorted(
                    &declared
                        .storage
                        .iter()
                        .filter(|(id, _)| *id == e.id)
                        .map(|(_, at)| at.clone())
                        .collect::<Vec<_>>(),
                );
                if !places.is_empty() && !places.iter().any(|p| location_matches(&e.storage, p)) {
                    out.push(Mismatch::StorageDiffers {
                        element: e.id.clone(),
                        pia: e.storage.clone(),
                        code: places,
                    });
                }
            }
        }
    }
    for e in &inv.elements {
        if !e.planned && e.is_stored() && !stored.contains(e.id.as_str()) {
            out.push(Mismatch::ElementNotInCode {
                element: e.id.clone(),
                storage: e.storage.clone(),
            });
        }
    }

    // Ledger entry kinds: the element exists, is in the ledger, and has a
    // retention the purge can enforce.
    let code_actions: BTreeSet<&str> = declared.staff_actions.iter().map(String::as_str).collect();
    let mut granted: BTreeSet<&str> = BTreeSet::new();
    for role in &inv.roles {
        for action in &role.actions {
            granted.insert(action.as_str());
            if !code_actions.contains(action.as_str()) {
                out.push(Mismatch::ActionNotInCode {
                    role: role.id.clone(),
                    action: action.clone(),
                });
            }
        }
    }
    for action in &code_actions {
        if !granted.contains(action) {
            out.push(Mismatch::ActionNotInPia {
                action: (*action).to_owned(),
            });
        }
    }
    for (kind, element) in &declared.ledger_kinds {
        match inv.elements.iter().find(|e| e.id == *element) {
            Some(e) if !e.planned && e.storage == "ledger" => {
                let fixed = e
                    .retention
                    .parse::<crate::Retention>()
                    .ok()
                    .and_then(|r| r.fixed_days());
                if fixed.is_none() {
                    out.push(Mismatch::LedgerRetentionNotFixed {
                        kind: kind.clone(),
                        element: element.clone(),
                        retention: e.retention.clone(),
                    });
                }
            }
            _ => out.push(Mismatch::LedgerKindNotInPia {
                kind: kind.clone(),
                element: element.clone(),
            }),
        }
    }
    out
}
