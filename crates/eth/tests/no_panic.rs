//! Hostile input never panics, and anything accepted is canonical.
//!
//! The strongest property a strict decoder can have: if it accepts bytes,
//! re-encoding the result gives the same bytes back. Checked on random input
//! and on mutations of every real vector.
mod common;

use common::{read_gz_json, unhex};
use proptest::prelude::*;
use sentinel_eth::{decode_transaction, hash_typed_data, sign_transaction};
use sentinel_signer::secp256k1::SecretKey;

fn check(input: &[u8]) {
    if let Ok(tx) = decode_transaction(input) {
        assert_eq!(tx.encode_unsigned(), input, "accepted input must be canonical");
        let _ = tx.view();
    }
}

/// A small xorshift so the mutation run is deterministic and dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn mutated_vectors_never_panic() {
    let vectors = read_gz_json("ethers_transaction.json.gz");
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let sk = SecretKey::from_slice(&[3u8; 32]).unwrap();
    let mut runs = 0usize;
    for vector in vectors.as_array().unwrap().iter().step_by(7) {
        for key in ["unsignedLegacy", "unsignedEip155", "unsignedBerlin", "unsignedLondon", "signedLondon"] {
            let base = unhex(vector[key].as_str().unwrap());
            for _ in 0..40 {
                let mut bytes = base.clone();
                match rng.below(5) {
                    0 => {
                        let i = rng.below(bytes.len());
                        bytes[i] ^= 1 << rng.below(8);
                    }
                    1 => {
                        let i = rng.below(bytes.len());
                        bytes[i] = rng.next() as u8;
                    }
                    2 => bytes.truncate(rng.below(bytes.len())),
                    3 => {
                        let i = rng.below(bytes.len() + 1);
                        bytes.insert(i, rng.next() as u8);
                    }
                    _ => {
                        let i = rng.below(bytes.len());
                        bytes.remove(i);
                    }
                }
                check(&bytes);
                let _ = sign_transaction(&sk, &bytes);
                runs += 1;
            }
        }
    }
    assert_eq!(runs, 128 * 5 * 40);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check(&bytes);
    }

    #[test]
    fn random_typed_envelopes_never_panic(
        ty in prop_oneof![Just(0x01u8), Just(0x02u8), 0xc0u8..=0xff],
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut input = vec![ty];
        input.extend(bytes);
        check(&input);
    }

    #[test]
    fn random_typed_data_never_panics(text in ".{0,200}") {
        let _ = hash_typed_data(&text);
    }
}

/// Hand-picked hostile EIP-712 documents: odd type names, huge fixed arrays,
/// cycles, deep nesting. Each must come back as an error or a hash, promptly.
#[test]
fn hostile_typed_data_never_panics() {
    let domain_type = r#""EIP712Domain":[{"name":"name","type":"string"}]"#;
    let with = |types: &str, primary: &str, message: &str| {
        format!(
            r#"{{"types":{{{domain_type},{types}}},"primaryType":"{primary}","domain":{{"name":"x"}},"message":{message}}}"#
        )
    };
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let cases = [
        with(r#""A":[{"name":"v","type":"uint8[4294967295]"}]"#, "A", r#"{"v":[1]}"#),
        with(r#""A":[{"name":"v","type":"uint8[18446744073709551615]"}]"#, "A", r#"{"v":[]}"#),
        with(r#""A":[{"name":"v","type":"uint0"}]"#, "A", r#"{"v":1}"#),
        with(r#""A":[{"name":"v","type":"int257"}]"#, "A", r#"{"v":1}"#),
        with(r#""A":[{"name":"v","type":"bytes33"}]"#, "A", r#"{"v":"0x00"}"#),
        with(r#""A":[{"name":"v","type":"bytes0"}]"#, "A", r#"{"v":"0x"}"#),
        with(r#""A":[{"name":"b","type":"B"}],"B":[{"name":"a","type":"A"}]"#, "A", r#"{"b":{"a":{}}}"#),
        with(r#""A":[{"name":"a","type":"A[]"}]"#, "A", r#"{"a":[{"a":[{"a":[]}]}]}"#),
        with(
            r#""A":[{"name":"v","type":"uint256"}]"#,
            "A",
            r#"{"v":"0x1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"}"#,
        ),
        with(r#""A":[{"name":"v","type":"uint8"}]"#, "A", r#"{"v":256}"#),
        with(r#""A":[{"name":"v","type":"int8"}]"#, "A", r#"{"v":-129}"#),
        with(r#""A":[{"name":"v","type":"string"}]"#, "A", r#"{"v":1e400}"#),
        with(r#""A":[{"name":"","type":"string"}]"#, "A", r#"{"":"x"}"#),
        with(r#""":[{"name":"v","type":"string"}]"#, "", r#"{"v":"x"}"#),
        with(r#""A":[{"name":"v","type":"uint8[][][][][][][][][][][][][][][][]"}]"#, "A", r#"{"v":[[[[[[]]]]]]}"#),
        with(r#""A":[{"name":"v","type":"uint8"}]"#, "A", &deep),
        with(r#""A":[{"name":"v","type":"function"}]"#, "A", r#"{"v":"0x00"}"#),
        with(r#""A":[{"name":"v","type":"(uint8,uint8)"}]"#, "A", r#"{"v":[1,2]}"#),
    ];
    for json in &cases {
        let _ = hash_typed_data(json);
    }
}
