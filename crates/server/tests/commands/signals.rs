//! The real binary: `sqin serve` starts on a random port and exits cleanly on
//! SIGTERM.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

sqin_store::sync_test!(
    fn serve_starts_on_a_random_port_and_exits_zero_on_sigterm() {
        let dir = std::env::temp_dir().join(format!("sqin-sig-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        crate::deployment::write_config(&dir);
        let mut child = Command::new(env!("CARGO_BIN_EXE_sqin"))
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
            .env_remove("SQIN_CONFIG")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
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
                assert!(
                    !line.contains("\u{1b}["),
                    "no colour codes when not on a terminal"
                );
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    addr = rest.split_whitespace().next().map(str::to_owned);
                }
            }
        }
        let addr = addr.expect("the server logged its address");
        let body = std::process::Command::new("curl")
            .args(["-sf", &format!("http://{addr}/readyz")])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        if let Ok(body) = body {
            assert!(body.contains("ready"), "{body}");
        }
        let pid = child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "exit status {status:?}");
                break;
            }
            assert!(Instant::now() < deadline, "sqin did not stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut rest = Vec::new();
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
            rest.push(line);
        }
        assert!(rest.iter().any(|l| l.contains("sqin stopped")), "{rest:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
);
