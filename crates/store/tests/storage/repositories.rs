//! Every repository function, on SQLite and PostgreSQL.
use sqin_store::citizens::{self, Citizen, CitizenStatus};
use sqin_store::clients::{self, ClientRecord, ClientType};
use sqin_store::enrolment::{self, CodePurpose, EnrolmentCode};
use sqin_store::keys::{self, KeyState, SigningKeyRow};
use sqin_store::{both_backends, secrets, StoreError};

fn citizen(id: &str, register_id: &str) -> Citizen {
    Citizen {
        id: id.into(),
        register_id: register_id.into(),
        given_name: "Aline".into(),
        family_name: "Tremblay".into(),
        birthdate: "1984-03-02".into(),
        email: Some("aline@example.org".into()),
        address: None,
        locale: Some("fr".into()),
        status: CitizenStatus::Registered,
        created_at: 100,
        updated_at: 100,
    }
}

fn code(hash: u8, citizen_id: &str, expires_at: i64) -> EnrolmentCode {
    EnrolmentCode {
        code_hash: vec![hash; 32],
        citizen_id: citizen_id.into(),
        purpose: CodePurpose::Enrolment,
        issued_at: 100,
        expires_at,
        spent_at: None,
        revoked_at: None,
        failed_attempts: 0,
    }
}

both_backends!(
    async fn citizens_round_trip_and_unique_register_id(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        let a = citizen("c1", "R-1");
        citizens::insert(&mut conn, &sqin_store::testing::register_vault(), &a)
            .await
            .unwrap();
        assert_eq!(
            citizens::by_id(&mut conn, &sqin_store::testing::register_vault(), "c1")
                .await
                .unwrap(),
            Some(a.clone())
        );
        assert_eq!(
            citizens::by_register_id(&mut conn, &sqin_store::testing::register_vault(), "R-1")
                .await
                .unwrap(),
            Some(a.clone())
        );
        assert_eq!(
            citizens::by_id(&mut conn, &sqin_store::testing::register_vault(), "nope")
                .await
                .unwrap(),
            None
        );
        let dup = citizens::insert(
            &mut conn,
            &sqin_store::testing::register_vault(),
            &citizen("c2", "R-1"),
        )
        .await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
        citizens::set_status(&mut conn, "c1", CitizenStatus::Enrolled, 200)
            .await
            .unwrap();
        let got = citizens::by_id(&mut conn, &sqin_store::testing::register_vault(), "c1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.status, CitizenStatus::Enrolled);
        assert_eq!(got.updated_at, 200);
        assert!(matches!(
            citizens::set_status(&mut conn, "zz", CitizenStatus::Closed, 1).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(citizens::count(&mut conn).await.unwrap(), 1);
    }
);

both_backends!(
    async fn enrolment_codes_spend_once_expire_and_lock(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        citizens::insert(
            &mut conn,
            &sqin_store::testing::register_vault(),
            &citizen("c1", "R-1"),
        )
        .await
        .unwrap();
        enrolment::insert(&mut conn, &code(1, "c1", 1000))
            .await
            .unwrap();
        assert_eq!(
            enrolment::find(&mut conn, &[1; 32]).await.unwrap(),
            Some(code(1, "c1", 1000))
        );
        // Expired codes cannot be spent.
        assert!(!enrolment::spend(&mut conn, &[1; 32], 1000, 5)
            .await
            .unwrap());
        // Spent exactly once.
        assert!(enrolment::spend(&mut conn, &[1; 32], 500, 5).await.unwrap());
        assert!(!enrolment::spend(&mut conn, &[1; 32], 501, 5).await.unwrap());
        // Lock-out after failures.
        enrolment::insert(&mut conn, &code(2, "c1", 1000))
            .await
            .unwrap();
        for expected in 1..=3 {
            assert_eq!(
                enrolment::record_failure(&mut conn, &[2; 32])
                    .await
                    .unwrap(),
                expected
            );
        }
        assert!(!enrolment::spend(&mut conn, &[2; 32], 10, 3).await.unwrap());
        assert!(matches!(
            enrolment::record_failure(&mut conn, &[9; 32]).await,
            Err(StoreError::NotFound(_))
        ));
        // Revocation of open codes leaves spent ones alone.
        enrolment::insert(&mut conn, &code(3, "c1", 1000))
            .await
            .unwrap();
        assert_eq!(
            enrolment::revoke_open(&mut conn, "c1", 20).await.unwrap(),
            2
        );
        assert!(!enrolment::spend(&mut conn, &[3; 32], 30, 5).await.unwrap());
        let all = enrolment::for_citizen(&mut conn, "c1").await.unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all.iter().filter(|c| c.revoked_at == Some(20)).count(), 2);
        assert_eq!(all.iter().filter(|c| c.spent_at == Some(500)).count(), 1);
        // A code cannot outlive its citizen (foreign key).
        let orphan = enrolment::insert(&mut conn, &code(4, "ghost", 1000)).await;
        assert!(orphan.is_err());
    }
);

fn client(id: &str) -> ClientRecord {
    ClientRecord {
        client_id: id.into(),
        name: format!("RP {id}"),
        client_type: ClientType::Confidential,
        secret_hash: Some(vec![7; 32]),
        token_endpoint_auth_method: clients::AuthMethod::ClientSecretBasic,
        redirect_uris: vec!["https://rp.example/cb".into()],
        post_logout_redirect_uris: vec![],
        scopes: vec!["openid".into(), "profile".into()],
        claims: Some(vec!["name".into()]),
        purpose: "Apply for an allowance".into(),
        sector: "rp.example".into(),
        subject_type: clients::SubjectType::Pairwise,
        jwks: None,
        backchannel_logout_uri: Some("https://rp.example/bcl".into()),
        id_token_signed_response_alg: clients::SigningAlg::Rs256,
        name_fr: Some(format!("SR {id}")),
        purpose_fr: Some("Demander une allocation".into()),
        jwks_uri: None,
        pia_entry: Some("rp-entry".into()),
        status: clients::ClientStatus::Pending,
        status_reason: None,
        version: 1,
        registration_token_hash: None,
        created_at: 1,
        updated_at: 1,
    }
}

both_backends!(
    async fn clients_round_trip(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        clients::insert(&mut conn, &client("b")).await.unwrap();
        clients::insert(&mut conn, &client("a")).await.unwrap();
        assert!(matches!(
            clients::insert(&mut conn, &client("a")).await,
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            clients::get(&mut conn, "a").await.unwrap(),
            Some(client("a"))
        );
        let ids: Vec<_> = clients::list(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.client_id)
            .collect();
        assert_eq!(ids, vec!["a", "b"]);
        clients::set_secret_hash(&mut conn, "a", &[8; 32], 5)
            .await
            .unwrap();
        let a = clients::get(&mut conn, "a").await.unwrap().unwrap();
        assert_eq!(a.secret_hash, Some(vec![8; 32]));
        assert_eq!(a.updated_at, 5);
        assert_eq!(a.version, 1, "a new secret is not a metadata edit");
        // An edit against a stale version writes nothing.
        let mut edited = a.clone();
        edited.redirect_uris = vec!["https://rp.example/other".into()];
        edited.id_token_signed_response_alg = clients::SigningAlg::Ps256;
        assert!(!clients::update(&mut conn, &edited, 0).await.unwrap());
        assert_eq!(
            clients::get(&mut conn, "a")
                .await
                .unwrap()
                .unwrap()
                .redirect_uris,
            a.redirect_uris
        );
        assert!(clients::update(&mut conn, &edited, 1).await.unwrap());
        assert!(
            !clients::update(&mut conn, &edited, 1).await.unwrap(),
            "now stale"
        );
        let a = clients::get(&mut conn, "a").await.unwrap().unwrap();
        assert_eq!((a.version, a.redirect_uris.len()), (2, 1));
        assert_eq!(a.redirect_uris[0], "https://rp.example/other");
        assert_eq!(
            a.id_token_signed_response_alg,
            clients::SigningAlg::Ps256,
            "the ID token algorithm is stored and edited"
        );
        clients::set_status(
            &mut conn,
            "a",
            clients::ClientStatus::Suspended,
            Some("why"),
            6,
        )
        .await
        .unwrap();
        let a = clients::get(&mut conn, "a").await.unwrap().unwrap();
        assert_eq!(a.status, clients::ClientStatus::Suspended);
        assert_eq!((a.status_reason.as_deref(), a.version), (Some("why"), 2));
        clients::delete(&mut conn, "a").await.unwrap();
        assert_eq!(clients::get(&mut conn, "a").await.unwrap(), None);
        assert!(matches!(
            clients::delete(&mut conn, "a").await,
            Err(StoreError::NotFound(_))
        ));
    }
);

fn key(kid: &str, state: KeyState) -> SigningKeyRow {
    key_for(keys::SigningAlg::Es256, kid, state)
}

fn key_for(alg: keys::SigningAlg, kid: &str, state: KeyState) -> SigningKeyRow {
    SigningKeyRow {
        kid: kid.into(),
        alg,
        sealed_private: vec![1, 2, 3],
        public_jwk: "{}".into(),
        state,
        created_at: 1,
        activated_at: None,
        publish_until: None,
    }
}

both_backends!(
    async fn signing_keys_states(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        keys::insert(&mut conn, &key("k1", KeyState::Current))
            .await
            .unwrap();
        keys::insert(&mut conn, &key("k2", KeyState::Next))
            .await
            .unwrap();
        // Only one current key, one next key.
        assert!(matches!(
            keys::insert(&mut conn, &key("k3", KeyState::Current)).await,
            Err(StoreError::Conflict(_))
        ));
        keys::set_state(&mut conn, "k1", KeyState::Previous, None, Some(50))
            .await
            .unwrap();
        keys::set_state(&mut conn, "k2", KeyState::Current, Some(10), None)
            .await
            .unwrap();
        let live = keys::list_live(&mut conn).await.unwrap();
        assert_eq!(live.len(), 2);
        let k1 = live.iter().find(|k| k.kid == "k1").unwrap();
        assert_eq!((k1.state, k1.publish_until), (KeyState::Previous, Some(50)));
        let k2 = live.iter().find(|k| k.kid == "k2").unwrap();
        assert_eq!((k2.state, k2.activated_at), (KeyState::Current, Some(10)));
        keys::set_state(&mut conn, "k1", KeyState::Retired, None, None)
            .await
            .unwrap();
        assert_eq!(keys::list_live(&mut conn).await.unwrap().len(), 1);
        assert_eq!(keys::list_all(&mut conn).await.unwrap().len(), 2);
        assert!(matches!(
            keys::set_state(&mut conn, "zz", KeyState::Retired, None, None).await,
            Err(StoreError::NotFound(_))
        ));
    }
);

both_backends!(
    async fn signing_keys_have_one_current_and_one_next_per_algorithm(db: TestDb) {
        use keys::SigningAlg::{Es256, Ps256, Rs256};
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        for (alg, n) in [(Es256, "e"), (Ps256, "p"), (Rs256, "r")] {
            keys::insert(
                &mut conn,
                &key_for(alg, &format!("{n}1"), KeyState::Current),
            )
            .await
            .unwrap();
            keys::insert(&mut conn, &key_for(alg, &format!("{n}2"), KeyState::Next))
                .await
                .unwrap();
        }
        for state in [KeyState::Current, KeyState::Next] {
            assert!(matches!(
                keys::insert(&mut conn, &key_for(Rs256, "r3", state)).await,
                Err(StoreError::Conflict(_))
            ));
        }
        // Promoting one algorithm's next key while its current one is still
        // current is refused too; after that key steps down, it is not.
        assert!(matches!(
            keys::set_state(&mut conn, "p2", KeyState::Current, Some(5), None).await,
            Err(StoreError::Conflict(_))
        ));
        keys::set_state(&mut conn, "p1", KeyState::Previous, None, Some(50))
            .await
            .unwrap();
        keys::set_state(&mut conn, "p2", KeyState::Current, Some(5), None)
            .await
            .unwrap();
        let live = keys::list_live(&mut conn).await.unwrap();
        assert_eq!(live.len(), 6);
        let algs: Vec<_> = live
            .iter()
            .filter(|k| k.state == KeyState::Current)
            .map(|k| k.alg)
            .collect();
        assert_eq!(algs.len(), 3);
        for alg in [Es256, Ps256, Rs256] {
            assert!(algs.contains(&alg), "{alg} is read back");
        }
    }
);

both_backends!(
    async fn secrets_first_writer_wins(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        assert_eq!(secrets::get(&mut conn, "pairwise").await.unwrap(), None);
        let first = secrets::get_or_insert(&mut conn, "pairwise", b"one", 1)
            .await
            .unwrap();
        let second = secrets::get_or_insert(&mut conn, "pairwise", b"two", 2)
            .await
            .unwrap();
        assert_eq!(first, b"one");
        assert_eq!(second, b"one");
    }
);

both_backends!(
    async fn a_failed_transaction_leaves_nothing(db: TestDb) {
        let store = db.open().await;
        {
            let mut tx = store.begin().await.unwrap();
            citizens::insert(
                &mut tx,
                &sqin_store::testing::register_vault(),
                &citizen("c1", "R-1"),
            )
            .await
            .unwrap();
            enrolment::insert(&mut tx, &code(1, "c1", 1000))
                .await
                .unwrap();
            // The second half of the write fails: the whole transaction goes.
            let failed = citizens::insert(
                &mut tx,
                &sqin_store::testing::register_vault(),
                &citizen("c2", "R-1"),
            )
            .await;
            assert!(failed.is_err());
            // Dropped without commit, as when the process dies mid-write.
        }
        let mut conn = store.pool().acquire().await.unwrap();
        assert_eq!(citizens::count(&mut conn).await.unwrap(), 0);
        assert_eq!(enrolment::find(&mut conn, &[1; 32]).await.unwrap(), None);
    }
);

both_backends!(
    async fn migrations_are_idempotent(db: TestDb) {
        let store = db.open().await;
        store.migrate().await.unwrap();
        store.ping().await.unwrap();
        store.close().await;
        assert!(store.ping().await.is_err());
    }
);

both_backends!(
    async fn sessions_live_expire_and_revoke(db: TestDb) {
        use sqin_store::sessions::{self, SessionRecord};
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        citizens::insert(
            &mut conn,
            &sqin_store::testing::register_vault(),
            &citizen("c1", "R-1"),
        )
        .await
        .unwrap();
        let s = |id: u8| SessionRecord {
            id_hash: vec![id; 32],
            citizen_id: "c1".into(),
            auth_time: 10,
            acr: "urn:sqin:loa:substantial".into(),
            amr: vec!["hwk".into(), "user".into()],
            created_at: 10,
            expires_at: 100,
            revoked_at: None,
        };
        sessions::insert(&mut conn, &s(1)).await.unwrap();
        sessions::insert(&mut conn, &s(2)).await.unwrap();
        assert_eq!(
            sessions::find_live(&mut conn, &[1; 32], 50).await.unwrap(),
            Some(s(1))
        );
        assert_eq!(
            sessions::find_live(&mut conn, &[1; 32], 100).await.unwrap(),
            None
        );
        assert!(sessions::revoke(&mut conn, &[1; 32], 20).await.unwrap());
        assert!(!sessions::revoke(&mut conn, &[1; 32], 21).await.unwrap());
        assert_eq!(
            sessions::find_live(&mut conn, &[1; 32], 50).await.unwrap(),
            None
        );
        assert_eq!(
            sessions::live_for_citizen(&mut conn, "c1", 50)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            sessions::revoke_all_for_citizen(&mut conn, "c1", 30)
                .await
                .unwrap(),
            1
        );
        assert!(sessions::live_for_citizen(&mut conn, "c1", 50)
            .await
            .unwrap()
            .is_empty());
    }
);
