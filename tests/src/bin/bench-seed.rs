//! Seeds a benchmark database with what wrk cannot make by itself: fresh
//! authorization codes (single use, 60 s), refresh tokens (single use) and an
//! access token, each obtained through the real authorization and token code
//! paths. A test tool of `tests/bench/run.sh`: it is not part of the `sqin`
//! binary, which has no way to create a session without a passkey.
//!
//! Usage: bench-seed CLIENT_ID CLIENT_SECRET REDIRECT_URI OUT_DIR CODES REFRESH
//! with the same SQIN_* environment as the server under test. Writes
//! OUT_DIR/codes.txt, OUT_DIR/refresh.txt, OUT_DIR/access.txt.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;

use sqin_oidc::authorize::{self, Decision, Next};
use sqin_oidc::token::{self, TokenRequest};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, client_id, _secret, redirect, out, codes, refresh] = args.as_slice() else {
        panic!("usage: bench-seed CLIENT_ID CLIENT_SECRET REDIRECT_URI OUT_DIR CODES REFRESH");
    };
    let (codes, refresh): (usize, usize) = (codes.parse().unwrap(), refresh.parse().unwrap());
    let config = sqin_server::Config::load(None).unwrap();
    let services = sqin_server::open(&config).await.unwrap();
    let provider = services.provider();
    let mut conn = services.store.pool().acquire().await.unwrap();
    let now = || services.now();
    let register_id = format!("BENCH-{}", now());
    let (citizen, _) = sqin_register::add_citizen(
        &mut conn,
        &services.codes,
        &services.register,
        sqin_register::NewCitizen {
            register_id,
            given_name: "Aline".into(),
            family_name: "Exemple".into(),
            birthdate: "1984-03-02".into(),
            ..Default::default()
        },
        now(),
    )
    .await
    .unwrap();
    let (_, session) = sqin_session::start(
        &mut conn,
        &citizen.id,
        sqin_session::acr::SUBSTANTIAL,
        &["hwk", "user"],
        now(),
    )
    .await
    .unwrap();
    let client = sqin_store::clients::get(&mut conn, client_id)
        .await
        .unwrap()
        .expect("client");
    let client = std::sync::Arc::new(client);

    let code = |scope: &'static str| {
        let provider = provider.clone();
        let session = session.clone();
        let services = services.clone();
        let (client_id, redirect) = (client_id.clone(), redirect.clone());
        async move {
            let mut conn = services.store.pool().acquire().await.unwrap();
            let params: Vec<(String, String)> = [
                ("response_type", "code"),
                ("client_id", client_id.as_str()),
                ("redirect_uri", redirect.as_str()),
                ("scope", scope),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
            let req = authorize::begin(&mut conn, &provider, &params, None, now())
                .await
                .unwrap();
            let url =
                match authorize::next_step(&mut conn, &provider, &req.id, Some(&session), now())
                    .await
                    .unwrap()
                {
                    Next::Redirect(url) => url,
                    Next::Consent(p) => authorize::decide(
                        &mut conn,
                        &provider,
                        &req.id,
                        &p.form_token,
                        Decision::Allow,
                        &session,
                        now(),
                    )
                    .await
                    .unwrap(),
                    Next::Login { .. } => panic!("the session should do"),
                };
            url::Url::parse(&url)
                .unwrap()
                .query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned())
                .unwrap()
        }
    };
    let exchange = |code: String| {
        let provider = provider.clone();
        let services = services.clone();
        let client = client.clone();
        let redirect = redirect.clone();
        async move {
            let mut conn = sqin_store::LazyConnection::new(services.store.pool());
            token::exchange(
                &mut conn,
                &provider,
                &client,
                &TokenRequest {
                    grant_type: Some("authorization_code".into()),
                    code: Some(code),
                    redirect_uri: Some(redirect),
                    code_verifier: Some(VERIFIER.into()),
                    ..Default::default()
                },
                now(),
            )
            .await
            .unwrap()
        }
    };
    let write = |name: &str, lines: &[String]| {
        let mut f = std::fs::File::create(std::path::Path::new(out).join(name)).unwrap();
        for l in lines {
            writeln!(f, "{l}").unwrap();
        }
    };
    // One access token for userinfo.
    let first = exchange(code("openid profile offline_access").await).await;
    write("access.txt", std::slice::from_ref(&first.access_token));
    let mut tokens = Vec::with_capacity(refresh);
    for _ in 0..refresh {
        let t = exchange(code("openid profile offline_access").await).await;
        tokens.push(t.refresh_token.unwrap());
    }
    write("refresh.txt", &tokens);
    let mut fresh = Vec::with_capacity(codes);
    for _ in 0..codes {
        fresh.push(code("openid profile").await);
    }
    write("codes.txt", &fresh);
    eprintln!("seeded {codes} codes, {refresh} refresh tokens, 1 access token");
}
