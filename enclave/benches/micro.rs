//! Micro benchmarks of the trust path's per-request and per-session costs, in
//! one run (same harness as crates/signer/benches/sign.rs: the workspace has
//! no criterion; mean ns per operation over `BENCH_ITERATIONS`, default 20,000,
//! handshakes a tenth as many):
//!
//! - stamp verification per principal algorithm (`StampVerifier::verify`: the
//!   window and replay checks, the stamp digest over a `sign_digest` body and
//!   the signature check; a fresh nonce per call, so the replay cache grows as
//!   in production);
//! - receipt signing (`sign_receipt` of the claims a `sign_digest` answer gets);
//! - making one audit record as `src/audit.rs` does for a `sign_digest` answer
//!   with one rule result: build, canonical CBOR, leaf hash and record hash
//!   (two SHA-256), the tree frontier's push, and the copy kept for the host;
//! - the full session handshake, each side and both together: Noise NK
//!   (messages 1 and 2), the principal's Ed25519 signature over the
//!   authentication digest, the authentication frame, and the enclave's
//!   check of that signature against the configured key.
//!
//! Prints a table, then one JSON line.
//!   cargo bench -p sentinel-enclave --bench micro
use std::hint::black_box;
use std::time::Instant;

use sentinel_config::{Alg, Credential, CredentialKind, Stamp, StampVerifier};
use sentinel_evidence::{sign_receipt, Decision, ReceiptClaims, SigningKey};
use sentinel_protocol::{encode_body, Operation, SignDigestArgs};
use sentinel_session::{Initiator, Responder, SessionSecret};

const NOW: u64 = 1_767_225_600_000_000;
const HASH: [u8; 32] = [0xa7; 32];

fn per_op_ns(iterations: u32, mut op: impl FnMut(u32)) -> f64 {
    for i in 0..iterations / 10 {
        op(i);
    }
    let start = Instant::now();
    for i in 0..iterations {
        op(i);
    }
    start.elapsed().as_nanos() as f64 / f64::from(iterations)
}

fn entropy(i: u32, side: u8) -> [u8; 32] {
    let mut e = [side; 32];
    e[..4].copy_from_slice(&i.to_le_bytes());
    e
}

/// Mean ns of `StampVerifier::verify` for a principal with key algorithm `alg`.
fn stamp_verify_ns(alg: Alg, iterations: u32) -> f64 {
    let admin = Credential::generate(CredentialKind::Admin, "dev-admin", Alg::Ed25519, &[0xad; 32]).expect("admin");
    let client = Credential::generate(CredentialKind::Client, "dev-client", alg, &[0xc1; 32]).expect("client");
    let config = sentinel_config::development_configuration(admin.public_key(), client.public_key());
    let body = encode_body(&Operation::SignDigest(SignDigestArgs {
        key_id: "0x5f3a9c2e7b1d4f60".into(),
        digest: vec![0x42; 32],
    }));
    // Stamps are made before timing: only the enclave's side is measured.
    let total = iterations + iterations / 10;
    let stamps: Vec<Stamp> = (0..total)
        .map(|i| {
            let mut nonce = [0x11u8; 16];
            nonce[..4].copy_from_slice(&i.to_be_bytes());
            Stamp::sign(&client, "sign_digest", &body, NOW, &nonce).expect("stamp")
        })
        .collect();
    let mut verifier = StampVerifier::new(total as usize + 1);
    let mut next = stamps.iter();
    per_op_ns(iterations, |_| {
        let stamp = next.next().expect("enough stamps");
        black_box(verifier.verify(&config, "sign_digest", black_box(&body), stamp, NOW).expect("valid stamp"));
    })
}

fn main() {
    let iterations: u32 = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let hs_iterations = (iterations / 10).max(100);

    let ed25519 = stamp_verify_ns(Alg::Ed25519, iterations);
    let p256 = stamp_verify_ns(Alg::P256, iterations);
    let secp256k1 = stamp_verify_ns(Alg::Secp256k1, iterations);

    let receipt_key = SigningKey::from_bytes(&[0x42; 32]);
    let mut claims = ReceiptClaims {
        request_id: [0x11; 16],
        timestamp_us: NOW,
        principal: "dev-client".into(),
        key_id: Some("0x5f3a9c2e7b1d4f60".into()),
        op: "sign_digest".into(),
        payload_hash: [0x22; 32],
        decision: Decision::Allowed,
        code: None,
        result_hash: Some([0x33; 32]),
        rules_evaluated: Vec::new(),
        config_hash: [0x44; 32],
        policy_hash: None,
        attestation_hash: [0x55; 32],
        oversight_state: "green".into(),
        oversight_scope: "global".into(),
        approvals: Vec::new(),
        audit_seq: Some(1),
        audit_checkpoint: None,
        key_storage: None,
    };
    let receipt_ns = per_op_ns(iterations, |i| {
        claims.timestamp_us = NOW + u64::from(i);
        black_box(sign_receipt(black_box(&claims), &receipt_key));
    });

    // One audit record per answer, as the enclave makes it (src/audit.rs: decision_record + append).
    let mut frontier = sentinel_audit::Frontier::new();
    let mut prev_hash = [0u8; 32];
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(iterations as usize + iterations as usize / 10);
    let audit_ns = per_op_ns(iterations, |i| {
        let record = sentinel_audit::AuditRecord {
            seq: frontier.size(),
            time_us: NOW + u64::from(i),
            kind: sentinel_audit::RecordKind::Decision,
            principal: Some("dev-client".into()),
            request_digest: Some([0x22; 32]),
            decision: Some(sentinel_audit::Decision {
                outcome: sentinel_audit::Outcome::Allowed,
                code: None,
                rules: vec![sentinel_audit::RuleResult {
                    rule: "crypto_24_7".into(),
                    rule_type: "time_window".into(),
                    result: "allow".into(),
                    value: None,
                    limit: None,
                    window: None,
                }],
            }),
            result_digest: Some([0x33; 32]),
            prev_hash,
            // The accepted stamp, as every stamped request's record carries it.
            effects: vec![sentinel_audit::record::Effect {
                op: "stamp".into(),
                target: hex::encode([0x44; 32]),
                subject: None,
                value: Some((NOW + u64::from(i)).to_string()),
            }],
        };
        let bytes = record.encode().expect("encodes");
        frontier.push(sentinel_audit::merkle::leaf_hash(&bytes)).expect("room");
        prev_hash = sentinel_audit::record::record_hash(&bytes);
        kept.push(bytes.clone());
        black_box(bytes);
    });

    // Handshake: the principal's credential and its configured public key.
    let admin = Credential::generate(CredentialKind::Admin, "dev-admin", Alg::Ed25519, &[0xad; 32]).expect("admin");
    let client = Credential::generate(CredentialKind::Client, "dev-client", Alg::Ed25519, &[0xc1; 32]).expect("client");
    let config = sentinel_config::development_configuration(admin.public_key(), client.public_key());
    let principal = config.principal("dev-client").expect("principal").clone();
    let secret = SessionSecret::from_bytes([0x11; 32]);
    let public = secret.public();

    // Both sides, sequentially, as one handshake costs the two machines together.
    let both_ns = per_op_ns(hs_iterations, |i| {
        let (init, m1) = Initiator::new(&public, &HASH, entropy(i, 1)).expect("initiator");
        let (mut server, m2) = Responder::respond(&secret, &HASH, &m1, entropy(i, 2)).expect("respond");
        let hs = init.finish(&m2).expect("finish");
        let signature = client.sign(&hs.auth_digest());
        let (session, auth) = hs.authenticate(client.id(), &signature).expect("authenticate");
        let claim = server.open_auth(&auth).expect("open_auth");
        assert!(principal.verify(&claim.digest, &claim.signature));
        black_box((session, server.establish(&claim.principal, NOW, 3_600_000_000).expect("establish")));
    });
    // Client side: message 1, read message 2, sign the auth digest, seal the auth frame.
    let mut client_ns_total = 0u128;
    let mut server_ns_total = 0u128;
    for i in 0..hs_iterations {
        let t0 = Instant::now();
        let (init, m1) = Initiator::new(&public, &HASH, entropy(i, 1)).expect("initiator");
        let t1 = Instant::now();
        let (mut server, m2) = Responder::respond(&secret, &HASH, &m1, entropy(i, 2)).expect("respond");
        let t2 = Instant::now();
        let hs = init.finish(&m2).expect("finish");
        let signature = client.sign(&hs.auth_digest());
        let (session, auth) = hs.authenticate(client.id(), &signature).expect("authenticate");
        let t3 = Instant::now();
        let claim = server.open_auth(&auth).expect("open_auth");
        assert!(principal.verify(&claim.digest, &claim.signature));
        let established = server.establish(&claim.principal, NOW, 3_600_000_000).expect("establish");
        let t4 = Instant::now();
        black_box((session, established));
        client_ns_total += (t1 - t0).as_nanos() + (t3 - t2).as_nanos();
        server_ns_total += (t2 - t1).as_nanos() + (t4 - t3).as_nanos();
    }
    let client_ns = client_ns_total as f64 / f64::from(hs_iterations);
    let server_ns = server_ns_total as f64 / f64::from(hs_iterations);

    println!(
        "trust path micro benchmarks ({iterations} iterations; handshakes {hs_iterations}), mean µs per operation"
    );
    for (name, ns) in [
        ("stamp verify: ed25519", ed25519),
        ("stamp verify: p256", p256),
        ("stamp verify: secp256k1", secp256k1),
        ("sign_receipt (sign_digest claims)", receipt_ns),
        ("audit record (build, CBOR, 2 SHA-256, frontier)", audit_ns),
        ("handshake: client side (NK + auth signature)", client_ns),
        ("handshake: enclave side (NK + auth verify)", server_ns),
        ("handshake: both sides, one thread", both_ns),
    ] {
        println!("{name:<48} {:>9.2}", ns / 1000.0);
    }
    println!(
        "{{\"bench\":\"micro\",\"iterations\":{iterations},\"stamp_verify_ed25519_ns\":{ed25519:.0},\"stamp_verify_p256_ns\":{p256:.0},\"stamp_verify_secp256k1_ns\":{secp256k1:.0},\"sign_receipt_ns\":{receipt_ns:.0},\"audit_record_ns\":{audit_ns:.0},\"handshake_client_ns\":{client_ns:.0},\"handshake_enclave_ns\":{server_ns:.0},\"handshake_both_ns\":{both_ns:.0}}}"
    );
}
