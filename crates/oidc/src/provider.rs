//! The provider's settings and keys, passed to every protocol function.
use std::sync::Arc;

use sqin_crypto::HmacKey;

use crate::keys::KeyRing;

/// Lifetimes in seconds. Short by default: a stolen token is worth little.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// Authorization codes (at most 60 s).
    pub code: i64,
    /// ID tokens and access tokens.
    pub token: i64,
    /// Refresh tokens (only with `offline_access`).
    pub refresh: i64,
    /// A pending authorization request while the citizen signs in.
    pub request: i64,
    /// A consent before it must be asked again.
    pub consent: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            code: 60,
            token: 300,
            refresh: 30 * 86_400,
            request: 15 * 60,
            consent: 365 * 86_400,
        }
    }
}

/// Everything a protocol function needs besides the database connection.
#[derive(Clone)]
pub struct Provider {
    /// The issuer, without a trailing slash.
    pub issuer: String,
    pub keys: Arc<KeyRing>,
    pub pairwise_key: HmacKey,
    /// Keys consent-form tokens to the browser session that saw the form.
    pub form_key: HmacKey,
    pub lifetimes: Lifetimes,
    /// Where consents and disclosures are recorded, in the transaction
    /// that makes them true.
    pub ledger: Arc<dyn sqin_ledger_contract::LedgerRecorder>,
    /// Fetches the keys clients publish at their `jwks_uri`.
    pub remote_jwks: Arc<dyn crate::remote_jwks::RemoteJwks>,
    /// Opens the citizen records claims are read from.
    pub register: sqin_store::citizens::RegisterVault,
    pub clients: Arc<crate::cache::ClientCache>,
    pub verified: Arc<crate::cache::VerifiedTokens>,
    pub revoked: Arc<crate::cache::RevokedAccessTokens>,
}

impl Provider {
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }
}

pub mod paths {
    pub const AUTHORIZE: &str = "/authorize";
    pub const TOKEN: &str = "/token";
    pub const USERINFO: &str = "/userinfo";
    pub const JWKS: &str = "/jwks";
    pub const REVOKE: &str = "/revoke";
    /// RFC 7591 registration.
    pub const REGISTER: &str = "/register";
    /// RFC 7592 client configuration (`registration_client_uri`).
    pub const REGISTRATION: &str = "/register/{client_id}";
    pub const INTROSPECT: &str = "/introspect";
    pub const LOGOUT: &str = "/logout";
    pub const CONSENT: &str = "/authorize/consent";
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
}
