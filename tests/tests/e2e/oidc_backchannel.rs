//! Back-channel logout (OpenID Back-Channel Logout 1.0), the provider's side:
//! signed logout tokens with the RP's own pairwise `sub` and `sid`, retried
//! on failure, every attempt recorded.
use serde_json::Value;
use sqin_tests::*;

const CB: &str = "http://127.0.0.1:9/cb";

/// Waits (at most 10 s; the sender retries every 2 s) until the client's first delivery satisfies `done`.
async fn wait_for(
    server: &TestServer,
    client_id: &str,
    done: impl Fn(&sqin_store::backchannel::Delivery) -> bool,
) -> Vec<sqin_store::backchannel::Delivery> {
    for _ in 0..200 {
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let all = sqin_store::backchannel::for_client(&mut conn, client_id)
            .await
            .unwrap();
        if all.first().is_some_and(&done) {
            return all;
        }
        drop(conn);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("delivery to {client_id} did not reach the expected state");
}

fn claims(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let decode = |p: &str| -> Value {
        serde_json::from_slice(&sqin_crypto::b64url_decode(p).unwrap()).unwrap()
    };
    let h = decode(parts.next().unwrap());
    let c = decode(parts.next().unwrap());
    (h, c)
}

both_backends!(
    async fn logout_notifies_each_relying_party_with_its_own_subject(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-1").await;
        let cookie = server.sign_in(&citizen.id).await;
        let (uri, seen) = backchannel_receiver(vec![500]).await;
        let reg = server
            .register_client(sqin_oidc::client::ClientRegistration {
                backchannel_logout_uri: Some(uri.clone()),
                ..rp("Famille", CB, "openid profile")
            })
            .await;
        let id = reg.record.client_id.clone();
        let secret = reg.client_secret.unwrap().expose().to_owned();
        let tokens = tokens_for(&server, &cookie, &id, &secret, CB, "openid profile").await;
        let id_token = tokens["id_token"].as_str().unwrap();
        let (_, idc) = claims(id_token);

        // The citizen signs out at the RP, which sends them to sqin's logout.
        let r = server
            .client()
            .get(server.url("/logout"))
            .query(&[("id_token_hint", id_token)])
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "signed out page");

        // First attempt (the server's sender, woken by the logout): the RP
        // answers 500 and the attempt is recorded with a later retry.
        let recorded = wait_for(&server, &id, |d| d.last_error.is_some()).await;
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].attempts, 1);
        assert_eq!(recorded[0].last_error.as_deref(), Some("HTTP 500"));
        assert!(recorded[0].next_attempt_at > server.now());
        assert!(recorded[0].delivered_at.is_none());
        // Time passes: the retry is delivered.
        server.advance(recorded[0].next_attempt_at - server.now() + 1);
        let recorded = wait_for(&server, &id, |d| d.delivered_at.is_some()).await;
        assert_eq!(recorded[0].attempts, 2);

        let received = seen.lock().unwrap().clone();
        assert_eq!(received.len(), 2);
        let token = received.last().unwrap();
        // Signed with a published key, typed logout+jwt.
        let ring = server.services.key_ring();
        let verified = sqin_oidc::jwt::verify(&ring, token, Some("logout+jwt")).unwrap();
        let (header, c) = claims(token);
        assert_eq!(header["typ"], "logout+jwt");
        assert_eq!(c["iss"], server.issuer.as_str());
        assert_eq!(c["aud"], id.as_str());
        assert!(c["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
        assert_eq!(c["sid"], idc["sid"], "the sid the RP saw in its ID token");
        assert_eq!(c["sub"], idc["sub"], "the RP's own pairwise sub");
        assert!(c.get("nonce").is_none(), "a logout token never has a nonce");
        assert!(c["jti"].is_string() && c["iat"].is_i64() && c["exp"].is_i64());
        assert!(
            !token.contains(&citizen.id)
                && !verified
                    .values()
                    .any(|v| v == &Value::from(citizen.id.clone()))
        );

        // Discovery says so.
        let m = server.discovery().await;
        assert_eq!(m["backchannel_logout_supported"], true);
        assert_eq!(m["backchannel_logout_session_supported"], true);
        server.stop().await;
    }
);

both_backends!(
    async fn withdrawing_consent_logs_the_relying_party_out(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-1").await;
        let cookie = server.sign_in(&citizen.id).await;
        let (uri, seen) = backchannel_receiver(vec![]).await;
        let reg = server
            .register_client(sqin_oidc::client::ClientRegistration {
                backchannel_logout_uri: Some(uri),
                ..rp("Famille", CB, "openid")
            })
            .await;
        let id = reg.record.client_id.clone();
        let secret = reg.client_secret.unwrap().expose().to_owned();
        let tokens = tokens_for(&server, &cookie, &id, &secret, CB, "openid").await;
        let (_, idc) = claims(tokens["id_token"].as_str().unwrap());
        {
            let mut conn = server.services.store.pool().acquire().await.unwrap();
            let mut tx = sqin_store::begin_on(&mut conn).await.unwrap();
            sqin_oidc::revocation::withdraw_consent(
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
        }
        wait_for(&server, &id, |d| d.delivered_at.is_some()).await;
        let token = seen.lock().unwrap()[0].clone();
        let (_, c) = claims(&token);
        assert_eq!(c["sub"], idc["sub"]);
        assert!(
            c.get("sid").is_none(),
            "every session of the citizen at this RP"
        );
        server.stop().await;
    }
);
