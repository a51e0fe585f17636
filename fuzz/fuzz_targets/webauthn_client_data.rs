//! What a browser's WebAuthn answer is made of, parsed by the `webauthn-rs`
//! types sqin relies on: the credential JSON the passkey endpoints take
//! (`RegisterPublicKeyCredential`, `PublicKeyCredential`), `clientDataJSON`
//! (`CollectedClientData`), the CBOR attestation object and the binary
//! authenticator data of both ceremonies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};
use webauthn_rs_core::internals::{AttestationObject, AuthenticatorData};
use webauthn_rs_core::proto::{Authentication, CollectedClientData, Registration};

fuzz_target!(|data: &[u8]| {
    if let Ok(ccd) = serde_json::from_slice::<CollectedClientData>(data) {
        let _ = serde_json::to_vec(&ccd);
    }
    let _ = serde_json::from_slice::<RegisterPublicKeyCredential>(data);
    let _ = serde_json::from_slice::<PublicKeyCredential>(data);
    let _ = AuthenticatorData::<Registration>::try_from(data);
    let _ = AuthenticatorData::<Authentication>::try_from(data);
    let _ = AttestationObject::<Registration>::try_from(data);
});
