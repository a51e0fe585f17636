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
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqin_ledger_service::history::{self, HistoryFilter};
use sqin_ledger_service::{checkpoints, tree, Category, LedgerEvent};
use sqin_store::clients::ClientRecord;

use super::error::ApiError;
use super::extract::{Conn, SignedIn};
use super::AppState;
use crate::web::{Page, PageError};

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
}

/// The citizen's history pages (behind the pages' layer).
pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/account/history", get(recipients_page))
        .route("/account/history/staff", get(staff_page))
}

type ApiResult = Result<Response, ApiError>;

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

async fn about(State(state): State<AppState>, Conn(mut conn): Conn) -> ApiResult {
    let latest = checkpoints::latest(&mut conn).await?;
    state.ledger.refresh_keys(&mut conn).await?;
    Ok(cacheable(
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
    ))
}

async fn latest_checkpoint(Conn(mut conn): Conn) -> ApiResult {
    // With every witness cosignature it has (C2SP tlog-witness).
    let latest = checkpoints::latest(&mut conn).await?;
    let cp = checkpoints::with_cosignatures(&mut conn, latest).await?;
    Ok(cacheable(10, text(cp.note)))
}

#[derive(Debug, Deserialize)]
struct HistoryPage {
    after: Option<i64>,
    limit: Option<i64>,
}

async fn checkpoint_history(Conn(mut conn): Conn, Query(q): Query<HistoryPage>) -> ApiResult {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 1000"));
    }
    let page = checkpoints::history(&mut conn, q.after.unwrap_or(0), limit).await?;
    let next = (page.len() as i64 == limit)
        .then(|| page.last().map(|c| c.id))
        .flatten();
    Ok(cacheable(
        10,
        Json(json!({ "checkpoints": page, "next_after": next })),
    ))
}

async fn vkey(State(state): State<AppState>, Conn(mut conn): Conn) -> ApiResult {
    state.ledger.refresh_keys(&mut conn).await?;
    // Short caching: after a rotation the new key must show soon (a
    // reviewer holding the old one still verifies everything).
    Ok(cacheable(300, text(format!("{}\n", state.ledger.vkey()))))
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
) -> Result<u64, ApiError> {
    match size {
        Some(size) => Ok(size),
        None => Ok(checkpoints::latest(conn).await?.tree_size),
    }
}

fn decode_hash(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .or_else(|| sqin_crypto::b64url_decode(text.trim_end_matches('=')))
        .filter(|h| h.len() == 32)
}

async fn inclusion(Conn(mut conn): Conn, Query(q): Query<InclusionQuery>) -> ApiResult {
    let seq = match (q.seq, q.hash.as_deref()) {
        (Some(seq), None) => seq,
        (None, Some(hash)) => {
            let hash = decode_hash(hash)
                .ok_or_else(|| ApiError::bad_request("hash must be a base64 SHA-256 leaf hash"))?;
            let row = sqin_store::ledger::entry_by_leaf_hash(&mut conn, &hash)
                .await?
                .ok_or_else(|| ApiError::not_found("no entry has this leaf hash"))?;
            u64::try_from(row.seq).unwrap_or(u64::MAX)
        }
        _ => return Err(ApiError::bad_request("give exactly one of seq and hash")),
    };
    let tree_size = size_or_latest(&mut conn, q.tree_size).await?;
    let proof = tree::inclusion_proof(&mut conn, seq, tree_size).await?;
    Ok(cacheable(86_400, Json(proof)))
}

#[derive(Debug, Deserialize)]
struct ConsistencyQuery {
    first: u64,
    /// Defaults to the latest checkpoint's size.
    second: Option<u64>,
}

async fn consistency(Conn(mut conn): Conn, Query(q): Query<ConsistencyQuery>) -> ApiResult {
    let second = size_or_latest(&mut conn, q.second).await?;
    let proof = tree::consistency_proof(&mut conn, q.first, second).await?;
    Ok(cacheable(86_400, Json(proof)))
}

// ---------------------------------------------------------------- the citizen's own

#[derive(Debug, Deserialize)]
struct CitizenQuery {
    client_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `YYYY-MM-DD` (a UTC day, or a day in `zone` for the pages; `to`
/// includes the whole day) or Unix seconds.
fn parse_time(text: &str, end_of_day: bool, zone: Option<&str>) -> Option<i64> {
    if let Ok(unix) = text.parse::<i64>() {
        return Some(unix);
    }
    if let Some(zone) = zone {
        return crate::web::dates::day_start(text, zone, end_of_day);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(text, &format).ok()?;
    let start = date.midnight().assume_utc().unix_timestamp();
    Some(if end_of_day { start + 86_400 } else { start })
}

fn filter(q: &CitizenQuery) -> Result<HistoryFilter, ApiError> {
    filter_in(q, None)
}

/// [`filter`], with days in `zone` (the pages': the citizen's days).
fn filter_in(q: &CitizenQuery, zone: Option<&str>) -> Result<HistoryFilter, ApiError> {
    let day = |text: &Option<String>, end: bool, what: &str| match text
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        Some(s) => parse_time(s, end, zone)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("{what} must be YYYY-MM-DD"))),
        None => Ok(None),
    };
    Ok(HistoryFilter {
        client_id: q.client_id.clone().filter(|c| !c.is_empty()),
        from: day(&q.from, false, "from")?,
        to: day(&q.to, true, "to")?,
        categories: Vec::new(),
    })
}

async fn recipients(
    State(state): State<AppState>,
    citizen: SignedIn,
    Query(q): Query<CitizenQuery>,
) -> ApiResult {
    let filter = filter(&q)?;
    let mut conn = state.store.pool().acquire().await?;
    let view = history::recipients(
        &mut conn,
        &state.ledger,
        citizen.citizen_id(),
        &filter,
        state.now(),
    )
    .await?;
    Ok(Json(view).into_response())
}

async fn entries_of(
    state: AppState,
    citizen: SignedIn,
    q: CitizenQuery,
    category: Category,
) -> ApiResult {
    let filter = filter(&q)?;
    let mut conn = state.store.pool().acquire().await?;
    let view = history::entries_of(
        &mut conn,
        &state.ledger,
        citizen.citizen_id(),
        category,
        &filter,
        state.now(),
    )
    .await?;
    Ok(Json(view).into_response())
}

async fn staff_access(
    State(state): State<AppState>,
    citizen: SignedIn,
    Query(q): Query<CitizenQuery>,
) -> ApiResult {
    entries_of(state, citizen, q, Category::StaffAccess).await
}

async fn security(
    State(state): State<AppState>,
    citizen: SignedIn,
    Query(q): Query<CitizenQuery>,
) -> ApiResult {
    entries_of(state, citizen, q, Category::Security).await
}

async fn download(
    State(state): State<AppState>,
    citizen: SignedIn,
    Query(q): Query<CitizenQuery>,
) -> ApiResult {
    let filter = filter(&q)?;
    let mut conn = state.store.pool().acquire().await?;
    let at = state.now();
    let view =
        history::download(&mut conn, &state.ledger, citizen.citizen_id(), &filter, at).await?;
    let day = history::rfc3339(at)
        .get(..10)
        .unwrap_or("history")
        .to_owned();
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"sqin-history-{day}.json\""),
        )],
        Json(view),
    )
        .into_response())
}

// ---------------------------------------------------------------- pages

/// A service in the page's filter.
#[derive(Debug, Serialize)]
struct ServiceOption {
    client_id: String,
    name: String,
}

/// One consent as the recipients page shows it.
#[derive(Debug, Serialize)]
struct ConsentView {
    active: bool,
    status_label: String,
    granted_at: Option<i64>,
    claims: Vec<String>,
    purpose: Option<String>,
    expires_at: Option<i64>,
    seq: Option<u64>,
}

/// One disclosure as the recipients page shows it.
#[derive(Debug, Serialize)]
struct DisclosureView {
    at: i64,
    claims: Vec<String>,
    how: String,
    seq: u64,
}

/// One relying party's part of the recipients page.
#[derive(Debug, Serialize)]
struct RecipientView {
    client_id: String,
    name: String,
    purpose: Option<String>,
    consents: Vec<ConsentView>,
    disclosures: Vec<DisclosureView>,
}

/// One staff access as "Who looked at my file" shows it.
#[derive(Debug, Serialize)]
struct StaffAccessView {
    at: i64,
    staff_id: String,
    role: String,
    /// What was done ("Opened your file"), for entries that say.
    act: Option<String>,
    purpose: String,
    reference: Option<String>,
    seen: Vec<String>,
    seq: u64,
}

/// An element as a look-up recorded it: its id, with " (checked)" when the
/// role only verified it against what the caller said.
fn element_label(page: &Page, recorded: &str) -> String {
    match recorded.strip_suffix(" (checked)") {
        Some(id) => format!(
            "{} ({})",
            label(page, "element", id),
            page.t("ledger.checked")
        ),
        None => label(page, "element", recorded),
    }
}

/// The page's words for an id of the PIA (a role, a purpose, an element,
/// an action), or the id itself when the catalog has none.
fn label(page: &Page, prefix: &str, id: &str) -> String {
    let key = format!("{prefix}.{id}");
    let text = page.t(&key);
    if text == key {
        id.to_owned()
    } else {
        text
    }
}

/// Claims in the page's words ("Your given name"), as the consent page
/// names them.
fn claim_words(page: &Page, claims: &[String]) -> Vec<String> {
    claims.iter().map(|c| label(page, "claim", c)).collect()
}

/// A purpose as recorded in the ledger, in the page's language when it is
/// the service's registered purpose (the ledger keeps the words the
/// citizen agreed to; the registration has them in both languages).
fn purpose_words(page: &Page, recorded: &str, client: Option<&ClientRecord>) -> String {
    match client {
        Some(c) if c.purpose == recorded || c.purpose_fr.as_deref() == Some(recorded) => {
            c.purpose_in(page.locale.tag()).to_owned()
        }
        _ => recorded.to_owned(),
    }
}

fn consent_view(
    page: &Page,
    c: &history::ConsentView,
    client: Option<&ClientRecord>,
) -> ConsentView {
    let granted = c.entries.iter().find_map(|e| match &e.details {
        Some(LedgerEvent::ConsentGranted {
            claims,
            purpose,
            expires_at,
            ..
        }) => Some((e.time_unix, claims, purpose, *expires_at)),
        _ => None,
    });
    ConsentView {
        active: c.status == "active",
        status_label: page.t(&format!("ledger.status.{}", c.status)),
        granted_at: granted.map(|g| g.0),
        claims: granted.map(|g| claim_words(page, g.1)).unwrap_or_default(),
        purpose: granted.map(|g| purpose_words(page, g.2, client)),
        expires_at: granted.map(|g| g.3),
        seq: c.entries.first().map(|e| e.seq),
    }
}

fn disclosure_view(page: &Page, e: &history::HistoryEntry) -> Option<DisclosureView> {
    let Some(LedgerEvent::Disclosure {
        claims, endpoint, ..
    }) = &e.details
    else {
        return None;
    };
    Some(DisclosureView {
        at: e.time_unix,
        claims: claim_words(page, claims),
        how: page.t(&format!("ledger.endpoint.{}", endpoint.as_str())),
        seq: e.seq,
    })
}

async fn recipients_page(
    page: Page,
    State(state): State<AppState>,
    citizen: SignedIn,
    Query(q): Query<CitizenQuery>,
) -> Result<Response, PageError> {
    // Dates that do not parse show everything and say so; the service is
    // chosen among the citizen's own, so the list comes from all of them.
    let (mut wanted, invalid_dates) = match filter_in(&q, Some(page.time_zone())) {
        Ok(f) => (f, false),
        Err(_) => (HistoryFilter::default(), true),
    };
    let client = wanted.client_id.take();
    let mut conn = state.store.pool().acquire().await?;
    let view = history::recipients(
        &mut conn,
        &state.ledger,
        citizen.citizen_id(),
        &wanted,
        state.now(),
    )
    .await?;
    // Names and purposes in the page's language, from the registrations.
    let mut registered: std::collections::HashMap<String, Option<ClientRecord>> =
        std::collections::HashMap::new();
    for r in &view.recipients {
        let client = sqin_store::clients::get(&mut conn, &r.client_id).await?;
        registered.insert(r.client_id.clone(), client);
    }
    let client_of =
        |r: &history::RecipientView| registered.get(&r.client_id).and_then(Option::as_ref);
    let lang = page.locale.tag();
    let name = |r: &history::RecipientView| match client_of(r) {
        Some(c) => c.name_in(lang).to_owned(),
        None => r.name.clone().unwrap_or_else(|| r.client_id.clone()),
    };
    let services: Vec<ServiceOption> = view
        .recipients
        .iter()
        .map(|r| ServiceOption {
            client_id: r.client_id.clone(),
            name: name(r),
        })
        .collect();
    let recipients: Vec<RecipientView> = view
        .recipients
        .iter()
        .filter(|r| client.as_deref().is_none_or(|c| c == r.client_id))
        .map(|r| RecipientView {
            client_id: r.client_id.clone(),
            name: name(r),
            purpose: match client_of(r) {
                Some(c) => Some(c.purpose_in(lang).to_owned()),
                None => r.purpose.clone(),
            },
            consents: r
                .consents
                .iter()
                .map(|c| consent_view(&page, c, client_of(r)))
                .collect(),
            disclosures: r
                .disclosures
                .iter()
                .filter_map(|e| disclosure_view(&page, e))
                .collect(),
        })
        .collect();
    let shown = |v: &Option<String>| {
        if invalid_dates {
            String::new()
        } else {
            v.clone().unwrap_or_default()
        }
    };
    Ok(page.render(
        "ledger_recipients.html",
        minijinja::context! {
            services => services,
            recipients => recipients,
            shredded => view.shredded.len(),
            checkpoint_size => view.context.checkpoint.tree_size,
            invalid_dates => invalid_dates,
            filter => minijinja::context! {
                client_id => client.unwrap_or_default(),
                from => shown(&q.from),
                to => shown(&q.to),
            },
        },
    ))
}

async fn staff_page(
    page: Page,
    State(state): State<AppState>,
    citizen: SignedIn,
) -> Result<Response, PageError> {
    let mut conn = state.store.pool().acquire().await?;
    let view = history::entries_of(
        &mut conn,
        &state.ledger,
        citizen.citizen_id(),
        Category::StaffAccess,
        &HistoryFilter::default(),
        state.now(),
    )
    .await?;
    let accesses: Vec<StaffAccessView> = view
        .entries
        .iter()
        .filter_map(|e| match &e.details {
            Some(LedgerEvent::StaffAccess {
                staff_id,
                role,
                purpose,
                seen,
                action,
                reference,
                ..
            }) => Some(StaffAccessView {
                at: e.time_unix,
                staff_id: staff_id.clone(),
                role: label(&page, "role", role),
                act: action.as_deref().map(|a| label(&page, "act", a)),
                purpose: label(&page, "purpose", purpose),
                reference: reference.clone(),
                seen: seen.iter().map(|s| element_label(&page, s)).collect(),
                seq: e.seq,
            }),
            _ => None,
        })
        .collect();
    Ok(page.render(
        "ledger_staff.html",
        minijinja::context! {
            accesses => accesses,
            shredded => view.entries.iter().filter(|e| e.shredded).count(),
            checkpoint_size => view.context.checkpoint.tree_size,
        },
    ))
}
