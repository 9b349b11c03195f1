//! The COSE_Sign1 envelope (RFC 9052) as the Nitro Secure Module emits it:
//! untagged (tag 18 accepted too), protected header exactly `{1: -35}`
//! (ES384), an empty unprotected header, and a 96-byte raw `r || s`
//! signature. Only ES384 is accepted so that no algorithm negotiation can be
//! smuggled into the unsigned parts of the envelope; the signature is
//! verified over the RFC 9052 Sig_structure with the leaf certificate's key.

use ciborium::value::Value;
use p384::ecdsa::signature::Verifier;
use p384::ecdsa::{Signature, VerifyingKey};

use crate::cbor;
use crate::error::{err, Error, ErrorCode};

/// CBOR tag of COSE_Sign1.
const COSE_SIGN1_TAG: u64 = 18;
/// COSE header label `alg`.
const HEADER_ALG: i128 = 1;
/// COSE algorithm ES384 (ECDSA P-384 with SHA-384).
const ALG_ES384: i128 = -35;
/// Raw `r || s` of P-384.
const SIGNATURE_LEN: usize = 96;

/// The four parts of a COSE_Sign1, still undecoded where they are signed.
pub(crate) struct CoseSign1 {
    protected: Vec<u8>,
    unprotected: Vec<(Value, Value)>,
    pub(crate) payload: Vec<u8>,
    signature: Vec<u8>,
}

/// Splits the document into the COSE_Sign1 parts.
pub(crate) fn decode(document: &[u8]) -> Result<CoseSign1, Error> {
    let value = match cbor::decode_exact(document, "COSE_Sign1")? {
        Value::Tag(COSE_SIGN1_TAG, inner) => *inner,
        Value::Tag(tag, _) => return err(ErrorCode::InvalidCoseStructure, format!("COSE_Sign1: unexpected tag {tag}")),
        other => other,
    };
    let Value::Array(items) = value else {
        return err(ErrorCode::InvalidCoseStructure, "COSE_Sign1: not an array");
    };
    let Ok([protected, unprotected, payload, signature]) = <[Value; 4]>::try_from(items) else {
        return err(ErrorCode::InvalidCoseStructure, "COSE_Sign1: array must have 4 items");
    };
    let bytes = |v: Value, name: &str| match v {
        Value::Bytes(b) => Ok(b),
        _ => err(ErrorCode::InvalidCoseStructure, format!("COSE_Sign1: {name} must be a byte string")),
    };
    let Value::Map(unprotected) = unprotected else {
        return err(ErrorCode::InvalidCoseStructure, "COSE_Sign1: unprotected header must be a map");
    };
    Ok(CoseSign1 {
        protected: bytes(protected, "protected header")?,
        unprotected,
        payload: bytes(payload, "payload")?,
        signature: bytes(signature, "signature")?,
    })
}

/// Protected header exactly `{1: -35}`; unprotected header empty (nothing
/// unauthenticated may influence verification).
pub(crate) fn check_header(cose: &CoseSign1) -> Result<(), Error> {
    let Value::Map(entries) = cbor::decode_exact(&cose.protected, "protected header")? else {
        return err(ErrorCode::InvalidProtectedHeader, "protected header must be a map");
    };
    let is_es384 = match entries.as_slice() {
        [(label, alg)] => cbor::as_i128(label) == Some(HEADER_ALG) && cbor::as_i128(alg) == Some(ALG_ES384),
        _ => false,
    };
    if !is_es384 {
        return err(ErrorCode::InvalidProtectedHeader, "protected header must be exactly {1: -35} (ES384)");
    }
    if !cose.unprotected.is_empty() {
        return err(ErrorCode::InvalidUnprotectedHeader, "unprotected header must be empty");
    }
    Ok(())
}

/// Verifies the ES384 signature over `["Signature1", protected, h'', payload]`.
/// High-S signatures are valid ECDSA and are accepted (Nitro emits them).
pub(crate) fn verify_signature(cose: &CoseSign1, leaf_key: &VerifyingKey) -> Result<(), Error> {
    if cose.signature.len() != SIGNATURE_LEN {
        return err(
            ErrorCode::SignatureInvalid,
            format!("signature must be {SIGNATURE_LEN} bytes (r || s), got {}", cose.signature.len()),
        );
    }
    let signature = Signature::from_slice(&cose.signature)
        .map_err(|_| Error::new(ErrorCode::SignatureInvalid, "signature: r or s out of range"))?;
    leaf_key.verify(&sig_structure(&cose.protected, &cose.payload), &signature).map_err(|_| {
        Error::new(ErrorCode::SignatureInvalid, "COSE signature does not verify with the leaf certificate key")
    })
}

/// RFC 9052 §4.4 Sig_structure for COSE_Sign1 with empty external AAD.
fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    cbor::encode(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]))
}
