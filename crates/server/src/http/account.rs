//! `GET /account/data`: everything sqin holds about the signed-in citizen,
//! in one JSON document with a published schema (`sqin-citizen-data/1`,
//! docs/passkeys.md), so they can read it and take it elsewhere (A-2.1 s. 83
//! access, s. 84 portability in a structured, commonly used format). Their
//! consent and disclosure history is the ledger download
//! (`/account/ledger/download`), with proofs.
//!
//! Never in it: secrets and what only protects them (code and session
//! hashes, passkey public keys and counters).
//!
//! `/account/complaints`: the citizen files a complaint about the protection
//! of their information and reads the answers (pia/governance.md, section 6).
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqin_store::{citizens, clients, consents, sessions};

use super::error::ApiError;
use super::extract::SignedIn;
use super::AppState;
use crate::web::{CsrfForm, Page, PageError};

/// The schema name and version of the document.
pub const DATA_FORMAT: &str = "sqin-citizen-data/1";

pub fn routes() -> Router<AppState> {
    Router::new().route("/account/data", get(data))
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
    let citizen_id = citizen.citizen_id();
    let mut conn = state.store.pool().acquire().await?;
    let at = state.now();
    let person = citizens::by_id(&mut conn, &state.register, citizen_id)
        .await?
        .ok_or_else(|| ApiError::not_found("the account is gone"))?;
    let passkeys = state
        .passkeys
        .list(&mut conn, citizen_id)
        .await
        .map_err(ApiError::internal)?;
    let live_sessions = sessions::live_for_citizen(&mut conn, citizen_id, at).await?;
    let mut live_consents = Vec::new();
    for c in consents::for_citizen(&mut conn, citizen_id).await? {
        if c.revoked_at.is_some() {
            continue;
        }
        let service = clients::get(&mut conn, &c.client_id).await?;
        live_consents.push(json!({
            "client_id": c.client_id,
            "service": service.as_ref().map(|s| s.name.clone()),
            "purpose": c.purpose,
            "scopes": c.scope,
            "claims": c.claims,
            "granted_at": c.granted_at,
            "expires_at": c.expires_at,
        }));
    }
    let events = sqin_webauthn::events::recent(&mut conn, citizen_id, None, 1000)
        .await
        .map_err(ApiError::internal)?;
    let body = json!({
        "format": DATA_FORMAT,
        "generated_at": sqin_ledger_service::history::rfc3339(at),
        "register": {
            "register_id": person.register_id,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "birthdate": person.birthdate,
            "email": person.email,
            "address": person.address,
            "locale": person.locale,
            "status": person.status.as_str(),
            "registered_at": person.created_at,
        },
        "passkeys": passkeys.iter().map(|p| json!({
            "name": p.name,
            "created_at": p.created_at,
            "last_used_at": p.last_used_at,
            "synced": p.synced,
            "enrolled_via": p.enrolled_via,
        })).collect::<Vec<_>>(),
        "sessions": live_sessions.iter().map(|s| json!({
            "signed_in_at": s.auth_time,
            "acr": s.acr,
            "amr": s.amr,
            "expires_at": s.expires_at,
        })).collect::<Vec<_>>(),
        "consents": live_consents,
        "security_events": events,
        "history": "/account/ledger/download",
    });
    let day = sqin_ledger_service::history::rfc3339(at)
        .get(..10)
        .unwrap_or("data")
        .to_owned();
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"sqin-my-data-{day}.json\""),
        )],
        Json(body),
    )
        .into_response())
}
