//! The authorization endpoint as `sqin-server` reads it: the body of a
//! `POST /authorize` (and the same text as the query of a `GET`) extracted
//! by axum's `Form` / `Query` into the parameter list the handlers pass on,
//! then `sqin_oidc::authorize::requested_client_id` and
//! `sqin_oidc::authorize::validate`, the checks `authorize::begin` runs
//! (all of them but the client look-up, the `id_token_hint` signature, the
//! per-address budget and the insert, which need the database and keys).
//!
//! Invariants, the ones privacy and RFC 6749 rest on: an error is sent to a
//! redirect URI only if that URI is registered for the client; an accepted
//! request asks for `openid` and nothing beyond the client's scopes, has a
//! valid S256 challenge, stays within every length bound, and discloses no
//! claim beyond the client's registered purpose.
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::body::Body;
use axum::extract::{FromRequest, Query, Request};
use axum::http::{header, Method, Uri};
use axum::Form;
use libfuzzer_sys::fuzz_target;
use sqin_oidc::authorize::{self, AuthorizeError};
use sqin_oidc::{claims, pkce};
use sqin_store::clients::{
    AuthMethod, ClientRecord, ClientStatus, ClientType, SigningAlg, SubjectType,
};

const NOW: i64 = 1_900_000_000;
const TTL: i64 = 15 * 60;

/// The extractors only await an in-memory body: one poll finishes them.
fn ready<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("an in-memory extraction did not finish at once"),
    }
}

fn client(scopes: &[&str], narrowed: Option<&[&str]>, status: ClientStatus) -> ClientRecord {
    ClientRecord {
        client_id: "family".into(),
        name: "Family".into(),
        name_fr: None,
        client_type: ClientType::Confidential,
        secret_hash: None,
        token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
        redirect_uris: vec![
            "https://rp.example/cb".into(),
            "https://rp.example/cb?x=1".into(),
        ],
        post_logout_redirect_uris: Vec::new(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        claims: narrowed.map(|c| c.iter().map(|s| (*s).to_owned()).collect()),
        purpose: "fuzzing".into(),
        purpose_fr: None,
        sector: "rp.example".into(),
        subject_type: SubjectType::Pairwise,
        jwks: None,
        jwks_uri: None,
        backchannel_logout_uri: None,
        id_token_signed_response_alg: SigningAlg::Es256,
        pia_entry: None,
        status,
        status_reason: None,
        version: 1,
        registration_token_hash: None,
        created_at: 0,
        updated_at: 0,
    }
}

fn check(c: &ClientRecord, params: &[(String, String)]) {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    match authorize::validate(c, params, TTL, NOW) {
        Err(AuthorizeError::Redirect {
            redirect_uri,
            state,
            error,
        }) => {
            assert!(
                c.redirect_uris.contains(&redirect_uri),
                "an error sent to an unregistered redirect URI"
            );
            assert!(state.is_none_or(|s| s.len() <= 2048));
            assert!(error
                .description
                .bytes()
                .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E)));
        }
        Err(AuthorizeError::NoRedirect(_)) => {}
        // Only the record's random id can fail (no randomness).
        Err(AuthorizeError::Internal) => {}
        Err(e @ (AuthorizeError::RateLimited { .. } | AuthorizeError::Unavailable)) => {
            panic!("validate touched the storage: {e:?}")
        }
        Ok(record) => {
            assert_eq!(c.status, ClientStatus::Active);
            assert!(c.redirect_uris.contains(&record.redirect_uri));
            assert_eq!(get("response_type"), Some("code"));
            let scopes: Vec<&str> = record.scope.split(' ').collect();
            assert!(scopes.contains(&"openid"));
            for s in &scopes {
                assert!(
                    c.scopes.iter().any(|a| a == s),
                    "scope {s} beyond the client's"
                );
            }
            assert!(pkce::valid_challenge(&record.code_challenge));
            assert!(record.state.as_ref().is_none_or(|s| s.len() <= 2048));
            assert!(record.nonce.as_ref().is_none_or(|s| s.len() <= 512));
            assert!(record.claims.as_ref().is_none_or(|s| s.len() <= 2048));
            assert!(record.max_age.is_none_or(|m| m >= 0));
            assert_eq!(record.expires_at, NOW + TTL);
            assert_eq!(record.client_id, c.client_id);
            assert!(record.subject_hint.is_none() || record.claims.is_some());
            if let Some(p) = &record.prompt {
                assert!(!p.split(' ').any(|v| v == "none") || p == "none");
            }
            let allowed = authorize::allowed_claims(c);
            let disclosed = authorize::disclosed_claims(c, &record.scope, record.claims.as_deref());
            for name in &disclosed {
                assert!(
                    allowed.contains(&name.as_str()),
                    "{name} disclosed beyond the client's purpose"
                );
            }
            let mut dedup = disclosed.clone();
            dedup.dedup();
            assert_eq!(dedup, disclosed, "a claim disclosed twice");
            if let Some(verifier) = get("code_verifier") {
                if pkce::verify(verifier, &record.code_challenge) {
                    assert!(pkce::valid_verifier(verifier));
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // POST /authorize: the form body, as the handler's `Form` reads it.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/authorize")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(data.to_vec()))
        .expect("request");
    let Ok(Form(params)) = ready(Form::<Vec<(String, String)>>::from_request(req, &())) else {
        return;
    };
    // GET /authorize: the same text as a query string gives the same list.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(uri) = format!("/authorize?{text}").parse::<Uri>() {
            if uri.query() == Some(text) {
                let Query(from_query) =
                    Query::<Vec<(String, String)>>::try_from_uri(&uri).expect("query parses");
                assert_eq!(
                    from_query, params,
                    "GET and POST read the request differently"
                );
            }
        }
    }
    for target in ["id_token", "userinfo"] {
        let _ = claims::requested_claims(
            params
                .iter()
                .find(|(k, _)| k == "claims")
                .map(|(_, v)| v.as_str()),
            target,
        );
    }
    if authorize::requested_client_id(&params).is_err() {
        return;
    }
    let clients = [
        client(&["openid", "profile"], None, ClientStatus::Active),
        client(
            &[
                "openid",
                "profile",
                "birthdate",
                "address",
                "email",
                "offline_access",
            ],
            Some(&["name", "birthdate"]),
            ClientStatus::Active,
        ),
        client(&["openid"], None, ClientStatus::Pending),
    ];
    for c in &clients {
        check(c, &params);
    }
});
