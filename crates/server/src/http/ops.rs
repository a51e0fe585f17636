//! Operational endpoints: liveness, readiness, the JWKS.
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/jwks", get(jwks))
        .route("/favicon.ico", get(favicon))
}

/// The pages among the operational routes.
pub fn page_routes() -> Router<AppState> {
    Router::new().route("/privacy", get(privacy))
}

/// The confidentiality policy, in the reader's language.
async fn privacy(page: crate::web::Page) -> Response {
    let policy = crate::web::privacy::policy_html(page.locale);
    page.render("privacy.html", minijinja::context! { policy => policy })
}

async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready only when the database answers: a load balancer stops sending
/// traffic to a node that has lost its database.
async fn readyz(State(state): State<AppState>) -> Response {
    let check = tokio::time::timeout(Duration::from_secs(3), state.store.ping()).await;
    match check {
        Ok(Ok(())) => Json(json!({ "status": "ready" })).into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            unavailable()
        }
        Err(_) => {
            tracing::warn!("readiness check timed out");
            unavailable()
        }
    }
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable", "reason": "database" })),
    )
        .into_response()
}

async fn jwks(State(state): State<AppState>) -> Response {
    let ring = state.key_ring();
    (
        [
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::CONTENT_TYPE, "application/json"),
        ],
        ring.jwks_document().to_string(),
    )
        .into_response()
}

pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "not_found", "error_description": "no such endpoint" })),
    )
        .into_response()
}

/// Browsers ask every site for a favicon; answering "no content" (cached for
/// a day) keeps a 404 out of every page's console and out of the logs.
async fn favicon() -> Response {
    (
        StatusCode::NO_CONTENT,
        [(header::CACHE_CONTROL, "public, max-age=86400")],
    )
        .into_response()
}
