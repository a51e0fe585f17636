//! Staff look a citizen's file up only as the PIA's roles allow, and the
//! citizen sees every look-up ("who looked at my file"): who, in which role,
//! for what stated purpose, which elements, never the values.
use sqin_app::staff::{lookup, LookupRequest};
use sqin_tests::*;

fn request(role: &str, purpose: &str, verify: &[(&str, &str)]) -> LookupRequest {
    LookupRequest {
        register_id: "R-1".into(),
        staff_id: "agent-7".into(),
        role: role.into(),
        purpose: purpose.into(),
        verify: verify
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

both_backends!(
    async fn staff_see_what_their_role_allows_and_the_citizen_sees_them(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-1").await;
        let now = server.now();

        // Support: the names, contact and status; the date of birth only
        // checked, never shown; no address.
        let seen = lookup(
            &server.services,
            &request(
                "support",
                "Phone call: lost enrolment letter",
                &[("citizen.birthdate", "1984-03-02")],
            ),
            now,
        )
        .await
        .unwrap();
        let keys: Vec<&str> = seen.shown.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            vec![
                "citizen.email",
                "citizen.family_name",
                "citizen.given_name",
                "citizen.locale",
                "citizen.status"
            ]
        );
        assert_eq!(seen.shown["citizen.given_name"].as_deref(), Some("Aline"));
        assert!(seen.verified["citizen.birthdate"]);
        let wrong = lookup(
            &server.services,
            &request(
                "support",
                "Second call",
                &[("citizen.birthdate", "1990-01-01")],
            ),
            now,
        )
        .await
        .unwrap();
        assert!(!wrong.verified["citizen.birthdate"]);
        // The privacy officer reads the date of birth and the address.
        let officer = lookup(
            &server.services,
            &request("privacy-officer", "Access request 2026-117", &[]),
            now,
        )
        .await
        .unwrap();
        assert_eq!(
            officer.shown["citizen.birthdate"].as_deref(),
            Some("1984-03-02")
        );
        assert!(officer.shown.contains_key("citizen.address"));

        // Refused, and nothing recorded: a role that is not staff, an
        // unknown role, no purpose, a check the role may not make, nobody.
        for (req, why) in [
            (
                request("commission-reviewer", "Audit", &[]),
                "not a staff role",
            ),
            (request("janitor", "Curious", &[]), "no role"),
            (request("support", "  ", &[]), "state the purpose"),
            (
                request("support", "Call", &[("citizen.address", "10 rue")]),
                "may not check citizen.address",
            ),
        ] {
            let err = lookup(&server.services, &req, now).await.unwrap_err();
            assert!(err.to_string().contains(why), "{why}: {err}");
        }
        let mut nobody = request("support", "Call", &[]);
        nobody.register_id = "R-404".into();
        let err = lookup(&server.services, &nobody, now).await.unwrap_err();
        assert!(err.to_string().contains("no match"), "{err}");

        // The citizen sees the three look-ups, with purpose and elements.
        let cookie = server.sign_in(&citizen.id).await;
        let r = server
            .client()
            .get(server.url("/account/ledger/staff-access"))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let view: serde_json::Value = r.json().await.unwrap();
        let entries = view["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 3, "{view}");
        let first = &entries
            .iter()
            .find(|e| e["details"]["purpose"] == "Phone call: lost enrolment letter")
            .unwrap()["details"];
        assert_eq!(first["staff_id"], "agent-7");
        assert_eq!(first["role"], "support");
        let seen: Vec<&str> = first["seen"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(seen.contains(&"citizen.given_name"));
        assert!(seen.contains(&"citizen.birthdate (checked)"));
        assert!(!seen.contains(&"citizen.birthdate"));
        // Values never enter the log.
        assert!(!view.to_string().contains("Aline"), "{view}");
        server.stop().await;
    }
);
