//! A stand-in for AWS KMS for tests of the code that calls it (feature `fake`, never enabled in a
//! release build): it answers `GenerateDataKey` and `Decrypt` with `Recipient` the way KMS documents,
//! including the one key-policy condition Sentinel relies on. The attestation document is verified
//! against the root it was given (at the document's own time), its PCR0 must be the one the "key
//! policy" names (else `AccessDeniedException`), and the data key comes back only as a CMS
//! EnvelopedData for the document's public key (RSAES-OAEP SHA-256, AES-256-CBC), never in clear.
//! Data keys live in memory, named by opaque blobs. It is not KMS: no IAM, no grants, no audit.
use std::collections::HashMap;

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
use serde_json::{json, Value};
use sha2::Sha256;

use crate::{HttpRequest, HttpResponse, KmsError, KmsTransport};

const ID_ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_RSAES_OAEP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.7");
const ID_AES256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");

/// A DER ContentInfo(EnvelopedData) carrying `content` for the RSA key `spki_der`, as KMS makes it.
pub fn envelope_for(spki_der: &[u8], content: &[u8], seed: u64) -> Vec<u8> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let public = PublicKey::from_public_key_der(spki_der).expect("an RSA SubjectPublicKeyInfo");
    let mut cek = [0u8; 32];
    let mut iv = [0u8; 16];
    rng.fill_bytes(&mut cek);
    rng.fill_bytes(&mut iv);
    let enc_key = public.encrypt(&mut rng, Oaep::<Sha256>::new(), &cek).expect("OAEP encryption");
    let ciphertext = cbc::Encryptor::<aes::Aes256>::new_from_slices(&cek, &iv)
        .expect("key and iv lengths")
        .encrypt_padded_vec::<Pkcs7>(content);
    let ktri = KeyTransRecipientInfo {
        version: CmsVersion::V2,
        rid: RecipientIdentifier::SubjectKeyIdentifier(SubjectKeyIdentifier(
            OctetString::new(vec![0x5a; 20]).expect("20 bytes"),
        )),
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: ID_RSAES_OAEP,
            parameters: Some(Any::encode_from(&RsaOaepParamsRef::new::<Sha256>()).expect("OAEP parameters")),
        },
        enc_key: OctetString::new(enc_key).expect("encrypted key"),
    };
    let data = EnvelopedData {
        version: CmsVersion::V2,
        originator_info: None,
        recip_infos: RecipientInfos(SetOfVec::try_from(vec![RecipientInfo::Ktri(ktri)]).expect("one recipient")),
        encrypted_content: EncryptedContentInfo {
            content_type: ID_DATA,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: ID_AES256_CBC,
                parameters: Some(Any::encode_from(&OctetString::new(iv.to_vec()).expect("iv")).expect("iv")),
            },
            encrypted_content: Some(OctetString::new(ciphertext).expect("ciphertext")),
        },
        unprotected_attrs: None,
    };
    ContentInfo { content_type: ID_ENVELOPED_DATA, content: Any::encode_from(&data).expect("enveloped data") }
        .to_der()
        .expect("DER")
}

/// The fake KMS: one symmetric "KMS key" whose policy admits documents with `allowed_pcr0`.
pub struct FakeKms {
    root_der: Vec<u8>,
    allowed_pcr0: Vec<u8>,
    keys: HashMap<Vec<u8>, [u8; 32]>,
    rng: ChaCha20Rng,
    /// Every request received, for tests to inspect (targets, SigV4 headers, bodies).
    pub requests: Vec<HttpRequest>,
}

impl FakeKms {
    pub fn new(root_der: &[u8], allowed_pcr0: &[u8], seed: u64) -> Self {
        FakeKms {
            root_der: root_der.to_vec(),
            allowed_pcr0: allowed_pcr0.to_vec(),
            keys: HashMap::new(),
            rng: ChaCha20Rng::seed_from_u64(seed),
            requests: Vec::new(),
        }
    }

    /// Changes the key policy (what a KMS administrator does for an upgrade).
    pub fn allow_pcr0(&mut self, pcr0: &[u8]) {
        self.allowed_pcr0 = pcr0.to_vec();
    }

    fn refuse(kind: &str, message: &str) -> HttpResponse {
        HttpResponse { status: 400, body: json!({"__type": kind, "message": message}).to_string().into_bytes() }
    }

    fn answer(&mut self, request: &HttpRequest) -> HttpResponse {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return Self::refuse("SerializationException", "body is not JSON");
        };
        let Some(document) = body["Recipient"]["AttestationDocument"].as_str().and_then(|d| B64.decode(d).ok()) else {
            return Self::refuse("ValidationException", "this fake answers only requests with Recipient");
        };
        // The key policy's condition: kms:RecipientAttestation:PCR0 equals the allowed value.
        let verified = sentinel_attestation::verify_with(
            &document,
            &self.root_der,
            sentinel_attestation::UnixTime::from_millis(document_time(&document, &self.root_der)),
            &sentinel_attestation::VerifyOptions::default(),
        );
        let Ok(verified) = verified else {
            return Self::refuse("ValidationException", "the attestation document does not verify");
        };
        if verified.pcr(0) != Some(&self.allowed_pcr0[..]) {
            return Self::refuse("AccessDeniedException", "the key policy does not admit this PCR0");
        }
        let Some(spki) = verified.public_key() else {
            return Self::refuse("ValidationException", "the attestation document carries no public key");
        };
        let (key, blob) = match request.header("x-amz-target") {
            Some("TrentService.GenerateDataKey") => {
                let mut key = [0u8; 32];
                self.rng.fill_bytes(&mut key);
                let blob = [b"fake-kms-blob:".as_slice(), &(self.keys.len() as u64).to_be_bytes()].concat();
                self.keys.insert(blob.clone(), key);
                (key, Some(blob))
            }
            Some("TrentService.Decrypt") => {
                let blob = body["CiphertextBlob"].as_str().and_then(|b| B64.decode(b).ok()).unwrap_or_default();
                match self.keys.get(&blob) {
                    Some(key) => (*key, None),
                    None => return Self::refuse("InvalidCiphertextException", "not a blob of this KMS"),
                }
            }
            _ => return Self::refuse("UnknownOperationException", "GenerateDataKey and Decrypt only"),
        };
        let envelope = envelope_for(spki, &key, self.rng.next_u64());
        let mut answer =
            json!({"KeyId": "arn:aws:kms:fake:0:key/sentinel", "CiphertextForRecipient": B64.encode(envelope)});
        if let Some(blob) = blob {
            answer["CiphertextBlob"] = json!(B64.encode(blob));
        }
        HttpResponse { status: 200, body: answer.to_string().into_bytes() }
    }
}

/// The document's own timestamp (checked at it, like KMS checks a document the enclave just made).
fn document_time(document: &[u8], root: &[u8]) -> u64 {
    let report = sentinel_attestation::check_attestation(
        document,
        root,
        sentinel_attestation::UnixTime::from_millis(0),
        &sentinel_attestation::VerifyOptions::default(),
        &sentinel_attestation::CheckExpectations::default(),
    );
    report.document.map(|d| d.timestamp_ms as u64).unwrap_or(0)
}

impl KmsTransport for FakeKms {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, KmsError> {
        self.requests.push(request.clone());
        Ok(self.answer(request))
    }
}
