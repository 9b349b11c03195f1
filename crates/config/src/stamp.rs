//! Request stamps: a principal's signature over one operation body, bound to
//! the operation name, a timestamp and a nonce, so that the untrusted host can
//! neither forge a request nor replay one. The enclave accepts a stamp when
//! its timestamp is within `stamp_window_ms` of the enclave's clock and its
//! (principal, nonce) has not been accepted within that window; the replay
//! cache remembers every accepted nonce until its stamp has expired, and when
//! it is full it refuses new stamps rather than forgetting a live nonce.

use core::cmp::Reverse;
use core::fmt;
use std::collections::{BTreeSet, BinaryHeap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::credential::Credential;
use crate::document::{Configuration, Principal};
use crate::error::{StampError, StampErrorCode as Code};
use crate::keys::SIGNATURE_LEN;

/// Domain separation tag of the stamp digest.
pub const STAMP_DOMAIN: &[u8] = b"sentinel/stamp/v1";
/// Shortest nonce, in bytes (128 bits: random nonces never collide).
pub const MIN_NONCE_LEN: usize = 16;
/// Longest nonce, in bytes.
pub const MAX_NONCE_LEN: usize = 32;
/// Largest encoded stamp [`Stamp::decode`] reads: id, timestamp, nonce, signature and framing.
pub const MAX_STAMP_BYTES: usize = 512;
/// Default capacity of the replay cache, in live nonces. At the default
/// 30 s window an entry lives 30 s on average (60 s at most, for a stamp
/// dated a full window ahead), so 262,144 entries sustain about 8,700 stamped
/// requests per second (at least 4,300/s whatever the clocks), above what one
/// enclave core verifies (one signature check is 30-80 µs), in about 25 MiB
/// (a 32-byte key in an ordered set plus a 48-byte expiry entry).
pub const DEFAULT_REPLAY_CACHE_CAPACITY: usize = 262_144;

/// A principal's signature over an operation body. CBOR: a map with these
/// field names, `nonce` and `signature` as byte strings (the enclave
/// protocol's `Stamp` has the same shape).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stamp {
    /// The principal id (`principals[].id`).
    pub principal: String,
    /// When the principal made it, microseconds since the Unix epoch.
    pub timestamp_us: u64,
    /// 16..=32 random bytes, unique per principal within the window.
    #[serde(with = "bytes")]
    pub nonce: Vec<u8>,
    /// 64 bytes: the principal's signature over [`stamp_digest`].
    #[serde(with = "bytes")]
    pub signature: Vec<u8>,
}

impl fmt::Debug for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stamp")
            .field("principal", &self.principal)
            .field("timestamp_us", &self.timestamp_us)
            .field("nonce", &format_args!("0x{}", hex::encode(&self.nonce)))
            .field("signature", &format_args!("0x{}", hex::encode(&self.signature)))
            .finish()
    }
}

impl Stamp {
    /// Stamps `body` for operation `op` with a principal's credential (check
    /// its kind first with [`Credential::expect_kind`] when it comes from a
    /// file: an admin's stamp names no principal and is refused by the enclave).
    pub fn sign(
        credential: &Credential,
        op: &str,
        body: &[u8],
        timestamp_us: u64,
        nonce: &[u8],
    ) -> Result<Stamp, StampError> {
        let digest = checked_stamp_digest(op, body, timestamp_us, nonce)?;
        Ok(Stamp {
            principal: credential.id().to_string(),
            timestamp_us,
            nonce: nonce.to_vec(),
            signature: credential.sign(&digest),
        })
    }

    /// The CBOR map.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::ser::into_writer(self, &mut out).expect("CBOR encoding into a Vec");
        out
    }

    /// Decodes one stamp map (unknown fields, trailing bytes, text where bytes
    /// belong, oversized input: `STAMP_MALFORMED`). Lengths are checked by
    /// [`StampVerifier::verify`].
    pub fn decode(bytes: &[u8]) -> Result<Stamp, StampError> {
        if bytes.len() > MAX_STAMP_BYTES {
            return Err(StampError::new(
                Code::Malformed,
                format!("stamp: {} bytes, at most {MAX_STAMP_BYTES} (MAX_STAMP_BYTES)", bytes.len()),
            ));
        }
        let mut rest = bytes;
        let stamp: Stamp = ciborium::de::from_reader_with_recursion_limit(&mut rest, 4)
            .map_err(|e| StampError::new(Code::Malformed, format!("stamp: {}", describe(&e))))?;
        if !rest.is_empty() {
            return Err(StampError::new(Code::Malformed, format!("stamp: {} byte(s) after the CBOR item", rest.len())));
        }
        Ok(stamp)
    }
}

fn describe<T: fmt::Debug>(e: &ciborium::de::Error<T>) -> String {
    match e {
        ciborium::de::Error::Io(_) => "truncated CBOR".into(),
        ciborium::de::Error::Syntax(at) => format!("invalid CBOR at byte {at}"),
        ciborium::de::Error::Semantic(_, message) => message.clone(),
        ciborium::de::Error::RecursionLimitExceeded => "CBOR nested too deeply".into(),
    }
}

/// The digest a principal signs:
/// SHA-256("sentinel/stamp/v1" || u32be(len(op)) || op || u32be(len(body)) || body
/// || u64be(timestamp_us) || u8(len(nonce)) || nonce).
///
/// # Panics
/// If `op` or `body` is 4 GiB or longer or `nonce` longer than 255 bytes;
/// [`checked_stamp_digest`] refuses those (and any nonce outside 16..=32).
pub fn stamp_digest(op: &str, body: &[u8], timestamp_us: u64, nonce: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(STAMP_DOMAIN);
    h.update(u32::try_from(op.len()).expect("op shorter than 4 GiB").to_be_bytes());
    h.update(op.as_bytes());
    h.update(u32::try_from(body.len()).expect("body shorter than 4 GiB").to_be_bytes());
    h.update(body);
    h.update(timestamp_us.to_be_bytes());
    h.update([u8::try_from(nonce.len()).expect("nonce at most 255 bytes")]);
    h.update(nonce);
    h.finalize().into()
}

/// [`stamp_digest`] after checking the nonce length (`STAMP_MALFORMED`) and the other lengths.
pub fn checked_stamp_digest(op: &str, body: &[u8], timestamp_us: u64, nonce: &[u8]) -> Result<[u8; 32], StampError> {
    check_nonce(nonce)?;
    if u32::try_from(op.len()).is_err() || u32::try_from(body.len()).is_err() {
        return Err(StampError::new(Code::Malformed, "op or body: 4 GiB or longer"));
    }
    Ok(stamp_digest(op, body, timestamp_us, nonce))
}

/// Refuses a nonce outside `MIN_NONCE_LEN..=MAX_NONCE_LEN` bytes.
pub fn check_nonce(nonce: &[u8]) -> Result<(), StampError> {
    if (MIN_NONCE_LEN..=MAX_NONCE_LEN).contains(&nonce.len()) {
        Ok(())
    } else {
        Err(StampError::new(
            Code::Malformed,
            format!("stamp.nonce: {} bytes, must be {MIN_NONCE_LEN}..={MAX_NONCE_LEN}", nonce.len()),
        ))
    }
}

/// Checks stamps against a configuration and remembers accepted nonces.
///
/// Order of checks (cheap first; nothing is remembered unless the signature
/// verified, so a forged stamp never consumes a nonce): shape
/// (`STAMP_MALFORMED`), time window (`STAMP_EXPIRED`), principal
/// (`UNKNOWN_PRINCIPAL`), replay (`STAMP_REPLAYED`), cache room
/// (`REPLAY_CACHE_FULL`), signature (`STAMP_SIGNATURE_INVALID`).
#[derive(Debug)]
pub struct StampVerifier {
    cache: ReplayCache,
}

impl Default for StampVerifier {
    fn default() -> Self {
        StampVerifier::new(DEFAULT_REPLAY_CACHE_CAPACITY)
    }
}

impl StampVerifier {
    /// A verifier whose replay cache holds at most `capacity` live nonces.
    pub fn new(capacity: usize) -> StampVerifier {
        StampVerifier { cache: ReplayCache::new(capacity) }
    }

    /// Verifies `stamp` over (`op`, `body`) at `now_us` (microseconds since the
    /// Unix epoch) and returns the authenticated principal. Authorization
    /// ([`Principal::may`], ...) is the caller's next step.
    pub fn verify<'c>(
        &mut self,
        config: &'c Configuration,
        op: &str,
        body: &[u8],
        stamp: &Stamp,
        now_us: u64,
    ) -> Result<&'c Principal, StampError> {
        check_nonce(&stamp.nonce)?;
        if stamp.signature.len() != SIGNATURE_LEN {
            return Err(StampError::new(
                Code::Malformed,
                format!("stamp.signature: {} bytes, must be {SIGNATURE_LEN}", stamp.signature.len()),
            ));
        }
        if u32::try_from(op.len()).is_err() || u32::try_from(body.len()).is_err() {
            return Err(StampError::new(Code::Malformed, "op or body: 4 GiB or longer"));
        }

        self.cache.evict(now_us);
        let window_us = config.stamp_window_ms.saturating_mul(1000);
        let t = stamp.timestamp_us;
        if t > now_us.saturating_add(window_us) {
            return Err(StampError::new(
                Code::Expired,
                format!(
                    "stamp.timestamp_us: {} ms in the future (ahead of the enclave clock by more than the {} ms window)",
                    (t - now_us) / 1000,
                    config.stamp_window_ms
                ),
            ));
        }
        if t.saturating_add(window_us) < now_us {
            return Err(StampError::new(
                Code::Expired,
                format!(
                    "stamp.timestamp_us: {} ms in the past (behind the enclave clock by more than the {} ms window)",
                    (now_us - t) / 1000,
                    config.stamp_window_ms
                ),
            ));
        }
        if t < self.cache.floor_us {
            // Only reachable when the clock went back or the window grew: the
            // cache may have forgotten nonces this old, so none is accepted.
            return Err(StampError::new(
                Code::Expired,
                "stamp.timestamp_us: in the past (older than nonces the replay cache has already forgotten)",
            ));
        }

        let Some(principal) = config.principal(&stamp.principal) else {
            return Err(StampError::new(
                Code::UnknownPrincipal,
                format!("stamp.principal: `{}` is not a principal of the configuration", printable(&stamp.principal)),
            ));
        };

        let key = replay_key(&principal.id, &stamp.nonce);
        if self.cache.contains(&key) {
            return Err(StampError::new(
                Code::Replayed,
                format!("stamp.nonce: already used by `{}` within the window", principal.id),
            ));
        }
        if self.cache.is_full() {
            return Err(StampError::new(
                Code::ReplayCacheFull,
                format!(
                    "replay cache: {} live nonces, its capacity; refused rather than forgetting one (retry later)",
                    self.cache.capacity
                ),
            ));
        }

        let digest = stamp_digest(op, body, t, &stamp.nonce);
        if !principal.verify(&digest, &stamp.signature) {
            return Err(StampError::new(
                Code::SignatureInvalid,
                format!("stamp.signature: no key of `{}` verifies it over this operation and body", principal.id),
            ));
        }
        self.cache.insert(key, t, t.saturating_add(window_us));
        Ok(principal)
    }

    /// Remembers a stamp accepted elsewhere (the previous enclave, read from its audit log):
    /// its replay key and timestamp, live until `timestamp_us + window_us`. Stamps already
    /// expired at `now_us` are not kept (they would be refused anyway); `false` when the
    /// cache is full (the caller then has to refuse stamps of that window some other way).
    pub fn remember(&mut self, key: [u8; 32], timestamp_us: u64, window_us: u64, now_us: u64) -> bool {
        self.cache.evict(now_us);
        let deadline = timestamp_us.saturating_add(window_us);
        if deadline < now_us || self.cache.contains(&key) {
            return true;
        }
        if self.cache.is_full() {
            return false;
        }
        self.cache.insert(key, timestamp_us, deadline);
        true
    }

    /// Refuses every stamp dated before `floor_us` (what [`StampVerifier::remember`] could not keep).
    pub fn raise_floor(&mut self, floor_us: u64) {
        self.cache.floor_us = self.cache.floor_us.max(floor_us);
    }

    /// What a sealed snapshot keeps of the cache: every remembered stamp (replay key,
    /// timestamp), in no particular order (a copy, cheap enough to take while decisions wait;
    /// the caller sorts it afterwards), and the floor below which stamps are refused. Restored
    /// with [`StampVerifier::remember`] and [`StampVerifier::raise_floor`].
    pub fn remembered(&self) -> (Vec<([u8; 32], u64)>, u64) {
        // The heap and the member set always hold the same keys (pushed and popped together).
        let live = self.cache.expiry.iter().map(|Reverse((_, timestamp, key))| (*key, *timestamp)).collect();
        (live, self.cache.floor_us)
    }

    /// Live nonces remembered.
    pub fn len(&self) -> usize {
        self.cache.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cache.members.is_empty()
    }

    /// Most live nonces remembered before `REPLAY_CACHE_FULL`.
    pub fn capacity(&self) -> usize {
        self.cache.capacity
    }
}

fn printable(s: &str) -> String {
    crate::document::printable(s)
}

/// SHA-256(u32be(len(principal)) || principal || nonce): a fixed-size key,
/// so an entry costs the same whatever the id and nonce lengths. The enclave's
/// audit records carry it for every accepted stamp, so a restarted enclave can
/// remember what its predecessor accepted ([`StampVerifier::remember`]).
pub fn replay_key(principal: &str, nonce: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((principal.len() as u32).to_be_bytes());
    h.update(principal.as_bytes());
    h.update(nonce);
    h.finalize().into()
}

/// Accepted (principal, nonce) keys until their stamps expire. Ordered
/// structures only (no hashing, so no seed to draw and no collision attack):
/// membership in a B-tree set, expiry in a min-heap of deadlines
/// (`timestamp_us + window`), so eviction pops only what has expired.
#[derive(Debug)]
struct ReplayCache {
    capacity: usize,
    members: BTreeSet<[u8; 32]>,
    expiry: BinaryHeap<Reverse<(u64, u64, [u8; 32])>>,
    /// The latest `now_us` seen: eviction never goes back in time.
    high_water_us: u64,
    /// One past the newest timestamp of an evicted entry: stamps older than
    /// this are refused, so a nonce the cache forgot can never be accepted
    /// again, even if the clock goes back or an update widens the window.
    floor_us: u64,
}

impl ReplayCache {
    fn new(capacity: usize) -> ReplayCache {
        ReplayCache { capacity, members: BTreeSet::new(), expiry: BinaryHeap::new(), high_water_us: 0, floor_us: 0 }
    }

    fn evict(&mut self, now_us: u64) {
        self.high_water_us = self.high_water_us.max(now_us);
        while let Some(Reverse((deadline, timestamp, key))) = self.expiry.peek().copied() {
            if deadline >= self.high_water_us {
                break;
            }
            self.expiry.pop();
            self.members.remove(&key);
            self.floor_us = self.floor_us.max(timestamp.saturating_add(1));
        }
    }

    fn contains(&self, key: &[u8; 32]) -> bool {
        self.members.contains(key)
    }

    fn is_full(&self) -> bool {
        self.members.len() >= self.capacity
    }

    fn insert(&mut self, key: [u8; 32], timestamp_us: u64, deadline_us: u64) {
        if self.members.insert(key) {
            self.expiry.push(Reverse((deadline_us, timestamp_us, key)));
        }
    }
}

/// CBOR byte strings, strictly (the protocol crate's rule: `serde_bytes` would
/// also accept text and integer arrays).
mod bytes {
    use core::fmt;

    use serde::de::{self, Deserializer, Visitor};
    use serde::Serializer;

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        struct ByteString;
        impl Visitor<'_> for ByteString {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a CBOR byte string")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        deserializer.deserialize_byte_buf(ByteString)
    }
}
