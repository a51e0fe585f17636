//! The web layer: server-rendered, accessible, bilingual pages for people.
//!
//! Every page a citizen sees (the passkey pages, and the OpenID Provider's
//! consent and logout pages) goes through this module, so that they share one
//! layout, one language negotiation, one CSRF defence and one error page.
//!
//! # Using it from a handler
//!
//! ```ignore
//! use crate::web::{self, CsrfForm, Page};
//!
//! async fn consent_page(page: Page, State(state): State<AppState>) -> Response {
//!     page.render("consent.html", minijinja::context! { client => "Portail Famille" })
//! }
//!
//! #[derive(serde::Deserialize)]
//! struct Decision { decision: String }
//!
//! // The form's CSRF token was checked before the handler runs; a bad or
//! // missing token is a 403 error page and the handler is never called.
//! async fn consent_post(CsrfForm { page, form }: CsrfForm<Decision>) -> Response { ... }
//! ```
//!
//! - [`Page`] (an extractor) carries the request's [`Locale`], the browser
//!   binding cookie, the CSRF token for forms, and the client address.
//!   [`Page::render`] renders a template with the layout's variables (`lang`,
//!   `t(...)`, `csrf`, `asset(...)`, the language switch link) and sets any
//!   cookie the request needs (the browser cookie on a first visit, the
//!   language when the citizen chose one).
//! - Templates live in `crates/server/templates/`, embedded in the binary at
//!   compile time (`include_str!`), rendered by minijinja with HTML
//!   auto-escaping. Every page extends `base.html` and puts its content in
//!   `{% block content %}`; its script, if any, in `{% block scripts %}` as a
//!   `<script src>` (the CSP is `script-src 'self'`: no inline script).
//!   Add a template to [`templates::TEMPLATES`].
//! - Messages: `t("key")` in templates, [`Page::t`] in Rust; catalogs in
//!   `templates/i18n/{fr,en}.json` (a test checks both have the same keys and
//!   that every key used in a template exists). `t("key", name=value)`
//!   replaces `{name}`.
//! - CSRF: every `<form method="post">` carries
//!   `<input type="hidden" name="csrf" value="{{ csrf }}">`; handlers take
//!   [`CsrfForm<T>`] (forms) or [`CsrfJson<T>`] (JSON, token in the
//!   `X-CSRF-Token` header; pages expose it in `<meta name="csrf-token">`).
//! - [`Page::error`] renders the error page people see (a status, a title, a
//!   sentence saying what to do next).
//!
//! # Why these choices
//!
//! - minijinja over askama: the consent page and the passkey pages are
//!   rendered from one generic `render(name, context)` call that other
//!   handlers can reuse without a Rust type per page; templates are still
//!   compiled into the binary (no file is read at run time) and a unit test
//!   renders every one of them, which catches what askama's compile-time
//!   check would.
//! - CSRF is a signed double-submit token (OWASP): HMAC-SHA256 under a server
//!   key sealed in the database, over the value of a random HttpOnly browser
//!   cookie; compared in constant time. Nothing per form is stored, any node
//!   can check it, and a token from another browser is useless. `Origin` and
//!   `Sec-Fetch-Site`, when the browser sends them, must be same-origin too.
//! - The template environment is built once ([`std::sync::LazyLock`]) from
//!   constant, compiled-in data; there is no configuration in it.
mod assets;
pub mod client_addr;
mod cookies;
mod csrf;
pub mod dates;
mod error;
mod i18n;
mod page;
pub mod privacy;
pub mod templates;

pub use assets::{asset_url, routes as asset_routes};
pub use cookies::{clear_cookie, cookie, set_cookie, single_cookie, RepeatedCookie};
pub use csrf::{CsrfForm, CsrfJson};
pub use error::{render_errors, PageError, PageErrorSpec};
pub use i18n::Locale;
pub use page::Page;

/// The browser cookie: a random value that binds CSRF tokens and WebAuthn
/// ceremonies to one browser. HttpOnly, SameSite=Lax; this name on plain
/// HTTP, [`BROWSER_COOKIE_TLS`] under https (see [`browser_cookie_name`]).
pub const BROWSER_COOKIE: &str = "sqin_browser";
/// The browser cookie under https: `__Host-` (Secure, Path=/, no Domain),
/// so a sibling subdomain cannot plant a binding whose CSRF token it knows.
pub const BROWSER_COOKIE_TLS: &str = "__Host-sqin_browser";
/// The language the citizen chose with the switch link or `ui_locales`.
pub const LANG_COOKIE: &str = "sqin_lang";
/// The staff console's browser cookie (cookies do not separate ports, so
/// the console's has a name of its own).
pub const STAFF_BROWSER_COOKIE: &str = "sqin_staff_browser";
/// The staff console's browser cookie under https.
pub const STAFF_BROWSER_COOKIE_TLS: &str = "__Host-sqin_staff_browser";

/// The browser cookie's name on a surface: `__Host-` when its site is
/// https (`secure`).
pub fn browser_cookie_name(surface: Surface, secure: bool) -> &'static str {
    match (surface, secure) {
        (Surface::Citizen, false) => BROWSER_COOKIE,
        (Surface::Citizen, true) => BROWSER_COOKIE_TLS,
        (Surface::Staff, false) => STAFF_BROWSER_COOKIE,
        (Surface::Staff, true) => STAFF_BROWSER_COOKIE_TLS,
    }
}

/// Which site a request arrived on: the citizens' (the issuer's origin) or
/// the staff console (its own origin). The staff listener's router marks
/// its requests; pages take their origin, cookies and links from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Citizen,
    Staff,
}
