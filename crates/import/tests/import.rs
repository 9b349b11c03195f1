//! The public API: round trips, each code, and the binding of every context field.
use getrandom::SysRng;
use sentinel_error::CodedError;
use sentinel_import::rand_core::UnwrapErr;
use sentinel_import::{
    code, open_import, seal_import, Curve, ImportContext, ImportError, ImportSecret, KeyPurpose, CIPHERTEXT_LEN,
    ENC_LEN, MAX_INFO_LEN,
};

/// Test-only recipient secret (never an enclave's).
const RECIPIENT: [u8; 32] = [0x11; 32];
/// Test-only secp256k1 key: the EIP-155 example key 0x46..46.
const K1_KEY: [u8; 32] = [0x46; 32];
/// secp256k1 group order n.
const K1_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc,
    0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];

fn rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

fn context(curve: Curve, purpose: KeyPurpose) -> ImportContext {
    ImportContext { principal: "dev-client".into(), label: "treasury".into(), curve, purpose }
}

fn sealed(ctx: &ImportContext, key: &[u8; 32]) -> ([u8; ENC_LEN], [u8; CIPHERTEXT_LEN]) {
    let recipient = ImportSecret::from_bytes(&RECIPIENT);
    seal_import(&recipient.public(), ctx, key, &mut rng()).expect("seals")
}

fn code_of<T>(result: Result<T, ImportError>) -> &'static str {
    match result {
        Ok(_) => "OK",
        Err(e) => CodedError::code(&e),
    }
}

#[test]
fn round_trip_each_curve_and_purpose() {
    let recipient = ImportSecret::from_bytes(&RECIPIENT);
    for (curve, purpose, key) in [
        (Curve::Secp256k1, KeyPurpose::Ethereum, K1_KEY),
        (Curve::Secp256k1, KeyPurpose::Raw, K1_KEY),
        (Curve::Ed25519, KeyPurpose::Raw, [0x9d; 32]),
        // Every 32-byte string is an Ed25519 seed, zero included.
        (Curve::Ed25519, KeyPurpose::Raw, [0; 32]),
    ] {
        let ctx = context(curve, purpose);
        let (enc, ciphertext) = sealed(&ctx, &key);
        let opened = open_import(&recipient, &ctx, &enc, &ciphertext).expect("opens");
        assert_eq!(opened.expose_secret(), &key);
        assert_eq!(opened.curve(), curve);
    }
}

#[test]
fn each_seal_is_fresh() {
    let ctx = context(Curve::Secp256k1, KeyPurpose::Ethereum);
    let (enc_a, ct_a) = sealed(&ctx, &K1_KEY);
    let (enc_b, ct_b) = sealed(&ctx, &K1_KEY);
    assert_ne!(enc_a, enc_b);
    assert_ne!(ct_a, ct_b);
}

#[test]
fn every_context_field_is_bound() {
    let recipient = ImportSecret::from_bytes(&RECIPIENT);
    let ctx = context(Curve::Secp256k1, KeyPurpose::Raw);
    let (enc, ciphertext) = sealed(&ctx, &K1_KEY);
    let others = [
        ImportContext { principal: "dev-client2".into(), ..ctx.clone() },
        ImportContext { principal: "Dev-client".into(), ..ctx.clone() },
        ImportContext { label: "treasury ".into(), ..ctx.clone() },
        ImportContext { label: String::new(), ..ctx.clone() },
        // An ed25519 context would accept these same 32 bytes as a key: only the binding refuses.
        ImportContext { curve: Curve::Ed25519, ..ctx.clone() },
        ImportContext { purpose: KeyPurpose::Ethereum, ..ctx.clone() },
        // Swapping principal and label is another context too.
        ImportContext { principal: ctx.label.clone(), label: ctx.principal.clone(), ..ctx.clone() },
    ];
    for other in &others {
        assert_eq!(
            code_of(open_import(&recipient, other, &enc, &ciphertext)),
            code::IMPORT_DECRYPTION_FAILED,
            "{other:?}"
        );
    }
    assert!(open_import(&recipient, &ctx, &enc, &ciphertext).is_ok());
}

#[test]
fn wrong_recipient_and_tampering_fail_with_one_code_and_one_message() {
    let recipient = ImportSecret::from_bytes(&RECIPIENT);
    let ctx = context(Curve::Secp256k1, KeyPurpose::Ethereum);
    let (enc, ciphertext) = sealed(&ctx, &K1_KEY);
    let mut failures = Vec::new();
    failures.push(open_import(&ImportSecret::from_bytes(&[0x12; 32]), &ctx, &enc, &ciphertext).unwrap_err());
    for i in 0..CIPHERTEXT_LEN {
        let mut tampered = ciphertext;
        tampered[i] ^= 0x01;
        failures.push(open_import(&recipient, &ctx, &enc, &tampered).unwrap_err());
    }
    for i in 0..ENC_LEN {
        let mut tampered = enc;
        tampered[i] ^= 0x80;
        failures.push(open_import(&recipient, &ctx, &tampered, &ciphertext).unwrap_err());
    }
    // A small-order `enc` (all zeros) makes X25519 output zero: refused the same way.
    failures.push(open_import(&recipient, &ctx, &[0u8; 32], &ciphertext).unwrap_err());
    let first = failures[0];
    assert_eq!(first.code(), code::IMPORT_DECRYPTION_FAILED);
    for failure in &failures {
        assert_eq!(failure, &first);
        assert_eq!(failure.message(), first.message());
    }
}

#[test]
fn malformed_lengths() {
    let recipient = ImportSecret::from_bytes(&RECIPIENT);
    let ctx = context(Curve::Secp256k1, KeyPurpose::Ethereum);
    let (enc, ciphertext) = sealed(&ctx, &K1_KEY);
    for bad_enc in [&enc[..31], &[enc.as_slice(), &[0]].concat()[..], &[][..]] {
        assert_eq!(code_of(open_import(&recipient, &ctx, bad_enc, &ciphertext)), code::IMPORT_MALFORMED);
    }
    for bad_ct in [&ciphertext[..47], &ciphertext[..16], &[ciphertext.as_slice(), &[0]].concat()[..], &[][..]] {
        assert_eq!(code_of(open_import(&recipient, &ctx, &enc, bad_ct)), code::IMPORT_MALFORMED);
    }
}

#[test]
fn oversized_context_is_malformed_not_a_panic() {
    let recipient = ImportSecret::from_bytes(&RECIPIENT);
    let mut ctx = context(Curve::Ed25519, KeyPurpose::Raw);
    ctx.label = "l".repeat(MAX_INFO_LEN);
    let err = seal_import(&recipient.public(), &ctx, &[1; 32], &mut rng()).unwrap_err();
    assert_eq!(err.code(), code::IMPORT_MALFORMED);
    assert_eq!(code_of(open_import(&recipient, &ctx, &[9; 32], &[0; 48])), code::IMPORT_MALFORMED);
    // Just under the limit still works.
    let overhead = context(Curve::Ed25519, KeyPurpose::Raw).info().len() - "treasury".len();
    ctx.label = "l".repeat(MAX_INFO_LEN - overhead - 2); // a 3-byte CBOR text head instead of 1
    assert_eq!(ctx.info().len(), MAX_INFO_LEN);
    let (enc, ciphertext) = seal_import(&recipient.public(), &ctx, &[1; 32], &mut rng()).expect("seals");
    assert!(open_import(&recipient, &ctx, &enc, &ciphertext).is_ok());
}

#[test]
fn invalid_secp256k1_keys_are_refused_when_sealing() {
    let recipient = ImportSecret::from_bytes(&RECIPIENT);
    let ctx = context(Curve::Secp256k1, KeyPurpose::Raw);
    let mut above_order = K1_ORDER;
    above_order[31] = 0x42;
    for bad in [[0u8; 32], K1_ORDER, above_order, [0xff; 32]] {
        let err = seal_import(&recipient.public(), &ctx, &bad, &mut rng()).unwrap_err();
        assert_eq!(err.code(), code::IMPORT_KEY_INVALID);
    }
    let mut below_order = K1_ORDER;
    below_order[31] = 0x40; // n - 1
    assert!(seal_import(&recipient.public(), &ctx, &below_order, &mut rng()).is_ok());
}

#[test]
fn small_order_recipient_is_malformed() {
    let ctx = context(Curve::Ed25519, KeyPurpose::Raw);
    let err = seal_import(&[0u8; 32], &ctx, &[1; 32], &mut rng()).unwrap_err();
    assert_eq!(err.code(), code::IMPORT_MALFORMED);
}

#[test]
fn secrets_are_redacted() {
    let recipient = ImportSecret::from_bytes(&RECIPIENT);
    assert_eq!(format!("{recipient:?}"), "ImportSecret([REDACTED])");
    let ctx = context(Curve::Secp256k1, KeyPurpose::Ethereum);
    let (enc, ciphertext) = sealed(&ctx, &K1_KEY);
    let opened = open_import(&recipient, &ctx, &enc, &ciphertext).unwrap();
    let shown = format!("{opened:?}");
    assert_eq!(shown, "ImportedSecretKey(secp256k1, [REDACTED])");
}

#[test]
fn errors_display_code_and_message() {
    let e = ImportError::KeyInvalid(Curve::Secp256k1);
    assert_eq!(e.to_string(), format!("IMPORT_KEY_INVALID: {}", e.message()));
    assert!(!ImportError::DecryptionFailed.message().is_empty());
}
