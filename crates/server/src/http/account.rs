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
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use sqin_store::{citizens, clients, consents, sessions};

use super::ledger::{citizen, internal, session_token};
use super::AppState;
use crate::web::{CsrfForm, Page};

/// The schema name and version of the document.
pub const DATA_FORMAT: &str = "sqin-citizen-data/1";

pub fn routes() -> Router<AppState> {
    Router::new().route("/account/data", get(data)).route(
        "/account/complaints",
        get(complaints_page).post(file_complaint),
    )
}

/// The signed-in citizen's id, if any.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> anyhow::Result<Option<String>> {
    let Some(token) = session_token(headers) else {
        return Ok(None);
    };
    let mut conn = state.store.pool().acquire().await?;
    Ok(sqin_session::current(&mut conn, &token, state.now())
        .await?
        .map(|s| s.citizen_id))
}

fn internal_page(page: &Page, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "complaints page failed");
    page.error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "error.internal.title",
        "error.internal.body",
    )
}

#[derive(Debug, Deserialize)]
struct ComplaintsQuery {
    filed: Option<String>,
}

/// The citizen's complaints (number, dates, status, answer) and the form to
/// file one.
async fn complaints_page(
    page: Page,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ComplaintsQuery>,
) -> Response {
    render_complaints(&page, &state, &headers, q.filed, None, StatusCode::OK).await
}

async fn render_complaints(
    page: &Page,
    state: &AppState,
    headers: &HeaderMap,
    filed: Option<String>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let citizen_id = match signed_in(state, headers).await {
        Ok(Some(id)) => id,
        Ok(None) => return page.finish(Redirect::to(sqin_session::LOGIN_PATH).into_response()),
        Err(e) => return internal_page(page, e),
    };
    let mine = match state.store.pool().acquire().await {
        Ok(mut c) => sqin_store::complaints::for_citizen(&mut c, &citizen_id).await,
        Err(e) => return internal_page(page, e),
    };
    let mine = match mine {
        Ok(m) => m,
        Err(e) => return internal_page(page, e),
    };
    let list: Vec<serde_json::Value> = mine
        .iter()
        .map(|c| {
            json!({
                "id": c.id, "subject": c.subject, "received_at": c.received_at,
                "answer_due": c.answer_due, "answer": c.answer, "closed_at": c.closed_at,
            })
        })
        .collect();
    let filed = filed
        .and_then(|f| mine.iter().find(|c| c.id == f))
        .map(|c| json!({ "id": c.id, "answer_due": c.answer_due }));
    page.render_status(
        status,
        "complaints.html",
        minijinja::context! { complaints => list, filed => filed, error => error },
    )
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
    headers: HeaderMap,
    CsrfForm { page, form }: CsrfForm<ComplaintForm>,
) -> Response {
    let citizen_id = match signed_in(&state, &headers).await {
        Ok(Some(id)) => id,
        Ok(None) => return page.finish(Redirect::to(sqin_session::LOGIN_PATH).into_response()),
        Err(e) => return internal_page(&page, e),
    };
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
            &headers,
            None,
            Some("complaints.invalid"),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    match sqin_app::complaints::file(&state, &citizen_id, subject, facts, state.now()).await {
        Ok(c) => page
            .finish(Redirect::to(&format!("/account/complaints?filed={}", c.id)).into_response()),
        Err(e) => internal_page(&page, e),
    }
}

async fn data(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let mut conn = match state.store.pool().acquire().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let citizen_id = match citizen(&mut conn, &headers, state.now()).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    let at = state.now();
    let gathered = async {
        let person = citizens::by_id(&mut conn, &citizen_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the account is gone"))?;
        let passkeys = state.passkeys.list(&mut conn, &citizen_id).await?;
        let live_sessions = sessions::live_for_citizen(&mut conn, &citizen_id, at).await?;
        let mut live_consents = Vec::new();
        for c in consents::for_citizen(&mut conn, &citizen_id).await? {
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
        let events = sqin_webauthn::events::recent(&mut conn, &citizen_id, None, 1000).await?;
        anyhow::Ok(json!({
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
        }))
    }
    .await;
    match gathered {
        Ok(body) => {
            let day = sqin_ledger_service::history::rfc3339(at)
                .get(..10)
                .unwrap_or("data")
                .to_owned();
            (
                [(
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"sqin-my-data-{day}.json\""),
                )],
                Json(body),
            )
                .into_response()
        }
        Err(e) => internal(e),
    }
}
