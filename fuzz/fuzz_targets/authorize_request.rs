//! The authorization endpoint's query, as `authorize::begin` reads it.
//!
//! `begin` looks the client up in the database between its checks, so this
//! target drives the pure pieces it is made of, on the parameters a browser
//! sends (a query string): the `claims` parameter (OIDC Core 5.5), the
//! claims a request would disclose for a client, and the PKCE checks. The
//! invariant is the one privacy rests on: whatever the request says, what it
//! discloses stays within what the client's registered purpose allows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sqin_oidc::{authorize, claims, pkce};
use sqin_store::clients::{AuthMethod, ClientRecord, ClientStatus, ClientType, SubjectType};

fn client(scopes: &[&str], narrowed: Option<&[&str]>) -> ClientRecord {
    ClientRecord {
        client_id: "fuzz".into(),
        name: "Fuzz".into(),
        name_fr: None,
        client_type: ClientType::Confidential,
        secret_hash: None,
        token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
        redirect_uris: vec!["https://rp.example/cb".into()],
        post_logout_redirect_uris: Vec::new(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        claims: narrowed.map(|c| c.iter().map(|s| (*s).to_owned()).collect()),
        purpose: "fuzzing".into(),
        purpose_fr: None,
        sector: "rp.example".into(),
        subject_type: SubjectType::Pairwise,
        jwks: None,
        jwks_uri: None,
        backchannel_logout_uri: None,
        pia_entry: None,
        status: ClientStatus::Active,
        status_reason: None,
        version: 1,
        registration_token_hash: None,
        created_at: 0,
        updated_at: 0,
    }
}

fuzz_target!(|data: &[u8]| {
    // A query string, decoded as the HTTP edge decodes it.
    let params: Vec<(String, String)> = url::form_urlencoded::parse(data)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let scope = get("scope").unwrap_or("");
    let claims_param = get("claims");

    for target in ["id_token", "userinfo", ""] {
        let _ = claims::requested_claims(claims_param, target);
    }
    let _ = claims::claims_for_scopes(scope.split(' '));

    let clients = [
        client(&["openid", "profile"], None),
        client(&["openid", "profile", "birthdate", "address"], Some(&["name"])),
        client(&["openid"], None),
    ];
    for c in &clients {
        let allowed = authorize::allowed_claims(c);
        let disclosed = authorize::disclosed_claims(c, scope, claims_param);
        for name in &disclosed {
            assert!(
                allowed.contains(&name.as_str()),
                "{name} disclosed beyond the client's purpose"
            );
        }
        let mut dedup = disclosed.clone();
        dedup.dedup();
        assert_eq!(dedup, disclosed, "a claim disclosed twice");
    }

    if let Some(challenge) = get("code_challenge") {
        let valid = pkce::valid_challenge(challenge);
        if valid {
            assert_eq!(challenge.len(), 43);
        }
        if let Some(verifier) = get("code_verifier") {
            let ok = pkce::verify(verifier, challenge);
            assert!(!ok || pkce::valid_verifier(verifier));
        }
    }
    if let Some(verifier) = get("code_verifier") {
        let _ = pkce::valid_verifier(verifier);
    }
});
