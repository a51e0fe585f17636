//! ID token algorithms (OpenID Connect Core 15.1, Discovery 3, Dynamic
//! Registration 2): each relying party's ID tokens and back-channel logout
//! tokens are signed with the algorithm it registered
//! (`id_token_signed_response_alg`: ES256, PS256 or RS256), by a key the
//! JWKS publishes with that `alg`, and verified here as a relying party
//! does, with `jsonwebtoken` and nothing of sqin. A rotation (`sqin keys
//! rotate`) gives every algorithm its new key while what the previous keys
//! signed still verifies. sqin's own tools register ES256 when nothing is
//! chosen, RFC 7591 registers Dynamic Registration's default, RS256, and a
//! signed userinfo answer, which sqin does not make, is refused.
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use sqin_app::clients::{self, tokens, ClientActor, ClientMetadata};
use sqin_crypto::SigningAlg;
use sqin_oidc::client::ClientRegistration;
use sqin_tests::*;

use crate::staff_support::{member, StaffBrowser};

const CB: &str = "http://127.0.0.1:9/cb";
const BACKCHANNEL: &str = "http://schemas.openid.net/event/backchannel-logout";

fn header_of(jwt: &str) -> Value {
    let h = jwt.split('.').next().unwrap();
    serde_json::from_slice(&sqin_crypto::b64url_decode(h).unwrap()).unwrap()
}

async fn jwks(server: &TestServer) -> Value {
    let r = server
        .client()
        .get(server.url("/jwks"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// Verifies `token` as a relying party that registered `alg` does: the
/// header names `alg` and a `kid` the JWKS publishes for `alg`, the
/// signature verifies with that key under `alg` only, and `iss`, `aud`,
/// `exp` and `iat` hold. Returns its claims.
fn verify(jwks: &Value, token: &str, alg: &str, aud: &str, issuer: &str) -> Value {
    let expected: Algorithm = alg.parse().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, expected, "{alg}: {:?}", header);
    let kid = header.kid.expect("a kid in the header");
    let published: Vec<&Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["kid"] == kid.as_str())
        .collect();
    assert_eq!(published.len(), 1, "kid {kid} published once");
    assert_eq!(published[0]["alg"], alg, "kid {kid} is published for {alg}");
    let set: JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let key = DecodingKey::from_jwk(set.find(&kid).unwrap()).unwrap();
    let mut validation = Validation::new(expected);
    validation.set_audience(&[aud]);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.leeway = 60;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap_or_else(|e| panic!("{alg} token does not verify: {e}"))
        .claims
}

/// A relying party of the first test: its algorithm and credentials, and
/// what its back-channel logout endpoint received.
struct Service {
    alg: SigningAlg,
    client_id: String,
    secret: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

both_backends!(
    async fn tokens_are_signed_with_each_clients_algorithm_across_a_rotation(db: TestDb) {
        let server = TestServer::start(db).await;
        let citizen = server.add_citizen("R-ALG").await;
        let cookie = server.sign_in(&citizen.id).await;
        let mut services = Vec::new();
        for choice in [Some(SigningAlg::Ps256), Some(SigningAlg::Rs256), None] {
            let (uri, received) = backchannel_receiver(vec![]).await;
            let reg = server
                .register_client(ClientRegistration {
                    backchannel_logout_uri: Some(uri),
                    id_token_signed_response_alg: choice,
                    ..rp("Service", CB, "openid profile")
                })
                .await;
            // No choice: ES256, the default of sqin's own tools.
            let alg = choice.unwrap_or(SigningAlg::Es256);
            assert_eq!(reg.record.id_token_signed_response_alg, alg);
            services.push(Service {
                alg,
                client_id: reg.record.client_id.clone(),
                secret: reg.client_secret.unwrap().expose().to_owned(),
                received,
            });
        }

        // Before the rotation: each ID token in its client's algorithm, by
        // the current key of that algorithm; the access token stays ES256
        // (sqin's own).
        let keys = jwks(&server).await;
        let ring = server.services.key_ring();
        let mut before = Vec::new();
        for s in &services {
            let t = tokens_for(
                &server,
                &cookie,
                &s.client_id,
                &s.secret,
                CB,
                "openid profile",
            )
            .await;
            let id_token = t["id_token"].as_str().unwrap().to_owned();
            let alg = s.alg.as_str();
            let claims = verify(&keys, &id_token, alg, &s.client_id, &server.issuer);
            assert_eq!(claims["nonce"], "n1");
            assert!(claims["sid"].is_string() && claims["at_hash"].is_string());
            assert_ne!(claims["sub"], citizen.id.as_str());
            let kid = header_of(&id_token)["kid"].as_str().unwrap().to_owned();
            assert_eq!(kid, ring.signing_key_for(s.alg).kid(), "{alg}");
            let access = header_of(t["access_token"].as_str().unwrap());
            assert_eq!(access["alg"], "ES256", "{alg}: access tokens are sqin's");
            assert_eq!(access["typ"], "at+jwt");
            before.push((id_token, kid));
        }
        // Three keys, three algorithms: no two clients share a key.
        assert_ne!(before[0].1, before[1].1);
        assert_ne!(before[1].1, before[2].1);
        drop(ring);

        // What `sqin keys rotate` does (quietly: the command prints its
        // result), then the key-ring refresh every node runs.
        let rotation = {
            let mut conn = server.services.store.pool().acquire().await.unwrap();
            sqin_oidc::keys::rotate(
                &mut conn,
                &server.services.kek,
                server.now(),
                server.services.settings.token_ttl_secs * 2,
            )
            .await
            .unwrap()
        };
        server.services.reload_keys().await.unwrap();
        for (s, (_, old_kid)) in services.iter().zip(&before) {
            let r = rotation.of(s.alg).unwrap();
            assert_eq!(r.previous.as_ref(), Some(old_kid), "{}", s.alg);
        }
        let keys = jwks(&server).await;
        for alg in SigningAlg::ALL {
            let n = keys["keys"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|k| k["alg"] == alg.as_str())
                .count();
            assert_eq!(n, 3, "{alg}: previous, current and next");
        }
        {
            let mut conn = server.services.store.pool().acquire().await.unwrap();
            let all = sqin_store::keys::list_all(&mut conn).await.unwrap();
            for (s, (_, old_kid)) in services.iter().zip(&before) {
                let old = all.iter().find(|k| &k.kid == old_kid).unwrap();
                assert_eq!(old.alg, s.alg);
                assert_eq!(old.state, sqin_store::keys::KeyState::Previous);
            }
        }
        let ring = server.services.key_ring();
        for (s, (old_token, old_kid)) in services.iter().zip(&before) {
            let alg = s.alg.as_str();
            // The old token still verifies, with the published previous key.
            verify(&keys, old_token, alg, &s.client_id, &server.issuer);
            // A new one carries the new current key of its algorithm.
            let t = tokens_for(
                &server,
                &cookie,
                &s.client_id,
                &s.secret,
                CB,
                "openid profile",
            )
            .await;
            let id_token = t["id_token"].as_str().unwrap();
            verify(&keys, id_token, alg, &s.client_id, &server.issuer);
            let kid = header_of(id_token)["kid"].as_str().unwrap().to_owned();
            assert_ne!(&kid, old_kid, "{alg}: the new key signs");
            assert_eq!(kid, ring.signing_key_for(s.alg).kid(), "{alg}");
            assert_eq!(kid, rotation.of(s.alg).unwrap().current, "{alg}");
        }

        // The RS256 client's ID token from before the rotation is still a
        // good id_token_hint: the citizen signs out, and every client is
        // told on its back channel.
        let r = server
            .client()
            .get(server.url("/logout"))
            .query(&[("id_token_hint", before[1].0.as_str())])
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "signed out");
        for _ in 0..200 {
            if services
                .iter()
                .all(|s| !s.received.lock().unwrap().is_empty())
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        for (s, (old_token, _)) in services.iter().zip(&before) {
            let alg = s.alg.as_str();
            let received = s.received.lock().unwrap().clone();
            assert_eq!(received.len(), 1, "{alg}: one logout token");
            let token = &received[0];
            let header = header_of(token);
            assert_eq!(header["typ"], "logout+jwt");
            assert_eq!(
                header["kid"],
                ring.signing_key_for(s.alg).kid(),
                "{alg}: the logout token is signed like the client's ID tokens"
            );
            let claims = verify(&keys, token, alg, &s.client_id, &server.issuer);
            assert!(claims["events"][BACKCHANNEL].is_object());
            assert!(claims.get("nonce").is_none());
            let id_claims = verify(&keys, old_token, alg, &s.client_id, &server.issuer);
            assert_eq!(claims["sid"], id_claims["sid"], "{alg}");
            assert_eq!(claims["sub"], id_claims["sub"], "{alg}");
        }
        server.stop().await;
    }
);

/// A call to the admin API with the console's session (and its CSRF
/// token): (status, body).
async fn admin_call(
    server: &TestServer,
    admin: &StaffBrowser,
    method: reqwest::Method,
    path: &str,
    body: Value,
    if_match: Option<String>,
) -> (u16, Value) {
    let mut req = admin
        .http
        .request(method, server.staff(&format!("/admin/api/v1{path}")))
        .header("x-csrf-token", &admin.csrf)
        .header("origin", admin.origin.origin().ascii_serialization())
        .json(&body);
    if let Some(m) = if_match {
        req = req.header("if-match", m);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// RFC 7591 or 7592 at the public listener: (status, body).
async fn register_call(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let r = server
        .client()
        .request(method, server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn names_field(problem: &Value, field: &str) -> bool {
    problem["error_description"]
        .as_str()
        .is_some_and(|d| d.starts_with(field))
        || problem["errors"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["field"] == field))
}

both_backends!(
    async fn sqin_tools_default_to_es256_and_dynamic_registration_to_rs256(db: TestDb) {
        let server = TestServer::start_with_ministries(db).await;
        let m = server.discovery().await;
        assert_eq!(
            m["id_token_signing_alg_values_supported"],
            json!(["ES256", "PS256", "RS256"])
        );
        for absent in [
            "userinfo_signing_alg_values_supported",
            "userinfo_encryption_alg_values_supported",
            "id_token_encryption_alg_values_supported",
        ] {
            assert!(m.get(absent).is_none(), "{absent}: sqin does not do it");
        }
        // RFC 8414 2: every endpoint offering private_key_jwt lists the
        // assertion algorithms (Authlib refuses the document otherwise).
        let assertion_algs = &m["token_endpoint_auth_signing_alg_values_supported"];
        assert!(assertion_algs.as_array().unwrap().contains(&json!("RS256")));
        for endpoint in ["revocation", "introspection"] {
            let methods = &m[format!("{endpoint}_endpoint_auth_methods_supported")];
            assert!(methods
                .as_array()
                .unwrap()
                .contains(&json!("private_key_jwt")));
            assert_eq!(
                &m[format!("{endpoint}_endpoint_auth_signing_alg_values_supported")],
                assertion_algs,
                "{endpoint}"
            );
        }

        // The operator's tools (`sqin client add` and `client edit` call
        // these): ES256 unless chosen; a choice is kept, and changing it is
        // not a widening edit.
        let by = ClientActor::Operator;
        let base = || ClientRegistration {
            name: "Carte santé".into(),
            redirect_uris: vec!["https://rdv.sante.example/cb".into()],
            scopes: vec!["openid profile".into()],
            ..Default::default()
        };
        let plain = clients::register(&server.services, &by, "health-card", base())
            .await
            .unwrap();
        assert_eq!(plain.record.id_token_signed_response_alg, SigningAlg::Es256);
        let chosen = clients::register(
            &server.services,
            &by,
            "health-card",
            ClientRegistration {
                id_token_signed_response_alg: Some(SigningAlg::Ps256),
                ..base()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            chosen.record.id_token_signed_response_alg,
            SigningAlg::Ps256
        );
        let mut md = ClientMetadata::of(&chosen.record);
        md.id_token_signed_response_alg = Some(SigningAlg::Rs256);
        let edited = clients::edit(
            &server.services,
            &by,
            &chosen.record.client_id,
            md.to_registration(
                chosen.record.client_type,
                chosen.record.token_endpoint_auth_method,
            ),
            md.pia_entry.as_deref(),
            chosen.record.version,
        )
        .await
        .unwrap();
        assert_eq!(
            edited.record.id_token_signed_response_alg,
            SigningAlg::Rs256
        );
        assert!(edited.awaiting_approval.is_none(), "not a widening");
        assert_eq!(edited.changed, vec!["id_token_signed_response_alg"]);

        // RFC 7591: absent, Dynamic Registration's default, RS256.
        let iat =
            tokens::issue_initial_access_token(&server.services, &by, "health-card", 3600, 10)
                .await
                .unwrap()
                .token
                .expose()
                .to_owned();
        let asked = json!({
            "client_name": "Rendez-vous santé",
            "redirect_uris": ["https://rdv.sante.example/cb"],
            "scope": "openid profile",
        });
        let post = reqwest::Method::POST;
        let (status, body) =
            register_call(&server, post.clone(), "/register", &iat, asked.clone()).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["id_token_signed_response_alg"], "RS256");
        let with = |k: &str, v: &str| {
            let mut b = asked.clone();
            b[k] = json!(v);
            b
        };
        let (status, body) = register_call(
            &server,
            post.clone(),
            "/register",
            &iat,
            with("id_token_signed_response_alg", "PS256"),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["id_token_signed_response_alg"], "PS256");
        let ps256_client = body["client_id"].as_str().unwrap().to_owned();
        let rat = body["registration_access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        {
            let mut conn = server.services.store.pool().acquire().await.unwrap();
            let stored = sqin_store::clients::get(&mut conn, &ps256_client)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(stored.id_token_signed_response_alg, SigningAlg::Ps256);
        }
        for (field, value) in [
            ("id_token_signed_response_alg", "HS256"),
            ("id_token_signed_response_alg", "none"),
            ("userinfo_signed_response_alg", "RS256"),
            ("id_token_encrypted_response_alg", "RSA-OAEP"),
        ] {
            let (status, body) =
                register_call(&server, post.clone(), "/register", &iat, with(field, value)).await;
            assert_eq!(status, 400, "{field}={value}: {body}");
            assert_eq!(body["error"], "invalid_client_metadata");
            assert!(names_field(&body, field), "{field}: {body}");
        }
        // RFC 7592: the configuration says it; a PUT that leaves it out
        // asks for the protocol's default again.
        let path = format!("/register/{ps256_client}");
        let r = server
            .client()
            .get(server.url(&path))
            .bearer_auth(&rat)
            .send()
            .await
            .unwrap();
        let read: Value = r.json().await.unwrap();
        assert_eq!(read["id_token_signed_response_alg"], "PS256");
        let mut put = asked.clone();
        put["client_id"] = json!(ps256_client);
        let (status, body) =
            register_call(&server, reqwest::Method::PUT, &path, &rat, put.clone()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["id_token_signed_response_alg"], "RS256");
        put["id_token_signed_response_alg"] = json!("ES256");
        let (status, body) = register_call(&server, reqwest::Method::PUT, &path, &rat, put).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["id_token_signed_response_alg"], "ES256");

        // The admin API: ES256 unless chosen; edited as a merge patch.
        let admin = member(&server, "Admin", &["administrator"]).await;
        let rp = json!({
            "pia_entry": "revenue",
            "client_name": "Revenu en ligne",
            "redirect_uris": ["https://revenu.example/cb"],
            "scope": "openid profile",
        });
        let rps = "/relying-parties";
        let (status, body) = admin_call(&server, &admin, post.clone(), rps, rp.clone(), None).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["id_token_signed_response_alg"], "ES256");
        let mut chosen = rp.clone();
        chosen["id_token_signed_response_alg"] = json!("RS256");
        let (status, body) = admin_call(&server, &admin, post.clone(), rps, chosen, None).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["id_token_signed_response_alg"], "RS256");
        let id = body["client_id"].as_str().unwrap().to_owned();
        let etag = |b: &Value| Some(format!("\"v{}\"", b["version"]));
        let one = format!("{rps}/{id}");
        let patch = reqwest::Method::PATCH;
        let (status, body) = admin_call(
            &server,
            &admin,
            patch.clone(),
            &one,
            json!({ "id_token_signed_response_alg": "PS256" }),
            etag(&body),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["id_token_signed_response_alg"], "PS256");
        assert_eq!(body["changed"], json!(["id_token_signed_response_alg"]));
        for (field, value) in [
            ("id_token_signed_response_alg", "HS256"),
            ("userinfo_signed_response_alg", "RS256"),
        ] {
            let (status, problem) = admin_call(
                &server,
                &admin,
                patch.clone(),
                &one,
                json!({ field: value }),
                etag(&body),
            )
            .await;
            assert_eq!(status, 400, "{field}: {problem}");
            assert!(names_field(&problem, field), "{field}: {problem}");
            let mut asked = rp.clone();
            asked[field] = json!(value);
            let (status, problem) =
                admin_call(&server, &admin, post.clone(), rps, asked, None).await;
            assert_eq!(status, 400, "{field}: {problem}");
            assert_eq!(problem["error"], "invalid_client_metadata", "{problem}");
            assert!(names_field(&problem, field), "{field}: {problem}");
        }
        // `null`: back to sqin's default.
        let (status, body) = admin_call(
            &server,
            &admin,
            patch,
            &one,
            json!({ "id_token_signed_response_alg": null }),
            etag(&body),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["id_token_signed_response_alg"], "ES256");
        server.stop().await;
    }
);
