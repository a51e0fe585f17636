//! The token endpoint (RFC 6749 4.1.3, 6; OIDC Core 3.1.3, 12; RFC 9068):
//! authorization codes, refresh tokens with rotation and reuse detection, and
//! client credentials for an RP's back end.
use serde::Serialize;
use serde_json::{json, Value};
use sqin_crypto::{b64url, random_bytes, random_token, sha256};
use sqin_store::citizens;
use sqin_store::clients::{ClientRecord, ClientType};
use sqin_store::grants::{self, GrantRecord, RefreshRecord};
use sqin_store::{begin_on, Connection, LazyConnection};

use crate::authorize::disclosed_claims;
use crate::claims;
use crate::error::{ErrorCode, OAuthError};
use crate::jwt;
use crate::pkce;
use crate::provider::Provider;
use crate::subject::{PairwiseSubject, SessionSid};
use sqin_ledger_contract::{DisclosureEndpoint, LedgerEvent};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
}

/// The grant types sqin's token endpoint accepts (RFC 6749 4.1.3, 6, 4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    /// Every grant type, in the order discovery lists them.
    pub const ALL: [GrantType; 3] = [
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::ClientCredentials,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }

    /// The grant type a `grant_type` parameter names, if supported.
    pub fn from_name(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == text)
    }
}

/// The token request's parameters (client authentication already done).
#[derive(Debug, Default, Clone)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

pub async fn exchange(
    conn: &mut LazyConnection,
    provider: &Provider,
    client: &ClientRecord,
    req: &TokenRequest,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let grant = req
        .grant_type
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?;
    match GrantType::from_name(grant) {
        Some(GrantType::AuthorizationCode) => {
            authorization_code(conn.get().await?, provider, client, req, now).await
        }
        Some(GrantType::RefreshToken) => {
            refresh(conn.get().await?, provider, client, req, now).await
        }
        Some(GrantType::ClientCredentials) => client_credentials(provider, client, req, now),
        None => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "supported grant types: authorization_code, refresh_token, client_credentials",
        )),
    }
}

async fn authorization_code(
    conn: &mut Connection,
    provider: &Provider,
    client: &ClientRecord,
    req: &TokenRequest,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let code = req
        .code
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
    let verifier = req.code_verifier.as_deref().ok_or_else(|| {
        OAuthError::invalid_request("code_verifier is missing (PKCE is required)")
    })?;
    let redirect_uri = req
        .redirect_uri
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is missing"))?;
    let hash = sha256(code.as_bytes());
    let mut tx = begin_on(conn).await?;
    let record = grants::find_code(&mut tx, &hash)
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("the authorization code is invalid"))?;
    if record.client_id != client.client_id {
        // Do not reveal or spend another client's code.
        return Err(OAuthError::invalid_grant(
            "the authorization code is invalid",
        ));
    }
    if record.used_at.is_some() || !grants::use_code(&mut tx, &hash, now).await? {
        // Replay (RFC 6749 4.1.2, RFC 9700 4.5.3): revoke everything issued
        // from this code, in a transaction of its own so it sticks.
        drop(tx);
        let mut tx = begin_on(conn).await?;
        grants::revoke_grant(
            &mut tx,
            &record.grant_id,
            now,
            "authorization code replayed",
        )
        .await?;
        tx.commit().await?;
        tracing::warn!(client_id = %client.client_id, "authorization code replayed; grant revoked");
        return Err(OAuthError::invalid_grant(
            "the authorization code was already used",
        ));
    }
    if record.expires_at <= now {
        return Err(OAuthError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    if record.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    if !pkce::verify(verifier, &record.code_challenge) {
        return Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    let grant = grants::grant(&mut tx, &record.grant_id)
        .await?
        .filter(|g| g.revoked_at.is_none() && g.expires_at > now)
        .ok_or_else(|| OAuthError::invalid_grant("the authorization was revoked"))?;
    let response = issue_tokens(
        &mut tx,
        provider,
        client,
        &grant,
        record.nonce.as_deref(),
        &grant.scope,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(response)
}

async fn refresh(
    conn: &mut Connection,
    provider: &Provider,
    client: &ClientRecord,
    req: &TokenRequest,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let token = req
        .refresh_token
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
    let hash = sha256(token.as_bytes());
    let mut tx = begin_on(conn).await?;
    let record = grants::find_refresh(&mut tx, &hash)
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("the refresh token is invalid"))?;
    let grant = grants::grant(&mut tx, &record.grant_id)
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("the refresh token is invalid"))?;
    if grant.client_id != client.client_id {
        return Err(OAuthError::invalid_grant("the refresh token is invalid"));
    }
    if record.used_at.is_some() || !grants::use_refresh(&mut tx, &hash, now).await? {
        // Reuse of a rotated token (RFC 9700 4.14.2): someone holds a copy.
        // Revoke the whole family so neither party can continue.
        drop(tx);
        let mut tx = begin_on(conn).await?;
        grants::revoke_grant(&mut tx, &grant.id, now, "refresh token reused").await?;
        tx.commit().await?;
        tracing::warn!(client_id = %client.client_id, "refresh token reused; grant revoked");
        return Err(OAuthError::invalid_grant(
            "the refresh token was already used",
        ));
    }
    if grant.revoked_at.is_some() || grant.expires_at <= now || record.expires_at <= now {
        return Err(OAuthError::invalid_grant(
            "the refresh token has expired or was revoked",
        ));
    }
    // Narrowing (RFC 6749 section 6) applies to the access token issued now;
    // the refresh token keeps the scope of the grant it belongs to.
    let mut access_scope = grant.scope.clone();
    if let Some(scope) = req.scope.as_deref().filter(|s| !s.is_empty()) {
        let narrowed: Vec<String> = scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if narrowed.iter().any(|s| !grant.scope.contains(s)) {
            return Err(OAuthError::invalid_scope(
                "a refresh cannot broaden the granted scope",
            ));
        }
        access_scope = narrowed;
    }
    let response =
        issue_tokens(&mut tx, provider, client, &grant, None, &access_scope, now).await?;
    tx.commit().await?;
    Ok(response)
}

fn client_credentials(
    provider: &Provider,
    client: &ClientRecord,
    req: &TokenRequest,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    if client.client_type != ClientType::Confidential {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "client_credentials is for confidential clients",
        ));
    }
    if let Some(scope) = req.scope.as_deref().filter(|s| !s.is_empty()) {
        // Citizen scopes never come from a machine-to-machine grant.
        return Err(OAuthError::invalid_scope(format!(
            "client_credentials tokens carry no citizen data; scope {scope:?} is not available"
        )));
    }
    let access = jwt::sign(
        provider.keys.signing_key(),
        "at+jwt",
        &json!({
            "iss": provider.issuer,
            "sub": client.client_id,
            "aud": provider.issuer,
            "client_id": client.client_id,
            "iat": now,
            "exp": now + provider.lifetimes.token,
            "jti": b64url(&random_bytes::<16>()?),
        }),
    )
    .map_err(|_| OAuthError::server_error())?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: provider.lifetimes.token,
        id_token: None,
        refresh_token: None,
        scope: String::new(),
    })
}

/// Signs an access token and an ID token for a grant, rotates the refresh
/// token when the grant allows one, and records the disclosure, all in the
/// caller's transaction.
async fn issue_tokens(
    tx: &mut Connection,
    provider: &Provider,
    client: &ClientRecord,
    grant: &GrantRecord,
    nonce: Option<&str>,
    access_scope: &[String],
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let citizen_id = grant
        .citizen_id
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_grant("the grant has no citizen"))?;
    let citizen = citizens::by_id(tx, &provider.register, citizen_id)
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("the account no longer exists"))?;
    let sub = PairwiseSubject::for_client(&provider.pairwise_key, client, citizen_id);
    let scope = access_scope.join(" ");
    let key = provider.keys.signing_key();
    let exp = now + provider.lifetimes.token;
    let mut access_claims = json!({
        "iss": provider.issuer,
        "sub": sub.as_str(),
        "aud": provider.issuer,
        "client_id": client.client_id,
        "scope": scope,
        "iat": now,
        "exp": exp,
        "jti": b64url(&random_bytes::<16>()?),
        "gid": grant.id,
    });
    if let (Some(at), Some(acr)) = (grant.auth_time, grant.acr.as_deref()) {
        access_claims["auth_time"] = json!(at);
        access_claims["acr"] = json!(acr);
    }
    let access_token =
        jwt::sign(key, "at+jwt", &access_claims).map_err(|_| OAuthError::server_error())?;

    let id_token = if access_scope.iter().any(|s| s == "openid") {
        let mut claims = json!({
            "iss": provider.issuer,
            "sub": sub.as_str(),
            "aud": client.client_id,
            "azp": client.client_id,
            "iat": now,
            "exp": exp,
            "at_hash": jwt::at_hash(&access_token),
        });
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        if let Some(at) = grant.auth_time {
            claims["auth_time"] = json!(at);
        }
        if let Some(acr) = &grant.acr {
            claims["acr"] = json!(acr);
        }
        if !grant.amr.is_empty() {
            claims["amr"] = json!(grant.amr);
        }
        if let Some(session_id) = &grant.session_id {
            // The session as this RP's sector sees it, never the handle
            // itself (which every RP of the session would share).
            let sid = SessionSid::for_client(&provider.pairwise_key, client, session_id);
            claims["sid"] = json!(sid.as_str());
        }
        // Claims asked for in the ID token by the claims parameter, within
        // what the client may have and the citizen consented to.
        let allowed = disclosed_claims(client, &scope, grant.claims.as_deref());
        let in_token: Vec<String> = claims::requested_claims(grant.claims.as_deref(), "id_token")
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| allowed.contains(n))
            .collect();
        if let Value::Object(map) = &mut claims {
            for (k, v) in claims::claim_values(&citizen, &in_token) {
                map.insert(k, v);
            }
        }
        provider
            .ledger
            .record(
                tx,
                LedgerEvent::Disclosure {
                    citizen_id: citizen_id.to_owned(),
                    client_id: client.client_id.clone(),
                    consent_id: grant.consent_id.clone(),
                    grant_id: Some(grant.id.clone()),
                    endpoint: DisclosureEndpoint::IdToken,
                    claims: in_token,
                },
                now,
            )
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "ledger append failed");
                OAuthError::server_error()
            })?;
        // Signed with the algorithm the client registered
        // (`id_token_signed_response_alg`); the access token stays ES256.
        let id_key = provider
            .keys
            .signing_key_for(client.id_token_signed_response_alg);
        Some(jwt::sign(id_key, "JWT", &claims).map_err(|_| OAuthError::server_error())?)
    } else {
        None
    };

    let refresh_token = if grant.scope.iter().any(|s| s == "offline_access") {
        let token = random_token()?;
        grants::insert_refresh(
            tx,
            &RefreshRecord {
                token_hash: token.hash().0.to_vec(),
                grant_id: grant.id.clone(),
                created_at: now,
                expires_at: grant.expires_at,
                used_at: None,
            },
        )
        .await?;
        Some(token.expose().to_owned())
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: provider.lifetimes.token,
        id_token,
        refresh_token,
        scope,
    })
}
