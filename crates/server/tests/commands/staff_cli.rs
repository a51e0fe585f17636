//! `sqin incident` and `sqin staff invite` as real processes on both
//! backends, and what the CLI no longer does.
use crate::cli::{path, Sqin, GOOD};
use sqin_store::both_backends;

both_backends!(
    async fn the_incident_register_applies_the_grid_and_exports_for_the_commission(db: TestDb) {
        let sqin = Sqin::new(&db);
        let record = |elements: &[&str], consequences: &str, likelihood: &str| {
            let mut args = vec![
                "incident",
                "record",
                "--by",
                "po-1",
                "--information",
                "Dates of birth and addresses of 10 citizens",
                "--circumstances",
                "Enrolment letters stolen from a mailroom",
                "--occurred",
                "2026-11-20",
                "--aware",
                "2026-11-21",
                "--persons",
                "10",
                "--consequences",
                consequences,
                "--likelihood",
                likelihood,
                "--reasoning",
                "Clear codes and addresses in a thief's hands",
                "--measures",
                "Codes revoked and reissued",
            ];
            for e in elements {
                args.push("--element");
                args.push(e);
            }
            sqin.run(&args)
        };
        // Sensitivity from the PIA (the date of birth is high): serious.
        let out = record(&["citizen.birthdate", "citizen.locale"], "2", "3");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let entry: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(entry["sensitivity"], 3);
        assert_eq!(entry["serious"], true);
        assert!(String::from_utf8_lossy(&out.stderr).contains("notify the Commission"));
        let number = entry["number"].as_str().unwrap().to_owned();
        // The language alone, little likely misuse: not serious.
        let out = record(&["citizen.locale"], "1", "1");
        let calm: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (calm["sensitivity"].as_i64(), calm["serious"].as_bool()),
            (Some(1), Some(false))
        );
        assert_ne!(calm["number"], entry["number"]);
        // Refused: an element the PIA does not have, a score out of range.
        let out = record(&["citizen.shoe_size"], "1", "1");
        assert!(String::from_utf8_lossy(&out.stderr).contains("not an element of the PIA"));
        let out = record(&["citizen.locale"], "4", "1");
        assert!(String::from_utf8_lossy(&out.stderr).contains("1, 2 or 3"));

        sqin.ok(&[
            "incident",
            "add",
            &number,
            "--by",
            "po-1",
            "--kind",
            "notice_commission",
            "--text",
            "Notice sent to the Commission",
        ]);
        let err = sqin.fails(&[
            "incident", "add", &number, "--by", "po-1", "--kind", "rewrite", "--text", "x",
        ]);
        assert!(err.contains("notice_commission"), "{err}");
        let register: serde_json::Value =
            serde_json::from_str(&sqin.ok(&["incident", "export"])).unwrap();
        let first = register
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["number"] == number.as_str())
            .unwrap();
        assert_eq!(
            first["1_information_concerned"],
            "Dates of birth and addresses of 10 citizens"
        );
        assert_eq!(first["5_persons_concerned"], "10");
        assert_eq!(first["6_risk"]["serious"], true);
        assert_eq!(first["7_notices"][0]["kind"], "notice_commission");
        assert!(first["4_became_aware"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-21"));
    }
);

both_backends!(
    async fn the_operator_bootstraps_the_staff_plane_and_no_command_shows_a_file(db: TestDb) {
        let sqin = Sqin::new(&db);
        // The first privacy officer, then the first administrator (in
        // either order: one privacy officer alone cannot grant with four
        // eyes).
        let out = sqin.ok(&[
            "staff",
            "invite",
            "--name",
            "Paule Officer",
            "--role",
            "privacy-officer",
        ]);
        let officer: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(officer["badge"].as_str().unwrap().starts_with("Agent "));
        assert!(officer["invitation_code"].as_str().unwrap().len() >= 20);
        let out = sqin.ok(&[
            "staff",
            "invite",
            "--name",
            "Ada Admin",
            "--role",
            "administrator",
        ]);
        let admin: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_ne!(officer["badge"], admin["badge"]);
        // Only a privacy officer may grant that role, and nobody approves
        // their own request: the operator adds the second one.
        sqin.ok(&[
            "staff",
            "invite",
            "--name",
            "Second Officer",
            "--role",
            "privacy-officer",
        ]);
        // After that, the console with four eyes: the CLI refuses.
        for role in ["support", "privacy-officer", "administrator"] {
            let err = sqin.fails(&["staff", "invite", "--name", "Sam", "--role", role]);
            assert!(err.contains("staff console"), "{role}: {err}");
        }
        let err = sqin.fails(&["staff", "invite", "--name", "Sam", "--role", "overlord"]);
        assert!(err.contains("no staff role"), "{err}");
        // Both invitations are public governance entries of the operator.
        let store = db.open().await;
        let mut conn = store.pool().acquire().await.unwrap();
        let entries = sqin_store::ledger::entries_of_kind(&mut conn, "governance")
            .await
            .unwrap();
        let text: Vec<String> = entries
            .iter()
            .map(|e| String::from_utf8_lossy(&e.entry).into_owned())
            .collect();
        assert_eq!(
            text.iter()
                .filter(|t| t.contains("staff.invited") && t.contains("\"operator\""))
                .count(),
            3,
            "{text:?}"
        );

        // The commands that showed a citizen's file, reissued a code on the
        // operator's screen or closed an account are gone.
        for args in [
            &["staff", "lookup", "R-1"][..],
            &["citizen", "reissue-code", "R-1"],
            &["citizen", "delete", "R-1", "--yes"],
            &["complaint", "list"],
        ] {
            let err = sqin.fails(args);
            assert!(err.contains("unrecognized subcommand"), "{args:?}: {err}");
        }
        // What remains prints no citizen's name or birthdate: the import
        // prints register ids and codes for the mail merge, nothing else.
        let csv = sqin.write("register.csv", GOOD);
        let out = sqin.ok(&["citizen", "import", path(&csv)]);
        for value in ["Aline", "Tremblay", "1984-03-02"] {
            assert!(!out.contains(value), "{value} in {out}");
        }
    }
);
