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
        let mut conn = connection(&state).await?;
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
    let mut conn = connection(state).await?;
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
        Ok(Next::Consent(prompt)) => Ok(consent_page(page, state, &prompt)),
        Err(e) => authorize_error(&provider, e),
    }
}

/// A pooled connection, or at once the 503 page while the database is
/// known lost (the store's fail-fast acquire, not the pool's 5 s timeout).
async fn connection(state: &AppState) -> Result<sqin_store::PooledConnection, PageError> {
    state.store.acquire().await.map_err(|e| {
        if sqin_store::health::is_unavailable(&e) {
            unavailable()
        } else {
            PageError::internal(e)
        }
    })
}

/// The database is out of reach: the 503 page with `Retry-After`, in the
/// person's language, not logged per request (the store logs the loss).
fn unavailable() -> PageError {
    PageError {
        spec: PageErrorSpec::unavailable(),
        retry_after: Some(crate::http::error::UNAVAILABLE_RETRY_AFTER),
    }
}

/// An untrusted client or redirect URI gets the error page and never a
/// redirect (RFC 6749 4.1.2.1); the rest go back to the client. A storage
/// failure before the redirect URI is trusted is the 503 page (the domain
/// has noted it and started the store's probe), an internal one the 500
/// page (logged where it happened).
fn authorize_error(provider: &sqin_oidc::Provider, e: AuthorizeError) -> PageResult {
    match e {
        AuthorizeError::Unavailable => Err(unavailable()),
        AuthorizeError::Internal => Err(PageError::page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal.title",
            "error.internal.body",
        )),
        AuthorizeError::NoRedirect(message) => Err(PageError::sign_in(message)),
        AuthorizeError::RateLimited { retry_after } => {
            // Each refusal is one line, as the ceremony budgets' are (the
            // address is not logged: the access log has it where configured).
            tracing::warn!(
                limit = "pending_authorization_requests_per_address",
                retry_after,
                "rate limit reached: authorization request refused with 429"
            );
            Err(PageError {
                spec: PageErrorSpec::Page {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    title_key: "error.rate_limited.title",
                    body_key: "error.rate_limited.body",
                },
                retry_after: Some(u64::try_from(retry_after).unwrap_or(1)),
            })
        }
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
/// claim in plain words, nothing pre-chosen; and who has access and why:
/// the relying party's legal basis (its PIA entry), and the staff roles of
/// sqin that can see some of this information in the citizen's file, with
/// the purposes they may open it for (the PIA's roles table), every
/// opening recorded and shown to the citizen. Names, purposes and the legal
/// basis in the page's language.
fn consent_page(page: &Page, state: &AppState, p: &authorize::ConsentPrompt) -> Response {
    let fr = page.locale.tag() == "fr";
    let in_language = |en: &str, fr_text: &Option<String>| match fr_text {
        Some(x) if fr && !x.trim().is_empty() => x.clone(),
        _ => en.to_owned(),
    };
    let notice = sqin_app::consent_notice::access_notice(state, p.pia_entry.as_deref(), &p.claims);
    let label = |prefix: &str, id: &str| {
        let key = format!("{prefix}.{id}");
        let text = page.t(&key);
        if text == key {
            id.to_owned()
        } else {
            text
        }
    };
    // Within a sentence: "sees your given name, your family name".
    let words = |prefix: &str, ids: &[String]| -> Vec<String> {
        ids.iter()
            .map(|id| {
                let text = label(prefix, id);
                let mut chars = text.chars();
                match chars.next() {
                    Some(first) => first.to_lowercase().chain(chars).collect(),
                    None => text,
                }
            })
            .collect()
    };
    let staff: Vec<minijinja::Value> = notice
        .staff
        .iter()
        .map(|s| {
            minijinja::context! {
                role => label("role", &s.role),
                sees => words("claim", &s.sees),
                checks => words("claim", &s.checks),
                purposes => words("purpose", &s.purposes),
            }
        })
        .collect();
    let legal_basis = notice
        .legal_basis
        .as_deref()
        .map(|en| in_language(en, &notice.legal_basis_fr));
    no_store(page.render(
        "consent.html",
        minijinja::context! {
            client => in_language(&p.client_name, &p.client_name_fr),
            purpose => in_language(&p.purpose, &p.purpose_fr),
            legal_basis => legal_basis,
            staff => staff,
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
    let mut conn = connection(&state).await?;
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
