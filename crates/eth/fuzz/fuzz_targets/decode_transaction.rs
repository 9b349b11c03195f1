//! Untrusted transaction bytes through the strict decoders (what the enclave
//! does before signing, and what audit tooling does with signed transactions):
//! they must return a transaction or an error, never panic, hang or exhaust
//! memory. Whatever the unsigned decoder accepts must be canonical (it
//! re-encodes to the same bytes), and a signed transaction must strip to an
//! unsigned one the unsigned decoder accepts too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_eth::{decode_signed_transaction, decode_transaction};

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = decode_transaction(data) {
        assert_eq!(tx.encode_unsigned(), data, "accepted unsigned input must be canonical");
        let _ = tx.signing_hash();
    }
    if let Ok(signed) = decode_signed_transaction(data) {
        let unsigned = signed.transaction.encode_unsigned();
        assert_eq!(decode_transaction(&unsigned).as_ref(), Ok(&signed.transaction), "stripped signature");
        let _ = signed.signer();
    }
});
