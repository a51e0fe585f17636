//! The authorization-code exchange (the token endpoint's work for a sign-in),
//! with and without the consent-ledger append, called in process on a real
//! database. The "without" variant exists only here, in a benchmark: the
//! server has no way to turn the ledger off.
//!
//! `cargo bench -p sqin-tests --bench token_exchange`
//! (`SQIN_BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432/test` adds the
//! PostgreSQL variant.)
//!
//! After criterion's two separate measurements, a paired run alternates the
//! two on one database, exchange by exchange (`SQIN_BENCH_PAIRS`, default
//! 2000 pairs, which of the two goes first alternating), and prints the median of
//! the per-pair differences: on a shared machine whose speed drifts by tens
//! of percent between criterion's groups, that is the figure that isolates
//! the ledger's cost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use sqin_ledger_contract::{LedgerEvent, LedgerRecorder, RecordFuture};
use sqin_oidc::authorize::{self, Decision, Next};
use sqin_oidc::token::{self, TokenRequest};
use sqin_store::testing::TestDb;
use sqin_store::Connection;

/// Records nothing: the baseline the ledger's cost is measured against.
struct NoLedger;
impl LedgerRecorder for NoLedger {
    fn record<'c>(&'c self, _: &'c mut Connection, _: LedgerEvent, _: i64) -> RecordFuture<'c> {
        Box::pin(async { Ok(()) })
    }
}

const CB: &str = "http://127.0.0.1:9/cb";

struct Setup {
    services: sqin_server::Services,
    client: Arc<sqin_store::clients::ClientRecord>,
    session: sqin_session::AuthenticatedSession,
    _db: TestDb,
}

async fn setup(db: TestDb) -> Setup {
    let dir = std::env::temp_dir().join(format!("sqin-bench-{}", std::process::id()));
    let config = sqin_server::Config {
        database_url: db.url.clone(),
        data_dir: dir,
        ..Default::default()
    };
    let services = sqin_server::open(&config).await.unwrap();
    let mut conn = services.store.pool().acquire().await.unwrap();
    let (citizen, _) = sqin_register::add_citizen(
        &mut conn,
        &services.codes,
        &services.register,
        sqin_register::NewCitizen {
            register_id: "BENCH-1".into(),
            given_name: "Aline".into(),
            family_name: "Exemple".into(),
            birthdate: "1984-03-02".into(),
            ..Default::default()
        },
        services.now(),
    )
    .await
    .unwrap();
    let (_, session) = sqin_session::start(
        &mut conn,
        &citizen.id,
        sqin_session::acr::SUBSTANTIAL,
        &["hwk", "user"],
        services.now(),
    )
    .await
    .unwrap();
    let registration = sqin_oidc::client::ClientRegistration {
        name: "Bench".into(),
        redirect_uris: vec![CB.into()],
        scopes: vec!["openid profile".into()],
        ..Default::default()
    };
    let bounds = sqin_tests::fixture_bounds(&registration);
    let reg = sqin_oidc::client::register(
        &mut conn,
        registration,
        &bounds,
        sqin_store::clients::ClientStatus::Active,
        services.now(),
    )
    .await
    .unwrap();
    let client = Arc::new(reg.record);
    Setup {
        services,
        client,
        session,
        _db: db,
    }
}

/// A fresh code through the real authorization path (consent given once).
async fn fresh_code(s: &Setup, provider: &sqin_oidc::Provider, challenge: &str) -> String {
    let mut conn = s.services.store.pool().acquire().await.unwrap();
    let params: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", s.client.client_id.as_str()),
        ("redirect_uri", CB),
        ("scope", "openid profile"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let t = s.services.now();
    let req = authorize::begin(&mut conn, provider, &params, None, t)
        .await
        .unwrap();
    let next = authorize::next_step(&mut conn, provider, &req.id, Some(&s.session), t)
        .await
        .unwrap();
    let url = match next {
        Next::Redirect(url) => url,
        Next::Consent(p) => authorize::decide(
            &mut conn,
            provider,
            &req.id,
            &p.form_token,
            Decision::Allow,
            &s.session,
            t,
        )
        .await
        .unwrap(),
        Next::Login { .. } => panic!("the session should do"),
    };
    url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

fn bench_backend(c: &mut Criterion, name: &str, db: impl Fn() -> TestDb) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut group = c.benchmark_group(format!("token_exchange/{name}"));
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(8));
    for ledger in [true, false] {
        let s = rt.block_on(setup(db()));
        let mut provider = s.services.provider();
        if !ledger {
            provider.ledger = Arc::new(NoLedger);
        }
        let label = if ledger {
            "with_ledger"
        } else {
            "without_ledger"
        };
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += timed_exchange(&s, &provider).await;
                    }
                    total
                })
            })
        });
    }
    group.finish();
}

/// One exchange of a fresh code; the time of the exchange alone.
async fn timed_exchange(s: &Setup, provider: &sqin_oidc::Provider) -> Duration {
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let code = fresh_code(s, provider, challenge).await;
    let request = TokenRequest {
        grant_type: Some("authorization_code".into()),
        code: Some(code),
        redirect_uri: Some(CB.into()),
        code_verifier: Some(verifier.into()),
        ..Default::default()
    };
    let mut conn = sqin_store::LazyConnection::new(s.services.store.pool());
    let start = Instant::now();
    let r = token::exchange(&mut conn, provider, &s.client, &request, s.services.now()).await;
    let elapsed = start.elapsed();
    assert!(r.is_ok(), "{r:?}");
    elapsed
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// The paired comparison: with and without the ledger alternating on one
/// database and one connection pool.
fn paired(name: &str, db: TestDb) {
    let pairs: usize = std::env::var("SQIN_BENCH_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(setup(db));
    let with = s.services.provider();
    let mut without = s.services.provider();
    without.ledger = Arc::new(NoLedger);
    let (mut a, mut b, mut d) = (Vec::new(), Vec::new(), Vec::new());
    rt.block_on(async {
        // Warm-up: caches, prepared statements, the data key.
        for _ in 0..50 {
            timed_exchange(&s, &with).await;
            timed_exchange(&s, &without).await;
        }
        for i in 0..pairs {
            let (x, y) = if i % 2 == 0 {
                let x = timed_exchange(&s, &with).await;
                (x, timed_exchange(&s, &without).await)
            } else {
                let y = timed_exchange(&s, &without).await;
                (timed_exchange(&s, &with).await, y)
            };
            let (x, y) = (x.as_secs_f64() * 1e6, y.as_secs_f64() * 1e6);
            a.push(x);
            b.push(y);
            d.push(x - y);
        }
    });
    for v in [&mut a, &mut b, &mut d] {
        v.sort_by(|p, q| p.total_cmp(q));
    }
    let with_median = percentile(&a, 0.5);
    let without_median = percentile(&b, 0.5);
    println!(
        "token_exchange/{name}/paired ({pairs} pairs): with the ledger median {with_median:.0} µs (p90 {:.0}), without {without_median:.0} µs (p90 {:.0}); per-pair difference median {:+.0} µs (interquartile {:+.0} to {:+.0}), {:+.1}% of the median without",
        percentile(&a, 0.9),
        percentile(&b, 0.9),
        percentile(&d, 0.5),
        percentile(&d, 0.25),
        percentile(&d, 0.75),
        100.0 * percentile(&d, 0.5) / without_median,
    );
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    bench_backend(c, "sqlite", || rt.block_on(TestDb::sqlite()));
    if let Ok(url) = std::env::var("SQIN_BENCH_POSTGRES") {
        std::env::set_var("SQIN_TEST_POSTGRES_URL", url);
        bench_backend(c, "postgres", || rt.block_on(TestDb::postgres()).unwrap());
    }
}

fn paired_benches() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    paired("sqlite", rt.block_on(TestDb::sqlite()));
    if let Ok(url) = std::env::var("SQIN_BENCH_POSTGRES") {
        std::env::set_var("SQIN_TEST_POSTGRES_URL", url);
        paired("postgres", rt.block_on(TestDb::postgres()).unwrap());
    }
}

criterion_group!(token, benches);

fn main() {
    token();
    Criterion::default().configure_from_args().final_summary();
    paired_benches();
}
