//! What an unauthenticated browser can make sqin store: every parameter of a
//! pending authorization request is bounded, and one client address can keep
//! only so many pending at once. And what sqin echoes back: error
//! descriptions stay within RFC 6749's character set.
use sqin_tests::*;

const CB: &str = "http://127.0.0.1:9/cb";

async fn pending(server: &TestServer) -> i64 {
    sqin_store::testing::scalar(
        server.services.store.pool(),
        "SELECT COUNT(*) FROM auth_requests",
    )
    .await
}

async fn start(db: TestDb) -> (TestServer, String) {
    let server = TestServer::start_with(
        db,
        |c| c.trusted_proxies = vec!["127.0.0.1/32".into(), "::1/128".into()],
        axum::Router::new(),
    )
    .await;
    let reg = server
        .register_client(rp("Famille", CB, "openid profile"))
        .await;
    (server, reg.record.client_id.clone())
}

fn base<'a>(client_id: &'a str, challenge: &'a str) -> Vec<(&'a str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", client_id.into()),
        ("redirect_uri", CB.into()),
        ("scope", "openid profile".into()),
        ("state", "st".into()),
        ("code_challenge", challenge.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

/// POSTs an authorization request (a form: large values fit in a body).
async fn post(server: &TestServer, form: &[(&str, String)], from: &str) -> reqwest::Response {
    server
        .client()
        .post(server.url("/authorize"))
        .header("x-forwarded-for", from)
        .form(form)
        .send()
        .await
        .unwrap()
}

both_backends!(
    async fn oversize_parameters_are_refused_and_nothing_is_stored(db: TestDb) {
        let (server, client_id) = start(db).await;
        let (_, challenge) = pkce_pair();
        let big = |n: usize| "a".repeat(n);
        let claims_41k = format!(
            r#"{{"userinfo":{{"given_name":{{"essential":true,"x":"{}"}}}}}}"#,
            big(41_000)
        );
        let cases: Vec<(&str, String)> = vec![
            ("claims", claims_41k),
            ("nonce", big(600)),
            ("ui_locales", big(100)),
            ("acr_values", big(600)),
            ("login_hint", big(300)),
            ("id_token_hint", big(9000)),
            ("display", big(100)),
            ("claims_locales", big(100)),
            ("max_age", "9".repeat(40)),
            ("prompt", vec!["login"; 200].join(" ")),
            ("scope", vec!["openid"; 400].join(" ")),
        ];
        for (name, value) in cases {
            let mut form = base(&client_id, &challenge);
            form.retain(|(k, _)| *k != name);
            form.push((name, value));
            let r = post(&server, &form, "198.51.100.7").await;
            assert_eq!(r.status(), 303, "{name}");
            let to = location(&r);
            assert!(to.starts_with(CB), "{name}: {to}");
            assert_eq!(
                query_param(&to, "error").as_deref(),
                Some("invalid_request"),
                "{name}: {to}"
            );
            assert_eq!(query_param(&to, "state").as_deref(), Some("st"), "{name}");
            assert_eq!(pending(&server).await, 0, "{name} was stored");
        }
        // An oversize state is refused without being echoed.
        let mut form = base(&client_id, &challenge);
        form.retain(|(k, _)| *k != "state");
        form.push(("state", big(3000)));
        let r = post(&server, &form, "198.51.100.7").await;
        let to = location(&r);
        assert_eq!(
            query_param(&to, "error").as_deref(),
            Some("invalid_request")
        );
        assert_eq!(query_param(&to, "state"), None);
        assert!(to.len() < 1000, "{}", to.len());
        // Before the client is known nothing can be trusted with a redirect:
        // the error page.
        let mut form = base(&client_id, &challenge);
        form.retain(|(k, _)| *k != "client_id");
        form.push(("client_id", big(5000)));
        let r = post(&server, &form, "198.51.100.7").await;
        assert_eq!(r.status(), 400);
        assert!(r.headers().get("location").is_none());
        assert_eq!(pending(&server).await, 0);

        // Within the bounds, a request is stored as before.
        let mut form = base(&client_id, &challenge);
        form.push((
            "claims",
            r#"{"userinfo":{"given_name":{"essential":true}}}"#.into(),
        ));
        form.push(("nonce", big(512)));
        form.retain(|(k, _)| *k != "state");
        form.push(("state", big(2048)));
        let r = post(&server, &form, "198.51.100.7").await;
        assert!(
            location(&r).starts_with("/login?request="),
            "{}",
            location(&r)
        );
        assert_eq!(pending(&server).await, 1);
        server.stop().await;
    }
);

both_backends!(
    async fn one_address_can_keep_only_so_many_requests_pending(db: TestDb) {
        let (server, client_id) = start(db).await;
        let (_, challenge) = pkce_pair();
        let form = base(&client_id, &challenge);
        let budget = sqin_oidc::authorize::PENDING_REQUESTS_PER_ADDRESS;
        for i in 0..budget {
            let r = post(&server, &form, "198.51.100.7").await;
            assert_eq!(r.status(), 303, "{i}");
            assert!(location(&r).starts_with("/login?request="), "{i}");
        }
        let r = post(&server, &form, "198.51.100.7").await;
        assert_eq!(r.status(), 429);
        assert!(r.headers().get("retry-after").is_some());
        assert!(r.headers().get("location").is_none());
        assert_eq!(
            pending(&server).await,
            budget,
            "the refused one is not stored"
        );
        // Another address (behind the same trusted proxy) is not affected.
        let r = post(&server, &form, "198.51.100.8").await;
        assert!(location(&r).starts_with("/login?request="));
        assert_eq!(pending(&server).await, budget + 1);
        // Once the window has passed, the first address may start again.
        server.advance(server.services.passkeys.limits().window_secs + 1);
        let r = post(&server, &form, "198.51.100.7").await;
        assert!(location(&r).starts_with("/login?request="));
        server.stop().await;
    }
);

fn in_rfc6749_charset(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

both_backends!(
    async fn error_descriptions_stay_within_the_rfc_6749_character_set(db: TestDb) {
        let (server, client_id) = start(db).await;
        let (_, challenge) = pkce_pair();
        let hostile = "é\"\\<x>\u{7f}\n";
        // Echoed in a redirect (an unknown prompt value).
        let mut form = base(&client_id, &challenge);
        form.push(("prompt", hostile.into()));
        let r = post(&server, &form, "198.51.100.7").await;
        let to = location(&r);
        assert_eq!(
            query_param(&to, "error").as_deref(),
            Some("invalid_request")
        );
        let d = query_param(&to, "error_description").unwrap();
        assert!(in_rfc6749_charset(&d), "{d:?}");
        assert!(!d.is_empty());
        // Echoed in JSON (a scope at the client-credentials grant).
        let reg = server
            .register_client(rp("Revenu", "http://127.0.0.1:9/other", "openid"))
            .await;
        let (status, body, _) = token_request(
            &server,
            &reg.record.client_id,
            reg.client_secret.as_ref().unwrap().expose(),
            &[("grant_type", "client_credentials"), ("scope", hostile)],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_scope"))
        );
        let d = body["error_description"].as_str().unwrap();
        assert!(in_rfc6749_charset(d), "{d:?}");
        server.stop().await;
    }
);
