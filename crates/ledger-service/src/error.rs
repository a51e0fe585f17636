//! The crate's error type, and what verification reports when a log is not
//! what its checkpoints say.

use sqin_ledger::LedgerError;

/// Every way a ledger operation can fail.
#[derive(Debug, thiserror::Error)]
pub enum LedgerServiceError {
    /// The storage failed; the caller's transaction should be rolled back.
    #[error(transparent)]
    Store(#[from] sqin_store::StoreError),
    /// A Merkle, checkpoint or envelope operation failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Sealing or unsealing a server secret failed.
    #[error(transparent)]
    Crypto(#[from] sqin_crypto::CryptoError),
    /// Stored ledger data is not what this crate wrote (missing nodes, a
    /// key that does not unwrap, an unreadable entry outside verification).
    #[error("ledger data is corrupt: {0}")]
    Corrupt(String),
    /// The configured origin differs from the one the log was created with.
    #[error("configuration key `ledger_origin` is {configured:?} but this log was created with origin {stored:?}; a log's origin never changes")]
    OriginMismatch {
        /// The configured origin.
        configured: String,
        /// The origin recorded in the database.
        stored: String,
    },
    /// A setting is unusable; the message names it.
    #[error("invalid ledger setting: {0}")]
    InvalidSetting(String),
    /// A request that cannot be answered as asked (a proof for a size the
    /// log has not reached, an unknown entry).
    #[error("{0}")]
    InvalidRequest(String),
    /// The thing asked for does not exist.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The log, an export or a checkpoint failed verification.
    #[error("verification failed: {0}")]
    Verification(#[from] VerificationFailure),
    /// An export could not be read or written.
    #[error("export: {0}")]
    Export(String),
    /// The operation was interrupted (Ctrl-C) before it finished; what was
    /// committed is consistent and the rest can be run again.
    #[error("interrupted")]
    Cancelled,
}

impl From<sqin_store::SqlxError> for LedgerServiceError {
    fn from(e: sqin_store::SqlxError) -> Self {
        Self::Store(e.into())
    }
}

impl From<serde_json::Error> for LedgerServiceError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(format!("JSON: {e}"))
    }
}

/// Why a log does not verify, naming the first bad entry, node or
/// checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerificationFailure {
    /// Found by the core verifier: an edited, missing or reordered entry, a
    /// rebuilt root that differs from a signed checkpoint, a truncated log,
    /// or a checkpoint whose signature does not verify.
    #[error(transparent)]
    Log(#[from] LedgerError),
    /// An entry whose bytes match its leaf hash but are not a ledger entry:
    /// it was written by something other than sqin.
    #[error("entry {seq} is not a well-formed ledger entry ({reason}): it was rewritten together with its leaf hash")]
    EntryMalformed {
        /// Sequence number of the row.
        seq: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The tree's stored node for a range of entries is not the hash of
    /// those entries: an entry was rewritten (with its leaf hash) or the
    /// node itself was altered, so proofs served from it would be false.
    #[error("stored tree node (level {level}, index {index}) does not match the entries: entry {first_entry} or one of the {width} entries from it was rewritten, or the node was")]
    NodeMismatch {
        /// Level of the node.
        level: u8,
        /// Index of the node within its level.
        index: u64,
        /// First entry it covers.
        first_entry: u64,
        /// Number of entries it covers.
        width: u64,
    },
    /// A node that the appends must have written is absent.
    #[error("stored tree node (level {level}, index {index}) is missing")]
    NodeMissing {
        /// Level of the node.
        level: u8,
        /// Index of the node within its level.
        index: u64,
    },
    /// A stored checkpoint row whose columns disagree with its signed note,
    /// or whose note cannot be parsed.
    #[error("stored checkpoint {id} is damaged: {reason}")]
    CheckpointDamaged {
        /// Row id of the checkpoint.
        id: i64,
        /// What is wrong with it.
        reason: String,
    },
    /// The checkpoint keys do not form one chain from the trusted key: a
    /// rotation that does not follow the previous one, a trusted key the
    /// log never used, a rotation without a checkpoint signed by both keys,
    /// or a rotation entry that is not where the export declared it.
    #[error("checkpoint key chain: {0}")]
    KeyChain(String),
    /// A checkpoint the reviewer brought lacks a required witness's
    /// cosignature.
    #[error("witness: {0}")]
    Witness(String),
}
