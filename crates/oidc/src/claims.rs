//! The claim catalog: every identity claim sqin can release, and the scope
//! that carries it. This is the code's declaration of the personal data it
//! discloses, which the PIA inventory (`pia/`) must match.

/// A scope a relying party may be registered for and request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeDefinition {
    pub name: &'static str,
    /// Claims released under this scope (empty for protocol scopes).
    pub claims: &'static [&'static str],
}

/// sqin's scopes. `birthdate` is its own scope rather than part of `profile`
/// (where OIDC Core 5.4 lists it): a service that only needs a name should not
/// receive a date of birth by asking for the usual `profile`.
pub const SCOPES: &[ScopeDefinition] = &[
    ScopeDefinition {
        name: "openid",
        claims: &[],
    },
    ScopeDefinition {
        name: "profile",
        claims: &["name", "given_name", "family_name", "locale"],
    },
    ScopeDefinition {
        name: "birthdate",
        claims: &["birthdate"],
    },
    ScopeDefinition {
        name: "email",
        claims: &["email"],
    },
    ScopeDefinition {
        name: "address",
        claims: &["address"],
    },
    ScopeDefinition {
        name: "offline_access",
        claims: &[],
    },
];

pub fn scope(name: &str) -> Option<&'static ScopeDefinition> {
    SCOPES.iter().find(|s| s.name == name)
}

/// Every claim released under any scope, in catalog order.
pub fn all_claims() -> Vec<&'static str> {
    SCOPES
        .iter()
        .flat_map(|s| s.claims.iter().copied())
        .collect()
}
