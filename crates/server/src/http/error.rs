//! One error type per audience, each implementing `IntoResponse` once, so a
//! handler returns `Result<_, E>` and uses `?`:
//!
//! - [`OAuthJson`]: the protocol endpoints (`/token`, `/introspect`,
//!   `/revoke`): RFC 6749 section 5.2 JSON, `Cache-Control: no-store`, and
//!   `WWW-Authenticate: Basic` with a 401 for `invalid_client`.
//! - [`BearerError`]: resource endpoints (`/userinfo`): RFC 6750 section 3,
//!   the error in a `Bearer` challenge and in the body.
//! - [`ApiError`]: the JSON APIs for people's own browsers (the ledger, the
//!   passkey ceremonies, the citizen's data): RFC 9457 problem details, with
//!   `error` and `error_description` members kept for the clients written
//!   against them.
//! - [`crate::web::PageError`]: pages for people.
//!
//! Internal failures are logged here, with their cause, and answered with a
//! bare message: nothing about the server's insides reaches a client.
//!
//! A database out of reach is not a client's fault nor an internal error:
//! it is answered 503 with `Retry-After` ([`UNAVAILABLE_RETRY_AFTER`]), and
//! not logged per request: the store's health tracker logs the loss and the
//! return once each ([`sqin_store::health`]), and each error met here starts
//! its probe ([`sqin_store::health::report`]).
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use sqin_oidc::{ErrorCode, OAuthError};

use crate::web::PageErrorSpec;

/// Seconds a client is told to wait when the database is out of reach (the
/// store tries it again every 500 ms).
pub const UNAVAILABLE_RETRY_AFTER: u64 = 5;

/// Whether `e` says the database is out of reach; if so the store's probe
/// is started, and the error is noted at debug level only.
fn database_unavailable(e: &sqin_store::SqlxError) -> bool {
    sqin_store::health::report(e);
    let unavailable = sqin_store::health::is_unavailable(e);
    if unavailable {
        tracing::debug!(error = %e, "database unavailable");
    }
    unavailable
}

fn no_store(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A protocol endpoint's error (RFC 6749 section 5.2).
#[derive(Debug)]
pub struct OAuthJson(pub OAuthError);

impl From<OAuthError> for OAuthJson {
    fn from(e: OAuthError) -> Self {
        Self(e)
    }
}

impl From<sqin_oidc::client_auth::ClientAuthError> for OAuthJson {
    fn from(e: sqin_oidc::client_auth::ClientAuthError) -> Self {
        Self(e.error)
    }
}

impl From<sqin_store::SqlxError> for OAuthJson {
    fn from(e: sqin_store::SqlxError) -> Self {
        if database_unavailable(&e) {
            return Self(OAuthError::temporarily_unavailable());
        }
        tracing::error!(error = %e, "database failed");
        Self(OAuthError::server_error())
    }
}

impl From<sqin_store::StoreError> for OAuthJson {
    fn from(e: sqin_store::StoreError) -> Self {
        match e {
            sqin_store::StoreError::Database(e) => e.into(),
            other => {
                tracing::error!(error = %other, "storage failed");
                Self(OAuthError::server_error())
            }
        }
    }
}

impl IntoResponse for OAuthJson {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = match e.code {
            ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut response = (
            status,
            Json(json!({ "error": e.code.as_str(), "error_description": e.description })),
        )
            .into_response();
        if e.code == ErrorCode::TemporarilyUnavailable {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(UNAVAILABLE_RETRY_AFTER),
            );
        }
        if e.code == ErrorCode::InvalidClient {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"sqin\", charset=\"UTF-8\""),
            );
        }
        no_store(response)
    }
}

/// A protocol request refused before its handler ran (by an extractor or a
/// method router): the JSON and headers of [`OAuthJson`], with the HTTP
/// status that says what was wrong with the request itself when it is not
/// the code's own (413 for a body over the limit, 405 for another method).
#[derive(Debug)]
pub struct OAuthRejection {
    pub status: Option<StatusCode>,
    pub error: OAuthJson,
}

impl From<OAuthJson> for OAuthRejection {
    fn from(error: OAuthJson) -> Self {
        Self {
            status: None,
            error,
        }
    }
}

impl From<OAuthError> for OAuthRejection {
    fn from(e: OAuthError) -> Self {
        OAuthJson(e).into()
    }
}

impl From<sqin_oidc::client_auth::ClientAuthError> for OAuthRejection {
    fn from(e: sqin_oidc::client_auth::ClientAuthError) -> Self {
        OAuthJson::from(e).into()
    }
}

impl IntoResponse for OAuthRejection {
    fn into_response(self) -> Response {
        let mut response = self.error.into_response();
        if let Some(status) = self.status {
            *response.status_mut() = status;
        }
        response
    }
}

/// What a protocol endpoint answers to a method it does not take: 405, in
/// its own JSON (the method router adds `Allow`).
pub async fn oauth_method_not_allowed() -> OAuthRejection {
    OAuthRejection {
        status: Some(StatusCode::METHOD_NOT_ALLOWED),
        error: OAuthJson(OAuthError::invalid_request(
            "this endpoint takes POST with an application/x-www-form-urlencoded body",
        )),
    }
}

/// A resource endpoint's error (RFC 6750 section 3).
#[derive(Debug)]
pub struct BearerError {
    pub error: OAuthError,
    /// No token was presented at all: the challenge names no error
    /// (RFC 6750 section 3.1).
    pub missing: bool,
}

impl BearerError {
    /// No access token in the request.
    pub fn missing() -> Self {
        Self {
            error: OAuthError::invalid_request("an access token is required"),
            missing: true,
        }
    }
}

impl From<OAuthError> for BearerError {
    fn from(error: OAuthError) -> Self {
        Self {
            error,
            missing: false,
        }
    }
}

impl From<sqin_store::SqlxError> for BearerError {
    fn from(e: sqin_store::SqlxError) -> Self {
        OAuthJson::from(e).0.into()
    }
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let e = self.error;
        let (status, challenge) = if self.missing {
            (StatusCode::UNAUTHORIZED, "Bearer realm=\"sqin\"".to_owned())
        } else {
            let status = match e.code {
                ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
                _ => StatusCode::UNAUTHORIZED,
            };
            (
                status,
                format!(
                    "Bearer realm=\"sqin\", error=\"{}\", error_description=\"{}\"",
                    e.code.as_str(),
                    e.description.replace('"', "'")
                ),
            )
        };
        let mut response = (
            status,
            Json(json!({ "error": e.code.as_str(), "error_description": e.description })),
        )
            .into_response();
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        no_store(response)
    }
}

/// A JSON API's error, as RFC 9457 problem details.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// A stable, machine-readable code (`invalid_request`, `not_found`, ...).
    pub code: &'static str,
    /// What went wrong and what to do, for a person.
    pub description: String,
    /// Seconds before a retry can succeed (rate limits, outages).
    pub retry_after: Option<u64>,
    /// Sent as well when a page route answers with this error: the page to
    /// show a person instead of JSON.
    pub page: Option<PageErrorSpec>,
    /// Which fields of the request are wrong, and how (the `errors`
    /// extension member); boxed, as most errors have none.
    pub fields: Option<Box<FieldErrors>>,
}

/// `(field, what is wrong with it)`, in the order found.
#[derive(Debug, Default)]
pub struct FieldErrors(pub Vec<(String, String)>);

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            retry_after: None,
            page: None,
            fields: None,
        }
    }

    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", description)
    }

    /// An internal failure: logged with its cause, answered without it.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the server could not answer; try again later",
        )
    }

    /// The database cannot be reached: 503 with a retry delay, never a 4xx.
    /// Not logged here (the store logs the loss once).
    pub fn unavailable(e: impl std::fmt::Display) -> Self {
        tracing::debug!(error = %e, "database unavailable");
        Self {
            retry_after: Some(UNAVAILABLE_RETRY_AFTER),
            page: Some(PageErrorSpec::unavailable()),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the service is temporarily unavailable; try again in a few seconds",
            )
        }
    }
}

impl From<sqin_store::SqlxError> for ApiError {
    fn from(e: sqin_store::SqlxError) -> Self {
        if database_unavailable(&e) {
            Self::unavailable(e)
        } else {
            Self::internal(e)
        }
    }
}

impl From<sqin_store::StoreError> for ApiError {
    fn from(e: sqin_store::StoreError) -> Self {
        match e {
            sqin_store::StoreError::Database(e) => e.into(),
            other => Self::internal(other),
        }
    }
}

impl From<sqin_session::SessionError> for ApiError {
    fn from(e: sqin_session::SessionError) -> Self {
        match e {
            sqin_session::SessionError::Store(e) => e.into(),
            other => Self::internal(other),
        }
    }
}

impl From<sqin_ledger_service::LedgerServiceError> for ApiError {
    fn from(e: sqin_ledger_service::LedgerServiceError) -> Self {
        use sqin_ledger_service::LedgerServiceError as E;
        match e {
            E::InvalidRequest(m) => Self::bad_request(m),
            E::NotFound(what) => Self::not_found(format!("no such {what}")),
            E::Store(e) => e.into(),
            other => Self::internal(other),
        }
    }
}

/// Whether an application error says the database is out of reach (a
/// 503), through whichever domain crate it came; nothing is logged per
/// request (the store has started its probe when the error was made).
pub fn app_unavailable(e: &sqin_app::AppError) -> bool {
    let unavailable = sqin_store::health::caused_by_unavailable(e);
    if unavailable {
        tracing::debug!(error = %e, "database unavailable");
    }
    unavailable
}

/// The HTTP status an application error answers with, everywhere.
pub fn app_status(e: &sqin_app::AppError) -> StatusCode {
    use sqin_app::AppError as E;
    use sqin_oidc::OidcError as O;
    if app_unavailable(e) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match e {
        E::Refused(_) => StatusCode::BAD_REQUEST,
        E::NotFound(_) => StatusCode::NOT_FOUND,
        E::Conflict(_) => StatusCode::CONFLICT,
        E::Stale(_) => StatusCode::PRECONDITION_FAILED,
        E::Forbidden => StatusCode::FORBIDDEN,
        E::ReauthenticationRequired => StatusCode::UNAUTHORIZED,
        E::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        E::Oidc(O::InvalidMetadata { .. } | O::BeyondPia { .. }) => StatusCode::BAD_REQUEST,
        E::Oidc(O::UnknownClient) => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<sqin_app::AppError> for ApiError {
    fn from(e: sqin_app::AppError) -> Self {
        use sqin_app::AppError as E;
        use sqin_oidc::OidcError as O;
        if app_unavailable(&e) {
            return Self::unavailable(e);
        }
        match e {
            E::Oidc(O::InvalidMetadata { field, message }) => Self {
                fields: Some(Box::new(FieldErrors(vec![(
                    field.to_owned(),
                    message.clone(),
                )]))),
                ..Self::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_client_metadata",
                    format!("{field}: {message}"),
                )
            },
            E::Oidc(O::BeyondPia { entry, overreach }) => Self {
                fields: Some(Box::new(FieldErrors(
                    overreach
                        .iter()
                        .map(|o| (o.field.to_owned(), o.detail.clone()))
                        .collect(),
                ))),
                ..Self::new(
                    StatusCode::BAD_REQUEST,
                    "beyond_pia",
                    format!("the registration goes beyond PIA entry {entry}"),
                )
            },
            E::Oidc(O::UnknownClient) => Self::not_found("no such relying party"),
            E::Stale(m) => Self::new(StatusCode::PRECONDITION_FAILED, "stale", m),
            E::Refused(m) => Self::bad_request(m),
            E::NotFound(m) => Self::not_found(m),
            E::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            E::Forbidden => Self::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "your role does not allow this",
            ),
            E::ReauthenticationRequired => Self::new(
                StatusCode::UNAUTHORIZED,
                "reauthentication_required",
                "confirm with your passkey first",
            ),
            E::RateLimited { retry_after } => Self {
                retry_after: Some(u64::try_from(retry_after).unwrap_or(1)),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "too many attempts",
                )
            },
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error").to_owned();
        let body = json!({
            "type": "about:blank",
            "title": title,
            "status": self.status.as_u16(),
            "detail": self.description,
            "error": self.code,
            "error_description": self.description,
        });
        let mut body = body;
        if let Some(fields) = &self.fields {
            body["errors"] = fields
                .0
                .iter()
                .map(|(field, detail)| json!({ "field": field, "detail": detail }))
                .collect();
        }
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                headers.insert(header::RETRY_AFTER, v);
            }
        }
        if let Some(spec) = self.page {
            response.extensions_mut().insert(spec);
        }
        response
    }
}
