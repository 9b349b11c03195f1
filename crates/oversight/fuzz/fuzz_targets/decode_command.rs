//! Arbitrary bytes as an oversight command (CBOR, and JSON when UTF-8):
//! refused with a code or accepted, never a panic. An accepted command must
//! be canonical (it re-encodes to the same bytes), valid, and survive the
//! JSON form unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_oversight::Command;

fuzz_target!(|data: &[u8]| {
    if let Ok(command) = Command::from_cbor(data) {
        assert_eq!(command.to_cbor(), data);
        assert!(command.validate().is_ok());
        assert_eq!(Command::from_json(&command.to_json()).as_ref(), Ok(&command));
        let _ = command.digest();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(command) = Command::from_json(text) {
            assert_eq!(Command::from_cbor(&command.to_cbor()).as_ref(), Ok(&command));
        }
    }
});
