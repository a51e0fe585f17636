//! A Python relying party built on Authlib (a widely used OAuth and OpenID
//! Connect library, which refused sqin's discovery document while it
//! listed ES256 alone) against a real sqin: Authlib validates the discovery
//! document (RFC 8414 and OpenID Connect Discovery 1.0, which requires
//! RS256 among `id_token_signing_alg_values_supported`), builds the
//! authorization request with PKCE (S256), state and nonce, exchanges the
//! code (HTTP Basic), and validates the ID token of a client registered
//! with RS256 against the JWKS (`authlib.jose`, accepting RS256 only, and
//! `authlib.oidc.core.CodeIDToken`: `iss`, `aud`, `exp`, `iat`, `nonce`,
//! `azp`, `at_hash`), then calls userinfo. The citizen's browser is played
//! through the session seam (`TestServer::sign_in`) and `authorize()`, as
//! `federation_node.rs` does for openid-client.
//!
//! It needs python3 with Authlib and requests (`apt-get install
//! python3-authlib python3-requests`; `pip install authlib requests` also
//! does). Without them the test is reported as ignored, with the reason,
//! unless `SQIN_REQUIRE_TOOLS=1` (CI sets it), which makes that a failure.
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;

use sqin_crypto::SigningAlg;
use sqin_oidc::client::ClientRegistration;
use sqin_tests::{rp, TestServer};

const REDIRECT: &str = "http://127.0.0.1:9/authlib/callback";
const SCOPE: &str = "openid profile birthdate";

/// The relying party. Arguments: issuer, client id, client secret,
/// redirect URI, scope, the algorithm its client registered. It prints
/// `AUTHORIZE <url>`, reads the callback URL on stdin, and prints
/// `RESULT <json>`; any refusal by Authlib is an exception and exit 1.
const SCRIPT: &str = r#"
import json
import sys
from urllib.parse import parse_qs, urlparse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, JsonWebToken
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oidc.core import CodeIDToken
from authlib.oidc.discovery import OpenIDProviderMetadata

issuer, client_id, client_secret, redirect_uri, scope, alg = sys.argv[1:7]

document = requests.get(issuer + "/.well-known/openid-configuration", timeout=10)
document.raise_for_status()
raw = document.json()
AuthorizationServerMetadata(raw).validate()
metadata = OpenIDProviderMetadata(raw)
metadata.validate()
if metadata["issuer"] != issuer:
    raise SystemExit("issuer %r is not %r" % (metadata["issuer"], issuer))
if alg not in metadata["id_token_signing_alg_values_supported"]:
    raise SystemExit("%s is not offered" % alg)

session = OAuth2Session(
    client_id,
    client_secret,
    scope=scope,
    redirect_uri=redirect_uri,
    code_challenge_method="S256",
    token_endpoint_auth_method="client_secret_basic",
)
code_verifier = generate_token(48)
nonce = generate_token(24)
url, state = session.create_authorization_url(
    metadata["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce
)
print("AUTHORIZE " + url, flush=True)

callback = sys.stdin.readline().strip()
# RFC 9207: the answer names its issuer (Authlib leaves this check to us).
if parse_qs(urlparse(callback).query).get("iss") != [issuer]:
    raise SystemExit("the callback does not name the issuer: " + callback)
token = session.fetch_token(
    metadata["token_endpoint"],
    authorization_response=callback,
    state=state,
    code_verifier=code_verifier,
)

keys = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
claims = JsonWebToken([alg]).decode(
    token["id_token"],
    key=keys,
    claims_cls=CodeIDToken,
    claims_options={
        "iss": {"essential": True, "value": metadata["issuer"]},
        "aud": {"essential": True, "value": client_id},
    },
    claims_params={
        "nonce": nonce,
        "client_id": client_id,
        "access_token": token["access_token"],
    },
)
claims.validate(leeway=60)

# The same token under another algorithm than the client's is refused.
others = [a for a in metadata["id_token_signing_alg_values_supported"] if a != alg]
try:
    JsonWebToken(others).decode(token["id_token"], key=keys)
    raise SystemExit("accepted under " + ", ".join(others))
except SystemExit:
    raise
except Exception:
    pass

userinfo = session.get(metadata["userinfo_endpoint"], timeout=10)
userinfo.raise_for_status()
print(
    "RESULT "
    + json.dumps(
        {
            "header": dict(claims.header),
            "claims": dict(claims),
            "userinfo": userinfo.json(),
            "algorithms": metadata["id_token_signing_alg_values_supported"],
        }
    ),
    flush=True,
)
"#;

/// Whether tests that need external tools must run whatever is missing
/// (CI sets it).
fn tools_required() -> bool {
    std::env::var("SQIN_REQUIRE_TOOLS").is_ok_and(|v| v == "1" || v == "true")
}

/// A python3 that imports Authlib and requests: the one on `PATH`, else
/// the system's (where Debian's packages install them when `PATH` names
/// another Python, such as pyenv's).
fn python() -> Option<&'static PathBuf> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            ["python3", "/usr/bin/python3"]
                .into_iter()
                .map(PathBuf::from)
                .find(|p| {
                    std::process::Command::new(p)
                        .args(["-c", "import authlib, requests"])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .is_ok_and(|s| s.success())
                })
        })
        .as_ref()
}

const MISSING: &str =
    "python3 with Authlib and requests not found (apt-get install python3-authlib python3-requests)";

/// The harness's prerequisite: Authlib is there, or the test is ignored
/// with the reason. Under `SQIN_REQUIRE_TOOLS=1` the test runs (and fails,
/// saying why, when Authlib is missing).
fn authlib_ready() -> Result<(), String> {
    if python().is_some() || tools_required() {
        Ok(())
    } else {
        Err(format!(
            "{MISSING}; set SQIN_REQUIRE_TOOLS=1 to make this a failure"
        ))
    }
}

sqin_store::needs_test!(
    needs = authlib_ready,
    backends,
    async fn authlib_validates_discovery_and_an_rs256_id_token(db: TestDb) {
        let Some(python) = python() else {
            panic!("required (SQIN_REQUIRE_TOOLS=1) but {MISSING}");
        };
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-PY").await;
        let registered = server
            .register_client(ClientRegistration {
                id_token_signed_response_alg: Some(SigningAlg::Rs256),
                ..rp("Ministère de l'exemple (Python)", REDIRECT, SCOPE)
            })
            .await;
        let client_id = registered.record.client_id.clone();
        let secret = registered.client_secret.unwrap().expose().to_owned();
        let child = tokio::process::Command::new(python)
            .args(["-c", SCRIPT])
            .args([
                server.issuer.as_str(),
                &client_id,
                &secret,
                REDIRECT,
                SCOPE,
                "RS256",
            ])
            // Straight to 127.0.0.1, never through a proxy of the machine.
            .env("NO_PROXY", "localhost,127.0.0.1")
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("ALL_PROXY")
            .env_remove("all_proxy")
            .env_remove("AUTHLIB_INSECURE_TRANSPORT")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 starts");
        let (result, json) = sqin_tests::rp_script::run_code_flow(
            &server,
            &citizen.id,
            child,
            std::time::Duration::from_secs(30),
        )
        .await;
        assert_eq!(result["header"]["alg"], "RS256");
        assert_eq!(
            result["header"]["kid"],
            server
                .services
                .key_ring()
                .signing_key_for(SigningAlg::Rs256)
                .kid()
        );
        assert_eq!(
            result["algorithms"],
            serde_json::json!(["ES256", "PS256", "RS256"])
        );
        let claims = &result["claims"];
        assert_eq!(claims["iss"], server.issuer.as_str());
        assert_eq!(claims["aud"], client_id.as_str());
        assert!(claims["at_hash"].is_string());
        let sub = claims["sub"].as_str().unwrap();
        assert_ne!(sub, citizen.id, "pairwise, never the internal id");
        assert_eq!(result["userinfo"]["sub"], sub);
        assert_eq!(result["userinfo"]["given_name"], "Aline");
        assert_eq!(result["userinfo"]["birthdate"], "1984-03-02");
        assert!(!json.contains(&citizen.id));
        server.stop().await;
    }
);
