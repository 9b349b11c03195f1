//! Arbitrary bytes as a stamp, then through the verifier against the
//! development configuration at a fixed time: refused with a code or
//! accepted, never a panic. The first byte picks the operation name so that
//! the digest sees varied lengths.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sentinel_config::{
    development_configuration, Alg, Configuration, Credential, CredentialKind, Stamp, StampVerifier,
};

const NOW_US: u64 = 1_700_000_000_000_000;

fn config() -> &'static Configuration {
    static CONFIG: OnceLock<Configuration> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let admin = Credential::generate(CredentialKind::Admin, "dev-admin", Alg::Ed25519, &[1; 32]).unwrap();
        let client = Credential::generate(CredentialKind::Client, "dev-client", Alg::Ed25519, &[2; 32]).unwrap();
        development_configuration(admin.public_key(), client.public_key())
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let op = ["list_keys", "sign_digest", ""][usize::from(selector) % 3];
    if let Ok(stamp) = Stamp::decode(rest) {
        assert_eq!(Stamp::decode(&stamp.encode()).as_ref(), Ok(&stamp));
        let mut verifier = StampVerifier::new(4);
        let _ = verifier.verify(config(), op, rest, &stamp, NOW_US);
    }
});
