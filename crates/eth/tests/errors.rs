//! One or more negative cases for every error code, checking code and field.
mod common;

use common::{l, s, unhex};
use sentinel_eth::{decode_transaction, hash_typed_data, sign_transaction, Error, MAX_TRANSACTION_BYTES};
use sentinel_signer::secp256k1::SecretKey;

fn typed(ty: u8, items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![ty];
    out.extend(l(items));
    out
}

const TO: [u8; 20] = [0x35; 20];

/// nonce, gasPrice, gasLimit, to, value, data
fn legacy_fields() -> Vec<Vec<u8>> {
    vec![s(&[9]), s(&[0x04, 0xa8, 0x17, 0xc8, 0x00]), s(&[0x52, 0x08]), s(&TO), s(&[1]), s(&[])]
}

/// chainId, nonce, maxPriority, maxFee, gasLimit, to, value, data, accessList
fn eip1559_fields() -> Vec<Vec<u8>> {
    vec![s(&[1]), s(&[]), s(&[1]), s(&[2]), s(&[0x52, 0x08]), s(&TO), s(&[]), s(&[]), l(&[])]
}

/// chainId, nonce, gasPrice, gasLimit, to, value, data, accessList
fn eip2930_fields() -> Vec<Vec<u8>> {
    vec![s(&[1]), s(&[]), s(&[1]), s(&[0x52, 0x08]), s(&TO), s(&[]), s(&[]), l(&[])]
}

fn with(mut fields: Vec<Vec<u8>>, index: usize, value: Vec<u8>) -> Vec<Vec<u8>> {
    fields[index] = value;
    fields
}

#[track_caller]
fn expect(input: &[u8], code: &str, field: &str) -> Error {
    let err = decode_transaction(input).expect_err("must be rejected");
    assert_eq!(err.code(), code, "{err}");
    assert!(err.message().starts_with(field), "message {:?} should name {field:?}", err.message());
    // Signing goes through the same decoder.
    let sk = SecretKey::from_slice(&[1u8; 32]).unwrap();
    assert_eq!(sign_transaction(&sk, input).unwrap_err().code(), code);
    err
}

#[test]
fn baselines_decode() {
    decode_transaction(&l(&legacy_fields())).unwrap();
    decode_transaction(&typed(2, &eip1559_fields())).unwrap();
    decode_transaction(&typed(1, &eip2930_fields())).unwrap();
    let mut eip155 = legacy_fields();
    eip155.extend([s(&[1]), s(&[]), s(&[])]);
    decode_transaction(&l(&eip155)).unwrap();
}

#[test]
fn empty_input() {
    expect(&[], "EMPTY_INPUT", "transaction");
}

#[test]
fn transaction_too_large() {
    // Find the data length that makes the whole encoding exactly the limit.
    let build = |n: usize| l(&with(legacy_fields(), 5, s(&vec![0xaa; n])));
    let mut n = MAX_TRANSACTION_BYTES - 64;
    while build(n).len() < MAX_TRANSACTION_BYTES {
        n += 1;
    }
    assert_eq!(build(n).len(), MAX_TRANSACTION_BYTES);
    decode_transaction(&build(n)).expect("exactly the limit is accepted");
    let err = expect(&build(n + 1), "TRANSACTION_TOO_LARGE", "transaction");
    assert!(err.message().contains("131072"));
    // Rejected before parsing: garbage of that size gets the same code.
    expect(&vec![0xffu8; MAX_TRANSACTION_BYTES + 1], "TRANSACTION_TOO_LARGE", "transaction");
}

#[test]
fn unsupported_transaction_type() {
    for ty in [0x00u8, 0x03, 0x04, 0x7e, 0x7f] {
        let err = expect(&typed(ty, &eip1559_fields()), "UNSUPPORTED_TRANSACTION_TYPE", "transaction");
        assert!(err.message().contains(&format!("0x{ty:02x}")));
    }
}

#[test]
fn expected_list() {
    expect(&s(b"a string, not a transaction"), "EXPECTED_LIST", "transaction");
    expect(&[0x80], "EXPECTED_LIST", "transaction");
    let mut body = vec![0x02];
    body.extend(s(&[1, 2, 3]));
    expect(&body, "EXPECTED_LIST", "EIP-1559 transaction");
    expect(&typed(2, &with(eip1559_fields(), 8, s(&[]))), "EXPECTED_LIST", "accessList");
    let entry_as_string = l(&[s(&TO)]);
    expect(&typed(2, &with(eip1559_fields(), 8, entry_as_string)), "EXPECTED_LIST", "accessList[0]");
    let keys_as_string = l(&[l(&[s(&TO), s(&[0x11; 32])])]);
    expect(&typed(1, &with(eip2930_fields(), 7, keys_as_string)), "EXPECTED_LIST", "accessList[0].storageKeys");
}

#[test]
fn expected_string() {
    expect(&l(&with(legacy_fields(), 0, l(&[]))), "EXPECTED_STRING", "nonce");
    expect(&l(&with(legacy_fields(), 3, l(&[]))), "EXPECTED_STRING", "to");
    expect(&l(&with(legacy_fields(), 5, l(&[s(&[1])]))), "EXPECTED_STRING", "data");
    let address_as_list = l(&[l(&[l(&[]), l(&[])])]);
    expect(&typed(2, &with(eip1559_fields(), 8, address_as_list)), "EXPECTED_STRING", "accessList[0].address");
    let key_as_list = l(&[l(&[s(&TO), l(&[l(&[])])])]);
    expect(&typed(2, &with(eip1559_fields(), 8, key_as_list)), "EXPECTED_STRING", "accessList[0].storageKeys[0]");
}

#[test]
fn rlp_truncated() {
    let full = l(&legacy_fields());
    expect(&full[..full.len() - 1], "RLP_TRUNCATED", "legacy transaction");
    expect(&[0x02], "RLP_TRUNCATED", "EIP-1559 transaction");
    expect(&[0xc3, 0x82, 0x01], "RLP_TRUNCATED", "legacy transaction");
    // An item that overruns its enclosing list: the list claims 2 bytes, the
    // nonce inside claims 3. (Had the input continued past the list, the
    // trailing bytes would be reported first: the outer frame is checked
    // before its contents.)
    expect(&[0xc2, 0x83, 0x01], "RLP_TRUNCATED", "nonce");
    // Long-form length bytes missing.
    expect(&[0xf9, 0x01], "RLP_TRUNCATED", "legacy transaction");
}

#[test]
fn non_canonical_rlp() {
    // A single byte below 0x80 wrapped as a one-byte string.
    expect(&l(&with(legacy_fields(), 0, vec![0x81, 0x05])), "NON_CANONICAL_RLP", "nonce");
    // Long-form string length for a short payload.
    expect(&l(&with(legacy_fields(), 5, vec![0xb8, 0x02, 0xaa, 0xbb])), "NON_CANONICAL_RLP", "data");
    // Long-form list length for a short list.
    let payload = legacy_fields().concat();
    let mut long_list = vec![0xf8, payload.len() as u8];
    long_list.extend_from_slice(&payload);
    expect(&long_list, "NON_CANONICAL_RLP", "legacy transaction");
    // Length with a leading zero byte.
    let mut data = vec![0xb9, 0x00, 0x40];
    data.extend_from_slice(&[0xaa; 0x40]);
    expect(&l(&with(legacy_fields(), 5, data)), "NON_CANONICAL_RLP", "data");
    // Inside the access list too.
    let bad_key = l(&[l(&[s(&TO), l(&[vec![0x81, 0x01]])])]);
    expect(&typed(2, &with(eip1559_fields(), 8, bad_key)), "NON_CANONICAL_RLP", "accessList[0].storageKeys[0]");
}

#[test]
fn integer_leading_zero() {
    expect(&l(&with(legacy_fields(), 0, vec![0x00])), "INTEGER_LEADING_ZERO", "nonce");
    expect(&l(&with(legacy_fields(), 1, s(&[0x00, 0x01]))), "INTEGER_LEADING_ZERO", "gasPrice");
    expect(&l(&with(legacy_fields(), 4, s(&[0x00; 32]))), "INTEGER_LEADING_ZERO", "value");
    expect(&typed(2, &with(eip1559_fields(), 0, vec![0x00])), "INTEGER_LEADING_ZERO", "chainId");
    let mut eip155 = legacy_fields();
    eip155.extend([vec![0x00], s(&[]), s(&[])]);
    let err = expect(&l(&eip155), "INTEGER_LEADING_ZERO", "chainId");
    assert!(err.message().contains("leading zero"));
}

#[test]
fn integer_overflow() {
    expect(&l(&with(legacy_fields(), 0, s(&[0xff; 9]))), "INTEGER_OVERFLOW", "nonce");
    expect(&l(&with(legacy_fields(), 2, s(&[0x01; 9]))), "INTEGER_OVERFLOW", "gasLimit");
    expect(&l(&with(legacy_fields(), 4, s(&[0x01; 33]))), "INTEGER_OVERFLOW", "value");
    expect(&typed(2, &with(eip1559_fields(), 0, s(&[0x01; 9]))), "INTEGER_OVERFLOW", "chainId");
    expect(&typed(2, &with(eip1559_fields(), 3, s(&[0x01; 33]))), "INTEGER_OVERFLOW", "maxFeePerGas");
    // The widest values that fit are accepted.
    let tx = decode_transaction(&l(&with(with(legacy_fields(), 0, s(&[0xff; 8])), 4, s(&[0xff; 32])))).unwrap();
    assert_eq!(tx.nonce, u64::MAX);
    assert_eq!(tx.value, sentinel_eth::U256::MAX);
}

#[test]
fn trailing_bytes() {
    let mut tx = l(&legacy_fields());
    tx.push(0x00);
    expect(&tx, "TRAILING_BYTES", "legacy transaction");
    let mut tx = typed(2, &eip1559_fields());
    tx.extend(l(&[]));
    let err = expect(&tx, "TRAILING_BYTES", "EIP-1559 transaction");
    assert!(err.message().contains("1 trailing bytes"));
}

#[test]
fn wrong_field_count() {
    for n in [0usize, 5, 7, 8, 10] {
        let mut fields = legacy_fields();
        fields.resize(n, s(&[]));
        let err = expect(&l(&fields), "WRONG_FIELD_COUNT", "legacy transaction");
        assert!(err.message().contains(&format!("found {n} fields")), "{err}");
    }
    let mut fields = eip2930_fields();
    fields.push(s(&[]));
    let err = expect(&typed(1, &fields), "WRONG_FIELD_COUNT", "EIP-2930 transaction");
    assert!(err.message().contains("found 9 fields, expected 8"), "{err}");
    // A signed EIP-1559 transaction is not an unsigned one.
    let mut fields = eip1559_fields();
    fields.extend([s(&[]), s(&[1; 32]), s(&[2; 32])]);
    let err = expect(&typed(2, &fields), "WRONG_FIELD_COUNT", "EIP-1559 transaction");
    assert!(err.message().contains("found 12 fields, expected 9"), "{err}");
}

#[test]
fn invalid_to_address() {
    for len in [1usize, 19, 21, 32] {
        expect(&l(&with(legacy_fields(), 3, s(&vec![0x42; len]))), "INVALID_TO_ADDRESS", "to");
    }
    expect(&typed(2, &with(eip1559_fields(), 5, s(&[0x42; 19]))), "INVALID_TO_ADDRESS", "to");
    // Empty is contract creation.
    assert_eq!(decode_transaction(&l(&with(legacy_fields(), 3, s(&[])))).unwrap().to, None);
}

#[test]
fn invalid_eip155_tail() {
    let tail = |chain: Vec<u8>, r: Vec<u8>, sv: Vec<u8>| {
        let mut fields = legacy_fields();
        fields.extend([chain, r, sv]);
        l(&fields)
    };
    expect(&tail(s(&[]), s(&[]), s(&[])), "INVALID_EIP155_TAIL", "chainId");
    expect(&tail(s(&[1]), s(&[1]), s(&[])), "INVALID_EIP155_TAIL", "r, s");
    expect(&tail(s(&[1]), s(&[]), s(&[1])), "INVALID_EIP155_TAIL", "r, s");
    // Feeding a signed legacy transaction back in is refused.
    let sk = SecretKey::from_slice(&[7u8; 32]).unwrap();
    let signed = sign_transaction(&sk, &l(&legacy_fields())).unwrap();
    expect(&signed, "INVALID_EIP155_TAIL", "r, s");
}

#[test]
fn invalid_access_list() {
    let cases: [(Vec<u8>, &str); 5] = [
        (l(&[l(&[s(&[0x11; 19]), l(&[])])]), "accessList[0].address"),
        (l(&[l(&[s(&TO), l(&[])]), l(&[s(&TO), l(&[s(&[0x22; 31])])])]), "accessList[1].storageKeys[0]"),
        (l(&[l(&[s(&TO), l(&[s(&[0x22; 32]), s(&[0x22; 33])])])]), "accessList[0].storageKeys[1]"),
        (l(&[l(&[s(&TO)])]), "accessList[0]"),
        (l(&[l(&[s(&TO), l(&[]), l(&[])])]), "accessList[0]"),
    ];
    for (list, field) in cases {
        expect(&typed(2, &with(eip1559_fields(), 8, list.clone())), "INVALID_ACCESS_LIST", field);
        expect(&typed(1, &with(eip2930_fields(), 7, list)), "INVALID_ACCESS_LIST", field);
    }
}

#[test]
fn signer_errors_pass_through() {
    let err: Error = SecretKey::from_slice(&[0u8; 32]).unwrap_err().into();
    assert_eq!(err.code(), "INVALID_SECRET_KEY");
    assert!(err.to_string().starts_with("INVALID_SECRET_KEY: "));
}

const DOMAIN_TYPE: &str = r#"[{"name":"name","type":"string"},{"name":"chainId","type":"uint256"}]"#;

fn doc(domain_type: Option<&str>, domain: &str, message: &str) -> String {
    let domain_entry = domain_type.map(|t| format!(r#""EIP712Domain":{t},"#)).unwrap_or_default();
    format!(
        r#"{{"types":{{{domain_entry}"Note":[{{"name":"text","type":"string"}},{{"name":"who","type":"address"}}]}},"primaryType":"Note","domain":{domain},"message":{message}}}"#
    )
}

const DOMAIN: &str = r#"{"name":"Sentinel","chainId":1}"#;
const MESSAGE: &str = r#"{"text":"hi","who":"0x3535353535353535353535353535353535353535"}"#;

#[track_caller]
fn expect_typed(json: &str, code: &str) {
    let err = hash_typed_data(json).expect_err("must be rejected");
    assert_eq!(err.code(), code, "{err}");
}

#[test]
fn typed_data_baseline() {
    hash_typed_data(&doc(Some(DOMAIN_TYPE), DOMAIN, MESSAGE)).unwrap();
}

#[test]
fn invalid_typed_data() {
    expect_typed("", "INVALID_TYPED_DATA");
    expect_typed("{not json", "INVALID_TYPED_DATA");
    expect_typed("[]", "INVALID_TYPED_DATA");
    expect_typed("42", "INVALID_TYPED_DATA");
    expect_typed(r#"{"types":{},"domain":{},"message":{}}"#, "INVALID_TYPED_DATA");
    expect_typed(&doc(Some(DOMAIN_TYPE), "[]", MESSAGE), "INVALID_TYPED_DATA");
    expect_typed(&doc(Some(DOMAIN_TYPE), r#"{"name":"x","chainId":"not a number"}"#, MESSAGE), "INVALID_TYPED_DATA");
    expect_typed(r#"{"types":[],"primaryType":"Note","domain":{},"message":{}}"#, "INVALID_TYPED_DATA");
}

#[test]
fn typed_data_domain_mismatch() {
    // No declared EIP712Domain.
    expect_typed(&doc(None, DOMAIN, MESSAGE), "TYPED_DATA_DOMAIN_MISMATCH");
    // Declared type omits a key the domain has (the chain id would be shown but not signed).
    let name_only = r#"[{"name":"name","type":"string"}]"#;
    expect_typed(&doc(Some(name_only), DOMAIN, MESSAGE), "TYPED_DATA_DOMAIN_MISMATCH");
    // Declared type has a field the domain lacks.
    let with_version =
        r#"[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"}]"#;
    expect_typed(&doc(Some(with_version), DOMAIN, MESSAGE), "TYPED_DATA_DOMAIN_MISMATCH");
    // Non-canonical order.
    let reordered = r#"[{"name":"chainId","type":"uint256"},{"name":"name","type":"string"}]"#;
    expect_typed(&doc(Some(reordered), DOMAIN, MESSAGE), "TYPED_DATA_DOMAIN_MISMATCH");
    // A domain key outside the EIP-712 set.
    expect_typed(
        &doc(Some(DOMAIN_TYPE), r#"{"name":"Sentinel","chainId":1,"extra":"x"}"#, MESSAGE),
        "TYPED_DATA_DOMAIN_MISMATCH",
    );
}

#[test]
fn typed_data_not_hashable() {
    expect_typed(&doc(Some(DOMAIN_TYPE), DOMAIN, r#"{"text":"hi","who":"not an address"}"#), "TYPED_DATA_NOT_HASHABLE");
    expect_typed(&doc(Some(DOMAIN_TYPE), DOMAIN, r#"{"text":"hi"}"#), "TYPED_DATA_NOT_HASHABLE");
    let unknown_primary =
        doc(Some(DOMAIN_TYPE), DOMAIN, MESSAGE).replace(r#""primaryType":"Note""#, r#""primaryType":"Nope""#);
    expect_typed(&unknown_primary, "TYPED_DATA_NOT_HASHABLE");
    let bad_type = doc(Some(DOMAIN_TYPE), DOMAIN, MESSAGE).replace(r#""type":"address""#, r#""type":"uint7""#);
    let err = hash_typed_data(&bad_type).unwrap_err();
    assert!(matches!(err.code(), "TYPED_DATA_NOT_HASHABLE" | "INVALID_TYPED_DATA"), "{err}");
}

#[test]
fn eip155_spec_bytes_still_fine() {
    let raw = unhex("0xec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080");
    decode_transaction(&raw).unwrap();
}
