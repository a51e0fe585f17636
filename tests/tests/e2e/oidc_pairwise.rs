//! Pairwise subjects and key rotation under traffic.
use serde_json::Value;
use sqin_tests::*;

fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&sqin_crypto::b64url_decode(payload).unwrap()).unwrap()
}

fn kid_of(jwt: &str) -> String {
    let header = jwt.split('.').next().unwrap();
    let h: Value = serde_json::from_slice(&sqin_crypto::b64url_decode(header).unwrap()).unwrap();
    h["kid"].as_str().unwrap().to_owned()
}

async fn login(server: &TestServer, cookie: &str, id: &str, secret: &str, cb: &str) -> Value {
    tokens_for(server, cookie, id, secret, cb, "openid profile").await
}

both_backends!(
    async fn two_sectors_see_two_subjects_stable_across_logins_and_rotation(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-1").await;
        let cookie = server.sign_in(&citizen.id).await;
        let famille = server
            .register_client(rp(
                "Famille",
                "https://famille.example/cb",
                "openid profile",
            ))
            .await;
        let revenu = server
            .register_client(rp("Revenu", "https://revenu.example/cb", "openid profile"))
            .await;
        // Same sector as Famille (a second portal of the same ministry).
        let famille2 = server
            .register_client(sqin_oidc::client::ClientRegistration {
                sector: Some("famille.example".into()),
                ..rp(
                    "Famille bis",
                    "https://garde.famille.example/cb",
                    "openid profile",
                )
            })
            .await;
        let secret = |r: &sqin_oidc::client::RegisteredClient| {
            r.client_secret.as_ref().unwrap().expose().to_owned()
        };
        let a = login(
            &server,
            &cookie,
            &famille.record.client_id,
            &secret(&famille),
            "https://famille.example/cb",
        )
        .await;
        let b = login(
            &server,
            &cookie,
            &revenu.record.client_id,
            &secret(&revenu),
            "https://revenu.example/cb",
        )
        .await;
        let c = login(
            &server,
            &cookie,
            &famille2.record.client_id,
            &secret(&famille2),
            "https://garde.famille.example/cb",
        )
        .await;
        let sub_a = claims_of(a["id_token"].as_str().unwrap())["sub"]
            .as_str()
            .unwrap()
            .to_owned();
        let sub_b = claims_of(b["id_token"].as_str().unwrap())["sub"]
            .as_str()
            .unwrap()
            .to_owned();
        let sub_c = claims_of(c["id_token"].as_str().unwrap())["sub"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_ne!(sub_a, sub_b, "two sectors must not be able to correlate");
        assert_eq!(sub_a, sub_c, "one sector, one subject");
        for sub in [&sub_a, &sub_b] {
            assert_ne!(sub, &citizen.id);
            assert!(!sub.contains(&citizen.id));
        }
        // Userinfo agrees with the ID token.
        let (_, info) = userinfo(&server, b["access_token"].as_str().unwrap()).await;
        assert_eq!(info["sub"], sub_b.as_str());

        // Rotate keys: tokens signed before stay valid until they expire, new
        // tokens use the new key, and the subject does not change.
        let old_access = a["access_token"].as_str().unwrap().to_owned();
        let old_kid = kid_of(&old_access);
        {
            let mut conn = server.services.store.pool().acquire().await.unwrap();
            sqin_oidc::keys::rotate(&mut conn, &server.services.kek, server.now(), 600)
                .await
                .unwrap();
        }
        server.services.reload_keys().await.unwrap();
        assert_eq!(userinfo(&server, &old_access).await.0, 200);
        let jwks: Value = server
            .client()
            .get(server.url("/jwks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["alg"] == "ES256")
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids.len(), 3, "previous, current, next");
        assert!(kids.contains(&old_kid.as_str()));
        let again = login(
            &server,
            &cookie,
            &famille.record.client_id,
            &secret(&famille),
            "https://famille.example/cb",
        )
        .await;
        let new_token = again["id_token"].as_str().unwrap();
        assert_ne!(kid_of(new_token), old_kid);
        assert_eq!(claims_of(new_token)["sub"], sub_a.as_str());
        server.stop().await;
    }
);

both_backends!(
    async fn logout_ends_the_session_and_returns_to_the_registered_uri(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-1").await;
        let cookie = server.sign_in(&citizen.id).await;
        let cb = "http://127.0.0.1:9/cb";
        let reg = server
            .register_client(rp("Famille", cb, "openid profile"))
            .await;
        let id = reg.record.client_id.clone();
        let secret = reg.client_secret.unwrap().expose().to_owned();
        let tokens = login(&server, &cookie, &id, &secret, cb).await;
        let hint = tokens["id_token"].as_str().unwrap();
        let http = server.client();
        // An unregistered post-logout URI: an error page, no redirect.
        let r = http
            .get(server.url("/logout"))
            .query(&[
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", "http://127.0.0.1:9/evil"),
            ])
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.headers().get("location").is_none());
        // The right one: session ended, redirected with state.
        let r = http
            .get(server.url("/logout"))
            .query(&[
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", &format!("{cb}/logged-out")),
                ("state", "bye"),
            ])
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let to = location(&r);
        assert!(to.starts_with(&format!("{cb}/logged-out")));
        assert_eq!(query_param(&to, "state").as_deref(), Some("bye"));
        assert!(r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0"));
        // The session is gone: prompt=none now says login_required.
        let (_, challenge) = pkce_pair();
        let url = authorize_url(
            &server,
            &[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", cb),
                ("scope", "openid"),
                ("prompt", "none"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        let r = http
            .get(url)
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(
            query_param(&location(&r), "error").as_deref(),
            Some("login_required")
        );

        // Without a hint matching the session, the person is asked first.
        let cookie2 = server.sign_in(&citizen.id).await;
        let r = http
            .get(server.url("/logout"))
            .header(reqwest::header::COOKIE, &cookie2)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        let token = hidden_input(&html, "form_token").unwrap();
        // A forged confirmation does nothing.
        let r = http
            .post(server.url("/logout/confirm"))
            .header(reqwest::header::COOKIE, &cookie2)
            .form(&[("form_token", "forged"), ("redirect", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let r = http
            .post(server.url("/logout/confirm"))
            .header(reqwest::header::COOKIE, &cookie2)
            .form(&[("form_token", token.as_str()), ("redirect", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        server.stop().await;
    }
);

both_backends!(
    async fn discovery_is_complete_and_truthful(db: TestDb) {
        let server = TestServer::start(db).await;
        let m = server.discovery().await;
        assert_eq!(m["issuer"], server.issuer.as_str());
        for endpoint in [
            "authorization_endpoint",
            "token_endpoint",
            "userinfo_endpoint",
            "jwks_uri",
            "revocation_endpoint",
            "introspection_endpoint",
            "end_session_endpoint",
        ] {
            let url = m[endpoint].as_str().unwrap();
            assert!(url.starts_with(&server.issuer), "{endpoint}");
        }
        assert_eq!(
            m["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(m["response_types_supported"], serde_json::json!(["code"]));
        assert_eq!(
            m["id_token_signing_alg_values_supported"],
            serde_json::json!(["ES256", "PS256", "RS256"])
        );
        assert_eq!(m["authorization_response_iss_parameter_supported"], true);
        assert!(m["subject_types_supported"]
            .as_array()
            .unwrap()
            .contains(&"pairwise".into()));
        server.stop().await;
    }
);
