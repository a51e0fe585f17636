//! The stylesheet and script, compiled in and served with a long cache: their
//! URLs carry a hash of the content, so a new release changes the URL.
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::LazyLock;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
    version: String,
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    let asset = |name, content_type, body: &'static str| Asset {
        name,
        content_type,
        body,
        version: sqin_crypto::b64url(&sqin_crypto::sha256(body.as_bytes())[..8]),
    };
    vec![
        asset(
            "sqin.css",
            "text/css; charset=utf-8",
            include_str!("../../static/sqin.css"),
        ),
        asset(
            "favicon.svg",
            "image/svg+xml",
            include_str!("../../static/favicon.svg"),
        ),
        asset(
            "passkeys.js",
            "text/javascript; charset=utf-8",
            include_str!("../../static/passkeys.js"),
        ),
        asset(
            "webauthn.js",
            "text/javascript; charset=utf-8",
            include_str!("../../static/webauthn.js"),
        ),
        asset(
            "staff.js",
            "text/javascript; charset=utf-8",
            include_str!("../../static/staff.js"),
        ),
    ]
});

/// `/static/NAME?v=HASH` for a compiled-in asset.
pub fn asset_url(name: &str) -> String {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => format!("/static/{}?v={}", a.name, a.version),
        None => format!("/static/{name}"),
    }
}

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/static/{name}", get(serve))
}

async fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            a.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
