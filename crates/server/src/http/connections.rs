//! What a connection may hold of the server: a cap on open connections
//! and time limits on connections that send nothing useful.
//!
//! Request limits (the body limit, `request_timeout_secs`) start once a
//! request has arrived; a connection that sends half a request line, or
//! sits idle after its response, would otherwise hold a socket and a file
//! descriptor for as long as its peer likes, and a few hundred of them
//! exhaust the process. So every accepted connection goes through
//! [`Limits`], an acceptor for `axum-server` (under TLS, beneath the
//! handshake, so the handshake counts too):
//!
//! - **the cap** (`max_connections`): a connection beyond it is answered
//!   at once, `503` with `Retry-After` in plain HTTP (under TLS it is
//!   closed: nothing can be said before a handshake), and closed. Nothing
//!   waits in a queue for a place, so stalled connections can never make
//!   others wait behind them;
//! - **the header timeout** (`header_read_timeout_secs`): a new connection
//!   must deliver a whole request head within it, and so must a kept-alive
//!   one from the first byte of its next request;
//! - **the idle timeout** (`keep_alive_timeout_secs`): a connection with no
//!   request in flight and nothing received or sent for that long is
//!   closed. Sending a response counts as activity, so a large response to
//!   a slow reader is not cut while it progresses, but one whose reader has
//!   stopped reading is.
//!
//! A request in flight is bounded by `request_timeout_secs` (the 408 of the
//! middleware), not here. The timers live in the connection's I/O
//! ([`TimedIo`]), which the request tracking ([`Tracked`]) tells when a
//! request starts and ends; hyper's own header timer is not used, as it
//! cannot tell an idle connection from a slow header.
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::{Request, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Connections refused at once and still being answered (the refusal is
/// written, then what the client sent is drained briefly so that closing
/// does not reset the connection before the client reads it). Beyond this,
/// a refused connection is closed without a word.
const REFUSALS_ANSWERED: usize = 64;

/// How long a refused connection may take to read its refusal.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// The time limits of a connection.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub header_read: Duration,
    pub keep_alive: Duration,
}

/// The acceptor that caps connections and gives each its timers.
#[derive(Clone)]
pub struct Limits {
    permits: Arc<Semaphore>,
    refusals: Arc<Semaphore>,
    max: usize,
    timeouts: Timeouts,
    /// Answer a refused connection in plain HTTP (false under TLS).
    plain: bool,
    refusal: Arc<[u8]>,
    /// Refusals since the last warning, and when that was (seconds since
    /// `started`): one line per ten seconds at most.
    refused: Arc<AtomicU64>,
    last_warning: Arc<AtomicU64>,
    started: Instant,
}

impl Limits {
    pub fn new(max_connections: usize, timeouts: Timeouts, plain: bool) -> Self {
        let max = max_connections.clamp(1, Semaphore::MAX_PERMITS);
        let body = r#"{"error":"temporarily_unavailable","error_description":"the server has too many open connections; try again in a moment"}"#;
        let refusal = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncache-control: no-store\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        Self {
            permits: Arc::new(Semaphore::new(max)),
            refusals: Arc::new(Semaphore::new(REFUSALS_ANSWERED)),
            max,
            timeouts,
            plain,
            refusal: refusal.into_bytes().into(),
            refused: Arc::default(),
            last_warning: Arc::new(AtomicU64::new(u64::MAX)),
            started: Instant::now(),
        }
    }

    /// Says, at most every ten seconds, that connections are being refused.
    fn note_refusal(&self) {
        let refused = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
        let now = self.started.elapsed().as_secs();
        let last = self.last_warning.load(Ordering::Relaxed);
        if (last == u64::MAX || now >= last + 10)
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.refused.store(0, Ordering::Relaxed);
            tracing::warn!(
                max_connections = self.max,
                refused,
                "connection limit reached: refusing new connections (max_connections)"
            );
        }
    }

    /// Answers a connection beyond the cap and closes it.
    async fn refuse(&self, mut stream: TcpStream) {
        self.note_refusal();
        let Ok(_answering) = self.refusals.clone().try_acquire_owned() else {
            return;
        };
        if !self.plain {
            return;
        }
        let refusal = self.refusal.clone();
        let _ = tokio::time::timeout(REFUSAL_LINGER, async move {
            stream.write_all(&refusal).await?;
            stream.shutdown().await?;
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<_, io::Error>(())
        })
        .await;
    }
}

impl<S> axum_server::accept::Accept<TcpStream, S> for Limits
where
    S: Send + 'static,
{
    type Stream = TimedIo<TcpStream>;
    type Service = Tracked<S>;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Self::Stream, Self::Service)>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let limits = self.clone();
        Box::pin(async move {
            let Ok(permit) = limits.permits.clone().try_acquire_owned() else {
                limits.refuse(stream).await;
                return Err(io::Error::other("connection limit reached"));
            };
            let state = Arc::new(Mutex::new(ConnState::new(Instant::now())));
            Ok((
                TimedIo {
                    io: stream,
                    state: state.clone(),
                    timeouts: limits.timeouts,
                    timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
                    armed: None,
                    _permit: permit,
                },
                Tracked {
                    inner: service,
                    state,
                },
            ))
        })
    }
}

/// Where a connection is between requests.
#[derive(Debug)]
struct ConnState {
    /// Requests whose response has not yet been handed to hyper.
    in_flight: usize,
    /// Since when nothing has happened (accepted, the last response, the
    /// last bytes of a response written).
    idle_since: Instant,
    /// When the first bytes of the next request arrived, while idle.
    head_started: Option<Instant>,
    /// Whether a request has been served (a new connection has the header
    /// timeout from the start; a kept-alive one the idle timeout).
    served: bool,
}

impl ConnState {
    fn new(now: Instant) -> Self {
        Self {
            in_flight: 0,
            idle_since: now,
            head_started: None,
            served: false,
        }
    }

    /// When the connection is to be closed if nothing changes; `None`
    /// while a request is in flight.
    fn deadline(&self, t: &Timeouts) -> Option<Instant> {
        if self.in_flight > 0 {
            None
        } else if let Some(started) = self.head_started {
            Some(started + t.header_read)
        } else if !self.served {
            Some(self.idle_since + t.header_read)
        } else {
            Some(self.idle_since + t.keep_alive)
        }
    }

    fn received(&mut self, now: Instant) {
        if self.in_flight == 0 && self.head_started.is_none() {
            self.head_started = Some(now);
        }
    }

    fn sent(&mut self, now: Instant) {
        if self.in_flight == 0 && self.head_started.is_none() {
            self.idle_since = now;
        }
    }
}

fn lock(state: &Mutex<ConnState>) -> std::sync::MutexGuard<'_, ConnState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A connection's I/O with its timers (and its place under the cap, given
/// back when the connection is dropped).
pub struct TimedIo<I> {
    io: I,
    state: Arc<Mutex<ConnState>>,
    timeouts: Timeouts,
    timer: Pin<Box<Sleep>>,
    armed: Option<Instant>,
    _permit: OwnedSemaphorePermit,
}

impl<I> TimedIo<I> {
    /// With the I/O pending: `Ready(error)` once the connection's deadline
    /// has passed, else `Pending` with the timer armed (while a request is
    /// in flight, to look again later).
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            let now = Instant::now();
            let deadline = lock(&self.state).deadline(&self.timeouts);
            let wake_at = match deadline {
                Some(d) if d <= now => {
                    tracing::debug!("closing a connection that sent no complete request in time");
                    return Poll::Ready(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "connection idle or request head incomplete for too long",
                    ));
                }
                Some(d) => d,
                // In flight: look again later (keeping a timer already set).
                None => match self.armed {
                    Some(armed) if armed > now => armed,
                    _ => now + self.timeouts.keep_alive,
                },
            };
            if self.armed != Some(wake_at) {
                self.timer.as_mut().reset(wake_at);
                self.armed = Some(wake_at);
            }
            if self.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.armed = None;
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for TimedIo<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    lock(&this.state).received(Instant::now());
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx).map(Err),
        }
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for TimedIo<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    lock(&this.state).sent(Instant::now());
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx).map(Err),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    lock(&this.state).sent(Instant::now());
                }
                Poll::Ready(Ok(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_deadline(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// The connection's service, telling its I/O when a request is in flight.
#[derive(Clone)]
pub struct Tracked<S> {
    inner: S,
    state: Arc<Mutex<ConnState>>,
}

/// A request in flight on its connection, until its response is handed
/// to hyper (or the request is abandoned).
struct InFlight(Arc<Mutex<ConnState>>);

impl InFlight {
    fn begin(state: &Arc<Mutex<ConnState>>) -> Self {
        let mut s = lock(state);
        s.in_flight += 1;
        s.head_started = None;
        s.served = true;
        drop(s);
        Self(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut s = lock(&self.0);
        s.in_flight = s.in_flight.saturating_sub(1);
        s.idle_since = Instant::now();
    }
}

impl<S, R, B> tower::Service<Request<R>> for Tracked<S>
where
    S: tower::Service<Request<R>, Response = Response<B>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    B: 'static,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<B>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<R>) -> Self::Future {
        let in_flight = InFlight::begin(&self.state);
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await;
            drop(in_flight);
            response
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts {
        header_read: Duration::from_secs(10),
        keep_alive: Duration::from_secs(5),
    };

    #[test]
    fn deadlines_follow_the_connection() {
        let t0 = Instant::now();
        let mut s = ConnState::new(t0);
        // A new connection has the header timeout from the start.
        assert_eq!(s.deadline(&T), Some(t0 + T.header_read));
        // None while a request is in flight.
        s.in_flight = 1;
        s.served = true;
        assert_eq!(s.deadline(&T), None);
        // Kept alive after its response: the idle timeout...
        let t1 = t0 + Duration::from_secs(1);
        s.in_flight = 0;
        s.idle_since = t1;
        assert_eq!(s.deadline(&T), Some(t1 + T.keep_alive));
        // ...renewed while the response is being written...
        let t2 = t1 + Duration::from_secs(1);
        s.sent(t2);
        assert_eq!(s.deadline(&T), Some(t2 + T.keep_alive));
        // ...then the header timeout from the next request's first byte,
        // which later bytes do not extend.
        let t3 = t2 + Duration::from_secs(1);
        s.received(t3);
        s.received(t3 + Duration::from_secs(3));
        s.sent(t3 + Duration::from_secs(4));
        assert_eq!(s.deadline(&T), Some(t3 + T.header_read));
    }
}
