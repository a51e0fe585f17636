//! The witness side of C2SP `tlog-witness` over HTTP (`sqin witness
//! serve`): what an independent party (the Commission) runs, with its own
//! key and the log keys it watches. (The log side, asking witnesses to
//! cosign, is `sqin_app::witness`.)
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use sqin_app::Clock;
use sqin_witness::{Witness, MAX_REQUEST_BYTES};

/// The witness's HTTP interface: `POST /add-checkpoint`.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(witness)
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: String) -> Response {
    let now = u64::try_from(sqin_app::SystemClock.now()).unwrap_or(0);
    match witness.add_checkpoint(&body, now) {
        Ok(line) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], line).into_response(),
        Err(sqin_witness::WitnessError::Conflict { size }) => (
            StatusCode::CONFLICT,
            [(header::CONTENT_TYPE, "text/x.tlog.size")],
            format!("{size}\n"),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "witness refused a checkpoint");
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{e}\n"),
            )
                .into_response()
        }
    }
}
