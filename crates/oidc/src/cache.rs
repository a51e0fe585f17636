//! Small in-memory caches for the token endpoint's hot path.
//!
//! Both are per node and bounded. Neither can make something valid that is
//! not: the client cache holds registrations for a few seconds (so a secret
//! rotation or a removal reaches every node within `ttl` seconds), and the
//! verified-token cache only remembers that a signature was checked; expiry,
//! revocation and grant liveness are still checked on every use.
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde_json::{Map, Value};
use sqin_store::clients::{self, ClientRecord};
use sqin_store::LazyConnection;

const MAX_ENTRIES: usize = 10_000;

pub struct ClientCache {
    ttl: i64,
    entries: RwLock<HashMap<String, (Arc<ClientRecord>, i64)>>,
}

impl ClientCache {
    /// `ttl` seconds; 0 disables caching (every lookup reads the database).
    pub fn new(ttl: i64) -> Self {
        Self {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// Drops this node's copy of a client that just changed (other nodes
    /// see the change when their copy expires).
    pub fn forget(&self, client_id: &str) {
        if let Ok(mut map) = self.entries.write() {
            map.remove(client_id);
        }
    }

    pub async fn get(
        &self,
        conn: &mut LazyConnection,
        client_id: &str,
        now: i64,
    ) -> Result<Option<Arc<ClientRecord>>, sqin_store::StoreError> {
        if self.ttl > 0 {
            if let Ok(map) = self.entries.read() {
                if let Some((record, fetched)) = map.get(client_id) {
                    if now - fetched < self.ttl {
                        return Ok(Some(record.clone()));
                    }
                }
            }
        }
        let fetched = clients::get(conn.get().await?, client_id)
            .await?
            .map(Arc::new);
        if self.ttl > 0 {
            if let (Some(record), Ok(mut map)) = (&fetched, self.entries.write()) {
                if map.len() >= MAX_ENTRIES {
                    map.clear();
                }
                map.insert(client_id.to_owned(), (record.clone(), now));
            }
        }
        Ok(fetched)
    }
}

impl std::fmt::Debug for ClientCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCache")
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// Remembers tokens whose ES256 signature this node already verified, keyed
/// by the token's SHA-256: a resource server introspecting the same token
/// many times pays for one signature check.
/// A verified token's claims.
pub type Claims = Arc<Map<String, Value>>;

#[derive(Default)]
pub struct VerifiedTokens {
    entries: RwLock<HashMap<[u8; 32], Claims>>,
}

impl VerifiedTokens {
    pub fn get(&self, token_hash: &[u8; 32]) -> Option<Claims> {
        self.entries.read().ok()?.get(token_hash).cloned()
    }

    pub fn insert(&self, token_hash: [u8; 32], claims: Claims) {
        if let Ok(mut map) = self.entries.write() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(token_hash, claims);
        }
    }
}

impl std::fmt::Debug for VerifiedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifiedTokens")
    }
}

/// This node's copy of the revoked access-token ids, refreshed from the
/// database every second by the server, so that checking a token's
/// revocation on every use costs no database round trip. A revocation made
/// on this node is in the set at once; one made on another node arrives
/// within the refresh interval (the propagation window RFC 7009 2.2 allows
/// and asks to keep short). When the copy is older than `max_age` seconds
/// (the refresher stopped, the database is unreachable), callers fall back to
/// the database.
pub struct RevokedAccessTokens {
    max_age: i64,
    state: RwLock<RevokedState>,
}

#[derive(Default)]
struct RevokedState {
    /// The database's list at the last refresh.
    loaded: std::collections::HashSet<String>,
    loaded_at: Option<i64>,
    /// Revocations made on this node, with when: kept across refreshes for
    /// a few seconds, so a refresh that read the database just before such a
    /// revocation committed cannot drop it.
    local: HashMap<String, i64>,
}

impl RevokedAccessTokens {
    pub fn new(max_age: i64) -> Self {
        Self {
            max_age,
            state: RwLock::new(RevokedState::default()),
        }
    }

    /// `Some(revoked)` from a fresh copy; `None` when the copy is stale.
    pub fn check(&self, jti: &str, now: i64) -> Option<bool> {
        let state = self.state.read().ok()?;
        if state.local.contains_key(jti) {
            return Some(true);
        }
        match state.loaded_at {
            Some(loaded) if now - loaded <= self.max_age => Some(state.loaded.contains(jti)),
            _ => None,
        }
    }

    pub fn insert(&self, jti: &str, now: i64) {
        if let Ok(mut state) = self.state.write() {
            state.local.insert(jti.to_owned(), now);
        }
    }

    /// Replaces the copy with the database's list, read at `loaded_at`.
    pub fn replace(&self, jtis: std::collections::HashSet<String>, loaded_at: i64) {
        if let Ok(mut state) = self.state.write() {
            state.loaded = jtis;
            state.loaded_at = Some(loaded_at);
            let keep_after = loaded_at - 5;
            state.local.retain(|_, at| *at >= keep_after);
        }
    }
}

impl Default for RevokedAccessTokens {
    fn default() -> Self {
        Self::new(3)
    }
}

impl std::fmt::Debug for RevokedAccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RevokedAccessTokens")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoked_copy_is_used_only_while_fresh_and_keeps_local_revocations() {
        let r = RevokedAccessTokens::new(3);
        assert_eq!(r.check("a", 100), None, "never loaded: ask the database");
        r.replace(["a".to_owned()].into_iter().collect(), 100);
        assert_eq!(r.check("a", 101), Some(true));
        assert_eq!(r.check("b", 101), Some(false));
        assert_eq!(r.check("b", 104), None, "stale");
        // A local revocation survives a refresh that did not see it yet.
        r.insert("c", 105);
        r.replace(Default::default(), 105);
        assert_eq!(r.check("c", 106), Some(true));
        r.replace(Default::default(), 120);
        assert_eq!(
            r.check("c", 120),
            Some(false),
            "the database is the truth after a while"
        );
    }
}
