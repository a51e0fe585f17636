//! The endpoints relying parties call: discovery, token (RFC 6749 3.2),
//! userinfo (OIDC Core 5.3), introspection (RFC 7662) and revocation
//! (RFC 7009).
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sqin_oidc::token;
use sqin_oidc::{access, discovery, OAuthError};

use super::no_store;
use crate::http::error::{BearerError, OAuthJson};
use crate::http::extract::{single, token_request, ClientRequest, OAuthForm};
use crate::http::AppState;

pub(super) async fn metadata(State(state): State<AppState>) -> Response {
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

pub(super) async fn token_endpoint(
    State(state): State<AppState>,
    mut request: ClientRequest,
) -> Result<Response, OAuthJson> {
    let token_request = token_request(&request.params)?;
    let response = token::exchange(
        &mut request.conn,
        &state.provider(),
        &request.client,
        &token_request,
        state.now(),
    )
    .await?;
    Ok(no_store(Json(response).into_response()))
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

pub(super) async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, BearerError> {
    userinfo_common(state, bearer_token(&headers)).await
}

pub(super) async fn userinfo_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    OAuthForm(params): OAuthForm,
) -> Result<Response, BearerError> {
    let from_body = params
        .iter()
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.clone());
    let token = match (bearer_token(&headers), from_body) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "send the access token once, in the Authorization header or the body",
            )
            .into())
        }
        (a, b) => a.or(b),
    };
    userinfo_common(state, token).await
}

async fn userinfo_common(state: AppState, token: Option<String>) -> Result<Response, BearerError> {
    let token = token.ok_or_else(BearerError::missing)?;
    let mut conn = state.store.pool().acquire().await?;
    let body = access::userinfo(&mut conn, &state.provider(), &token, state.now()).await?;
    Ok(no_store(Json(body).into_response()))
}

pub(super) async fn introspect(
    State(state): State<AppState>,
    mut request: ClientRequest,
) -> Result<Response, OAuthJson> {
    let token = request
        .param("token")?
        .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let conn = request.conn.get().await?;
    let body = access::introspect(
        conn,
        &state.provider(),
        &request.client,
        &token,
        state.now(),
    )
    .await?;
    Ok(no_store(Json(body).into_response()))
}

pub(super) async fn revoke(
    State(state): State<AppState>,
    mut request: ClientRequest,
) -> Result<Response, OAuthJson> {
    let token = single(&request.params, "token")?;
    let hint = single(&request.params, "token_type_hint")?;
    let token = token.ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let conn = request.conn.get().await?;
    access::revoke(
        conn,
        &state.provider(),
        &request.client,
        &token,
        hint.as_deref(),
        state.now(),
    )
    .await?;
    Ok(no_store(StatusCode::OK.into_response()))
}
