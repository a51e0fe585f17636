//! What the passkey service must refuse: replayed challenges, answers for
//! another origin or RP ID, tampered signatures, counters that go backwards,
//! missing user verification, spent, expired or brute-forced codes, forged
//! forms; and what it must not reveal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::passkeys_support;

use passkeys_support::*;
use serde_json::json;
use sqin_tests::{both_backends, TestServer};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::{AuthenticatorBackend, WebauthnAuthenticator};

/// An enrolled citizen and the authenticator holding their passkey.
async fn enrolled(server: &TestServer, register_id: &str) -> (Citizen, SoftPasskey, Vec<u8>) {
    let citizen = add_citizen(server, register_id, "1980-01-15").await;
    let mut key = authenticator();
    let (reply, _, cred_id) = Browser::open(server)
        .await
        .enrol(&mut key, &citizen.code, &citizen.birthdate, "Key")
        .await;
    reply.ok();
    (citizen, key, cred_id)
}

both_backends!(
    async fn a_challenge_is_answered_once(db: TestDb) {
        let server = TestServer::start(db).await;
        let (_, mut key, _) = enrolled(&server, "A-1").await;
        let b = Browser::open(&server).await;
        let (ceremony, options) = b.login_start(Some("A-1")).await;
        let credential = key.do_authentication(b.origin.clone(), options).unwrap();
        b.login_finish(&ceremony, &credential).await.ok();
        // The same answer to the same ceremony: the ceremony is gone.
        let again = b.login_finish(&ceremony, &credential).await;
        assert_eq!(again.status, 400);
        assert_eq!(again.error(), "ceremony_expired");
        // The same answer to a new ceremony: wrong challenge.
        let (fresh, _) = b.login_start(Some("A-1")).await;
        let replay = b.login_finish(&fresh, &credential).await;
        assert_eq!(replay.error(), "passkey_rejected");
        // A ceremony is bound to the browser that started it: another
        // browser can neither answer nor spoil it.
        let (theirs, options) = b.login_start(Some("A-1")).await;
        let credential = key.do_authentication(b.origin.clone(), options).unwrap();
        let other = Browser::open(&server).await;
        assert_eq!(
            other.login_finish(&theirs, &credential).await.error(),
            "ceremony_expired"
        );
        b.login_finish(&theirs, &credential).await.ok();
        // A refused answer consumes the ceremony too: no second try.
        let (ceremony, options) = b.login_start(Some("A-1")).await;
        let good = key.do_authentication(b.origin.clone(), options).unwrap();
        let mut bad = good.clone();
        bad.response.signature = vec![0x30, 0x00];
        assert_eq!(
            b.login_finish(&ceremony, &bad).await.error(),
            "passkey_rejected"
        );
        assert_eq!(
            b.login_finish(&ceremony, &good).await.error(),
            "ceremony_expired"
        );
        server.stop().await;
    }
);

both_backends!(
    async fn answers_for_another_origin_or_rp_id_are_refused(db: TestDb) {
        let server = TestServer::start(db).await;
        let (_, mut key, _) = enrolled(&server, "A-2").await;
        let b = Browser::open(&server).await;
        let port = b.origin.port().unwrap();

        // A phishing page on another origin relays our options.
        let evil = url::Url::parse(&format!("https://evil.localhost:{port}")).unwrap();
        let (ceremony, options) = b.login_start(Some("A-2")).await;
        let credential = key.do_authentication(evil.clone(), options).unwrap();
        assert_eq!(
            b.login_finish(&ceremony, &credential).await.error(),
            "passkey_rejected"
        );
        // Another port of the same host is another origin too.
        let other_port = url::Url::parse(&format!("http://localhost:{}", port + 1)).unwrap();
        let (ceremony, options) = b.login_start(Some("A-2")).await;
        let credential = key.do_authentication(other_port, options).unwrap();
        assert_eq!(
            b.login_finish(&ceremony, &credential).await.error(),
            "passkey_rejected"
        );

        // The right origin but an assertion scoped to another RP ID.
        let (ceremony, mut options) = b.login_start(Some("A-2")).await;
        options.public_key.rp_id = "example.org".into();
        let credential = key
            .perform_auth(b.origin.clone(), options.public_key, 60_000)
            .unwrap();
        assert_eq!(
            b.login_finish(&ceremony, &credential).await.error(),
            "passkey_rejected"
        );

        // Registration from another origin is refused as well.
        let citizen = add_citizen(&server, "A-2b", "1980-01-15").await;
        let grant = b.verify(&citizen.code, &citizen.birthdate).await.ok();
        let (ceremony, options) = b.enrol_start(grant["grant"].as_str().unwrap()).await;
        let credential = authenticator().do_registration(evil, options).unwrap();
        assert_eq!(
            b.enrol_finish(&ceremony, &credential, "x").await.error(),
            "passkey_rejected"
        );
        // The refused registration spent nothing: the code still works.
        let (reply, _, _) = b
            .enrol(
                &mut authenticator(),
                &citizen.code,
                &citizen.birthdate,
                "ok",
            )
            .await;
        reply.ok();

        // The genuine origin still works.
        b.login_with_id(&mut key, "A-2").await.ok();
        server.stop().await;
    }
);

both_backends!(
    async fn a_tampered_signature_is_refused(db: TestDb) {
        let server = TestServer::start(db).await;
        let (_, mut key, _) = enrolled(&server, "A-3").await;
        let b = Browser::open(&server).await;
        let (ceremony, options) = b.login_start(Some("A-3")).await;
        let mut credential = key.do_authentication(b.origin.clone(), options).unwrap();
        let mut signature = credential.response.signature.to_vec();
        let last = signature.len() - 1;
        signature[last] ^= 0x01;
        credential.response.signature = signature;
        assert_eq!(
            b.login_finish(&ceremony, &credential).await.error(),
            "passkey_rejected"
        );

        // Tampered authenticator data (the UV flag set by a man in the middle).
        let (ceremony, options) = b.login_start(Some("A-3")).await;
        let mut credential = key.do_authentication(b.origin.clone(), options).unwrap();
        let mut data = credential.response.authenticator_data.to_vec();
        data[32] |= 0x04;
        data[36] = data[36].wrapping_add(7);
        credential.response.authenticator_data = data;
        assert_eq!(
            b.login_finish(&ceremony, &credential).await.error(),
            "passkey_rejected"
        );
        b.login_with_id(&mut key, "A-3").await.ok();
        server.stop().await;
    }
);

both_backends!(
    async fn a_sign_count_that_goes_backwards_is_refused_and_recorded(db: TestDb) {
        let server = TestServer::start(db).await;
        let (citizen, mut key, _) = enrolled(&server, "A-4").await;
        let b = Browser::open(&server).await;
        // A clone signs with the counter the genuine key had: two answers
        // signed in order, presented in the other order.
        let (first, options) = b.login_start(Some("A-4")).await;
        let older = key.do_authentication(b.origin.clone(), options).unwrap();
        let (second, options) = b.login_start(Some("A-4")).await;
        let newer = key.do_authentication(b.origin.clone(), options).unwrap();
        b.login_finish(&second, &newer).await.ok();
        let refused = b.login_finish(&first, &older).await;
        assert_eq!(refused.status, 400);
        assert_eq!(refused.error(), "sign_count_regression");
        let kinds = events(&server, &citizen.id).await;
        assert_eq!(
            kinds.last().map(String::as_str),
            Some("sign_count_regression")
        );
        // The stored counter is the newer one.
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let p = sqin_store::passkeys::for_citizen(&mut conn, &citizen.id)
            .await
            .unwrap();
        assert_eq!(p[0].sign_count, 2);
        assert!(p[0].last_used_at.is_some());
        server.stop().await;
    }
);

both_backends!(
    async fn user_verification_is_required(db: TestDb) {
        use sqin_webauthn::PublicKeyCredential;
        let server = TestServer::start(db).await;
        let (_, mut key, _) = enrolled(&server, "A-5").await;
        let b = Browser::open(&server).await;

        // An authenticator that only tests presence (the options are altered
        // on the way, so it does not even try to verify the user).
        let (ceremony, mut options) = b.login_start(Some("A-5")).await;
        options.public_key.user_verification =
            serde_json::from_value(json!("discouraged")).unwrap();
        let credential: PublicKeyCredential =
            key.do_authentication(b.origin.clone(), options).unwrap();
        assert_eq!(
            credential.response.authenticator_data[32] & 0x04,
            0,
            "UV flag unset"
        );
        assert_eq!(
            b.login_finish(&ceremony, &credential).await.error(),
            "passkey_rejected"
        );

        // Registration without user verification is refused too.
        let citizen = add_citizen(&server, "A-5b", "1980-01-15").await;
        let grant = b.verify(&citizen.code, &citizen.birthdate).await.ok();
        let (ceremony, mut options) = b.enrol_start(grant["grant"].as_str().unwrap()).await;
        if let Some(sel) = options.public_key.authenticator_selection.as_mut() {
            sel.user_verification = serde_json::from_value(json!("discouraged")).unwrap();
        }
        let credential = authenticator()
            .do_registration(b.origin.clone(), options)
            .unwrap();
        assert_eq!(
            b.enrol_finish(&ceremony, &credential, "x").await.error(),
            "passkey_rejected"
        );
        // An authenticator that cannot verify users at all fails on its side.
        let (_, options) = b.enrol_start(grant["grant"].as_str().unwrap()).await;
        assert!(SoftPasskey::new(false)
            .do_registration(b.origin.clone(), options)
            .is_err());
        server.stop().await;
    }
);

both_backends!(
    async fn spent_expired_and_revoked_codes_are_refused_alike(db: TestDb) {
        let server = TestServer::start(db).await;
        let (citizen, _, _) = enrolled(&server, "A-6").await;
        let b = Browser::open(&server).await;
        // Spent.
        let spent = b.verify(&citizen.code, &citizen.birthdate).await;
        assert_eq!(spent.error(), "code_refused");
        // Expired: issued 31 days ago with a 30-day lifetime.
        let other = add_citizen(&server, "A-6b", "1970-05-05").await;
        let old = reissue_code(&server, &other.id, server.now() - 31 * 86_400).await;
        let expired = b.verify(&old, &other.birthdate).await;
        assert_eq!(expired.error(), "code_refused");
        // Revoked: the first code stopped working when `old` was issued.
        let revoked = b.verify(&other.code, &other.birthdate).await;
        assert_eq!(revoked.error(), "code_refused");
        // Unknown.
        let unknown = b.verify("AAAA-BBBB-CCCC-DDDD", "1970-05-05").await;
        // One generic answer whatever the reason.
        for r in [&spent, &expired, &revoked, &unknown] {
            assert_eq!(r.status, 400);
            assert_eq!(r.body, unknown.body);
        }
        // A grant does not outlive its code: spent between verify and start.
        let third = add_citizen(&server, "A-6c", "1970-05-05").await;
        let grant = b.verify(&third.code, &third.birthdate).await.ok();
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        assert!(server
            .services
            .codes
            .spend(&mut conn, &third.code, server.now())
            .await
            .unwrap());
        drop(conn);
        let late = b
            .post(
                "/api/passkeys/enrol/start",
                json!({ "grant": grant["grant"] }),
            )
            .await;
        assert_eq!(late.error(), "code_refused");
        server.stop().await;
    }
);

both_backends!(
    async fn guessing_birthdates_locks_the_code(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = add_citizen(&server, "A-7", "1966-06-06").await;
        let b = Browser::open(&server).await;
        let wrong = b.verify(&citizen.code, "1966-06-07").await;
        let unknown = b.verify("ZZZZ-ZZZZ-ZZZZ-ZZZZ", "1966-06-06").await;
        // A wrong birthdate and an unknown code look the same.
        assert_eq!(wrong.status, unknown.status);
        assert_eq!(wrong.body, unknown.body);
        for day in 8..=11 {
            let r = b.verify(&citizen.code, &format!("1966-06-{day:02}")).await;
            assert_eq!(r.error(), "code_refused");
        }
        // Five wrong birthdates: the code is locked. The per-code budget is
        // spent too, so the next try is rate limited...
        let r = b.verify(&citizen.code, &citizen.birthdate).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.error(), "rate_limited");
        assert!(r.headers.contains_key("retry-after"));
        // ...and once the window has passed, the right birthdate still fails.
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let later = server.now() + 3600;
        let outcome = server
            .services
            .passkeys
            .verify_code(
                &mut conn,
                sqin_webauthn::Browser("some-browser"),
                "192.0.2.7".parse().unwrap(),
                sqin_webauthn::CodeEntry {
                    code: &citizen.code,
                    birthdate: &citizen.birthdate,
                    request: None,
                },
                later,
            )
            .await;
        assert!(
            matches!(outcome, Err(sqin_webauthn::PasskeyError::CodeRefused)),
            "{outcome:?}"
        );
        let codes = sqin_store::enrolment::for_citizen(&mut conn, &citizen.id)
            .await
            .unwrap();
        assert_eq!(
            codes[0].failed_attempts,
            sqin_register::CODE_MAX_FAILED_ATTEMPTS
        );
        drop(conn);
        let kinds = events(&server, &citizen.id).await;
        assert_eq!(kinds, vec!["code_refused"; 5]);
        server.stop().await;
    }
);

both_backends!(
    async fn code_attempts_are_rate_limited_per_client(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = add_citizen(&server, "A-8", "1966-06-06").await;
        let b = Browser::open(&server).await;
        for i in 0..10 {
            let r = b
                .verify(&format!("AAAA-AAAA-AAAA-{i:04}"), "1966-06-06")
                .await;
            assert_eq!(r.error(), "code_refused");
        }
        // The eleventh attempt from this client is refused before the code is
        // even looked at, right code included.
        let r = b.verify(&citizen.code, &citizen.birthdate).await;
        assert_eq!(r.status, 429);
        // The HTML form says so too.
        let r = b
            .form(
                "/enrol",
                &[("code", &citizen.code), ("birthdate", &citizen.birthdate)],
            )
            .await;
        assert_eq!(r.status(), 429);
        assert!(r.headers().contains_key("retry-after"));
        server.stop().await;
    }
);

both_backends!(
    async fn login_options_do_not_reveal_who_is_enrolled(db: TestDb) {
        let server = TestServer::start(db).await;
        let (_, mut key, _) = enrolled(&server, "A-9").await;
        let b = Browser::open(&server).await;
        let shape = |v: &serde_json::Value| {
            let mut keys: Vec<String> = v["publicKey"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            keys.sort();
            (keys, v.get("mediation").is_some())
        };
        let real = b
            .post("/api/passkeys/login/start", json!({ "register_id": "A-9" }))
            .await
            .ok();
        let nobody = b
            .post(
                "/api/passkeys/login/start",
                json!({ "register_id": "NOBODY-1" }),
            )
            .await
            .ok();
        assert_eq!(shape(&real), shape(&nobody));
        let fakes = nobody["publicKey"]["allowCredentials"].as_array().unwrap();
        assert!(!fakes.is_empty());
        // Deterministic: the same identifier gets the same decoys.
        let again = b
            .post(
                "/api/passkeys/login/start",
                json!({ "register_id": "NOBODY-1" }),
            )
            .await
            .ok();
        assert_eq!(
            nobody["publicKey"]["allowCredentials"],
            again["publicKey"]["allowCredentials"]
        );
        // A real passkey answering a decoy ceremony is refused.
        let (ceremony, mut options) = split_request(nobody);
        options.public_key.allow_credentials.clear();
        let (_, real_options) = split_request(real);
        options.public_key.allow_credentials = real_options.public_key.allow_credentials;
        let credential = key.do_authentication(b.origin.clone(), options).unwrap();
        assert_eq!(
            b.login_finish(&ceremony, &credential).await.error(),
            "passkey_rejected"
        );
        server.stop().await;
    }
);

both_backends!(
    async fn forms_and_json_need_this_browsers_csrf_token(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = add_citizen(&server, "A-10", "1966-06-06").await;
        let b = Browser::open(&server).await;
        let other = Browser::open(&server).await;
        // No token.
        let r = b
            .http
            .post(server.url("/api/passkeys/login/start"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        // Another browser's token.
        let r = b
            .http
            .post(server.url("/api/passkeys/enrol/verify"))
            .header("x-csrf-token", &other.csrf)
            .json(&json!({ "code": citizen.code, "birthdate": citizen.birthdate }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        // A form without its token: an error page for people.
        let r = b
            .http
            .post(server.url("/enrol"))
            .form(&[("code", citizen.code.as_str()), ("birthdate", "1966-06-06")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        // A cross-site request with the right token is refused as well.
        let r = b
            .http
            .post(server.url("/api/passkeys/login/start"))
            .header("x-csrf-token", &b.csrf)
            .header("origin", "https://evil.example")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        // Nothing was attempted with the code.
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let codes = sqin_store::enrolment::for_citizen(&mut conn, &citizen.id)
            .await
            .unwrap();
        assert_eq!(codes[0].failed_attempts, 0);
        assert!(codes[0].spent_at.is_none());
        server.stop().await;
    }
);

both_backends!(
    async fn adding_or_removing_passkeys_needs_a_recent_ceremony(db: TestDb) {
        let server = TestServer::start(db).await;
        let (citizen, _, cred_id) = enrolled(&server, "A-11").await;
        let b = Browser::open(&server).await;
        // A session whose ceremony is an hour old (a stolen cookie, say).
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let (token, _) = sqin_session::start(
            &mut conn,
            &citizen.id,
            sqin_session::acr::SUBSTANTIAL,
            &["hwk", "user", "mfa"],
            server.now() - 3600,
        )
        .await
        .unwrap();
        drop(conn);
        let url = url::Url::parse(&b.base).unwrap();
        b.jar.add_cookie_str(
            &format!(
                "{}={}; Path=/",
                sqin_session::SESSION_COOKIE,
                token.expose()
            ),
            &url,
        );
        let (status, html) = b.account().await;
        assert_eq!(status, 200);
        assert!(
            html.contains("/login?prompt=login"),
            "the page offers to sign in again"
        );
        let r = b.add_start().await;
        assert_eq!(r.status, 401);
        assert_eq!(r.error(), "reauthentication_required");
        let r = b
            .form(
                "/account/passkeys/remove",
                &[("id", &sqin_crypto::b64url(&cred_id)), ("confirm", "yes")],
            )
            .await;
        assert_eq!(r.headers()["location"], "/account?notice=reauth");
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        assert_eq!(
            sqin_store::passkeys::count_for_citizen(&mut conn, &citizen.id)
                .await
                .unwrap(),
            1
        );
        server.stop().await;
    }
);
