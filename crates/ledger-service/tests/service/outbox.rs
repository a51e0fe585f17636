//! The passkey service's security events reach the ledger exactly once, with
//! their own time, on SQLite and PostgreSQL, even with two nodes draining.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::*;
use sqin_ledger_service::history::{self, HistoryFilter};
use sqin_ledger_service::outbox::drain_security_events;
use sqin_ledger_service::{EntryKind, LedgerEvent};
use sqin_store::citizens::{self, Citizen, CitizenStatus};
use sqin_store::{both_backends, security_events, Store};

async fn citizen(store: &Store, id: &str) {
    let mut conn = store.pool().acquire().await.unwrap();
    citizens::insert(
        &mut conn,
        &sqin_store::testing::register_vault(),
        &Citizen {
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
        },
    )
    .await
    .unwrap();
}

both_backends!(
    async fn security_events_are_moved_into_the_ledger_once(db: TestDb) {
        let store = db.open().await;
        let ledger = open_ledger(&store).await;
        citizen(&store, "alice").await;
        let mut conn = store.pool().acquire().await.unwrap();
        let events = [
            ("enrolled", r#"{"passkey":"Phone"}"#),
            (
                "sign_in",
                r#"{"passkey":"Phone","acr":"urn:sqin:loa:substantial"}"#,
            ),
            ("passkey_added", r#"{"passkey":"Laptop"}"#),
            ("passkey_renamed", r#"{"from":"Laptop","to":"Work"}"#),
            ("passkey_removed", r#"{"passkey":"Work"}"#),
            ("code_refused", r#"{"locked":true}"#),
            ("code_reissued", r#"{"purpose":"recovery"}"#),
            ("recovered", r#"{"passkey":"New phone","sessions_ended":3}"#),
            ("sign_count_regression", r#"{"passkey":"Phone"}"#),
            ("from_the_future", r#"{}"#),
        ];
        for (i, (kind, detail)) in events.iter().enumerate() {
            security_events::insert(&mut conn, "alice", kind, detail, T0 + i as i64)
                .await
                .unwrap();
        }
        // Two nodes drain at once: each event lands once.
        let other = Store::open(&db.url).await.unwrap();
        let other_ledger = open_ledger(&other).await;
        let (a, b) = tokio::join!(
            async {
                let mut c = store.pool().acquire().await.unwrap();
                drain_security_events(&mut c, &ledger, T0 + 100)
                    .await
                    .unwrap()
            },
            async {
                let mut c = other.pool().acquire().await.unwrap();
                drain_security_events(&mut c, &other_ledger, T0 + 100)
                    .await
                    .unwrap()
            }
        );
        assert_eq!(a + b, 8, "renames and unknown kinds are not ledger events");
        assert!(security_events::unexported(&mut conn, 100)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            drain_security_events(&mut conn, &ledger, T0 + 200)
                .await
                .unwrap(),
            0
        );

        let view = history::download(
            &mut conn,
            &ledger,
            "alice",
            &HistoryFilter::default(),
            T0 + 300,
        )
        .await
        .unwrap();
        let kinds: Vec<EntryKind> = view.entries.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EntryKind::PasskeyAdded,
                EntryKind::SignIn,
                EntryKind::PasskeyAdded,
                EntryKind::PasskeyRemoved,
                EntryKind::CodeRefused,
                EntryKind::CodeReissued,
                EntryKind::Recovery,
                EntryKind::SignCountRegression,
            ]
        );
        // Each entry has the time the event happened, not the time it moved.
        let times: Vec<i64> = view.entries.iter().map(|e| e.time_unix).collect();
        assert_eq!(
            times,
            [T0, T0 + 1, T0 + 2, T0 + 4, T0 + 5, T0 + 6, T0 + 7, T0 + 8]
        );
        match view.entries[6].details.as_ref().unwrap() {
            LedgerEvent::Recovery {
                passkey,
                sessions_ended,
                ..
            } => {
                assert_eq!(passkey.as_deref(), Some("New phone"));
                assert_eq!(*sessions_ended, Some(3));
            }
            other => panic!("{other:?}"),
        }
        match view.entries[0].details.as_ref().unwrap() {
            LedgerEvent::PasskeyAdded { via, .. } => assert_eq!(via.as_deref(), Some("enrolment")),
            other => panic!("{other:?}"),
        }
        other.close().await;
    }
);
