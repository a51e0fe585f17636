//! Merkle tree maths over persisted complete subtrees (RFC 9162 section 2.1).
//!
//! A store cannot afford to rehash the whole log to answer a proof request,
//! and it should not have to understand the RFC's recursive definitions. So
//! the only thing a store persists is the hash of every *complete* subtree
//! (an aligned block of `2^level` leaves), which never changes once written
//! because the log is append-only. Every root, inclusion proof and
//! consistency proof of any past tree size is then assembled here from
//! O(log n) such nodes, fetched through [`NodeSource`].

use crate::hash::{leaf_hash, node_hash, Hash, EMPTY_ROOT};
use crate::LedgerError;

/// The address of a complete subtree: the `2^level` leaves
/// `[index * 2^level, (index + 1) * 2^level)`.
///
/// Level 0 nodes are the leaf hashes themselves. This addressing is stable
/// across tree sizes, which is what lets a store key its rows by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves; the subtree spans `2^level` leaves.
    pub level: u8,
    /// Position among the subtrees of this level, counting from the left.
    pub index: u64,
}

impl NodeId {
    /// Builds an id; no validation, since any pair names some subtree.
    pub const fn new(level: u8, index: u64) -> Self {
        Self { level, index }
    }

    /// The id of a leaf, which is just its sequence number at level 0.
    pub const fn leaf(index: u64) -> Self {
        Self { level: 0, index }
    }

    /// The leaves the subtree covers, or `None` if that range does not fit in
    /// `u64` (such a node can never exist in a real log).
    pub fn leaves(self) -> Option<std::ops::Range<u64>> {
        let width = 1u128.checked_shl(u32::from(self.level))?;
        let start = u128::from(self.index).checked_mul(width)?;
        let end = start.checked_add(width)?;
        Some(u64::try_from(start).ok()?..u64::try_from(end).ok()?)
    }
}

/// Where the tree maths reads persisted complete-subtree hashes from.
///
/// Implemented by the database layer over its node table, by [`MemoryTree`]
/// for tests and exports, and by anything else that can look a hash up by
/// [`NodeId`]. Only nodes wholly inside the tree size being asked about are
/// ever requested, so a store that is concurrently appending needs no locking
/// for past sizes.
pub trait NodeSource {
    /// The hash of the complete subtree `id`, or an error (typically
    /// [`LedgerError::NodeNotFound`] or [`LedgerError::Source`]).
    fn node(&self, id: NodeId) -> Result<Hash, LedgerError>;
}

impl<T: NodeSource + ?Sized> NodeSource for &T {
    fn node(&self, id: NodeId) -> Result<Hash, LedgerError> {
        (**self).node(id)
    }
}

/// Largest power of two not above `n`; `n` must be non-zero.
fn highest_bit(n: u64) -> u64 {
    1u64 << (63 - n.leading_zeros())
}

/// Largest power of two strictly below `n` (the RFC's `k`); `n` must be >= 2.
fn split_point(n: u64) -> u64 {
    highest_bit(n - 1)
}

/// The `level` of a complete subtree of `width` leaves; `width` is a power of two.
fn level_of(width: u64) -> u8 {
    // trailing_zeros of a non-zero u64 is at most 63, which always fits.
    width.trailing_zeros() as u8
}

/// `MTH(D[start:end])` of RFC 9162 section 2.1.1, assembled from at most 64
/// stored complete subtrees.
///
/// Only ranges that the RFC's recursion actually produces can be built from
/// aligned subtrees: those whose start is a multiple of the largest power of
/// two not above their length. Every range used by roots and proofs is of this
/// kind; any other range is rejected with [`LedgerError::InvalidRange`] rather
/// than silently hashed in a different shape.
pub fn subtree_hash<S: NodeSource + ?Sized>(
    start: u64,
    end: u64,
    source: &S,
) -> Result<Hash, LedgerError> {
    if end < start {
        return Err(LedgerError::InvalidRange { start, end });
    }
    let len = end - start;
    if len == 0 {
        return Ok(EMPTY_ROOT);
    }
    if start % highest_bit(len) != 0 {
        return Err(LedgerError::InvalidRange { start, end });
    }
    // The range splits into one aligned complete subtree per set bit of its
    // length, largest first; the RFC's left-heavy split makes the hash the
    // right fold of those subtrees. Walk from the right end, smallest first.
    let mut acc: Option<Hash> = None;
    let mut pos = end;
    let mut remaining = len;
    while remaining != 0 {
        let width = 1u64 << remaining.trailing_zeros();
        pos -= width;
        let level = level_of(width);
        let node = source.node(NodeId::new(level, pos >> level))?;
        acc = Some(match acc {
            None => node,
            Some(right) => node_hash(&node, &right),
        });
        remaining &= remaining - 1;
    }
    acc.ok_or(LedgerError::Invariant("non-empty range produced no node"))
}

/// The root of the tree of the first `size` leaves, for any past size.
pub fn root_at<S: NodeSource + ?Sized>(size: u64, source: &S) -> Result<Hash, LedgerError> {
    subtree_hash(0, size, source)
}

/// The audit path `PATH(index, D[0:size])` of RFC 9162 section 2.1.3.1,
/// ordered from the leaf's sibling up to the root's child.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    index: u64,
    size: u64,
    source: &S,
) -> Result<Vec<Hash>, LedgerError> {
    if index >= size {
        return Err(LedgerError::IndexOutOfRange { index, size });
    }
    // Descend from the root; each step records the sibling of the half that
    // holds the leaf. Only the first right-hand sibling can be incomplete, so
    // the whole proof costs O(log n) node reads.
    let mut siblings = Vec::new();
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        let mid = lo + split_point(hi - lo);
        if index < mid {
            siblings.push(subtree_hash(mid, hi, source)?);
            hi = mid;
        } else {
            siblings.push(subtree_hash(lo, mid, source)?);
            lo = mid;
        }
    }
    siblings.reverse();
    Ok(siblings)
}

/// The consistency proof `PROOF(old_size, D[0:new_size])` of RFC 9162
/// section 2.1.4.1.
///
/// The RFC only defines proofs for `0 < old_size < new_size`; for
/// `old_size == 0` or `old_size == new_size` this returns the empty proof,
/// which [`verify_consistency`] accepts for exactly those trivial cases.
pub fn consistency_proof<S: NodeSource + ?Sized>(
    old_size: u64,
    new_size: u64,
    source: &S,
) -> Result<Vec<Hash>, LedgerError> {
    if old_size > new_size {
        return Err(LedgerError::SizeOrder { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    // Iterative SUBPROOF(m, D[lo:hi], whole): `siblings` are pushed top-down
    // and emitted bottom-up after the optional terminal subtree hash.
    let mut siblings = Vec::new();
    let (mut lo, mut hi) = (0u64, new_size);
    let mut m = old_size;
    let mut whole = true;
    let terminal = loop {
        let len = hi - lo;
        if m == len {
            break if whole {
                None
            } else {
                Some(subtree_hash(lo, hi, source)?)
            };
        }
        let k = split_point(len);
        if m <= k {
            siblings.push(subtree_hash(lo + k, hi, source)?);
            hi = lo + k;
        } else {
            siblings.push(subtree_hash(lo, lo + k, source)?);
            lo += k;
            m -= k;
            whole = false;
        }
    };
    Ok(terminal
        .into_iter()
        .chain(siblings.into_iter().rev())
        .collect())
}

/// Checks an audit path per RFC 9162 section 2.1.3.2.
///
/// A proof that is valid for `(index, size, root)` can, by construction of the
/// RFC algorithm, also pass for a different `size` whose path has the same
/// shape; that is harmless because a genuine root is only ever trusted
/// together with its own size from a signed checkpoint.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), LedgerError> {
    if index >= size {
        return Err(LedgerError::InvalidInclusionProof(
            "leaf index is not below the tree size",
        ));
    }
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(LedgerError::InvalidInclusionProof(
                "proof is longer than the path to the root",
            ));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(LedgerError::InvalidInclusionProof(
            "proof is shorter than the path to the root",
        ));
    }
    if r != *root {
        return Err(LedgerError::InvalidInclusionProof(
            "proof does not lead to the expected root",
        ));
    }
    Ok(())
}

/// Checks that the tree `(new_size, new_root)` extends `(old_size, old_root)`
/// per RFC 9162 section 2.1.4.2.
///
/// The trivial cases the RFC leaves undefined are decided the only safe way:
/// equal sizes need an empty proof and identical roots; an empty old tree needs
/// an empty proof and the empty root (it is a prefix of every tree).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), LedgerError> {
    if old_size > new_size {
        return Err(LedgerError::SizeOrder { old_size, new_size });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(LedgerError::InvalidConsistencyProof(
                "proof between equal sizes must be empty",
            ));
        }
        if old_root != new_root {
            return Err(LedgerError::InvalidConsistencyProof(
                "roots of equal-sized trees differ",
            ));
        }
        return Ok(());
    }
    if old_size == 0 {
        if !proof.is_empty() {
            return Err(LedgerError::InvalidConsistencyProof(
                "proof from the empty tree must be empty",
            ));
        }
        if *old_root != EMPTY_ROOT {
            return Err(LedgerError::InvalidConsistencyProof(
                "root of the empty tree must be the hash of nothing",
            ));
        }
        return Ok(());
    }
    if proof.is_empty() {
        return Err(LedgerError::InvalidConsistencyProof("proof is empty"));
    }
    let mut rest = proof.iter();
    // A power-of-two old tree is itself a node of the new tree, so the RFC
    // omits it from the proof and the verifier starts from the old root.
    let seed = if old_size.is_power_of_two() {
        *old_root
    } else {
        *rest
            .next()
            .ok_or(LedgerError::InvalidConsistencyProof("proof is empty"))?
    };
    let mut fn_ = old_size - 1;
    let mut sn = new_size - 1;
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let mut fr = seed;
    let mut sr = seed;
    for c in rest {
        if sn == 0 {
            return Err(LedgerError::InvalidConsistencyProof(
                "proof is longer than needed",
            ));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(LedgerError::InvalidConsistencyProof(
            "proof is shorter than needed",
        ));
    }
    if fr != *old_root {
        return Err(LedgerError::InvalidConsistencyProof(
            "proof does not lead to the old root",
        ));
    }
    if sr != *new_root {
        return Err(LedgerError::InvalidConsistencyProof(
            "proof does not lead to the new root",
        ));
    }
    Ok(())
}

/// The right edge of the tree: one hash per maximal complete subtree.
///
/// This is all an appender needs in memory (at most 64 hashes) to compute the
/// current root and the new complete-subtree nodes each append creates, so the
/// write path never reads the node table except once at start-up
/// ([`Frontier::from_nodes`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Hashes of the subtrees for the set bits of `size`, largest first.
    nodes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// The ids of the maximal complete subtrees of a tree of `size` leaves,
    /// largest (leftmost) first: exactly the nodes [`Frontier::from_nodes`]
    /// reads, so a store can prefetch them in one query.
    pub fn node_ids(size: u64) -> impl Iterator<Item = NodeId> {
        (0..64u8).rev().filter_map(move |level| {
            let width = 1u64 << level;
            (size & width != 0).then(|| {
                // Leaves before this subtree are the higher set bits of size
                // (for level 63 the shift wraps to 0 and the mask clears all).
                let start = size & !(width.wrapping_shl(1).wrapping_sub(1));
                NodeId::new(level, start >> level)
            })
        })
    }

    /// Restores the frontier of a persisted tree of `size` leaves, reading
    /// only its O(log n) maximal complete subtrees.
    pub fn from_nodes<S: NodeSource + ?Sized>(size: u64, source: &S) -> Result<Self, LedgerError> {
        let nodes = Self::node_ids(size)
            .map(|id| source.node(id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { size, nodes })
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The current root, `MTH` of all leaves so far.
    pub fn root(&self) -> Hash {
        let mut iter = self.nodes.iter().rev();
        match iter.next() {
            None => EMPTY_ROOT,
            Some(last) => iter.fold(*last, |right, left| node_hash(left, &right)),
        }
    }

    /// The frontier's nodes with their ids, largest first; persisting just
    /// these is enough to restore the frontier later.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, Hash)> + '_ {
        Self::node_ids(self.size).zip(self.nodes.iter().copied())
    }

    /// Appends one leaf hash and returns every complete-subtree node the
    /// append completed, the leaf itself first, so the caller can persist them
    /// in the same transaction as the entry.
    pub fn append(&mut self, leaf: Hash) -> Result<Vec<(NodeId, Hash)>, LedgerError> {
        let mut out = Vec::with_capacity(1 + self.size.trailing_ones() as usize);
        self.append_with(leaf, |id, hash| out.push((id, hash)))?;
        Ok(out)
    }

    /// Like [`Frontier::append`], but hands the new nodes to `sink` instead
    /// of allocating, for the verifier's hot loop.
    pub fn append_with(
        &mut self,
        leaf: Hash,
        mut sink: impl FnMut(NodeId, Hash),
    ) -> Result<(), LedgerError> {
        let index = self.size;
        let new_size = index.checked_add(1).ok_or(LedgerError::TreeFull)?;
        sink(NodeId::leaf(index), leaf);
        // Each trailing one bit of the old size is a complete subtree of the
        // same height as the carry, so it merges into a subtree one level up.
        let mut carry = leaf;
        for level in 1..=index.trailing_ones() {
            let left = self.nodes.pop().ok_or(LedgerError::Invariant(
                "frontier has fewer nodes than set bits in its size",
            ))?;
            carry = node_hash(&left, &carry);
            // level <= 64 here only if index == u64::MAX, excluded above.
            sink(NodeId::new(level as u8, index >> level), carry);
        }
        self.nodes.push(carry);
        self.size = new_size;
        Ok(())
    }
}

/// A whole tree held in memory, every complete subtree included.
///
/// Meant for tests and for offline checks of an exported log, where
/// O(n) memory is acceptable and proofs must be served without a database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryTree {
    /// `levels[l][i]` is the hash of [`NodeId`] `(l, i)`.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree of the given leaf hashes, in order.
    pub fn from_leaves<I: IntoIterator<Item = Hash>>(leaves: I) -> Self {
        let mut tree = Self::new();
        for leaf in leaves {
            tree.push(leaf);
        }
        tree
    }

    /// Appends an entry, hashing it as a leaf.
    pub fn push_entry(&mut self, entry: &[u8]) {
        self.push(leaf_hash(entry));
    }

    /// Appends a leaf hash and every complete subtree it finishes.
    pub fn push(&mut self, leaf: Hash) {
        let mut carry = leaf;
        let mut level = 0usize;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else {
                return;
            };
            row.push(carry);
            if row.len() % 2 != 0 {
                return;
            }
            match row.last_chunk::<2>() {
                Some([left, right]) => carry = node_hash(left, right),
                None => return,
            }
            level += 1;
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |row| row.len() as u64)
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        // Every node of the current size is present, so this cannot fail.
        root_at(self.size(), self).unwrap_or(EMPTY_ROOT)
    }
}

impl NodeSource for MemoryTree {
    fn node(&self, id: NodeId) -> Result<Hash, LedgerError> {
        usize::try_from(id.index)
            .ok()
            .and_then(|index| self.levels.get(usize::from(id.level))?.get(index))
            .copied()
            .ok_or(LedgerError::NodeNotFound(id))
    }
}

#[cfg(test)]
mod tests;
