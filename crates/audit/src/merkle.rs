//! RFC 6962 §2.1 Merkle hash trees over SHA-256: leaf hash
//! `SHA-256(0x00 ‖ data)`, interior node hash `SHA-256(0x01 ‖ left ‖ right)`,
//! the empty tree's root `SHA-256("")`. [`root`] is MTH over leaf hashes;
//! [`inclusion_proof`] / [`verify_inclusion`] are the audit path (RFC 6962
//! §2.1.1, verified as in RFC 9162 §2.1.3.2) and [`consistency_proof`] /
//! [`verify_consistency`] the consistency proof (RFC 6962 §2.1.2, verified as
//! in RFC 9162 §2.1.4.2). Verification is strict: the index must be in range,
//! `0 < old_size <= new_size`, the proof exactly as long as the algorithm
//! consumes, and hashes exactly 32 bytes ([`hash_from_slice`]). [`Frontier`]
//! is the incremental form the enclave keeps: the O(log n) roots of the
//! perfect subtrees of the tree so far, from which each append yields the new
//! root. Sizes are `u64`; no tree here may exceed 2^63 − 1 leaves (the C2SP
//! checkpoint bound).

use sha2::{Digest, Sha256};

use crate::error::{err, Error, ErrorCode};

/// A SHA-256 hash: a leaf hash, a node hash or a root.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 ‖ data)`: the hash of one leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// `SHA-256("")`: the root of the empty tree.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// A hash from bytes that must be exactly 32 long. Error: `AUDIT_HASH_LENGTH`.
pub fn hash_from_slice(bytes: &[u8]) -> Result<Hash, Error> {
    bytes.try_into().or_else(|_| err(ErrorCode::HashLength, format!("a hash is 32 bytes, got {}", bytes.len())))
}

/// The largest power of two smaller than `n` (`n >= 2`).
fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// `MTH(D[n])` over leaf hashes (RFC 6962 §2.1): [`empty_root`] for none.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The audit path of leaf `index` in the tree of `leaves` (RFC 6962 §2.1.1
/// `PATH(m, D[n])`), from the leaf's sibling up to a child of the root.
/// Error: `AUDIT_INDEX_OUT_OF_RANGE`.
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>, Error> {
    let size = leaves.len() as u64;
    if index >= size {
        return err(ErrorCode::IndexOutOfRange, format!("leaf index {index} is not below tree size {size}"));
    }
    let mut proof = Vec::new();
    path(index as usize, leaves, &mut proof);
    Ok(proof)
}

fn path(m: usize, leaves: &[Hash], out: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(m, &leaves[..k], out);
        out.push(root(&leaves[k..]));
    } else {
        path(m - k, &leaves[k..], out);
        out.push(root(&leaves[..k]));
    }
}

/// The consistency proof from the first `old_size` leaves to all of `leaves`
/// (RFC 6962 §2.1.2 `PROOF(m, D[n])`); empty when the sizes are equal.
/// Error: `AUDIT_TREE_SIZE_INVALID` unless `0 < old_size <= leaves.len()`.
pub fn consistency_proof(leaves: &[Hash], old_size: u64) -> Result<Vec<Hash>, Error> {
    let size = leaves.len() as u64;
    if old_size == 0 || old_size > size {
        return err(
            ErrorCode::TreeSizeInvalid,
            format!("a consistency proof needs 0 < old size <= new size, got {old_size} and {size}"),
        );
    }
    let mut proof = Vec::new();
    if old_size < size {
        subproof(old_size as usize, leaves, true, &mut proof);
    }
    Ok(proof)
}

/// The consistency proof from the tree of the first `old_size` leaves to the
/// tree of the first `new_size` leaves of `leaves`. Error:
/// `AUDIT_TREE_SIZE_INVALID` unless `0 < old_size <= new_size <= leaves.len()`.
pub fn consistency(leaves: &[Hash], old_size: u64, new_size: u64) -> Result<Vec<Hash>, Error> {
    if new_size > leaves.len() as u64 {
        return err(
            ErrorCode::TreeSizeInvalid,
            format!("new size {new_size} is over the {} leaves given", leaves.len()),
        );
    }
    consistency_proof(&leaves[..new_size as usize], old_size)
}

fn subproof(m: usize, leaves: &[Hash], complete: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            out.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, &leaves[..k], complete, out);
        out.push(root(&leaves[k..]));
    } else {
        subproof(m - k, &leaves[k..], false, out);
        out.push(root(&leaves[..k]));
    }
}

fn proof_length(expected_more: bool, got: usize) -> Error {
    let which = if expected_more { "too short" } else { "too long" };
    Error::new(ErrorCode::ProofLength, format!("proof of {got} hashes is {which} for these tree sizes"))
}

/// Checks that `leaf` (a leaf hash) is leaf `index` of the tree of `size`
/// leaves whose root is `root` (RFC 9162 §2.1.3.2). Errors:
/// `AUDIT_INDEX_OUT_OF_RANGE`, `AUDIT_PROOF_LENGTH`, `AUDIT_ROOT_MISMATCH`.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> Result<(), Error> {
    if index >= size {
        return err(ErrorCode::IndexOutOfRange, format!("leaf index {index} is not below tree size {size}"));
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(proof_length(false, proof.len()));
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(proof_length(true, proof.len()));
    }
    if r != *root {
        return err(ErrorCode::RootMismatch, format!("inclusion proof for leaf {index} does not lead to the root"));
    }
    Ok(())
}

/// Checks that the tree of `old_size` leaves with root `old_root` is a prefix
/// of the tree of `new_size` leaves with root `new_root` (RFC 9162
/// §2.1.4.2). Equal sizes need an empty proof and equal roots. Errors:
/// `AUDIT_TREE_SIZE_INVALID` (unless `0 < old_size <= new_size`),
/// `AUDIT_PROOF_LENGTH`, `AUDIT_ROOT_MISMATCH`.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), Error> {
    if old_size == 0 || old_size > new_size {
        return err(
            ErrorCode::TreeSizeInvalid,
            format!("a consistency proof needs 0 < old size <= new size, got {old_size} and {new_size}"),
        );
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(proof_length(false, proof.len()));
        }
        if old_root != new_root {
            return err(ErrorCode::RootMismatch, format!("two different roots for tree size {old_size}"));
        }
        return Ok(());
    }
    // An old tree that is a complete subtree is itself the first node of the path.
    let (first, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(proof_length(true, 0)),
        }
    };
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in rest {
        if s == 0 {
            return Err(proof_length(false, proof.len()));
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(proof_length(true, proof.len()));
    }
    if fr != *old_root {
        return err(ErrorCode::RootMismatch, format!("consistency proof does not lead to the root of size {old_size}"));
    }
    if sr != *new_root {
        return err(ErrorCode::RootMismatch, format!("consistency proof does not lead to the root of size {new_size}"));
    }
    Ok(())
}

/// The incremental tree: the roots of the perfect subtrees that make up the
/// tree so far (one per set bit of its size, largest first), O(log n) hashes.
/// [`Frontier::push`] appends a leaf hash; [`Frontier::root`] is MTH of all
/// leaves pushed, equal to [`root`] over them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

/// Largest tree a [`Frontier`] (and a checkpoint) may describe: 2^63 − 1 leaves.
pub const MAX_TREE_SIZE: u64 = (1 << 63) - 1;

impl Frontier {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A frontier restored from [`Frontier::size`] and [`Frontier::hashes`].
    /// Error: `AUDIT_FRONTIER_INVALID` when the number of hashes is not the
    /// number of set bits of `size`, or `size` is over [`MAX_TREE_SIZE`].
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Self, Error> {
        if size > MAX_TREE_SIZE || hashes.len() != size.count_ones() as usize {
            return err(
                ErrorCode::FrontierInvalid,
                format!("a tree of {size} leaves has {} subtree hashes, got {}", size.count_ones(), hashes.len()),
            );
        }
        Ok(Self { size, hashes })
    }

    /// Number of leaves appended.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect subtrees' roots, largest (leftmost) first.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends one leaf hash (see [`leaf_hash`]). Error: `AUDIT_TREE_SIZE_INVALID`
    /// when the tree already has [`MAX_TREE_SIZE`] leaves.
    pub fn push(&mut self, leaf: Hash) -> Result<(), Error> {
        if self.size >= MAX_TREE_SIZE {
            return err(ErrorCode::TreeSizeInvalid, "the tree is full (2^63 - 1 leaves)");
        }
        let mut h = leaf;
        let mut s = self.size;
        while s & 1 == 1 {
            let left = self.hashes.pop().expect("one hash per set bit");
            h = node_hash(&left, &h);
            s >>= 1;
        }
        self.hashes.push(h);
        self.size += 1;
        Ok(())
    }

    /// MTH of the leaves appended so far.
    pub fn root(&self) -> Hash {
        let mut iter = self.hashes.iter().rev();
        let Some(last) = iter.next() else { return empty_root() };
        iter.fold(*last, |acc, left| node_hash(left, &acc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&(i as u32).to_be_bytes())).collect()
    }

    #[test]
    fn frontier_matches_root_and_restores() {
        let all = leaves(70);
        let mut f = Frontier::new();
        assert_eq!(f.root(), empty_root());
        for (i, l) in all.iter().enumerate() {
            f.push(*l).unwrap();
            assert_eq!(f.root(), root(&all[..=i]));
            let again = Frontier::from_parts(f.size(), f.hashes().to_vec()).unwrap();
            assert_eq!(again, f);
        }
        assert_eq!(Frontier::from_parts(3, vec![[0; 32]]).unwrap_err().code(), "AUDIT_FRONTIER_INVALID");
    }

    #[test]
    fn proofs_round_trip_and_fail_when_tampered() {
        let all = leaves(33);
        for n in 1..=all.len() {
            let tree = &all[..n];
            let r = root(tree);
            for i in 0..n as u64 {
                let p = inclusion_proof(tree, i).unwrap();
                verify_inclusion(&tree[i as usize], i, n as u64, &p, &r).unwrap();
                if let Some(first) = p.first() {
                    let mut bad = p.clone();
                    bad[0] = node_hash(first, first);
                    assert_eq!(
                        verify_inclusion(&tree[i as usize], i, n as u64, &bad, &r).unwrap_err().code(),
                        "AUDIT_ROOT_MISMATCH"
                    );
                    assert_eq!(
                        verify_inclusion(&tree[i as usize], i, n as u64, &p[1..], &r).unwrap_err().code(),
                        "AUDIT_PROOF_LENGTH"
                    );
                }
                let mut long = p.clone();
                long.push(r);
                assert_eq!(
                    verify_inclusion(&tree[i as usize], i, n as u64, &long, &r).unwrap_err().code(),
                    "AUDIT_PROOF_LENGTH"
                );
            }
            assert_eq!(
                verify_inclusion(&tree[0], n as u64, n as u64, &[], &r).unwrap_err().code(),
                "AUDIT_INDEX_OUT_OF_RANGE"
            );
            for m in 1..=n as u64 {
                let p = consistency_proof(tree, m).unwrap();
                let old = root(&tree[..m as usize]);
                verify_consistency(m, n as u64, &old, &r, &p).unwrap();
                if m < n as u64 {
                    assert_eq!(verify_consistency(m, n as u64, &r, &r, &p).unwrap_err().code(), "AUDIT_ROOT_MISMATCH");
                }
            }
        }
        assert_eq!(consistency_proof(&all, 0).unwrap_err().code(), "AUDIT_TREE_SIZE_INVALID");
        assert_eq!(consistency(&all, 5, 20).unwrap(), consistency_proof(&all[..20], 5).unwrap());
        assert_eq!(consistency(&all, 5, 34).unwrap_err().code(), "AUDIT_TREE_SIZE_INVALID");
        assert_eq!(consistency(&all, 21, 20).unwrap_err().code(), "AUDIT_TREE_SIZE_INVALID");
        assert_eq!(hash_from_slice(&[0; 31]).unwrap_err().code(), "AUDIT_HASH_LENGTH");
    }
}
