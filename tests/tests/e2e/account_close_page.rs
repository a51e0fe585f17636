//! A citizen closes their own account from the account page: a confirmation
//! page in French and English, a form that needs its CSRF token, the box
//! ticked and a recent sign-in, and then the same closure as `sqin citizen
//! delete` (relying parties told, tokens revoked, ledger history shredded,
//! account deleted), the browser's session cookie cleared.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::passkeys_support;

use passkeys_support::enrolled;
use sqin_ledger_service::EntryKind;
use sqin_tests::{both_backends, TestServer};

both_backends!(
    async fn a_citizen_closes_their_own_account(db: TestDb) {
        let server = TestServer::start(db).await;
        let (citizen, browser, mut key) = enrolled(&server, "R-300").await;

        // The account page links to it; the page explains, in both languages.
        let (status, html) = browser.account().await;
        assert_eq!(status, 200);
        assert!(html.contains("href=\"/account/close\""), "{html}");
        let r = browser.get("/account/close").await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("Fermer votre compte"), "{html}");
        assert!(html.contains("name=\"confirm\""));
        let r = browser.get("/account/close?lang=en").await;
        let html = r.text().await.unwrap();
        assert!(html.contains("Close your account"), "{html}");
        assert!(html.contains("cannot be undone"), "{html}");

        // Without the box ticked: the page again, with an alert; nothing changes.
        let r = browser.form("/account/close", &[]).await;
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains("role=\"alert\""), "{html}");
        // Without the CSRF token: refused.
        let r = browser
            .http
            .post(server.url("/account/close"))
            .form(&[("confirm", "yes")])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());
        // From a sign-in older than fifteen minutes: sign in again first.
        server.advance(3600);
        let r = browser.form("/account/close", &[("confirm", "yes")]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/account?notice=reauth");
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        assert!(
            sqin_store::citizens::by_id(&mut conn, &server.services.register, &citizen.id)
                .await
                .unwrap()
                .is_some()
        );
        drop(conn);

        // Signed in again: the account closes.
        browser.login_with_id(&mut key, "R-300").await.ok();
        let r = browser.form("/account/close", &[("confirm", "yes")]).await;
        assert_eq!(r.status(), 200);
        let cleared = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().contains("Max-Age=0"));
        assert!(cleared, "the session cookie is cleared");
        let html = r.text().await.unwrap();
        // In English: the language chosen earlier sticks.
        assert!(html.contains("Your account is closed"), "{html}");

        let mut conn = server.services.store.pool().acquire().await.unwrap();
        assert!(
            sqin_store::citizens::by_id(&mut conn, &server.services.register, &citizen.id)
                .await
                .unwrap()
                .is_none()
        );
        let view = sqin_tests::ledger_history(&server, &citizen.id).await;
        let (last, before) = view.entries.split_last().unwrap();
        assert_eq!(last.kind, EntryKind::AccountShredded);
        assert!(before.iter().all(|e| e.shredded), "{before:?}");
        drop(conn);
        // The passkey signs in to nothing now.
        let (status, _) = browser.account().await;
        assert_eq!(status, 303);
        server.stop().await;
    }
);
