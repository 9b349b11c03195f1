//! The COSE_Sign1 envelope (RFC 9052) as the Nitro Secure Module emits it:
//! untagged (tag 18 accepted too), protected header exactly `{1: -35}`
//! (ES384), an empty unprotected header, and a 96-byte raw `r || s`
//! signature. Only ES384 is accepted so that no algorithm negotiation can be
//! smuggled into the unsigned parts of the envelope; the signature is
//! verified over the RFC 9052 Sig_structure with the leaf certificate's key.
//!
//! The envelope is parsed, and its Sig_structure built, by `coset` (the same
//! library the NSM simulator builds documents with). `cbor::decode_exact`
//! runs first and is stricter than `coset` on the bytes (one item, no trailing
//! bytes, no duplicate keys at any depth, shallow nesting); when `coset`
//! refuses a structure, [`diagnose`] names the part with the same codes as
//! the checks below, so each kind of defect keeps one stable code.

use ciborium::value::Value;
use coset::{iana, AsCborValue, CborSerializable, HeaderBuilder};
use p384::ecdsa::signature::Verifier;
use p384::ecdsa::{Signature, VerifyingKey};

use crate::cbor;
use crate::error::{err, Error, ErrorCode};

/// CBOR tag of COSE_Sign1.
const COSE_SIGN1_TAG: u64 = <coset::CoseSign1 as coset::TaggedCborSerializable>::TAG;
/// Raw `r || s` of P-384.
const SIGNATURE_LEN: usize = 96;

/// A parsed COSE_Sign1 whose payload is present (not detached).
pub(crate) struct CoseSign1 {
    inner: coset::CoseSign1,
}

impl CoseSign1 {
    /// The attestation payload (a byte string, checked by [`decode`]).
    pub(crate) fn payload(&self) -> &[u8] {
        self.inner.payload.as_deref().unwrap_or_default()
    }
}

/// Parses the document into a COSE_Sign1.
pub(crate) fn decode(document: &[u8]) -> Result<CoseSign1, Error> {
    let value = match cbor::decode_exact(document, "COSE_Sign1")? {
        Value::Tag(COSE_SIGN1_TAG, inner) => *inner,
        Value::Tag(tag, _) => return err(ErrorCode::InvalidCoseStructure, format!("COSE_Sign1: unexpected tag {tag}")),
        other => other,
    };
    let inner = coset::CoseSign1::from_cbor_value(value.clone()).map_err(|e| diagnose(&value, &e))?;
    if inner.payload.is_none() {
        // coset accepts a detached (nil) payload; an attestation document never has one.
        return err(ErrorCode::InvalidCoseStructure, "COSE_Sign1: payload must be a byte string");
    }
    Ok(CoseSign1 { inner })
}

/// Protected header exactly `{1: -35}`; unprotected header empty (nothing
/// unauthenticated may influence verification).
pub(crate) fn check_header(cose: &CoseSign1) -> Result<(), Error> {
    let protected = cose.inner.protected.original_data.as_deref().unwrap_or_default();
    // coset reads an empty bstr as an empty map and allows deep nesting; the
    // protected bytes must be one strict CBOR item like everything else.
    cbor::decode_exact(protected, "protected header")?;
    if cose.inner.protected.header != HeaderBuilder::new().algorithm(iana::Algorithm::ES384).build() {
        return err(ErrorCode::InvalidProtectedHeader, "protected header must be exactly {1: -35} (ES384)");
    }
    // Every header parameter coset reads is non-empty, so an empty parsed
    // header is an empty map.
    if !cose.inner.unprotected.is_empty() {
        return err(ErrorCode::InvalidUnprotectedHeader, "unprotected header must be empty");
    }
    Ok(())
}

/// Verifies the ES384 signature over `["Signature1", protected, h'', payload]`
/// (coset's Sig_structure, built from the protected bytes as received).
/// High-S signatures are valid ECDSA and are accepted (Nitro emits them).
pub(crate) fn verify_signature(cose: &CoseSign1, leaf_key: &VerifyingKey) -> Result<(), Error> {
    cose.inner.verify_signature(b"", |signature, signed| {
        if signature.len() != SIGNATURE_LEN {
            return err(
                ErrorCode::SignatureInvalid,
                format!("signature must be {SIGNATURE_LEN} bytes (r || s), got {}", signature.len()),
            );
        }
        let signature = Signature::from_slice(signature)
            .map_err(|_| Error::new(ErrorCode::SignatureInvalid, "signature: r or s out of range"))?;
        leaf_key.verify(signed, &signature).map_err(|_| {
            Error::new(ErrorCode::SignatureInvalid, "COSE signature does not verify with the leaf certificate key")
        })
    })
}

/// Why coset refused `value`, as the code of the part at fault: the shape
/// (`INVALID_COSE_STRUCTURE`), then the protected header bytes (CBOR codes,
/// then `INVALID_PROTECTED_HEADER`), then the unprotected header
/// (`INVALID_UNPROTECTED_HEADER`).
fn diagnose(value: &Value, cause: &coset::CoseError) -> Error {
    let structure = |what: &str| Error::new(ErrorCode::InvalidCoseStructure, format!("COSE_Sign1: {what}"));
    let Value::Array(items) = value else {
        return structure("not an array");
    };
    let [protected, unprotected, payload, signature] = items.as_slice() else {
        return structure("array must have 4 items");
    };
    let (Value::Bytes(protected), Value::Map(unprotected)) = (protected, unprotected) else {
        return structure("protected header must be a byte string and unprotected header a map");
    };
    if !matches!((payload, signature), (Value::Bytes(_), Value::Bytes(_))) {
        return structure("payload and signature must be byte strings");
    }
    match cbor::decode_exact(protected, "protected header") {
        Err(e) => return e,
        Ok(Value::Map(_)) => {}
        Ok(_) => return Error::new(ErrorCode::InvalidProtectedHeader, "protected header must be a map"),
    }
    if coset::Header::from_slice(protected).is_err() {
        return Error::new(ErrorCode::InvalidProtectedHeader, format!("protected header: {cause}"));
    }
    if !unprotected.is_empty() {
        return Error::new(ErrorCode::InvalidUnprotectedHeader, format!("unprotected header must be empty ({cause})"));
    }
    structure(&cause.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The NSM's envelope around `payload`, with `protected` and `unprotected` swapped in.
    fn envelope(protected: &[u8], unprotected: Value, payload: Value) -> Vec<u8> {
        cbor::encode(&Value::Array(vec![
            Value::Bytes(protected.to_vec()),
            unprotected,
            payload,
            Value::Bytes(vec![0; SIGNATURE_LEN]),
        ]))
    }

    fn code(doc: &[u8]) -> ErrorCode {
        decode(doc).and_then(|c| check_header(&c)).unwrap_err().kind()
    }

    const ES384: [u8; 4] = [0xa1, 0x01, 0x38, 0x22];

    #[test]
    fn accepts_the_nsm_envelope_and_builds_the_rfc_9052_sig_structure() {
        let doc = envelope(&ES384, Value::Map(vec![]), Value::Bytes(vec![0xde, 0xad]));
        let cose = decode(&doc).unwrap();
        check_header(&cose).unwrap();
        assert_eq!(cose.payload(), [0xde, 0xad]);
        let mut expected = vec![0x84, 0x6a];
        expected.extend_from_slice(b"Signature1");
        expected.extend_from_slice(&[0x44, 0xa1, 0x01, 0x38, 0x22, 0x40, 0x42, 0xde, 0xad]);
        assert_eq!(cose.inner.tbs_data(b""), expected);
        // Tagged.
        let tagged = [&[0xd2][..], &doc].concat();
        check_header(&decode(&tagged).unwrap()).unwrap();
    }

    #[test]
    fn each_defect_keeps_its_code() {
        use ErrorCode::*;
        let empty = || Value::Map(vec![]);
        let payload = || Value::Bytes(vec![1]);
        assert_eq!(code(&envelope(&ES384, empty(), Value::Null)), InvalidCoseStructure);
        assert_eq!(code(&envelope(&ES384, empty(), Value::Text("x".into()))), InvalidCoseStructure);
        assert_eq!(code(&envelope(&ES384, Value::Array(vec![]), payload())), InvalidCoseStructure);
        assert_eq!(code(&cbor::encode(&Value::Array(vec![Value::Bytes(ES384.to_vec())]))), InvalidCoseStructure);
        assert_eq!(code(&cbor::encode(&Value::Map(vec![]))), InvalidCoseStructure);
        assert_eq!(code(&[0xd1, 0x80]), InvalidCoseStructure);
        // Protected header bytes.
        assert_eq!(code(&envelope(&[], empty(), payload())), MalformedCbor);
        assert_eq!(code(&envelope(&[0xa1, 0x01], empty(), payload())), MalformedCbor);
        assert_eq!(code(&envelope(&[0xa1, 0x01, 0x38, 0x22, 0x00], empty(), payload())), TrailingBytes);
        assert_eq!(code(&envelope(&[0xa2, 0x01, 0x38, 0x22, 0x01, 0x38, 0x22], empty(), payload())), DuplicateKey);
        assert_eq!(code(&envelope(&[0x80], empty(), payload())), InvalidProtectedHeader);
        assert_eq!(code(&envelope(&[0xa0], empty(), payload())), InvalidProtectedHeader);
        assert_eq!(code(&envelope(&[0xa1, 0x01, 0x26], empty(), payload())), InvalidProtectedHeader); // ES256
        assert_eq!(code(&envelope(&[0xa1, 0x01, 0x61, 0x78], empty(), payload())), InvalidProtectedHeader); // alg "x"
        assert_eq!(code(&envelope(&[0xa1, 0x04, 0x40], empty(), payload())), InvalidProtectedHeader); // kid h''
                                                                                                      // {1: -35, 4: h'00'}
        let with_kid = [0xa2, 0x01, 0x38, 0x22, 0x04, 0x41, 0x00];
        assert_eq!(code(&envelope(&with_kid, empty(), payload())), InvalidProtectedHeader);
        // Unprotected header.
        let entry = |k: i64, v: Value| Value::Map(vec![(Value::Integer(k.into()), v)]);
        assert_eq!(code(&envelope(&ES384, entry(4, Value::Bytes(vec![0])), payload())), InvalidUnprotectedHeader);
        assert_eq!(code(&envelope(&ES384, entry(4, Value::Bytes(vec![])), payload())), InvalidUnprotectedHeader);
        assert_eq!(code(&envelope(&ES384, entry(4, Value::Integer(0.into())), payload())), InvalidUnprotectedHeader);
        assert_eq!(code(&envelope(&ES384, entry(99, Value::Null), payload())), InvalidUnprotectedHeader);
        assert_eq!(
            code(&envelope(&ES384, entry(1, Value::Integer((-35).into())), payload())),
            InvalidUnprotectedHeader
        );
    }
}
