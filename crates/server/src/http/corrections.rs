//! `/account/corrections`: the signed-in citizen asks that an element of
//! their file be corrected and follows the request (its reference, the date
//! the answer is due, each step as their ledger records it, the answer).
//! The orchestration is `sqin_app::corrections`; docs/staff.md section 8
//! says how the registrar answers.
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::extract::SignedIn;
use super::AppState;
use crate::web::{CsrfForm, Page, PageError};

/// The pages (behind the pages' layer).
pub fn page_routes() -> Router<AppState> {
    Router::new().route(
        "/account/corrections",
        get(corrections_page).post(ask_correction),
    )
}

#[derive(Debug, Deserialize)]
struct CorrectionsQuery {
    asked: Option<String>,
}

async fn corrections_page(
    page: Page,
    State(state): State<AppState>,
    citizen: SignedIn,
    Query(q): Query<CorrectionsQuery>,
) -> Result<Response, PageError> {
    render(
        &page,
        &state,
        citizen.citizen_id(),
        q.asked,
        None,
        StatusCode::OK,
    )
    .await
}

async fn render(
    page: &Page,
    state: &AppState,
    citizen_id: &str,
    asked: Option<String>,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let view = sqin_app::corrections::for_citizen(state, citizen_id, state.now()).await?;
    let asked = asked.and_then(|id| view.requests.iter().find(|r| r.id == id).cloned());
    Ok(page.render_status(
        status,
        "corrections.html",
        minijinja::context! {
            requests => view.requests,
            offered => view.offered,
            asked => asked,
            error => error,
            max_details => sqin_app::corrections::MAX_DETAILS,
        },
    ))
}

#[derive(Debug, Deserialize)]
struct AskForm {
    #[serde(default)]
    element: String,
    #[serde(default)]
    details: String,
}

async fn ask_correction(
    State(state): State<AppState>,
    citizen: SignedIn,
    CsrfForm { page, form }: CsrfForm<AskForm>,
) -> Result<Response, PageError> {
    let asked = sqin_app::corrections::ask(
        &state,
        citizen.citizen_id(),
        &form.element,
        &form.details,
        state.now(),
    )
    .await;
    match asked {
        Ok(request) => Ok(page.finish(
            Redirect::to(&format!("/account/corrections?asked={}", request.id)).into_response(),
        )),
        // What to fix, in the citizen's language, with the form again.
        Err(sqin_app::AppError::Refused(_)) => {
            render(
                &page,
                &state,
                citizen.citizen_id(),
                None,
                Some("corrections.invalid"),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
