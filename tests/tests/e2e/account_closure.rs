//! Closing a citizen's account (`sqin citizen delete`): relying parties hear
//! of it through back-channel logout under their own subject, every token
//! dies, the citizen's ledger history is crypto-shredded with the shredding
//! logged and every proof still valid, and the account is gone. A closure
//! that cannot complete changes nothing.
use sqin_ledger_service::EntryKind;
use sqin_tests::*;

const CB: &str = "http://127.0.0.1:9/cb";

fn jwt_claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&sqin_crypto::b64url_decode(payload).unwrap()).unwrap()
}

both_backends!(
    async fn closing_an_account_revokes_notifies_shreds_and_deletes(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-1").await;
        let other = server.add_citizen("R-2").await;
        let (uri, seen) = backchannel_receiver(vec![]).await;
        let reg = server
            .register_client(sqin_oidc::client::ClientRegistration {
                backchannel_logout_uri: Some(uri),
                ..rp("Famille", CB, "openid profile offline_access")
            })
            .await;
        let id = reg.record.client_id.clone();
        let secret = reg.client_secret.unwrap().expose().to_owned();
        let mut tokens = Vec::new();
        for c in [&citizen, &other] {
            let cookie = server.sign_in(&c.id).await;
            let body = tokens_for(
                &server,
                &cookie,
                &id,
                &secret,
                CB,
                "openid profile offline_access",
            )
            .await;
            tokens.push((cookie, body));
        }
        let (cookie, body) = &tokens[0];
        let access = body["access_token"].as_str().unwrap();
        let refresh = body["refresh_token"].as_str().unwrap();
        let sub = jwt_claims(body["id_token"].as_str().unwrap())["sub"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(userinfo(&server, access).await.0, 200);

        // An unknown citizen: an error, and nothing changes.
        let err = sqin_app::account::close(&server.services, "R-404", server.now())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("R-404"), "{err}");
        assert_eq!(
            introspect(&server, &id, &secret, access).await["active"],
            true
        );

        let closed = sqin_app::account::close(&server.services, "R-1", server.now())
            .await
            .unwrap();
        assert_eq!(closed.relying_parties, vec![id.clone()]);
        assert_eq!(closed.logout_notices, 1);
        assert_eq!(closed.grants_revoked, 1);
        assert!(closed.ledger_keys_destroyed >= 2, "{closed:?}");

        // Every token is dead at once.
        assert_eq!(
            introspect(&server, &id, &secret, access).await["active"],
            false
        );
        assert_eq!(
            introspect(&server, &id, &secret, refresh).await["active"],
            false
        );
        assert_eq!(userinfo(&server, access).await.0, 401);
        let (status, body, _) = token_request(
            &server,
            &id,
            &secret,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        // The browser session is gone with the account.
        let r = server
            .client()
            .get(server.url("/account"))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .unwrap();
        assert_ne!(r.status(), 200, "the account page needs a live session");

        // The relying party hears of it under its own subject for the citizen.
        let mut delivered = None;
        for _ in 0..200 {
            if let Some(token) = seen.lock().unwrap().first().cloned() {
                delivered = Some(token);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let logout = jwt_claims(&delivered.expect("a back-channel logout notice"));
        assert_eq!(logout["sub"], sub.as_str());
        assert_eq!(logout["aud"], id.as_str());
        assert!(logout.get("sid").is_none());

        // The account and what hangs on it are gone; the other citizen is not.
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        assert!(
            sqin_store::citizens::by_register_id(&mut conn, &server.services.register, "R-1")
                .await
                .unwrap()
                .is_none()
        );
        assert!(sqin_store::consents::for_citizen(&mut conn, &citizen.id)
            .await
            .unwrap()
            .is_empty());
        let other_access = tokens[1].1["access_token"].as_str().unwrap();
        assert_eq!(userinfo(&server, other_access).await.0, 200);

        // The ledger: the citizen's history is unreadable, the shredding is
        // logged, and the whole log still verifies.
        let view = ledger_history(&server, &citizen.id).await;
        let (last, before) = view.entries.split_last().unwrap();
        assert_eq!(last.kind, EntryKind::AccountShredded);
        assert!(!before.is_empty());
        assert!(before.iter().all(|e| e.shredded && e.details.is_none()));
        let others = ledger_history(&server, &other.id).await;
        assert!(others.entries.iter().all(|e| e.details.is_some()));
        let report = verify_ledger(&server).await;
        assert!(report.entries >= view.entries.len() as u64, "{report:?}");
        drop(conn);
        server.stop().await;
    }
);
