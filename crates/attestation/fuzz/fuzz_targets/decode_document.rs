//! Arbitrary bytes through the whole verifier (decode → header → payload →
//! chain → signature) with the AWS root and a fixed time: it must return an
//! error or a document, never panic, hang or exhaust memory. The fixed time is
//! inside the qos vector's leaf window so that a seed corpus of real documents
//! reaches the deepest steps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_attestation::{verify_with, UnixTime, VerifyOptions, AWS_NITRO_ROOT_G1_DER};

const AT: UnixTime = UnixTime::from_millis(1_657_117_162_000);

fuzz_target!(|data: &[u8]| {
    let _ = verify_with(data, AWS_NITRO_ROOT_G1_DER, AT, &VerifyOptions { allow_debug: true });
});
