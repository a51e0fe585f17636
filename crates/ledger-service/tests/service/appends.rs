//! The ledger service on SQLite and PostgreSQL: appends in the caller's
//! transaction, roots and proofs from the stored nodes against a reference
//! computation, checkpoints, privacy of what enters the log, the citizen's
//! views, export and verification.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::atomic::AtomicBool;

use common::*;
use sqin_ledger_service::core::{
    leaf_hash, node_hash, verify_consistency, EcdsaNoteVerifier, Hash, SignedCheckpoint, EMPTY_ROOT,
};
use sqin_ledger_service::history::{self, HistoryFilter};
use sqin_ledger_service::{
    append, append_sequenced, checkpoints, export, sequence, tree, verify, Category,
    CheckpointPolicy, EntryId, EntryKind, LedgerEvent, LedgerServiceError, VerifyOptions,
};
use sqin_store::both_backends;

/// RFC 9162 MTH, straight from the definition.
fn reference_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
        }
    }
}

async fn leaves(store: &sqin_store::Store) -> Vec<Hash> {
    let mut conn = store.pool().acquire().await.unwrap();
    sqin_store::ledger::entries_from(&mut conn, 0, 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            assert_eq!(leaf_hash(&r.entry).as_slice(), r.leaf_hash.as_slice());
            r.leaf_hash.try_into().unwrap()
        })
        .collect()
}

both_backends!(
    async fn appends_are_dense_and_every_proof_matches_the_reference(db: TestDb) {
        let store = db.open().await;
        let ledger = open_ledger(&store).await;
        const N: u64 = 37;
        let ids = fill(&store, &ledger, N).await;
        assert_eq!(ids, (0..N).map(EntryId).collect::<Vec<_>>());
        let leaves = leaves(&store).await;
        let mut conn = store.pool().acquire().await.unwrap();
        assert_eq!(tree::tree_size(&mut conn).await.unwrap(), N);
        for size in 0..=N {
            let reference = reference_root(&leaves[..size as usize]);
            assert_eq!(
                tree::root_at(&mut conn, size).await.unwrap(),
                reference,
                "root at {size}"
            );
            for index in 0..size {
                let proof = tree::inclusion_proof(&mut conn, index, size).await.unwrap();
                assert_eq!(proof.leaf_hash, leaves[index as usize]);
                proof.verify(&reference).unwrap();
                // A tampered proof fails.
                if let Some(first) = proof.inclusion_path.first() {
                    let mut bad = proof.clone();
                    bad.inclusion_path[0] = node_hash(first, first);
                    assert!(bad.verify(&reference).is_err());
                }
            }
            for old in 0..=size {
                let proof = tree::consistency_proof(&mut conn, old, size).await.unwrap();
                let old_root = reference_root(&leaves[..old as usize]);
                verify_consistency(old, size, &old_root, &reference, &proof.consistency_path)
                    .unwrap();
                if 0 < old && old < size {
                    let mut bad = proof.consistency_path.clone();
                    bad[0][0] ^= 1;
                    assert!(verify_consistency(old, size, &old_root, &reference, &bad).is_err());
                }
            }
        }
        // Sizes beyond the log are refused, not invented.
        assert!(matches!(
            tree::inclusion_proof(&mut conn, 0, N + 1).await,
            Err(LedgerServiceError::InvalidRequest(_))
        ));
        assert!(matches!(
            tree::consistency_proof(&mut conn, 3, N + 1).await,
            Err(LedgerServiceError::InvalidRequest(_))
        ));
        assert!(matches!(
            tree::inclusion_proof(&mut conn, N, N).await,
            Err(LedgerServiceError::InvalidRequest(_))
        ));
    }
);

both_backends!(
    async fn proofs_for_random_sizes_of_a_larger_log_match_the_reference(db: TestDb) {
        let store = db.open().await;
        let ledger = open_ledger(&store).await;
        // 1100 entries, queued in a few big transactions, then sequenced.
        for chunk in 0..11u64 {
            let mut tx = store.begin().await.unwrap();
            for i in 0..100 {
                let n = chunk * 100 + i;
                append(
                    &mut tx,
                    &ledger,
                    event(n, &format!("c{}", n % 17)),
                    T0 + n as i64,
                )
                .await
                .unwrap();
            }
            tx.commit().await.unwrap();
        }
        let mut conn = store.pool().acquire().await.unwrap();
        assert_eq!(sequence(&mut conn, &ledger).await.unwrap(), 1100);
        let leaves = leaves_of(&mut conn).await;
        // A fixed-seed generator: reproducible, no dependency.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |bound: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % bound
        };
        for _ in 0..150 {
            let size = 1 + next(1100);
            let root = reference_root(&leaves[..size as usize]);
            assert_eq!(tree::root_at(&mut conn, size).await.unwrap(), root);
            let index = next(size);
            tree::inclusion_proof(&mut conn, index, size)
                .await
                .unwrap()
                .verify(&root)
                .unwrap();
            let old = next(size + 1);
            let proof = tree::consistency_proof(&mut conn, old, size).await.unwrap();
            let old_root = reference_root(&leaves[..old as usize]);
            verify_consistency(old, size, &old_root, &root, &proof.consistency_path).unwrap();
            // A proof for another size does not pass for this one.
            if old > 0 && old < size {
                let other_root = reference_root(&leaves[..size as usize - 1]);
                if size - 1 > old {
                    assert!(verify_consistency(
                        old,
                        size,
                        &old_root,
                        &other_root,
                        &proof.consistency_path
                    )
                    .is_err());
                }
            }
        }
    }
);

both_backends!(
    async fn an_append_commits_and_rolls_back_with_its_caller(db: TestDb) {
        let store = db.open().await;
        let ledger = open_ledger(&store).await;
        fill(&store, &ledger, 5).await;
        let queued = |store: &sqin_store::Store| {
            let pool = store.pool().clone();
            async move {
                let mut conn = pool.acquire().await.unwrap();
                sqin_store::ledger::count_queued(&mut conn).await.unwrap()
            }
        };
        // The caller's operation fails after the append: the entry goes too,
        // on either path.
        let mut tx = store.begin().await.unwrap();
        append(&mut tx, &ledger, event(1, "a"), T0).await.unwrap();
        assert_eq!(
            queued(&store).await,
            0,
            "not visible before the caller commits"
        );
        tx.rollback().await.unwrap();
        assert_eq!(queued(&store).await, 0);
        let mut tx = store.begin().await.unwrap();
        let id = append_sequenced(&mut tx, &ledger, event(1, "a"), T0)
            .await
            .unwrap();
        assert_eq!(id, EntryId(5));
        tx.rollback().await.unwrap();
        let mut conn = store.pool().acquire().await.unwrap();
        assert_eq!(tree::tree_size(&mut conn).await.unwrap(), 5);
        drop(conn);
        // The next entry reuses the number (dense), and the tree is right
        // although this process had cached the rolled-back frontier.
        let mut tx = store.begin().await.unwrap();
        let appended = append(&mut tx, &ledger, event(2, "b"), T0).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(queued(&store).await, 1);
        let mut conn = store.pool().acquire().await.unwrap();
        assert_eq!(
            appended.entry_id(&mut conn).await.unwrap(),
            None,
            "queued, not yet placed"
        );
        assert_eq!(sequence(&mut conn, &ledger).await.unwrap(), 1);
        assert_eq!(
            appended.entry_id(&mut conn).await.unwrap(),
            Some(EntryId(5))
        );
        assert_eq!(sequence(&mut conn, &ledger).await.unwrap(), 0);
        drop(conn);
        fill(&store, &ledger, 3).await;
        let leaves = leaves(&store).await;
        let mut conn = store.pool().acquire().await.unwrap();
        assert_eq!(
            tree::root_at(&mut conn, 9).await.unwrap(),
            reference_root(&leaves)
        );
        // Works on a plain connection too (its own implicit transaction), and
        // an in-transaction append places the queued entries before itself.
        append(&mut conn, &ledger, event(3, "c"), T0).await.unwrap();
        assert_eq!(
            append_sequenced(&mut conn, &ledger, event(4, "c"), T0)
                .await
                .unwrap(),
            EntryId(10)
        );
        let report = verify::verify_store(
            &mut conn,
            &ledger,
            &VerifyOptions::default(),
            &mut |_, _| {},
            &AtomicBool::new(false),
        )
        .await
        .unwrap();
        assert_eq!(report.entries, 11);
        assert_eq!(report.queued, 0);
        // A second ledger handle (another node) appends on the same log.
        let other = open_ledger(&store).await;
        assert_eq!(other.vkey(), ledger.vkey());
        append(&mut conn, &other, event(4, "c"), T0).await.unwrap();
        append_sequenced(&mut conn, &ledger, event(5, "c"), T0)
            .await
            .unwrap();
        append(&mut conn, &ledger, event(6, "c"), T0).await.unwrap();
        sequence(&mut conn, &other).await.unwrap();
        let leaves = leaves_of(&mut conn).await;
        assert_eq!(leaves.len(), 14);
        assert_eq!(
            tree::root_at(&mut conn, 14).await.unwrap(),
            reference_root(&leaves)
        );
        // Events with missing identifiers are refused before anything is written.
        let bad = LedgerEvent::Recovery {
            citizen_id: String::new(),
            step: "x".into(),
            passkey: None,
            sessions_ended: None,
        };
        assert!(matches!(
            append(&mut conn, &ledger, bad, T0).await,
            Err(LedgerServiceError::InvalidRequest(_))
        ));
        assert_eq!(queued(&store).await, 0);
    }
);

async fn leaves_of(conn: &mut sqin_store::Connection) -> Vec<Hash> {
    sqin_store::ledger::entries_from(conn, 0, 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.leaf_hash.try_into().unwrap())
        .collect()
}

both_backends!(
    async fn checkpoints_are_signed_kept_and_verifiable(db: TestDb) {
        let store = db.open().await;
        let ledger = open_ledger(&store).await;
        let mut conn = store.pool().acquire().await.unwrap();
        // Opening signed the empty log's checkpoint; opening again does not.
        let first = checkpoints::latest(&mut conn).await.unwrap();
        assert_eq!(first.tree_size, 0);
        assert_eq!(first.root_hash, EMPTY_ROOT);
        drop(open_ledger(&store).await);
        assert_eq!(
            checkpoints::history(&mut conn, 0, 100).await.unwrap().len(),
            1
        );

        fill(&store, &ledger, 6).await;
        let (cp, new) =
            checkpoints::publish(&mut conn, &ledger, T0 + 10, CheckpointPolicy::IfGrown)
                .await
                .unwrap();
        assert!(new);
        assert_eq!(cp.tree_size, 6);
        let (again, new) =
            checkpoints::publish(&mut conn, &ledger, T0 + 11, CheckpointPolicy::IfGrown)
                .await
                .unwrap();
        assert!(!new);
        assert_eq!(again, cp);
        // Freshness: an unchanged log is re-signed once the latest is old.
        let (_, new) = checkpoints::publish(
            &mut conn,
            &ledger,
            T0 + 20,
            CheckpointPolicy::IfGrownOrOlderThan(60),
        )
        .await
        .unwrap();
        assert!(!new);
        let (fresh, new) = checkpoints::publish(
            &mut conn,
            &ledger,
            T0 + 70,
            CheckpointPolicy::IfGrownOrOlderThan(60),
        )
        .await
        .unwrap();
        assert!(new);
        assert_eq!(fresh.tree_size, 6);
        let (forced, new) =
            checkpoints::publish(&mut conn, &ledger, T0 + 71, CheckpointPolicy::Always)
                .await
                .unwrap();
        assert!(new);
        let all = checkpoints::history(&mut conn, 0, 100).await.unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(all.last().unwrap(), &forced);
        assert_eq!(
            checkpoints::history(&mut conn, all[1].id, 1).await.unwrap(),
            vec![all[2].clone()]
        );

        // Each note is a C2SP checkpoint that verifies with the published key.
        let verifier = EcdsaNoteVerifier::from_vkey(&ledger.vkey()).unwrap();
        assert!(ledger.vkey().starts_with(&format!("{ORIGIN}+")));
        for cp in &all {
            let note = SignedCheckpoint::parse(&cp.note).unwrap();
            let body = note.verify(ORIGIN, &verifier).unwrap();
            assert_eq!(body.size, cp.tree_size);
            assert_eq!(body.root, cp.root_hash);
            assert_eq!(
                tree::root_at(&mut conn, cp.tree_size).await.unwrap(),
                cp.root_hash
            );
            let lines: Vec<&str> = cp.note.lines().collect();
            assert_eq!(lines[0], ORIGIN);
            assert_eq!(lines[1], cp.tree_size.to_string());
            assert_eq!(lines[3], "");
            assert!(lines[4].starts_with(&format!("\u{2014} {ORIGIN} ")));
        }
        // The covering checkpoint for a new entry is signed on demand.
        fill(&store, &ledger, 1).await;
        let covering = checkpoints::covering(&mut conn, &ledger, Some(6), T0 + 80)
            .await
            .unwrap();
        assert_eq!(covering.tree_size, 7);
        let same = checkpoints::covering(&mut conn, &ledger, Some(2), T0 + 81)
            .await
            .unwrap();
        assert_eq!(same, covering);
    }
);

both_backends!(
    async fn the_log_holds_pseudonyms_and_ciphertext_only(db: TestDb) {
        let store = db.open().await;
        let ledger = open_ledger(&store).await;
        fill(&store, &ledger, 22).await;
        let mut conn = store.pool().acquire().await.unwrap();
        let rows = sqin_store::ledger::entries_from(&mut conn, 0, 100)
            .await
            .unwrap();
        let mut out = Vec::new();
        export::export(
            &mut conn,
            &ledger,
            &mut out,
            T0 + 100,
            &mut |_, _| {},
            &AtomicBool::new(false),
        )
        .await
        .unwrap();
        let export_text = String::from_utf8(out.clone()).unwrap();
        let mut haystack: Vec<String> = rows
            .iter()
            .map(|r| String::from_utf8(r.entry.clone()).unwrap())
            .collect();
        haystack.push(export_text.clone());
        for text in &haystack {
            for secret in [
                "citizen-0",
                "citizen-1",
                "famille",
                "impots",
                "birthdate",
                "given_name",
                "childcare",
                "agent-17",
                "Ticket 4411",
                "urn:sqin:loa",
                "Phone",
            ] {
                assert!(
                    !text.contains(secret),
                    "{secret:?} appears in clear in {text}"
                );
            }
        }
        // The pseudonym is stable per citizen and differs between citizens.
        assert_eq!(ledger.pseudonym("citizen-0"), ledger.pseudonym("citizen-0"));
        assert_ne!(ledger.pseudonym("citizen-0"), ledger.pseudonym("citizen-1"));
        assert_eq!(ledger.pseudonym("citizen-0").len(), 22);
        assert_eq!(
            rows[0].subject.as_deref(),
            Some(ledger.pseudonym("citizen-0").as_str())
        );
        // The export verifies offline, with the key pinned or not.
        let report = verify::verify_export(
            out.as_slice(),
            &VerifyOptions {
                vkey: Some(ledger.vkey().to_owned()),
                ..Default::default()
            },
            &mut |_, _| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        assert_eq!(report.entries, 22);
        assert!(report.key_pinned);
        assert_eq!(
            report.root_hash,
            tree::root_at(&mut conn, 22).await.unwrap()
        );
        // A cut-short export is refused.
        let cut: String = export_text
            .lines()
            .take(10)
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(matches!(
            verify::verify_export(
                cut.as_bytes(),
                &VerifyOptions::default(),
                &mut |_, _| {},
                &AtomicBool::new(false)
            ),
            Err(LedgerServiceError::Export(_))
        ));
    }
);

both_backends!(
    async fn a_citizen_sees_their_own_history_with_proofs(db: TestDb) {
        let store = db.open().await;
        let ledger = open_ledger(&store).await;
        let mut conn = store.pool().acquire().await.unwrap();
        let day = 86_400;
        let script = [
            (consent("alice", "famille", T0 + 400 * day), T0),
            (
                disclosure("alice", "famille", &["given_name", "birthdate"]),
                T0 + 1,
            ),
            (consent("bob", "famille", T0 + 400 * day), T0 + 2),
            (consent("alice", "impots", T0 + 30 * day), T0 + 3),
            (disclosure("alice", "impots", &["address"]), T0 + day),
            (event(3, "alice"), T0 + 2 * day),
            (event(4, "alice"), T0 + 2 * day + 1),
            (
                LedgerEvent::ConsentRevoked {
                    citizen_id: "alice".into(),
                    client_id: "famille".into(),
                    consent_id: "consent-alice-famille".into(),
                    reason: "citizen".into(),
                },
                T0 + 3 * day,
            ),
            (
                disclosure("alice", "famille", &["given_name"]),
                T0 + 3 * day + 5,
            ),
        ];
        for (e, at) in script {
            append(&mut conn, &ledger, e, at).await.unwrap();
        }
        let now = T0 + 60 * day;
        let view = history::recipients(&mut conn, &ledger, "alice", &HistoryFilter::default(), now)
            .await
            .unwrap();
        let cp = &view.context.checkpoint;
        assert_eq!(
            cp.tree_size, 9,
            "a covering checkpoint was signed on demand"
        );
        let verifier = EcdsaNoteVerifier::from_vkey(&view.context.vkey).unwrap();
        let trusted = SignedCheckpoint::parse(&cp.note).unwrap();
        let trusted = trusted.verify(ORIGIN, &verifier).unwrap().clone();
        let clients: Vec<&str> = view
            .recipients
            .iter()
            .map(|r| r.client_id.as_str())
            .collect();
        assert_eq!(clients, ["famille", "impots"], "most recent activity first");
        let famille = &view.recipients[0];
        assert_eq!(famille.consents.len(), 1);
        assert_eq!(famille.consents[0].status, "revoked");
        assert_eq!(famille.disclosures.len(), 2);
        assert_eq!(famille.disclosures[0].seq, 8, "newest first");
        let impots = &view.recipients[1];
        assert_eq!(impots.consents[0].status, "expired");
        let mut all = Vec::new();
        for r in &view.recipients {
            all.extend(r.disclosures.iter());
            for c in &r.consents {
                all.extend(c.entries.iter());
            }
        }
        assert_eq!(all.len(), 6, "bob's consent is not alice's business");
        for e in all {
            // Each entry proves itself against the signed checkpoint.
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&e.entry)
                .unwrap();
            assert_eq!(leaf_hash(&bytes), e.proof.leaf_hash);
            assert_eq!(e.proof.tree_size, trusted.size);
            e.proof.verify(&trusted.root).unwrap();
            assert!(!e.shredded);
            assert_eq!(e.details.as_ref().unwrap().citizen_id(), "");
        }
        // Filter by relying party and by date.
        let only = history::recipients(
            &mut conn,
            &ledger,
            "alice",
            &HistoryFilter {
                client_id: Some("impots".into()),
                ..Default::default()
            },
            now,
        )
        .await
        .unwrap();
        assert_eq!(only.recipients.len(), 1);
        assert_eq!(only.recipients[0].client_id, "impots");
        let dated = history::recipients(
            &mut conn,
            &ledger,
            "alice",
            &HistoryFilter {
                from: Some(T0 + day),
                to: Some(T0 + 3 * day),
                ..Default::default()
            },
            now,
        )
        .await
        .unwrap();
        assert_eq!(dated.recipients.len(), 1);
        assert_eq!(dated.recipients[0].disclosures.len(), 1);
        assert_eq!(dated.recipients[0].disclosures[0].seq, 4);
        // Who looked at my file.
        let staff = history::entries_of(
            &mut conn,
            &ledger,
            "alice",
            Category::StaffAccess,
            &HistoryFilter::default(),
            now,
        )
        .await
        .unwrap();
        assert_eq!(staff.entries.len(), 1);
        match staff.entries[0].details.as_ref().unwrap() {
            LedgerEvent::StaffAccess { staff_id, seen, .. } => {
                assert_eq!(staff_id, "agent-17");
                assert_eq!(seen, &["address", "email"]);
            }
            other => panic!("{other:?}"),
        }
        // The download has everything, oldest first, and serialises.
        let all = history::download(&mut conn, &ledger, "alice", &HistoryFilter::default(), now)
            .await
            .unwrap();
        assert_eq!(all.entries.len(), 8);
        assert!(all.entries.windows(2).all(|w| w[0].seq < w[1].seq));
        let json = serde_json::to_value(&all).unwrap();
        assert_eq!(json["format"], "sqin-citizen-history/1");
        assert_eq!(json["entries"][1]["details"]["claims"][1], "birthdate");
        assert_eq!(json["entries"][1]["kind"], "disclosure");
        assert!(json["checkpoint"]["note"]
            .as_str()
            .unwrap()
            .starts_with(ORIGIN));
        // A stranger has no history.
        let none = history::download(&mut conn, &ledger, "nobody", &HistoryFilter::default(), now)
            .await
            .unwrap();
        assert!(none.entries.is_empty());
        let _ = EntryKind::ALL;
    }
);
