//! Test-vector helper, run by `test/vectors/hpke-import/generate.mjs` (never by the product).
//!
//! Reads `{ recipient_secret, cases: [{ principal, label, curve, purpose, secret_key }] }`
//! (hex `0x…`) on stdin and prints what `sentinel-import` itself produces for them:
//! `{ crate, recipient_public, cases: [{ info, rust_sealed: { enc, ciphertext } | null }] }`.
//! A case is sealed only when `seal_import` accepts it (32-byte key, valid for its curve).
//! All keys involved are test-only.
use std::io::Read;

use getrandom::SysRng;
use sentinel_import::rand_core::UnwrapErr;
use sentinel_import::{seal_import, Curve, ImportContext, ImportSecret, KeyPurpose};
use serde_json::{json, Value};

fn unhex(value: &Value) -> Vec<u8> {
    let text = value.as_str().expect("hex string");
    hex::decode(text.strip_prefix("0x").expect("0x prefix")).expect("hex")
}

fn to_hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).expect("stdin");
    let input: Value = serde_json::from_str(&input).expect("JSON input");
    let secret: [u8; 32] = unhex(&input["recipient_secret"]).try_into().expect("32-byte recipient secret");
    let recipient = ImportSecret::from_bytes(&secret);
    let mut rng = UnwrapErr(SysRng);
    let cases: Vec<Value> = input["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|case| {
            let text = |field: &str| case[field].as_str().unwrap_or_else(|| panic!("{field}: text")).to_string();
            let context = ImportContext {
                principal: text("principal"),
                label: text("label"),
                curve: Curve::from_name(&text("curve")).expect("curve"),
                purpose: KeyPurpose::from_name(&text("purpose")).expect("purpose"),
            };
            let key = unhex(&case["secret_key"]);
            let rust_sealed = <[u8; 32]>::try_from(key.as_slice())
                .ok()
                .and_then(|key| seal_import(&recipient.public(), &context, &key, &mut rng).ok())
                .map(|(enc, ciphertext)| json!({ "enc": to_hex(&enc), "ciphertext": to_hex(&ciphertext) }));
            json!({ "info": to_hex(&context.info()), "rust_sealed": rust_sealed })
        })
        .collect();
    let output = json!({
        "crate": format!("sentinel-import {}", env!("CARGO_PKG_VERSION")),
        "recipient_public": to_hex(&recipient.public()),
        "cases": cases,
    });
    println!("{}", serde_json::to_string(&output).expect("JSON output"));
}
