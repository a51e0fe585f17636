//! A passkey login ceremony (start + finish), server side, with the software
//! authenticator answering, and where its time goes:
//!
//! - `webauthn-rs/start` and `webauthn-rs/finish`: the library alone (challenge
//!   generation; ES256 signature and client data verification), no database;
//! - `authenticator/sign`: the soft authenticator's work (the client's cost,
//!   not the server's);
//! - `service/start`, `service/finish`: `PasskeyService::start_login` and
//!   `finish_login` on a real database (ceremony row written then deleted,
//!   counter raised, sign-in event, session row, one transaction);
//! - `service/ceremony`: start + finish, the figure docs/performance.md reports.
//!
//! `cargo bench -p sqin-webauthn --bench login` (SQLite in a temporary file;
//! PostgreSQL too when `SQIN_TEST_POSTGRES_URL` is reachable).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::IpAddr;

use criterion::{criterion_group, criterion_main, Criterion};
use sqin_crypto::HmacKey;
use sqin_register::{EnrolmentCodeIssuer, NewCitizen};
use sqin_store::testing::TestDb;
use sqin_store::Store;
use sqin_webauthn::{
    Browser, CodeEntry, Limits, LoginRequest, PasskeyService, RequestChallengeResponse,
};
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::{Passkey, WebauthnBuilder};

const BROWSER: Browser<'static> = Browser("bench-browser-cookie-value");

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn client() -> IpAddr {
    "127.0.0.1".parse().unwrap()
}

struct Setup {
    _db: TestDb,
    store: Store,
    service: PasskeyService,
    key: SoftPasskey,
    origin: Url,
}

async fn setup(db: TestDb) -> Setup {
    let store = db.open().await;
    let origin = Url::parse("http://localhost:8080").unwrap();
    let codes = EnrolmentCodeIssuer::new(HmacKey::from_bytes([1; 32]), 86_400);
    let limits = Limits {
        ceremonies_per_hint: i64::MAX,
        discoverable_per_address: i64::MAX,
        ceremonies_per_address: i64::MAX,
        ..Limits::default()
    };
    let vault = sqin_store::testing::register_vault();
    let service = PasskeyService::new(
        &origin,
        codes.clone(),
        vault.clone(),
        HmacKey::from_bytes([2; 32]),
        limits,
    )
    .unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    let t = now();
    let (_, code) = sqin_register::add_citizen(
        &mut conn,
        &codes,
        &vault,
        NewCitizen {
            register_id: "BENCH-1".into(),
            given_name: "Banc".into(),
            family_name: "Essai".into(),
            birthdate: "1980-01-01".into(),
            ..Default::default()
        },
        t,
    )
    .await
    .unwrap();
    let grant = service
        .verify_code(
            &mut conn,
            BROWSER,
            client(),
            CodeEntry {
                code: code.code.expose(),
                birthdate: "1980-01-01",
                request: None,
            },
            t,
        )
        .await
        .unwrap();
    let started = service
        .start_enrolment(&mut conn, BROWSER, client(), &grant.grant, t)
        .await
        .unwrap();
    let mut key = SoftPasskey::new(true);
    let credential = key
        .do_registration(origin.clone(), started.options)
        .unwrap();
    let verified = service
        .verify_enrolment(&mut conn, BROWSER, &started.ceremony, &credential, t)
        .await
        .unwrap();
    service
        .complete_enrolment(&mut conn, verified, "bench", "bench", t)
        .await
        .unwrap();
    drop(conn);
    Setup {
        _db: db,
        store,
        service,
        key,
        origin,
    }
}

struct Fixture {
    store: Store,
    service: PasskeyService,
    origin: Url,
}

fn bench_library(c: &mut Criterion) {
    // The library alone: one registered passkey, no database.
    let origin = Url::parse("http://localhost:8080").unwrap();
    let webauthn = WebauthnBuilder::new("localhost", &origin)
        .unwrap()
        .build()
        .unwrap();
    let mut key = SoftPasskey::new(true);
    let (ccr, reg) = webauthn
        .start_passkey_registration(uuid::Uuid::from_bytes([7; 16]), "u", "U", None)
        .unwrap();
    let cred = key.do_registration(origin.clone(), ccr).unwrap();
    let passkey: Passkey = webauthn.finish_passkey_registration(&cred, &reg).unwrap();
    let keys = vec![passkey];

    let mut g = c.benchmark_group("webauthn-rs");
    g.bench_function("start", |b| {
        b.iter(|| webauthn.start_passkey_authentication(&keys).unwrap())
    });
    g.bench_function("finish", |b| {
        b.iter_batched(
            || {
                let (rcr, state) = webauthn.start_passkey_authentication(&keys).unwrap();
                let answer = key.do_authentication(origin.clone(), rcr).unwrap();
                (answer, state)
            },
            |(answer, state)| {
                webauthn
                    .finish_passkey_authentication(&answer, &state)
                    .unwrap()
            },
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("authenticator");
    g.bench_function("sign", |b| {
        b.iter_batched(
            || webauthn.start_passkey_authentication(&keys).unwrap().0,
            |rcr| key.do_authentication(origin.clone(), rcr).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn bench_service(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut backends = vec![("sqlite", rt.block_on(TestDb::sqlite()))];
    if let Some(pg) = rt.block_on(TestDb::postgres()) {
        backends.push(("postgres", pg));
    }
    for (name, db) in backends {
        let Setup {
            _db,
            store,
            service,
            mut key,
            origin,
        } = rt.block_on(setup(db));
        let s = Fixture {
            store,
            service,
            origin,
        };
        let mut g = c.benchmark_group(format!("service-{name}"));
        let start = |s: &Fixture| -> (String, RequestChallengeResponse) {
            rt.block_on(async {
                let mut conn = s.store.pool().acquire().await.unwrap();
                let started = s
                    .service
                    .start_login(
                        &mut conn,
                        BROWSER,
                        client(),
                        LoginRequest {
                            register_id: Some("BENCH-1"),
                            ..Default::default()
                        },
                        now(),
                    )
                    .await
                    .unwrap();
                (started.ceremony, started.options)
            })
        };
        g.bench_function("start", |b| b.iter(|| start(&s)));
        g.bench_function("finish", |b| {
            b.iter_batched(
                || {
                    let (ceremony, options) = start(&s);
                    let answer = key.do_authentication(s.origin.clone(), options).unwrap();
                    (ceremony, answer)
                },
                |(ceremony, answer)| {
                    rt.block_on(async {
                        let mut conn = s.store.pool().acquire().await.unwrap();
                        s.service
                            .finish_login(&mut conn, BROWSER, &ceremony, &answer, now())
                            .await
                            .unwrap()
                    })
                },
                criterion::BatchSize::SmallInput,
            )
        });
        // The whole ceremony as the server sees it; the authenticator's
        // signing (measured above) is subtracted by the reader, not here.
        g.bench_function("ceremony", |b| {
            b.iter_custom(|iters| {
                let mut server_time = std::time::Duration::ZERO;
                for _ in 0..iters {
                    let t0 = std::time::Instant::now();
                    let (ceremony, options) = start(&s);
                    server_time += t0.elapsed();
                    let answer = key.do_authentication(s.origin.clone(), options).unwrap();
                    let t1 = std::time::Instant::now();
                    rt.block_on(async {
                        let mut conn = s.store.pool().acquire().await.unwrap();
                        s.service
                            .finish_login(&mut conn, BROWSER, &ceremony, &answer, now())
                            .await
                            .unwrap()
                    });
                    server_time += t1.elapsed();
                }
                server_time
            })
        });
        g.finish();
        drop(_db);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(5));
    targets = bench_library, bench_service
}
criterion_main!(benches);
