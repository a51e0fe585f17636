//! Issue 14, finding 14: PostgreSQL lost under load, on a private cluster
//! (never the shared instance): while relying parties and browsers keep
//! asking, the cluster is stopped at once (`pg_ctl stop -m immediate`, as
//! in a crash) and started again. Nothing a client sees is a 4xx or a bare
//! 500: every failure is a 503 with `Retry-After` (or, at /authorize, a
//! redirect with `error=temporarily_unavailable` to the redirect URI
//! already trusted); each request fails fast, well under the pool's 5 s
//! acquire timeout; /readyz turns 503 within a second; the server comes
//! back by itself with nothing committed lost; and the loss and the return
//! are one log line each.
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqin_tests::captured_logs::CapturedLogs;
use sqin_tests::private_postgres::{self, PrivateCluster};
use sqin_tests::{authorize_url, pkce_pair, query_param, rp, tokens_for, TestServer};

const REDIRECT: &str = "https://outage.example/callback";
const SCOPE: &str = "openid profile";
/// A request answered later than this did not fail fast (the pool's
/// acquire timeout, which the finding saw every request wait, is 5 s).
const FAIL_FAST: Duration = Duration::from_secs(2);
/// How long the database stays down.
const OUTAGE: Duration = Duration::from_secs(3);
/// /readyz must say so within this of the loss.
const READYZ_FLIP: Duration = Duration::from_secs(1);
/// Successful /authorize requests the load may make: each counts against
/// the 300 pending requests per address and window.
const AUTHORIZE_BUDGET: usize = 200;
/// The whole test, cluster included.
const WHOLE_TEST: Duration = Duration::from_secs(50);

sqin_store::needs_test!(
    needs = sqin_tests::private_postgres::available,
    async fn a_lost_database_is_a_503_fails_fast_is_logged_once_and_comes_back() {
        // A runtime of the test's own, whose threads log into `logs`.
        let logs = CapturedLogs::default();
        let ran = tokio::task::spawn_blocking(move || {
            let _thread = logs.on_this_thread();
            let runtime = logs.runtime(3);
            runtime.block_on(async {
                tokio::time::timeout(WHOLE_TEST, outage_under_load(logs.clone()))
                    .await
                    .expect("the database-loss test took longer than 50 s");
            });
        })
        .await;
        if let Err(e) = ran {
            std::panic::resume_unwind(e.into_panic());
        }
    }
);

/// One answer the load got.
#[derive(Debug, Clone)]
struct Answer {
    what: &'static str,
    /// When it was sent, from the start of the load.
    sent: Duration,
    took: Duration,
    /// 0: no HTTP answer at all.
    status: u16,
    retry_after: Option<String>,
    location: Option<String>,
    body: String,
}

impl Answer {
    fn answered(&self) -> Duration {
        self.sent + self.took
    }
}

/// What the load shares.
struct Load {
    server: TestServer,
    client_id: String,
    secret: String,
    cookie: String,
    start: Instant,
    stop: AtomicBool,
    authorized: AtomicUsize,
    answers: Mutex<Vec<Answer>>,
}

impl Load {
    async fn send(&self, what: &'static str, request: reqwest::RequestBuilder) -> Answer {
        let sent = self.start.elapsed();
        let began = Instant::now();
        let answer = match request.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let header = |name| {
                    r.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let retry_after = header(reqwest::header::RETRY_AFTER);
                let location = header(reqwest::header::LOCATION);
                let body = r.text().await.unwrap_or_default();
                Answer {
                    what,
                    sent,
                    took: began.elapsed(),
                    status,
                    retry_after,
                    location,
                    body: body.chars().take(300).collect(),
                }
            }
            Err(e) => Answer {
                what,
                sent,
                took: began.elapsed(),
                status: 0,
                retry_after: None,
                location: None,
                body: e.to_string(),
            },
        };
        self.answers.lock().unwrap().push(answer.clone());
        answer
    }

    /// A signed-in, consented citizen at /authorize, and the code it
    /// brings back exchanged at /token.
    async fn sign_in_once(&self) {
        let (verifier, challenge) = pkce_pair();
        let url = authorize_url(
            &self.server,
            &[
                ("response_type", "code"),
                ("client_id", &self.client_id),
                ("redirect_uri", REDIRECT),
                ("scope", SCOPE),
                ("state", "load"),
                ("nonce", "load"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        let http = self.server.client();
        let answer = self
            .send(
                "authorize",
                http.get(&url).header(reqwest::header::COOKIE, &self.cookie),
            )
            .await;
        let Some(code) = answer
            .location
            .as_deref()
            .and_then(|l| query_param(l, "code"))
        else {
            return;
        };
        self.authorized.fetch_add(1, Ordering::Relaxed);
        self.send(
            "token",
            http.post(self.server.url("/token"))
                .basic_auth(&self.client_id, Some(&self.secret))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", verifier.as_str()),
                ]),
        )
        .await;
    }

    async fn sign_ins(self: Arc<Self>) {
        while !self.stop.load(Ordering::Relaxed) {
            if self.authorized.load(Ordering::Relaxed) < AUTHORIZE_BUDGET {
                self.sign_in_once().await;
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    async fn readiness(self: Arc<Self>) {
        let http = self.server.client();
        while !self.stop.load(Ordering::Relaxed) {
            self.send("readyz", http.get(self.server.url("/readyz")))
                .await;
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Why `a` is not an acceptable answer, if it is not: a success, or a 503
/// with `Retry-After`, or (at /authorize) the error redirect to the
/// trusted redirect URI with `temporarily_unavailable`; and fast.
fn unacceptable(a: &Answer) -> Option<String> {
    if a.took >= FAIL_FAST {
        return Some(format!("took {:?} (not failing fast)", a.took));
    }
    let unavailable = a.status == 503 && a.retry_after.is_some();
    let fine = match (a.what, a.status) {
        (_, 0) => false,
        ("readyz", 200) => true,
        ("readyz", 503) => true,
        ("authorize", 303) => a.location.as_deref().is_some_and(|l| {
            l.starts_with(REDIRECT)
                && (query_param(l, "code").is_some()
                    || query_param(l, "error").as_deref() == Some("temporarily_unavailable"))
        }),
        ("token", 200) => a.body.contains("access_token"),
        ("token", 503) => unavailable && a.body.contains("\"temporarily_unavailable\""),
        (_, 503) => unavailable,
        _ => false,
    };
    (!fine).then(|| "neither a success nor a 503 with Retry-After".to_owned())
}

async fn outage_under_load(logs: CapturedLogs) {
    let began = Instant::now();
    let cluster = tokio::task::spawn_blocking(PrivateCluster::start)
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("the private PostgreSQL cluster did not start: {e}"));
    let server = private_postgres::server_on(&cluster.url()).await;
    assert_eq!(
        server.services.store.backend(),
        sqin_store::Backend::Postgres
    );
    let citizen = server.add_citizen("QC-OUTAGE-0001").await;
    let cookie = server.sign_in(&citizen.id).await;
    let registered = server
        .register_client(rp("Service en panne", REDIRECT, SCOPE))
        .await;
    let client_id = registered.record.client_id.clone();
    let secret = registered.client_secret.unwrap().expose().to_owned();

    // Before: a full sign-in, whose consent and grant must survive.
    let before = tokens_for(&server, &cookie, &client_id, &secret, REDIRECT, SCOPE).await;
    let access_before = before["access_token"].as_str().unwrap().to_owned();
    eprintln!(
        "database loss: cluster and server ready after {:?}",
        began.elapsed()
    );

    let load = Arc::new(Load {
        server,
        client_id,
        secret,
        cookie,
        start: Instant::now(),
        stop: AtomicBool::new(false),
        authorized: AtomicUsize::new(0),
        answers: Mutex::new(Vec::new()),
    });
    let mut tasks = Vec::new();
    for _ in 0..3 {
        tasks.push(tokio::spawn(load.clone().sign_ins()));
    }
    tasks.push(tokio::spawn(load.clone().readiness()));
    tokio::time::sleep(Duration::from_millis(800)).await;

    // The loss.
    let stop_began = load.start.elapsed();
    let cluster = Arc::new(cluster);
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.stop_immediately())
        .await
        .unwrap()
        .unwrap();
    let stopped = load.start.elapsed();
    tokio::time::sleep(OUTAGE).await;

    // The return: nothing but the cluster is touched.
    let start_began = load.start.elapsed();
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.start_again())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}\n{}", cluster.server_log()));
    let started = load.start.elapsed();
    let ready = loop {
        let last_ready = load
            .answers
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|a| a.what == "readyz" && a.sent >= started)
            .map(|a| a.status == 200);
        if last_ready == Some(true) {
            break load.start.elapsed();
        }
        assert!(
            load.start.elapsed() < started + Duration::from_secs(10),
            "/readyz did not answer 200 within 10 s of the database's return"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    tokio::time::sleep(Duration::from_millis(800)).await;
    load.stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let answers = load.answers.lock().unwrap().clone();

    // What the load met, for the record.
    let slowest = answers
        .iter()
        .filter(|a| a.sent >= stop_began && a.sent < ready)
        .max_by_key(|a| a.took)
        .cloned();
    let readyz_flip = answers
        .iter()
        .filter(|a| a.what == "readyz" && a.status == 503)
        .map(Answer::answered)
        .min();
    let count = |what: &str, status: u16| {
        answers
            .iter()
            .filter(|a| a.what == what && a.status == status)
            .count()
    };
    eprintln!(
        "database loss: stop {stop_began:?}..{stopped:?}, start {start_began:?}..{started:?}, \
         ready again at {ready:?}; readyz first 503 answered at {readyz_flip:?}; \
         slowest request while out: {:?}; answers: authorize 303 {} / 503 {}, token 200 {} / 503 {}, \
         readyz 200 {} / 503 {}, {} in all",
        slowest.as_ref().map(|a| (a.what, a.took, a.status)),
        count("authorize", 303),
        count("authorize", 503),
        count("token", 200),
        count("token", 503),
        count("readyz", 200),
        count("readyz", 503),
        answers.len(),
    );
    for slow in answers
        .iter()
        .filter(|a| a.took > Duration::from_millis(500))
    {
        eprintln!("database loss: slow answer {slow:?}");
    }

    // Every answer acceptable, none slow.
    let bad: Vec<String> = answers
        .iter()
        .filter_map(|a| unacceptable(a).map(|why| format!("{why}: {a:?}")))
        .collect();
    assert!(
        bad.is_empty(),
        "{} bad answers:\n{}",
        bad.len(),
        bad.join("\n")
    );
    // The outage was met: the load saw failures and successes on both sides.
    let outage_503 = answers
        .iter()
        .filter(|a| a.what != "readyz" && a.status == 503)
        .count();
    assert!(outage_503 > 0, "no request met the outage");
    assert!(
        answers
            .iter()
            .any(|a| a.what == "token" && a.status == 200 && a.sent < stop_began),
        "no sign-in before the loss"
    );
    assert!(
        answers
            .iter()
            .any(|a| a.what == "token" && a.status == 200 && a.sent >= ready),
        "no sign-in of the load after the return"
    );

    // /readyz: 503 within a second of the loss, and 503 all the time it
    // lasted.
    let flip = readyz_flip.expect("/readyz never answered 503");
    assert!(
        flip <= stopped + READYZ_FLIP,
        "/readyz answered 503 only at {flip:?}, the database was down at {stopped:?}"
    );
    let ready_while_down: Vec<&Answer> = answers
        .iter()
        .filter(|a| {
            a.what == "readyz"
                && a.status == 200
                && a.sent >= stopped + READYZ_FLIP
                && a.answered() < start_began
        })
        .collect();
    assert!(
        ready_while_down.is_empty(),
        "/readyz said ready while the database was down: {ready_while_down:?}"
    );

    // Back by itself, with nothing committed lost: the grant issued before
    // the loss still answers at /userinfo, the consent still stands (the
    // sign-in below needs no consent page), and a whole sign-in works.
    let server = &load.server;
    let (status, _) = sqin_tests::userinfo(server, &access_before).await;
    assert_eq!(status, 200, "the grant issued before the loss is gone");
    let issued = load.authorized.load(Ordering::Relaxed);
    let grants =
        sqin_store::testing::scalar(server.services.store.pool(), "SELECT COUNT(*) FROM grants")
            .await;
    assert!(
        usize::try_from(grants).unwrap() > issued,
        "{grants} grants stored, {issued} codes were issued by the load and one before it"
    );
    let after = tokens_for(
        server,
        &load.cookie,
        &load.client_id,
        &load.secret,
        REDIRECT,
        SCOPE,
    )
    .await;
    let (status, _) = sqin_tests::userinfo(server, after["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);

    // One line for the loss, one for the return.
    let store = &server.services.store;
    assert_eq!(store.database_transitions(), (1, 1));
    let lost = logs.lines_with("database lost");
    let back = logs.lines_with("database back");
    assert_eq!(lost.len(), 1, "{}", logs.text());
    assert_eq!(back.len(), 1, "{}", logs.text());
    let loud: Vec<String> = logs
        .text()
        .lines()
        .filter(|l| l.contains(" ERROR ") || l.contains(" WARN "))
        .map(str::to_owned)
        .collect();
    eprintln!(
        "database loss: {} log lines, {} at WARN or ERROR:\n{}",
        logs.text().lines().count(),
        loud.len(),
        loud.join("\n")
    );
    // No error line per request or per background pass: the loss is the
    // only one.
    let errors: Vec<&String> = loud.iter().filter(|l| l.contains(" ERROR ")).collect();
    assert_eq!(errors, [&lost[0]], "error lines besides the loss");
    eprintln!("database loss: checked after {:?}", began.elapsed());
    drop(load);
    // The cluster is stopped and removed when the last handle drops, here
    // or on any failure above.
    drop(cluster);
}
