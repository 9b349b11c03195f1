//! Single-byte mutations of real, valid documents must all be rejected. Every
//! byte of a Nitro document is either signed (protected header, payload —
//! which holds the certificates —, signature) or structural (array/bstr
//! heads, the empty unprotected header), so a mutation that still verified
//! would mean the verifier is lax somewhere (trailing bytes, duplicate keys,
//! unchecked unprotected header), never a mutation "in an ignored area".
//! Sampling is deterministic (fixed-seed xorshift) over positions and values.

mod common;

use common::vectors;
use sentinel_attestation::{verify_with, VerifyOptions, AWS_NITRO_ROOT_G1_DER};

/// Mutations per valid document (5 valid documents).
const PER_DOCUMENT: usize = 120;

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn sampled_single_byte_mutations_are_all_rejected() {
    let options = VerifyOptions { allow_debug: true };
    let mut rng = XorShift(0x005e_ed0f_a77e_57a7);
    let mut total = 0;
    let mut accepted = Vec::new();
    for v in vectors().iter().filter(|v| v.signature_valid()) {
        let at = v.at();
        verify_with(&v.bytes, AWS_NITRO_ROOT_G1_DER, at, &options).unwrap();
        let len = v.bytes.len();
        // The envelope heads (first 16 bytes) and the signature head are always covered.
        let fixed = (0..16).chain([len - 98, len - 97, len - 1]);
        let sampled: Vec<usize> = (0..PER_DOCUMENT - 19).map(|_| (rng.next() % len as u64) as usize).collect();
        for position in fixed.chain(sampled) {
            let delta = (rng.next() % 255 + 1) as u8; // never 0: the byte always changes
            let mut doc = v.bytes.clone();
            doc[position] ^= delta;
            total += 1;
            if let Ok(d) = verify_with(&doc, AWS_NITRO_ROOT_G1_DER, at, &options) {
                accepted.push(format!("{} @{position} ^{delta:#04x}: {}", v.file, d.module_id()));
            }
        }
    }
    println!("single-byte mutations tried: {total}, accepted: {}", accepted.len());
    assert!(total >= 500, "only {total} mutations");
    assert!(accepted.is_empty(), "mutations that verified:\n{}", accepted.join("\n"));
}

/// Every position of one document, two values each. Slow in debug builds:
/// `cargo test -p sentinel-attestation --release --test mutations -- --ignored`.
#[test]
#[ignore = "exhaustive; run with --release --ignored"]
fn every_position_of_one_document_is_covered() {
    let options = VerifyOptions { allow_debug: true };
    let v = common::vector("qos_attestation-doc.bin");
    let mut accepted = Vec::new();
    let mut total = 0;
    for position in 0..v.bytes.len() {
        for delta in [0x01u8, 0x80] {
            let mut doc = v.bytes.clone();
            doc[position] ^= delta;
            total += 1;
            if verify_with(&doc, AWS_NITRO_ROOT_G1_DER, v.at(), &options).is_ok() {
                accepted.push(format!("@{position} ^{delta:#04x}"));
            }
        }
    }
    println!("exhaustive single-byte mutations tried: {total}, accepted: {}", accepted.len());
    assert!(accepted.is_empty(), "mutations that verified: {}", accepted.join(", "));
}
