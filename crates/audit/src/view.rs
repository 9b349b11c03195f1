//! The JavaScript face of the audit log, shared by the N-API and both WASM
//! bindings so every build answers with the same object from the same code
//! (as `sentinel-evidence`'s `view` does for receipts): each `*_request`
//! function takes what a binding has in hand (byte slices, strings, numbers
//! already checked by [`js_u64`]), calls the core and returns a serde view.
//! Bytes are `0x`-prefixed lowercase hex (docs/api.md's JSON rule); a record
//! keeps its own field names (`time_us`, `prev_hash`, ...), the names its CBOR
//! encoding and `zcp audit` show. Numbers are JS numbers, so a value a JS
//! number cannot hold exactly (over 2^53 − 1) is refused rather than rounded:
//! no enclave writes one (`seq` counts records; `time_us` reaches 2^53 in the
//! year 2255), and a verifier must not display a different value than it checked.

use serde::Serialize;

use crate::checkpoint::{open_checkpoint, Checkpoint};
use crate::error::{Error, ErrorCode};
use crate::merkle::{self, hash_from_slice, leaf_hash, Hash};
use crate::note::VerifierKey;
use crate::proof::{prove, TlogProof};
use crate::record::{AuditRecord, Decision, Effect, RuleResult};
use crate::tiles::{self, Tile, TileKind, TILE_WIDTH};
use crate::verify::{verify_log, LogReport};
use sentinel_error::InvalidArgument;

/// Largest integer a JS number holds exactly: 2^53 − 1.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// `0x` and lowercase hex.
pub fn hex0x(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("0x");
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// A JS number argument as a `u64`: an integer from 0 to 2^53 − 1, else
/// `INVALID_ARGUMENT` naming `name` (the same rule in every binding).
pub fn js_u64(name: &str, value: f64) -> Result<u64, InvalidArgument> {
    if value.fract() != 0.0 || !(0.0..=MAX_SAFE_INTEGER as f64).contains(&value) {
        return Err(InvalidArgument::new(name, "expected an integer from 0 to 2^53 - 1"));
    }
    Ok(value as u64)
}

fn js_number(value: u64, code: ErrorCode, field: &str) -> Result<f64, Error> {
    if value > MAX_SAFE_INTEGER {
        return Err(Error::new(code, format!("{field} {value} is over 2^53 - 1, not exact as a JS number")));
    }
    Ok(value as f64)
}

fn verifier(text: &str) -> Result<VerifierKey, Error> {
    VerifierKey::parse(text)
}

/// A key list's texts parsed; a bad one is named by its position.
fn verifiers<K: AsRef<str>>(texts: &[K]) -> Result<Vec<VerifierKey>, Error> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            verifier(t.as_ref()).map_err(|e| Error::new(e.kind(), format!("verifier key {i}: {}", e.message())))
        })
        .collect()
}

/// [`LogReport`] as JS sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogReportView {
    /// Number of records.
    pub records: f64,
    /// RFC 6962 root of all records.
    pub root: String,
    /// Number of checkpoints verified.
    pub checkpoints: f64,
    /// Size of the largest checkpoint: the records a signature covers.
    pub covered: f64,
    /// Records after the largest checkpoint.
    pub uncovered: f64,
}

impl LogReport {
    /// The JS view (counts of records in memory are exact JS numbers).
    pub fn view(&self) -> LogReportView {
        LogReportView {
            records: self.records as f64,
            root: hex0x(&self.root),
            checkpoints: self.checkpoints as f64,
            covered: self.covered as f64,
            uncovered: self.uncovered as f64,
        }
    }
}

/// A verified [`Checkpoint`] as JS sees it (extension lines are not shown;
/// this log writes none).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckpointView {
    pub origin: String,
    pub size: f64,
    pub root: String,
}

impl Checkpoint {
    /// The JS view. Error: `AUDIT_CHECKPOINT_MALFORMED` for a size over 2^53 − 1.
    pub fn view(&self) -> Result<CheckpointView, Error> {
        Ok(CheckpointView {
            origin: self.origin.clone(),
            size: js_number(self.size, ErrorCode::CheckpointMalformed, "checkpoint: tree size")?,
            root: hex0x(&self.root),
        })
    }
}

/// One rule result of a record's decision: the record's own [`RuleResult`],
/// serialized as it is (`rule_type` as `type`; absent values `null`).
pub type RuleResultView = RuleResult;

/// A record's decision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DecisionView {
    /// `allowed`, `denied`, `pending`, `approved` or `rejected`.
    pub outcome: &'static str,
    pub code: Option<String>,
    pub rules: Vec<RuleResultView>,
}

/// An [`AuditRecord`] as JS sees it: the record's own field names, digests
/// as `0x` hex, absent values `null`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordView {
    pub seq: f64,
    /// `decision`, `approval`, `config`, `policy`, `key_created`, `key_imported`, `halt`, `resume`,
    /// `heartbeat_trip` or `log_resumed`.
    pub kind: &'static str,
    /// The state changes the action caused, `[]` when none: the record's own
    /// [`Effect`]s, serialized as they are (`{op, target, subject, value}`, absent values `null`).
    pub effects: Vec<Effect>,
    pub time_us: f64,
    pub principal: Option<String>,
    pub request_digest: Option<String>,
    pub decision: Option<DecisionView>,
    pub result_digest: Option<String>,
    pub prev_hash: String,
}

// The views take the record apart rather than copy it, and show rule results and effects as the
// record holds them: `auditDecodeRecord` is in the browser verifier, which carries every byte.
impl Decision {
    fn into_view(self) -> DecisionView {
        DecisionView { outcome: self.outcome.as_str(), code: self.code, rules: self.rules }
    }
}

impl AuditRecord {
    /// The JS view. Error: `AUDIT_RECORD_INVALID` for a `seq` or `time_us`
    /// over 2^53 − 1.
    pub fn view(&self) -> Result<RecordView, Error> {
        self.clone().into_view()
    }

    /// [`Self::view`], taking the record apart (no copies).
    pub fn into_view(self) -> Result<RecordView, Error> {
        Ok(RecordView {
            seq: js_number(self.seq, ErrorCode::RecordInvalid, "audit record: seq")?,
            kind: self.kind.as_str(),
            effects: self.effects,
            time_us: js_number(self.time_us, ErrorCode::RecordInvalid, "audit record: time_us")?,
            principal: self.principal,
            request_digest: self.request_digest.map(|d| hex0x(&d)),
            decision: self.decision.map(Decision::into_view),
            result_digest: self.result_digest.map(|d| hex0x(&d)),
            prev_hash: hex0x(&self.prev_hash),
        })
    }
}

/// A parsed tile path as JS sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TilePathView {
    /// The level (0 for an entry bundle).
    pub level: u8,
    pub index: f64,
    /// 1 to 256 (256: a full tile).
    pub width: u16,
    /// Whether the path names an entry bundle.
    pub entries: bool,
}

impl Tile {
    /// The JS view. Error: `AUDIT_TILE_PATH_INVALID` for an index over 2^53 − 1.
    pub fn view(&self) -> Result<TilePathView, Error> {
        Ok(TilePathView {
            level: self.level(),
            index: js_number(self.index(), ErrorCode::TilePathInvalid, "tile path: index")?,
            width: self.width(),
            entries: self.kind() == TileKind::Entries,
        })
    }
}

fn leaves_of<R: AsRef<[u8]>>(records: &[R]) -> Vec<Hash> {
    records.iter().map(|r| leaf_hash(r.as_ref())).collect()
}

/// `auditVerifyLog`: [`verify_log`] with the log's keys (its key history; one
/// for a log no enclave restart continued) as C2SP texts. Error:
/// `AUDIT_VERIFIER_KEY_INVALID` naming the position of a bad key, then those of [`verify_log`].
pub fn verify_log_request<R: AsRef<[u8]>, C: AsRef<[u8]>, K: AsRef<str>>(
    records: &[R],
    checkpoints: &[C],
    verifier_keys: &[K],
) -> Result<LogReportView, Error> {
    Ok(verify_log(records, checkpoints, &verifiers(verifier_keys)?)?.view())
}

/// `auditVerifyKeyHistory`: [`crate::verify_key_history`] with each key as its C2SP text and the
/// record it starts at; a bad key text is named by its position.
pub fn verify_key_history_request<R: AsRef<[u8]>, C: AsRef<[u8]>, K: AsRef<str>>(
    keys: &[(K, u64)],
    records: &[R],
    checkpoints: &[C],
) -> Result<(), Error> {
    let texts: Vec<&str> = keys.iter().map(|(k, _)| k.as_ref()).collect();
    let history: Vec<crate::HistoryKey> = verifiers(&texts)?
        .into_iter()
        .zip(keys)
        .map(|(verifier_key, (_, from_seq))| crate::HistoryKey { verifier_key, from_seq: *from_seq })
        .collect();
    crate::verify_key_history(&history, records, checkpoints)
}

/// `auditVerifyProof`: parses a `tlog-proof` and verifies `record` against it.
pub fn verify_proof_request(proof: &str, record: &[u8], verifier_key: &str) -> Result<CheckpointView, Error> {
    TlogProof::parse(proof)?.verify(record, &verifier(verifier_key)?)?.view()
}

/// `auditProve`: the `tlog-proof` text of record `index` under a signed checkpoint ([`prove`]).
pub fn prove_request<R: AsRef<[u8]>>(
    records: &[R],
    index: u64,
    checkpoint: &[u8],
    verifier_key: &str,
) -> Result<String, Error> {
    Ok(prove(&leaves_of(records), index, checkpoint, &verifier(verifier_key)?)?.to_text())
}

/// `auditConsistencyProof`: the proof from size `old_size` to `new_size` ([`merkle::consistency`]), as hex.
pub fn consistency_request<R: AsRef<[u8]>>(records: &[R], old_size: u64, new_size: u64) -> Result<Vec<String>, Error> {
    Ok(merkle::consistency(&leaves_of(records), old_size, new_size)?.iter().map(|h| hex0x(h)).collect())
}

/// `auditDecodeRecord`: decodes (strictly) and views a record.
pub fn decode_record_request(record: &[u8]) -> Result<RecordView, Error> {
    AuditRecord::decode(record)?.into_view()
}

/// `auditOpenCheckpoint`: verifies a signed checkpoint note with the log's key.
pub fn open_checkpoint_request(note: &[u8], verifier_key: &str) -> Result<CheckpointView, Error> {
    open_checkpoint(note, &verifier(verifier_key)?)?.view()
}

/// `auditLeafHash`: the RFC 6962 leaf hash of a record, as hex.
pub fn leaf_hash_request(record: &[u8]) -> String {
    hex0x(&leaf_hash(record))
}

/// Leaf hashes handed in as bytes. Error: `AUDIT_HASH_LENGTH`, naming the position.
pub fn leaf_hashes<B: AsRef<[u8]>>(hashes: &[B]) -> Result<Vec<Hash>, Error> {
    hashes
        .iter()
        .enumerate()
        .map(|(i, h)| {
            hash_from_slice(h.as_ref()).map_err(|e| Error::new(e.kind(), format!("leaf hash {i}: {}", e.message())))
        })
        .collect()
}

fn level_u8(level: u32) -> Result<u8, Error> {
    u8::try_from(level).ok().filter(|l| *l <= tiles::MAX_LEVEL).ok_or_else(|| {
        Error::new(ErrorCode::TilePathInvalid, format!("tile level must be 0 to {}, got {level}", tiles::MAX_LEVEL))
    })
}

fn width_u16(width: Option<u32>, level: u8, index: u64, size: u64) -> Result<u16, Error> {
    match width {
        Some(w) => u16::try_from(w).ok().filter(|w| (1..=TILE_WIDTH).contains(w)).ok_or_else(|| {
            Error::new(ErrorCode::TilePathInvalid, format!("tile width must be 1 to {TILE_WIDTH}, got {w}"))
        }),
        None => tiles::tile_width(level, index, size).ok_or_else(|| {
            Error::new(ErrorCode::TileNotInTree, format!("no tile {index} at level {level} in a tree of {size} leaves"))
        }),
    }
}

/// `auditTile`: the contents of hash tile (`level`, `index`) over `leaves`;
/// `width` defaults to the tile's width in the tree of all `leaves` (see
/// [`tiles::tile_width`]). Errors: those of [`tiles::hash_tile`].
pub fn tile_request(leaves: &[Hash], level: u32, index: u64, width: Option<u32>) -> Result<Vec<u8>, Error> {
    let level = level_u8(level)?;
    let width = width_u16(width, level, index, leaves.len() as u64)?;
    tiles::hash_tile(leaves, level, index, width)
}

/// `auditEntryBundle`: entry bundle `index` of `records`; `width` defaults
/// to its width in the log of all `records`. Errors: those of [`tiles::entry_bundle`].
pub fn entry_bundle_request<R: AsRef<[u8]>>(records: &[R], index: u64, width: Option<u32>) -> Result<Vec<u8>, Error> {
    let width = width_u16(width, 0, index, records.len() as u64)?;
    tiles::entry_bundle(records, index, width)
}

/// `auditParseTilePath`: a strict parse of a tile or entry bundle path.
pub fn parse_tile_path_request(path: &str) -> Result<TilePathView, Error> {
    Tile::parse(path)?.view()
}

/// One binding call: the tlog-tiles path of the hash tile at `level`, or of the entry bundle
/// when `level` is `None` (`index`, `width` entries or hashes, 1 to 256; 256 is a full tile).
pub fn tile_path_request(level: Option<u32>, index: u64, width: u32) -> Result<String, Error> {
    let width = u16::try_from(width)
        .map_err(|_| Error::new(ErrorCode::TilePathInvalid, format!("tile width must be 1 to 256, got {width}")))?;
    let tile = match level {
        None => Tile::entries(index, width)?,
        Some(level) => Tile::hashes(
            u8::try_from(level)
                .map_err(|_| Error::new(ErrorCode::TilePathInvalid, format!("tile level out of range: {level}")))?,
            index,
            width,
        )?,
    };
    Ok(tile.path())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::sign_checkpoint;
    use crate::record::record_hash;
    use crate::record::{Outcome, RecordKind};
    use ed25519_dalek::SigningKey;

    const ORIGIN: &str = "sentinel/log/0123456789abcdef";

    fn log(n: u64) -> Vec<Vec<u8>> {
        let mut prev = [0; 32];
        (0..n)
            .map(|seq| {
                let r = AuditRecord {
                    seq,
                    time_us: 1_765_000_000_000_000 + seq,
                    kind: RecordKind::Decision,
                    effects: vec![Effect {
                        op: "rate_take".into(),
                        target: "r1".into(),
                        subject: Some("alice".into()),
                        value: None,
                    }],
                    principal: Some("alice".into()),
                    request_digest: Some([7; 32]),
                    decision: Some(Decision {
                        outcome: Outcome::Denied,
                        code: Some("POLICY_DENIED".into()),
                        rules: vec![RuleResult {
                            rule: "r1".into(),
                            rule_type: "rate_limit".into(),
                            result: "deny".into(),
                            value: Some("3".into()),
                            limit: None,
                            window: Some("1m".into()),
                        }],
                    }),
                    result_digest: None,
                    prev_hash: prev,
                }
                .encode()
                .unwrap();
                prev = record_hash(&r);
                r
            })
            .collect()
    }

    #[test]
    fn views_serialize_as_documented() {
        let records = log(3);
        let view = decode_record_request(&records[1]).unwrap();
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["seq"], 1.0);
        assert_eq!(json["kind"], "decision");
        assert_eq!(json["time_us"], 1_765_000_000_000_001.0);
        assert_eq!(json["request_digest"], format!("0x{}", "07".repeat(32)));
        assert_eq!(json["result_digest"], serde_json::Value::Null);
        assert_eq!(json["prev_hash"], hex0x(&record_hash(&records[0])));
        assert_eq!(json["decision"]["outcome"], "denied");
        assert_eq!(json["decision"]["rules"][0]["type"], "rate_limit");
        assert_eq!(json["decision"]["rules"][0]["limit"], serde_json::Value::Null);
        assert_eq!(
            json["effects"],
            serde_json::json!([{"op": "rate_take", "target": "r1", "subject": "alice", "value": null}])
        );

        let key = SigningKey::from_bytes(&[3; 32]);
        let vkey = VerifierKey::new(ORIGIN, key.verifying_key()).unwrap().to_string();
        let leaves = leaves_of(&records);
        let cp = Checkpoint { origin: ORIGIN.into(), size: 2, root: merkle::root(&leaves[..2]), extensions: vec![] };
        let note = sign_checkpoint(&cp, &key).unwrap();
        let report = verify_log_request(&records, &[note.as_bytes()], &[&vkey]).unwrap();
        assert_eq!(
            report,
            LogReportView {
                records: 3.0,
                root: hex0x(&merkle::root(&leaves)),
                checkpoints: 1.0,
                covered: 2.0,
                uncovered: 1.0
            }
        );
        let opened = open_checkpoint_request(note.as_bytes(), &vkey).unwrap();
        assert_eq!(opened, CheckpointView { origin: ORIGIN.into(), size: 2.0, root: hex0x(&cp.root) });
        let proof = prove_request(&records, 1, note.as_bytes(), &vkey).unwrap();
        assert_eq!(verify_proof_request(&proof, &records[1], &vkey).unwrap(), opened);
        assert_eq!(verify_proof_request(&proof, &records[0], &vkey).unwrap_err().code(), "AUDIT_ROOT_MISMATCH");
        let e = verify_log_request(&records, &[note.as_bytes()], &[vkey.as_str(), "nope"]).unwrap_err();
        assert_eq!(e.code(), "AUDIT_VERIFIER_KEY_INVALID");
        assert!(e.message().starts_with("verifier key 1:"), "{e}");
        // A key history: another key first, the log's second.
        let other = VerifierKey::new(ORIGIN, SigningKey::from_bytes(&[4; 32]).verifying_key()).unwrap().to_string();
        assert_eq!(verify_log_request(&records, &[note.as_bytes()], &[other.clone(), vkey.clone()]).unwrap(), report);
        assert_eq!(
            verify_log_request(&records, &[note.as_bytes()], &[other]).unwrap_err().code(),
            "AUDIT_CHECKPOINT_SIGNATURE_INVALID"
        );
        assert_eq!(consistency_request(&records, 1, 3).unwrap().len(), 2);
        assert_eq!(leaf_hash_request(&records[0]), hex0x(&leaves[0]));

        let tile = tile_request(&leaves, 0, 0, None).unwrap();
        assert_eq!(tile, leaves.concat());
        assert_eq!(tile_request(&leaves, 0, 0, Some(2)).unwrap(), leaves[..2].concat());
        assert_eq!(tile_request(&leaves, 1, 0, None).unwrap_err().code(), "AUDIT_TILE_NOT_IN_TREE");
        assert_eq!(tile_request(&leaves, 64, 0, None).unwrap_err().code(), "AUDIT_TILE_PATH_INVALID");
        assert_eq!(tile_request(&leaves, 0, 0, Some(257)).unwrap_err().code(), "AUDIT_TILE_PATH_INVALID");
        assert_eq!(
            entry_bundle_request(&records, 0, None).unwrap().len(),
            records.iter().map(|r| r.len() + 2).sum::<usize>()
        );
        let parsed = parse_tile_path_request("tile/entries/x001/002.p/9").unwrap();
        assert_eq!(parsed, TilePathView { level: 0, index: 1002.0, width: 9, entries: true });
        assert_eq!(
            serde_json::to_value(parse_tile_path_request("tile/2/000").unwrap()).unwrap(),
            serde_json::json!({"level": 2, "index": 0.0, "width": 256, "entries": false})
        );
        assert_eq!(
            parse_tile_path_request("tile/0/x018/x446/x744/x073/x709/x551/615").unwrap_err().code(),
            "AUDIT_TILE_PATH_INVALID"
        );
        assert_eq!(leaf_hashes(&[&[0u8; 32][..], &[0u8; 31][..]]).unwrap_err().code(), "AUDIT_HASH_LENGTH");
    }

    #[test]
    fn tile_paths_are_written_by_the_core() {
        assert_eq!(tile_path_request(None, 1_234_067, 7).unwrap(), "tile/entries/x001/x234/067.p/7");
        assert_eq!(tile_path_request(None, 5, 256).unwrap(), "tile/entries/005");
        assert_eq!(tile_path_request(Some(1), 0, 3).unwrap(), "tile/1/000.p/3");
        for (level, width) in [(None, 0), (None, 257), (Some(0), 70_000), (Some(300), 1)] {
            assert_eq!(tile_path_request(level, 0, width).unwrap_err().code(), "AUDIT_TILE_PATH_INVALID");
        }
        // What it writes, the parser reads back.
        let parsed = parse_tile_path_request(&tile_path_request(None, 1_234_067, 7).unwrap()).unwrap();
        assert_eq!((parsed.index, parsed.width, parsed.entries), (1_234_067.0, 7, true));
    }

    #[test]
    fn numbers_are_exact_or_refused() {
        assert_eq!(js_u64("index", 0.0).unwrap(), 0);
        assert_eq!(js_u64("index", MAX_SAFE_INTEGER as f64).unwrap(), MAX_SAFE_INTEGER);
        for bad in [-1.0, 0.5, f64::NAN, f64::INFINITY, 2f64.powi(53)] {
            let e = js_u64("index", bad).unwrap_err();
            assert_eq!(sentinel_error::CodedError::code(&e), "INVALID_ARGUMENT");
        }
        let big = AuditRecord::decode(&log(1)[0]).map(|r| AuditRecord { time_us: 1 << 53, ..r }).unwrap();
        assert_eq!(big.view().unwrap_err().code(), "AUDIT_RECORD_INVALID");
        let cp = Checkpoint { origin: "o".into(), size: 1 << 53, root: [0; 32], extensions: vec![] };
        assert_eq!(cp.view().unwrap_err().code(), "AUDIT_CHECKPOINT_MALFORMED");
        assert_eq!(hex0x(&[0x00, 0xab, 0xff]), "0x00abff");
    }
}
