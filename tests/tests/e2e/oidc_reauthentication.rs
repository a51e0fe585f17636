//! When the browser's session cannot answer a request: `max_age=0` (a fresh
//! ceremony, as `prompt=login`), and requests about one citizen in
//! particular (`claims` with a `sub` value, `id_token_hint`), which sqin
//! answers positively only for that citizen (OIDC Core 3.1.2.1, 5.5.1);
//! and the protocol claims sqin always meets (`auth_time`, `acr`), which may
//! be asked for as essential.
use serde_json::Value;
use sqin_tests::*;

const CB: &str = "http://127.0.0.1:9/cb";

struct Rp {
    id: String,
    secret: String,
}

async fn setup(db: TestDb) -> (TestServer, Rp) {
    let server = TestServer::start(db).await;
    let reg = server
        .register_client(rp("Famille", CB, "openid profile"))
        .await;
    let rp = Rp {
        id: reg.record.client_id.clone(),
        secret: reg.client_secret.unwrap().expose().to_owned(),
    };
    (server, rp)
}

fn payload(jwt: &str) -> Value {
    let p = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&sqin_crypto::b64url_decode(p).unwrap()).unwrap()
}

/// An authorization URL for `rp` with `extra` parameters; its PKCE verifier.
fn url(server: &TestServer, rp: &Rp, extra: &[(&str, &str)]) -> (String, String) {
    let (verifier, challenge) = pkce_pair();
    let mut p = vec![
        ("response_type", "code"),
        ("client_id", rp.id.as_str()),
        ("redirect_uri", CB),
        ("scope", "openid"),
        ("state", "st"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    p.extend_from_slice(extra);
    (authorize_url(server, &p), verifier)
}

async fn get(server: &TestServer, url: &str, cookie: &str) -> String {
    let r = server
        .client()
        .get(url)
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    location(&r)
}

/// Signs `citizen` in at `rp` once (so a consent exists): the ID token's claims.
async fn consent(server: &TestServer, rp: &Rp, cookie: &str) -> Value {
    let tokens = tokens_for(server, cookie, &rp.id, &rp.secret, CB, "openid").await;
    payload(tokens["id_token"].as_str().unwrap())
}

async fn id_token_for_code(server: &TestServer, rp: &Rp, back: &str, verifier: &str) -> Value {
    let code = query_param(back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let (s, body, _) = token_request(
        server,
        &rp.id,
        &rp.secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    payload(body["id_token"].as_str().unwrap())
}

fn request_of(login: &str) -> String {
    assert!(login.starts_with("/login?"), "{login}");
    query_param(&format!("http://x{login}"), "request").unwrap()
}

fn forced(login: &str) -> bool {
    query_param(&format!("http://x{login}"), "prompt").as_deref() == Some("login")
}

both_backends!(
    async fn max_age_zero_is_a_fresh_ceremony_like_prompt_login(db: TestDb) {
        let (server, rp) = setup(db).await;
        let citizen = server.add_citizen("R-1").await;
        let cookie = server.sign_in(&citizen.id).await;
        consent(&server, &rp, &cookie).await;
        // Right after a sign-in: still a fresh ceremony, no code.
        let (u, verifier) = url(&server, &rp, &[("max_age", "0")]);
        let login = get(&server, &u, &cookie).await;
        assert!(forced(&login), "{login}");
        let request = request_of(&login);
        // The same session, however recent, never answers it.
        let resume = server.url(&format!("/authorize/resume?request={request}"));
        assert!(forced(&get(&server, &resume, &cookie).await));
        // The ceremony, then more than a second before the resume: a code.
        server.advance(2);
        // (the test clock also flows: bound the ceremony's time both ways)
        let before = server.now();
        let fresh = server.sign_in(&citizen.id).await;
        let after = server.now();
        server.advance(3);
        let back = get(&server, &resume, &fresh).await;
        assert!(back.starts_with(CB), "{back}");
        let id_token = id_token_for_code(&server, &rp, &back, &verifier).await;
        let auth_time = id_token["auth_time"].as_i64().unwrap();
        assert!(
            (before..=after).contains(&auth_time),
            "the fresh ceremony's time: {before} <= {auth_time} <= {after}"
        );
        // With prompt=none there can be no ceremony: login_required.
        let (u, _) = url(&server, &rp, &[("max_age", "0"), ("prompt", "none")]);
        let back = get(&server, &u, &fresh).await;
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("login_required")
        );
        server.stop().await;
    }
);

both_backends!(
    async fn a_request_about_another_citizen_is_never_answered_for_this_one(db: TestDb) {
        let (server, rp) = setup(db).await;
        let aline = server.add_citizen("R-1").await;
        let bruno = server.add_citizen("R-2").await;
        let aline_cookie = server.sign_in(&aline.id).await;
        let aline_token = consent(&server, &rp, &aline_cookie).await;
        let aline_sub = aline_token["sub"].as_str().unwrap().to_owned();
        // Bruno's browser, Bruno signed in and consented.
        let cookie = server.sign_in(&bruno.id).await;
        let bruno_token = consent(&server, &rp, &cookie).await;
        let bruno_sub = bruno_token["sub"].as_str().unwrap().to_owned();
        assert_ne!(aline_sub, bruno_sub);
        let about = |sub: &str| format!(r#"{{"id_token":{{"sub":{{"value":"{sub}"}}}}}}"#);

        // claims naming Aline's sub: never a code for Bruno.
        let (u, _) = url(
            &server,
            &rp,
            &[("claims", &about(&aline_sub)), ("prompt", "none")],
        );
        let back = get(&server, &u, &cookie).await;
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("login_required"),
            "{back}"
        );
        let (u, _) = url(&server, &rp, &[("claims", &about(&aline_sub))]);
        assert!(forced(&get(&server, &u, &cookie).await), "a fresh login");
        // Bruno's own sub: a code for Bruno.
        let (u, verifier) = url(
            &server,
            &rp,
            &[("claims", &about(&bruno_sub)), ("prompt", "none")],
        );
        let back = get(&server, &u, &cookie).await;
        let id_token = id_token_for_code(&server, &rp, &back, &verifier).await;
        assert_eq!(id_token["sub"], bruno_sub.as_str());

        // An ID token of Aline's as the hint: the same.
        let aline_hint = tokens_for(&server, &aline_cookie, &rp.id, &rp.secret, CB, "openid").await
            ["id_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let (u, _) = url(
            &server,
            &rp,
            &[("id_token_hint", &aline_hint), ("prompt", "none")],
        );
        let back = get(&server, &u, &cookie).await;
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("login_required"),
            "{back}"
        );
        let (u, _) = url(&server, &rp, &[("id_token_hint", &aline_hint)]);
        let login = get(&server, &u, &cookie).await;
        assert!(forced(&login), "{login}");
        // Signing in again as Bruno does not make him Aline.
        let request = request_of(&login);
        let resume = server.url(&format!("/authorize/resume?request={request}"));
        let again = server.sign_in(&bruno.id).await;
        assert!(get(&server, &resume, &again).await.starts_with("/login?"));
        // Aline signing in on this browser is answered.
        let aline_again = server.sign_in(&aline.id).await;
        let back = get(&server, &resume, &aline_again).await;
        assert!(
            back.starts_with(CB) && query_param(&back, "code").is_some(),
            "{back}"
        );
        // Bruno's own (expired) ID token as the hint: a code for Bruno.
        let bruno_hint = tokens_for(&server, &cookie, &rp.id, &rp.secret, CB, "openid").await
            ["id_token"]
            .as_str()
            .unwrap()
            .to_owned();
        server.advance(3600);
        let cookie = server.sign_in(&bruno.id).await;
        let (u, verifier) = url(
            &server,
            &rp,
            &[("id_token_hint", &bruno_hint), ("prompt", "none")],
        );
        let back = get(&server, &u, &cookie).await;
        let id_token = id_token_for_code(&server, &rp, &back, &verifier).await;
        assert_eq!(id_token["sub"], bruno_sub.as_str());
        // A hint that is not one of sqin's ID tokens is refused.
        let (u, _) = url(&server, &rp, &[("id_token_hint", "not.a.token")]);
        let back = get(&server, &u, &cookie).await;
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("invalid_request")
        );
        server.stop().await;
    }
);

both_backends!(
    async fn essential_auth_time_and_acr_are_within_every_purpose(db: TestDb) {
        let (server, rp) = setup(db).await;
        let citizen = server.add_citizen("R-1").await;
        let cookie = server.sign_in(&citizen.id).await;
        consent(&server, &rp, &cookie).await;
        let substantial = sqin_session::acr::SUBSTANTIAL;
        for claims in [
            r#"{"id_token":{"auth_time":{"essential":true}}}"#.to_owned(),
            format!(r#"{{"id_token":{{"acr":{{"essential":true,"values":["{substantial}"]}}}}}}"#),
            r#"{"id_token":{"acr":{"essential":true}},"userinfo":{"sub":{"essential":true}}}"#
                .to_owned(),
        ] {
            let (u, verifier) = url(&server, &rp, &[("claims", &claims)]);
            let back = get(&server, &u, &cookie).await;
            assert!(query_param(&back, "code").is_some(), "{claims}: {back}");
            let id_token = id_token_for_code(&server, &rp, &back, &verifier).await;
            assert!(id_token["auth_time"].is_i64());
            assert_eq!(id_token["acr"], substantial);
        }
        // An essential acr sqin cannot meet is refused, not silently lowered.
        let (u, _) = url(
            &server,
            &rp,
            &[(
                "claims",
                r#"{"id_token":{"acr":{"essential":true,"values":["urn:example:loa:high"]}}}"#,
            )],
        );
        let back = get(&server, &u, &cookie).await;
        assert!(back.starts_with(CB), "{back}");
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("invalid_request")
        );
        server.stop().await;
    }
);
