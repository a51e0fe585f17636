//! The JSON endpoints `passkeys.js` calls for the WebAuthn ceremonies
//! (docs/passkeys.md). Each checks the `X-CSRF-Token` header first
//! ([`CsrfJson`]) and answers the value or an [`ApiError`].
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use sqin_webauthn::{
    CodeEntry, LoginRequest, NewPasskey, PasskeyError, PublicKeyCredential,
    RegisterPublicKeyCredential,
};

use super::{next_url, start_cookie_session, ACCOUNT_PATH};
use crate::http::error::ApiError;
use crate::http::extract::MaybeSession;
use crate::http::AppState;
use crate::web::{CsrfJson, Page};

type ApiResult = Result<Response, ApiError>;

/// The value as JSON, with the page's cookies.
fn answer<T: serde::Serialize>(page: &Page, value: T) -> Response {
    page.finish(Json(value).into_response())
}

/// The CSRF token for this browser (and the browser cookie, on a first call):
/// what an app calls before the other endpoints.
pub(super) async fn csrf(page: Page) -> Response {
    answer(&page, json!({ "csrf": page.csrf_token() }))
}

#[derive(Debug, Deserialize)]
pub(super) struct VerifyBody {
    code: String,
    birthdate: String,
    request: Option<String>,
}

pub(super) async fn enrol_verify(
    State(state): State<AppState>,
    CsrfJson { page, body }: CsrfJson<VerifyBody>,
) -> ApiResult {
    let mut c = state.store.pool().acquire().await?;
    let grant = state
        .passkeys
        .verify_code(
            &mut c,
            page.browser(),
            page.client,
            CodeEntry {
                code: &body.code,
                birthdate: &body.birthdate,
                request: body.request.as_deref(),
            },
            state.now(),
        )
        .await?;
    Ok(answer(&page, grant))
}

#[derive(Debug, Deserialize)]
pub(super) struct GrantBody {
    grant: String,
}

pub(super) async fn enrol_start(
    State(state): State<AppState>,
    CsrfJson { page, body }: CsrfJson<GrantBody>,
) -> ApiResult {
    let mut c = state.store.pool().acquire().await?;
    let challenge = state
        .passkeys
        .start_enrolment(
            &mut c,
            page.browser(),
            page.client,
            &body.grant,
            state.now(),
        )
        .await?;
    Ok(answer(&page, challenge))
}

#[derive(Debug, Deserialize)]
pub(super) struct RegisterBody {
    ceremony: String,
    credential: RegisterPublicKeyCredential,
    #[serde(default)]
    name: String,
}

pub(super) async fn enrol_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfJson { page, body }: CsrfJson<RegisterBody>,
) -> ApiResult {
    let signed = sqin_app::passkeys::finish_enrolment(
        &state,
        page.browser(),
        &body.ceremony,
        &body.credential,
        &body.name,
        &page.t("register.default_name"),
    )
    .await?;
    let fallback = if signed.recovered {
        format!("{ACCOUNT_PATH}?recovered=1")
    } else {
        format!("{ACCOUNT_PATH}?notice=welcome")
    };
    let redirect = next_url(signed.request.as_deref(), &fallback);
    let response = Json(json!({ "redirect": redirect })).into_response();
    Ok(start_cookie_session(&state, &page, &headers, signed.token.expose(), response).await)
}

#[derive(Debug, Deserialize)]
pub(super) struct LoginStartBody {
    register_id: Option<String>,
    #[serde(default)]
    conditional: bool,
    request: Option<String>,
}

pub(super) async fn login_start(
    State(state): State<AppState>,
    CsrfJson { page, body }: CsrfJson<LoginStartBody>,
) -> ApiResult {
    let mut c = state.store.pool().acquire().await?;
    let challenge = state
        .passkeys
        .start_login(
            &mut c,
            page.browser(),
            page.client,
            LoginRequest {
                register_id: body.register_id.as_deref(),
                conditional: body.conditional,
                request: body.request.as_deref(),
            },
            state.now(),
        )
        .await?;
    Ok(answer(&page, challenge))
}

#[derive(Debug, Deserialize)]
pub(super) struct LoginFinishBody {
    ceremony: String,
    credential: PublicKeyCredential,
}

pub(super) async fn login_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfJson { page, body }: CsrfJson<LoginFinishBody>,
) -> ApiResult {
    let signed = {
        let mut c = state.store.pool().acquire().await?;
        state
            .passkeys
            .finish_login(
                &mut c,
                page.browser(),
                &body.ceremony,
                &body.credential,
                state.now(),
            )
            .await?
    };
    let redirect = next_url(signed.request.as_deref(), ACCOUNT_PATH);
    let response = Json(json!({ "redirect": redirect })).into_response();
    Ok(start_cookie_session(&state, &page, &headers, signed.token.expose(), response).await)
}

pub(super) async fn add_start(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    CsrfJson { page, body: _ }: CsrfJson<serde_json::Value>,
) -> ApiResult {
    let session = session.ok_or(PasskeyError::ReauthenticationRequired)?;
    let mut c = state.store.pool().acquire().await?;
    let challenge = state
        .passkeys
        .start_add(&mut c, page.browser(), page.client, &session, state.now())
        .await?;
    Ok(answer(&page, challenge))
}

pub(super) async fn add_finish(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    CsrfJson { page, body }: CsrfJson<RegisterBody>,
) -> ApiResult {
    let session = session.ok_or(PasskeyError::ReauthenticationRequired)?;
    let fallback = page.t("register.default_name");
    let mut c = state.store.pool().acquire().await?;
    let view = state
        .passkeys
        .finish_add(
            &mut c,
            page.browser(),
            &session,
            &body.ceremony,
            NewPasskey {
                credential: &body.credential,
                name: &body.name,
                fallback_name: &fallback,
            },
            state.now(),
        )
        .await?;
    Ok(answer(
        &page,
        json!({ "redirect": format!("{ACCOUNT_PATH}?notice=added"), "passkey": view }),
    ))
}
