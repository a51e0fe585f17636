//! `/admin/api/v1/staff` and `/requests`: the staff directory, invitations
//! and grant requests, and the four-eyes requests, as the console does
//! them (same functions, same rules: a second person approves).
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};
use sqin_app::staff::directory::{self, GrantAsk};
use sqin_app::staff::requests;

use super::{answer, json_body, required, AdminCaller};
use crate::http::error::ApiError;
use crate::http::AppState;

type ApiResult = Result<Response, ApiError>;

fn ask(body: &Value) -> Result<GrantAsk, ApiError> {
    Ok(GrantAsk {
        role: required(body, "role")?.to_owned(),
        reason: required(body, "reason")?.to_owned(),
        until: body.get("until").and_then(Value::as_i64).ok_or_else(|| {
            ApiError::bad_request("until (the grant's end, Unix seconds) is required")
        })?,
    })
}

pub(super) async fn members(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
) -> ApiResult {
    let members = directory::members(&state, &actor).await?;
    Ok(answer(StatusCode::OK, json!({ "members": members })))
}

pub(super) async fn invite(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body)?;
    let name = required(&body, "name")?.to_owned();
    let invitation = directory::invite(&state, &actor, &name, &ask(&body)?).await?;
    Ok(answer(
        StatusCode::CREATED,
        json!({
            "badge": invitation.member.badge,
            "name": invitation.member.display_name,
            "invitation_code": invitation.code.expose(),
            "expires_at": invitation.expires_at,
            "grant_request": invitation.request_id,
            "enrol_at": format!("{}/enrol", state.settings.staff_url.as_str().trim_end_matches('/')),
        }),
    ))
}

pub(super) async fn request_grant(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body)?;
    let badge = required(&body, "badge")?.to_owned();
    let request = directory::request_grant(&state, &actor, &badge, &ask(&body)?).await?;
    Ok(answer(
        StatusCode::CREATED,
        json!({ "grant_request": request.id }),
    ))
}

pub(super) async fn revoke_grant(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    Path(grant_id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body)?;
    let reason = required(&body, "reason")?;
    directory::revoke_grant(&state, &actor, &grant_id, reason).await?;
    Ok(answer(StatusCode::OK, json!({ "revoked": grant_id })))
}

pub(super) async fn requests(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
) -> ApiResult {
    let open = requests::open(&state, &actor).await?;
    Ok(answer(StatusCode::OK, json!({ "requests": open })))
}

pub(super) async fn approve(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    Path(id): Path<String>,
) -> ApiResult {
    let decision = requests::approve(&state, &actor, &id).await?;
    Ok(answer(StatusCode::OK, json!(decision)))
}

pub(super) async fn refuse(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    Path(id): Path<String>,
) -> ApiResult {
    requests::refuse(&state, &actor, &id).await?;
    Ok(answer(
        StatusCode::OK,
        json!({ "request_id": id, "approved": false }),
    ))
}
