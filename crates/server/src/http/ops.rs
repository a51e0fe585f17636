//! Operational endpoints: liveness, readiness, the JWKS; and the privacy
//! pages: the confidentiality policy and the privacy impact assessment.
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
        .route(ASSESSMENT_CSS, get(assessment_css))
}

/// The pages among the operational routes.
pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/privacy", get(privacy))
        .route("/privacy/assessment", get(assessment))
}

/// The confidentiality policy, in the reader's language, then a link to
/// the privacy impact assessment the server runs under.
async fn privacy(State(state): State<AppState>, page: crate::web::Page) -> Response {
    let policy = crate::web::privacy::policy_html(&state.config.deployment, page.locale);
    let link = match page.locale {
        crate::web::Locale::Fr => {
            "L'évaluation des facteurs relatifs à la vie privée de ce service, avec son inventaire des renseignements personnels et le diagramme de leurs flux"
        }
        crate::web::Locale::En => {
            "This service's privacy impact assessment, with its inventory of personal information and the diagram of its flows"
        }
    };
    let policy = format!(
        "{policy}\n<p class=\"assessment\"><a href=\"/privacy/assessment\">{link}</a></p>\n"
    );
    page.render("privacy.html", minijinja::context! { policy => policy })
}

/// The assessment's stylesheet: the site's Content-Security-Policy
/// (`default-src 'self'`) forbids inline styles, so the served document
/// links the same CSS the offline file carries inline.
const ASSESSMENT_CSS: &str = "/privacy/assessment.css";

/// The privacy impact assessment the server runs under (its adopted
/// `pia_file`, else the built-in one), as the self-contained document
/// `sqin pia render --html` writes, in the reader's language.
async fn assessment(State(state): State<AppState>, page: crate::web::Page) -> Response {
    let (lang, other) = match page.locale {
        crate::web::Locale::Fr => (sqin_pia::Lang::Fr, "/privacy/assessment?lang=en"),
        crate::web::Locale::En => (sqin_pia::Lang::En, "/privacy/assessment?lang=fr"),
    };
    let html = sqin_pia::html::render(
        state.pia.pia.inventory(),
        lang,
        &sqin_pia::html::Style::Served {
            stylesheet: ASSESSMENT_CSS,
            other_language: other,
        },
    );
    page.finish(axum::response::Html(html).into_response())
}

async fn assessment_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        sqin_pia::html::CSS,
    )
        .into_response()
}

async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready only when the database answers: a load balancer stops sending
/// traffic to a node that has lost its database. While the database is
/// known lost this answers 503 at once, without a query (the store's probe
/// watches it, and logged the loss once).
async fn readyz(State(state): State<AppState>) -> Response {
    if state.store.database_lost() {
        return unavailable();
    }
    let check = tokio::time::timeout(Duration::from_secs(3), state.store.ping()).await;
    match check {
        Ok(Ok(())) => Json(json!({ "status": "ready" })).into_response(),
        // The database is out of reach: the store logs that once.
        Ok(Err(e)) if e.is_unavailable() => unavailable(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            unavailable()
        }
        Err(_) => {
            state.store.recheck();
            tracing::warn!("readiness check timed out");
            unavailable()
        }
    }
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1")],
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
