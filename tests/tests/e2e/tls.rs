//! With a certificate and key configured, sqin serves HTTPS (rustls) and
//! sends HSTS; plain HTTP on that port is refused.
use sqin_tests::{TestDb, TestServer};

sqin_store::async_test!(
    async fn serves_https_with_the_configured_certificate() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let dir = std::env::temp_dir().join(format!("sqin-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cert_file = dir.join("cert.pem");
        let key_file = dir.join("key.pem");
        std::fs::write(&cert_file, cert.cert.pem()).unwrap();
        std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();

        let (c, k) = (cert_file.clone(), key_file.clone());
        let server = TestServer::start_with(
            TestDb::sqlite().await,
            move |config| {
                config.tls_cert_file = Some(c);
                config.tls_key_file = Some(k);
                config.issuer =
                    url::Url::parse(&config.issuer.as_str().replace("http://", "https://"))
                        .unwrap();
            },
            axum::Router::new(),
        )
        .await;
        let port = server.addr.port();
        let client = reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap(),
            )
            .resolve("localhost", server.addr)
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap();
        let r = client
            .get(format!(
                "https://localhost:{port}/.well-known/openid-configuration"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age"));
        let m: serde_json::Value = r.json().await.unwrap();
        assert_eq!(m["issuer"], format!("https://localhost:{port}"));
        // Plain HTTP to the TLS port gets no HTTP answer.
        let plain = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(3))
            .build()
            .unwrap()
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await;
        assert!(plain.is_err() || !plain.unwrap().status().is_success());
        server.stop().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
);
