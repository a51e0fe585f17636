//! The staff console, on its own listener (`staff_listen`) and origin
//! (`staff_url`): pages in French and English for support agents,
//! registrars, privacy officers, administrators and auditors, and the JSON
//! endpoints its script calls for the passkey ceremonies.
//!
//! Every route is either public (sign-in, enrolment with an invitation,
//! assets) or needs a signed-in member of staff ([`StaffSignedIn`]); what
//! the member may then do is decided by `sqin-app` from the PIA's roles,
//! on every request, and a refusal is a 403 that says nothing of the
//! subject.
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use sqin_app::staff::StaffActor;

use super::error::ApiError;
use super::AppState;
use crate::web::{single_cookie, Page, PageError, PageErrorSpec, RepeatedCookie, Surface};

mod auth;
mod clients;
mod console;
mod corrections;
mod operations;

/// The staff session cookie: `__Host-` under TLS (no sibling subdomain can
/// set it), a plain name on local HTTP.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-sqin_staff"
    } else {
        "sqin_staff"
    }
}

/// A `Set-Cookie` for the staff session: HttpOnly, SameSite=Strict, Path=/,
/// Secure under TLS; no `Max-Age` (it dies with the browser; the server
/// ends it after 15 idle minutes or 8 hours anyway).
pub fn session_cookie(token: &str, secure: bool) -> HeaderValue {
    let mut value = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict",
        session_cookie_name(secure)
    );
    if secure {
        value.push_str("; Secure");
    }
    if token.is_empty() {
        value.push_str("; Max-Age=0");
    }
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static(""))
}

fn secure(state: &AppState) -> bool {
    state.config.staff_url.scheme() == "https"
}

/// The staff session token a request carries once (a cookie sent twice
/// names no session: see [`StaffSignedIn`]).
fn staff_token(headers: &HeaderMap, secure: bool) -> Option<String> {
    single_cookie(headers, session_cookie_name(secure))
        .ok()
        .flatten()
}

/// A signed-in member of staff. Without one: 401 for the JSON endpoints,
/// the sign-in page for the console's pages.
pub struct StaffSignedIn(pub StaffActor);

impl FromRequestParts<AppState> for StaffSignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // The cookie twice (one may be planted): refused, as for citizens.
        let token = match single_cookie(&parts.headers, session_cookie_name(secure(state))) {
            Ok(Some(token)) => token,
            Ok(None) => return Err(sign_in_first()),
            Err(RepeatedCookie) => return Err(super::extract::repeated_cookie()),
        };
        match sqin_app::staff::session::actor(state, &token).await? {
            Some(actor) => Ok(StaffSignedIn(actor)),
            None => Err(sign_in_first()),
        }
    }
}

fn sign_in_first() -> ApiError {
    ApiError {
        page: Some(PageErrorSpec::Redirect("/login".into())),
        ..ApiError::new(
            StatusCode::UNAUTHORIZED,
            "login_required",
            "sign in to the staff console first",
        )
    }
}

/// A sensitive action refused because the member's last passkey
/// confirmation is older than five minutes gets the console's page that
/// offers the confirmation (the shared error page has none, nor the
/// console's navigation), which then leads back to the form's page, where
/// the member does it again: nothing was done. Inside [`render_errors`],
/// which made the request's [`Page`].
///
/// [`render_errors`]: crate::web::render_errors
async fn confirm_first(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let back = form_page(request.uri().path());
    let token = staff_token(request.headers(), secure(&state));
    let page = request.extensions().get::<Page>().cloned();
    let response = next.run(request).await;
    let stale = PageError::from(sqin_app::AppError::ReauthenticationRequired).spec;
    if response.extensions().get::<PageErrorSpec>() != Some(&stale) {
        return response;
    }
    let (Some(page), Some(token)) = (page, token) else {
        return response;
    };
    let Ok(Some(actor)) = sqin_app::staff::session::actor(&state, &token).await else {
        return response;
    };
    page.render_status(
        StatusCode::UNAUTHORIZED,
        "staff_reauth.html",
        minijinja::context! {
            me => console::me(&state, &actor),
            reauth_return => back,
        },
    )
}

/// The console page a form is posted from: its route's first segment
/// (`/requests/decide` and `/requests` from `/requests`, `/staff/invite`
/// from `/staff`, `/keys/rotate` from `/keys`).
fn form_page(path: &str) -> String {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    format!("/{first}")
}

/// Marks every request of the staff listener, so pages take the console's
/// origin and cookies.
async fn staff_surface(mut request: Request, next: Next) -> Response {
    request.extensions_mut().insert(Surface::Staff);
    next.run(request).await
}

/// The staff listener's whole router, with its middleware.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let routes = Router::new()
        .route("/", get(console::home))
        .route("/login", get(auth::login_page))
        .route("/enrol", get(auth::enrol_page))
        .route("/logout", post(auth::logout))
        .route("/files", get(console::files_form).post(console::open_file))
        .route(
            "/requests",
            get(console::requests_page).post(console::new_request),
        )
        .route("/requests/decide", post(console::decide_request))
        .route("/staff", get(console::directory_page))
        .route("/staff/invite", post(console::invite))
        .route("/staff/grant", post(console::request_grant))
        .route("/staff/revoke", post(console::revoke_grant))
        .route("/review", get(console::review_page))
        .route(
            "/review/alerts/acknowledge",
            post(console::acknowledge_alert),
        )
        .route("/complaints", get(console::complaints_page))
        .route("/complaints/open", get(console::complaint_page))
        .route("/complaints/answer", post(console::answer_complaint))
        .route("/corrections", get(corrections::queue_page))
        .route(
            "/corrections/open",
            get(corrections::request_page).post(corrections::open_file),
        )
        .route("/corrections/answer", post(corrections::answer))
        .route("/letters", get(console::letters_page))
        .route("/letters/print", post(console::print_letters))
        .route("/clients", get(clients::clients_page))
        .route("/clients/state", post(clients::change_state))
        .route("/keys", get(operations::keys_page))
        .route("/keys/rotate", post(operations::rotate_keys))
        .route("/ledger", get(operations::ledger_page))
        .route("/report", get(operations::report_download))
        .route("/ledger/verify", post(operations::verify_ledger))
        .route("/api/staff/enrol/start", post(auth::enrol_start))
        .route("/api/staff/enrol/finish", post(auth::enrol_finish))
        .route("/api/staff/login/start", post(auth::login_start))
        .route("/api/staff/login/finish", post(auth::login_finish))
        .route("/api/staff/reauth/start", post(auth::reauth_start))
        .route("/api/staff/reauth/finish", post(auth::reauth_finish))
        .merge(crate::web::asset_routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            confirm_first,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::web::render_errors,
        ))
        .route_layer(axum::middleware::from_fn(staff_surface))
        // The API answers JSON only (no error pages, no confirmation
        // page), but is of the staff surface (its browser cookie, its CSRF
        // tokens).
        .merge(super::admin::router().route_layer(axum::middleware::from_fn(staff_surface)))
        .fallback(super::ops::not_found)
        .with_state(state);
    super::with_middleware(routes, &config).layer(axum::middleware::from_fn(no_framing_no_cache))
}

/// The console's pages are never cached and never framed (the global
/// middleware says so too; this also keeps them out of shared caches).
async fn no_framing_no_cache(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, private"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::form_page;

    #[test]
    fn a_refused_form_leads_back_to_the_page_it_is_posted_from() {
        for (posted, page) in [
            ("/requests/decide", "/requests"),
            ("/requests", "/requests"),
            ("/staff/invite", "/staff"),
            ("/review/alerts/acknowledge", "/review"),
            ("/keys/rotate", "/keys"),
            ("/", "/"),
        ] {
            assert_eq!(form_page(posted), page, "{posted}");
        }
    }
}
