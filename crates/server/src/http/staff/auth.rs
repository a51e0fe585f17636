//! Staff sign-in: enrolment of a passkey with an invitation code, sign-in
//! with a passkey (no name typed), re-authentication before a sensitive
//! action, sign-out. The JSON endpoints check the `X-CSRF-Token` header.
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use sqin_webauthn::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::{secure, session_cookie, staff_token, StaffSignedIn};
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::web::{CsrfForm, CsrfJson, Page};

type ApiResult = Result<Response, ApiError>;

pub(super) async fn login_page(page: Page) -> Response {
    page.render("staff_login.html", minijinja::context! {})
}

pub(super) async fn enrol_page(page: Page) -> Response {
    page.render("staff_enrol.html", minijinja::context! {})
}

/// Starts the session of a member of staff who just proved their passkey:
/// the cookie, and where to go.
async fn signed_in(state: &AppState, page: &Page, staff_id: &str) -> ApiResult {
    let token = sqin_app::staff::session::begin(state, staff_id).await?;
    let mut response = Json(json!({ "redirect": "/" })).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session_cookie(token.expose(), secure(state)),
    );
    Ok(page.finish(response))
}

#[derive(Debug, Deserialize)]
pub(super) struct EnrolStart {
    code: String,
}

pub(super) async fn enrol_start(
    State(state): State<AppState>,
    CsrfJson { page, body }: CsrfJson<EnrolStart>,
) -> ApiResult {
    let mut conn = state.store.pool().acquire().await?;
    let options = state
        .staff_passkeys
        .start_enrolment(&mut conn, page.browser(), &body.code, state.now())
        .await?;
    Ok(page.finish(Json(options).into_response()))
}

#[derive(Debug, Deserialize)]
pub(super) struct RegisterBody {
    ceremony: String,
    credential: RegisterPublicKeyCredential,
}

pub(super) async fn enrol_finish(
    State(state): State<AppState>,
    CsrfJson { page, body }: CsrfJson<RegisterBody>,
) -> ApiResult {
    let staff_id = {
        let mut conn = state.store.pool().acquire().await?;
        let mut tx = sqin_store::begin_on(&mut conn).await?;
        let staff_id = state
            .staff_passkeys
            .finish_enrolment(
                &mut tx,
                page.browser(),
                &body.ceremony,
                &body.credential,
                state.now(),
            )
            .await?;
        tx.commit().await?;
        staff_id
    };
    signed_in(&state, &page, &staff_id).await
}

pub(super) async fn login_start(
    State(state): State<AppState>,
    CsrfJson { page, body: _ }: CsrfJson<serde_json::Value>,
) -> ApiResult {
    let mut conn = state.store.pool().acquire().await?;
    let options = state
        .staff_passkeys
        .start_login(&mut conn, page.browser(), state.now())
        .await?;
    Ok(page.finish(Json(options).into_response()))
}

#[derive(Debug, Deserialize)]
pub(super) struct AssertionBody {
    ceremony: String,
    credential: PublicKeyCredential,
}

pub(super) async fn login_finish(
    State(state): State<AppState>,
    CsrfJson { page, body }: CsrfJson<AssertionBody>,
) -> ApiResult {
    let staff_id = {
        let mut conn = state.store.pool().acquire().await?;
        state
            .staff_passkeys
            .finish_login(
                &mut conn,
                page.browser(),
                &body.ceremony,
                &body.credential,
                state.now(),
            )
            .await?
    };
    signed_in(&state, &page, &staff_id).await
}

pub(super) async fn reauth_start(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfJson { page, body: _ }: CsrfJson<serde_json::Value>,
) -> ApiResult {
    let mut conn = state.store.pool().acquire().await?;
    let options = state
        .staff_passkeys
        .start_reauth(&mut conn, page.browser(), &actor.member.id, state.now())
        .await?;
    Ok(page.finish(Json(options).into_response()))
}

pub(super) async fn reauth_finish(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfJson { page, body }: CsrfJson<AssertionBody>,
) -> ApiResult {
    {
        let mut conn = state.store.pool().acquire().await?;
        state
            .staff_passkeys
            .finish_reauth(
                &mut conn,
                page.browser(),
                &actor.member.id,
                &body.ceremony,
                &body.credential,
                state.now(),
            )
            .await?;
    }
    sqin_app::staff::session::reauthenticated(&state, &actor).await?;
    Ok(page.finish(Json(json!({ "fresh": true })).into_response()))
}

#[derive(Debug, Deserialize)]
pub(super) struct Empty {}

pub(super) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm { page, form: _ }: CsrfForm<Empty>,
) -> Result<Response, crate::web::PageError> {
    if let Some(token) = staff_token(&headers, secure(&state)) {
        sqin_app::staff::session::end(&state, &token).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, session_cookie("", secure(&state)));
    Ok(page.finish(response))
}
