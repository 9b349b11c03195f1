//! Arbitrary bytes as a receipt (and as bare claims): decoding must return an
//! error or claims, never panic, hang or exhaust memory, and whatever decodes
//! must be canonical (re-encoding gives the same bytes) and verify with the
//! fixed key only if it was signed by it. Seeds: the worked example's receipts
//! (run.sh extracts them from tests/data/example.json).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_evidence::{
    decode_receipt_claims_unverified, sign_receipt, verify_receipt_with_key, ReceiptClaims, SigningKey,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(claims) = ReceiptClaims::from_cbor(data) {
        assert_eq!(claims.to_cbor(), data, "decoded claims must be canonical");
    }
    if let Ok(claims) = decode_receipt_claims_unverified(data) {
        // The fixed key is not the example's, so a fuzzed receipt never verifies with it...
        let key = SigningKey::from_bytes(&[7; 32]);
        let _ = verify_receipt_with_key(data, &key.verifying_key().to_bytes());
        // ...and what decodes re-signs into a receipt that decodes to the same claims.
        let resigned = sign_receipt(&claims, &key);
        assert_eq!(verify_receipt_with_key(&resigned, &key.verifying_key().to_bytes()).unwrap(), claims);
    }
});
