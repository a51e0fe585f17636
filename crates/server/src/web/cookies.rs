//! Cookies: the one parser of the `Cookie` header, and the `Set-Cookie`
//! values sqin sends (HttpOnly, SameSite=Lax, Path=/, Secure under https).
//!
//! The cookies that bind a browser (the session, the browser binding, and
//! the staff console's) are named with the `__Host-` prefix under TLS: a
//! browser then accepts them only with `Secure`, `Path=/` and no `Domain`,
//! set by the host itself, so a sibling subdomain cannot plant one (cookie
//! tossing). On plain HTTP, which the configuration allows for `localhost`
//! (a laptop, the tests) or behind a proxy, they keep their plain names.
//! A request that carries one of them twice is refused: which of the two
//! the browser meant cannot be known, and the one sent first may be the
//! one planted (see [`single_cookie`], docs/passkeys.md).
use axum::http::{header, HeaderMap, HeaderValue};
use axum_extra::extract::cookie::{Cookie, SameSite};

/// The values of the cookie `name` in the request, in the order sent.
fn values<'h>(headers: &'h HeaderMap, name: &'h str) -> impl Iterator<Item = &'h str> + 'h {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(move |(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The value of the cookie `name` in the request, if it has one (the first,
/// for cookies that bind nothing, such as the language).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    values(headers, name).next().map(str::to_owned)
}

/// The request carries a cookie more than once (`Cookie: a=1; a=2`): one
/// of them may have been planted by a sibling subdomain or another site on
/// the same host, and whichever the browser sends first wins elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatedCookie;

/// The value of the cookie `name` when the request carries it once; `None`
/// when it does not; [`RepeatedCookie`] when it carries it more than once,
/// with the same value or not.
pub fn single_cookie(headers: &HeaderMap, name: &str) -> Result<Option<String>, RepeatedCookie> {
    let mut found = values(headers, name);
    let first = found.next().map(str::to_owned);
    if found.next().is_some() {
        return Err(RepeatedCookie);
    }
    Ok(first)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure under https
/// (always for a `__Host-` name), and a lifetime when `max_age_secs` is
/// given (else a browser-session cookie). Never a `Domain`.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age_secs: Option<i64>) -> HeaderValue {
    let secure = secure || name.starts_with("__Host-");
    let mut c = Cookie::build((name.to_owned(), value.to_owned()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/");
    if let Some(secs) = max_age_secs {
        c = c.max_age(time::Duration::seconds(secs));
    }
    HeaderValue::from_str(&c.build().to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// A `Set-Cookie` value that removes a cookie.
pub fn clear_cookie(name: &str, secure: bool) -> HeaderValue {
    set_cookie(name, "", secure, Some(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_lax_and_secure_under_tls() {
        let c = set_cookie("a", "b", true, None);
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        assert!(c.contains("Path=/"));
        let c = set_cookie("a", "b", false, Some(10));
        assert!(!c.to_str().unwrap().contains("Secure"));
        assert!(c.to_str().unwrap().contains("Max-Age=10"));
    }

    #[test]
    fn a_cookie_that_binds_the_browser_is_read_only_when_sent_once() {
        let mut h = HeaderMap::new();
        assert_eq!(single_cookie(&h, "s"), Ok(None));
        h.append(header::COOKIE, HeaderValue::from_static("a=1; s=victim"));
        assert_eq!(single_cookie(&h, "s"), Ok(Some("victim".into())));
        // Tossed: an attacker's cookie of the same name, sent first.
        let mut tossed = HeaderMap::new();
        tossed.append(
            header::COOKIE,
            HeaderValue::from_static("s=attacker; s=victim"),
        );
        assert_eq!(single_cookie(&tossed, "s"), Err(RepeatedCookie));
        // In two headers, or with the same value twice, alike.
        h.append(header::COOKIE, HeaderValue::from_static("s=victim"));
        assert_eq!(single_cookie(&h, "s"), Err(RepeatedCookie));
        // A name that only contains the other is another cookie.
        let mut other = HeaderMap::new();
        other.append(header::COOKIE, HeaderValue::from_static("__Host-s=a; s=b"));
        assert_eq!(single_cookie(&other, "s"), Ok(Some("b".into())));
        assert_eq!(single_cookie(&other, "__Host-s"), Ok(Some("a".into())));
    }

    #[test]
    fn host_cookies_are_secure_host_only_and_path_root() {
        let c = set_cookie("__Host-sqin_session", "v", false, None);
        let c = c.to_str().unwrap();
        assert!(c.contains("Secure") && c.contains("Path=/"), "{c}");
        assert!(!c.to_ascii_lowercase().contains("domain"), "{c}");
    }

    #[test]
    fn the_first_cookie_of_a_name_is_read() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; sqin_session=x"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&h, "sqin_session").as_deref(), Some("x"));
        assert_eq!(cookie(&h, "b").as_deref(), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
