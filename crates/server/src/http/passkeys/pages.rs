//! The passkey pages for people: sign-in, enrolment with a mailed code, the
//! account page (passkeys, recent sign-ins), closing one's account.
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use sqin_session::{session_cookie_name, LOGIN_PATH};
use sqin_store::citizens;
use sqin_webauthn::events::{self, kind};
use sqin_webauthn::{clean_request, is_fresh, CodeEntry, PasskeyError, MIN_AGE_TO_ENROL_ALONE};

use super::{next_url, see_other, ACCOUNT_PATH};
use crate::http::extract::{MaybeSession, SignedIn};
use crate::http::AppState;
use crate::web::{clear_cookie, CsrfForm, Page, PageError};

type PageResult = Result<Response, PageError>;

#[derive(Debug, Deserialize)]
pub(super) struct LoginQuery {
    request: Option<String>,
    prompt: Option<String>,
    notice: Option<String>,
}

/// What the sign-in page may say it follows (`?notice=`).
const LOGIN_NOTICES: &[&str] = &["signed_out_everywhere"];

pub(super) async fn login_page(
    page: Page,
    MaybeSession(session): MaybeSession,
    Query(q): Query<LoginQuery>,
) -> PageResult {
    let request = clean_request(q.request.as_deref());
    let forced = q
        .prompt
        .as_deref()
        .is_some_and(|p| p.split_whitespace().any(|v| v == "login"));
    if !forced && session.is_some() {
        return Ok(page.finish(see_other(&next_url(request.as_deref(), ACCOUNT_PATH))));
    }
    let notice = q
        .notice
        .as_deref()
        .filter(|n| LOGIN_NOTICES.contains(n))
        .map(|n| format!("notice.{n}"));
    Ok(page.render(
        "login.html",
        minijinja::context! { request => request, notice => notice },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct RequestQuery {
    request: Option<String>,
}

pub(super) async fn enrol_page(page: Page, Query(q): Query<RequestQuery>) -> Response {
    page.render(
        "enrol.html",
        minijinja::context! { request => clean_request(q.request.as_deref()) },
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct EnrolForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    birthdate: String,
    request: Option<String>,
}

pub(super) async fn enrol_submit(
    State(state): State<AppState>,
    CsrfForm { page, form }: CsrfForm<EnrolForm>,
) -> PageResult {
    let request = clean_request(form.request.as_deref());
    let mut c = state.store.pool().acquire().await?;
    let outcome = state
        .passkeys
        .verify_code(
            &mut c,
            page.browser(),
            page.client,
            CodeEntry {
                code: &form.code,
                birthdate: &form.birthdate,
                request: request.as_deref(),
            },
            state.now(),
        )
        .await;
    match outcome {
        Ok(grant) => {
            let mut location = format!("/enrol/passkey?grant={}", grant.grant);
            if let Some(r) = &request {
                location.push_str(&format!("&request={r}"));
            }
            Ok(page.finish(see_other(&location)))
        }
        Err(PasskeyError::CodeRefused) => Ok(page.render_status(
            StatusCode::BAD_REQUEST,
            "enrol.html",
            minijinja::context! {
                request => request,
                error => "enrol.refused",
                code => form.code.chars().take(40).collect::<String>(),
                birthdate => form.birthdate.chars().take(10).collect::<String>(),
            },
        )),
        Err(PasskeyError::RateLimited { retry_after }) => {
            let mut r = page.render_status(
                StatusCode::TOO_MANY_REQUESTS,
                "enrol.html",
                minijinja::context! { request => request, error => "enrol.rate_limited" },
            );
            if let Ok(v) = header::HeaderValue::from_str(&retry_after.max(1).to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(r)
        }
        Err(PasskeyError::Minor) => Ok(page.render(
            "enrol_minor.html",
            minijinja::context! { min_age => MIN_AGE_TO_ENROL_ALONE },
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct GrantQuery {
    #[serde(default)]
    grant: String,
    request: Option<String>,
}

pub(super) async fn register_page(
    page: Page,
    State(state): State<AppState>,
    Query(q): Query<GrantQuery>,
) -> PageResult {
    let request = clean_request(q.request.as_deref());
    let mut c = state.store.pool().acquire().await?;
    let info = state
        .passkeys
        .grant_info(&mut c, page.browser(), &q.grant, state.now())
        .await;
    match info {
        Ok(grant) => Ok(page.render(
            "register.html",
            minijinja::context! {
                grant => grant.grant,
                given_name => grant.given_name,
                purpose => grant.purpose,
                request => request,
            },
        )),
        Err(PasskeyError::CeremonyExpired | PasskeyError::CodeRefused) => Ok(page.render_status(
            StatusCode::BAD_REQUEST,
            "enrol.html",
            minijinja::context! { request => request, error => "enrol.expired" },
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct AccountQuery {
    notice: Option<String>,
    recovered: Option<String>,
}

const NOTICES: &[&str] = &[
    "welcome",
    "added",
    "renamed",
    "removed",
    "invalid_name",
    "unknown_passkey",
    "reauth",
];

pub(super) async fn account_page(
    page: Page,
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Query(q): Query<AccountQuery>,
) -> PageResult {
    let mut c = state.store.pool().acquire().await?;
    let citizen = citizens::by_id(&mut c, &state.register, &session.citizen_id)
        .await?
        .ok_or(PasskeyError::AccountUnavailable)?;
    let passkeys = state.passkeys.list(&mut c, &session.citizen_id).await?;
    let signins = events::recent(&mut c, &session.citizen_id, Some(kind::SIGN_IN), 10).await?;
    let activity = events::recent(&mut c, &session.citizen_id, None, 20).await?;
    // The correction requests and their state (the whole story, with the
    // ledger's steps, is at /account/corrections).
    let corrections: Vec<_> = sqin_store::corrections::for_citizen(&mut c, &session.citizen_id)
        .await?
        .into_iter()
        .map(|r| {
            minijinja::context! {
                id => r.id, element => r.element, answer_due => r.answer_due,
                opened => r.opened_at.is_some(), closed_at => r.closed_at,
                decision => r.decision.map(|d| d.as_str()), answer => r.answer,
            }
        })
        .collect();
    let notice = q
        .notice
        .as_deref()
        .filter(|n| NOTICES.contains(n))
        .map(|n| format!("notice.{n}"));
    let notice_error = matches!(
        q.notice.as_deref(),
        Some("invalid_name" | "unknown_passkey" | "reauth")
    );
    // After a passkey is removed (it may be lost, in someone else's hands),
    // the notice offers to end every other session too.
    let offer_everywhere = q.notice.as_deref() == Some("removed");
    Ok(page.render(
        "account.html",
        minijinja::context! {
            offer_everywhere => offer_everywhere,
            given_name => citizen.given_name,
            passkeys => passkeys,
            signins => signins,
            activity => activity,
            corrections => corrections,
            fresh => is_fresh(&session, state.now()),
            notice => notice,
            notice_error => notice_error,
            recovered => q.recovered.is_some(),
        },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct RenameForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
}

fn to_account(page: &Page, notice: &str) -> Response {
    page.finish(see_other(&format!("{ACCOUNT_PATH}?notice={notice}")))
}

pub(super) async fn rename(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    CsrfForm { page, form }: CsrfForm<RenameForm>,
) -> PageResult {
    let mut c = state.store.pool().acquire().await?;
    let outcome = state
        .passkeys
        .rename(&mut c, &session, &form.id, &form.name, state.now())
        .await;
    let notice = match outcome {
        Ok(()) => "renamed",
        Err(PasskeyError::Invalid(_)) => "invalid_name",
        Err(PasskeyError::UnknownPasskey) => "unknown_passkey",
        Err(e) => return Err(e.into()),
    };
    Ok(to_account(&page, notice))
}

#[derive(Debug, Deserialize)]
pub(super) struct RemoveForm {
    #[serde(default)]
    id: String,
    confirm: Option<String>,
}

pub(super) async fn remove(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    CsrfForm { page, form }: CsrfForm<RemoveForm>,
) -> PageResult {
    let confirm = form.confirm.as_deref() == Some("yes");
    // The passkey, the sessions it opened and the grants issued under them
    // go together, and each relying party concerned is told.
    let removed = sqin_app::passkeys::remove(&state, &session, &form.id, confirm).await;
    match removed {
        Ok(_) => Ok(to_account(&page, "removed")),
        Err(PasskeyError::LastPasskey) => {
            let mut c = state.store.pool().acquire().await?;
            let name = state
                .passkeys
                .list(&mut c, &session.citizen_id)
                .await
                .ok()
                .and_then(|l| l.into_iter().find(|p| p.id == form.id))
                .map(|p| p.name)
                .unwrap_or_default();
            Ok(page.render(
                "remove_last.html",
                minijinja::context! { id => form.id, name => name },
            ))
        }
        Err(PasskeyError::ReauthenticationRequired) => Ok(to_account(&page, "reauth")),
        Err(PasskeyError::UnknownPasskey) => Ok(to_account(&page, "unknown_passkey")),
        Err(e) => Err(e.into()),
    }
}

/// The confirmation page for closing one's own account.
pub(super) async fn close_page(page: Page, _: SignedIn) -> Response {
    page.render(
        "account_close.html",
        minijinja::context! { unconfirmed => false },
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct CloseForm {
    confirm: Option<String>,
}

/// Closes the signed-in citizen's own account, exactly as `sqin citizen
/// delete` does (one transaction: relying parties told, tokens revoked,
/// ledger history shredded, account deleted), after an explicit
/// confirmation and only from a recent sign-in.
pub(super) async fn close_submit(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    CsrfForm { page, form }: CsrfForm<CloseForm>,
) -> PageResult {
    if form.confirm.as_deref() != Some("yes") {
        return Ok(page.render_status(
            StatusCode::BAD_REQUEST,
            "account_close.html",
            minijinja::context! { unconfirmed => true },
        ));
    }
    if !is_fresh(&session, state.now()) {
        return Ok(to_account(&page, "reauth"));
    }
    let citizen = {
        let mut c = state.store.pool().acquire().await?;
        citizens::by_id(&mut c, &state.register, &session.citizen_id)
            .await?
            .ok_or(PasskeyError::AccountUnavailable)?
    };
    let closed = sqin_app::account::close(&state, &citizen.register_id, state.now()).await?;
    let mut response = page.render(
        "account_closed.html",
        minijinja::context! { services => closed.relying_parties.len() },
    );
    // The session died with the account; the browser forgets it too.
    response.headers_mut().append(
        header::SET_COOKIE,
        clear_cookie(session_cookie_name(page.secure()), page.secure()),
    );
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub(super) struct Empty {}

/// Ends the session and tells every relying party that holds a grant from
/// it (back-channel logout).
pub(super) async fn signout(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    CsrfForm { page, form: _ }: CsrfForm<Empty>,
) -> PageResult {
    if let Some(s) = session {
        sqin_app::backchannel::end_session(&state, &s.session_id).await?;
    }
    let mut response = see_other(LOGIN_PATH);
    response.headers_mut().append(
        header::SET_COOKIE,
        clear_cookie(session_cookie_name(page.secure()), page.secure()),
    );
    Ok(page.finish(response))
}

/// Signs the citizen out everywhere (a device is lost, or someone else may
/// be signed in): every session of theirs ends, this one included, every
/// grant relying parties hold is revoked (refresh and access tokens stop at
/// once), each relying party is told by back-channel logout, and the
/// account's activity records it. The browser forgets its session and
/// lands on the sign-in page, which says what happened.
pub(super) async fn signout_everywhere(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    CsrfForm { page, form: _ }: CsrfForm<Empty>,
) -> PageResult {
    sqin_app::account::sign_out_everywhere(&state, &session.citizen_id, state.now()).await?;
    let mut response = see_other(&format!("{LOGIN_PATH}?notice=signed_out_everywhere"));
    response.headers_mut().append(
        header::SET_COOKIE,
        clear_cookie(session_cookie_name(page.secure()), page.secure()),
    );
    Ok(page.finish(response))
}
