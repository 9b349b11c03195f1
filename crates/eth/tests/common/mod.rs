//! Helpers shared by the integration tests: hex and vector-file loading.
#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;

pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test/vectors/ethereum")
}

pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).expect("valid hex in test data")
}

pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

pub fn read_gz_json(name: &str) -> serde_json::Value {
    let file = std::fs::File::open(vectors_dir().join(name)).expect("vector file present");
    let mut text = String::new();
    flate2::read::GzDecoder::new(file).read_to_string(&mut text).expect("gzip");
    serde_json::from_str(&text).expect("json")
}

pub fn read_json(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(vectors_dir().join(name)).expect("vector file present");
    serde_json::from_str(&text).expect("json")
}

/// Test-only RLP builders, kept naive on purpose (independent of the crate).
pub fn header(short: u8, long: u8, len: usize) -> Vec<u8> {
    if len < 56 {
        vec![short + len as u8]
    } else {
        let be = (len as u64).to_be_bytes();
        let first = be.iter().position(|b| *b != 0).unwrap();
        let mut out = vec![long + (8 - first) as u8];
        out.extend_from_slice(&be[first..]);
        out
    }
}

pub fn s(bytes: &[u8]) -> Vec<u8> {
    if bytes.len() == 1 && bytes[0] < 0x80 {
        return bytes.to_vec();
    }
    let mut out = header(0x80, 0xb7, bytes.len());
    out.extend_from_slice(bytes);
    out
}

pub fn l(items: &[Vec<u8>]) -> Vec<u8> {
    let payload = items.concat();
    let mut out = header(0xc0, 0xf7, payload.len());
    out.extend_from_slice(&payload);
    out
}
