//! Witnesses of the consent ledger, both sides of C2SP `tlog-witness`.
//!
//! - The log side ([`cosign_all`]): after each checkpoint, every configured
//!   witness is sent the latest checkpoint with a consistency proof from the
//!   size it last cosigned; its cosignature is verified and kept, and
//!   `/ledger/checkpoint` serves the note with every cosignature.
//! - The witness side ([`router`], `sqin witness serve`): what an
//!   independent party (the Commission) runs, with its own key and the log
//!   keys it watches.
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use sqin_ledger_service::core::{CosignatureVerifier, SignedCheckpoint};
use sqin_ledger_service::{checkpoints, tree};
use sqin_store::ledger as store;
use sqin_witness::{request_body, Witness, MAX_REQUEST_BYTES};

use crate::bootstrap::{now, Services};
use crate::config::LedgerWitness;

/// The witness's HTTP interface: `POST /add-checkpoint`.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(witness)
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: String) -> Response {
    let now = u64::try_from(now()).unwrap_or(0);
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

/// What asking one witness gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It cosigned the checkpoint of this size.
    Cosigned(u64),
    /// It had already cosigned the latest checkpoint.
    AlreadyCosigned,
}

/// Asks every configured witness to cosign the latest checkpoint. A witness
/// that refuses or cannot be reached is reported and asked again at the
/// next checkpoint; it never stops the log.
pub async fn cosign_all(services: &Services) -> Vec<(String, anyhow::Result<Outcome>)> {
    let mut out = Vec::new();
    for w in &services.config.ledger_witnesses {
        let outcome = cosign(services, w).await;
        if let Err(e) = &outcome {
            tracing::warn!(witness = %w.url, error = %format!("{e:#}"), "a ledger witness did not cosign");
        }
        out.push((w.vkey.clone(), outcome));
    }
    out
}

/// Asks one witness to cosign the latest checkpoint.
pub async fn cosign(services: &Services, witness: &LedgerWitness) -> anyhow::Result<Outcome> {
    let verifier = CosignatureVerifier::from_vkey(&witness.vkey)?;
    let mut conn = services.store.pool().acquire().await?;
    let latest = checkpoints::latest(&mut conn).await?;
    if store::cosignatures(&mut conn, latest.id)
        .await?
        .iter()
        .any(|(w, _)| *w == witness.vkey)
    {
        return Ok(Outcome::AlreadyCosigned);
    }
    let size = latest.tree_size;
    let mut old = store::witness_size(&mut conn, &witness.vkey)
        .await?
        .and_then(|s| u64::try_from(s).ok())
        .unwrap_or(0)
        .min(size);
    let url = witness
        .url
        .join("add-checkpoint")
        .context("the witness url")?;
    // One retry: a witness that knows another size says which (409).
    for attempt in 0..2 {
        let proof = if old == 0 || old == size {
            Vec::new()
        } else {
            tree::consistency_proof(&mut conn, old, size)
                .await?
                .consistency_path
        };
        let response = services
            .http
            .post(url.clone())
            .header(header::CONTENT_TYPE, "text/plain")
            .body(request_body(old, &proof, &latest.note))
            .send()
            .await
            .with_context(|| format!("reaching the witness at {url}"))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status == StatusCode::CONFLICT && attempt == 0 {
            let theirs: u64 = text
                .trim()
                .parse()
                .with_context(|| format!("the witness answered 409 with {text:?}"))?;
            anyhow::ensure!(
                theirs <= size,
                "the witness has cosigned size {theirs}, larger than this log's {size}: it saw another history of this log"
            );
            old = theirs;
            continue;
        }
        anyhow::ensure!(
            status.is_success(),
            "the witness refused the checkpoint of size {size}: HTTP {status}: {}",
            text.trim()
        );
        let mut kept = false;
        for line in text.lines().filter(|l| !l.is_empty()) {
            let combined = format!("{}{line}\n", latest.note);
            let Ok(note) = SignedCheckpoint::parse(&combined) else {
                continue;
            };
            if note.verify(services.ledger.origin(), &verifier).is_ok() {
                store::insert_cosignature(&mut conn, latest.id, &witness.vkey, line, now()).await?;
                kept = true;
            }
        }
        anyhow::ensure!(
            kept,
            "the witness answered without a cosignature that verifies with its key"
        );
        store::set_witness_size(&mut conn, &witness.vkey, i64::try_from(size)?, now()).await?;
        return Ok(Outcome::Cosigned(size));
    }
    anyhow::bail!("the witness kept answering 409")
}
