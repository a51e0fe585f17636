//! The token endpoint's request, up to the database: the form body read by
//! `sqin_server::http::extract::OAuthForm` (the extractor of `/token`,
//! `/revoke` and `/introspect`), the client credentials from it and from the
//! `Authorization: Basic` header (`extract::credentials`), the token
//! request's parameters (`extract::token_request`), then a client
//! assertion's header and unverified issuer (`client_auth::peek_assertion`)
//! and its verification (`client_auth::check_assertion`, what
//! `verify_assertion` runs once the client's key is found):
//!
//! - under a fixed P-256 key the fuzzer cannot sign for (the signature
//!   path on arbitrary JWS), and
//! - once more with the assertion's own header and payload signed by the
//!   target under a key `check_assertion` trusts, so that arbitrary claims
//!   reach the checks of `aud`, `iss`, `sub`, `exp`, `nbf` and `jti`.
//!
//! Input: the first line is the Authorization header's value, the rest is
//! the form body (`application/x-www-form-urlencoded`).
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use libfuzzer_sys::fuzz_target;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use sqin_oidc::client_auth::{self, ASSERTION_TYPE};
use sqin_oidc::pkce;
use sqin_oidc::token::GrantType;
use sqin_server::http::extract::{self, OAuthForm};

const ISSUER: &str = "https://id.example";
const NOW: i64 = 1_999_999_900;

// RFC 7515 A.3's P-256 public key (the seeds' `assertion` is signed by it).
const X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const Y: &str = "x_FEzRjmU-0k8eB8r0bWMG2YIHCmvbaO3EmEbtWwRsE";

struct Keys {
    rfc7515: DecodingKey,
    /// A key generated at start-up, to sign the fuzzer's claims with.
    signer: EncodingKey,
    verifier: DecodingKey,
}

fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("generate");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("key pair");
        let point = pair.public_key().as_ref();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        Keys {
            rfc7515: DecodingKey::from_ec_components(X, Y).expect("RFC 7515 key"),
            signer: EncodingKey::from_ec_der(pkcs8.as_ref()),
            verifier: DecodingKey::from_ec_components(
                &b64.encode(&point[1..33]),
                &b64.encode(&point[33..65]),
            )
            .expect("generated key"),
        }
    })
}

/// The extractor only awaits an in-memory body: one poll finishes it.
fn ready<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("an in-memory extraction did not finish at once"),
    }
}

fn accepted(assertion: &str, header: &jsonwebtoken::Header, iss: &str, key: &DecodingKey) {
    let Ok((jti, exp)) = client_auth::check_assertion(assertion, header, key, ISSUER, iss, NOW)
    else {
        return;
    };
    assert!(!jti.is_empty() && jti.len() <= 256);
    assert!(
        i128::from(exp) + 30 >= i128::from(NOW),
        "an expired assertion accepted"
    );
    assert!(exp <= NOW + 600, "a long-lived assertion accepted");
    let payload = assertion
        .split('.')
        .nth(1)
        .expect("a verified JWS has a payload");
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("a verified payload is base64url"),
    )
    .expect("a verified payload is JSON");
    assert_eq!(
        claims["aud"].as_str(),
        Some(ISSUER),
        "aud is not the issuer alone"
    );
    assert_eq!(claims["iss"].as_str(), Some(iss));
    assert_eq!(claims["sub"].as_str(), Some(iss));
}

fuzz_target!(|data: &[u8]| {
    let (first, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&data[..0], data),
    };
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(first) {
        headers.insert(header::AUTHORIZATION, value);
    }
    let req = Request::builder()
        .method(Method::POST)
        .uri("/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_vec()))
        .expect("request");
    let Ok(OAuthForm(params)) = ready(OAuthForm::from_request(req, &())) else {
        return;
    };
    if let Ok(request) = extract::token_request(&params) {
        let _ = request.grant_type.as_deref().map(GrantType::from_name);
        if let Some(v) = request.code_verifier.as_deref() {
            let _ = pkce::valid_verifier(v);
        }
    }
    let creds = match extract::credentials(&headers, &params) {
        Ok(c) => c,
        Err(e) => {
            assert!(!e.description.is_empty());
            return;
        }
    };
    if let Some((id, _)) = &creds.basic {
        // RFC 6749 2.3.1: the id was form-url-decoded once, after the split.
        let _ = id.len();
    }
    let Some(assertion) = creds.client_assertion.as_deref() else {
        return;
    };
    let _ = creds.client_assertion_type.as_deref() == Some(ASSERTION_TYPE);
    let Ok((head, iss)) = client_auth::peek_assertion(assertion) else {
        return;
    };
    assert!(!matches!(
        head.alg,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ));
    let k = keys();
    accepted(assertion, &head, &iss, &k.rfc7515);
    // The same header and claims, signed by a key the check trusts.
    if head.alg == Algorithm::ES256 {
        if let Some((input, _)) = assertion.rsplit_once('.') {
            if let Ok(sig) =
                jsonwebtoken::crypto::sign(input.as_bytes(), &k.signer, Algorithm::ES256)
            {
                accepted(&format!("{input}.{sig}"), &head, &iss, &k.verifier);
            }
        }
    }
});
