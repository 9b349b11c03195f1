//! Arbitrary bytes through both trust decisions: the boot rule
//! (`verify_initial`) and an update from a fixed configuration in force
//! (`verify_update`), plus the display path (`Inspection`). Each must refuse
//! with a code or accept, never panic, hang or exhaust memory; an accepted
//! envelope re-encodes to its input.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sentinel_config::{
    development_configuration, Alg, Configuration, Credential, CredentialKind, Inspection, SignedConfig,
};

fn current() -> &'static Configuration {
    static CURRENT: OnceLock<Configuration> = OnceLock::new();
    CURRENT.get_or_init(|| {
        let admin = Credential::generate(CredentialKind::Admin, "dev-admin", Alg::Ed25519, &[1; 32]).unwrap();
        let client = Credential::generate(CredentialKind::Client, "dev-client", Alg::Ed25519, &[2; 32]).unwrap();
        development_configuration(admin.public_key(), client.public_key())
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(signed) = SignedConfig::decode(data) {
        assert_eq!(signed.encode(), data, "a decoded envelope re-encodes to its input");
    }
    let _ = SignedConfig::verify_initial(data);
    let _ = current().verify_update(data);
    if let Ok(inspection) = Inspection::new(data) {
        let _ = inspection.to_json();
    }
});
