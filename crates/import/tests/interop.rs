//! Interop with the npm package @hpke/core: `test/vectors/hpke-import/import-v1.json` holds blobs
//! that @hpke/core sealed (generate.mjs) and the values this crate produced for the same inputs.
//! Here the crate opens @hpke/core's blobs and still produces its recorded half byte for byte.
use sentinel_import::{open_import, Curve, ImportContext, ImportSecret, KeyPurpose, AEAD_ID, KDF_ID, KEM_ID};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vector {
    test_only: bool,
    suite: Suite,
    recipient: Recipient,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Suite {
    mode: String,
    kem_id: u16,
    kdf_id: u16,
    aead_id: u16,
    aad: String,
}

#[derive(Deserialize)]
struct Recipient {
    secret: String,
    public: String,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    principal: String,
    label: String,
    curve: String,
    purpose: String,
    secret_key: String,
    expect: String,
    info: String,
    hpke_core_sealed: Sealed,
    rust_sealed: Option<Sealed>,
}

#[derive(Deserialize)]
struct Sealed {
    enc: String,
    ciphertext: String,
}

fn vector() -> Vector {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test/vectors/hpke-import/import-v1.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("read the interop vector")).expect("parse it")
}

fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text.strip_prefix("0x").expect("0x prefix")).expect("hex")
}

fn recipient(v: &Vector) -> ImportSecret {
    ImportSecret::from_bytes(&unhex(&v.recipient.secret).try_into().expect("32 bytes"))
}

fn context(case: &Case) -> ImportContext {
    ImportContext {
        principal: case.principal.clone(),
        label: case.label.clone(),
        curve: Curve::from_name(&case.curve).expect("curve"),
        purpose: KeyPurpose::from_name(&case.purpose).expect("purpose"),
    }
}

#[test]
fn vector_is_test_only_and_this_suite() {
    let v = vector();
    assert!(v.test_only);
    assert_eq!(v.suite.mode, "base");
    assert_eq!((v.suite.kem_id, v.suite.kdf_id, v.suite.aead_id), (KEM_ID, KDF_ID, AEAD_ID));
    assert_eq!(v.suite.aad, "0x");
    assert!(v.cases.iter().any(|c| c.expect == "ok"));
    assert!(v.cases.iter().any(|c| c.expect == "IMPORT_KEY_INVALID"));
    assert!(v.cases.iter().any(|c| c.expect == "IMPORT_MALFORMED"));
}

#[test]
fn rust_half_is_still_what_the_crate_produces() {
    let v = vector();
    assert_eq!(recipient(&v).public().as_slice(), unhex(&v.recipient.public).as_slice());
    for case in &v.cases {
        assert_eq!(context(case).info(), unhex(&case.info), "{}", case.name);
        assert_eq!(case.rust_sealed.is_some(), case.expect == "ok", "{}", case.name);
    }
}

#[test]
fn opens_what_hpke_core_sealed() {
    let v = vector();
    let secret = recipient(&v);
    for case in &v.cases {
        let sealed = &case.hpke_core_sealed;
        let result = open_import(&secret, &context(case), &unhex(&sealed.enc), &unhex(&sealed.ciphertext));
        match (case.expect.as_str(), result) {
            ("ok", Ok(key)) => {
                assert_eq!(key.expose_secret().as_slice(), unhex(&case.secret_key).as_slice(), "{}", case.name);
                assert_eq!(key.curve().as_str(), case.curve);
            }
            (expected, Err(e)) => assert_eq!(e.code(), expected, "{}", case.name),
            (expected, Ok(_)) => panic!("{}: opened, expected {expected}", case.name),
        }
    }
}

#[test]
fn opens_its_own_recorded_blobs() {
    let v = vector();
    let secret = recipient(&v);
    for case in v.cases.iter().filter(|c| c.expect == "ok") {
        let sealed = case.rust_sealed.as_ref().expect("sealed");
        let key = open_import(&secret, &context(case), &unhex(&sealed.enc), &unhex(&sealed.ciphertext)).expect("opens");
        assert_eq!(key.expose_secret().as_slice(), unhex(&case.secret_key).as_slice());
    }
}

#[test]
fn hpke_core_blobs_are_bound_to_their_context() {
    let v = vector();
    let secret = recipient(&v);
    let ok: Vec<&Case> = v.cases.iter().filter(|c| c.expect == "ok").collect();
    for (i, case) in ok.iter().enumerate() {
        let other = ok[(i + 1) % ok.len()];
        let sealed = &case.hpke_core_sealed;
        let err = open_import(&secret, &context(other), &unhex(&sealed.enc), &unhex(&sealed.ciphertext)).unwrap_err();
        assert_eq!(err.code(), "IMPORT_DECRYPTION_FAILED", "{} under {}", case.name, other.name);
    }
}
