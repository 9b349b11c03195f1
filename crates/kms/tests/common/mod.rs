//! Test helpers: a seeded RNG, the fixtures, and a fake KMS that makes `CiphertextForRecipient`
//! envelopes the way KMS describes them (built with the `cms` types, RSAES-OAEP SHA-256 and
//! AES-256-CBC), for keys the tests do not know in advance (the provider's ephemeral key).
#![allow(dead_code)]

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use cbc::cipher::{block_padding::Pkcs7, BlockModeEncrypt, KeyIvInit};
use chacha20::rand_core::{Rng, SeedableRng};
use chacha20::ChaCha20Rng;
use cms::cert::x509::ext::pkix::SubjectKeyIdentifier;
use cms::cert::x509::spki::AlgorithmIdentifierOwned;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo, RecipientInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Encode};
use rsa::pkcs1::RsaOaepParamsRef;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Oaep, PublicKey};
use sentinel_kms::{HttpRequest, HttpResponse, KmsError, KmsTransport};
use sha2::Sha256;

pub const ID_ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub const ID_RSAES_OAEP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.7");
pub const ID_AES256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub fn vector(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test/vectors/kms").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A DER ContentInfo(EnvelopedData) carrying `content` for the RSA key `spki_der`, as KMS makes it.
pub fn envelope_for(spki_der: &[u8], content: &[u8], seed: u64) -> Vec<u8> {
    let mut rng = rng(seed);
    let public = PublicKey::from_public_key_der(spki_der).unwrap();
    let mut cek = [0u8; 32];
    let mut iv = [0u8; 16];
    rng.fill_bytes(&mut cek);
    rng.fill_bytes(&mut iv);
    let enc_key = public.encrypt(&mut rng, Oaep::<Sha256>::new(), &cek).unwrap();
    let ciphertext =
        cbc::Encryptor::<aes::Aes256>::new_from_slices(&cek, &iv).unwrap().encrypt_padded_vec::<Pkcs7>(content);

    let ktri = KeyTransRecipientInfo {
        version: CmsVersion::V2,
        rid: RecipientIdentifier::SubjectKeyIdentifier(SubjectKeyIdentifier(OctetString::new(vec![0x5a; 20]).unwrap())),
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: ID_RSAES_OAEP,
            parameters: Some(Any::encode_from(&RsaOaepParamsRef::new::<Sha256>()).unwrap()),
        },
        enc_key: OctetString::new(enc_key).unwrap(),
    };
    let data = EnvelopedData {
        version: CmsVersion::V2,
        originator_info: None,
        recip_infos: RecipientInfos(SetOfVec::try_from(vec![RecipientInfo::Ktri(ktri)]).unwrap()),
        encrypted_content: EncryptedContentInfo {
            content_type: ID_DATA,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: ID_AES256_CBC,
                parameters: Some(Any::encode_from(&OctetString::new(iv.to_vec()).unwrap()).unwrap()),
            },
            encrypted_content: Some(OctetString::new(ciphertext).unwrap()),
        },
        unprotected_attrs: None,
    };
    ContentInfo { content_type: ID_ENVELOPED_DATA, content: Any::encode_from(&data).unwrap() }.to_der().unwrap()
}

/// A request's JSON body.
pub fn body_json(request: &HttpRequest) -> serde_json::Value {
    serde_json::from_slice(&request.body).unwrap()
}

pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    B64.decode(text).unwrap()
}

pub fn response(status: u16, body: serde_json::Value) -> HttpResponse {
    HttpResponse { status, body: serde_json::to_vec(&body).unwrap() }
}

/// A scripted transport: records every request and answers with `answer(request)`.
pub struct Scripted<F> {
    pub requests: Vec<HttpRequest>,
    pub answer: F,
}

impl<F: FnMut(&HttpRequest) -> HttpResponse> KmsTransport for Scripted<F> {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, KmsError> {
        self.requests.push(request.clone());
        Ok((self.answer)(request))
    }
}
