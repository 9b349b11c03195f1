//! Shared loading of the real Nitro documents in test/vectors/nitro/ and of
//! their expected verdicts, so that every test file reads the same source of truth.
#![allow(dead_code)]

use std::path::PathBuf;

use base64::Engine;
use sentinel_attestation::UnixTime;
use serde_json::Value;

pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test/vectors/nitro")
}

pub struct Vector {
    pub file: String,
    pub bytes: Vec<u8>,
    pub expected: Value,
}

impl Vector {
    pub fn timestamp_ms(&self) -> u64 {
        self.expected["timestamp_ms"].as_u64().unwrap()
    }
    /// Inside the leaf's validity window: the document's time + 60 s.
    pub fn at(&self) -> UnixTime {
        UnixTime::from_millis(self.timestamp_ms() / 1000 * 1000 + 60_000)
    }
    pub fn signature_valid(&self) -> bool {
        self.expected["cose_signature_valid"].as_bool().unwrap()
    }
    pub fn debug(&self) -> bool {
        self.expected["pcr0_all_zero"].as_bool().unwrap()
    }
    pub fn not_before_ms(&self) -> u64 {
        iso_to_ms(self.expected["leaf_not_before"].as_str().unwrap())
    }
    pub fn not_after_ms(&self) -> u64 {
        iso_to_ms(self.expected["leaf_not_after"].as_str().unwrap())
    }
}

pub fn expected() -> Value {
    serde_json::from_slice(&std::fs::read(vectors_dir().join("EXPECTED.json")).unwrap()).unwrap()
}

pub fn vectors() -> Vec<Vector> {
    let expected = expected();
    expected["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|doc| {
            let file = doc["file"].as_str().unwrap().to_string();
            let raw = std::fs::read(vectors_dir().join(&file)).unwrap();
            let bytes = if doc["encoding"] == "base64" {
                base64::engine::general_purpose::STANDARD.decode(raw.trim_ascii()).unwrap()
            } else {
                raw
            };
            Vector { file, bytes, expected: doc.clone() }
        })
        .collect()
}

pub fn vector(file: &str) -> Vector {
    vectors().into_iter().find(|v| v.file == file).unwrap()
}

/// DER of a PEM certificate under test/vectors/nitro/.
pub fn pem_der(file: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(vectors_dir().join(file)).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

/// "YYYY-MM-DDTHH:MM:SSZ" to Unix ms (proleptic Gregorian, days-from-civil).
pub fn iso_to_ms(text: &str) -> u64 {
    let n = |a: usize, b: usize| text[a..b].parse::<i64>().unwrap();
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    let (hh, mm, ss) = (n(11, 13), n(14, 16), n(17, 19));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000).unwrap()
}
