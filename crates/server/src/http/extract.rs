//! What many handlers need, extracted once: a database connection, the
//! signed-in citizen's session (the only reading of the session cookie),
//! and an authenticated client with its form parameters.
//!
//! Rejections are [`ApiError`]s that also name the page to show a person
//! (see [`crate::web::render_errors`]), so the same extractor serves a
//! JSON API (401 `login_required`) and a page (the sign-in page).
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use base64::Engine;
use sqin_oidc::client_auth::{self, PresentedCredentials};
use sqin_oidc::token::TokenRequest;
use sqin_oidc::OAuthError;
use sqin_session::AuthenticatedSession;
use sqin_store::clients::ClientRecord;
use sqin_store::{LazyConnection, PooledConnection};

use super::error::{ApiError, OAuthJson, OAuthRejection};
use crate::state::AppState;
use crate::web::{single_cookie, PageErrorSpec, RepeatedCookie};

/// A connection from the pool, held for the whole handler. (Handlers that
/// call out, or acquire again, take one themselves for as long as they
/// need it.)
pub struct Conn(pub PooledConnection);

impl FromRequestParts<AppState> for Conn {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Conn(state.store.pool().acquire().await?))
    }
}

/// The session the browser's cookie names, if it is live.
pub struct MaybeSession(pub Option<AuthenticatedSession>);

/// Whether the citizens' cookies are `__Host-` and `Secure`: the issuer is
/// https.
pub fn secure_cookies(state: &AppState) -> bool {
    state.config.issuer.scheme() == "https"
}

/// The session token the request carries: the session cookie's value, under
/// its name for this deployment (`__Host-sqin_session` under TLS,
/// `sqin_session` on plain HTTP); refused when the cookie comes twice.
pub fn session_token(headers: &HeaderMap, secure: bool) -> Result<Option<String>, ApiError> {
    single_cookie(headers, sqin_session::session_cookie_name(secure))
        .map_err(|RepeatedCookie| repeated_cookie())
}

/// What a request that carries a browser-binding cookie twice gets: 400,
/// and a page saying to clear this site's cookies. Not "no session": a
/// sign-in would set the cookie again beside the planted one, and every
/// request after it would be refused in a loop of ceremonies; nothing is
/// done as anyone, and the person learns what to do.
pub fn repeated_cookie() -> ApiError {
    ApiError {
        page: Some(PageErrorSpec::Page {
            status: StatusCode::BAD_REQUEST,
            title_key: "error.cookies.title",
            body_key: "error.cookies.body",
        }),
        ..ApiError::new(
            StatusCode::BAD_REQUEST,
            "repeated_cookie",
            "the request carries the session cookie more than once; clear this site's cookies and sign in again",
        )
    }
}

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = session_token(&parts.headers, secure_cookies(state))? else {
            return Ok(MaybeSession(None));
        };
        let mut conn = state.store.pool().acquire().await?;
        Ok(MaybeSession(
            sqin_session::current(&mut conn, &token, state.now()).await?,
        ))
    }
}

/// A signed-in citizen. Without one: 401 `login_required` for an API, the
/// sign-in page for a page.
pub struct SignedIn(pub AuthenticatedSession);

impl SignedIn {
    pub fn citizen_id(&self) -> &str {
        &self.0.citizen_id
    }
}

/// What a request without a live session gets.
pub fn sign_in_required() -> ApiError {
    ApiError {
        page: Some(PageErrorSpec::Redirect(sqin_session::LOGIN_PATH.to_owned())),
        ..ApiError::new(
            StatusCode::UNAUTHORIZED,
            "login_required",
            "sign in first: this needs a signed-in citizen",
        )
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match MaybeSession::from_request_parts(parts, state).await? {
            MaybeSession(Some(session)) => Ok(SignedIn(session)),
            MaybeSession(None) => Err(sign_in_required()),
        }
    }
}

/// Form parameters, all of them, in order (RFC 6749 endpoints must see a
/// repeated parameter to refuse it). A body that is not a form (JSON, none,
/// no `Content-Type`) is an RFC 6749 `invalid_request`; one over the body
/// limit is the same JSON with a 413.
pub struct OAuthForm(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = OAuthRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, OAuthRejection> {
        match axum::Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(axum::Form(params)) => Ok(OAuthForm(params)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(OAuthRejection {
                    status: Some(StatusCode::PAYLOAD_TOO_LARGE),
                    error: OAuthJson(OAuthError::invalid_request(
                        "the body is larger than this endpoint accepts",
                    )),
                })
            }
            Err(rejection) => Err(OAuthJson(OAuthError::invalid_request(format!(
                "the body must be application/x-www-form-urlencoded ({})",
                rejection.body_text()
            )))
            .into()),
        }
    }
}

/// The one value of a parameter; a repeated one is refused.
pub fn single(params: &[(String, String)], name: &str) -> Result<Option<String>, OAuthError> {
    let mut values = params.iter().filter(|(k, _)| k == name);
    let first = values.next().map(|(_, v)| v.clone());
    if values.next().is_some() {
        return Err(OAuthError::invalid_request(format!(
            "the parameter {name} is repeated"
        )));
    }
    Ok(first.filter(|v| !v.is_empty()))
}

pub fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || OAuthError::invalid_client("malformed Basic credentials");
    let text = value.to_str().map_err(|_| bad())?;
    let Some(encoded) = text
        .strip_prefix("Basic ")
        .or_else(|| text.strip_prefix("basic "))
    else {
        return Ok(None);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    // RFC 6749 2.3.1: both parts are form-url-encoded.
    let unescape = |s: &str| {
        url::form_urlencoded::parse(s.as_bytes())
            .next()
            .map(|(k, _)| k.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

/// The client credentials a request presents, in whichever of the ways
/// RFC 6749 and RFC 7523 allow.
pub fn credentials(
    headers: &HeaderMap,
    params: &[(String, String)],
) -> Result<PresentedCredentials, OAuthError> {
    Ok(PresentedCredentials {
        basic: basic_credentials(headers)?,
        client_id: single(params, "client_id")?,
        client_secret: single(params, "client_secret")?,
        client_assertion_type: single(params, "client_assertion_type")?,
        client_assertion: single(params, "client_assertion")?,
    })
}

/// The token request's parameters (RFC 6749 4.1.3, 6, 4.4), each given once.
pub fn token_request(params: &[(String, String)]) -> Result<TokenRequest, OAuthError> {
    Ok(TokenRequest {
        grant_type: single(params, "grant_type")?,
        code: single(params, "code")?,
        redirect_uri: single(params, "redirect_uri")?,
        code_verifier: single(params, "code_verifier")?,
        refresh_token: single(params, "refresh_token")?,
        scope: single(params, "scope")?,
    })
}

/// A request from an authenticated relying party: the client, the form's
/// parameters, and the connection its authentication opened (reused by the
/// handler, so a request costs one pool checkout).
pub struct ClientRequest {
    pub client: Arc<ClientRecord>,
    pub params: Vec<(String, String)>,
    pub conn: LazyConnection,
}

impl ClientRequest {
    /// The one value of a parameter.
    pub fn param(&self, name: &str) -> Result<Option<String>, OAuthError> {
        single(&self.params, name)
    }
}

impl FromRequest<AppState> for ClientRequest {
    type Rejection = OAuthRejection;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, OAuthRejection> {
        let headers = req.headers().clone();
        let OAuthForm(params) = OAuthForm::from_request(req, state).await?;
        let creds = credentials(&headers, &params)?;
        let mut conn = LazyConnection::new(state.store.pool());
        let client =
            client_auth::authenticate(&mut conn, &state.provider(), &creds, state.now()).await?;
        Ok(ClientRequest {
            client,
            params,
            conn,
        })
    }
}
