//! RFC 9162 section 2.1.1 hashing.
//!
//! Leaves and interior nodes get different one-byte prefixes so that no leaf
//! can ever be passed off as an interior node (a second-preimage attack on the
//! tree shape). Every other module builds on these three definitions, so they
//! must never change for an existing log.

use ring::digest::{Context, SHA256};

/// A SHA-256 output: a leaf hash, an interior node hash, or a tree root.
pub type Hash = [u8; 32];

/// The root of the empty tree, `SHA-256("")`, so that a log with no entries
/// still has a well-defined checkpoint.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

fn finish(ctx: Context) -> Hash {
    let digest = ctx.finish();
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// `SHA-256(0x00 || entry)`: what the tree commits to for one log entry.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[LEAF_PREFIX]);
    ctx.update(entry);
    finish(ctx)
}

/// `SHA-256(0x01 || left || right)`: the parent of two subtrees.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[NODE_PREFIX]);
    ctx.update(left);
    ctx.update(right);
    finish(ctx)
}

/// Plain SHA-256, for key ids and for checking [`EMPTY_ROOT`].
pub(crate) fn sha256(data: &[u8]) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(data);
    finish(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, sha256(b""));
    }
}
