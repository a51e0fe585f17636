//! `GET /account/data`: a citizen downloads everything sqin holds about them
//! in one JSON document (access and portability, A-2.1 s. 83-84), and
//! nothing that only protects them (hashes, public keys, counters).
use crate::passkeys_support;

use passkeys_support::enrolled;
use sqin_tests::{both_backends, http_client, TestServer};

both_backends!(
    async fn a_citizen_downloads_what_sqin_holds_about_them(db: TestDb) {
        let server = TestServer::start(db).await;
        // Not signed in: refused.
        let r = http_client()
            .get(server.url("/account/data"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);

        let (_, browser, _) = enrolled(&server, "R-400").await;
        let (_, html) = browser.account().await;
        assert!(
            html.contains("href=\"/account/data\""),
            "linked from the account page"
        );

        let r = browser.get("/account/data").await;
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"sqin-my-data-"));
        assert_eq!(r.headers()["cache-control"], "no-store");
        let text = r.text().await.unwrap();
        let data: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(data["format"], "sqin-citizen-data/2");
        assert_eq!(data["schema_version"], 2);
        assert_eq!(data["register"]["register_id"], "R-400");
        assert_eq!(data["register"]["given_name"], "Camille");
        assert_eq!(data["register"]["birthdate"], "1984-03-02");
        assert_eq!(data["register"]["status"], "enrolled");
        assert_eq!(data["passkeys"][0]["name"], "Portable");
        assert_eq!(data["sessions"].as_array().unwrap().len(), 1);
        let kinds: Vec<&str> = data["security_events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&"enrolled"), "{kinds:?}");
        assert_eq!(data["history"]["download"], "/account/ledger/download");
        assert!(data["register"]["registered_at"]
            .as_str()
            .unwrap()
            .ends_with('Z'));
        // Nothing that only protects the citizen.
        for secret in ["hash", "credential", "public_key", "sign_count", "id_hash"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        server.stop().await;
    }
);
