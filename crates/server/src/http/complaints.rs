//! Complaints from people without an account (pia/governance.md, section
//! 6), on the public listener:
//!
//! - `GET /complaints`, `POST /complaints`: the form (a contact to be
//!   answered at, by email or by mail, a subject and the facts); filing it
//!   shows, once, the file number, the date the answer is due and a status
//!   code. Rate-limited per client address.
//! - `GET /complaints/status`, `POST /complaints/status`: the file number
//!   and the status code give the complaint's state and the answer.
//!
//! A signed-in citizen files from `/account/complaints` instead (their
//! answer is on their account). The privacy officer handles both in the
//! staff console. The orchestration is `sqin_app::complaints`.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use sqin_app::complaints::Contact;
use sqin_app::AppError;

use super::AppState;
use crate::web::{CsrfForm, Page, PageError};

/// The pages (behind the pages' layer).
pub fn page_routes() -> Router<AppState> {
    Router::new()
        .route("/complaints", get(form_page).post(file))
        .route("/complaints/status", get(status_form).post(status))
}

fn form(page: &Page, status: StatusCode, error: Option<&str>, kept: &FileForm) -> Response {
    page.render_status(
        status,
        "public_complaint.html",
        minijinja::context! {
            error => error,
            contact_kind => kept.contact_kind,
            contact => kept.contact,
            subject => kept.subject,
            facts => kept.facts,
        },
    )
}

async fn form_page(page: Page) -> Response {
    form(&page, StatusCode::OK, None, &FileForm::default())
}

#[derive(Debug, Default, Deserialize)]
struct FileForm {
    #[serde(default)]
    contact_kind: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    facts: String,
}

async fn file(
    State(state): State<AppState>,
    CsrfForm { page, form: f }: CsrfForm<FileForm>,
) -> Result<Response, PageError> {
    let contact = match Contact::parse(&f.contact_kind, &f.contact) {
        Ok(contact) => contact,
        Err(_) => {
            return Ok(form(
                &page,
                StatusCode::BAD_REQUEST,
                Some("public_complaint.invalid_contact"),
                &f,
            ))
        }
    };
    let filed = sqin_app::complaints::file_without_account(
        &state,
        &contact,
        &f.subject,
        &f.facts,
        page.client,
        state.now(),
    )
    .await;
    match filed {
        // Shown once: the status code is stored only as a hash.
        Ok((complaint, code)) => Ok(page.render(
            "public_complaint_filed.html",
            minijinja::context! {
                number => complaint.id,
                code => code.expose(),
                due => complaint.answer_due,
            },
        )),
        Err(AppError::Refused(_)) => Ok(form(
            &page,
            StatusCode::BAD_REQUEST,
            Some("complaints.invalid"),
            &f,
        )),
        Err(e) => Err(e.into()),
    }
}

fn status_page(page: &Page, status: StatusCode, error: Option<&str>, number: &str) -> Response {
    page.render_status(
        status,
        "complaint_status.html",
        minijinja::context! { error => error, number => number, complaint => None::<()> },
    )
}

async fn status_form(page: Page) -> Response {
    status_page(&page, StatusCode::OK, None, "")
}

#[derive(Debug, Deserialize)]
struct StatusForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    code: String,
}

async fn status(
    State(state): State<AppState>,
    CsrfForm { page, form }: CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    let found =
        sqin_app::complaints::status(&state, &form.number, &form.code, page.client, state.now())
            .await;
    match found {
        Ok(c) => Ok(page.render(
            "complaint_status.html",
            minijinja::context! {
                number => c.id,
                complaint => minijinja::context! {
                    id => c.id, subject => c.subject, received_at => c.received_at,
                    answer_due => c.answer_due, answer => c.answer, closed_at => c.closed_at,
                },
            },
        )),
        Err(AppError::NotFound(_)) => Ok(status_page(
            &page,
            StatusCode::NOT_FOUND,
            Some("complaint_status.not_found"),
            &form.number,
        )),
        Err(e) => Err(e.into()),
    }
}
