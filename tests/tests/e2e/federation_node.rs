//! The integrator's guide's non-Rust example, `examples/node-rp/rp.mjs`
//! (Node.js, `openid-client`, an OpenID Certified library), runs the code flow
//! against a real sqin: discovery, PKCE, state and nonce, code exchange, ID
//! token validation, userinfo. With no browser, this test plays the citizen's
//! browser through the session seam (`TestServer::sign_in`) and
//! `authorize()`, and hands the callback URL back to the script.
//!
//! Reported as ignored, with the reason, when node is missing (the npm
//! packages of examples/node-rp are installed with `npm ci` when npm can
//! reach its registry), unless `SQIN_REQUIRE_BROWSER=1` (CI sets it), which
//! makes that a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Stdio;

use sqin_tests::{rp, TestServer};

const REDIRECT: &str = "http://127.0.0.1:9/node-rp/callback";

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/node-rp")
}

sqin_store::needs_test!(
    needs = sqin_tests::node_rp_ready,
    backends,
    async fn the_node_openid_client_example_runs_the_code_flow(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-800").await;
        let registered = server
            .register_client(rp(
                "Ministère de l'exemple (Node)",
                REDIRECT,
                "openid profile birthdate",
            ))
            .await;
        let secret = registered.client_secret.unwrap().expose().to_owned();
        let child = tokio::process::Command::new("node")
            .arg("rp.mjs")
            .current_dir(example_dir())
            .env("SQIN_ISSUER", &server.issuer)
            .env("CLIENT_ID", &registered.record.client_id)
            .env("CLIENT_SECRET", &secret)
            .env("REDIRECT_URI", REDIRECT)
            .env("SCOPE", "openid profile birthdate")
            // sqin listens on 127.0.0.1; `localhost` must not try ::1 first.
            .env("NODE_OPTIONS", "--dns-result-order=ipv4first")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let (result, json) = sqin_tests::rp_script::run_code_flow(
            &server,
            &citizen.id,
            child,
            std::time::Duration::from_secs(30),
        )
        .await;
        assert_eq!(result["id_token_alg"], "ES256");
        assert_eq!(result["claims"]["iss"], server.issuer.as_str());
        assert_eq!(
            result["claims"]["aud"],
            registered.record.client_id.as_str()
        );
        let sub = result["claims"]["sub"].as_str().unwrap();
        assert_ne!(sub, citizen.id, "pairwise, never the internal id");
        assert_eq!(result["userinfo"]["sub"], sub);
        assert_eq!(result["userinfo"]["given_name"], "Aline");
        assert_eq!(result["userinfo"]["birthdate"], "1984-03-02");
        assert!(result["userinfo"]["address"].is_null());
        assert!(result["userinfo"]["email"].is_null());
        assert!(!json.contains(&citizen.id));
        server.stop().await;
    }
);
