//! The access log: one line per request at info, target `sqin::access`,
//! when the response is sent. It says what an operator needs to follow the
//! traffic (method, the route's template, status, latency, the request id
//! that is also in the response and in every other line of the request)
//! and never what could carry a secret or a person: no query string (codes,
//! `state`, hints), no body, no header, no raw path (a path can hold an id),
//! and the client's address only as `access_log_client` says.
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::config::AccessLogClient;
use crate::web::client_addr::{client_addr, TrustedProxies};

/// What the access log needs of the configuration.
#[derive(Clone)]
pub struct AccessLog {
    pub client: AccessLogClient,
    pub trusted: TrustedProxies,
}

/// `addr` as the configuration lets the log show it.
fn shown(addr: IpAddr, how: AccessLogClient) -> Option<String> {
    match how {
        AccessLogClient::None => None,
        AccessLogClient::Full => Some(addr.to_string()),
        AccessLogClient::Network => Some(match addr {
            IpAddr::V4(v4) => {
                let [a, b, c, _] = v4.octets();
                format!("{a}.{b}.{c}.0/24")
            }
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => return shown(IpAddr::V4(v4), how),
                None => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
                }
            },
        }),
    }
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn log_request(State(log): State<AccessLog>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    // Unrouted requests (the fallback) have no template: their path is
    // whatever the client typed, so it is not logged either.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "-".to_owned(), |p| p.as_str().to_owned());
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|peer| client_addr(peer.0.ip(), req.headers(), &log.trusted))
        .and_then(|addr| shown(addr, log.client));
    let response = next.run(req).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    match client {
        Some(client) => tracing::info!(
            target: "sqin::access",
            method = %method,
            route = %route,
            status,
            latency_ms = format_args!("{latency_ms:.1}"),
            request_id = %request_id,
            client = %client,
            "request"
        ),
        None => tracing::info!(
            target: "sqin::access",
            method = %method,
            route = %route,
            status,
            latency_ms = format_args!("{latency_ms:.1}"),
            request_id = %request_id,
            "request"
        ),
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_shown_only_as_configured() {
        let v4: IpAddr = "203.0.113.77".parse().unwrap();
        let v6: IpAddr = "2001:db8:12:34::5".parse().unwrap();
        let mapped: IpAddr = "::ffff:203.0.113.77".parse().unwrap();
        assert_eq!(shown(v4, AccessLogClient::None), None);
        assert_eq!(shown(v4, AccessLogClient::Full).unwrap(), "203.0.113.77");
        assert_eq!(
            shown(v4, AccessLogClient::Network).unwrap(),
            "203.0.113.0/24"
        );
        assert_eq!(
            shown(v6, AccessLogClient::Network).unwrap(),
            "2001:db8:12::/48"
        );
        assert_eq!(
            shown(mapped, AccessLogClient::Network).unwrap(),
            "203.0.113.0/24"
        );
    }
}
