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
//!
//! The envelope and its `Sig_structure` come from `coset` (as in the
//! verifier); the payload map is written with `ciborium` directly, because
//! AWS's key order (not CBOR's canonical order) is part of the format.
use ciborium::Value;
use coset::CborSerializable;

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

/// The protected header of every NSM document: `alg` ES384 and nothing else.
fn protected_header() -> coset::Header {
    coset::HeaderBuilder::new().algorithm(coset::iana::Algorithm::ES384).build()
}

/// The untagged `COSE_Sign1` around `payload`: protected header `{1: -35}`,
/// empty unprotected header, and the raw `r || s` that `sign` returns for the
/// RFC 9052 `Sig_structure` it is handed. Built with `coset`, the library the
/// verifier (`sentinel-attestation`) parses it with.
pub(crate) fn cose_sign1(
    payload: Vec<u8>,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, Error>,
) -> Result<Vec<u8>, Error> {
    coset::CoseSign1Builder::new()
        .protected(protected_header())
        .payload(payload)
        .try_create_signature(b"", sign)?
        .build()
        .to_vec()
        .map_err(|e| Error::SimulatorCrypto { detail: format!("COSE_Sign1 encoding failed: {e}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_header_is_alg_es384() {
        let header = Value::Map(vec![(Value::from(1), Value::from(-35))]);
        assert_eq!(encode(&header).unwrap(), PROTECTED_HEADER);
        assert_eq!(protected_header().to_vec().unwrap(), PROTECTED_HEADER);
    }

    #[test]
    fn envelope_and_sig_structure_layout() {
        let mut signed = Vec::new();
        let document = cose_sign1(vec![0xde, 0xad], |tbs| {
            signed = tbs.to_vec();
            Ok(vec![0x55; 96])
        })
        .unwrap();
        let mut expected = vec![0x84, 0x6a];
        expected.extend_from_slice(b"Signature1");
        expected.extend_from_slice(&[0x44, 0xa1, 0x01, 0x38, 0x22, 0x40, 0x42, 0xde, 0xad]);
        assert_eq!(signed, expected);
        let mut envelope = vec![0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0x42, 0xde, 0xad, 0x58, 0x60];
        envelope.extend_from_slice(&[0x55; 96]);
        assert_eq!(document, envelope);
    }

    #[test]
    fn signing_errors_propagate() {
        let e = cose_sign1(vec![1], |_| Err(Error::SimulatorCrypto { detail: "no".into() })).unwrap_err();
        assert_eq!(e.code(), "SIMULATOR_CRYPTO");
    }
}
