//! The authorization endpoint (OIDC Core 3.1.2, RFC 6749 4.1, RFC 7636,
//! RFC 9207): validating a request, deciding between sign-in, consent and a
//! code, and issuing the code.
use std::net::IpAddr;

use serde_json::Value;
use sqin_crypto::{b64url, random_bytes, random_token, sha256, HmacKey};
use sqin_session::{acr, AuthenticatedSession};
use sqin_store::auth_requests::{self, AuthRequestRecord};
use sqin_store::clients::{self, ClientRecord, ClientStatus};
use sqin_store::consents::{self, ConsentRecord};
use sqin_store::grants::{self, CodeRecord, GrantRecord};
use sqin_store::rate_limits;
use sqin_store::{begin_on, Connection};
use url::Url;

use crate::claims;
use crate::error::{ErrorCode, OAuthError};
use crate::pkce;
use crate::provider::Provider;
use crate::subject::PairwiseSubject;
use sqin_ledger_contract::LedgerEvent;

/// What went wrong with an authorization request, and whether the client may
/// be told through its redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show the person an error
    /// page and never redirect (RFC 6749 4.1.2.1).
    NoRedirect(String),
    /// Tell the client, at its verified redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
    /// The client address has started its budget of requests for now: tell
    /// the person to try again in `retry_after` seconds (no redirect).
    RateLimited { retry_after: i64 },
    /// The storage failed before the redirect URI could be trusted: a
    /// server failure, never a client's (503 with `Retry-After`). Once it
    /// is trusted, a storage failure is instead a [`Self::Redirect`] with
    /// `temporarily_unavailable` ([`unavailable_at`]).
    Unavailable,
    /// An internal failure (no randomness): 500, logged where it happened.
    Internal,
}

/// Notes a storage failure met at the authorization endpoint: when the
/// database is out of reach, at debug level only (the store logs the loss
/// once, and its probe is started here); anything else is logged as an
/// error.
fn storage_failed(e: &(dyn std::error::Error + 'static)) {
    if sqin_store::health::report_cause(e) {
        tracing::debug!(error = %e, "database unavailable at the authorization endpoint");
    } else {
        tracing::error!(error = %e, "storage failed at the authorization endpoint");
    }
}

/// A storage failure before the request's redirect URI is trusted.
fn unavailable(e: &(dyn std::error::Error + 'static)) -> AuthorizeError {
    storage_failed(e);
    AuthorizeError::Unavailable
}

/// A storage failure once `req`'s redirect URI is trusted: the client is
/// told at it (RFC 6749 4.1.2.1, `temporarily_unavailable`).
fn unavailable_at(
    req: &AuthRequestRecord,
    e: &(dyn std::error::Error + 'static),
) -> AuthorizeError {
    storage_failed(e);
    AuthorizeError::Redirect {
        redirect_uri: req.redirect_uri.clone(),
        state: req.state.clone(),
        error: OAuthError::temporarily_unavailable(),
    }
}

/// What the browser should see next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Send the citizen to the passkey service; `force` when a fresh ceremony
    /// is required even with a live session.
    Login {
        request_id: String,
        force: bool,
        ui_locales: Option<String>,
    },
    /// Show the consent page.
    Consent(ConsentPrompt),
    /// Redirect to the client with a code or an error.
    Redirect(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentPrompt {
    pub request_id: String,
    /// The relying party, so the page can say who else has access and why
    /// (its entry of the PIA's register of relying parties).
    pub client_id: String,
    pub pia_entry: Option<String>,
    pub client_name: String,
    pub purpose: String,
    /// The name and purpose in French, when the registration has them.
    pub client_name_fr: Option<String>,
    pub purpose_fr: Option<String>,
    /// Claims the client will receive, in catalog order.
    pub claims: Vec<String>,
    /// Whether long-lived access (`offline_access`) is asked for.
    pub offline_access: bool,
    pub ui_locales: Option<String>,
    /// Binds the consent form to the session that saw it (CSRF).
    pub form_token: String,
}

/// Authorization requests one client address may start (and so keep
/// pending) in any rate-limit window: as many as the passkey ceremonies it
/// may start, since every sign-in needs one of each.
pub const PENDING_REQUESTS_PER_ADDRESS: i64 = 300;

/// Where a request comes from, for the per-address budget of pending
/// requests (`None` for callers that are not the network: benchmarks, seeds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// The client's address: the TCP peer, or the client a trusted proxy
    /// names (the server's `trusted_proxies`).
    pub addr: IpAddr,
    /// The counting window, in seconds. It must be the window of every other
    /// budget of the `rate_limits` table (the passkey service's), since a hit
    /// there drops what is older than its own window.
    pub window_secs: i64,
}

/// The longest value accepted, and so stored, for each parameter: a longer
/// one is `invalid_request`, so one browser cannot make sqin keep kilobytes
/// of whatever it likes for the lifetime of a pending request. (`client_id`
/// and `redirect_uri` must match a registration; `request` and `request_uri`
/// are refused whatever their length.)
const MAX_LEN: &[(&str, usize)] = &[
    ("response_type", 32),
    ("response_mode", 32),
    ("scope", 1024),
    ("nonce", 512),
    ("code_challenge", 128),
    ("code_challenge_method", 16),
    ("prompt", 64),
    ("max_age", 10),
    ("acr_values", 512),
    ("ui_locales", 64),
    ("claims", 2048),
    ("login_hint", 256),
    ("id_token_hint", 4096),
    ("display", 16),
    ("claims_locales", 64),
];

/// The longest `state` returned to the client (it is echoed on errors too).
const MAX_STATE_LEN: usize = 2048;

/// The longest `client_id` looked up.
const MAX_CLIENT_ID_LEN: usize = 256;

const SINGLE_VALUED: &[&str] = &[
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "acr_values",
    "ui_locales",
    "claims",
    "response_mode",
    "request",
    "request_uri",
    "login_hint",
    "id_token_hint",
    "display",
    "claims_locales",
];

fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// Validates an authorization request and stores it as pending. The checks
/// run in the order RFC 6749 requires: first what decides whether the client
/// can be trusted with a redirect, then everything else.
pub async fn begin(
    conn: &mut Connection,
    provider: &Provider,
    params: &[(String, String)],
    origin: Option<Origin>,
    now: i64,
) -> Result<AuthRequestRecord, AuthorizeError> {
    let no_redirect = |m: &str| AuthorizeError::NoRedirect(m.to_owned());
    let client_id = requested_client_id(params)?;
    let client = clients::get(conn, client_id)
        .await
        .map_err(|e| unavailable(&e))?
        .ok_or_else(|| no_redirect("the client is not registered with this provider"))?;
    let mut record = validate(&client, params, provider.lifetimes.request, now)?;
    if let Some(hint) = get(params, "id_token_hint") {
        let fail = |d: &str| AuthorizeError::Redirect {
            redirect_uri: record.redirect_uri.clone(),
            state: record.state.clone(),
            error: OAuthError::new(ErrorCode::InvalidRequest, d),
        };
        let claims = crate::logout::verify_id_token_hint(provider, hint)
            .map_err(|_| fail("id_token_hint is not an ID token issued by this provider"))?;
        if claims.get("aud").and_then(Value::as_str) != Some(client.client_id.as_str()) {
            return Err(fail("id_token_hint was issued to another client"));
        }
        let hinted_sub = claims.get("sub").and_then(Value::as_str);
        // A request about one citizen in particular: only that citizen's
        // session may answer it (OIDC Core 3.1.2.1, 5.5.1).
        match (record.subject_hint.as_deref(), hinted_sub) {
            (Some(a), Some(b)) if a != b => {
                return Err(fail(
                    "id_token_hint and the claims parameter name different subjects",
                ))
            }
            (None, b) => record.subject_hint = b.map(str::to_owned),
            _ => {}
        }
    }
    if let Some(origin) = origin {
        admit(conn, provider, origin, now)
            .await
            .map_err(|e| unavailable_at(&record, &e))?
            .map_err(|retry_after| AuthorizeError::RateLimited { retry_after })?;
    }
    auth_requests::insert(conn, &record)
        .await
        .map_err(|e| unavailable_at(&record, &e))?;
    Ok(record)
}

/// The first checks of an authorization request, before its client is
/// looked up: no parameter is repeated, and `client_id` is there (and not
/// absurdly long). An error here never redirects.
pub fn requested_client_id(params: &[(String, String)]) -> Result<&str, AuthorizeError> {
    let no_redirect = |m: &str| AuthorizeError::NoRedirect(m.to_owned());
    for name in SINGLE_VALUED {
        if params.iter().filter(|(k, _)| k == name).count() > 1 {
            // Which value is the redirect URI cannot be known: do not redirect.
            return Err(no_redirect(&format!("the parameter {name} is repeated")));
        }
    }
    let client_id = get(params, "client_id").ok_or_else(|| no_redirect("client_id is missing"))?;
    if client_id.len() > MAX_CLIENT_ID_LEN {
        return Err(no_redirect(
            "the client is not registered with this provider",
        ));
    }
    Ok(client_id)
}

/// Every check of an authorization request once its client is known,
/// except the `id_token_hint`'s signature (which needs the provider's
/// keys; [`begin`] checks it next): the redirect URI, `state`, the bounds,
/// response type and mode, scopes within the client's purpose, PKCE, prompt,
/// `max_age` and the `claims` parameter. The request as it would be stored,
/// pending for `ttl` seconds; its `subject_hint` is the `sub` the claims
/// parameter names, if any. Pure: it is what `fuzz/fuzz_targets/authorize_request.rs`
/// drives.
pub fn validate(
    client: &ClientRecord,
    params: &[(String, String)],
    ttl: i64,
    now: i64,
) -> Result<AuthRequestRecord, AuthorizeError> {
    let no_redirect = |m: &str| AuthorizeError::NoRedirect(m.to_owned());
    if let Some(why) = unavailable_for_sign_in(client) {
        return Err(no_redirect(why));
    }
    let redirect_uri =
        get(params, "redirect_uri").ok_or_else(|| no_redirect("redirect_uri is missing"))?;
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(no_redirect(
            "redirect_uri does not exactly match a URI registered for this client",
        ));
    }
    let state = get(params, "state").map(str::to_owned);
    if state.as_ref().is_some_and(|s| s.len() > MAX_STATE_LEN) {
        // Refused without echoing it.
        return Err(AuthorizeError::Redirect {
            redirect_uri: redirect_uri.to_owned(),
            state: None,
            error: OAuthError::invalid_request(format!(
                "state is too long (at most {MAX_STATE_LEN} bytes)"
            )),
        });
    }
    let fail = |code: ErrorCode, d: &str| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: state.clone(),
        error: OAuthError::new(code, d),
    };
    for (name, limit) in MAX_LEN {
        if get(params, name).is_some_and(|v| v.len() > *limit) {
            return Err(fail(
                ErrorCode::InvalidRequest,
                &format!("{name} is too long (at most {limit} bytes)"),
            ));
        }
    }

    if get(params, "request").is_some() {
        return Err(fail(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        ));
    }
    if get(params, "request_uri").is_some() {
        return Err(fail(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        ));
    }
    match get(params, "response_type") {
        None => return Err(fail(ErrorCode::InvalidRequest, "response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ))
        }
    }
    if let Some(mode) = get(params, "response_mode") {
        if mode != "query" {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "only response_mode=query is supported",
            ));
        }
    }
    let scope = get(params, "scope").unwrap_or("");
    let mut scopes: Vec<&str> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    if !scopes.contains(&"openid") {
        return Err(fail(
            ErrorCode::InvalidScope,
            "the openid scope is required",
        ));
    }
    for s in &scopes {
        if !client.scopes.iter().any(|allowed| allowed == s) {
            return Err(fail(
                ErrorCode::InvalidScope,
                &format!("scope {s} is beyond the purpose this client is registered for"),
            ));
        }
    }
    let challenge = match (
        get(params, "code_challenge"),
        get(params, "code_challenge_method"),
    ) {
        (None, _) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge is required (PKCE with S256)",
            ))
        }
        (Some(_), None) | (Some(_), Some("plain")) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method must be S256; plain is not supported",
            ))
        }
        (Some(_), Some(m)) if m != "S256" => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "transform algorithm not supported: use S256",
            ))
        }
        (Some(c), Some(_)) if !pkce::valid_challenge(c) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge must be the base64url SHA-256 of the verifier (43 characters)",
            ))
        }
        (Some(c), Some(_)) => c.to_owned(),
    };
    let mut prompt: Vec<&str> = Vec::new();
    for p in get(params, "prompt").unwrap_or("").split(' ') {
        if !p.is_empty() && !prompt.contains(&p) {
            prompt.push(p);
        }
    }
    for p in &prompt {
        if !["none", "login", "consent", "select_account"].contains(p) {
            return Err(fail(
                ErrorCode::InvalidRequest,
                &format!("unknown prompt value {p}"),
            ));
        }
    }
    if prompt.contains(&"none") && prompt.len() > 1 {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "prompt=none cannot be combined with other values",
        ));
    }
    let max_age = match get(params, "max_age") {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                return Err(fail(
                    ErrorCode::InvalidRequest,
                    "max_age must be a non-negative integer",
                ))
            }
        },
    };
    let claims_param = match get(params, "claims") {
        None => None,
        Some(text) => {
            let parsed: Value = serde_json::from_str(text).map_err(|_| {
                fail(
                    ErrorCode::InvalidRequest,
                    "the claims parameter is not valid JSON",
                )
            })?;
            if !parsed.is_object() {
                return Err(fail(
                    ErrorCode::InvalidRequest,
                    "the claims parameter must be a JSON object",
                ));
            }
            let allowed = allowed_claims(client);
            for target in ["id_token", "userinfo"] {
                for (name, essential) in claims::requested_claims(Some(text), target) {
                    if !essential || allowed.contains(&name.as_str()) {
                        continue;
                    }
                    match (target, name.as_str()) {
                        // Protocol claims, not personal data beyond the
                        // purpose: sub is always released, auth_time and acr
                        // always in the ID token (OIDC Core 5.5.1.1).
                        (_, "sub") | ("id_token", "auth_time" | "acr") => {}
                        _ => {
                            return Err(fail(
                                ErrorCode::InvalidRequest,
                                &format!(
                                "claim {name} is beyond the purpose this client is registered for"
                            ),
                            ))
                        }
                    }
                }
            }
            if let Some(values) = essential_acr_values(Some(text)) {
                if !values.iter().any(|v| acr::ORDER.contains(&v.as_str())) {
                    return Err(fail(
                        ErrorCode::InvalidRequest,
                        &format!(
                            "none of the essential acr values can be met; this provider's levels are {}",
                            acr::ORDER.join(" ")
                        ),
                    ));
                }
            }
            Some(text.to_owned())
        }
    };
    // A request about one citizen in particular: only that citizen's
    // session may answer it (OIDC Core 3.1.2.1, 5.5.1).
    let subject_hint =
        requested_sub(claims_param.as_deref()).map_err(|d| fail(ErrorCode::InvalidRequest, d))?;
    Ok(AuthRequestRecord {
        id: b64url(&random_bytes::<24>()?),
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scope: scopes.join(" "),
        state,
        nonce: get(params, "nonce").map(str::to_owned),
        code_challenge: challenge,
        prompt: (!prompt.is_empty()).then(|| prompt.join(" ")),
        max_age,
        acr_values: get(params, "acr_values").map(str::to_owned),
        ui_locales: get(params, "ui_locales").map(str::to_owned),
        claims: claims_param,
        created_at: now,
        expires_at: now + ttl,
        consumed_at: None,
        forced_login_at: None,
        stale_session: None,
        subject_hint,
    })
}

/// The part of an address that identifies one client: an IPv4 address, or
/// the /64 of an IPv6 address (as the passkey service counts them).
fn client_prefix(addr: IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets().iter().take(8).copied().collect(),
        },
    }
}

/// Counts a new pending request against its address's budget, or refuses
/// it. The bucket is a keyed hash: the address is not stored.
/// Counts a pending request against its address's budget: `Ok(Err(s))`
/// when the budget is spent, to be tried again in `s` seconds.
async fn admit(
    conn: &mut Connection,
    provider: &Provider,
    origin: Origin,
    now: i64,
) -> Result<Result<(), i64>, sqin_store::StoreError> {
    let bucket = provider.form_key.sign(&[
        b"rate-limit\0authorize-requests-from\0",
        &client_prefix(origin.addr),
    ]);
    let budget = rate_limits::Budget {
        bucket: &bucket,
        limit: PENDING_REQUESTS_PER_ADDRESS,
    };
    Ok(rate_limits::hit(conn, &[budget], origin.window_secs, now)
        .await?
        .map_err(|refused| refused.retry_after))
}

/// The `sub` value the claims parameter asks for (OIDC Core 5.5.1), in the
/// ID token or at userinfo; both must agree.
fn requested_sub(claims_param: Option<&str>) -> Result<Option<String>, &'static str> {
    let Some(Ok(Value::Object(root))) = claims_param.map(serde_json::from_str::<Value>) else {
        return Ok(None);
    };
    let mut found: Option<String> = None;
    for target in ["id_token", "userinfo"] {
        let Some(value) = root
            .get(target)
            .and_then(|t| t.get("sub"))
            .and_then(|s| s.get("value"))
        else {
            continue;
        };
        let value = value
            .as_str()
            .filter(|v| !v.is_empty() && v.len() <= 255)
            .ok_or("the sub value in the claims parameter must be a subject identifier")?;
        match &found {
            Some(other) if other != value => {
                return Err("the claims parameter names two different subjects")
            }
            _ => found = Some(value.to_owned()),
        }
    }
    Ok(found)
}

/// The `acr` values the claims parameter asks for as essential in the ID
/// token (`values`, or a single `value`), if it does.
fn essential_acr_values(claims_param: Option<&str>) -> Option<Vec<String>> {
    let root: Value = serde_json::from_str(claims_param?).ok()?;
    let spec = root.get("id_token")?.get("acr")?;
    if spec.get("essential").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let values: Vec<String> = match (spec.get("values"), spec.get("value")) {
        (Some(Value::Array(list)), _) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        (_, Some(Value::String(one))) => vec![one.clone()],
        _ => return None,
    };
    Some(values)
}

impl From<sqin_crypto::CryptoError> for AuthorizeError {
    fn from(e: sqin_crypto::CryptoError) -> Self {
        tracing::error!(error = %e, "no randomness at the authorization endpoint");
        AuthorizeError::Internal
    }
}

/// Claims the client's registered purpose allows: those its scopes carry,
/// narrowed to its registered claims when it has some. Every release
/// (consent page, ID token, userinfo) goes through this.
pub fn allowed_claims(client: &ClientRecord) -> Vec<&'static str> {
    let carried = claims::claims_for_scopes(client.scopes.iter().map(String::as_str));
    match &client.claims {
        Some(narrowed) => carried
            .into_iter()
            .filter(|c| narrowed.iter().any(|n| n == c))
            .collect(),
        None => carried,
    }
}

/// Claims this request will disclose: those of its scopes, plus those asked
/// by name in the claims parameter, all within the client's purpose.
pub fn disclosed_claims(
    client: &ClientRecord,
    scope: &str,
    claims_param: Option<&str>,
) -> Vec<String> {
    let allowed = allowed_claims(client);
    let mut out: Vec<String> = claims::claims_for_scopes(scope.split(' '))
        .into_iter()
        .filter(|c| allowed.contains(c))
        .map(str::to_owned)
        .collect();
    for target in ["id_token", "userinfo"] {
        for (name, _) in claims::requested_claims(claims_param, target) {
            if allowed.contains(&name.as_str()) && !out.contains(&name) {
                out.push(name);
            }
        }
    }
    // Keep catalog order, so consent records compare equal.
    let catalog = claims::all_claims();
    out.sort_by_key(|c| catalog.iter().position(|x| x == c).unwrap_or(usize::MAX));
    out
}

fn redirect_with(base: &str, pairs: &[(&str, &str)]) -> String {
    match Url::parse(base) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in pairs {
                    q.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => base.to_owned(),
    }
}

/// The redirect carrying an error to the client (with `state` and `iss`).
pub fn error_redirect(
    provider: &Provider,
    redirect_uri: &str,
    state: Option<&str>,
    error: &OAuthError,
) -> String {
    let mut pairs = vec![
        ("error", error.code.as_str()),
        ("error_description", error.description.as_str()),
    ];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", provider.issuer.as_str()));
    redirect_with(redirect_uri, &pairs)
}

/// The token binding a consent form to the browser session that saw it.
pub fn form_token(key: &HmacKey, request_id: &str, session_id: &str) -> String {
    b64url(&key.sign(&[
        b"consent\0",
        request_id.as_bytes(),
        b"\0",
        session_id.as_bytes(),
    ]))
}

mod steps;
use steps::unavailable_for_sign_in;
pub use steps::{decide, next_step, Decision};
