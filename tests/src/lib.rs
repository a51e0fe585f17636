//! Test harness: the real sqin server, in process, serving HTTP on
//! 127.0.0.1 with a fresh database on SQLite or PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;

use sqin_app::clock::ManualClock;
use sqin_server::{Config, Services};
pub use sqin_store::both_backends;
pub use sqin_store::testing::TestDb;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod captured_logs;
pub mod private_postgres;
pub mod rp_script;

pub struct TestServer {
    /// Where to send requests (the IP, so no resolver is involved).
    pub base: String,
    /// The issuer (`http://localhost:PORT`), as a browser and WebAuthn need it.
    pub issuer: String,
    pub addr: SocketAddr,
    /// The staff console (`http://localhost:PORT`, its own listener).
    pub staff_url: String,
    pub staff_addr: SocketAddr,
    pub services: Services,
    pub db: TestDb,
    /// The server's clock: tests move it forward instead of sleeping or
    /// editing rows.
    pub clock: Arc<ManualClock>,
    shutdown: Option<oneshot::Sender<()>>,
    join: Option<JoinHandle<anyhow_free::Result>>,
    staff_join: Option<JoinHandle<anyhow_free::Result>>,
    staff_shutdown: Option<oneshot::Sender<()>>,
    /// Every background job, as `sqin serve` runs them.
    jobs: Option<sqin_app::jobs::Jobs>,
    _data_dir: DataDir,
}

mod anyhow_free {
    pub type Result = std::result::Result<(), String>;
}

struct DataDir(std::path::PathBuf);
impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestServer {
    pub async fn start(db: TestDb) -> TestServer {
        Self::start_with(db, |_| {}, axum::Router::new()).await
    }

    /// Starts with a configuration tweak and extra routes (test-only routes
    /// live here, never in the release binary).
    pub async fn start_with(
        db: TestDb,
        tweak: impl FnOnce(&mut Config),
        extra: axum::Router,
    ) -> TestServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let staff_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let staff_addr = staff_listener.local_addr().unwrap();
        let data_dir =
            std::env::temp_dir().join(format!("sqin-srv-{}-{}", std::process::id(), addr.port()));
        let mut config = Config {
            issuer: url::Url::parse(&format!("http://localhost:{}", addr.port())).unwrap(),
            listen: addr,
            staff_listen: staff_addr,
            staff_url: url::Url::parse(&format!("http://localhost:{}", staff_addr.port())).unwrap(),
            database_url: db.url.clone(),
            data_dir: data_dir.clone(),
            ..Config::default()
        };
        tweak(&mut config);
        config.validate().unwrap();
        let clock = Arc::new(ManualClock::default());
        let services = sqin_app::open(config.settings(), clock.clone())
            .await
            .unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let config = Arc::new(config);
        let state = sqin_server::http::state(services.clone(), config.clone());
        let router = sqin_server::http::public_router(state.clone()).merge(extra);
        let staff_router = sqin_server::http::staff::router(state);
        sqin_server::before_serving(&services).await.unwrap();
        let jobs = sqin_app::jobs::spawn_all(&services);
        let (staff_tx, staff_rx) = oneshot::channel::<()>();
        let staff_config = config.clone();
        let staff_join = tokio::spawn(async move {
            sqin_server::http::serve(staff_router, &staff_config, staff_listener, async {
                let _ = staff_rx.await;
            })
            .await
            .map_err(|e| e.to_string())
        });
        let join = tokio::spawn(async move {
            sqin_server::http::serve(router, &config, listener, async {
                let _ = rx.await;
            })
            .await
            .map_err(|e| e.to_string())
        });
        let server = TestServer {
            base: format!("http://127.0.0.1:{}", addr.port()),
            issuer: format!("http://localhost:{}", addr.port()),
            addr,
            staff_url: format!("http://localhost:{}", staff_addr.port()),
            staff_addr,
            services,
            db,
            clock,
            shutdown: Some(tx),
            join: Some(join),
            staff_join: Some(staff_join),
            staff_shutdown: Some(staff_tx),
            jobs: Some(jobs),
            _data_dir: DataDir(data_dir),
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        // A TCP connection works for plain HTTP and TLS alike; the listener is
        // bound before the server starts, so this only waits for the accept
        // loop.
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("server did not start");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A URL of the staff console (by its 127.0.0.1 address).
    pub fn staff(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.staff_addr.port(), path)
    }

    /// The server's current time.
    pub fn now(&self) -> i64 {
        self.services.now()
    }

    /// Moves the server's clock `secs` seconds forward.
    pub fn advance(&self, secs: i64) {
        self.clock.advance(secs);
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(jobs) = self.jobs.take() {
            jobs.stop().await;
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(tx) = self.staff_shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(join) = self.join.take() {
            join.await.unwrap().unwrap();
        }
        if let Some(join) = self.staff_join.take() {
            join.await.unwrap().unwrap();
        }
    }
}

/// The data directory (and so the key-encryption key) of a stopped server,
/// for a test that starts a server again on the same database.
pub struct KeptData(DataDir);

impl KeptData {
    pub fn path(&self) -> std::path::PathBuf {
        self.0 .0.clone()
    }
}

impl TestServer {
    /// Stops the server but keeps its database and data directory, to start
    /// another on them ([`TestServer::start_with`] with `data_dir` set).
    pub async fn stop_keeping_data(mut self) -> (TestDb, KeptData) {
        if let Some(jobs) = self.jobs.take() {
            jobs.stop().await;
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(tx) = self.staff_shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(join) = self.join.take() {
            join.await.unwrap().unwrap();
        }
        if let Some(join) = self.staff_join.take() {
            join.await.unwrap().unwrap();
        }
        self.services.store.close().await;
        (self.db, KeptData(self._data_dir))
    }

    /// A server under an adopted PIA: the repository's, with the test
    /// ministries' relying-party entries (tests/fixtures/ministries.toml).
    pub async fn start_with_ministries(db: TestDb) -> TestServer {
        let pia = ministries_pia();
        TestServer::start_with(db, move |c| c.pia_file = Some(pia), axum::Router::new()).await
    }
}

/// Writes the repository's PIA with the test ministries' entries to a
/// temporary file and returns its path.
pub fn ministries_pia() -> std::path::PathBuf {
    let root = repo_root();
    let mut text = std::fs::read_to_string(root.join("pia/inventory.toml")).unwrap();
    text.push_str(&std::fs::read_to_string(root.join("tests/fixtures/ministries.toml")).unwrap());
    let dir = std::env::temp_dir().join(format!(
        "sqin-pia-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("adopted-pia.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// An HTTP client that never follows redirects (tests assert them) and gives
/// up after 10 s, so a hung server fails a test instead of hanging CI.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
}

impl TestServer {
    /// An HTTP client for this server: no redirects followed, a time limit,
    /// and `localhost` pinned to the server's 127.0.0.1 address.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .resolve("localhost", self.addr)
            .build()
            .unwrap()
    }

    /// The provider's discovery document (OIDC Discovery 1.0), as a relying
    /// party reads it.
    pub async fn discovery(&self) -> serde_json::Value {
        self.client()
            .get(self.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Adds a synthetic citizen to the register.
    pub async fn add_citizen(&self, register_id: &str) -> sqin_store::citizens::Citizen {
        let mut conn = self.services.store.pool().acquire().await.unwrap();
        sqin_register::add_citizen(
            &mut conn,
            &self.services.codes,
            &self.services.register,
            sqin_register::NewCitizen {
                register_id: register_id.into(),
                given_name: "Aline".into(),
                family_name: "Exemple".into(),
                birthdate: "1984-03-02".into(),
                email: Some("aline@demo.invalid".into()),
                address: Some("10 rue de l'Exemple, Québec".into()),
                locale: Some("fr".into()),
            },
            self.now(),
        )
        .await
        .unwrap()
        .0
    }

    /// Signs a citizen in through the session seam the passkey service uses
    /// (a completed ceremony), and returns the `Cookie` header value. This is
    /// test code calling a library function: the release binary has no route
    /// that does this.
    pub async fn sign_in(&self, citizen_id: &str) -> String {
        let mut conn = self.services.store.pool().acquire().await.unwrap();
        let (token, _) = sqin_session::start(
            &mut conn,
            citizen_id,
            sqin_session::acr::SUBSTANTIAL,
            &[sqin_session::amr::HWK, sqin_session::amr::USER],
            self.now(),
        )
        .await
        .unwrap();
        format!("{}={}", sqin_session::SESSION_COOKIE, token.expose())
    }

    /// Registers an active client straight into the store, as a test
    /// fixture: within bounds made to fit it (its own scopes, every claim,
    /// its hosts, its sector), since most tests are about the protocol, not
    /// the PIA. The PIA's bounds are tested through `sqin_app::clients`
    /// (`tests/tests/e2e/relying_parties*.rs`).
    pub async fn register_client(
        &self,
        registration: sqin_oidc::client::ClientRegistration,
    ) -> sqin_oidc::client::RegisteredClient {
        let bounds = fixture_bounds(&registration);
        let mut conn = self.services.store.pool().acquire().await.unwrap();
        sqin_oidc::client::register(
            &mut conn,
            registration,
            &bounds,
            sqin_store::clients::ClientStatus::Active,
            self.now(),
        )
        .await
        .unwrap()
    }
}

/// Bounds that admit `reg` as it is (see [`TestServer::register_client`]).
pub fn fixture_bounds(
    reg: &sqin_oidc::client::ClientRegistration,
) -> sqin_oidc::client::RegistrationBounds {
    let host = |u: &String| {
        url::Url::parse(u).ok().and_then(|u| {
            u.host_str()
                .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
        })
    };
    let mut hosts: Vec<String> = reg
        .redirect_uris
        .iter()
        .chain(&reg.post_logout_redirect_uris)
        .chain(reg.backchannel_logout_uri.iter())
        .chain(reg.jwks_uri.iter())
        .filter_map(host)
        .collect();
    hosts.sort();
    hosts.dedup();
    let sector = reg
        .sector
        .clone()
        .or_else(|| reg.redirect_uris.first().and_then(host))
        .unwrap_or_default();
    sqin_oidc::client::RegistrationBounds {
        entry: "test-fixture".into(),
        scopes: sqin_oidc::claims::SCOPES
            .iter()
            .map(|s| s.name.to_owned())
            .collect(),
        claims: sqin_oidc::claims::all_claims()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        sector,
        hosts,
        public_subject: true,
        purpose: "A test service".into(),
        purpose_fr: "Un service d'essai".into(),
    }
}

/// A confidential relying party with the given redirect URI and scopes.
pub fn rp(name: &str, redirect_uri: &str, scope: &str) -> sqin_oidc::client::ClientRegistration {
    sqin_oidc::client::ClientRegistration {
        name: name.into(),
        redirect_uris: vec![redirect_uri.into()],
        post_logout_redirect_uris: vec![format!("{redirect_uri}/logged-out")],
        scopes: vec![scope.into()],
        purpose: Some(format!("Purpose of {name}")),
        ..Default::default()
    }
}

/// The `Location` of a redirect response.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .unwrap_or_else(|| panic!("expected a redirect, got {}", response.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The value of a hidden form input in a page.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&amp;", "&")
            .replace("&quot;", "\""),
    )
}

/// Follows an authorization URL as the signed-in browser would: answers the
/// consent page with `decision` when it appears, and returns the final
/// redirect to the client.
pub async fn authorize(server: &TestServer, url: &str, cookie: &str, decision: &str) -> String {
    let client = server.client();
    let response = client
        .get(url)
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    if response.status() == 200 {
        let html = response.text().await.unwrap();
        let request = hidden_input(&html, "request").expect("a consent form");
        let form_token = hidden_input(&html, "form_token").unwrap();
        let answer = client
            .post(server.url("/authorize/consent"))
            .header(reqwest::header::COOKIE, cookie)
            .form(&[
                ("request", request.as_str()),
                ("form_token", form_token.as_str()),
                ("decision", decision),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 303, "{}", answer.text().await.unwrap());
        return location(&answer);
    }
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    location(&response)
}

/// A PKCE pair (verifier, S256 challenge).
pub fn pkce_pair() -> (String, String) {
    let verifier = sqin_crypto::b64url(&sqin_crypto::random_bytes::<32>().unwrap());
    let challenge = sqin_crypto::b64url(&sqin_crypto::sha256(verifier.as_bytes()));
    (verifier, challenge)
}

/// An authorization URL with the given parameters.
pub fn authorize_url(server: &TestServer, params: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&server.url("/authorize")).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}

/// Runs a browser flow up to the code: returns (code, verifier).
pub async fn code_for(
    server: &TestServer,
    cookie: &str,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
) -> (String, String) {
    let (verifier, challenge) = pkce_pair();
    let url = authorize_url(
        server,
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", scope),
            ("state", "s1"),
            ("nonce", "n1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = authorize(server, &url, cookie, "allow").await;
    let code = query_param(&back, "code").unwrap_or_else(|| panic!("no code in {back}"));
    (code, verifier)
}

/// A whole sign-in at a relying party: a code through the browser flow,
/// exchanged at the token endpoint (HTTP Basic, PKCE); the token response,
/// which must be a success.
pub async fn tokens_for(
    server: &TestServer,
    cookie: &str,
    client_id: &str,
    secret: &str,
    redirect_uri: &str,
    scope: &str,
) -> serde_json::Value {
    let (code, verifier) = code_for(server, cookie, client_id, redirect_uri, scope).await;
    let (status, body, _) = token_request(
        server,
        client_id,
        secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// POSTs to the token endpoint with HTTP Basic client authentication.
pub async fn token_request(
    server: &TestServer,
    client_id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value, reqwest::header::HeaderMap) {
    let r = server
        .client()
        .post(server.url("/token"))
        .basic_auth(client_id, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.json().await.unwrap_or(serde_json::Value::Null);
    (status, body, headers)
}

/// GET /userinfo with a bearer token: (status, body).
pub async fn userinfo(server: &TestServer, access_token: &str) -> (u16, serde_json::Value) {
    let r = server
        .client()
        .get(server.url("/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// POST /introspect as a client: the response body.
pub async fn introspect(
    server: &TestServer,
    client_id: &str,
    secret: &str,
    token: &str,
) -> serde_json::Value {
    let r = server
        .client()
        .post(server.url("/introspect"))
        .basic_auth(client_id, Some(secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// A relying party's back-channel endpoint: records each logout token and
/// answers with the next status in `script` (then 200).
pub async fn backchannel_receiver(
    script: Vec<u16>,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let script = std::sync::Arc::new(std::sync::Mutex::new(script));
    let (s, sc) = (seen.clone(), script.clone());
    let app = axum::Router::new().route(
        "/bcl",
        axum::routing::post(move |axum::Form(form): axum::Form<Vec<(String, String)>>| {
            let (s, sc) = (s.clone(), sc.clone());
            async move {
                let token = form
                    .iter()
                    .find(|(k, _)| k == "logout_token")
                    .map(|(_, v)| v.clone());
                s.lock().unwrap().push(token.unwrap_or_default());
                let mut sc = sc.lock().unwrap();
                let status = if sc.is_empty() { 200 } else { sc.remove(0) };
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/bcl"), seen)
}

/// The repository's root (the browser scripts and screenshots live there).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The npm packages of a directory of the repository, installed with
/// `npm ci` when they are missing and npm can reach its registry (bounded
/// to three minutes); `Err` says what is missing.
fn npm_packages(dir: &str, marker: &str) -> Result<(), String> {
    let root = repo_root().join(dir);
    if root.join("node_modules").join(marker).exists() {
        return Ok(());
    }
    let installed = std::process::Command::new("timeout")
        .args([
            "180",
            "npm",
            "ci",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(&root)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .output();
    match installed {
        Ok(out) if out.status.success() && root.join("node_modules").join(marker).exists() => {
            Ok(())
        }
        Ok(out) => Err(format!(
            "{dir}/node_modules is missing and `npm ci` there failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )),
        Err(e) => Err(format!(
            "{dir}/node_modules is missing and npm could not run ({e}): install Node.js and npm"
        )),
    }
}

fn node_available() -> Result<(), String> {
    match std::process::Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err("node not found (apt-get install nodejs npm)".into()),
    }
}

/// Headless Chromium for a browser test: `CHROMIUM`, or Debian's
/// `/usr/bin/chromium`.
pub fn chromium() -> std::path::PathBuf {
    std::path::PathBuf::from(
        std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
    )
}

/// What the Chromium tests need: Chromium, node, and the npm packages of
/// `tests/browser` (installed here when missing). Checked by the harness,
/// which reports the tests as ignored with the reason when something is
/// missing (or fails them under `SQIN_REQUIRE_BROWSER=1`).
pub fn chromium_ready() -> Result<(), String> {
    let chromium = chromium();
    if !chromium.exists() {
        return Err(format!(
            "{} not found (apt-get install chromium)",
            chromium.display()
        ));
    }
    node_available()?;
    npm_packages("tests/browser", "axe-core")
}

/// What the Node.js relying-party test needs: node and the npm packages of
/// `examples/node-rp` (installed here when missing).
pub fn node_rp_ready() -> Result<(), String> {
    node_available()?;
    npm_packages("examples/node-rp", "openid-client")
}

/// Where a browser test writes its screenshots: `SQIN_SCREENSHOTS` (relative
/// to the repository; `docs/screenshots` refreshes the documented ones), or
/// a temporary directory named after `tag`.
pub fn screenshots_dir(tag: &str) -> std::path::PathBuf {
    match std::env::var("SQIN_SCREENSHOTS") {
        Ok(dir) if !dir.is_empty() => {
            let p = std::path::PathBuf::from(dir);
            if p.is_absolute() {
                p
            } else {
                repo_root().join(p)
            }
        }
        _ => std::env::temp_dir().join(format!("{tag}-{}", std::process::id())),
    }
}

/// A citizen's whole ledger history, as their download gives it.
pub async fn ledger_history(
    server: &TestServer,
    citizen_id: &str,
) -> sqin_ledger_service::history::CitizenHistory {
    let mut conn = server.services.store.pool().acquire().await.unwrap();
    sqin_ledger_service::history::download(
        &mut conn,
        &server.services.ledger,
        citizen_id,
        &sqin_ledger_service::history::HistoryFilter::default(),
        server.now(),
    )
    .await
    .unwrap()
}

/// Verifies the whole stored ledger with its published key; the report.
pub async fn verify_ledger(server: &TestServer) -> sqin_ledger_service::VerifyReport {
    let mut conn = server.services.store.pool().acquire().await.unwrap();
    sqin_ledger_service::verify::verify_store(
        &mut conn,
        &server.services.ledger,
        &sqin_ledger_service::VerifyOptions {
            vkey: Some(server.services.ledger.vkey()),
            ..Default::default()
        },
        &mut |_, _| {},
        &std::sync::atomic::AtomicBool::new(false),
    )
    .await
    .unwrap()
}
