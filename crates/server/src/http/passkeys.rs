//! Passkey enrolment, login and account pages (issue #5).
use axum::Router;

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
