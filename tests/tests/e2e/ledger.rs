//! The consent ledger over HTTP, on the real server with SQLite and
//! PostgreSQL: checkpoints and proofs served publicly verify with the
//! published key, and a signed-in citizen reads their own history with a
//! proof per entry.
use base64::Engine as _;
use serde_json::Value;
use sqin_ledger_service::core::{
    verify_consistency, verify_inclusion, EcdsaNoteVerifier, Hash, SignedCheckpoint,
};
use sqin_ledger_service::{append, checkpoints, CheckpointPolicy, DisclosureEndpoint, LedgerEvent};
use sqin_tests::{both_backends, http_client, TestServer};

fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn hash(v: &Value) -> Hash {
    b64(v.as_str().unwrap()).try_into().unwrap()
}

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array().unwrap().iter().map(hash).collect()
}

async fn get(server: &TestServer, path: &str) -> reqwest::Response {
    http_client().get(server.url(path)).send().await.unwrap()
}

fn disclosure(citizen: &str, client: &str, claims: &[&str]) -> LedgerEvent {
    LedgerEvent::Disclosure {
        citizen_id: citizen.into(),
        client_id: client.into(),
        consent_id: Some(format!("consent-{client}")),
        grant_id: None,
        endpoint: DisclosureEndpoint::Userinfo,
        claims: claims.iter().map(|c| (*c).to_owned()).collect(),
    }
}

/// As the OpenID Provider does: in a transaction of its own.
async fn record(server: &TestServer, event: LedgerEvent, at: i64) {
    let mut tx = server.services.store.begin().await.unwrap();
    append(&mut tx, &server.services.ledger, event, at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn sign_checkpoint(server: &TestServer) -> u64 {
    let mut conn = server.services.store.pool().acquire().await.unwrap();
    checkpoints::publish(
        &mut conn,
        &server.services.ledger,
        server.now(),
        CheckpointPolicy::IfGrown,
    )
    .await
    .unwrap()
    .0
    .tree_size
}

/// The latest checkpoint from the server, verified with the key it publishes.
async fn trusted_checkpoint(server: &TestServer) -> (u64, Hash, EcdsaNoteVerifier) {
    let vkey = get(server, "/ledger/vkey").await.text().await.unwrap();
    let verifier = EcdsaNoteVerifier::from_vkey(vkey.trim()).unwrap();
    let r = get(server, "/ledger/checkpoint").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    let note = r.text().await.unwrap();
    let signed = SignedCheckpoint::parse(&note).unwrap();
    let body = signed
        .verify(server.services.ledger.origin(), &verifier)
        .unwrap();
    (body.size, body.root, verifier)
}

both_backends!(
    async fn public_checkpoints_and_proofs_verify(db: TestDb) {
        let server = TestServer::start(db).await;
        let origin = server.services.ledger.origin().to_owned();
        assert_eq!(origin, format!("localhost:{}/ledger", server.addr.port()));
        let about: Value = get(&server, "/ledger").await.json().await.unwrap();
        assert_eq!(about["origin"], origin.as_str());
        assert_eq!(about["checkpoint_size"], 0);
        // The empty log already has a checkpoint.
        let (size, _, _) = trusted_checkpoint(&server).await;
        assert_eq!(size, 0);

        let now = server.now();
        for i in 0..6 {
            record(
                &server,
                disclosure(&format!("c{i}"), "famille", &["email"]),
                now,
            )
            .await;
        }
        assert_eq!(sign_checkpoint(&server).await, 6);
        let (old_size, old_root, _) = trusted_checkpoint(&server).await;
        for i in 0..7 {
            record(
                &server,
                disclosure(&format!("d{i}"), "impots", &["address"]),
                now,
            )
            .await;
        }
        assert_eq!(sign_checkpoint(&server).await, 13);
        let (size, root, _) = trusted_checkpoint(&server).await;
        assert_eq!((old_size, size), (6, 13));

        // Every entry's inclusion proof, by sequence number, verifies.
        for seq in 0..size {
            let r = get(
                &server,
                &format!("/ledger/proof/inclusion?tree_size={size}&seq={seq}"),
            )
            .await;
            assert_eq!(r.status(), 200);
            assert!(r.headers()["cache-control"]
                .to_str()
                .unwrap()
                .starts_with("public"));
            let proof: Value = r.json().await.unwrap();
            assert_eq!(proof["leaf_index"], seq);
            verify_inclusion(
                &hash(&proof["leaf_hash"]),
                seq,
                size,
                &hashes(&proof["inclusion_path"]),
                &root,
            )
            .unwrap();
            // ... and by leaf hash (RFC 9162 get-proof-by-hash), URL-safe or not.
            let leaf = proof["leaf_hash"].as_str().unwrap();
            let by_hash: Value = http_client()
                .get(server.url("/ledger/proof/inclusion"))
                .query(&[("tree_size", size.to_string()), ("hash", leaf.to_owned())])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(by_hash, proof);
        }
        // The log only grew between the two checkpoints.
        let proof: Value = get(
            &server,
            &format!("/ledger/proof/consistency?first={old_size}&second={size}"),
        )
        .await
        .json()
        .await
        .unwrap();
        verify_consistency(
            old_size,
            size,
            &old_root,
            &root,
            &hashes(&proof["consistency_path"]),
        )
        .unwrap();
        // Without a size, proofs are against the latest checkpoint.
        let latest: Value = get(&server, "/ledger/proof/inclusion?seq=3")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(latest["tree_size"], size);
        let latest: Value = get(
            &server,
            &format!("/ledger/proof/consistency?first={old_size}"),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(latest, proof);
        // A forged root does not pass.
        assert!(verify_consistency(
            old_size,
            size,
            &[0; 32],
            &root,
            &hashes(&proof["consistency_path"])
        )
        .is_err());

        // The history lists every checkpoint, paged.
        let page: Value = get(&server, "/ledger/checkpoints?limit=2")
            .await
            .json()
            .await
            .unwrap();
        let listed = page["checkpoints"].as_array().unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0]["tree_size"], 0);
        assert_eq!(listed[1]["tree_size"], 6);
        let next = page["next_after"].as_i64().unwrap();
        let rest: Value = get(&server, &format!("/ledger/checkpoints?after={next}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(rest["checkpoints"].as_array().unwrap().len(), 1);
        assert_eq!(rest["checkpoints"][0]["tree_size"], 13);
        assert_eq!(rest["next_after"], Value::Null);
        let note = rest["checkpoints"][0]["note"].as_str().unwrap();
        assert!(note.starts_with(&format!("{origin}\n13\n")));

        // Mistakes are explained; nothing is invented.
        for (path, status) in [
            (
                format!("/ledger/proof/inclusion?tree_size={}&seq=0", size + 1),
                400,
            ),
            (
                format!("/ledger/proof/inclusion?tree_size={size}&seq={size}"),
                400,
            ),
            (format!("/ledger/proof/inclusion?tree_size={size}"), 400),
            (
                format!("/ledger/proof/inclusion?tree_size={size}&seq=1&hash=AA"),
                400,
            ),
            (
                format!("/ledger/proof/inclusion?tree_size={size}&hash=not-a-hash"),
                400,
            ),
            (
                format!(
                    "/ledger/proof/inclusion?tree_size={size}&hash={}",
                    sqin_crypto::b64url(&[5u8; 32])
                ),
                404,
            ),
            (
                format!("/ledger/proof/consistency?first={size}&second=3"),
                400,
            ),
            (
                format!("/ledger/proof/consistency?first=1&second={}", size + 1),
                400,
            ),
            ("/ledger/checkpoints?limit=0".to_owned(), 400),
            ("/ledger/proof/consistency?first=x&second=3".to_owned(), 400),
        ] {
            let r = get(&server, &path).await;
            assert_eq!(r.status().as_u16(), status, "{path}");
        }
        server.stop().await;
    }
);

both_backends!(
    async fn a_citizen_reads_their_own_history_with_proofs(db: TestDb) {
        let server = TestServer::start(db).await;
        let alice = server.add_citizen("R-ALICE").await;
        let bob = server.add_citizen("R-BOB").await;
        let day = 86_400;
        let t = time::macros::datetime!(2026-03-10 12:00 UTC).unix_timestamp();
        record(
            &server,
            LedgerEvent::ConsentGranted {
                citizen_id: alice.id.clone(),
                client_id: "famille".into(),
                consent_id: "consent-famille".into(),
                purpose: "Childcare allowance".into(),
                scopes: vec!["openid".into(), "profile".into()],
                claims: vec!["given_name".into(), "birthdate".into()],
                notice_version: None,
                expires_at: server.now() + 365 * day,
            },
            t,
        )
        .await;
        record(
            &server,
            disclosure(&alice.id, "famille", &["given_name", "birthdate"]),
            t + 1,
        )
        .await;
        record(
            &server,
            disclosure(&alice.id, "impots", &["address"]),
            t + day,
        )
        .await;
        record(&server, disclosure(&bob.id, "famille", &["email"]), t + day).await;
        record(
            &server,
            LedgerEvent::StaffAccess {
                citizen_id: alice.id.clone(),
                staff_id: "agent-17".into(),
                role: "support".into(),
                purpose: "Ticket 4411".into(),
                seen: vec!["address".into()],
                action: None,
                reference: None,
            },
            t + 2 * day,
        )
        .await;
        record(
            &server,
            LedgerEvent::SignIn {
                citizen_id: alice.id.clone(),
                client_id: None,
                acr: "urn:sqin:loa:substantial".into(),
                amr: vec!["hwk".into()],
                passkey: None,
            },
            t + 2 * day,
        )
        .await;

        // Not signed in: nothing.
        for path in [
            "/account/ledger/recipients",
            "/account/ledger/staff-access",
            "/account/ledger/security",
            "/account/ledger/download",
        ] {
            let r = get(&server, path).await;
            assert_eq!(r.status(), 401, "{path}");
            let r = http_client()
                .get(server.url(path))
                .header("cookie", "sqin_session=forged")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401, "{path}");
        }

        let cookie = server.sign_in(&alice.id).await;
        let fetch = |path: String| {
            let cookie = cookie.clone();
            let url = server.url(&path);
            async move {
                let r = http_client()
                    .get(url)
                    .header("cookie", format!("other=1; {cookie}"))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let headers = r.headers().clone();
                (
                    status,
                    headers,
                    r.json::<Value>().await.unwrap_or(Value::Null),
                )
            }
        };
        let (status, headers, view) = fetch("/account/ledger/recipients".into()).await;
        assert_eq!(status, 200);
        assert_eq!(headers["cache-control"], "no-store");
        // The proofs are against a signed checkpoint covering every entry.
        let verifier = EcdsaNoteVerifier::from_vkey(view["vkey"].as_str().unwrap()).unwrap();
        let note = SignedCheckpoint::parse(view["checkpoint"]["note"].as_str().unwrap()).unwrap();
        let trusted = note
            .verify(view["origin"].as_str().unwrap(), &verifier)
            .unwrap()
            .clone();
        assert_eq!(trusted.size, 6);
        let recipients = view["recipients"].as_array().unwrap();
        let names: Vec<&str> = recipients
            .iter()
            .map(|r| r["client_id"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["impots", "famille"]);
        let famille = &recipients[1];
        assert_eq!(famille["consents"][0]["status"], "active");
        assert_eq!(
            famille["consents"][0]["entries"][0]["details"]["purpose"],
            "Childcare allowance"
        );
        assert_eq!(
            famille["disclosures"].as_array().unwrap().len(),
            1,
            "bob's is not shown"
        );
        assert_eq!(
            famille["disclosures"][0]["details"]["claims"][1],
            "birthdate"
        );
        let mut checked = 0;
        for r in recipients {
            for e in r["disclosures"].as_array().unwrap().iter().chain(
                r["consents"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|c| c["entries"].as_array().unwrap()),
            ) {
                let leaf = sqin_ledger_service::core::leaf_hash(&b64(e["entry"].as_str().unwrap()));
                assert_eq!(leaf, hash(&e["proof"]["leaf_hash"]));
                verify_inclusion(
                    &leaf,
                    e["seq"].as_u64().unwrap(),
                    trusted.size,
                    &hashes(&e["proof"]["inclusion_path"]),
                    &trusted.root,
                )
                .unwrap();
                checked += 1;
            }
        }
        assert_eq!(checked, 3);
        // The same proofs from the public endpoint agree.
        let public: Value = get(
            &server,
            &format!("/ledger/proof/inclusion?tree_size={}&seq=1", trusted.size),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(public, famille["disclosures"][0]["proof"]);

        // Filtered by relying party, and by date.
        let (_, _, only) = fetch("/account/ledger/recipients?client_id=impots".into()).await;
        assert_eq!(only["recipients"].as_array().unwrap().len(), 1);
        let (_, _, dated) =
            fetch("/account/ledger/recipients?from=2026-03-11&to=2026-03-11".into()).await;
        let dated = dated["recipients"].as_array().unwrap();
        assert_eq!(dated.len(), 1);
        assert_eq!(dated[0]["client_id"], "impots");
        let (status, _, _) = fetch("/account/ledger/recipients?from=yesterday".into()).await;
        assert_eq!(status, 400);

        // Who looked at my file.
        let (status, _, staff) = fetch("/account/ledger/staff-access".into()).await;
        assert_eq!(status, 200);
        let staff = staff["entries"].as_array().unwrap();
        assert_eq!(staff.len(), 1);
        assert_eq!(staff[0]["details"]["staff_id"], "agent-17");
        assert_eq!(staff[0]["details"]["purpose"], "Ticket 4411");
        // Security events.
        let (_, _, security) = fetch("/account/ledger/security".into()).await;
        assert_eq!(security["entries"][0]["kind"], "sign_in");
        // The download: everything of hers, as a file.
        let (status, headers, all) = fetch("/account/ledger/download".into()).await;
        assert_eq!(status, 200);
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(
            disposition.starts_with("attachment; filename=\"sqin-history-"),
            "{disposition}"
        );
        assert_eq!(all["format"], "sqin-citizen-history/1");
        assert_eq!(all["entries"].as_array().unwrap().len(), 5);
        assert!(
            !all.to_string().contains(&alice.id),
            "the internal id never leaves sqin"
        );
        server.stop().await;
    }
);

both_backends!(
    async fn the_history_pages_render_in_french_and_english(db: TestDb) {
        let server = TestServer::start(db).await;
        let alice = server.add_citizen("R-ALICE").await;
        let famille = server
            .register_client(sqin_tests::rp(
                "Portail Famille",
                "https://famille.example/cb",
                "openid profile",
            ))
            .await
            .record
            .client_id;
        let now = server.now();
        record(
            &server,
            LedgerEvent::ConsentGranted {
                citizen_id: alice.id.clone(),
                client_id: famille.clone(),
                consent_id: "k1".into(),
                purpose: "Allocation <garde>".into(),
                scopes: vec!["openid".into(), "profile".into()],
                claims: vec!["given_name".into(), "birthdate".into()],
                notice_version: None,
                expires_at: now + 86_400,
            },
            now,
        )
        .await;
        record(
            &server,
            disclosure(&alice.id, &famille, &["given_name", "birthdate"]),
            now,
        )
        .await;
        record(&server, disclosure(&alice.id, "impots", &["address"]), now).await;
        record(
            &server,
            LedgerEvent::StaffAccess {
                citizen_id: alice.id.clone(),
                staff_id: "agent-17".into(),
                role: "support".into(),
                purpose: "Ticket 4411".into(),
                seen: vec!["address".into()],
                action: None,
                reference: None,
            },
            now,
        )
        .await;
        // Not signed in: to the login page.
        let r = get(&server, "/account/history").await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/login");

        let cookie = server.sign_in(&alice.id).await;
        let page = |path: &'static str, lang: &'static str| {
            let cookie = cookie.clone();
            let url = server.url(path);
            async move {
                let r = http_client()
                    .get(url)
                    .header("cookie", cookie)
                    .header("accept-language", lang)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "{path}");
                r.text().await.unwrap()
            }
        };
        let en = page("/account/history", "en").await;
        assert!(en.contains("Who received my data"), "{en}");
        assert!(en.contains("Portail Famille"));
        assert!(en.contains("Allocation &lt;garde&gt;"), "escaped: {en}");
        // Claims in words, never their protocol names.
        assert!(en.contains("Your given name, Your date of birth"), "{en}");
        assert!(!en.contains("given_name"), "{en}");
        assert!(en.contains("In force"));
        assert!(en.contains("impots"));
        let fr = page("/account/history", "fr").await;
        assert!(fr.contains("Qui a reçu mes données"));
        assert!(fr.contains("En vigueur"));
        assert!(fr.contains("Votre prénom, Votre date de naissance"), "{fr}");
        assert!(fr.contains("Demandés par le service (userinfo)"));
        // Filtered to one service.
        let only = http_client()
            .get(server.url(&format!("/account/history?client_id={famille}&from=&to=")))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(only.contains("Portail Famille"));
        assert!(!only.contains("<h2 id=\"rp-2\">"), "one service only");
        // Dates that do not parse are said so.
        let bad = http_client()
            .get(server.url("/account/history?from=nope"))
            .header("cookie", &cookie)
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(bad.contains("could not be read"));
        // Who looked at my file.
        let staff = page("/account/history/staff", "en").await;
        assert!(staff.contains("Who looked at my file"));
        assert!(staff.contains("agent-17") && staff.contains("Ticket 4411"));
        let staff = page("/account/history/staff", "fr").await;
        assert!(staff.contains("Qui a consulté mon dossier"));
        server.stop().await;
    }
);

both_backends!(
    async fn a_rotation_by_another_node_shows_in_the_published_keys(db: TestDb) {
        let server = TestServer::start(db).await;
        record(
            &server,
            disclosure("alice", "famille", &["given_name"]),
            server.now(),
        )
        .await;
        sign_checkpoint(&server).await;
        let old = get(&server, "/ledger/vkey").await.text().await.unwrap();
        // Another node (another handle on the same database) rotates.
        let other = sqin_ledger_service::Ledger::open(
            &server.services.store,
            &server.services.kek,
            server
                .services
                .settings
                .ledger_settings(server.services.pia.ledger_retention.clone()),
            server.now(),
        )
        .await
        .unwrap();
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let rotation =
            sqin_ledger_service::checkpoints::rotate_key(&mut conn, &other, server.now())
                .await
                .unwrap();
        drop(conn);
        assert_eq!(rotation.previous_vkey, old.trim());
        // This node publishes the new key at once, and the history of keys.
        let now_published = get(&server, "/ledger/vkey").await.text().await.unwrap();
        assert_eq!(now_published.trim(), rotation.vkey);
        let about: Value = get(&server, "/ledger").await.json().await.unwrap();
        assert_eq!(
            about["vkeys"],
            serde_json::json!([old.trim(), rotation.vkey])
        );
        // Its next checkpoint verifies with the key it publishes.
        record(
            &server,
            disclosure("bob", "famille", &["given_name"]),
            server.now(),
        )
        .await;
        sign_checkpoint(&server).await;
        let (size, _, _) = trusted_checkpoint(&server).await;
        assert_eq!(size, rotation.entry + 2);
        server.stop().await;
    }
);
