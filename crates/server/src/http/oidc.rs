//! The OpenID Provider endpoints. Each handler extracts the request, calls one
//! function of `sqin-oidc`, and maps the outcome to HTTP; protocol decisions
//! live in that crate.
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use sqin_oidc::authorize::{self, AuthorizeError, Decision, Next};
use sqin_oidc::client_auth::{self, ClientAuthError, PresentedCredentials};
use sqin_oidc::logout::{self, LogoutRequest};
use sqin_oidc::provider::paths;
use sqin_oidc::token::{self, TokenRequest};
use sqin_oidc::{access, discovery, ErrorCode, OAuthError};
use sqin_session::AuthenticatedSession;

use super::AppState;
use crate::web::Page;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(paths::DISCOVERY, get(metadata))
        .route(paths::AUTHORIZE, get(authorize_get).post(authorize_post))
        .route(sqin_session::RESUME_PATH, get(resume))
        .route(paths::CONSENT, post(consent))
        .route(paths::TOKEN, post(token_endpoint))
        .route(paths::USERINFO, get(userinfo).post(userinfo_post))
        .route(paths::INTROSPECT, post(introspect))
        .route(paths::REVOKE, post(revoke))
        .route(paths::LOGOUT, get(logout_get).post(logout_post))
        .route("/logout/confirm", post(logout_confirm))
        .route("/account/consents/withdraw", post(withdraw))
}

// ---------------------------------------------------------------- helpers

/// A pooled connection, or the handler answers `server_error` (logged).
macro_rules! acquire_or_return {
    ($state:expr) => {
        match $state.store.pool().acquire().await {
            Ok(c) => c,
            Err(e) => return internal(e),
        }
    };
}

/// An internal failure: logged here, a bare `server_error` to the client.
fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "internal error");
    oauth_json(&OAuthError::server_error())
}

fn no_store(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// RFC 6749 5.2: JSON error body; 401 with a challenge for `invalid_client`.
fn oauth_json(e: &OAuthError) -> Response {
    let status = match e.code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = (
        status,
        Json(json!({ "error": e.code.as_str(), "error_description": e.description })),
    )
        .into_response();
    if e.code == ErrorCode::InvalidClient {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"sqin\", charset=\"UTF-8\""),
        );
    }
    no_store(response)
}

fn client_auth_error(e: ClientAuthError) -> Response {
    oauth_json(&e.error)
}

/// RFC 6750 3.1: 401 with a Bearer challenge.
fn bearer_error(e: &OAuthError) -> Response {
    let status = match e.code {
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
        _ => StatusCode::UNAUTHORIZED,
    };
    let challenge = format!(
        "Bearer realm=\"sqin\", error=\"{}\", error_description=\"{}\"",
        e.code.as_str(),
        e.description.replace('"', "'")
    );
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

fn error_page(page: &Page, message: &str) -> Response {
    no_store(page.render_status(
        StatusCode::BAD_REQUEST,
        "signin_error.html",
        minijinja::context! { detail => message },
    ))
}

fn see_other(url: &str) -> Response {
    no_store(Redirect::to(url).into_response())
}

pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

async fn session_of(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<AuthenticatedSession>, Response> {
    let Some(token) = cookie_value(headers, sqin_session::SESSION_COOKIE) else {
        return Ok(None);
    };
    let mut conn = state.store.pool().acquire().await.map_err(internal)?;
    sqin_session::current(&mut conn, &token, state.now())
        .await
        .map_err(internal)
}

// ---------------------------------------------------------------- discovery

async fn metadata(State(state): State<AppState>) -> Response {
    let document = state
        .discovery_document
        .get_or_init(|| discovery::metadata(&state.provider()).to_string().into())
        .clone();
    (
        [
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::CONTENT_TYPE, "application/json"),
        ],
        document.to_string(),
    )
        .into_response()
}

// ---------------------------------------------------------------- authorize

async fn authorize_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Page,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    authorize_common(state, headers, page, params).await
}

async fn authorize_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Page,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    authorize_common(state, headers, page, params).await
}

async fn authorize_common(
    state: AppState,
    headers: HeaderMap,
    page: Page,
    params: Vec<(String, String)>,
) -> Response {
    let provider = state.provider();
    let mut conn = acquire_or_return!(state);
    let request = match authorize::begin(&mut conn, &provider, &params, state.now()).await {
        Ok(r) => r,
        Err(e) => return authorize_error(&page, &provider, e),
    };
    drop(conn);
    step(state, headers, page, &request.id).await
}

#[derive(Deserialize)]
struct ResumeQuery {
    request: String,
}

async fn resume(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Page,
    Query(q): Query<ResumeQuery>,
) -> Response {
    step(state, headers, page, &q.request).await
}

async fn step(state: AppState, headers: HeaderMap, page: Page, request_id: &str) -> Response {
    let provider = state.provider();
    let session = match session_of(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut conn = acquire_or_return!(state);
    match authorize::next_step(
        &mut conn,
        &provider,
        request_id,
        session.as_ref(),
        state.now(),
    )
    .await
    {
        Ok(Next::Redirect(url)) => see_other(&url),
        Ok(Next::Login {
            request_id,
            force,
            ui_locales,
        }) => {
            let mut url = url::Url::parse("http://x").unwrap_or_else(|_| unreachable_url());
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("request", &request_id);
                if force {
                    q.append_pair("prompt", "login");
                }
                if let Some(l) = &ui_locales {
                    q.append_pair("ui_locales", l);
                }
            }
            see_other(&format!(
                "{}?{}",
                sqin_session::LOGIN_PATH,
                url.query().unwrap_or_default()
            ))
        }
        Ok(Next::Consent(prompt)) => consent_page(&page, &prompt),
        Err(e) => authorize_error(&page, &provider, e),
    }
}

fn unreachable_url() -> url::Url {
    url::Url::parse("http://localhost").unwrap_or_else(|_| unreachable_url())
}

fn authorize_error(page: &Page, provider: &sqin_oidc::Provider, e: AuthorizeError) -> Response {
    match e {
        AuthorizeError::NoRedirect(message) => error_page(page, &message),
        AuthorizeError::Redirect {
            redirect_uri,
            state,
            error,
        } => see_other(&authorize::error_redirect(
            provider,
            &redirect_uri,
            state.as_deref(),
            &error,
        )),
    }
}

/// The consent page: the relying party, its registered purpose and each
/// claim in plain words, nothing pre-chosen.
fn consent_page(page: &Page, p: &authorize::ConsentPrompt) -> Response {
    no_store(page.render(
        "consent.html",
        minijinja::context! {
            client => p.client_name,
            purpose => p.purpose,
            claims => p.claims,
            offline => p.offline_access,
            request => p.request_id,
            form_token => p.form_token,
        },
    ))
}

#[derive(Deserialize)]
struct ConsentForm {
    request: String,
    form_token: String,
    decision: String,
}

async fn consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Page,
    Form(form): Form<ConsentForm>,
) -> Response {
    let provider = state.provider();
    let decision = match form.decision.as_str() {
        "allow" => Decision::Allow,
        "deny" => Decision::Deny,
        _ => return error_page(&page, "the consent form was not understood"),
    };
    let session = match session_of(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return error_page(
                &page,
                "your session has ended; go back to the service and sign in again",
            )
        }
        Err(r) => return r,
    };
    let mut conn = acquire_or_return!(state);
    match authorize::decide(
        &mut conn,
        &provider,
        &form.request,
        &form.form_token,
        decision,
        &session,
        state.now(),
    )
    .await
    {
        Ok(url) => see_other(&url),
        Err(e) => authorize_error(&page, &provider, e),
    }
}

// ---------------------------------------------------------------- token

fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || OAuthError::invalid_client("malformed Basic credentials");
    let text = value.to_str().map_err(|_| bad())?;
    let Some(encoded) = text
        .strip_prefix("Basic ")
        .or_else(|| text.strip_prefix("basic "))
    else {
        return Ok(None);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    // RFC 6749 2.3.1: both parts are form-url-encoded.
    let unescape = |s: &str| {
        url::form_urlencoded::parse(s.as_bytes())
            .next()
            .map(|(k, _)| k.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

fn single(params: &[(String, String)], name: &str) -> Result<Option<String>, OAuthError> {
    let mut values = params.iter().filter(|(k, _)| k == name);
    let first = values.next().map(|(_, v)| v.clone());
    if values.next().is_some() {
        return Err(OAuthError::invalid_request(format!(
            "the parameter {name} is repeated"
        )));
    }
    Ok(first.filter(|v| !v.is_empty()))
}

fn credentials(
    headers: &HeaderMap,
    params: &[(String, String)],
) -> Result<PresentedCredentials, OAuthError> {
    Ok(PresentedCredentials {
        basic: basic_credentials(headers)?,
        client_id: single(params, "client_id")?,
        client_secret: single(params, "client_secret")?,
        client_assertion_type: single(params, "client_assertion_type")?,
        client_assertion: single(params, "client_assertion")?,
    })
}

async fn token_endpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    let provider = state.provider();
    let parsed = (|| -> Result<(PresentedCredentials, TokenRequest), OAuthError> {
        Ok((
            credentials(&headers, &params)?,
            TokenRequest {
                grant_type: single(&params, "grant_type")?,
                code: single(&params, "code")?,
                redirect_uri: single(&params, "redirect_uri")?,
                code_verifier: single(&params, "code_verifier")?,
                refresh_token: single(&params, "refresh_token")?,
                scope: single(&params, "scope")?,
            },
        ))
    })();
    let (creds, request) = match parsed {
        Ok(p) => p,
        Err(e) => return oauth_json(&e),
    };
    let mut conn = sqin_store::LazyConnection::new(state.store.pool());
    let t = state.now();
    let client = match client_auth::authenticate(&mut conn, &provider, &creds, t).await {
        Ok(c) => c,
        Err(e) => return client_auth_error(e),
    };
    match token::exchange(&mut conn, &provider, &client, &request, t).await {
        Ok(response) => no_store(Json(response).into_response()),
        Err(e) => oauth_json(&e),
    }
}

// ---------------------------------------------------------------- userinfo

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    userinfo_common(state, bearer_token(&headers)).await
}

async fn userinfo_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    let from_body = params
        .iter()
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.clone());
    let token = match (bearer_token(&headers), from_body) {
        (Some(_), Some(_)) => {
            return bearer_error(&OAuthError::invalid_request(
                "send the access token once, in the Authorization header or the body",
            ))
        }
        (a, b) => a.or(b),
    };
    userinfo_common(state, token).await
}

async fn userinfo_common(state: AppState, token: Option<String>) -> Response {
    let Some(token) = token else {
        let mut r = (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_request", "error_description": "an access token is required"}))).into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"sqin\""),
        );
        return no_store(r);
    };
    let provider = state.provider();
    let mut conn = acquire_or_return!(state);
    match access::userinfo(&mut conn, &provider, &token, state.now()).await {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => bearer_error(&e),
    }
}

// ---------------------------------------------------------------- introspect / revoke

async fn authenticated_client(
    state: &AppState,
    headers: &HeaderMap,
    params: &[(String, String)],
) -> Result<
    (
        std::sync::Arc<sqin_store::clients::ClientRecord>,
        sqin_store::LazyConnection,
    ),
    Response,
> {
    let creds = credentials(headers, params).map_err(|e| oauth_json(&e))?;
    let mut conn = sqin_store::LazyConnection::new(state.store.pool());
    let client = client_auth::authenticate(&mut conn, &state.provider(), &creds, state.now())
        .await
        .map_err(client_auth_error)?;
    Ok((client, conn))
}

async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    let (client, mut conn) = match authenticated_client(&state, &headers, &params).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let token = match single(&params, "token") {
        Ok(Some(t)) => t,
        Ok(None) => return oauth_json(&OAuthError::invalid_request("token is missing")),
        Err(e) => return oauth_json(&e),
    };
    let conn = match conn.get().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    match access::introspect(conn, &state.provider(), &client, &token, state.now()).await {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => oauth_json(&e),
    }
}

async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    let (client, mut conn) = match authenticated_client(&state, &headers, &params).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (token, hint) = match (single(&params, "token"), single(&params, "token_type_hint")) {
        (Ok(Some(t)), Ok(h)) => (t, h),
        (Ok(None), _) => return oauth_json(&OAuthError::invalid_request("token is missing")),
        (Err(e), _) | (_, Err(e)) => return oauth_json(&e),
    };
    let conn = match conn.get().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    match access::revoke(
        conn,
        &state.provider(),
        &client,
        &token,
        hint.as_deref(),
        state.now(),
    )
    .await
    {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => oauth_json(&e),
    }
}

// ---------------------------------------------------------------- logout

async fn logout_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Page,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    logout_common(state, headers, page, params).await
}

async fn logout_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Page,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    logout_common(state, headers, page, params).await
}

fn clear_session_cookie(mut response: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
        sqin_session::SESSION_COOKIE
    )) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

async fn logout_common(
    state: AppState,
    headers: HeaderMap,
    page: Page,
    params: Vec<(String, String)>,
) -> Response {
    let get = |n: &str| {
        params
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let request = LogoutRequest {
        id_token_hint: get("id_token_hint"),
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state: get("state"),
        client_id: get("client_id"),
        ui_locales: get("ui_locales"),
    };
    let session = match session_of(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let provider = state.provider();
    let mut conn = acquire_or_return!(state);
    let valid = match logout::validate(&mut conn, &provider, &request, session.as_ref()).await {
        Ok(v) => v,
        Err(message) => return error_page(&page, &message),
    };
    match &session {
        Some(s) if !valid.hint_matches_session => {
            // Someone else's (or no) hint: ask the person before ending
            // their session (RP-Initiated Logout 1.0 section 2).
            let token = authorize::form_token(&provider.form_key, "logout", &s.session_id);
            no_store(page.render(
                "logout.html",
                minijinja::context! {
                    title_key => "logout.title",
                    confirm => true,
                    client => valid.client.as_ref().map(|c| c.name.clone()),
                    form_token => token,
                    redirect => valid.redirect.clone().unwrap_or_default(),
                },
            ))
        }
        _ => {
            drop(conn);
            if let Some(s) = &session {
                if let Err(e) = sqin_app::backchannel::end_session(&state, &s.session_id).await {
                    return internal(e);
                }
            }
            clear_session_cookie(logged_out(&page, valid.redirect.as_deref()))
        }
    }
}

fn logged_out(page: &Page, redirect: Option<&str>) -> Response {
    match redirect {
        Some(url) => see_other(url),
        None => no_store(page.render(
            "logout.html",
            minijinja::context! { title_key => "logout.done_title", confirm => false },
        )),
    }
}

#[derive(Deserialize)]
struct LogoutConfirm {
    form_token: String,
    #[serde(default)]
    redirect: String,
}

async fn logout_confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Page,
    Form(form): Form<LogoutConfirm>,
) -> Response {
    let provider = state.provider();
    let session = match session_of(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return clear_session_cookie(logged_out(&page, None)),
        Err(r) => return r,
    };
    let expected = authorize::form_token(&provider.form_key, "logout", &session.session_id);
    if !sqin_crypto::HashedSecret(sqin_crypto::sha256(expected.as_bytes()))
        .matches(&form.form_token)
    {
        return error_page(&page, "this sign-out form is not valid for your session");
    }
    // The redirect came from a validated request, but re-check that it is a
    // registered post-logout URI before following it.
    let mut conn = acquire_or_return!(state);
    let redirect = if form.redirect.is_empty() {
        None
    } else {
        let base = form
            .redirect
            .split('?')
            .next()
            .unwrap_or_default()
            .to_owned();
        let clients = match sqin_store::clients::list(&mut conn).await {
            Ok(c) => c,
            Err(e) => return internal(e),
        };
        clients
            .iter()
            .any(|c| {
                c.post_logout_redirect_uris
                    .iter()
                    .any(|u| u.split('?').next() == Some(base.as_str()))
            })
            .then_some(form.redirect.clone())
    };
    drop(conn);
    if let Err(e) = sqin_app::backchannel::end_session(&state, &session.session_id).await {
        return internal(e);
    }
    clear_session_cookie(logged_out(&page, redirect.as_deref()))
}

// ---------------------------------------------------------------- consent withdrawal

#[derive(Deserialize)]
struct WithdrawForm {
    client_id: String,
}

/// The citizen withdraws their consent for one relying party: its tokens stop
/// at once, its sessions are ended through back-channel logout, the ledger
/// records the withdrawal, and the next sign-in asks again.
async fn withdraw(
    State(state): State<AppState>,
    headers: HeaderMap,
    crate::web::CsrfForm { page, form }: crate::web::CsrfForm<WithdrawForm>,
) -> Response {
    let session = match session_of(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return see_other(sqin_session::LOGIN_PATH),
        Err(r) => return r,
    };
    let provider = state.provider();
    let outcome = async {
        let mut conn = state.store.pool().acquire().await?;
        let mut tx = sqin_store::begin_on(&mut conn).await?;
        sqin_oidc::revocation::withdraw_consent(
            &mut tx,
            &provider,
            &session.citizen_id,
            &form.client_id,
            "citizen",
            state.now(),
        )
        .await?;
        tx.commit().await?;
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = outcome {
        tracing::error!(error = %e, "consent withdrawal failed");
        return page.error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal.title",
            "error.internal.body",
        );
    }
    state.backchannel_wake.notify_one();
    page.finish(see_other("/account/history?withdrawn=1"))
}
