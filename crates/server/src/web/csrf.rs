//! CSRF tokens: HMAC-SHA256(server key, "csrf" || browser cookie), checked in
//! constant time, and the extractors that check them before a handler runs.
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::json;
use sqin_crypto::{b64url, b64url_decode, HmacKey};
use subtle::ConstantTimeEq;

use super::Page;
use crate::state::AppState;

pub(crate) fn token(key: &HmacKey, browser: &str) -> String {
    b64url(&key.sign(&[b"csrf\0", browser.as_bytes()]))
}

pub(crate) fn verify(key: &HmacKey, browser: &str, presented: &str) -> bool {
    let expected = key.sign(&[b"csrf\0", browser.as_bytes()]);
    match b64url_decode(presented.trim()) {
        Some(raw) => bool::from(raw.as_slice().ct_eq(expected.as_slice())),
        None => false,
    }
}

/// A urlencoded form whose `csrf` field was checked. A bad token is a 403
/// error page ("go back, reload and try again"); the handler never runs.
pub struct CsrfForm<T> {
    pub page: Page,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let Ok(page) = Page::from_request_parts(&mut parts, state).await;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| {
                page.error(
                    StatusCode::BAD_REQUEST,
                    "error.bad_request.title",
                    "error.bad_request.body",
                )
            })?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let presented = pairs
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str());
        if !page.csrf_ok(presented) {
            return Err(page.error(StatusCode::FORBIDDEN, "error.csrf.title", "error.csrf.body"));
        }
        let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|_| {
            page.error(
                StatusCode::BAD_REQUEST,
                "error.bad_request.title",
                "error.bad_request.body",
            )
        })?;
        Ok(CsrfForm { page, form })
    }
}

/// A JSON body whose `X-CSRF-Token` header was checked. Failures are JSON
/// errors: 403 `csrf`, 400 `invalid_request`.
pub struct CsrfJson<T> {
    pub page: Page,
    pub body: T,
}

fn json_error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": code, "error_description": description })),
    )
        .into_response()
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let Ok(page) = Page::from_request_parts(&mut parts, state).await;
        let presented = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok());
        if !page.csrf_ok(presented) {
            return Err(page.finish(json_error(
                StatusCode::FORBIDDEN,
                "csrf",
                "missing or invalid X-CSRF-Token for this browser cookie",
            )));
        }
        let Json(body) = Json::<T>::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| json_error(StatusCode::BAD_REQUEST, "invalid_request", &e.body_text()))?;
        Ok(CsrfJson { page, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_bind_to_the_browser_and_key() {
        let key = HmacKey::from_bytes([7; 32]);
        let t = token(&key, "browser-a");
        assert!(verify(&key, "browser-a", &t));
        assert!(!verify(&key, "browser-b", &t));
        assert!(!verify(&HmacKey::from_bytes([8; 32]), "browser-a", &t));
        assert!(!verify(&key, "browser-a", "not base64!"));
        assert!(!verify(&key, "browser-a", ""));
    }
}
