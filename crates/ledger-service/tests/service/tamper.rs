//! Verification against the real stored log, tampered with directly in the
//! database (triggers dropped first, as an attacker with the database's
//! owner rights would), on SQLite and PostgreSQL. Each case checks that
//! `verify_store` and the offline `verify_export` fail and name the first bad
//! entry, node or checkpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::*;
use sqin_ledger_service::core::{
    leaf_hash, EcdsaNoteSigner, LedgerError, MemoryTree, NodeId, NodeSource, SignedCheckpoint,
};
use sqin_ledger_service::{
    append, checkpoints, CheckpointPolicy, Ledger, LedgerServiceError, VerificationFailure,
    VerifyOptions, VerifyReport,
};
use sqin_store::{both_backends, Store};

fn failure(result: Result<VerifyReport, LedgerServiceError>) -> VerificationFailure {
    match result {
        Err(LedgerServiceError::Verification(f)) => f,
        other => panic!("expected a verification failure, got {other:?}"),
    }
}

/// A log of 40 entries with checkpoints at 10, 30 and 40.
async fn setup(db: &sqin_store::testing::TestDb) -> (Store, Ledger) {
    let store = db.open().await;
    let ledger = open_ledger(&store).await;
    let mut conn = store.pool().acquire().await.unwrap();
    for (n, size) in [(10, 10), (20, 30), (10, 40)] {
        fill(&store, &ledger, n).await;
        let (cp, _) =
            checkpoints::publish(&mut conn, &ledger, T0 + size, CheckpointPolicy::IfGrown)
                .await
                .unwrap();
        assert_eq!(cp.tree_size, size as u64);
    }
    let pinned = VerifyOptions {
        vkey: Some(ledger.vkey().to_owned()),
        ..Default::default()
    };
    let ok = verify_stored(&store, &ledger, &pinned).await.unwrap();
    assert_eq!(ok.entries, 40);
    assert_eq!(ok.checkpoints_verified, 4);
    assert_eq!(ok.latest_checkpoint_size, 40);
    assert_eq!(ok.nodes_checked, 2 * 40 - 2, "every node of a 40-leaf tree");
    assert_eq!(
        verify_exported(&store, &ledger, &pinned).await.unwrap(),
        VerifyReport {
            nodes_checked: 0,
            ..ok
        }
    );
    drop_guards(&store).await;
    (store, ledger)
}

both_backends!(
    async fn an_edited_entry_is_named(db: TestDb) {
        let (store, ledger) = setup(&db).await;
        let (mut bytes, leaf) = entry_bytes(&store, 17).await;
        let at = bytes.len() / 2;
        bytes[at] ^= 0x20;
        set_entry(&store, 17, &bytes, &leaf).await;
        let expected = VerificationFailure::Log(LedgerError::EntryEdited { seq: 17 });
        assert_eq!(
            failure(verify_stored(&store, &ledger, &VerifyOptions::default()).await),
            expected
        );
        assert_eq!(
            failure(verify_exported(&store, &ledger, &VerifyOptions::default()).await),
            expected
        );
        let message = expected.to_string();
        assert!(message.contains("entry 17"), "{message}");
    }
);

both_backends!(
    async fn an_entry_rewritten_with_its_leaf_hash_is_named(db: TestDb) {
        let (store, ledger) = setup(&db).await;
        // A well-formed replacement entry, leaf hash recomputed, tree nodes left.
        let (bytes, _) = entry_bytes(&store, 17).await;
        let text = String::from_utf8(bytes)
            .unwrap()
            .replace("\"time\":", "\"time\":1");
        set_entry(&store, 17, text.as_bytes(), &leaf_hash(text.as_bytes())).await;
        // The database's node for leaf 17 no longer matches: named exactly.
        assert_eq!(
            failure(verify_stored(&store, &ledger, &VerifyOptions::default()).await),
            VerificationFailure::NodeMismatch {
                level: 0,
                index: 17,
                first_entry: 17,
                width: 1
            }
        );
        // Offline, the export alone brackets it between two checkpoints.
        assert_eq!(
            failure(verify_exported(&store, &ledger, &VerifyOptions::default()).await),
            VerificationFailure::Log(LedgerError::CheckpointMismatch {
                size: 30,
                verified_up_to: 10
            })
        );
    }
);

both_backends!(
    async fn a_tampered_tree_node_is_named(db: TestDb) {
        let (store, ledger) = setup(&db).await;
        // Rewriting a stored node (so the proofs served would lie) is caught
        // on the database, naming the node and the entries it covers.
        set_node(&store, 2, 3, &[9u8; 32]).await;
        assert_eq!(
            failure(verify_stored(&store, &ledger, &VerifyOptions::default()).await),
            VerificationFailure::NodeMismatch {
                level: 2,
                index: 3,
                first_entry: 12,
                width: 4
            }
        );
        // Put it back, and delete a later node instead.
        let mut conn = store.pool().acquire().await.unwrap();
        let leaves = sqin_store::ledger::entries_from(&mut conn, 0, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.leaf_hash.try_into().unwrap());
        let tree = MemoryTree::from_leaves(leaves);
        let good = tree.node(NodeId::new(2, 3)).unwrap();
        set_node(&store, 2, 3, &good).await;
        verify_stored(&store, &ledger, &VerifyOptions::default())
            .await
            .unwrap();
        exec(
            &store,
            "DELETE FROM ledger_nodes WHERE level = 3 AND idx = 2",
        )
        .await;
        assert_eq!(
            failure(verify_stored(&store, &ledger, &VerifyOptions::default()).await),
            VerificationFailure::NodeMissing { level: 3, index: 2 }
        );
    }
);

both_backends!(
    async fn a_deleted_entry_is_named(db: TestDb) {
        let (store, ledger) = setup(&db).await;
        exec(&store, "DELETE FROM ledger_entries WHERE seq = 23").await;
        let expected = VerificationFailure::Log(LedgerError::EntriesMissing {
            expected: 23,
            found: 24,
        });
        assert_eq!(
            failure(verify_stored(&store, &ledger, &VerifyOptions::default()).await),
            expected
        );
        assert_eq!(
            failure(verify_exported(&store, &ledger, &VerifyOptions::default()).await),
            expected
        );
    }
);

both_backends!(
    async fn a_reordered_pair_is_named(db: TestDb) {
        let (store, ledger) = setup(&db).await;
        let (e5, h5) = entry_bytes(&store, 5).await;
        let (e6, h6) = entry_bytes(&store, 6).await;
        set_entry(&store, 5, &e6, &h6).await;
        set_entry(&store, 6, &e5, &h5).await;
        let expected = VerificationFailure::Log(LedgerError::EntriesReordered {
            expected: 5,
            found: 6,
        });
        assert_eq!(
            failure(verify_stored(&store, &ledger, &VerifyOptions::default()).await),
            expected
        );
        assert_eq!(
            failure(verify_exported(&store, &ledger, &VerifyOptions::default()).await),
            expected
        );
    }
);

both_backends!(
    async fn a_truncated_tail_is_caught_by_an_older_checkpoint(db: TestDb) {
        let (store, ledger) = setup(&db).await;
        let mut conn = store.pool().acquire().await.unwrap();
        // The reviewer fetched the checkpoint at 30 last week.
        let held = checkpoints::history(&mut conn, 0, 100)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.tree_size == 30)
            .unwrap()
            .note;
        // The tail is deleted, and with it the checkpoints that covered it.
        exec(&store, "DELETE FROM ledger_entries WHERE seq >= 25").await;
        let expected = VerificationFailure::Log(LedgerError::LogTruncated {
            entries: 25,
            size: 30,
        });
        assert_eq!(
            failure(verify_stored(&store, &ledger, &VerifyOptions::default()).await),
            expected
        );
        exec(
            &store,
            "DELETE FROM ledger_checkpoints WHERE tree_size > 25",
        )
        .await;
        // Now the database alone looks consistent ...
        verify_stored(&store, &ledger, &VerifyOptions::default())
            .await
            .unwrap();
        // ... but not to a reviewer holding an older checkpoint.
        let with_held = VerifyOptions {
            checkpoints: vec![held],
            vkey: Some(ledger.vkey().to_owned()),
            ..Default::default()
        };
        assert_eq!(
            failure(verify_stored(&store, &ledger, &with_held).await),
            expected
        );
        assert_eq!(
            failure(verify_exported(&store, &ledger, &with_held).await),
            expected
        );
    }
);

both_backends!(
    async fn a_rewritten_tail_is_caught_by_an_older_checkpoint(db: TestDb) {
        let (store, ledger) = setup(&db).await;
        let mut conn = store.pool().acquire().await.unwrap();
        let held = checkpoints::history(&mut conn, 0, 100)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.tree_size == 30)
            .unwrap()
            .note;
        // An insider with the KEK rewrites history from entry 20 on: deletes
        // the entries, the nodes that cover them and the checkpoints, appends
        // different entries through the normal path and signs fresh
        // checkpoints with the real key.
        exec(&store, "DELETE FROM ledger_entries WHERE seq >= 20").await;
        let nodes: Vec<(i64, i64)> = sqlx::query_as("SELECT level, idx FROM ledger_nodes")
            .fetch_all(store.pool())
            .await
            .unwrap();
        for (level, idx) in nodes {
            if (idx + 1) << level > 20 {
                sqlx::query("DELETE FROM ledger_nodes WHERE level = $1 AND idx = $2")
                    .bind(level)
                    .bind(idx)
                    .execute(store.pool())
                    .await
                    .unwrap();
            }
        }
        exec(
            &store,
            "DELETE FROM ledger_checkpoints WHERE tree_size > 19",
        )
        .await;
        for i in 0..20 {
            append(
                &mut conn,
                &ledger,
                event(i, "someone-else"),
                T0 + 1000 + i as i64,
            )
            .await
            .unwrap();
        }
        checkpoints::publish(&mut conn, &ledger, T0 + 2000, CheckpointPolicy::Always)
            .await
            .unwrap();
        // The rewritten database verifies on its own: only an outside
        // checkpoint can tell, which is why checkpoints are published.
        let alone = verify_stored(&store, &ledger, &VerifyOptions::default())
            .await
            .unwrap();
        assert_eq!(alone.entries, 40);
        let with_held = VerifyOptions {
            checkpoints: vec![held],
            vkey: Some(ledger.vkey().to_owned()),
            ..Default::default()
        };
        let expected = VerificationFailure::Log(LedgerError::CheckpointMismatch {
            size: 30,
            verified_up_to: 10,
        });
        assert_eq!(
            failure(verify_stored(&store, &ledger, &with_held).await),
            expected
        );
        assert_eq!(
            failure(verify_exported(&store, &ledger, &with_held).await),
            expected
        );
        // And the running server refuses to sign a checkpoint that does not
        // extend one it signed before: re-inserting the held checkpoint (as a
        // restored backup of the checkpoint table would) blocks signing.
        let parsed = SignedCheckpoint::parse(&with_held.checkpoints[0]).unwrap();
        sqin_store::ledger::insert_checkpoint(
            &mut conn,
            30,
            &parsed.checkpoint().root,
            &with_held.checkpoints[0],
            T0 + 3000,
        )
        .await
        .unwrap();
        let refused =
            checkpoints::publish(&mut conn, &ledger, T0 + 3001, CheckpointPolicy::Always).await;
        assert!(
            matches!(&refused, Err(LedgerServiceError::Corrupt(m)) if m.contains("does not extend")),
            "{refused:?}"
        );
    }
);

both_backends!(
    async fn a_forged_checkpoint_signature_is_named(db: TestDb) {
        let (store, ledger) = setup(&db).await;
        let mut conn = store.pool().acquire().await.unwrap();
        let genuine = checkpoints::latest(&mut conn).await.unwrap();
        // A checkpoint with the log's name and key id but a signature made by
        // another key (the signature bytes are replaced).
        let other =
            EcdsaNoteSigner::from_pkcs8(ORIGIN, &EcdsaNoteSigner::generate_pkcs8().unwrap())
                .unwrap();
        let forged_body = sqin_ledger_service::core::Checkpoint {
            origin: ORIGIN.into(),
            size: 40,
            root: [1u8; 32],
        };
        let forged = SignedCheckpoint::sign(forged_body, &other)
            .unwrap()
            .to_note_text();
        let genuine_sig_line = genuine.note.lines().nth(4).unwrap();
        let key_prefix: String = genuine_sig_line
            .split(' ')
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        let forged_sig = forged.lines().nth(4).unwrap().split(' ').nth(2).unwrap();
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let genuine_blob = b64
            .decode(genuine_sig_line.split(' ').nth(2).unwrap())
            .unwrap();
        let forged_blob = b64.decode(forged_sig).unwrap();
        let mut blob = genuine_blob[..4].to_vec();
        blob.extend_from_slice(&forged_blob[4..]);
        let body: String = forged.lines().take(3).map(|l| format!("{l}\n")).collect();
        let note = format!("{body}\n{key_prefix} {}\n", b64.encode(blob));
        sqin_store::ledger::insert_checkpoint(&mut conn, 40, &[1u8; 32], &note, T0 + 99)
            .await
            .unwrap();
        let expected_size = 40;
        for result in [
            verify_stored(&store, &ledger, &VerifyOptions::default()).await,
            verify_exported(&store, &ledger, &VerifyOptions::default()).await,
        ] {
            match failure(result) {
                VerificationFailure::Log(LedgerError::CheckpointRejected { size, reason }) => {
                    assert_eq!(size, expected_size);
                    assert!(
                        matches!(*reason, LedgerError::BadSignature { .. }),
                        "{reason:?}"
                    );
                }
                other => panic!("{other:?}"),
            }
        }
        // A note whose columns were changed but not its text is named by id.
        exec(
            &store,
            "DELETE FROM ledger_checkpoints WHERE created_at = 1767225699",
        )
        .await;
        let row_id = genuine.id;
        sqlx::query("UPDATE ledger_checkpoints SET tree_size = 39 WHERE id = $1")
            .bind(row_id)
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(
            failure(verify_stored(&store, &ledger, &VerifyOptions::default()).await),
            VerificationFailure::CheckpointDamaged {
                id: row_id,
                reason: "its size or root column differs from its signed note".into()
            }
        );
        // A checkpoint brought by the reviewer but signed by someone else is
        // rejected too; so is a verifier key that is not the log's.
        sqlx::query("UPDATE ledger_checkpoints SET tree_size = 40 WHERE id = $1")
            .bind(row_id)
            .execute(store.pool())
            .await
            .unwrap();
        let brought = VerifyOptions {
            checkpoints: vec![note],
            ..Default::default()
        };
        assert!(matches!(
            failure(verify_stored(&store, &ledger, &brought).await),
            VerificationFailure::Log(LedgerError::CheckpointRejected { size: 40, .. })
        ));
        let wrong_key = VerifyOptions {
            vkey: Some(other.vkey()),
            ..Default::default()
        };
        assert!(matches!(
            failure(verify_stored(&store, &ledger, &wrong_key).await),
            VerificationFailure::Log(LedgerError::CheckpointRejected { .. })
        ));
    }
);
