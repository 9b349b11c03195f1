//! Independent implementation: Go's golang.org/x/mod/sumdb/note (C2SP signed
//! notes) and golang.org/x/mod/sumdb/tlog (RFC 6962 trees), driven by
//! `test/interop/tlog-go`. Our signed checkpoints, verifier keys, inclusion
//! and consistency proofs (also as read back from a `tlog-proof` file) must
//! verify there, and tampered ones fail there as here; notes Go signs with a
//! key it generates must verify here; and the trees and proofs Go builds
//! must be byte for byte the ones we build.
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
use sentinel_audit::{
    note, open_checkpoint, sign_checkpoint, verify_log, AuditRecord, Checkpoint, Decision, Outcome, RecordKind,
    TlogProof, VerifierKey,
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
    let report = verify_log(&log.records, &[note.as_bytes().to_vec()], &v).unwrap();
    assert_eq!((report.covered, report.uncovered), (12, 0));
    // Tampered: refused here.
    let tampered = note.replacen("\n12\n", "\n11\n", 1);
    assert_eq!(open_checkpoint(tampered.as_bytes(), &v).unwrap_err().code(), "AUDIT_NOTE_SIGNATURE_INVALID");
    assert_eq!(
        verify_log(&log.records, &[tampered.into_bytes()], &v).unwrap_err().code(),
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
