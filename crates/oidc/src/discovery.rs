//! Provider metadata (OIDC Discovery 1.0 section 3): only what sqin really
//! supports, so a relying-party library never negotiates something that will
//! then fail.
use serde_json::{json, Value};

use sqin_crypto::SigningAlg;

use crate::claims;
use crate::client::{AuthMethod, SubjectType};
use crate::provider::{paths, Provider};
use crate::token::GrantType;

/// The algorithms a `private_key_jwt` client assertion may use (those
/// `client_auth` verifies: asymmetric, never HMAC or `none`). Every
/// endpoint that authenticates clients does it the same way, and RFC 8414
/// 2 requires the list for each one that names `private_key_jwt`.
const ASSERTION_ALGS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

pub fn metadata(provider: &Provider) -> Value {
    let scopes: Vec<&str> = claims::SCOPES.iter().map(|s| s.name).collect();
    let mut claims_supported = vec![
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "acr",
        "amr",
        "sid",
        "azp",
        "at_hash",
    ];
    claims_supported.extend(claims::all_claims());
    let e = |p: &str| provider.endpoint(p);
    json!({
        "issuer": provider.issuer,
        "authorization_endpoint": e(paths::AUTHORIZE),
        "token_endpoint": e(paths::TOKEN),
        "userinfo_endpoint": e(paths::USERINFO),
        "jwks_uri": e(paths::JWKS),
        "revocation_endpoint": e(paths::REVOKE),
        "introspection_endpoint": e(paths::INTROSPECT),
        "end_session_endpoint": e(paths::LOGOUT),
        "registration_endpoint": e(paths::REGISTER),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GrantType::ALL.map(GrantType::as_str),
        "subject_types_supported": [SubjectType::Pairwise.as_str(), SubjectType::Public.as_str()],
        // Every algorithm of the key ring (Discovery 3: RS256 must be
        // there). Userinfo answers plain JSON, never a JWT, so
        // `userinfo_signing_alg_values_supported` is absent on purpose.
        "id_token_signing_alg_values_supported": SigningAlg::ALL.map(SigningAlg::as_str),
        "token_endpoint_auth_methods_supported": AuthMethod::ALL.map(AuthMethod::as_str),
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "revocation_endpoint_auth_methods_supported": AuthMethod::ALL.map(AuthMethod::as_str),
        "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": claims_supported,
        "claims_parameter_supported": true,
        "claim_types_supported": ["normal"],
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": true,
        "acr_values_supported": sqin_session::acr::ORDER,
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["fr", "en"],
        "claims_locales_supported": ["fr", "en"],
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    })
}
