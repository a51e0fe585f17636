//! Access tokens on use: userinfo (OIDC Core 5.3), introspection (RFC 7662)
//! and revocation (RFC 7009).
use std::sync::Arc;

use serde_json::{json, Map, Value};
use sqin_crypto::sha256;
use sqin_store::clients::{self, ClientRecord, ClientType};
use sqin_store::grants::{self, GrantRecord};
use sqin_store::{citizens, Connection};

use crate::claims;
use crate::error::{ErrorCode, OAuthError};
use crate::jwt;
use crate::provider::Provider;
use crate::subject::PairwiseSubject;
use sqin_ledger_contract::{DisclosureEndpoint, LedgerEvent};

/// A verified, live access token.
#[derive(Debug, Clone)]
pub struct ActiveAccessToken {
    pub claims: Arc<Map<String, Value>>,
    /// The grant behind a citizen token; `None` for client credentials.
    pub grant: Option<GrantRecord>,
}

impl ActiveAccessToken {
    pub fn client_id(&self) -> &str {
        self.claims
            .get("client_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

fn invalid_token(d: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidToken, d)
}

/// Verifies signature, type, issuer, audience and expiry, then checks that the
/// token was not revoked and that its grant is still live.
pub async fn validate(
    conn: &mut Connection,
    provider: &Provider,
    token: &str,
    now: i64,
) -> Result<ActiveAccessToken, OAuthError> {
    let token_hash = sha256(token.as_bytes());
    let claims = match provider.verified.get(&token_hash) {
        Some(claims) => claims,
        None => {
            let claims = Arc::new(
                jwt::verify(&provider.keys, token, Some("at+jwt"))
                    .map_err(|_| invalid_token("the access token is invalid"))?,
            );
            provider.verified.insert(token_hash, claims.clone());
            claims
        }
    };
    let str_claim = |name: &str| claims.get(name).and_then(Value::as_str);
    if str_claim("iss") != Some(provider.issuer.as_str())
        || str_claim("aud") != Some(provider.issuer.as_str())
    {
        return Err(invalid_token("the access token is not for this provider"));
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= now {
        return Err(invalid_token("the access token has expired"));
    }
    let jti = str_claim("jti").ok_or_else(|| invalid_token("the access token is invalid"))?;
    let revoked = match provider.revoked.check(jti, now) {
        Some(revoked) => revoked,
        None => grants::access_token_revoked(conn, jti).await?,
    };
    if revoked {
        return Err(invalid_token("the access token was revoked"));
    }
    let grant = match str_claim("gid") {
        Some(gid) => Some(
            grants::grant(conn, gid)
                .await?
                .filter(|g| g.revoked_at.is_none() && g.expires_at > now)
                .ok_or_else(|| invalid_token("the access token was revoked"))?,
        ),
        None => None,
    };
    Ok(ActiveAccessToken { claims, grant })
}

/// The scopes an access token carries: its own `scope` claim (narrower than
/// its grant's after a refresh that narrowed it, RFC 6749 6), never beyond
/// the grant.
fn token_scope<'a>(active: &ActiveAccessToken, grant: &'a GrantRecord) -> Vec<&'a str> {
    let own: Vec<&str> = active
        .claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(' ')
        .collect();
    grant
        .scope
        .iter()
        .map(String::as_str)
        .filter(|s| own.contains(s))
        .collect()
}

/// The userinfo response: `sub` and the claims the token's scopes and the
/// grant's claims parameter ask for, within the client's purpose; a claim
/// that only a scope the token was narrowed out of carries is not released,
/// even when the claims parameter named it. The disclosure is recorded in
/// the same transaction.
pub async fn userinfo(
    conn: &mut Connection,
    provider: &Provider,
    token: &str,
    now: i64,
) -> Result<Value, OAuthError> {
    let active = validate(conn, provider, token, now).await?;
    let grant = active
        .grant
        .clone()
        .ok_or_else(|| OAuthError::new(ErrorCode::InvalidToken, "this token carries no citizen"))?;
    let scope = token_scope(&active, &grant);
    if !scope.contains(&"openid") {
        return Err(OAuthError::new(
            ErrorCode::InvalidToken,
            "the access token does not carry the openid scope",
        ));
    }
    let citizen_id = grant.citizen_id.clone().unwrap_or_default();
    let client = clients::get(conn, &grant.client_id)
        .await?
        .ok_or_else(|| invalid_token("the client is no longer registered"))?;
    if client.status != sqin_store::clients::ClientStatus::Active {
        return Err(invalid_token("the client is not active"));
    }
    let citizen = citizens::by_id(conn, &provider.register, &citizen_id)
        .await?
        .ok_or_else(|| invalid_token("the account no longer exists"))?;
    let allowed = crate::authorize::allowed_claims(&client);
    let carried = claims::claims_for_scopes(scope.iter().copied());
    let narrowed_out: Vec<&str> = claims::claims_for_scopes(
        grant
            .scope
            .iter()
            .map(String::as_str)
            .filter(|s| !scope.contains(s)),
    )
    .into_iter()
    .filter(|c| !carried.contains(c))
    .collect();
    let mut names: Vec<String> = carried
        .iter()
        .filter(|c| allowed.contains(c))
        .map(|c| (*c).to_owned())
        .collect();
    for (n, _) in claims::requested_claims(grant.claims.as_deref(), "userinfo") {
        if allowed.contains(&n.as_str())
            && !narrowed_out.contains(&n.as_str())
            && !names.contains(&n)
        {
            names.push(n);
        }
    }
    let mut body = claims::claim_values(&citizen, &names);
    body.insert(
        "sub".into(),
        json!(PairwiseSubject::for_client(&provider.pairwise_key, &client, &citizen_id).as_str()),
    );
    let mut tx = sqin_store::begin_on(conn).await?;
    provider
        .ledger
        .record(
            &mut tx,
            LedgerEvent::Disclosure {
                citizen_id,
                client_id: client.client_id.clone(),
                consent_id: grant.consent_id.clone(),
                grant_id: Some(grant.id.clone()),
                endpoint: DisclosureEndpoint::Userinfo,
                claims: names,
            },
            now,
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "ledger append failed");
            OAuthError::server_error()
        })?;
    tx.commit().await?;
    Ok(Value::Object(body))
}

/// RFC 7662: only confidential clients, and only about their own tokens;
/// anything else is simply inactive.
pub async fn introspect(
    conn: &mut Connection,
    provider: &Provider,
    caller: &ClientRecord,
    token: &str,
    now: i64,
) -> Result<Value, OAuthError> {
    if caller.client_type != ClientType::Confidential {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "introspection is for confidential clients",
        ));
    }
    let inactive = json!({ "active": false });
    if let Ok(active) = validate(conn, provider, token, now).await {
        if active.client_id() != caller.client_id {
            return Ok(inactive);
        }
        let mut out = json!({ "active": true, "token_type": "Bearer" });
        for name in [
            "scope",
            "client_id",
            "sub",
            "exp",
            "iat",
            "iss",
            "aud",
            "jti",
            "auth_time",
            "acr",
        ] {
            if let Some(v) = active.claims.get(name) {
                out[name] = v.clone();
            }
        }
        if let Some(grant) = &active.grant {
            record_introspection(conn, provider, grant, now).await?;
        }
        return Ok(out);
    }
    let hash = sha256(token.as_bytes());
    if let Some(refresh) = grants::find_refresh(conn, &hash).await? {
        let grant = grants::grant(conn, &refresh.grant_id).await?;
        if let Some(grant) = grant.filter(|g| {
            g.client_id == caller.client_id
                && g.revoked_at.is_none()
                && g.expires_at > now
                && refresh.used_at.is_none()
                && refresh.expires_at > now
        }) {
            let sub = grant.citizen_id.as_deref().map(|c| {
                PairwiseSubject::for_client(&provider.pairwise_key, caller, c).into_string()
            });
            record_introspection(conn, provider, &grant, now).await?;
            return Ok(json!({
                "active": true,
                "token_type": "refresh_token",
                "scope": grant.scope.join(" "),
                "client_id": grant.client_id,
                "sub": sub,
                "exp": refresh.expires_at,
                "iat": refresh.created_at,
                "iss": provider.issuer,
            }));
        }
    }
    Ok(inactive)
}

async fn record_introspection(
    conn: &mut Connection,
    provider: &Provider,
    grant: &GrantRecord,
    now: i64,
) -> Result<(), OAuthError> {
    let Some(citizen_id) = grant.citizen_id.clone() else {
        return Ok(());
    };
    let mut tx = sqin_store::begin_on(conn).await?;
    provider
        .ledger
        .record(
            &mut tx,
            LedgerEvent::Disclosure {
                citizen_id,
                client_id: grant.client_id.clone(),
                consent_id: grant.consent_id.clone(),
                grant_id: Some(grant.id.clone()),
                endpoint: DisclosureEndpoint::Introspection,
                claims: vec!["sub".into()],
            },
            now,
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "ledger append failed");
            OAuthError::server_error()
        })?;
    tx.commit().await?;
    Ok(())
}

/// RFC 7009. Revoking a refresh token revokes its whole grant (and so every
/// access token from it); revoking an access token blocks its `jti`. Tokens
/// that are unknown, invalid or another client's are ignored with success, as
/// 2.2 allows, so the endpoint reveals nothing about them.
pub async fn revoke(
    conn: &mut Connection,
    provider: &Provider,
    caller: &ClientRecord,
    token: &str,
    hint: Option<&str>,
    now: i64,
) -> Result<(), OAuthError> {
    if let Some(h) = hint {
        if h != "access_token" && h != "refresh_token" {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedTokenType,
                "token_type_hint must be access_token or refresh_token",
            ));
        }
    }
    let hash = sha256(token.as_bytes());
    if let Some(refresh) = grants::find_refresh(conn, &hash).await? {
        if let Some(grant) = grants::grant(conn, &refresh.grant_id).await? {
            if grant.client_id == caller.client_id {
                grants::revoke_grant(conn, &grant.id, now, "refresh token revoked by the client")
                    .await?;
            }
        }
        return Ok(());
    }
    if let Ok(claims) = jwt::verify(&provider.keys, token, Some("at+jwt")) {
        let client_id = claims.get("client_id").and_then(Value::as_str);
        let jti = claims.get("jti").and_then(Value::as_str);
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(now);
        if let (Some(client_id), Some(jti)) = (client_id, jti) {
            if client_id == caller.client_id && exp > now {
                grants::revoke_access_token(conn, jti, exp).await?;
                provider.revoked.insert(jti, now);
            }
        }
    }
    Ok(())
}
