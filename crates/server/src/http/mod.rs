//! The HTTP edge: router, middleware, TLS and graceful shutdown.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Request, StatusCode};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::web::client_addr::TrustedProxies;
use sqin_app::Services;

pub mod access_log;
mod account;
pub mod admin;
mod complaints;
pub mod connections;
mod corrections;
pub mod error;
pub mod extract;
mod ledger;
mod oidc;
mod ops;
mod passkeys;
pub mod security_txt;
pub mod staff;
pub mod witness;

pub use crate::state::{AppState, HttpState};

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The handlers' state for `services` under `config`.
pub fn state(services: Services, config: Arc<Config>) -> AppState {
    // Checked by `Config::validate` at start; should parsing fail all the
    // same, trust no proxy.
    let trusted_proxies = TrustedProxies::parse(&config.trusted_proxies).unwrap_or_default();
    Arc::new(HttpState {
        services,
        config,
        trusted_proxies,
    })
}

/// The whole public router (citizens and relying parties) with its
/// middleware.
pub fn router(services: Services, config: Arc<Config>) -> Router {
    public_router(state(services, config))
}

/// [`router`] on an existing state (the staff listener shares it).
pub fn public_router(state: AppState) -> Router {
    let config = state.config.clone();
    // Each concern adds its routes in its own module. Routes that serve
    // people go behind the pages' layer, which renders their errors as
    // pages in the person's language; the protocol endpoints and JSON APIs
    // answer for themselves.
    let pages = Router::new()
        .merge(oidc::page_routes())
        .merge(passkeys::routes())
        .merge(ledger::page_routes())
        .merge(account::page_routes())
        .merge(corrections::page_routes())
        .merge(complaints::page_routes())
        .merge(ops::page_routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::web::render_errors,
        ));
    let routes = Router::new()
        .merge(ops::routes())
        .merge(oidc::routes())
        .merge(ledger::routes())
        .merge(account::routes())
        .merge(security_txt::routes())
        .merge(pages)
        .fallback(ops::not_found)
        .with_state(state);
    with_middleware(routes, &config)
}

/// Middleware every route gets: request ids (generated, or a trusted
/// proxy's if well formed; logged and echoed), the access log (one line per
/// request, [`access_log`]),
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
    })
    // A 5xx is logged where it is made, with its cause (an internal error
    // by the error type that answers it; a database out of reach once, by
    // the store, however many requests it fails): not again per response.
    .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG));
    let trusted = TrustedProxies::parse(&config.trusted_proxies).unwrap_or_default();
    let access = access_log::AccessLog {
        client: config.access_log_client,
        trusted: trusted.clone(),
    };
    let mut router = routes.layer(
        ServiceBuilder::new()
            .layer(tower::util::MapRequestLayer::new(
                move |req: Request<axum::body::Body>| forwarded_request_id_checked(req, &trusted),
            ))
            .layer(SetRequestIdLayer::new(
                X_REQUEST_ID.clone(),
                RequestIds::new(),
            ))
            .layer(axum::middleware::from_fn_with_state(
                access,
                access_log::log_request,
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

/// The longest request id kept from a proxy.
const MAX_FORWARDED_REQUEST_ID: usize = 64;

/// Removes an `X-Request-Id` the request carries unless a trusted proxy
/// sent it (`trusted_proxies`: the TCP peer is one) and it is 1 to 64
/// characters of `[A-Za-z0-9._-]`; [`RequestIds`] then makes one. Any other
/// client could write the header, and it is echoed and logged: free text
/// there would forge fields of the log (`abc path=/admin status=200`) or
/// tie a client's requests together under a name it chose.
fn forwarded_request_id_checked(
    mut req: Request<axum::body::Body>,
    trusted: &TrustedProxies,
) -> Request<axum::body::Body> {
    let from_trusted_proxy = || {
        req.extensions()
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .is_some_and(|peer| trusted.contains(peer.0.ip()))
    };
    let well_formed = |value: &HeaderValue| {
        let bytes = value.as_bytes();
        (1..=MAX_FORWARDED_REQUEST_ID).contains(&bytes.len())
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    let values = req.headers().get_all(&X_REQUEST_ID);
    let mut iter = values.iter();
    let keep = match (iter.next(), iter.next()) {
        (None, _) => return req,
        (Some(value), None) => well_formed(value) && from_trusted_proxy(),
        (Some(_), Some(_)) => false,
    };
    if !keep {
        req.headers_mut().remove(&X_REQUEST_ID);
    }
    req
}

/// Request ids unique across nodes and restarts: a random per-process prefix
/// and a counter. Cheaper than a random UUID per request (no system call on
/// the hot path), and sortable within a process.
#[derive(Clone)]
struct RequestIds {
    prefix: Arc<str>,
    counter: Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    fn new() -> Self {
        let prefix = sqin_crypto::random_bytes::<6>()
            .map(|b| sqin_crypto::b64url(&b))
            .unwrap_or_else(|_| format!("{:x}", std::process::id()));
        Self {
            prefix: prefix.into(),
            counter: Arc::default(),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n:x}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
}

/// Serves until `shutdown` resolves, then stops accepting connections and
/// lets requests in flight finish for up to `shutdown_grace_secs`. Each
/// connection is held to `max_connections`, `header_read_timeout_secs` and
/// `keep_alive_timeout_secs` ([`connections`]).
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
    let timeouts = connections::Timeouts {
        header_read: Duration::from_secs(config.header_read_timeout_secs),
        keep_alive: Duration::from_secs(config.keep_alive_timeout_secs),
    };
    let tls_enabled = config.tls_enabled();
    let limits = connections::Limits::new(config.max_connections, timeouts, !tls_enabled);
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
        // The connection limits beneath the handshake, so that it counts.
        let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls).acceptor(limits);
        axum_server::from_tcp(listener)
            .acceptor(acceptor)
            .handle(handle)
            .serve(app)
            .await?;
    } else {
        axum_server::from_tcp(listener)
            .acceptor(limits)
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
