//! C2SP `tlog-proof` (c2sp.org/tlog-proof, `tlog-proof.md` @ 0065ea5b7161 of
//! the C2SP/C2SP repository), an offline proof that one entry is in a log:
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64 opaque data>        (optional; NOT authenticated)
//! index <zero-based decimal, no leading zeros>
//! <base64 hash>                     (zero or more: the RFC 6962 audit path, leaf sibling first)
//!
//! <the signed checkpoint note, verbatim>
//! ```
//!
//! Parsing is strict: canonical standard base64, hashes of exactly 32 bytes,
//! at most [`MAX_PROOF_HASHES`] of them, and the whole proof at most
//! [`MAX_PROOF_LEN`] bytes. [`TlogProof::verify`] opens the checkpoint with
//! the log's key and checks the leaf against its root.

use crate::checkpoint::{open_checkpoint, Checkpoint};
use crate::error::{Error, ErrorCode};
use crate::merkle::{self, Hash};
use crate::note::{decode_base64, encode_base64, VerifierKey, MAX_NOTE_LEN};

/// The first line of every proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Most hashes an inclusion proof may have (a tree of at most 2^63 − 1 leaves needs at most 63).
pub const MAX_PROOF_HASHES: usize = 63;
/// Most bytes a proof may have.
pub const MAX_PROOF_LEN: usize = MAX_NOTE_LEN + 4096;

/// A parsed `tlog-proof`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque, unauthenticated extra data, if any.
    pub extra: Option<Vec<u8>>,
    /// Zero-based index of the entry.
    pub index: u64,
    /// The audit path from the leaf's sibling up to a child of the root.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
}

fn malformed(why: impl core::fmt::Display) -> Error {
    Error::new(ErrorCode::ProofMalformed, format!("tlog-proof: {why}"))
}

impl TlogProof {
    /// The proof as text.
    pub fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", encode_base64(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            out.push_str(&encode_base64(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Parses a proof (the checkpoint is kept as text, not yet verified).
    /// Error: `AUDIT_PROOF_MALFORMED`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.len() > MAX_PROOF_LEN {
            return Err(malformed(format!("over {MAX_PROOF_LEN} bytes")));
        }
        let (head, checkpoint) =
            text.split_once("\n\n").ok_or_else(|| malformed("no blank line before the checkpoint"))?;
        let mut lines = head.split('\n').peekable();
        if lines.next() != Some(HEADER) {
            return Err(malformed(format!("first line must be {HEADER}")));
        }
        let mut extra = None;
        if let Some(data) = lines.peek().and_then(|l| l.strip_prefix("extra ")) {
            extra = Some(decode_base64(data).ok_or_else(|| malformed("extra is not canonical base64"))?);
            lines.next();
        }
        let index = lines.next().and_then(|l| l.strip_prefix("index ")).ok_or_else(|| malformed("no index line"))?;
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) || (index.len() > 1 && index.starts_with('0'))
        {
            return Err(malformed("index must be decimal without leading zeros"));
        }
        let index: u64 = index.parse().map_err(|_| malformed("index too large"))?;
        let proof = lines
            .map(|l| decode_base64(l).and_then(|h| Hash::try_from(h.as_slice()).ok()))
            .collect::<Option<Vec<Hash>>>()
            .ok_or_else(|| malformed("a proof line is not canonical base64 of 32 bytes"))?;
        if proof.len() > MAX_PROOF_HASHES {
            return Err(malformed(format!("over {MAX_PROOF_HASHES} proof hashes")));
        }
        Ok(Self { extra, index, proof, checkpoint: checkpoint.to_owned() })
    }

    /// Verifies that `leaf_data` (the entry, e.g. an audit record's encoding)
    /// is entry [`Self::index`] of the checkpointed tree, the checkpoint being
    /// signed by `key`; returns the checkpoint. Errors: those of
    /// [`open_checkpoint`] and [`merkle::verify_inclusion`].
    pub fn verify(&self, leaf_data: &[u8], key: &VerifierKey) -> Result<Checkpoint, Error> {
        let checkpoint = open_checkpoint(self.checkpoint.as_bytes(), key)?;
        merkle::verify_inclusion(
            &merkle::leaf_hash(leaf_data),
            self.index,
            checkpoint.size,
            &self.proof,
            &checkpoint.root,
        )?;
        Ok(checkpoint)
    }
}

/// The `tlog-proof` of leaf `index` of the tree of `leaves` (leaf hashes, see
/// [`merkle::leaf_hash`]) under `signed_checkpoint`, a checkpoint note signed
/// by `key` for a tree of at most `leaves.len()` leaves: the note is verified,
/// the first `size` leaves must hash to its root, and the proof is built in that
/// tree (no `extra`). The caller's leaves thus cannot yield a proof that does
/// not verify. Errors: those of [`open_checkpoint`]; `AUDIT_TREE_SIZE_INVALID`
/// (the checkpoint covers more leaves than given); `AUDIT_INDEX_OUT_OF_RANGE`
/// (`index` not below the checkpoint's size); `AUDIT_ROOT_MISMATCH` (the
/// leaves do not hash to the checkpoint's root).
pub fn prove(leaves: &[Hash], index: u64, signed_checkpoint: &[u8], key: &VerifierKey) -> Result<TlogProof, Error> {
    let checkpoint = open_checkpoint(signed_checkpoint, key)?;
    let given = leaves.len() as u64;
    if checkpoint.size > given {
        return Err(Error::new(
            ErrorCode::TreeSizeInvalid,
            format!("the checkpoint is for {} leaves, only {given} given", checkpoint.size),
        ));
    }
    let tree = &leaves[..checkpoint.size as usize];
    let proof = merkle::inclusion_proof(tree, index)?;
    if merkle::root(tree) != checkpoint.root {
        return Err(Error::new(
            ErrorCode::RootMismatch,
            format!("the leaves do not hash to the checkpoint's root at size {}", checkpoint.size),
        ));
    }
    let checkpoint = String::from_utf8(signed_checkpoint.to_vec()).expect("an opened note is UTF-8");
    Ok(TlogProof { extra: None, index, proof, checkpoint })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::sign_checkpoint;
    use ed25519_dalek::SigningKey;

    #[test]
    fn format_parse_verify() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let v = VerifierKey::new("example.com/log", key.verifying_key()).unwrap();
        let data: Vec<Vec<u8>> = (0..6u8).map(|i| vec![i; 3]).collect();
        let leaves: Vec<Hash> = data.iter().map(|d| merkle::leaf_hash(d)).collect();
        let cp =
            Checkpoint { origin: "example.com/log".into(), size: 6, root: merkle::root(&leaves), extensions: vec![] };
        let signed = sign_checkpoint(&cp, &key).unwrap();
        for (extra, index) in [(None, 0u64), (Some(b"ctx".to_vec()), 5)] {
            let p = TlogProof {
                extra,
                index,
                proof: merkle::inclusion_proof(&leaves, index).unwrap(),
                checkpoint: signed.clone(),
            };
            let text = p.to_text();
            assert!(text.starts_with("c2sp.org/tlog-proof@v1\n"));
            let parsed = TlogProof::parse(&text).unwrap();
            assert_eq!(parsed, p);
            assert_eq!(parsed.verify(&data[index as usize], &v).unwrap(), cp);
            assert_eq!(parsed.verify(b"other", &v).unwrap_err().code(), "AUDIT_ROOT_MISMATCH");
        }
        // prove: builds the same proof, and refuses what would not verify.
        let proved = prove(&leaves, 5, signed.as_bytes(), &v).unwrap();
        assert_eq!(proved.verify(&data[5], &v).unwrap(), cp);
        assert_eq!(proved.proof, merkle::inclusion_proof(&leaves, 5).unwrap());
        let code = |r: Result<TlogProof, Error>| r.unwrap_err().code();
        assert_eq!(code(prove(&leaves, 6, signed.as_bytes(), &v)), "AUDIT_INDEX_OUT_OF_RANGE");
        assert_eq!(code(prove(&leaves[..5], 0, signed.as_bytes(), &v)), "AUDIT_TREE_SIZE_INVALID");
        let mut other = leaves.clone();
        other[2] = merkle::leaf_hash(b"changed");
        assert_eq!(code(prove(&other, 0, signed.as_bytes(), &v)), "AUDIT_ROOT_MISMATCH");
        let stranger = VerifierKey::new("example.com/log", SigningKey::from_bytes(&[5; 32]).verifying_key()).unwrap();
        assert_eq!(code(prove(&leaves, 0, signed.as_bytes(), &stranger)), "AUDIT_NOTE_UNVERIFIED");
        // A larger tree proves against a smaller checkpoint.
        let more: Vec<Hash> = leaves.iter().copied().chain([merkle::leaf_hash(b"later")]).collect();
        assert_eq!(prove(&more, 1, signed.as_bytes(), &v).unwrap().verify(&data[1], &v).unwrap().size, 6);
        for bad in [
            "c2sp.org/tlog-proof@v2\nindex 0\n\nx".to_string(),
            "c2sp.org/tlog-proof@v1\nindex 01\n\nx".to_string(),
            "c2sp.org/tlog-proof@v1\nindex \n\nx".to_string(),
            "c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\nx".to_string(),
            "c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\nx".to_string(),
            "c2sp.org/tlog-proof@v1\nindex 1".to_string(),
        ] {
            assert_eq!(TlogProof::parse(&bad).unwrap_err().code(), "AUDIT_PROOF_MALFORMED", "{bad:?}");
        }
    }
}
