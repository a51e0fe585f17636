//! Destruction by code on SQLite and PostgreSQL: the retention purge shreds
//! exactly the keys past retention, logs itself, can be interrupted and
//! resumed, and leaves every proof valid; deleting an account shreds the
//! citizen's part the same way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use sqin_ledger_service::core::{verify_consistency, EcdsaNoteVerifier, SignedCheckpoint};
use sqin_ledger_service::history::{self, HistoryFilter};
use sqin_ledger_service::{
    append, checkpoints, purge, tree, verify, CheckpointPolicy, EntryKind, Housekeeping, Ledger,
    LedgerEvent, VerifyOptions,
};
use sqin_store::{both_backends, Store};

const DAY: i64 = 86_400;

fn sign_in(citizen: &str) -> LedgerEvent {
    LedgerEvent::SignIn {
        citizen_id: citizen.into(),
        client_id: Some("famille".into()),
        acr: "urn:sqin:loa:substantial".into(),
        amr: vec!["hwk".into()],
        passkey: None,
    }
}

/// Every entry of the log proves itself against a fresh checkpoint, and the
/// checkpoint extends `before`.
async fn all_proofs_verify(
    store: &Store,
    ledger: &Ledger,
    before_size: u64,
    before_root: [u8; 32],
    now: i64,
) {
    let mut conn = store.pool().acquire().await.unwrap();
    let (cp, _) = checkpoints::publish(&mut conn, ledger, now, CheckpointPolicy::IfGrown)
        .await
        .unwrap();
    let verifier = EcdsaNoteVerifier::from_vkey(&ledger.vkey()).unwrap();
    let note = SignedCheckpoint::parse(&cp.note).unwrap();
    let trusted = note.verify(ledger.origin(), &verifier).unwrap().clone();
    let seqs: Vec<u64> = (0..trusted.size).collect();
    for proof in tree::inclusion_proofs(&mut conn, &seqs, trusted.size)
        .await
        .unwrap()
    {
        proof.verify(&trusted.root).unwrap();
    }
    let consistency = tree::consistency_proof(&mut conn, before_size, trusted.size)
        .await
        .unwrap();
    verify_consistency(
        before_size,
        trusted.size,
        &before_root,
        &trusted.root,
        &consistency.consistency_path,
    )
    .unwrap();
    verify::verify_store(
        &mut conn,
        ledger,
        &VerifyOptions {
            vkey: Some(ledger.vkey().to_owned()),
            ..Default::default()
        },
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
    .await
    .unwrap();
}

both_backends!(
    async fn purge_shreds_only_what_is_past_retention(db: TestDb) {
        let store = db.open().await;
        let ledger = open_ledger(&store).await;
        let mut conn = store.pool().acquire().await.unwrap();
        // Old: sign-ins (1 year retention) and a disclosure (5 years).
        for citizen in ["alice", "bob", "carol"] {
            append(&mut conn, &ledger, sign_in(citizen), T0)
                .await
                .unwrap();
        }
        append(
            &mut conn,
            &ledger,
            disclosure("alice", "famille", &["email"]),
            T0 + 5,
        )
        .await
        .unwrap();
        // Recent: a sign-in well within retention.
        let recent = T0 + 400 * DAY;
        append(&mut conn, &ledger, sign_in("alice"), recent)
            .await
            .unwrap();
        let (before, _) =
            checkpoints::publish(&mut conn, &ledger, recent, CheckpointPolicy::IfGrown)
                .await
                .unwrap();
        let now = recent + 3600;

        let due = purge::due(&mut conn, &ledger, now).await.unwrap();
        assert_eq!(
            due.into_iter().collect::<Vec<_>>(),
            vec![(EntryKind::SignIn, 3)]
        );

        // Ctrl-C before the first batch: nothing happens.
        let cancel = AtomicBool::new(true);
        let report = purge::purge(&mut conn, &ledger, now, 100, &mut |_, _| {}, &cancel)
            .await
            .unwrap();
        assert!(report.interrupted);
        assert_eq!(report.total(), 0);

        // Ctrl-C after the first batch of one key: that batch is done and
        // logged, the rest waits.
        let cancel = AtomicBool::new(false);
        let mut seen = Vec::new();
        let report = purge::purge(
            &mut conn,
            &ledger,
            now,
            1,
            &mut |done, total| {
                seen.push((done, total));
                cancel.store(true, Ordering::Relaxed);
            },
            &cancel,
        )
        .await
        .unwrap();
        assert!(report.interrupted);
        assert_eq!(report.total(), 1);
        assert_eq!(report.entries.len(), 1);
        assert_eq!(seen, vec![(1, 3)]);

        // Resumed: the remaining two.
        let report = purge::purge(
            &mut conn,
            &ledger,
            now,
            100,
            &mut |_, _| {},
            &AtomicBool::new(false),
        )
        .await
        .unwrap();
        assert!(!report.interrupted);
        assert_eq!(report.keys.get(&EntryKind::SignIn), Some(&2));
        assert_eq!(report.entries.len(), 1);
        // Nothing left to do.
        let again = purge::purge(
            &mut conn,
            &ledger,
            now,
            100,
            &mut |_, _| {},
            &AtomicBool::new(false),
        )
        .await
        .unwrap();
        assert_eq!(again.total(), 0);
        assert!(again.entries.is_empty());

        // Alice's old sign-in is shredded, her disclosure and recent sign-in
        // are intact.
        let view = history::download(&mut conn, &ledger, "alice", &HistoryFilter::default(), now)
            .await
            .unwrap();
        let summary: Vec<(EntryKind, bool)> =
            view.entries.iter().map(|e| (e.kind, e.shredded)).collect();
        assert_eq!(
            summary,
            vec![
                (EntryKind::SignIn, true),
                (EntryKind::Disclosure, false),
                (EntryKind::SignIn, false)
            ]
        );
        assert!(view.entries[0].details.is_none());
        // The purge is itself in the log, naming the keys it destroyed, and
        // they are exactly the keys of the shredded entries.
        let rows = sqin_store::ledger::entries_from(&mut conn, 0, 100)
            .await
            .unwrap();
        let mut destroyed = Vec::new();
        for row in &rows {
            let entry = sqin_ledger_service::entry::Entry::decode(&row.entry).unwrap();
            if let Some(Housekeeping::RetentionPurge {
                purged_kind,
                retention_days,
                keys,
                ..
            }) = entry.details
            {
                assert_eq!(purged_kind, EntryKind::SignIn);
                assert_eq!(retention_days, 365);
                destroyed.extend(keys);
            }
        }
        destroyed.sort();
        let mut old_keys: Vec<String> = rows
            .iter()
            .filter(|r| r.kind == "sign_in" && r.created_at == T0)
            .map(|r| r.data_key_id.clone().unwrap())
            .collect();
        old_keys.sort();
        assert_eq!(destroyed, old_keys);

        // Every proof still verifies, and the log only grew.
        all_proofs_verify(&store, &ledger, before.tree_size, before.root_hash, now).await;
    }
);

both_backends!(
    async fn deleting_an_account_shreds_the_citizens_part(db: TestDb) {
        let store = db.open().await;
        let ledger = open_ledger(&store).await;
        let mut conn = store.pool().acquire().await.unwrap();
        for i in 0..12 {
            append(&mut conn, &ledger, event(i, "alice"), T0 + i as i64)
                .await
                .unwrap();
            append(&mut conn, &ledger, event(i, "bob"), T0 + i as i64)
                .await
                .unwrap();
        }
        let (before, _) =
            checkpoints::publish(&mut conn, &ledger, T0 + 20, CheckpointPolicy::IfGrown)
                .await
                .unwrap();
        // In the account deletion's transaction; rolled back, nothing happens.
        let mut tx = store.begin().await.unwrap();
        purge::shred_citizen(&mut tx, &ledger, "alice", T0 + 30)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        let view = history::download(
            &mut conn,
            &ledger,
            "alice",
            &HistoryFilter::default(),
            T0 + 31,
        )
        .await
        .unwrap();
        assert!(view.entries.iter().all(|e| !e.shredded));

        let mut tx = store.begin().await.unwrap();
        let report = purge::shred_citizen(&mut tx, &ledger, "alice", T0 + 40)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(report.keys_destroyed, 12, "one key per kind and period");
        let view = history::download(
            &mut conn,
            &ledger,
            "alice",
            &HistoryFilter::default(),
            T0 + 41,
        )
        .await
        .unwrap();
        assert_eq!(view.entries.len(), 13);
        assert!(view.entries[..12]
            .iter()
            .all(|e| e.shredded && e.details.is_none()));
        assert_eq!(view.entries[12].kind, EntryKind::AccountShredded);
        // Bob is untouched.
        let bob = history::download(
            &mut conn,
            &ledger,
            "bob",
            &HistoryFilter::default(),
            T0 + 41,
        )
        .await
        .unwrap();
        assert!(bob
            .entries
            .iter()
            .all(|e| !e.shredded && e.details.is_some()));
        all_proofs_verify(&store, &ledger, before.tree_size, before.root_hash, T0 + 50).await;
    }
);

both_backends!(
    async fn a_key_shredded_by_another_node_is_never_used_again(db: TestDb) {
        let store = db.open().await;
        // Two processes on one database: each caches the keys it used.
        let node_a = open_ledger(&store).await;
        let node_b = open_ledger(&store).await;
        let mut conn = store.pool().acquire().await.unwrap();
        append(&mut conn, &node_a, sign_in("alice"), T0)
            .await
            .unwrap();
        append(&mut conn, &node_a, sign_in("alice"), T0 + 1)
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        let report = purge::shred_citizen(&mut tx, &node_b, "alice", T0 + 2)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(report.keys_destroyed, 1);
        // Node A still holds the destroyed key in memory, in the same period:
        // the append must notice and seal under a new key.
        append(&mut conn, &node_a, sign_in("alice"), T0 + 3)
            .await
            .unwrap();
        let view = history::download(
            &mut conn,
            &node_a,
            "alice",
            &HistoryFilter::default(),
            T0 + 4,
        )
        .await
        .unwrap();
        let kinds: Vec<_> = view.entries.iter().map(|e| (e.kind, e.shredded)).collect();
        assert_eq!(
            kinds,
            vec![
                (EntryKind::SignIn, true),
                (EntryKind::SignIn, true),
                (EntryKind::AccountShredded, false),
                (EntryKind::SignIn, false),
            ]
        );
        assert!(view.entries[3].details.is_some());
    }
);
