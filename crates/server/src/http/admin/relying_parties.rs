//! `/admin/api/v1/relying-parties`: the administrator registers, reads,
//! edits (with `If-Match`), suspends, resumes, removes relying parties and
//! rotates their secrets; all through `sqin_app::clients`, under the PIA's
//! bounds and its four eyes.
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use sqin_app::clients::{self, dynamic, ClientActor, ClientMetadata};
use sqin_store::clients::{ClientRecord, SigningAlg};

use super::{answer, json_body, required, AdminCaller};
use crate::http::error::ApiError;
use crate::http::AppState;

type ApiResult = Result<Response, ApiError>;

/// A relying party as the API shows it: its RFC 7591 metadata, its PIA
/// entry, state and version.
fn view(state: &AppState, c: &ClientRecord) -> Value {
    let mut v = dynamic::metadata_of(state, c);
    v["version"] = json!(c.version);
    v["status_reason"] = json!(c.status_reason);
    v["purpose"] = json!(c.purpose);
    v["purpose#fr"] = json!(c.purpose_fr);
    v
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"v{version}\"")).unwrap_or(HeaderValue::from_static("\"v0\""))
}

fn with_etag(mut r: Response, version: i64) -> Response {
    r.headers_mut().insert(header::ETAG, etag(version));
    r
}

/// The version an `If-Match` names (`"v3"` or `W/"v3"`).
fn if_match(headers: &HeaderMap) -> Result<i64, ApiError> {
    let value = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition_required",
                "send If-Match with the ETag you read, so that a concurrent edit is not lost",
            )
        })?;
    value
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .strip_prefix('v')
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            ApiError::bad_request(format!("If-Match {value:?} is not an ETag of this API"))
        })
}

fn dcr(e: dynamic::DcrError) -> ApiError {
    use dynamic::DcrError as D;
    match e {
        D::InvalidMetadata { field, message } => ApiError {
            fields: Some(Box::new(crate::http::error::FieldErrors(vec![(
                field.clone(),
                message.clone(),
            )]))),
            ..ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_client_metadata",
                format!("{field}: {message}"),
            )
        },
        D::InvalidRedirectUri(m) => ApiError {
            fields: Some(Box::new(crate::http::error::FieldErrors(vec![(
                "redirect_uris".into(),
                m.clone(),
            )]))),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_redirect_uri", m)
        },
        D::InvalidToken(m) => ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", m),
        D::App(e) => ApiError::from(e),
    }
}

/// RFC 7591 metadata, plus `pia_entry`, `claims`, `sector_identifier`,
/// `purpose`, `purpose#fr`. Without `id_token_signed_response_alg`, ES256
/// (sqin's default; only `/register` applies Dynamic Registration's RS256).
fn registration(body: &Value) -> Result<sqin_oidc::client::ClientRegistration, ApiError> {
    let mut reg = dynamic::registration_of(body).map_err(dcr)?;
    if let Some(claims) = body.get("claims") {
        let list: Option<Vec<String>> = claims.as_array().map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect()
        });
        reg.claims = Some(
            list.ok_or_else(|| ApiError::bad_request("claims must be an array of claim names"))?,
        );
    }
    reg.sector = body
        .get("sector_identifier")
        .and_then(Value::as_str)
        .map(str::to_owned);
    reg.purpose = body
        .get("purpose")
        .and_then(Value::as_str)
        .map(str::to_owned);
    reg.purpose_fr = body
        .get("purpose#fr")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(reg)
}

pub(super) async fn list(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
) -> ApiResult {
    let all = clients::list(&state, &ClientActor::Staff(&actor)).await?;
    Ok(answer(
        StatusCode::OK,
        json!({ "relying_parties": all.iter().map(|c| view(&state, c)).collect::<Vec<_>>() }),
    ))
}

pub(super) async fn register(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body)?;
    let entry = required(&body, "pia_entry")?.to_owned();
    let reg = registration(&body)?;
    let done = clients::register(&state, &ClientActor::Staff(&actor), &entry, reg).await?;
    let mut out = view(&state, &done.record);
    if let Some(secret) = &done.client_secret {
        out["client_secret"] = json!(secret.expose());
    }
    out["approval_request"] = json!(done.approval_request);
    Ok(with_etag(
        answer(StatusCode::CREATED, out),
        done.record.version,
    ))
}

pub(super) async fn show(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    Path(client_id): Path<String>,
) -> ApiResult {
    let c = clients::get(&state, &ClientActor::Staff(&actor), &client_id).await?;
    Ok(with_etag(
        answer(StatusCode::OK, view(&state, &c)),
        c.version,
    ))
}

/// A JSON merge patch (RFC 7396) of the client's metadata; `If-Match`
/// required. 200 when it took effect; 202 when it widens what the client
/// receives and waits for a privacy officer (nothing changed yet).
pub(super) async fn edit(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let version = if_match(&headers)?;
    let patch = json_body(&body)?;
    let Some(patch) = patch.as_object() else {
        return Err(ApiError::bad_request(
            "the body must be a JSON object (a merge patch)",
        ));
    };
    let by = ClientActor::Staff(&actor);
    let current = clients::get(&state, &by, &client_id).await?;
    let mut merged =
        serde_json::to_value(ClientMetadata::of(&current)).map_err(ApiError::internal)?;
    for (k, v) in patch {
        let key = match k.as_str() {
            "scope"
            | "client_name"
            | "client_name#fr"
            | "redirect_uris"
            | "post_logout_redirect_uris"
            | "claims"
            | "purpose"
            | "purpose#fr"
            | "jwks"
            | "jwks_uri"
            | "backchannel_logout_uri"
            | "pia_entry"
            | "sector_identifier"
            | "id_token_signed_response_alg" => k.replace('#', "_"),
            other => {
                return Err(ApiError {
                    fields: Some(Box::new(crate::http::error::FieldErrors(vec![(
                        other.to_owned(),
                        "cannot be edited (or is unknown)".to_owned(),
                    )]))),
                    ..ApiError::bad_request(format!("{other} cannot be edited"))
                })
            }
        };
        if key == "id_token_signed_response_alg"
            && !v.is_null()
            && v.as_str().and_then(SigningAlg::from_name).is_none()
        {
            return Err(dcr(dynamic::DcrError::InvalidMetadata {
                field: key,
                message: format!(
                    "{v} is not supported (supported: {})",
                    SigningAlg::ALL.map(SigningAlg::as_str).join(", ")
                ),
            }));
        }
        if v.is_null() {
            merged.as_object_mut().map(|m| m.remove(&key));
        } else {
            merged[key] = v.clone();
        }
    }
    let md: ClientMetadata = serde_json::from_value(merged)
        .map_err(|e| ApiError::bad_request(format!("the patch does not describe a client: {e}")))?;
    let edited = clients::edit(
        &state,
        &by,
        &client_id,
        md.to_registration(current.client_type, current.token_endpoint_auth_method),
        md.pia_entry.as_deref(),
        version,
    )
    .await?;
    let mut out = view(&state, &edited.record);
    out["changed"] = json!(edited.changed);
    let status = match &edited.awaiting_approval {
        Some((widens, request)) => {
            out["awaiting_approval"] = json!({ "widens": widens, "request": request });
            StatusCode::ACCEPTED
        }
        None => StatusCode::OK,
    };
    Ok(with_etag(answer(status, out), edited.record.version))
}

pub(super) async fn remove(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    Path(client_id): Path<String>,
) -> ApiResult {
    clients::remove(&state, &ClientActor::Staff(&actor), &client_id).await?;
    Ok(answer(StatusCode::OK, json!({ "removed": client_id })))
}

async fn set_suspended(
    state: AppState,
    actor: &sqin_app::staff::StaffActor,
    client_id: &str,
    body: &[u8],
    suspend: bool,
) -> ApiResult {
    let body = json_body(body)?;
    let reason = required(&body, "reason")?;
    let c = clients::set_suspended(
        &state,
        &ClientActor::Staff(actor),
        client_id,
        suspend,
        reason,
    )
    .await?;
    Ok(with_etag(
        answer(StatusCode::OK, view(&state, &c)),
        c.version,
    ))
}

pub(super) async fn suspend(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    Path(client_id): Path<String>,
    body: Bytes,
) -> ApiResult {
    set_suspended(state, &actor, &client_id, &body, true).await
}

pub(super) async fn resume(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    Path(client_id): Path<String>,
    body: Bytes,
) -> ApiResult {
    set_suspended(state, &actor, &client_id, &body, false).await
}

pub(super) async fn rotate_secret(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    Path(client_id): Path<String>,
) -> ApiResult {
    let secret = clients::rotate_secret(&state, &ClientActor::Staff(&actor), &client_id).await?;
    Ok(answer(
        StatusCode::OK,
        json!({ "client_id": client_id, "client_secret": secret.expose() }),
    ))
}

pub(super) async fn initial_access_token(
    State(state): State<AppState>,
    AdminCaller(actor): AdminCaller,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body)?;
    let entry = required(&body, "pia_entry")?;
    let lifetime = body
        .get("lifetime_secs")
        .and_then(Value::as_i64)
        .unwrap_or(7 * 86_400);
    let uses = body.get("uses").and_then(Value::as_i64).unwrap_or(1);
    let issued = clients::tokens::issue_initial_access_token(
        &state,
        &ClientActor::Staff(&actor),
        entry,
        lifetime,
        uses,
    )
    .await?;
    Ok(answer(
        StatusCode::CREATED,
        json!({
            "initial_access_token": issued.token.expose(),
            "pia_entry": issued.pia_entry,
            "expires_at": issued.expires_at,
            "uses": issued.uses,
            "registration_endpoint": format!("{}/register", state.settings.issuer_str()),
        }),
    ))
}
