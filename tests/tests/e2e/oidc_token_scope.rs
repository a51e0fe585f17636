//! A token carries its own scope (RFC 6749 6): after a refresh that narrows
//! the scope, userinfo and introspection answer for the narrowed token, not
//! for everything the grant allowed.
use serde_json::Value;
use sqin_tests::*;

const CB: &str = "http://127.0.0.1:9/cb";
const PROFILE: [&str; 4] = ["name", "given_name", "family_name", "locale"];

fn scope_of(jwt: &str) -> Value {
    let p = jwt.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&sqin_crypto::b64url_decode(p).unwrap()).unwrap();
    claims["scope"].clone()
}

both_backends!(
    async fn userinfo_and_introspection_apply_the_tokens_own_scope(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-1").await;
        let cookie = server.sign_in(&citizen.id).await;
        let reg = server
            .register_client(rp("Famille", CB, "openid profile offline_access"))
            .await;
        let id = reg.record.client_id.clone();
        let secret = reg.client_secret.unwrap().expose().to_owned();
        // The claims parameter also names a profile claim for userinfo.
        let (verifier, challenge) = pkce_pair();
        let url = authorize_url(
            &server,
            &[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", CB),
                ("scope", "openid profile offline_access"),
                ("claims", r#"{"userinfo":{"given_name":null}}"#),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        let back = authorize(&server, &url, &cookie, "allow").await;
        let code = query_param(&back, "code").unwrap();
        let (s, first, _) = token_request(
            &server,
            &id,
            &secret,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", CB),
                ("code_verifier", &verifier),
            ],
        )
        .await;
        assert_eq!(s, 200, "{first}");
        let (_, info) = userinfo(&server, first["access_token"].as_str().unwrap()).await;
        for claim in PROFILE {
            assert!(info.get(claim).is_some(), "the full grant releases {claim}");
        }

        // Refresh, narrowed to openid.
        let (s, narrowed, _) = token_request(
            &server,
            &id,
            &secret,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", first["refresh_token"].as_str().unwrap()),
                ("scope", "openid"),
            ],
        )
        .await;
        assert_eq!(s, 200, "{narrowed}");
        let access = narrowed["access_token"].as_str().unwrap();
        assert_eq!(scope_of(access), "openid");
        let (s, info) = userinfo(&server, access).await;
        assert_eq!(s, 200, "{info}");
        for claim in PROFILE {
            assert!(
                info.get(claim).is_none(),
                "a token of scope openid released {claim}: {info}"
            );
        }
        assert!(info["sub"].is_string());
        let seen = introspect(&server, &id, &secret, access).await;
        assert_eq!(seen["active"], true);
        assert_eq!(seen["scope"], "openid");

        // Narrowed to a scope without openid: no userinfo at all.
        let (s, no_openid, _) = token_request(
            &server,
            &id,
            &secret,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", narrowed["refresh_token"].as_str().unwrap()),
                ("scope", "profile offline_access"),
            ],
        )
        .await;
        assert_eq!(s, 200, "{no_openid}");
        let access = no_openid["access_token"].as_str().unwrap();
        let (s, body) = userinfo(&server, access).await;
        assert_eq!(s, 401, "{body}");
        assert_eq!(
            introspect(&server, &id, &secret, access).await["scope"],
            "profile offline_access"
        );
        server.stop().await;
    }
);
