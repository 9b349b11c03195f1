//! Independent implementations: Go's golang.org/x/mod/sumdb/note (C2SP signed
//! notes) and golang.org/x/mod/sumdb/tlog (RFC 6962 trees, tiles), and
//! trillian-tessera (github.com/transparency-dev/tessera: `api`, `api/layout`,
//! `client`, the tlog-tiles reader of the transparency-dev ecosystem), driven
//! by `test/interop/tlog-go`. Our signed checkpoints, verifier keys, inclusion
//! and consistency proofs (also as read back from a `tlog-proof` file) must
//! verify there, and tampered ones fail there as here; notes Go signs with a
//! key it generates must verify here; the trees and proofs Go builds must be
//! byte for byte the ones we build; the tiles, entry bundles and paths sumdb
//! and tessera write must be ours, and a log we serve as tlog-tiles must read
//! there (sumdb authenticating every tile against the signed root, tessera
//! building proofs from our tiles alone), tampered tiles and bundles refused.
//!
//! Needs Go (on PATH or /usr/local/go/bin/go); it is never skipped: without Go
//! this test fails. Modules come from the Go module proxy the first time, into
//! `${XDG_CACHE_HOME:-~/.cache}/sentinel/go` (GOMODCACHE and GOCACHE, which CI
//! caches), with `-mod=readonly` so go.mod / go.sum are used as committed.

#[path = "../../../test/interop/go_build.rs"]
mod go_build;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::SigningKey;
use sentinel_audit::merkle::{self, Hash};
use sentinel_audit::record::record_hash;
use sentinel_audit::tiles::{self, Tile, TileTree};
use sentinel_audit::{
    note, open_checkpoint, prove, sign_checkpoint, verify_log, AuditRecord, Checkpoint, Decision, Effect, Outcome,
    RecordKind, TlogProof, VerifierKey,
};
use serde_json::{json, Value};

/// Builds the Go program once per test process.
fn program() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| go_build::build_go_program(env!("CARGO_MANIFEST_DIR"), env!("CARGO_TARGET_TMPDIR"), "tlog-go"))
}

fn run(request: &Value) -> Output {
    let mut child = Command::new(program())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tlog-go");
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn ok(output: &Output) -> String {
    assert!(output.status.success(), "tlog-go refused:\n{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn refused(output: &Output, reason: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "tlog-go accepted: {}", String::from_utf8_lossy(&output.stdout));
    assert!(stderr.starts_with("FAIL: ") && stderr.contains(reason), "expected {reason:?}, got {stderr}");
}

const ORIGIN: &str = "sentinel.example/audit/interop";

struct Log {
    key: SigningKey,
    records: Vec<Vec<u8>>,
    leaves: Vec<Hash>,
}

impl Log {
    fn new(n: u64) -> Self {
        let mut records = Vec::new();
        let mut prev = [0; 32];
        for seq in 0..n {
            let record = AuditRecord {
                seq,
                time_us: 1_765_000_000_000_000 + seq,
                kind: RecordKind::ALL[seq as usize % RecordKind::ALL.len()],
                effects: (0..seq % 3)
                    .map(|i| Effect {
                        op: "notional".into(),
                        target: format!("rule-{i}"),
                        subject: Some(format!("key:{seq}")),
                        value: Some((seq * 1000 + i).to_string()),
                    })
                    .collect(),
                principal: Some(format!("principal-{seq}")),
                request_digest: Some([seq as u8; 32]),
                decision: Some(Decision { outcome: Outcome::Allowed, code: None, rules: vec![] }),
                result_digest: None,
                prev_hash: prev,
            };
            let bytes = record.encode().unwrap();
            prev = record_hash(&bytes);
            records.push(bytes);
        }
        let leaves = records.iter().map(|r| merkle::leaf_hash(r)).collect();
        Self { key: SigningKey::from_bytes(&[42; 32]), records, leaves }
    }

    fn verifier(&self) -> VerifierKey {
        VerifierKey::new(ORIGIN, self.key.verifying_key()).unwrap()
    }

    fn checkpoint(&self, size: usize) -> Checkpoint {
        Checkpoint {
            origin: ORIGIN.into(),
            size: size as u64,
            root: merkle::root(&self.leaves[..size]),
            extensions: vec![],
        }
    }

    fn signed(&self, size: usize) -> String {
        sign_checkpoint(&self.checkpoint(size), &self.key).unwrap()
    }

    fn inclusion(&self, size: usize, index: usize) -> Value {
        let proof = merkle::inclusion_proof(&self.leaves[..size], index as u64).unwrap();
        json!({"index": index, "leaf": STANDARD.encode(&self.records[index]), "proof": b64s(&proof)})
    }

    fn consistency(&self, old: usize, size: usize) -> Value {
        let proof = merkle::consistency_proof(&self.leaves[..size], old as u64).unwrap();
        json!({"size": old, "root": STANDARD.encode(merkle::root(&self.leaves[..old])), "proof": b64s(&proof)})
    }

    fn request(&self, note: &str, size: usize) -> Value {
        json!({
            "op": "verify", "vkey": self.verifier().to_string(), "note": note,
            "inclusion": (0..size).map(|i| self.inclusion(size, i)).collect::<Vec<_>>(),
            "consistency": (1..=size).map(|old| self.consistency(old, size)).collect::<Vec<_>>(),
        })
    }
}

fn b64s(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| STANDARD.encode(h)).collect()
}

#[test]
fn go_verifies_our_checkpoints_and_proofs() {
    let log = Log::new(21);
    for size in [1, 2, 3, 7, 8, 13, 16, 21] {
        let note = log.signed(size);
        let out = ok(&run(&log.request(&note, size)));
        let root = STANDARD.encode(merkle::root(&log.leaves[..size]));
        assert_eq!(out, format!("OK {ORIGIN} {size} {root}\n"));
    }
    // The empty tree's checkpoint.
    let out = ok(&run(&json!({"op": "verify", "vkey": log.verifier().to_string(), "note": log.signed(0)})));
    assert_eq!(out, format!("OK {ORIGIN} 0 {}\n", STANDARD.encode(merkle::empty_root())));
    // Proofs as read back from our tlog-proof files.
    for index in [0usize, 6, 20] {
        let proof = TlogProof {
            extra: Some(b"context".to_vec()),
            index: index as u64,
            proof: merkle::inclusion_proof(&log.leaves, index as u64).unwrap(),
            checkpoint: log.signed(21),
        };
        let parsed = TlogProof::parse(&proof.to_text()).unwrap();
        parsed.verify(&log.records[index], &log.verifier()).unwrap();
        let request = json!({
            "op": "verify", "vkey": log.verifier().to_string(), "note": parsed.checkpoint,
            "inclusion": [{"index": index, "leaf": STANDARD.encode(&log.records[index]), "proof": b64s(&parsed.proof)}],
        });
        ok(&run(&request));
    }
}

#[test]
fn go_refuses_tampered_checkpoints_and_proofs() {
    let log = Log::new(10);
    let note = log.signed(10);
    let v = log.verifier();
    ok(&run(&log.request(&note, 10)));
    // A different root in the signed text.
    let cp = log.checkpoint(10);
    let other_root = STANDARD.encode(merkle::root(&log.leaves[..9]));
    let tampered = note.replacen(&STANDARD.encode(cp.root), &other_root, 1);
    assert_eq!(open_checkpoint(tampered.as_bytes(), &v).unwrap_err().code(), "AUDIT_NOTE_SIGNATURE_INVALID");
    refused(&run(&log.request(&tampered, 10)), "note signature");
    // A flipped bit in the signature.
    let line = note.lines().last().unwrap();
    let b64 = line.rsplit(' ').next().unwrap();
    let mut raw = STANDARD.decode(b64).unwrap();
    raw[10] ^= 1;
    let tampered = note.replacen(b64, &STANDARD.encode(raw), 1);
    assert_eq!(open_checkpoint(tampered.as_bytes(), &v).unwrap_err().code(), "AUDIT_NOTE_SIGNATURE_INVALID");
    refused(&run(&log.request(&tampered, 10)), "note signature");
    // Signed by another key under the same name: unknown to the verifier on both sides.
    let forged = sign_checkpoint(&cp, &SigningKey::from_bytes(&[7; 32])).unwrap();
    assert_eq!(open_checkpoint(forged.as_bytes(), &v).unwrap_err().code(), "AUDIT_NOTE_UNVERIFIED");
    refused(&run(&log.request(&forged, 10)), "note signature");
    // A tampered inclusion proof, a wrong leaf, a tampered consistency proof.
    let mut request = log.request(&note, 10);
    request["inclusion"][3]["proof"][1] = json!(STANDARD.encode([9u8; 32]));
    refused(&run(&request), "inclusion 3");
    let mut request = log.request(&note, 10);
    request["inclusion"][4]["leaf"] = json!(STANDARD.encode(b"not the record"));
    refused(&run(&request), "inclusion 4");
    let mut request = log.request(&note, 10);
    request["consistency"][5]["root"] = json!(STANDARD.encode([9u8; 32]));
    refused(&run(&request), "consistency from 6");
    // Ours refuses the same.
    let proof = merkle::inclusion_proof(&log.leaves, 3).unwrap();
    let mut bad = proof.clone();
    bad[1] = [9; 32];
    assert_eq!(
        merkle::verify_inclusion(&log.leaves[3], 3, 10, &bad, &cp.root).unwrap_err().code(),
        "AUDIT_ROOT_MISMATCH"
    );
}

#[test]
fn we_verify_go_signed_notes() {
    let log = Log::new(12);
    let text = log.checkpoint(12).to_text().unwrap();
    let signed = ok(&run(&json!({"op": "sign", "name": ORIGIN, "text": text})));
    let signed: Value = serde_json::from_str(&signed).unwrap();
    let (vkey, note) = (signed["vkey"].as_str().unwrap(), signed["note"].as_str().unwrap());
    // Go's verifier key text parses here (name, key ID, key), and prints back the same.
    let v = VerifierKey::parse(vkey).unwrap();
    assert_eq!(v.to_string(), vkey);
    assert_eq!(open_checkpoint(note.as_bytes(), &v).unwrap(), log.checkpoint(12));
    // A whole log checked against a Go-signed checkpoint.
    let report = verify_log(&log.records, &[note.as_bytes().to_vec()], std::slice::from_ref(&v)).unwrap();
    assert_eq!((report.covered, report.uncovered), (12, 0));
    // Tampered: refused here.
    let tampered = note.replacen("\n12\n", "\n11\n", 1);
    assert_eq!(open_checkpoint(tampered.as_bytes(), &v).unwrap_err().code(), "AUDIT_NOTE_SIGNATURE_INVALID");
    assert_eq!(
        verify_log(&log.records, &[tampered.into_bytes()], &[v]).unwrap_err().code(),
        "AUDIT_CHECKPOINT_SIGNATURE_INVALID"
    );
    // Many fresh Go keys (their base64 often contains '+', which once broke our vkey parsing).
    for _ in 0..24 {
        let signed = ok(&run(&json!({"op": "sign", "name": ORIGIN, "text": text})));
        let signed: Value = serde_json::from_str(&signed).unwrap();
        let v = VerifierKey::parse(signed["vkey"].as_str().unwrap()).unwrap();
        assert_eq!(v.to_string(), signed["vkey"].as_str().unwrap());
        assert_eq!(open_checkpoint(signed["note"].as_str().unwrap().as_bytes(), &v).unwrap(), log.checkpoint(12));
    }
    // Any note text, blank lines and non-ASCII included.
    let text = "première ligne\n\n— not a signature\n";
    let signed = ok(&run(&json!({"op": "sign", "name": "example.com/ünïcødé", "text": text})));
    let signed: Value = serde_json::from_str(&signed).unwrap();
    let v = VerifierKey::parse(signed["vkey"].as_str().unwrap()).unwrap();
    assert_eq!(note::open(signed["note"].as_str().unwrap().as_bytes(), &[v]).unwrap(), text);
}

#[test]
fn go_builds_the_same_trees_and_proofs() {
    let log = Log::new(33);
    let leaves: Vec<String> = log.records.iter().map(|r| STANDARD.encode(r)).collect();
    let out: Value = serde_json::from_str(&ok(&run(&json!({"op": "tree", "leaves": leaves})))).unwrap();
    let sizes = out.as_array().unwrap();
    assert_eq!(sizes.len(), 33);
    for s in sizes {
        let t = s["size"].as_u64().unwrap() as usize;
        let tree = &log.leaves[..t];
        assert_eq!(s["root"], json!(STANDARD.encode(merkle::root(tree))), "root of {t}");
        for (n, p) in s["inclusion"].as_array().unwrap().iter().enumerate() {
            assert_eq!(p, &json!(b64s(&merkle::inclusion_proof(tree, n as u64).unwrap())), "record {n} in {t}");
        }
        for (i, p) in s["consistency"].as_array().unwrap().iter().enumerate() {
            let old = i as u64 + 1;
            assert_eq!(p, &json!(b64s(&merkle::consistency_proof(tree, old).unwrap())), "tree {old} in {t}");
        }
    }
}

/// Our tlog-tiles files for a tree of `size` leaves of `log`: every hash tile
/// and entry bundle it publishes, by path.
/// `tree` may be larger than `size`: the tiles of an older tree are prefixes of the current ones.
fn serve(log: &Log, tree: &TileTree, size: u64) -> (serde_json::Map<String, Value>, serde_json::Map<String, Value>) {
    let mut tile_files = serde_json::Map::new();
    for t in tiles::tiles_for_size(size) {
        let data = tree.tile(t.level(), t.index(), t.width()).unwrap();
        tile_files.insert(t.path(), json!(STANDARD.encode(data)));
    }
    let mut bundles = serde_json::Map::new();
    for b in tiles::bundles_for_size(size) {
        let data = tiles::entry_bundle(&log.records, b.index(), b.width()).unwrap();
        bundles.insert(b.path(), json!(STANDARD.encode(data)));
    }
    (tile_files, bundles)
}

#[test]
fn go_writes_our_tiles_bundles_and_paths() {
    // Past 256·256 leaves: full level-0 and level-1 tiles, partial tiles at levels 0, 1 and 2.
    let size = 256 * 256 + 256 * 3 + 17;
    let log = Log::new(size as u64);
    let tree = TileTree::from_leaves(&log.leaves).unwrap();
    let leaves: Vec<String> = log.records.iter().map(|r| STANDARD.encode(r)).collect();
    for (old, new) in [(0, size), (0, 1), (0, 256), (0, 257), (0, 65_536), (300, 700), (65_536, size), (size - 1, size)]
    {
        let out = ok(&run(&json!({"op": "tiles", "leaves": &leaves[..new], "old": old, "size": new})));
        let out: Value = serde_json::from_str(&out).unwrap();
        let ours = tiles::new_tiles(old as u64, new as u64);
        let theirs = out["tiles"].as_array().unwrap();
        assert_eq!(theirs.len(), ours.len(), "tiles from {old} to {new}");
        for (t, g) in ours.iter().zip(theirs) {
            assert_eq!(g["path"], json!(t.path()), "sumdb's path, from {old} to {new}");
            assert_eq!(g["tessera_path"], json!(t.path()), "tessera's path");
            let published = tiles::tile_width(t.level(), t.index(), new as u64).unwrap();
            let tessera_width = g["tessera_partial"].as_u64().unwrap();
            assert_eq!(if tessera_width == 0 { 256 } else { tessera_width }, u64::from(published));
            let data = tiles::hash_tile(&log.leaves[..new], t.level(), t.index(), t.width()).unwrap();
            assert_eq!(g["data"], json!(STANDARD.encode(&data)), "{}", t.path());
            assert_eq!(tree.tile(t.level(), t.index(), t.width()).unwrap(), data);
        }
        if old == 0 {
            let bundles = tiles::bundles_for_size(new as u64);
            let theirs = out["entries"].as_array().unwrap();
            assert_eq!(theirs.len(), bundles.len());
            for (b, g) in bundles.iter().zip(theirs) {
                assert_eq!(g["tessera_path"], json!(b.path()));
                let data = tiles::entry_bundle(&log.records[..new], b.index(), b.width()).unwrap();
                assert_eq!(g["data"], json!(STANDARD.encode(data)), "{}", b.path());
            }
        }
    }
}

#[test]
fn go_parses_paths_as_we_do() {
    let mut paths: Vec<String> = [
        "tile/0/000",
        "tile/0/x001/x234/067",
        "tile/1/999.p/17",
        "tile/2/x001/000.p/1",
        "tile/63/000.p/255",
        "tile/7/x123/456",
        "tile/entries/005",
        "tile/entries/x001/x000/000.p/112",
        "tile/0/x018/x446/x744/x073/x709/x551/615",
        "tile/entries/x018/x446/x744/x073/x709/x551/615.p/1",
        // Refused here: sumdb must refuse these too (tessera is laxer).
        "tile/00/000",
        "tile/01/000",
        "tile/0/0",
        "tile/0/00",
        "tile/0/0000",
        "tile/0/x000/001",
        "tile/0/x001",
        "tile/0/001/002",
        "tile/0/x01/001",
        "tile/0/001.p/0",
        "tile/0/001.p/010",
        "tile/0/001.p/256",
        "tile/0/001.p/1000",
        "tile/0/001.p/+1",
        "tile/0/.p/1",
        "tile/0/x001//001",
        "tile/0/001.p",
        "tile/+1/000",
        "tile/entries/1",
        "tile/entries/001.p/256",
        "tile/entries/x000/001",
        "tile/0/x018/x446/x744/x073/x709/x551/616",
        "tile/0/-01",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    // Every level and width, and indexes around the group boundaries.
    for level in [0u8, 1, 5, 63] {
        for index in [0u64, 1, 999, 1000, 1001, 999_999, 1_000_000, 123_456_789] {
            for width in [1u16, 2, 100, 255, 256] {
                paths.push(Tile::hashes(level, index, width).unwrap().path());
            }
        }
    }
    let out: Value = serde_json::from_str(&ok(&run(&json!({"op": "paths", "paths": paths})))).unwrap();
    let mut refused = 0;
    for (path, theirs) in paths.iter().zip(out.as_array().unwrap()) {
        match Tile::parse(path) {
            Ok(t) => {
                let level = if t.is_entries() { -1 } else { i64::from(t.level()) };
                let ours = json!({"level": level, "index": t.index(), "width": t.width()});
                assert_eq!(theirs["tessera"], ours, "tessera on {path}");
                if t.index() > i64::MAX as u64 {
                    // sumdb numbers tiles with an int64; no tree of at most 2^63 - 1 leaves has these.
                    assert_eq!(theirs["sumdb"], Value::Null, "sumdb on {path}");
                } else if !t.is_entries() {
                    assert_eq!(theirs["sumdb"], ours, "sumdb on {path}");
                }
            }
            Err(e) => {
                refused += 1;
                assert_eq!(e.code(), "AUDIT_TILE_PATH_INVALID");
                assert_eq!(theirs["sumdb"], Value::Null, "sumdb accepts {path}, we refuse it");
            }
        }
    }
    assert_eq!(refused, 23);
}

#[test]
fn go_reads_the_log_we_serve_as_tiles() {
    let log = Log::new(600);
    let tree = TileTree::from_leaves(&log.leaves).unwrap();
    let v = log.verifier();
    for size in [1usize, 255, 256, 257, 512, 600] {
        // Served from the tree of all 600 leaves: an older size's tiles are prefixes of today's.
        let (tile_files, bundles) = serve(&log, &tree, size as u64);
        let note = log.signed(size);
        let older: Vec<usize> = [1, 2, 100, 255, 256, 257, 511].into_iter().filter(|m| *m <= size).collect();
        let request = json!({
            "op": "read", "vkey": v.to_string(), "note": note, "tiles": tile_files, "entries": bundles,
            "consistency": older.iter().map(|m| json!({"size": m, "root": STANDARD.encode(merkle::root(&log.leaves[..*m]))})).collect::<Vec<_>>(),
        });
        let out: Value = serde_json::from_str(&ok(&run(&request))).unwrap();
        assert_eq!((out["origin"].as_str().unwrap(), out["size"].as_u64().unwrap()), (ORIGIN, size as u64));
        let leaves = &log.leaves[..size];
        for i in 0..size {
            let ours = json!(b64s(&merkle::inclusion_proof(leaves, i as u64).unwrap()));
            assert_eq!(out["sumdb_inclusion"][i], ours, "sumdb proof of {i} in {size}");
            assert_eq!(out["tessera_inclusion"][i], ours, "tessera proof of {i} in {size}");
            // The tlog-proof we hand out carries the same path (a sample: each one verifies the note).
            if i % 37 == 0 || i == size - 1 {
                let p = prove(&log.leaves, i as u64, note.as_bytes(), &v).unwrap();
                assert_eq!(json!(b64s(&p.proof)), ours);
            }
        }
        for (j, m) in older.iter().enumerate() {
            let ours = json!(b64s(&merkle::consistency(&log.leaves, *m as u64, size as u64).unwrap()));
            assert_eq!(out["tessera_consistency"][j], ours, "consistency {m} -> {size}");
        }
    }
}

#[test]
fn go_refuses_tampered_tiles_and_bundles() {
    let log = Log::new(300);
    let tree = TileTree::from_leaves(&log.leaves).unwrap();
    let v = log.verifier();
    let note = log.signed(300);
    let (tile_files, bundles) = serve(&log, &tree, 300);
    let request = |t: &serde_json::Map<String, Value>, b: &serde_json::Map<String, Value>| json!({"op": "read", "vkey": v.to_string(), "note": note, "tiles": t, "entries": b, "indexes": [0, 299]});
    ok(&run(&request(&tile_files, &bundles)));
    // A flipped bit in a leaf hash of the full level-0 tile: sumdb's tile authentication fails.
    let mut bad = tile_files.clone();
    let mut data = STANDARD.decode(bad["tile/0/000"].as_str().unwrap()).unwrap();
    data[32 * 7] ^= 1;
    bad.insert("tile/0/000".into(), json!(STANDARD.encode(&data)));
    refused(&run(&request(&bad, &bundles)), "sumdb ReadHashes of the leaves: downloaded inconsistent tile");
    // The level-1 tile is missing: neither reader can get the root.
    let mut bad = tile_files.clone();
    bad.remove("tile/1/000.p/1");
    refused(&run(&request(&bad, &bundles)), "no tile tile/1/000.p/1");
    // A tile served at a non-canonical path.
    let mut bad = tile_files.clone();
    let moved = bad.remove("tile/0/001.p/44").unwrap();
    bad.insert("tile/0/x000/001.p/44".into(), moved);
    refused(&run(&request(&bad, &bundles)), "sumdb ParseTilePath tile/0/x000/001.p/44");
    assert_eq!(Tile::parse("tile/0/x000/001.p/44").unwrap_err().code(), "AUDIT_TILE_PATH_INVALID");
    // One entry changed in the partial bundle: its hash no longer matches the tile.
    let mut changed = log.records.clone();
    changed[290] = log.records[291].clone();
    let mut bad = bundles.clone();
    bad.insert("tile/entries/001.p/44".into(), json!(STANDARD.encode(tiles::entry_bundle(&changed, 1, 44).unwrap())));
    refused(&run(&request(&tile_files, &bad)), "entry 290");
    // A bundle cut short: tessera's bundle reader refuses it.
    let mut bad = bundles.clone();
    let short = tiles::entry_bundle(&log.records, 1, 44).unwrap();
    bad.insert("tile/entries/001.p/44".into(), json!(STANDARD.encode(&short[..short.len() - 1])));
    refused(&run(&request(&tile_files, &bad)), "GetEntryBundle 1");
    assert_eq!(
        tiles::parse_entry_bundle(&short[..short.len() - 1]).unwrap_err().code(),
        "AUDIT_ENTRY_BUNDLE_MALFORMED"
    );
    // Tiles and bundles of another history (one record changed) under the real checkpoint.
    let mut fork = Log::new(300);
    fork.records[100] = log.records[101].clone();
    fork.leaves[100] = merkle::leaf_hash(&fork.records[100]);
    let (fork_tiles, fork_bundles) = serve(&fork, &TileTree::from_leaves(&fork.leaves).unwrap(), 300);
    refused(&run(&request(&fork_tiles, &fork_bundles)), "sumdb tree hash of size 300");
}
