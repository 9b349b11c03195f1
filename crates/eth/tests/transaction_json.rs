//! JSON transaction objects -> unsigned RLP (`encode_transaction_json`): every
//! ethers.js vector's object encodes to each of its unsigned serialisations,
//! and each malformed object is refused with `INVALID_TRANSACTION_JSON` and
//! a message that names the field.
mod common;

use common::{read_gz_json, unhex};
use proptest::prelude::*;
use sentinel_eth::{decode_transaction, encode_transaction_json, transaction_from_json, TxKind, U256};
use serde_json::{json, Map, Value};

/// The vector object restricted to the fields of one form. The generator
/// signs typed forms with chain id 1 when the object has none; the encoder
/// asks for an explicit one, so the test supplies that 1.
fn form(tx: &Value, drop: &[&str], typed: bool) -> Map<String, Value> {
    let mut obj = tx.as_object().unwrap().clone();
    for key in drop {
        obj.remove(*key);
    }
    if typed && !obj.contains_key("chainId") {
        obj.insert("chainId".into(), json!(1));
    }
    obj
}

fn encode(obj: &Map<String, Value>) -> Result<Vec<u8>, sentinel_eth::Error> {
    encode_transaction_json(&Value::Object(obj.clone()).to_string())
}

fn with(obj: &Map<String, Value>, key: &str, value: Value) -> Map<String, Value> {
    let mut obj = obj.clone();
    obj.insert(key.into(), value);
    obj
}

#[test]
fn every_ethers_vector_object_encodes_to_its_unsigned_serialisations() {
    let vectors = read_gz_json("ethers_transaction.json.gz");
    let vectors = vectors.as_array().expect("array");
    assert_eq!(vectors.len(), 896);
    let mut counts = [0usize; 5];
    for vector in vectors {
        let name = vector["name"].as_str().unwrap();
        let tx = &vector["transaction"];
        let expect = |key: &str| unhex(vector[key].as_str().unwrap());
        let chain_zero = match tx.get("chainId") {
            None => true,
            Some(c) => c.as_str().unwrap().trim_start_matches("0x").trim_start_matches('0').is_empty(),
        };

        // Legacy (pre-EIP-155): inferred, and with an explicit type 0 in each spelling.
        let legacy = form(tx, &["chainId", "maxFeePerGas", "maxPriorityFeePerGas", "accessList"], false);
        assert_eq!(encode(&legacy).unwrap(), expect("unsignedLegacy"), "{name} legacy");
        for t in [json!(0), json!("0x0"), json!("0x00"), json!("legacy")] {
            assert_eq!(encode(&with(&legacy, "type", t)).unwrap(), expect("unsignedLegacy"), "{name} legacy typed");
        }
        counts[0] += 1;

        // EIP-155: the same with the chain id (zero is refused: pre-EIP-155 is spelled by omitting it).
        let eip155 = form(tx, &["maxFeePerGas", "maxPriorityFeePerGas", "accessList"], false);
        if chain_zero {
            if tx.get("chainId").is_some() {
                let e = encode(&eip155).unwrap_err();
                assert_eq!(e.code(), "INVALID_TRANSACTION_JSON", "{name}: {e}");
                assert!(e.message().starts_with("chainId:"), "{name}: {e}");
                counts[1] += 1;
            }
        } else {
            assert_eq!(encode(&eip155).unwrap(), expect("unsignedEip155"), "{name} eip155");
            assert_eq!(encode(&with(&eip155, "type", json!(0))).unwrap(), expect("unsignedEip155"), "{name}");
            counts[2] += 1;
        }

        // EIP-2930: explicit type; inferred too when the object has an access list.
        let berlin = form(tx, &["maxFeePerGas", "maxPriorityFeePerGas"], true);
        assert_eq!(encode(&with(&berlin, "type", json!(1))).unwrap(), expect("unsignedBerlin"), "{name} berlin");
        assert_eq!(encode(&with(&berlin, "type", json!("0x1"))).unwrap(), expect("unsignedBerlin"), "{name}");
        if berlin.contains_key("accessList") {
            assert_eq!(encode(&berlin).unwrap(), expect("unsignedBerlin"), "{name} berlin inferred");
        }
        counts[3] += 1;

        // EIP-1559: explicit type; inferred when a fee field is present.
        let london = form(tx, &["gasPrice"], true);
        assert_eq!(encode(&with(&london, "type", json!(2))).unwrap(), expect("unsignedLondon"), "{name} london");
        assert_eq!(encode(&with(&london, "type", json!("eip1559"))).unwrap(), expect("unsignedLondon"), "{name}");
        if london.contains_key("maxFeePerGas") || london.contains_key("maxPriorityFeePerGas") {
            assert_eq!(encode(&london).unwrap(), expect("unsignedLondon"), "{name} london inferred");
        }
        counts[4] += 1;
    }
    // 896 objects; the 495 with a non-zero chain id have an EIP-155 form (as in ethers_vectors.rs),
    // 384 have no chain id and 17 state a zero one.
    assert_eq!(counts, [896, 17, 495, 896, 896]);
}

#[test]
fn numbers_in_every_spelling_and_aliases() {
    let base = r#""chainId": 1, "to": "0xd8da6bf26964af9d7eed9e03e53415d37aa96045", "maxFeePerGas": "0x6fc23ac00", "maxPriorityFeePerGas": "0x59682f00", "gas": 21000"#;
    let want = encode_transaction_json(&format!(r#"{{ {base}, "value": "0x2386f26fc10000" }}"#)).unwrap();
    // The transaction of enclave/tests/server.rs (UNSIGNED_TX), from its JSON object.
    assert_eq!(
        want,
        unhex("02ef01808459682f008506fc23ac0082520894d8da6bf26964af9d7eed9e03e53415d37aa96045872386f26fc1000080c0")
    );
    for value in [r#""10000000000000000""#, "10000000000000000", r#""0x002386f26fc10000""#] {
        let got = encode_transaction_json(&format!(r#"{{ {base}, "value": {value} }}"#)).unwrap();
        assert_eq!(got, want, "value {value}");
    }
    // Checksummed, upper-case, `from` (checked, not encoded), nulls, gasLimit, input, an empty access list.
    let same = [
        r#"{ "type": "0x2", "chainId": "0x1", "nonce": null, "to": "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045", "from": "0x0000000000000000000000000000000000000001", "maxFeePerGas": "30000000000", "maxPriorityFeePerGas": 1500000000, "gasLimit": "0x5208", "gas": 21000, "value": "0x2386f26fc10000", "input": "0x", "gasPrice": null, "accessList": [] }"#,
        r#"{ "type": 2, "chainId": 1, "to": "0xD8DA6BF26964AF9D7EED9E03E53415D37AA96045", "maxFeePerGas": "0x6FC23AC00", "maxPriorityFeePerGas": "0x59682f00", "gas": "21000", "value": "0x2386f26fc10000", "data": "0x", "input": "0x" }"#,
    ];
    for json in same {
        assert_eq!(encode_transaction_json(json).unwrap(), want, "{json}");
    }
    // Contract creation, data, access list, EIP-155.
    let tx = transaction_from_json(
        r#"{ "chainId": 5, "nonce": 7, "gasPrice": "0x1", "gasLimit": 100000, "data": "0x6001AbCd", "to": null }"#,
    )
    .unwrap();
    assert_eq!((tx.kind, tx.to, tx.chain_id, tx.nonce), (TxKind::Eip155, None, Some(5), 7));
    assert_eq!(tx.data.as_ref(), &[0x60, 0x01, 0xab, 0xcd]);
    let tx = transaction_from_json(
        r#"{ "chainId": 1, "accessList": [{ "address": "0x0000000000000000000000000000000000000002", "storageKeys": ["0x0000000000000000000000000000000000000000000000000000000000000003"] }] }"#,
    )
    .unwrap();
    assert_eq!(tx.kind, TxKind::Eip2930);
    assert_eq!(tx.access_list[0].storage_keys[0].as_slice()[31], 3);
    assert_eq!(decode_transaction(&tx.encode_unsigned()).unwrap(), tx);
    let max = format!(r#"{{ "chainId": 1, "maxFeePerGas": "0x{}", "value": "{}" }}"#, "f".repeat(64), U256::MAX);
    let tx = transaction_from_json(&max).unwrap();
    assert_eq!((tx.max_fee_per_gas, tx.value), (Some(U256::MAX), U256::MAX));
}

#[test]
fn malformed_objects_are_refused_naming_the_field() {
    let cases: &[(&str, &str)] = &[
        ("not json", "transaction:"),
        ("[]", "transaction: must be a JSON object"),
        (r#"{ "to": "0x00", "to": "0x01" }"#, "duplicate key `to`"),
        (r#"{ "nonce": 1, "hash": "0x" }"#, "hash: not a field"),
        (r#"{ "type": 3, "chainId": 1 }"#, "type:"),
        (r#"{ "type": "0x4", "chainId": 1 }"#, "type:"),
        (r#"{ "type": "eip4844", "chainId": 1 }"#, "type:"),
        (r#"{ "type": 0, "maxFeePerGas": 1 }"#, "maxFeePerGas: not a field of legacy"),
        (r#"{ "type": 0, "accessList": [] }"#, "accessList: not a field of legacy"),
        (r#"{ "type": 1, "chainId": 1, "maxPriorityFeePerGas": 1 }"#, "maxPriorityFeePerGas: not a field of EIP-2930"),
        (r#"{ "chainId": 1, "maxFeePerGas": 2, "gasPrice": 1 }"#, "gasPrice: not a field of EIP-1559"),
        (r#"{ "maxFeePerGas": 1 }"#, "chainId: required"),
        (r#"{ "type": 1 }"#, "chainId: required"),
        (r#"{ "chainId": 0 }"#, "chainId: must not be zero"),
        (r#"{ "chainId": "0x10000000000000000" }"#, "chainId:"),
        (r#"{ "nonce": "0x10000000000000000" }"#, "nonce: 18446744073709551616 does not fit 64 bits"),
        (r#"{ "gas": -1 }"#, "gas:"),
        (r#"{ "gasLimit": 1.5 }"#, "gasLimit:"),
        (r#"{ "gas": 1, "gasLimit": 2 }"#, "gas, gasLimit: both given"),
        (r#"{ "data": "0x01", "input": "0x02" }"#, "data, input: both given"),
        (r#"{ "value": "0x1g" }"#, "value:"),
        (r#"{ "value": "12a" }"#, "value:"),
        (r#"{ "value": "" }"#, "value:"),
        (r#"{ "value": " 1" }"#, "value:"),
        (r#"{ "value": true }"#, "value: must be a number or a string"),
        (r#"{ "chainId": 1, "maxFeePerGas": "0x1", "maxPriorityFeePerGas": "0x2" }"#, "maxPriorityFeePerGas:"),
        ("{ \"value\": \"0x1", "transaction:"),
        (r#"{ "data": "01" }"#, "data: must start with 0x"),
        (r#"{ "data": "0x012" }"#, "data: odd number"),
        (r#"{ "data": "0xzz" }"#, "data: not hex"),
        (r#"{ "data": 1 }"#, "data: must be a 0x hex string"),
        (r#"{ "to": "0x1234" }"#, "to: must be 20 bytes, found 2"),
        (r#"{ "to": "" }"#, "to: must start with 0x"),
        (r#"{ "to": "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96046" }"#, "to:"),
        (r#"{ "from": "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96046" }"#, "from:"),
        (r#"{ "chainId": 1, "accessList": {} }"#, "accessList: must be an array"),
        (
            r#"{ "chainId": 1, "accessList": [["0x0000000000000000000000000000000000000002", []]] }"#,
            "accessList[0]: must be an object",
        ),
        (r#"{ "chainId": 1, "accessList": [{ "storageKeys": [] }] }"#, "accessList[0].address: missing"),
        (
            r#"{ "chainId": 1, "accessList": [{ "address": "0x0000000000000000000000000000000000000002" }] }"#,
            "accessList[0].storageKeys: missing",
        ),
        (
            r#"{ "chainId": 1, "accessList": [{ "address": "0x0000000000000000000000000000000000000002", "storageKeys": ["0x01"] }] }"#,
            "accessList[0].storageKeys[0]: must be 32 bytes",
        ),
        (
            r#"{ "chainId": 1, "accessList": [{ "address": "0x0000000000000000000000000000000000000002", "storageKeys": [], "x": 1 }] }"#,
            "accessList[0].x:",
        ),
    ];
    for (json, needle) in cases {
        let e = encode_transaction_json(json).unwrap_err();
        assert_eq!(e.code(), "INVALID_TRANSACTION_JSON", "{json}: {e}");
        assert!(e.message().contains(needle), "{json}: `{needle}` not in `{}`", e.message());
    }
    // Too much JSON, and an object whose encoding exceeds the decoder's cap.
    let huge = format!(r#"{{ "data": "0x{}" }}"#, "00".repeat(sentinel_eth::MAX_TRANSACTION_JSON_BYTES));
    assert_eq!(encode_transaction_json(&huge).unwrap_err().code(), "INVALID_TRANSACTION_JSON");
    let big = format!(r#"{{ "data": "0x{}" }}"#, "00".repeat(sentinel_eth::MAX_TRANSACTION_BYTES));
    assert_eq!(encode_transaction_json(&big).unwrap_err().code(), "TRANSACTION_TOO_LARGE");
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "(0x)?[0-9a-fA-F]{0,70}".prop_map(Value::from),
        "[0-9]{0,80}".prop_map(Value::from),
        Just(json!("legacy")),
        Just(json!([{ "address": "0x0000000000000000000000000000000000000002", "storageKeys": [] }])),
        Just(json!([])),
        Just(json!({})),
    ]
}

proptest! {
    /// Arbitrary text and arbitrary objects never panic; whatever is accepted decodes
    /// back to the same transaction.
    #[test]
    fn hostile_input_never_panics(text in ".{0,200}", fields in proptest::collection::vec(
        (prop::sample::select(vec![
            "type", "chainId", "nonce", "to", "from", "value", "data", "input", "gas", "gasLimit",
            "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "accessList", "other",
        ]), scalar()),
        0..8,
    )) {
        let _ = encode_transaction_json(&text);
        let obj: Map<String, Value> = fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        if let Ok(bytes) = encode(&obj) {
            let tx = decode_transaction(&bytes).unwrap();
            prop_assert_eq!(tx.encode_unsigned(), bytes);
            prop_assert_eq!(transaction_from_json(&Value::Object(obj).to_string()).unwrap(), tx);
        }
    }
}
