//! Back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0,
//! section 2.6): validated in full before any session ends.
use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::rp::RelyingParty;

pub const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Explicit typing (section 2.4): a logout token can never pass for an ID
/// token or an access token, nor the reverse.
pub const LOGOUT_TYP: &str = "logout+jwt";
/// Clock skew we accept, and how old a logout token may be.
const LEEWAY_SECS: u64 = 60;
const MAX_AGE_SECS: i64 = 300;

/// What a valid logout token asks: end the sessions with this `sid` (of this
/// `sub` when both are given), or every session of this `sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    pub sid: Option<String>,
    pub sub: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    iat: i64,
    jti: String,
    exp: i64,
    events: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    sid: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    nonce: Option<serde_json::Value>,
}

/// Validates logout tokens against the provider's JWKS (cached, refetched
/// on an unknown `kid`) and remembers `jti`s until they expire (replay).
#[derive(Default)]
pub struct LogoutTokenValidator {
    jwks: Mutex<Option<(JwkSet, Instant)>>,
    seen: Mutex<HashMap<String, i64>>,
}

impl LogoutTokenValidator {
    async fn key(&self, rp: &RelyingParty, kid: &str) -> Result<DecodingKey, String> {
        for refresh in [false, true] {
            let mut cached = self.jwks.lock().await;
            let stale = cached
                .as_ref()
                .is_none_or(|(_, t)| refresh && t.elapsed() > Duration::from_secs(5));
            if stale {
                let provider = rp
                    .provider(false)
                    .await
                    .map_err(|e| format!("provider: {e}"))?;
                let set: JwkSet = rp
                    .http()
                    .get(provider.jwks_uri.clone())
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| format!("JWKS: {e}"))?
                    .json()
                    .await
                    .map_err(|e| format!("JWKS: {e}"))?;
                *cached = Some((set, Instant::now()));
            }
            if let Some(jwk) = cached.as_ref().and_then(|(set, _)| set.find(kid)) {
                return DecodingKey::from_jwk(jwk).map_err(|e| format!("JWKS key {kid}: {e}"));
            }
        }
        Err(format!("no key {kid:?} in the provider's JWKS"))
    }

    /// Section 2.6, steps 1 to 7 (decryption does not apply: sqin signs).
    pub async fn validate(
        &self,
        rp: &RelyingParty,
        token: &str,
        now: i64,
    ) -> Result<LogoutRequest, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| format!("header: {e}"))?;
        // Only the algorithm the provider announces for ID tokens; never
        // `none` or HMAC.
        if header.alg != Algorithm::ES256 {
            return Err(format!("algorithm {:?} is not accepted", header.alg));
        }
        if header.typ.as_deref() != Some(LOGOUT_TYP) {
            return Err(format!("typ must be {LOGOUT_TYP}"));
        }
        let kid = header.kid.ok_or("the token has no kid")?;
        let key = self.key(rp, &kid).await?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[rp.issuer()]);
        validation.set_audience(&[rp.client_id()]);
        validation.set_required_spec_claims(&["iss", "aud", "exp"]);
        validation.leeway = LEEWAY_SECS;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| format!("token: {e}"))?;
        let claims = data.claims;
        if claims.iat > now + LEEWAY_SECS as i64 || claims.iat < now - MAX_AGE_SECS {
            return Err("iat is out of range".into());
        }
        if !claims
            .events
            .get(BACKCHANNEL_EVENT)
            .is_some_and(|v| v.is_object())
        {
            return Err(format!("events has no {BACKCHANNEL_EVENT} member"));
        }
        if claims.sid.is_none() && claims.sub.is_none() {
            return Err("neither sid nor sub".into());
        }
        if claims.nonce.is_some() {
            return Err("a logout token must not contain a nonce".into());
        }
        if claims.jti.is_empty() {
            return Err("empty jti".into());
        }
        let mut seen = self.seen.lock().await;
        seen.retain(|_, exp| *exp + LEEWAY_SECS as i64 >= now);
        if seen.insert(claims.jti, claims.exp).is_some() {
            return Err("this logout token was already used (jti)".into());
        }
        Ok(LogoutRequest {
            sid: claims.sid,
            sub: claims.sub,
        })
    }
}
