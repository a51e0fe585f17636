//! The admin REST API (`/admin/api/v1`, JSON, on the staff listener): what
//! the console does, for automation. A caller is a member of staff, by the
//! console's session cookie (and then the console's CSRF token in
//! `X-CSRF-Token` for any change) or by an admin access token that an
//! automation client they own obtained with the client credentials grant
//! (`POST /admin/api/v1/token`); either way they act with their live roles
//! from the PIA and nothing else, and everything is on the record. Errors
//! are RFC 9457 problem details with field names; relying parties carry an
//! ETag and an edit needs `If-Match`.
//!
//! The routes are declared once, in [`admin_routes!`]: the router and the
//! list a test compares with the OpenAPI document both come from it.
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use sqin_app::staff::StaffActor;

use super::error::ApiError;
use super::AppState;

mod operations;
mod relying_parties;
mod staff;

/// The API's base path.
pub const BASE: &str = "/admin/api/v1";

/// The OpenAPI 3.1 document of this API, served at `/admin/api/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

macro_rules! admin_routes {
    ($( $method:ident $path:literal => $handler:path ),* $(,)?) => {
        /// Every route of the API: (method, path under [`BASE`]).
        pub const ROUTES: &[(&str, &str)] = &[ $( (stringify!($method), $path) ),* ];

        fn routes() -> Router<AppState> {
            let mut router = Router::new();
            $( router = router.route(concat!("/admin/api/v1", $path), $method($handler)); )*
            router
        }
    };
}

admin_routes! {
    get "/openapi.json" => openapi,
    post "/token" => operations::token,
    get "/relying-parties" => relying_parties::list,
    post "/relying-parties" => relying_parties::register,
    get "/relying-parties/{client_id}" => relying_parties::show,
    patch "/relying-parties/{client_id}" => relying_parties::edit,
    delete "/relying-parties/{client_id}" => relying_parties::remove,
    post "/relying-parties/{client_id}/suspend" => relying_parties::suspend,
    post "/relying-parties/{client_id}/resume" => relying_parties::resume,
    post "/relying-parties/{client_id}/secret" => relying_parties::rotate_secret,
    post "/initial-access-tokens" => relying_parties::initial_access_token,
    get "/requests" => staff::requests,
    post "/requests/{id}/approve" => staff::approve,
    post "/requests/{id}/refuse" => staff::refuse,
    get "/staff" => staff::members,
    post "/staff/invitations" => staff::invite,
    post "/staff/grants" => staff::request_grant,
    delete "/staff/grants/{grant_id}" => staff::revoke_grant,
    get "/keys" => operations::keys,
    post "/keys/rotate" => operations::rotate_keys,
    post "/ledger/checkpoint" => operations::checkpoint,
    get "/automation-clients" => operations::automation_clients,
    post "/automation-clients" => operations::create_automation_client,
    delete "/automation-clients/{client_id}" => operations::revoke_automation_client,
}

/// The API's routes (merged into the staff listener's router).
pub fn router() -> Router<AppState> {
    routes()
}

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}

/// A 401 with the challenge that says how to authenticate.
fn unauthenticated(description: &str, bearer_error: Option<&str>) -> Response {
    let mut response =
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", description).into_response();
    let challenge = match bearer_error {
        Some(e) => format!("Bearer realm=\"sqin-admin\", error=\"{e}\""),
        None => "Bearer realm=\"sqin-admin\"".to_owned(),
    };
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

/// The member of staff making an admin API call.
pub struct AdminCaller(pub StaffActor);

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim().to_owned());
        if let Some(token) = bearer {
            return match sqin_app::staff::automation::actor(state, &token).await {
                Ok(Some(actor)) => Ok(AdminCaller(actor)),
                Ok(None) => Err(unauthenticated(
                    "the admin access token is unknown or expired",
                    Some("invalid_token"),
                )),
                Err(e) => Err(ApiError::from(e).into_response()),
            };
        }
        let Ok(super::staff::StaffSignedIn(actor)) =
            super::staff::StaffSignedIn::from_request_parts(parts, state).await
        else {
            return Err(unauthenticated(
                "sign in to the staff console, or send an admin access token (Authorization: Bearer)",
                None,
            ));
        };
        // A change made with the console's cookie carries the console's
        // CSRF token: another site cannot make a member's browser call it.
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            let Ok(page) = crate::web::Page::from_request_parts(parts, state).await;
            let presented = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            if !page.csrf_ok(presented) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "a change made with the console's session needs its X-CSRF-Token",
                )
                .into_response());
            }
        }
        Ok(AdminCaller(actor))
    }
}

/// A JSON answer with `Cache-Control: no-store` (credentials are shown
/// once, and nothing here belongs in a cache).
pub(super) fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    let mut r = (status, Json(body)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A JSON body, or a problem naming what is wrong with it.
pub(super) fn json_body(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))
}

/// A text member of a JSON object, required.
pub(super) fn required<'a>(v: &'a serde_json::Value, field: &str) -> Result<&'a str, ApiError> {
    v.get(field)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| ApiError {
            fields: Some(Box::new(super::error::FieldErrors(vec![(
                field.to_owned(),
                "is required (a string)".to_owned(),
            )]))),
            ..ApiError::bad_request(format!("{field} is required"))
        })
}
