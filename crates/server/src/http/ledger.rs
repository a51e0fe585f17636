//! The consent ledger's public endpoints (issue #6).
use axum::Router;

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
