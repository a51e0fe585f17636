//! Passkeys end to end against the real server, with a software
//! authenticator: enrolment, sign-in, more passkeys, removal, recovery.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::passkeys_support;

use passkeys_support::*;
use sqin_session::{acr, SESSION_COOKIE};
use sqin_tests::{both_backends, TestServer};

async fn session_of(
    server: &TestServer,
    browser: &Browser,
) -> Option<sqin_session::AuthenticatedSession> {
    use reqwest::cookie::CookieStore;
    let url = url::Url::parse(&browser.base).unwrap();
    let header = browser.jar.cookies(&url)?;
    let token = header
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix(&format!("{SESSION_COOKIE}=")))?
        .to_owned();
    let mut conn = server.services.store.pool().acquire().await.unwrap();
    sqin_session::current(&mut conn, &token, server.now())
        .await
        .unwrap()
}

both_backends!(
    async fn enrol_then_sign_in_both_ways(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = add_citizen(&server, "R-100", "1984-03-02").await;
        let browser = Browser::open(&server).await;
        let mut key = authenticator();

        let (reply, user_handle, cred_id) = browser
            .enrol(&mut key, &citizen.code, &citizen.birthdate, "Mon téléphone")
            .await;
        let body = reply.ok();
        assert_eq!(body["redirect"], "/account?notice=welcome");
        // Enrolment signs the citizen in at the mailed code's level.
        let session = session_of(&server, &browser).await.expect("a session");
        assert_eq!(session.citizen_id, citizen.id);
        assert_eq!(session.acr, acr::SUBSTANTIAL);
        assert_eq!(session.amr, vec!["hwk", "user", "mfa"]);
        let (status, html) = browser.account().await;
        assert_eq!(status, 200);
        assert!(html.contains("Mon téléphone"), "{html}");

        // The citizen is enrolled; the code is spent.
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let row = sqin_store::citizens::by_id(&mut conn, &server.services.register, &citizen.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.status, sqin_store::citizens::CitizenStatus::Enrolled);
        drop(conn);
        let again = browser.verify(&citizen.code, &citizen.birthdate).await;
        assert_eq!(again.status, 400);
        assert_eq!(again.error(), "code_refused");

        // Username-less sign-in from another browser.
        let other = Browser::open(&server).await;
        let done = other
            .login_discoverable(&mut key, &cred_id, &user_handle)
            .await
            .ok();
        assert_eq!(done["redirect"], "/account");
        let s = session_of(&server, &other).await.expect("a session");
        assert_eq!(s.citizen_id, citizen.id);
        assert_eq!(s.acr, acr::SUBSTANTIAL);

        // With the register identifier typed.
        let third = Browser::open(&server).await;
        third.login_with_id(&mut key, "R-100").await.ok();
        assert!(session_of(&server, &third).await.is_some());
        let (status, html) = third.account().await;
        assert_eq!(status, 200);
        assert!(html.contains("Camille"));

        // A sign-in resuming an authorization request goes back to it.
        let (ceremony, options) = {
            let v = third
                .post(
                    "/api/passkeys/login/start",
                    serde_json::json!({ "register_id": "R-100", "request": "req-123" }),
                )
                .await
                .ok();
            split_request(v)
        };
        let credential = key.do_authentication_for(&third, options);
        let done = third.login_finish(&ceremony, &credential).await.ok();
        assert_eq!(done["redirect"], "/authorize/resume?request=req-123");

        assert_eq!(
            events(&server, &citizen.id).await,
            vec!["enrolled", "sign_in", "sign_in", "sign_in"]
        );
        server.stop().await;
    }
);

trait AuthenticateFor {
    fn do_authentication_for(
        &mut self,
        browser: &Browser,
        options: sqin_webauthn::RequestChallengeResponse,
    ) -> sqin_webauthn::PublicKeyCredential;
}

impl AuthenticateFor for webauthn_authenticator_rs::softpasskey::SoftPasskey {
    fn do_authentication_for(
        &mut self,
        browser: &Browser,
        options: sqin_webauthn::RequestChallengeResponse,
    ) -> sqin_webauthn::PublicKeyCredential {
        use webauthn_authenticator_rs::WebauthnAuthenticator;
        self.do_authentication(browser.origin.clone(), options)
            .unwrap()
    }
}

both_backends!(
    async fn a_second_passkey_can_be_added_renamed_and_removed(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = add_citizen(&server, "R-200", "1990-07-14").await;
        let browser = Browser::open(&server).await;
        let mut phone = authenticator();
        let mut laptop = authenticator();
        browser
            .enrol(&mut phone, &citizen.code, &citizen.birthdate, "Phone")
            .await
            .0
            .ok();

        // Add a second passkey from the account page.
        let (ceremony, options) = split_creation(browser.add_start().await.ok());
        let excluded = options
            .public_key
            .exclude_credentials
            .clone()
            .unwrap_or_default();
        assert_eq!(excluded.len(), 1, "the first passkey is excluded");
        let credential = browser.register(&mut laptop, options);
        let laptop_id = credential_id(&credential);
        let added = browser
            .post(
                "/api/passkeys/add/finish",
                serde_json::json!({ "ceremony": ceremony, "credential": credential, "name": "Laptop" }),
            )
            .await
            .ok();
        assert_eq!(added["passkey"]["name"], "Laptop");
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let list = server
            .services
            .passkeys
            .list(&mut conn, &citizen.id)
            .await
            .unwrap();
        drop(conn);
        assert_eq!(list.len(), 2);
        let phone_id = list.iter().find(|p| p.name == "Phone").unwrap().id.clone();
        let laptop_b64 = sqin_crypto::b64url(&laptop_id);

        // Both sign in.
        let on_laptop = Browser::open(&server).await;
        on_laptop.login_with_id(&mut laptop, "R-200").await.ok();
        let second_phone_session = Browser::open(&server).await;
        second_phone_session
            .login_with_id(&mut phone, "R-200")
            .await
            .ok();

        // Rename (a form with its CSRF token).
        let r = browser
            .form(
                "/account/passkeys/rename",
                &[("id", &laptop_b64), ("name", "Work laptop")],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/account?notice=renamed");
        let (_, html) = browser.account().await;
        assert!(html.contains("Work laptop"));

        // Remove the (lost) phone from the laptop: it can no longer sign
        // in, and the sessions it opened end with it.
        let r = on_laptop
            .form("/account/passkeys/remove", &[("id", &phone_id)])
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/account?notice=removed");
        for phone_session in [&browser, &second_phone_session] {
            let (status, _) = phone_session.account().await;
            assert_eq!(status, 303, "a session the removed passkey opened ended");
        }
        assert_eq!(on_laptop.account().await.0, 200);
        let browser = on_laptop;
        let refused = Browser::open(&server).await;
        let (ceremony, mut options) = refused.login_start(Some("R-200")).await;
        // The phone's credential is no longer offered; make the authenticator
        // try it anyway.
        options.public_key.allow_credentials.clear();
        let phone_raw = sqin_crypto::b64url_decode(&phone_id).unwrap();
        allow(&mut options, &phone_raw);
        let credential = phone.do_authentication_for(&refused, options);
        let reply = refused.login_finish(&ceremony, &credential).await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.error(), "passkey_rejected");

        // The last passkey goes only after a warning and a confirmation.
        let r = browser
            .form("/account/passkeys/remove", &[("id", &laptop_b64)])
            .await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("name=\"confirm\""), "{html}");
        let r = browser
            .form(
                "/account/passkeys/remove",
                &[("id", &laptop_b64), ("confirm", "yes")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        assert!(server
            .services
            .passkeys
            .list(&mut conn, &citizen.id)
            .await
            .unwrap()
            .is_empty());
        drop(conn);
        assert_eq!(
            events(&server, &citizen.id).await,
            vec![
                "enrolled",
                "passkey_added",
                "sign_in",
                "sign_in",
                "passkey_renamed",
                "passkey_removed",
                "passkey_removed"
            ]
        );
        server.stop().await;
    }
);

both_backends!(
    async fn recovery_with_a_reissued_code_ends_every_session(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = add_citizen(&server, "R-300", "1975-11-30").await;
        let old_device = Browser::open(&server).await;
        let mut lost = authenticator();
        old_device
            .enrol(&mut lost, &citizen.code, &citizen.birthdate, "Lost phone")
            .await
            .0
            .ok();
        let thief = Browser::open(&server).await;
        thief.login_with_id(&mut lost, "R-300").await.ok();
        assert!(session_of(&server, &old_device).await.is_some());
        assert!(session_of(&server, &thief).await.is_some());
        // The thief signs in to a service and keeps a long-lived token.
        let cb = "http://127.0.0.1:9/cb";
        let rp = server
            .register_client(sqin_tests::rp("Famille", cb, "openid offline_access"))
            .await;
        let rp_secret = rp.client_secret.unwrap().expose().to_owned();
        let thief_cookie = {
            use reqwest::cookie::CookieStore;
            let url = url::Url::parse(&thief.base).unwrap();
            thief
                .jar
                .cookies(&url)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        };
        let (code, verifier) = sqin_tests::code_for(
            &server,
            &thief_cookie,
            &rp.record.client_id,
            cb,
            "openid offline_access",
        )
        .await;
        let (_, stolen, _) = sqin_tests::token_request(
            &server,
            &rp.record.client_id,
            &rp_secret,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", cb),
                ("code_verifier", &verifier),
            ],
        )
        .await;
        let stolen_refresh = stolen["refresh_token"].as_str().unwrap().to_owned();

        // The citizen asks for a new code (mailed to the register's address).
        let code = reissue_code(&server, &citizen.id, server.now()).await;
        let new_device = Browser::open(&server).await;
        let mut replacement = authenticator();
        let grant = new_device.verify(&code, &citizen.birthdate).await.ok();
        assert_eq!(grant["purpose"], "recovery");
        let (ceremony, options) = new_device
            .enrol_start(grant["grant"].as_str().unwrap())
            .await;
        let credential = new_device.register(&mut replacement, options);
        let done = new_device
            .enrol_finish(&ceremony, &credential, "New phone")
            .await
            .ok();
        assert_eq!(done["redirect"], "/account?recovered=1");

        // Every earlier session is over, and so is every token obtained
        // through them; the new session has the code's level.
        let (status, body, _) = sqin_tests::token_request(
            &server,
            &rp.record.client_id,
            &rp_secret,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &stolen_refresh),
            ],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        assert!(session_of(&server, &old_device).await.is_none());
        assert!(session_of(&server, &thief).await.is_none());
        let (status, _) = thief.account().await;
        assert_eq!(
            status, 303,
            "the thief's session no longer opens the account"
        );
        let s = session_of(&server, &new_device).await.unwrap();
        assert_eq!(s.acr, acr::SUBSTANTIAL);

        // The citizen sees both passkeys and removes the lost one.
        let r = new_device.get("/account?recovered=1").await;
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Lost phone") && html.contains("New phone"),
            "{html}"
        );
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let list = server
            .services
            .passkeys
            .list(&mut conn, &citizen.id)
            .await
            .unwrap();
        drop(conn);
        let lost_id = list
            .iter()
            .find(|p| p.name == "Lost phone")
            .unwrap()
            .id
            .clone();
        assert_eq!(
            list.iter()
                .find(|p| p.name == "New phone")
                .unwrap()
                .enrolled_via,
            "recovery"
        );
        let r = new_device
            .form("/account/passkeys/remove", &[("id", &lost_id)])
            .await;
        assert_eq!(r.status(), 303);
        // The lost passkey is useless now; the new one works.
        let reply = {
            let b = Browser::open(&server).await;
            let (ceremony, mut options) = b.login_start(Some("R-300")).await;
            options.public_key.allow_credentials.clear();
            allow(&mut options, &sqin_crypto::b64url_decode(&lost_id).unwrap());
            let c = lost.do_authentication_for(&b, options);
            b.login_finish(&ceremony, &c).await
        };
        assert_eq!(reply.error(), "passkey_rejected");
        Browser::open(&server)
            .await
            .login_with_id(&mut replacement, "R-300")
            .await
            .ok();
        let kinds = events(&server, &citizen.id).await;
        assert_eq!(
            kinds,
            vec![
                "enrolled",
                "sign_in",
                "recovered",
                "passkey_removed",
                "sign_in"
            ]
        );
        server.stop().await;
    }
);

both_backends!(
    async fn a_citizen_under_fourteen_cannot_enrol_alone(db: TestDb) {
        let server = TestServer::start(db).await;
        let today = time::OffsetDateTime::now_utc().date();
        let born = today.replace_year(today.year() - 10).unwrap_or(today);
        let birthdate = format!(
            "{:04}-{:02}-{:02}",
            born.year(),
            u8::from(born.month()),
            born.day()
        );
        let child = add_citizen(&server, "R-400", &birthdate).await;
        let browser = Browser::open(&server).await;
        let reply = browser.verify(&child.code, &child.birthdate).await;
        assert_eq!(reply.status, 403);
        assert_eq!(reply.error(), "minor");
        // The page says so, and how a parent proceeds; the code is not spent.
        let r = browser
            .form(
                "/enrol",
                &[("code", &child.code), ("birthdate", &child.birthdate)],
            )
            .await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("moins de 14 ans"), "{html}");
        assert!(html.contains("parent"));
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let codes = sqin_store::enrolment::for_citizen(&mut conn, &child.id)
            .await
            .unwrap();
        assert!(codes.iter().all(|c| c.spent_at.is_none()));
        server.stop().await;
    }
);
