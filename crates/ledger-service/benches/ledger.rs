//! Consent ledger throughput on SQLite and PostgreSQL:
//!
//! ```text
//! cargo bench -p sqin-ledger-service --bench ledger
//! SQIN_BENCH_ENTRIES=200000 cargo bench -p sqin-ledger-service --bench ledger
//! ```
//!
//! - appends per second, one transaction per append (as the OpenID Provider
//!   does), with one writer and with 16 concurrent writers (two pools on
//!   PostgreSQL, standing in for two nodes): queued (`append`, the default)
//!   and placed in the caller's transaction (`append_sequenced`), next to the
//!   same transactions without the ledger (one INSERT and a commit);
//! - the sequencer's rate (queued entries placed per second);
//! - inclusion and consistency proofs per second from the stored nodes;
//! - verification speed (entries per second) of the whole stored log and of
//!   an export.
//!
//! PostgreSQL runs when `SQIN_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) is reachable; each backend gets
//! a fresh database. Results go to standard output as Markdown table rows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use sqin_crypto::KeyEncryptionKey;
use sqin_ledger_service::{
    append, append_sequenced, export, sequence, tree, verify, DisclosureEndpoint, Ledger,
    LedgerEvent, LedgerSettings, VerifyOptions,
};
use sqin_store::testing::TestDb;
use sqin_store::{Backend, Store};

const T0: i64 = 1_767_225_600;

static NEXT_ID: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

fn event(i: u64) -> LedgerEvent {
    LedgerEvent::Disclosure {
        citizen_id: format!("citizen-{}", i % 5000),
        client_id: "famille".into(),
        consent_id: Some("consent-1".into()),
        grant_id: Some(format!("grant-{i}")),
        endpoint: DisclosureEndpoint::IdToken,
        claims: vec![
            "given_name".into(),
            "family_name".into(),
            "birthdate".into(),
        ],
    }
}

async fn ledger(store: &Store) -> Ledger {
    let kek = KeyEncryptionKey::from_bytes(&[7u8; 32]).unwrap();
    Ledger::open(store, &kek, LedgerSettings::new("bench.example/ledger"), T0)
        .await
        .unwrap()
}

fn row(backend: Backend, what: &str, n: u64, elapsed: Duration, unit: &str) {
    let rate = n as f64 / elapsed.as_secs_f64();
    println!(
        "| {:<10} | {:<52} | {:>9} | {:>12.0} {unit}/s | {:>8.3} ms |",
        format!("{backend:?}"),
        what,
        n,
        rate,
        elapsed.as_secs_f64() * 1000.0 / n as f64
    );
}

/// `per_writer` appends from each of `writers` tasks spread over the pools,
/// each in its own committed transaction; queued (`append`) or placed in the
/// transaction (`append_sequenced`).
async fn writers(
    pools: &[(Store, Ledger)],
    writers: usize,
    per_writer: u64,
    queued: bool,
) -> Duration {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (store, ledger) = pools[w % pools.len()].clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                let mut tx = store.begin().await.unwrap();
                let e = event(w as u64 * 1_000_000 + i);
                if queued {
                    append(&mut tx, &ledger, e, T0).await.unwrap();
                } else {
                    append_sequenced(&mut tx, &ledger, e, T0).await.unwrap();
                }
                tx.commit().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

/// Places everything queued; returns how many and how long it took.
async fn drain(store: &Store, ledger: &Ledger) -> (u64, Duration) {
    let mut conn = store.pool().acquire().await.unwrap();
    let start = Instant::now();
    let placed = sequence(&mut conn, ledger).await.unwrap();
    (placed, start.elapsed())
}

/// Fills the log quickly (many appends per transaction) to `target` entries.
async fn fill_to(store: &Store, ledger: &Ledger, target: u64) {
    let mut conn = store.pool().acquire().await.unwrap();
    let mut size = tree::tree_size(&mut conn).await.unwrap();
    drop(conn);
    while size < target {
        let mut tx = store.begin().await.unwrap();
        let chunk = (target - size).min(1000);
        for i in 0..chunk {
            append(&mut tx, ledger, event(size + i), T0).await.unwrap();
        }
        tx.commit().await.unwrap();
        drain(store, ledger).await;
        size += chunk;
    }
}

/// The same transactions without the ledger: one INSERT of a row of the
/// same size and a commit. What the database costs anyway.
async fn baseline(pools: &[(Store, Ledger)], writers: usize, per_writer: u64) -> Duration {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = pools[w % pools.len()].0.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                let mut tx = store.begin().await.unwrap();
                let _ = i;
                sqlx::query("INSERT INTO bench_baseline (id, body) VALUES ($1, $2)")
                    .bind(NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                    .bind(vec![7u8; 400])
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

async fn run(db: TestDb, entries: u64) {
    let backend = db.backend;
    let store = db.open().await;
    let ledger = ledger(&store).await;
    let blob = if backend == Backend::Sqlite {
        "BLOB"
    } else {
        "BYTEA"
    };
    sqlx::query(&format!(
        "CREATE TABLE bench_baseline (id BIGINT PRIMARY KEY, body {blob} NOT NULL)"
    ))
    .execute(store.pool())
    .await
    .unwrap();
    let single = [(store.clone(), ledger.clone())];
    let elapsed = baseline(&single, 1, 2000).await;
    row(
        backend,
        "baseline: INSERT + commit, 1 writer (no ledger)",
        2000,
        elapsed,
        "commits",
    );

    let n = 2000;
    let single = [(store.clone(), ledger.clone())];
    let elapsed = writers(&single, 1, n, true).await;
    row(
        backend,
        "append (queued), 1 writer, 1 transaction each",
        n,
        elapsed,
        "appends",
    );
    let (placed, elapsed) = drain(&store, &ledger).await;
    row(
        backend,
        "sequencer: place queued entries (batches of 1000)",
        placed,
        elapsed,
        "entries",
    );
    let elapsed = writers(&single, 1, n, false).await;
    row(
        backend,
        "append_sequenced, 1 writer, 1 transaction each",
        n,
        elapsed,
        "appends",
    );

    let pools = match backend {
        Backend::Sqlite => vec![(store.clone(), ledger.clone())],
        Backend::Postgres => {
            let other = Store::open(&db.url).await.unwrap();
            let other_ledger = sqin_ledger_service::Ledger::open(
                &other,
                &KeyEncryptionKey::from_bytes(&[7u8; 32]).unwrap(),
                LedgerSettings::new("bench.example/ledger"),
                T0,
            )
            .await
            .unwrap();
            vec![(store.clone(), ledger.clone()), (other, other_ledger)]
        }
    };
    let writers = 16;
    let per = 250;
    let elapsed = baseline(&pools, writers, per).await;
    row(
        backend,
        &format!("baseline: INSERT + commit, {writers} writers (no ledger)"),
        writers as u64 * per,
        elapsed,
        "commits",
    );
    let elapsed = self::writers(&pools, writers, per, true).await;
    row(
        backend,
        &format!(
            "append (queued), {writers} writers, {} pool(s)",
            pools.len()
        ),
        writers as u64 * per,
        elapsed,
        "appends",
    );
    let (placed, elapsed) = drain(&store, &ledger).await;
    row(
        backend,
        "sequencer: place queued entries (batches of 1000)",
        placed,
        elapsed,
        "entries",
    );
    let elapsed = self::writers(&pools, writers, per, false).await;
    row(
        backend,
        &format!(
            "append_sequenced, {writers} writers, {} pool(s)",
            pools.len()
        ),
        writers as u64 * per,
        elapsed,
        "appends",
    );

    let before = {
        let mut conn = store.pool().acquire().await.unwrap();
        tree::tree_size(&mut conn).await.unwrap()
    };
    let start = Instant::now();
    fill_to(&store, &ledger, entries).await;
    let mut conn = store.pool().acquire().await.unwrap();
    let size = tree::tree_size(&mut conn).await.unwrap();
    if size > before {
        row(
            backend,
            "fill: append 1000 per transaction + sequence",
            size - before,
            start.elapsed(),
            "entries",
        );
    }

    // Proofs: pseudo-random entries against the full size.
    let proofs = 2000u64;
    let start = Instant::now();
    for i in 0..proofs {
        let seq = (i * 7_919 + 13) % size;
        let p = tree::inclusion_proof(&mut conn, seq, size).await.unwrap();
        assert_eq!(p.tree_size, size);
    }
    row(
        backend,
        "inclusion proof (one query)",
        proofs,
        start.elapsed(),
        "proofs",
    );
    let start = Instant::now();
    for i in 0..proofs {
        let old = 1 + (i * 104_729) % (size - 1);
        tree::consistency_proof(&mut conn, old, size).await.unwrap();
    }
    row(
        backend,
        "consistency proof (one query)",
        proofs,
        start.elapsed(),
        "proofs",
    );
    let seqs: Vec<u64> = (0..1000).map(|i| (i * 7_919 + 13) % size).collect();
    let start = Instant::now();
    let batch = tree::inclusion_proofs(&mut conn, &seqs, size)
        .await
        .unwrap();
    assert_eq!(batch.len(), 1000);
    row(
        backend,
        "inclusion proofs, 1000 in one batch (download)",
        1000,
        start.elapsed(),
        "proofs",
    );

    // Verification of everything stored: entries, nodes, checkpoints.
    sqin_ledger_service::checkpoints::publish(
        &mut conn,
        &ledger,
        T0,
        sqin_ledger_service::CheckpointPolicy::Always,
    )
    .await
    .unwrap();
    let never = AtomicBool::new(false);
    let start = Instant::now();
    let report = verify::verify_store(
        &mut conn,
        &ledger,
        &VerifyOptions::default(),
        &mut |_, _| {},
        &never,
    )
    .await
    .unwrap();
    row(
        backend,
        "verify the stored log (entries + nodes)",
        report.entries,
        start.elapsed(),
        "entries",
    );

    let mut out = Vec::new();
    let start = Instant::now();
    export::export(&mut conn, &ledger, &mut out, T0, &mut |_, _| {}, &never)
        .await
        .unwrap();
    row(backend, "export", size, start.elapsed(), "entries");
    let start = Instant::now();
    let report = verify::verify_export(
        out.as_slice(),
        &VerifyOptions::default(),
        &mut |_, _| {},
        &never,
    )
    .unwrap();
    row(
        backend,
        "verify an export offline",
        report.entries,
        start.elapsed(),
        "entries",
    );
    println!(
        "| {:<10} | {:<52} | {:>9} | {:>12} | |",
        format!("{backend:?}"),
        "export size",
        size,
        format!("{:.0} B/entry", out.len() as f64 / size as f64)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too,
    // with a small log so the suite stays fast.
    let quick = !std::env::args().any(|a| a == "--bench");
    let entries: u64 = std::env::var("SQIN_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 6000 } else { 100_000 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!("| backend    | operation                                            |         n |         rate       | per op      |");
        println!("| ---------- | ---------------------------------------------------- | --------- | ------------------ | ----------- |");
        run(TestDb::sqlite().await, entries).await;
        if let Some(db) = TestDb::postgres().await {
            run(db, entries).await;
        }
    });
}
