//! Correction requests (A-2.1 s. 89, s. 98): a signed-in citizen asks from
//! their account page that an element of their file be corrected, saying
//! what is wrong; the request gets a reference and a due date and is routed
//! to the staff role of the PIA that handles corrections and may correct
//! that element (the registrar, in the repository's inventory). A member of
//! that role sees it in the console's queue (references, elements and
//! dates, never the text), opens the file for the `correction` purpose with
//! the request's reference (the ordinary, recorded look-up, where they may
//! check the stored value against the source register without seeing it),
//! and answers: corrected (the new value is checked as an import checks a
//! row, and the sealed record is written again under a new key) or refused
//! with reasons.
//!
//! Each step is in the citizen's ledger: the request (`rights_request`,
//! asked), the opening and the answer (`staff_access`, purpose
//! `correction`, in "Who looked at my file" and the access register), and
//! the outcome (`rights_request`, answered).
use sqin_ledger_contract::LedgerEvent;
use sqin_pia::AccessKind;
use sqin_staff::{RolePolicy, StaffAction};
use sqin_store::corrections::{self, CorrectionRequest, Decision};
use sqin_store::Connection;

use crate::staff::files::{self, FileRequest, FileView};
use crate::staff::{record_file_act, text, FileAct, StaffActor};
use crate::{AppError, AppResult, Services};

/// Days the body has to answer: s. 98 gives 20 days for an access or
/// correction request (extendable once by 10, with notice), which
/// pia/governance.md section 6 applies.
pub const ANSWER_DAYS: i64 = 20;

/// Longest description of what is wrong, in characters.
pub const MAX_DETAILS: usize = 2_000;

/// Longest answer, in characters.
pub const MAX_ANSWER: usize = 5_000;

/// Requests one citizen may have open at once.
pub const MAX_OPEN: i64 = 10;

/// The right, in ledger entries, and the purpose (PIA id) the file is
/// opened and answered for.
pub const RIGHT: &str = "correction";
pub const PURPOSE: &str = "correction";

/// An element a citizen may ask to correct, and the role its requests go
/// to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Correctable {
    /// The PIA element id (`citizen.family_name`).
    pub element: String,
    /// The staff role that answers (a PIA role id).
    pub routed_to: String,
}

/// The staff roles that handle corrections and may update `element`, as
/// the PIA says.
fn handlers<'p>(services: &'p Services, element: &str) -> Vec<&'p RolePolicy> {
    let Some(e) = services.pia.pia.element(element).filter(|e| !e.planned) else {
        return Vec::new();
    };
    services
        .staff_policy
        .roles()
        .filter(|r| r.may(StaffAction::CorrectionsHandle))
        .filter(|r| {
            e.roles
                .iter()
                .any(|a| a.role == r.id && a.access.contains(&AccessKind::Update))
        })
        .collect()
}

/// What a citizen may ask to correct: the register fields the code can
/// correct that the PIA lists, with a staff role that handles corrections
/// and may correct them.
pub fn correctable(services: &Services) -> Vec<Correctable> {
    sqin_register::CORRECTABLE
        .iter()
        .filter_map(|element| {
            let role = handlers(services, element).into_iter().next()?;
            Some(Correctable {
                element: (*element).to_owned(),
                routed_to: role.id.clone(),
            })
        })
        .collect()
}

/// A reference: "CR-" and a complaint-style file number.
fn reference(now: i64) -> AppResult<String> {
    Ok(format!("CR-{}", crate::complaints::file_number(now)?))
}

fn rights_entry(
    citizen_id: &str,
    request: &CorrectionRequest,
    step: &str,
    outcome: Option<Decision>,
) -> LedgerEvent {
    LedgerEvent::RightsRequest {
        citizen_id: citizen_id.to_owned(),
        right: RIGHT.to_owned(),
        reference: request.id.clone(),
        step: step.to_owned(),
        element: Some(request.element.clone()),
        routed_to: Some(request.routed_to.clone()),
        outcome: outcome.map(|d| d.as_str().to_owned()),
    }
}

/// A signed-in citizen asks that `element` of their file be corrected;
/// the request and its entry in their ledger are written together.
pub async fn ask(
    services: &Services,
    citizen_id: &str,
    element: &str,
    details: &str,
    now: i64,
) -> AppResult<CorrectionRequest> {
    let target = correctable(services)
        .into_iter()
        .find(|c| c.element == element)
        .ok_or_else(|| {
            AppError::Refused("choose the information to correct among those listed".into())
        })?;
    let details = text("what is wrong", details, MAX_DETAILS)?;
    let mut conn = services.store.pool().acquire().await?;
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    if corrections::open_for_citizen(&mut tx, citizen_id).await? >= MAX_OPEN {
        return Err(AppError::Refused(format!(
            "you already have {MAX_OPEN} correction requests waiting for an answer"
        )));
    }
    let request = CorrectionRequest {
        id: reference(now)?,
        citizen_id: citizen_id.to_owned(),
        element: target.element,
        details,
        routed_to: target.routed_to,
        received_at: now,
        answer_due: now + ANSWER_DAYS * 86_400,
        opened_at: None,
        opened_by: None,
        decision: None,
        answer: None,
        answered_by: None,
        closed_at: None,
    };
    corrections::insert(&mut tx, &request).await?;
    sqin_ledger_service::append(
        &mut tx,
        &services.ledger,
        rights_entry(citizen_id, &request, "asked", None),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(request = %request.id, routed_to = %request.routed_to, "correction request received");
    Ok(request)
}

/// A citizen's own requests, newest first.
pub async fn mine(services: &Services, citizen_id: &str) -> AppResult<Vec<CorrectionRequest>> {
    let mut conn = services.store.pool().acquire().await?;
    Ok(corrections::for_citizen(&mut conn, citizen_id).await?)
}

/// A request as the queue shows it: no text, no citizen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Queued {
    pub id: String,
    pub element: String,
    pub routed_to: String,
    pub received_at: i64,
    pub answer_due: i64,
    pub opened_at: Option<i64>,
    pub opened_by: Option<String>,
    pub decision: Option<&'static str>,
    pub answered_by: Option<String>,
    pub closed_at: Option<i64>,
    pub overdue: bool,
}

impl Queued {
    fn of(c: &CorrectionRequest, now: i64) -> Self {
        Self {
            id: c.id.clone(),
            element: c.element.clone(),
            routed_to: c.routed_to.clone(),
            received_at: c.received_at,
            answer_due: c.answer_due,
            opened_at: c.opened_at,
            opened_by: c.opened_by.clone(),
            decision: c.decision.map(Decision::as_str),
            answered_by: c.answered_by.clone(),
            closed_at: c.closed_at,
            overdue: c.closed_at.is_none() && c.answer_due < now,
        }
    }
}

/// The actor's roles that handle corrections.
fn handling_roles(services: &Services, actor: &StaffActor) -> AppResult<Vec<String>> {
    let roles: Vec<String> = actor
        .roles
        .iter()
        .filter_map(|r| services.staff_policy.role(r))
        .filter(|r| r.may(StaffAction::CorrectionsHandle))
        .map(|r| r.id.clone())
        .collect();
    if roles.is_empty() {
        return Err(AppError::Forbidden);
    }
    Ok(roles)
}

/// The requests routed to the actor's roles (the open ones with
/// `open_only`), oldest first, without their text.
pub async fn queue(
    services: &Services,
    actor: &StaffActor,
    open_only: bool,
) -> AppResult<Vec<Queued>> {
    let roles = handling_roles(services, actor)?;
    let mut conn = services.store.pool().acquire().await?;
    Ok(corrections::routed_to(&mut conn, &roles, open_only)
        .await?
        .iter()
        .map(|c| Queued::of(c, actor.now))
        .collect())
}

/// The request `id` if it is routed to one of the actor's roles, with that
/// role. Another role's request is "not found", like a missing one.
async fn routed(
    services: &'_ Services,
    conn: &mut Connection,
    actor: &StaffActor,
    id: &str,
) -> AppResult<(CorrectionRequest, String)> {
    let roles = handling_roles(services, actor)?;
    let id = id.trim();
    corrections::get(conn, id)
        .await?
        .filter(|c| roles.contains(&c.routed_to))
        .map(|c| {
            let role = c.routed_to.clone();
            (c, role)
        })
        .ok_or_else(|| AppError::NotFound(format!("no correction request {id} for your role")))
}

/// One request as the queue shows it, before the file is opened.
pub async fn summary(services: &Services, actor: &StaffActor, id: &str) -> AppResult<Queued> {
    let mut conn = services.store.pool().acquire().await?;
    let (request, _) = routed(services, &mut conn, actor, id).await?;
    Ok(Queued::of(&request, actor.now))
}

/// What the member of staff sees once the file is opened for a request.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Opened {
    pub request: Queued,
    /// What the citizen says is wrong.
    pub details: String,
    pub answer: Option<String>,
    pub file: FileView,
    /// Whether the role may check the element's stored value (so the page
    /// offers the field).
    pub checkable: bool,
}

/// Opens the file for request `id`: the purpose-bound look-up (purpose
/// `correction`, the request's reference), recorded in the access register
/// and the citizen's history before anything is shown; `stated`, if given,
/// is checked against the element's stored value (match or no match). The
/// request's text is shown with the file.
pub async fn open(
    services: &Services,
    actor: &StaffActor,
    id: &str,
    stated: Option<&str>,
) -> AppResult<Opened> {
    let mut conn = services.store.pool().acquire().await?;
    let (request, role_id) = routed(services, &mut conn, actor, id).await?;
    let role = services
        .staff_policy
        .role(&role_id)
        .ok_or(AppError::Forbidden)?;
    let citizen = sqin_store::citizens::by_id(&mut conn, &services.register, &request.citizen_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("the file of request {} is gone", request.id)))?;
    drop(conn);
    let checkable =
        role.verifiable.contains(&request.element) || role.readable.contains(&request.element);
    let verify = match stated.map(str::trim).filter(|s| !s.is_empty()) {
        Some(value) if checkable => vec![(request.element.clone(), value.to_owned())],
        Some(_) => return Err(AppError::Forbidden),
        None => Vec::new(),
    };
    let file = files::lookup_as(
        services,
        actor,
        role,
        &FileRequest {
            register_id: citizen.register_id.clone(),
            purpose: PURPOSE.into(),
            reference: request.id.clone(),
            verify,
        },
    )
    .await?;
    let mut conn = services.store.pool().acquire().await?;
    corrections::mark_opened(&mut conn, &request.id, &actor.member.badge, actor.now).await?;
    let request = corrections::get(&mut conn, &request.id)
        .await?
        .unwrap_or(request);
    Ok(Opened {
        request: Queued::of(&request, actor.now),
        details: request.details.clone(),
        answer: request.answer.clone(),
        file,
        checkable,
    })
}

/// The answer of a member of staff to a request.
#[derive(Debug, Clone)]
pub struct Answer {
    pub decision: Decision,
    /// For `corrected`: the element's new value, as the source register
    /// has it.
    pub value: Option<String>,
    /// The words to the citizen: what was corrected, or why not.
    pub text: String,
}

/// Answers request `id` (a sensitive action: a fresh passkey confirmation),
/// once its file was opened for it. `corrected` writes the new value to the
/// register, checked as an import checks a row; the answer, the staff
/// access and the outcome in the citizen's ledger are written in the same
/// transaction.
pub async fn answer(
    services: &Services,
    actor: &StaffActor,
    id: &str,
    answer: &Answer,
) -> AppResult<CorrectionRequest> {
    actor.require_fresh()?;
    let now = actor.now;
    let words = text("the answer", &answer.text, MAX_ANSWER)?;
    let mut conn = services.store.pool().acquire().await?;
    let (request, role) = routed(services, &mut conn, actor, id).await?;
    if request.closed_at.is_some() {
        return Err(AppError::Conflict(format!(
            "correction request {} is already answered",
            request.id
        )));
    }
    if request.opened_at.is_none() {
        return Err(AppError::Refused(
            "open the file for this request first (its opening is recorded)".into(),
        ));
    }
    let mut tx = sqin_store::begin_on(&mut conn).await?;
    let citizen = sqin_store::citizens::by_id(&mut tx, &services.register, &request.citizen_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("the file of request {} is gone", request.id)))?;
    if answer.decision == Decision::Corrected {
        let value = answer
            .value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                AppError::Refused("give the corrected value, as the source register has it".into())
            })?;
        let updated = sqin_register::corrected(&citizen, &request.element, value, now)
            .map_err(AppError::Refused)?;
        if !sqin_store::citizens::replace_fields(&mut tx, &services.register, &updated, now).await?
        {
            return Err(AppError::NotFound(format!(
                "the file of request {} is gone",
                request.id
            )));
        }
    }
    if !corrections::answer(
        &mut tx,
        &request.id,
        answer.decision,
        &words,
        &actor.member.badge,
        now,
    )
    .await?
    {
        return Err(AppError::Conflict(format!(
            "correction request {} is already answered",
            request.id
        )));
    }
    record_file_act(
        &mut tx,
        services,
        FileAct {
            actor,
            role: &role,
            action: "correction.answer",
            purpose: PURPOSE,
            reference: &request.id,
            register_id: &citizen.register_id,
            citizen_id: Some(&citizen.id),
            elements: vec![request.element.clone()],
        },
        now,
    )
    .await?;
    sqin_ledger_service::append(
        &mut tx,
        &services.ledger,
        rights_entry(&citizen.id, &request, "answered", Some(answer.decision)),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(request = %request.id, decision = answer.decision.as_str(), "correction request answered");
    let mut conn = services.store.pool().acquire().await?;
    corrections::get(&mut conn, &request.id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no correction request {id}")))
}

/// One step of a request as the citizen's ledger records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    /// The entry's place in the log.
    pub seq: u64,
    pub at: i64,
    /// `asked`, `opened` (a member of staff opened the file for it),
    /// `answered` (a member of staff answered it) or `outcome` (the
    /// decision).
    pub step: &'static str,
    /// The member of staff's badge and role, for `opened` and `answered`.
    pub badge: Option<String>,
    pub role: Option<String>,
    /// `corrected` or `refused`, for `outcome`.
    pub outcome: Option<String>,
}

/// A citizen's request with the steps their ledger records.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Followed {
    pub id: String,
    pub element: String,
    pub details: String,
    pub routed_to: String,
    pub received_at: i64,
    pub answer_due: i64,
    pub opened_at: Option<i64>,
    pub decision: Option<&'static str>,
    pub answer: Option<String>,
    pub closed_at: Option<i64>,
    pub overdue: bool,
    pub steps: Vec<Step>,
}

/// An element the citizen may ask to correct, with its value in their file
/// (theirs to see).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Offered {
    pub element: String,
    pub value: Option<String>,
    pub routed_to: String,
}

/// What the citizen's corrections page shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CitizenView {
    pub requests: Vec<Followed>,
    pub offered: Vec<Offered>,
}

/// The steps of each request in the citizen's ledger, by reference.
async fn steps(
    services: &Services,
    conn: &mut Connection,
    citizen_id: &str,
    now: i64,
) -> AppResult<std::collections::BTreeMap<String, Vec<Step>>> {
    use sqin_ledger_service::history::{self, HistoryFilter};
    use sqin_ledger_service::Category;
    let mut by_reference: std::collections::BTreeMap<String, Vec<Step>> = Default::default();
    for category in [Category::Requests, Category::StaffAccess] {
        let view = history::entries_of(
            conn,
            &services.ledger,
            citizen_id,
            category,
            &HistoryFilter::default(),
            now,
        )
        .await?;
        for entry in view.entries {
            let (reference, step) = match entry.details {
                Some(LedgerEvent::RightsRequest {
                    reference,
                    step,
                    outcome,
                    right,
                    ..
                }) if right == RIGHT => {
                    let kind = if step == "asked" { "asked" } else { "outcome" };
                    (
                        reference,
                        Step {
                            seq: entry.seq,
                            at: entry.time_unix,
                            step: kind,
                            badge: None,
                            role: None,
                            outcome,
                        },
                    )
                }
                Some(LedgerEvent::StaffAccess {
                    staff_id,
                    role,
                    purpose,
                    action,
                    reference: Some(reference),
                    ..
                }) if purpose == PURPOSE => {
                    let kind = match action.as_deref() {
                        Some("correction.answer") => "answered",
                        _ => "opened",
                    };
                    (
                        reference,
                        Step {
                            seq: entry.seq,
                            at: entry.time_unix,
                            step: kind,
                            badge: Some(staff_id),
                            role: Some(role),
                            outcome: None,
                        },
                    )
                }
                _ => continue,
            };
            by_reference.entry(reference).or_default().push(step);
        }
    }
    for steps in by_reference.values_mut() {
        steps.sort_by_key(|s| s.seq);
    }
    Ok(by_reference)
}

/// The citizen's requests with the steps their ledger records, and what
/// they may ask to correct, with its value in their file.
pub async fn for_citizen(
    services: &Services,
    citizen_id: &str,
    now: i64,
) -> AppResult<CitizenView> {
    let mut conn = services.store.pool().acquire().await?;
    let citizen = sqin_store::citizens::by_id(&mut conn, &services.register, citizen_id)
        .await?
        .ok_or_else(|| AppError::NotFound("the account is gone".into()))?;
    let mut steps = steps(services, &mut conn, citizen_id, now).await?;
    let requests = corrections::for_citizen(&mut conn, citizen_id)
        .await?
        .into_iter()
        .map(|c| Followed {
            steps: steps.remove(&c.id).unwrap_or_default(),
            overdue: c.closed_at.is_none() && c.answer_due < now,
            decision: c.decision.map(Decision::as_str),
            id: c.id,
            element: c.element,
            details: c.details,
            routed_to: c.routed_to,
            received_at: c.received_at,
            answer_due: c.answer_due,
            opened_at: c.opened_at,
            answer: c.answer,
            closed_at: c.closed_at,
        })
        .collect();
    let offered = correctable(services)
        .into_iter()
        .filter_map(|c| {
            let value = files::element_value(&citizen, &c.element)?;
            Some(Offered {
                element: c.element,
                value,
                routed_to: c.routed_to,
            })
        })
        .collect();
    Ok(CitizenView { requests, offered })
}
