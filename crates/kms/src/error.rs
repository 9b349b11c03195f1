//! The one error type of the KMS provider. Codes say which side failed (the caller's input, the
//! connection, KMS's refusal, KMS's answer, the envelope) so the enclave can report and retry
//! sensibly; a bad envelope has one code whatever went wrong inside it, so the answer is no oracle.
//! Messages name the field and never carry key material, credentials or the envelope's bytes.
sentinel_error::error_codes! {
    /// Why obtaining the master key from KMS failed.
    #[non_exhaustive]
    pub enum KmsErrorCode {
        /// A caller-supplied input is out of range (region, endpoint, key id, credentials, a
        /// stored ciphertext blob, an attestation document); the message names the field.
        ArgumentInvalid = "KMS_ARGUMENT_INVALID",
        /// The connection failed: connect, TLS, write or read error, or the peer closed early.
        TransportFailed = "KMS_TRANSPORT_FAILED",
        /// The attestation callback could not produce a document for the ephemeral key.
        AttestationFailed = "KMS_ATTESTATION_FAILED",
        /// KMS refused the caller: `AccessDeniedException` (the key policy's attestation conditions
        /// did not match, or the role may not use the key), bad credentials or signature.
        AccessDenied = "KMS_ACCESS_DENIED",
        /// KMS refused the stored blob: `InvalidCiphertextException` or `IncorrectKeyException`
        /// (a modified blob, or one made under another KMS key).
        CiphertextInvalid = "KMS_CIPHERTEXT_INVALID",
        /// Any other KMS error (`NotFoundException`, `DisabledException`, throttling, a 5xx, ...);
        /// the message carries KMS's error type.
        RequestFailed = "KMS_REQUEST_FAILED",
        /// KMS's answer is not what the protocol promises: not HTTP, not JSON, a missing or
        /// non-base64 field, a plaintext key where only `CiphertextForRecipient` may be, a body over
        /// the size cap.
        ResponseMalformed = "KMS_RESPONSE_MALFORMED",
        /// `CiphertextForRecipient` does not open with the ephemeral key: not the expected CMS
        /// EnvelopedData (one KeyTransRecipientInfo, RSAES-OAEP SHA-256, AES-256-CBC), made for
        /// another key, modified, or not a 32-byte key inside.
        RecipientInvalid = "KMS_RECIPIENT_INVALID",
    }
}

/// A refusal: [`KmsErrorCode`] and a message naming the field (never secrets).
pub type KmsError = sentinel_error::Coded<KmsErrorCode>;

pub(crate) fn err(code: KmsErrorCode, message: impl Into<String>) -> KmsError {
    KmsError::new(code, message)
}
