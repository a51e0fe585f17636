//! The real binaries, as a ministry and the Commission would run them:
//! `sqin serve` configured with a witness, and `sqin witness serve` watching
//! its log. Without any call from the test, the server's background work
//! gets the witness to cosign, and `/ledger/checkpoint` publishes it.
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

sqin_store::sync_test!(
    fn a_served_log_gets_its_checkpoints_cosigned_by_a_served_witness() {
        let dir = std::env::temp_dir().join(format!("sqin-wproc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        crate::deployment::write_config(&dir);
        let out = Command::new(env!("CARGO_BIN_EXE_sqin"))
            .args([
                "witness",
                "init",
                "--name",
                "cai.test.example/w",
                "--dir",
                "w",
            ])
            .current_dir(&dir)
            .env_remove("SQIN_CONFIG")
            .output()
            .unwrap();
        assert!(out.status.success());
        let witness_vkey = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        let witness_port = free_port();

        let server = Command::new(env!("CARGO_BIN_EXE_sqin"))
            .arg("serve")
            .current_dir(&dir)
            .env("SQIN_LISTEN", "127.0.0.1:0")
            // Its own staff port too: two servers started by parallel tests
            // must not both want the default 8079.
            .env("SQIN_STAFF_LISTEN", "127.0.0.1:0")
            .env(
                "SQIN_DATABASE_URL",
                format!("sqlite://{}/s.db?mode=rwc", dir.display()),
            )
            .env("SQIN_DATA_DIR", dir.join("var"))
            .env("SQIN_LEDGER_CHECKPOINT_INTERVAL_SECS", "1")
            .env(
                "SQIN_LEDGER_WITNESSES",
                format!(r#"[{{url="http://127.0.0.1:{witness_port}/",vkey="{witness_vkey}"}}]"#),
            )
            .env_remove("SQIN_CONFIG")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = Killed(server);
        let stderr = server.0.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut addr = None;
        while addr.is_none() && Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    addr = rest.split_whitespace().next().map(str::to_owned);
                }
            }
        }
        let addr = addr.expect("the server logged its address");

        let rt = tokio::runtime::Runtime::new().unwrap();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let get = |path: &str| {
            let url = format!("http://{addr}{path}");
            rt.block_on(async { http.get(url).send().await.unwrap().text().await.unwrap() })
        };
        let log_vkey = get("/ledger/vkey").trim().to_owned();
        let _witness = Killed(
            Command::new(env!("CARGO_BIN_EXE_sqin"))
                .args([
                    "witness",
                    "serve",
                    "--dir",
                    "w",
                    "--listen",
                    &format!("127.0.0.1:{witness_port}"),
                    "--log",
                    &log_vkey,
                ])
                .current_dir(&dir)
                .env_remove("SQIN_CONFIG")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );

        // The server asks at its next checkpoint tick (every second here).
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut note = String::new();
        while Instant::now() < deadline {
            note = get("/ledger/checkpoint");
            if note.contains("\u{2014} cai.test.example/w ") {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let signed = sqin_ledger_service::core::SignedCheckpoint::parse(&note).unwrap();
        let witness =
            sqin_ledger_service::core::CosignatureVerifier::from_vkey(&witness_vkey).unwrap();
        signed
            .verify(&signed.checkpoint().origin.clone(), &witness)
            .unwrap_or_else(|e| panic!("{e}: {note}"));
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
    }
);
