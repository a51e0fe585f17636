//! The staff directory and the staff access register on both backends.
use sqin_store::staff::{self, StaffGrant, StaffMember, StaffSession};
use sqin_store::staff_access::{self, AccessFilter, AccessRecord};
use sqin_store::{both_backends, testing};

fn member(id: &str, badge: &str) -> StaffMember {
    StaffMember {
        id: id.into(),
        display_name: format!("Member {id}"),
        badge: badge.into(),
        created_at: 100,
        created_by: "operator".into(),
        disabled_at: None,
    }
}

fn record(at: i64, staff: &str) -> AccessRecord {
    AccessRecord {
        seq: 0,
        at,
        staff_id: staff.into(),
        badge: "Agent AAAA".into(),
        role: "support".into(),
        action: "file.lookup".into(),
        purpose: "account-service".into(),
        reference: "T-1".into(),
        citizen_ref: vec![1, 2, 3],
        elements: vec!["citizen.given_name".into()],
    }
}

both_backends!(
    async fn grants_hold_only_while_live_and_the_member_is_active(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        staff::insert_member(&mut conn, &member("s1", "Agent AAAA"))
            .await
            .unwrap();
        assert!(staff::insert_member(&mut conn, &member("s2", "Agent AAAA"))
            .await
            .is_err());
        for (id, role, expires, revoked) in [
            ("g1", "support", 1000, None),
            ("g2", "registrar", 150, None),
            ("g3", "privacy-officer", 1000, Some(120)),
        ] {
            staff::insert_grant(
                &mut conn,
                &StaffGrant {
                    id: id.into(),
                    staff_id: "s1".into(),
                    role: role.into(),
                    reason: "hired".into(),
                    requested_by: "operator".into(),
                    approved_by: "operator".into(),
                    granted_at: 100,
                    expires_at: expires,
                    revoked_at: revoked,
                    revoked_by: revoked.map(|_| "Agent BBBB".into()),
                },
            )
            .await
            .unwrap();
        }
        let live: Vec<String> = staff::live_grants(&mut conn, "s1", 200)
            .await
            .unwrap()
            .into_iter()
            .map(|g| g.role)
            .collect();
        assert_eq!(live, vec!["support"]);
        assert_eq!(
            staff::holders_of(&mut conn, "support", 200).await.unwrap(),
            1
        );
        assert!(staff::disable_member(&mut conn, "s1", 300).await.unwrap());
        assert!(staff::live_grants(&mut conn, "s1", 301)
            .await
            .unwrap()
            .is_empty());
    }
);

both_backends!(
    async fn staff_sessions_end_when_idle_or_past_their_end(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        staff::insert_member(&mut conn, &member("s1", "Agent AAAA"))
            .await
            .unwrap();
        staff::insert_session(
            &mut conn,
            &StaffSession {
                token_hash: vec![9; 32],
                staff_id: "s1".into(),
                created_at: 1000,
                last_seen_at: 1000,
                reauth_at: 1000,
                expires_at: 5000,
                ended_at: None,
            },
        )
        .await
        .unwrap();
        assert!(staff::touch_session(&mut conn, &[9; 32], 1500, 900)
            .await
            .unwrap()
            .is_some());
        assert!(
            staff::touch_session(&mut conn, &[9; 32], 2401, 900)
                .await
                .unwrap()
                .is_none(),
            "idle"
        );
        assert!(staff::touch_session(&mut conn, &[9; 32], 2300, 900)
            .await
            .unwrap()
            .is_some());
        assert!(staff::reauthenticated(&mut conn, &[9; 32], 2310)
            .await
            .unwrap());
        assert!(
            staff::touch_session(&mut conn, &[9; 32], 5000, 900)
                .await
                .unwrap()
                .is_none(),
            "absolute end"
        );
        assert!(staff::end_session(&mut conn, &[9; 32], 2320).await.unwrap());
        assert!(staff::touch_session(&mut conn, &[9; 32], 2330, 900)
            .await
            .unwrap()
            .is_none());
    }
);

both_backends!(
    async fn the_access_register_refuses_changes_but_its_retention_purge(db: TestDb) {
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        let first = staff_access::append(&mut conn, &record(100, "s1"))
            .await
            .unwrap();
        staff_access::append(&mut conn, &record(200, "s1"))
            .await
            .unwrap();
        staff_access::append(&mut conn, &record(300, "s2"))
            .await
            .unwrap();
        // The storage itself refuses edits and deletions.
        let pool = store.pool();
        for sql in [
            format!("UPDATE staff_access_log SET purpose = 'x' WHERE seq = {first}"),
            format!("DELETE FROM staff_access_log WHERE seq = {first}"),
        ] {
            let refused = sqlx::query(&sql).execute(pool).await;
            assert!(refused.is_err(), "{sql} was accepted");
        }
        assert_eq!(
            testing::scalar(pool, "SELECT COUNT(*) FROM staff_access_log").await,
            3
        );
        assert_eq!(
            staff_access::lookups_since(&mut conn, "s1", 150)
                .await
                .unwrap(),
            1
        );
        let mine = staff_access::list(
            &mut conn,
            &AccessFilter {
                staff_id: Some("s1".into()),
                ..Default::default()
            },
            100,
        )
        .await
        .unwrap();
        assert_eq!(mine.len(), 2);
        assert_eq!(mine[0].elements, vec!["citizen.given_name"]);
        // The retention purge deletes what is older than its cutoff, and
        // leaves no permit behind.
        let mut tx = sqin_store::begin_on(&mut conn).await.unwrap();
        assert_eq!(staff_access::purge_before(&mut tx, 250).await.unwrap(), 2);
        tx.commit().await.unwrap();
        assert_eq!(
            testing::scalar(pool, "SELECT COUNT(*) FROM staff_access_log").await,
            1
        );
        assert_eq!(
            testing::scalar(pool, "SELECT COUNT(*) FROM staff_access_purge").await,
            0
        );
        let refused = sqlx::query("DELETE FROM staff_access_log")
            .execute(pool)
            .await;
        assert!(refused.is_err());
    }
);
