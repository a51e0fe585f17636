//! The register's personal fields are sealed at rest: a plain `SELECT`
//! shows none of them, only the vault with the right key-encryption key
//! opens a record, a record moved to another row does not open, and rows an
//! older version stored in clear are sealed on upgrade without loss.
use std::sync::Arc;

use sqin_crypto::{HmacKey, KeyEncryptionKey};
use sqin_store::citizens::{self, Citizen, CitizenStatus, RegisterVault};
use sqin_store::testing::{execute, find_in_clear, register_vault, scalar};
use sqin_store::{both_backends, StoreError};

fn citizen(id: &str, register_id: &str, given: &str, address: &str) -> Citizen {
    Citizen {
        id: id.into(),
        register_id: register_id.into(),
        given_name: given.into(),
        family_name: "Quenneville".into(),
        birthdate: "1961-04-23".into(),
        email: Some(format!("{given}@example.org").to_lowercase()),
        address: Some(address.into()),
        locale: Some("fr-CA".into()),
        status: CitizenStatus::Registered,
        created_at: 100,
        updated_at: 100,
    }
}

both_backends!(
    async fn no_personal_field_is_stored_in_clear(db: TestDb) {
        let store = db.open().await;
        let vault = register_vault();
        let mut conn = store.pool().acquire().await.unwrap();
        let marie = citizen("c1", "REG-77123", "Marie-Ève", "1200 rue Sauvé, Laval");
        citizens::insert(&mut conn, &vault, &marie).await.unwrap();
        let found = find_in_clear(
            &store,
            &[
                "REG-77123",
                "Marie-Ève",
                "Quenneville",
                "1961-04-23",
                "rue Sauvé",
                "marie-ève@example.org",
                "fr-CA",
            ],
        )
        .await;
        assert!(found.is_empty(), "in clear: {found:?}");
        // ... yet the server finds and opens it by register id.
        let got = citizens::by_register_id(&mut conn, &vault, "REG-77123")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, marie);
        assert_eq!(
            citizens::by_id(&mut conn, &vault, "c1").await.unwrap(),
            Some(marie.clone())
        );
        // A second account for the same identity is still refused.
        let twin = citizen("c2", "REG-77123", "Autre", "ailleurs");
        assert!(matches!(
            citizens::insert(&mut conn, &vault, &twin).await,
            Err(StoreError::Conflict(_))
        ));
    }
);

both_backends!(
    async fn a_record_opens_only_with_its_key_and_on_its_own_row(db: TestDb) {
        let store = db.open().await;
        let vault = register_vault();
        let mut conn = store.pool().acquire().await.unwrap();
        citizens::insert(&mut conn, &vault, &citizen("c1", "R-1", "Anne", "1 rue A"))
            .await
            .unwrap();
        citizens::insert(
            &mut conn,
            &vault,
            &citizen("c2", "R-2", "Benoît", "2 rue B"),
        )
        .await
        .unwrap();
        // Another deployment's key-encryption key (same lookup key, so the
        // row is found) opens nothing.
        let stranger = RegisterVault::new(
            Arc::new(KeyEncryptionKey::from_bytes(&[1; 32]).unwrap()),
            HmacKey::from_bytes([0xa5; 32]),
        );
        assert!(matches!(
            citizens::by_register_id(&mut conn, &stranger, "R-1").await,
            Err(StoreError::Corrupt(_))
        ));
        // Without the lookup key the register id finds nothing.
        let no_lookup = RegisterVault::new(
            Arc::new(KeyEncryptionKey::from_bytes(&[0x5a; 32]).unwrap()),
            HmacKey::from_bytes([2; 32]),
        );
        assert_eq!(
            citizens::by_register_id(&mut conn, &no_lookup, "R-1")
                .await
                .unwrap(),
            None
        );
        // Someone with database access copies Anne's sealed record and key
        // onto Benoît's row: it does not open as Benoît.
        drop(conn);
        execute(
            store.pool(),
            "UPDATE citizens SET sealed_record = (SELECT sealed_record FROM citizens WHERE id = 'c1'),
                                 wrapped_key = (SELECT wrapped_key FROM citizens WHERE id = 'c1')
             WHERE id = 'c2'",
        )
        .await;
        let mut conn = store.pool().acquire().await.unwrap();
        assert!(matches!(
            citizens::by_id(&mut conn, &vault, "c2").await,
            Err(StoreError::Corrupt(_))
        ));
        // Deleting the row (closing the account) leaves no key to open a
        // backup's copy with.
        assert!(citizens::delete(&mut conn, "c1").await.unwrap());
        assert_eq!(
            scalar(
                store.pool(),
                "SELECT COUNT(*) FROM citizens WHERE id = 'c1'"
            )
            .await,
            0
        );
    }
);

both_backends!(
    async fn rows_stored_in_clear_by_an_older_version_are_sealed_on_upgrade(db: TestDb) {
        let store = db.connect().await;
        store.migrate_until(12).await.unwrap();
        execute(
            store.pool(),
            "INSERT INTO citizens (id, register_id, given_name, family_name, birthdate, email, address, locale, status, created_at, updated_at)
             VALUES ('old1', 'R-OLD-1', 'Gisèle', 'Lapointe', '1950-02-11', NULL, '9 rang Nord, Rimouski', 'fr', 'enrolled', 10, 20),
                    ('old2', 'R-OLD-2', 'Hugo', 'Bérubé', '1977-08-30', 'hugo@example.org', NULL, NULL, 'registered', 11, 11)",
        )
        .await;
        // A row that refers to the citizen survives the upgrade.
        sqlx::query(
            "INSERT INTO sessions (id_hash, citizen_id, auth_time, acr, amr, created_at, expires_at)
             VALUES ($1, 'old1', 1, 'loa2', '[]', 1, 99999999999)",
        )
        .bind(vec![7u8; 32])
        .execute(store.pool())
        .await
        .unwrap();
        store.migrate().await.unwrap();
        // Before the server seals them, the clear fields sit only in the
        // holding table and reading such a row is an error, not a guess.
        assert_eq!(
            scalar(store.pool(), "SELECT COUNT(*) FROM citizens_unsealed").await,
            2
        );
        // (and the scan that proves the absence elsewhere does see them)
        let found = find_in_clear(&store, &["Gisèle", "9 rang Nord", "R-OLD-2"]).await;
        assert_eq!(
            found,
            vec![
                "citizens.register_key: R-OLD-2",
                "citizens_unsealed.address: 9 rang Nord",
                "citizens_unsealed.given_name: Gisèle",
                "citizens_unsealed.register_id: R-OLD-2",
            ],
        );
        let vault = register_vault();
        let mut conn = store.pool().acquire().await.unwrap();
        assert!(matches!(
            citizens::by_id(&mut conn, &vault, "old1").await,
            Err(StoreError::Corrupt(_))
        ));
        let mut batches = 0;
        let sealed = citizens::seal_unsealed(&mut conn, &vault, |_| batches += 1)
            .await
            .unwrap();
        assert_eq!((sealed, batches), (2, 1));
        let gisele = citizens::by_register_id(&mut conn, &vault, "R-OLD-1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                gisele.id.as_str(),
                gisele.given_name.as_str(),
                gisele.address.as_deref()
            ),
            ("old1", "Gisèle", Some("9 rang Nord, Rimouski"))
        );
        assert_eq!(
            (gisele.status, gisele.created_at, gisele.updated_at),
            (CitizenStatus::Enrolled, 10, 20)
        );
        let hugo = citizens::by_id(&mut conn, &vault, "old2")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(hugo.email.as_deref(), Some("hugo@example.org"));
        assert_eq!(hugo.address, None);
        // Nothing left in clear; a second run has nothing to do.
        let found = find_in_clear(
            &store,
            &[
                "R-OLD-1",
                "Gisèle",
                "Lapointe",
                "1950-02-11",
                "rang Nord",
                "Bérubé",
            ],
        )
        .await;
        assert!(found.is_empty(), "in clear: {found:?}");
        assert_eq!(
            citizens::seal_unsealed(&mut conn, &vault, |_| ())
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            scalar(
                store.pool(),
                "SELECT COUNT(*) FROM sessions WHERE citizen_id = 'old1'"
            )
            .await,
            1
        );
    }
);
