//! The consent ledger's tables on SQLite and PostgreSQL: every repository
//! function, and the append-only guard (triggers refuse UPDATE, DELETE and,
//! on PostgreSQL, TRUNCATE of entries, nodes, checkpoints and the log's
//! identity).
use sqin_store::ledger::{self, CheckpointRow, DataKeyRow, EntryRow, NodeRow};
use sqin_store::{both_backends, Backend, StoreError};

fn entry(seq: i64, subject: Option<&str>, at: i64) -> EntryRow {
    EntryRow {
        seq,
        uid: format!("u{seq}"),
        entry: format!("{{\"seq\":{seq}}}").into_bytes(),
        leaf_hash: vec![seq as u8; 32],
        kind: "sign_in".into(),
        created_at: at,
        subject: subject.map(str::to_owned),
        data_key_id: subject.map(|_| format!("k{seq}")),
    }
}

fn key(id: &str, subject: &str, kind: &str, period_end: i64) -> DataKeyRow {
    DataKeyRow {
        id: id.into(),
        subject: subject.into(),
        kind: kind.into(),
        period_start: period_end - 100,
        period_end,
        wrapped_key: vec![1, 2, 3],
        created_at: 1,
    }
}

both_backends!(
    async fn ledger_tables_round_trip(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        // The origin: first writer wins.
        assert_eq!(ledger::origin(&mut conn).await.unwrap(), None);
        assert_eq!(
            ledger::origin_get_or_insert(&mut conn, "a.example/log", 1)
                .await
                .unwrap(),
            "a.example/log"
        );
        assert_eq!(
            ledger::origin_get_or_insert(&mut conn, "b.example/log", 2)
                .await
                .unwrap(),
            "a.example/log"
        );
        // Entries.
        assert_eq!(ledger::head(&mut conn).await.unwrap(), None);
        assert_eq!(ledger::size(&mut conn).await.unwrap(), 0);
        let mut tx = store.begin().await.unwrap();
        ledger::lock(&mut tx, store.backend()).await.unwrap();
        for (seq, subject, at) in [
            (0, Some("s1"), 10),
            (1, None, 20),
            (2, Some("s1"), 30),
            (3, Some("s2"), 40),
        ] {
            ledger::insert_entry(&mut tx, &entry(seq, subject, at))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        assert!(matches!(
            ledger::insert_entry(&mut conn, &entry(2, None, 1)).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            ledger::head(&mut conn).await.unwrap(),
            Some((3, vec![3; 32]))
        );
        assert_eq!(ledger::size(&mut conn).await.unwrap(), 4);
        assert_eq!(
            ledger::entry(&mut conn, 2).await.unwrap(),
            Some(entry(2, Some("s1"), 30))
        );
        assert_eq!(ledger::entry(&mut conn, 9).await.unwrap(), None);
        assert_eq!(
            ledger::entry_by_leaf_hash(&mut conn, &[1; 32])
                .await
                .unwrap()
                .map(|e| e.seq),
            Some(1)
        );
        let page = ledger::entries_from(&mut conn, 1, 2).await.unwrap();
        assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
        let s1 = ledger::entries_for_subject(&mut conn, "s1", None, None, 10)
            .await
            .unwrap();
        assert_eq!(s1.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![0, 2]);
        let dated = ledger::entries_for_subject(&mut conn, "s1", Some(11), Some(31), 10)
            .await
            .unwrap();
        assert_eq!(dated.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2]);
        // Nodes: written in bulk, read by id set and by range.
        let nodes: Vec<NodeRow> = (0..700)
            .map(|i| NodeRow {
                level: i % 3,
                idx: i / 3,
                hash: [(i % 251) as u8; 32],
            })
            .collect();
        ledger::insert_nodes(&mut conn, &nodes).await.unwrap();
        let ids: Vec<(i64, i64)> = (0..1600).map(|i| (i % 3, i / 3)).collect();
        let mut got = ledger::nodes(&mut conn, &ids).await.unwrap();
        got.sort_by_key(|n| (n.idx, n.level));
        assert_eq!(got, nodes, "absent ids are not returned");
        let range = ledger::nodes_in_range(&mut conn, 1, 5, 7).await.unwrap();
        assert_eq!(
            range.iter().map(|n| n.idx).collect::<Vec<_>>(),
            vec![5, 6, 7]
        );
        assert!(matches!(
            ledger::insert_nodes(&mut conn, &nodes[..1]).await,
            Err(StoreError::Conflict(_))
        ));
        // Checkpoints.
        assert_eq!(ledger::latest_checkpoint(&mut conn).await.unwrap(), None);
        let a = ledger::insert_checkpoint(&mut conn, 2, &[7; 32], "note a", 100)
            .await
            .unwrap();
        let b = ledger::insert_checkpoint(&mut conn, 4, &[8; 32], "note b", 200)
            .await
            .unwrap();
        assert!(b > a);
        let latest = ledger::latest_checkpoint(&mut conn).await.unwrap().unwrap();
        assert_eq!(
            latest,
            CheckpointRow {
                id: b,
                tree_size: 4,
                root_hash: vec![8; 32],
                note: "note b".into(),
                created_at: 200
            }
        );
        assert_eq!(
            ledger::checkpoint_of_size(&mut conn, 2)
                .await
                .unwrap()
                .unwrap()
                .id,
            a
        );
        assert_eq!(
            ledger::checkpoint_of_size(&mut conn, 3).await.unwrap(),
            None
        );
        let after = ledger::checkpoints_after(&mut conn, a, 10).await.unwrap();
        assert_eq!(after.len(), 1);
        // Data keys: the one table the ledger deletes from.
        for k in [
            key("k1", "s1", "sign_in", 100),
            key("k2", "s1", "sign_in", 200),
            key("k3", "s2", "disclosure", 100),
        ] {
            ledger::insert_data_key(&mut conn, &k).await.unwrap();
        }
        assert!(matches!(
            ledger::insert_data_key(&mut conn, &key("k9", "s1", "sign_in", 100)).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            ledger::data_key_for(&mut conn, "s1", "sign_in", 100)
                .await
                .unwrap()
                .unwrap()
                .id,
            "k2"
        );
        assert_eq!(
            ledger::count_data_keys_ended_by(&mut conn, "sign_in", 150)
                .await
                .unwrap(),
            1
        );
        let due = ledger::data_keys_ended_by(&mut conn, "sign_in", 250, 10)
            .await
            .unwrap();
        assert_eq!(
            due.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
            vec!["k1", "k2"]
        );
        assert_eq!(
            ledger::data_keys_for_subject(&mut conn, "s1")
                .await
                .unwrap()
                .len(),
            2
        );
        let ids: Vec<String> = vec!["k1".into(), "k3".into(), "nope".into()];
        assert_eq!(ledger::delete_data_keys(&mut conn, &ids).await.unwrap(), 2);
        assert_eq!(
            ledger::data_keys_for_subject(&mut conn, "s1")
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(ledger::delete_data_keys(&mut conn, &[]).await.unwrap(), 0);
        // get-or-insert: the first key for a citizen, kind and period wins.
        let won = ledger::data_key_get_or_insert(&mut conn, &key("k7", "s9", "sign_in", 900))
            .await
            .unwrap();
        assert_eq!(won.id, "k7");
        let again = ledger::data_key_get_or_insert(&mut conn, &key("k8", "s9", "sign_in", 900))
            .await
            .unwrap();
        assert_eq!(again.id, "k7");
        // The queue: written by callers, read oldest first, and emptied
        // only of entries that are in the log.
        for uid in ["q1", "q2", "q3"] {
            ledger::enqueue(&mut conn, &queued(uid)).await.unwrap();
        }
        assert!(matches!(
            ledger::enqueue(&mut conn, &queued("q1")).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(ledger::count_queued(&mut conn).await.unwrap(), 3);
        let waiting = ledger::queued(&mut conn, 2).await.unwrap();
        assert_eq!(
            waiting.iter().map(|q| q.uid.as_str()).collect::<Vec<_>>(),
            vec!["q1", "q2"]
        );
        assert!(waiting[0].id < waiting[1].id);
        assert_eq!(waiting[0].sealed, vec![1, 2, 3]);
        let mut placed = entry(4, Some("s1"), 50);
        placed.uid = "q1".into();
        ledger::insert_entries(&mut conn, &[placed.clone()])
            .await
            .unwrap();
        assert_eq!(
            ledger::entry_by_uid(&mut conn, "q1").await.unwrap(),
            Some(placed)
        );
        assert_eq!(ledger::entry_by_uid(&mut conn, "q2").await.unwrap(), None);
        ledger::delete_queued(&mut conn, &[waiting[0].id])
            .await
            .unwrap();
        assert_eq!(ledger::count_queued(&mut conn).await.unwrap(), 2);
    }
);

fn queued(uid: &str) -> ledger::QueuedRow {
    ledger::QueuedRow {
        id: 0,
        uid: uid.into(),
        kind: "disclosure".into(),
        created_at: 10,
        subject: "s1".into(),
        data_key_id: "k1".into(),
        sealed: vec![1, 2, 3],
    }
}

both_backends!(
    async fn the_storage_refuses_to_rewrite_the_ledger(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        ledger::origin_get_or_insert(&mut conn, "a.example/log", 1)
            .await
            .unwrap();
        ledger::insert_entry(&mut conn, &entry(0, Some("s"), 1))
            .await
            .unwrap();
        ledger::insert_nodes(
            &mut conn,
            &[NodeRow {
                level: 0,
                idx: 0,
                hash: [0; 32],
            }],
        )
        .await
        .unwrap();
        ledger::insert_checkpoint(&mut conn, 1, &[0; 32], "note", 1)
            .await
            .unwrap();
        let refused = [
            "UPDATE ledger_entries SET entry = entry",
            "UPDATE ledger_entries SET kind = 'x' WHERE seq = 0",
            "DELETE FROM ledger_entries",
            "DELETE FROM ledger_entries WHERE seq = 0",
            "UPDATE ledger_nodes SET hash = hash",
            "DELETE FROM ledger_nodes",
            "UPDATE ledger_checkpoints SET note = 'forged'",
            "DELETE FROM ledger_checkpoints",
            "UPDATE ledger_log SET origin = 'b.example/log'",
            "DELETE FROM ledger_log",
            // A queued entry cannot be changed, nor dropped before it is in
            // the log.
            "UPDATE ledger_queue SET sealed = sealed",
            "DELETE FROM ledger_queue",
            "DELETE FROM ledger_queue WHERE uid = 'waiting'",
        ];
        ledger::enqueue(&mut conn, &queued("waiting"))
            .await
            .unwrap();
        for sql in refused {
            let err = sqlx::query(sql).execute(&mut *conn).await.unwrap_err();
            assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        }
        if store.backend() == Backend::Postgres {
            for table in [
                "ledger_entries",
                "ledger_nodes",
                "ledger_checkpoints",
                "ledger_log",
                "ledger_queue",
            ] {
                let err = sqlx::query(&format!("TRUNCATE {table}"))
                    .execute(&mut *conn)
                    .await
                    .unwrap_err();
                assert!(err.to_string().contains("append-only"), "{table}: {err}");
            }
        }
        // Everything is still there.
        assert_eq!(ledger::size(&mut conn).await.unwrap(), 1);
        assert_eq!(
            ledger::entry(&mut conn, 0).await.unwrap(),
            Some(entry(0, Some("s"), 1))
        );
        assert_eq!(
            ledger::latest_checkpoint(&mut conn)
                .await
                .unwrap()
                .unwrap()
                .note,
            "note"
        );
        assert_eq!(
            ledger::origin(&mut conn).await.unwrap().as_deref(),
            Some("a.example/log")
        );
        assert_eq!(ledger::count_queued(&mut conn).await.unwrap(), 1);
        // Data keys are not evidence: they may be deleted (crypto-shredding).
        ledger::insert_data_key(&mut conn, &key("k", "s", "sign_in", 5))
            .await
            .unwrap();
        sqlx::query("DELETE FROM ledger_data_keys")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
);
