//! Client authentication at the token, revocation and introspection endpoints
//! (RFC 6749 2.3, OIDC Core 9, RFC 7523): `client_secret_basic`,
//! `client_secret_post`, `private_key_jwt`, and `none` for public clients.
//! A client must use the method it registered; secrets are checked by a
//! constant-time comparison of SHA-256 hashes.
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

/// Clock skew tolerated on a client assertion's `exp` and `nbf`.
const ASSERTION_LEEWAY_SECS: i64 = 30;
use sqin_crypto::HashedSecret;
use std::sync::Arc;

use sqin_store::clients::{AuthMethod, ClientRecord, ClientStatus, ClientType};
use sqin_store::{grants, LazyConnection};

use crate::error::OAuthError;
use crate::provider::Provider;

pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The credentials a request carried, as the HTTP edge extracted them.
#[derive(Debug, Default, Clone)]
pub struct PresentedCredentials {
    /// From `Authorization: Basic` (already form-url-decoded).
    pub basic: Option<(String, String)>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

/// The RFC 6749 5.2 error, remembering whether the client tried HTTP Basic
/// (then the response must be 401 with `WWW-Authenticate: Basic`).
#[derive(Debug)]
pub struct ClientAuthError {
    pub error: OAuthError,
    pub used_basic: bool,
}

impl From<OAuthError> for ClientAuthError {
    fn from(error: OAuthError) -> Self {
        Self {
            error,
            used_basic: false,
        }
    }
}

/// Fetches a client by id, through the provider's short-lived cache.
async fn load(
    conn: &mut LazyConnection,
    provider: &Provider,
    id: &str,
    now: i64,
) -> Result<Arc<ClientRecord>, OAuthError> {
    provider
        .clients
        .get(conn, id, now)
        .await?
        .ok_or_else(|| OAuthError::invalid_client("client authentication failed"))
}

/// Authenticates the client, which must be active: a client awaiting a
/// privacy officer's approval, or suspended, gets no token, no
/// introspection and no revocation, whatever credentials it holds.
pub async fn authenticate(
    conn: &mut LazyConnection,
    provider: &Provider,
    creds: &PresentedCredentials,
    now: i64,
) -> Result<Arc<ClientRecord>, ClientAuthError> {
    let client = authenticate_any(conn, provider, creds, now).await?;
    match client.status {
        ClientStatus::Active => Ok(client),
        ClientStatus::Pending => Err(ClientAuthError {
            error: OAuthError::invalid_client(
                "this client awaits a privacy officer's approval and cannot be used yet",
            ),
            used_basic: creds.basic.is_some(),
        }),
        ClientStatus::Suspended => Err(ClientAuthError {
            error: OAuthError::invalid_client("this client is suspended"),
            used_basic: creds.basic.is_some(),
        }),
    }
}

async fn authenticate_any(
    conn: &mut LazyConnection,
    provider: &Provider,
    creds: &PresentedCredentials,
    now: i64,
) -> Result<Arc<ClientRecord>, ClientAuthError> {
    let used_basic = creds.basic.is_some();
    let fail = |d: &str| ClientAuthError {
        error: OAuthError::invalid_client(d),
        used_basic,
    };
    let methods = [
        creds.basic.is_some(),
        creds.client_secret.is_some(),
        creds.client_assertion.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if methods > 1 {
        return Err(ClientAuthError {
            error: OAuthError::invalid_request("use exactly one client authentication method"),
            used_basic,
        });
    }
    if let Some((id, secret)) = &creds.basic {
        if creds.client_id.as_ref().is_some_and(|c| c != id) {
            return Err(ClientAuthError {
                error: OAuthError::invalid_request(
                    "client_id does not match the Authorization header",
                ),
                used_basic,
            });
        }
        let client = load(conn, provider, id, now)
            .await
            .map_err(|e| ClientAuthError {
                error: e,
                used_basic,
            })?;
        return check_secret(client, AuthMethod::ClientSecretBasic, secret)
            .map_err(|_| fail("client authentication failed"));
    }
    if let Some(secret) = &creds.client_secret {
        let id = creds
            .client_id
            .as_deref()
            .ok_or_else(|| fail("client_id is missing"))?;
        let client = load(conn, provider, id, now).await?;
        return check_secret(client, AuthMethod::ClientSecretPost, secret)
            .map_err(|_| fail("client authentication failed"));
    }
    if let Some(assertion) = &creds.client_assertion {
        if creds.client_assertion_type.as_deref() != Some(ASSERTION_TYPE) {
            return Err(ClientAuthError::from(OAuthError::invalid_request(
                "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )));
        }
        return verify_assertion(conn, provider, creds.client_id.as_deref(), assertion, now)
            .await
            .map_err(ClientAuthError::from);
    }
    // No credentials: only a public client, identified by client_id.
    let id = creds
        .client_id
        .as_deref()
        .ok_or_else(|| fail("client authentication is required"))?;
    let client = load(conn, provider, id, now).await?;
    if client.client_type != ClientType::Public {
        return Err(fail("this client must authenticate"));
    }
    Ok(client)
}

fn check_secret(
    client: Arc<ClientRecord>,
    method: AuthMethod,
    secret: &str,
) -> Result<Arc<ClientRecord>, ()> {
    if client.token_endpoint_auth_method != method {
        return Err(());
    }
    let hash = client
        .secret_hash
        .as_deref()
        .and_then(HashedSecret::from_slice)
        .ok_or(())?;
    if hash.matches(secret) {
        Ok(client)
    } else {
        Err(())
    }
}

const ASYMMETRIC: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The client's key for `kid`: from its registered JWK set, or from its
/// `jwks_uri`, fetched again once when the cached set lacks `kid` (the
/// client rotated its keys: nobody at sqin needs to act).
async fn client_key(
    provider: &Provider,
    client: &ClientRecord,
    kid: Option<&str>,
    now: i64,
) -> Result<Option<DecodingKey>, OAuthError> {
    let pick = |set: &jsonwebtoken::jwk::JwkSet| -> Option<DecodingKey> {
        let jwk = match kid {
            Some(kid) => set.find(kid),
            None if set.keys.len() == 1 => set.keys.first(),
            None => None,
        }?;
        DecodingKey::from_jwk(jwk).ok()
    };
    if let Some(uri) = &client.jwks_uri {
        let unreachable = |e: String| {
            tracing::warn!(client_id = %client.client_id, jwks_uri = %uri, error = %e, "client keys unavailable");
            OAuthError::invalid_client(format!(
                "the client's keys at its jwks_uri are unavailable: {e}"
            ))
        };
        let set = provider
            .remote_jwks
            .fetch(uri, false, now)
            .await
            .map_err(unreachable)?;
        if let Some(key) = pick(&set) {
            return Ok(Some(key));
        }
        let set = provider
            .remote_jwks
            .fetch(uri, true, now)
            .await
            .map_err(unreachable)?;
        return Ok(pick(&set));
    }
    let set: jsonwebtoken::jwk::JwkSet =
        serde_json::from_str(client.jwks.as_deref().unwrap_or("{\"keys\":[]}"))
            .map_err(|_| OAuthError::invalid_client("client assertion is invalid"))?;
    Ok(pick(&set))
}

/// What must be read of a client assertion before its client, and so its
/// key, is known: the header (an asymmetric `alg`, the `kid`) and the
/// unverified `iss`. Nothing here is trusted until the signature verifies.
/// Pure, so that it can be fuzzed (`fuzz/fuzz_targets/token_request.rs`).
pub fn peek_assertion(assertion: &str) -> Result<(jsonwebtoken::Header, String), OAuthError> {
    let bad = || OAuthError::invalid_client("client assertion is invalid");
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| bad())?;
    if !ASYMMETRIC.contains(&header.alg) {
        return Err(OAuthError::invalid_client(
            "client assertions must be signed with an asymmetric algorithm",
        ));
    }
    let unverified: serde_json::Value = {
        let payload = assertion.split('.').nth(1).ok_or_else(bad)?;
        serde_json::from_slice(&sqin_crypto::b64url_decode(payload).ok_or_else(bad)?)
            .map_err(|_| bad())?
    };
    let iss = unverified
        .get("iss")
        .and_then(|v| v.as_str())
        .ok_or_else(bad)?;
    Ok((header, iss.to_owned()))
}

/// RFC 7523 3: `iss` and `sub` are the client, `aud` is this provider's
/// issuer and nothing else, `exp` is near, and `jti` is never seen twice.
///
/// The audience is the issuer as a single string: not the token endpoint,
/// not an array that contains the issuer. An assertion a client made for
/// another server (one that names its token endpoint, or lists several
/// audiences) can then never be replayed here (the audience-injection fix
/// of the RFC 7523 update, draft-ietf-oauth-rfc7523bis).
async fn verify_assertion(
    conn: &mut LazyConnection,
    provider: &Provider,
    client_id: Option<&str>,
    assertion: &str,
    now: i64,
) -> Result<Arc<ClientRecord>, OAuthError> {
    let bad = || OAuthError::invalid_client("client assertion is invalid");
    let (header, issuer) = peek_assertion(assertion)?;
    let iss = issuer.as_str();
    if client_id.is_some_and(|c| c != iss) {
        return Err(bad());
    }
    let client = load(conn, provider, iss, now).await?;
    if client.token_endpoint_auth_method != AuthMethod::PrivateKeyJwt {
        return Err(bad());
    }
    let key = client_key(provider, &client, header.kid.as_deref(), now)
        .await?
        .ok_or_else(bad)?;
    let (jti, exp) = check_assertion(assertion, &header, &key, &provider.issuer, iss, now)?;
    if !grants::record_assertion_jti(conn.get().await?, &client.client_id, &jti, exp + 60).await? {
        return Err(OAuthError::invalid_client(
            "client assertion was already used (jti replay)",
        ));
    }
    Ok(client)
}

/// Verifies a client assertion under the client's `key`, once its header
/// and issuer are known ([`peek_assertion`]): the signature, `iss` and
/// `sub` the client, `aud` this provider's `issuer` as a single string,
/// `exp` near and `nbf` past (against `now`), a `jti`. Returns the `jti`
/// and `exp`, for the replay check. Pure, so that it can be fuzzed.
pub fn check_assertion(
    assertion: &str,
    header: &jsonwebtoken::Header,
    key: &DecodingKey,
    issuer: &str,
    iss: &str,
    now: i64,
) -> Result<(String, i64), OAuthError> {
    let bad = || OAuthError::invalid_client("client assertion is invalid");
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[issuer]);
    validation.set_issuer(&[iss]);
    validation.sub = Some(iss.to_owned());
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    // Time is checked below against the injected `now`, never the library's
    // own reading of the system clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let data = jsonwebtoken::decode::<serde_json::Value>(assertion, key, &validation)
        .map_err(|e| OAuthError::invalid_client(format!("client assertion is invalid: {e}")))?;
    let claims = data.claims;
    if claims.get("aud").and_then(|v| v.as_str()) != Some(issuer) {
        // The library accepts an array naming the issuer among others.
        return Err(OAuthError::invalid_client(
            "client assertion is invalid: aud must be the issuer, as a single string",
        ));
    }
    let exp = claims.get("exp").and_then(|v| v.as_i64()).ok_or_else(bad)?;
    if exp + ASSERTION_LEEWAY_SECS < now {
        return Err(OAuthError::invalid_client(
            "client assertion is invalid: it has expired",
        ));
    }
    if let Some(nbf) = claims.get("nbf") {
        match nbf.as_i64() {
            Some(nbf) if nbf - ASSERTION_LEEWAY_SECS <= now => {}
            Some(_) => {
                return Err(OAuthError::invalid_client(
                    "client assertion is invalid: it is not valid yet (nbf)",
                ))
            }
            None => return Err(bad()),
        }
    }
    if exp > now + 600 {
        return Err(OAuthError::invalid_client(
            "client assertion lives too long (exp at most 10 minutes ahead)",
        ));
    }
    let jti = claims
        .get("jti")
        .and_then(|v| v.as_str())
        .ok_or_else(|| OAuthError::invalid_client("client assertion has no jti"))?;
    if jti.is_empty() || jti.len() > 256 {
        return Err(bad());
    }
    Ok((jti.to_owned(), exp))
}
