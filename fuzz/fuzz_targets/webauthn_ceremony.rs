//! The passkey ceremonies end to end in `webauthn-rs`, on the relying party
//! `sqin_webauthn::PasskeyService::new` builds (`sqin_webauthn::relying_party`:
//! RP ID and the one origin from the issuer, user verification required),
//! with the ceremony state sqin stores between start and finish given a
//! fixed challenge, so that mutated answers get past the challenge check to
//! the attestation and signature checks.
//!
//! Input: a `RegisterPublicKeyCredential` JSON (finished against a
//! registration, as enrolment and the account page do) or a
//! `PublicKeyCredential` JSON (identified and finished against a
//! discoverable authentication, and finished against an authentication
//! that names the credential, with the passkey of the committed
//! registration seed as the stored credential, as `login.rs` does).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use url::Url;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Uuid, Webauthn,
};

/// base64url of 32 bytes 0x01..0x20: the fixed challenge of both states.
pub const CHALLENGE: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA";

const REGISTRATION_SEED: &[u8] = include_bytes!("../corpus/webauthn_ceremony/registration.json");

struct Fixture {
    webauthn: Webauthn,
    registration: PasskeyRegistration,
    authentication: DiscoverableAuthentication,
    named: PasskeyAuthentication,
    passkey: Passkey,
}

fn with_challenge<T: serde::Serialize + serde::de::DeserializeOwned>(state: T) -> T {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if k == "challenge" {
                        *v = Value::from(CHALLENGE);
                    } else {
                        walk(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(state).expect("state serialises");
    walk(&mut v);
    serde_json::from_value(v).expect("state deserialises")
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let issuer = Url::parse("https://id.example").expect("url");
        let webauthn = sqin_webauthn::relying_party(&issuer).expect("relying party");
        let user = Uuid::from_bytes([7; 16]);
        let (_, registration) = webauthn
            .start_passkey_registration(user, "fuzz", "Fuzz", None)
            .expect("start registration");
        let registration = with_challenge(registration);
        let (_, authentication) = webauthn
            .start_discoverable_authentication()
            .expect("start authentication");
        let authentication = with_challenge(authentication);
        let seed: RegisterPublicKeyCredential =
            serde_json::from_slice(REGISTRATION_SEED).expect("registration seed parses");
        let passkey = webauthn
            .finish_passkey_registration(&seed, &registration)
            .expect("the registration seed is a valid registration");
        let (_, named) = webauthn
            .start_passkey_authentication(std::slice::from_ref(&passkey))
            .expect("start named authentication");
        let named = with_challenge(named);
        Fixture {
            webauthn,
            registration,
            authentication,
            named,
            passkey,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    if let Ok(reg) = serde_json::from_slice::<RegisterPublicKeyCredential>(data) {
        if let Ok(passkey) = f
            .webauthn
            .finish_passkey_registration(&reg, &f.registration)
        {
            // What sqin stores, and reads back at every login.
            let stored = serde_json::to_string(&passkey).expect("passkey serialises");
            let back: Passkey = serde_json::from_str(&stored).expect("stored passkey parses");
            assert_eq!(back.cred_id(), passkey.cred_id());
        }
    }
    if let Ok(cred) = serde_json::from_slice::<PublicKeyCredential>(data) {
        let _ = f.webauthn.identify_discoverable_authentication(&cred);
        if let Ok(result) = f.webauthn.finish_discoverable_authentication_v2(
            &cred,
            f.authentication.clone(),
            &f.passkey,
        ) {
            assert!(
                result.user_verified(),
                "a passkey login without user verification"
            );
            assert_eq!(result.cred_id(), f.passkey.cred_id());
        }
        if let Ok(result) = f.webauthn.finish_passkey_authentication(&cred, &f.named) {
            assert!(
                result.user_verified(),
                "a passkey login without user verification"
            );
            assert_eq!(result.cred_id(), f.passkey.cred_id());
        }
    }
});
