//! Connections that send nothing useful do not hold the server: a request
//! head that stalls is closed after `header_read_timeout_secs`, an idle
//! kept-alive connection after `keep_alive_timeout_secs`, and beyond
//! `max_connections` a connection is refused at once (503), so stalled
//! ones never make `/healthz` wait for long.
//!
//! Raw sockets on 127.0.0.1; every wait is bounded.
use std::time::{Duration, Instant};

use sqin_tests::{both_backends, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection (end of stream or reset),
/// giving up after `limit`: what was received, and how long it took (or
/// `None` when the connection was still open).
async fn until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, Option<Duration>) {
    let start = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(start.elapsed());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return (received, None),
            Ok(Ok(0)) | Ok(Err(_)) => return (received, Some(start.elapsed())),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

/// A connection that has sent half a request line.
async fn stalled(server: &TestServer) -> TcpStream {
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(b"GET /heal").await.unwrap();
    s
}

async fn start(db: sqin_tests::TestDb, max_connections: usize) -> TestServer {
    TestServer::start_with(
        db,
        move |c| {
            c.header_read_timeout_secs = 1;
            c.keep_alive_timeout_secs = 1;
            c.max_connections = max_connections;
        },
        axum::Router::new(),
    )
    .await
}

both_backends!(
    async fn a_stalled_request_head_is_closed_after_the_header_timeout(db: TestDb) {
        let server = start(db, 64).await;
        let mut s = stalled(&server).await;
        let (_, closed) = until_closed(&mut s, Duration::from_secs(5)).await;
        let closed = closed.expect("still open 5 s after half a request line");
        assert!(closed >= Duration::from_millis(800), "{closed:?}");
        // Slow bytes do not extend it: one every 300 ms.
        let mut s = stalled(&server).await;
        let start = Instant::now();
        let mut closed = None;
        for b in b"thz HTTP/1.1\r\nHost: x\r\n".iter().cycle().take(40) {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if s.write_all(&[*b]).await.is_err() {
                closed = Some(start.elapsed());
                break;
            }
        }
        let closed = match closed {
            Some(at) => at,
            None => panic!("a trickled request head was still accepted after 12 s"),
        };
        assert!(closed < Duration::from_secs(4), "{closed:?}");
        server.stop().await;
    }
);

both_backends!(
    async fn an_idle_kept_alive_connection_is_closed(db: TestDb) {
        let server = start(db, 64).await;
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let (received, closed) = until_closed(&mut s, Duration::from_secs(5)).await;
        let text = String::from_utf8_lossy(&received);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(!text.contains("connection: close"), "kept alive: {text}");
        let closed = closed.expect("an idle connection still open 5 s after its response");
        assert!(closed >= Duration::from_millis(800), "{closed:?}");
        server.stop().await;
    }
);

both_backends!(
    async fn connections_beyond_the_cap_are_refused_and_stalled_ones_let_go(db: TestDb) {
        const CAP: usize = 3;
        let server = start(db, CAP).await;
        // Let the harness's readiness probe close before the test counts.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut held = Vec::new();
        for _ in 0..CAP {
            held.push(stalled(&server).await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // One more, with the cap reached: a 503 at once, then closed.
        let mut extra = stalled(&server).await;
        let (received, closed) = until_closed(&mut extra, Duration::from_secs(5)).await;
        let text = String::from_utf8_lossy(&received);
        assert!(text.starts_with("HTTP/1.1 503"), "{text}");
        assert!(
            text.to_ascii_lowercase().contains("retry-after: 1"),
            "{text}"
        );
        assert!(text.contains("temporarily_unavailable"), "{text}");
        let closed = closed.expect("a refused connection stays open");
        assert!(
            closed < Duration::from_millis(800),
            "refused at once: {closed:?}"
        );
        // The stalled ones are let go after the header timeout...
        for s in &mut held {
            let (received, closed) = until_closed(s, Duration::from_secs(5)).await;
            assert!(closed.is_some(), "a stalled connection still open");
            assert!(received.is_empty() || received.starts_with(b"HTTP/1.1 4"));
        }
        // ...and the server answers again, well before any client's limit.
        let started = Instant::now();
        let r = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap()
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(started.elapsed() < Duration::from_secs(2));
        server.stop().await;
    }
);
