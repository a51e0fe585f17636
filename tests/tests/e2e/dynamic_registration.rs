//! RFC 7591 and RFC 7592 against a real sqin: a ministry's pipeline
//! registers with an initial access token for one PIA entry (with the
//! `openidconnect` crate, which asks for the default scope, and by hand
//! for the refusals), is refused what
//! the entry does not allow, waits for a privacy officer's approval, then
//! reads, updates and deletes its registration with its registration
//! access token, and nothing with another's.
use openidconnect::core::{CoreClientAuthMethod, CoreClientRegistrationRequest};
use openidconnect::{
    registration::EmptyAdditionalClientMetadata, AccessToken, ClientName, LocalizedClaim,
    RedirectUrl, RegistrationUrl,
};
use serde_json::{json, Value};

use crate::staff_access::request_id;
use crate::staff_support::member;

use sqin_app::clients::{tokens, ClientActor};
use sqin_tests::*;

const CB: &str = "https://rdv.sante.example/cb";

async fn iat(server: &TestServer, entry: &str, uses: i64) -> String {
    tokens::issue_initial_access_token(&server.services, &ClientActor::Operator, entry, 3600, uses)
        .await
        .unwrap()
        .token
        .expose()
        .to_owned()
}

async fn call(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = server.client().request(method, server.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        headers,
    )
}

both_backends!(
    async fn a_ministry_registers_its_own_client_within_its_pia_entry(db: TestDb) {
        let server = TestServer::start_with_ministries(db).await;
        let discovery = server.discovery().await;
        let endpoint = discovery["registration_endpoint"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(endpoint, format!("{}/register", server.issuer));
        let token = iat(&server, "health-card", 1).await;

        // No token, a wrong one: 401 with a Bearer challenge.
        let good = json!({ "redirect_uris": [CB], "client_name": "Rendez-vous santé", "scope": "openid profile" });
        let (status, body, headers) = call(
            &server,
            reqwest::Method::POST,
            "/register",
            None,
            Some(good.clone()),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_token"))
        );
        assert!(headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
        let (status, _, _) = call(
            &server,
            reqwest::Method::POST,
            "/register",
            Some("nope"),
            Some(good.clone()),
        )
        .await;
        assert_eq!(status, 401);

        // Beyond the entry, field by field; none of these uses the token up.
        for (change, error, field) in [
            (
                json!({ "scope": "openid profile address" }),
                "invalid_client_metadata",
                "scope",
            ),
            (
                json!({ "subject_type": "public" }),
                "invalid_client_metadata",
                "subject_type",
            ),
            (
                json!({ "redirect_uris": ["https://revenu.example/cb"] }),
                "invalid_redirect_uri",
                "redirect_uris",
            ),
            (
                json!({ "redirect_uris": ["http://rdv.sante.example/cb"] }),
                "invalid_redirect_uri",
                "redirect_uris",
            ),
            (
                json!({ "sector_identifier_uri": "https://rdv.sante.example/s.json" }),
                "invalid_client_metadata",
                "sector_identifier_uri",
            ),
            (
                json!({ "sqin_pia_entry": "revenue" }),
                "invalid_client_metadata",
                "sqin_pia_entry",
            ),
            (
                json!({ "grant_types": ["client_credentials"] }),
                "invalid_client_metadata",
                "grant_types",
            ),
            (
                json!({ "token_endpoint_auth_method": "tls_client_auth" }),
                "invalid_client_metadata",
                "token_endpoint_auth_method",
            ),
            (
                json!({ "jwks_uri": "https://127.0.0.1/jwks.json", "token_endpoint_auth_method": "private_key_jwt" }),
                "invalid_client_metadata",
                "jwks_uri",
            ),
        ] {
            let mut asked = good.clone();
            for (k, v) in change.as_object().unwrap() {
                asked[k] = v.clone();
            }
            let (status, body, _) = call(
                &server,
                reqwest::Method::POST,
                "/register",
                Some(&token),
                Some(asked),
            )
            .await;
            assert_eq!(status, 400, "{field}: {body}");
            assert_eq!(body["error"], error, "{field}: {body}");
            assert!(
                body["error_description"].as_str().unwrap().contains(field),
                "{body}"
            );
        }

        // A real client library registers (openidconnect, RFC 7591).
        let http = server.client();
        let response = CoreClientRegistrationRequest::new(
            vec![RedirectUrl::new(CB.into()).unwrap()],
            EmptyAdditionalClientMetadata::default(),
        )
        .set_client_name(Some(LocalizedClaim::from(ClientName::new(
            "Rendez-vous santé".into(),
        ))))
        .set_token_endpoint_auth_method(Some(CoreClientAuthMethod::ClientSecretBasic))
        .set_initial_access_token(Some(AccessToken::new(token.clone())))
        .register_async(&RegistrationUrl::new(endpoint.clone()).unwrap(), &http)
        .await
        .unwrap();
        let client_id = response.client_id().to_string();
        let secret = response.client_secret().unwrap().secret().to_owned();
        let rat = response
            .registration_access_token()
            .unwrap()
            .secret()
            .to_owned();
        let config_uri = response.registration_client_uri().unwrap().to_string();
        assert_eq!(
            config_uri,
            format!("{}/register/{client_id}", server.issuer)
        );
        // The token allowed one registration: it is used up.
        let (status, _, _) = call(
            &server,
            reqwest::Method::POST,
            "/register",
            Some(&token),
            Some(good.clone()),
        )
        .await;
        assert_eq!(status, 401);

        // Pending until a privacy officer approves: no token for it yet.
        let path = format!("/register/{client_id}");
        let (status, md, _) = call(&server, reqwest::Method::GET, &path, Some(&rat), None).await;
        assert_eq!(status, 200, "{md}");
        assert_eq!(md["sqin_status"], "pending");
        assert_eq!(md["sqin_pia_entry"], "health-card");
        assert!(
            md.get("client_secret").is_none(),
            "a secret is returned once"
        );
        let (status, body, _) = token_request(
            &server,
            &client_id,
            &secret,
            &[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("redirect_uri", CB),
                ("code_verifier", "y"),
            ],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client"))
        );
        let mut officer = member(&server, "Officer", &["privacy-officer"]).await;
        officer.reauth().await;
        let (_, html) = officer.page("/requests").await;
        assert!(html.contains(&client_id), "{html}");
        let r = officer
            .form(
                "/requests/decide",
                &[("id", &request_id(&html)), ("decision", "approve")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let (_, md, _) = call(&server, reqwest::Method::GET, &path, Some(&rat), None).await;
        assert_eq!(md["sqin_status"], "active");

        // RFC 7592 update: within what it receives, at once; widening, it
        // waits for the privacy officer.
        let mut update = md.clone();
        for k in [
            "registration_client_uri",
            "client_id_issued_at",
            "sqin_status",
            "sqin_claims",
            "client_secret_expires_at",
        ] {
            update.as_object_mut().unwrap().remove(k);
        }
        update["redirect_uris"] = json!([CB, "https://rdv.sante.example/cb2"]);
        let (status, md, _) = call(
            &server,
            reqwest::Method::PUT,
            &path,
            Some(&rat),
            Some(update.clone()),
        )
        .await;
        assert_eq!(status, 200, "{md}");
        assert_eq!(md["redirect_uris"].as_array().unwrap().len(), 2);
        update["scope"] = json!("openid profile");
        let (status, md, _) = call(
            &server,
            reqwest::Method::PUT,
            &path,
            Some(&rat),
            Some(update.clone()),
        )
        .await;
        assert_eq!(status, 200, "{md}");
        assert_eq!(md["scope"], "openid", "unchanged until approved");
        assert_eq!(md["sqin_pending_change"]["widens"][0], "scope");
        let mut wrong = update.clone();
        wrong["client_id"] = json!("someone-else");
        let (status, body, _) = call(
            &server,
            reqwest::Method::PUT,
            &path,
            Some(&rat),
            Some(wrong),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_client_metadata"))
        );

        // Another client's registration access token opens nothing here.
        let other_token = iat(&server, "health-card", 1).await;
        let (status, other, _) = call(
            &server,
            reqwest::Method::POST,
            "/register",
            Some(&other_token),
            Some(good.clone()),
        )
        .await;
        assert_eq!(status, 201, "{other}");
        let other_rat = other["registration_access_token"].as_str().unwrap();
        for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
            let (status, body, _) = call(&server, method, &path, Some(other_rat), None).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (401, Some("invalid_token"))
            );
        }
        let (status, _, _) = call(
            &server,
            reqwest::Method::PUT,
            &path,
            Some(other_rat),
            Some(update),
        )
        .await;
        assert_eq!(status, 401);

        // Delete: gone, and the token with it.
        let (status, _, _) = call(&server, reqwest::Method::DELETE, &path, Some(&rat), None).await;
        assert_eq!(status, 204);
        let (status, _, _) = call(&server, reqwest::Method::GET, &path, Some(&rat), None).await;
        assert_eq!(status, 401);

        // All of it is on the record, as the ministry's.
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let text: Vec<String> = sqin_store::ledger::entries_of_kind(&mut conn, "governance")
            .await
            .unwrap()
            .iter()
            .map(|e| String::from_utf8_lossy(&e.entry).into_owned())
            .collect();
        for what in [
            "client.registered",
            "client.approved",
            "client.edited",
            "client.edit_requested",
            "client.removed",
            "initial_access_token.issued",
        ] {
            assert!(text.iter().any(|t| t.contains(what)), "{what} missing");
        }
        assert!(text.iter().any(|t| t.contains("ministry:health-card")));
        assert!(!text
            .iter()
            .any(|t| t.contains(&secret) || t.contains(&rat) || t.contains(&token)));
        drop(conn);
        server.stop().await;
    }
);
