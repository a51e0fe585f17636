//! Asking the consent ledger's witnesses to cosign (the log side of C2SP
//! `tlog-witness`): after each checkpoint, every configured witness is sent
//! the latest checkpoint with a consistency proof from the size it last
//! cosigned; its cosignature is verified and kept, and `/ledger/checkpoint`
//! serves the note with every cosignature. (The witness side, which the
//! Commission runs, is `sqin-witness` behind `sqin witness serve`.)
use sqin_ledger_service::core::{CosignatureVerifier, SignedCheckpoint};
use sqin_ledger_service::{checkpoints, tree};
use sqin_store::ledger as store;
use sqin_witness::request_body;

use crate::{failed, AppResult, During, LedgerWitness, Services};

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
pub async fn cosign_all(services: &Services) -> Vec<(String, AppResult<Outcome>)> {
    let mut out = Vec::new();
    for w in &services.settings.ledger_witnesses {
        let outcome = cosign(services, w).await;
        if let Err(e) = &outcome {
            tracing::warn!(witness = %w.url, error = %e, "a ledger witness did not cosign");
        }
        out.push((w.vkey.clone(), outcome));
    }
    out
}

/// Asks one witness to cosign the latest checkpoint.
pub async fn cosign(services: &Services, witness: &LedgerWitness) -> AppResult<Outcome> {
    let verifier =
        CosignatureVerifier::from_vkey(&witness.vkey).during("reading the witness's key")?;
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
        .during("the witness url")?;
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
            .header(reqwest::header::CONTENT_TYPE, "text/plain")
            .body(request_body(old, &proof, &latest.note))
            .send()
            .await
            .during(format!("reaching the witness at {url}"))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let asking = || format!("asking the witness at {url}");
        if status == reqwest::StatusCode::CONFLICT && attempt == 0 {
            let theirs: u64 = text
                .trim()
                .parse()
                .during(format!("the witness answered 409 with {text:?}"))?;
            if theirs > size {
                return failed(asking(), format!("the witness has cosigned size {theirs}, larger than this log's {size}: it saw another history of this log"));
            }
            old = theirs;
            continue;
        }
        if !status.is_success() {
            return failed(
                asking(),
                format!(
                    "the witness refused the checkpoint of size {size}: HTTP {status}: {}",
                    text.trim()
                ),
            );
        }
        let mut kept = false;
        for line in text.lines().filter(|l| !l.is_empty()) {
            let combined = format!("{}{line}\n", latest.note);
            let Ok(note) = SignedCheckpoint::parse(&combined) else {
                continue;
            };
            if note.verify(services.ledger.origin(), &verifier).is_ok() {
                store::insert_cosignature(
                    &mut conn,
                    latest.id,
                    &witness.vkey,
                    line,
                    services.now(),
                )
                .await?;
                kept = true;
            }
        }
        if !kept {
            return failed(
                asking(),
                "the witness answered without a cosignature that verifies with its key",
            );
        }
        let size_column = i64::try_from(size).during("recording the witness's size")?;
        store::set_witness_size(&mut conn, &witness.vkey, size_column, services.now()).await?;
        return Ok(Outcome::Cosigned(size));
    }
    failed(
        format!("asking the witness at {url}"),
        "the witness kept answering 409",
    )
}
