//! Every column of the schema, on both backends, is classified: personal
//! information declared to the PIA (`PERSONAL_DATA`) or not personal, with a
//! reason (`NOT_PERSONAL`). A migration that adds a table or column without
//! that decision fails here; so does a list entry naming nothing.
use std::collections::BTreeSet;

use sqin_store::{both_backends, Backend, NOT_PERSONAL, PERSONAL_DATA};
use sqlx::Row;

async fn columns(store: &sqin_store::Store) -> BTreeSet<(String, String)> {
    let mut conn = store.pool().acquire().await.unwrap();
    let sql = match store.backend() {
        Backend::Sqlite => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'"
        }
        Backend::Postgres => {
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'"
        }
    };
    sqlx::query(sql)
        .fetch_all(&mut *conn)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get::<String, _>("t"), r.get::<String, _>("c")))
        .collect()
}

fn split(place: &str) -> (&str, &str) {
    place
        .split_once('.')
        .unwrap_or_else(|| panic!("{place:?} is not table.column or table.*"))
}

both_backends!(
    async fn every_column_is_classified(db: TestDb) {
        let store = db.open().await;
        let schema = columns(&store).await;
        assert!(schema.len() > 50, "{schema:?}");
        let places: Vec<&str> = PERSONAL_DATA
            .iter()
            .map(|(_, p)| *p)
            .chain(NOT_PERSONAL.iter().map(|(p, _)| *p))
            .collect();
        let unclassified: Vec<String> = schema
            .iter()
            .filter(|(t, c)| {
                !places.iter().any(|p| {
                    let (pt, pc) = split(p);
                    pt == t && (pc == "*" || pc == c)
                })
            })
            .map(|(t, c)| format!("{t}.{c}"))
            .collect();
        assert!(
            unclassified.is_empty(),
            "columns neither in PERSONAL_DATA nor in NOT_PERSONAL (crates/store/src/lib.rs): {unclassified:?}"
        );
        for place in places {
            let (t, c) = split(place);
            // PostgreSQL serialises appenders with an advisory lock instead.
            if t == "ledger_lock" && store.backend() == Backend::Postgres {
                continue;
            }
            assert!(
                schema
                    .iter()
                    .any(|(st, sc)| st == t && (c == "*" || sc == c)),
                "{place} names no column of the schema"
            );
        }
        // Nothing is both (a whole table on one list and any of its columns
        // on the other counts as both).
        for (p, _) in NOT_PERSONAL {
            let (t, c) = split(p);
            assert!(
                !PERSONAL_DATA.iter().any(|(_, q)| {
                    let (qt, qc) = split(q);
                    qt == t && (c == "*" || qc == "*" || qc == c)
                }),
                "{p} is listed as personal and as not personal"
            );
        }
    }
);
