//! Withdrawing consent stops every token at once and asks again next time.
use sqin_tests::*;

const CB: &str = "http://127.0.0.1:9/cb";

both_backends!(
    async fn withdrawing_consent_revokes_tokens_and_asks_again(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-1").await;
        let cookie = server.sign_in(&citizen.id).await;
        let reg = server
            .register_client(rp("Famille", CB, "openid profile offline_access"))
            .await;
        let id = reg.record.client_id.clone();
        let secret = reg.client_secret.unwrap().expose().to_owned();
        let t = tokens_for(
            &server,
            &cookie,
            &id,
            &secret,
            CB,
            "openid profile offline_access",
        )
        .await;
        let access = t["access_token"].as_str().unwrap().to_owned();
        let refresh = t["refresh_token"].as_str().unwrap().to_owned();
        assert_eq!(
            introspect(&server, &id, &secret, &access).await["active"],
            true
        );

        {
            let mut conn = server.services.store.pool().acquire().await.unwrap();
            let mut tx = sqin_store::begin_on(&mut conn).await.unwrap();
            let done = sqin_oidc::revocation::withdraw_consent(
                &mut tx,
                &server.services.provider(),
                &citizen.id,
                &id,
                "citizen",
                server.now(),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            assert!(done.consent_id.is_some());
            assert_eq!(done.grants_revoked, 1);
        }
        assert_eq!(
            introspect(&server, &id, &secret, &access).await["active"],
            false
        );
        assert_eq!(
            introspect(&server, &id, &secret, &refresh).await["active"],
            false
        );
        assert_eq!(userinfo(&server, &access).await.0, 401);
        let (s, b, _) = token_request(
            &server,
            &id,
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
        .await;
        assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
        // The next sign-in shows the consent page again.
        let (_, challenge) = pkce_pair();
        let url = authorize_url(
            &server,
            &[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", CB),
                ("scope", "openid profile"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        let r = server
            .client()
            .get(url)
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("form_token"));
        // The withdrawal is in the ledger.
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let history = sqin_ledger_service::history::download(
            &mut conn,
            &server.services.ledger,
            &citizen.id,
            &Default::default(),
            server.now(),
        )
        .await
        .unwrap();
        assert!(history
            .entries
            .iter()
            .any(|e| e.kind.as_str() == "consent_revoked"));
        server.stop().await;
    }
);

both_backends!(
    async fn a_lapsed_consent_ends_with_its_tokens_and_is_recorded(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-1").await;
        let cookie = server.sign_in(&citizen.id).await;
        let reg = server
            .register_client(rp("Famille", CB, "openid profile"))
            .await;
        let id = reg.record.client_id.clone();
        let secret = reg.client_secret.unwrap().expose().to_owned();
        let t = tokens_for(&server, &cookie, &id, &secret, CB, "openid profile").await;
        let access = t["access_token"].as_str().unwrap().to_owned();
        // Nothing lapses early.
        sqin_app::jobs::oidc_housekeeping_pass(&server.services)
            .await
            .unwrap();
        assert_eq!(userinfo(&server, &access).await.0, 200);
        // A year passes.
        server.advance(366 * 86_400);
        sqin_app::jobs::oidc_housekeeping_pass(&server.services)
            .await
            .unwrap();
        assert_eq!(userinfo(&server, &access).await.0, 401);
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        assert!(sqin_store::consents::live(&mut conn, &citizen.id, &id)
            .await
            .unwrap()
            .is_none());
        let history = sqin_ledger_service::history::download(
            &mut conn,
            &server.services.ledger,
            &citizen.id,
            &Default::default(),
            server.now(),
        )
        .await
        .unwrap();
        assert!(history
            .entries
            .iter()
            .any(|e| e.kind.as_str() == "consent_expired"));
        server.stop().await;
    }
);
