//! The console's pages for the roles that see no citizen: the
//! administrator's signing keys and the auditor's ledger verification and
//! aggregates.
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use sqin_app::staff::operations::{self, AuditInput};

use super::console::{day, me, see_other};
use super::StaffSignedIn;
use crate::http::AppState;
use crate::web::{CsrfForm, Page, PageError};

type PageResult = Result<Response, PageError>;

#[derive(Debug, Deserialize)]
pub(super) struct KeysQuery {
    rotated: Option<String>,
}

pub(super) async fn keys_page(
    page: Page,
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    Query(q): Query<KeysQuery>,
) -> PageResult {
    let keys = operations::signing_keys(&state, &actor).await?;
    let keys: Vec<_> = keys
        .iter()
        .map(|k| {
            minijinja::context! {
                kid => k.kid, alg => k.alg.as_str(), state => k.state.as_str(),
                created_at => k.created_at, activated_at => k.activated_at,
                publish_until => k.publish_until,
            }
        })
        .collect();
    Ok(page.render(
        "staff_keys.html",
        minijinja::context! {
            me => me(&state, &actor), keys => keys,
            rotated => q.rotated.map(|r| r.replace(',', ", ")),
        },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct Nothing {}

pub(super) async fn rotate_keys(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfForm { page, form: _ }: CsrfForm<Nothing>,
) -> PageResult {
    let rotation = operations::rotate_keys(&state, &actor).await?;
    let currents: Vec<&str> = rotation
        .algorithms
        .iter()
        .map(|a| a.current.as_str())
        .collect();
    Ok(see_other(
        &page,
        &format!("/keys?rotated={}", urlencoding(&currents.join(","))),
    ))
}

/// Key ids are base64url (here comma-separated): safe in a query as they
/// are; anything else is dropped rather than trusted.
fn urlencoding(kids: &str) -> String {
    kids.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ','))
        .collect()
}

#[derive(Debug, Deserialize)]
pub(super) struct LedgerQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The last 30 days unless the auditor chose a period.
fn period(state: &AppState, from: Option<&str>, to: Option<&str>) -> (i64, i64) {
    let now = state.now();
    let to = to.and_then(day).map(|d| d + 86_400).unwrap_or(now + 1);
    let from = from.and_then(day).unwrap_or(to - 30 * 86_400);
    (from, to)
}

pub(super) async fn ledger_page(
    page: Page,
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    Query(q): Query<LedgerQuery>,
) -> PageResult {
    let (from, to) = period(&state, q.from.as_deref(), q.to.as_deref());
    let aggregates = operations::aggregates(&state, &actor, from, to).await?;
    Ok(page.render(
        "staff_ledger.html",
        minijinja::context! {
            me => me(&state, &actor),
            aggregates => aggregates,
            vkey => state.ledger.vkey(),
            report => Option::<()>::None,
        },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// The report for the Commission over the chosen period, as a file to keep
/// (HTML in the console's language, or JSON): a download, read offline.
pub(super) async fn report_download(
    page: Page,
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    use axum::http::header;
    use axum::response::IntoResponse;
    let (from, to) = period(&state, q.from.as_deref(), q.to.as_deref());
    let report = operations::commission_report(&state, &actor, from, to).await?;
    let (body, content_type, extension) = match q.format.as_deref() {
        Some("json") => (
            serde_json::to_string_pretty(&report).map_err(PageError::internal)?,
            "application/json",
            "json",
        ),
        _ => (
            sqin_app::report::render_html(&report, page.locale.tag()),
            "text/html; charset=utf-8",
            "html",
        ),
    };
    let name = format!(
        "attachment; filename=\"sqin-report-{}-{}.{extension}\"",
        &report.from[..10],
        &crate::cli::rfc3339(to - 1)[..10]
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, name),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct VerifyForm {
    #[serde(default)]
    vkey: String,
    #[serde(default)]
    checkpoints: String,
}

/// Splits pasted checkpoint notes: each is separated from the next by an
/// empty line after its signature lines (a note itself has exactly one
/// empty line, between its body and its signatures).
fn notes(text: &str) -> Vec<String> {
    let text = text.replace("\r\n", "\n");
    let mut out = Vec::new();
    let mut current = String::new();
    let mut blank_seen = false;
    for line in text.lines() {
        if line.trim().is_empty() {
            if blank_seen && !current.is_empty() {
                out.push(std::mem::take(&mut current));
                blank_seen = false;
            } else if !current.is_empty() {
                current.push('\n');
                blank_seen = true;
            }
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

pub(super) async fn verify_ledger(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfForm { page, form }: CsrfForm<VerifyForm>,
) -> PageResult {
    let outcome = operations::verify_ledger(
        &state,
        &actor,
        AuditInput {
            vkey: Some(form.vkey.trim().to_owned()),
            checkpoints: notes(&form.checkpoints),
        },
    )
    .await?;
    let (from, to) = period(&state, None, None);
    let aggregates = operations::aggregates(&state, &actor, from, to).await?;
    Ok(page.render(
        "staff_ledger.html",
        minijinja::context! {
            me => me(&state, &actor),
            // This page answers a form: a confirmation leads to the form.
            reauth_return => "/ledger",
            aggregates => aggregates,
            vkey => state.ledger.vkey(),
            report => outcome.as_ref().ok(),
            failure => outcome.as_ref().err(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::notes;

    #[test]
    fn pasted_checkpoints_are_split_into_notes() {
        let one = "origin\n3\nabc=\n\n— key sig1\n";
        let two = "origin\n5\ndef=\n\n— key sig2\n— witness sig3\n";
        assert_eq!(notes(&format!("{one}\n{two}")), vec![one, two]);
        assert_eq!(
            notes(&format!("\r\n{}", one.replace('\n', "\r\n"))),
            vec![one]
        );
        assert!(notes("  \n\n").is_empty());
    }
}
