//! `sqin report` as a real process on both backends: the period's
//! incidents counted in JSON, the HTML written whole to a file, and a clear
//! refusal of a bad period or language.
use crate::cli::Sqin;
use sqin_store::both_backends;

fn day(offset_days: i64) -> String {
    let d = time::OffsetDateTime::now_utc().date() + time::Duration::days(offset_days);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

both_backends!(
    async fn the_report_counts_the_periods_incidents_and_refuses_a_bad_period(db: TestDb) {
        let sqin = Sqin::new(&db);
        sqin.ok(&[
            "incident",
            "record",
            "--by",
            "po-1",
            "--information",
            "Dates of birth of 3 citizens",
            "--element",
            "citizen.birthdate",
            "--circumstances",
            "A letter sent to the wrong address",
            "--occurred",
            &day(-1),
            "--aware",
            &day(0),
            "--persons",
            "3",
            "--consequences",
            "2",
            "--likelihood",
            "3",
            "--reasoning",
            "Dates of birth in a stranger's hands",
            "--measures",
            "The letters were recalled",
        ]);
        let (today, tomorrow) = (day(0), day(1));
        let json: serde_json::Value = serde_json::from_str(&sqin.ok(&[
            "report", "--from", &today, "--to", &today, "--format", "json",
        ]))
        .unwrap();
        assert_eq!(json["format"], "sqin-commission-report/1");
        assert_eq!(json["incidents"]["recorded"], 1);
        assert_eq!(json["incidents"]["serious"], 1);
        assert_eq!(json["complaints"]["deadline_days"], 30);
        assert!(!json.to_string().contains("wrong address"), "no free text");
        // Another period holds none of it.
        let later: serde_json::Value = serde_json::from_str(&sqin.ok(&[
            "report", "--from", &tomorrow, "--to", &tomorrow, "--format", "json",
        ]))
        .unwrap();
        assert_eq!(later["incidents"]["recorded"], 0);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rapport.html");
        sqin.ok(&[
            "report",
            "--from",
            &today,
            "--to",
            &today,
            "--output",
            file.to_str().unwrap(),
        ]);
        let html = std::fs::read_to_string(&file).unwrap();
        assert!(html.starts_with("<!doctype html>") && html.contains("lang=\"fr\""));
        assert!(html.contains("Incidents de confidentialité"));
        assert!(!dir.path().join("rapport.partial").exists());

        let err = sqin.fails(&["report", "--from", "2026-13-01", "--to", &today]);
        assert!(err.contains("is not a date"), "{err}");
        let err = sqin.fails(&["report", "--from", &tomorrow, "--to", &today]);
        assert!(err.contains("must end after it starts"), "{err}");
        let err = sqin.fails(&["report", "--from", "2020-01-01", "--to", &today]);
        assert!(err.contains("at most two years"), "{err}");
        let err = sqin.fails(&["report", "--from", &today, "--to", &today, "--lang", "de"]);
        assert!(err.contains("fr or en"), "{err}");
    }
);
