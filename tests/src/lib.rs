//! Test harness: the real sqin server, in process, serving HTTP on
//! 127.0.0.1 with a fresh database on SQLite or PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use sqin_server::{Config, Services};
pub use sqin_store::both_backends;
pub use sqin_store::testing::TestDb;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestServer {
    /// Where to send requests (the IP, so no resolver is involved).
    pub base: String,
    /// The issuer (`http://localhost:PORT`), as a browser and WebAuthn need it.
    pub issuer: String,
    pub addr: SocketAddr,
    pub services: Services,
    pub db: TestDb,
    shutdown: Option<oneshot::Sender<()>>,
    join: Option<JoinHandle<anyhow_free::Result>>,
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
        let data_dir =
            std::env::temp_dir().join(format!("sqin-srv-{}-{}", std::process::id(), addr.port()));
        let mut config = Config {
            issuer: url::Url::parse(&format!("http://localhost:{}", addr.port())).unwrap(),
            listen: addr,
            database_url: db.url.clone(),
            data_dir: data_dir.clone(),
            ..Config::default()
        };
        tweak(&mut config);
        config.validate().unwrap();
        let services = sqin_server::bootstrap::open(config.clone()).await.unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let router = sqin_server::http::router(services.clone()).merge(extra);
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
            services,
            db,
            shutdown: Some(tx),
            join: Some(join),
            _data_dir: DataDir(data_dir),
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let client = http_client();
        for _ in 0..100 {
            if client
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("server did not start");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(join) = self.join.take() {
            join.await.unwrap().unwrap();
        }
    }
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
