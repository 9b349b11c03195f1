//! Cost of `sign_receipt` (runs on every answer of the enclave) and of
//! verifying a receipt against an already verified document
//! (`ReceiptVerifier::verify`, what an SDK pays per receipt) and with a bare
//! key (`verify_receipt_with_key`). Prints one JSON line.
//!   cargo bench -p sentinel-evidence --bench receipt
use std::hint::black_box;
use std::time::Instant;

use sentinel_evidence::{sign_receipt, verify_receipt_with_key, Decision, ReceiptClaims, RuleEvaluated, SigningKey};

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

fn main() {
    let iterations: u32 = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let key = SigningKey::from_bytes(&[0x42; 32]);
    let public = key.verifying_key().to_bytes();
    let mut claims = ReceiptClaims {
        request_id: [0x11; 16],
        timestamp_us: 1_767_225_600_123_456,
        principal: "dev-client".into(),
        key_id: Some("0x5f3a9c2e7b1d4f60".into()),
        op: "sign_digest".into(),
        payload_hash: [0x22; 32],
        decision: Decision::Allowed,
        code: None,
        result_hash: Some([0x33; 32]),
        // A six-rule policy's record, as the enclave writes it.
        rules_evaluated: [
            (
                "eth-daily",
                "notional_limit",
                "allow",
                Some("1500000000000000000"),
                Some("10000000000000000000"),
                Some("1d"),
            ),
            ("per-key-rate", "rate_limit", "allow", Some("3"), Some("100"), Some("1m")),
            ("allowed-contracts", "contract_list", "not_applicable", None, None, None),
            ("mainnet-only", "chain", "not_applicable", None, None, None),
            ("market-hours", "time_window", "allow", None, None, None),
            ("risk", "risk_score", "not_applicable", None, None, None),
        ]
        .into_iter()
        .map(|(rule, rule_type, result, value, limit, window)| RuleEvaluated {
            rule: rule.into(),
            rule_type: rule_type.into(),
            result: result.into(),
            value: value.map(Into::into),
            limit: limit.map(Into::into),
            window: window.map(Into::into),
            detail: Some("native:1 wei".into()),
        })
        .collect(),
        config_hash: [0x44; 32],
        policy_hash: Some([0x66; 32]),
        attestation_hash: [0x55; 32],
        oversight_state: "green".into(),
        oversight_scope: "global".into(),
        approvals: vec![],
        audit_seq: Some(41),
        audit_checkpoint: None,
        key_storage: None,
    };
    let receipt = sign_receipt(&claims, &key);

    let encode_ns = per_op_ns(iterations, |i| {
        claims.timestamp_us = u64::from(i);
        black_box(black_box(&claims).to_cbor());
    });
    let sign_ns = per_op_ns(iterations, |i| {
        claims.timestamp_us = u64::from(i);
        black_box(sign_receipt(black_box(&claims), &key));
    });
    let raw_sign_ns = per_op_ns(iterations, |i| {
        let mut message = [0u8; 400];
        message[0] = i as u8;
        black_box(ed25519_sign(&key, black_box(&message)));
    });
    let verify_ns = per_op_ns(iterations, |_| {
        black_box(verify_receipt_with_key(black_box(&receipt), &public).expect("valid"));
    });
    println!(
        "{{\"bench\":\"receipt\",\"iterations\":{iterations},\"receipt_bytes\":{},\"encode_claims_ns\":{encode_ns:.0},\"sign_receipt_ns\":{sign_ns:.0},\"ed25519_sign_400b_ns\":{raw_sign_ns:.0},\"verify_receipt_with_key_ns\":{verify_ns:.0}}}",
        receipt.len()
    );
}

fn ed25519_sign(key: &SigningKey, message: &[u8]) -> [u8; 64] {
    use ed25519_dalek::Signer;
    key.sign(message).to_bytes()
}
