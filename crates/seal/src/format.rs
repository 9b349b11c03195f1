//! The sealed-record format, version 1:
//!
//! ```text
//! magic "SNTLSEAL" (8) | version 1 (1) | salt (32) | header length u16 BE (2) | header | ciphertext ‖ tag (16)
//! header = CBOR [kind: text, name: text, version: uint, lineage: bytes(32)], canonical
//! ```
//!
//! Everything before the ciphertext is the AEAD's associated data. The key and nonce are
//! HKDF-SHA256(ikm = master key, salt = salt, info = "sentinel/seal/v1") expanded to 44 bytes: a
//! fresh salt per record gives every record its own key, so AES-GCM's nonce limits never apply.
//! The header stays readable (the host names files by it, the loader reports which record failed)
//! but it is authenticated: a record cannot be renamed, re-versioned or moved to another lineage.
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use ciborium::Value;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{SealError, SealErrorCode};
use crate::key::MasterKey;

/// The first eight bytes of every sealed record.
pub const SEAL_MAGIC: &[u8; 8] = b"SNTLSEAL";
/// The format version this build writes and reads.
pub const SEAL_VERSION: u8 = 1;
/// Longest record name, in bytes.
pub const MAX_NAME_LEN: usize = 128;
/// Largest plaintext one record may hold (a snapshot of counters is the largest kind).
pub const MAX_PLAINTEXT_LEN: usize = 16 * 1024 * 1024;

const SALT_LEN: usize = 32;
const TAG_LEN: usize = 16;
const FIXED_LEN: usize = SEAL_MAGIC.len() + 1 + SALT_LEN + 2;
const KDF_INFO: &[u8] = b"sentinel/seal/v1";

/// What a record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecordKind {
    /// A signing key's secret and its metadata.
    Key,
    /// The configuration in force (its signed bytes).
    Configuration,
    /// The active policy.
    Policy,
    /// The kill switch's levels.
    KillSwitch,
    /// A snapshot of the policy's windows, rate buckets and trip counts.
    Counters,
    /// A snapshot of the enclave's whole state at one audit log position (policy counters, kill
    /// switch, trips, stamp cache, key history), one record so that its parts form one cut.
    State,
}

impl RecordKind {
    const ALL: [RecordKind; 6] = [
        RecordKind::Key,
        RecordKind::Configuration,
        RecordKind::Policy,
        RecordKind::KillSwitch,
        RecordKind::Counters,
        RecordKind::State,
    ];

    /// The stable string form, as the header carries it.
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordKind::Key => "key",
            RecordKind::Configuration => "configuration",
            RecordKind::Policy => "policy",
            RecordKind::KillSwitch => "kill_switch",
            RecordKind::Counters => "counters",
            RecordKind::State => "state",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The configuration lineage a record is bound to: the hash that identifies the chain of
/// configurations signed by one admin quorum (the enclave computes it; this crate only compares).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lineage(pub [u8; 32]);

impl fmt::Debug for Lineage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Lineage(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// Which record: its kind, name (a key id, `"current"`, ...) and version (bumped on every rewrite).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RecordId {
    pub kind: RecordKind,
    pub name: String,
    pub version: u64,
}

/// An opened record: its identity and its plaintext (zeroized on drop).
pub struct Opened {
    pub id: RecordId,
    pub lineage: Lineage,
    pub plaintext: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("id", &self.id)
            .field("lineage", &self.lineage)
            .field("plaintext", &"<redacted>")
            .finish()
    }
}

fn err(code: SealErrorCode, message: impl Into<String>) -> SealError {
    SealError::new(code, message)
}

fn encode_header(id: &RecordId, lineage: &Lineage) -> Vec<u8> {
    let value = Value::Array(alloc::vec![
        Value::Text(id.kind.as_str().to_string()),
        Value::Text(id.name.clone()),
        Value::Integer(id.version.into()),
        Value::Bytes(lineage.0.to_vec()),
    ]);
    let mut out = Vec::new();
    ciborium::into_writer(&value, &mut out).expect("writing CBOR to a Vec cannot fail");
    out
}

fn decode_header(bytes: &[u8]) -> Result<(RecordId, Lineage), SealError> {
    let malformed = |what: &str| err(SealErrorCode::Malformed, alloc::format!("header: {what}"));
    let value: Value = ciborium::from_reader(bytes).map_err(|_| malformed("not CBOR"))?;
    let Value::Array(items) = value else { return Err(malformed("not an array")) };
    let [Value::Text(kind), Value::Text(name), Value::Integer(version), Value::Bytes(lineage)] = items.as_slice()
    else {
        return Err(malformed("not [kind, name, version, lineage]"));
    };
    let kind = RecordKind::parse(kind).ok_or_else(|| malformed("unknown kind"))?;
    let version = u64::try_from(*version).map_err(|_| malformed("version is not a u64"))?;
    let lineage = Lineage(lineage.as_slice().try_into().map_err(|_| malformed("lineage is not 32 bytes"))?);
    let id = RecordId { kind, name: name.clone(), version };
    check_name(&id.name).map_err(|_| malformed("name is empty or too long"))?;
    // One encoding per header: the authenticated bytes and the parsed identity cannot disagree.
    if encode_header(&id, &lineage) != bytes {
        return Err(malformed("not in canonical form"));
    }
    Ok((id, lineage))
}

fn check_name(name: &str) -> Result<(), SealError> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(err(SealErrorCode::Invalid, alloc::format!("name: must be 1 to {MAX_NAME_LEN} bytes")));
    }
    Ok(())
}

/// The record's own AES-256-GCM key and nonce.
fn record_cipher(master: &MasterKey, salt: &[u8]) -> (Aes256Gcm, [u8; 12]) {
    let mut okm = Zeroizing::new([0u8; 44]);
    Hkdf::<Sha256>::new(Some(salt), master.hazmat_bytes())
        .expand(KDF_INFO, okm.as_mut())
        .expect("44 bytes is within HKDF-SHA256's output limit");
    let cipher = Aes256Gcm::new_from_slice(&okm[..32]).expect("32-byte key");
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&okm[32..]);
    (cipher, nonce)
}

/// Seals `plaintext` as record `id` under `lineage`. `salt` must be 32 fresh bytes from a CSPRNG:
/// it makes the record's key, so reusing one with another plaintext would reuse a GCM nonce.
pub fn seal(
    master: &MasterKey,
    lineage: &Lineage,
    id: &RecordId,
    plaintext: &[u8],
    salt: [u8; 32],
) -> Result<Vec<u8>, SealError> {
    check_name(&id.name)?;
    if plaintext.len() > MAX_PLAINTEXT_LEN {
        return Err(err(SealErrorCode::Invalid, alloc::format!("plaintext: over {MAX_PLAINTEXT_LEN} bytes")));
    }
    let header = encode_header(id, lineage);
    let header_len = u16::try_from(header.len()).expect("a header with a 128-byte name fits in u16");
    let mut out = Vec::with_capacity(FIXED_LEN + header.len() + plaintext.len() + TAG_LEN);
    out.extend_from_slice(SEAL_MAGIC);
    out.push(SEAL_VERSION);
    out.extend_from_slice(&salt);
    out.extend_from_slice(&header_len.to_be_bytes());
    out.extend_from_slice(&header);
    let (cipher, mut nonce) = record_cipher(master, &salt);
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &out })
        .map_err(|_| err(SealErrorCode::Invalid, "plaintext: too long for AES-GCM"))?;
    nonce.zeroize();
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// The clear header of a sealed record, unauthenticated: for listing what a directory holds and
/// for naming what failed. Never act on it; [`open`] authenticates it.
pub fn read_header(bytes: &[u8]) -> Result<(RecordId, Lineage), SealError> {
    let (_, header, _) = split(bytes)?;
    decode_header(header)
}

fn split(bytes: &[u8]) -> Result<(usize, &[u8], &[u8]), SealError> {
    let malformed = |what: &str| err(SealErrorCode::Malformed, alloc::string::String::from(what));
    if bytes.len() < FIXED_LEN {
        return Err(malformed("record: shorter than the fixed header (truncated?)"));
    }
    if &bytes[..8] != SEAL_MAGIC {
        return Err(malformed("record: not a sealed record (magic)"));
    }
    if bytes[8] != SEAL_VERSION {
        return Err(malformed("record: unknown format version"));
    }
    let header_len = u16::from_be_bytes([bytes[FIXED_LEN - 2], bytes[FIXED_LEN - 1]]) as usize;
    let aad_len = FIXED_LEN + header_len;
    if bytes.len() < aad_len + TAG_LEN {
        return Err(malformed("record: shorter than its header and tag (truncated?)"));
    }
    Ok((aad_len, &bytes[FIXED_LEN..aad_len], &bytes[aad_len..]))
}

/// Opens a sealed record, which must be `expected` (kind, name and version) sealed under
/// `lineage` with `master`. Checked in order: the format (`SEAL_RECORD_MALFORMED`), the header
/// against `expected` (`SEAL_RECORD_SWAPPED`), the lineage (`SEAL_LINEAGE_MISMATCH`), then the
/// AEAD over header and ciphertext (`SEAL_RECORD_MODIFIED`: modified bytes or another master key).
pub fn open(master: &MasterKey, lineage: &Lineage, expected: &RecordId, bytes: &[u8]) -> Result<Opened, SealError> {
    let (aad_len, header, ciphertext) = split(bytes)?;
    let (id, sealed_lineage) = decode_header(header)?;
    if id != *expected {
        return Err(err(
            SealErrorCode::Swapped,
            alloc::format!(
                "record: holds {} {:?} version {}, not {} {:?} version {}",
                id.kind.as_str(),
                id.name,
                id.version,
                expected.kind.as_str(),
                expected.name,
                expected.version
            ),
        ));
    }
    if sealed_lineage != *lineage {
        return Err(err(SealErrorCode::LineageMismatch, "record: sealed under another configuration lineage"));
    }
    let salt = &bytes[9..9 + SALT_LEN];
    let (cipher, mut nonce) = record_cipher(master, salt);
    let plaintext = cipher.decrypt(Nonce::from_slice(&nonce), Payload { msg: ciphertext, aad: &bytes[..aad_len] });
    nonce.zeroize();
    let plaintext = plaintext.map_err(|_| {
        err(SealErrorCode::Modified, "record: does not authenticate (modified, or sealed under another master key)")
    })?;
    Ok(Opened { id, lineage: sealed_lineage, plaintext: Zeroizing::new(plaintext) })
}
