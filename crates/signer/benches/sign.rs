//! Raw Rust cost of sign and verify, the baseline the binding benchmarks are
//! compared against (`bench/run.mjs` runs this and reads its JSON line).
use std::hint::black_box;
use std::time::Instant;

use sentinel_signer::secp256k1::{verify_strict, SecretKey};

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
    let sk = SecretKey::from_slice(&[0x42u8; 32]).expect("valid key");
    let pk = sk.public_key();
    let digest = [0x17u8; 32];
    let sig = sk.sign_digest(&digest);

    let sign_ns = per_op_ns(iterations, |i| {
        let mut d = digest;
        d[0] = i as u8;
        black_box(sk.sign_digest(black_box(&d)));
    });
    let verify_ns = per_op_ns(iterations, |_| {
        black_box(verify_strict(&pk, black_box(&digest), black_box(&sig.bytes)).expect("well-formed"));
    });
    // What a binding's verify does: parse a 33-byte key, then verify, over varying digests.
    let compressed = pk.to_compressed();
    let pool: Vec<([u8; 32], [u8; 64])> = (0u8..=255)
        .map(|i| {
            let d = [i; 32];
            (d, sk.sign_digest(&d).bytes)
        })
        .collect();
    let parse_verify_ns = per_op_ns(iterations, |i| {
        let (d, s) = &pool[(i & 255) as usize];
        let key = sentinel_signer::secp256k1::PublicKey::from_slice(black_box(&compressed)).expect("valid key");
        black_box(verify_strict(&key, black_box(d), black_box(s)).expect("well-formed"));
    });
    let parse_sign_ns = per_op_ns(iterations, |i| {
        let mut d = digest;
        d[0] = i as u8;
        let key = SecretKey::from_slice(black_box(&[0x42u8; 32])).expect("valid key");
        black_box(key.sign_digest(black_box(&d)));
    });
    // The backend decision (libsecp256k1 over RustCrypto k256) is re-measured on every run.
    let k256_key = k256::ecdsa::SigningKey::from_slice(&[0x42u8; 32]).expect("valid key");
    let k256_sign_ns = per_op_ns(iterations, |i| {
        let mut d = digest;
        d[0] = i as u8;
        black_box(k256_key.sign_prehash_recoverable(black_box(&d)).expect("signs"));
    });
    let (k256_sig, _) = k256_key.sign_prehash_recoverable(&digest).expect("signs");
    assert_eq!(k256_sig.to_bytes().as_slice(), sig.bytes.as_slice(), "both backends are RFC 6979 low-S");
    let k256_verifier = *k256_key.verifying_key();
    let k256_verify_ns = per_op_ns(iterations, |_| {
        use k256::ecdsa::signature::hazmat::PrehashVerifier;
        black_box(k256_verifier.verify_prehash(black_box(&digest), black_box(&k256_sig)).is_ok());
    });
    println!(
        "{{\"rust_sign_ns\":{sign_ns:.1},\"rust_parse_sign_ns\":{parse_sign_ns:.1},\"rust_verify_ns\":{verify_ns:.1},\"rust_parse_verify_ns\":{parse_verify_ns:.1},\"k256_sign_ns\":{k256_sign_ns:.1},\"k256_verify_ns\":{k256_verify_ns:.1},\"iterations\":{iterations}}}"
    );
}
