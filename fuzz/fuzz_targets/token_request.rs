//! The token endpoint's client authentication, up to the database: the
//! `Authorization: Basic` header and the form's credentials as the HTTP edge
//! extracts them (`sqin_server::http::extract::credentials`), then a client
//! assertion's header and unverified issuer (`client_auth::peek_assertion`)
//! and its verification by `jsonwebtoken` under the same settings as
//! `client_auth::verify_assertion`, with a fixed ES256 key.
//!
//! Input: the first line is the Authorization header's value, the rest is
//! the form body (`application/x-www-form-urlencoded`).
#![no_main]

use axum::http::{header, HeaderMap, HeaderValue};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use libfuzzer_sys::fuzz_target;
use sqin_oidc::client_auth;

// RFC 7515 A.3's P-256 public key.
const X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const Y: &str = "x_FEzRjmU-0k8eB8r0bWMG2YIHCmvbaO3EmEbtWwRsE";

fuzz_target!(|data: &[u8]| {
    let (first, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&data[..0], data),
    };
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_bytes(first) {
        headers.insert(header::AUTHORIZATION, value);
    }
    let params: Vec<(String, String)> = url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();

    if let Ok(Some((id, secret))) = sqin_server::http::extract::basic_credentials(&headers) {
        // Both parts were form-url-decoded once: no ':' can come from the
        // separator itself into the id.
        let _ = (id.len(), secret.len());
    }
    let creds = match sqin_server::http::extract::credentials(&headers, &params) {
        Ok(c) => c,
        Err(e) => {
            assert!(!e.description.is_empty());
            return;
        }
    };
    let assertion = match creds.client_assertion.as_deref() {
        Some(a) => a.to_owned(),
        None => String::from_utf8_lossy(body).into_owned(),
    };
    let Ok((head, iss)) = client_auth::peek_assertion(&assertion) else {
        return;
    };
    assert!(head.alg != Algorithm::HS256 && head.alg != Algorithm::HS384 && head.alg != Algorithm::HS512);
    let Ok(key) = DecodingKey::from_ec_components(X, Y) else {
        return;
    };
    let mut validation = Validation::new(head.alg);
    validation.set_audience(&["https://id.example", "https://id.example/token"]);
    validation.set_issuer(&[iss.as_str()]);
    validation.sub = Some(iss.clone());
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let _ = jsonwebtoken::decode::<serde_json::Value>(&assertion, &key, &validation);
});
