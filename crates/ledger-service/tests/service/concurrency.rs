//! Many appenders at once keep one linear log: several connection pools
//! (standing in for several sqin processes, each with its own ledger handle
//! and frontier cache) and many tasks per pool append concurrently, each in
//! its own transaction (queued or placed at once), some of which roll back,
//! while every pool runs a sequencer and signs checkpoints; the result is
//! dense, fork-free and verifies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::atomic::AtomicBool;

use common::*;
use sqin_ledger_service::core::{verify_consistency, SignedCheckpoint};
use sqin_ledger_service::{
    append, append_sequenced, checkpoints, sequence, tree, verify, CheckpointPolicy, VerifyOptions,
};
use sqin_store::testing::TestDb;
use sqin_store::{Backend, Store};

async fn hammer(db: TestDb, pools: usize, tasks_per_pool: usize, appends_per_task: usize) {
    let mut stores = Vec::new();
    for _ in 0..pools {
        let store = Store::open(&db.url).await.unwrap();
        let ledger = open_ledger(&store).await;
        stores.push((store, ledger));
    }
    let mut handles = Vec::new();
    for (p, (store, ledger)) in stores.iter().enumerate() {
        for t in 0..tasks_per_pool {
            let (store, ledger) = (store.clone(), ledger.clone());
            handles.push(tokio::spawn(async move {
                let mut committed = 0u64;
                for i in 0..appends_per_task {
                    let citizen = format!("c{p}-{t}");
                    let mut tx = store.begin().await.unwrap();
                    let e = event(i as u64, &citizen);
                    // Most callers queue; some place their entry in their
                    // own transaction.
                    if (t + i) % 4 == 0 {
                        append_sequenced(&mut tx, &ledger, e, T0 + i as i64)
                            .await
                            .unwrap();
                    } else {
                        append(&mut tx, &ledger, e, T0 + i as i64).await.unwrap();
                    }
                    // Every seventh caller fails after appending.
                    if (p + t + i) % 7 == 0 {
                        tx.rollback().await.unwrap();
                    } else {
                        tx.commit().await.unwrap();
                        committed += 1;
                    }
                }
                committed
            }));
        }
    }
    // Every pool runs a sequencer and signs checkpoints while the appends run.
    let mut signers = Vec::new();
    for (store0, ledger0) in &stores {
        let (store, ledger) = (store0.clone(), ledger0.clone());
        signers.push(tokio::spawn(async move {
            for k in 0..10 {
                let mut conn = store.pool().acquire().await.unwrap();
                checkpoints::publish(&mut conn, &ledger, T0 + k, CheckpointPolicy::IfGrown)
                    .await
                    .unwrap();
                drop(conn);
                tokio::time::sleep(std::time::Duration::from_millis(15)).await;
            }
        }));
        let (store, ledger) = (store0.clone(), ledger0.clone());
        signers.push(tokio::spawn(async move {
            for _ in 0..40 {
                let mut conn = store.pool().acquire().await.unwrap();
                sequence(&mut conn, &ledger).await.unwrap();
                drop(conn);
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }));
    }
    let mut expected = 0;
    for h in handles {
        expected += h.await.unwrap();
    }
    for s in signers {
        s.await.unwrap();
    }
    let (store, ledger) = &stores[0];
    let mut conn = store.pool().acquire().await.unwrap();
    sequence(&mut conn, ledger).await.unwrap();
    // Dense: exactly the committed appends, numbered 0..n.
    let rows = sqin_store::ledger::entries_from(&mut conn, 0, 1_000_000)
        .await
        .unwrap();
    assert_eq!(rows.len() as u64, expected);
    assert!(rows.iter().enumerate().all(|(i, r)| r.seq == i as i64));
    // Linear: every checkpoint extends the previous one.
    checkpoints::publish(&mut conn, ledger, T0 + 100, CheckpointPolicy::IfGrown)
        .await
        .unwrap();
    let history = checkpoints::history(&mut conn, 0, 10_000).await.unwrap();
    assert!(history.len() >= 2);
    for pair in history.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(a.tree_size <= b.tree_size);
        let proof = tree::consistency_proof(&mut conn, a.tree_size, b.tree_size)
            .await
            .unwrap();
        verify_consistency(
            a.tree_size,
            b.tree_size,
            &a.root_hash,
            &b.root_hash,
            &proof.consistency_path,
        )
        .unwrap();
        SignedCheckpoint::parse(&b.note)
            .unwrap()
            .verify(ledger.origin(), &ledger.verifier())
            .unwrap();
    }
    assert_eq!(history.last().unwrap().tree_size, expected);
    // And the whole log verifies: entries, every node, every checkpoint.
    let report = verify::verify_store(
        &mut conn,
        ledger,
        &VerifyOptions::default(),
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
    .await
    .unwrap();
    assert_eq!(report.entries, expected);
    assert_eq!(
        report.nodes_checked,
        2 * expected - u64::from(expected.count_ones())
    );
    assert_eq!(report.checkpoints_verified, history.len());
    for (store, _) in stores {
        store.close().await;
    }
}

sqin_store::both_backends!(
    workers = 4,
    async fn concurrent_appends_keep_one_linear_log(db: TestDb) {
        // PostgreSQL takes more writers (three nodes of eight); SQLite has
        // one writer at a time by design.
        match db.backend {
            Backend::Postgres => hammer(db, 3, 8, 25).await,
            Backend::Sqlite => hammer(db, 2, 4, 20).await,
        }
    }
);
