//! SIGTERM drains requests in flight. The test sends SIGTERM to its own
//! process only once the server's handler is installed (the server answers
//! `/healthz`), so the signal is caught by that handler and no other test
//! of the binary is touched (their servers stop through their own channel).
use std::time::Duration;

use axum::routing::get;
use sqin_tests::{http_client, TestDb};

sqin_store::async_test!(
    async fn sigterm_finishes_requests_in_flight_then_stops() {
        let db = TestDb::sqlite().await;
        // A test-only slow route, merged here and never in the release binary.
        let slow = axum::Router::new().route(
            "/test/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(800)).await;
                "finished"
            }),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = sqin_server::Config {
            database_url: db.url.clone(),
            data_dir: std::env::temp_dir().join(format!("sqin-term-{}", std::process::id())),
            listen: addr,
            ..Default::default()
        };
        config.shutdown_grace_secs = 10;
        let services = sqin_server::open(&config).await.unwrap();
        let router =
            sqin_server::http::router(services, std::sync::Arc::new(config.clone())).merge(slow);
        let server = tokio::spawn(async move {
            sqin_server::http::serve(
                router,
                &config,
                listener,
                sqin_server::http::shutdown_signal(),
            )
            .await
        });
        let base = format!("http://{addr}");
        let client = http_client();
        for _ in 0..100 {
            if client.get(format!("{base}/healthz")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let in_flight = tokio::spawn({
            let client = client.clone();
            let url = format!("{base}/test/slow");
            async move { client.get(url).send().await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());

        let response = tokio::time::timeout(Duration::from_secs(5), in_flight)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "finished");
        // The server then stops by itself, and refuses new connections.
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let fresh = reqwest::Client::new()
            .get(format!("{base}/healthz"))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        assert!(fresh.is_err());
    }
);
