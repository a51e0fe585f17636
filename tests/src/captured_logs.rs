//! What the server logs during one test: a runtime whose every thread (the
//! workers and the blocking pool) logs, as `sqin serve` would, into one
//! buffer the test reads. Other tests of the binary run on their own
//! runtimes and log nowhere, so they cannot add to it.
use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::util::SubscriberInitExt;

/// The log lines written so far, shared by every thread of its runtime.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut lines) = self.0.lock() {
            lines.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

thread_local! {
    static CAPTURING: RefCell<Option<tracing::dispatcher::DefaultGuard>> = const { RefCell::new(None) };
}

impl CapturedLogs {
    /// A multi-threaded runtime with `workers` workers whose threads log
    /// here, at `info` and above (the server's default level), as text.
    pub fn runtime(&self, workers: usize) -> tokio::runtime::Runtime {
        let on_start = self.clone();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .on_thread_start(move || {
                let guard = on_start.subscriber().set_default();
                CAPTURING.with(|c| *c.borrow_mut() = Some(guard));
            })
            .on_thread_stop(|| {
                CAPTURING.with(|c| c.borrow_mut().take());
            })
            .build()
            .expect("a runtime")
    }

    /// Logs of the calling thread go here too while the guard lives.
    pub fn on_this_thread(&self) -> tracing::dispatcher::DefaultGuard {
        self.subscriber().set_default()
    }

    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(LevelFilter::INFO)
            .finish()
    }

    /// Every line so far.
    pub fn text(&self) -> String {
        self.0
            .lock()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The lines that contain `needle`.
    pub fn lines_with(&self, needle: &str) -> Vec<String> {
        self.text()
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}
