//! Keys that a `private_key_jwt` client publishes at its `jwks_uri`: the
//! provider asks for them through this trait, so the protocol code knows
//! nothing of HTTP, and the application decides how they are fetched
//! (safely: see `sqin_app::clients::jwks_uri`).
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use jsonwebtoken::jwk::JwkSet;

/// What fetching a key set can answer.
pub type Fetched<'a> = Pin<Box<dyn Future<Output = Result<Arc<JwkSet>, String>> + Send + 'a>>;

pub trait RemoteJwks: Send + Sync {
    /// The key set at `uri`, from a cache unless `refresh` (a `kid` the
    /// cached set lacks: the client may have rotated its keys).
    fn fetch<'a>(&'a self, uri: &'a str, refresh: bool, now: i64) -> Fetched<'a>;
}

/// For a provider that has no way to fetch keys (tests of other parts):
/// every fetch fails.
#[derive(Debug, Default)]
pub struct NoRemoteJwks;

impl RemoteJwks for NoRemoteJwks {
    fn fetch<'a>(&'a self, uri: &'a str, _refresh: bool, _now: i64) -> Fetched<'a> {
        Box::pin(async move { Err(format!("keys at {uri} cannot be fetched here")) })
    }
}
