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

/// The claims section 2.6 checks beyond `iss`, `aud` and `exp` (which
/// `jsonwebtoken` checks). `nonce` is not here: its mere presence, even as
/// `null`, refuses the token, so it is looked up in the raw claims.
#[derive(Deserialize)]
struct Claims {
    iat: i64,
    jti: String,
    exp: i64,
    /// Any JSON here: a wrong shape is refused below, with a clear reason.
    events: serde_json::Value,
    #[serde(default)]
    sid: Option<String>,
    #[serde(default)]
    sub: Option<String>,
}

/// Validates logout tokens against the provider's JWKS (cached, refetched
/// on an unknown `kid`) and remembers `jti`s (replay).
#[derive(Default)]
pub struct LogoutTokenValidator {
    jwks: Mutex<Option<(JwkSet, Instant)>>,
    /// `jti` → `iat` of the tokens accepted. An entry is kept only while its
    /// token's `iat` is recent enough to pass the age check again (at most
    /// `MAX_AGE_SECS` + `LEEWAY_SECS`): after that the age check alone
    /// refuses a replay. So the set is bounded by what the provider signs in
    /// a few minutes, whatever `exp` the provider chose.
    seen: Mutex<HashMap<String, i64>>,
}

/// Whether the protected header has a `crit` member. `jsonwebtoken` does not
/// model `crit`, and this portal understands no JWS extension, so any `crit`
/// must refuse the token (RFC 7515, section 4.1.11).
fn header_has_crit(token: &str) -> Result<bool, String> {
    use base64::Engine as _;
    let encoded = token.split('.').next().unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|e| format!("header: {e}"))?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|e| format!("header: {e}"))?;
    Ok(header.contains_key("crit"))
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
    /// `now` (seconds since the epoch) is the clock for `iat`, `exp` and the
    /// replay memory.
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
        if header_has_crit(token)? {
            return Err("the header has crit extensions, which are not understood".into());
        }
        let kid = header.kid.ok_or("the token has no kid")?;
        let key = self.key(rp, &kid).await?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[rp.issuer()]);
        validation.set_audience(&[rp.client_id()]);
        validation.set_required_spec_claims(&["iss", "aud", "exp"]);
        validation.leeway = LEEWAY_SECS;
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            token,
            &key,
            &validation,
        )
        .map_err(|e| format!("token: {e}"))?;
        // `jsonwebtoken` also lets an array `iss` through when it holds the
        // issuer; RFC 7519 makes `iss` one string, and OpenID Connect wants
        // it to match the issuer exactly.
        if data.claims.get("iss").and_then(|v| v.as_str()) != Some(rp.issuer()) {
            return Err("iss is not the provider's issuer (one string)".into());
        }
        // Section 2.6 step 5: a nonce claim, whatever its value (even
        // `null`), refuses the token; it would otherwise pass for an ID token.
        if data.claims.contains_key("nonce") {
            return Err("a logout token must not contain a nonce".into());
        }
        let claims: Claims = serde_json::from_value(serde_json::Value::Object(data.claims))
            .map_err(|e| format!("claims: {e}"))?;
        // `jsonwebtoken` checks `exp` against the system clock; check it
        // against `now` too, the clock of every other time check here.
        if claims.exp.saturating_add(LEEWAY_SECS as i64) < now {
            return Err("exp has passed".into());
        }
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
        // An empty identifier names no session: refuse rather than guess.
        if claims.sid.as_deref() == Some("") || claims.sub.as_deref() == Some("") {
            return Err("empty sid or sub".into());
        }
        if claims.jti.is_empty() {
            return Err("empty jti".into());
        }
        let mut seen = self.seen.lock().await;
        // Forget the tokens the age check refuses anyway (see `seen`).
        seen.retain(|_, iat| *iat + MAX_AGE_SECS >= now);
        if seen.contains_key(&claims.jti) {
            return Err("this logout token was already used (jti)".into());
        }
        seen.insert(claims.jti, claims.iat);
        Ok(LogoutRequest {
            sid: claims.sid,
            sub: claims.sub,
        })
    }
}

#[cfg(test)]
mod tests;
