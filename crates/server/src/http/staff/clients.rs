//! The console's relying-party pages: the list, with each client's PIA
//! entry and state, for the administrator (who suspends, resumes and
//! rotates secrets) and the privacy officer (who approves on the requests
//! page). Registration and edits come through the CLI, the admin API and
//! RFC 7591; all of them call `sqin_app::clients`.
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use sqin_app::clients::{self, ClientActor};
use sqin_staff::StaffAction;

use super::console::{me, see_other};
use super::StaffSignedIn;
use crate::http::AppState;
use crate::web::{CsrfForm, Page, PageError};

type PageResult = Result<Response, PageError>;

pub(super) async fn clients_page(
    page: Page,
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
) -> PageResult {
    // The privacy officer sees the list too (to know what they approve),
    // through the administrator's listing rule or their own.
    let by = ClientActor::Staff(&actor);
    let all = if actor.may(&state, StaffAction::ClientsManage) {
        clients::list(&state, &by).await?
    } else {
        actor.role_for(&state, StaffAction::ClientsApprove)?;
        let mut conn = state.store.pool().acquire().await?;
        sqin_store::clients::list(&mut conn).await?
    };
    let rows: Vec<_> = all
        .iter()
        .map(|c| {
            minijinja::context! {
                client_id => c.client_id, name => c.name_in(page.locale.tag()),
                pia_entry => c.pia_entry, status => c.status.as_str(),
                reason => c.status_reason, version => c.version,
                scope => c.scopes.join(" "), claims => c.claims.clone().unwrap_or_default().join(" "),
                sector => c.sector, subject_type => c.subject_type.as_str(),
            }
        })
        .collect();
    Ok(page.render(
        "staff_clients.html",
        minijinja::context! {
            me => me(&state, &actor),
            clients => rows,
            manage => actor.may(&state, StaffAction::ClientsManage),
        },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct StateForm {
    client_id: String,
    action: String,
    #[serde(default)]
    reason: String,
}

pub(super) async fn change_state(
    State(state): State<AppState>,
    StaffSignedIn(actor): StaffSignedIn,
    CsrfForm { page, form }: CsrfForm<StateForm>,
) -> PageResult {
    let by = ClientActor::Staff(&actor);
    let suspend = match form.action.as_str() {
        "suspend" => true,
        "resume" => false,
        _ => {
            return Err(PageError::from(sqin_app::AppError::Refused(
                "choose suspend or resume".into(),
            )))
        }
    };
    clients::set_suspended(&state, &by, &form.client_id, suspend, &form.reason).await?;
    Ok(see_other(&page, "/clients"))
}
