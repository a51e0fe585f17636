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

/// The claims a set of scopes carries, in catalog order, without duplicates.
pub fn claims_for_scopes<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Vec<&'static str> {
    let scopes: Vec<&str> = scopes.into_iter().collect();
    let mut out = Vec::new();
    for def in SCOPES {
        if scopes.contains(&def.name) {
            for c in def.claims {
                if !out.contains(c) {
                    out.push(*c);
                }
            }
        }
    }
    out
}

/// The values of `names` for a citizen, as OIDC Core 5.1 shapes them.
/// Absent optional values are omitted, never sent as null.
pub fn claim_values(
    citizen: &sqin_store::citizens::Citizen,
    names: &[String],
) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let mut out = serde_json::Map::new();
    for name in names {
        let value = match name.as_str() {
            "name" => Some(Value::from(format!(
                "{} {}",
                citizen.given_name, citizen.family_name
            ))),
            "given_name" => Some(Value::from(citizen.given_name.clone())),
            "family_name" => Some(Value::from(citizen.family_name.clone())),
            "birthdate" => Some(Value::from(citizen.birthdate.clone())),
            "locale" => citizen.locale.clone().map(Value::from),
            "email" => citizen.email.clone().map(Value::from),
            "address" => citizen
                .address
                .clone()
                .map(|a| serde_json::json!({ "formatted": a })),
            _ => None,
        };
        if let Some(v) = value {
            out.insert(name.clone(), v);
        }
    }
    out
}

/// Claims requested through the `claims` parameter (OIDC Core 5.5) for one
/// target (`id_token` or `userinfo`): (name, essential).
pub fn requested_claims(claims_param: Option<&str>, target: &str) -> Vec<(String, bool)> {
    let Some(text) = claims_param else {
        return Vec::new();
    };
    let Ok(serde_json::Value::Object(root)) = serde_json::from_str(text) else {
        return Vec::new();
    };
    let Some(serde_json::Value::Object(section)) = root.get(target) else {
        return Vec::new();
    };
    section
        .iter()
        .map(|(name, spec)| {
            let essential = spec
                .get("essential")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false);
            (name.clone(), essential)
        })
        .collect()
}
