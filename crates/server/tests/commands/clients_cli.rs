//! `sqin client` as a real process on both backends: registration within
//! a PIA entry, each field beyond it refused, edits (stale, widening),
//! secrets, initial access tokens, every act on the record.
use crate::cli::Sqin;
use sqin_store::both_backends;

both_backends!(
    async fn clients_are_registered_validated_and_managed(db: TestDb) {
        let sqin = Sqin::new(&db).with_ministries();
        fn add<'a>(extra: &[&'a str]) -> Vec<&'a str> {
            let mut args = vec!["client", "add", "--name", "Revenu"];
            args.extend_from_slice(extra);
            args
        }
        // Outside the PIA: no entry, no registration.
        let err = sqin.fails(&add(&[
            "--pia-entry",
            "nope",
            "--redirect-uri",
            "https://revenu.example/cb",
        ]));
        assert!(
            err.contains("no relying party \"nope\" in the privacy impact assessment"),
            "{err}"
        );
        // The general rules still hold.
        let err = sqin.fails(&add(&[
            "--pia-entry",
            "revenue",
            "--redirect-uri",
            "http://revenu.example/cb",
        ]));
        assert!(
            err.contains("redirect_uris") && err.contains("https"),
            "{err}"
        );
        let err = sqin.fails(&add(&[
            "--pia-entry",
            "revenue",
            "--redirect-uri",
            "https://revenu.example/cb",
            "--scope",
            "openid telepathy",
        ]));
        assert!(err.contains("telepathy"), "{err}");
        let err = sqin.fails(&add(&[
            "--pia-entry",
            "revenue",
            "--redirect-uri",
            "https://revenu.example/cb",
            "--scope",
            "openid profile",
            "--claims",
            "name birthdate",
        ]));
        assert!(err.contains("\"birthdate\" is not carried"), "{err}");
        // Beyond the entry, field by field, each difference named.
        for (extra, field, what) in [
            (
                &["--scope", "openid profile birthdate"][..],
                "scope",
                "\"birthdate\"",
            ),
            (
                &["--scope", "openid profile", "--claims", "name given_name"][..],
                "claims",
                "\"given_name\"",
            ),
            (
                &["--sector", "sante.example"][..],
                "sector_identifier",
                "sante.example",
            ),
            (&["--public-subject"][..], "subject_type", "pairwise only"),
            (
                &["--post-logout-redirect-uri", "https://evil.example/out"][..],
                "post_logout_redirect_uris",
                "evil.example",
            ),
        ] {
            let mut args = vec![
                "--pia-entry",
                "revenue",
                "--redirect-uri",
                "https://revenu.example/cb",
            ];
            args.extend_from_slice(extra);
            let err = sqin.fails(&add(&args));
            assert!(err.contains("beyond PIA entry revenue"), "{field}: {err}");
            assert!(
                err.contains(&format!("{field}: ")) && err.contains(what),
                "{field}: {err}"
            );
        }
        let err = sqin.fails(&add(&[
            "--pia-entry",
            "revenue",
            "--redirect-uri",
            "https://evil.example/cb",
        ]));
        assert!(
            err.contains("redirect_uris: \"https://evil.example/cb\" is outside the hosts"),
            "{err}"
        );

        // Within the entry: registered, pending a privacy officer; the
        // claims default to those of its scopes the entry allows.
        let out = sqin.ok(&add(&[
            "--pia-entry",
            "revenue",
            "--redirect-uri",
            "https://revenu.example/cb",
            "--scope",
            "openid profile",
        ]));
        let created: serde_json::Value = serde_json::from_str(&out).unwrap();
        let id = created["client_id"].as_str().unwrap().to_owned();
        let secret = created["client_secret"].as_str().unwrap().to_owned();
        assert_eq!(secret.len(), 43);
        assert_eq!(created["status"], "pending");
        assert!(created["approval_request"].is_string());
        assert_eq!(
            created["claims"],
            serde_json::json!(["name", "family_name"])
        );
        assert_eq!(created["sector"], "revenu.example");
        assert_eq!(created["purpose"], "File one's income tax return");
        assert_eq!(created["pia_entry"], "revenue");
        assert_eq!(created["version"], 1);
        let shown: serde_json::Value =
            serde_json::from_str(&sqin.ok(&["client", "show", &id])).unwrap();
        assert!(
            shown.get("client_secret").is_none(),
            "secret is shown once only"
        );

        // An edit within what it receives takes effect; one that widens
        // waits for a privacy officer, and nothing changes until then.
        let out = sqin.ok(&[
            "client",
            "edit",
            &id,
            "--redirect-uri",
            "https://revenu.example/cb2",
        ]);
        let edited: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(edited["changed"], serde_json::json!(["redirect_uris"]));
        assert_eq!(edited["version"], 2);
        let out = sqin.ok(&["client", "edit", &id, "--claims", "name"]);
        let narrowed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(narrowed["claims"], serde_json::json!(["name"]));
        let out = sqin.ok(&["client", "edit", &id, "--claims", "name family_name"]);
        let widened: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            widened["awaiting_approval"]["widens"],
            serde_json::json!(["claims"])
        );
        assert_eq!(
            widened["claims"],
            serde_json::json!(["name"]),
            "unchanged until approved"
        );
        // ... and an edit beyond the entry is refused outright.
        let err = sqin.fails(&["client", "edit", &id, "--sector", "sante.example"]);
        assert!(err.contains("sector_identifier"), "{err}");
        // Concurrent edits: a stale version is refused, nothing lost.
        let err = sqin.fails(&[
            "client",
            "edit",
            &id,
            "--if-version",
            "1",
            "--name",
            "Autre",
        ]);
        assert!(err.contains("changed since version 1"), "{err}");
        let shown: serde_json::Value =
            serde_json::from_str(&sqin.ok(&["client", "show", &id])).unwrap();
        assert_eq!(shown["name"], "Revenu");

        // Suspend, resume, rotate, an initial access token, remove.
        let err = sqin.fails(&["client", "resume", &id, "--reason", "x"]);
        assert!(err.contains("already waits"), "{err}");
        let store = db.open().await;
        let hash_of = |s: &str| sqin_crypto::sha256(s.as_bytes()).to_vec();
        let rotated: serde_json::Value =
            serde_json::from_str(&sqin.ok(&["client", "rotate-secret", &id])).unwrap();
        let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
        assert_ne!(new_secret, secret);
        let stored = {
            let mut conn = store.pool().acquire().await.unwrap();
            sqin_store::clients::get(&mut conn, &id)
                .await
                .unwrap()
                .unwrap()
        };
        assert_eq!(stored.secret_hash, Some(hash_of(&new_secret)));
        let iat: serde_json::Value = serde_json::from_str(&sqin.ok(&[
            "client",
            "initial-access-token",
            "--pia-entry",
            "health-card",
            "--days",
            "2",
            "--uses",
            "3",
        ]))
        .unwrap();
        assert_eq!(iat["pia_entry"], "health-card");
        let iat_token = iat["initial_access_token"].as_str().unwrap().to_owned();
        let err = sqin.fails(&["client", "initial-access-token", "--pia-entry", "nope"]);
        assert!(err.contains("no relying party"), "{err}");
        // An id that starts with '-' is an id, not an option.
        let err = sqin.fails(&["client", "show", "-MX3Ye_DAfhLrK9596KT9g"]);
        assert!(err.contains("no relying party -MX3Ye"), "{err}");
        let public: serde_json::Value = serde_json::from_str(&sqin.ok(&[
            "client",
            "add",
            "--pia-entry",
            "health-card",
            "--name",
            "App",
            "--public",
            "--redirect-uri",
            "http://localhost:7000/cb",
        ]))
        .unwrap();
        assert!(public.get("client_secret").is_none());
        assert_eq!(public["token_endpoint_auth_method"], "none");
        let err = sqin.fails(&[
            "client",
            "rotate-secret",
            public["client_id"].as_str().unwrap(),
        ]);
        assert!(err.contains("no secret"), "{err}");
        sqin.ok(&["client", "remove", &id]);
        let err = sqin.fails(&["client", "show", &id]);
        assert!(err.contains("no relying party"), "{err}");

        // Every operator action is a public governance entry, with no
        // secret in any of them.
        let mut conn = store.pool().acquire().await.unwrap();
        let entries = sqin_store::ledger::entries_of_kind(&mut conn, "governance")
            .await
            .unwrap();
        let text: Vec<String> = entries
            .iter()
            .map(|e| String::from_utf8_lossy(&e.entry).into_owned())
            .collect();
        for what in [
            "client.registered",
            "client.edited",
            "client.edit_requested",
            "client.secret_rotated",
            "initial_access_token.issued",
            "client.removed",
        ] {
            assert!(
                text.iter()
                    .any(|t| t.contains(what) && t.contains("\"operator\"")),
                "{what} missing from {text:?}"
            );
        }
        for secret in [&secret, &new_secret, &iat_token] {
            assert!(
                !text.iter().any(|t| t.contains(secret.as_str())),
                "a secret in the ledger"
            );
        }
        assert!(
            text.iter()
                .any(|t| t.contains("https://revenu.example/cb2")),
            "URIs are named"
        );
    }
);
