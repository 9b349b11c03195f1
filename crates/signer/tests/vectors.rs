//! Published vectors against the signing core: Wycheproof (strict, plain DER,
//! plain P1363) and RFC 6979 nonces and signatures (trezor/K1, bitcoinjs).
//! The data live in `test/vectors/` with their provenance.
use std::path::PathBuf;

use sentinel_signer::hazmat::hazmat_rfc6979_nonce;
use sentinel_signer::secp256k1::{der_to_compact, verify_plain, verify_strict, PublicKey, SecretKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn vectors(path: &str) -> Value {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test/vectors").join(path);
    serde_json::from_slice(&std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).unwrap()
}

fn hex32(s: &str) -> [u8; 32] {
    let raw = unhex(s);
    let mut out = [0u8; 32];
    out[32 - raw.len()..].copy_from_slice(&raw);
    out
}

#[derive(Clone, Copy)]
enum Encoding {
    Der,
    P1363,
}

/// Runs one Wycheproof file; returns (valid checked, invalid checked).
fn wycheproof(file: &str, encoding: Encoding, strict: bool) -> (usize, usize) {
    let data = vectors(file);
    let (mut valid, mut invalid) = (0, 0);
    for group in data["testGroups"].as_array().unwrap() {
        let key = PublicKey::from_slice(&unhex(group["publicKey"]["uncompressed"].as_str().unwrap())).unwrap();
        for case in group["tests"].as_array().unwrap() {
            let digest: [u8; 32] = Sha256::digest(unhex(case["msg"].as_str().unwrap())).into();
            let sig = unhex(case["sig"].as_str().unwrap());
            let compact = match encoding {
                Encoding::Der => der_to_compact(&sig).ok().flatten().map(|c| c.to_vec()),
                Encoding::P1363 => Some(sig),
            };
            let verdict = compact.is_some_and(|c| {
                let result = if strict { verify_strict(&key, &digest, &c) } else { verify_plain(&key, &digest, &c) };
                result.unwrap_or(false)
            });
            let id = case["tcId"].as_u64().unwrap();
            match case["result"].as_str().unwrap() {
                "valid" => {
                    assert!(verdict, "{file} tcId {id} should verify");
                    valid += 1;
                }
                "invalid" => {
                    assert!(!verdict, "{file} tcId {id} should be rejected");
                    invalid += 1;
                }
                _ => {} // "acceptable": either verdict is allowed
            }
        }
    }
    (valid, invalid)
}

#[test]
fn wycheproof_bitcoin_low_s_strict() {
    let (valid, invalid) = wycheproof("wycheproof/ecdsa_secp256k1_sha256_bitcoin_test.json", Encoding::Der, true);
    assert!(valid > 50 && invalid > 300, "ran {valid} valid / {invalid} invalid");
    assert_eq!(valid + invalid, 463);
}

#[test]
fn wycheproof_plain_der() {
    let (valid, invalid) = wycheproof("wycheproof/ecdsa_secp256k1_sha256_test.json", Encoding::Der, false);
    assert_eq!(valid + invalid, 476, "ran {valid} valid / {invalid} invalid");
}

#[test]
fn wycheproof_plain_p1363() {
    let (valid, invalid) = wycheproof("wycheproof/ecdsa_secp256k1_sha256_p1363_test.json", Encoding::P1363, false);
    assert_eq!(valid + invalid, 252, "ran {valid} valid / {invalid} invalid");
}

#[test]
fn wycheproof_plain_file_has_high_s_that_strict_rejects() {
    // The reason two verifiers exist: some signatures valid in plain ECDSA are not low-S.
    let data = vectors("wycheproof/ecdsa_secp256k1_sha256_test.json");
    let mut high_s_valid = 0;
    for group in data["testGroups"].as_array().unwrap() {
        let key = PublicKey::from_slice(&unhex(group["publicKey"]["uncompressed"].as_str().unwrap())).unwrap();
        for case in group["tests"].as_array().unwrap() {
            if case["result"] != "valid" {
                continue;
            }
            let digest: [u8; 32] = Sha256::digest(unhex(case["msg"].as_str().unwrap())).into();
            let compact = der_to_compact(&unhex(case["sig"].as_str().unwrap())).unwrap().unwrap();
            if !verify_strict(&key, &digest, &compact).unwrap() {
                assert!(verify_plain(&key, &digest, &compact).unwrap());
                high_s_valid += 1;
            }
        }
    }
    assert!(high_s_valid > 0);
}

fn r_of(sig: &[u8; 64]) -> String {
    hex::encode(&sig[..32])
}

#[test]
fn rfc6979_trezor_k1() {
    let data = vectors("rfc6979/k1_trezor_ecdsa_secp256k1_sha256_rfc6979.json");
    let mut ran = 0;
    for v in data["testGroups"][0]["tests"].as_array().unwrap() {
        let key = SecretKey::from_bytes(hex32(v["privateKey"].as_str().unwrap())).unwrap();
        let digest: [u8; 32] = Sha256::digest(v["msg"].as_str().unwrap().as_bytes()).into();
        let expected = &v["expected"];
        let k = hazmat_rfc6979_nonce(&key, &digest, 0);
        assert_eq!(hex::encode(k), expected["k"].as_str().unwrap().trim_start_matches("0x"));
        let sig = key.sign_digest(&digest);
        assert_eq!(r_of(&sig.bytes), format!("{:0>64}", expected["r"].as_str().unwrap()));
        assert_eq!(hex::encode(&sig.bytes[32..]), format!("{:0>64}", expected["s"].as_str().unwrap()));
        assert_eq!(der_to_compact(&unhex(expected["der"].as_str().unwrap())).unwrap(), Some(sig.bytes));
        ran += 1;
    }
    assert_eq!(ran, 6);
}

#[test]
fn rfc6979_bitcoinjs_signatures_and_retry_candidates() {
    let data = vectors("rfc6979/bitcoinjs_ecdsa_rfc6979.json");
    let mut signed = 0;
    for v in data["valid"]["ecdsa"].as_array().unwrap() {
        let key = SecretKey::from_bytes(hex32(v["d"].as_str().unwrap())).unwrap();
        let digest: [u8; 32] = Sha256::digest(v["message"].as_str().unwrap().as_bytes()).into();
        assert_eq!(hex::encode(hazmat_rfc6979_nonce(&key, &digest, 0)), v["k"].as_str().unwrap());
        let sig = key.sign_digest(&digest);
        assert_eq!(r_of(&sig.bytes), v["signature"]["r"].as_str().unwrap());
        assert_eq!(hex::encode(&sig.bytes[32..]), v["signature"]["s"].as_str().unwrap());
        signed += 1;
    }
    assert_eq!(signed, 7);
    let mut candidates = 0;
    for v in data["valid"]["rfc6979"].as_array().unwrap() {
        let key = SecretKey::from_bytes(hex32(v["d"].as_str().unwrap())).unwrap();
        let digest: [u8; 32] = Sha256::digest(v["message"].as_str().unwrap().as_bytes()).into();
        for (field, index) in [("k0", 0), ("k1", 1), ("k15", 15)] {
            assert_eq!(hex::encode(hazmat_rfc6979_nonce(&key, &digest, index)), v[field].as_str().unwrap(), "{field}");
            candidates += 1;
        }
    }
    assert_eq!(candidates, 30);
}

#[test]
fn bitcoinjs_invalid_signatures_do_not_verify() {
    let data = vectors("rfc6979/bitcoinjs_ecdsa_rfc6979.json");
    let mut ran = 0;
    for v in data["invalid"]["verify"].as_array().unwrap() {
        let key = SecretKey::from_bytes(hex32(v["d"].as_str().unwrap())).unwrap().public_key();
        let digest: [u8; 32] = Sha256::digest(v["message"].as_str().unwrap().as_bytes()).into();
        let (r, s) = (v["signature"]["r"].as_str().unwrap(), v["signature"]["s"].as_str().unwrap());
        // Negative or over-long integers cannot even be expressed as 32-byte r || s.
        if r.starts_with('-') || s.starts_with('-') || r.len() > 64 || s.len() > 64 {
            continue;
        }
        let mut compact = [0u8; 64];
        compact[..32].copy_from_slice(&hex32(r));
        compact[32..].copy_from_slice(&hex32(s));
        assert!(!verify_plain(&key, &digest, &compact).unwrap(), "{}", v["description"]);
        assert!(!verify_strict(&key, &digest, &compact).unwrap(), "{}", v["description"]);
        ran += 1;
    }
    assert!(ran >= 5, "ran {ran}");
}
