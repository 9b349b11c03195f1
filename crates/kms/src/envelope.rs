//! The ephemeral recipient key and `CiphertextForRecipient`. Decides what envelope the enclave
//! accepts: a CMS ContentInfo (RFC 5652) holding EnvelopedData, read with BER rules (KMS sends
//! indefinite lengths and may split the encrypted content into chunks), with exactly one
//! KeyTransRecipientInfo whose key is wrapped with RSAES-OAEP SHA-256 / MGF1-SHA-256 (what the
//! request's `KeyEncryptionAlgorithm` asked for), and `id-data` content encrypted with AES-256-CBC.
//! The recipient identifier is not compared: KMS derives it from the attested key, there is only one
//! key to try, and a wrong key fails OAEP. Every failure is one code, `KMS_RECIPIENT_INVALID`, so
//! the answer is no oracle (CBC has no MAC; OAEP's check and the 32-byte length are what bind it).
//! Trusts `cms`/`der` to parse, `rsa` (constant-time, blinded with the caller's RNG) to decrypt.
use core::fmt;

use cbc::cipher::{block_padding::Pkcs7, BlockModeDecrypt, KeyIvInit};
use cms::content_info::ContentInfo;
use cms::enveloped_data::{EnvelopedData, RecipientInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, EncodingRules};
use rand_core::CryptoRng;
use rsa::pkcs1::RsaOaepParamsOwned;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::{Oaep, PrivateKey};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{err, KmsError, KmsErrorCode};

/// Size of the ephemeral RSA key (what AWS's Nitro Enclaves SDK uses for `Recipient`).
pub const RECIPIENT_KEY_BITS: usize = 2048;
/// Largest `CiphertextForRecipient` accepted (a 32-byte key makes well under 1 KiB).
pub const MAX_ENVELOPE_LEN: usize = 64 * 1024;

const ID_ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_RSAES_OAEP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.7");
const ID_MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_AES256_CBC: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.1.42");

/// The enclave's ephemeral RSA-2048 key: its public half goes into the attestation document's
/// `public_key` (DER SubjectPublicKeyInfo), its private half opens `CiphertextForRecipient`. Made
/// fresh for each KMS call and dropped after; `Debug` prints nothing secret.
pub struct RecipientKey {
    key: PrivateKey,
    public_der: Vec<u8>,
}

impl RecipientKey {
    /// A fresh RSA-2048 key (e = 65537) from the caller's CSPRNG (the enclave's: NSM-seeded).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Result<Self, KmsError> {
        let key = PrivateKey::new(rng, RECIPIENT_KEY_BITS)
            .map_err(|e| err(KmsErrorCode::ArgumentInvalid, format!("rng: RSA key generation failed ({e})")))?;
        Self::from_key(key)
    }

    /// A key from PKCS#8 DER: for tests with fixed keys (the enclave always [`generate`]s).
    ///
    /// [`generate`]: RecipientKey::generate
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KmsError> {
        let key = PrivateKey::from_pkcs8_der(der)
            .map_err(|_| err(KmsErrorCode::ArgumentInvalid, "recipient key: not an RSA PKCS#8 private key"))?;
        Self::from_key(key)
    }

    fn from_key(key: PrivateKey) -> Result<Self, KmsError> {
        let public_der = key
            .to_public_key()
            .to_public_key_der()
            .map_err(|_| err(KmsErrorCode::ArgumentInvalid, "recipient key: public key does not encode"))?
            .into_vec();
        Ok(RecipientKey { key, public_der })
    }

    /// The public key as DER SubjectPublicKeyInfo: what the NSM attestation request's
    /// `public_key` carries and KMS encrypts to.
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_der
    }

    /// Opens `CiphertextForRecipient` (the raw DER/BER bytes, base64 already decoded) and returns
    /// the content: the data key. `rng` blinds the RSA private-key operation.
    pub fn open<R: CryptoRng + ?Sized>(&self, rng: &mut R, envelope: &[u8]) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        let invalid = |what: &str| err(KmsErrorCode::RecipientInvalid, format!("CiphertextForRecipient: {what}"));
        if envelope.is_empty() || envelope.len() > MAX_ENVELOPE_LEN {
            return Err(invalid("empty or over the size cap"));
        }
        let info = ContentInfo::from_ber(envelope).map_err(|_| invalid("not a CMS ContentInfo"))?;
        if info.content_type != ID_ENVELOPED_DATA {
            return Err(invalid("content type is not EnvelopedData"));
        }
        let data: EnvelopedData =
            info.content.decode_as_encoding(EncodingRules::Ber).map_err(|_| invalid("EnvelopedData does not parse"))?;

        // One recipient, key transport, RSAES-OAEP: KMS makes exactly this for one attested key.
        let mut infos = data.recip_infos.0.iter();
        let ktri = match (infos.next(), infos.next()) {
            (Some(RecipientInfo::Ktri(ktri)), None) => ktri,
            _ => return Err(invalid("not exactly one KeyTransRecipientInfo")),
        };
        if ktri.key_enc_alg.oid != ID_RSAES_OAEP {
            return Err(invalid("key encryption is not RSAES-OAEP"));
        }
        // Absent parameters would mean SHA-1 by RFC 8017's defaults; AWS's own SDK ignores them and
        // uses SHA-256, as the request asked. Present parameters must say SHA-256 / MGF1-SHA-256;
        // absent ones are tried as SHA-256, and anything else fails OAEP's check below.
        if let Some(params) = &ktri.key_enc_alg.parameters {
            let params: RsaOaepParamsOwned = params.decode_as().map_err(|_| invalid("RSAES-OAEP parameters"))?;
            let mgf_hash = params.mask_gen.parameters.as_ref().map(|p| p.oid);
            if params.hash.oid != ID_SHA256 || params.mask_gen.oid != ID_MGF1 || mgf_hash != Some(ID_SHA256) {
                return Err(invalid("RSAES-OAEP is not SHA-256 with MGF1-SHA-256"));
            }
        }

        let content = &data.encrypted_content;
        if content.content_type != ID_DATA || content.content_enc_alg.oid != ID_AES256_CBC {
            return Err(invalid("content is not id-data under AES-256-CBC"));
        }
        let iv: OctetString = content
            .content_enc_alg
            .parameters
            .as_ref()
            .ok_or_else(|| invalid("AES-256-CBC without an IV"))?
            .decode_as()
            .map_err(|_| invalid("AES-256-CBC IV"))?;
        let ciphertext = content.encrypted_content.as_ref().ok_or_else(|| invalid("no encrypted content"))?;

        let cek = Zeroizing::new(
            self.key
                .decrypt_blinded(rng, Oaep::<Sha256>::new(), ktri.enc_key.as_bytes())
                .map_err(|_| invalid("does not open with this key"))?,
        );
        let decryptor = cbc::Decryptor::<aes::Aes256>::new_from_slices(&cek, iv.as_bytes())
            .map_err(|_| invalid("content key or IV has the wrong length"))?;
        let plaintext = decryptor
            .decrypt_padded_vec::<Pkcs7>(ciphertext.as_bytes())
            .map_err(|_| invalid("content does not decrypt"))?;
        Ok(Zeroizing::new(plaintext))
    }
}

impl fmt::Debug for RecipientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecipientKey(<redacted>)")
    }
}
