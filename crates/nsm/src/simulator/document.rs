//! The attestation document format, byte for byte as the NSM emits it.
//!
//! ```text
//! COSE_Sign1 (untagged) = [
//!   protected:   bstr(a1 01 38 22)      ; {1: -35}, alg ES384
//!   unprotected: {}                     ; empty map
//!   payload:     bstr(AttestationDocument)
//!   signature:   bstr(r || s)           ; 96 bytes, ECDSA P-384 over SHA-384
//! ]
//! AttestationDocument = {               ; definite-length map, keys in this order
//!   "module_id":   tstr,
//!   "digest":      "SHA384",
//!   "timestamp":   uint,                ; milliseconds since the Unix epoch
//!   "pcrs":        { 0: bstr .size 48, ..., 15: bstr .size 48 },
//!   "certificate": bstr,                ; DER leaf certificate
//!   "cabundle":    [bstr, ...],         ; DER [root, intermediates...]
//!   "public_key":  bstr / null,
//!   "user_data":   bstr / null,
//!   "nonce":       bstr / null,
//! }
//! ```
//! The signed bytes are the RFC 9052 `Sig_structure`:
//! `["Signature1", protected, h'', payload]`.
use ciborium::Value;

use crate::{Error, Pcr, PCR_COUNT};

/// `{1: -35}` encoded: the protected header of every NSM document.
pub const PROTECTED_HEADER: [u8; 4] = [0xa1, 0x01, 0x38, 0x22];

pub(crate) struct Payload<'a> {
    pub module_id: &'a str,
    pub timestamp_ms: u64,
    pub pcrs: &'a [Pcr; PCR_COUNT],
    pub certificate: &'a [u8],
    pub cabundle: [&'a [u8]; 2],
    pub public_key: Option<&'a [u8]>,
    pub user_data: Option<&'a [u8]>,
    pub nonce: Option<&'a [u8]>,
}

fn optional_bytes(value: Option<&[u8]>) -> Value {
    value.map_or(Value::Null, |bytes| Value::Bytes(bytes.to_vec()))
}

fn text(key: &str) -> Value {
    Value::Text(key.to_string())
}

fn encode(value: &Value) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out)
        .map_err(|e| Error::SimulatorCrypto { detail: format!("CBOR encoding failed: {e}") })?;
    Ok(out)
}

impl Payload<'_> {
    pub(crate) fn to_cbor(&self) -> Result<Vec<u8>, Error> {
        let pcrs =
            (0u64..).zip(self.pcrs.iter()).map(|(i, pcr)| (Value::from(i), Value::Bytes(pcr.to_vec()))).collect();
        let cabundle = self.cabundle.iter().map(|der| Value::Bytes(der.to_vec())).collect();
        let map = Value::Map(vec![
            (text("module_id"), text(self.module_id)),
            (text("digest"), text("SHA384")),
            (text("timestamp"), Value::from(self.timestamp_ms)),
            (text("pcrs"), Value::Map(pcrs)),
            (text("certificate"), Value::Bytes(self.certificate.to_vec())),
            (text("cabundle"), Value::Array(cabundle)),
            (text("public_key"), optional_bytes(self.public_key)),
            (text("user_data"), optional_bytes(self.user_data)),
            (text("nonce"), optional_bytes(self.nonce)),
        ]);
        encode(&map)
    }
}

/// The bytes an ES384 signature covers for `payload`.
pub(crate) fn sig_structure(payload: &[u8]) -> Result<Vec<u8>, Error> {
    encode(&Value::Array(vec![
        text("Signature1"),
        Value::Bytes(PROTECTED_HEADER.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]))
}

/// The untagged `COSE_Sign1` array around `payload` and its `signature`.
pub(crate) fn cose_sign1(payload: Vec<u8>, signature: Vec<u8>) -> Result<Vec<u8>, Error> {
    encode(&Value::Array(vec![
        Value::Bytes(PROTECTED_HEADER.to_vec()),
        Value::Map(Vec::new()),
        Value::Bytes(payload),
        Value::Bytes(signature),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_header_is_alg_es384() {
        let header = Value::Map(vec![(Value::from(1), Value::from(-35))]);
        assert_eq!(encode(&header).unwrap(), PROTECTED_HEADER);
    }

    #[test]
    fn sig_structure_layout() {
        let bytes = sig_structure(&[0xde, 0xad]).unwrap();
        let mut expected = vec![0x84, 0x6a];
        expected.extend_from_slice(b"Signature1");
        expected.extend_from_slice(&[0x44, 0xa1, 0x01, 0x38, 0x22, 0x40, 0x42, 0xde, 0xad]);
        assert_eq!(bytes, expected);
    }
}
