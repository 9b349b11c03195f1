//! The one entry point the enclave calls: obtain the 32-byte master key from KMS. Decides the
//! flow: a fresh ephemeral RSA key per call, its public half attested by the caller's NSM, then
//! `GenerateDataKey` (first boot, no stored blob) or `Decrypt` of the stored blob (later boots),
//! both with `Recipient`, and nothing accepted but a `CiphertextForRecipient` that opens to exactly
//! 32 bytes: an answer carrying the key in clear is refused, never used. Trusts the caller's
//! attestation callback, RNG and time, and KMS's key policy to release the key only to the
//! measured image (docs/kms-key-policy.json).
use core::fmt;
use std::time::SystemTime;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::config::{Credentials, KmsConfig};
use crate::envelope::RecipientKey;
use crate::error::{err, KmsError, KmsErrorCode};
use crate::request::{decrypt_body, generate_data_key_body, signed_request, KmsOperation};
use crate::response::{parse_decrypt, parse_generate_data_key, KmsOutput, KmsTransport};

/// The master key from KMS: 32 bytes, zeroized on drop, `Debug` redacted. The enclave turns it into
/// `sentinel_seal::MasterKey::from_bytes(*key.hazmat_bytes())`.
pub struct MasterKeyBytes(Zeroizing<[u8; 32]>);

impl MasterKeyBytes {
    /// The key bytes (for the seal crate's `MasterKey`; nowhere else).
    pub fn hazmat_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for MasterKeyBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKeyBytes(<redacted>)")
    }
}

/// Obtains the master key.
///
/// - `stored_blob`: `None` on a first boot (KMS generates a data key), else the `CiphertextBlob`
///   the host stored after that first boot (KMS decrypts it).
/// - `attest`: given the ephemeral key's DER SubjectPublicKeyInfo, returns an NSM attestation
///   document with it as `public_key` (the enclave's NSM; a simulator in tests).
/// - `rng`: the enclave's CSPRNG (key generation and RSA blinding); `now`: the SigV4 time.
///
/// Returns the key and the `CiphertextBlob` for the host to store (on later boots, the one passed
/// in). The blob is encrypted under the KMS key and not secret; only an enclave whose attestation
/// satisfies the key policy can turn it back into the key.
pub fn obtain_master_key<T, A, E, R>(
    transport: &mut T,
    credentials: &Credentials,
    cfg: &KmsConfig,
    stored_blob: Option<&[u8]>,
    attest: A,
    rng: &mut R,
    now: SystemTime,
) -> Result<(MasterKeyBytes, Vec<u8>), KmsError>
where
    T: KmsTransport + ?Sized,
    A: FnOnce(&[u8]) -> Result<Vec<u8>, E>,
    E: fmt::Display,
    R: CryptoRng + ?Sized,
{
    let recipient = RecipientKey::generate(rng)?;
    let document = attest(recipient.public_key_der())
        .map_err(|e| err(KmsErrorCode::AttestationFailed, format!("attestation document: {e}")))?;

    let (operation, body) = match stored_blob {
        None => (KmsOperation::GenerateDataKey, generate_data_key_body(cfg.key_id(), Some(&document))?),
        Some(blob) => (KmsOperation::Decrypt, decrypt_body(blob, Some(cfg.key_id()), Some(&document))?),
    };
    let request = signed_request(operation, body, cfg, credentials, now)?;
    let response = transport.send(&request)?;
    let output: KmsOutput = match operation {
        KmsOperation::Decrypt => parse_decrypt(&response)?,
        _ => parse_generate_data_key(&response)?,
    };
    drop(response);

    // With Recipient, KMS never sends the key in clear. An answer that does (a KMS look-alike that
    // ignores Recipient, or a relay in the middle) is refused rather than used.
    if output.plaintext.is_some() {
        return Err(err(
            KmsErrorCode::ResponseMalformed,
            "KMS response: Plaintext present although Recipient was sent (the key must only travel encrypted to the enclave)",
        ));
    }
    let envelope = output
        .ciphertext_for_recipient
        .as_deref()
        .ok_or_else(|| err(KmsErrorCode::ResponseMalformed, "KMS response: CiphertextForRecipient missing"))?;
    let opened = recipient.open(rng, envelope)?;
    let key: [u8; 32] = opened.as_slice().try_into().map_err(|_| {
        err(
            KmsErrorCode::RecipientInvalid,
            format!("CiphertextForRecipient: content is {} bytes, not 32", opened.len()),
        )
    })?;
    let key = MasterKeyBytes(Zeroizing::new(key));

    let blob = match stored_blob {
        Some(blob) => blob.to_vec(),
        // parse_generate_data_key checked it is there.
        None => output.ciphertext_blob.clone().unwrap_or_default(),
    };
    Ok((key, blob))
}
