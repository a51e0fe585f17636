//! A ministry's web service that signs citizens in through sqin, speaking
//! OpenID Connect only (this crate depends on no sqin crate).
//!
//! With the [`Profile::Family`] profile it is the Family ministry's portal
//! ("apply for a childcare allowance": a form pre-filled from the claims it
//! receives, and the citizen's applications); with [`Profile::Revenue`] it is
//! a revenue office that asks for the name alone. Both:
//!
//! - discover the provider, run the code flow with PKCE S256, `state` and
//!   `nonce`, validate the ID token, call userinfo ([`rp`]);
//! - keep their own session (cookie `HttpOnly`, `SameSite=Lax`, `Secure`
//!   under https), server-side, in memory;
//! - log out through the provider (RP-initiated logout with `id_token_hint`,
//!   `post_logout_redirect_uri` and `state`);
//! - accept back-channel logout tokens at `/backchannel-logout`
//!   ([`logout_token`]) and end the matching sessions.
//!
//! Records are keyed on the pairwise `sub` (with the issuer), never on a
//! claim: that is what the integrator's guide asks of every ministry.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod logout_token;
mod pages;
pub use pages::Lang;
pub mod rp;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use openidconnect::CsrfToken;
use serde::Deserialize;
use tokio::task::JoinHandle;

use crate::rp::{Identity, PendingLogin, PortalIdToken, RelyingParty};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration: {0}")]
    Config(String),
    #[error("identity provider: {0}")]
    Provider(String),
}

/// Which service this is: its names, look and the scopes it asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// The Family ministry: childcare allowance; name, birthdate, address.
    Family,
    /// A revenue office: the name alone.
    Revenue,
}

impl Profile {
    pub fn default_scopes(self) -> &'static str {
        match self {
            Profile::Family => "openid profile birthdate address",
            Profile::Revenue => "openid profile",
        }
    }

    /// The claims this service's purpose needs, registered with the
    /// provider as narrower than its scopes (`profile` also carries
    /// `locale`, which neither service needs). As `pia/inventory.toml`
    /// declares them.
    pub fn registered_claims(self) -> &'static str {
        match self {
            Profile::Family => "name given_name family_name birthdate address",
            Profile::Revenue => "name given_name family_name",
        }
    }

    /// Used in cookie names, so two services on one host never collide.
    pub fn slug(self) -> &'static str {
        match self {
            Profile::Family => "famille",
            Profile::Revenue => "revenu",
        }
    }

    pub fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Profile::Family, Lang::Fr) => "Ministère de la Famille (démo)",
            (Profile::Family, Lang::En) => "Family Ministry (demo)",
            (Profile::Revenue, Lang::Fr) => "Bureau du revenu (démo)",
            (Profile::Revenue, Lang::En) => "Revenue Office (demo)",
        }
    }

    /// Why it asks, in one language (the purposes of its entry in sqin's
    /// register of relying parties, pia/inventory.toml).
    pub fn purpose(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Profile::Family, Lang::Fr) => "Demander une allocation pour la garde d'enfants",
            (Profile::Family, Lang::En) => "Apply for a childcare allowance",
            (Profile::Revenue, Lang::Fr) => {
                "Se connecter pour produire et suivre sa déclaration de revenus"
            }
            (Profile::Revenue, Lang::En) => "Sign in to file and follow one's income tax return",
        }
    }
}

/// How a portal is configured (the binary reads it from the command line
/// or `PORTAL_*` variables).
#[derive(Clone, Debug)]
pub struct PortalConfig {
    pub profile: Profile,
    /// The provider's issuer, e.g. `http://localhost:8080`.
    pub issuer: url::Url,
    pub client_id: String,
    pub client_secret: String,
    /// Where browsers reach this service, e.g. `http://localhost:8081`; the
    /// redirect URI is `PUBLIC/callback`, the post-logout URI
    /// `PUBLIC/logged-out`, the back-channel logout URI
    /// `PUBLIC/backchannel-logout`.
    pub public_url: url::Url,
    /// Overrides the profile's scopes (space-separated, with `openid`).
    pub scopes: Option<String>,
}

impl PortalConfig {
    pub fn redirect_uri(&self) -> String {
        format!("{}/callback", self.base())
    }
    pub fn post_logout_redirect_uri(&self) -> String {
        format!("{}/logged-out", self.base())
    }
    pub fn backchannel_logout_uri(&self) -> String {
        format!("{}/backchannel-logout", self.base())
    }
    fn base(&self) -> &str {
        self.public_url.as_str().trim_end_matches('/')
    }
    fn scopes(&self) -> Vec<String> {
        self.scopes
            .as_deref()
            .unwrap_or(self.profile.default_scopes())
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }
}

/// A signed-in citizen, on this service.
struct Session {
    identity: Identity,
    id_token: PortalIdToken,
    /// Guards this session's forms.
    form_token: String,
}

/// A childcare-allowance application (synthetic: kept in memory).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Application {
    pub number: String,
    pub child_name: String,
    pub child_birthdate: String,
    pub care: String,
    pub submitted_at: u64,
}

#[derive(Default)]
struct Memory {
    pending: HashMap<String, PendingLogin>,
    sessions: HashMap<String, Session>,
    /// Keyed on `sub` (the issuer is fixed per portal): never on a name.
    applications: HashMap<String, Vec<Application>>,
    next_number: u64,
    /// Back-channel logouts received (sid or sub), newest last, for tests
    /// and the operator.
    backchannel_log: Vec<String>,
}

struct Inner {
    config: PortalConfig,
    rp: RelyingParty,
    logout_tokens: logout_token::LogoutTokenValidator,
    memory: Mutex<Memory>,
}

#[derive(Clone)]
pub struct Portal(Arc<Inner>);

/// A pending login lives this long (the citizen may enrol in between).
const LOGIN_TTL: Duration = Duration::from_secs(15 * 60);

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn random_token() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    // SystemRandom only fails when the OS has no randomness; a session id
    // must then not be made at all.
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).is_err() {
        return String::new();
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Portal {
    pub fn new(config: PortalConfig) -> Result<Portal, Error> {
        // Never follow redirects on back-channel calls (SSRF), and give up
        // rather than hang a browser's request.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        let rp = RelyingParty::new(
            &config.issuer,
            &config.client_id,
            &config.client_secret,
            &config.public_url,
            config.scopes(),
            http,
        )?;
        Ok(Portal(Arc::new(Inner {
            config,
            rp,
            logout_tokens: Default::default(),
            memory: Mutex::new(Memory::default()),
        })))
    }

    pub fn config(&self) -> &PortalConfig {
        &self.0.config
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        // A poisoned lock only means a handler panicked; the data is plain.
        self.0.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many local sessions are open (for tests and the operator).
    pub fn session_count(&self) -> usize {
        self.memory().sessions.len()
    }

    /// The back-channel logouts this portal accepted, oldest first.
    pub fn backchannel_log(&self) -> Vec<String> {
        self.memory().backchannel_log.clone()
    }

    /// Ends the local sessions a valid logout token names; returns how many.
    fn end_sessions(&self, request: &logout_token::LogoutRequest) -> usize {
        let mut memory = self.memory();
        let before = memory.sessions.len();
        memory.sessions.retain(|_, s| {
            let same_sub = request
                .sub
                .as_ref()
                .is_none_or(|sub| *sub == s.identity.sub);
            let same_sid = match &request.sid {
                Some(sid) => s.identity.sid.as_ref() == Some(sid),
                None => true,
            };
            !(same_sub && same_sid)
        });
        let ended = before - memory.sessions.len();
        let what = match (&request.sid, &request.sub) {
            (Some(_), _) => "sid",
            (None, _) => "sub",
        };
        memory
            .backchannel_log
            .push(format!("{what}: {ended} session(s) ended"));
        ended
    }

    fn cookie_name(&self, what: &str) -> String {
        format!("{}_{what}", self.0.config.profile.slug())
    }

    fn cookie(&self, what: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
        let secure = if self.0.config.public_url.scheme() == "https" {
            "; Secure"
        } else {
            ""
        };
        let age = max_age
            .map(|a| format!("; Max-Age={a}"))
            .unwrap_or_default();
        HeaderValue::from_str(&format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{age}",
            self.cookie_name(what)
        ))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    fn read_cookie(&self, headers: &HeaderMap, what: &str) -> Option<String> {
        let name = self.cookie_name(what);
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }

    fn lang(&self, headers: &HeaderMap, query: Option<&str>) -> Lang {
        query
            .or(self.read_cookie(headers, "lang").as_deref())
            .map(Lang::parse)
            .unwrap_or(Lang::Fr)
    }
}

/// The routes. Pages: `/`, `/login`, `/callback`, `/apply`, `/logout`,
/// `/logged-out`; protocol: `/backchannel-logout`; `/me` (JSON, the
/// session's identity) for scripts and tests.
pub fn router(portal: Portal) -> Router {
    Router::new()
        .route("/", get(home))
        .route(
            "/favicon.ico",
            get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/apply", post(apply))
        .route("/logout", post(logout))
        .route("/logged-out", get(logged_out))
        .route("/backchannel-logout", post(backchannel_logout))
        .route("/me", get(me))
        .route("/style.css", get(style))
        .with_state(portal)
}

/// Serves a portal on `listener` until `shutdown` resolves.
pub async fn serve(
    portal: Portal,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(portal))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Binds `listen` and serves the portal in a tokio task (the demo and the
/// tests start the Family portal and the revenue office this way).
pub async fn spawn(
    config: PortalConfig,
    listen: SocketAddr,
) -> Result<(Portal, SocketAddr, JoinHandle<std::io::Result<()>>), Error> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Error::Config(format!("cannot bind {listen}: {e}")))?;
    spawn_on(config, listener)
}

/// Like [`spawn`], on a listener the caller bound.
pub fn spawn_on(
    config: PortalConfig,
    listener: tokio::net::TcpListener,
) -> Result<(Portal, SocketAddr, JoinHandle<std::io::Result<()>>), Error> {
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Config(e.to_string()))?;
    let portal = Portal::new(config)?;
    let task = tokio::spawn(serve(
        portal.clone(),
        listener,
        std::future::pending::<()>(),
    ));
    Ok((portal, addr, task))
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
    notice: Option<String>,
}

fn html(portal: &Portal, lang: Lang, set_lang: bool, status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    // Form submissions end in a redirect to the provider (logout), which
    // form-action governs too.
    let issuer = portal.0.config.issuer.origin().ascii_serialization();
    if let Ok(csp) = HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' {issuer}; frame-ancestors 'none'; base-uri 'none'"
    )) {
        headers.insert("content-security-policy", csp);
    }
    if set_lang {
        headers.append(
            header::SET_COOKIE,
            portal.cookie("lang", lang.code(), Some(31_536_000)),
        );
    }
    response
}

fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn session_view(
    portal: &Portal,
    headers: &HeaderMap,
) -> Option<(Identity, String, Vec<Application>)> {
    let id = portal.read_cookie(headers, "session")?;
    let memory = portal.memory();
    let session = memory.sessions.get(&id)?;
    let apps = memory
        .applications
        .get(&session.identity.sub)
        .cloned()
        .unwrap_or_default();
    Some((session.identity.clone(), session.form_token.clone(), apps))
}

async fn home(
    State(portal): State<Portal>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = portal.lang(&headers, q.lang.as_deref());
    let view = session_view(&portal, &headers);
    let body = pages::home(
        &portal.0.config,
        lang,
        view.as_ref().map(|(i, t, a)| (i, t.as_str(), a.as_slice())),
        q.notice.as_deref(),
    );
    html(&portal, lang, q.lang.is_some(), StatusCode::OK, body)
}

async fn login(
    State(portal): State<Portal>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = portal.lang(&headers, q.lang.as_deref());
    match portal.0.rp.begin(lang.code(), false).await {
        Ok((url, pending)) => {
            let id = random_token();
            {
                let mut memory = portal.memory();
                memory
                    .pending
                    .retain(|_, p| p.created.elapsed() < LOGIN_TTL);
                memory.pending.insert(id.clone(), pending);
            }
            let mut response = redirect(url.as_str());
            response.headers_mut().append(
                header::SET_COOKIE,
                portal.cookie("login", &id, Some(LOGIN_TTL.as_secs())),
            );
            response
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot start a login");
            let body = pages::error(&portal.0.config, lang, pages::Problem::ProviderDown);
            html(&portal, lang, false, StatusCode::BAD_GATEWAY, body)
        }
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(portal): State<Portal>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let lang = portal.lang(&headers, None);
    let fail = |status: StatusCode, problem: pages::Problem| {
        let body = pages::error(&portal.0.config, lang, problem);
        let mut r = html(&portal, lang, false, status, body);
        r.headers_mut()
            .append(header::SET_COOKIE, portal.cookie("login", "", Some(0)));
        r
    };
    // The login must be this browser's: its cookie names the pending login,
    // and the returned state must be the one we sent (CSRF, RFC 6749 10.12).
    let pending = portal
        .read_cookie(&headers, "login")
        .and_then(|id| portal.memory().pending.remove(&id));
    let Some(pending) = pending else {
        return fail(StatusCode::BAD_REQUEST, pages::Problem::Expired);
    };
    if pending.created.elapsed() > LOGIN_TTL
        || q.state.as_deref() != Some(pending.state.secret().as_str())
    {
        return fail(StatusCode::BAD_REQUEST, pages::Problem::Expired);
    }
    // RFC 9207: the response says who sent it; it must be our provider.
    if q.iss
        .as_deref()
        .is_some_and(|iss| iss != portal.0.rp.issuer())
    {
        return fail(StatusCode::BAD_REQUEST, pages::Problem::Failed);
    }
    if let Some(error) = q.error {
        let problem = if error == "access_denied" {
            pages::Problem::Denied
        } else {
            pages::Problem::Failed
        };
        return fail(StatusCode::FORBIDDEN, problem);
    }
    let Some(code) = q.code else {
        return fail(StatusCode::BAD_REQUEST, pages::Problem::Failed);
    };
    match portal.0.rp.finish(pending, code).await {
        Ok((identity, id_token)) => {
            let id = random_token();
            tracing::info!(profile = ?portal.0.config.profile, "citizen signed in");
            portal.memory().sessions.insert(
                id.clone(),
                Session {
                    identity,
                    id_token,
                    form_token: random_token(),
                },
            );
            let mut response = redirect("/");
            let h = response.headers_mut();
            h.append(header::SET_COOKIE, portal.cookie("session", &id, None));
            h.append(header::SET_COOKIE, portal.cookie("login", "", Some(0)));
            response
        }
        Err(e) => {
            tracing::warn!(error = %e, "login failed");
            fail(StatusCode::BAD_GATEWAY, pages::Problem::Failed)
        }
    }
}

#[derive(Deserialize)]
struct ApplyForm {
    form_token: String,
    child_name: String,
    child_birthdate: String,
    care: String,
}

async fn apply(
    State(portal): State<Portal>,
    headers: HeaderMap,
    Form(form): Form<ApplyForm>,
) -> Response {
    let lang = portal.lang(&headers, None);
    let Some(id) = portal.read_cookie(&headers, "session") else {
        return redirect("/");
    };
    let mut memory = portal.memory();
    let Some(session) = memory.sessions.get(&id) else {
        drop(memory);
        return redirect("/");
    };
    if !ring_eq(&session.form_token, &form.form_token) {
        drop(memory);
        let body = pages::error(&portal.0.config, lang, pages::Problem::Expired);
        return html(&portal, lang, false, StatusCode::FORBIDDEN, body);
    }
    let sub = session.identity.sub.clone();
    let child_name = form.child_name.trim().to_owned();
    let child_birthdate = form.child_birthdate.trim().to_owned();
    if child_name.is_empty() || child_name.len() > 200 || child_birthdate.len() > 20 {
        drop(memory);
        return redirect("/?notice=invalid");
    }
    memory.next_number += 1;
    let number = format!("GARDE-{:06}", memory.next_number);
    memory
        .applications
        .entry(sub)
        .or_default()
        .push(Application {
            number,
            child_name,
            child_birthdate,
            care: form.care.chars().take(100).collect(),
            submitted_at: now_secs() as u64,
        });
    drop(memory);
    redirect("/?notice=submitted")
}

fn ring_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && ring_compare(a.as_bytes(), b.as_bytes())
}

fn ring_compare(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Deserialize)]
struct LogoutForm {
    form_token: String,
}

/// Ends the local session, then sends the browser to the provider's
/// end-session endpoint, which ends the provider's session and tells every
/// other service through back-channel logout.
async fn logout(
    State(portal): State<Portal>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Response {
    let lang = portal.lang(&headers, None);
    let session = portal.read_cookie(&headers, "session").and_then(|id| {
        let mut memory = portal.memory();
        let ok = memory
            .sessions
            .get(&id)
            .is_some_and(|s| ring_eq(&s.form_token, &form.form_token));
        if ok {
            memory.sessions.remove(&id)
        } else {
            None
        }
    });
    let mut response = match session {
        None => redirect("/"),
        Some(session) => match portal
            .0
            .rp
            .logout_url(&session.id_token, CsrfToken::new_random(), lang.code())
            .await
        {
            Ok(Some(url)) => redirect(url.as_str()),
            Ok(None) | Err(_) => redirect("/logged-out"),
        },
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, portal.cookie("session", "", Some(0)));
    response
}

async fn logged_out(
    State(portal): State<Portal>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = portal.lang(&headers, q.lang.as_deref());
    let body = pages::logged_out(&portal.0.config, lang);
    html(&portal, lang, q.lang.is_some(), StatusCode::OK, body)
}

/// OpenID Connect Back-Channel Logout 1.0, section 2.5 and 2.8.
async fn backchannel_logout(
    State(portal): State<Portal>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let token = form_encoded
        .then(|| {
            url::form_urlencoded::parse(body.as_bytes())
                .find(|(k, _)| k == "logout_token")
                .map(|(_, v)| v.into_owned())
        })
        .flatten();
    let result = match token {
        None => Err("a form with logout_token is required".to_owned()),
        Some(token) => {
            portal
                .0
                .logout_tokens
                .validate(&portal.0.rp, &token, now_secs())
                .await
        }
    };
    let (status, body) = match result {
        Ok(request) => {
            let ended = portal.end_sessions(&request);
            tracing::info!(ended, "back-channel logout");
            (StatusCode::OK, String::new())
        }
        Err(why) => {
            tracing::warn!(%why, "logout token refused");
            (
                StatusCode::BAD_REQUEST,
                serde_json::json!({"error": "invalid_request", "error_description": why})
                    .to_string(),
            )
        }
    };
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status != StatusCode::OK {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    response
}

async fn me(State(portal): State<Portal>, headers: HeaderMap) -> Response {
    let mut response = match session_view(&portal, &headers) {
        Some((identity, _, applications)) => axum::Json(serde_json::json!({
            "signed_in": true,
            "identity": identity,
            "applications": applications,
        }))
        .into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"signed_in": false})),
        )
            .into_response(),
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn style(State(portal): State<Portal>) -> Response {
    let mut response = pages::stylesheet(portal.0.config.profile).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    response
}
