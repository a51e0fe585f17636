//! `sqin citizen import FILE.csv` before it writes: the register extract
//! read and validated by `sqin_register::parse_csv` (header, every row's
//! `NewCitizen::validate`, duplicates). Invariants: what it accepts is in
//! canonical form, validates again unchanged, and holds no register_id twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use time::macros::date;

fuzz_target!(|data: &[u8]| {
    let today = date!(2026 - 06 - 01);
    let Ok(rows) = sqin_register::parse_csv(data, today) else {
        return;
    };
    assert!(!rows.is_empty());
    let mut ids = std::collections::HashSet::new();
    for (line, row) in rows {
        assert!(line >= 2);
        assert!(ids.insert(row.register_id.clone()), "register_id twice");
        assert_eq!(
            row.clone().validate(today).as_ref(),
            Ok(&row),
            "not canonical"
        );
        for field in [
            &row.register_id,
            &row.given_name,
            &row.family_name,
            &row.birthdate,
        ] {
            assert_eq!(field.trim(), field.as_str());
            assert!(!field.is_empty() && !field.chars().any(char::is_control));
        }
    }
});
