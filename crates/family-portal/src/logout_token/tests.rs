//! Direct, adversarial tests of the validator (Back-Channel Logout 1.0,
//! sections 2.4 and 2.6): a local provider (discovery and JWKS on
//! 127.0.0.1) with a fresh P-256 key, and tokens signed by hand so that
//! every header and claim can be made wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU64, Ordering};

use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

use super::*;

const CLIENT_ID: &str = "family-portal";
const KID: &str = "op-key-1";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn new_key() -> EcdsaKeyPair {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap()
}

/// The public JWK of `key` (ring gives the uncompressed point 04||x||y).
fn jwk(key: &EcdsaKeyPair, kid: &str) -> Value {
    let point = key.public_key().as_ref();
    assert_eq!(point.len(), 65);
    json!({
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
        "x": b64(&point[1..33]), "y": b64(&point[33..65]),
    })
}

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

fn fresh_jti() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("jti-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A provider on 127.0.0.1 (discovery and JWKS only), the portal's view
/// of it, and a validator. The server stops when the harness is dropped.
struct Op {
    key: EcdsaKeyPair,
    issuer: String,
    rp: RelyingParty,
    validator: LogoutTokenValidator,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Op {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Op {
    async fn start() -> Op {
        let key = new_key();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let discovery = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true,
        });
        let jwks = json!({ "keys": [jwk(&key, KID)] });
        let app = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || async move { Json(discovery) }),
            )
            .route("/jwks", get(move || async move { Json(jwks) }));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let rp = RelyingParty::new(
            &issuer.parse().unwrap(),
            CLIENT_ID,
            "secret",
            &"http://127.0.0.1:1/".parse().unwrap(),
            vec!["openid".into()],
            http,
        )
        .unwrap();
        Op {
            key,
            issuer,
            rp,
            validator: LogoutTokenValidator::default(),
            server,
        }
    }

    fn header(&self) -> Value {
        json!({ "alg": "ES256", "typ": LOGOUT_TYP, "kid": KID })
    }

    /// What sqin sends: every claim right, a fresh `jti`.
    fn claims(&self) -> Value {
        let now = now();
        json!({
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 120,
            "jti": fresh_jti(),
            "sub": "pairwise-alice",
            "sid": "op-session-1",
            "events": { BACKCHANNEL_EVENT: {} },
        })
    }

    fn token(&self, header: &Value, claims: &Value) -> String {
        sign(&self.key, header, claims)
    }

    /// A token with the right header and claims changed by `edit`.
    fn token_with(&self, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
        let mut claims = self.claims();
        edit(claims.as_object_mut().unwrap());
        self.token(&self.header(), &claims)
    }

    async fn check(&self, token: &str) -> Result<LogoutRequest, String> {
        self.validator.validate(&self.rp, token, now()).await
    }

    /// Asserts the token is refused, for a reason mentioning `why`, and
    /// that the validator still accepts a good token afterwards (so the
    /// refusal is the token's fault, not the harness's).
    async fn refuses(&self, token: &str, why: &str) {
        let err = self
            .check(token)
            .await
            .expect_err("the token must be refused");
        assert!(
            err.to_lowercase().contains(&why.to_lowercase()),
            "refused for {err:?}, expected {why:?}"
        );
        let good = self.token(&self.header(), &self.claims());
        self.check(&good).await.expect("a good token still passes");
    }
}

/// A compact JWS with exactly this header and these claims, ES256 by `key`.
fn sign(key: &EcdsaKeyPair, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = key.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
    format!("{input}.{}", b64(signature.as_ref()))
}

// --- Accepted ---------------------------------------------------------

#[tokio::test]
async fn accepts_a_valid_token_and_returns_sub_and_sid() {
    let op = Op::start().await;
    let token = op.token(&op.header(), &op.claims());
    assert_eq!(
        op.check(&token).await,
        Ok(LogoutRequest {
            sid: Some("op-session-1".into()),
            sub: Some("pairwise-alice".into()),
        })
    );
}

#[tokio::test]
async fn accepts_sid_alone_and_sub_alone() {
    let op = Op::start().await;
    let sid_only = op.token_with(|c| {
        c.remove("sub");
    });
    assert_eq!(
        op.check(&sid_only).await,
        Ok(LogoutRequest {
            sid: Some("op-session-1".into()),
            sub: None,
        })
    );
    let sub_only = op.token_with(|c| {
        c.remove("sid");
    });
    assert_eq!(
        op.check(&sub_only).await,
        Ok(LogoutRequest {
            sid: None,
            sub: Some("pairwise-alice".into()),
        })
    );
}

#[tokio::test]
async fn accepts_aud_as_an_array_with_the_client_id() {
    let op = Op::start().await;
    let token = op.token_with(|c| {
        c.insert("aud".into(), json!([CLIENT_ID]));
    });
    assert!(op.check(&token).await.is_ok());
}

// --- Header: typ, alg, kid, crit --------------------------------------

#[tokio::test]
async fn refuses_a_missing_typ() {
    let op = Op::start().await;
    let token = op.token(&json!({ "alg": "ES256", "kid": KID }), &op.claims());
    op.refuses(&token, "typ").await;
}

#[tokio::test]
async fn refuses_typ_jwt_and_other_types() {
    let op = Op::start().await;
    for typ in [
        "JWT",
        "jwt",
        "at+jwt",
        "secevent+jwt",
        "logout",
        "",
        "logout+jwt ",
    ] {
        let token = op.token(
            &json!({ "alg": "ES256", "typ": typ, "kid": KID }),
            &op.claims(),
        );
        op.refuses(&token, "typ").await;
    }
    let token = op.token(
        &json!({ "alg": "ES256", "typ": null, "kid": KID }),
        &op.claims(),
    );
    op.refuses(&token, "typ").await;
}

#[tokio::test]
async fn refuses_a_signature_by_an_unknown_key() {
    let op = Op::start().await;
    let intruder = new_key();
    // Its own kid, even with the key embedded or pointed to in the
    // header: only the provider's JWKS counts.
    let header = json!({
        "alg": "ES256", "typ": LOGOUT_TYP, "kid": "intruder",
        "jwk": jwk(&intruder, "intruder"),
        "jku": "http://127.0.0.1:1/jwks",
    });
    let token = sign(&intruder, &header, &op.claims());
    op.refuses(&token, "no key").await;
    // The provider's kid, but not the provider's key.
    let token = sign(&intruder, &op.header(), &op.claims());
    op.refuses(&token, "InvalidSignature").await;
}

#[tokio::test]
async fn refuses_a_tampered_payload() {
    let op = Op::start().await;
    let token = op.token(&op.header(), &op.claims());
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    claims["sub"] = json!("pairwise-mallory");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    );
    op.refuses(&forged, "InvalidSignature").await;
    // A signature cut short, or none at all.
    let cut = format!("{}.{}.{}", parts[0], parts[1], &parts[2][..20]);
    assert!(op.check(&cut).await.is_err());
    let bare = format!("{}.{}.", parts[0], parts[1]);
    assert!(op.check(&bare).await.is_err());
    // The genuine token, untouched, still passes.
    assert!(op.check(&token).await.is_ok());
}

#[tokio::test]
async fn refuses_a_tampered_header() {
    let op = Op::start().await;
    let token = op.token(&op.header(), &op.claims());
    let parts: Vec<&str> = token.split('.').collect();
    let header = json!({ "alg": "ES256", "typ": LOGOUT_TYP, "kid": KID, "x": 1 });
    let forged = format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        parts[1],
        parts[2]
    );
    op.refuses(&forged, "InvalidSignature").await;
}

#[tokio::test]
async fn refuses_alg_none() {
    let op = Op::start().await;
    for alg in ["none", "None", "NONE"] {
        let header = json!({ "alg": alg, "typ": LOGOUT_TYP, "kid": KID });
        let token = format!(
            "{}.{}.",
            b64(header.to_string().as_bytes()),
            b64(op.claims().to_string().as_bytes())
        );
        op.refuses(&token, "header").await;
    }
}

#[tokio::test]
async fn refuses_hmac_and_other_algorithms() {
    let op = Op::start().await;
    // The classic key confusion: HMAC keyed with the public key.
    let public = op.key.public_key().as_ref().to_vec();
    let jwk_text = jwk(&op.key, KID).to_string();
    for secret in [public.as_slice(), jwk_text.as_bytes()] {
        for (alg, hmac) in [
            ("HS256", ring::hmac::HMAC_SHA256),
            ("HS384", ring::hmac::HMAC_SHA384),
            ("HS512", ring::hmac::HMAC_SHA512),
        ] {
            let header = json!({ "alg": alg, "typ": LOGOUT_TYP, "kid": KID });
            let input = format!(
                "{}.{}",
                b64(header.to_string().as_bytes()),
                b64(op.claims().to_string().as_bytes())
            );
            let tag = ring::hmac::sign(&ring::hmac::Key::new(hmac, secret), input.as_bytes());
            let token = format!("{input}.{}", b64(tag.as_ref()));
            op.refuses(&token, "not accepted").await;
        }
    }
    // Asymmetric, but not what the provider signs with.
    for alg in ["ES384", "RS256", "PS256", "EdDSA"] {
        let header = json!({ "alg": alg, "typ": LOGOUT_TYP, "kid": KID });
        op.refuses(&op.token(&header, &op.claims()), "not accepted")
            .await;
    }
}

#[tokio::test]
async fn refuses_a_missing_kid() {
    let op = Op::start().await;
    let header = json!({ "alg": "ES256", "typ": LOGOUT_TYP });
    op.refuses(&op.token(&header, &op.claims()), "kid").await;
}

#[tokio::test]
async fn refuses_a_critical_header_extension() {
    let op = Op::start().await;
    let header = json!({
        "alg": "ES256", "typ": LOGOUT_TYP, "kid": KID,
        "crit": ["exp"], "exp": now() + 60,
    });
    op.refuses(&op.token(&header, &op.claims()), "crit").await;
}

#[tokio::test]
async fn refuses_what_is_not_a_jws() {
    let op = Op::start().await;
    let good = op.token(&op.header(), &op.claims());
    for junk in [
        "",
        ".",
        "..",
        "not-a-jwt",
        "a.b.c",
        &format!("{good}.extra"),
        &good.replace('.', ""),
    ] {
        assert!(op.check(junk).await.is_err(), "{junk:?} must be refused");
    }
}

// --- iss, aud ---------------------------------------------------------

#[tokio::test]
async fn refuses_a_wrong_or_missing_iss() {
    let op = Op::start().await;
    for iss in [
        json!("https://evil.example"),
        json!(format!("{}/", op.issuer)),
        json!(op.issuer.to_uppercase()),
        json!([op.issuer]),
        json!([op.issuer, "https://evil.example"]),
        json!(null),
    ] {
        let token = op.token_with(|c| {
            c.insert("iss".into(), iss.clone());
        });
        assert!(op.check(&token).await.is_err(), "iss {iss} must be refused");
    }
    let token = op.token_with(|c| {
        c.insert("iss".into(), json!("https://evil.example"));
    });
    op.refuses(&token, "InvalidIssuer").await;
    let token = op.token_with(|c| {
        c.remove("iss");
    });
    op.refuses(&token, "iss").await;
}

#[tokio::test]
async fn refuses_a_wrong_aud() {
    let op = Op::start().await;
    let token = op.token_with(|c| {
        c.insert("aud".into(), json!("revenue-office"));
    });
    op.refuses(&token, "InvalidAudience").await;
    let token = op.token_with(|c| {
        c.insert("aud".into(), json!(format!("{CLIENT_ID}x")));
    });
    op.refuses(&token, "InvalidAudience").await;
}

#[tokio::test]
async fn refuses_an_aud_array_without_the_client_id() {
    let op = Op::start().await;
    for aud in [json!(["revenue-office", "health"]), json!([])] {
        let token = op.token_with(|c| {
            c.insert("aud".into(), aud);
        });
        assert!(op.check(&token).await.is_err());
    }
    let token = op.token_with(|c| {
        c.insert("aud".into(), json!(["revenue-office", "health"]));
    });
    op.refuses(&token, "InvalidAudience").await;
}

#[tokio::test]
async fn refuses_a_missing_aud() {
    let op = Op::start().await;
    let token = op.token_with(|c| {
        c.remove("aud");
    });
    op.refuses(&token, "aud").await;
}

// --- iat, exp ---------------------------------------------------------

#[tokio::test]
async fn refuses_a_missing_iat() {
    let op = Op::start().await;
    let token = op.token_with(|c| {
        c.remove("iat");
    });
    op.refuses(&token, "iat").await;
    let token = op.token_with(|c| {
        c.insert("iat".into(), json!("now"));
    });
    assert!(op.check(&token).await.is_err());
}

#[tokio::test]
async fn refuses_an_iat_far_in_the_future() {
    let op = Op::start().await;
    for ahead in [LEEWAY_SECS as i64 + 5, 3600, 365 * 24 * 3600] {
        let token = op.token_with(|c| {
            c.insert("iat".into(), json!(now() + ahead));
            c.insert("exp".into(), json!(now() + ahead + 120));
        });
        op.refuses(&token, "iat").await;
    }
}

#[tokio::test]
async fn refuses_an_iat_too_old() {
    let op = Op::start().await;
    let token = op.token_with(|c| {
        c.insert("iat".into(), json!(now() - MAX_AGE_SECS - 10));
        c.insert("exp".into(), json!(now() + 120));
    });
    op.refuses(&token, "iat").await;
}

#[tokio::test]
async fn refuses_an_exp_in_the_past_or_missing() {
    let op = Op::start().await;
    let token = op.token_with(|c| {
        c.insert("iat".into(), json!(now() - 200));
        c.insert("exp".into(), json!(now() - LEEWAY_SECS as i64 - 10));
    });
    op.refuses(&token, "Expired").await;
    let token = op.token_with(|c| {
        c.remove("exp");
    });
    op.refuses(&token, "exp").await;
    // Against the `now` the caller passes too, not only the system clock.
    let token = op.token_with(|c| {
        c.insert("iat".into(), json!(now()));
        c.insert("exp".into(), json!(now() + 10));
    });
    let later = now() + 10 + LEEWAY_SECS as i64 + 1;
    let err = op
        .validator
        .validate(&op.rp, &token, later)
        .await
        .unwrap_err();
    assert!(err.contains("exp"), "{err}");
}

// --- events -----------------------------------------------------------

#[tokio::test]
async fn refuses_a_missing_events_claim() {
    let op = Op::start().await;
    let token = op.token_with(|c| {
        c.remove("events");
    });
    op.refuses(&token, "events").await;
}

#[tokio::test]
async fn refuses_events_that_is_not_an_object() {
    let op = Op::start().await;
    for events in [
        json!(BACKCHANNEL_EVENT),
        json!([BACKCHANNEL_EVENT]),
        json!(true),
        json!(null),
    ] {
        let token = op.token_with(|c| {
            c.insert("events".into(), events);
        });
        op.refuses(&token, "events").await;
    }
}

#[tokio::test]
async fn refuses_events_without_the_backchannel_member() {
    let op = Op::start().await;
    for events in [
        json!({}),
        json!({ "http://schemas.openid.net/event/frontchannel-logout": {} }),
        json!({ "https://schemas.openid.net/event/backchannel-logout": {} }),
        json!({ "http://schemas.openid.net/event/backchannel-logout/": {} }),
        // The member is there, but its value must be a JSON object.
        json!({ BACKCHANNEL_EVENT: true }),
        json!({ BACKCHANNEL_EVENT: null }),
        json!({ BACKCHANNEL_EVENT: [] }),
        json!({ BACKCHANNEL_EVENT: "" }),
    ] {
        let token = op.token_with(|c| {
            c.insert("events".into(), events);
        });
        op.refuses(&token, "events").await;
    }
}

// --- nonce, sub/sid, jti ----------------------------------------------

#[tokio::test]
async fn refuses_a_nonce_whatever_its_value() {
    let op = Op::start().await;
    for nonce in [json!("n-0S6_WzA2Mj"), json!(""), json!(null), json!({})] {
        let token = op.token_with(|c| {
            c.insert("nonce".into(), nonce);
        });
        op.refuses(&token, "nonce").await;
    }
}

#[tokio::test]
async fn refuses_neither_sub_nor_sid() {
    let op = Op::start().await;
    let token = op.token_with(|c| {
        c.remove("sub");
        c.remove("sid");
    });
    op.refuses(&token, "neither").await;
    let token = op.token_with(|c| {
        c.insert("sub".into(), json!(null));
        c.insert("sid".into(), json!(null));
    });
    op.refuses(&token, "neither").await;
}

#[tokio::test]
async fn refuses_an_empty_or_non_string_sub_or_sid() {
    let op = Op::start().await;
    for (name, value) in [
        ("sub", json!("")),
        ("sid", json!("")),
        ("sub", json!(42)),
        ("sid", json!(["op-session-1"])),
    ] {
        let token = op.token_with(|c| {
            c.insert(name.into(), value);
        });
        assert!(op.check(&token).await.is_err(), "{name} must be refused");
    }
    let token = op.token_with(|c| {
        c.remove("sid");
        c.insert("sub".into(), json!(""));
    });
    op.refuses(&token, "empty").await;
}

#[tokio::test]
async fn refuses_a_missing_or_empty_jti() {
    let op = Op::start().await;
    let token = op.token_with(|c| {
        c.remove("jti");
    });
    op.refuses(&token, "jti").await;
    let token = op.token_with(|c| {
        c.insert("jti".into(), json!(""));
    });
    op.refuses(&token, "jti").await;
    let token = op.token_with(|c| {
        c.insert("jti".into(), json!(7));
    });
    assert!(op.check(&token).await.is_err());
}

#[tokio::test]
async fn refuses_a_replayed_jti() {
    let op = Op::start().await;
    let token = op.token(&op.header(), &op.claims());
    assert!(op.check(&token).await.is_ok());
    op.refuses(&token, "already used").await;
    // Nor another token (fresh iat, new signature) reusing the jti.
    let mut claims = op.claims();
    let jti = serde_json::from_slice::<Value>(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap()["jti"]
        .clone();
    claims["jti"] = jti;
    claims["sub"] = json!("pairwise-bob");
    op.refuses(&op.token(&op.header(), &claims), "already used")
        .await;
}

#[tokio::test]
async fn a_refused_token_does_not_use_up_its_jti() {
    let op = Op::start().await;
    let mut claims = op.claims();
    claims["aud"] = json!("revenue-office");
    assert!(op.check(&op.token(&op.header(), &claims)).await.is_err());
    claims["aud"] = json!(CLIENT_ID);
    assert!(op.check(&op.token(&op.header(), &claims)).await.is_ok());
}

#[tokio::test]
async fn the_replay_memory_forgets_what_the_age_check_refuses() {
    let op = Op::start().await;
    let t0 = now();
    let first = op.token_with(|c| {
        c.insert("exp".into(), json!(i64::MAX));
    });
    op.validator.validate(&op.rp, &first, t0).await.unwrap();
    assert_eq!(op.validator.seen.lock().await.len(), 1);
    // Past the age limit, the first token is refused by its iat (not
    // by memory), and its jti is forgotten: the set stays bounded even
    // when the provider sets a far `exp`.
    let later = t0 + MAX_AGE_SECS + LEEWAY_SECS as i64;
    let err = op
        .validator
        .validate(&op.rp, &first, later)
        .await
        .unwrap_err();
    assert!(err.contains("iat"), "{err}");
    let second = op.token_with(|c| {
        c.insert("iat".into(), json!(later));
        c.insert("exp".into(), json!(i64::MAX));
    });
    op.validator.validate(&op.rp, &second, later).await.unwrap();
    let seen = op.validator.seen.lock().await;
    assert_eq!(seen.len(), 1);
    assert!(seen.values().all(|iat| *iat == later));
}
