//! Passkey pages and their JSON endpoints: enrolment with a mailed code,
//! sign-in, the account page (passkeys, recent sign-ins), recovery.
//!
//! Handlers are thin: they take the [`Page`] (locale, browser binding, CSRF),
//! call one function of `sqin-webauthn`, and map the outcome to a page, a
//! redirect or JSON. The JSON endpoints are documented in docs/passkeys.md.
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use serde_json::json;
use sqin_session::{AuthenticatedSession, LOGIN_PATH, RESUME_PATH, SESSION_COOKIE};
use sqin_store::citizens;
use sqin_webauthn::events::{self, kind};
use sqin_webauthn::{
    clean_request, is_fresh, CodeEntry, LoginRequest, NewPasskey, PasskeyError,
    PublicKeyCredential, RegisterPublicKeyCredential, MIN_AGE_TO_ENROL_ALONE,
};

use super::AppState;
use crate::web::{self, clear_cookie, set_cookie, CsrfForm, CsrfJson, Page};

pub const ACCOUNT_PATH: &str = "/account";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(LOGIN_PATH, get(login_page))
        .route("/enrol", get(enrol_page).post(enrol_submit))
        .route("/enrol/passkey", get(register_page))
        .route(ACCOUNT_PATH, get(account_page))
        .route("/account/passkeys/rename", post(rename))
        .route("/account/passkeys/remove", post(remove))
        .route("/account/signout", post(signout))
        .route("/account/close", get(close_page).post(close_submit))
        .route("/api/passkeys/csrf", get(api_csrf))
        .route("/api/passkeys/enrol/verify", post(api_enrol_verify))
        .route("/api/passkeys/enrol/start", post(api_enrol_start))
        .route("/api/passkeys/enrol/finish", post(api_enrol_finish))
        .route("/api/passkeys/login/start", post(api_login_start))
        .route("/api/passkeys/login/finish", post(api_login_finish))
        .route("/api/passkeys/add/start", post(api_add_start))
        .route("/api/passkeys/add/finish", post(api_add_finish))
        .merge(web::asset_routes())
}

// ---------------------------------------------------------------- helpers

type Conn = sqin_store::PooledConnection;

async fn conn(state: &AppState) -> Result<Conn, PasskeyError> {
    Ok(state
        .store
        .pool()
        .acquire()
        .await
        .map_err(sqin_store::StoreError::from)?)
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

async fn current_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<AuthenticatedSession>, PasskeyError> {
    let Some(token) = session_token(headers) else {
        return Ok(None);
    };
    let mut c = conn(state).await?;
    Ok(sqin_session::current(&mut c, &token, state.now()).await?)
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

/// A JSON error for the API, with the status the variant deserves. The detail
/// of a refused ceremony is logged, never sent.
/// A JSON API answer: the value, or the error's JSON, with the page's
/// cookies.
fn json_outcome<T: serde::Serialize>(page: &Page, outcome: Result<T, PasskeyError>) -> Response {
    match outcome {
        Ok(value) => page.finish(Json(value).into_response()),
        Err(e) => page.finish(api_error(e)),
    }
}

fn api_error(e: PasskeyError) -> Response {
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
            tracing::error!(error = %e, "passkey service failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "server_error")
        }
    };
    let description = match &e {
        PasskeyError::Internal(_) | PasskeyError::Store(_) | PasskeyError::Rejected(_) => {
            code.to_owned()
        }
        other => other.to_string(),
    };
    let mut response = (
        status,
        Json(json!({ "error": code, "error_description": description })),
    )
        .into_response();
    if let PasskeyError::RateLimited { retry_after } = e {
        if let Ok(v) = HeaderValue::from_str(&retry_after.max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    response
}

fn page_error(page: &Page, e: PasskeyError) -> Response {
    match e {
        PasskeyError::RateLimited { retry_after } => {
            let mut r = page.error(
                StatusCode::TOO_MANY_REQUESTS,
                "error.rate_limited.title",
                "error.rate_limited.body",
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after.max(1).to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        other => {
            tracing::error!(error = %other, "passkey page failed");
            page.error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "error.internal.title",
                "error.internal.body",
            )
        }
    }
}

/// Sets the new session cookie, and ends the session the browser had before
/// (a new ceremony replaces it; nothing of the old one lingers).
async fn start_cookie_session(
    state: &AppState,
    page: &Page,
    headers: &HeaderMap,
    token: &str,
    mut response: Response,
) -> Response {
    if let Some(old) = session_token(headers) {
        if let Ok(mut c) = conn(state).await {
            if let Err(e) = sqin_session::end(&mut c, &old, state.now()).await {
                tracing::warn!(error = %e, "could not end the previous session");
            }
        }
    }
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, token, page.secure(), None),
    );
    page.finish(response)
}

// ---------------------------------------------------------------- pages

#[derive(Debug, Deserialize)]
struct LoginQuery {
    request: Option<String>,
    prompt: Option<String>,
}

async fn login_page(
    page: Page,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let request = clean_request(q.request.as_deref());
    let forced = q
        .prompt
        .as_deref()
        .is_some_and(|p| p.split_whitespace().any(|v| v == "login"));
    if !forced {
        match current_session(&state, &headers).await {
            Ok(Some(_)) => {
                return page.finish(see_other(&next_url(request.as_deref(), ACCOUNT_PATH)))
            }
            Ok(None) => {}
            Err(e) => return page_error(&page, e),
        }
    }
    page.render("login.html", minijinja::context! { request => request })
}

#[derive(Debug, Deserialize)]
struct RequestQuery {
    request: Option<String>,
}

async fn enrol_page(page: Page, Query(q): Query<RequestQuery>) -> Response {
    page.render(
        "enrol.html",
        minijinja::context! { request => clean_request(q.request.as_deref()) },
    )
}

#[derive(Debug, Deserialize)]
struct EnrolForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    birthdate: String,
    request: Option<String>,
}

async fn enrol_submit(
    State(state): State<AppState>,
    CsrfForm { page, form }: CsrfForm<EnrolForm>,
) -> Response {
    let request = clean_request(form.request.as_deref());
    let outcome = match conn(&state).await {
        Ok(mut c) => {
            state
                .passkeys
                .verify_code(
                    &mut c,
                    page.browser(),
                    page.client,
                    CodeEntry {
                        code: &form.code,
                        birthdate: &form.birthdate,
                        request: request.as_deref(),
                    },
                    state.now(),
                )
                .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(grant) => {
            let mut location = format!("/enrol/passkey?grant={}", grant.grant);
            if let Some(r) = &request {
                location.push_str(&format!("&request={r}"));
            }
            page.finish(see_other(&location))
        }
        Err(PasskeyError::CodeRefused) => page.render_status(
            StatusCode::BAD_REQUEST,
            "enrol.html",
            minijinja::context! {
                request => request,
                error => "enrol.refused",
                code => form.code.chars().take(40).collect::<String>(),
                birthdate => form.birthdate.chars().take(10).collect::<String>(),
            },
        ),
        Err(PasskeyError::RateLimited { retry_after }) => {
            let mut r = page.render_status(
                StatusCode::TOO_MANY_REQUESTS,
                "enrol.html",
                minijinja::context! { request => request, error => "enrol.rate_limited" },
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after.max(1).to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Err(PasskeyError::Minor) => page.render(
            "enrol_minor.html",
            minijinja::context! { min_age => MIN_AGE_TO_ENROL_ALONE },
        ),
        Err(e) => page_error(&page, e),
    }
}

#[derive(Debug, Deserialize)]
struct GrantQuery {
    #[serde(default)]
    grant: String,
    request: Option<String>,
}

async fn register_page(
    page: Page,
    State(state): State<AppState>,
    Query(q): Query<GrantQuery>,
) -> Response {
    let request = clean_request(q.request.as_deref());
    let info = match conn(&state).await {
        Ok(mut c) => {
            state
                .passkeys
                .grant_info(&mut c, page.browser(), &q.grant, state.now())
                .await
        }
        Err(e) => Err(e),
    };
    match info {
        Ok(grant) => page.render(
            "register.html",
            minijinja::context! {
                grant => grant.grant,
                given_name => grant.given_name,
                purpose => grant.purpose,
                request => request,
            },
        ),
        Err(PasskeyError::CeremonyExpired | PasskeyError::CodeRefused) => page.render_status(
            StatusCode::BAD_REQUEST,
            "enrol.html",
            minijinja::context! { request => request, error => "enrol.expired" },
        ),
        Err(e) => page_error(&page, e),
    }
}

#[derive(Debug, Deserialize)]
struct AccountQuery {
    notice: Option<String>,
    recovered: Option<String>,
}

const NOTICES: &[&str] = &[
    "welcome",
    "added",
    "renamed",
    "removed",
    "invalid_name",
    "unknown_passkey",
    "reauth",
];

async fn account_page(
    page: Page,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AccountQuery>,
) -> Response {
    let session = match current_session(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return page.finish(see_other(LOGIN_PATH)),
        Err(e) => return page_error(&page, e),
    };
    let loaded = async {
        let mut c = conn(&state).await?;
        let citizen = citizens::by_id(&mut c, &session.citizen_id)
            .await?
            .ok_or(PasskeyError::AccountUnavailable)?;
        let passkeys = state.passkeys.list(&mut c, &session.citizen_id).await?;
        let signins = events::recent(&mut c, &session.citizen_id, Some(kind::SIGN_IN), 10).await?;
        let activity = events::recent(&mut c, &session.citizen_id, None, 20).await?;
        Ok::<_, PasskeyError>((citizen, passkeys, signins, activity))
    }
    .await;
    let (citizen, passkeys, signins, activity) = match loaded {
        Ok(v) => v,
        Err(e) => return page_error(&page, e),
    };
    let notice = q
        .notice
        .as_deref()
        .filter(|n| NOTICES.contains(n))
        .map(|n| format!("notice.{n}"));
    let notice_error = matches!(
        q.notice.as_deref(),
        Some("invalid_name" | "unknown_passkey" | "reauth")
    );
    page.render(
        "account.html",
        minijinja::context! {
            given_name => citizen.given_name,
            passkeys => passkeys,
            signins => signins,
            activity => activity,
            fresh => is_fresh(&session, state.now()),
            notice => notice,
            notice_error => notice_error,
            recovered => q.recovered.is_some(),
        },
    )
}

#[derive(Debug, Deserialize)]
struct RenameForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
}

async fn rename(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm { page, form }: CsrfForm<RenameForm>,
) -> Response {
    let session = match current_session(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return page.finish(see_other(LOGIN_PATH)),
        Err(e) => return page_error(&page, e),
    };
    let outcome = match conn(&state).await {
        Ok(mut c) => {
            state
                .passkeys
                .rename(&mut c, &session, &form.id, &form.name, state.now())
                .await
        }
        Err(e) => Err(e),
    };
    let notice = match outcome {
        Ok(()) => "renamed",
        Err(PasskeyError::Invalid(_)) => "invalid_name",
        Err(PasskeyError::UnknownPasskey) => "unknown_passkey",
        Err(e) => return page_error(&page, e),
    };
    page.finish(see_other(&format!("{ACCOUNT_PATH}?notice={notice}")))
}

#[derive(Debug, Deserialize)]
struct RemoveForm {
    #[serde(default)]
    id: String,
    confirm: Option<String>,
}

async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm { page, form }: CsrfForm<RemoveForm>,
) -> Response {
    let session = match current_session(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return page.finish(see_other(LOGIN_PATH)),
        Err(e) => return page_error(&page, e),
    };
    let confirm = form.confirm.as_deref() == Some("yes");
    let mut c = match conn(&state).await {
        Ok(c) => c,
        Err(e) => return page_error(&page, e),
    };
    match state
        .passkeys
        .remove(&mut c, &session, &form.id, confirm, state.now())
        .await
    {
        Ok(_) => page.finish(see_other(&format!("{ACCOUNT_PATH}?notice=removed"))),
        Err(PasskeyError::LastPasskey) => {
            let name = state
                .passkeys
                .list(&mut c, &session.citizen_id)
                .await
                .ok()
                .and_then(|l| l.into_iter().find(|p| p.id == form.id))
                .map(|p| p.name)
                .unwrap_or_default();
            page.render(
                "remove_last.html",
                minijinja::context! { id => form.id, name => name },
            )
        }
        Err(PasskeyError::ReauthenticationRequired) => {
            page.finish(see_other(&format!("{ACCOUNT_PATH}?notice=reauth")))
        }
        Err(PasskeyError::UnknownPasskey) => {
            page.finish(see_other(&format!("{ACCOUNT_PATH}?notice=unknown_passkey")))
        }
        Err(e) => page_error(&page, e),
    }
}

/// The confirmation page for closing one's own account.
async fn close_page(page: Page, State(state): State<AppState>, headers: HeaderMap) -> Response {
    match current_session(&state, &headers).await {
        Ok(Some(_)) => page.render(
            "account_close.html",
            minijinja::context! { unconfirmed => false },
        ),
        Ok(None) => page.finish(see_other(LOGIN_PATH)),
        Err(e) => page_error(&page, e),
    }
}

#[derive(Debug, Deserialize)]
struct CloseForm {
    confirm: Option<String>,
}

/// Closes the signed-in citizen's own account, exactly as `sqin citizen
/// delete` does (one transaction: relying parties told, tokens revoked,
/// ledger history shredded, account deleted), after an explicit
/// confirmation and only from a recent sign-in.
async fn close_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm { page, form }: CsrfForm<CloseForm>,
) -> Response {
    let session = match current_session(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return page.finish(see_other(LOGIN_PATH)),
        Err(e) => return page_error(&page, e),
    };
    if form.confirm.as_deref() != Some("yes") {
        return page.render_status(
            StatusCode::BAD_REQUEST,
            "account_close.html",
            minijinja::context! { unconfirmed => true },
        );
    }
    if !is_fresh(&session, state.now()) {
        return page.finish(see_other(&format!("{ACCOUNT_PATH}?notice=reauth")));
    }
    let citizen = match conn(&state).await {
        Ok(mut c) => match citizens::by_id(&mut c, &session.citizen_id).await {
            Ok(Some(citizen)) => citizen,
            Ok(None) => return page_error(&page, PasskeyError::AccountUnavailable),
            Err(e) => return page_error(&page, e.into()),
        },
        Err(e) => return page_error(&page, e),
    };
    match sqin_app::account::close(&state, &citizen.register_id, state.now()).await {
        Ok(closed) => {
            let mut response = page.render(
                "account_closed.html",
                minijinja::context! { services => closed.relying_parties.len() },
            );
            // The session died with the account; the browser forgets it too.
            response.headers_mut().append(
                header::SET_COOKIE,
                clear_cookie(SESSION_COOKIE, page.secure()),
            );
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "closing an account failed");
            page_error(
                &page,
                PasskeyError::Internal("closing the account failed".into()),
            )
        }
    }
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn signout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm { page, form: _ }: CsrfForm<Empty>,
) -> Response {
    if let Some(token) = session_token(&headers) {
        // Ends the session and tells every relying party that holds a
        // grant from it (back-channel logout).
        let session = match conn(&state).await {
            Ok(mut c) => match sqin_session::current(&mut c, &token, state.now()).await {
                Ok(s) => s,
                Err(e) => return page_error(&page, e.into()),
            },
            Err(e) => return page_error(&page, e),
        };
        if let Some(s) = session {
            if let Err(e) = sqin_app::backchannel::end_session(&state, &s.session_id).await {
                tracing::error!(error = %e, "sign-out failed");
                return page.error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "error.internal.title",
                    "error.internal.body",
                );
            }
        }
    }
    let mut response = see_other(LOGIN_PATH);
    response.headers_mut().append(
        header::SET_COOKIE,
        clear_cookie(SESSION_COOKIE, page.secure()),
    );
    page.finish(response)
}

// ---------------------------------------------------------------- JSON API

/// The CSRF token for this browser (and the browser cookie, on a first call):
/// what an app calls before the other endpoints.
async fn api_csrf(page: Page) -> Response {
    page.finish(Json(json!({ "csrf": page.csrf_token() })).into_response())
}

#[derive(Debug, Deserialize)]
struct VerifyBody {
    code: String,
    birthdate: String,
    request: Option<String>,
}

async fn api_enrol_verify(
    State(state): State<AppState>,
    CsrfJson { page, body }: CsrfJson<VerifyBody>,
) -> Response {
    let outcome = async {
        let mut c = conn(&state).await?;
        state
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
            .await
    }
    .await;
    json_outcome(&page, outcome)
}

#[derive(Debug, Deserialize)]
struct GrantBody {
    grant: String,
}

async fn api_enrol_start(
    State(state): State<AppState>,
    CsrfJson { page, body }: CsrfJson<GrantBody>,
) -> Response {
    let outcome = async {
        let mut c = conn(&state).await?;
        state
            .passkeys
            .start_enrolment(
                &mut c,
                page.browser(),
                page.client,
                &body.grant,
                state.now(),
            )
            .await
    }
    .await;
    json_outcome(&page, outcome)
}

#[derive(Debug, Deserialize)]
struct RegisterBody {
    ceremony: String,
    credential: RegisterPublicKeyCredential,
    #[serde(default)]
    name: String,
}

async fn api_enrol_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfJson { page, body }: CsrfJson<RegisterBody>,
) -> Response {
    let fallback = page.t("register.default_name");
    let outcome = async {
        let mut c = conn(&state).await?;
        let t = state.now();
        let verified = state
            .passkeys
            .verify_enrolment(&mut c, page.browser(), &body.ceremony, &body.credential, t)
            .await?;
        let mut tx = sqin_store::begin_on(&mut c).await?;
        let signed = state
            .passkeys
            .complete_enrolment(&mut tx, verified, &body.name, &fallback, t)
            .await?;
        if signed.recovered {
            // The lost device may be in someone else's hands: every refresh
            // and access token of the citizen dies with its sessions, in the
            // same transaction.
            sqin_oidc::revocation::revoke_all_tokens(
                &mut tx,
                &signed.session.citizen_id,
                "account recovery",
                t,
            )
            .await
            .map_err(|e| PasskeyError::Internal(e.to_string()))?;
        }
        tx.commit().await?;
        Ok::<_, PasskeyError>(signed)
    }
    .await;
    match outcome {
        Ok(signed) => {
            let fallback = if signed.recovered {
                format!("{ACCOUNT_PATH}?recovered=1")
            } else {
                format!("{ACCOUNT_PATH}?notice=welcome")
            };
            let redirect = next_url(signed.request.as_deref(), &fallback);
            let response = Json(json!({ "redirect": redirect })).into_response();
            start_cookie_session(&state, &page, &headers, signed.token.expose(), response).await
        }
        Err(e) => page.finish(api_error(e)),
    }
}

#[derive(Debug, Deserialize)]
struct LoginStartBody {
    register_id: Option<String>,
    #[serde(default)]
    conditional: bool,
    request: Option<String>,
}

async fn api_login_start(
    State(state): State<AppState>,
    CsrfJson { page, body }: CsrfJson<LoginStartBody>,
) -> Response {
    let outcome = async {
        let mut c = conn(&state).await?;
        state
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
            .await
    }
    .await;
    json_outcome(&page, outcome)
}

#[derive(Debug, Deserialize)]
struct LoginFinishBody {
    ceremony: String,
    credential: PublicKeyCredential,
}

async fn api_login_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfJson { page, body }: CsrfJson<LoginFinishBody>,
) -> Response {
    let outcome = async {
        let mut c = conn(&state).await?;
        state
            .passkeys
            .finish_login(
                &mut c,
                page.browser(),
                &body.ceremony,
                &body.credential,
                state.now(),
            )
            .await
    }
    .await;
    match outcome {
        Ok(signed) => {
            let redirect = next_url(signed.request.as_deref(), ACCOUNT_PATH);
            let response = Json(json!({ "redirect": redirect })).into_response();
            start_cookie_session(&state, &page, &headers, signed.token.expose(), response).await
        }
        Err(e) => page.finish(api_error(e)),
    }
}

async fn api_add_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfJson { page, body: _ }: CsrfJson<serde_json::Value>,
) -> Response {
    let outcome = async {
        let session = current_session(&state, &headers)
            .await?
            .ok_or(PasskeyError::ReauthenticationRequired)?;
        let mut c = conn(&state).await?;
        state
            .passkeys
            .start_add(&mut c, page.browser(), page.client, &session, state.now())
            .await
    }
    .await;
    json_outcome(&page, outcome)
}

async fn api_add_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfJson { page, body }: CsrfJson<RegisterBody>,
) -> Response {
    let fallback = page.t("register.default_name");
    let outcome = async {
        let session = current_session(&state, &headers)
            .await?
            .ok_or(PasskeyError::ReauthenticationRequired)?;
        let mut c = conn(&state).await?;
        state
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
            .await
    }
    .await;
    match outcome {
        Ok(view) => page.finish(
            Json(json!({ "redirect": format!("{ACCOUNT_PATH}?notice=added"), "passkey": view }))
                .into_response(),
        ),
        Err(e) => page.finish(api_error(e)),
    }
}
