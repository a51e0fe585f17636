//! Issue 15, the report for the Commission: after real sign-ins through a
//! relying party, a member of staff's look-up and a complaint, the report
//! over the period counts each (sign-ins per relying party and level,
//! disclosures per claim, staff accesses per role and purpose, the
//! complaint within its deadline), as JSON and as HTML in both languages,
//! and none of it names a citizen: not their name, birthdate, register id,
//! internal id or ledger pseudonym, nor a complaint's words.
use crate::staff_support::member;
use sqin_tests::*;

const REDIRECT: &str = "https://report.example/cb";
const SCOPE: &str = "openid profile birthdate";

both_backends!(
    async fn the_commission_report_counts_what_happened_and_names_no_one(db: TestDb) {
        let server = TestServer::start(db).await;
        let registered = server
            .register_client(rp("Service du rapport", REDIRECT, SCOPE))
            .await;
        let client_id = registered.record.client_id.clone();
        let secret = registered.client_secret.unwrap().expose().to_owned();
        let start = server.now();

        // Two citizens sign in to the service, one of them twice.
        let mut citizens = Vec::new();
        for (register_id, times) in [("QC-RPT-0001", 2), ("QC-RPT-0002", 1)] {
            let citizen = server.add_citizen(register_id).await;
            let cookie = server.sign_in(&citizen.id).await;
            for _ in 0..times {
                let body = tokens_for(&server, &cookie, &client_id, &secret, REDIRECT, SCOPE).await;
                let (status, _) = userinfo(&server, body["access_token"].as_str().unwrap()).await;
                assert_eq!(status, 200);
            }
            citizens.push(citizen);
        }
        // A member of staff looks one up, for a stated purpose.
        let support = member(&server, "Sam Support", &["support"]).await;
        let r = support
            .form(
                "/files",
                &[
                    ("register_id", "QC-RPT-0001"),
                    ("purpose", "account-service"),
                    ("reference", "T-2026-0777"),
                ],
            )
            .await;
        assert_eq!(r.status(), 200);
        // A complaint, in words the report must not repeat.
        let facts = "Aline Exemple trouve que le portail conserve trop longtemps ses données";
        sqin_app::complaints::file(
            &server.services,
            &citizens[0].id,
            "Conservation excessive",
            facts,
            server.now(),
        )
        .await
        .unwrap();

        let report = sqin_app::report::build(&server.services, start - 60, server.now() + 60)
            .await
            .unwrap();
        let sign_ins = report
            .sign_ins
            .iter()
            .find(|c| c.key == client_id)
            .map(|c| c.count);
        assert_eq!(sign_ins, Some(3), "{:?}", report.sign_ins);
        assert!(report.sign_ins_by_acr.iter().map(|c| c.count).sum::<u64>() >= 3);
        let disclosed = report
            .disclosures
            .iter()
            .find(|d| d.client_id == client_id)
            .expect("the service's disclosures");
        assert!(disclosed.disclosures >= 6, "{disclosed:?}");
        for claim in ["given_name", "family_name", "birthdate"] {
            assert!(
                disclosed
                    .claims
                    .iter()
                    .any(|c| c.key == claim && c.count >= 3),
                "{claim}: {disclosed:?}"
            );
        }
        assert!(
            report
                .staff_accesses
                .iter()
                .any(|a| a.role == "support" && a.purpose == "account-service" && a.count == 1),
            "{:?}",
            report.staff_accesses
        );
        assert_eq!(report.complaints.received, 1);
        assert_eq!(report.complaints.open_within_deadline, 1);
        assert_eq!(report.complaints.deadline_days, 30);
        assert!(report.ledger.entries_in_period >= 6);

        // Nothing in any form of it names a citizen.
        let json = serde_json::to_string_pretty(&report).unwrap();
        let fr = sqin_app::report::render_html(&report, "fr");
        let en = sqin_app::report::render_html(&report, "en");
        let mut forbidden: Vec<String> = vec![
            "Aline".into(),
            "Exemple".into(),
            "1984-03-02".into(),
            "10 rue de l".into(),
            "aline@demo.invalid".into(),
            "Conservation excessive".into(),
            "T-2026-0777".into(),
            facts.into(),
        ];
        for c in &citizens {
            forbidden.push(c.id.clone());
            forbidden.push(c.register_id.clone());
            forbidden.push(server.services.ledger.pseudonym(&c.id));
        }
        for (what, text) in [("json", &json), ("fr", &fr), ("en", &en)] {
            for value in &forbidden {
                assert!(
                    !text.contains(value.as_str()),
                    "the {what} report holds {value:?}"
                );
            }
        }
        assert!(fr.contains("<svg") && fr.contains("Service du rapport"));
        assert!(en.contains("Sign-ins per service"));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json).unwrap()["format"],
            "sqin-commission-report/1"
        );

        // The auditor downloads it from the console; support may not.
        let auditor = member(&server, "Ada Auditor", &["auditor"]).await;
        let r = auditor.get("/report?format=json").await;
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"sqin-report-"));
        let downloaded: serde_json::Value = r.json().await.unwrap();
        assert_eq!(downloaded["complaints"]["received"], 1);
        let r = auditor.get("/report").await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("<svg") && !html.contains("Aline"));
        let (status, _) = support.page("/report").await;
        assert_eq!(status, 403, "support reads no report");
        server.stop().await;
    }
);
