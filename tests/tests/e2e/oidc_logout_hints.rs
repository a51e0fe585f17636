//! RP-initiated logout's parameters: `id_token_hint` is one of sqin's ID
//! tokens and nothing else sqin signs, its `sid` (the RP's own, per sector)
//! finds the session, and a repeated parameter is refused rather than read
//! one way here and another way elsewhere.
use serde_json::Value;
use sqin_tests::*;

const CB: &str = "http://127.0.0.1:9/cb";

fn payload(jwt: &str) -> Value {
    let p = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&sqin_crypto::b64url_decode(p).unwrap()).unwrap()
}

async fn logout(server: &TestServer, cookie: &str, query: &[(&str, &str)]) -> reqwest::Response {
    server
        .client()
        .get(server.url("/logout"))
        .query(query)
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

/// Whether the session behind `cookie` is still live.
async fn live(server: &TestServer, cookie: &str) -> bool {
    let token = cookie.split_once('=').unwrap().1;
    let mut conn = server.services.store.pool().acquire().await.unwrap();
    sqin_session::current(&mut conn, token, server.now())
        .await
        .unwrap()
        .is_some()
}

both_backends!(
    async fn only_an_id_token_is_a_hint_and_its_sid_finds_the_session(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-1").await;
        let cookie = server.sign_in(&citizen.id).await;
        let reg = server.register_client(rp("Famille", CB, "openid")).await;
        let id = reg.record.client_id.clone();
        let secret = reg.client_secret.unwrap().expose().to_owned();
        let tokens = tokens_for(&server, &cookie, &id, &secret, CB, "openid").await;
        let id_token = tokens["id_token"].as_str().unwrap();
        let claims = payload(id_token);
        // The same claims, signed by sqin's key as another kind of token.
        let ring = server.services.key_ring();
        for typ in ["logout+jwt", "at+jwt", "JWT-not"] {
            let other = sqin_oidc::jwt::sign(ring.signing_key(), typ, &claims).unwrap();
            let r = logout(&server, &cookie, &[("id_token_hint", &other)]).await;
            assert_eq!(r.status(), 400, "{typ}");
            assert!(live(&server, &cookie).await, "{typ} ended the session");
        }
        // A logout token (typ logout+jwt with events) is not a hint either.
        let mut logout_claims = claims.clone();
        logout_claims["events"] =
            serde_json::json!({ "http://schemas.openid.net/event/backchannel-logout": {} });
        let token = sqin_oidc::jwt::sign(ring.signing_key(), "JWT", &logout_claims).unwrap();
        let r = logout(&server, &cookie, &[("id_token_hint", &token)]).await;
        assert_eq!(r.status(), 400);
        assert!(live(&server, &cookie).await);

        // The RP's own ID token: its sid names this session, so no question.
        assert_ne!(claims["sid"], Value::Null);
        let r = logout(&server, &cookie, &[("id_token_hint", id_token)]).await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(
            hidden_input(&html, "form_token").is_none(),
            "no confirmation"
        );
        assert!(!live(&server, &cookie).await, "the session ended");
        server.stop().await;
    }
);

both_backends!(
    async fn a_repeated_logout_parameter_is_refused(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-1").await;
        let cookie = server.sign_in(&citizen.id).await;
        let reg = server.register_client(rp("Famille", CB, "openid")).await;
        let id = reg.record.client_id.clone();
        let secret = reg.client_secret.unwrap().expose().to_owned();
        let tokens = tokens_for(&server, &cookie, &id, &secret, CB, "openid").await;
        let hint = tokens["id_token"].as_str().unwrap();
        let registered = format!("{CB}/logged-out");
        for repeated in [
            vec![
                ("post_logout_redirect_uri", registered.as_str()),
                ("post_logout_redirect_uri", "https://evil.example/"),
            ],
            vec![("state", "a"), ("state", "b")],
            vec![("id_token_hint", hint), ("id_token_hint", hint)],
        ] {
            let mut query = vec![("id_token_hint", hint)];
            if repeated[0].0 == "id_token_hint" {
                query.clear();
            } else {
                query.push(("post_logout_redirect_uri", registered.as_str()));
                query.retain(|(k, _)| *k != repeated[0].0);
            }
            query.extend(repeated.iter().copied());
            let r = logout(&server, &cookie, &query).await;
            assert_eq!(r.status(), 400, "{query:?}");
            assert!(r.headers().get("location").is_none());
            assert!(live(&server, &cookie).await);
        }
        // Once each: the session ends and the RP gets the citizen back.
        let r = logout(
            &server,
            &cookie,
            &[
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", &registered),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        assert!(location(&r).starts_with(&registered));
        server.stop().await;
    }
);
