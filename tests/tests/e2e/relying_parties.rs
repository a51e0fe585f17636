//! Relying parties bound to the PIA, end to end: a new one is pending
//! until a privacy officer approves it in the console (and gets neither
//! sign-in nor tokens before), an edit that widens waits for a different
//! person's approval and changes nothing until then, and a server started
//! under a PIA that no longer lists a client suspends it and says why.
use crate::staff_access::request_id;
use crate::staff_support::member;

use sqin_app::clients::{self, ClientActor};
use sqin_oidc::client::ClientRegistration;
use sqin_store::clients::ClientStatus;
use sqin_tests::*;

const CB: &str = "https://portail.sante.example/cb";

fn health_card() -> ClientRegistration {
    ClientRegistration {
        name: "Carte santé".into(),
        redirect_uris: vec![CB.into()],
        scopes: vec!["openid profile".into()],
        claims: Some(vec!["name".into()]),
        ..Default::default()
    }
}

async fn authorize_status(server: &TestServer, client_id: &str, cookie: &str) -> (u16, String) {
    let (_, challenge) = pkce_pair();
    let url = authorize_url(
        server,
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CB),
            ("scope", "openid profile"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let r = server
        .client()
        .get(&url)
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

both_backends!(
    async fn a_new_relying_party_works_only_once_a_privacy_officer_approves_it(db: TestDb) {
        let server = TestServer::start_with_ministries(db).await;
        let citizen = server.add_citizen("R-1").await;
        let cookie = server.sign_in(&citizen.id).await;
        let mut admin = member(&server, "Admin", &["administrator"]).await;
        let mut officer = member(&server, "Officer", &["privacy-officer"]).await;

        let by = ClientActor::Staff(&admin.actor(&server).await);
        let registered = clients::register(&server.services, &by, "health-card", health_card())
            .await
            .unwrap();
        let id = registered.record.client_id.clone();
        let secret = registered.client_secret.unwrap().expose().to_owned();
        assert_eq!(registered.record.status, ClientStatus::Pending);
        assert_eq!(
            registered.record.purpose,
            "Renew one's health insurance card"
        );
        assert_eq!(
            registered.record.purpose_fr.as_deref(),
            Some("Renouveler sa carte d'assurance maladie")
        );

        // Pending: no sign-in (sqin's own page, nothing sent to the
        // service's redirect URI), no token.
        let (status, html) = authorize_status(&server, &id, &cookie).await;
        assert_eq!(status, 400, "{html}");
        assert!(html.contains("not yet approved"), "{html}");
        let (status, body, _) = token_request(
            &server,
            &id,
            &secret,
            &[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("redirect_uri", CB),
                ("code_verifier", "y"),
            ],
        )
        .await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"], "invalid_client");

        // The administrator who asked cannot approve; the privacy officer
        // does, with a fresh passkey confirmation.
        admin.reauth().await;
        let (_, html) = admin.page("/requests").await;
        assert!(html.contains(&id), "{html}");
        let request = request_id(&html);
        let r = admin
            .form(
                "/requests/decide",
                &[("id", &request), ("decision", "approve")],
            )
            .await;
        assert!(r.status() == 403 || r.status() == 400, "{}", r.status());
        officer.reauth().await;
        let (_, html) = officer.page("/requests").await;
        assert!(html.contains("Carte santé") || html.contains(&id), "{html}");
        let r = officer
            .form(
                "/requests/decide",
                &[("id", &request), ("decision", "approve")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, html) = officer.page("/clients").await;
        assert!(
            html.contains(&id) && (html.contains(">actif<") || html.contains(">active<")),
            "{html}"
        );

        // Active: the citizen signs in, the service gets its token.
        let tokens = tokens_for(&server, &cookie, &id, &secret, CB, "openid profile").await;
        assert!(tokens["id_token"].is_string());

        // The administrator suspends it in the console: refused again.
        admin.reauth().await;
        let r = admin
            .form(
                "/clients/state",
                &[
                    ("client_id", &id),
                    ("action", "suspend"),
                    ("reason", "incident INC-7"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (status, html) = authorize_status(&server, &id, &cookie).await;
        assert_eq!(status, 400);
        assert!(html.contains("suspended"), "{html}");
        let refreshed = token_request(
            &server,
            &id,
            &secret,
            &[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("redirect_uri", CB),
                ("code_verifier", "y"),
            ],
        )
        .await;
        assert_eq!(refreshed.0, 401);
        server.stop().await;
    }
);

both_backends!(
    async fn a_widening_edit_waits_for_a_different_privacy_officer(db: TestDb) {
        let server = TestServer::start_with_ministries(db).await;
        // One person holds both roles; a second privacy officer approves.
        let mut both = member(
            &server,
            "Admin and Officer",
            &["administrator", "privacy-officer"],
        )
        .await;
        let mut other = member(&server, "Other Officer", &["privacy-officer"]).await;
        let actor = both.actor(&server).await;
        let by = ClientActor::Staff(&actor);
        let first = clients::register(&server.services, &by, "health-card", health_card())
            .await
            .unwrap();
        let id = first.record.client_id.clone();
        other.reauth().await;
        let (_, html) = other.page("/requests").await;
        let r = other
            .form(
                "/requests/decide",
                &[("id", &request_id(&html)), ("decision", "approve")],
            )
            .await;
        assert_eq!(r.status(), 303);

        // Narrowing or moving within the entry's hosts takes effect at once.
        let current = clients::get(&server.services, &by, &id).await.unwrap();
        let moved = clients::edit(
            &server.services,
            &by,
            &id,
            ClientRegistration {
                redirect_uris: vec!["https://rdv.sante.example/cb".into()],
                ..health_card()
            },
            None,
            current.version,
        )
        .await
        .unwrap();
        assert_eq!(moved.changed, vec!["redirect_uris"]);
        assert!(moved.awaiting_approval.is_none());
        // Widening the claims: nothing changes until approved.
        let widened = clients::edit(
            &server.services,
            &by,
            &id,
            ClientRegistration {
                redirect_uris: vec!["https://rdv.sante.example/cb".into()],
                claims: Some(vec!["name".into(), "family_name".into()]),
                ..health_card()
            },
            None,
            moved.record.version,
        )
        .await
        .unwrap();
        let (fields, request) = widened.awaiting_approval.clone().unwrap();
        assert_eq!(fields, vec!["claims"]);
        let now = clients::get(&server.services, &by, &id).await.unwrap();
        assert_eq!(now.claims, Some(vec!["name".to_owned()]));
        // A stale version is refused, nothing lost.
        let stale = clients::edit(&server.services, &by, &id, health_card(), None, 1).await;
        assert!(
            matches!(stale, Err(sqin_app::AppError::Stale(_))),
            "{stale:?}"
        );
        // The person who asked cannot approve, even as a privacy officer.
        both.reauth().await;
        let r = both
            .form(
                "/requests/decide",
                &[("id", &request), ("decision", "approve")],
            )
            .await;
        assert!(r.status() == 400 || r.status() == 403, "{}", r.status());
        let r = other
            .form(
                "/requests/decide",
                &[("id", &request), ("decision", "approve")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let now = clients::get(&server.services, &by, &id).await.unwrap();
        assert_eq!(
            now.claims,
            Some(vec!["name".to_owned(), "family_name".to_owned()])
        );
        server.stop().await;
    }
);

both_backends!(
    async fn a_client_the_pia_no_longer_lists_is_suspended_at_start_up(db: TestDb) {
        let server = TestServer::start_with_ministries(db).await;
        let registered = clients::register(
            &server.services,
            &ClientActor::Operator,
            "health-card",
            health_card(),
        )
        .await
        .unwrap();
        let id = registered.record.client_id.clone();
        let (db, kept) = server.stop_keeping_data().await;
        // The same database under the built-in PIA, which has no such entry.
        let path = kept.path();
        let server =
            TestServer::start_with(db, move |c| c.data_dir = path, axum::Router::new()).await;
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let c = sqin_store::clients::get(&mut conn, &id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.status, ClientStatus::Suspended);
        let reason = c.status_reason.unwrap_or_default();
        assert!(
            reason.contains("health-card is no longer in the assessment"),
            "{reason}"
        );
        let entries = sqin_store::ledger::entries_of_kind(&mut conn, "governance")
            .await
            .unwrap();
        assert!(
            entries.iter().any(|e| {
                let t = String::from_utf8_lossy(&e.entry);
                t.contains("client.suspended") && t.contains("start-up")
            }),
            "the suspension is on the record"
        );
        drop(conn);
        // Resuming checks again.
        let err =
            clients::set_suspended(&server.services, &ClientActor::Operator, &id, false, "try")
                .await
                .unwrap_err();
        assert!(err.to_string().contains("no relying party"), "{err}");
        // Back under a PIA with the entry: resuming a client that was never
        // approved puts it back to waiting, never straight to active.
        // (the key-encryption key is still the first server's)
        let (db, kept2) = server.stop_keeping_data().await;
        let path = kept.path();
        let pia = ministries_pia();
        let server = TestServer::start_with(
            db,
            move |c| {
                c.data_dir = path;
                c.pia_file = Some(pia);
            },
            axum::Router::new(),
        )
        .await;
        let resumed =
            clients::set_suspended(&server.services, &ClientActor::Operator, &id, false, "back")
                .await
                .unwrap();
        assert_eq!(resumed.status, ClientStatus::Pending);
        // Its first request lapsed meanwhile: resuming again asks anew.
        server.advance(sqin_staff::limits::REQUEST_SECS + 1);
        clients::set_suspended(
            &server.services,
            &ClientActor::Operator,
            &id,
            false,
            "again",
        )
        .await
        .unwrap();
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let open = sqin_store::staff_requests::open(&mut conn, server.now())
            .await
            .unwrap();
        assert!(open
            .iter()
            .any(|r| r.client_id.as_deref() == Some(id.as_str())));
        drop(conn);
        server.stop().await;
        drop(kept);
        drop(kept2);
    }
);
