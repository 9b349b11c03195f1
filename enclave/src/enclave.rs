//! The enclave's state and its one entry point, [`Enclave::handle`].
//!
//! At boot the enclave creates an ephemeral Ed25519 identity key; the
//! attestation document's `public_key` carries it (as SPKI DER), so a verifier
//! that checked the document can trust answers signed with it. `user_data`
//! binds the enclave's own state, `0x01 || SHA-256(launch configuration)`
//! (later versions append the policy hash and audit head); a client chooses
//! only the nonce, never `user_data`.
use std::sync::Arc;

use sentinel_nsm::{AttestationRequest, NsmProvider, Pcr, PCR_COUNT};
use sentinel_protocol::{Request, Response, PROTOCOL_VERSION};
use sentinel_signer::{ed25519, secp256k1};
use sha2::{Digest, Sha256};

use crate::keys::{Key, KeyStore};

/// The SPKI DER prefix of an Ed25519 public key (RFC 8410).
const ED25519_SPKI_PREFIX: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
/// Version byte of the `user_data` layout.
pub const USER_DATA_VERSION: u8 = 1;
/// Nonces longer than this are refused (AWS's NSM limit).
pub const MAX_NONCE_LEN: usize = sentinel_nsm::MAX_NONCE_LEN;

/// What the enclave is launched with. Local mode embeds a default.
#[derive(Clone, Debug)]
pub struct EnclaveConfig {
    /// Canonical bytes of the launch configuration; their hash goes into `user_data`.
    pub config: Vec<u8>,
}

impl Default for EnclaveConfig {
    fn default() -> Self {
        EnclaveConfig { config: br#"{"version":1,"policy":"default"}"#.to_vec() }
    }
}

pub struct Enclave {
    keys: KeyStore,
    identity: ed25519::SecretKey,
    identity_spki: Vec<u8>,
    nsm: Arc<dyn NsmProvider>,
    pcrs: [Pcr; PCR_COUNT],
    module_id: String,
    user_data: Vec<u8>,
}

fn error(code: &str, message: impl Into<String>) -> Response {
    Response::Error { code: code.to_string(), message: message.into() }
}

impl Enclave {
    pub fn new(
        nsm: Arc<dyn NsmProvider>,
        module_id: String,
        config: &EnclaveConfig,
    ) -> Result<Self, sentinel_nsm::Error> {
        let pcrs = nsm.describe_pcrs()?;
        let Key::Ed25519(identity) = Key::generate(sentinel_protocol::Curve::Ed25519) else {
            unreachable!("generate(Ed25519) returns an Ed25519 key")
        };
        let mut identity_spki = ED25519_SPKI_PREFIX.to_vec();
        identity_spki.extend_from_slice(&identity.public_key());
        let mut user_data = vec![USER_DATA_VERSION];
        user_data.extend_from_slice(&Sha256::digest(&config.config));
        Ok(Enclave { keys: KeyStore::default(), identity, identity_spki, nsm, pcrs, module_id, user_data })
    }

    /// The identity public key as SPKI DER (what attestation documents carry).
    pub fn identity_public_key(&self) -> &[u8] {
        &self.identity_spki
    }

    /// Signs with the identity key: the primitive for answers that must be attributable to
    /// this attested enclave (response signing itself is a later protocol version).
    pub fn sign_as_identity(&self, message: &[u8]) -> [u8; 64] {
        self.identity.sign(message)
    }

    pub fn user_data(&self) -> &[u8] {
        &self.user_data
    }

    pub fn pcrs(&self) -> &[Pcr; PCR_COUNT] {
        &self.pcrs
    }

    /// Answers one request. Never panics on request content; failures are error responses.
    pub fn handle(&self, request: Request) -> Response {
        match request {
            Request::Ping { payload } => Response::Pong { payload },
            Request::Describe {} => Response::Description {
                protocol_version: PROTOCOL_VERSION,
                module_id: self.module_id.clone(),
                identity_public_key: self.identity_spki.clone(),
                pcrs: self.pcrs[..3].iter().map(|p| serde_bytes::ByteBuf::from(p.to_vec())).collect(),
            },
            Request::Attest { nonce } => self.attest(nonce),
            Request::GenerateKey { curve } => {
                let (key_id, public_key) = self.keys.generate(curve);
                Response::KeyGenerated { key_id, curve, public_key }
            }
            Request::SignDigest { key_id, digest } => self.sign_digest(&key_id, &digest),
            Request::SignEthereumTransaction { key_id, unsigned_tx } => self.sign_transaction(&key_id, &unsigned_tx),
        }
    }

    fn attest(&self, nonce: Vec<u8>) -> Response {
        if nonce.is_empty() || nonce.len() > MAX_NONCE_LEN {
            return error("INVALID_NONCE", format!("nonce: must be 1 to {MAX_NONCE_LEN} bytes, found {}", nonce.len()));
        }
        let request = AttestationRequest {
            user_data: Some(self.user_data.clone()),
            nonce: Some(nonce),
            public_key: Some(self.identity_spki.clone()),
        };
        match self.nsm.attestation(&request) {
            Ok(document) => Response::Attestation { document },
            Err(e) => error(e.code(), e.message()),
        }
    }

    fn sign_digest(&self, key_id: &str, digest: &[u8]) -> Response {
        let signed = self.keys.with_key(key_id, |key| match key {
            Key::Secp256k1(sk) => match secp256k1::digest_from_slice(digest) {
                Ok(d) => {
                    let sig = sk.sign_digest(d);
                    Response::Signature { signature: sig.bytes.to_vec(), recovery_id: Some(sig.recovery_id) }
                }
                Err(e) => error(e.code(), e.message()),
            },
            Key::Ed25519(sk) => match secp256k1::digest_from_slice(digest) {
                Ok(d) => Response::Signature { signature: sk.sign(d).to_vec(), recovery_id: None },
                Err(e) => error(e.code(), e.message()),
            },
        });
        signed.unwrap_or_else(|| unknown_key(key_id))
    }

    fn sign_transaction(&self, key_id: &str, unsigned_tx: &[u8]) -> Response {
        let signed = self.keys.with_key(key_id, |key| match key {
            Key::Secp256k1(sk) => match sentinel_eth::sign_transaction(sk, unsigned_tx) {
                Ok(raw) => Response::SignedTransaction { raw },
                Err(e) => error(e.code(), e.message()),
            },
            Key::Ed25519(_) => error("KEY_CURVE_MISMATCH", "key_id: Ethereum transactions need a secp256k1 key"),
        });
        signed.unwrap_or_else(|| unknown_key(key_id))
    }
}

fn unknown_key(key_id: &str) -> Response {
    // The id is echoed: it is the client's own handle, not a secret.
    error("UNKNOWN_KEY", format!("key_id: no key `{key_id}` in this enclave"))
}
