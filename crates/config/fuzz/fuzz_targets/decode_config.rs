//! Arbitrary bytes as a configuration document, and as its JSON editing form
//! when they are UTF-8: each must be refused with a code or decode into a
//! document that re-encodes to exactly the input (the canonical-form rule),
//! never panic, hang or exhaust memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sentinel_config::Configuration;

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = Configuration::decode(data) {
        assert_eq!(config.encode(), data, "a decoded document re-encodes to its input");
        assert_eq!(Configuration::from_json(&config.to_json()).as_ref(), Ok(&config));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(config) = Configuration::from_json(text) {
            assert_eq!(Configuration::decode(&config.encode()).as_ref(), Ok(&config));
        }
    }
});
