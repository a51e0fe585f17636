//! The correction requests routed to the member's role (the registrar, in
//! the repository's inventory): the queue, one request before its file is
//! opened, the file opened for it (recorded), and the answer. Each handler
//! calls one function of `sqin_app::corrections`.
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use sqin_app::corrections::Answer;
use sqin_store::corrections::Decision;

use super::console::{me, see_other};
use super::StaffSignedIn;
use crate::http::AppState;
use crate::web::{CsrfForm, Page, PageError};

type PageResult = Result<Response, PageError>;

pub(super) async fn queue_page(
    page: Page,
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
) -> PageResult {
    let queue = sqin_app::corrections::queue(&state, &actor, false).await?;
    Ok(page.render(
        "staff_corrections.html",
        minijinja::context! { me => me(&state, &actor), requests => queue },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct IdQuery {
    #[serde(default)]
    id: String,
}

/// One request before its file is opened: reference, element, dates; the
/// text comes with the file.
pub(super) async fn request_page(
    page: Page,
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    Query(q): Query<IdQuery>,
) -> PageResult {
    let request = sqin_app::corrections::summary(&state, &actor, &q.id).await?;
    Ok(page.render(
        "staff_correction.html",
        minijinja::context! {
            me => me(&state, &actor),
            request => request,
            opened => None::<()>,
        },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct OpenForm {
    #[serde(default)]
    id: String,
    /// The value the source register has, to check against the file.
    #[serde(default)]
    stated: String,
}

/// Opens the file for the request (recorded first), with the request's
/// text and the answer form.
pub(super) async fn open_file(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfForm { page, form }: CsrfForm<OpenForm>,
) -> PageResult {
    let opened =
        sqin_app::corrections::open(&state, &actor, &form.id, Some(form.stated.as_str())).await?;
    Ok(page.render(
        "staff_correction.html",
        minijinja::context! {
            me => me(&state, &actor),
            // A confirmation leads back to the queue, where the request is
            // opened again.
            reauth_return => "/corrections",
            request => opened.request,
            opened => opened,
        },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct AnswerForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    text: String,
}

pub(super) async fn answer(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfForm { page, form }: CsrfForm<AnswerForm>,
) -> PageResult {
    let decision = Decision::parse(&form.decision).ok_or_else(|| {
        PageError::from(sqin_app::AppError::Refused(
            "answer corrected or refused".into(),
        ))
    })?;
    sqin_app::corrections::answer(
        &state,
        &actor,
        &form.id,
        &Answer {
            decision,
            value: Some(form.value.clone()),
            text: form.text.clone(),
        },
    )
    .await?;
    Ok(see_other(&page, "/corrections?answered=1"))
}
