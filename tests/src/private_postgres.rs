//! A PostgreSQL cluster of one test's own, for tests that stop and start
//! the database under the server (never the shared instance the other
//! tests use through `SQIN_TEST_POSTGRES_URL`).
//!
//! It is made with the Debian PostgreSQL binaries (`/usr/lib/postgresql/N/bin`)
//! in a temporary directory, listening on a free port of 127.0.0.1 (and a
//! socket in that directory); as root, through `runuser -u postgres`, since
//! `initdb` refuses root. [`PrivateCluster`] stops it (immediately) and
//! removes it when dropped, whatever the test's outcome.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{TestDb, TestServer};

/// Whether a private cluster can be made here; the reason when not (the
/// test is then reported as ignored, with it).
pub fn available() -> Result<(), String> {
    let bin = bin_dir()?;
    for tool in ["initdb", "pg_ctl", "postgres"] {
        if !bin.join(tool).exists() {
            return Err(format!("{} is missing", bin.join(tool).display()));
        }
    }
    if is_root() {
        if !Path::new("/usr/sbin/runuser").exists() && !Path::new("/sbin/runuser").exists() {
            return Err("running as root without runuser: initdb refuses root".into());
        }
        let known = Command::new("id")
            .args(["-u", "postgres"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !known {
            return Err("running as root and there is no postgres user to run initdb as".into());
        }
    }
    Ok(())
}

/// The newest `/usr/lib/postgresql/N/bin`.
fn bin_dir() -> Result<PathBuf, String> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("no PostgreSQL binaries in /usr/lib/postgresql: {e}"))?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| "no PostgreSQL version under /usr/lib/postgresql".into())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A running cluster: stopped and removed on drop.
pub struct PrivateCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl PrivateCluster {
    /// Makes and starts a cluster (blocking: a second or two). Trust
    /// authentication, for the `postgres` role, on 127.0.0.1 only.
    pub fn start() -> Result<Self, String> {
        available()?;
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sqin-private-pg-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut cluster = PrivateCluster {
            bin: bin_dir()?,
            dir,
            port: 0,
            as_postgres: is_root(),
        };
        if cluster.as_postgres {
            cluster.run(
                Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(&cluster.dir),
                "chown",
            )?;
        }
        let initdb = cluster.tool("initdb");
        cluster.run(
            cluster
                .command(&initdb)
                .arg("-D")
                .arg(cluster.data())
                .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]),
            "initdb",
        )?;
        // A free port, found by binding it; another process could take it
        // before the cluster does, so try a few.
        let mut last = String::new();
        for _ in 0..3 {
            cluster.port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| e.to_string())?
                .port();
            match cluster.start_again() {
                Ok(()) => return Ok(cluster),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops it at once (`pg_ctl stop -m immediate`: every backend killed,
    /// connections dropped, as in a crash), and waits until it is down.
    pub fn stop_immediately(&self) -> Result<(), String> {
        let pg_ctl = self.tool("pg_ctl");
        self.run(
            self.command(&pg_ctl).arg("-D").arg(self.data()).args([
                "-m",
                "immediate",
                "-w",
                "stop",
            ]),
            "pg_ctl stop",
        )
    }

    /// Starts it (again) on its port, and waits until it accepts
    /// connections (after crash recovery when it was stopped immediately).
    pub fn start_again(&self) -> Result<(), String> {
        let pg_ctl = self.tool("pg_ctl");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.display()
        );
        self.run(
            self.command(&pg_ctl)
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(self.dir.join("server.log"))
                .args(["-w", "-t", "30", "-o", &options, "start"]),
            "pg_ctl start",
        )
    }

    /// The server's own log (for a failure's message).
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn tool(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// `program`, as the postgres user when this process is root.
    fn command(&self, program: &Path) -> Command {
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    fn run(&self, command: &mut Command, what: &str) -> Result<(), String> {
        let out = command
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{what}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{what} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if self.port != 0 {
            let _ = self.stop_immediately();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A [`TestServer`] on the database at `url` (a private cluster's). Its
/// `db` is an unused SQLite [`TestDb`]: the harness's `TestDb` only makes
/// schemas on the shared instance, and the server's `database_url` is what
/// counts.
pub async fn server_on(url: &str) -> TestServer {
    let url = url.to_owned();
    TestServer::start_with(
        TestDb::sqlite().await,
        move |c| c.database_url = url,
        axum::Router::new(),
    )
    .await
}
