//! The full authorization-code flow, driven by a real relying-party library
//! (`openidconnect`) against the real server on 127.0.0.1.
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope,
    TokenResponse as _,
};
use sqin_tests::{authorize, both_backends, query_param, rp, TestServer};

const REDIRECT: &str = "http://127.0.0.1:9/famille/callback";

both_backends!(
    async fn code_flow_with_an_openidconnect_relying_party(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-100").await;
        let cookie = server.sign_in(&citizen.id).await;
        let registered = server
            .register_client(rp(
                "Portail Famille",
                REDIRECT,
                "openid profile birthdate address",
            ))
            .await;
        let http = server.client();

        let metadata = CoreProviderMetadata::discover_async(
            IssuerUrl::new(server.issuer.clone()).unwrap(),
            &http,
        )
        .await
        .unwrap();
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(registered.record.client_id.clone()),
            Some(ClientSecret::new(
                registered
                    .client_secret
                    .as_ref()
                    .unwrap()
                    .expose()
                    .to_owned(),
            )),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());

        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, csrf, nonce) = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("birthdate".into()))
            .set_pkce_challenge(challenge)
            .url();

        let back = authorize(&server, url.as_str(), &cookie, "allow").await;
        assert!(back.starts_with(REDIRECT), "{back}");
        assert_eq!(
            query_param(&back, "state").as_deref(),
            Some(csrf.secret().as_str())
        );
        assert_eq!(
            query_param(&back, "iss").as_deref(),
            Some(server.issuer.as_str())
        );
        let code = query_param(&back, "code").unwrap();

        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .unwrap();
        let id_token = tokens.id_token().expect("an ID token");
        let verifier = client.id_token_verifier();
        let claims = id_token.claims(&verifier, &nonce).unwrap();
        // at_hash binds the access token to the ID token.
        let expected = claims.access_token_hash().expect("at_hash");
        let actual = AccessTokenHash::from_token(
            tokens.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(&actual, expected);
        assert_eq!(
            claims.auth_context_ref().map(|a| a.as_str()),
            Some(sqin_session::acr::SUBSTANTIAL)
        );
        assert!(claims.auth_time().is_some());
        let sub = claims.subject().as_str().to_owned();
        assert_ne!(sub, citizen.id, "never the internal id");
        assert_eq!(sub.len(), 43);

        // Userinfo returns exactly what the purpose allows and the scopes ask.
        let info: CoreUserInfoClaims = client
            .user_info(tokens.access_token().clone(), None)
            .unwrap()
            .request_async(&http)
            .await
            .unwrap();
        assert_eq!(info.subject().as_str(), sub);
        assert_eq!(
            info.given_name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str()),
            Some("Aline")
        );
        assert_eq!(info.birthdate().map(|b| b.as_str()), Some("1984-03-02"));
        assert!(info.email().is_none(), "email was not in the scopes");
        assert!(info.address().is_none(), "address was not requested");

        // A second login reuses the consent: straight back with a code, and
        // the same pairwise sub.
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, _, nonce) = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let response = http
            .get(url.as_str())
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "no consent page the second time");
        let code = query_param(&sqin_tests::location(&response), "code").unwrap();
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .unwrap();
        let again = tokens
            .id_token()
            .unwrap()
            .claims(&client.id_token_verifier(), &nonce)
            .unwrap();
        assert_eq!(again.subject().as_str(), sub);

        // Every consent, sign-in and disclosure is in the consent ledger,
        // with claim names and never values.
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
        let kinds: Vec<String> = history
            .entries
            .iter()
            .map(|e| e.kind.as_str().to_owned())
            .collect();
        assert_eq!(
            kinds.iter().filter(|k| *k == "consent_granted").count(),
            1,
            "{kinds:?}"
        );
        assert_eq!(
            kinds.iter().filter(|k| *k == "sign_in").count(),
            2,
            "{kinds:?}"
        );
        let disclosures: Vec<_> = history
            .entries
            .iter()
            .filter_map(|e| match &e.details {
                Some(sqin_ledger_service::LedgerEvent::Disclosure {
                    endpoint,
                    claims,
                    client_id,
                    ..
                }) => Some((endpoint.as_str(), claims.clone(), client_id.clone())),
                _ => None,
            })
            .collect();
        assert!(disclosures.iter().any(|(e, c, _)| *e == "userinfo"
            && c.contains(&"birthdate".to_owned())
            && c.contains(&"given_name".to_owned())));
        assert_eq!(
            disclosures
                .iter()
                .filter(|(e, _, _)| *e == "id_token")
                .count(),
            2
        );
        assert!(disclosures
            .iter()
            .all(|(_, _, c)| c == &registered.record.client_id));
        let text = serde_json::to_string(&history).unwrap();
        assert!(
            !text.contains("1984-03-02"),
            "claim values never enter the ledger"
        );
        server.stop().await;
    }
);
