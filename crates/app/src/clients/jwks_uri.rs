//! Fetching the keys a `private_key_jwt` client publishes at its
//! `jwks_uri`, without letting the URI turn sqin into a way into the
//! network it runs in (SSRF): https only; the host resolved first and
//! refused if any address is loopback, private, link-local or otherwise
//! not public (unless the deployment allows private addresses), and the
//! connection pinned to the address checked; no redirects; a short
//! timeout and a size limit. Key sets are cached, and fetched again when
//! an assertion names a `kid` the cached set lacks (at most once per
//! [`MIN_REFRESH_SECS`]).
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use sqin_oidc::remote_jwks::{Fetched, RemoteJwks};
use url::{Host, Url};

/// How long a fetched key set is used without asking again.
pub const CACHE_SECS: i64 = 300;
/// The least time between two fetches of one URI when a `kid` is unknown.
pub const MIN_REFRESH_SECS: i64 = 10;
/// The largest key set read.
pub const MAX_BYTES: usize = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(5);

/// Whether an address is one a public service's keys may live at.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // shared address space (RFC 6598)
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
                || (o[0] == 198 && (18..20).contains(&o[1])) // benchmarking
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
        }
    }
}

/// Checks a `jwks_uri` before it is registered or fetched, and returns the
/// addresses to connect to.
pub async fn check_uri(uri: &str, allow_private: bool) -> Result<(Url, Vec<SocketAddr>), String> {
    let url = Url::parse(uri).map_err(|e| format!("{uri:?} is not a URL: {e}"))?;
    if url.scheme() != "https" {
        return Err(format!("{uri:?} must use https"));
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(format!("{uri:?} must have no credentials and no fragment"));
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(d)) => {
            let lookup = tokio::time::timeout(TIMEOUT, tokio::net::lookup_host((d, port)))
                .await
                .map_err(|_| format!("{d} did not resolve in time"))?
                .map_err(|e| format!("{d} does not resolve: {e}"))?;
            lookup.collect()
        }
        None => return Err(format!("{uri:?} has no host")),
    };
    if addrs.is_empty() {
        return Err(format!("{uri:?} resolves to no address"));
    }
    if !allow_private {
        if let Some(a) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(format!(
                "{uri:?} resolves to {} which is not a public address (loopback, private or link-local addresses are refused)",
                a.ip()
            ));
        }
    }
    Ok((url, addrs))
}

struct Cached {
    set: Arc<JwkSet>,
    fetched_at: i64,
}

/// The provider's [`RemoteJwks`]: checked fetches and a small cache.
pub struct JwksFetcher {
    allow_private: bool,
    extra_roots: Vec<reqwest::Certificate>,
    cache: Mutex<HashMap<String, Cached>>,
}

impl std::fmt::Debug for JwksFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksFetcher")
            .field("allow_private", &self.allow_private)
            .finish_non_exhaustive()
    }
}

impl JwksFetcher {
    /// `allow_private` lets keys live on private addresses (an internal
    /// network's ministries); `extra_roots` are CA certificates (PEM)
    /// trusted besides the system's, for an internal PKI.
    pub fn new(allow_private: bool, extra_roots_pem: Option<&[u8]>) -> Result<Self, String> {
        let extra_roots = match extra_roots_pem {
            Some(pem) => reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| format!("the CA file for jwks_uri is not PEM certificates: {e}"))?,
            None => Vec::new(),
        };
        Ok(Self {
            allow_private,
            extra_roots,
            cache: Mutex::new(HashMap::new()),
        })
    }

    pub fn allows_private(&self) -> bool {
        self.allow_private
    }

    fn cached(&self, uri: &str, now: i64, refresh: bool) -> Option<Arc<JwkSet>> {
        let map = self.cache.lock().ok()?;
        let c = map.get(uri)?;
        let age = now - c.fetched_at;
        let fresh = if refresh {
            age < MIN_REFRESH_SECS
        } else {
            age < CACHE_SECS
        };
        fresh.then(|| c.set.clone())
    }

    async fn download(&self, uri: &str) -> Result<JwkSet, String> {
        let (url, addrs) = check_uri(uri, self.allow_private).await?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let mut builder = reqwest::Client::builder()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .user_agent("sqin (jwks_uri)");
        // Connect to the addresses checked, not to a second resolution.
        if let Some(first) = addrs.first() {
            builder = builder.resolve(&host, *first);
        }
        for root in &self.extra_roots {
            builder = builder.add_root_certificate(root.clone());
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        let mut response = client
            .get(url)
            .header(
                reqwest::header::ACCEPT,
                "application/json, application/jwk-set+json",
            )
            .send()
            .await
            .map_err(|e| format!("fetching {uri} failed: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{uri} answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("reading {uri} failed: {e}"))?
        {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(format!("{uri} is larger than {MAX_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        let set: JwkSet =
            serde_json::from_slice(&body).map_err(|e| format!("{uri} is not a JWK set: {e}"))?;
        if set.keys.is_empty() {
            return Err(format!("{uri} holds no key"));
        }
        Ok(set)
    }
}

impl RemoteJwks for JwksFetcher {
    fn fetch<'a>(&'a self, uri: &'a str, refresh: bool, now: i64) -> Fetched<'a> {
        Box::pin(async move {
            if let Some(set) = self.cached(uri, now, refresh) {
                return Ok(set);
            }
            let set = Arc::new(self.download(uri).await?);
            if let Ok(mut map) = self.cache.lock() {
                if map.len() > 1000 {
                    map.clear();
                }
                map.insert(
                    uri.to_owned(),
                    Cached {
                        set: set.clone(),
                        fetched_at: now,
                    },
                );
            }
            tracing::info!(jwks_uri = %uri, keys = set.keys.len(), "client keys fetched");
            Ok(set)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "132.203.1.1", "2607:f8b0::1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn uris_are_checked_before_any_connection() {
        for (uri, why) in [
            ("http://keys.example/jwks", "https"),
            ("https://127.0.0.1/jwks", "not a public address"),
            ("https://[::1]/jwks", "not a public address"),
            ("https://10.0.0.5/jwks", "not a public address"),
            ("https://169.254.169.254/latest", "not a public address"),
            ("https://localhost/jwks", "not a public address"),
            ("https://u:p@keys.example/jwks", "credentials"),
        ] {
            let err = check_uri(uri, false).await.unwrap_err();
            assert!(err.contains(why), "{uri}: {err}");
        }
        assert!(check_uri("https://127.0.0.1:9/jwks", true).await.is_ok());
    }
}
