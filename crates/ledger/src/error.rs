//! The crate's single error type.
//!
//! One enum keeps the integration surface small: storage adapters, the HTTP
//! layer and the offline verifier CLI all match on the same variants, and the
//! verifier's variants carry the sequence number or checkpoint size an auditor
//! needs to locate tampering without re-running anything.

use crate::tree::NodeId;

/// Every way an operation of this crate can fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    // ----- tree maths -------------------------------------------------------
    /// The node source has no hash for this complete subtree, usually because
    /// the caller asked about a tree larger than what has been persisted.
    #[error("node at level {} index {} is not available from the node source", .0.level, .0.index)]
    NodeNotFound(NodeId),

    /// A storage-backed node source failed; the message is the store's own.
    #[error("node source failed: {0}")]
    Source(String),

    /// A leaf index at or past the end of the tree.
    #[error("leaf index {index} is out of range for a tree of size {size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size it was checked against.
        size: u64,
    },

    /// A leaf range whose Merkle hash cannot be built from stored complete
    /// subtrees, because it is not a subtree that RFC 9162 ever hashes.
    #[error("leaf range [{start}, {end}) is not a subtree of an RFC 9162 Merkle tree")]
    InvalidRange {
        /// First leaf of the range.
        start: u64,
        /// One past the last leaf of the range.
        end: u64,
    },

    /// A consistency question asked backwards.
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    SizeOrder {
        /// The supposedly older size.
        old_size: u64,
        /// The supposedly newer size.
        new_size: u64,
    },

    /// The tree already holds 2^64 - 1 leaves.
    #[error("the tree cannot grow past 2^64 - 1 leaves")]
    TreeFull,

    /// A bug in this crate rather than bad input; reported instead of
    /// panicking so a server keeps running.
    #[error("internal invariant violated: {0}")]
    Invariant(&'static str),

    // ----- proof verification ----------------------------------------------
    /// An inclusion proof did not verify (RFC 9162 section 2.1.3.2).
    #[error("invalid inclusion proof: {0}")]
    InvalidInclusionProof(&'static str),

    /// A consistency proof did not verify (RFC 9162 section 2.1.4.2).
    #[error("invalid consistency proof: {0}")]
    InvalidConsistencyProof(&'static str),

    // ----- checkpoints and signed notes -------------------------------------
    /// The text is not a well-formed signed note; the message says where.
    #[error("malformed signed note: {0}")]
    MalformedNote(String),

    /// The note text is not a well-formed checkpoint body.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),

    /// A key name that the signed-note format cannot carry.
    #[error("invalid key name {0:?}: it must be non-empty and contain no spaces or '+'")]
    InvalidKeyName(String),

    /// Key material that could not be parsed or used.
    #[error("invalid key: {0}")]
    InvalidKey(String),

    /// The signer could not produce a signature.
    #[error("signing failed: {0}")]
    SigningFailed(String),

    /// No signature line carries the trusted key's name and key id.
    #[error("no signature from trusted key {key_name:?} (key id {key_id:08x})")]
    SignatureMissing {
        /// Name of the trusted key.
        key_name: String,
        /// Its key id as a big-endian integer.
        key_id: u32,
    },

    /// A signature line from the trusted key exists but does not verify.
    #[error("signature from trusted key {key_name:?} does not verify")]
    BadSignature {
        /// Name of the trusted key.
        key_name: String,
    },

    /// The checkpoint verified but belongs to another log.
    #[error("checkpoint origin {found:?} does not match the expected origin {expected:?}")]
    OriginMismatch {
        /// The origin the caller trusts.
        expected: String,
        /// The origin in the checkpoint.
        found: String,
    },

    // ----- envelope encryption ----------------------------------------------
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,

    /// Sealing or wrapping failed inside the AEAD.
    #[error("encryption failed")]
    EncryptionFailed,

    /// Wrong key, wrong associated data, or a tampered or truncated ciphertext;
    /// AES-GCM deliberately cannot tell these apart.
    #[error("decryption failed: wrong key, wrong associated data, or damaged ciphertext")]
    DecryptionFailed,

    // ----- offline verification of an export --------------------------------
    /// The entry bytes no longer hash to the leaf hash stored beside them.
    #[error("entry {seq} was edited: its bytes do not hash to its stored leaf hash")]
    EntryEdited {
        /// Sequence number of the edited entry.
        seq: u64,
    },

    /// Sequence numbers jump forward: entries were deleted.
    #[error("entries {expected}..{found} are missing: sequence number {found} appears where {expected} was expected")]
    EntriesMissing {
        /// The first missing sequence number.
        expected: u64,
        /// The sequence number found in its place.
        found: u64,
    },

    /// A sequence number out of place: entries were swapped or duplicated.
    #[error("entry {expected} is out of order: sequence number {found} appears where {expected} was expected")]
    EntriesReordered {
        /// The sequence number that should have come next.
        expected: u64,
        /// The sequence number found in its place.
        found: u64,
    },

    /// The log rebuilt from the export disagrees with a signed checkpoint, so
    /// some entry in `verified_up_to..size` was rewritten consistently with its
    /// stored leaf hash.
    #[error("root after {size} entries does not match the signed checkpoint of size {size}: an entry in {verified_up_to}..{size} was rewritten")]
    CheckpointMismatch {
        /// Size of the checkpoint that failed.
        size: u64,
        /// Size of the largest earlier checkpoint that matched (0 if none);
        /// entries below it are vouched for.
        verified_up_to: u64,
    },

    /// The export ends before a signed checkpoint's size: its tail was deleted.
    #[error("log truncated: the export ends after {entries} entries but a signed checkpoint covers {size}; entries {entries}..{size} are missing")]
    LogTruncated {
        /// Number of entries in the export, i.e. the first missing sequence number.
        entries: u64,
        /// Size of the checkpoint that proves they existed.
        size: u64,
    },

    /// A checkpoint handed to the verifier is itself not trustworthy.
    #[error("checkpoint of size {size} rejected: {reason}")]
    CheckpointRejected {
        /// Size claimed by the rejected checkpoint.
        size: u64,
        /// Why it was rejected.
        #[source]
        reason: Box<LedgerError>,
    },
}
