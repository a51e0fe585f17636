//! Pairwise everywhere: two relying parties in two sectors go through a full
//! session (sign-in, tokens, userinfo, introspection, refresh-less errors,
//! revocation, logout and back-channel logout tokens), and every response
//! sqin sends to either (bodies, redirect `Location`s, headers, and the
//! decoded payloads of every JWT in them) is scanned for the internal
//! account id and for the other RP's `sub`. Neither may appear.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use sqin_tests::{both_backends, code_for, location, rp, token_request, TestServer};

/// Everything one RP received from sqin, as text.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn record(&mut self, what: &str, text: &str) {
        self.0.push(format!("{what}: {text}"));
        // Decode every JWT-looking token so its claims are scanned too.
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c))) {
            let parts: Vec<&str> = word.split('.').collect();
            if parts.len() == 3 && parts[0].starts_with("eyJ") {
                for part in &parts[..2] {
                    if let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part)
                    {
                        self.0.push(format!(
                            "{what} (decoded): {}",
                            String::from_utf8_lossy(&bytes)
                        ));
                    }
                }
            }
        }
    }

    async fn response(&mut self, what: &str, r: reqwest::Response) -> (u16, String) {
        let status = r.status().as_u16();
        let headers = format!("{:?}", r.headers());
        let body = r.text().await.unwrap();
        self.record(what, &format!("{status} {headers} {body}"));
        (status, body)
    }

    fn assert_free_of(&self, rp: &str, forbidden: &[(&str, &str)]) {
        assert!(self.0.len() > 10, "{rp} saw too little: {:?}", self.0);
        for line in &self.0 {
            for (name, value) in forbidden {
                assert!(!line.contains(value), "{rp} received {name} in {line}");
            }
        }
    }
}

fn claims_of(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// A back-channel logout receiver: records every POST body per path.
async fn logout_receiver() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let got: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/bcl/{rp}",
        axum::routing::post(
            move |axum::extract::Path(rp): axum::extract::Path<String>, body: String| {
                let sink = sink.clone();
                async move {
                    sink.lock().unwrap().push((rp, body));
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, got)
}

both_backends!(
    async fn no_response_to_an_rp_carries_the_internal_id_or_another_sectors_sub(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-900").await;
        let (bcl, logout_tokens) = logout_receiver().await;
        // Two sectors: `localhost` and `127.0.0.1`.
        let rps = [
            (
                "a",
                "http://localhost:9/famille/callback",
                "openid profile birthdate address",
            ),
            ("b", "http://127.0.0.1:9/revenu/callback", "openid profile"),
        ];
        let mut registered = Vec::new();
        for (name, redirect, scope) in rps {
            let mut reg = rp(name, redirect, scope);
            reg.backchannel_logout_uri = Some(format!("{bcl}/bcl/{name}"));
            registered.push(server.register_client(reg).await);
        }
        let cookie = server.sign_in(&citizen.id).await;
        let http = server.client();
        let mut seen = [Seen::default(), Seen::default()];
        let mut subs = Vec::new();
        let mut id_tokens = Vec::new();
        let mut access_tokens = Vec::new();

        for (i, (_, redirect, scope)) in rps.iter().enumerate() {
            let id = registered[i].record.client_id.clone();
            let secret = registered[i]
                .client_secret
                .as_ref()
                .unwrap()
                .expose()
                .to_owned();
            let s = &mut seen[i];
            // Discovery and JWKS.
            let r = http
                .get(server.url("/.well-known/openid-configuration"))
                .send()
                .await
                .unwrap();
            s.response("discovery", r).await;
            let r = http.get(server.url("/jwks")).send().await.unwrap();
            s.response("jwks", r).await;
            // The authorization response (the redirect to the RP).
            let (code, verifier) = code_for(&server, &cookie, &id, redirect, scope).await;
            s.record("authorization response", &code);
            // Tokens.
            let form = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect),
                ("code_verifier", verifier.as_str()),
            ];
            let (status, body, headers) = token_request(&server, &id, &secret, &form).await;
            assert_eq!(status, 200, "{body}");
            s.record("token", &format!("{headers:?} {body}"));
            let id_token = body["id_token"].as_str().unwrap().to_owned();
            let access = body["access_token"].as_str().unwrap().to_owned();
            subs.push(claims_of(&id_token)["sub"].as_str().unwrap().to_owned());
            // The code again: an error, and everything from it revoked.
            let (_, body, headers) = token_request(&server, &id, &secret, &form).await;
            s.record("token (code reuse)", &format!("{headers:?} {body}"));
            // A fresh code for live tokens.
            let (code, verifier) = code_for(&server, &cookie, &id, redirect, scope).await;
            s.record("authorization response", &code);
            let form = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect),
                ("code_verifier", verifier.as_str()),
            ];
            let (_, body, headers) = token_request(&server, &id, &secret, &form).await;
            s.record("token", &format!("{headers:?} {body}"));
            let access2 = body["access_token"].as_str().unwrap().to_owned();
            id_tokens.push(body["id_token"].as_str().unwrap().to_owned());
            access_tokens.push(access2.clone());
            // Userinfo: good, revoked, garbage; POST too.
            for (what, token) in [
                ("userinfo", access2.as_str()),
                ("userinfo (revoked grant)", access.as_str()),
                ("userinfo (garbage)", "not-a-token"),
            ] {
                let r = http
                    .get(server.url("/userinfo"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
                s.response(what, r).await;
            }
            let r = http
                .post(server.url("/userinfo"))
                .form(&[("access_token", access2.as_str())])
                .send()
                .await
                .unwrap();
            s.response("userinfo (POST)", r).await;
            // Introspection of its own token, and of a wrong one; a wrong
            // secret; client credentials.
            for (what, token) in [("introspect", access2.as_str()), ("introspect (bad)", "x")] {
                let r = http
                    .post(server.url("/introspect"))
                    .basic_auth(&id, Some(&secret))
                    .form(&[("token", token)])
                    .send()
                    .await
                    .unwrap();
                s.response(what, r).await;
            }
            let r = http
                .post(server.url("/token"))
                .basic_auth(&id, Some("wrong"))
                .form(&form)
                .send()
                .await
                .unwrap();
            s.response("token (wrong secret)", r).await;
            let (_, body, headers) = token_request(
                &server,
                &id,
                &secret,
                &[("grant_type", "client_credentials")],
            )
            .await;
            s.record("client credentials", &format!("{headers:?} {body}"));
            // An authorization error redirected to the RP.
            let r = http
                .get(sqin_tests::authorize_url(
                    &server,
                    &[
                        ("response_type", "code"),
                        ("client_id", &id),
                        ("redirect_uri", redirect),
                        ("scope", "openid email"),
                        ("state", "s"),
                    ],
                ))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            s.record("authorization error", &location(&r));
        }

        // Each RP introspects the other's token: inactive, and nothing about it.
        for i in 0..2 {
            let other = &access_tokens[1 - i];
            let r = http
                .post(server.url("/introspect"))
                .basic_auth(
                    &registered[i].record.client_id,
                    Some(registered[i].client_secret.as_ref().unwrap().expose()),
                )
                .form(&[("token", other.as_str())])
                .send()
                .await
                .unwrap();
            let (_, body) = seen[i].response("introspect (other RP's token)", r).await;
            assert!(body.contains("\"active\":false"), "{body}");
        }

        // RP-initiated logout at A: the redirect back to A, and then the
        // back-channel logout tokens to both.
        let a_post_logout = format!("{}/logged-out", rps[0].1);
        let r = http
            .get(sqin_tests::authorize_url(&server, &[]).replace("/authorize", "/logout"))
            .query(&[
                ("id_token_hint", id_tokens[0].as_str()),
                ("post_logout_redirect_uri", a_post_logout.as_str()),
                ("state", "bye"),
            ])
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        let (status, _) = (r.status(), ());
        let loc = location(&r);
        assert_eq!(status, 303);
        seen[0].record("logout redirect", &loc);

        let metadata: serde_json::Value = http
            .get(server.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if metadata["backchannel_logout_supported"] == true {
            let mut tokens = Vec::new();
            for _ in 0..100 {
                tokens = logout_tokens.lock().unwrap().clone();
                if ["a", "b"]
                    .iter()
                    .all(|n| tokens.iter().any(|(rp, _)| rp == n))
                {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            for (i, name) in ["a", "b"].iter().enumerate() {
                let mine: Vec<&String> = tokens
                    .iter()
                    .filter(|(rp, _)| rp == name)
                    .map(|(_, body)| body)
                    .collect();
                assert!(!mine.is_empty(), "no logout token reached RP {name}");
                for body in mine {
                    let token = url::form_urlencoded::parse(body.as_bytes())
                        .find(|(k, _)| k == "logout_token")
                        .map(|(_, v)| v.into_owned())
                        .expect("a logout_token form field");
                    let claims = claims_of(&token);
                    assert_eq!(claims["sub"], subs[i].as_str(), "the RP's own pairwise sub");
                    assert!(claims.get("nonce").is_none());
                    seen[i].record("logout token", &token);
                }
            }
        } else {
            eprintln!(
                "note: back-channel logout is not announced yet; logout tokens were not scanned"
            );
        }

        assert_ne!(subs[0], subs[1]);
        seen[0].assert_free_of(
            "RP a",
            &[("the internal id", &citizen.id), ("RP b's sub", &subs[1])],
        );
        seen[1].assert_free_of(
            "RP b",
            &[("the internal id", &citizen.id), ("RP a's sub", &subs[0])],
        );
        server.stop().await;
    }
);
