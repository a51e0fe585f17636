//! The error page people see, as a handler's error type.
//!
//! A page handler returns `Result<Response, PageError>` and uses `?` on the
//! application's and the store's errors. A [`PageError`] carries what to
//! show ([`PageErrorSpec`]), not the rendered page: the [`render_errors`]
//! layer, which wraps every route that serves people, holds the request's
//! [`Page`] (language, cookies) and renders the spec in the person's
//! language. The same layer turns any response that carries a spec (a
//! rejected session extractor, an unavailable database) into its page, so
//! the mapping from error to page is written once.
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::Page;
use crate::state::AppState;

/// What to show instead of a handler's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageErrorSpec {
    /// The shared error page: a status, a title and a sentence saying what
    /// to do next (message keys).
    Page {
        status: StatusCode,
        title_key: &'static str,
        body_key: &'static str,
    },
    /// The sign-in error page, with a sentence about the request.
    SignIn { status: StatusCode, detail: String },
    /// The shared error page with a sentence of its own (what to correct).
    Message {
        status: StatusCode,
        title_key: &'static str,
        detail: String,
    },
    /// Somewhere else instead (the sign-in page when nobody is signed in).
    Redirect(String),
}

impl PageErrorSpec {
    /// The database or another dependency is down: 503, try again.
    pub fn unavailable() -> Self {
        Self::Page {
            status: StatusCode::SERVICE_UNAVAILABLE,
            title_key: "error.unavailable.title",
            body_key: "error.unavailable.body",
        }
    }
}

/// A page handler's error.
#[derive(Debug)]
pub struct PageError {
    pub spec: PageErrorSpec,
    /// Seconds before trying again makes sense.
    pub retry_after: Option<u64>,
}

impl PageError {
    pub fn page(status: StatusCode, title_key: &'static str, body_key: &'static str) -> Self {
        PageErrorSpec::Page {
            status,
            title_key,
            body_key,
        }
        .into()
    }

    /// An internal failure: logged with its cause, the person is told that
    /// nothing was changed.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "page failed");
        Self::page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal.title",
            "error.internal.body",
        )
    }

    /// The database is out of reach: 503 with `Retry-After`. Noted at debug
    /// level only: the store logs the loss once.
    pub fn unavailable(e: impl std::fmt::Display) -> Self {
        tracing::debug!(error = %e, "database unavailable");
        Self {
            spec: PageErrorSpec::unavailable(),
            retry_after: Some(crate::http::error::UNAVAILABLE_RETRY_AFTER),
        }
    }

    pub fn bad_request() -> Self {
        Self::page(
            StatusCode::BAD_REQUEST,
            "error.bad_request.title",
            "error.bad_request.body",
        )
    }

    /// The sign-in error page with `detail`.
    pub fn sign_in(detail: impl Into<String>) -> Self {
        PageErrorSpec::SignIn {
            status: StatusCode::BAD_REQUEST,
            detail: detail.into(),
        }
        .into()
    }

    /// Nobody is signed in: the sign-in page.
    pub fn sign_in_first() -> Self {
        PageErrorSpec::Redirect(sqin_session::LOGIN_PATH.to_owned()).into()
    }
}

impl From<PageErrorSpec> for PageError {
    fn from(spec: PageErrorSpec) -> Self {
        Self {
            spec,
            retry_after: None,
        }
    }
}

/// The 503 page when `e` was caused by the database being out of reach
/// (the store's probe is started), else the 500 page, logged.
fn storage_failure(e: &(dyn std::error::Error + 'static)) -> PageError {
    if sqin_store::health::report_cause(e) {
        PageError::unavailable(e)
    } else {
        PageError::internal(e)
    }
}

impl From<sqin_store::SqlxError> for PageError {
    fn from(e: sqin_store::SqlxError) -> Self {
        storage_failure(&e)
    }
}

impl From<sqin_store::StoreError> for PageError {
    fn from(e: sqin_store::StoreError) -> Self {
        storage_failure(&e)
    }
}

impl From<sqin_session::SessionError> for PageError {
    fn from(e: sqin_session::SessionError) -> Self {
        storage_failure(&e)
    }
}

impl From<sqin_ledger_service::LedgerServiceError> for PageError {
    fn from(e: sqin_ledger_service::LedgerServiceError) -> Self {
        storage_failure(&e)
    }
}

impl From<sqin_app::AppError> for PageError {
    fn from(e: sqin_app::AppError) -> Self {
        use sqin_app::AppError as E;
        let message = |status, title_key, detail: String| -> Self {
            PageErrorSpec::Message {
                status,
                title_key,
                detail,
            }
            .into()
        };
        if sqin_store::health::report_cause(&e) {
            return Self::unavailable(e);
        }
        match e {
            E::Forbidden => Self::page(
                StatusCode::FORBIDDEN,
                "error.forbidden.title",
                "error.forbidden.body",
            ),
            E::ReauthenticationRequired => Self::page(
                StatusCode::UNAUTHORIZED,
                "error.reauth.title",
                "error.reauth.body",
            ),
            E::RateLimited { retry_after } => Self {
                spec: PageErrorSpec::Page {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    title_key: "error.rate_limited.title",
                    body_key: "error.rate_limited.body",
                },
                retry_after: Some(u64::try_from(retry_after).unwrap_or(1)),
            },
            E::Refused(m) => message(StatusCode::BAD_REQUEST, "error.bad_request.title", m),
            E::NotFound(m) => message(StatusCode::NOT_FOUND, "error.not_found.title", m),
            E::Conflict(m) => message(StatusCode::CONFLICT, "error.conflict.title", m),
            E::Store(sqin_store::StoreError::Database(
                e @ (sqin_store::SqlxError::PoolTimedOut
                | sqin_store::SqlxError::PoolClosed
                | sqin_store::SqlxError::Io(_)),
            )) => Self::unavailable(e),
            other => Self::internal(other),
        }
    }
}

impl From<sqin_webauthn::PasskeyError> for PageError {
    fn from(e: sqin_webauthn::PasskeyError) -> Self {
        match e {
            sqin_webauthn::PasskeyError::RateLimited { retry_after } => Self {
                spec: PageErrorSpec::Page {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    title_key: "error.rate_limited.title",
                    body_key: "error.rate_limited.body",
                },
                retry_after: Some(u64::try_from(retry_after).unwrap_or(1)),
            },
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response.extensions_mut().insert(self.spec);
        response
    }
}

impl Page {
    /// The page for `spec`.
    pub fn show(&self, spec: &PageErrorSpec) -> Response {
        match spec {
            PageErrorSpec::Page {
                status,
                title_key,
                body_key,
            } => self.error(*status, title_key, body_key),
            PageErrorSpec::SignIn { status, detail } => self.render_status(
                *status,
                "signin_error.html",
                minijinja::context! { detail => detail },
            ),
            PageErrorSpec::Message {
                status,
                title_key,
                detail,
            } => self.render_status(
                *status,
                "error.html",
                minijinja::context! {
                    status => status.as_u16(),
                    title_key => title_key,
                    detail => detail,
                },
            ),
            PageErrorSpec::Redirect(to) => self.finish(Redirect::to(to).into_response()),
        }
    }
}

/// The layer of every route that serves people: makes the request's
/// [`Page`] once (handlers extract the same one), and renders any
/// [`PageErrorSpec`] a response carries as the page it names.
pub async fn render_errors(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let Ok(page) = Page::from_request_parts(&mut parts, &state).await;
    parts.extensions.insert(page.clone());
    let response = next.run(Request::from_parts(parts, body)).await;
    let Some(spec) = response.extensions().get::<PageErrorSpec>().cloned() else {
        return response;
    };
    let mut shown = page.show(&spec);
    for name in [header::RETRY_AFTER, header::SET_COOKIE] {
        for value in response.headers().get_all(&name) {
            shown.headers_mut().append(name.clone(), value.clone());
        }
    }
    shown
}
