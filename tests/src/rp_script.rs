//! The code flow driven by a relying party written in another language (the
//! integrator guide's Node example, the Authlib check): the script prints
//! `AUTHORIZE <url>`; the test plays the citizen's browser (a signed-in
//! session that consents) and writes the callback URL to the script's
//! standard input; the script prints `RESULT <json>` and exits with 0.
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Child;

use crate::{authorize, query_param, TestServer};

/// Runs the exchange above with `child` (spawned with its standard streams
/// piped), each step within `wait`; the script's result, parsed and as
/// printed. The authorization URL must carry `state`, `nonce` and an S256
/// PKCE challenge.
pub async fn run_code_flow(
    server: &TestServer,
    citizen_id: &str,
    mut child: Child,
    wait: Duration,
) -> (serde_json::Value, String) {
    let mut stdin = child.stdin.take().expect("the script's stdin is piped");
    let stdout = child.stdout.take().expect("the script's stdout is piped");
    let mut lines = BufReader::new(stdout).lines();

    let line = tokio::time::timeout(wait, lines.next_line())
        .await
        .expect("the script prints the authorization URL in time")
        .expect("the script's stdout can be read");
    let Some(url) = line.as_deref().and_then(|l| l.strip_prefix("AUTHORIZE ")) else {
        let out = child.wait_with_output().await.expect("the script ends");
        panic!(
            "expected AUTHORIZE, got {line:?}; stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for p in ["state", "nonce", "code_challenge"] {
        assert!(query_param(url, p).is_some(), "{p} in {url}");
    }
    assert_eq!(
        query_param(url, "code_challenge_method").as_deref(),
        Some("S256")
    );

    // The citizen's browser: signed in at sqin, consents, comes back.
    let cookie = server.sign_in(citizen_id).await;
    let back = authorize(server, url, &cookie, "allow").await;
    stdin
        .write_all(format!("{back}\n").as_bytes())
        .await
        .expect("the script reads the callback URL");
    stdin.flush().await.expect("the callback URL is flushed");
    drop(stdin);

    let line = tokio::time::timeout(wait, lines.next_line())
        .await
        .expect("the script finishes in time")
        .expect("the script's stdout can be read");
    let out = child.wait_with_output().await.expect("the script ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let Some(json) = line.as_deref().and_then(|l| l.strip_prefix("RESULT ")) else {
        panic!("expected RESULT, got {line:?}; stderr:\n{stderr}");
    };
    assert!(out.status.success(), "{stderr}");
    let result = serde_json::from_str(json).expect("the script's result is JSON");
    (result, json.to_owned())
}
