//! Every refusal the protocol requires, each asserting the exact error.
use serde_json::Value;
use sqin_tests::*;

const CB: &str = "http://127.0.0.1:9/cb";

struct Rp {
    id: String,
    secret: String,
}

async fn setup(db: TestDb, scope: &str) -> (TestServer, String, Rp) {
    let server = TestServer::start(db).await;
    let citizen = server.add_citizen("R-1").await;
    let cookie = server.sign_in(&citizen.id).await;
    let reg = server.register_client(rp("Famille", CB, scope)).await;
    let rp = Rp {
        id: reg.record.client_id.clone(),
        secret: reg.client_secret.unwrap().expose().to_owned(),
    };
    (server, cookie, rp)
}

fn err(body: &Value) -> &str {
    body["error"].as_str().unwrap_or("<none>")
}

async fn exchange(server: &TestServer, rp: &Rp, code: &str, verifier: &str) -> (u16, Value) {
    let (s, b, _) = token_request(
        server,
        &rp.id,
        &rp.secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CB),
            ("code_verifier", verifier),
        ],
    )
    .await;
    (s, b)
}

both_backends!(
    async fn pkce_is_required_and_only_s256(db: TestDb) {
        let (server, cookie, rp) = setup(db, "openid profile").await;
        let (_, challenge) = pkce_pair();
        let base = [
            ("response_type", "code"),
            ("client_id", rp.id.as_str()),
            ("redirect_uri", CB),
            ("scope", "openid"),
            ("state", "xyz"),
        ];
        let check = |extra: Vec<(&'static str, String)>, expected: &'static str| {
            let server = &server;
            let cookie = cookie.clone();
            async move {
                let mut params: Vec<(&str, &str)> = base
                    .iter()
                    .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
                    .copied()
                    .collect();
                for (k, v) in &extra {
                    params.push((k, v.as_str()));
                }
                let back =
                    authorize(server, &authorize_url(server, &params), &cookie, "allow").await;
                assert!(back.starts_with(CB), "{back}");
                assert_eq!(
                    query_param(&back, "error").as_deref(),
                    Some(expected),
                    "{back}"
                );
                assert_eq!(query_param(&back, "state").as_deref(), Some("xyz"));
                assert_eq!(
                    query_param(&back, "iss").as_deref(),
                    Some(server.issuer.as_str())
                );
                back
            }
        };
        let back = check(vec![], "invalid_request").await;
        assert!(query_param(&back, "error_description")
            .unwrap()
            .contains("code_challenge"));
        check(
            vec![
                ("code_challenge", challenge.clone()),
                ("code_challenge_method", "plain".into()),
            ],
            "invalid_request",
        )
        .await;
        check(
            vec![("code_challenge", challenge.clone())],
            "invalid_request",
        )
        .await;
        check(
            vec![
                ("code_challenge", "short".into()),
                ("code_challenge_method", "S256".into()),
            ],
            "invalid_request",
        )
        .await;
        check(
            vec![
                ("code_challenge", challenge.clone()),
                ("code_challenge_method", "S256".into()),
                ("response_type", "token".into()),
            ],
            "unsupported_response_type",
        )
        .await;

        // Wrong verifier at the token endpoint.
        let (code, _) = code_for(&server, &cookie, &rp.id, CB, "openid").await;
        let (other_verifier, _) = pkce_pair();
        let (status, body) = exchange(&server, &rp, &code, &other_verifier).await;
        assert_eq!((status, err(&body)), (400, "invalid_grant"));
        // Missing verifier.
        let (code, _) = code_for(&server, &cookie, &rp.id, CB, "openid").await;
        let (s, b, _) = token_request(
            &server,
            &rp.id,
            &rp.secret,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CB),
            ],
        )
        .await;
        assert_eq!((s, err(&b)), (400, "invalid_request"));
        server.stop().await;
    }
);

both_backends!(
    async fn a_replayed_code_fails_and_revokes_its_tokens(db: TestDb) {
        let (server, cookie, rp) = setup(db, "openid profile offline_access").await;
        let (code, verifier) = code_for(
            &server,
            &cookie,
            &rp.id,
            CB,
            "openid profile offline_access",
        )
        .await;
        let (status, first) = exchange(&server, &rp, &code, &verifier).await;
        assert_eq!(status, 200, "{first}");
        let access = first["access_token"].as_str().unwrap().to_owned();
        let refresh = first["refresh_token"].as_str().unwrap().to_owned();
        assert_eq!(userinfo(&server, &access).await.0, 200);

        let (status, body) = exchange(&server, &rp, &code, &verifier).await;
        assert_eq!((status, err(&body)), (400, "invalid_grant"));
        // Everything issued from the code is now dead.
        let (status, body) = userinfo(&server, &access).await;
        assert_eq!((status, err(&body)), (401, "invalid_token"));
        assert_eq!(
            introspect(&server, &rp.id, &rp.secret, &access).await["active"],
            false
        );
        assert_eq!(
            introspect(&server, &rp.id, &rp.secret, &refresh).await["active"],
            false
        );
        let (s, b, _) = token_request(
            &server,
            &rp.id,
            &rp.secret,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
        assert_eq!((s, err(&b)), (400, "invalid_grant"));
        server.stop().await;
    }
);

both_backends!(
    async fn codes_are_bound_to_client_redirect_and_time(db: TestDb) {
        let (server, cookie, rp) = setup(db, "openid").await;
        let other = server
            .register_client(rp_reg("Revenu", "http://127.0.0.1:9/other"))
            .await;
        let other = Rp {
            id: other.record.client_id.clone(),
            secret: other.client_secret.unwrap().expose().to_owned(),
        };
        // A code from another client.
        let (code, verifier) = code_for(&server, &cookie, &rp.id, CB, "openid").await;
        let (s, b, _) = token_request(
            &server,
            &other.id,
            &other.secret,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CB),
                ("code_verifier", &verifier),
            ],
        )
        .await;
        assert_eq!((s, err(&b)), (400, "invalid_grant"));
        // The rightful client can still use it (the other client's attempt did not spend it).
        let (s, b) = exchange(&server, &rp, &code, &verifier).await;
        assert_eq!(s, 200, "{b}");

        // A different redirect_uri at the token endpoint.
        let (code, verifier) = code_for(&server, &cookie, &rp.id, CB, "openid").await;
        let (s, b, _) = token_request(
            &server,
            &rp.id,
            &rp.secret,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://127.0.0.1:9/elsewhere"),
                ("code_verifier", &verifier),
            ],
        )
        .await;
        assert_eq!((s, err(&b)), (400, "invalid_grant"));

        // An expired code (its clock moved past the 60 s lifetime).
        let (code, verifier) = code_for(&server, &cookie, &rp.id, CB, "openid").await;
        server.advance(120);
        let (s, b) = exchange(&server, &rp, &code, &verifier).await;
        assert_eq!((s, err(&b)), (400, "invalid_grant"));
        assert!(b["error_description"].as_str().unwrap().contains("expired"));

        // An unknown code.
        let (s, b) = exchange(&server, &rp, "not-a-code", &verifier).await;
        assert_eq!((s, err(&b)), (400, "invalid_grant"));
        server.stop().await;
    }
);

fn rp_reg(name: &str, cb: &str) -> sqin_oidc::client::ClientRegistration {
    rp(name, cb, "openid profile")
}

both_backends!(
    async fn untrusted_client_or_redirect_never_redirects(db: TestDb) {
        let (server, cookie, rp) = setup(db, "openid").await;
        let (_, challenge) = pkce_pair();
        let http = server.client();
        for params in [
            vec![
                ("client_id", rp.id.as_str()),
                ("redirect_uri", "http://127.0.0.1:9/evil"),
            ],
            vec![("client_id", "no-such-client"), ("redirect_uri", CB)],
            vec![("redirect_uri", CB)],
            vec![("client_id", rp.id.as_str())],
            vec![
                ("client_id", rp.id.as_str()),
                ("redirect_uri", CB),
                ("redirect_uri", "http://127.0.0.1:9/evil"),
            ],
        ] {
            let mut all = params.clone();
            all.extend([
                ("response_type", "code"),
                ("scope", "openid"),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ]);
            let r = http
                .get(authorize_url(&server, &all))
                .header(reqwest::header::COOKIE, &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 400, "{params:?}");
            assert!(r.headers().get("location").is_none(), "{params:?}");
            let html = r.text().await.unwrap();
            assert!(html.contains("role=\"alert\""), "{html}");
        }
        server.stop().await;
    }
);

both_backends!(
    async fn client_authentication_failures(db: TestDb) {
        let (server, cookie, rp) = setup(db, "openid").await;
        let (code, verifier) = code_for(&server, &cookie, &rp.id, CB, "openid").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CB),
            ("code_verifier", verifier.as_str()),
        ];
        let (s, b, h) = token_request(&server, &rp.id, "wrong-secret", &form).await;
        assert_eq!((s, err(&b)), (401, "invalid_client"));
        assert!(h["www-authenticate"].to_str().unwrap().starts_with("Basic"));
        let (s, b, _) = token_request(&server, "nobody", &rp.secret, &form).await;
        assert_eq!((s, err(&b)), (401, "invalid_client"));
        // A confidential client cannot skip authentication.
        let r = server
            .client()
            .post(server.url("/token"))
            .form(
                &[("client_id", rp.id.as_str())]
                    .into_iter()
                    .chain(form)
                    .collect::<Vec<_>>(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        // client_secret_post is not this client's registered method.
        let r = server
            .client()
            .post(server.url("/token"))
            .form(
                &[
                    ("client_id", rp.id.as_str()),
                    ("client_secret", rp.secret.as_str()),
                ]
                .into_iter()
                .chain(form)
                .collect::<Vec<_>>(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        // Unknown grant type; missing grant type.
        let (s, b, _) =
            token_request(&server, &rp.id, &rp.secret, &[("grant_type", "password")]).await;
        assert_eq!((s, err(&b)), (400, "unsupported_grant_type"));
        let (s, b, _) = token_request(&server, &rp.id, &rp.secret, &[]).await;
        assert_eq!((s, err(&b)), (400, "invalid_request"));
        // The code was never spent by the failures above.
        let (s, b, h) = token_request(&server, &rp.id, &rp.secret, &form).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(h["cache-control"], "no-store");
        server.stop().await;
    }
);

both_backends!(
    async fn refresh_tokens_rotate_and_reuse_revokes_the_family(db: TestDb) {
        let (server, cookie, rp) = setup(db, "openid profile offline_access").await;
        let (code, verifier) = code_for(
            &server,
            &cookie,
            &rp.id,
            CB,
            "openid profile offline_access",
        )
        .await;
        let (_, first) = exchange(&server, &rp, &code, &verifier).await;
        let r1 = first["refresh_token"].as_str().unwrap().to_owned();
        let refresh = |t: String| {
            let server = &server;
            let rp = &rp;
            async move {
                token_request(
                    server,
                    &rp.id,
                    &rp.secret,
                    &[("grant_type", "refresh_token"), ("refresh_token", &t)],
                )
                .await
            }
        };
        let (s, second, _) = refresh(r1.clone()).await;
        assert_eq!(s, 200, "{second}");
        let r2 = second["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(r1, r2, "rotated");
        let a2 = second["access_token"].as_str().unwrap().to_owned();
        assert_eq!(userinfo(&server, &a2).await.0, 200);
        // Reusing the old one: refused, and the whole family dies.
        let (s, b, _) = refresh(r1).await;
        assert_eq!((s, err(&b)), (400, "invalid_grant"));
        let (s, b, _) = refresh(r2).await;
        assert_eq!((s, err(&b)), (400, "invalid_grant"));
        assert_eq!(userinfo(&server, &a2).await.0, 401);
        // A refresh cannot broaden the scope.
        let (code, verifier) =
            code_for(&server, &cookie, &rp.id, CB, "openid offline_access").await;
        let (_, t) = exchange(&server, &rp, &code, &verifier).await;
        let (s, b, _) = token_request(
            &server,
            &rp.id,
            &rp.secret,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
                ("scope", "openid profile offline_access"),
            ],
        )
        .await;
        assert_eq!((s, err(&b)), (400, "invalid_scope"));
        // Without offline_access there is no refresh token at all.
        let (code, verifier) = code_for(&server, &cookie, &rp.id, CB, "openid").await;
        let (_, t) = exchange(&server, &rp, &code, &verifier).await;
        assert!(t.get("refresh_token").is_none());
        server.stop().await;
    }
);

both_backends!(
    async fn scope_beyond_purpose_and_prompt_none(db: TestDb) {
        let (server, cookie, rp) = setup(db, "openid profile").await;
        let (_, challenge) = pkce_pair();
        let url = |scope: &str, prompt: Option<&str>| {
            let mut p = vec![
                ("response_type", "code"),
                ("client_id", rp.id.as_str()),
                ("redirect_uri", CB),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("state", "st"),
            ];
            p.push(("scope", scope));
            if let Some(pr) = prompt {
                p.push(("prompt", pr));
            }
            authorize_url(&server, &p)
        };
        let back = authorize(
            &server,
            &url("openid profile email", None),
            &cookie,
            "allow",
        )
        .await;
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("invalid_scope")
        );
        let back = authorize(&server, &url("profile", None), &cookie, "allow").await;
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("invalid_scope")
        );
        // No session: prompt=none answers login_required.
        let r = server
            .client()
            .get(url("openid", Some("none")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(
            query_param(&location(&r), "error").as_deref(),
            Some("login_required")
        );
        // No session, interactive: off to the passkey login with the request.
        let r = server
            .client()
            .get(url("openid", None))
            .send()
            .await
            .unwrap();
        let to = location(&r);
        assert!(to.starts_with("/login?request="), "{to}");
        // Session but no consent: prompt=none answers consent_required.
        let back = authorize(
            &server,
            &url("openid profile", Some("none")),
            &cookie,
            "allow",
        )
        .await;
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("consent_required")
        );
        // The citizen declines: access_denied.
        let back = authorize(&server, &url("openid profile", None), &cookie, "deny").await;
        assert_eq!(
            query_param(&back, "error").as_deref(),
            Some("access_denied")
        );
        assert_eq!(query_param(&back, "state").as_deref(), Some("st"));
        // prompt=login with a session older than the request: a fresh ceremony.
        let r = server
            .client()
            .get(url("openid", Some("login")))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert!(location(&r).contains("prompt=login"), "{}", location(&r));
        server.stop().await;
    }
);

both_backends!(
    async fn userinfo_refuses_revoked_expired_and_forged_tokens(db: TestDb) {
        let (server, cookie, rp) = setup(db, "openid profile").await;
        let (code, verifier) = code_for(&server, &cookie, &rp.id, CB, "openid profile").await;
        let (_, t) = exchange(&server, &rp, &code, &verifier).await;
        let access = t["access_token"].as_str().unwrap().to_owned();
        assert_eq!(userinfo(&server, &access).await.0, 200);
        // Revoked through RFC 7009.
        let r = server
            .client()
            .post(server.url("/revoke"))
            .basic_auth(&rp.id, Some(&rp.secret))
            .form(&[
                ("token", access.as_str()),
                ("token_type_hint", "access_token"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let (s, b) = userinfo(&server, &access).await;
        assert_eq!((s, err(&b)), (401, "invalid_token"));
        assert_eq!(
            introspect(&server, &rp.id, &rp.secret, &access).await["active"],
            false
        );

        // Expired: the server's own key, but exp in the past.
        let mut claims = decode_claims(&access);
        claims["exp"] = serde_json::json!(server.now() - 10);
        claims["jti"] = serde_json::json!("fresh-jti");
        let ring = server.services.key_ring();
        let expired = sqin_oidc::jwt::sign(ring.signing_key(), "at+jwt", &claims).unwrap();
        let (s, b) = userinfo(&server, &expired).await;
        assert_eq!((s, err(&b)), (401, "invalid_token"));
        assert!(b["error_description"].as_str().unwrap().contains("expired"));
        // Tampered payload: signature fails.
        let mut parts: Vec<&str> = access.split('.').collect();
        let forged_payload =
            sqin_crypto::b64url(serde_json::to_string(&claims).unwrap().as_bytes());
        parts[1] = &forged_payload;
        let (s, _) = userinfo(&server, &parts.join(".")).await;
        assert_eq!(s, 401);
        // No token at all.
        let r = server
            .client()
            .get(server.url("/userinfo"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert!(r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
        server.stop().await;
    }
);

fn decode_claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&sqin_crypto::b64url_decode(payload).unwrap()).unwrap()
}

both_backends!(
    async fn introspection_only_for_the_token_owner(db: TestDb) {
        let (server, cookie, rp) = setup(db, "openid profile").await;
        let other = server
            .register_client(rp_reg("Revenu", "http://127.0.0.1:9/other"))
            .await;
        let other_secret = other.client_secret.unwrap().expose().to_owned();
        let (code, verifier) = code_for(&server, &cookie, &rp.id, CB, "openid profile").await;
        let (_, t) = exchange(&server, &rp, &code, &verifier).await;
        let access = t["access_token"].as_str().unwrap();
        let mine = introspect(&server, &rp.id, &rp.secret, access).await;
        assert_eq!(mine["active"], true);
        assert_eq!(mine["client_id"], rp.id.as_str());
        assert_eq!(mine["scope"], "openid profile");
        let theirs = introspect(&server, &other.record.client_id, &other_secret, access).await;
        assert_eq!(theirs, serde_json::json!({ "active": false }));
        // Garbage is simply inactive; bad client credentials are 401.
        assert_eq!(
            introspect(&server, &rp.id, &rp.secret, "garbage").await["active"],
            false
        );
        let r = server
            .client()
            .post(server.url("/introspect"))
            .basic_auth(&rp.id, Some("bad"))
            .form(&[("token", access)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        server.stop().await;
    }
);

both_backends!(
    async fn private_key_jwt_checks_audience_and_replay(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-1").await;
        let cookie = server.sign_in(&citizen.id).await;
        let key = sqin_crypto::Es256KeyPair::generate().unwrap();
        let jwks = serde_json::json!({ "keys": [key.public_jwk()] }).to_string();
        let reg = server
            .register_client(sqin_oidc::client::ClientRegistration {
                auth_method: Some(sqin_oidc::client::AuthMethod::PrivateKeyJwt),
                jwks: Some(jwks),
                ..rp("Clé", CB, "openid")
            })
            .await;
        assert!(reg.client_secret.is_none());
        let id = reg.record.client_id.clone();
        let assertion = |aud: Value, jti: &str| {
            let now = server.now();
            let claims = serde_json::json!({
                "iss": id, "sub": id, "aud": aud, "jti": jti, "iat": now, "exp": now + 60,
            });
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
            header.kid = Some(key.kid().to_owned());
            jsonwebtoken::encode(
                &header,
                &claims,
                &jsonwebtoken::EncodingKey::from_ec_der(key.pkcs8()),
            )
            .unwrap()
        };
        let post = |assertion: String, code: String, verifier: String| {
            let server = &server;
            async move {
                let r = server
                    .client()
                    .post(server.url("/token"))
                    .form(&[
                        ("grant_type", "authorization_code"),
                        ("code", code.as_str()),
                        ("redirect_uri", CB),
                        ("code_verifier", verifier.as_str()),
                        (
                            "client_assertion_type",
                            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                        ),
                        ("client_assertion", assertion.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            }
        };
        let token_endpoint = server.url("/token").replace(&server.base, &server.issuer);
        let issuer = Value::from(server.issuer.as_str());
        let (code, verifier) = code_for(&server, &cookie, &id, CB, "openid").await;
        // The audience is the issuer, as a single string (the audience
        // injection fix of draft-ietf-oauth-rfc7523bis): not the token
        // endpoint, not an array, even one that names the issuer.
        for (i, aud) in [
            Value::from(token_endpoint.as_str()),
            serde_json::json!([token_endpoint, "https://evil.example"]),
            serde_json::json!([server.issuer]),
            serde_json::json!([server.issuer, token_endpoint]),
            Value::from("https://elsewhere.example/token"),
            Value::from(format!("{}/", server.issuer)),
        ]
        .into_iter()
        .enumerate()
        {
            let (s, b) = post(
                assertion(aud.clone(), &format!("jti-aud-{i}")),
                code.clone(),
                verifier.clone(),
            )
            .await;
            assert_eq!((s, err(&b)), (401, "invalid_client"), "aud {aud}");
        }
        let (s, b) = post(assertion(issuer.clone(), "jti-1"), code, verifier).await;
        assert_eq!(s, 200, "{b}");
        // The same jti again: replay.
        let (code, verifier) = code_for(&server, &cookie, &id, CB, "openid").await;
        let (s, b) = post(
            assertion(issuer.clone(), "jti-1"),
            code.clone(),
            verifier.clone(),
        )
        .await;
        assert_eq!((s, err(&b)), (401, "invalid_client"));
        assert!(b["error_description"].as_str().unwrap().contains("replay"));
        // An assertion made now, presented after the server's clock moved
        // past its exp (and the leeway): expired by the injected clock.
        let stale = assertion(issuer.clone(), "jti-4");
        server.advance(120);
        let (s, b) = post(stale, code.clone(), verifier.clone()).await;
        assert_eq!((s, err(&b)), (401, "invalid_client"));
        assert!(b["error_description"].as_str().unwrap().contains("expired"));
        // A fresh one with the issuer as audience is accepted.
        let (code, verifier) = code_for(&server, &cookie, &id, CB, "openid").await;
        let (s, b) = post(assertion(issuer, "jti-3"), code, verifier).await;
        assert_eq!(s, 200, "{b}");
        server.stop().await;
    }
);

both_backends!(
    async fn client_credentials_never_yield_citizen_data(db: TestDb) {
        let (server, _cookie, rp) = setup(db, "openid profile").await;
        let (s, b, _) = token_request(
            &server,
            &rp.id,
            &rp.secret,
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert_eq!(s, 200, "{b}");
        let access = b["access_token"].as_str().unwrap();
        let claims = decode_claims(access);
        assert_eq!(claims["sub"], rp.id.as_str());
        assert!(b.get("id_token").is_none() && b.get("refresh_token").is_none());
        let (s, body) = userinfo(&server, access).await;
        assert_eq!((s, err(&body)), (401, "invalid_token"));
        let (s, b, _) = token_request(
            &server,
            &rp.id,
            &rp.secret,
            &[("grant_type", "client_credentials"), ("scope", "profile")],
        )
        .await;
        assert_eq!((s, err(&b)), (400, "invalid_scope"));
        assert_eq!(
            introspect(&server, &rp.id, &rp.secret, access).await["active"],
            true
        );
        server.stop().await;
    }
);
