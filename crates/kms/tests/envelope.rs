//! CiphertextForRecipient: envelopes made by OpenSSL (test/vectors/kms, BER as KMS sends it, and
//! DER) and by the test's own builder open to their content; other keys, other algorithms and
//! modified bytes give KMS_RECIPIENT_INVALID and never panic.
mod common;

use common::{envelope_for, rng, vector};
use sentinel_kms::{KmsErrorCode, RecipientKey, MAX_ENVELOPE_LEN};

fn fixture_key() -> RecipientKey {
    RecipientKey::from_pkcs8_der(&vector("recipient-key.pk8.der")).unwrap()
}

fn data_key() -> Vec<u8> {
    (0u8..32).collect()
}

fn refused(key: &RecipientKey, envelope: &[u8]) -> String {
    let e = key.open(&mut rng(9), envelope).unwrap_err();
    assert_eq!(e.kind(), KmsErrorCode::RecipientInvalid, "{}", e.message());
    e.message().to_owned()
}

#[test]
fn openssl_ber_envelope_opens_to_the_data_key() {
    let envelope = vector("envelope-ber.der");
    // Indefinite lengths and chunked content: what KMS sends, what DER-only parsers refuse.
    assert_eq!(&envelope[..2], &[0x30, 0x80]);
    let opened = fixture_key().open(&mut rng(1), &envelope).unwrap();
    assert_eq!(opened.as_slice(), data_key().as_slice());
}

#[test]
fn openssl_der_envelope_opens_to_the_data_key() {
    let opened = fixture_key().open(&mut rng(2), &vector("envelope-der.der")).unwrap();
    assert_eq!(opened.as_slice(), data_key().as_slice());
}

#[test]
fn other_algorithms_are_refused() {
    let key = fixture_key();
    assert!(refused(&key, &vector("envelope-oaep-sha1.der")).contains("SHA-256"));
    assert!(refused(&key, &vector("envelope-aes128.der")).contains("AES-256-CBC"));
}

#[test]
fn an_envelope_for_another_key_is_refused() {
    let other = RecipientKey::generate(&mut rng(3)).unwrap();
    assert!(refused(&other, &vector("envelope-ber.der")).contains("does not open"));
    // And one made here for `other` opens only with `other`.
    let envelope = envelope_for(other.public_key_der(), &data_key(), 4);
    assert_eq!(other.open(&mut rng(5), &envelope).unwrap().as_slice(), data_key().as_slice());
    refused(&fixture_key(), &envelope);
}

#[test]
fn generated_keys_are_fresh_rsa_2048_spki() {
    let a = RecipientKey::generate(&mut rng(6)).unwrap();
    let b = RecipientKey::generate(&mut rng(7)).unwrap();
    assert_ne!(a.public_key_der(), b.public_key_der());
    // DER SubjectPublicKeyInfo, rsaEncryption, 2048-bit modulus: 294 bytes.
    assert_eq!(a.public_key_der().len(), 294);
    assert_eq!(&a.public_key_der()[..19], &hex::decode("30820122300d06092a864886f70d0101010500").unwrap()[..]);
    // The same seed gives the same key: all randomness is the caller's.
    assert_eq!(RecipientKey::generate(&mut rng(6)).unwrap().public_key_der(), a.public_key_der());
    assert_eq!(format!("{a:?}"), "RecipientKey(<redacted>)");
}

#[test]
fn modified_envelopes_are_refused_or_cannot_yield_the_key() {
    let key = fixture_key();
    let good = vector("envelope-der.der");
    // The wrapped content key (the last 256 bytes of the KeyTransRecipientInfo) and the content's
    // last block (its padding) are checked: any change there is refused.
    let enc_key_at = good.windows(4).position(|w| w == [0x04, 0x82, 0x01, 0x00]).unwrap() + 4;
    for i in [enc_key_at, enc_key_at + 100, enc_key_at + 255, good.len() - 1] {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        refused(&key, &bad);
    }
    // Truncations and garbage never panic.
    for len in [0, 1, 2, 10, good.len() / 2, good.len() - 1] {
        refused(&key, &good[..len]);
    }
    refused(&key, &vec![0x30; MAX_ENVELOPE_LEN + 1]);
    let mut trailing = good.clone();
    trailing.push(0);
    refused(&key, &trailing);
    // CBC has no MAC: a changed IV changes the first block and still "opens". KMS's format gives
    // no more; TLS protects the envelope in transit, and a wrong master key opens no sealed record.
    let iv_at = good.windows(2).rposition(|w| w == [0x04, 0x10]).unwrap() + 2;
    let mut bad = good.clone();
    bad[iv_at] ^= 0x01;
    match key.open(&mut rng(8), &bad) {
        Ok(opened) => assert_ne!(opened.as_slice(), data_key().as_slice()),
        Err(e) => assert_eq!(e.kind(), KmsErrorCode::RecipientInvalid),
    }
}

#[test]
fn every_single_byte_flip_is_handled_without_panic() {
    let key = fixture_key();
    let good = vector("envelope-ber.der");
    let mut opened_as_key = 0;
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x80;
        if let Ok(opened) = key.open(&mut rng(10), &bad) {
            // Only bytes the format leaves unauthenticated (the recipient identifier, which is not
            // compared, and the IV) may still open; never to the right key unless untouched.
            if opened.as_slice() == data_key().as_slice() {
                opened_as_key += 1;
            }
        }
    }
    // The 20-byte subjectKeyIdentifier is the only region whose change leaves the key intact.
    assert!(opened_as_key <= 20, "{opened_as_key}");
}
