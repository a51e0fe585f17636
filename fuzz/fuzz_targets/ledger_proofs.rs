//! RFC 9162 proofs as a citizen's browser and a reviewer check them:
//! `verify_inclusion` and `verify_consistency` on arbitrary input (no
//! panic), and differentially against a real tree of up to 64 leaves: a
//! true proof verifies, and any other proof for the same claim does not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sqin_ledger::{
    consistency_proof, inclusion_proof, leaf_hash, root_at, verify_consistency, verify_inclusion,
    Frontier, Hash, MemoryTree,
};

fn hashes(bytes: &[u8]) -> Vec<Hash> {
    bytes
        .chunks_exact(32)
        .map(|c| Hash::try_from(c).expect("32 bytes"))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 19 {
        return;
    }
    let word = |i: usize| u64::from_be_bytes(data[i..i + 8].try_into().expect("8 bytes"));
    let (a, b, mode) = (word(0), word(8), data[16]);
    let rest = hashes(&data[17..]);

    // Arbitrary claims: an error, never a panic.
    if rest.len() >= 2 {
        let (x, y, proof) = (&rest[0], &rest[1], &rest[2..]);
        let _ = verify_inclusion(x, a, b, proof, y);
        let _ = verify_consistency(a, b, x, y, proof);
    }

    // A real tree, and proofs about it.
    let n = u64::from(mode % 65);
    let mut tree = MemoryTree::new();
    let mut frontier = Frontier::new();
    for i in 0..n {
        let leaf = leaf_hash(&i.to_be_bytes());
        tree.push(leaf);
        frontier.append(leaf).expect("append");
    }
    let root = root_at(n, &tree).expect("root");
    assert_eq!(root, frontier.root(), "frontier and tree disagree");
    if n > 0 {
        let index = a % n;
        let leaf = leaf_hash(&index.to_be_bytes());
        let proof = inclusion_proof(index, n, &tree).expect("inclusion proof");
        verify_inclusion(&leaf, index, n, &proof, &root).expect("a true inclusion proof");
        if rest != proof {
            assert!(
                verify_inclusion(&leaf, index, n, &rest, &root).is_err(),
                "a forged inclusion proof verified"
            );
        }
    }
    let m = b % (n + 1);
    let old = root_at(m, &tree).expect("old root");
    let proof = consistency_proof(m, n, &tree).expect("consistency proof");
    verify_consistency(m, n, &old, &root, &proof).expect("a true consistency proof");
    if rest != proof {
        assert!(
            verify_consistency(m, n, &old, &root, &rest).is_err(),
            "a forged consistency proof verified (old {m}, new {n}, {} hashes)",
            rest.len()
        );
    }
});
