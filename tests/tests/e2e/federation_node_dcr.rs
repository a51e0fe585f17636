//! The Node.js example's dynamic-registration mode,
//! `examples/node-rp/register.mjs` (`openid-client`, an OpenID Certified
//! library), against a real sqin: it registers itself with an initial
//! access token for a PIA entry (RFC 7591, `dynamicClientRegistration`),
//! is `pending` until a privacy officer approves it on the staff console,
//! sees that through its own RFC 7592 read, then signs a citizen in with
//! the credentials it got back (the code path of `rp.mjs`) and reads its
//! registration with its registration access token once more.
//!
//! Gated like `federation_node.rs`: reported as ignored, with the reason,
//! when node or the npm packages of examples/node-rp are missing, unless
//! `SQIN_REQUIRE_BROWSER=1` (CI sets it), which makes that a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use sqin_app::clients::{tokens, ClientActor};
use sqin_store::clients::ClientStatus;
use sqin_tests::{authorize, TestServer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

use crate::staff_access::request_id;
use crate::staff_support::member;

/// On a host the `health-card` entry allows; http because it is loopback.
const REDIRECT: &str = "http://127.0.0.1:9/node-rp/callback";
const SCOPE: &str = "openid profile birthdate";

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/node-rp")
}

/// The running script: its stdin, its stdout line by line, and what it
/// wrote to stderr so far (for the failure messages).
struct NodeRp {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
    stderr: Arc<Mutex<String>>,
}

impl NodeRp {
    fn spawn(server: &TestServer, initial_access_token: &str) -> NodeRp {
        let mut child = tokio::process::Command::new("node")
            .arg("register.mjs")
            .current_dir(example_dir())
            .env("SQIN_ISSUER", &server.issuer)
            .env("INITIAL_ACCESS_TOKEN", initial_access_token)
            .env("REDIRECT_URI", REDIRECT)
            .env("SCOPE", SCOPE)
            .env("CLIENT_NAME", "Health card renewal (Node)")
            .env("CLIENT_NAME_FR", "Renouvellement de la carte santé (Node)")
            .env("APPROVAL_POLL_SECONDS", "0.2")
            .env("APPROVAL_TIMEOUT_SECONDS", "60")
            // sqin listens on 127.0.0.1; `localhost` must not try ::1 first.
            .env("NODE_OPTIONS", "--dns-result-order=ipv4first")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        NodeRp {
            stdin: child.stdin.take(),
            lines: BufReader::new(child.stdout.take().unwrap()).lines(),
            child,
            stderr,
        }
    }

    /// The next line, which must start with `prefix` and a space; the rest.
    async fn expect(&mut self, prefix: &str) -> String {
        let line = tokio::time::timeout(Duration::from_secs(30), self.lines.next_line())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no {prefix} line in time; stderr:\n{}",
                    self.stderr.lock().unwrap()
                )
            })
            .unwrap();
        match line
            .as_deref()
            .and_then(|l| l.strip_prefix(prefix))
            .and_then(|l| l.strip_prefix(' '))
        {
            Some(rest) => rest.to_owned(),
            None => {
                // Let it finish writing why.
                let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                panic!(
                    "expected {prefix}, got {line:?}; stderr:\n{}",
                    self.stderr.lock().unwrap()
                )
            }
        }
    }

    async fn json(&mut self, prefix: &str) -> Value {
        let text = self.expect(prefix).await;
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{prefix} {text}: {e}"))
    }

    async fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
    }
}

sqin_store::needs_test!(
    needs = sqin_tests::node_rp_ready,
    backends,
    async fn the_node_example_registers_itself_and_signs_in_once_approved(db: TestDb) {
        let server = TestServer::start_with_ministries(db).await;
        let citizen = server.add_citizen("R-801").await;
        let token = tokens::issue_initial_access_token(
            &server.services,
            &ClientActor::Operator,
            "health-card",
            3600,
            1,
        )
        .await
        .unwrap()
        .token
        .expose()
        .to_owned();

        // 1. It registers with openid-client's dynamicClientRegistration.
        let mut node = NodeRp::spawn(&server, &token);
        let registered = node.json("REGISTERED").await;
        let client_id = registered["client_id"].as_str().unwrap().to_owned();
        assert_eq!(
            registered["registration_client_uri"],
            format!("{}/register/{client_id}", server.issuer).as_str()
        );
        assert_eq!(registered["sqin_pia_entry"], "health-card");
        assert_eq!(registered["sqin_status"], "pending");
        let printed = registered.to_string();
        assert!(
            !printed.contains("secret") && !printed.contains("registration_access_token"),
            "the credentials are never printed: {printed}"
        );

        // The client exists, within its entry, and is pending.
        let record = {
            let mut conn = server.services.store.pool().acquire().await.unwrap();
            sqin_store::clients::get(&mut conn, &client_id)
                .await
                .unwrap()
                .expect("the registered client exists")
        };
        assert_eq!(record.status, ClientStatus::Pending);
        assert_eq!(record.pia_entry.as_deref(), Some("health-card"));
        assert_eq!(record.redirect_uris, [REDIRECT]);
        assert_eq!(record.name, "Health card renewal (Node)");
        assert_eq!(
            record.name_fr.as_deref(),
            Some("Renouvellement de la carte santé (Node)")
        );
        assert!(record.registration_token_hash.is_some());
        // The token allowed one registration: it is used up.
        let again = server
            .client()
            .post(server.url("/register"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "redirect_uris": [REDIRECT] }))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 401);

        // 2. A privacy officer approves the request its registration made.
        let mut officer = member(&server, "Officer", &["privacy-officer"]).await;
        officer.reauth().await;
        let (_, html) = officer.page("/requests").await;
        assert!(html.contains(&client_id), "{html}");
        let request = request_id(&html);
        assert_eq!(registered["sqin_approval_request"], request.as_str());
        let r = officer
            .form(
                "/requests/decide",
                &[("id", request.as_str()), ("decision", "approve")],
            )
            .await;
        assert_eq!(r.status(), 303);
        // The script saw it through its own RFC 7592 read.
        let approved = node.json("APPROVED").await;
        assert_eq!(approved["client_id"], client_id.as_str());
        assert_eq!(approved["sqin_status"], "active");

        // 3. It signs the citizen in with the registered credentials.
        let url = node.expect("AUTHORIZE").await;
        for p in ["state", "nonce", "code_challenge"] {
            assert!(sqin_tests::query_param(&url, p).is_some(), "{p} in {url}");
        }
        assert_eq!(
            sqin_tests::query_param(&url, "client_id").as_deref(),
            Some(client_id.as_str())
        );
        assert_eq!(
            sqin_tests::query_param(&url, "code_challenge_method").as_deref(),
            Some("S256")
        );
        let cookie = server.sign_in(&citizen.id).await;
        let back = authorize(&server, &url, &cookie, "allow").await;
        assert!(back.starts_with(REDIRECT), "{back}");
        node.send(&back).await;
        drop(node.stdin.take());

        let result = node.json("RESULT").await;
        assert_eq!(result["id_token_alg"], "ES256");
        assert_eq!(result["claims"]["iss"], server.issuer.as_str());
        assert_eq!(result["claims"]["aud"], client_id.as_str());
        let sub = result["claims"]["sub"].as_str().unwrap();
        assert_ne!(sub, citizen.id, "pairwise, never the internal id");
        assert_eq!(result["userinfo"]["sub"], sub);
        assert_eq!(result["userinfo"]["given_name"], "Aline");
        assert_eq!(result["userinfo"]["birthdate"], "1984-03-02");
        assert!(result["userinfo"]["address"].is_null());
        assert!(result["userinfo"]["email"].is_null());
        assert!(!result.to_string().contains(&citizen.id));

        // 4. Its registration access token reads its registration (RFC 7592).
        let configuration = node.json("CONFIGURATION").await;
        assert_eq!(configuration["client_id"], client_id.as_str());
        assert_eq!(configuration["sqin_status"], "active");
        assert_eq!(configuration["sqin_pia_entry"], "health-card");
        assert_eq!(
            configuration["redirect_uris"],
            serde_json::json!([REDIRECT])
        );
        assert_eq!(configuration["scope"], SCOPE);
        assert_eq!(
            configuration["client_name#fr"],
            "Renouvellement de la carte santé (Node)"
        );
        assert_eq!(
            configuration["token_endpoint_auth_method"],
            "client_secret_basic"
        );
        assert_eq!(
            configuration["registration_client_uri"],
            registered["registration_client_uri"]
        );
        assert!(
            configuration.get("client_secret").is_none()
                && configuration.get("registration_access_token").is_none(),
            "the credentials are returned once: {configuration}"
        );

        let status = tokio::time::timeout(Duration::from_secs(20), node.child.wait())
            .await
            .expect("the script finishes in time")
            .unwrap();
        assert!(status.success(), "{}", node.stderr.lock().unwrap());
        server.stop().await;
    }
);
