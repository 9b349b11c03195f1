//! The receipt envelope: a tagged COSE_Sign1 (RFC 9052, CBOR tag 18) with
//!
//! - protected header exactly `{1: -8}` (alg EdDSA), bytes `a1 01 27`;
//! - an empty unprotected header (nothing unauthenticated travels with it);
//! - the canonical claims as payload (attached);
//! - a 64-byte Ed25519 signature (RFC 8032) over the RFC 9052 Sig_structure
//!   `["Signature1", h'a10127', h'', payload]`.
//!
//! `coset` (=0.4.2, the COSE library of crates/attestation) does the COSE
//! work: its builder writes the receipt and the Sig_structure that is signed
//! (`create_signature`, `to_tagged_vec`), its parser reads receipts
//! (`CoseSign1::from_tagged_slice`, which also refuses trailing bytes) and
//! hands the Sig_structure to the verifier (`verify_signature`). This module
//! adds what makes the envelope strict: the exact protected header bytes, an
//! empty unprotected header, an attached payload, a 64-byte signature, a size
//! limit, and deterministic encoding (the envelope is re-encoded by `coset`
//! and compared with the input, so exactly one byte string is a receipt).
//! The claims are `ciborium`'s (claims.rs). Signatures are `ed25519-dalek`
//! (`verify_strict` when verifying). test/interop/cose-go checks our receipts
//! with Go's `veraison/go-cose`.

use ciborium::value::Value;
use coset::{
    iana, AsCborValue, CborSerializable, CoseError, CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable,
};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::claims::ReceiptClaims;
use crate::error::{malformed, Error, ErrorCode};

/// Largest receipt accepted, in bytes (real ones are a few hundred).
pub const MAX_RECEIPT_LEN: usize = 64 * 1024;

/// The protected header `{1: -8}` (alg: EdDSA), as its exact bytes.
pub(crate) const PROTECTED: [u8; 3] = [0xa1, 0x01, 0x27];

/// No external AAD (RFC 9052 §4.3): the Sig_structure's third item is `h''`.
const EXTERNAL_AAD: &[u8] = b"";

const SIGNATURE_LEN: usize = 64;

/// Signs `claims` with the enclave's receipt key into a tagged COSE_Sign1.
pub fn sign_receipt(claims: &ReceiptClaims, receipt_key: &SigningKey) -> Vec<u8> {
    CoseSign1Builder::new()
        .protected(HeaderBuilder::new().algorithm(iana::Algorithm::EdDSA).build())
        .payload(claims.to_cbor())
        .create_signature(EXTERNAL_AAD, |tbs| receipt_key.sign(tbs).to_bytes().to_vec())
        .build()
        .to_tagged_vec()
        // coset fails to encode only a header it cannot represent; this one is {1: -8}.
        .expect("encoding a COSE_Sign1 into a Vec")
}

/// A receipt whose envelope and claims decoded; its signature is not checked yet.
pub(crate) struct DecodedReceipt {
    sign1: CoseSign1,
    signature: Signature,
    pub(crate) claims: ReceiptClaims,
}

/// `coset`'s refusal of the envelope, as `RECEIPT_MALFORMED`.
fn envelope_error(e: CoseError) -> Error {
    use ciborium::de::Error as Cbor;
    match e {
        // An untagged item (coset wanted a tag) or another tag than 18.
        CoseError::UnexpectedItem(_, "tag") | CoseError::UnexpectedItem("tag", "other tag") => {
            malformed("receipt: not a tagged COSE_Sign1 (CBOR tag 18)")
        }
        CoseError::ExtraneousData => malformed("receipt: bytes after the COSE_Sign1"),
        CoseError::DecodeFailed(Cbor::Io(_)) => malformed("receipt: truncated CBOR"),
        CoseError::DecodeFailed(Cbor::Syntax(at)) => malformed(format!("receipt: not well-formed CBOR at byte {at}")),
        e => malformed(format!("receipt: not a COSE_Sign1 of this format ({e})")),
    }
}

impl DecodedReceipt {
    /// Parses the envelope and the claims, accepting only their one
    /// deterministic encoding. Error: `RECEIPT_MALFORMED`.
    pub(crate) fn decode(receipt: &[u8]) -> Result<Self, Error> {
        if receipt.len() > MAX_RECEIPT_LEN {
            return Err(malformed(format!("receipt is {} bytes, at most {MAX_RECEIPT_LEN} allowed", receipt.len())));
        }
        let sign1 = CoseSign1::from_tagged_slice(receipt).map_err(envelope_error)?;
        // The bytes as received (coset keeps them): {1: -8} and nothing else, in its one encoding.
        if sign1.protected.original_data.as_deref() != Some(&PROTECTED[..]) {
            return Err(malformed("receipt: protected header must be exactly {1: -8} (EdDSA), bytes a10127"));
        }
        if !sign1.unprotected.is_empty() {
            return Err(malformed("receipt: unprotected header must be an empty map"));
        }
        let Some(payload) = &sign1.payload else {
            return Err(malformed("receipt: payload must be attached (not nil)"));
        };
        let Ok(signature) = Signature::from_slice(&sign1.signature) else {
            return Err(malformed(format!(
                "receipt: signature must be {SIGNATURE_LEN} bytes, got {}",
                sign1.signature.len()
            )));
        };
        // Every part is what this format allows; whether the input spelled it in
        // the one deterministic encoding is decided by re-encoding it. (This is
        // `to_tagged_vec` spelt out, so that it goes through the same
        // `CborSerializable::to_vec` as the claims and the attestation crate:
        // one CBOR encoder in the browser build.)
        let tagged = sign1.clone().to_cbor_value().map(|v| Value::Tag(CoseSign1::TAG, Box::new(v)));
        if tagged.and_then(Value::to_vec).ok().as_deref() != Some(receipt) {
            return Err(malformed(
                "receipt: the COSE_Sign1 is not in deterministic encoding (RFC 8949 §4.2.1: shortest form, \
                 definite length)",
            ));
        }
        let claims = ReceiptClaims::from_cbor(payload)?;
        Ok(Self { sign1, signature, claims })
    }

    /// Verifies the Ed25519 signature over the Sig_structure (strict:
    /// canonical S, no small-order key). Error: `RECEIPT_SIGNATURE_INVALID`.
    pub(crate) fn verify_signature(&self, receipt_key: &VerifyingKey) -> Result<(), Error> {
        self.sign1
            .verify_signature(EXTERNAL_AAD, |_, signed| receipt_key.verify_strict(signed, &self.signature))
            .map_err(|_| {
                Error::new(
                    ErrorCode::ReceiptSignatureInvalid,
                    "receipt: signature does not verify with the attested receipt key",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use coset::{iana, CborSerializable, HeaderBuilder, TaggedCborSerializable};

    use super::*;
    use crate::claims::Decision;

    /// Tag 18, array of 4, protected bstr, empty unprotected map; the payload follows.
    const ENVELOPE_PREFIX: [u8; 7] = [0xd2, 0x84, 0x43, 0xa1, 0x01, 0x27, 0xa0];

    /// `["Signature1", h'a10127', h'', ` — the payload byte string follows.
    const SIG_STRUCTURE_PREFIX: [u8; 17] =
        [0x84, 0x6a, b'S', b'i', b'g', b'n', b'a', b't', b'u', b'r', b'e', b'1', 0x43, 0xa1, 0x01, 0x27, 0x40];

    /// A CBOR byte string (head + content), as ciborium writes it.
    fn bstr(content: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::ser::into_writer(&ciborium::value::Value::Bytes(content.to_vec()), &mut out).unwrap();
        out
    }

    fn claims() -> ReceiptClaims {
        ReceiptClaims {
            request_id: [1; 16],
            timestamp_us: 1_767_225_600_000_000,
            principal: "dev-client".into(),
            key_id: None,
            op: "list_keys".into(),
            payload_hash: [2; 32],
            decision: Decision::Allowed,
            code: None,
            result_hash: None,
            rules_evaluated: vec![],
            config_hash: [3; 32],
            policy_hash: None,
            attestation_hash: [4; 32],
            oversight_state: "green".into(),
            oversight_scope: "global".into(),
            approvals: vec![],
            audit_seq: None,
            audit_checkpoint: None,
            key_storage: None,
        }
    }

    #[test]
    fn signing_writes_the_fixed_layout() {
        // The wire format, spelled out: tag 18, [h'a10127', {}, payload, signature], with
        // the signature over ["Signature1", h'a10127', h'', payload]; longer payloads take
        // longer byte-string heads (1, 2, 3 and 5 bytes here).
        let key = SigningKey::from_bytes(&[9; 32]);
        for payload_size in [0usize, 10, 300, 70_000] {
            let mut claims = claims();
            claims.principal = "p".repeat(payload_size);
            let payload = bstr(&claims.to_cbor());
            let signature = key.sign(&[&SIG_STRUCTURE_PREFIX[..], &payload].concat()).to_bytes();
            let want = [&ENVELOPE_PREFIX[..], &payload, &[0x58, 0x40], &signature].concat();
            let ours = sign_receipt(&claims, &key);
            assert_eq!(ours, want, "size {payload_size}");
            // The untagged form (coset's to_vec) is the same minus the tag byte.
            let sign1 = coset::CoseSign1::from_tagged_slice(&ours).unwrap();
            assert_eq!(ours[1..], sign1.to_vec().unwrap()[..]);
        }
    }

    #[test]
    fn coset_reads_ours_and_its_sig_structure_is_the_one_signed() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let sign1 = coset::CoseSign1::from_tagged_slice(&sign_receipt(&claims(), &key)).unwrap();
        assert_eq!(sign1.protected.header, HeaderBuilder::new().algorithm(iana::Algorithm::EdDSA).build());
        assert!(sign1.unprotected.is_empty());
        assert_eq!(sign1.payload.as_deref(), Some(&claims().to_cbor()[..]));
        let tbs = sign1.tbs_data(b"");
        assert_eq!(tbs[..SIG_STRUCTURE_PREFIX.len()], SIG_STRUCTURE_PREFIX);
        sign1
            .verify_signature(b"", |sig, signed| {
                key.verifying_key().verify_strict(signed, &Signature::from_slice(sig).unwrap())
            })
            .unwrap();
    }

    #[test]
    fn round_trip_and_envelope_refusals() {
        let key = SigningKey::from_bytes(&[9; 32]);
        let receipt = sign_receipt(&claims(), &key);
        let decoded = DecodedReceipt::decode(&receipt).unwrap();
        assert_eq!(decoded.claims, claims());
        decoded.verify_signature(&key.verifying_key()).unwrap();
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert_eq!(decoded.verify_signature(&other).unwrap_err().code(), "RECEIPT_SIGNATURE_INVALID");

        let malformed = |bytes: &[u8]| {
            let e = DecodedReceipt::decode(bytes).err().expect("refused");
            assert_eq!(e.code(), "RECEIPT_MALFORMED");
            e.message().to_owned()
        };
        let payload = claims().to_cbor();
        let sig = [0u8; 64];
        let build = |tag: &[u8], protected: &[u8], unprotected: &[u8], payload: &[u8], sig: &[u8]| {
            [tag, &[0x84], &bstr(protected), unprotected, &bstr(payload), &bstr(sig)].concat()
        };
        // The canonical form decodes.
        DecodedReceipt::decode(&build(&[0xd2], &PROTECTED, &[0xa0], &payload, &sig)).unwrap();
        assert!(malformed(&build(&[], &PROTECTED, &[0xa0], &payload, &sig)).contains("tagged COSE_Sign1"));
        assert!(malformed(&build(&[0xd1], &PROTECTED, &[0xa0], &payload, &sig)).contains("tagged COSE_Sign1"));
        assert!(malformed(&build(&[0xd2], &[0xa1, 0x01, 0x26], &[0xa0], &payload, &sig)).contains("{1: -8}"));
        assert!(malformed(&build(&[0xd2], &[0xa0], &[0xa0], &payload, &sig)).contains("{1: -8}"));
        assert!(malformed(&build(&[0xd2], &[], &[0xa0], &payload, &sig)).contains("{1: -8}"));
        // {1: -8, 3: "application/cbor"}: a content type is not part of this format.
        let with_ct = [&[0xa2, 0x01, 0x27, 0x03, 0x70][..], b"application/cbor"].concat();
        assert!(malformed(&build(&[0xd2], &with_ct, &[0xa0], &payload, &sig)).contains("{1: -8}"));
        // kid "receipt" unprotected.
        let kid = [&[0xa1, 0x04, 0x47][..], b"receipt"].concat();
        assert!(malformed(&build(&[0xd2], &PROTECTED, &kid, &payload, &sig)).contains("unprotected"));
        assert!(malformed(&build(&[0xd2], &PROTECTED, &[0xa0], &payload, &sig[..63])).contains("64 bytes"));
        // Nil (detached) payload.
        let detached = [&ENVELOPE_PREFIX[..], &[0xf6, 0x58, 0x40], &sig].concat();
        assert!(malformed(&detached).contains("attached"));
        // Non-canonical envelope: payload length spelled with a longer head.
        let mut long = ENVELOPE_PREFIX.to_vec();
        long.extend_from_slice(&[0x5a, 0, 0, (payload.len() >> 8) as u8, payload.len() as u8]);
        long.extend_from_slice(&payload);
        long.extend_from_slice(&[0x58, 0x40]);
        long.extend_from_slice(&sig);
        assert!(malformed(&long).contains("deterministic"));
        // Trailing bytes.
        assert!(!malformed(&[receipt.as_slice(), &[0]].concat()).is_empty());
        // Too large.
        assert!(malformed(&vec![0; MAX_RECEIPT_LEN + 1]).contains("at most"));
        // Malformed claims inside a valid envelope.
        assert!(malformed(&build(&[0xd2], &PROTECTED, &[0xa0], &[0xa0], &sig)).contains("claims"));
        assert!(!malformed(&[]).is_empty());
    }
}
