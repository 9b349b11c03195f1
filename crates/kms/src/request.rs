//! The KMS requests, byte for byte: AWS JSON 1.1 bodies (`GenerateDataKey`, `Decrypt`, and
//! `CreateKey` for setup and tests), the three headers KMS routes on, and the SigV4 signature from
//! `aws-sigv4`. Decides the field names, which optional fields are sent and the size limits on
//! what the caller passes in; trusts `aws-sigv4` for the signature and the caller for the time.
use std::time::SystemTime;

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Serialize;

use crate::config::{Credentials, KmsConfig};
use crate::error::{err, KmsError, KmsErrorCode};

/// The AWS JSON 1.1 content type KMS speaks.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// The one `KeyEncryptionAlgorithm` KMS accepts for a Nitro Enclaves recipient.
pub const KEY_ENCRYPTION_ALGORITHM: &str = "RSAES_OAEP_SHA_256";
/// Largest `CiphertextBlob` KMS produces or takes (API reference: 1..6144 bytes).
pub const MAX_CIPHERTEXT_BLOB_LEN: usize = 6144;
/// Largest attestation document sent (an NSM document is about 4.5 KiB; KMS takes up to 256 KiB).
const MAX_ATTESTATION_DOC_LEN: usize = 64 * 1024;

/// A KMS operation this crate sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KmsOperation {
    /// `CreateKey`: a symmetric key; for setup tooling and tests against a KMS-compatible server.
    CreateKey,
    /// `GenerateDataKey`: a fresh AES-256 data key (first boot).
    GenerateDataKey,
    /// `Decrypt`: the stored data key (later boots).
    Decrypt,
}

impl KmsOperation {
    /// The `X-Amz-Target` header value.
    pub fn target(self) -> &'static str {
        match self {
            KmsOperation::CreateKey => "TrentService.CreateKey",
            KmsOperation::GenerateDataKey => "TrentService.GenerateDataKey",
            KmsOperation::Decrypt => "TrentService.Decrypt",
        }
    }
}

/// One HTTP request, ready for a [`crate::KmsTransport`]: always `POST /`, with the signed
/// headers (names as sent; HTTP treats them case-insensitively) and the JSON body. The transport
/// adds only `content-length` and `connection`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// Always `POST`.
    pub method: &'static str,
    /// Always `/`.
    pub path: &'static str,
    /// `host`, `content-type`, `x-amz-target`, then what SigV4 adds: `x-amz-date`,
    /// `authorization`, and `x-amz-security-token` with a session token.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The first header called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RecipientJson<'a> {
    attestation_document: String,
    key_encryption_algorithm: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GenerateDataKeyJson<'a> {
    key_id: &'a str,
    key_spec: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient: Option<RecipientJson<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DecryptJson<'a> {
    ciphertext_blob: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient: Option<RecipientJson<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateKeyJson<'a> {
    description: &'a str,
    key_spec: &'a str,
    key_usage: &'a str,
}

fn recipient(attestation_document: Option<&[u8]>) -> Result<Option<RecipientJson<'static>>, KmsError> {
    let Some(doc) = attestation_document else { return Ok(None) };
    if doc.is_empty() || doc.len() > MAX_ATTESTATION_DOC_LEN {
        return Err(err(
            KmsErrorCode::ArgumentInvalid,
            format!("attestation_document: must be 1..={MAX_ATTESTATION_DOC_LEN} bytes"),
        ));
    }
    Ok(Some(RecipientJson {
        attestation_document: B64.encode(doc),
        key_encryption_algorithm: KEY_ENCRYPTION_ALGORITHM,
    }))
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising these structs (strings only) cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// `{"KeyId", "KeySpec": "AES_256", "Recipient"?}`: a 32-byte data key under `key_id`, encrypted
/// to the attested key when `attestation_document` is given.
pub fn generate_data_key_body(key_id: &str, attestation_document: Option<&[u8]>) -> Result<Vec<u8>, KmsError> {
    let recipient = recipient(attestation_document)?;
    Ok(to_json(&GenerateDataKeyJson { key_id, key_spec: "AES_256", recipient }))
}

/// `{"CiphertextBlob", "KeyId"?, "Recipient"?}`. Sending `KeyId` makes KMS refuse a blob made
/// under another key instead of decrypting it with that one.
pub fn decrypt_body(
    ciphertext_blob: &[u8],
    key_id: Option<&str>,
    attestation_document: Option<&[u8]>,
) -> Result<Vec<u8>, KmsError> {
    if ciphertext_blob.is_empty() || ciphertext_blob.len() > MAX_CIPHERTEXT_BLOB_LEN {
        return Err(err(
            KmsErrorCode::ArgumentInvalid,
            format!("ciphertext_blob: must be 1..={MAX_CIPHERTEXT_BLOB_LEN} bytes"),
        ));
    }
    let recipient = recipient(attestation_document)?;
    Ok(to_json(&DecryptJson { ciphertext_blob: B64.encode(ciphertext_blob), key_id, recipient }))
}

/// `{"Description", "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT"}`.
pub fn create_key_body(description: &str) -> Vec<u8> {
    to_json(&CreateKeyJson { description, key_spec: "SYMMETRIC_DEFAULT", key_usage: "ENCRYPT_DECRYPT" })
}

/// `POST /` to `cfg`'s endpoint with `body`, signed with SigV4 (service `kms`, `cfg`'s region) at
/// time `now`. The payload hash is in the signature, so the body cannot be changed in transit.
pub fn signed_request(
    operation: KmsOperation,
    body: Vec<u8>,
    cfg: &KmsConfig,
    credentials: &Credentials,
    now: SystemTime,
) -> Result<HttpRequest, KmsError> {
    let signing_failed = |e: &dyn core::fmt::Display| err(KmsErrorCode::ArgumentInvalid, format!("SigV4 signing: {e}"));
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), cfg.host().into()),
        ("content-type".into(), CONTENT_TYPE.into()),
        ("x-amz-target".into(), operation.target().into()),
    ];
    let identity: Identity = credentials.to_aws().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(cfg.region())
        .name("kms")
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| signing_failed(&e))?
        .into();
    let uri = format!("https://{}/", cfg.host());
    let signable = SignableRequest::new(
        "POST",
        uri.as_str(),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(&body),
    )
    .map_err(|e| signing_failed(&e))?;
    let (instructions, _signature) = sign(signable, &params).map_err(|e| signing_failed(&e))?.into_parts();
    let added: Vec<(String, String)> = instructions.headers().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
    headers.extend(added);
    Ok(HttpRequest { method: "POST", path: "/", headers, body })
}
