//! The HTTP edge: router, middleware, TLS and graceful shutdown.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderName, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::bootstrap::Services;

/// State shared by handlers: the services, nothing global.
pub type AppState = Arc<Services>;

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application router with its middleware.
pub fn router(services: Services) -> Router {
    let config = services.config.clone();
    let state: AppState = Arc::new(services);
    let routes = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/jwks", get(jwks))
        .fallback(not_found)
        .with_state(state);
    with_middleware(routes, &config)
}

/// Middleware every route gets: request ids (generated, logged and echoed),
/// a trace span per request without query strings (they can carry codes),
/// security headers, a body limit and a time limit.
pub fn with_middleware(routes: Router, config: &crate::config::Config) -> Router {
    let hsts = config.tls_enabled() || config.issuer.scheme() == "https";
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
        let id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
    });
    let mut router = routes.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(
                X_REQUEST_ID.clone(),
                MakeRequestUuid,
            ))
            .layer(trace)
            .layer(PropagateRequestIdLayer::new(X_REQUEST_ID.clone()))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(config.request_timeout_secs),
            ))
            .layer(DefaultBodyLimit::max(config.max_request_body_bytes))
            .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
            .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
            .layer(header_layer(
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            )),
    );
    if hsts {
        router = router.layer(header_layer(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ));
    }
    router
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
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
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(json!({ "keys": ring.published() })),
    )
        .into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "not_found", "error_description": "no such endpoint" })),
    )
        .into_response()
}

/// Serves until `shutdown` resolves, then stops accepting connections and
/// lets requests in flight finish for up to `shutdown_grace_secs`.
pub async fn serve(
    router: Router,
    config: &crate::config::Config,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    let handle = axum_server::Handle::new();
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let watcher = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: draining requests in flight");
        watcher.graceful_shutdown(Some(grace));
    });
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    if let (Some(cert), Some(key)) = (&config.tls_cert_file, &config.tls_key_file) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
            .await
            .with_context(|| {
                format!(
                    "loading TLS certificate {} and key {}",
                    cert.display(),
                    key.display()
                )
            })?;
        axum_server::from_tcp_rustls(listener, tls)
            .handle(handle)
            .serve(app)
            .await?;
    } else {
        axum_server::from_tcp(listener)
            .handle(handle)
            .serve(app)
            .await?;
    }
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
