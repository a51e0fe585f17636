//! Which address a request comes from, when sqin may sit behind reverse
//! proxies (the `trusted_proxies` setting).
//!
//! Per-address rate limits (enrolment code attempts, passkey ceremonies) key
//! on this address. Behind a load balancer the TCP peer is the balancer for
//! every citizen, so one attacker would exhaust everyone's budget; the
//! balancer says who its client was in `X-Forwarded-For`. But that header is
//! whatever the client wrote plus what each proxy appended, so it is believed
//! only as far as it was written by proxies the operator named.
//!
//! Only `X-Forwarded-For` is read; the RFC 7239 `Forwarded` header is
//! ignored on purpose. The common proxies (nginx `$proxy_add_x_forwarded_for`,
//! HAProxy `option forwardfor`, Envoy, Traefik, cloud load balancers) can all
//! append to `X-Forwarded-For`, and many pass a client's `Forwarded` header
//! through untouched: reading both would let a client write the header its
//! proxy does not rewrite and choose its own address.
use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::{IpNet, Ipv4Net};

/// The networks whose connections may say, in `X-Forwarded-For`, on whose
/// behalf they connect. Empty (the default): no one, the TCP peer is the
/// client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `trusted_proxies` entries: networks in CIDR form
    /// (`10.0.0.0/8`, `2001:db8::/32`), or bare addresses for one host. The
    /// error names the entry that is wrong.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, String> {
        entries
            .iter()
            .map(|e| parse_network(e.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `addr` is one of the trusted proxies (IPv4-mapped IPv6
    /// addresses count as the IPv4 address they carry).
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.0.iter().any(|net| net.contains(&addr))
    }
}

fn parse_network(entry: &str) -> Result<IpNet, String> {
    let text = entry.trim();
    let net = match text.parse::<IpNet>() {
        Ok(net) => net,
        Err(_) => match text.parse::<IpAddr>() {
            Ok(addr) => IpNet::from(addr.to_canonical()),
            Err(_) => {
                return Err(format!(
                    "`{entry}` is not an IP network in CIDR form (such as 10.0.0.0/8 or 2001:db8::/32) nor an IP address"
                ))
            }
        },
    };
    if net.prefix_len() == 0 {
        // Trusting every address lets every client choose the address its
        // rate limits count against, which is no limit at all.
        return Err(format!(
            "`{entry}` would trust every address, so any client could choose its own; name the proxies' networks"
        ));
    }
    Ok(ipv4_mapped_as_ipv4(net))
}

/// `::ffff:10.0.0.0/104` is `10.0.0.0/8`: addresses are compared in their
/// canonical form, so networks must be too.
fn ipv4_mapped_as_ipv4(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net {
        if v6.prefix_len() >= 96 {
            if let Some(v4) = v6.network().to_ipv4_mapped() {
                if let Ok(v4net) = Ipv4Net::new(v4, v6.prefix_len() - 96) {
                    return IpNet::V4(v4net);
                }
            }
        }
    }
    net
}

/// One `X-Forwarded-For` entry: an address, possibly with a port
/// (`192.0.2.1:80`, `[2001:db8::1]:4711`) or in brackets (`[2001:db8::1]`).
/// Anything else (`unknown`, an obfuscated name, a host name) is `None`.
fn parse_entry(entry: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(entry).ok()?.trim_matches([' ', '\t']);
    let addr = text
        .parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            text.strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<std::net::Ipv6Addr>().ok())
                .map(IpAddr::V6)
        })?;
    Some(addr.to_canonical())
}

/// The client's address, the one rate limits count against.
///
/// - The TCP peer is not a trusted proxy: the peer is the client, and any
///   `X-Forwarded-For` is ignored (the client wrote it).
/// - The peer is trusted: `X-Forwarded-For` (every instance of the header,
///   in order, comma-separated) is read from right to left, the order in
///   which proxies appended to it, skipping entries that are trusted proxies
///   themselves. The first entry that is not is the client: everything to
///   its right was written by proxies we trust; everything to its left was
///   written by the client, and is never even parsed.
/// - Otherwise the peer is the client: when the header is absent or empty,
///   when an entry reached before any untrusted one cannot be read, or when
///   every entry is a trusted proxy. This is the conservative choice: the
///   left-most entry would be an address the request itself names, which a
///   misconfigured proxy (one that passes the header on instead of
///   appending to it) would let any client choose, rotating through
///   addresses to escape its limits; the peer is an address no client
///   chooses. At worst such requests share the proxy's budget.
///
/// Addresses are returned in canonical form (`::ffff:192.0.2.1` is
/// `192.0.2.1`), so one client has one budget whichever way it is written.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let entries = headers
        .get_all("x-forwarded-for")
        .iter()
        .rev()
        .flat_map(|value| value.as_bytes().rsplit(|b| *b == b','));
    for entry in entries {
        if entry.iter().all(|b| matches!(b, b' ' | b'\t')) {
            // Empty list elements are allowed (RFC 9110 section 5.6.1).
            continue;
        }
        match parse_entry(entry) {
            Some(addr) if trusted.contains(addr) => continue,
            Some(addr) => return addr,
            None => return peer,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn trusted(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(entries).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn resolve(peer: &str, values: &[&str], proxies: &[&str]) -> IpAddr {
        client_addr(ip(peer), &xff(values), &trusted(proxies))
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        assert_eq!(
            resolve("203.0.113.9", &["198.51.100.1"], &["10.0.0.0/8"]),
            ip("203.0.113.9")
        );
        // With no trusted proxies at all (the default), the header is never read.
        assert_eq!(resolve("10.0.0.1", &["198.51.100.1"], &[]), ip("10.0.0.1"));
        let mut h = xff(&["198.51.100.1"]);
        h.append("forwarded", HeaderValue::from_static("for=198.51.100.2"));
        assert_eq!(
            client_addr(ip("203.0.113.9"), &h, &trusted(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_trusted_peer_names_the_right_most_untrusted_entry() {
        // The client wrote the first two entries; the proxy appended the third.
        assert_eq!(
            resolve(
                "10.0.0.1",
                &["1.1.1.1, 2.2.2.2, 198.51.100.7"],
                &["10.0.0.0/8"]
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            resolve("127.0.0.1", &["198.51.100.7"], &["127.0.0.1"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_through() {
        // client -> edge proxy (10.0.0.5) -> inner proxy (10.0.0.6) -> sqin,
        // over several header instances.
        let proxies = &["10.0.0.0/24", "192.168.1.1"];
        assert_eq!(
            resolve(
                "10.0.0.6",
                &["6.6.6.6, 198.51.100.7", "192.168.1.1,10.0.0.5"],
                proxies
            ),
            ip("198.51.100.7")
        );
        // Every entry a trusted proxy: the peer, not the left-most entry.
        assert_eq!(
            resolve("10.0.0.6", &["10.0.0.4, 10.0.0.5"], proxies),
            ip("10.0.0.6")
        );
        // A proxy outside the list stops the walk: it is the client.
        assert_eq!(
            resolve("10.0.0.6", &["198.51.100.7, 172.16.0.1"], proxies),
            ip("172.16.0.1")
        );
    }

    #[test]
    fn garbage_falls_back_to_the_peer() {
        let proxies = &["10.0.0.0/8"];
        for garbage in [
            "",
            " , ,",
            "unknown",
            "_hidden",
            "example.org",
            "198.51.100.7 garbage",
            "1.2.3.4.5",
            "fe80::1%eth0",
            "198.51.100.7, 10.0.0.2, not-an-address",
        ] {
            assert_eq!(
                resolve("10.0.0.1", &[garbage], proxies),
                ip("10.0.0.1"),
                "{garbage:?}"
            );
        }
        // No header at all.
        assert_eq!(resolve("10.0.0.1", &[], proxies), ip("10.0.0.1"));
        // Garbage the client wrote, left of the proxy's entry, is never read.
        assert_eq!(
            resolve("10.0.0.1", &["unknown, ;;, 198.51.100.7"], proxies),
            ip("198.51.100.7")
        );
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"\xff\xfe, 198.51.100.7").unwrap(),
        );
        assert_eq!(
            client_addr(ip("10.0.0.1"), &h, &trusted(proxies)),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn ipv6_and_ipv4_mapped_addresses() {
        let proxies = &["2001:db8:ffff::/48", "127.0.0.1/32"];
        assert_eq!(
            resolve("2001:db8:ffff::1", &["2001:db8::42"], proxies),
            ip("2001:db8::42")
        );
        // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d.
        assert_eq!(
            resolve("::ffff:127.0.0.1", &["198.51.100.7"], proxies),
            ip("198.51.100.7")
        );
        assert_eq!(
            resolve("::ffff:203.0.113.9", &["198.51.100.7"], proxies),
            ip("203.0.113.9")
        );
        assert_eq!(
            resolve("127.0.0.1", &["::ffff:198.51.100.7"], proxies),
            ip("198.51.100.7")
        );
        // A mapped trusted entry is skipped like the IPv4 address it is.
        assert_eq!(
            resolve("127.0.0.1", &["198.51.100.7, ::ffff:127.0.0.1"], proxies),
            ip("198.51.100.7")
        );
        // Trusted networks written in mapped form are their IPv4 network.
        assert_eq!(
            resolve("10.1.2.3", &["198.51.100.7"], &["::ffff:10.0.0.0/104"]),
            ip("198.51.100.7")
        );
        assert!(trusted(&["::ffff:10.0.0.0/104"]).contains(ip("::ffff:10.200.0.1")));
        assert!(!trusted(&["::ffff:10.0.0.0/104"]).contains(ip("11.0.0.1")));
    }

    #[test]
    fn ports_and_brackets_are_stripped() {
        let proxies = &["10.0.0.0/8", "2001:db8:ffff::/48"];
        for (entry, want) in [
            ("192.0.2.1:80", "192.0.2.1"),
            ("[2001:db8::1]:4711", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("  192.0.2.1:80\t", "192.0.2.1"),
            ("[::ffff:192.0.2.1]:443", "192.0.2.1"),
        ] {
            assert_eq!(
                resolve("10.0.0.1", &[entry], proxies),
                ip(want),
                "{entry:?}"
            );
        }
        // A trusted proxy with a port is still skipped.
        assert_eq!(
            resolve(
                "10.0.0.1",
                &["192.0.2.1, 10.0.0.2:8080, [2001:db8:ffff::9]:443"],
                proxies
            ),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn networks_parse_and_bad_entries_are_named() {
        let t = trusted(&["10.0.0.0/8", "192.0.2.7", " ::1/128 ", "2001:db8::1"]);
        assert!(t.contains(ip("10.255.0.1")));
        assert!(t.contains(ip("192.0.2.7")));
        assert!(!t.contains(ip("192.0.2.8")));
        assert!(t.contains(ip("::1")));
        assert!(t.contains(ip("2001:db8::1")));
        assert!(!t.contains(ip("2001:db8::2")));
        assert!(TrustedProxies::parse::<&str>(&[]).unwrap().is_empty());
        for bad in [
            "10.0.0.0/33",
            "proxy.internal",
            "",
            "10.0.0.0/8,10.1.0.0/16",
            "0.0.0.0/0",
            "::/0",
        ] {
            let err = TrustedProxies::parse(&["127.0.0.1", bad]).unwrap_err();
            assert!(err.contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn the_configuration_refuses_a_bad_entry_by_key_and_value() {
        let config = crate::config::Config {
            trusted_proxies: vec!["10.0.0.0/8".into(), "10.0.0.300".into()],
            ..Default::default()
        };
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("`trusted_proxies`"), "{err}");
        assert!(err.contains("10.0.0.300"), "{err}");
        crate::config::Config {
            trusted_proxies: vec!["10.0.0.0/8".into(), "::1".into()],
            ..Default::default()
        }
        .validate()
        .unwrap();
    }
}
