//! The admin REST API against a real server: a member of staff with the
//! console's cookie (and its CSRF token) or an automation client's admin
//! access token acts with their roles from the PIA and nothing else;
//! relying parties are registered within their PIA entry, edited with
//! If-Match, approved by a different person; errors are problem details
//! naming the field; everything is a governance entry the ledger's
//! verification covers.
use reqwest::Method;
use serde_json::{json, Value};

use crate::staff_support::{member, StaffBrowser};

use sqin_tests::*;

const API: &str = "/admin/api/v1";

struct Api<'a> {
    server: &'a TestServer,
    token: String,
}

impl Api<'_> {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut req = sqin_tests::http_client()
            .request(method, self.server.staff(&format!("{API}{path}")))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(m) = if_match {
            req = req.header("if-match", m);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, r.json().await.unwrap_or(Value::Null), headers)
    }
}

/// An automation client created with the member's console session, and
/// an admin access token for it.
async fn automation<'a>(server: &'a TestServer, staff: &mut StaffBrowser) -> Api<'a> {
    staff.reauth().await;
    let (status, created) = staff
        .post(
            &format!("{API}/automation-clients"),
            json!({ "name": "pipeline" }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["client_id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    let r = sqin_tests::http_client()
        .post(server.staff(&format!("{API}/token")))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "sqin:admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    Api {
        server,
        token: body["access_token"].as_str().unwrap().to_owned(),
    }
}

both_backends!(
    async fn the_admin_api_acts_within_roles_the_pia_and_four_eyes(db: TestDb) {
        let server = TestServer::start_with_ministries(db).await;
        let mut admin = member(&server, "Admin", &["administrator"]).await;
        let mut officer = member(&server, "Officer", &["privacy-officer"]).await;
        let mut support = member(&server, "Agent", &["support"]).await;

        // The console's cookie: reads work, a change needs the CSRF token.
        let r = admin
            .http
            .get(server.staff(&format!("{API}/relying-parties")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = admin
            .http
            .post(server.staff(&format!("{API}/keys/rotate")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "no CSRF token");
        // Nobody, and a wrong token: 401 with the Bearer challenge.
        let r = sqin_tests::http_client()
            .get(server.staff(&format!("{API}/relying-parties")))
            .bearer_auth("nope")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert!(r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token"));
        let r = sqin_tests::http_client()
            .post(server.staff(&format!("{API}/token")))
            .basic_auth("automation-x", Some("wrong"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let r = sqin_tests::http_client()
            .post(server.staff(&format!("{API}/token")))
            .form(&[("grant_type", "password")])
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "unsupported_grant_type");

        let api = automation(&server, &mut admin).await;
        let agent_api = automation(&server, &mut support).await;
        let officer_api = automation(&server, &mut officer).await;

        // A support agent's automation has the agent's rights: none here.
        let (status, problem, _) = agent_api
            .call(Method::GET, "/relying-parties", None, None)
            .await;
        assert_eq!(status, 403, "{problem}");

        // Beyond the entry: a problem naming each field.
        let asked = json!({
            "pia_entry": "revenue",
            "client_name": "Revenu en ligne",
            "redirect_uris": ["https://revenu.example/cb"],
            "scope": "openid profile birthdate",
            "subject_type": "public",
        });
        let (status, problem, headers) = api
            .call(Method::POST, "/relying-parties", Some(asked.clone()), None)
            .await;
        assert_eq!(status, 400, "{problem}");
        assert_eq!(headers["content-type"], "application/problem+json");
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, vec!["scope", "subject_type"], "{problem}");
        for (change, field) in [
            (json!({ "claims": ["name", "given_name"] }), "claims"),
            (
                json!({ "sector_identifier": "sante.example" }),
                "sector_identifier",
            ),
            (
                json!({ "redirect_uris": ["https://evil.example/cb"] }),
                "redirect_uris",
            ),
        ] {
            let mut body = json!({
                "pia_entry": "revenue",
                "client_name": "Revenu en ligne",
                "redirect_uris": ["https://revenu.example/cb"],
                "scope": "openid profile",
            });
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let (status, problem, _) = api
                .call(Method::POST, "/relying-parties", Some(body), None)
                .await;
            assert_eq!(status, 400, "{field}: {problem}");
            assert!(
                problem["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["field"] == field),
                "{field}: {problem}"
            );
        }
        let (status, problem, _) = api
            .call(
                Method::POST,
                "/relying-parties",
                Some(json!({ "client_name": "x" })),
                None,
            )
            .await;
        assert_eq!(
            (status, problem["errors"][0]["field"].as_str()),
            (400, Some("pia_entry"))
        );

        // Within it: pending, with an ETag.
        let mut asked = asked;
        asked["scope"] = json!("openid profile");
        asked.as_object_mut().unwrap().remove("subject_type");
        let (status, rp, headers) = api
            .call(Method::POST, "/relying-parties", Some(asked), None)
            .await;
        assert_eq!(status, 201, "{rp}");
        assert_eq!(rp["sqin_status"], "pending");
        assert_eq!(headers["etag"], "\"v1\"");
        let id = rp["client_id"].as_str().unwrap().to_owned();
        let path = format!("/relying-parties/{id}");

        // Edits: If-Match required, a stale one refused, a current one
        // applied; a widening one accepted for approval, nothing changed.
        let patch =
            json!({ "redirect_uris": ["https://revenu.example/cb", "https://revenu.example/cb2"] });
        let (status, _, _) = api
            .call(Method::PATCH, &path, Some(patch.clone()), None)
            .await;
        assert_eq!(status, 428);
        let (status, problem, _) = api
            .call(Method::PATCH, &path, Some(patch.clone()), Some("\"v0\""))
            .await;
        assert_eq!((status, problem["error"].as_str()), (412, Some("stale")));
        let (status, rp, headers) = api
            .call(Method::PATCH, &path, Some(patch), Some("\"v1\""))
            .await;
        assert_eq!(status, 200, "{rp}");
        assert_eq!(rp["changed"], json!(["redirect_uris"]));
        let etag = headers["etag"].to_str().unwrap().to_owned();
        let (status, rp, headers) = api
            .call(
                Method::PATCH,
                &path,
                Some(json!({ "claims": ["name"] })),
                Some(&etag),
            )
            .await;
        assert_eq!(status, 200, "{rp}");
        let etag = headers["etag"].to_str().unwrap().to_owned();
        let (status, rp, _) = api
            .call(
                Method::PATCH,
                &path,
                Some(json!({ "claims": ["name", "family_name"] })),
                Some(&etag),
            )
            .await;
        assert_eq!(status, 202, "{rp}");
        assert_eq!(rp["sqin_claims"], json!(["name"]));
        let (status, problem, _) = api
            .call(
                Method::PATCH,
                &path,
                Some(json!({ "client_secret": "x" })),
                Some(&etag),
            )
            .await;
        assert_eq!(
            (status, problem["errors"][0]["field"].as_str()),
            (400, Some("client_secret"))
        );

        // Four eyes through the API: the administrator cannot approve, the
        // privacy officer does (the registration, then the widening).
        let (_, open, _) = officer_api.call(Method::GET, "/requests", None, None).await;
        let ids: Vec<String> = open["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), 2, "{open}");
        let (status, _, _) = api
            .call(
                Method::POST,
                &format!("/requests/{}/approve", ids[0]),
                None,
                None,
            )
            .await;
        assert_eq!(status, 400, "nobody approves their own request");
        for request in &ids {
            let (status, decision, _) = officer_api
                .call(
                    Method::POST,
                    &format!("/requests/{request}/approve"),
                    None,
                    None,
                )
                .await;
            assert_eq!(status, 200, "{decision}");
        }
        let (_, rp, _) = api.call(Method::GET, &path, None, None).await;
        assert_eq!(rp["sqin_status"], "active");
        assert_eq!(rp["sqin_claims"], json!(["name", "family_name"]));

        // Suspend, resume, a secret, an initial access token, keys, a
        // checkpoint.
        let (status, rp, _) = api
            .call(
                Method::POST,
                &format!("{path}/suspend"),
                Some(json!({ "reason": "audit" })),
                None,
            )
            .await;
        assert_eq!(
            (status, rp["sqin_status"].as_str()),
            (200, Some("suspended"))
        );
        let (status, rp, _) = api
            .call(
                Method::POST,
                &format!("{path}/resume"),
                Some(json!({ "reason": "cleared" })),
                None,
            )
            .await;
        assert_eq!((status, rp["sqin_status"].as_str()), (200, Some("active")));
        let (status, secret, _) = api
            .call(Method::POST, &format!("{path}/secret"), None, None)
            .await;
        assert_eq!(status, 200);
        let secret = secret["client_secret"].as_str().unwrap().to_owned();
        let (status, iat, _) = api
            .call(
                Method::POST,
                "/initial-access-tokens",
                Some(json!({ "pia_entry": "health-card", "uses": 1 })),
                None,
            )
            .await;
        assert_eq!(status, 201, "{iat}");
        let (status, keys, _) = api.call(Method::POST, "/keys/rotate", None, None).await;
        assert_eq!(status, 200, "{keys}");
        let (status, cp, _) = api
            .call(Method::POST, "/ledger/checkpoint", None, None)
            .await;
        assert_eq!(status, 200, "{cp}");
        let (status, _, _) = api.call(Method::DELETE, &path, None, None).await;
        assert_eq!(status, 200);
        let (status, _, _) = api.call(Method::GET, &path, None, None).await;
        assert_eq!(status, 404);

        // Every one of these acts is a governance entry, by badge, covered
        // by the ledger's verification, with no secret in any of them.
        let report = verify_ledger(&server).await;
        assert!(report.entries > 0);
        let mut conn = server.services.store.pool().acquire().await.unwrap();
        let text: Vec<String> = sqin_store::ledger::entries_of_kind(&mut conn, "governance")
            .await
            .unwrap()
            .iter()
            .map(|e| String::from_utf8_lossy(&e.entry).into_owned())
            .collect();
        for what in [
            "automation_client.created",
            "client.registered",
            "client.edited",
            "client.edit_requested",
            "client.approved",
            "client.edit_approved",
            "client.suspended",
            "client.resumed",
            "client.secret_rotated",
            "initial_access_token.issued",
            "keys.rotated",
            "ledger.checkpoint",
            "client.removed",
        ] {
            assert!(
                text.iter().any(|t| t.contains(what)
                    && (t.contains(&admin.badge) || t.contains(&officer.badge))),
                "{what} missing"
            );
        }
        assert!(!text
            .iter()
            .any(|t| t.contains(&secret) || t.contains(&api.token)));
        drop(conn);
        server.stop().await;
    }
);
