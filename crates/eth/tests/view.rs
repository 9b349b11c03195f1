//! The JSON view the bindings hand to JavaScript.
mod common;

use common::{l, s, unhex};
use sentinel_eth::decode_transaction;
use serde_json::json;

#[test]
fn eip155_view_json() {
    let raw = unhex("0xec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080");
    let view = serde_json::to_value(decode_transaction(&raw).unwrap().view()).unwrap();
    assert_eq!(
        view,
        json!({
            "kind": "eip155",
            "chainId": "1",
            "nonce": "9",
            "gasLimit": "21000",
            "value": "1000000000000000000",
            "gasPrice": "20000000000",
            "maxFeePerGas": null,
            "maxPriorityFeePerGas": null,
            "to": "0x3535353535353535353535353535353535353535",
            "data": "0x",
            "accessList": [],
            "signingHash": "0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53",
        })
    );
}

#[test]
fn eip1559_view_json_with_access_list_and_creation() {
    // chainId 1, nonce 0, tip 1, cap 2, gas 21000, to = creation, value 0,
    // data 0xABCD, accessList [[0x5aae…, [0x00…01]]].
    let mut key = [0u8; 32];
    key[31] = 1;
    let access = l(&[l(&[s(&unhex("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")), l(&[s(&key)])])]);
    let mut raw = vec![0x02];
    raw.extend(l(&[s(&[1]), s(&[]), s(&[1]), s(&[2]), s(&[0x52, 0x08]), s(&[]), s(&[]), s(&[0xab, 0xcd]), access]));

    let tx = decode_transaction(&raw).unwrap();
    assert_eq!(tx.encode_unsigned(), raw);
    let view = serde_json::to_value(tx.view()).unwrap();
    assert_eq!(view["kind"], "eip1559");
    assert_eq!(view["chainId"], "1");
    assert_eq!(view["gasPrice"], serde_json::Value::Null);
    assert_eq!(view["maxPriorityFeePerGas"], "1");
    assert_eq!(view["maxFeePerGas"], "2");
    assert_eq!(view["to"], serde_json::Value::Null);
    assert_eq!(view["data"], "0xabcd");
    assert_eq!(
        view["accessList"],
        json!([{
            "address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "storageKeys": ["0x0000000000000000000000000000000000000000000000000000000000000001"],
        }])
    );
}

#[test]
fn legacy_view_has_no_chain_id() {
    let to = unhex("fb6916095ca1df60bb79ce92ce3ea74c37c5d359");
    let raw = l(&[s(&[]), s(&[]), s(&[0x52, 0x08]), s(&to), s(&[]), s(&[])]);
    let view = serde_json::to_value(decode_transaction(&raw).unwrap().view()).unwrap();
    assert_eq!(view["kind"], "legacy");
    assert_eq!(view["chainId"], serde_json::Value::Null);
    assert_eq!(view["nonce"], "0");
    assert_eq!(view["gasPrice"], "0");
    assert_eq!(view["maxFeePerGas"], serde_json::Value::Null);
    // EIP-55 spec vector.
    assert_eq!(view["to"], "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359");
    assert_eq!(view["accessList"], json!([]));
}
