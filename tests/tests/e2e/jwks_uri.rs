//! A `private_key_jwt` client that publishes its keys at a `jwks_uri`: sqin
//! fetches them over https (here from a real TLS server on 127.0.0.1, in a
//! deployment that allows private addresses and trusts its CA), and when
//! the client rotates its key nobody at sqin acts: an assertion with an
//! unknown `kid` makes sqin fetch the set again (at most every few
//! seconds, so a flood of unknown kids cannot make it hammer the URI).
use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::routing::get;
use serde_json::{json, Value};
use sqin_app::clients::{self, ClientActor};
use sqin_oidc::client::{AuthMethod, ClientRegistration};
use sqin_tests::*;

type Published = Arc<RwLock<Value>>;

async fn jwks(State(keys): State<Published>) -> axum::Json<Value> {
    axum::Json(keys.read().unwrap().clone())
}

/// An https server on 127.0.0.1 for `localhost`, with its certificate.
async fn key_server(keys: Published) -> (std::net::SocketAddr, String, axum_server::Handle) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let tls = axum_server::tls_rustls::RustlsConfig::from_pem(
        cert.cert.pem().into_bytes(),
        cert.signing_key.serialize_pem().into_bytes(),
    )
    .await
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = axum_server::Handle::new();
    let app = axum::Router::new()
        .route("/jwks.json", get(jwks))
        .with_state(keys);
    let server = axum_server::from_tcp_rustls(listener, tls).handle(handle.clone());
    tokio::spawn(async move {
        let _ = server.serve(app.into_make_service()).await;
    });
    (addr, cert.cert.pem(), handle)
}

fn assertion(
    server: &TestServer,
    client_id: &str,
    key: &sqin_crypto::Es256KeyPair,
    jti: &str,
) -> String {
    let now = server.now();
    let claims = json!({
        "iss": client_id, "sub": client_id, "aud": server.issuer, "jti": jti, "iat": now, "exp": now + 60,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(key.kid().to_owned());
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ec_der(key.pkcs8()),
    )
    .unwrap()
}

/// Introspection needs only client authentication: 200 when sqin accepts
/// the assertion.
async fn authenticates(server: &TestServer, assertion: &str) -> (u16, Value) {
    let r = server
        .client()
        .post(server.url("/introspect"))
        .form(&[
            ("token", "not-a-token"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

both_backends!(
    async fn client_keys_are_fetched_from_its_jwks_uri_and_a_rotation_is_picked_up(db: TestDb) {
        let first = sqin_crypto::Es256KeyPair::generate().unwrap();
        let second = sqin_crypto::Es256KeyPair::generate().unwrap();
        let published: Published = Arc::new(RwLock::new(json!({ "keys": [first.public_jwk()] })));
        let (addr, ca, handle) = key_server(published.clone()).await;
        let dir = std::env::temp_dir().join(format!("sqin-jwks-ca-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, ca).unwrap();
        let pia = ministries_pia();
        let server = TestServer::start_with(
            db,
            move |c| {
                c.pia_file = Some(pia);
                c.jwks_uri_allow_private = true;
                c.jwks_uri_ca_file = Some(ca_file);
            },
            axum::Router::new(),
        )
        .await;
        let uri = format!("https://localhost:{}/jwks.json", addr.port());
        let registered = clients::register(
            &server.services,
            &ClientActor::Operator,
            "health-card",
            ClientRegistration {
                name: "Clés publiées".into(),
                redirect_uris: vec!["https://rdv.sante.example/cb".into()],
                auth_method: Some(AuthMethod::PrivateKeyJwt),
                jwks_uri: Some(uri.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(registered.client_secret.is_none());
        let id = registered.record.client_id.clone();
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        sqin_store::clients::set_status(
            &mut conn,
            &id,
            sqin_store::clients::ClientStatus::Active,
            None,
            server.now(),
        )
        .await
        .unwrap();
        drop(conn);
        server.services.clients.forget(&id);

        let (status, body) = authenticates(&server, &assertion(&server, &id, &first, "a1")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["active"], false);

        // The client rotates: only the second key is published now.
        *published.write().unwrap() = json!({ "keys": [second.public_jwk()] });
        // Just after the last fetch, an unknown kid does not make sqin
        // fetch again: refused.
        let (status, body) = authenticates(&server, &assertion(&server, &id, &second, "a2")).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client")),
            "{body}"
        );
        // A little later it does, and finds the new key.
        server.advance(sqin_app::clients::jwks_uri::MIN_REFRESH_SECS + 1);
        let (status, body) = authenticates(&server, &assertion(&server, &id, &second, "a3")).await;
        assert_eq!(status, 200, "{body}");
        // The old key is gone from the set: refused.
        server.advance(sqin_app::clients::jwks_uri::MIN_REFRESH_SECS + 1);
        let (status, _) = authenticates(&server, &assertion(&server, &id, &first, "a4")).await;
        assert_eq!(status, 401);

        server.stop().await;
        handle.shutdown();
        let _ = std::fs::remove_dir_all(&dir);
    }
);

both_backends!(
    async fn a_jwks_uri_on_a_private_or_plain_http_address_is_refused(db: TestDb) {
        let server = TestServer::start_with_ministries(db).await;
        for (uri, why) in [
            ("http://rdv.sante.example/jwks.json", "https"),
            ("https://localhost/jwks.json", "not a public address"),
            ("https://127.0.0.1:8443/jwks.json", "not a public address"),
        ] {
            let err = clients::register(
                &server.services,
                &ClientActor::Operator,
                "health-card",
                ClientRegistration {
                    name: "Clés".into(),
                    redirect_uris: vec!["https://rdv.sante.example/cb".into()],
                    auth_method: Some(AuthMethod::PrivateKeyJwt),
                    jwks_uri: Some(uri.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("jwks_uri") && text.contains(why),
                "{uri}: {text}"
            );
        }
        server.stop().await;
    }
);
