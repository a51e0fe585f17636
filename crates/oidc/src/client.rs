//! Registration of relying parties (RPs) and the rules their metadata obeys.
use sqin_crypto::{b64url, random_bytes, random_token, SecretString};
use sqin_store::clients::{self, ClientRecord, ClientType};
pub use sqin_store::clients::{AuthMethod, SubjectType};
use sqin_store::Connection;
use url::{Host, Url};

use crate::{claims, OidcError};

/// What an operator declares when registering an RP.
#[derive(Debug, Clone, Default)]
pub struct ClientRegistration {
    /// A fixed id (the demo's); normally generated.
    pub client_id: Option<String>,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    /// The claims its purpose allows, when narrower than its scopes carry
    /// (each must be carried by one of its scopes); `None`: all of them.
    pub claims: Option<Vec<String>>,
    pub purpose: Option<String>,
    pub sector: Option<String>,
    pub public_client: bool,
    /// `client_secret_basic` (default for confidential clients),
    /// `client_secret_post` or `private_key_jwt`.
    pub auth_method: Option<AuthMethod>,
    /// JWK set (JSON) for `private_key_jwt`.
    pub jwks: Option<String>,
    pub public_subject: bool,
    pub backchannel_logout_uri: Option<String>,
}

/// A registered client, with its secret in clear exactly once.
#[derive(Debug)]
pub struct RegisteredClient {
    pub record: ClientRecord,
    pub client_secret: Option<SecretString>,
}

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

impl ClientRegistration {
    /// Validates the declaration and derives what follows from it (sector,
    /// auth method). Errors name the offending field.
    pub fn validate(self) -> Result<ClientRegistration, OidcError> {
        let bad = |m: String| OidcError::InvalidRegistration(m);
        let mut reg = self;
        reg.name = reg.name.trim().to_owned();
        if let Some(id) = &reg.client_id {
            if id.is_empty()
                || id.len() > 64
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
            {
                return Err(bad(format!(
                    "client_id {id:?} must be 1-64 letters, digits, '-' or '_'"
                )));
            }
        }
        if reg.name.is_empty() || reg.name.len() > 120 {
            return Err(bad("name is required (at most 120 characters)".into()));
        }
        if reg.redirect_uris.is_empty() {
            return Err(bad("at least one --redirect-uri is required".into()));
        }
        let mut hosts = Vec::new();
        for uri in &reg.redirect_uris {
            let url = validate_redirect_uri(uri).map_err(|m| bad(format!("redirect_uri {m}")))?;
            let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
        for uri in &reg.post_logout_redirect_uris {
            validate_redirect_uri(uri).map_err(|m| bad(format!("post_logout_redirect_uri {m}")))?;
        }
        if let Some(uri) = &reg.backchannel_logout_uri {
            validate_redirect_uri(uri).map_err(|m| bad(format!("backchannel_logout_uri {m}")))?;
        }
        // Scopes: known, no duplicates, openid always present.
        let mut scopes: Vec<String> = Vec::new();
        for s in reg.scopes.iter().flat_map(|s| s.split_whitespace()) {
            if claims::scope(s).is_none() {
                let known: Vec<_> = claims::SCOPES.iter().map(|d| d.name).collect();
                return Err(bad(format!(
                    "unknown scope {s:?}; known scopes: {}",
                    known.join(", ")
                )));
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
                    return Err(bad(format!(
                        "claim {c:?} is not carried by the scopes {} (they carry: {})",
                        reg.scopes.join(" "),
                        carried.join(", ")
                    )));
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
        reg.purpose = match reg.purpose.as_deref().map(str::trim) {
            Some(p) if !p.is_empty() => {
                if p.len() > 500 {
                    return Err(bad("purpose must be at most 500 characters".into()));
                }
                Some(p.to_owned())
            }
            _ => None,
        };
        // Pairwise sector (OIDC Core 8.1): the redirect URIs' host, or an
        // explicit sector when they span several hosts.
        reg.sector = match reg.sector.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => {
                if s.contains(char::is_whitespace) || s.len() > 253 {
                    return Err(bad(format!("sector {s:?} is not a host name")));
                }
                Some(s.to_ascii_lowercase())
            }
            _ => match hosts.as_slice() {
                [one] => Some(one.clone()),
                _ => {
                    return Err(bad(format!(
                        "redirect URIs span several hosts ({}); give --sector to say which sector they share",
                        hosts.join(", ")
                    )))
                }
            },
        };
        let method = if reg.public_client {
            if reg.auth_method.is_some_and(|m| m != AuthMethod::None) {
                return Err(bad("a public client has no client authentication".into()));
            }
            AuthMethod::None
        } else {
            match reg.auth_method.unwrap_or(AuthMethod::ClientSecretBasic) {
                AuthMethod::None => {
                    return Err(bad(
                        "a confidential client authenticates: use client_secret_basic, client_secret_post or private_key_jwt (or register a public client)".into(),
                    ))
                }
                m => m,
            }
        };
        if method == AuthMethod::PrivateKeyJwt {
            let jwks = reg
                .jwks
                .as_deref()
                .ok_or_else(|| bad("private_key_jwt needs the client's JWK set (--jwks)".into()))?;
            let parsed: serde_json::Value =
                serde_json::from_str(jwks).map_err(|e| bad(format!("jwks is not JSON: {e}")))?;
            let keys = parsed.get("keys").and_then(|k| k.as_array());
            if keys.is_none_or(|k| k.is_empty()) {
                return Err(bad("jwks must be a JWK set with at least one key".into()));
            }
        } else if reg.jwks.is_some() {
            return Err(bad("jwks is only used with private_key_jwt".into()));
        }
        reg.auth_method = Some(method);
        Ok(reg)
    }
}

/// A random client id (128 bits, base64url) that does not start with '-',
/// so that it is never taken for an option on a command line.
fn new_client_id() -> Result<String, OidcError> {
    loop {
        let id = b64url(&random_bytes::<16>()?);
        if !id.starts_with('-') {
            return Ok(id);
        }
    }
}

/// Registers an RP. A confidential client using a shared secret gets a
/// 256-bit random secret, returned once and stored only as its SHA-256.
pub async fn register(
    conn: &mut Connection,
    registration: ClientRegistration,
    now: i64,
) -> Result<RegisteredClient, OidcError> {
    let reg = registration.validate()?;
    let method = reg.auth_method.unwrap_or(AuthMethod::None);
    let client_secret = if method.uses_secret() {
        Some(random_token()?)
    } else {
        None
    };
    let record = ClientRecord {
        client_id: match reg.client_id {
            Some(id) => id,
            None => new_client_id()?,
        },
        purpose: reg
            .purpose
            .clone()
            .unwrap_or_else(|| format!("Sign in to {}", reg.name)),
        name: reg.name,
        client_type: if reg.public_client {
            ClientType::Public
        } else {
            ClientType::Confidential
        },
        secret_hash: client_secret.as_ref().map(|s| s.hash().0.to_vec()),
        token_endpoint_auth_method: method,
        redirect_uris: reg.redirect_uris,
        post_logout_redirect_uris: reg.post_logout_redirect_uris,
        scopes: reg.scopes,
        claims: reg.claims,
        sector: reg.sector.unwrap_or_default(),
        subject_type: if reg.public_subject {
            SubjectType::Public
        } else {
            SubjectType::Pairwise
        },
        jwks: reg.jwks,
        backchannel_logout_uri: reg.backchannel_logout_uri,
        created_at: now,
        updated_at: now,
    };
    clients::insert(conn, &record).await?;
    Ok(RegisteredClient {
        record,
        client_secret,
    })
}

/// Issues a new secret for a confidential client; the old one stops working
/// at once.
pub async fn rotate_secret(
    conn: &mut Connection,
    client_id: &str,
    now: i64,
) -> Result<SecretString, OidcError> {
    let client = clients::get(conn, client_id)
        .await?
        .ok_or(OidcError::UnknownClient)?;
    if !client.token_endpoint_auth_method.uses_secret() {
        return Err(OidcError::InvalidRegistration(format!(
            "client {client_id} authenticates with {} and has no secret to rotate",
            client.token_endpoint_auth_method.as_str()
        )));
    }
    let secret = random_token()?;
    clients::set_secret_hash(conn, client_id, &secret.hash().0, now).await?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        assert!(validate_redirect_uri("https://famille.example/cb").is_ok());
        assert!(validate_redirect_uri("http://127.0.0.1:9000/cb").is_ok());
        assert!(validate_redirect_uri("http://localhost:9000/cb").is_ok());
        assert!(validate_redirect_uri("http://[::1]/cb").is_ok());
        assert!(validate_redirect_uri("http://famille.example/cb").is_err());
        assert!(validate_redirect_uri("https://famille.example/cb#x").is_err());
        assert!(validate_redirect_uri("javascript:alert(1)").is_err());
        assert!(validate_redirect_uri("/relative").is_err());
        assert!(validate_redirect_uri("https://user:pw@famille.example/cb").is_err());
    }

    #[test]
    fn generated_client_ids_never_look_like_options() {
        for _ in 0..2000 {
            let id = new_client_id().unwrap();
            assert!(!id.starts_with('-'), "{id}");
            assert_eq!(id.len(), 22);
        }
    }

    #[test]
    fn sector_defaults_to_the_single_host() {
        let reg = ClientRegistration {
            name: "Famille".into(),
            redirect_uris: vec!["https://famille.example/cb".into()],
            scopes: vec!["profile birthdate".into()],
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(reg.sector.as_deref(), Some("famille.example"));
        assert_eq!(reg.scopes, vec!["openid", "profile", "birthdate"]);
        let err = ClientRegistration {
            name: "Two".into(),
            redirect_uris: vec!["https://a.example/cb".into(), "https://b.example/cb".into()],
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("--sector"));
        let err = ClientRegistration {
            name: "X".into(),
            redirect_uris: vec!["https://a.example/cb".into()],
            scopes: vec!["openid phone".into()],
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("unknown scope \"phone\""));
    }
}
