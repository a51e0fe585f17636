//! RP-Initiated Logout 1.0: validate the relying party's request, decide
//! whether the citizen must confirm, end the session.
use serde_json::Value;
use sqin_session::AuthenticatedSession;
use sqin_store::clients::{self, ClientRecord};
use sqin_store::Connection;
use url::Url;

use crate::jwt;
use crate::provider::Provider;
use crate::subject::SessionSid;

#[derive(Debug, Default, Clone)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
    pub ui_locales: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidLogout {
    pub client: Option<ClientRecord>,
    /// Where to send the browser afterwards, `state` included.
    pub redirect: Option<String>,
    /// The hint names this very session: log out without asking (an RP
    /// cannot log out someone else's session by replaying an old hint).
    pub hint_matches_session: bool,
}

/// Validates the request; the error is a message for the person (no
/// redirect to an unverified URI, ever).
pub async fn validate(
    conn: &mut Connection,
    provider: &Provider,
    req: &LogoutRequest,
    session: Option<&AuthenticatedSession>,
) -> Result<ValidLogout, String> {
    let mut hint_client = None;
    let mut hint_sid = None;
    if let Some(hint) = &req.id_token_hint {
        let claims = verify_id_token_hint(provider, hint).map_err(|e| match e {
            HintError::Invalid => "the logout request carries an invalid id_token_hint".to_owned(),
            HintError::OtherIssuer => {
                "the id_token_hint was not issued by this provider".to_owned()
            }
        })?;
        hint_client = claims.get("aud").and_then(Value::as_str).map(str::to_owned);
        hint_sid = claims.get("sid").and_then(Value::as_str).map(str::to_owned);
    }
    let client_id = match (&req.client_id, &hint_client) {
        (Some(a), Some(b)) if a != b => {
            return Err("client_id does not match the id_token_hint".into())
        }
        (Some(a), _) => Some(a.clone()),
        (None, b) => b.clone(),
    };
    let client = match &client_id {
        Some(id) => Some(
            clients::get(conn, id)
                .await
                .map_err(|_| "the service is temporarily unavailable".to_owned())?
                .ok_or_else(|| "the client is not registered with this provider".to_owned())?,
        ),
        None => None,
    };
    let redirect = match &req.post_logout_redirect_uri {
        None => None,
        Some(uri) => {
            let client = client.as_ref().ok_or_else(|| {
                "post_logout_redirect_uri needs id_token_hint or client_id to identify the client".to_owned()
            })?;
            if !client.post_logout_redirect_uris.iter().any(|r| r == uri) {
                return Err("post_logout_redirect_uri is not registered for this client".into());
            }
            let mut url =
                Url::parse(uri).map_err(|_| "invalid post_logout_redirect_uri".to_owned())?;
            if let Some(state) = &req.state {
                url.query_pairs_mut().append_pair("state", state);
            }
            Some(url.to_string())
        }
    };
    // The hint's sid is the session as the hint's RP saw it (pairwise per
    // sector): recompute that RP's sid of this session and compare.
    let hint_matches_session = match (session, hint_sid, &client) {
        (Some(s), Some(sid), Some(c)) if hint_client.as_deref() == Some(c.client_id.as_str()) => {
            SessionSid::matches(&provider.pairwise_key, c, &s.session_id, &sid)
        }
        _ => false,
    };
    Ok(ValidLogout {
        client,
        redirect,
        hint_matches_session,
    })
}

/// Why an `id_token_hint` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HintError {
    /// Not an ID token signed by this provider's keys (a bad signature, or
    /// another of sqin's tokens: an access token, a logout token).
    Invalid,
    /// Signed by these keys but for another issuer.
    OtherIssuer,
}

/// The `typ` sqin's ID tokens carry (`token.rs`); access tokens are
/// `at+jwt` (RFC 9068) and logout tokens `logout+jwt`.
const ID_TOKEN_TYP: &str = "JWT";

/// Verifies an `id_token_hint` (at logout and at the authorization
/// endpoint): one of this provider's ID tokens, expired or not (OIDC Core
/// 3.1.2.1), for one client (`aud` a single string), and no other kind of
/// token sqin signs, whatever its claims.
pub(crate) fn verify_id_token_hint(
    provider: &Provider,
    hint: &str,
) -> Result<serde_json::Map<String, Value>, HintError> {
    let claims =
        jwt::verify(&provider.keys, hint, Some(ID_TOKEN_TYP)).map_err(|_| HintError::Invalid)?;
    if claims.contains_key("events") || claims.contains_key("scope") {
        // A logout token or an access token, whatever its header says.
        return Err(HintError::Invalid);
    }
    if !claims.get("aud").is_some_and(Value::is_string)
        || !claims.get("sub").is_some_and(Value::is_string)
    {
        return Err(HintError::Invalid);
    }
    if claims.get("iss").and_then(Value::as_str) != Some(provider.issuer.as_str()) {
        return Err(HintError::OtherIssuer);
    }
    Ok(claims)
}
