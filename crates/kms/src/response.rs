//! KMS's answers: the transport seam ([`KmsTransport`]), the success bodies of `CreateKey`,
//! `GenerateDataKey` and `Decrypt`, and KMS's JSON error bodies (`__type`, `message`) mapped to
//! stable codes. Decides what a well-formed answer is (HTTP 200, JSON, the promised fields in
//! standard base64) and keeps any plaintext key in zeroizing memory. Trusts the bytes only as far
//! as the transport does: over TLS ending in the enclave they are KMS's.
use core::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Deserialize;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{err, KmsError, KmsErrorCode};
use crate::request::HttpRequest;

/// One HTTP response: status and body (already de-chunked). The body is zeroized on drop: a
/// `GenerateDataKey` without `Recipient` carries the plaintext key.
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Drop for HttpResponse {
    fn drop(&mut self) {
        self.body.zeroize();
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HttpResponse {{ status: {}, body: <{} bytes> }}", self.status, self.body.len())
    }
}

/// Sends one request and returns the response. The enclave's implementation is [`crate::HttpTransport`]
/// over the vsock relay (with the `tls` feature's connector inside); tests may script answers.
pub trait KmsTransport {
    /// Sends `request`; I/O and TLS failures are `KMS_TRANSPORT_FAILED`, an unreadable response
    /// `KMS_RESPONSE_MALFORMED`. Any HTTP status is returned as is.
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, KmsError>;
}

impl<T: KmsTransport + ?Sized> KmsTransport for &mut T {
    fn send(&mut self, request: &HttpRequest) -> Result<HttpResponse, KmsError> {
        (**self).send(request)
    }
}

/// The fields of a `GenerateDataKey` or `Decrypt` answer, decoded from base64.
pub struct KmsOutput {
    /// The key ARN KMS used.
    pub key_id: Option<String>,
    /// The data key encrypted under the KMS key (GenerateDataKey only): what the host stores.
    pub ciphertext_blob: Option<Vec<u8>>,
    /// The plaintext data key: present only without `Recipient`.
    pub plaintext: Option<Zeroizing<Vec<u8>>>,
    /// The data key as CMS EnvelopedData for the attested key: present only with `Recipient`.
    pub ciphertext_for_recipient: Option<Vec<u8>>,
}

impl fmt::Debug for KmsOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsOutput")
            .field("key_id", &self.key_id)
            .field("ciphertext_blob", &self.ciphertext_blob.as_ref().map(Vec::len))
            .field("plaintext", &self.plaintext.as_ref().map(|_| "<redacted>"))
            .field("ciphertext_for_recipient", &self.ciphertext_for_recipient.as_ref().map(Vec::len))
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OutputJson {
    key_id: Option<String>,
    ciphertext_blob: Option<String>,
    plaintext: Option<String>,
    ciphertext_for_recipient: Option<String>,
}

impl Drop for OutputJson {
    fn drop(&mut self) {
        if let Some(p) = self.plaintext.as_mut() {
            p.zeroize();
        }
    }
}

fn malformed(what: &str) -> KmsError {
    err(KmsErrorCode::ResponseMalformed, format!("KMS response: {what}"))
}

fn field(name: &str, value: &Option<String>) -> Result<Option<Vec<u8>>, KmsError> {
    match value.as_deref() {
        // KMS documents these fields as "null or empty" when absent.
        None | Some("") => Ok(None),
        Some(text) => B64.decode(text).map(Some).map_err(|_| malformed(&format!("{name}: not base64"))),
    }
}

fn parse_output(response: &HttpResponse) -> Result<KmsOutput, KmsError> {
    check_status(response)?;
    let json: OutputJson =
        serde_json::from_slice(&response.body).map_err(|_| malformed("body is not the JSON expected"))?;
    let plaintext = field("Plaintext", &json.plaintext)?.map(Zeroizing::new);
    Ok(KmsOutput {
        key_id: json.key_id.clone(),
        ciphertext_blob: field("CiphertextBlob", &json.ciphertext_blob)?,
        plaintext,
        ciphertext_for_recipient: field("CiphertextForRecipient", &json.ciphertext_for_recipient)?,
    })
}

/// A `GenerateDataKey` answer: `CiphertextBlob` and one of `Plaintext` / `CiphertextForRecipient`.
pub fn parse_generate_data_key(response: &HttpResponse) -> Result<KmsOutput, KmsError> {
    let out = parse_output(response)?;
    if out.ciphertext_blob.is_none() {
        return Err(malformed("CiphertextBlob missing"));
    }
    if out.plaintext.is_none() && out.ciphertext_for_recipient.is_none() {
        return Err(malformed("neither Plaintext nor CiphertextForRecipient"));
    }
    Ok(out)
}

/// A `Decrypt` answer: one of `Plaintext` / `CiphertextForRecipient`.
pub fn parse_decrypt(response: &HttpResponse) -> Result<KmsOutput, KmsError> {
    let out = parse_output(response)?;
    if out.plaintext.is_none() && out.ciphertext_for_recipient.is_none() {
        return Err(malformed("neither Plaintext nor CiphertextForRecipient"));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateKeyJson {
    key_metadata: KeyMetadataJson,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyMetadataJson {
    key_id: String,
}

/// A `CreateKey` answer: the new key's id (`KeyMetadata.KeyId`).
pub fn parse_create_key(response: &HttpResponse) -> Result<String, KmsError> {
    check_status(response)?;
    let json: CreateKeyJson =
        serde_json::from_slice(&response.body).map_err(|_| malformed("body is not the JSON expected"))?;
    if json.key_metadata.key_id.is_empty() {
        return Err(malformed("KeyMetadata.KeyId empty"));
    }
    Ok(json.key_metadata.key_id)
}

#[derive(Deserialize)]
struct ErrorJson {
    #[serde(rename = "__type")]
    kind: Option<String>,
    #[serde(alias = "Message")]
    message: Option<String>,
}

/// Anything but 200 is KMS's refusal: its `__type` picks the code, and the type and message
/// (capped, printable ASCII only) go into the message.
fn check_status(response: &HttpResponse) -> Result<(), KmsError> {
    if response.status == 200 {
        return Ok(());
    }
    let parsed: Option<ErrorJson> = serde_json::from_slice(&response.body).ok();
    let (kind, message) = match parsed {
        Some(ErrorJson { kind: Some(kind), message }) => (kind, message.unwrap_or_default()),
        _ => {
            return Err(err(
                KmsErrorCode::RequestFailed,
                format!("KMS answered HTTP {} without a JSON error body", response.status),
            ))
        }
    };
    // `__type` may be qualified: `com.amazonaws.kms#AccessDeniedException`.
    let short = kind.rsplit('#').next().unwrap_or(&kind);
    let code = match short {
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "ExpiredTokenException"
        | "InvalidClientTokenId"
        | "NotAuthorizedException" => KmsErrorCode::AccessDenied,
        "InvalidCiphertextException" | "IncorrectKeyException" => KmsErrorCode::CiphertextInvalid,
        _ => KmsErrorCode::RequestFailed,
    };
    Err(err(code, format!("KMS answered HTTP {} {}: {}", response.status, clean(short, 128), clean(&message, 256))))
}

fn clean(text: &str, max: usize) -> String {
    text.chars().take(max).map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect()
}
