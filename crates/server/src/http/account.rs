//! `GET /account/data`: everything sqin holds about the signed-in citizen,
//! in one JSON document (`sqin_app::citizen_data`) whose JSON Schema is
//! published in docs/schemas/ and served at
//! `/account/data/schema/v{N}.json`, so they can read it and take it
//! elsewhere (A-2.1 s. 83 access, s. 84 portability in a structured,
//! commonly used format). Their consent and disclosure history, with
//! proofs, is the ledger download (`/account/ledger/download`).
//!
//! Never in it: secrets and what only protects them (code, session and
//! token hashes, grant ids, passkey public keys and counters).
//!
//! `/account/complaints`: the citizen files a complaint about the protection
//! of their information and reads the answers (pia/governance.md, section 6).
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::ApiError;
use super::extract::SignedIn;
use super::AppState;
use crate::web::{CsrfForm, Page, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/data", get(data))
        .route("/account/data/schema/{file}", get(data_schema))
}

/// The complaints pages (behind the pages' layer).
pub fn page_routes() -> Router<AppState> {
    Router::new().route(
        "/account/complaints",
        get(complaints_page).post(file_complaint),
    )
}

#[derive(Debug, Deserialize)]
struct ComplaintsQuery {
    filed: Option<String>,
}

/// One complaint as the citizen's page shows it.
#[derive(Debug, Serialize)]
struct ComplaintView {
    id: String,
    subject: String,
    received_at: i64,
    answer_due: i64,
    answer: Option<String>,
    closed_at: Option<i64>,
}

/// The citizen's complaints (number, dates, status, answer) and the form to
/// file one.
async fn complaints_page(
    page: Page,
    State(state): State<AppState>,
    citizen: SignedIn,
    Query(q): Query<ComplaintsQuery>,
) -> Result<Response, PageError> {
    render_complaints(
        &page,
        &state,
        citizen.citizen_id(),
        q.filed,
        None,
        StatusCode::OK,
    )
    .await
}

async fn render_complaints(
    page: &Page,
    state: &AppState,
    citizen_id: &str,
    filed: Option<String>,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut conn = state.store.pool().acquire().await?;
    let mine = sqin_store::complaints::for_citizen(&mut conn, citizen_id).await?;
    let list: Vec<ComplaintView> = mine
        .iter()
        .map(|c| ComplaintView {
            id: c.id.clone(),
            subject: c.subject.clone(),
            received_at: c.received_at,
            answer_due: c.answer_due,
            answer: c.answer.clone(),
            closed_at: c.closed_at,
        })
        .collect();
    let filed = filed
        .and_then(|f| mine.iter().find(|c| c.id == f))
        .map(|c| json!({ "id": c.id, "answer_due": c.answer_due }));
    Ok(page.render_status(
        status,
        "complaints.html",
        minijinja::context! { complaints => list, filed => filed, error => error },
    ))
}

#[derive(Debug, Deserialize)]
struct ComplaintForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    facts: String,
}

async fn file_complaint(
    State(state): State<AppState>,
    citizen: SignedIn,
    CsrfForm { page, form }: CsrfForm<ComplaintForm>,
) -> Result<Response, PageError> {
    let subject = form.subject.trim();
    let facts = form.facts.trim();
    if subject.is_empty()
        || facts.is_empty()
        || subject.chars().count() > 200
        || facts.chars().count() > 5000
    {
        return render_complaints(
            &page,
            &state,
            citizen.citizen_id(),
            None,
            Some("complaints.invalid"),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let c = sqin_app::complaints::file(&state, citizen.citizen_id(), subject, facts, state.now())
        .await?;
    Ok(page.finish(Redirect::to(&format!("/account/complaints?filed={}", c.id)).into_response()))
}

async fn data(State(state): State<AppState>, citizen: SignedIn) -> Result<Response, ApiError> {
    let body =
        sqin_app::citizen_data::export(&state, citizen.citizen_id(), &state.settings.issuer_str())
            .await?;
    let day = body.generated_at.get(..10).unwrap_or("data").to_owned();
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"sqin-my-data-{day}.json\""),
        )],
        Json(body),
    )
        .into_response())
}

/// Every published version of the document's schema, oldest first: a
/// version stays published once documents of it exist.
pub const DATA_SCHEMAS: &[(&str, &str)] = &[
    (
        "v1.json",
        include_str!("../../../../docs/schemas/account-data-v1.json"),
    ),
    (
        "v2.json",
        include_str!("../../../../docs/schemas/account-data-v2.json"),
    ),
];

/// `GET /account/data/schema/{version}.json`: the JSON Schema of that
/// version of the document (public, cacheable).
async fn data_schema(Path(file): Path<String>) -> Result<Response, ApiError> {
    let (_, schema) = DATA_SCHEMAS
        .iter()
        .find(|(name, _)| *name == file)
        .ok_or_else(|| ApiError::not_found("no such version of the schema"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/schema+json"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        *schema,
    )
        .into_response())
}
