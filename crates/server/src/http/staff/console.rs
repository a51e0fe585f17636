//! The console's pages: each takes the signed-in member of staff, calls one
//! function of `sqin_app::staff`, and renders the answer. Which links a page
//! shows follows the member's roles; what they may do is checked again by
//! the function itself on every request.
use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use sqin_app::staff::directory::GrantAsk;
use sqin_app::staff::files::FileRequest;
use sqin_app::staff::review::ReviewFilter;
use sqin_app::staff::StaffActor;
use sqin_staff::four_eyes::RequestKind;
use sqin_staff::StaffAction;

use super::StaffSignedIn;
use crate::http::AppState;
use crate::web::{CsrfForm, Page, PageError};

type PageResult = Result<Response, PageError>;

/// What the layout of every console page needs to know of the member.
#[derive(Debug, Serialize)]
pub(super) struct Me {
    badge: String,
    name: String,
    roles: Vec<String>,
    fresh: bool,
    lookup: bool,
    requests: bool,
    directory: bool,
    review: bool,
    complaints: bool,
    corrections: bool,
    letters: bool,
    keys: bool,
    clients: bool,
    ledger: bool,
}

pub(super) fn me(state: &AppState, actor: &StaffActor) -> Me {
    let may = |a| actor.may(state, a);
    Me {
        badge: actor.member.badge.clone(),
        name: actor.member.display_name.clone(),
        roles: actor.roles.clone(),
        fresh: actor.fresh(),
        lookup: may(StaffAction::FileLookup),
        requests: [
            StaffAction::RecoveryRequest,
            StaffAction::RecoveryApprove,
            StaffAction::ClosureRequest,
            StaffAction::ClosureApprove,
            StaffAction::GrantApprove,
            StaffAction::ClientsManage,
            StaffAction::ClientsApprove,
        ]
        .into_iter()
        .any(may),
        directory: may(StaffAction::StaffInvite) || may(StaffAction::GrantApprove),
        review: may(StaffAction::AccessReview),
        complaints: may(StaffAction::ComplaintsHandle),
        corrections: may(StaffAction::CorrectionsHandle),
        letters: may(StaffAction::LettersPrint),
        keys: may(StaffAction::KeysRotate),
        clients: may(StaffAction::ClientsManage) || may(StaffAction::ClientsApprove),
        ledger: may(StaffAction::LedgerVerify),
    }
}

pub(super) fn see_other(page: &Page, to: &str) -> Response {
    page.finish(Redirect::to(to).into_response())
}

/// A calendar day (YYYY-MM-DD) as the Unix time of its start, UTC.
pub(super) fn day(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), format)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

fn refused(message: &str) -> PageError {
    PageError::from(sqin_app::AppError::Refused(message.into()))
}

pub(super) async fn home(
    page: Page,
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
) -> Response {
    page.render(
        "staff_home.html",
        minijinja::context! { me => me(&state, &actor) },
    )
}

// ---------------------------------------------------------------- files

/// The look-up form: the purposes the member's role may state, and the
/// elements it may only check. The register id is not among them: the file
/// is opened by it, so the look-up itself is its check (recorded as such),
/// and a second "Register id" field would only repeat the first one's name.
pub(super) async fn files_form(
    page: Page,
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
) -> PageResult {
    let role = actor.role_for(&state, StaffAction::FileLookup)?;
    let verifiable: Vec<&String> = role
        .verifiable
        .iter()
        .filter(|e| e.as_str() != "citizen.register_id")
        .collect();
    Ok(page.render(
        "staff_files.html",
        minijinja::context! {
            me => me(&state, &actor),
            purposes => role.lookup_purposes,
            verifiable => verifiable,
        },
    ))
}

pub(super) async fn open_file(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfForm { page, form }: CsrfForm<BTreeMap<String, String>>,
) -> PageResult {
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let verify: Vec<(String, String)> = form
        .iter()
        .filter_map(|(k, v)| {
            let element = k.strip_prefix("verify:")?;
            (!v.trim().is_empty()).then(|| (element.to_owned(), v.clone()))
        })
        .collect();
    let view = sqin_app::staff::files::lookup(
        &state,
        &actor,
        &FileRequest {
            register_id: field("register_id"),
            purpose: field("purpose"),
            reference: field("reference"),
            verify,
        },
    )
    .await?;
    Ok(page.render(
        "staff_file.html",
        minijinja::context! {
            me => me(&state, &actor),
            // This page answers a form: a confirmation leads to the form.
            reauth_return => "/files",
            file => view,
            purpose => field("purpose"),
            reference => field("reference"),
        },
    ))
}

// ---------------------------------------------------------------- requests

pub(super) async fn requests_page(
    page: Page,
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
) -> PageResult {
    let open = sqin_app::staff::requests::open(&state, &actor).await?;
    let purposes: Vec<String> = actor
        .roles
        .iter()
        .filter_map(|r| state.staff_policy.role(r))
        .filter(|r| r.may(StaffAction::RecoveryRequest) || r.may(StaffAction::ClosureRequest))
        .flat_map(|r| r.lookup_purposes.clone())
        .collect();
    Ok(page.render(
        "staff_requests.html",
        minijinja::context! {
            me => me(&state, &actor),
            requests => open,
            can_request => !purposes.is_empty(),
            purposes => purposes,
        },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct NewRequest {
    kind: String,
    #[serde(default)]
    register_id: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    reference: String,
}

pub(super) async fn new_request(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfForm { page, form }: CsrfForm<NewRequest>,
) -> PageResult {
    let kind = match RequestKind::parse(&form.kind) {
        Some(k @ (RequestKind::Recovery | RequestKind::Closure)) => k,
        _ => return Err(refused("choose a recovery code or an account closure")),
    };
    sqin_app::staff::requests::request(
        &state,
        &actor,
        kind,
        &form.register_id,
        &form.purpose,
        &form.reference,
    )
    .await?;
    Ok(see_other(&page, "/requests?made=1"))
}

#[derive(Debug, Deserialize)]
pub(super) struct Decide {
    id: String,
    decision: String,
}

pub(super) async fn decide_request(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfForm { page, form }: CsrfForm<Decide>,
) -> PageResult {
    match form.decision.as_str() {
        "approve" => {
            sqin_app::staff::requests::approve(&state, &actor, &form.id).await?;
        }
        "refuse" => sqin_app::staff::requests::refuse(&state, &actor, &form.id).await?,
        _ => return Err(refused("approve or refuse")),
    }
    Ok(see_other(&page, "/requests?decided=1"))
}

// ---------------------------------------------------------------- directory

pub(super) async fn directory_page(
    page: Page,
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
) -> PageResult {
    let members = sqin_app::staff::directory::members(&state, &actor).await?;
    let grantable: Vec<String> = actor
        .roles
        .iter()
        .filter_map(|r| state.staff_policy.role(r))
        .filter(|r| r.may(StaffAction::StaffInvite))
        .flat_map(|r| r.may_grant.iter().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    Ok(page.render(
        "staff_directory.html",
        minijinja::context! {
            me => me(&state, &actor),
            members => members,
            grantable => grantable,
        },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct InviteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    badge: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    until: String,
}

fn ask(form: &InviteForm) -> Result<GrantAsk, PageError> {
    let until =
        day(&form.until).ok_or_else(|| refused("give the grant's end date (YYYY-MM-DD)"))?;
    Ok(GrantAsk {
        role: form.role.clone(),
        reason: form.reason.clone(),
        until,
    })
}

pub(super) async fn invite(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfForm { page, form }: CsrfForm<InviteForm>,
) -> PageResult {
    let invitation =
        sqin_app::staff::directory::invite(&state, &actor, &form.name, &ask(&form)?).await?;
    // Shown once, to be handed over in person; never stored in clear.
    Ok(page.render(
        "staff_invited.html",
        minijinja::context! {
            me => me(&state, &actor),
            reauth_return => "/staff",
            badge => invitation.member.badge,
            name => invitation.member.display_name,
            role => form.role,
            code => invitation.code.expose(),
            expires_at => invitation.expires_at,
            enrol_url => format!("{}/enrol", state.config.staff_url.as_str().trim_end_matches('/')),
        },
    ))
}

pub(super) async fn request_grant(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfForm { page, form }: CsrfForm<InviteForm>,
) -> PageResult {
    sqin_app::staff::directory::request_grant(&state, &actor, &form.badge, &ask(&form)?).await?;
    Ok(see_other(&page, "/staff?requested=1"))
}

#[derive(Debug, Deserialize)]
pub(super) struct RevokeForm {
    grant_id: String,
    #[serde(default)]
    reason: String,
}

pub(super) async fn revoke_grant(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfForm { page, form }: CsrfForm<RevokeForm>,
) -> PageResult {
    sqin_app::staff::directory::revoke_grant(&state, &actor, &form.grant_id, &form.reason).await?;
    Ok(see_other(&page, "/staff?revoked=1"))
}

// ---------------------------------------------------------------- review

#[derive(Debug, Deserialize)]
pub(super) struct ReviewQuery {
    badge: Option<String>,
    register_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    flagged: Option<String>,
}

pub(super) async fn review_page(
    page: Page,
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    Query(q): Query<ReviewQuery>,
) -> PageResult {
    let filter = ReviewFilter {
        badge: q.badge.clone(),
        register_id: q.register_id.clone(),
        from: q.from.as_deref().and_then(day),
        to: q.to.as_deref().and_then(day).map(|d| d + 86_400),
        flagged_only: q.flagged.is_some(),
    };
    let rows = sqin_app::staff::review::accesses(&state, &actor, &filter).await?;
    let alerts = sqin_app::staff::review::alerts(&state, &actor).await?;
    let alerts: Vec<_> = alerts
        .into_iter()
        .map(|a| minijinja::context! { id => a.id, at => a.at, badge => a.badge, kind => a.kind, detail => a.detail })
        .collect();
    Ok(page.render(
        "staff_review.html",
        minijinja::context! {
            me => me(&state, &actor),
            rows => rows,
            alerts => alerts,
            filter => minijinja::context! {
                badge => q.badge.unwrap_or_default(),
                from => q.from.unwrap_or_default(),
                to => q.to.unwrap_or_default(),
                flagged => q.flagged.is_some(),
            },
        },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct AlertForm {
    id: i64,
}

pub(super) async fn acknowledge_alert(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfForm { page, form }: CsrfForm<AlertForm>,
) -> PageResult {
    sqin_app::staff::review::acknowledge(&state, &actor, form.id).await?;
    Ok(see_other(&page, "/review"))
}

// ---------------------------------------------------------------- complaints

#[derive(Debug, Serialize)]
struct ComplaintRow {
    id: String,
    received_at: i64,
    answer_due: i64,
    closed_at: Option<i64>,
    overdue: bool,
}

pub(super) async fn complaints_page(
    page: Page,
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
) -> PageResult {
    let now = actor.now;
    let rows: Vec<ComplaintRow> = sqin_app::complaints::list(&state, &actor, false)
        .await?
        .into_iter()
        .map(|c| ComplaintRow {
            overdue: c.closed_at.is_none() && c.answer_due < now,
            id: c.id,
            received_at: c.received_at,
            answer_due: c.answer_due,
            closed_at: c.closed_at,
        })
        .collect();
    Ok(page.render(
        "staff_complaints.html",
        minijinja::context! { me => me(&state, &actor), complaints => rows },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct ComplaintQuery {
    id: String,
}

/// Opens one complaint: the access is recorded before it is shown.
pub(super) async fn complaint_page(
    page: Page,
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    Query(q): Query<ComplaintQuery>,
) -> PageResult {
    let c = sqin_app::complaints::open(&state, &actor, &q.id).await?;
    // Filed without an account: how to send the answer.
    let contact = c
        .contact
        .as_deref()
        .and_then(sqin_app::complaints::Contact::from_stored)
        .map(|k| minijinja::context! { kind => k.kind(), value => k.value() });
    Ok(page.render(
        "staff_complaint.html",
        minijinja::context! {
            me => me(&state, &actor),
            complaint => minijinja::context! {
                id => c.id, subject => c.subject, facts => c.facts,
                received_at => c.received_at, answer_due => c.answer_due,
                answer => c.answer, answered_by => c.answered_by, closed_at => c.closed_at,
                contact => contact,
            },
        },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct AnswerForm {
    id: String,
    #[serde(default)]
    text: String,
}

pub(super) async fn answer_complaint(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfForm { page, form }: CsrfForm<AnswerForm>,
) -> PageResult {
    sqin_app::complaints::answer(&state, &actor, &form.id, &form.text).await?;
    Ok(see_other(&page, "/complaints?answered=1"))
}

// ---------------------------------------------------------------- letters

pub(super) async fn letters_page(
    page: Page,
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
) -> PageResult {
    let waiting = sqin_app::staff::letters::waiting(&state, &actor).await?;
    Ok(page.render(
        "staff_letters.html",
        minijinja::context! { me => me(&state, &actor), waiting => waiting },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct Empty {}

/// The waiting letters as a CSV file for the mail merge (recorded per
/// citizen).
pub(super) async fn print_letters(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfForm { page, form: _ }: CsrfForm<Empty>,
) -> PageResult {
    let csv = sqin_app::staff::letters::print(&state, &actor).await?;
    Ok(page.finish(
        (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"sqin-letters.csv\"",
                ),
            ],
            csv,
        )
            .into_response(),
    ))
}
