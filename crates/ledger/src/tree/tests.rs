use std::cell::Cell;
use std::collections::HashMap;

use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::hash::sha256;

// ----- straightforward recursive reference of RFC 9162 2.1.1, 2.1.3.1, 2.1.4.1

/// The RFC's `k`: largest power of two strictly below `n` (n >= 2).
fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn ref_mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => sha256(b""),
        1 => d[0],
        n => {
            let k = k_of(n);
            node_hash(&ref_mth(&d[..k]), &ref_mth(&d[k..]))
        }
    }
}

fn ref_path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = k_of(n);
    let (mut p, sibling) = if m < k {
        (ref_path(m, &d[..k]), ref_mth(&d[k..]))
    } else {
        (ref_path(m - k, &d[k..]), ref_mth(&d[..k]))
    };
    p.push(sibling);
    p
}

fn ref_subproof(m: usize, d: &[Hash], whole: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if whole { Vec::new() } else { vec![ref_mth(d)] };
    }
    let k = k_of(n);
    let (mut p, sibling) = if m <= k {
        (ref_subproof(m, &d[..k], whole), ref_mth(&d[k..]))
    } else {
        (ref_subproof(m - k, &d[k..], false), ref_mth(&d[..k]))
    };
    p.push(sibling);
    p
}

fn ref_proof(m: usize, d: &[Hash]) -> Vec<Hash> {
    ref_subproof(m, d, true)
}

// ----- helpers

fn hex(s: &str) -> Hash {
    assert_eq!(s.len(), 64);
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

fn flip(h: &Hash, byte: usize) -> Hash {
    let mut h = *h;
    h[byte] ^= 0x01;
    h
}

/// Distinct leaves for `n` entries: random bytes, with the position appended
/// so no two leaves collide (duplicate leaves make a wrong index legitimately
/// verify, which is not what these tests are about).
fn distinct_leaves(raw: &[Vec<u8>]) -> Vec<Hash> {
    raw.iter()
        .enumerate()
        .map(|(i, e)| {
            let mut e = e.clone();
            e.extend_from_slice(&(i as u64).to_be_bytes());
            leaf_hash(&e)
        })
        .collect()
}

fn simple_leaves(n: usize) -> Vec<Hash> {
    (0..n as u64).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

/// Counts node reads, to check the O(log n) promise.
struct Counting<S> {
    inner: S,
    reads: Cell<usize>,
}

impl<S: NodeSource> NodeSource for Counting<S> {
    fn node(&self, id: NodeId) -> Result<Hash, LedgerError> {
        self.reads.set(self.reads.get() + 1);
        self.inner.node(id)
    }
}

/// A source for gigantic trees that fabricates node hashes; the values are
/// meaningless but the access pattern is real.
struct Synthetic {
    size: u64,
}

impl NodeSource for Synthetic {
    fn node(&self, id: NodeId) -> Result<Hash, LedgerError> {
        let leaves = id.leaves().ok_or(LedgerError::NodeNotFound(id))?;
        if leaves.end > self.size {
            return Err(LedgerError::NodeNotFound(id));
        }
        let mut seed = vec![id.level];
        seed.extend_from_slice(&id.index.to_be_bytes());
        Ok(sha256(&seed))
    }
}

/// The test's own store: a map filled only with what the frontier emitted.
struct MapSource<'a>(&'a HashMap<NodeId, Hash>);

impl NodeSource for MapSource<'_> {
    fn node(&self, id: NodeId) -> Result<Hash, LedgerError> {
        self.0
            .get(&id)
            .copied()
            .ok_or(LedgerError::NodeNotFound(id))
    }
}

// ----- known answers (RFC 6962 test vectors, recomputed independently)

fn rfc6962_leaves() -> Vec<Hash> {
    let entries: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];
    entries.iter().map(|e| leaf_hash(e)).collect()
}

const RFC6962_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

#[test]
fn known_answer_empty_and_one_leaf_roots() {
    assert_eq!(root_at(0, &MemoryTree::new()).unwrap(), EMPTY_ROOT);
    assert_eq!(Frontier::new().root(), EMPTY_ROOT);
    assert_eq!(EMPTY_ROOT, hex(RFC6962_ROOTS[0]));
    let one = MemoryTree::from_leaves([leaf_hash(b"")]);
    assert_eq!(one.root(), hex(RFC6962_ROOTS[1]));
    // SHA-256 of the single byte 0x00, by hand.
    assert_eq!(leaf_hash(b""), sha256(&[0x00]));
}

#[test]
fn known_answer_small_tree() {
    let leaves = rfc6962_leaves();
    let tree = MemoryTree::from_leaves(leaves.iter().copied());
    for (size, want) in RFC6962_ROOTS.iter().enumerate() {
        assert_eq!(
            root_at(size as u64, &tree).unwrap(),
            hex(want),
            "size {size}"
        );
    }
    // Root of the first three leaves, spelled out.
    let three = node_hash(&node_hash(&leaves[0], &leaves[1]), &leaves[2]);
    assert_eq!(three, hex(RFC6962_ROOTS[3]));

    let path = inclusion_proof(0, 8, &tree).unwrap();
    assert_eq!(
        path,
        vec![
            hex("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            hex("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            hex("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ]
    );
    let path = inclusion_proof(5, 8, &tree).unwrap();
    assert_eq!(
        path,
        vec![
            hex("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            hex("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            hex("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ]
    );
    assert_eq!(
        consistency_proof(6, 8, &tree).unwrap(),
        vec![
            hex("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            hex("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            hex("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ]
    );
    assert_eq!(
        consistency_proof(2, 5, &tree).unwrap(),
        vec![
            hex("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            hex("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ]
    );
    assert_eq!(
        consistency_proof(3, 7, &tree).unwrap(),
        vec![
            hex("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
            hex("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
            hex("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
            hex("837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"),
        ]
    );
    verify_consistency(
        3,
        7,
        &hex(RFC6962_ROOTS[3]),
        &hex(RFC6962_ROOTS[7]),
        &consistency_proof(3, 7, &tree).unwrap(),
    )
    .unwrap();
}

// ----- exhaustive comparison with the reference for small trees

#[test]
fn exhaustive_small_trees_match_reference() {
    let leaves = simple_leaves(70);
    let tree = MemoryTree::from_leaves(leaves.iter().copied());
    for n in 1..=70usize {
        let d = &leaves[..n];
        let root = ref_mth(d);
        assert_eq!(root_at(n as u64, &tree).unwrap(), root);
        for m in 0..n {
            let proof = inclusion_proof(m as u64, n as u64, &tree).unwrap();
            assert_eq!(proof, ref_path(m, d), "PATH({m}, {n})");
            verify_inclusion(&d[m], m as u64, n as u64, &proof, &root).unwrap();
        }
        for m in 1..=n {
            let proof = consistency_proof(m as u64, n as u64, &tree).unwrap();
            assert_eq!(proof, ref_proof(m, d), "PROOF({m}, {n})");
            verify_consistency(m as u64, n as u64, &ref_mth(&d[..m]), &root, &proof).unwrap();
        }
    }
}

// ----- property tests against the reference

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn proofs_match_reference_and_resist_tampering(
        raw in vec(vec(any::<u8>(), 0..24), 1..=300),
        extra in 0usize..4,
        index_seed in any::<u64>(),
        old_seed in any::<u64>(),
    ) {
        let n = raw.len();
        // A few leaves past `n` so that genuine roots of larger sizes exist.
        let mut raw = raw;
        raw.extend((0..extra).map(|i| vec![0xee, i as u8]));
        let leaves = distinct_leaves(&raw);
        let total = leaves.len();
        let tree = MemoryTree::from_leaves(leaves.iter().copied());
        let d = &leaves[..n];
        let (n64, total64) = (n as u64, total as u64);

        let root = root_at(n64, &tree).unwrap();
        prop_assert_eq!(root, ref_mth(d));
        let genuine_root = |size: u64| root_at(size, &tree).unwrap();

        // Inclusion.
        let index = (index_seed % n64) as usize;
        let leaf = d[index];
        let proof = inclusion_proof(index as u64, n64, &tree).unwrap();
        prop_assert_eq!(&proof, &ref_path(index, d));
        prop_assert!(verify_inclusion(&leaf, index as u64, n64, &proof, &root).is_ok());
        for (i, byte) in (0..proof.len()).flat_map(|i| (0..32).map(move |b| (i, b))) {
            let mut bad = proof.clone();
            bad[i] = flip(&bad[i], byte);
            prop_assert!(verify_inclusion(&leaf, index as u64, n64, &bad, &root).is_err());
        }
        for other in (0..n64).filter(|&j| j != index as u64) {
            prop_assert!(verify_inclusion(&leaf, other, n64, &proof, &root).is_err(), "index {}", other);
        }
        for size in (index as u64 + 1..=total64).filter(|&s| s != n64) {
            prop_assert!(
                verify_inclusion(&leaf, index as u64, size, &proof, &genuine_root(size)).is_err(),
                "size {}", size
            );
        }
        prop_assert!(verify_inclusion(&leaf, index as u64, index as u64, &proof, &root).is_err());
        for byte in 0..32 {
            prop_assert!(verify_inclusion(&leaf, index as u64, n64, &proof, &flip(&root, byte)).is_err());
            prop_assert!(verify_inclusion(&flip(&leaf, byte), index as u64, n64, &proof, &root).is_err());
        }
        if let Some((_, shorter)) = proof.split_last() {
            prop_assert!(verify_inclusion(&leaf, index as u64, n64, shorter, &root).is_err());
        }
        let mut longer = proof.clone();
        longer.push(leaf);
        prop_assert!(verify_inclusion(&leaf, index as u64, n64, &longer, &root).is_err());

        // Consistency.
        let m = 1 + (old_seed % n64) as usize;
        let m64 = m as u64;
        let old_root = root_at(m64, &tree).unwrap();
        prop_assert_eq!(old_root, ref_mth(&d[..m]));
        let proof = consistency_proof(m64, n64, &tree).unwrap();
        prop_assert_eq!(&proof, &ref_proof(m, d));
        prop_assert!(verify_consistency(m64, n64, &old_root, &root, &proof).is_ok());
        for (i, byte) in (0..proof.len()).flat_map(|i| (0..32).map(move |b| (i, b))) {
            let mut bad = proof.clone();
            bad[i] = flip(&bad[i], byte);
            prop_assert!(verify_consistency(m64, n64, &old_root, &root, &bad).is_err());
        }
        for byte in 0..32 {
            prop_assert!(verify_consistency(m64, n64, &flip(&old_root, byte), &root, &proof).is_err());
            prop_assert!(verify_consistency(m64, n64, &old_root, &flip(&root, byte), &proof).is_err());
        }
        for old in (1..n64).filter(|&s| s != m64) {
            prop_assert!(
                verify_consistency(old, n64, &genuine_root(old), &root, &proof).is_err(),
                "old size {}", old
            );
        }
        for new in (m64..=total64).filter(|&s| s != n64) {
            prop_assert!(
                verify_consistency(m64, new, &old_root, &genuine_root(new), &proof).is_err(),
                "new size {}", new
            );
        }
        if let Some((_, shorter)) = proof.split_last() {
            prop_assert!(verify_consistency(m64, n64, &old_root, &root, shorter).is_err());
        }
        let mut longer = proof.clone();
        longer.push(root);
        prop_assert!(verify_consistency(m64, n64, &old_root, &root, &longer).is_err());
    }
}

// ----- edge cases of verification

#[test]
fn consistency_edge_cases() {
    let leaves = simple_leaves(8);
    let tree = MemoryTree::from_leaves(leaves.iter().copied());
    let r = |s| root_at(s, &tree).unwrap();

    // Equal sizes: empty proof and equal roots only.
    verify_consistency(5, 5, &r(5), &r(5), &[]).unwrap();
    assert!(verify_consistency(5, 5, &r(5), &r(4), &[]).is_err());
    assert!(verify_consistency(5, 5, &r(5), &r(5), &[r(5)]).is_err());
    assert!(consistency_proof(5, 5, &tree).unwrap().is_empty());

    // Empty old tree: consistent with anything, but only with the empty root
    // and an empty proof.
    verify_consistency(0, 7, &EMPTY_ROOT, &r(7), &[]).unwrap();
    verify_consistency(0, 0, &EMPTY_ROOT, &EMPTY_ROOT, &[]).unwrap();
    assert!(verify_consistency(0, 7, &r(1), &r(7), &[]).is_err());
    assert!(verify_consistency(0, 7, &EMPTY_ROOT, &r(7), &[r(7)]).is_err());
    assert!(consistency_proof(0, 7, &tree).unwrap().is_empty());

    // Backwards.
    assert_eq!(
        verify_consistency(6, 5, &r(6), &r(5), &[]),
        Err(LedgerError::SizeOrder {
            old_size: 6,
            new_size: 5
        })
    );
    assert!(consistency_proof(6, 5, &tree).is_err());

    // A real proof cannot be empty.
    assert!(verify_consistency(3, 7, &r(3), &r(7), &[]).is_err());
    assert!(verify_consistency(4, 7, &r(4), &r(7), &[]).is_err());

    // Old size a power of two: the old root is implied, not sent.
    let proof = consistency_proof(4, 7, &tree).unwrap();
    assert_eq!(proof, vec![ref_mth(&leaves[4..7])]);
    verify_consistency(4, 7, &r(4), &r(7), &proof).unwrap();
    let proof = consistency_proof(1, 8, &tree).unwrap();
    assert_eq!(proof.len(), 3);
    verify_consistency(1, 8, &r(1), &r(8), &proof).unwrap();
    // Sending the implied old root anyway makes the proof too long.
    let mut padded = vec![r(4)];
    padded.extend(consistency_proof(4, 7, &tree).unwrap());
    assert!(verify_consistency(4, 7, &r(4), &r(7), &padded).is_err());
}

#[test]
fn inclusion_edge_cases() {
    let leaves = simple_leaves(5);
    let tree = MemoryTree::from_leaves(leaves.iter().copied());
    // A single-leaf tree: the leaf is the root and the proof is empty.
    let proof = inclusion_proof(0, 1, &tree).unwrap();
    assert!(proof.is_empty());
    verify_inclusion(&leaves[0], 0, 1, &[], &leaves[0]).unwrap();
    assert!(verify_inclusion(&leaves[0], 0, 1, &[leaves[1]], &leaves[0]).is_err());
    // Out of range.
    assert_eq!(
        inclusion_proof(5, 5, &tree),
        Err(LedgerError::IndexOutOfRange { index: 5, size: 5 })
    );
    assert!(verify_inclusion(&leaves[0], 5, 5, &[], &leaves[0]).is_err());
    assert!(verify_inclusion(&leaves[0], 0, 0, &[], &EMPTY_ROOT).is_err());
    // Asking beyond what the store holds is an error, not a wrong answer.
    assert_eq!(
        root_at(6, &tree),
        Err(LedgerError::NodeNotFound(NodeId::new(1, 2)))
    );
    assert!(inclusion_proof(0, 6, &tree).is_err());
}

#[test]
fn subtree_hash_accepts_only_rfc_shaped_ranges() {
    let leaves = simple_leaves(16);
    let tree = MemoryTree::from_leaves(leaves.iter().copied());
    assert_eq!(
        subtree_hash(2, 5, &tree).unwrap(),
        ref_mth(&leaves[2..5]),
        "[2,5) = node(1,1) + leaf 4"
    );
    assert_eq!(subtree_hash(8, 15, &tree).unwrap(), ref_mth(&leaves[8..15]));
    assert_eq!(subtree_hash(4, 4, &tree).unwrap(), EMPTY_ROOT);
    for (start, end) in [(1, 3), (3, 7), (2, 6), (6, 5)] {
        assert_eq!(
            subtree_hash(start, end, &tree),
            Err(LedgerError::InvalidRange { start, end })
        );
    }
    // Every valid range inside 16 leaves agrees with the reference.
    for start in 0..16usize {
        for end in start + 1..=16 {
            let len = end - start;
            let top = 1usize << (usize::BITS - 1 - len.leading_zeros());
            let got = subtree_hash(start as u64, end as u64, &tree);
            if start % top == 0 {
                assert_eq!(got.unwrap(), ref_mth(&leaves[start..end]));
            } else {
                assert!(got.is_err());
            }
        }
    }
}

#[test]
fn node_reads_are_logarithmic() {
    for size in [
        1u64,
        2,
        3,
        1000,
        (1 << 20) - 1,
        (1 << 20) + 1,
        123_456_789,
        (1 << 40) + 12345,
        u64::MAX - 1,
    ] {
        let src = Counting {
            inner: Synthetic { size },
            reads: Cell::new(0),
        };
        let depth = 64 - size.leading_zeros() as usize;
        let bound = 2 * depth + 2;
        for index in [0, size / 3, size / 2, size - 1] {
            src.reads.set(0);
            inclusion_proof(index, size, &src).unwrap();
            assert!(
                src.reads.get() <= bound,
                "inclusion {index}/{size}: {} reads",
                src.reads.get()
            );
        }
        for old in [1, size / 3, size / 2, size - 1]
            .into_iter()
            .filter(|&m| m > 0)
        {
            src.reads.set(0);
            consistency_proof(old, size, &src).unwrap();
            assert!(
                src.reads.get() <= bound,
                "consistency {old}/{size}: {} reads",
                src.reads.get()
            );
        }
        src.reads.set(0);
        root_at(size, &src).unwrap();
        assert!(src.reads.get() <= depth);
        src.reads.set(0);
        Frontier::from_nodes(size, &src).unwrap();
        assert_eq!(src.reads.get(), size.count_ones() as usize);
    }
}

// ----- frontier

#[test]
fn frontier_matches_reference_and_emits_exactly_the_nodes_proofs_need() {
    const N: usize = 300;
    let leaves = simple_leaves(N);
    let tree = MemoryTree::from_leaves(leaves.iter().copied());
    let mut frontier = Frontier::new();
    let mut store: HashMap<NodeId, Hash> = HashMap::new();
    for n in 1..=N {
        let emitted = frontier.append(leaves[n - 1]).unwrap();
        assert_eq!(emitted[0], (NodeId::leaf(n as u64 - 1), leaves[n - 1]));
        for (id, hash) in emitted {
            assert_eq!(tree.node(id).unwrap(), hash, "{id:?}");
            assert!(
                id.leaves().unwrap().end <= n as u64,
                "{id:?} is not complete yet"
            );
            assert!(store.insert(id, hash).is_none(), "{id:?} emitted twice");
        }
        assert_eq!(frontier.size(), n as u64);
        let root = ref_mth(&leaves[..n]);
        assert_eq!(frontier.root(), root, "size {n}");

        // Exactly every complete subtree inside [0, n): sum of floor(n / 2^l).
        let complete: usize = (0..usize::BITS).map(|l| n >> l).sum();
        assert_eq!(store.len(), complete);

        let src = MapSource(&store);
        assert_eq!(root_at(n as u64, &src).unwrap(), root);
        for index in [0, n / 2, n - 1] {
            assert_eq!(
                inclusion_proof(index as u64, n as u64, &src).unwrap(),
                ref_path(index, &leaves[..n])
            );
        }
        for m in [1, n / 2 + 1, n - 1].into_iter().filter(|&m| m >= 1) {
            assert_eq!(
                consistency_proof(m as u64, n as u64, &src).unwrap(),
                ref_proof(m, &leaves[..n])
            );
        }
        let restored = Frontier::from_nodes(n as u64, &src).unwrap();
        assert_eq!(restored, frontier);
        assert_eq!(
            frontier.nodes().map(|(id, _)| id).collect::<Vec<_>>(),
            Frontier::node_ids(n as u64).collect::<Vec<_>>()
        );
    }

    // The emitted nodes alone serve every proof of the final tree.
    let src = MapSource(&store);
    let n = N as u64;
    for index in 0..n {
        assert_eq!(
            inclusion_proof(index, n, &src).unwrap(),
            inclusion_proof(index, n, &tree).unwrap()
        );
    }
    for m in 0..=n {
        assert_eq!(
            consistency_proof(m, n, &src).unwrap(),
            consistency_proof(m, n, &tree).unwrap()
        );
    }
}

#[test]
fn restored_frontier_continues_like_the_original() {
    let leaves = simple_leaves(100);
    let mut tree = MemoryTree::new();
    for (i, leaf) in leaves.iter().enumerate() {
        tree.push(*leaf);
        let mut restored = Frontier::from_nodes(i as u64 + 1, &tree).unwrap();
        let mut continued = tree.clone();
        for next in &leaves[i + 1..(i + 5).min(100)] {
            let emitted = restored.append(*next).unwrap();
            continued.push(*next);
            for (id, hash) in emitted {
                assert_eq!(continued.node(id).unwrap(), hash);
            }
            assert_eq!(restored.root(), continued.root());
        }
    }
}

#[test]
fn frontier_node_ids_cover_the_tree_left_to_right() {
    assert_eq!(Frontier::node_ids(0).count(), 0);
    assert_eq!(
        Frontier::node_ids(13).collect::<Vec<_>>(),
        vec![NodeId::new(3, 0), NodeId::new(2, 2), NodeId::new(0, 12)]
    );
    let ids: Vec<_> = Frontier::node_ids(u64::MAX).collect();
    assert_eq!(ids.len(), 64);
    assert_eq!(ids[0], NodeId::new(63, 0));
    assert_eq!(ids[63], NodeId::leaf(u64::MAX - 1));
}

#[test]
fn node_id_leaf_ranges() {
    assert_eq!(NodeId::new(0, 7).leaves(), Some(7..8));
    assert_eq!(NodeId::new(3, 2).leaves(), Some(16..24));
    assert_eq!(NodeId::new(64, 0).leaves(), None);
    assert_eq!(NodeId::new(1, u64::MAX).leaves(), None);
}
