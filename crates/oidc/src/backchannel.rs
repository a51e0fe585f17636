//! OpenID Back-Channel Logout 1.0, the provider's side: when a session ends
//! or a consent is withdrawn, each relying party that registered a
//! `backchannel_logout_uri` and holds a grant from it is owed a logout token.
//!
//! The notices are queued in the caller's transaction (so a logout is never
//! acknowledged without them) and delivered by the server's background task,
//! which signs each token at the attempt (so a retry never carries an expired
//! one) and retries with backoff. A logout token carries the RP's own
//! pairwise `sub` and the `sid` it saw in ID tokens (pairwise too, see
//! [`crate::subject`]), never the internal id or session handle, and never a
//! `nonce`.
use serde_json::json;
use sqin_crypto::{b64url, random_bytes, SigningAlg};
use sqin_store::backchannel::{self, Delivery};
use sqin_store::clients::ClientRecord;
use sqin_store::{clients, Connection};

use crate::jwt;
use crate::provider::Provider;
use crate::subject::{PairwiseSubject, SessionSid};
use crate::OidcError;

pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// Seconds a logout token is valid after signing.
pub const TOKEN_LIFETIME: i64 = 120;

fn notice(
    client: &ClientRecord,
    uri: &str,
    sub: String,
    sid: Option<String>,
    now: i64,
) -> Result<Delivery, OidcError> {
    Ok(Delivery {
        id: b64url(&random_bytes::<16>()?),
        client_id: client.client_id.clone(),
        uri: uri.to_owned(),
        sub,
        sid,
        created_at: now,
        attempts: 0,
        next_attempt_at: now,
        delivered_at: None,
        gave_up_at: None,
        last_error: None,
    })
}

/// Queues a notice for every RP that received grants under the session.
pub async fn queue_session_logout(
    conn: &mut Connection,
    provider: &Provider,
    session_id: &str,
    now: i64,
) -> Result<usize, OidcError> {
    let mut queued = 0;
    for (client_id, citizen_id) in backchannel::clients_of_session(conn, session_id).await? {
        let Some(client) = clients::get(conn, &client_id).await? else {
            continue;
        };
        let Some(uri) = client.backchannel_logout_uri.clone() else {
            continue;
        };
        let sub =
            PairwiseSubject::for_client(&provider.pairwise_key, &client, &citizen_id).into_string();
        let sid = SessionSid::for_client(&provider.pairwise_key, &client, session_id).into_string();
        backchannel::enqueue(conn, &notice(&client, &uri, sub, Some(sid), now)?).await?;
        queued += 1;
    }
    Ok(queued)
}

/// Queues a notice ending every session of the citizen at one RP (consent
/// withdrawn): `sub` only, which the specification allows.
pub async fn queue_citizen_logout(
    conn: &mut Connection,
    provider: &Provider,
    citizen_id: &str,
    client_id: &str,
    now: i64,
) -> Result<bool, OidcError> {
    let Some(client) = clients::get(conn, client_id).await? else {
        return Ok(false);
    };
    let Some(uri) = client.backchannel_logout_uri.clone() else {
        return Ok(false);
    };
    let sub =
        PairwiseSubject::for_client(&provider.pairwise_key, &client, citizen_id).into_string();
    backchannel::enqueue(conn, &notice(&client, &uri, sub, None, now)?).await?;
    Ok(true)
}

/// The logout token for a delivery attempt (`typ` `logout+jwt`, section 2.4),
/// signed like the client's ID tokens (`alg`: its
/// `id_token_signed_response_alg`; section 2.4 uses the ID tokens' keys).
pub fn logout_token(
    provider: &Provider,
    delivery: &Delivery,
    alg: SigningAlg,
    now: i64,
) -> Result<String, OidcError> {
    let mut claims = json!({
        "iss": provider.issuer,
        "aud": delivery.client_id,
        "iat": now,
        "exp": now + TOKEN_LIFETIME,
        "jti": b64url(&random_bytes::<16>()?),
        "sub": delivery.sub,
        "events": { EVENT: {} },
    });
    if let Some(sid) = &delivery.sid {
        claims["sid"] = json!(sid);
    }
    jwt::sign(provider.keys.signing_key_for(alg), "logout+jwt", &claims)
        .map_err(|e| OidcError::KeyMaterial(e.to_string()))
}

/// When to try again after `attempts` failed attempts; `None`: give up.
pub fn retry_at(attempts: i64, now: i64) -> Option<i64> {
    const BACKOFF: [i64; 6] = [5, 30, 120, 600, 3600, 6 * 3600];
    usize::try_from(attempts.saturating_sub(1))
        .ok()
        .and_then(|i| BACKOFF.get(i))
        .map(|delay| now + delay)
}
