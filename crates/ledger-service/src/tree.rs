//! The core's tree maths over the `ledger_nodes` table: roots, inclusion
//! and consistency proofs of any past size, in one indexed query each.
//!
//! The core's [`NodeSource`] is synchronous, the database is not. Which nodes
//! an RFC 9162 root or proof needs depends only on the sizes and indices, never
//! on hash values, so each operation runs twice: once over a recorder that
//! notes the node ids asked for, then, after fetching exactly those rows in one
//! query, over the fetched map. That is O(log n) rows per proof.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Serialize;
use sqin_ledger::{Frontier, Hash, LedgerError, NodeId, NodeSource};
use sqin_store::ledger::{self as store, NodeRow};
use sqin_store::Connection;

use crate::LedgerServiceError;

/// Records the node ids an operation asks for; answers with zeros.
#[derive(Default)]
struct Recorder(RefCell<BTreeSet<NodeId>>);

impl NodeSource for Recorder {
    fn node(&self, id: NodeId) -> Result<Hash, LedgerError> {
        self.0.borrow_mut().insert(id);
        Ok([0; 32])
    }
}

/// Nodes fetched from the database.
#[derive(Default, Debug)]
pub(crate) struct Fetched(HashMap<NodeId, Hash>);

impl NodeSource for Fetched {
    fn node(&self, id: NodeId) -> Result<Hash, LedgerError> {
        self.0
            .get(&id)
            .copied()
            .ok_or(LedgerError::NodeNotFound(id))
    }
}

fn to_i64(v: u64, what: &str) -> Result<i64, LedgerServiceError> {
    i64::try_from(v).map_err(|_| LedgerServiceError::InvalidRequest(format!("{what} is too large")))
}

/// Fetches the given nodes in one query (chunked for very large sets).
pub(crate) async fn fetch_nodes(
    conn: &mut Connection,
    ids: impl IntoIterator<Item = NodeId>,
) -> Result<Fetched, LedgerServiceError> {
    let pairs = ids
        .into_iter()
        .map(|id| Ok((i64::from(id.level), to_i64(id.index, "node index")?)))
        .collect::<Result<Vec<_>, LedgerServiceError>>()?;
    let rows = store::nodes(conn, &pairs).await?;
    let mut map = HashMap::with_capacity(rows.len());
    for NodeRow { level, idx, hash } in rows {
        let level = u8::try_from(level)
            .map_err(|_| LedgerServiceError::Corrupt(format!("node level {level}")))?;
        let idx = u64::try_from(idx)
            .map_err(|_| LedgerServiceError::Corrupt(format!("node index {idx}")))?;
        map.insert(NodeId::new(level, idx), hash);
    }
    Ok(Fetched(map))
}

/// Runs `op` over the database: records the nodes it needs, fetches them,
/// runs it again on them.
async fn with_nodes<T>(
    conn: &mut Connection,
    op: impl Fn(&dyn NodeSource) -> Result<T, LedgerError>,
) -> Result<T, LedgerServiceError> {
    let ids = {
        let recorder = Recorder::default();
        op(&recorder)?;
        recorder.0.into_inner()
    };
    let fetched = fetch_nodes(conn, ids).await?;
    op(&fetched).map_err(missing_is_corrupt)
}

fn missing_is_corrupt(e: LedgerError) -> LedgerServiceError {
    match e {
        LedgerError::NodeNotFound(id) => LedgerServiceError::Corrupt(format!(
            "tree node (level {}, index {}) is missing from ledger_nodes",
            id.level, id.index
        )),
        other => LedgerServiceError::Ledger(other),
    }
}

/// The current number of entries.
pub async fn tree_size(conn: &mut Connection) -> Result<u64, LedgerServiceError> {
    let size = store::size(conn).await?;
    u64::try_from(size).map_err(|_| LedgerServiceError::Corrupt(format!("tree size {size}")))
}

/// The frontier at the current head, from the process cache when nobody
/// appended since, otherwise from the O(log n) stored nodes. Call it with the
/// appenders' lock held when the result will be appended to.
pub(crate) async fn current_frontier(
    conn: &mut Connection,
    ledger: &crate::Ledger,
) -> Result<Frontier, LedgerServiceError> {
    let head = store::head(conn).await?;
    let Some((last_seq, last_leaf)) = head else {
        return Ok(Frontier::new());
    };
    let size = u64::try_from(last_seq)
        .ok()
        .and_then(|s| s.checked_add(1))
        .ok_or_else(|| LedgerServiceError::Corrupt(format!("sequence number {last_seq}")))?;
    if let Some(cached) = ledger.cached_frontier() {
        if cached.size == size && cached.last_leaf.as_slice() == last_leaf.as_slice() {
            return Ok(cached.frontier);
        }
    }
    let fetched = fetch_nodes(conn, Frontier::node_ids(size)).await?;
    Frontier::from_nodes(size, &fetched).map_err(missing_is_corrupt)
}

/// The root of the first `size` entries.
pub async fn root_at(conn: &mut Connection, size: u64) -> Result<Hash, LedgerServiceError> {
    with_nodes(conn, |source| sqin_ledger::root_at(size, source)).await
}

/// An RFC 9162 inclusion proof, ready to serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InclusionProof {
    /// The entry's sequence number (leaf index).
    pub leaf_index: u64,
    /// The tree size the proof is for.
    pub tree_size: u64,
    /// The leaf hash, base64.
    #[serde(serialize_with = "b64_hash")]
    pub leaf_hash: Hash,
    /// The audit path, leaf's sibling first, base64.
    #[serde(serialize_with = "b64_hashes")]
    pub inclusion_path: Vec<Hash>,
}

impl InclusionProof {
    /// Checks the proof against a root (typically from a verified checkpoint).
    pub fn verify(&self, root: &Hash) -> Result<(), LedgerError> {
        sqin_ledger::verify_inclusion(
            &self.leaf_hash,
            self.leaf_index,
            self.tree_size,
            &self.inclusion_path,
            root,
        )
    }
}

/// An RFC 9162 consistency proof, ready to serve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsistencyProof {
    /// The older size.
    pub first: u64,
    /// The newer size.
    pub second: u64,
    /// The proof nodes, base64.
    #[serde(serialize_with = "b64_hashes")]
    pub consistency_path: Vec<Hash>,
}

pub(crate) fn b64_hash<S: serde::Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&B64.encode(h))
}

pub(crate) fn b64_hashes<S: serde::Serializer>(hs: &[Hash], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(hs.len()))?;
    for h in hs {
        seq.serialize_element(&B64.encode(h))?;
    }
    seq.end()
}

fn check_size(size: u64, current: u64) -> Result<(), LedgerServiceError> {
    if size > current {
        return Err(LedgerServiceError::InvalidRequest(format!(
            "tree size {size} is larger than the log ({current} entries)"
        )));
    }
    Ok(())
}

/// The inclusion proof of entry `seq` in the tree of `tree_size` entries.
pub async fn inclusion_proof(
    conn: &mut Connection,
    seq: u64,
    tree_size: u64,
) -> Result<InclusionProof, LedgerServiceError> {
    check_size(tree_size, self::tree_size(conn).await?)?;
    if seq >= tree_size {
        return Err(LedgerServiceError::InvalidRequest(format!(
            "entry {seq} is not in a tree of {tree_size} entries"
        )));
    }
    let mut proofs = inclusion_proofs(conn, &[seq], tree_size).await?;
    proofs
        .pop()
        .ok_or(LedgerServiceError::NotFound("ledger entry"))
}

/// Inclusion proofs of several entries in one tree size, fetching the union
/// of their nodes in one query (a citizen's download).
pub async fn inclusion_proofs(
    conn: &mut Connection,
    seqs: &[u64],
    tree_size: u64,
) -> Result<Vec<InclusionProof>, LedgerServiceError> {
    let ids = {
        let recorder = Recorder::default();
        for &seq in seqs {
            sqin_ledger::inclusion_proof(seq, tree_size, &recorder)?;
            recorder.0.borrow_mut().insert(NodeId::leaf(seq));
        }
        recorder.0.into_inner()
    };
    let fetched = fetch_nodes(conn, ids).await?;
    seqs.iter()
        .map(|&seq| {
            Ok(InclusionProof {
                leaf_index: seq,
                tree_size,
                leaf_hash: fetched
                    .node(NodeId::leaf(seq))
                    .map_err(missing_is_corrupt)?,
                inclusion_path: sqin_ledger::inclusion_proof(seq, tree_size, &fetched)
                    .map_err(missing_is_corrupt)?,
            })
        })
        .collect()
}

/// The consistency proof from `first` to `second` entries.
pub async fn consistency_proof(
    conn: &mut Connection,
    first: u64,
    second: u64,
) -> Result<ConsistencyProof, LedgerServiceError> {
    check_size(second, tree_size(conn).await?)?;
    if first > second {
        return Err(LedgerServiceError::InvalidRequest(format!(
            "first size {first} is larger than second size {second}"
        )));
    }
    let path = with_nodes(conn, |source| {
        sqin_ledger::consistency_proof(first, second, source)
    })
    .await?;
    Ok(ConsistencyProof {
        first,
        second,
        consistency_path: path,
    })
}

/// Turns the new nodes of one append into rows.
pub(crate) fn node_rows(nodes: &[(NodeId, Hash)]) -> Result<Vec<NodeRow>, LedgerServiceError> {
    nodes
        .iter()
        .map(|(id, hash)| {
            Ok(NodeRow {
                level: i64::from(id.level),
                idx: to_i64(id.index, "node index")?,
                hash: *hash,
            })
        })
        .collect()
}
