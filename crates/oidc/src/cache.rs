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
