//! The seeds of the `verify_chain` fuzz target (crates/attestation/fuzz/seeds/)
//! are the real chains of test/vectors/nitro/: `cabundle[1..] || certificate`
//! of each valid document, concatenated DER. This keeps them from going stale.

mod common;

use common::vectors;
use sentinel_attestation::{verify_with, VerifyOptions, AWS_NITRO_ROOT_G1_DER};

#[test]
fn verify_chain_seeds_are_the_vector_chains() {
    let seeds = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/verify_chain");
    let mut checked = 0;
    for v in vectors().iter().filter(|v| v.signature_valid()) {
        let doc = verify_with(&v.bytes, AWS_NITRO_ROOT_G1_DER, v.at(), &VerifyOptions { allow_debug: true }).unwrap();
        assert_eq!(doc.cabundle()[0], AWS_NITRO_ROOT_G1_DER);
        let expected: Vec<u8> = doc.cabundle()[1..].iter().flatten().chain(doc.certificate()).copied().collect();
        let seed = std::fs::read(seeds.join(format!("{}.der", v.file))).unwrap();
        assert_eq!(seed, expected, "{}", v.file);
        checked += 1;
    }
    assert_eq!(checked, 5);
    assert_eq!(std::fs::read_dir(&seeds).unwrap().count(), 5);
}
