//! Signed checkpoints: C2SP `tlog-checkpoint` notes signed with the log's
//! ECDSA P-256 key, every one kept.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Serialize;
use sqin_ledger::{Checkpoint, EcdsaNoteSigner, EcdsaNoteVerifier, Hash, SignedCheckpoint};
use sqin_store::ledger::{self as store, CheckpointRow};
use sqin_store::Connection;

use crate::tree::{b64_hash, current_frontier};
use crate::{Ledger, LedgerServiceError};

/// A checkpoint as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedCheckpoint {
    /// Position in the checkpoint history (increasing).
    pub id: i64,
    /// Number of entries it covers.
    pub tree_size: u64,
    /// Root hash, base64.
    #[serde(serialize_with = "b64_hash")]
    pub root_hash: Hash,
    /// When it was signed (Unix seconds).
    pub created_at: i64,
    /// The complete signed note.
    pub note: String,
}

impl TryFrom<CheckpointRow> for PublishedCheckpoint {
    type Error = LedgerServiceError;

    fn try_from(row: CheckpointRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: row.id,
            tree_size: u64::try_from(row.tree_size).map_err(|_| {
                LedgerServiceError::Corrupt(format!("checkpoint {} size {}", row.id, row.tree_size))
            })?,
            root_hash: row.root_hash.as_slice().try_into().map_err(|_| {
                LedgerServiceError::Corrupt(format!("checkpoint {} root is not 32 bytes", row.id))
            })?,
            created_at: row.created_at,
            note: row.note,
        })
    }
}

impl PublishedCheckpoint {
    /// The root hash in base64, as in the note.
    pub fn root_b64(&self) -> String {
        B64.encode(self.root_hash)
    }
}

/// When [`publish`] signs a new checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointPolicy {
    /// Only if the log has none yet (start-up).
    IfNone,
    /// If the log grew since the latest checkpoint.
    IfGrown,
    /// If the log grew, or the latest checkpoint is at least this many
    /// seconds old (fresh checkpoints let witnesses and monitors see that the
    /// log is alive and not hiding a fork).
    IfGrownOrOlderThan(i64),
    /// Always (`sqin ledger checkpoint --force`).
    Always,
}

/// Signs a checkpoint of the current tree if `policy` says so, and returns
/// the latest checkpoint with whether it is new.
///
/// Runs in its own transaction (a savepoint if `conn` is in one) holding the
/// appenders' lock: queued entries are placed first, then the signed size
/// and root are exactly a committed state, and two nodes never sign the same
/// growth twice. Before signing, the
/// new tree is checked to extend the previous checkpoint (a consistency proof
/// from the stored nodes): a log that would fork is refused, not signed.
pub async fn publish(
    conn: &mut Connection,
    ledger: &Ledger,
    now: i64,
    policy: CheckpointPolicy,
) -> Result<(PublishedCheckpoint, bool), LedgerServiceError> {
    let mut tx = sqin_store::begin_on(conn).await?;
    store::lock(&mut tx, ledger.backend()).await?;
    // Another node may have rotated the key.
    ledger.refresh_keys(&mut tx).await?;
    // Everything committed to the ledger so far is placed before signing.
    while crate::append::sequence_locked(&mut tx, ledger, crate::append::SEQUENCE_BATCH).await?
        == crate::append::SEQUENCE_BATCH as u64
    {}
    let size = current_frontier(&mut tx, ledger).await?.size();
    let latest = store::latest_checkpoint(&mut tx)
        .await?
        .map(PublishedCheckpoint::try_from)
        .transpose()?;
    let sign = match (&latest, policy) {
        (None, _) | (Some(_), CheckpointPolicy::Always) => true,
        (Some(_), CheckpointPolicy::IfNone) => false,
        (Some(cp), CheckpointPolicy::IfGrown) => cp.tree_size != size,
        (Some(cp), CheckpointPolicy::IfGrownOrOlderThan(max_age)) => {
            cp.tree_size != size || now - cp.created_at >= max_age
        }
    };
    if !sign {
        tx.commit().await?;
        return latest
            .map(|cp| (cp, false))
            .ok_or(LedgerServiceError::NotFound("checkpoint"));
    }
    let keys = ledger.keys();
    let published = sign_locked(&mut tx, ledger, latest.as_ref(), now, &[&keys.signer]).await?;
    tx.commit().await?;
    Ok((published, true))
}

/// Signs the current tree with `signers` (the first is the log's key; a
/// rotation adds the new one), after checking that it extends `latest`, and
/// stores the checkpoint. The appenders' lock must be held.
async fn sign_locked(
    tx: &mut Connection,
    ledger: &Ledger,
    latest: Option<&PublishedCheckpoint>,
    now: i64,
    signers: &[&EcdsaNoteSigner],
) -> Result<PublishedCheckpoint, LedgerServiceError> {
    let frontier = current_frontier(tx, ledger).await?;
    let size = frontier.size();
    let root = frontier.root();
    if let Some(previous) = latest {
        check_extends(tx, ledger, previous, size, &root).await?;
    }
    let Some((first, others)) = signers.split_first() else {
        return Err(LedgerServiceError::Corrupt("no checkpoint key".into()));
    };
    let mut signed = SignedCheckpoint::sign(
        Checkpoint {
            origin: ledger.origin().to_owned(),
            size,
            root,
        },
        *first,
    )?;
    for signer in others {
        signed.add_signature(*signer)?;
    }
    // Self-check before publishing: what we sign must verify with what we
    // publish.
    for signer in signers {
        signed.verify(ledger.origin(), &signer.verifier()?)?;
    }
    let note = signed.to_note_text();
    let size_i64 = i64::try_from(size)
        .map_err(|_| LedgerServiceError::Corrupt("tree size overflows".into()))?;
    let id = store::insert_checkpoint(tx, size_i64, &root, &note, now).await?;
    Ok(PublishedCheckpoint {
        id,
        tree_size: size,
        root_hash: root,
        created_at: now,
        note,
    })
}

/// What a key rotation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyRotation {
    /// The rotation entry's sequence number.
    pub entry: u64,
    /// The key replaced (retired: its private part is deleted).
    pub previous_vkey: String,
    /// The key that signs from now on.
    pub vkey: String,
    /// The checkpoint signed by both keys (size `entry + 1`).
    pub checkpoint: PublishedCheckpoint,
}

/// Replaces the checkpoint key, in one transaction under the appenders'
/// lock: queued entries are placed, a `checkpoint_key_rotated` entry naming
/// both verifier keys is appended, a checkpoint of the tree that ends with
/// it is signed by both keys, the new private key is stored sealed under
/// the ledger's wrapping key, and the old one is deleted. Every node signs
/// with the new key from its next checkpoint on. Reviewers who pinned the
/// old key follow the rotation (see [`crate::keychain`]).
pub async fn rotate_key(
    conn: &mut Connection,
    ledger: &Ledger,
    now: i64,
) -> Result<KeyRotation, LedgerServiceError> {
    let mut tx = sqin_store::begin_on(conn).await?;
    store::lock(&mut tx, ledger.backend()).await?;
    ledger.refresh_keys(&mut tx).await?;
    let old = ledger.keys();
    let pkcs8 = EcdsaNoteSigner::generate_pkcs8()?;
    let new = EcdsaNoteSigner::from_pkcs8(ledger.origin(), &pkcs8)?;
    let vkey = new.vkey();
    // The checkpoint signed by both must extend the latest one, which may
    // be older than entries placed now; the entry goes in after them.
    let latest = store::latest_checkpoint(&mut tx)
        .await?
        .map(PublishedCheckpoint::try_from)
        .transpose()?;
    let entry = crate::append::append_locked(
        &mut tx,
        ledger,
        &crate::entry::Entry::new_uid()?,
        now,
        crate::event::EntryKind::CheckpointKeyRotated,
        None,
        crate::append::Body::Public(crate::event::Housekeeping::CheckpointKeyRotated {
            previous_vkey: old.vkey.clone(),
            vkey: vkey.clone(),
        }),
    )
    .await?;
    let checkpoint =
        sign_locked(&mut tx, ledger, latest.as_ref(), now, &[&old.signer, &new]).await?;
    if checkpoint.tree_size != entry.0 + 1 {
        return Err(LedgerServiceError::Corrupt(
            "the rotation checkpoint does not end with the rotation entry".into(),
        ));
    }
    if store::checkpoint_keys(&mut tx).await?.is_empty() {
        // The first rotation: the original key, kept until now as a server
        // secret, is recorded as retired and its private part deleted.
        store::insert_checkpoint_key(&mut tx, &old.vkey, None, now, Some(now)).await?;
        sqin_store::secrets::delete(&mut tx, crate::handle::CHECKPOINT_KEY_SECRET).await?;
    } else if !store::retire_checkpoint_key(&mut tx, &old.vkey, now).await? {
        return Err(LedgerServiceError::Corrupt(
            "the current checkpoint key is not the newest stored one".into(),
        ));
    }
    let sealed = sqin_ledger::seal(
        &sqin_ledger::DataKey::from_bytes(*ledger.wrapping_key()),
        &pkcs8,
        crate::handle::checkpoint_key_label(&vkey).as_bytes(),
    )?;
    store::insert_checkpoint_key(&mut tx, &vkey, Some(&sealed), now, None).await?;
    tx.commit().await?;
    let mut history = old.history.clone();
    history.push(vkey.clone());
    ledger.set_keys(crate::handle::CheckpointKeys {
        verifier: new.verifier()?,
        signer: new,
        vkey: vkey.clone(),
        history,
    });
    tracing::info!(entry = entry.0, %vkey, "rotated the ledger's checkpoint key");
    Ok(KeyRotation {
        entry: entry.0,
        previous_vkey: old.vkey.clone(),
        vkey,
        checkpoint,
    })
}

/// Refuses to sign a tree that does not extend the previous checkpoint.
async fn check_extends(
    conn: &mut Connection,
    ledger: &Ledger,
    previous: &PublishedCheckpoint,
    size: u64,
    root: &Hash,
) -> Result<(), LedgerServiceError> {
    let refuse = |why: String| {
        LedgerServiceError::Corrupt(format!(
            "refusing to sign: the log does not extend checkpoint {} (size {}): {why}",
            previous.id, previous.tree_size
        ))
    };
    let note = SignedCheckpoint::parse(&previous.note)
        .map_err(|e| refuse(format!("it does not parse: {e}")))?;
    // Signed by one of the keys this log has used (the previous checkpoint
    // may predate a rotation).
    let signed_by_us = ledger.vkeys().iter().any(|vkey| {
        EcdsaNoteVerifier::from_vkey(vkey).is_ok_and(|v| note.verify(ledger.origin(), &v).is_ok())
    });
    if !signed_by_us {
        return Err(refuse(
            "its signature does not verify with any of this log's keys".into(),
        ));
    }
    if previous.tree_size > size {
        return Err(refuse(format!("the log has only {size} entries")));
    }
    let proof = crate::tree::consistency_proof(conn, previous.tree_size, size).await?;
    sqin_ledger::verify_consistency(
        previous.tree_size,
        size,
        &previous.root_hash,
        root,
        &proof.consistency_path,
    )
    .map_err(|e| refuse(e.to_string()))
}

/// The newest checkpoint.
pub async fn latest(conn: &mut Connection) -> Result<PublishedCheckpoint, LedgerServiceError> {
    store::latest_checkpoint(conn)
        .await?
        .ok_or(LedgerServiceError::NotFound("checkpoint"))?
        .try_into()
}

/// Published checkpoints after `after_id`, oldest first, at most `limit`.
pub async fn history(
    conn: &mut Connection,
    after_id: i64,
    limit: i64,
) -> Result<Vec<PublishedCheckpoint>, LedgerServiceError> {
    store::checkpoints_after(conn, after_id, limit)
        .await?
        .into_iter()
        .map(PublishedCheckpoint::try_from)
        .collect()
}

/// The checkpoint with every witness cosignature recorded for it appended
/// to its note (C2SP tlog-witness), as it is published.
pub async fn with_cosignatures(
    conn: &mut Connection,
    mut checkpoint: PublishedCheckpoint,
) -> Result<PublishedCheckpoint, LedgerServiceError> {
    for (_, line) in store::cosignatures(conn, checkpoint.id).await? {
        checkpoint.note.push_str(&line);
        checkpoint.note.push('\n');
    }
    Ok(checkpoint)
}

/// A checkpoint covering entry `seq` (the latest, or a new one if the
/// latest predates the entry), for proofs handed to citizens.
pub async fn covering(
    conn: &mut Connection,
    ledger: &Ledger,
    seq: Option<u64>,
    now: i64,
) -> Result<PublishedCheckpoint, LedgerServiceError> {
    let latest = latest(conn).await?;
    match seq {
        Some(seq) if seq >= latest.tree_size => {
            Ok(publish(conn, ledger, now, CheckpointPolicy::IfGrown)
                .await?
                .0)
        }
        _ => Ok(latest),
    }
}
