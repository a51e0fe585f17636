//! The per-request page context and rendering.
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use minijinja::value::{Kwargs, Value};
use sqin_crypto::HmacKey;

use super::client_addr::client_addr;
use super::i18n::{self, Locale};
use super::templates::ENV;
use super::{browser_cookie_name, set_cookie, single_cookie, Surface, LANG_COOKIE};
use crate::state::AppState;

/// What every page needs to know about the request; see the module doc.
#[derive(Clone)]
pub struct Page {
    pub locale: Locale,
    /// The client's address, what per-address rate limits count: the TCP
    /// peer, or the client a trusted reverse proxy names (see
    /// [`super::client_addr::client_addr`]).
    pub client: IpAddr,
    browser: String,
    /// The browser cookie's name on this surface.
    browser_cookie: &'static str,
    new_browser: bool,
    chosen_lang: Option<Locale>,
    secure: bool,
    switch_url: String,
    same_origin: bool,
    csrf_key: HmacKey,
    /// The time zone times are shown in (the deployment's `time_zone`).
    time_zone: std::sync::Arc<str>,
    /// The site's name and its public body in this language, for the
    /// layout (the configuration's `deployment`).
    site_name: String,
    public_body: Option<String>,
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("locale", &self.locale)
            .finish_non_exhaustive()
    }
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default()
}

fn looks_like_token(v: &str) -> bool {
    v.len() == 43
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether the request comes from our own pages, as far as the browser says:
/// `Sec-Fetch-Site` (when sent) is same-origin or none, and `Origin` (when
/// sent and not "null") is the issuer's origin. Clients that send neither (apps, tests) are
/// judged by the CSRF token alone.
fn same_origin(headers: &HeaderMap, issuer_origin: &str) -> bool {
    let site_ok = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| matches!(v, "same-origin" | "none"));
    // Under `Referrer-Policy: no-referrer` browsers send `Origin: null` with
    // form posts, so "null" says nothing either way.
    let origin_ok = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v == "null" || v == issuer_origin);
    site_ok && origin_ok
}

impl FromRequestParts<AppState> for Page {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Made once per request by the pages' layer (`render_errors`).
        if let Some(page) = parts.extensions.get::<Page>() {
            return Ok(page.clone());
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let query = query_pairs(parts.uri.query());
        let param = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let chosen_lang = param("ui_locales")
            .and_then(Locale::from_ui_locales)
            .or_else(|| param("lang").and_then(Locale::parse));
        let locale = chosen_lang
            .or_else(|| jar.get(LANG_COOKIE).and_then(|c| Locale::parse(c.value())))
            .or_else(|| {
                parts
                    .headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Locale::from_accept_language)
            })
            .unwrap_or(Locale::Fr);
        let surface = parts
            .extensions
            .get::<Surface>()
            .copied()
            .unwrap_or(Surface::Citizen);
        let site = match surface {
            Surface::Citizen => &state.config.issuer,
            Surface::Staff => &state.config.staff_url,
        };
        let secure = site.scheme() == "https";
        let browser_cookie = browser_cookie_name(surface, secure);
        // A binding sent twice binds nothing (one may be planted): the
        // request is a new browser's, so its forms fail their CSRF check.
        let (browser, new_browser) = match single_cookie(&parts.headers, browser_cookie) {
            Ok(Some(v)) if looks_like_token(&v) => (v, false),
            _ => match sqin_crypto::random_token() {
                Ok(t) => (t.expose().to_owned(), true),
                // No randomness: a page still renders; its forms will fail
                // their CSRF check rather than share a predictable value.
                Err(_) => (String::new(), false),
            },
        };
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let client = client_addr(peer, &parts.headers, &state.trusted_proxies);
        // The language switch: the same page in the other language, when the
        // page is a GET (a page shown after a POST switches on the account page).
        let other = locale.other().tag();
        let switch_url = if parts.method == Method::GET {
            let mut kept: Vec<(String, String)> = query
                .iter()
                .filter(|(k, _)| k != "lang" && k != "ui_locales")
                .cloned()
                .collect();
            kept.push(("lang".into(), other.into()));
            format!(
                "{}?{}",
                parts.uri.path(),
                serde_urlencoded::to_string(&kept).unwrap_or_default()
            )
        } else {
            match surface {
                Surface::Citizen => format!("/account?lang={other}"),
                Surface::Staff => format!("/?lang={other}"),
            }
        };
        let issuer_origin = site.origin().ascii_serialization();
        Ok(Page {
            locale,
            client,
            browser,
            browser_cookie,
            new_browser,
            chosen_lang,
            secure,
            switch_url,
            same_origin: same_origin(&parts.headers, &issuer_origin),
            csrf_key: state.csrf_key.clone(),
            time_zone: state.config.time_zone.as_str().into(),
            site_name: super::privacy::site_name(&state.config.deployment, locale),
            public_body: super::privacy::public_body(&state.config.deployment, locale),
        })
    }
}

impl Page {
    /// The browser binding, for WebAuthn ceremonies.
    pub fn browser(&self) -> sqin_webauthn::Browser<'_> {
        sqin_webauthn::Browser(&self.browser)
    }

    /// Whether the issuer is https (cookies get `Secure`).
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// The CSRF token for this browser's forms.
    pub fn csrf_token(&self) -> String {
        super::csrf::token(&self.csrf_key, &self.browser)
    }

    /// Checks a presented CSRF token (and the browser's same-origin signals).
    pub fn csrf_ok(&self, presented: Option<&str>) -> bool {
        !self.new_browser
            && !self.browser.is_empty()
            && self.same_origin
            && presented.is_some_and(|p| super::csrf::verify(&self.csrf_key, &self.browser, p))
    }

    /// The time zone this page shows times in.
    pub fn time_zone(&self) -> &str {
        &self.time_zone
    }

    /// A message in this page's language.
    pub fn t(&self, key: &str) -> String {
        i18n::message(self.locale, key)
    }

    /// Adds the cookies this request needs: the browser cookie on a first
    /// visit, the language when the citizen picked one.
    pub fn finish(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        if self.new_browser {
            headers.append(
                header::SET_COOKIE,
                set_cookie(self.browser_cookie, &self.browser, self.secure, None),
            );
        }
        if let Some(lang) = self.chosen_lang {
            headers.append(
                header::SET_COOKIE,
                set_cookie(LANG_COOKIE, lang.tag(), self.secure, Some(365 * 86_400)),
            );
        }
        headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(self.locale.tag()),
        );
        response
    }

    fn base_context(&self) -> Value {
        let locale = self.locale;
        let t = Value::from_function(move |key: &str, kwargs: Kwargs| {
            let mut text = i18n::message(locale, key);
            for arg in kwargs.args() {
                let value: Value = kwargs.get(arg)?;
                text = text.replace(&format!("{{{arg}}}"), &value.to_string());
            }
            Ok::<_, minijinja::Error>(text)
        });
        minijinja::context! {
            lang => locale.tag(),
            other_lang => locale.other().tag(),
            switch_url => self.switch_url,
            csrf => self.csrf_token(),
            site_name => self.site_name,
            public_body => self.public_body,
            t => t,
            tz => &*self.time_zone,
        }
    }

    /// Renders a template with status 200.
    pub fn render(&self, template: &str, context: Value) -> Response {
        self.render_status(StatusCode::OK, template, context)
    }

    /// Renders a template: the layout's variables merged with `context`.
    pub fn render_status(&self, status: StatusCode, template: &str, context: Value) -> Response {
        let ctx = minijinja::context! { ..context, ..self.base_context() };
        let rendered = ENV.get_template(template).and_then(|t| t.render(ctx));
        match rendered {
            Ok(html) => self.finish((status, Html(html)).into_response()),
            Err(e) => {
                tracing::error!(template, error = %format!("{e:#}"), "template failed to render");
                self.finish(
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                        "Erreur interne / Internal error",
                    )
                        .into_response(),
                )
            }
        }
    }

    /// The error page: a title and a sentence saying what to do next, both
    /// message keys.
    pub fn error(&self, status: StatusCode, title_key: &str, body_key: &str) -> Response {
        self.render_status(
            status,
            "error.html",
            minijinja::context! {
                status => status.as_u16(),
                title_key => title_key,
                body_key => body_key,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_signals() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h, "http://localhost:8080"));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://localhost:8080"),
        );
        assert!(same_origin(&h, "http://localhost:8080"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h, "http://localhost:8080"));
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h, "http://localhost:8080"));
    }
}
