//! The rules any registration obeys, whatever its PIA entry: URIs that
//! cannot leak codes, known scopes, claims its scopes carry, a sector, an
//! authentication method that fits the kind of client. Each refusal names
//! the field (RFC 7591 metadata names).
use url::{Host, Url};

use sqin_store::clients::ClientType;

use super::{id_token_algs_allowed, AuthMethod, ClientRegistration, SigningAlg};
use crate::{claims, OidcError};

/// A redirect URI must be absolute, without fragment, and use https, except
/// plain http to a loopback host (native apps and local development, RFC 8252
/// 7.3). Anything else would let a network attacker read authorization codes.
pub fn validate_redirect_uri(uri: &str) -> Result<Url, String> {
    let url = Url::parse(uri).map_err(|e| format!("{uri:?} is not an absolute URI: {e}"))?;
    if url.fragment().is_some() {
        return Err(format!("{uri:?} must not contain a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{uri:?} must not contain credentials"));
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "{uri:?} uses plain http on a non-loopback host; use https (http is allowed only for 127.0.0.1, [::1] or localhost)"
        )),
        other => Err(format!("{uri:?} uses scheme {other:?}; only https is allowed")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn bad(field: &'static str, message: impl Into<String>) -> OidcError {
    OidcError::InvalidMetadata {
        field,
        message: message.into(),
    }
}

/// A trimmed, bounded text, or `None` when empty.
fn text(
    field: &'static str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, OidcError> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => {
            if v.chars().count() > max || v.chars().any(char::is_control) {
                return Err(bad(
                    field,
                    format!("must be at most {max} characters, without control characters"),
                ));
            }
            Ok(Some(v.to_owned()))
        }
        _ => Ok(None),
    }
}

impl ClientRegistration {
    /// Validates the declaration and derives what follows from it (sector,
    /// auth method, canonical scopes and claims).
    pub fn validate(self) -> Result<ClientRegistration, OidcError> {
        let mut reg = self;
        if let Some(id) = &reg.client_id {
            if id.is_empty()
                || id.len() > 64
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
            {
                return Err(bad(
                    "client_id",
                    format!("{id:?} must be 1-64 letters, digits, '-' or '_'"),
                ));
            }
        }
        reg.name = text("client_name", Some(reg.name), 120)?
            .ok_or_else(|| bad("client_name", "is required (at most 120 characters)"))?;
        reg.name_fr = text("client_name#fr", reg.name_fr, 120)?;
        if reg.redirect_uris.is_empty() {
            return Err(bad(
                "redirect_uris",
                "at least one redirect URI is required",
            ));
        }
        let mut hosts = Vec::new();
        for uri in &reg.redirect_uris {
            let url = validate_redirect_uri(uri).map_err(|m| bad("redirect_uris", m))?;
            let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
        for uri in &reg.post_logout_redirect_uris {
            validate_redirect_uri(uri).map_err(|m| bad("post_logout_redirect_uris", m))?;
        }
        if let Some(uri) = &reg.backchannel_logout_uri {
            validate_redirect_uri(uri).map_err(|m| bad("backchannel_logout_uri", m))?;
        }
        // Scopes: known, no duplicates, openid always present.
        let mut scopes: Vec<String> = Vec::new();
        for s in reg.scopes.iter().flat_map(|s| s.split_whitespace()) {
            if claims::scope(s).is_none() {
                let known: Vec<_> = claims::SCOPES.iter().map(|d| d.name).collect();
                return Err(bad(
                    "scope",
                    format!("unknown scope {s:?}; known scopes: {}", known.join(", ")),
                ));
            }
            if !scopes.iter().any(|x| x == s) {
                scopes.push(s.to_owned());
            }
        }
        if !scopes.iter().any(|s| s == "openid") {
            scopes.insert(0, "openid".into());
        }
        reg.scopes = scopes;
        if let Some(wanted) = &reg.claims {
            let carried = claims::claims_for_scopes(reg.scopes.iter().map(String::as_str));
            let mut narrowed: Vec<String> = Vec::new();
            for c in wanted.iter().flat_map(|c| c.split_whitespace()) {
                if !carried.contains(&c) {
                    return Err(bad(
                        "claims",
                        format!(
                            "claim {c:?} is not carried by the scopes {} (they carry: {})",
                            reg.scopes.join(" "),
                            carried.join(", ")
                        ),
                    ));
                }
                if !narrowed.iter().any(|x| x == c) {
                    narrowed.push(c.to_owned());
                }
            }
            // Catalog order, so that comparisons are stable.
            let catalog = claims::all_claims();
            narrowed.sort_by_key(|c| catalog.iter().position(|x| x == c).unwrap_or(usize::MAX));
            reg.claims = Some(narrowed);
        }
        reg.purpose = text("purpose", reg.purpose, 500)?;
        reg.purpose_fr = text("purpose#fr", reg.purpose_fr, 500)?;
        // Pairwise sector (OIDC Core 8.1): the redirect URIs' host, or an
        // explicit sector when they span several hosts.
        reg.sector = match reg.sector.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => {
                if s.contains(char::is_whitespace) || s.contains('/') || s.len() > 253 {
                    return Err(bad(
                        "sector_identifier",
                        format!("{s:?} is not a host name"),
                    ));
                }
                Some(s.to_ascii_lowercase())
            }
            _ => match hosts.as_slice() {
                [one] => Some(one.clone()),
                _ => {
                    return Err(bad(
                        "sector_identifier",
                        format!(
                            "redirect URIs span several hosts ({}); say which sector they share",
                            hosts.join(", ")
                        ),
                    ))
                }
            },
        };
        let method = if reg.public_client {
            if reg.auth_method.is_some_and(|m| m != AuthMethod::None) {
                return Err(bad(
                    "token_endpoint_auth_method",
                    "a public client has no client authentication",
                ));
            }
            AuthMethod::None
        } else {
            match reg.auth_method.unwrap_or(AuthMethod::ClientSecretBasic) {
                AuthMethod::None => {
                    return Err(bad(
                        "token_endpoint_auth_method",
                        "a confidential client authenticates: use client_secret_basic, client_secret_post or private_key_jwt (or register a public client)",
                    ))
                }
                m => m,
            }
        };
        if method == AuthMethod::PrivateKeyJwt {
            match (&reg.jwks, &reg.jwks_uri) {
                (Some(_), Some(_)) => {
                    return Err(bad("jwks", "give jwks or jwks_uri, not both (RFC 7591 2)"))
                }
                (None, None) => {
                    return Err(bad(
                        "jwks_uri",
                        "private_key_jwt needs the client's keys: jwks_uri (preferred) or jwks",
                    ))
                }
                (Some(jwks), None) => {
                    let parsed: serde_json::Value = serde_json::from_str(jwks)
                        .map_err(|e| bad("jwks", format!("is not JSON: {e}")))?;
                    let keys = parsed.get("keys").and_then(|k| k.as_array());
                    if keys.is_none_or(|k| k.is_empty()) {
                        return Err(bad("jwks", "must be a JWK set with at least one key"));
                    }
                }
                (None, Some(uri)) => {
                    let url = Url::parse(uri)
                        .map_err(|e| bad("jwks_uri", format!("{uri:?} is not a URL: {e}")))?;
                    if url.scheme() != "https" || url.host().is_none() || url.fragment().is_some() {
                        return Err(bad("jwks_uri", format!("{uri:?} must be an https URL")));
                    }
                }
            }
        } else if reg.jwks.is_some() || reg.jwks_uri.is_some() {
            return Err(bad(
                "jwks",
                "client keys are only used with private_key_jwt",
            ));
        }
        reg.auth_method = Some(method);
        let client_type = if reg.public_client {
            ClientType::Public
        } else {
            ClientType::Confidential
        };
        let alg = reg
            .id_token_signed_response_alg
            .unwrap_or(SigningAlg::Es256);
        let allowed = id_token_algs_allowed(client_type);
        if !allowed.contains(&alg) {
            return Err(bad(
                "id_token_signed_response_alg",
                format!(
                    "{alg} is not allowed for a {} client (allowed: {})",
                    client_type.as_str(),
                    allowed
                        .iter()
                        .map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        reg.id_token_signed_response_alg = Some(alg);
        Ok(reg)
    }
}
