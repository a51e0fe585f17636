//! The authorization endpoint (OIDC Core 3.1.2), its resumption after a
//! passkey ceremony, and the consent page.
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use sqin_oidc::authorize::{self, AuthorizeError, Decision, Next};

use super::{no_store, see_other};
use crate::http::extract::MaybeSession;
use crate::http::AppState;
use crate::web::{Page, PageError, PageErrorSpec};

type PageResult = Result<Response, PageError>;

pub(super) async fn authorize_get(
    State(state): State<AppState>,
    session: MaybeSession,
    page: Page,
    Query(params): Query<Vec<(String, String)>>,
) -> PageResult {
    authorize_common(state, session, page, params).await
}

pub(super) async fn authorize_post(
    State(state): State<AppState>,
    session: MaybeSession,
    page: Page,
    Form(params): Form<Vec<(String, String)>>,
) -> PageResult {
    authorize_common(state, session, page, params).await
}

async fn authorize_common(
    state: AppState,
    session: MaybeSession,
    page: Page,
    params: Vec<(String, String)>,
) -> PageResult {
    let provider = state.provider();
    // Counted per client address, in the window every per-address budget
    // of the rate-limit table counts in (the passkey service's).
    let origin = authorize::Origin {
        addr: page.client,
        window_secs: state.passkeys.limits().window_secs,
    };
    let begun = {
        let mut conn = state.store.pool().acquire().await?;
        authorize::begin(&mut conn, &provider, &params, Some(origin), state.now()).await
    };
    match begun {
        Ok(request) => step(&state, session, &page, &request.id).await,
        Err(e) => authorize_error(&provider, e),
    }
}

#[derive(Deserialize)]
pub(super) struct ResumeQuery {
    request: String,
}

pub(super) async fn resume(
    State(state): State<AppState>,
    session: MaybeSession,
    page: Page,
    Query(q): Query<ResumeQuery>,
) -> PageResult {
    step(&state, session, &page, &q.request).await
}

/// Where a pending request goes next: the relying party, the sign-in page
/// or the consent page.
async fn step(
    state: &AppState,
    MaybeSession(session): MaybeSession,
    page: &Page,
    request_id: &str,
) -> PageResult {
    let provider = state.provider();
    let mut conn = state.store.pool().acquire().await?;
    let next = authorize::next_step(
        &mut conn,
        &provider,
        request_id,
        session.as_ref(),
        state.now(),
    )
    .await;
    match next {
        Ok(Next::Redirect(url)) => Ok(see_other(&url)),
        Ok(Next::Login {
            request_id,
            force,
            ui_locales,
        }) => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("request", &request_id);
            if force {
                query.append_pair("prompt", "login");
            }
            if let Some(l) = &ui_locales {
                query.append_pair("ui_locales", l);
            }
            Ok(see_other(&format!(
                "{}?{}",
                sqin_session::LOGIN_PATH,
                query.finish()
            )))
        }
        Ok(Next::Consent(prompt)) => Ok(consent_page(page, &prompt)),
        Err(e) => authorize_error(&provider, e),
    }
}

/// An untrusted client or redirect URI gets the error page and never a
/// redirect (RFC 6749 4.1.2.1); the rest go back to the client.
fn authorize_error(provider: &sqin_oidc::Provider, e: AuthorizeError) -> PageResult {
    match e {
        AuthorizeError::NoRedirect(message) => Err(PageError::sign_in(message)),
        AuthorizeError::RateLimited { retry_after } => Err(PageError {
            spec: PageErrorSpec::Page {
                status: StatusCode::TOO_MANY_REQUESTS,
                title_key: "error.rate_limited.title",
                body_key: "error.rate_limited.body",
            },
            retry_after: Some(u64::try_from(retry_after).unwrap_or(1)),
        }),
        AuthorizeError::Redirect {
            redirect_uri,
            state,
            error,
        } => Ok(see_other(&authorize::error_redirect(
            provider,
            &redirect_uri,
            state.as_deref(),
            &error,
        ))),
    }
}

/// The consent page: the relying party, its registered purpose and each
/// claim in plain words, nothing pre-chosen.
fn consent_page(page: &Page, p: &authorize::ConsentPrompt) -> Response {
    no_store(page.render(
        "consent.html",
        minijinja::context! {
            client => match (page.locale.tag(), &p.client_name_fr) {
                ("fr", Some(n)) => n,
                _ => &p.client_name,
            },
            purpose => match (page.locale.tag(), &p.purpose_fr) {
                ("fr", Some(x)) => x,
                _ => &p.purpose,
            },
            claims => p.claims,
            offline => p.offline_access,
            request => p.request_id,
            form_token => p.form_token,
        },
    ))
}

#[derive(Deserialize)]
pub(super) struct ConsentForm {
    request: String,
    form_token: String,
    decision: String,
}

pub(super) async fn consent(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Form(form): Form<ConsentForm>,
) -> PageResult {
    let provider = state.provider();
    let decision = match form.decision.as_str() {
        "allow" => Decision::Allow,
        "deny" => Decision::Deny,
        _ => return Err(PageError::sign_in("the consent form was not understood")),
    };
    let Some(session) = session else {
        return Err(PageError::sign_in(
            "your session has ended; go back to the service and sign in again",
        ));
    };
    let mut conn = state.store.pool().acquire().await?;
    let decided = authorize::decide(
        &mut conn,
        &provider,
        &form.request,
        &form.form_token,
        decision,
        &session,
        state.now(),
    )
    .await;
    match decided {
        Ok(url) => Ok(see_other(&url)),
        Err(e) => authorize_error(&provider, e),
    }
}
