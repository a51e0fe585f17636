//! Passkey pages and their JSON endpoints: enrolment with a mailed code,
//! sign-in, the account page (passkeys, recent sign-ins, signing out
//! everywhere), recovery.
//!
//! Handlers are thin: they take the [`Page`] (locale, browser binding, CSRF),
//! call one function of `sqin-webauthn` (or `sqin-app`), and map the outcome
//! to a page, a redirect or JSON. [`pages`] serves people; [`api`] serves
//! `passkeys.js` (documented in docs/passkeys.md).
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use sqin_session::{session_cookie_name, RESUME_PATH};
use sqin_webauthn::{clean_request, PasskeyError};

use super::error::ApiError;
use super::extract::session_token;
use super::AppState;
use crate::web::{self, set_cookie, Page};

mod api;
mod pages;

pub const ACCOUNT_PATH: &str = "/account";
/// Ends every session of the signed-in citizen and revokes every grant
/// issued under them (a CSRF-protected form on the account page).
pub const SIGNOUT_EVERYWHERE_PATH: &str = "/account/signout/everywhere";

/// The passkey pages and their JSON API (behind the pages' layer).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(sqin_session::LOGIN_PATH, get(pages::login_page))
        .route("/enrol", get(pages::enrol_page).post(pages::enrol_submit))
        .route("/enrol/passkey", get(pages::register_page))
        .route(ACCOUNT_PATH, get(pages::account_page))
        .route("/account/passkeys/rename", post(pages::rename))
        .route("/account/passkeys/remove", post(pages::remove))
        .route("/account/signout", post(pages::signout))
        .route(SIGNOUT_EVERYWHERE_PATH, post(pages::signout_everywhere))
        .route(
            "/account/close",
            get(pages::close_page).post(pages::close_submit),
        )
        .route("/api/passkeys/csrf", get(api::csrf))
        .route("/api/passkeys/enrol/verify", post(api::enrol_verify))
        .route("/api/passkeys/enrol/start", post(api::enrol_start))
        .route("/api/passkeys/enrol/finish", post(api::enrol_finish))
        .route("/api/passkeys/login/start", post(api::login_start))
        .route("/api/passkeys/login/finish", post(api::login_finish))
        .route("/api/passkeys/add/start", post(api::add_start))
        .route("/api/passkeys/add/finish", post(api::add_finish))
        .merge(web::asset_routes())
}

/// Where to go after a ceremony: back to the authorization request, or the
/// account page.
fn next_url(request: Option<&str>, fallback: &str) -> String {
    match clean_request(request) {
        Some(r) => format!("{RESUME_PATH}?request={r}"),
        None => fallback.to_owned(),
    }
}

fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// The passkey service's refusals as the JSON API answers them. The detail
/// of a refused ceremony is logged, never sent.
impl From<PasskeyError> for ApiError {
    fn from(e: PasskeyError) -> Self {
        let (status, code) = match &e {
            PasskeyError::CodeRefused => (StatusCode::BAD_REQUEST, "code_refused"),
            PasskeyError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            PasskeyError::Minor => (StatusCode::FORBIDDEN, "minor"),
            PasskeyError::CeremonyExpired => (StatusCode::BAD_REQUEST, "ceremony_expired"),
            PasskeyError::Rejected(reason) => {
                tracing::info!(reason = %reason, "passkey ceremony refused");
                (StatusCode::BAD_REQUEST, "passkey_rejected")
            }
            PasskeyError::SignCountRegression => (StatusCode::BAD_REQUEST, "sign_count_regression"),
            PasskeyError::AlreadyRegistered => (StatusCode::CONFLICT, "already_registered"),
            PasskeyError::ReauthenticationRequired => {
                (StatusCode::UNAUTHORIZED, "reauthentication_required")
            }
            PasskeyError::LastPasskey => (StatusCode::CONFLICT, "last_passkey"),
            PasskeyError::UnknownPasskey => (StatusCode::NOT_FOUND, "unknown_passkey"),
            PasskeyError::AccountUnavailable => (StatusCode::FORBIDDEN, "account_unavailable"),
            PasskeyError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            PasskeyError::Internal(_) | PasskeyError::Store(_) => {
                return ApiError::internal(e);
            }
        };
        let description = match &e {
            PasskeyError::Rejected(_) => code.to_owned(),
            other => other.to_string(),
        };
        let retry_after = match e {
            PasskeyError::RateLimited { retry_after } => {
                Some(u64::try_from(retry_after).unwrap_or(1))
            }
            _ => None,
        };
        ApiError {
            retry_after,
            ..ApiError::new(status, code, description)
        }
    }
}

/// Sets the new session cookie, and ends the session the browser had before
/// (a new ceremony replaces it; nothing of the old one lingers). A browser
/// that sent the cookie twice had no session sqin can tell apart: neither is
/// ended, and its next request is refused until the cookies are cleared.
async fn start_cookie_session(
    state: &AppState,
    page: &Page,
    headers: &HeaderMap,
    token: &str,
    mut response: Response,
) -> Response {
    if let Ok(Some(old)) = session_token(headers, page.secure()) {
        if let Ok(mut c) = state.store.pool().acquire().await {
            if let Err(e) = sqin_session::end(&mut c, &old, state.now()).await {
                tracing::warn!(error = %e, "could not end the previous session");
            }
        }
    }
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            session_cookie_name(page.secure()),
            token,
            page.secure(),
            None,
        ),
    );
    page.finish(response)
}
