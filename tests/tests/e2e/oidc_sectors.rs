//! Two sectors cannot join their records: after one sign-in, no value that a
//! relying party receives (ID token, access token, userinfo, back-channel
//! logout token) is also received by a relying party of another sector,
//! except values that are the same for everyone (`iss`, `acr`, `amr`,
//! `auth_time`, the `events` member's name).
use serde_json::Value;
use sqin_tests::*;

fn payload(jwt: &str) -> Value {
    let p = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&sqin_crypto::b64url_decode(p).unwrap()).unwrap()
}

/// Every leaf of a JSON document as (path, value), numbers and strings alike.
fn leaves(path: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                leaves(&format!("{path}.{k}"), v, out);
            }
        }
        Value::Array(a) => {
            for v in a {
                leaves(&format!("{path}[]"), v, out);
            }
        }
        Value::Null => {}
        Value::String(s) => out.push((path.to_owned(), s.clone())),
        other => out.push((path.to_owned(), other.to_string())),
    }
}

/// A claim whose value is the same for every citizen and every RP.
fn same_for_everyone(path: &str, value: &str, issuer: &str) -> bool {
    let name = path.rsplit('.').next().unwrap_or(path);
    value == issuer || matches!(name, "iss" | "acr" | "amr[]" | "auth_time")
}

struct Sector {
    id: String,
    secret: String,
    cb: &'static str,
    scope: &'static str,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

async fn register(
    server: &TestServer,
    name: &str,
    cb: &'static str,
    scope: &'static str,
    script: Vec<u16>,
) -> Sector {
    let (uri, seen) = backchannel_receiver(script).await;
    let reg = server
        .register_client(sqin_oidc::client::ClientRegistration {
            backchannel_logout_uri: Some(uri),
            ..rp(name, cb, scope)
        })
        .await;
    Sector {
        id: reg.record.client_id.clone(),
        secret: reg.client_secret.unwrap().expose().to_owned(),
        cb,
        scope,
        seen,
    }
}

/// A sign-in at `rp` with its own random state and nonce: the token response.
async fn sign_in_at(server: &TestServer, cookie: &str, rp: &Sector) -> Value {
    let (verifier, challenge) = pkce_pair();
    let random = || sqin_crypto::b64url(&sqin_crypto::random_bytes::<16>().unwrap());
    let url = authorize_url(
        server,
        &[
            ("response_type", "code"),
            ("client_id", &rp.id),
            ("redirect_uri", rp.cb),
            ("scope", rp.scope),
            ("state", &random()),
            ("nonce", &random()),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = authorize(server, &url, cookie, "allow").await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    let (status, body, _) = token_request(
        server,
        &rp.id,
        &rp.secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", rp.cb),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Waits (at most 10 s) until the client's first notice is delivered.
async fn wait_delivered(server: &TestServer, client_id: &str) {
    for _ in 0..200 {
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let all = sqin_store::backchannel::for_client(&mut conn, client_id)
            .await
            .unwrap();
        if all.first().is_some_and(|d| d.delivered_at.is_some()) {
            return;
        }
        drop(conn);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the notice to {client_id} was not delivered");
}

/// Waits (at most 10 s) until the receiver has seen a first attempt.
async fn wait_attempted(seen: &std::sync::Mutex<Vec<String>>) {
    for _ in 0..200 {
        if !seen.lock().unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no attempt reached the receiver");
}

both_backends!(
    async fn no_value_links_two_sectors(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-1").await;
        let cookie = server.sign_in(&citizen.id).await;
        // Two ministries, two sectors, disjoint claims (a claim both may
        // have, such as the name, is theirs by purpose, not a link).
        let famille = register(
            &server,
            "Famille",
            "https://famille.example/cb",
            "openid profile",
            vec![],
        )
        .await;
        // The first notice to Revenu fails, so its retry is signed later
        // than Famille's.
        let revenu = register(
            &server,
            "Revenu",
            "https://revenu.example/cb",
            "openid email",
            vec![500],
        )
        .await;
        let mut received: Vec<Vec<(String, String)>> = vec![Vec::new(), Vec::new()];
        // Times are values too: the RPs' interactions are seconds apart, as
        // they are in life (the shared auth_time is the allowed exception).
        server.advance(2);
        let a = sign_in_at(&server, &cookie, &famille).await;
        server.advance(7);
        let b = sign_in_at(&server, &cookie, &revenu).await;
        for (out, tokens) in received.iter_mut().zip([&a, &b]) {
            leaves(
                "id_token",
                &payload(tokens["id_token"].as_str().unwrap()),
                out,
            );
            leaves(
                "access_token",
                &payload(tokens["access_token"].as_str().unwrap()),
                out,
            );
            let (status, info) = userinfo(&server, tokens["access_token"].as_str().unwrap()).await;
            assert_eq!(status, 200, "{info}");
            leaves("userinfo", &info, out);
            assert!(payload(tokens["id_token"].as_str().unwrap())["sid"].is_string());
        }

        // Famille signs the citizen out: both are told, each in its terms.
        server.advance(3);
        let r = server
            .client()
            .get(server.url("/logout"))
            .query(&[("id_token_hint", a["id_token"].as_str().unwrap())])
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "signed out without asking");
        wait_delivered(&server, &famille.id).await;
        wait_attempted(&revenu.seen).await;
        server.advance(11);
        wait_delivered(&server, &revenu.id).await;
        let logout_a = famille.seen.lock().unwrap().last().cloned().unwrap();
        let logout_b = revenu.seen.lock().unwrap().last().cloned().unwrap();
        let (la, lb) = (payload(&logout_a), payload(&logout_b));
        // Each logout token names the session as its RP saw it.
        assert_eq!(
            la["sid"],
            payload(a["id_token"].as_str().unwrap())["sid"],
            "Famille's sid"
        );
        assert_eq!(
            lb["sid"],
            payload(b["id_token"].as_str().unwrap())["sid"],
            "Revenu's sid"
        );
        leaves("logout_token", &la, &mut received[0]);
        leaves("logout_token", &lb, &mut received[1]);

        let mut links = Vec::new();
        for (pa, va) in &received[0] {
            for (pb, vb) in &received[1] {
                if va == vb
                    && !(same_for_everyone(pa, va, &server.issuer)
                        && same_for_everyone(pb, vb, &server.issuer))
                {
                    links.push(format!("{pa} = {pb} = {va}"));
                }
            }
        }
        assert!(
            links.is_empty(),
            "values two sectors could join on: {links:#?}"
        );
        server.stop().await;
    }
);
