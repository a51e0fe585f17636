//! The HTTP skeleton: health, readiness against the database, headers,
//! request ids, JWKS, body limits.
use sqin_tests::{both_backends, http_client, TestServer};

both_backends!(
    async fn health_and_readiness_follow_the_database(db: TestDb) {
        let server = TestServer::start(db).await;
        let client = http_client();
        let r = client.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = client.get(server.url("/readyz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.json::<serde_json::Value>().await.unwrap()["status"],
            "ready"
        );

        // The database goes away: the node reports itself unready, stays alive.
        server.services.store.close().await;
        let r = client.get(server.url("/readyz")).send().await.unwrap();
        assert_eq!(r.status(), 503);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["status"], "unavailable");
        let r = client.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        server.stop().await;
    }
);

both_backends!(
    async fn responses_carry_security_headers_and_request_ids(db: TestDb) {
        let server = TestServer::start(db).await;
        let client = http_client();
        let r = client.get(server.url("/healthz")).send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'"));
        assert_eq!(h["cache-control"], "no-store");
        let id = h["x-request-id"].to_str().unwrap().to_owned();
        assert!(id.len() >= 10, "a generated id: {id}");
        let again = client.get(server.url("/healthz")).send().await.unwrap();
        assert_ne!(
            again.headers()["x-request-id"].to_str().unwrap(),
            id,
            "unique"
        );
        // A request id from a client that is not a trusted proxy is
        // replaced (request_ids.rs has the proxy's).
        let r = client
            .get(server.url("/healthz"))
            .header("x-request-id", "edge-42")
            .send()
            .await
            .unwrap();
        assert_ne!(r.headers()["x-request-id"], "edge-42");
        let r = client
            .get(server.url("/no/such/thing"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(
            r.json::<serde_json::Value>().await.unwrap()["error"],
            "not_found"
        );
        server.stop().await;
    }
);

both_backends!(
    async fn jwks_publishes_current_and_next_keys(db: TestDb) {
        let server = TestServer::start(db).await;
        let r = http_client().get(server.url("/jwks")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age"));
        let body: serde_json::Value = r.json().await.unwrap();
        let keys = body["keys"].as_array().unwrap();
        // A current and a next key for each ID token algorithm.
        assert_eq!(keys.len(), 6);
        for k in keys {
            match k["alg"].as_str().unwrap() {
                "ES256" => {
                    assert_eq!(k["kty"], "EC");
                    assert_eq!(k["crv"], "P-256");
                    assert!(k.get("d").is_none(), "never a private part");
                }
                "PS256" | "RS256" => {
                    assert_eq!(k["kty"], "RSA");
                    assert!(k["n"].is_string() && k["e"].is_string());
                    for private in ["d", "p", "q", "dp", "dq", "qi"] {
                        assert!(k.get(private).is_none(), "never a private part");
                    }
                }
                other => panic!("unexpected alg {other}"),
            }
            assert_eq!(k["use"], "sig");
        }
        for alg in ["ES256", "PS256", "RS256"] {
            assert_eq!(keys.iter().filter(|k| k["alg"] == alg).count(), 2, "{alg}");
        }
        server.stop().await;
    }
);

both_backends!(
    async fn the_confidentiality_policy_is_public_and_linked_from_every_page(db: TestDb) {
        let server = TestServer::start(db).await;
        let client = http_client();
        let r = client.get(server.url("/privacy")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("<html lang=\"fr\">"), "French by default");
        assert!(html.contains("Qui sommes-nous?"), "{html}");
        assert!(html.contains("Vos droits"));
        let html = client
            .get(server.url("/privacy?lang=en"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Who we are") && html.contains("Your rights"),
            "{html}"
        );
        assert!(!html.contains("Qui sommes-nous?"));
        // Every page that collects links to it.
        for path in ["/login", "/enrol"] {
            let html = client
                .get(server.url(path))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(html.contains("href=\"/privacy\""), "{path}");
        }
        server.stop().await;
    }
);
