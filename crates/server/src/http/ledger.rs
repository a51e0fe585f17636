//! The consent ledger over HTTP (issue #6).
//!
//! Public, for citizens, auditors, monitors and witnesses (no personal data:
//! hashes, sizes and signed notes only):
//!
//! - `GET /ledger`: the log's origin, verifier key, size and endpoints;
//! - `GET /ledger/checkpoint`: the latest signed checkpoint (C2SP note);
//! - `GET /ledger/checkpoints?after=ID&limit=N`: every checkpoint ever signed;
//! - `GET /ledger/vkey`: the checkpoint verifier key;
//! - `GET /ledger/proof/inclusion?tree_size=N&seq=I` (or `&hash=B64`);
//! - `GET /ledger/proof/consistency?first=M&second=N`;
//!
//! (`tree_size` and `second` default to the latest checkpoint's size).
//!
//! For the signed-in citizen (the `sqin_session` cookie), their own entries,
//! opened, each with an inclusion proof:
//!
//! - `GET /account/ledger/recipients?client_id=&from=&to=`: who received my data;
//! - `GET /account/ledger/staff-access?from=&to=`: who looked at my file;
//! - `GET /account/ledger/security?from=&to=`: sign-ins and credential changes;
//! - `GET /account/ledger/download?from=&to=`: everything, as a JSON file.
//!
//! and the same as pages (French and English) linked from the account page:
//!
//! - `GET /account/history?client_id=&from=&to=`: who received my data;
//! - `GET /account/history/staff`: who looked at my file.
//!
//! Handlers parse, call one function of `sqin-ledger-service`, and map the
//! result; docs/ledger.md documents every shape.
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use sqin_ledger_service::history::{self, HistoryFilter};
use sqin_ledger_service::{checkpoints, tree, Category, LedgerEvent, LedgerServiceError};

use super::AppState;
use crate::web::Page;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ledger", get(about))
        .route("/ledger/checkpoint", get(latest_checkpoint))
        .route("/ledger/checkpoints", get(checkpoint_history))
        .route("/ledger/vkey", get(vkey))
        .route("/ledger/proof/inclusion", get(inclusion))
        .route("/ledger/proof/consistency", get(consistency))
        .route("/account/ledger/recipients", get(recipients))
        .route("/account/ledger/staff-access", get(staff_access))
        .route("/account/ledger/security", get(security))
        .route("/account/ledger/download", get(download))
        .route("/account/history", get(recipients_page))
        .route("/account/history/staff", get(staff_page))
}

// ---------------------------------------------------------------- errors

pub(super) fn error(status: StatusCode, code: &str, description: impl Into<String>) -> Response {
    (
        status,
        Json(json!({ "error": code, "error_description": description.into() })),
    )
        .into_response()
}

fn bad_request(description: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

/// Maps a ledger error once: the caller's mistakes are explained, the
/// server's are logged and answered with a bare 500.
fn ledger_error(e: LedgerServiceError) -> Response {
    match e {
        LedgerServiceError::InvalidRequest(m) => bad_request(m),
        LedgerServiceError::NotFound(what) => error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        ),
        other => {
            tracing::error!(error = %other, "ledger request failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the ledger could not answer",
            )
        }
    }
}

pub(super) fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "ledger request failed");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "the ledger could not answer",
    )
}

async fn connection(state: &AppState) -> Result<sqin_store::PooledConnection, Response> {
    state.store.pool().acquire().await.map_err(internal)
}

/// Public, cacheable answers.
fn cacheable(max_age: u32, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    if let Ok(v) = format!("public, max-age={max_age}").parse() {
        response.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    response
}

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

// ---------------------------------------------------------------- public

async fn about(State(state): State<AppState>) -> Response {
    let mut conn = match connection(&state).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let latest = match checkpoints::latest(&mut conn).await {
        Ok(cp) => cp,
        Err(e) => return ledger_error(e),
    };
    if let Err(e) = state.ledger.refresh_keys(&mut conn).await {
        return ledger_error(e);
    }
    cacheable(
        30,
        Json(json!({
            "origin": state.ledger.origin(),
            "vkey": state.ledger.vkey(),
            // Every key the log has used, oldest first: checkpoints up to a
            // rotation entry's size plus one are signed by the older key.
            "vkeys": state.ledger.vkeys(),
            "checkpoint_size": latest.tree_size,
            "hash": "SHA-256, RFC 9162 section 2.1.1 (leaf 0x00, node 0x01)",
            "checkpoint_format": "https://c2sp.org/tlog-checkpoint",
            "signature": "https://c2sp.org/signed-note, ECDSA P-256 (type 0x02)",
            "endpoints": {
                "checkpoint": "/ledger/checkpoint",
                "checkpoints": "/ledger/checkpoints",
                "vkey": "/ledger/vkey",
                "inclusion_proof": "/ledger/proof/inclusion",
                "consistency_proof": "/ledger/proof/consistency",
            },
        })),
    )
}

async fn latest_checkpoint(State(state): State<AppState>) -> Response {
    let mut conn = match connection(&state).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    // With every witness cosignature it has (C2SP tlog-witness).
    match checkpoints::latest(&mut conn).await {
        Ok(cp) => match checkpoints::with_cosignatures(&mut conn, cp).await {
            Ok(cp) => cacheable(10, text(cp.note)),
            Err(e) => ledger_error(e),
        },
        Err(e) => ledger_error(e),
    }
}

#[derive(Debug, Deserialize)]
struct HistoryPage {
    after: Option<i64>,
    limit: Option<i64>,
}

async fn checkpoint_history(
    State(state): State<AppState>,
    Query(q): Query<HistoryPage>,
) -> Response {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return bad_request("limit must be between 1 and 1000");
    }
    let mut conn = match connection(&state).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match checkpoints::history(&mut conn, q.after.unwrap_or(0), limit).await {
        Ok(page) => {
            let next = (page.len() as i64 == limit)
                .then(|| page.last().map(|c| c.id))
                .flatten();
            cacheable(10, Json(json!({ "checkpoints": page, "next_after": next })))
        }
        Err(e) => ledger_error(e),
    }
}

async fn vkey(State(state): State<AppState>) -> Response {
    let mut conn = match connection(&state).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(e) = state.ledger.refresh_keys(&mut conn).await {
        return ledger_error(e);
    }
    // Short caching: after a rotation the new key must show soon (a
    // reviewer holding the old one still verifies everything).
    cacheable(300, text(format!("{}\n", state.ledger.vkey())))
}

#[derive(Debug, Deserialize)]
struct InclusionQuery {
    /// Defaults to the latest checkpoint's size.
    tree_size: Option<u64>,
    seq: Option<u64>,
    hash: Option<String>,
}

/// The size asked for, or the latest checkpoint's.
async fn size_or_latest(
    conn: &mut sqin_store::Connection,
    size: Option<u64>,
) -> Result<u64, Response> {
    match size {
        Some(size) => Ok(size),
        None => checkpoints::latest(conn)
            .await
            .map(|cp| cp.tree_size)
            .map_err(ledger_error),
    }
}

fn decode_hash(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .or_else(|| sqin_crypto::b64url_decode(text.trim_end_matches('=')))
        .filter(|h| h.len() == 32)
}

async fn inclusion(State(state): State<AppState>, Query(q): Query<InclusionQuery>) -> Response {
    let mut conn = match connection(&state).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let seq = match (q.seq, q.hash.as_deref()) {
        (Some(seq), None) => seq,
        (None, Some(hash)) => {
            let Some(hash) = decode_hash(hash) else {
                return bad_request("hash must be a base64 SHA-256 leaf hash");
            };
            match sqin_store::ledger::entry_by_leaf_hash(&mut conn, &hash).await {
                Ok(Some(row)) => u64::try_from(row.seq).unwrap_or(u64::MAX),
                Ok(None) => {
                    return error(
                        StatusCode::NOT_FOUND,
                        "not_found",
                        "no entry has this leaf hash",
                    )
                }
                Err(e) => return internal(e),
            }
        }
        _ => return bad_request("give exactly one of seq and hash"),
    };
    let tree_size = match size_or_latest(&mut conn, q.tree_size).await {
        Ok(size) => size,
        Err(r) => return r,
    };
    match tree::inclusion_proof(&mut conn, seq, tree_size).await {
        Ok(proof) => cacheable(86_400, Json(proof)),
        Err(e) => ledger_error(e),
    }
}

#[derive(Debug, Deserialize)]
struct ConsistencyQuery {
    first: u64,
    /// Defaults to the latest checkpoint's size.
    second: Option<u64>,
}

async fn consistency(State(state): State<AppState>, Query(q): Query<ConsistencyQuery>) -> Response {
    let mut conn = match connection(&state).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let second = match size_or_latest(&mut conn, q.second).await {
        Ok(size) => size,
        Err(r) => return r,
    };
    match tree::consistency_proof(&mut conn, q.first, second).await {
        Ok(proof) => cacheable(86_400, Json(proof)),
        Err(e) => ledger_error(e),
    }
}

// ---------------------------------------------------------------- the citizen's own

#[derive(Debug, Deserialize)]
struct CitizenQuery {
    client_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `YYYY-MM-DD` (a UTC day; `to` includes the whole day) or Unix seconds.
fn parse_time(text: &str, end_of_day: bool) -> Option<i64> {
    if let Ok(unix) = text.parse::<i64>() {
        return Some(unix);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, &format).ok()?;
    let start = date.midnight().assume_utc().unix_timestamp();
    Some(if end_of_day { start + 86_400 } else { start })
}

fn filter(q: &CitizenQuery) -> Result<HistoryFilter, &'static str> {
    let from = match q.from.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(parse_time(s, false).ok_or("from must be YYYY-MM-DD")?),
        None => None,
    };
    let to = match q.to.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(parse_time(s, true).ok_or("to must be YYYY-MM-DD")?),
        None => None,
    };
    Ok(HistoryFilter {
        client_id: q.client_id.clone().filter(|c| !c.is_empty()),
        from,
        to,
        categories: Vec::new(),
    })
}

/// The `sqin_session` cookie's value, if the request has one.
pub(super) fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == sqin_session::SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The signed-in citizen, or a 401.
pub(super) async fn citizen(
    conn: &mut sqin_store::Connection,
    headers: &HeaderMap,
    now: i64,
) -> Result<String, Response> {
    let unauthenticated = || {
        error(
            StatusCode::UNAUTHORIZED,
            "login_required",
            "sign in to see your history",
        )
    };
    let token = session_token(headers).ok_or_else(unauthenticated)?;
    match sqin_session::current(conn, &token, now).await {
        Ok(Some(session)) => Ok(session.citizen_id),
        Ok(None) => Err(unauthenticated()),
        Err(e) => Err(internal(e)),
    }
}

async fn recipients(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CitizenQuery>,
) -> Response {
    let filter = match filter(&q) {
        Ok(f) => f,
        Err(why) => return bad_request(why),
    };
    let mut conn = match connection(&state).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let citizen_id = match citizen(&mut conn, &headers, state.now()).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    match history::recipients(&mut conn, &state.ledger, &citizen_id, &filter, state.now()).await {
        Ok(view) => Json(view).into_response(),
        Err(e) => ledger_error(e),
    }
}

async fn entries_of(
    state: AppState,
    headers: HeaderMap,
    q: CitizenQuery,
    category: Category,
) -> Response {
    let filter = match filter(&q) {
        Ok(f) => f,
        Err(why) => return bad_request(why),
    };
    let mut conn = match connection(&state).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let citizen_id = match citizen(&mut conn, &headers, state.now()).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    match history::entries_of(
        &mut conn,
        &state.ledger,
        &citizen_id,
        category,
        &filter,
        state.now(),
    )
    .await
    {
        Ok(view) => Json(view).into_response(),
        Err(e) => ledger_error(e),
    }
}

async fn staff_access(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CitizenQuery>,
) -> Response {
    entries_of(state, headers, q, Category::StaffAccess).await
}

async fn security(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CitizenQuery>,
) -> Response {
    entries_of(state, headers, q, Category::Security).await
}

async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CitizenQuery>,
) -> Response {
    let filter = match filter(&q) {
        Ok(f) => f,
        Err(why) => return bad_request(why),
    };
    let mut conn = match connection(&state).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let citizen_id = match citizen(&mut conn, &headers, state.now()).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    let at = state.now();
    match history::download(&mut conn, &state.ledger, &citizen_id, &filter, at).await {
        Ok(view) => {
            let day = history::rfc3339(at)
                .get(..10)
                .unwrap_or("history")
                .to_owned();
            (
                [(
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"sqin-history-{day}.json\""),
                )],
                Json(view),
            )
                .into_response()
        }
        Err(e) => ledger_error(e),
    }
}

// ---------------------------------------------------------------- pages

/// The page's error: logged, and the shared error page.
fn page_error(page: &Page, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "ledger page failed");
    page.error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "error.internal.title",
        "error.internal.body",
    )
}

/// The signed-in citizen for a page, or the login page.
async fn page_citizen(
    page: &Page,
    conn: &mut sqin_store::Connection,
    headers: &HeaderMap,
    now: i64,
) -> Result<String, Response> {
    let Some(token) = session_token(headers) else {
        return Err(page.finish(Redirect::to(sqin_session::LOGIN_PATH).into_response()));
    };
    match sqin_session::current(conn, &token, now).await {
        Ok(Some(session)) => Ok(session.citizen_id),
        Ok(None) => Err(page.finish(Redirect::to(sqin_session::LOGIN_PATH).into_response())),
        Err(e) => Err(page_error(page, e)),
    }
}

fn endpoint_label(page: &Page, details: &LedgerEvent) -> String {
    match details {
        LedgerEvent::Disclosure { endpoint, .. } => {
            page.t(&format!("ledger.endpoint.{}", endpoint.as_str()))
        }
        _ => String::new(),
    }
}

async fn recipients_page(
    page: Page,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CitizenQuery>,
) -> Response {
    let mut conn = match state.store.pool().acquire().await {
        Ok(c) => c,
        Err(e) => return page_error(&page, e),
    };
    let citizen_id = match page_citizen(&page, &mut conn, &headers, state.now()).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    // Dates that do not parse show everything and say so; the service is
    // chosen among the citizen's own, so the list comes from all of them.
    let (mut wanted, invalid_dates) = match filter(&q) {
        Ok(f) => (f, false),
        Err(_) => (HistoryFilter::default(), true),
    };
    let client = wanted.client_id.take();
    let view = match history::recipients(
        &mut conn,
        &state.ledger,
        &citizen_id,
        &wanted,
        state.now(),
    )
    .await
    {
        Ok(v) => v,
        Err(e) => return page_error(&page, e),
    };
    let services: Vec<_> = view
        .recipients
        .iter()
        .map(|r| {
            serde_json::json!({
                "client_id": r.client_id,
                "name": r.name.clone().unwrap_or_else(|| r.client_id.clone()),
            })
        })
        .collect();
    let recipients: Vec<_> = view
        .recipients
        .iter()
        .filter(|r| client.as_deref().is_none_or(|c| c == r.client_id))
        .map(|r| {
            let consents: Vec<_> = r
                .consents
                .iter()
                .map(|c| {
                    let granted = c.entries.iter().find_map(|e| match &e.details {
                        Some(LedgerEvent::ConsentGranted {
                            claims,
                            purpose,
                            expires_at,
                            ..
                        }) => Some((e.time_unix, claims.clone(), purpose.clone(), *expires_at)),
                        _ => None,
                    });
                    serde_json::json!({
                        "active": c.status == "active",
                        "status_label": page.t(&format!("ledger.status.{}", c.status)),
                        "granted_at": granted.as_ref().map(|g| g.0),
                        "claims": granted.as_ref().map(|g| g.1.clone()).unwrap_or_default(),
                        "purpose": granted.as_ref().map(|g| g.2.clone()),
                        "expires_at": granted.as_ref().map(|g| g.3),
                        "seq": c.entries.first().map(|e| e.seq),
                    })
                })
                .collect();
            let disclosures: Vec<_> = r
                .disclosures
                .iter()
                .filter_map(|e| {
                    let details = e.details.as_ref()?;
                    let LedgerEvent::Disclosure { claims, .. } = details else {
                        return None;
                    };
                    Some(serde_json::json!({
                        "at": e.time_unix,
                        "claims": claims,
                        "how": endpoint_label(&page, details),
                        "seq": e.seq,
                    }))
                })
                .collect();
            serde_json::json!({
                "client_id": r.client_id,
                "name": r.name.clone().unwrap_or_else(|| r.client_id.clone()),
                "purpose": r.purpose,
                "consents": consents,
                "disclosures": disclosures,
            })
        })
        .collect();
    page.render(
        "ledger_recipients.html",
        minijinja::context! {
            services => services,
            recipients => recipients,
            shredded => view.shredded.len(),
            checkpoint_size => view.context.checkpoint.tree_size,
            invalid_dates => invalid_dates,
            filter => minijinja::context! {
                client_id => client.unwrap_or_default(),
                from => if invalid_dates { String::new() } else { q.from.clone().unwrap_or_default() },
                to => if invalid_dates { String::new() } else { q.to.clone().unwrap_or_default() },
            },
        },
    )
}

async fn staff_page(page: Page, State(state): State<AppState>, headers: HeaderMap) -> Response {
    let mut conn = match state.store.pool().acquire().await {
        Ok(c) => c,
        Err(e) => return page_error(&page, e),
    };
    let citizen_id = match page_citizen(&page, &mut conn, &headers, state.now()).await {
        Ok(id) => id,
        Err(r) => return r,
    };
    let view = match history::entries_of(
        &mut conn,
        &state.ledger,
        &citizen_id,
        Category::StaffAccess,
        &HistoryFilter::default(),
        state.now(),
    )
    .await
    {
        Ok(v) => v,
        Err(e) => return page_error(&page, e),
    };
    let accesses: Vec<_> = view
        .entries
        .iter()
        .filter_map(|e| match &e.details {
            Some(LedgerEvent::StaffAccess {
                staff_id,
                role,
                purpose,
                seen,
                ..
            }) => Some(serde_json::json!({
                "at": e.time_unix,
                "staff_id": staff_id,
                "role": role,
                "purpose": purpose,
                "seen": seen,
                "seq": e.seq,
            })),
            _ => None,
        })
        .collect();
    page.render(
        "ledger_staff.html",
        minijinja::context! {
            accesses => accesses,
            shredded => view.entries.iter().filter(|e| e.shredded).count(),
            checkpoint_size => view.context.checkpoint.tree_size,
        },
    )
}
