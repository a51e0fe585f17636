//! The OpenID Provider endpoints (issue #4).
use axum::Router;

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
