//! `/.well-known/security.txt` (RFC 9116), served from the configuration.
use sqin_tests::{both_backends, http_client, TestServer};

both_backends!(
    async fn security_txt_is_served_from_the_configuration(db: TestDb) {
        let server = TestServer::start_with(
            db,
            |c| {
                c.security_contact = vec![
                    "mailto:security@gouv.example".into(),
                    "https://gouv.example/report".into(),
                ];
                c.security_expires = Some("2099-01-01T00:00:00Z".into());
                c.security_policy = Some("https://gouv.example/disclosure".into());
                c.security_languages = vec!["fr".into(), "en".into()];
            },
            axum::Router::new(),
        )
        .await;
        let r = http_client()
            .get(server.url("/.well-known/security.txt"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
        let text = r.text().await.unwrap();
        let fields: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            fields,
            [
                "Contact: mailto:security@gouv.example",
                "Contact: https://gouv.example/report",
                "Expires: 2099-01-01T00:00:00Z",
                "Policy: https://gouv.example/disclosure",
                "Preferred-Languages: fr, en",
            ]
        );
        server.stop().await;
    }
);

both_backends!(
    async fn security_txt_is_not_found_when_unconfigured(db: TestDb) {
        let server = TestServer::start(db).await;
        let r = http_client()
            .get(server.url("/.well-known/security.txt"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        server.stop().await;
    }
);
