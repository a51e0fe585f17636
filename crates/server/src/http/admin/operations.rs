//! `/admin/api/v1/token`, `/keys`, `/ledger` and `/automation-clients`:
//! how automation gets its access token, and the operations the
//! administrator does without seeing a citizen.
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::json;
use sqin_app::staff::{automation, operations};
use sqin_oidc::OAuthError;

use super::{answer, json_body, required, AdminCaller};
use crate::http::error::{ApiError, OAuthJson};
use crate::http::AppState;

type ApiResult = Result<Response, ApiError>;

#[derive(Debug, Deserialize)]
pub(super) struct TokenForm {
    grant_type: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The client credentials grant (RFC 6749 4.4) for automation clients,
/// authenticated with HTTP Basic or the form; RFC 6749 errors.
pub(super) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Result<Response, OAuthJson> {
    if form.grant_type.as_deref() != Some("client_credentials") {
        return Err(OAuthJson(OAuthError::new(
            sqin_oidc::ErrorCode::UnsupportedGrantType,
            "this endpoint issues admin access tokens with grant_type=client_credentials",
        )));
    }
    if let Some(scope) = form.scope.as_deref() {
        if scope
            .split_whitespace()
            .any(|s| s != automation::ADMIN_SCOPE)
        {
            return Err(OAuthJson(OAuthError::new(
                sqin_oidc::ErrorCode::InvalidScope,
                format!("the only scope here is {}", automation::ADMIN_SCOPE),
            )));
        }
    }
    let basic = crate::http::extract::basic_credentials(&headers).map_err(OAuthJson)?;
    let (id, secret) = match (basic, form.client_id, form.client_secret) {
        (Some((id, _)), Some(other), None) if other != id => {
            return Err(OAuthJson(OAuthError::invalid_request(
                "client_id does not match the Authorization header",
            )))
        }
        (Some((id, secret)), _, None) => (id, secret),
        (None, Some(id), Some(secret)) => (id, secret),
        _ => return Err(OAuthJson(OAuthError::invalid_client(
            "authenticate the automation client once: HTTP Basic, or client_id and client_secret",
        ))),
    };
    let issued = automation::token(&state, &id, &secret)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "admin token failed");
            OAuthJson(OAuthError::server_error())
        })?
        .ok_or_else(|| OAuthJson(OAuthError::invalid_client("client authentication failed")))?;
    let mut r = axum::Json(json!({
        "access_token": issued.access_token.expose(),
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": automation::ADMIN_SCOPE,
    }))
    .into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(r)
}

pub(super) async fn keys(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
) -> ApiResult {
    let keys = operations::signing_keys(&state, &actor).await?;
    let keys: Vec<_> = keys
        .iter()
        .map(|k| {
            json!({
                "kid": k.kid, "alg": k.alg.as_str(), "state": k.state.as_str(),
                "created_at": k.created_at, "activated_at": k.activated_at,
                "published_until": k.publish_until,
            })
        })
        .collect();
    Ok(answer(StatusCode::OK, json!({ "keys": keys })))
}

pub(super) async fn rotate_keys(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
) -> ApiResult {
    let r = operations::rotate_keys(&state, &actor).await?;
    Ok(answer(StatusCode::OK, r.to_json()))
}

pub(super) async fn checkpoint(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
) -> ApiResult {
    let cp = operations::checkpoint(&state, &actor).await?;
    Ok(answer(StatusCode::OK, json!(cp)))
}

pub(super) async fn automation_clients(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
) -> ApiResult {
    let mine = automation::mine(&state, &actor).await?;
    let list: Vec<_> = mine
        .iter()
        .map(|c| json!({ "client_id": c.client_id, "name": c.name, "created_at": c.created_at, "revoked_at": c.revoked_at }))
        .collect();
    Ok(answer(
        StatusCode::OK,
        json!({ "automation_clients": list }),
    ))
}

pub(super) async fn create_automation_client(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body)?;
    let name = required(&body, "name")?;
    let created = automation::create(&state, &actor, name).await?;
    Ok(answer(
        StatusCode::CREATED,
        json!({
            "client_id": created.client_id,
            "name": created.name,
            "client_secret": created.client_secret.expose(),
            "token_endpoint": format!("{}{}/token", state.settings.staff_url.as_str().trim_end_matches('/'), super::BASE),
        }),
    ))
}

pub(super) async fn revoke_automation_client(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    Path(client_id): Path<String>,
) -> ApiResult {
    automation::revoke(&state, &actor, &client_id).await?;
    Ok(answer(StatusCode::OK, json!({ "revoked": client_id })))
}
