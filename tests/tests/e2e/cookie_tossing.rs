//! Cookie tossing: a sibling subdomain (or another site on the same host)
//! can plant a cookie named like sqin's session, and a browser sends both
//! (`Cookie: sqin_session=<attacker>; sqin_session=<victim>`). sqin refuses
//! a request that carries the session cookie twice, with a page that says
//! what to do, instead of serving it as either session; the staff console
//! alike. Under https the cookies are `__Host-` (Secure, Path=/, no
//! Domain), which a sibling cannot set at all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use reqwest::StatusCode;
use sqin_tests::{both_backends, TestDb, TestServer};

use crate::passkeys_support::{self, authenticator, enrolled, Browser};
use crate::staff_support::member;

const REFUSED_FR: &str = "Votre navigateur a envoyé deux fois le témoin de connexion";
const CB: &str = "http://127.0.0.1:9/cb";

/// The value of cookie `name` in a jar, for `url`.
fn jar_cookie(jar: &reqwest::cookie::Jar, url: &str, name: &str) -> String {
    use reqwest::cookie::CookieStore;
    let header = jar.cookies(&url.parse().unwrap()).unwrap();
    let prefix = format!("{name}=");
    header
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {name} in {header:?}"))
        .to_owned()
}

/// GET `url` with exactly this `Cookie` header: status and body.
async fn get_with(server: &TestServer, url: &str, cookie: &str) -> (StatusCode, String) {
    let r = server
        .client()
        .get(url)
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.text().await.unwrap())
}

/// The `Set-Cookie` values of a response that set cookie `name`.
fn set_cookie<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> Vec<&'h str> {
    let prefix = format!("{name}=");
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.starts_with(prefix.as_str()))
        .collect()
}

/// The response set cookie `name` once, as [`assert_binding_cookie`] says.
fn assert_sets_binding_cookie(headers: &reqwest::header::HeaderMap, name: &str, secure: bool) {
    let set = set_cookie(headers, name);
    assert_eq!(set.len(), 1, "{name} set once: {headers:?}");
    assert_binding_cookie(set[0], secure);
}

/// A cookie that binds the browser: HttpOnly, SameSite=Lax, Path=/, never a
/// Domain; Secure exactly when `secure`.
fn assert_binding_cookie(value: &str, secure: bool) {
    let attributes: Vec<String> = value
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    assert!(attributes.iter().any(|a| a == "httponly"), "{value}");
    assert!(attributes.iter().any(|a| a == "samesite=lax"), "{value}");
    assert!(attributes.iter().any(|a| a == "path=/"), "{value}");
    assert!(
        !attributes.iter().any(|a| a.starts_with("domain")),
        "{value}"
    );
    assert_eq!(attributes.iter().any(|a| a == "secure"), secure, "{value}");
}

both_backends!(
    async fn a_session_cookie_sent_twice_is_refused_with_a_page(db: TestDb) {
        let server = TestServer::start(db).await;
        let (citizen, victim, _) = enrolled(&server, "T-100").await;
        let token = jar_cookie(&victim.jar, &victim.base, "sqin_session");
        let binding = jar_cookie(&victim.jar, &victim.base, "sqin_browser");
        // The attacker's own session, planted beside the victim's.
        let (_, attacker, _) = enrolled(&server, "T-200").await;
        let planted = jar_cookie(&attacker.jar, &attacker.base, "sqin_session");
        let account = server.url("/account");

        // Served once, the victim's cookie opens the account.
        let (status, html) = get_with(&server, &account, &format!("sqin_session={token}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("Camille"), "{html}");
        // Twice, in either order, in one header or two, or the same value
        // twice: neither account, a page that says what to do.
        for cookie in [
            format!("sqin_session={planted}; sqin_session={token}"),
            format!("sqin_session={token}; sqin_session={planted}"),
            format!("sqin_session={token}; sqin_session={token}"),
            format!("sqin_session=junk; sqin_browser={binding}; sqin_session={token}"),
        ] {
            let (status, html) = get_with(&server, &account, &cookie).await;
            assert_eq!(status, 400, "{cookie}");
            assert!(html.contains(REFUSED_FR), "{html}");
            assert!(html.contains("Effacez les témoins"), "{html}");
            assert!(!html.contains("Camille"), "served as a session: {html}");
        }
        let r = server
            .client()
            .get(&account)
            .header(reqwest::header::COOKIE, format!("sqin_session={planted}"))
            .header(reqwest::header::COOKIE, format!("sqin_session={token}"))
            .header(reqwest::header::ACCEPT_LANGUAGE, "en")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Your browser sent the sign-in cookie twice"),
            "{html}"
        );

        // A form with this browser's valid CSRF token does nothing either.
        let r = server
            .client()
            .post(server.url("/account/signout/everywhere"))
            .header(
                reqwest::header::COOKIE,
                format!("sqin_browser={binding}; sqin_session={planted}; sqin_session={token}"),
            )
            .form(&[("csrf", victim.csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(victim.account().await.0, 200, "the victim's session lives");
        assert_eq!(attacker.account().await.0, 200);
        let kinds = passkeys_support::events(&server, &citizen.id).await;
        assert!(!kinds.contains(&"signed_out_everywhere".to_owned()));
        // The JSON API refuses too.
        let r = server
            .client()
            .post(server.url("/api/passkeys/add/start"))
            .header(
                reqwest::header::COOKIE,
                format!("sqin_browser={binding}; sqin_session={planted}; sqin_session={token}"),
            )
            .header("x-csrf-token", &victim.csrf)
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);

        // An authorization request is not answered as either citizen.
        let rp = server
            .register_client(sqin_tests::rp("Famille", CB, "openid"))
            .await;
        let (_, challenge) = sqin_tests::pkce_pair();
        let url = sqin_tests::authorize_url(
            &server,
            &[
                ("response_type", "code"),
                ("client_id", &rp.record.client_id),
                ("redirect_uri", CB),
                ("scope", "openid"),
                ("state", "s"),
                ("nonce", "n"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        let (status, html) = get_with(
            &server,
            &url,
            &format!("sqin_session={planted}; sqin_session={token}"),
        )
        .await;
        assert_eq!(status, 400);
        assert!(html.contains(REFUSED_FR), "{html}");
        let (status, _) = get_with(&server, &url, &format!("sqin_session={token}")).await;
        assert_eq!(status, 200, "the consent page, for the victim alone");
        server.stop().await;
    }
);

both_backends!(
    async fn the_staff_session_cookie_sent_twice_is_refused_with_a_page(db: TestDb) {
        let server = TestServer::start(db).await;
        let agent = member(&server, "Sam Support", &["support"]).await;
        let token = jar_cookie(&agent.jar, &agent.base, "sqin_staff");
        let home = server.staff("/");
        let (status, _) = get_with(&server, &home, &format!("sqin_staff={token}")).await;
        assert_eq!(status, 200);
        for cookie in [
            format!("sqin_staff=planted; sqin_staff={token}"),
            format!("sqin_staff={token}; sqin_staff={token}"),
        ] {
            let (status, html) = get_with(&server, &home, &cookie).await;
            assert_eq!(status, 400, "{cookie}");
            assert!(html.contains(REFUSED_FR), "{html}");
            assert!(!html.contains("Sam Support"), "{html}");
        }
        server.stop().await;
    }
);

both_backends!(
    async fn on_plain_http_the_cookies_keep_their_names_without_secure(db: TestDb) {
        let server = TestServer::start(db).await;
        let r = server
            .client()
            .get(server.url("/login"))
            .send()
            .await
            .unwrap();
        assert_sets_binding_cookie(r.headers(), "sqin_browser", false);
        assert!(set_cookie(r.headers(), "__Host-sqin_browser").is_empty());

        let citizen = passkeys_support::add_citizen(&server, "T-300", "1984-03-02").await;
        let b = Browser::open(&server).await;
        let mut key = authenticator();
        let (reply, _, _) = b
            .enrol(&mut key, &citizen.code, &citizen.birthdate, "Portable")
            .await;
        assert_sets_binding_cookie(&reply.headers, "sqin_session", false);

        let r = server
            .client()
            .get(server.staff("/login"))
            .send()
            .await
            .unwrap();
        assert_sets_binding_cookie(r.headers(), "sqin_staff_browser", false);
        server.stop().await;
    }
);

/// A server on https (a self-signed certificate for `localhost`), both
/// listeners; and a client that trusts it.
async fn tls_server(db: TestDb) -> (TestServer, reqwest::Certificate, std::path::PathBuf) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let dir = std::env::temp_dir().join(format!(
        "sqin-cookies-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
    let server = TestServer::start_with(
        db,
        move |config| {
            config.tls_cert_file = Some(cert_file);
            config.tls_key_file = Some(key_file);
            for url in [&mut config.issuer, &mut config.staff_url] {
                *url = url::Url::parse(&url.as_str().replace("http://", "https://")).unwrap();
            }
        },
        axum::Router::new(),
    )
    .await;
    let root = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap();
    (server, root, dir)
}

both_backends!(
    async fn under_https_the_cookies_are_host_only(db: TestDb) {
        let (server, root, dir) = tls_server(db).await;
        // (The harness's `issuer` and `staff_url` fields say http; the
        // configuration it was started with says https.)
        let issuer = format!("https://localhost:{}", server.addr.port());
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .add_root_certificate(root.clone())
            .resolve("localhost", server.addr)
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .unwrap();

        // The browser binding, on the first visit.
        let r = http
            .get(format!("{issuer}/api/passkeys/csrf"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_sets_binding_cookie(r.headers(), "__Host-sqin_browser", true);
        assert!(set_cookie(r.headers(), "sqin_browser").is_empty());
        let csrf = r.json::<serde_json::Value>().await.unwrap()["csrf"]
            .as_str()
            .unwrap()
            .to_owned();

        // The session, set by an enrolment over https.
        let b = Browser {
            http,
            jar,
            base: issuer.clone(),
            origin: url::Url::parse(&issuer).unwrap(),
            csrf,
        };
        let citizen = passkeys_support::add_citizen(&server, "T-400", "1984-03-02").await;
        let mut key = authenticator();
        let (reply, _, _) = b
            .enrol(&mut key, &citizen.code, &citizen.birthdate, "Portable")
            .await;
        assert_sets_binding_cookie(&reply.headers, "__Host-sqin_session", true);
        assert!(set_cookie(&reply.headers, "sqin_session").is_empty());
        assert_eq!(b.account().await.0, 200);

        // Only the `__Host-` name is read: the same token under the plain
        // name (what a sibling subdomain could set) is no session, and the
        // `__Host-` cookie twice is refused.
        let token = jar_cookie(&b.jar, &issuer, "__Host-sqin_session");
        let client = reqwest::Client::builder()
            .add_root_certificate(root.clone())
            .resolve("localhost", server.addr)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let account = format!("{issuer}/account");
        let fetch = |cookie: String| {
            let (client, account) = (client.clone(), account.clone());
            async move {
                let r = client
                    .get(account)
                    .header(reqwest::header::COOKIE, cookie)
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                (status, r.text().await.unwrap())
            }
        };
        assert_eq!(fetch(format!("__Host-sqin_session={token}")).await.0, 200);
        let (status, _) = fetch(format!("sqin_session={token}")).await;
        assert_eq!(status, 303, "the plain name is not read under https");
        let (status, html) = fetch(format!(
            "__Host-sqin_session=planted; __Host-sqin_session={token}"
        ))
        .await;
        assert_eq!(status, 400);
        assert!(html.contains(REFUSED_FR), "{html}");

        // The staff console's binding too, on its own https origin.
        let staff = format!("https://localhost:{}", server.staff_addr.port());
        let r = reqwest::Client::builder()
            .add_root_certificate(root)
            .resolve("localhost", server.staff_addr)
            .build()
            .unwrap()
            .get(format!("{staff}/login"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_sets_binding_cookie(r.headers(), "__Host-sqin_staff_browser", true);
        server.stop().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
);
