//! The production master-key provider: AWS KMS with an attested recipient (issue #14).
//!
//! Decides: how the enclave obtains its 32-byte sealing master key from KMS. On a first boot it
//! calls `GenerateDataKey` and on later boots `Decrypt` of the stored `CiphertextBlob`, both with a
//! `Recipient` (the enclave's attestation document carrying an ephemeral RSA-2048 public key), so
//! KMS answers with `CiphertextForRecipient`, a CMS EnvelopedData only that key opens; the key never
//! crosses the host in clear. Requests are AWS JSON 1.1, signed with SigV4 by `aws-sigv4`; the
//! envelope is parsed by RustCrypto `cms`/`der` (BER, as KMS sends it) and opened with `rsa` (OAEP
//! SHA-256) and `aes`/`cbc`. Trusts: those libraries, KMS (reached over TLS that ends inside the
//! enclave, see the `tls` feature) and the caller for credentials, region, endpoint, the
//! attestation document, the time and the RNG. Reads no clock and no entropy source of its own
//! (the optional TLS layer's handshake randomness is the one exception, documented in the `tls` module).
//! The connection is a [`KmsTransport`]: the enclave's is the parent's vsock relay.
#![forbid(unsafe_code)]

mod config;
mod envelope;
mod error;
#[cfg(feature = "fake")]
pub mod fake;
mod http;
mod provider;
mod request;
mod response;
#[cfg(feature = "tls")]
pub mod tls;

pub use config::{Credentials, KmsConfig};
pub use envelope::{RecipientKey, MAX_ENVELOPE_LEN, RECIPIENT_KEY_BITS};
pub use error::{KmsError, KmsErrorCode};
pub use http::{send_http1, Connect, HttpTransport, MAX_RESPONSE_BODY};
pub use provider::{obtain_master_key, MasterKeyBytes};
pub use request::{
    create_key_body, decrypt_body, generate_data_key_body, signed_request, HttpRequest, KmsOperation, CONTENT_TYPE,
    KEY_ENCRYPTION_ALGORITHM, MAX_CIPHERTEXT_BLOB_LEN,
};
pub use response::{parse_create_key, parse_decrypt, parse_generate_data_key, HttpResponse, KmsOutput, KmsTransport};
