//! RFC 9180 Appendix A.1.1 (base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM)
//! against the crate's own open and seal paths. Provenance: `test/vectors/hpke/NOTE.md`.
use core::convert::Infallible;

use serde::Deserialize;

use super::*;

#[derive(Deserialize)]
struct Vector {
    mode: u8,
    kem_id: u16,
    kdf_id: u16,
    aead_id: u16,
    info: String,
    #[serde(rename = "ikmR")]
    ikm_r: String,
    #[serde(rename = "ikmE")]
    ikm_e: String,
    #[serde(rename = "skRm")]
    sk_r: String,
    #[serde(rename = "pkRm")]
    pk_r: String,
    enc: String,
    encryptions: Vec<Encryption>,
}

#[derive(Deserialize)]
struct Encryption {
    aad: String,
    ct: String,
    pt: String,
}

fn vector() -> Vector {
    let path =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../test/vectors/hpke/rfc9180_base_x25519_sha256_aes128gcm.json");
    let text = std::fs::read_to_string(path).expect("read the RFC 9180 vector");
    let mut all: Vec<Vector> = serde_json::from_str(&text).expect("parse the RFC 9180 vector");
    assert_eq!(all.len(), 1);
    all.remove(0)
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

fn array32(s: &str) -> [u8; 32] {
    unhex(s).try_into().expect("32 bytes")
}

/// An "RNG" that hands out fixed bytes: here the vector's ephemeral `ikmE`, so sealing is the
/// RFC's computation exactly. Test-only; it panics when asked for more than it holds.
struct Replay(Vec<u8>);

impl rand_core::TryRng for Replay {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        unreachable!("HPKE asks only for bytes")
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        unreachable!("HPKE asks only for bytes")
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        assert!(dst.len() <= self.0.len(), "replay RNG exhausted");
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Replay {}

#[test]
fn vector_is_this_suite() {
    let v = vector();
    assert_eq!((v.mode, v.kem_id, v.kdf_id, v.aead_id), (0, KEM_ID, KDF_ID, AEAD_ID));
    assert_eq!(<Kem as hpke::Kem>::KEM_ID, KEM_ID);
    assert_eq!(<Kdf as hpke::kdf::Kdf>::KDF_ID, KDF_ID);
    assert_eq!(<Aead as hpke::aead::Aead>::AEAD_ID, AEAD_ID);
}

#[test]
fn recipient_key_derives_and_gives_its_public_key() {
    let v = vector();
    let (sk, pk) = Kem::derive_keypair(&unhex(&v.ikm_r));
    assert_eq!(sk.to_bytes().as_slice(), unhex(&v.sk_r).as_slice());
    assert_eq!(pk.to_bytes().as_slice(), unhex(&v.pk_r).as_slice());
    assert_eq!(ImportSecret::from_bytes(&array32(&v.sk_r)).public(), array32(&v.pk_r));
}

#[test]
fn opens_the_first_encryption() {
    let v = vector();
    let secret = ImportSecret::from_bytes(&array32(&v.sk_r));
    let first = &v.encryptions[0];
    let ct = unhex(&first.ct);
    let (sealed, tag) = ct.split_at(ct.len() - TAG_LEN);
    let mut buffer = sealed.to_vec();
    open_in_place(&secret, &unhex(&v.info), &unhex(&v.enc), &unhex(&first.aad), &mut buffer, tag).expect("opens");
    assert_eq!(buffer, unhex(&first.pt));

    // The same bytes under another info or aad do not open.
    let mut buffer = sealed.to_vec();
    assert!(open_in_place(&secret, b"other info", &unhex(&v.enc), &unhex(&first.aad), &mut buffer, tag).is_err());
    let mut buffer = sealed.to_vec();
    assert!(open_in_place(&secret, &unhex(&v.info), &unhex(&v.enc), b"", &mut buffer, tag).is_err());
}

#[test]
fn seals_byte_for_byte_with_the_vector_ephemeral_key() {
    let v = vector();
    let first = &v.encryptions[0];
    let mut buffer = unhex(&first.pt);
    let mut rng = Replay(unhex(&v.ikm_e));
    let (enc, tag) =
        seal_in_place(&array32(&v.pk_r), &unhex(&v.info), &unhex(&first.aad), &mut buffer, &mut rng).expect("seals");
    assert_eq!(enc.as_slice(), unhex(&v.enc).as_slice());
    buffer.extend_from_slice(&tag);
    assert_eq!(buffer, unhex(&first.ct));
}
