//! C2SP `tlog-checkpoint` (c2sp.org/tlog-checkpoint): the note text
//! `<origin>\n<tree size>\n<base64 root hash>\n` followed by optional
//! extension lines, each non-empty and newline-terminated. Parsing is strict:
//! the origin is a valid note key name (non-empty, no Unicode spaces, no `+`:
//! the spec's SHOULD, made a MUST here because our log signs under its origin),
//! the size is ASCII decimal without leading zeros and at most 2^63 − 1, the
//! root is canonical standard base64 of exactly 32 bytes, and no line may be
//! empty or hold a control character. [`sign_checkpoint`] signs the text as a
//! signed note under the key name = origin; [`open_checkpoint`] verifies such a
//! note and requires the origin to be the verifier key's name.

use ed25519_dalek::SigningKey;

use crate::error::{Error, ErrorCode};
use crate::merkle::{Hash, MAX_TREE_SIZE};
use crate::note::{self, decode_base64, encode_base64, is_valid_name, VerifierKey};

/// A log's signed statement of its tree: origin, size and root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity (its key name), e.g. `sentinel.example/audit/<enclave>`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root of the first `size` leaves.
    pub root: Hash,
    /// Opaque extension lines (without their newlines); NOT RECOMMENDED by the spec.
    pub extensions: Vec<String>,
}

fn malformed(why: impl core::fmt::Display) -> Error {
    Error::new(ErrorCode::CheckpointMalformed, format!("checkpoint: {why}"))
}

fn valid_line(line: &str) -> bool {
    !line.is_empty() && !line.bytes().any(|b| b < 0x20)
}

impl Checkpoint {
    /// The note text. Error: `AUDIT_CHECKPOINT_MALFORMED` if the checkpoint
    /// would not parse back (invalid origin, size over 2^63 − 1, an empty or
    /// multi-line extension).
    pub fn to_text(&self) -> Result<String, Error> {
        if !is_valid_name(&self.origin) {
            return Err(malformed("origin must be non-empty, without spaces or '+'"));
        }
        if self.size > MAX_TREE_SIZE {
            return Err(malformed("tree size over 2^63 - 1"));
        }
        if !self.extensions.iter().all(|e| valid_line(e)) {
            return Err(malformed("an extension line is empty or has a control character"));
        }
        let mut text = format!("{}\n{}\n{}\n", self.origin, self.size, encode_base64(&self.root));
        for e in &self.extensions {
            text.push_str(e);
            text.push('\n');
        }
        Ok(text)
    }

    /// Parses a checkpoint's note text. Error: `AUDIT_CHECKPOINT_MALFORMED`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let body = text.strip_suffix('\n').ok_or_else(|| malformed("must end with a newline"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() < 3 {
            return Err(malformed("needs origin, tree size and root hash lines"));
        }
        if let Some(i) = lines.iter().position(|l| !valid_line(l)) {
            return Err(malformed(format!("line {} is empty or has a control character", i + 1)));
        }
        let origin = lines[0];
        if !is_valid_name(origin) {
            return Err(malformed("origin must be non-empty, without spaces or '+'"));
        }
        let size_text = lines[1];
        let digits = size_text.bytes().all(|b| b.is_ascii_digit());
        if !digits || (size_text.len() > 1 && size_text.starts_with('0')) {
            return Err(malformed("tree size must be decimal without leading zeros"));
        }
        let size: u64 = size_text.parse().map_err(|_| malformed("tree size over 2^63 - 1"))?;
        if size > MAX_TREE_SIZE {
            return Err(malformed("tree size over 2^63 - 1"));
        }
        let root = decode_base64(lines[2])
            .and_then(|r| Hash::try_from(r.as_slice()).ok())
            .ok_or_else(|| malformed("root hash must be canonical base64 of 32 bytes"))?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions: lines[3..].iter().map(|l| (*l).to_owned()).collect(),
        })
    }
}

/// The checkpoint as a signed note by `key` under the key name = origin.
/// Errors: `AUDIT_CHECKPOINT_MALFORMED`, and those of [`note::sign`].
pub fn sign_checkpoint(checkpoint: &Checkpoint, key: &SigningKey) -> Result<String, Error> {
    note::sign(&checkpoint.to_text()?, &checkpoint.origin, key)
}

/// Verifies a signed checkpoint note with `key` and parses it; the origin must
/// be `key`'s name. Errors: those of [`note::open`] (`AUDIT_NOTE_*`) and
/// `AUDIT_CHECKPOINT_MALFORMED`.
pub fn open_checkpoint(signed: &[u8], key: &VerifierKey) -> Result<Checkpoint, Error> {
    // Not through `open_checkpoint_with_keys`: this is the browser verifier's path, which carries every byte.
    let text = note::open(signed, core::slice::from_ref(key))?;
    let checkpoint = Checkpoint::parse(&text)?;
    if checkpoint.origin != key.name() {
        return Err(malformed("origin is not the log's key name"));
    }
    Ok(checkpoint)
}

/// [`open_checkpoint`] with a log's key history: a restarted enclave signs
/// with a new key under the same origin. The note must verify with `keys` as
/// a signed note does (no bad signature by any of them, one good one), and
/// the origin must be the name of a key whose signature verified. Errors: as
/// [`open_checkpoint`].
pub fn open_checkpoint_with_keys(signed: &[u8], keys: &[VerifierKey]) -> Result<Checkpoint, Error> {
    let note = note::Note::parse(signed)?;
    let signers = note.verify(keys)?;
    let checkpoint = Checkpoint::parse(&note.text)?;
    if !signers.contains(&checkpoint.origin) {
        return Err(malformed("origin is not the name of the log key that signed it"));
    }
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    #[test]
    fn round_trip_sign_and_open() {
        let cp =
            Checkpoint { origin: "example.com/log".into(), size: 5, root: [7; 32], extensions: vec!["x y".into()] };
        let text = cp.to_text().unwrap();
        assert_eq!(text, format!("example.com/log\n5\n{}\nx y\n", STANDARD.encode([7; 32])));
        assert_eq!(Checkpoint::parse(&text).unwrap(), cp);
        let key = SigningKey::from_bytes(&[9; 32]);
        let signed = sign_checkpoint(&cp, &key).unwrap();
        let v = VerifierKey::new("example.com/log", key.verifying_key()).unwrap();
        assert_eq!(open_checkpoint(signed.as_bytes(), &v).unwrap(), cp);
        let other = Checkpoint { origin: "other".into(), ..cp };
        let v2 = VerifierKey::new("other", key.verifying_key()).unwrap();
        let signed = note::sign(&other.to_text().unwrap(), "other", &key).unwrap();
        open_checkpoint(signed.as_bytes(), &v2).unwrap();
        // Signed under another name than its origin.
        assert_eq!(open_checkpoint(signed.as_bytes(), &v).unwrap_err().code(), "AUDIT_NOTE_UNVERIFIED");
        let misnamed = note::sign(&other.to_text().unwrap(), "example.com/log", &key).unwrap();
        assert_eq!(open_checkpoint(misnamed.as_bytes(), &v).unwrap_err().code(), "AUDIT_CHECKPOINT_MALFORMED");
    }

    #[test]
    fn opens_with_any_key_of_the_history() {
        let cp = Checkpoint { origin: "example.com/log".into(), size: 3, root: [4; 32], extensions: vec![] };
        let (old, new) = (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]));
        let verifier = |k: &SigningKey| VerifierKey::new("example.com/log", k.verifying_key()).unwrap();
        let keys = [verifier(&old), verifier(&new)];
        for k in [&old, &new] {
            let signed = sign_checkpoint(&cp, k).unwrap();
            assert_eq!(open_checkpoint_with_keys(signed.as_bytes(), &keys).unwrap(), cp);
        }
        let stranger = sign_checkpoint(&cp, &SigningKey::from_bytes(&[3; 32])).unwrap();
        assert_eq!(open_checkpoint_with_keys(stranger.as_bytes(), &keys).unwrap_err().code(), "AUDIT_NOTE_UNVERIFIED");
        assert_eq!(open_checkpoint_with_keys(stranger.as_bytes(), &[]).unwrap_err().code(), "AUDIT_NOTE_UNVERIFIED");
    }

    #[test]
    fn strict_parsing() {
        let root = STANDARD.encode([1; 32]);
        let good = format!("o\n0\n{root}\n");
        Checkpoint::parse(&good).unwrap();
        let max = format!("o\n9223372036854775807\n{root}\n");
        assert_eq!(Checkpoint::parse(&max).unwrap().size, MAX_TREE_SIZE);
        for bad in [
            format!("o\n0\n{root}"),
            format!("o\n01\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n9223372036854775808\n{root}\n"),
            format!("o\n99999999999999999999\n{root}\n"),
            format!("\n1\n{root}\n"),
            format!(" \n1\n{root}\n"),
            format!("a b\n1\n{root}\n"),
            format!("o\n1\n{}\n", STANDARD.encode([1; 31])),
            format!("o\n1\n{}\n", root.trim_end_matches('=')),
            format!("o\n1\n{root}\n\n"),
            format!("o\n1\n{root}\next\r\n"),
            "o\n1\n".to_string(),
        ] {
            assert_eq!(Checkpoint::parse(&bad).unwrap_err().code(), "AUDIT_CHECKPOINT_MALFORMED", "{bad:?}");
        }
    }
}
