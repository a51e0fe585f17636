//! `X-Request-Id` is echoed and logged, so it is believed only from a
//! trusted proxy (`trusted_proxies`) and only when it is a plain token
//! (1 to 64 of `[A-Za-z0-9._-]`); any other is replaced by one the server
//! makes, so a client cannot forge fields of the log.
//!
//! The test client connects from 127.0.0.1: an ordinary client by
//! default, the proxy once `trusted_proxies` names that address.
use sqin_tests::{both_backends, TestServer};

const FORGED: &str = "abc path=/admin status=200";

async fn echoed(server: &TestServer, sent: &str) -> String {
    let r = server
        .client()
        .get(server.url("/healthz"))
        .header("x-request-id", sent)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.headers()["x-request-id"].to_str().unwrap().to_owned()
}

/// A request id the server made: not what was sent, and well formed.
fn generated(id: &str, sent: &str) {
    assert_ne!(id, sent);
    assert!(
        !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')),
        "{id}"
    );
}

both_backends!(
    async fn request_ids_are_kept_only_from_trusted_proxies_and_well_formed(db: TestDb) {
        let server = TestServer::start(db).await;
        // An ordinary client: whatever it sends is replaced, even a token.
        generated(&echoed(&server, FORGED).await, FORGED);
        generated(&echoed(&server, "edge-42").await, "edge-42");
        let (db, data) = server.stop_keeping_data().await;

        let server = TestServer::start_with(
            db,
            |c| {
                c.trusted_proxies = vec!["127.0.0.1".into()];
                c.data_dir = data.path();
            },
            axum::Router::new(),
        )
        .await;
        // The trusted proxy's well-formed id is kept...
        assert_eq!(echoed(&server, "edge-42.a_b").await, "edge-42.a_b");
        let longest = "a".repeat(64);
        assert_eq!(echoed(&server, &longest).await, longest);
        // ...anything else it sends is replaced.
        for bad in [FORGED, "a\"b", "x=1", &"a".repeat(65), "é"] {
            generated(&echoed(&server, bad).await, bad);
        }
        server.stop().await;
    }
);
