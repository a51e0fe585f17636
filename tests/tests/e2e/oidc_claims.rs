//! A relying party registered with claims narrower than its scopes carry
//! receives only those, everywhere: on the consent page the citizen reads,
//! in userinfo, in the ID token asked for by the claims parameter, and in the
//! ledger's record of the disclosure.
use sqin_tests::*;

const CB: &str = "http://127.0.0.1:9/cb";

fn jwt_claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&sqin_crypto::b64url_decode(payload).unwrap()).unwrap()
}

both_backends!(
    async fn a_narrowed_registration_releases_only_its_claims(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-1").await;
        let cookie = server.sign_in(&citizen.id).await;
        let reg = server
            .register_client(sqin_oidc::client::ClientRegistration {
                claims: Some(vec!["name".into()]),
                ..rp("Revenu", CB, "openid profile")
            })
            .await;
        assert_eq!(reg.record.claims, Some(vec!["name".to_owned()]));
        let id = reg.record.client_id.clone();
        let secret = reg.client_secret.unwrap().expose().to_owned();

        // The consent page lists the name only.
        let url = authorize_url(
            &server,
            &[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", CB),
                ("scope", "openid profile"),
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "S256"),
                (
                    "claims",
                    r#"{"id_token":{"given_name":null,"locale":null,"name":null}}"#,
                ),
            ],
        );
        let html = server
            .client()
            .get(&url)
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // The list of what it will receive (the page lists more below:
        // who else has access).
        let claims_list = html
            .split("aria-labelledby=\"claims-heading\"")
            .nth(1)
            .and_then(|rest| rest.split("</ul>").next())
            .unwrap_or_default();
        let listed: Vec<&str> = claims_list
            .split("<li>")
            .skip(1)
            .map(|li| li.split("</li>").next().unwrap_or_default())
            .collect();
        assert_eq!(listed.len(), 1, "one claim on the consent page: {listed:?}");

        // Tokens, userinfo and the ID token: the name and nothing else.
        let tokens = tokens_for(&server, &cookie, &id, &secret, CB, "openid profile").await;
        let (status, info) = userinfo(&server, tokens["access_token"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        let mut keys: Vec<&str> = info
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, vec!["name", "sub"], "{info}");
        let id_token = jwt_claims(tokens["id_token"].as_str().unwrap());
        assert!(id_token.get("given_name").is_none() && id_token.get("locale").is_none());

        // The ledger records disclosures of the name alone (the ID token,
        // asked without the claims parameter here, carried none).
        let history = ledger_history(&server, &citizen.id).await;
        let disclosed: Vec<Vec<String>> = history
            .entries
            .iter()
            .filter_map(|e| match &e.details {
                Some(sqin_ledger_service::LedgerEvent::Disclosure { claims, .. }) => {
                    Some(claims.clone())
                }
                _ => None,
            })
            .collect();
        assert!(!disclosed.is_empty());
        assert!(
            disclosed.iter().all(|c| c.iter().all(|n| n == "name")),
            "{disclosed:?}"
        );
        assert!(
            disclosed.contains(&vec!["name".to_owned()]),
            "userinfo: {disclosed:?}"
        );
        server.stop().await;
    }
);

both_backends!(
    async fn a_claim_the_scopes_do_not_carry_is_refused_at_registration(db: TestDb) {
        let server = TestServer::start(db).await;
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let registration = sqin_oidc::client::ClientRegistration {
            claims: Some(vec!["name birthdate".into()]),
            ..rp("Revenu", CB, "openid profile")
        };
        let err = sqin_oidc::client::register(
            &mut conn,
            registration.clone(),
            &fixture_bounds(&registration),
            sqin_store::clients::ClientStatus::Active,
            server.now(),
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string().contains("\"birthdate\" is not carried"),
            "{err}"
        );
        drop(conn);
        server.stop().await;
    }
);
