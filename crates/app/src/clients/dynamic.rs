//! OpenID Connect Dynamic Client Registration (RFC 7591) and Client
//! Configuration Management (RFC 7592): a ministry's own pipeline registers
//! its client with an initial access token issued for one PIA entry, then
//! reads, updates and deletes it with the registration access token it got
//! back. What the request asks beyond that entry is refused naming the
//! field; a new client, or an update that widens, waits for a privacy
//! officer's approval before its credentials work.
use serde_json::{json, Map, Value};
use sqin_crypto::{SecretString, SigningAlg};
use sqin_oidc::client::ClientRegistration;
use sqin_oidc::OidcError;
use sqin_store::clients::{AuthMethod, ClientRecord, ClientType};

use super::{tokens, ClientActor, ClientMetadata};
use crate::{AppError, Services};

/// What RFC 7591 section 3.2.2 and RFC 7592 section 3 let the server
/// answer, mapped once at the HTTP edge.
#[derive(Debug, thiserror::Error)]
pub enum DcrError {
    /// The initial or registration access token is missing, unknown,
    /// expired or used up (RFC 6750 `invalid_token`, 401).
    #[error("{0}")]
    InvalidToken(String),
    /// `invalid_redirect_uri` (RFC 7591 3.2.2).
    #[error("{0}")]
    InvalidRedirectUri(String),
    /// `invalid_client_metadata`, naming the field.
    #[error("{field}: {message}")]
    InvalidMetadata { field: String, message: String },
    #[error(transparent)]
    App(#[from] AppError),
}

impl DcrError {
    fn metadata(field: &str, message: impl Into<String>) -> Self {
        Self::InvalidMetadata {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Registration errors from the domain, as RFC 7591 names them.
fn from_app(e: AppError) -> DcrError {
    match e {
        AppError::Oidc(OidcError::InvalidMetadata { field, message }) => {
            if field.ends_with("redirect_uris") {
                DcrError::InvalidRedirectUri(format!("{field}: {message}"))
            } else {
                DcrError::metadata(field, message)
            }
        }
        AppError::Oidc(OidcError::BeyondPia { entry, overreach }) => {
            let field = overreach.first().map_or("scope", |o| o.field);
            let message = format!(
                "beyond PIA entry {entry}: {}",
                overreach
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            if field == "redirect_uris" {
                DcrError::InvalidRedirectUri(message)
            } else {
                DcrError::metadata(field, message)
            }
        }
        other => DcrError::App(other),
    }
}

fn strings(body: &Map<String, Value>, field: &str) -> Result<Vec<String>, DcrError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| DcrError::metadata(field, "must be an array of strings"))
            })
            .collect(),
        Some(_) => Err(DcrError::metadata(field, "must be an array of strings")),
    }
}

fn string(body: &Map<String, Value>, field: &str) -> Result<Option<String>, DcrError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(DcrError::metadata(field, "must be a string")),
    }
}

/// The French variant of a human-readable field (`client_name#fr` or
/// `client_name#fr-CA`, RFC 7591 2.2).
fn french(body: &Map<String, Value>, field: &str) -> Result<Option<String>, DcrError> {
    for (k, v) in body {
        if let Some(tag) = k.strip_prefix(field).and_then(|r| r.strip_prefix('#')) {
            if tag == "fr" || tag.starts_with("fr-") {
                return match v {
                    Value::String(s) => Ok(Some(s.clone())),
                    _ => Err(DcrError::metadata(k, "must be a string")),
                };
            }
        }
    }
    Ok(None)
}

/// The registration a metadata document asks for (RFC 7591 2, OIDC
/// Dynamic Client Registration 2). An absent `id_token_signed_response_alg`
/// stays `None` (the caller's default: RS256 at `/register`, ES256 for
/// sqin's own tools).
pub fn registration_of(body: &Value) -> Result<ClientRegistration, DcrError> {
    let body = body
        .as_object()
        .ok_or_else(|| DcrError::metadata("(body)", "must be a JSON object"))?;
    let redirect_uris = strings(body, "redirect_uris")?;
    if redirect_uris.is_empty() {
        return Err(DcrError::InvalidRedirectUri(
            "redirect_uris is required (at least one)".into(),
        ));
    }
    let method = match string(body, "token_endpoint_auth_method")?.as_deref() {
        None => AuthMethod::ClientSecretBasic,
        Some(name) => AuthMethod::from_name(name).ok_or_else(|| {
            DcrError::metadata(
                "token_endpoint_auth_method",
                format!(
                    "{name:?} is not supported (supported: {})",
                    AuthMethod::ALL.map(AuthMethod::as_str).join(", ")
                ),
            )
        })?,
    };
    let grant_types = strings(body, "grant_types")?;
    if let Some(g) = grant_types
        .iter()
        .find(|g| !matches!(g.as_str(), "authorization_code" | "refresh_token"))
    {
        return Err(DcrError::metadata(
            "grant_types",
            format!("{g:?} is not supported (authorization_code, refresh_token)"),
        ));
    }
    let response_types = strings(body, "response_types")?;
    if let Some(r) = response_types.iter().find(|r| r.as_str() != "code") {
        return Err(DcrError::metadata(
            "response_types",
            format!("{r:?} is not supported (code only)"),
        ));
    }
    if body.contains_key("sector_identifier_uri") {
        return Err(DcrError::metadata(
            "sector_identifier_uri",
            "not used: the pairwise sector is the one of the PIA entry",
        ));
    }
    let id_token_alg = match string(body, "id_token_signed_response_alg")? {
        None => None,
        Some(name) => Some(SigningAlg::from_name(&name).ok_or_else(|| {
            DcrError::metadata(
                "id_token_signed_response_alg",
                format!(
                    "{name:?} is not supported (supported: {})",
                    SigningAlg::ALL.map(SigningAlg::as_str).join(", ")
                ),
            )
        })?),
    };
    // Userinfo answers plain JSON (OIDC Core 5.3.2); a client expecting a
    // signed or encrypted answer would fail, so it is refused here.
    for field in [
        "userinfo_signed_response_alg",
        "userinfo_encrypted_response_alg",
        "id_token_encrypted_response_alg",
    ] {
        if let Some(alg) = string(body, field)? {
            return Err(DcrError::metadata(
                field,
                format!("{alg:?} is not supported (sqin answers unsigned, unencrypted JSON at userinfo and signed, unencrypted ID tokens)"),
            ));
        }
    }
    let public_subject = match string(body, "subject_type")?.as_deref() {
        None | Some("pairwise") => false,
        Some("public") => true,
        Some(other) => {
            return Err(DcrError::metadata(
                "subject_type",
                format!("{other:?} is not pairwise or public"),
            ))
        }
    };
    let name = string(body, "client_name")?.unwrap_or_default();
    Ok(ClientRegistration {
        client_id: None,
        name,
        name_fr: french(body, "client_name")?,
        redirect_uris,
        post_logout_redirect_uris: strings(body, "post_logout_redirect_uris")?,
        scopes: vec![string(body, "scope")?.unwrap_or_else(|| "openid".into())],
        claims: None,
        purpose: None,
        purpose_fr: None,
        sector: None,
        public_client: method == AuthMethod::None,
        auth_method: Some(method),
        jwks: match body.get("jwks") {
            None | Some(Value::Null) => None,
            Some(v @ Value::Object(_)) => Some(v.to_string()),
            Some(_) => return Err(DcrError::metadata("jwks", "must be a JWK set object")),
        },
        jwks_uri: string(body, "jwks_uri")?,
        public_subject,
        backchannel_logout_uri: string(body, "backchannel_logout_uri")?,
        id_token_signed_response_alg: id_token_alg,
    })
}

/// The registration an RFC 7591 / 7592 request asks for, with the
/// protocol's defaults: OpenID Connect Dynamic Client Registration 2 makes
/// `id_token_signed_response_alg` RS256 when the request leaves it out
/// (sqin's own tools default to ES256 instead).
fn protocol_registration(body: &Value) -> Result<ClientRegistration, DcrError> {
    let mut registration = registration_of(body)?;
    registration
        .id_token_signed_response_alg
        .get_or_insert(SigningAlg::Rs256);
    Ok(registration)
}

/// The client's metadata as RFC 7591 3.2.1 returns it.
pub fn metadata_of(services: &Services, c: &ClientRecord) -> Value {
    let md = ClientMetadata::of(c);
    let mut grant_types = vec!["authorization_code"];
    if c.scopes.iter().any(|s| s == "offline_access") {
        grant_types.push("refresh_token");
    }
    let mut out = json!({
        "client_id": c.client_id,
        "client_id_issued_at": c.created_at,
        "client_name": md.client_name,
        "redirect_uris": md.redirect_uris,
        "post_logout_redirect_uris": md.post_logout_redirect_uris,
        "token_endpoint_auth_method": c.token_endpoint_auth_method.as_str(),
        "grant_types": grant_types,
        "response_types": ["code"],
        "scope": md.scope,
        "subject_type": md.subject_type,
        "id_token_signed_response_alg": c.id_token_signed_response_alg.as_str(),
        "registration_client_uri": format!("{}/register/{}", services.settings.issuer_str(), c.client_id),
        "sqin_pia_entry": md.pia_entry,
        "sqin_status": c.status.as_str(),
        "sqin_claims": md.claims,
    });
    if let Some(n) = &md.client_name_fr {
        out["client_name#fr"] = json!(n);
    }
    if let Some(u) = &md.backchannel_logout_uri {
        out["backchannel_logout_uri"] = json!(u);
    }
    if let Some(u) = &md.jwks_uri {
        out["jwks_uri"] = json!(u);
    }
    if let Some(j) = &md.jwks {
        out["jwks"] = j.clone();
    }
    if c.token_endpoint_auth_method.uses_secret() {
        out["client_secret_expires_at"] = json!(0);
    }
    out
}

/// RFC 7591 3: registers a client within the PIA entry the initial access
/// token is for; 201 with the client's credentials and its registration
/// access token.
pub async fn register(services: &Services, iat: &str, body: &Value) -> Result<Value, DcrError> {
    let registration = protocol_registration(body)?;
    let now = services.now();
    let hash = SecretString::new(iat).hash();
    let mut conn = services
        .store
        .pool()
        .acquire()
        .await
        .map_err(AppError::from)?;
    let entry = tokens::spend_initial_access_token(&mut conn, iat, now)
        .await?
        .ok_or_else(|| {
            DcrError::InvalidToken("the initial access token is unknown, expired or used up".into())
        })?;
    let by = ClientActor::Ministry {
        entry: entry.clone(),
    };
    let asked = body.get("sqin_pia_entry").and_then(Value::as_str);
    let outcome = match asked {
        Some(other) if other != entry => Err(DcrError::metadata(
            "sqin_pia_entry",
            format!("this initial access token registers within PIA entry {entry}, not {other}"),
        )),
        _ => super::register(services, &by, &entry, registration)
            .await
            .map_err(from_app),
    };
    let registered = match outcome {
        Ok(r) => r,
        Err(e) => {
            // A refused request does not use the token up.
            sqin_store::initial_access::refund(&mut conn, &hash.0)
                .await
                .map_err(AppError::from)?;
            return Err(e);
        }
    };
    let rat = tokens::issue_registration_token(&mut conn, &registered.record.client_id).await?;
    let mut out = metadata_of(services, &registered.record);
    out["registration_access_token"] = json!(rat.expose());
    if let Some(secret) = &registered.client_secret {
        out["client_secret"] = json!(secret.expose());
    }
    if let Some(request) = &registered.approval_request {
        out["sqin_approval_request"] = json!(request);
    }
    Ok(out)
}

/// The client a registration access token opens, or `invalid_token`
/// (the same answer for an unknown client as for a wrong token).
async fn authorised(
    services: &Services,
    client_id: &str,
    rat: &str,
) -> Result<ClientRecord, DcrError> {
    let mut conn = services
        .store
        .pool()
        .acquire()
        .await
        .map_err(AppError::from)?;
    let client = sqin_store::clients::get(&mut conn, client_id)
        .await
        .map_err(AppError::from)?
        .filter(|c| tokens::registration_token_matches(c, rat))
        .ok_or_else(|| {
            DcrError::InvalidToken("the registration access token is not this client's".into())
        })?;
    Ok(client)
}

fn ministry_of(client: &ClientRecord) -> Result<ClientActor<'static>, DcrError> {
    Ok(ClientActor::Ministry {
        entry: client
            .pia_entry
            .clone()
            .ok_or_else(|| DcrError::metadata("sqin_pia_entry", "the client has no PIA entry"))?,
    })
}

/// RFC 7592 2.1: the client's current metadata.
pub async fn read(services: &Services, client_id: &str, rat: &str) -> Result<Value, DcrError> {
    let client = authorised(services, client_id, rat).await?;
    Ok(metadata_of(services, &client))
}

/// RFC 7592 2.2: replaces the client's metadata. What widens waits for a
/// privacy officer (the answer says so in `sqin_pending_change`); the
/// credentials stay.
pub async fn update(
    services: &Services,
    client_id: &str,
    rat: &str,
    body: &Value,
) -> Result<Value, DcrError> {
    let client = authorised(services, client_id, rat).await?;
    let fields = body
        .as_object()
        .ok_or_else(|| DcrError::metadata("(body)", "must be a JSON object"))?;
    if fields.get("client_id").and_then(Value::as_str) != Some(client_id) {
        return Err(DcrError::metadata(
            "client_id",
            "must be present and equal to the client's (RFC 7592 2.2)",
        ));
    }
    if let Some(secret) = fields.get("client_secret") {
        let matches = secret.as_str().is_some_and(|s| {
            client
                .secret_hash
                .as_deref()
                .and_then(sqin_crypto::HashedSecret::from_slice)
                .is_some_and(|h| h.matches(s))
        });
        if !matches {
            return Err(DcrError::metadata(
                "client_secret",
                "does not match the client's secret (omit it, or send the current one)",
            ));
        }
    }
    let mut registration = protocol_registration(body)?;
    if client.client_type == ClientType::Public {
        registration.public_client = true;
    }
    let by = ministry_of(&client)?;
    let edited = super::edit(services, &by, client_id, registration, None, client.version)
        .await
        .map_err(from_app)?;
    let mut out = metadata_of(services, &edited.record);
    if let Some((widens, request)) = &edited.awaiting_approval {
        out["sqin_pending_change"] = json!({ "widens": widens, "request": request });
    }
    Ok(out)
}

/// RFC 7592 2.3: deletes the client (its grants and tokens with it).
pub async fn delete(services: &Services, client_id: &str, rat: &str) -> Result<(), DcrError> {
    let client = authorised(services, client_id, rat).await?;
    let by = ministry_of(&client)?;
    super::remove(services, &by, client_id)
        .await
        .map_err(from_app)?;
    Ok(())
}
