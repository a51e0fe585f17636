//! The passkey service's tables, on SQLite and PostgreSQL: credentials and
//! user handles, ceremony state, rate-limit counters, security events.
use sqin_store::ceremonies::{self, Ceremony, CeremonyKind};
use sqin_store::citizens::{self, Citizen, CitizenStatus};
use sqin_store::passkeys::{self, EnrolledVia, PasskeyRecord, Use};
use sqin_store::{both_backends, rate_limits, security_events, StoreError};

fn citizen(id: &str) -> Citizen {
    Citizen {
        id: id.into(),
        register_id: format!("R-{id}"),
        given_name: "Aline".into(),
        family_name: "Tremblay".into(),
        birthdate: "1984-03-02".into(),
        email: None,
        address: None,
        locale: None,
        status: CitizenStatus::Enrolled,
        created_at: 1,
        updated_at: 1,
    }
}

fn passkey(cred: u8, citizen_id: &str, created_at: i64) -> PasskeyRecord {
    PasskeyRecord {
        credential_id: vec![cred; 20],
        citizen_id: citizen_id.into(),
        name: format!("key {cred}"),
        credential: "{}".into(),
        sign_count: 0,
        backup_eligible: cred % 2 == 0,
        backed_up: false,
        enrolled_via: EnrolledVia::Enrolment,
        created_at,
        last_used_at: None,
    }
}

fn ceremony(id: u8, kind: CeremonyKind, browser: u8, expires_at: i64) -> Ceremony {
    Ceremony {
        id_hash: vec![id; 32],
        kind,
        browser_hash: vec![browser; 32],
        citizen_id: Some("c1".into()),
        code_hash: Some(vec![9; 32]),
        request: Some("req".into()),
        state: "{\"t\":\"Grant\"}".into(),
        created_at: 10,
        expires_at,
    }
}

both_backends!(
    async fn passkeys_and_user_handles(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        citizens::insert(
            &mut conn,
            &sqin_store::testing::register_vault(),
            &citizen("c1"),
        )
        .await
        .unwrap();
        citizens::insert(
            &mut conn,
            &sqin_store::testing::register_vault(),
            &citizen("c2"),
        )
        .await
        .unwrap();

        // The first handle wins; a second node's candidate is discarded.
        assert_eq!(passkeys::user_handle(&mut conn, "c1").await.unwrap(), None);
        let h = passkeys::user_handle_or_insert(&mut conn, "c1", &[1; 16], 5)
            .await
            .unwrap();
        assert_eq!(h, vec![1; 16]);
        let h = passkeys::user_handle_or_insert(&mut conn, "c1", &[2; 16], 6)
            .await
            .unwrap();
        assert_eq!(h, vec![1; 16]);
        assert_eq!(
            passkeys::citizen_for_user_handle(&mut conn, &[1; 16])
                .await
                .unwrap()
                .as_deref(),
            Some("c1")
        );
        assert_eq!(
            passkeys::citizen_for_user_handle(&mut conn, &[2; 16])
                .await
                .unwrap(),
            None
        );

        passkeys::insert(&mut conn, &passkey(2, "c1", 20))
            .await
            .unwrap();
        passkeys::insert(&mut conn, &passkey(1, "c1", 10))
            .await
            .unwrap();
        // A credential id belongs to one citizen only.
        let dup = passkeys::insert(&mut conn, &passkey(1, "c2", 30)).await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
        let list = passkeys::for_citizen(&mut conn, "c1").await.unwrap();
        assert_eq!(list, vec![passkey(1, "c1", 10), passkey(2, "c1", 20)]);
        assert_eq!(
            passkeys::count_for_citizen(&mut conn, "c1").await.unwrap(),
            2
        );
        assert_eq!(
            passkeys::count_for_citizen(&mut conn, "c2").await.unwrap(),
            0
        );

        // Counters only go up (or stay at 0 for counter-less authenticators).
        let use_at = |count: i64, at: i64| Use {
            credential_id: &[1; 20],
            sign_count: count,
            credential: "{\"n\":1}",
            backup_eligible: true,
            backed_up: true,
            at,
        };
        assert!(passkeys::record_use(&mut conn, &use_at(0, 40))
            .await
            .unwrap());
        assert!(passkeys::record_use(&mut conn, &use_at(3, 41))
            .await
            .unwrap());
        assert!(!passkeys::record_use(&mut conn, &use_at(3, 42))
            .await
            .unwrap());
        assert!(!passkeys::record_use(&mut conn, &use_at(2, 43))
            .await
            .unwrap());
        assert!(!passkeys::record_use(&mut conn, &use_at(0, 44))
            .await
            .unwrap());
        let got = passkeys::get(&mut conn, &[1; 20]).await.unwrap().unwrap();
        assert_eq!((got.sign_count, got.last_used_at), (3, Some(41)));
        assert!(got.backup_eligible && got.backed_up);
        assert_eq!(got.credential, "{\"n\":1}");

        // Rename and delete only one's own.
        assert!(!passkeys::rename(&mut conn, "c2", &[1; 20], "x")
            .await
            .unwrap());
        assert!(passkeys::rename(&mut conn, "c1", &[1; 20], "Phone")
            .await
            .unwrap());
        assert_eq!(
            passkeys::get(&mut conn, &[1; 20])
                .await
                .unwrap()
                .unwrap()
                .name,
            "Phone"
        );
        assert!(!passkeys::delete(&mut conn, "c2", &[1; 20]).await.unwrap());
        assert!(passkeys::delete(&mut conn, "c1", &[1; 20]).await.unwrap());
        assert_eq!(passkeys::get(&mut conn, &[1; 20]).await.unwrap(), None);
    }
);

both_backends!(
    async fn sessions_remember_the_passkey_that_opened_them(db: TestDb) {
        use sqin_store::sessions::{self, SessionCredential, SessionRecord};
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        let vault = sqin_store::testing::register_vault();
        citizens::insert(&mut conn, &vault, &citizen("c1"))
            .await
            .unwrap();
        passkeys::insert(&mut conn, &passkey(1, "c1", 10))
            .await
            .unwrap();
        passkeys::insert(&mut conn, &passkey(2, "c1", 10))
            .await
            .unwrap();
        let open = |n: u8, cred: u8, at: i64| {
            let session = SessionRecord {
                id_hash: vec![n; 32],
                citizen_id: "c1".into(),
                auth_time: at,
                acr: "a".into(),
                amr: vec![],
                created_at: at,
                expires_at: at + 100,
                revoked_at: None,
            };
            let link = SessionCredential {
                session_hash: vec![n; 32],
                session_id: format!("sid-{n}"),
                citizen_id: "c1".into(),
                credential_id: vec![cred; 20],
                created_at: at,
            };
            (session, link)
        };
        for (n, cred) in [(1, 1), (2, 1), (3, 2)] {
            let (session, link) = open(n, cred, 20 + i64::from(n));
            sessions::insert(&mut conn, &session).await.unwrap();
            sessions::record_credential(&mut conn, &link).await.unwrap();
        }
        let of_one = sessions::opened_by(&mut conn, "c1", &[1; 20])
            .await
            .unwrap();
        assert_eq!(
            of_one
                .iter()
                .map(|l| l.session_id.as_str())
                .collect::<Vec<_>>(),
            ["sid-1", "sid-2"]
        );
        assert!(sessions::opened_by(&mut conn, "c2", &[1; 20])
            .await
            .unwrap()
            .is_empty());
        // Once a session is purged and no grant rests on it, the passkey's
        // next session forgets it.
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(vec![1u8; 32])
            .execute(&mut *conn)
            .await
            .unwrap();
        let (session, link) = open(4, 1, 30);
        sessions::insert(&mut conn, &session).await.unwrap();
        sessions::record_credential(&mut conn, &link).await.unwrap();
        let of_one = sessions::opened_by(&mut conn, "c1", &[1; 20])
            .await
            .unwrap();
        assert_eq!(
            of_one
                .iter()
                .map(|l| l.session_id.as_str())
                .collect::<Vec<_>>(),
            ["sid-2", "sid-4"]
        );
        assert_eq!(
            sessions::forget_credential(&mut conn, "c1", &[1; 20])
                .await
                .unwrap(),
            2
        );
        // The links go with the passkey.
        assert!(passkeys::delete(&mut conn, "c1", &[2; 20]).await.unwrap());
        assert!(sessions::opened_by(&mut conn, "c1", &[2; 20])
            .await
            .unwrap()
            .is_empty());
    }
);

both_backends!(
    async fn ceremonies_are_taken_once_by_their_browser(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        citizens::insert(
            &mut conn,
            &sqin_store::testing::register_vault(),
            &citizen("c1"),
        )
        .await
        .unwrap();
        let c = ceremony(1, CeremonyKind::Login, 7, 100);
        ceremonies::insert(&mut conn, &c).await.unwrap();
        assert!(matches!(
            ceremonies::insert(&mut conn, &c).await,
            Err(StoreError::Conflict(_))
        ));
        // Another browser, or another kind: nothing (and nothing consumed).
        assert_eq!(
            ceremonies::take(&mut conn, &[1; 32], CeremonyKind::Login, &[8; 32])
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            ceremonies::take(&mut conn, &[1; 32], CeremonyKind::Enrol, &[7; 32])
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            ceremonies::take(&mut conn, &[1; 32], CeremonyKind::Login, &[7; 32])
                .await
                .unwrap(),
            Some(c)
        );
        assert_eq!(
            ceremonies::take(&mut conn, &[1; 32], CeremonyKind::Login, &[7; 32])
                .await
                .unwrap(),
            None
        );

        // Grants are read without being consumed, while live.
        let g = ceremony(2, CeremonyKind::Grant, 7, 100);
        ceremonies::insert(&mut conn, &g).await.unwrap();
        assert_eq!(
            ceremonies::peek(&mut conn, &[2; 32], CeremonyKind::Grant, &[7; 32], 50)
                .await
                .unwrap(),
            Some(g.clone())
        );
        assert_eq!(
            ceremonies::peek(&mut conn, &[2; 32], CeremonyKind::Grant, &[7; 32], 100)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            ceremonies::peek(&mut conn, &[2; 32], CeremonyKind::Grant, &[8; 32], 50)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            ceremonies::delete_for_citizen(&mut conn, "c1", CeremonyKind::Grant)
                .await
                .unwrap(),
            1
        );

        // Expired ones are purged.
        ceremonies::insert(&mut conn, &ceremony(3, CeremonyKind::Add, 7, 100))
            .await
            .unwrap();
        ceremonies::insert(&mut conn, &ceremony(4, CeremonyKind::Add, 7, 200))
            .await
            .unwrap();
        assert_eq!(ceremonies::purge_expired(&mut conn, 150).await.unwrap(), 1);
        assert!(
            ceremonies::take(&mut conn, &[4; 32], CeremonyKind::Add, &[7; 32])
                .await
                .unwrap()
                .is_some()
        );
    }
);

fn budget(bucket: &[u8], limit: i64) -> rate_limits::Budget<'_> {
    rate_limits::Budget { bucket, limit }
}

both_backends!(
    async fn rate_limit_windows_slide(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        let a = [budget(b"bucket-a", 3)];
        // A window of 900 s; the budget is spent at the end of what a
        // clock-aligned window would be (900..1800).
        for t in [1797, 1798, 1799] {
            assert_eq!(
                rate_limits::hit(&mut conn, &a, 900, t).await.unwrap(),
                Ok(())
            );
        }
        let refused = rate_limits::hit(&mut conn, &a, 900, 1799).await.unwrap();
        assert_eq!(
            refused,
            Err(rate_limits::Refused {
                budget: 0,
                retry_after: 898
            })
        );
        // Across the boundary nothing more passes: a fixed window would have
        // started again at 1800 and let the budget through twice.
        for t in [1800, 1801, 2000, 2696] {
            assert!(
                rate_limits::hit(&mut conn, &a, 900, t)
                    .await
                    .unwrap()
                    .is_err(),
                "{t}"
            );
        }
        // Each attempt leaves the window 900 s after it was counted, and
        // refused attempts were not counted.
        assert_eq!(
            rate_limits::hit(&mut conn, &a, 900, 2697).await.unwrap(),
            Ok(())
        );
        assert!(rate_limits::hit(&mut conn, &a, 900, 2697)
            .await
            .unwrap()
            .is_err());
        assert_eq!(
            rate_limits::hit(&mut conn, &a, 900, 2698).await.unwrap(),
            Ok(())
        );
        // Another bucket has its own budget.
        let b = [budget(b"bucket-b", 1)];
        assert_eq!(
            rate_limits::hit(&mut conn, &b, 900, 2698).await.unwrap(),
            Ok(())
        );
        assert!(rate_limits::hit(&mut conn, &b, 900, 2698)
            .await
            .unwrap()
            .is_err());
        // The fresh bucket's first attempt purged the rows that had left the
        // window (1797 and 1798); the retention pass takes the rest.
        assert_eq!(rate_limits::purge_before(&mut conn, 1799).await.unwrap(), 0);
        assert_eq!(rate_limits::purge_before(&mut conn, 2697).await.unwrap(), 1);
        assert_eq!(rate_limits::purge_before(&mut conn, 2699).await.unwrap(), 3);
    }
);

both_backends!(
    async fn an_attempt_is_counted_only_when_every_budget_has_room(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        // One hint spends its own budget; the address ceiling has room left.
        let hint_a = [budget(b"hint-a", 2), budget(b"address", 5)];
        let hint_b = [budget(b"hint-b", 2), budget(b"address", 5)];
        for _ in 0..2 {
            assert_eq!(
                rate_limits::hit(&mut conn, &hint_a, 900, 100)
                    .await
                    .unwrap(),
                Ok(())
            );
        }
        let refused = rate_limits::hit(&mut conn, &hint_a, 900, 100)
            .await
            .unwrap();
        assert_eq!(refused.unwrap_err().budget, 0);
        // ...so another hint still passes, until the ceiling is reached:
        // the refused attempt of hint A did not count towards it.
        for _ in 0..2 {
            assert_eq!(
                rate_limits::hit(&mut conn, &hint_b, 900, 101)
                    .await
                    .unwrap(),
                Ok(())
            );
        }
        let hint_c = [budget(b"hint-c", 2), budget(b"address", 5)];
        assert_eq!(
            rate_limits::hit(&mut conn, &hint_c, 900, 102)
                .await
                .unwrap(),
            Ok(())
        );
        let refused = rate_limits::hit(&mut conn, &hint_c, 900, 102)
            .await
            .unwrap();
        assert_eq!(refused.unwrap_err().budget, 1, "the address ceiling");
    }
);

both_backends!(
    async fn concurrent_attempts_never_exceed_the_budget(db: TestDb) {
        let store = db.open().await;
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let pool = store.pool().clone();
            tasks.push(tokio::spawn(async move {
                let mut conn = pool.acquire().await.unwrap();
                rate_limits::hit(&mut conn, &[budget(b"shared", 5)], 900, 500)
                    .await
                    .unwrap()
                    .is_ok()
            }));
        }
        let mut passed = 0;
        for t in tasks {
            passed += usize::from(t.await.unwrap());
        }
        assert_eq!(passed, 5);
    }
);

both_backends!(
    async fn security_events_are_listed_and_exported_once(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        citizens::insert(
            &mut conn,
            &sqin_store::testing::register_vault(),
            &citizen("c1"),
        )
        .await
        .unwrap();
        citizens::insert(
            &mut conn,
            &sqin_store::testing::register_vault(),
            &citizen("c2"),
        )
        .await
        .unwrap();
        let a = security_events::insert(&mut conn, "c1", "sign_in", "{}", 10)
            .await
            .unwrap();
        let b = security_events::insert(&mut conn, "c1", "passkey_added", "{}", 20)
            .await
            .unwrap();
        let c = security_events::insert(&mut conn, "c2", "sign_in", "{}", 30)
            .await
            .unwrap();
        assert!(a < b && b < c);
        let recent = security_events::recent(&mut conn, "c1", None, 10)
            .await
            .unwrap();
        assert_eq!(recent.iter().map(|e| e.id).collect::<Vec<_>>(), vec![b, a]);
        let signins = security_events::recent(&mut conn, "c1", Some("sign_in"), 10)
            .await
            .unwrap();
        assert_eq!(signins.len(), 1);
        assert_eq!(
            security_events::recent(&mut conn, "c1", None, 1)
                .await
                .unwrap()
                .len(),
            1
        );
        let pending = security_events::unexported(&mut conn, 10).await.unwrap();
        assert_eq!(
            pending.iter().map(|e| e.id).collect::<Vec<_>>(),
            vec![a, b, c]
        );
        assert!(security_events::mark_exported(&mut conn, a, 40)
            .await
            .unwrap());
        assert!(!security_events::mark_exported(&mut conn, a, 41)
            .await
            .unwrap());
        let pending = security_events::unexported(&mut conn, 10).await.unwrap();
        assert_eq!(pending.iter().map(|e| e.id).collect::<Vec<_>>(), vec![b, c]);
    }
);
