//! What rests on a passkey ends with it: removing a (lost) passkey ends the
//! sessions it opened and revokes every grant relying parties got under
//! them, while the sessions and grants of the citizen's other passkeys go
//! on; "sign out everywhere" ends every session of the citizen and revokes
//! every grant. Relying parties hear of both by back-channel logout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use sqin_tests::{both_backends, TestServer};

use crate::passkeys_support::*;

const CB: &str = "http://127.0.0.1:9/cb";
const SCOPE: &str = "openid offline_access";

/// The `Cookie` header a browser sends to the server.
fn cookie_header(browser: &Browser) -> String {
    use reqwest::cookie::CookieStore;
    let url = url::Url::parse(&browser.base).unwrap();
    browser
        .jar
        .cookies(&url)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

/// A relying party with a back-channel logout endpoint.
struct Rp {
    id: String,
    secret: String,
    logouts: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

async fn relying_party(server: &TestServer) -> Rp {
    let (uri, logouts) = sqin_tests::backchannel_receiver(vec![]).await;
    let reg = server
        .register_client(sqin_oidc::client::ClientRegistration {
            backchannel_logout_uri: Some(uri),
            ..sqin_tests::rp("Famille", CB, SCOPE)
        })
        .await;
    Rp {
        id: reg.record.client_id.clone(),
        secret: reg.client_secret.unwrap().expose().to_owned(),
        logouts,
    }
}

/// What the relying party got from a sign-in in this browser's session.
struct Tokens {
    access: String,
    refresh: String,
    /// The `sid` of the ID token: the session at sqin, as this RP knows it.
    sid: String,
    sub: String,
}

fn jwt_claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&sqin_crypto::b64url_decode(payload).unwrap()).unwrap()
}

async fn sign_in_at(server: &TestServer, rp: &Rp, browser: &Browser) -> Tokens {
    let body = sqin_tests::tokens_for(
        server,
        &cookie_header(browser),
        &rp.id,
        &rp.secret,
        CB,
        SCOPE,
    )
    .await;
    let id_token = jwt_claims(body["id_token"].as_str().unwrap());
    Tokens {
        access: body["access_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().unwrap().to_owned(),
        sid: id_token["sid"].as_str().unwrap().to_owned(),
        sub: id_token["sub"].as_str().unwrap().to_owned(),
    }
}

/// The token endpoint's answer to a refresh: 200 with the new refresh
/// token, or the status and `error`.
async fn refresh(server: &TestServer, rp: &Rp, token: &str) -> Result<String, (u16, String)> {
    let (status, body, _) = sqin_tests::token_request(
        server,
        &rp.id,
        &rp.secret,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await;
    match status {
        200 => Ok(body["refresh_token"]
            .as_str()
            .map_or_else(|| token.to_owned(), str::to_owned)),
        _ => Err((status, body["error"].as_str().unwrap_or("").to_owned())),
    }
}

fn invalid_grant() -> Result<String, (u16, String)> {
    Err((400, "invalid_grant".to_owned()))
}

/// Waits (the sender is woken by the change; at most 10 s) until the RP
/// has received `n` logout tokens, and returns their claims.
async fn logout_tokens(rp: &Rp, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let seen = rp.logouts.lock().unwrap().clone();
        if seen.len() >= n {
            return seen.iter().map(|t| jwt_claims(t)).collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the relying party did not receive {n} logout tokens");
}

/// Adds a second passkey ("Laptop") from a browser whose session is
/// recent; returns its base64url id.
async fn add_passkey(
    browser: &Browser,
    key: &mut webauthn_authenticator_rs::softpasskey::SoftPasskey,
) -> String {
    let (ceremony, options) = split_creation(browser.add_start().await.ok());
    let credential = browser.register(key, options);
    let added = browser
        .post(
            "/api/passkeys/add/finish",
            json!({ "ceremony": ceremony, "credential": credential, "name": "Laptop" }),
        )
        .await
        .ok();
    added["passkey"]["id"].as_str().unwrap().to_owned()
}

both_backends!(
    async fn removing_a_passkey_ends_its_sessions_and_the_grants_issued_in_them(db: TestDb) {
        let server = TestServer::start(db).await;
        // Passkey 1 ("Portable") opened this browser's session.
        let (citizen, on_phone, _phone) = enrolled(&server, "S-100").await;
        let mut laptop = authenticator();
        let laptop_id = add_passkey(&on_phone, &mut laptop).await;
        // Passkey 2 ("Laptop") opens two sessions: one still open, one the
        // citizen signed out of (its refresh token lives on: signing out
        // tells relying parties, it does not revoke what they hold).
        let on_laptop = Browser::open(&server).await;
        on_laptop.login_with_id(&mut laptop, "S-100").await.ok();
        let signed_out = Browser::open(&server).await;
        signed_out.login_with_id(&mut laptop, "S-100").await.ok();

        let rp = relying_party(&server).await;
        let by_phone = sign_in_at(&server, &rp, &on_phone).await;
        let by_laptop = sign_in_at(&server, &rp, &on_laptop).await;
        let by_laptop_earlier = sign_in_at(&server, &rp, &signed_out).await;
        assert_eq!(signed_out.form("/account/signout", &[]).await.status(), 303);
        let after_signout = logout_tokens(&rp, 1).await;
        assert_eq!(after_signout[0]["sid"], by_laptop_earlier.sid.as_str());
        let by_laptop_earlier_refresh = refresh(&server, &rp, &by_laptop_earlier.refresh)
            .await
            .expect("a signed-out session's refresh token still works");

        // The laptop is lost: the citizen removes it from the phone.
        let r = on_phone
            .form("/account/passkeys/remove", &[("id", &laptop_id)])
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/account?notice=removed");
        // The notice offers to sign out everywhere (a form with its token).
        let r = on_phone.get("/account?notice=removed").await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        let notice = &html[html.find("class=\"notice").unwrap()..];
        let notice = &notice[..notice.find("</div>").unwrap()];
        assert!(
            notice.contains("action=\"/account/signout/everywhere\"")
                && notice.contains("name=\"csrf\""),
            "{notice}"
        );

        // The laptop's session gets the sign-in page; every grant issued in
        // a session the laptop opened is refused, the signed-out one's too.
        let (status, _) = on_laptop.account().await;
        assert_eq!(status, 303, "a session the removed passkey opened ended");
        assert_eq!(
            refresh(&server, &rp, &by_laptop.refresh).await,
            invalid_grant()
        );
        assert_eq!(
            refresh(&server, &rp, &by_laptop_earlier_refresh).await,
            invalid_grant()
        );
        let (status, _) = sqin_tests::userinfo(&server, &by_laptop.access).await;
        assert_eq!(status, 401, "the access token died with its grant");

        // The phone's session and what the RP got in it go on.
        assert_eq!(on_phone.account().await.0, 200);
        let (status, info) = sqin_tests::userinfo(&server, &by_phone.access).await;
        assert_eq!(status, 200, "{info}");
        assert_eq!(info["sub"], by_phone.sub.as_str());
        let renewed = refresh(&server, &rp, &by_phone.refresh).await.unwrap();
        assert!(refresh(&server, &rp, &renewed).await.is_ok());

        // The RP heard that the laptop's open session is over.
        // (One for the session signed out of, again: its grant was revoked.)
        let tokens = logout_tokens(&rp, 3).await;
        let sids: Vec<&str> = tokens.iter().filter_map(|c| c["sid"].as_str()).collect();
        assert!(sids.contains(&by_laptop.sid.as_str()), "{tokens:?}");
        assert!(!sids.contains(&by_phone.sid.as_str()), "{tokens:?}");

        let kinds = events(&server, &citizen.id).await;
        assert_eq!(kinds.last().map(String::as_str), Some("passkey_removed"));
        server.stop().await;
    }
);

both_backends!(
    async fn signing_out_everywhere_ends_every_session_and_grant(db: TestDb) {
        let server = TestServer::start(db).await;
        let (citizen, first, mut phone) = enrolled(&server, "S-200").await;
        let second = Browser::open(&server).await;
        second.login_with_id(&mut phone, "S-200").await.ok();
        let rp = relying_party(&server).await;
        let in_first = sign_in_at(&server, &rp, &first).await;
        let in_second = sign_in_at(&server, &rp, &second).await;

        // The account page offers it, as a form with its CSRF token.
        let (status, html) = second.account().await;
        assert_eq!(status, 200);
        assert!(
            html.contains("<form method=\"post\" action=\"/account/signout/everywhere\">"),
            "{html}"
        );
        assert!(html.contains("Me déconnecter partout"), "{html}");
        // Without this browser's token, nothing happens.
        let forged = second
            .http
            .post(format!("{}/account/signout/everywhere", second.base))
            .form(&[("csrf", "forged")])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
        assert_eq!(first.account().await.0, 200);
        // (A refresh rotates the token: the new one is what the RP keeps.)
        let first_refresh = refresh(&server, &rp, &in_first.refresh).await.unwrap();

        let r = second.form("/account/signout/everywhere", &[]).await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            r.headers()["location"],
            "/login?notice=signed_out_everywhere"
        );
        let cleared = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.starts_with("sqin_session=;") && v.contains("Max-Age=0"));
        assert!(cleared, "the browser forgets its session");
        let r = second.get("/login?notice=signed_out_everywhere").await;
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("Vous êtes déconnecté partout"), "{html}");

        // Every session ended, the other browser's too.
        assert_eq!(first.account().await.0, 303);
        assert_eq!(second.account().await.0, 303);
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let live = sqin_store::sessions::live_for_citizen(&mut conn, &citizen.id, server.now())
            .await
            .unwrap();
        drop(conn);
        assert!(live.is_empty(), "{live:?}");
        // Every refresh token is refused, every access token too.
        for refresh_token in [&first_refresh, &in_second.refresh] {
            assert_eq!(refresh(&server, &rp, refresh_token).await, invalid_grant());
        }
        for tokens in [&in_first, &in_second] {
            assert_eq!(sqin_tests::userinfo(&server, &tokens.access).await.0, 401);
        }
        // The relying party is told: every session of its `sub`.
        let told = logout_tokens(&rp, 1).await;
        assert!(
            told.iter()
                .any(|c| c["sub"] == in_first.sub.as_str() && c.get("sid").is_none()),
            "{told:?}"
        );

        // The citizen sees it in their account's activity.
        assert_eq!(
            events(&server, &citizen.id).await,
            vec!["enrolled", "sign_in", "signed_out_everywhere"]
        );
        let again = Browser::open(&server).await;
        again.login_with_id(&mut phone, "S-200").await.ok();
        let (status, html) = again.account().await;
        assert_eq!(status, 200);
        assert!(
            html.contains("Déconnexion partout : sessions fermées (2)"),
            "{html}"
        );
        // A new sign-in works as before.
        let fresh = sign_in_at(&server, &rp, &again).await;
        assert!(refresh(&server, &rp, &fresh.refresh).await.is_ok());
        server.stop().await;
    }
);
