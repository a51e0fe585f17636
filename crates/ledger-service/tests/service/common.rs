//! Shared set-up for the ledger service's tests: a fresh database on each
//! backend, a ledger on it, events of every kind, and tampering helpers that
//! bypass the append-only triggers the way an attacker with database access
//! would.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::AtomicBool;

use sqin_crypto::KeyEncryptionKey;
use sqin_ledger_service::{
    append, append_sequenced, export, sequence, verify, DisclosureEndpoint, EntryId, Ledger,
    LedgerEvent, LedgerServiceError, LedgerSettings, VerifyOptions, VerifyReport,
};
use sqin_store::{Backend, Store};

pub const ORIGIN: &str = "id.test.example/ledger";
pub const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

pub fn kek() -> KeyEncryptionKey {
    KeyEncryptionKey::from_bytes(&[7u8; 32]).unwrap()
}

pub async fn open_ledger(store: &Store) -> Ledger {
    Ledger::open(store, &kek(), LedgerSettings::new(ORIGIN), T0)
        .await
        .unwrap()
}

pub fn disclosure(citizen: &str, client: &str, claims: &[&str]) -> LedgerEvent {
    LedgerEvent::Disclosure {
        citizen_id: citizen.into(),
        client_id: client.into(),
        consent_id: Some(format!("consent-{citizen}-{client}")),
        grant_id: Some("grant-1".into()),
        endpoint: DisclosureEndpoint::IdToken,
        claims: claims.iter().map(|c| (*c).to_owned()).collect(),
    }
}

pub fn consent(citizen: &str, client: &str, expires_at: i64) -> LedgerEvent {
    LedgerEvent::ConsentGranted {
        citizen_id: citizen.into(),
        client_id: client.into(),
        consent_id: format!("consent-{citizen}-{client}"),
        purpose: "Apply for a childcare allowance".into(),
        scopes: vec!["openid".into(), "profile".into()],
        claims: vec!["given_name".into(), "birthdate".into()],
        notice_version: Some("2026-01".into()),
        expires_at,
    }
}

/// One event of every caller-side kind, in turn.
pub fn event(i: u64, citizen: &str) -> LedgerEvent {
    let c = citizen.to_owned();
    match i % 12 {
        0 => consent(citizen, "famille", T0 + 365 * 86_400),
        1 => disclosure(citizen, "famille", &["given_name", "birthdate"]),
        2 => LedgerEvent::SignIn {
            citizen_id: c,
            client_id: Some("famille".into()),
            acr: "urn:sqin:loa:substantial".into(),
            amr: vec!["hwk".into(), "user".into()],
            passkey: Some("pk-1".into()),
        },
        3 => LedgerEvent::StaffAccess {
            citizen_id: c,
            staff_id: "agent-17".into(),
            role: "support".into(),
            purpose: "Ticket 4411: citizen asked to fix their address".into(),
            seen: vec!["address".into(), "email".into()],
            action: None,
            reference: None,
        },
        4 => LedgerEvent::PasskeyAdded {
            citizen_id: c,
            passkey: "pk-1".into(),
            name: Some("Phone".into()),
            via: Some("account".into()),
        },
        5 => LedgerEvent::PasskeyRemoved {
            citizen_id: c,
            passkey: "pk-0".into(),
            name: None,
        },
        6 => LedgerEvent::CodeReissued {
            citizen_id: c,
            purpose: "recovery".into(),
        },
        7 => LedgerEvent::Recovery {
            citizen_id: c,
            step: "passkey_registered".into(),
            passkey: Some("pk-2".into()),
            sessions_ended: Some(2),
        },
        8 => LedgerEvent::SignCountRegression {
            citizen_id: c,
            passkey: "pk-1".into(),
            stored: Some(10),
            presented: Some(3),
        },
        9 => LedgerEvent::ConsentRevoked {
            citizen_id: c,
            client_id: "famille".into(),
            consent_id: format!("consent-{citizen}-famille"),
            reason: "citizen".into(),
        },
        10 => LedgerEvent::ConsentExpired {
            citizen_id: c,
            client_id: "impots".into(),
            consent_id: format!("consent-{citizen}-impots"),
        },
        _ => LedgerEvent::CodeRefused {
            citizen_id: c,
            locked: true,
        },
    }
}

/// Appends `n` events, each in its own transaction, one second apart,
/// alternating the queued path and the in-transaction path, then sequences
/// what is queued. Returns the entries' sequence numbers, in order.
pub async fn fill(store: &Store, ledger: &Ledger, n: u64) -> Vec<EntryId> {
    let mut uids = Vec::new();
    for i in 0..n {
        let mut tx = store.begin().await.unwrap();
        let citizen = format!("citizen-{}", i % 3);
        let at = T0 + i as i64;
        if i % 2 == 0 {
            uids.push(Err(append(&mut tx, ledger, event(i, &citizen), at)
                .await
                .unwrap()));
        } else {
            uids.push(Ok(append_sequenced(
                &mut tx,
                ledger,
                event(i, &citizen),
                at,
            )
            .await
            .unwrap()));
        }
        tx.commit().await.unwrap();
    }
    let mut conn = store.pool().acquire().await.unwrap();
    sequence(&mut conn, ledger).await.unwrap();
    let mut ids = Vec::new();
    for uid in uids {
        ids.push(match uid {
            Ok(id) => id,
            Err(queued) => queued.entry_id(&mut conn).await.unwrap().unwrap(),
        });
    }
    ids
}

/// Drops the append-only triggers, as someone with the database's owner
/// rights could.
pub async fn drop_guards(store: &Store) {
    let statements: &[&str] = match store.backend() {
        Backend::Sqlite => &[
            "DROP TRIGGER ledger_entries_no_update",
            "DROP TRIGGER ledger_entries_no_delete",
            "DROP TRIGGER ledger_nodes_no_update",
            "DROP TRIGGER ledger_nodes_no_delete",
            "DROP TRIGGER ledger_checkpoints_no_update",
            "DROP TRIGGER ledger_checkpoints_no_delete",
        ],
        Backend::Postgres => &[
            "DROP TRIGGER ledger_entries_append_only ON ledger_entries",
            "DROP TRIGGER ledger_nodes_append_only ON ledger_nodes",
            "DROP TRIGGER ledger_checkpoints_append_only ON ledger_checkpoints",
        ],
    };
    for sql in statements {
        sqlx::query(sql).execute(store.pool()).await.unwrap();
    }
}

pub async fn exec(store: &Store, sql: &str) {
    sqlx::query(sql).execute(store.pool()).await.unwrap();
}

pub async fn entry_bytes(store: &Store, seq: i64) -> (Vec<u8>, Vec<u8>) {
    let mut conn = store.pool().acquire().await.unwrap();
    let row = sqin_store::ledger::entry(&mut conn, seq)
        .await
        .unwrap()
        .unwrap();
    (row.entry, row.leaf_hash)
}

pub async fn set_entry(store: &Store, seq: i64, entry: &[u8], leaf_hash: &[u8]) {
    sqlx::query("UPDATE ledger_entries SET entry = $1, leaf_hash = $2 WHERE seq = $3")
        .bind(entry)
        .bind(leaf_hash)
        .bind(seq)
        .execute(store.pool())
        .await
        .unwrap();
}

pub async fn set_node(store: &Store, level: i64, idx: i64, hash: &[u8]) {
    sqlx::query("UPDATE ledger_nodes SET hash = $1 WHERE level = $2 AND idx = $3")
        .bind(hash)
        .bind(level)
        .bind(idx)
        .execute(store.pool())
        .await
        .unwrap();
}

/// `verify_store` on the stored log.
pub async fn verify_stored(
    store: &Store,
    ledger: &Ledger,
    opts: &VerifyOptions,
) -> Result<VerifyReport, LedgerServiceError> {
    let mut conn = store.pool().acquire().await.unwrap();
    verify::verify_store(
        &mut conn,
        ledger,
        opts,
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
    .await
}

/// An export of the stored log, verified offline.
pub async fn verify_exported(
    store: &Store,
    ledger: &Ledger,
    opts: &VerifyOptions,
) -> Result<VerifyReport, LedgerServiceError> {
    let text = export_text(store, ledger, T0).await;
    verify::verify_export(
        text.as_bytes(),
        opts,
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
}

/// The stored log exported at `now`, as text.
pub async fn export_text(store: &Store, ledger: &Ledger, now: i64) -> String {
    let mut conn = store.pool().acquire().await.unwrap();
    let mut out = Vec::new();
    export::export(
        &mut conn,
        ledger,
        &mut out,
        now,
        &mut |_, _| {},
        &AtomicBool::new(false),
    )
    .await
    .unwrap();
    String::from_utf8(out).unwrap()
}
