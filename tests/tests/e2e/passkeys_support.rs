//! What the passkey tests share: a citizen in the register, and a "browser"
//! (an HTTP client with a cookie jar, the CSRF token and the issuer's origin)
//! that drives the JSON endpoints with a software authenticator, exactly as
//! passkeys.js does in a real browser.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqin_register::NewCitizen;
use sqin_tests::TestServer;
use sqin_webauthn::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;

pub struct Citizen {
    pub register_id: String,
    pub birthdate: String,
    pub code: String,
    pub id: String,
}

/// Adds a citizen to the register (as `sqin citizen add` does) and returns
/// their enrolment code.
pub async fn add_citizen(server: &TestServer, register_id: &str, birthdate: &str) -> Citizen {
    let mut conn = server.services.store.pool().acquire().await.unwrap();
    let (citizen, code) = sqin_register::add_citizen(
        &mut conn,
        &server.services.codes,
        &server.services.register,
        NewCitizen {
            register_id: register_id.into(),
            given_name: "Camille".into(),
            family_name: "Exemple".into(),
            birthdate: birthdate.into(),
            email: None,
            address: None,
            locale: Some("fr".into()),
        },
        server.now(),
    )
    .await
    .unwrap();
    Citizen {
        register_id: citizen.register_id,
        birthdate: birthdate.into(),
        code: code.code.expose().to_owned(),
        id: citizen.id,
    }
}

/// Issues a new code for a citizen, as `sqin citizen reissue-code` does.
pub async fn reissue_code(server: &TestServer, citizen_id: &str, at: i64) -> String {
    let mut conn = server.services.store.pool().acquire().await.unwrap();
    let code = server
        .services
        .codes
        .issue(
            &mut conn,
            citizen_id,
            sqin_store::enrolment::CodePurpose::Recovery,
            at,
        )
        .await
        .unwrap();
    code.code.expose().to_owned()
}

pub struct Browser {
    pub http: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
    pub base: String,
    pub origin: Url,
    pub csrf: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn ok(self) -> Value {
        assert!(self.status.is_success(), "{}: {}", self.status, self.body);
        self.body
    }

    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

impl Browser {
    pub async fn open(server: &TestServer) -> Browser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .unwrap();
        let r = http
            .get(server.url("/api/passkeys/csrf"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let csrf = r.json::<Value>().await.unwrap()["csrf"]
            .as_str()
            .unwrap()
            .to_owned();
        Browser {
            http,
            jar,
            base: server.base.clone(),
            origin: Url::parse(&server.issuer).unwrap(),
            csrf,
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.post_with(path, body, &[]).await
    }

    /// [`Browser::post`] with extra request headers (what a proxy adds).
    pub async fn post_with(&self, path: &str, body: Value, headers: &[(&str, &str)]) -> Reply {
        let mut request = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("x-csrf-token", &self.csrf);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let r = request.json(&body).send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.json::<Value>().await.unwrap_or(Value::Null);
        Reply {
            status,
            body,
            headers,
        }
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

    /// The account page's HTML (after following a redirect to it, if any).
    pub async fn account(&self) -> (StatusCode, String) {
        let r = self.get("/account").await;
        let status = r.status();
        (status, r.text().await.unwrap())
    }

    pub async fn verify(&self, code: &str, birthdate: &str) -> Reply {
        self.post(
            "/api/passkeys/enrol/verify",
            json!({ "code": code, "birthdate": birthdate }),
        )
        .await
    }

    /// Starts a registration with a grant; returns the ceremony and options.
    pub async fn enrol_start(&self, grant: &str) -> (String, CreationChallengeResponse) {
        let v = self
            .post("/api/passkeys/enrol/start", json!({ "grant": grant }))
            .await
            .ok();
        split_creation(v)
    }

    pub async fn add_start(&self) -> Reply {
        self.post("/api/passkeys/add/start", json!({})).await
    }

    pub fn register(
        &self,
        authenticator: &mut SoftPasskey,
        options: CreationChallengeResponse,
    ) -> RegisterPublicKeyCredential {
        authenticator
            .do_registration(self.origin.clone(), options)
            .unwrap()
    }

    pub async fn enrol_finish(
        &self,
        ceremony: &str,
        credential: &RegisterPublicKeyCredential,
        name: &str,
    ) -> Reply {
        self.post(
            "/api/passkeys/enrol/finish",
            json!({ "ceremony": ceremony, "credential": credential, "name": name }),
        )
        .await
    }

    /// The whole enrolment: code and birthdate, registration, finish.
    /// Returns the finish reply, the WebAuthn user handle and the credential id.
    pub async fn enrol(
        &self,
        authenticator: &mut SoftPasskey,
        code: &str,
        birthdate: &str,
        name: &str,
    ) -> (Reply, Vec<u8>, Vec<u8>) {
        let grant = self.verify(code, birthdate).await.ok();
        let (ceremony, options) = self.enrol_start(grant["grant"].as_str().unwrap()).await;
        let user_handle = options.public_key.user.id.to_vec();
        let credential = self.register(authenticator, options);
        (
            self.enrol_finish(&ceremony, &credential, name).await,
            user_handle,
            credential_id(&credential),
        )
    }

    pub async fn login_start(
        &self,
        register_id: Option<&str>,
    ) -> (String, RequestChallengeResponse) {
        let body = match register_id {
            Some(id) => json!({ "register_id": id }),
            None => json!({}),
        };
        let v = self.post("/api/passkeys/login/start", body).await.ok();
        split_request(v)
    }

    pub async fn login_finish(&self, ceremony: &str, credential: &PublicKeyCredential) -> Reply {
        self.post(
            "/api/passkeys/login/finish",
            json!({ "ceremony": ceremony, "credential": credential }),
        )
        .await
    }

    /// Signs in with the register identifier typed (allowCredentials path).
    pub async fn login_with_id(&self, authenticator: &mut SoftPasskey, register_id: &str) -> Reply {
        let (ceremony, options) = self.login_start(Some(register_id)).await;
        let credential = authenticator
            .do_authentication(self.origin.clone(), options)
            .unwrap();
        self.login_finish(&ceremony, &credential).await
    }

    /// Signs in username-less. The soft authenticator keeps no resident keys,
    /// so the test tells it which credential to use and adds the user handle
    /// to its answer, as a discoverable authenticator does.
    pub async fn login_discoverable(
        &self,
        authenticator: &mut SoftPasskey,
        credential_id: &[u8],
        user_handle: &[u8],
    ) -> Reply {
        let (ceremony, mut options) = self.login_start(None).await;
        assert!(options.public_key.allow_credentials.is_empty());
        allow(&mut options, credential_id);
        let mut credential = authenticator
            .do_authentication(self.origin.clone(), options)
            .unwrap();
        credential.response.user_handle = Some(user_handle.to_vec());
        self.login_finish(&ceremony, &credential).await
    }
}

pub fn allow(options: &mut RequestChallengeResponse, credential_id: &[u8]) {
    let v = json!({ "type": "public-key", "id": sqin_crypto::b64url(credential_id) });
    options
        .public_key
        .allow_credentials
        .push(serde_json::from_value(v).unwrap());
}

pub fn split_creation(v: Value) -> (String, CreationChallengeResponse) {
    let ceremony = v["ceremony"].as_str().unwrap().to_owned();
    (ceremony, serde_json::from_value(v).unwrap())
}

pub fn split_request(v: Value) -> (String, RequestChallengeResponse) {
    let ceremony = v["ceremony"].as_str().unwrap().to_owned();
    (ceremony, serde_json::from_value(v).unwrap())
}

/// The credential id a registration answer carries.
pub fn credential_id(credential: &RegisterPublicKeyCredential) -> Vec<u8> {
    credential.raw_id.to_vec()
}

pub async fn events(server: &TestServer, citizen_id: &str) -> Vec<String> {
    let mut conn = server.services.store.pool().acquire().await.unwrap();
    let mut kinds: Vec<String> =
        sqin_store::security_events::recent(&mut conn, citizen_id, None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
    kinds.reverse();
    kinds
}

pub fn authenticator() -> SoftPasskey {
    // `true`: the soft authenticator claims user verification, as a platform
    // authenticator does after a fingerprint or PIN.
    SoftPasskey::new(true)
}

/// A citizen in the register who has enrolled a passkey ("Portable") in a
/// browser that is now signed in: the citizen, the browser, the passkey.
pub async fn enrolled(server: &TestServer, register_id: &str) -> (Citizen, Browser, SoftPasskey) {
    let citizen = add_citizen(server, register_id, "1984-03-02").await;
    let browser = Browser::open(server).await;
    let mut key = authenticator();
    browser
        .enrol(&mut key, &citizen.code, &citizen.birthdate, "Portable")
        .await
        .0
        .ok();
    (citizen, browser, key)
}
