//! RFC 7591 (registration) and RFC 7592 (configuration management): the
//! ministries' pipelines register and manage their own clients. Handlers
//! extract, call `sqin_app::clients::dynamic`, and map its error once.
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use sqin_app::clients::dynamic::{self, DcrError};

use crate::http::AppState;

/// An RFC 7591 / 7592 error response.
pub(super) struct RegistrationError(DcrError);

impl From<DcrError> for RegistrationError {
    fn from(e: DcrError) -> Self {
        Self(e)
    }
}

impl IntoResponse for RegistrationError {
    fn into_response(self) -> Response {
        let (status, code, description) = match self.0 {
            DcrError::InvalidToken(m) => (StatusCode::UNAUTHORIZED, "invalid_token", m),
            DcrError::InvalidRedirectUri(m) => (StatusCode::BAD_REQUEST, "invalid_redirect_uri", m),
            DcrError::InvalidMetadata { field, message } => (
                StatusCode::BAD_REQUEST,
                "invalid_client_metadata",
                format!("{field}: {message}"),
            ),
            DcrError::App(e) => {
                let status = crate::http::error::app_status(&e);
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    // The database is out of reach (the store logs it once).
                    (
                        status,
                        "temporarily_unavailable",
                        "the service is temporarily unavailable; try again in a few seconds"
                            .to_owned(),
                    )
                } else if status.is_server_error() {
                    tracing::error!(error = %e, "client registration failed");
                    (
                        status,
                        "server_error",
                        "the registration could not be completed".to_owned(),
                    )
                } else {
                    (status, "invalid_request", e.to_string())
                }
            }
        };
        let mut response = (
            status,
            Json(json!({
                "error": code,
                "error_description": sqin_oidc::error::sanitize_description(&description),
            })),
        )
            .into_response();
        let h = response.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            h.insert(
                header::RETRY_AFTER,
                HeaderValue::from(crate::http::error::UNAVAILABLE_RETRY_AFTER),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sqin\", error=\"invalid_token\""),
            );
        }
        response
    }
}

fn bearer(headers: &HeaderMap) -> Result<String, RegistrationError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            RegistrationError(DcrError::InvalidToken(
                "send the access token as Authorization: Bearer".into(),
            ))
        })
}

fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, RegistrationError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    if !is_json {
        return Err(RegistrationError(DcrError::InvalidMetadata {
            field: "(body)".into(),
            message: "send the metadata as application/json".into(),
        }));
    }
    serde_json::from_slice(body).map_err(|e| {
        RegistrationError(DcrError::InvalidMetadata {
            field: "(body)".into(),
            message: format!("is not JSON: {e}"),
        })
    })
}

fn answer(status: StatusCode, body: Value) -> Response {
    let mut r = (status, Json(body)).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

/// `POST /register` (RFC 7591 3).
pub(super) async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, RegistrationError> {
    let token = bearer(&headers)?;
    let metadata = json_body(&headers, &body)?;
    let out = dynamic::register(&state, &token, &metadata).await?;
    Ok(answer(StatusCode::CREATED, out))
}

/// `GET /register/{client_id}` (RFC 7592 2.1).
pub(super) async fn read(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, RegistrationError> {
    let token = bearer(&headers)?;
    Ok(answer(
        StatusCode::OK,
        dynamic::read(&state, &client_id, &token).await?,
    ))
}

/// `PUT /register/{client_id}` (RFC 7592 2.2).
pub(super) async fn update(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, RegistrationError> {
    let token = bearer(&headers)?;
    let metadata = json_body(&headers, &body)?;
    Ok(answer(
        StatusCode::OK,
        dynamic::update(&state, &client_id, &token, &metadata).await?,
    ))
}

/// `DELETE /register/{client_id}` (RFC 7592 2.3).
pub(super) async fn delete(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, RegistrationError> {
    let token = bearer(&headers)?;
    dynamic::delete(&state, &client_id, &token).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
