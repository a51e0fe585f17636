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

both_backends!(
    async fn rate_limit_windows_count_and_reset(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        for expected in 1..=3 {
            assert_eq!(
                rate_limits::hit(&mut conn, b"bucket-a", 900).await.unwrap(),
                expected
            );
        }
        assert_eq!(
            rate_limits::hit(&mut conn, b"bucket-b", 900).await.unwrap(),
            1
        );
        // A new window starts again at one.
        assert_eq!(
            rate_limits::hit(&mut conn, b"bucket-a", 1800)
                .await
                .unwrap(),
            1
        );
        assert_eq!(rate_limits::purge_before(&mut conn, 1000).await.unwrap(), 1);
        assert_eq!(
            rate_limits::hit(&mut conn, b"bucket-b", 1800)
                .await
                .unwrap(),
            1
        );
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
