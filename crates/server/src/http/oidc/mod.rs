//! The OpenID Provider endpoints. Each handler extracts the request, calls one
//! function of `sqin-oidc` (or `sqin-app`), and returns its outcome or the
//! error type of its audience; protocol decisions live in those crates.
//!
//! - [`authorize`]: the authorization endpoint, its resumption after a
//!   ceremony, and the consent page (pages for people);
//! - [`token`]: the token, userinfo, introspection and revocation endpoints
//!   (for relying parties), and discovery;
//! - [`logout`]: RP-initiated logout and consent withdrawal (pages).
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use sqin_oidc::provider::paths;

use super::error::oauth_method_not_allowed;
use super::AppState;

mod authorize;
mod logout;
mod register;
mod token;

/// The protocol endpoints, for relying parties.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(paths::DISCOVERY, get(token::metadata))
        .route(
            paths::TOKEN,
            post(token::token_endpoint).fallback(oauth_method_not_allowed),
        )
        .route(
            paths::USERINFO,
            get(token::userinfo).post(token::userinfo_post),
        )
        .route(
            paths::INTROSPECT,
            post(token::introspect).fallback(oauth_method_not_allowed),
        )
        .route(
            paths::REVOKE,
            post(token::revoke).fallback(oauth_method_not_allowed),
        )
        .route(paths::REGISTER, post(register::register))
        .route(
            paths::REGISTRATION,
            get(register::read)
                .put(register::update)
                .delete(register::delete),
        )
}

/// The endpoints a person's browser visits (behind the pages' layer).
pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route(
            paths::AUTHORIZE,
            get(authorize::authorize_get).post(authorize::authorize_post),
        )
        .route(sqin_session::RESUME_PATH, get(authorize::resume))
        .route(paths::CONSENT, post(authorize::consent))
        .route(
            paths::LOGOUT,
            get(logout::logout_get).post(logout::logout_post),
        )
        .route("/logout/confirm", post(logout::logout_confirm))
        .route("/account/consents/withdraw", post(logout::withdraw))
}

fn no_store(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn see_other(url: &str) -> Response {
    no_store(Redirect::to(url).into_response())
}
