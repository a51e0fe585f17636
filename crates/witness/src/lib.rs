//! A transparency-log witness (C2SP `tlog-witness`, cosignatures per C2SP
//! `tlog-cosignature`).
//!
//! For each log it watches (known by origin and verifier keys), the witness
//! keeps the largest checkpoint it has cosigned. It cosigns a new checkpoint
//! only if the log's signature verifies and a consistency proof shows that
//! the new tree extends the one it kept, and it records the new checkpoint
//! on disk before answering. So it never cosigns two checkpoints of one log
//! that contradict each other, not even across restarts: a log that shows
//! one history to citizens and another to the Commission is caught as soon
//! as both views reach a witness, and a reviewer who requires the witness's
//! cosignature is never shown a fork.
//!
//! This crate is the protocol and the state; `sqin witness serve` puts it on
//! HTTP (`POST /add-checkpoint`).
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sqin_ledger::{verify_consistency, EcdsaNoteVerifier, Ed25519Cosigner, Hash, SignedCheckpoint};

/// The private key file in the witness's directory (PKCS#8, mode 0600).
pub const KEY_FILE: &str = "witness.key";
/// The witness's name, next to its key.
pub const NAME_FILE: &str = "witness.name";
/// What the witness has cosigned, per log.
pub const STATE_FILE: &str = "state.json";
/// Most consistency-proof lines a request may carry (the protocol's bound).
pub const MAX_PROOF_LINES: usize = 63;
/// Largest request body accepted.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// Why the witness will not cosign, with the protocol's HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// The request is malformed, or the old size is larger than the new.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// No log with this origin is watched.
    #[error("unknown log origin {0:?}")]
    UnknownLog(String),
    /// No signature verifies with the log's keys.
    #[error("the checkpoint is not signed by the log's key")]
    BadSignature,
    /// The old size is not the size last cosigned (given), or the same size
    /// came with another root (a fork).
    #[error("conflict: the witness last cosigned size {size}")]
    Conflict {
        /// The size of the latest cosigned checkpoint.
        size: u64,
    },
    /// The consistency proof does not verify: the log does not extend what
    /// the witness saw.
    #[error("the consistency proof does not verify")]
    BadProof,
    /// The key or the state cannot be read or written.
    #[error("witness storage: {0}")]
    Storage(String),
}

impl WitnessError {
    /// The HTTP status the protocol gives this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::UnknownLog(_) => 404,
            Self::BadSignature => 403,
            Self::Conflict { .. } => 409,
            Self::BadProof => 422,
            Self::Storage(_) => 500,
        }
    }
}

fn storage(e: impl std::fmt::Display) -> WitnessError {
    WitnessError::Storage(e.to_string())
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
struct LogState {
    size: u64,
    root: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    logs: BTreeMap<String, LogState>,
}

/// A witness: its key, the logs it watches, and what it has cosigned.
pub struct Witness {
    cosigner: Ed25519Cosigner,
    logs: BTreeMap<String, Vec<EcdsaNoteVerifier>>,
    dir: PathBuf,
    state: Mutex<State>,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("vkey", &self.cosigner.vkey())
            .field("logs", &self.logs.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Creates a witness in `dir` (which must not hold one): a new key named
/// `name`. Returns the witness's verifier key, to give to the logs and the
/// reviewers that will rely on it.
pub fn init(dir: &Path, name: &str) -> Result<String, WitnessError> {
    std::fs::create_dir_all(dir).map_err(storage)?;
    let key_path = dir.join(KEY_FILE);
    if key_path.exists() {
        return Err(WitnessError::Storage(format!(
            "{} already exists: a witness's key is never replaced in place",
            key_path.display()
        )));
    }
    let pkcs8 = Ed25519Cosigner::generate_pkcs8().map_err(storage)?;
    let cosigner = Ed25519Cosigner::from_pkcs8(name, &pkcs8).map_err(storage)?;
    write_private(&key_path, &pkcs8)?;
    write_atomic(&dir.join(NAME_FILE), name.as_bytes())?;
    write_atomic(
        &dir.join(STATE_FILE),
        &serde_json::to_vec_pretty(&State::default()).map_err(storage)?,
    )?;
    Ok(cosigner.vkey())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), WitnessError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(storage)?;
    file.write_all(bytes).map_err(storage)?;
    file.sync_all().map_err(storage)
}

/// Replaces `path` whole or not at all: a crash leaves the old or the new
/// content, never a mix.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WitnessError> {
    let tmp = path.with_extension("partial");
    {
        let mut file = std::fs::File::create(&tmp).map_err(storage)?;
        file.write_all(bytes).map_err(storage)?;
        file.sync_all().map_err(storage)?;
    }
    std::fs::rename(&tmp, path).map_err(storage)?;
    if let Some(parent) = path.parent() {
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

impl Witness {
    /// Opens the witness in `dir`, watching the logs whose verifier keys are
    /// given (several keys may share an origin: a log that rotated its key).
    pub fn open(dir: &Path, log_vkeys: &[String]) -> Result<Witness, WitnessError> {
        let pkcs8 = std::fs::read(dir.join(KEY_FILE)).map_err(|e| {
            WitnessError::Storage(format!(
                "{}: {e} (create the witness with `sqin witness init`)",
                dir.join(KEY_FILE).display()
            ))
        })?;
        let name = std::fs::read_to_string(dir.join(NAME_FILE)).map_err(storage)?;
        let cosigner = Ed25519Cosigner::from_pkcs8(name.trim(), &pkcs8).map_err(storage)?;
        let state: State =
            serde_json::from_slice(&std::fs::read(dir.join(STATE_FILE)).map_err(storage)?)
                .map_err(storage)?;
        let mut logs: BTreeMap<String, Vec<EcdsaNoteVerifier>> = BTreeMap::new();
        for vkey in log_vkeys {
            let verifier = EcdsaNoteVerifier::from_vkey(vkey.trim())
                .map_err(|e| WitnessError::BadRequest(format!("log key {vkey:?}: {e}")))?;
            let origin = vkey.split('+').next().unwrap_or_default().to_owned();
            logs.entry(origin).or_default().push(verifier);
        }
        if logs.is_empty() {
            return Err(WitnessError::BadRequest(
                "watch at least one log (its verifier key)".into(),
            ));
        }
        Ok(Witness {
            cosigner,
            logs,
            dir: dir.to_path_buf(),
            state: Mutex::new(state),
        })
    }

    /// The witness's verifier key.
    pub fn vkey(&self) -> String {
        self.cosigner.vkey()
    }

    /// The size last cosigned for `origin`.
    pub fn cosigned_size(&self, origin: &str) -> Option<u64> {
        let state = match self.state.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        state.logs.get(origin).map(|l| l.size)
    }

    /// Handles an `add-checkpoint` request body at time `now` (Unix
    /// seconds): the cosignature line, or why not.
    pub fn add_checkpoint(&self, body: &str, now: u64) -> Result<String, WitnessError> {
        if body.len() > MAX_REQUEST_BYTES {
            return Err(WitnessError::BadRequest("request too large".into()));
        }
        let (old, proof, note_text) = parse_request(body)?;
        let note = SignedCheckpoint::parse(note_text)
            .map_err(|e| WitnessError::BadRequest(format!("checkpoint: {e}")))?;
        let checkpoint = note.checkpoint().clone();
        let keys = self
            .logs
            .get(&checkpoint.origin)
            .ok_or_else(|| WitnessError::UnknownLog(checkpoint.origin.clone()))?;
        if !keys
            .iter()
            .any(|k| note.verify(&checkpoint.origin, k).is_ok())
        {
            return Err(WitnessError::BadSignature);
        }
        if old > checkpoint.size {
            return Err(WitnessError::BadRequest(format!(
                "old size {old} is larger than the checkpoint's {}",
                checkpoint.size
            )));
        }
        // Check and record atomically: one request at a time per witness.
        let mut state = match self.state.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        let known = state.logs.get(&checkpoint.origin).cloned();
        let known_size = known.as_ref().map_or(0, |k| k.size);
        if old != known_size {
            return Err(WitnessError::Conflict { size: known_size });
        }
        if let Some(known) = &known {
            let known_root = decode_hash(&known.root).map_err(storage)?;
            if old == checkpoint.size {
                if known_root != checkpoint.root {
                    return Err(WitnessError::Conflict { size: known_size });
                }
            } else if verify_consistency(
                old,
                checkpoint.size,
                &known_root,
                &checkpoint.root,
                &proof,
            )
            .is_err()
            {
                return Err(WitnessError::BadProof);
            }
        } else if !proof.is_empty() {
            return Err(WitnessError::BadRequest(
                "the proof must be empty when the old size is zero".into(),
            ));
        }
        let mut next = state.clone();
        next.logs.insert(
            checkpoint.origin.clone(),
            LogState {
                size: checkpoint.size,
                root: B64.encode(checkpoint.root),
            },
        );
        write_atomic(
            &self.dir.join(STATE_FILE),
            &serde_json::to_vec_pretty(&next).map_err(storage)?,
        )?;
        *state = next;
        drop(state);
        let body = checkpoint.body_text();
        Ok(self.cosigner.cosignature_line(body.as_bytes(), now))
    }
}

fn decode_hash(text: &str) -> Result<Hash, String> {
    B64.decode(text)
        .map_err(|e| e.to_string())?
        .try_into()
        .map_err(|_| "not 32 bytes".to_owned())
}

/// `old N`, proof lines, an empty line, the checkpoint.
fn parse_request(body: &str) -> Result<(u64, Vec<Hash>, &str), WitnessError> {
    let bad = |m: &str| WitnessError::BadRequest(m.to_owned());
    let (first, mut rest) = body.split_once('\n').ok_or_else(|| bad("empty request"))?;
    let old = first
        .strip_prefix("old ")
        .filter(|n| !n.is_empty() && (n == &"0" || !n.starts_with('0')))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| bad("the first line must be `old <size>`"))?;
    let mut proof = Vec::new();
    loop {
        let (line, next) = rest
            .split_once('\n')
            .ok_or_else(|| bad("missing the empty line before the checkpoint"))?;
        rest = next;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err(bad("too many consistency proof lines"));
        }
        proof.push(decode_hash(line).map_err(|e| bad(&format!("proof line: {e}")))?);
    }
    Ok((old, proof, rest))
}

/// The body of an `add-checkpoint` request.
pub fn request_body(old: u64, proof: &[Hash], note: &str) -> String {
    let mut out = format!("old {old}\n");
    for h in proof {
        out.push_str(&B64.encode(h));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(note);
    out
}

#[cfg(test)]
mod tests;
