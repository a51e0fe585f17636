//! `trusted_proxies`: behind a reverse proxy, per-address rate limits count
//! the clients the proxy names in `X-Forwarded-For`, not the proxy; without
//! the setting the header is ignored, so no client can choose its address.
//!
//! The test client plays the proxy: it connects from 127.0.0.1 and sends the
//! header a proxy would have written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use sqin_tests::{both_backends, TestServer};

use crate::passkeys_support;

/// A browser (cookie jar and CSRF token) behind the "proxy".
struct Client {
    browser: passkeys_support::Browser,
    /// Each attempt uses another (unknown) code, so that only the
    /// per-address budget is in play, never the per-code one.
    attempts: AtomicUsize,
}

impl Client {
    async fn open(server: &TestServer) -> Client {
        Client {
            browser: passkeys_support::Browser::open(server).await,
            attempts: AtomicUsize::new(0),
        }
    }

    /// One code-and-birthdate attempt, forwarded for `forwarded_for`; the
    /// status and the error code.
    async fn attempt(&self, forwarded_for: &str) -> (u16, String) {
        let i = self.attempts.fetch_add(1, Ordering::Relaxed);
        let reply = self
            .browser
            .post_with(
                "/api/passkeys/enrol/verify",
                json!({ "code": format!("AAAA-AAAA-AAAA-{i:04}"), "birthdate": "1966-06-06" }),
                &[("x-forwarded-for", forwarded_for)],
            )
            .await;
        (reply.status.as_u16(), reply.error().to_owned())
    }
}

/// Budgets are counted per window: if one is about to end, move the
/// server's clock to the next, so that a test's hits all land in one window.
async fn clear_of_window_edge(server: &TestServer) {
    let window = server.services.passkeys.limits().window_secs.max(1);
    let left = window - server.now().rem_euclid(window);
    if left <= 30 {
        server.advance(left + 1);
    }
}

/// Spends the per-address budget of the client the proxy calls `forwarded_for`.
async fn spend_budget(server: &TestServer, client: &Client, forwarded_for: &str) {
    let budget = server.services.passkeys.limits().code_attempts_per_address;
    for i in 0..budget {
        let (status, error) = client.attempt(forwarded_for).await;
        assert_eq!((status, error.as_str()), (400, "code_refused"), "{i}");
    }
}

async fn start(db: sqin_tests::TestDb, trusted: &[&str]) -> TestServer {
    let trusted: Vec<String> = trusted.iter().map(|s| (*s).to_owned()).collect();
    TestServer::start_with(
        db,
        move |config| config.trusted_proxies = trusted,
        axum::Router::new(),
    )
    .await
}

both_backends!(
    async fn behind_a_trusted_proxy_each_client_has_its_own_budget(db: TestDb) {
        let server = start(db, &["127.0.0.1/32", "::1/128"]).await;
        clear_of_window_edge(&server).await;
        let client = Client::open(&server).await;
        spend_budget(&server, &client, "198.51.100.7").await;
        // The client the proxy named is limited...
        let (status, error) = client.attempt("198.51.100.7").await;
        assert_eq!((status, error.as_str()), (429, "rate_limited"));
        // ...however it is written (a port, IPv4-mapped IPv6)...
        for spelling in [
            "198.51.100.7:4711",
            "::ffff:198.51.100.7",
            "[::ffff:198.51.100.7]:80",
        ] {
            assert_eq!(client.attempt(spelling).await.0, 429, "{spelling}");
        }
        // ...and whatever it puts in front: the proxy appended the last entry.
        assert_eq!(client.attempt("203.0.113.1, 198.51.100.7").await.0, 429);
        // Another client behind the same proxy is not.
        let (status, error) = client.attempt("198.51.100.8").await;
        assert_eq!((status, error.as_str()), (400, "code_refused"));
        // Nor is an IPv6 client, named with a port, nor one behind a second
        // trusted proxy (127.0.0.1 appended by the first hop).
        let (status, _) = client.attempt("[2001:db8::1]:4711").await;
        assert_eq!(status, 400);
        let (status, _) = client.attempt("198.51.100.9, 127.0.0.1").await;
        assert_eq!(status, 400);
        server.stop().await;
    }
);

both_backends!(
    async fn without_trusted_proxies_the_header_is_ignored(db: TestDb) {
        // The default: no proxy trusted.
        let server = start(db, &[]).await;
        clear_of_window_edge(&server).await;
        let client = Client::open(&server).await;
        spend_budget(&server, &client, "198.51.100.7").await;
        // Another forwarded address changes nothing: the peer, 127.0.0.1,
        // is the client, and its budget is spent.
        let (status, error) = client.attempt("198.51.100.8").await;
        assert_eq!((status, error.as_str()), (429, "rate_limited"));
        assert_eq!(client.attempt("[2001:db8::1]:4711").await.0, 429);
        server.stop().await;
    }
);

both_backends!(
    async fn a_proxy_that_is_not_listed_is_not_believed(db: TestDb) {
        // Proxies are trusted, but not the one connecting (127.0.0.1).
        let server = start(db, &["10.0.0.0/8"]).await;
        clear_of_window_edge(&server).await;
        let client = Client::open(&server).await;
        spend_budget(&server, &client, "198.51.100.7").await;
        let (status, error) = client.attempt("198.51.100.8").await;
        assert_eq!((status, error.as_str()), (429, "rate_limited"));
        server.stop().await;
    }
);
