//! Every ethers.js vector: decode, re-encode byte for byte, sign byte for byte.
mod common;

use common::{read_gz_json, unhex};
use sentinel_eth::{
    address_from_public_key, decode_signed_transaction, decode_transaction, recover_transaction_signer,
    sign_transaction, Address, TxKind, U256,
};
use sentinel_signer::secp256k1::SecretKey;
use serde_json::Value;

/// ethers writes quantities as hex strings that may be `"0x"` (zero) or carry
/// leading zeros; nonces are plain JSON numbers. Absent means zero.
fn quantity(tx: &Value, key: &str) -> U256 {
    match tx.get(key) {
        None => U256::ZERO,
        Some(Value::Number(n)) => U256::from(n.as_u64().expect("u64 number")),
        Some(Value::String(s)) => {
            let digits = s.strip_prefix("0x").expect("0x prefix");
            if digits.is_empty() {
                U256::ZERO
            } else {
                U256::from_str_radix(digits, 16).expect("hex quantity")
            }
        }
        Some(other) => panic!("unexpected {key}: {other}"),
    }
}

fn small(tx: &Value, key: &str) -> u64 {
    u64::try_from(quantity(tx, key)).expect("fits u64")
}

const FORMS: [(&str, &str, TxKind); 4] = [
    ("unsignedLegacy", "signedLegacy", TxKind::Legacy),
    ("unsignedEip155", "signedEip155", TxKind::Eip155),
    ("unsignedBerlin", "signedBerlin", TxKind::Eip2930),
    ("unsignedLondon", "signedLondon", TxKind::Eip1559),
];

#[test]
fn all_ethers_vectors() {
    let vectors = read_gz_json("ethers_transaction.json.gz");
    let vectors = vectors.as_array().expect("array");
    assert_eq!(vectors.len(), 896);

    let mut signed = 0usize;
    let mut rejected_chain_zero = 0usize;
    for vector in vectors {
        let name = vector["name"].as_str().unwrap();
        let tx = &vector["transaction"];
        let secret = SecretKey::from_slice(&unhex(vector["privateKey"].as_str().unwrap())).unwrap();
        for (unsigned_key, signed_key, kind) in FORMS {
            let Some(unsigned_hex) = vector.get(unsigned_key).and_then(Value::as_str) else { continue };
            let unsigned = unhex(unsigned_hex);
            if unsigned.is_empty() {
                continue;
            }
            let chain_id = small(tx, "chainId");

            // ethers serialises an EIP-155 chain id of zero as the single byte
            // 0x00 (not the canonical empty string), and chain id 0 is not a
            // valid EIP-155 chain anyway: the strict decoder must refuse both.
            if kind == TxKind::Eip155 && chain_id == 0 {
                let err = decode_transaction(&unsigned).unwrap_err();
                assert_eq!(err.code(), "INTEGER_LEADING_ZERO", "{name} {unsigned_key}: {err}");
                assert!(err.message().starts_with("chainId:"), "{name}: {err}");
                assert_eq!(sign_transaction(&secret, &unsigned).unwrap_err().code(), "INTEGER_LEADING_ZERO");
                // The signature itself is still RFC 6979 over keccak(bytes) and must match
                // ethers byte for byte: r, s and v = 0 * 2 + 35 + y close the signed form.
                let expected = unhex(vector[signed_key].as_str().unwrap());
                let sig = secret.sign_digest(&sentinel_eth::keccak256(&unsigned));
                let stripped_r = strip_to_rlp(&sig.bytes[..32]);
                let stripped_s = strip_to_rlp(&sig.bytes[32..]);
                let mut want_tail = vec![35 + sig.recovery_id];
                want_tail.extend_from_slice(&stripped_r);
                want_tail.extend_from_slice(&stripped_s);
                assert!(expected.ends_with(&want_tail), "{name} {signed_key}: r, s, v differ from ethers");
                // A signed transaction claiming chain id 0 is refused too.
                let err = decode_signed_transaction(&expected).unwrap_err();
                assert_eq!(err.code(), "INVALID_SIGNATURE_V", "{name}: {err}");
                rejected_chain_zero += 1;
                continue;
            }

            let decoded = decode_transaction(&unsigned).unwrap_or_else(|e| panic!("{name} {unsigned_key}: {e}"));
            assert_eq!(decoded.kind, kind, "{name} {unsigned_key}");
            assert_eq!(decoded.encode_unsigned(), unsigned, "{name} {unsigned_key}: round trip");
            let expected = unhex(vector[signed_key].as_str().unwrap());
            let got = sign_transaction(&secret, &unsigned).unwrap_or_else(|e| panic!("{name} {unsigned_key}: {e}"));
            assert_eq!(got, expected, "{name} {signed_key}");

            // And back: the signed bytes decode to the same transaction and recover the signer.
            let (signer, recovered_tx) =
                recover_transaction_signer(&expected).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(signer, address_from_public_key(&secret.public_key()), "{name} {signed_key} signer");
            assert_eq!(recovered_tx, decoded, "{name} {signed_key} decoded");

            // Decoded fields equal the vector's description.
            let to = tx.get("to").and_then(Value::as_str).map(|s| Address::from_slice(&unhex(s)));
            assert_eq!(decoded.to, to, "{name} to");
            assert_eq!(decoded.nonce, small(tx, "nonce"), "{name} nonce");
            assert_eq!(decoded.gas_limit, small(tx, "gasLimit"), "{name} gasLimit");
            assert_eq!(decoded.value, quantity(tx, "value"), "{name} value");
            let data = tx.get("data").and_then(Value::as_str).map(unhex).unwrap_or_default();
            assert_eq!(decoded.data.as_ref(), &data[..], "{name} data");
            match kind {
                TxKind::Legacy => {
                    assert_eq!(decoded.chain_id, None);
                    assert_eq!(decoded.gas_price, Some(quantity(tx, "gasPrice")), "{name} gasPrice");
                }
                TxKind::Eip155 => {
                    assert_eq!(decoded.chain_id, Some(chain_id), "{name} chainId");
                    assert_eq!(decoded.gas_price, Some(quantity(tx, "gasPrice")), "{name} gasPrice");
                }
                TxKind::Eip2930 | TxKind::Eip1559 => {
                    // The generator fills an absent chainId in for typed forms;
                    // compare only what the vector states.
                    if tx.get("chainId").is_some() {
                        assert_eq!(decoded.chain_id, Some(chain_id), "{name} chainId");
                    }
                    if kind == TxKind::Eip2930 {
                        assert_eq!(decoded.gas_price, Some(quantity(tx, "gasPrice")), "{name} gasPrice");
                    } else {
                        assert_eq!(decoded.max_fee_per_gas, Some(quantity(tx, "maxFeePerGas")), "{name}");
                        assert_eq!(
                            decoded.max_priority_fee_per_gas,
                            Some(quantity(tx, "maxPriorityFeePerGas")),
                            "{name}"
                        );
                    }
                    let list = tx.get("accessList").and_then(Value::as_array).cloned().unwrap_or_default();
                    assert_eq!(decoded.access_list.len(), list.len(), "{name} accessList");
                    for (item, want) in decoded.access_list.iter().zip(&list) {
                        assert_eq!(item.address.as_slice(), &unhex(want["address"].as_str().unwrap())[..]);
                        let keys = want["storageKeys"].as_array().unwrap();
                        assert_eq!(item.storage_keys.len(), keys.len());
                        for (key, want) in item.storage_keys.iter().zip(keys) {
                            assert_eq!(key.as_slice(), &unhex(want.as_str().unwrap())[..]);
                        }
                    }
                }
            }

            // The view describes the same transaction.
            let view = decoded.view();
            assert_eq!(view.kind, kind.as_str());
            assert_eq!(view.signing_hash, common::hex0x(&sentinel_eth::keccak256(&unsigned)));
            signed += 1;
        }
    }
    // 896 × (legacy, Berlin, London) plus EIP-155 for the 495 with a non-zero chain id.
    assert_eq!(signed, 896 * 3 + 495);
    assert_eq!(rejected_chain_zero, 401);
}

/// RLP encoding of a 32-byte big-endian integer (leading zeros stripped).
fn strip_to_rlp(be: &[u8]) -> Vec<u8> {
    let first = be.iter().position(|b| *b != 0).unwrap_or(be.len());
    let digits = &be[first..];
    let mut out = Vec::new();
    if digits.len() == 1 && digits[0] < 0x80 {
        out.push(digits[0]);
    } else {
        out.push(0x80 + digits.len() as u8);
        out.extend_from_slice(digits);
    }
    out
}
