//! RP-Initiated Logout 1.0 (with the person's confirmation when the hint is
//! not theirs) and the citizen's withdrawal of a consent.
use axum::extract::{Form, Query, State};
use axum::http::header;
use axum::response::Response;
use serde::Deserialize;
use sqin_oidc::authorize;
use sqin_oidc::logout::{self, LogoutRequest};

use super::{no_store, see_other};
use crate::http::extract::{MaybeSession, SignedIn};
use crate::http::AppState;
use crate::web::{CsrfForm, Page, PageError};

type PageResult = Result<Response, PageError>;

pub(super) async fn logout_get(
    State(state): State<AppState>,
    session: MaybeSession,
    page: Page,
    Query(params): Query<Vec<(String, String)>>,
) -> PageResult {
    logout_common(state, session, page, params).await
}

pub(super) async fn logout_post(
    State(state): State<AppState>,
    session: MaybeSession,
    page: Page,
    Form(params): Form<Vec<(String, String)>>,
) -> PageResult {
    logout_common(state, session, page, params).await
}

/// Clears the session cookie under both its names (`__Host-` under TLS; a
/// browser on plain HTTP ignores the `Secure` one).
fn clear_session_cookie(mut response: Response) -> Response {
    for secure in [false, true] {
        response.headers_mut().append(
            header::SET_COOKIE,
            crate::web::clear_cookie(sqin_session::session_cookie_name(secure), secure),
        );
    }
    response
}

async fn logout_common(
    state: AppState,
    MaybeSession(session): MaybeSession,
    page: Page,
    params: Vec<(String, String)>,
) -> PageResult {
    // Each parameter at most once: which of two post-logout URIs (or
    // hints) is meant cannot be known, so neither is followed.
    for name in [
        "id_token_hint",
        "post_logout_redirect_uri",
        "state",
        "client_id",
        "ui_locales",
        "logout_hint",
    ] {
        if params.iter().filter(|(k, _)| k == name).count() > 1 {
            return Err(PageError::sign_in(format!(
                "the parameter {name} is repeated"
            )));
        }
    }
    let get = |n: &str| {
        params
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let request = LogoutRequest {
        id_token_hint: get("id_token_hint"),
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state: get("state"),
        client_id: get("client_id"),
        ui_locales: get("ui_locales"),
    };
    let provider = state.provider();
    let valid = {
        let mut conn = state.store.pool().acquire().await?;
        logout::validate(&mut conn, &provider, &request, session.as_ref())
            .await
            .map_err(PageError::sign_in)?
    };
    match &session {
        Some(s) if !valid.hint_matches_session => {
            // Someone else's (or no) hint: ask the person before ending
            // their session (RP-Initiated Logout 1.0 section 2).
            let token = authorize::form_token(&provider.form_key, "logout", &s.session_id);
            Ok(no_store(page.render(
                "logout.html",
                minijinja::context! {
                    title_key => "logout.title",
                    confirm => true,
                    client => valid.client.as_ref().map(|c| c.name_in(page.locale.tag()).to_owned()),
                    form_token => token,
                    redirect => valid.redirect.clone().unwrap_or_default(),
                },
            )))
        }
        _ => {
            if let Some(s) = &session {
                sqin_app::backchannel::end_session(&state, &s.session_id).await?;
            }
            Ok(clear_session_cookie(logged_out(
                &page,
                valid.redirect.as_deref(),
            )))
        }
    }
}

fn logged_out(page: &Page, redirect: Option<&str>) -> Response {
    match redirect {
        Some(url) => see_other(url),
        None => no_store(page.render(
            "logout.html",
            minijinja::context! { title_key => "logout.done_title", confirm => false },
        )),
    }
}

#[derive(Deserialize)]
pub(super) struct LogoutConfirm {
    form_token: String,
    #[serde(default)]
    redirect: String,
}

pub(super) async fn logout_confirm(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    page: Page,
    Form(form): Form<LogoutConfirm>,
) -> PageResult {
    let provider = state.provider();
    let Some(session) = session else {
        return Ok(clear_session_cookie(logged_out(&page, None)));
    };
    let expected = authorize::form_token(&provider.form_key, "logout", &session.session_id);
    if !sqin_crypto::HashedSecret(sqin_crypto::sha256(expected.as_bytes()))
        .matches(&form.form_token)
    {
        return Err(PageError::sign_in(
            "this sign-out form is not valid for your session",
        ));
    }
    // The redirect came from a validated request, but re-check that it is a
    // registered post-logout URI before following it.
    let redirect = if form.redirect.is_empty() {
        None
    } else {
        let base = form
            .redirect
            .split('?')
            .next()
            .unwrap_or_default()
            .to_owned();
        let mut conn = state.store.pool().acquire().await?;
        let clients = sqin_store::clients::list(&mut conn).await?;
        clients
            .iter()
            .any(|c| {
                c.post_logout_redirect_uris
                    .iter()
                    .any(|u| u.split('?').next() == Some(base.as_str()))
            })
            .then_some(form.redirect.clone())
    };
    sqin_app::backchannel::end_session(&state, &session.session_id).await?;
    Ok(clear_session_cookie(logged_out(&page, redirect.as_deref())))
}

#[derive(Deserialize)]
pub(super) struct WithdrawForm {
    client_id: String,
}

/// The citizen withdraws their consent for one relying party
/// (`sqin_app::account::withdraw_consent`).
pub(super) async fn withdraw(
    State(state): State<AppState>,
    citizen: SignedIn,
    CsrfForm { page, form }: CsrfForm<WithdrawForm>,
) -> PageResult {
    sqin_app::account::withdraw_consent(&state, citizen.citizen_id(), &form.client_id, state.now())
        .await?;
    Ok(page.finish(see_other("/account/history?withdrawn=1")))
}
