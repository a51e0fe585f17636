//! What the staff-plane tests share: members of staff set up in given
//! roles, and a "browser" on the staff console (cookie jar, CSRF token,
//! the console's origin) that enrols and uses a software passkey exactly as
//! staff.js does in a real browser.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqin_store::staff::{StaffGrant, StaffMember};
use sqin_tests::TestServer;
use sqin_webauthn::{CreationChallengeResponse, RequestChallengeResponse};
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;

use crate::passkeys_support::{allow, credential_id};

pub struct StaffBrowser {
    pub http: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
    pub base: String,
    pub origin: Url,
    pub csrf: String,
    pub key: SoftPasskey,
    pub credential_id: Vec<u8>,
    pub user_handle: Vec<u8>,
    pub badge: String,
}

impl StaffBrowser {
    /// The signed-in member of staff as the application sees them (for
    /// tests that call `sqin_app` directly, as the admin API would).
    pub async fn actor(&self, server: &TestServer) -> sqin_app::staff::StaffActor {
        use reqwest::cookie::CookieStore;
        let cookies = self
            .jar
            .cookies(&self.base.parse().unwrap())
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let token = cookies
            .split("; ")
            .find_map(|c| {
                c.strip_prefix("__Host-sqin_staff=")
                    .or_else(|| c.strip_prefix("sqin_staff="))
            })
            .unwrap_or_else(|| panic!("no staff session cookie in {cookies}"))
            .to_owned();
        sqin_app::staff::session::actor(&server.services, &token)
            .await
            .unwrap()
            .expect("a live staff session")
    }
}

/// The value of `<meta name="csrf-token">` in a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf-token\" content=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

impl StaffBrowser {
    /// A browser on the staff console, not signed in.
    pub async fn open(server: &TestServer) -> StaffBrowser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .unwrap();
        let r = http.get(server.staff("/login")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let csrf = csrf_of(&r.text().await.unwrap());
        StaffBrowser {
            http,
            jar,
            base: server.staff(""),
            origin: Url::parse(&server.staff_url).unwrap(),
            csrf,
            key: SoftPasskey::new(true),
            credential_id: Vec::new(),
            user_handle: Vec::new(),
            badge: String::new(),
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("x-csrf-token", &self.csrf)
            .header("origin", self.origin.origin().ascii_serialization())
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.http
            .post(format!("{}{}", self.base, path))
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap()
    }

    /// A page's status and HTML.
    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let status = r.status();
        (status, r.text().await.unwrap())
    }

    /// Enrols a passkey with an invitation code; signed in afterwards.
    pub async fn enrol(&mut self, code: &str) -> (StatusCode, Value) {
        let (status, v) = self
            .post("/api/staff/enrol/start", json!({ "code": code }))
            .await;
        if !status.is_success() {
            return (status, v);
        }
        let ceremony = v["ceremony"].as_str().unwrap().to_owned();
        let mut options: CreationChallengeResponse = serde_json::from_value(v).unwrap();
        self.user_handle = options.public_key.user.id.to_vec();
        // The console requires a discoverable credential; the soft
        // authenticator keeps none (the test plays the discoverable part at
        // sign-in), so it is asked for a plain one. Chromium's virtual
        // authenticator makes a resident key (tests/browser/staff.mjs).
        if let Some(sel) = options.public_key.authenticator_selection.as_mut() {
            sel.require_resident_key = false;
            sel.resident_key = None;
        }
        let credential = self
            .key
            .do_registration(self.origin.clone(), options)
            .unwrap();
        self.credential_id = credential_id(&credential);
        self.post(
            "/api/staff/enrol/finish",
            json!({ "ceremony": ceremony, "credential": credential }),
        )
        .await
    }

    /// Signs in username-less (the soft authenticator is told which
    /// credential to use, and answers with the user handle, as a
    /// discoverable authenticator does).
    pub async fn sign_in(&mut self) -> (StatusCode, Value) {
        let (status, v) = self.post("/api/staff/login/start", json!({})).await;
        assert_eq!(status, 200, "{v}");
        let ceremony = v["ceremony"].as_str().unwrap().to_owned();
        let mut options: RequestChallengeResponse = serde_json::from_value(v).unwrap();
        allow(&mut options, &self.credential_id);
        let mut credential = self
            .key
            .do_authentication(self.origin.clone(), options)
            .unwrap();
        credential.response.user_handle = Some(self.user_handle.clone());
        self.post(
            "/api/staff/login/finish",
            json!({ "ceremony": ceremony, "credential": credential }),
        )
        .await
    }

    /// A fresh passkey assertion, for a sensitive action.
    pub async fn reauth(&mut self) -> (StatusCode, Value) {
        let (status, v) = self.post("/api/staff/reauth/start", json!({})).await;
        if !status.is_success() {
            return (status, v);
        }
        let ceremony = v["ceremony"].as_str().unwrap().to_owned();
        let options: RequestChallengeResponse = serde_json::from_value(v).unwrap();
        let credential = self
            .key
            .do_authentication(self.origin.clone(), options)
            .unwrap();
        self.post(
            "/api/staff/reauth/finish",
            json!({ "ceremony": ceremony, "credential": credential }),
        )
        .await
    }
}

/// A member of staff holding `roles` (granted directly in the store: test
/// setup, where the console would need four eyes), enrolled with a soft
/// passkey and signed in.
pub async fn member(server: &TestServer, name: &str, roles: &[&str]) -> StaffBrowser {
    let now = server.now();
    let uuid = uuid::Uuid::new_v4();
    let id = uuid.to_string();
    let bytes = uuid.as_bytes();
    let badge = sqin_staff::badge::badge([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let code = format!("TESTCODE{}", &id[..8]).to_uppercase();
    let mut conn = server.services.store.pool().acquire().await.unwrap();
    sqin_store::staff::insert_member(
        &mut conn,
        &StaffMember {
            id: id.clone(),
            display_name: name.into(),
            badge: badge.clone(),
            created_at: now,
            created_by: "test-setup".into(),
            disabled_at: None,
        },
    )
    .await
    .unwrap();
    sqin_store::staff::insert_invitation(
        &mut conn,
        &sqin_webauthn::staff::invitation_hash(&code),
        &id,
        now,
        now + 3600,
    )
    .await
    .unwrap();
    for role in roles {
        sqin_store::staff::insert_grant(
            &mut conn,
            &StaffGrant {
                id: uuid::Uuid::new_v4().to_string(),
                staff_id: id.clone(),
                role: (*role).into(),
                reason: "test".into(),
                requested_by: "test-setup".into(),
                approved_by: "test-setup".into(),
                granted_at: now,
                expires_at: now + 86_400 * 30,
                revoked_at: None,
                revoked_by: None,
            },
        )
        .await
        .unwrap();
    }
    drop(conn);
    let mut browser = StaffBrowser::open(server).await;
    let (status, body) = browser.enrol(&code).await;
    assert_eq!(status, 200, "{body}");
    browser.badge = badge;
    browser
}

/// The HTML of a 303's target, or the page itself.
pub fn location(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
}
