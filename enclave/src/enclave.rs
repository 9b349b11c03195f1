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
use sentinel_protocol::limits::{
    DEFAULT_MAX_KEYS, MAX_KEY_ID_BYTES, MAX_NONCE_BYTES, MAX_PING_PAYLOAD_BYTES, MAX_TRANSACTION_BYTES,
};
use sentinel_protocol::{
    Attestation, Curve, Description, EnclaveError, EnclaveErrorCode, KeyGenerated, Pong, Request, Response,
    SignedTransaction, PROTOCOL_VERSION,
};
use sentinel_signer::{ed25519, secp256k1};
use sha2::{Digest, Sha256};

use crate::keys::{self_check_failed, Key, KeyStore};

/// Version byte of the `user_data` layout.
pub const USER_DATA_VERSION: u8 = 1;

/// What the enclave is launched with. Local mode embeds a default.
#[derive(Clone, Debug)]
pub struct EnclaveConfig {
    /// Canonical bytes of the launch configuration; their hash goes into `user_data`.
    pub config: Vec<u8>,
    /// Keys this enclave may hold at once (`KEY_LIMIT_REACHED` past it).
    pub max_keys: usize,
}

impl Default for EnclaveConfig {
    fn default() -> Self {
        EnclaveConfig { config: br#"{"version":1,"policy":"default"}"#.to_vec(), max_keys: DEFAULT_MAX_KEYS }
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

fn refuse(code: EnclaveErrorCode, message: impl Into<String>) -> Response {
    Response::error(&EnclaveError::new(code, message))
}

impl Enclave {
    pub fn new(
        nsm: Arc<dyn NsmProvider>,
        module_id: String,
        config: &EnclaveConfig,
    ) -> Result<Self, sentinel_nsm::Error> {
        // The protocol's limits are the NSM's and the decoder's; if they ever differ, one is wrong.
        const { assert!(MAX_NONCE_BYTES == sentinel_nsm::MAX_NONCE_LEN) };
        const { assert!(MAX_TRANSACTION_BYTES == sentinel_eth::MAX_TRANSACTION_BYTES) };
        let pcrs = nsm.describe_pcrs()?;
        let mut seed = crate::random_bytes::<32>();
        let identity = ed25519::SecretKey::from_slice(&seed).expect("32-byte seed");
        zeroize::Zeroize::zeroize(&mut seed);
        let identity_spki = identity.public_key_spki_der();
        let mut user_data = vec![USER_DATA_VERSION];
        user_data.extend_from_slice(&Sha256::digest(&config.config));
        Ok(Enclave { keys: KeyStore::new(config.max_keys), identity, identity_spki, nsm, pcrs, module_id, user_data })
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
            Request::Ping(args) => {
                if args.payload.len() > MAX_PING_PAYLOAD_BYTES {
                    return refuse(
                        EnclaveErrorCode::PayloadTooLarge,
                        format!("payload: at most {MAX_PING_PAYLOAD_BYTES} bytes"),
                    );
                }
                Response::Pong(Pong { payload: args.payload })
            }
            Request::Describe(_) => Response::Description(Description {
                protocol_version: PROTOCOL_VERSION,
                module_id: self.module_id.clone(),
                identity_public_key: self.identity_spki.clone(),
                pcrs: self.pcrs[..3].iter().map(|p| p.to_vec()).collect(),
            }),
            Request::Attest(args) => self.attest(args.nonce),
            Request::GenerateKey(args) => match self.keys.generate(args.curve) {
                Ok((key_id, public_key)) => {
                    Response::KeyGenerated(KeyGenerated { key_id, curve: args.curve, public_key })
                }
                Err(e) => Response::error(&e),
            },
            Request::SignDigest(args) => {
                self.with_key(&args.key_id, |key| match secp256k1::digest_from_slice(&args.digest) {
                    Ok(digest) => key.sign_digest(digest),
                    Err(e) => Response::error(&e),
                })
            }
            Request::SignEthereumTransaction(args) => self.with_key(&args.key_id, |key| match key {
                Key::Secp256k1 { secret, .. } => match sentinel_eth::sign_transaction(secret, &args.unsigned_tx) {
                    Ok(raw) => Response::SignedTransaction(SignedTransaction { raw }),
                    // sentinel-eth verifies by recovery and uses the same code; answer (and log) as the digest path does.
                    Err(e) if e.code() == EnclaveErrorCode::SignatureSelfCheckFailed.as_str() => self_check_failed(),
                    Err(e) => Response::error(&e),
                },
                Key::Ed25519 { .. } => refuse(
                    EnclaveErrorCode::KeyCurveMismatch,
                    format!("key_id: Ethereum transactions need a {:?} key", Curve::Secp256k1).to_lowercase(),
                ),
            }),
        }
    }

    fn attest(&self, nonce: Vec<u8>) -> Response {
        if nonce.is_empty() || nonce.len() > MAX_NONCE_BYTES {
            return refuse(
                EnclaveErrorCode::InvalidNonce,
                format!("nonce: must be 1 to {MAX_NONCE_BYTES} bytes, found {}", nonce.len()),
            );
        }
        let request = AttestationRequest {
            user_data: Some(self.user_data.clone()),
            nonce: Some(nonce),
            public_key: Some(self.identity_spki.clone()),
        };
        match self.nsm.attestation(&request) {
            Ok(document) => Response::Attestation(Attestation { document }),
            Err(e) => Response::error(&e),
        }
    }

    /// Runs `f` with the named key, or answers `INVALID_KEY_ID` / `UNKNOWN_KEY`.
    fn with_key(&self, key_id: &str, f: impl FnOnce(&Key) -> Response) -> Response {
        if key_id.len() > MAX_KEY_ID_BYTES {
            return refuse(EnclaveErrorCode::InvalidKeyId, format!("key_id: at most {MAX_KEY_ID_BYTES} bytes"));
        }
        self.keys.with_key(key_id, f).unwrap_or_else(|| {
            // The id is echoed: it is the client's own handle, not a secret.
            refuse(EnclaveErrorCode::UnknownKey, format!("key_id: no key `{key_id}` in this enclave"))
        })
    }
}

#[cfg(test)]
mod tests {
    use sentinel_nsm::{Error, PCR_LEN};
    use sentinel_protocol::{
        AttestArgs, DescribeArgs, GenerateKeyArgs, PingArgs, SignDigestArgs, SignEthereumTransactionArgs,
    };

    use super::*;

    /// An NSM that records what the enclave asks to attest (the enclave's logic, not the NSM, is under test).
    struct RecordingNsm(std::sync::Mutex<Vec<AttestationRequest>>);

    impl NsmProvider for RecordingNsm {
        fn attestation(&self, request: &AttestationRequest) -> Result<Vec<u8>, Error> {
            self.0.lock().unwrap().push(request.clone());
            Ok(b"document".to_vec())
        }
        fn describe_pcrs(&self) -> Result<[Pcr; PCR_COUNT], Error> {
            Ok([[7; PCR_LEN]; PCR_COUNT])
        }
    }

    fn enclave(max_keys: usize) -> (Enclave, Arc<RecordingNsm>) {
        let nsm = Arc::new(RecordingNsm(Default::default()));
        let config = EnclaveConfig { max_keys, ..EnclaveConfig::default() };
        (Enclave::new(nsm.clone(), "unit".into(), &config).unwrap(), nsm)
    }

    fn code(response: Response) -> String {
        match response {
            Response::Error(e) => e.code,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn attestation_binds_the_enclaves_own_state_and_only_the_nonce_from_the_client() {
        let (enclave, nsm) = enclave(4);
        assert!(matches!(enclave.handle(Request::Attest(AttestArgs { nonce: vec![5; 16] })), Response::Attestation(_)));
        let asked = nsm.0.lock().unwrap()[0].clone();
        assert_eq!(asked.nonce, Some(vec![5; 16]));
        assert_eq!(asked.public_key.as_deref(), Some(enclave.identity_public_key()));
        assert_eq!(asked.user_data.as_deref(), Some(enclave.user_data()));
        // The identity key is an RFC 8410 SPKI that X.509 tooling reads.
        assert_eq!(enclave.identity_public_key().len(), 44);
        assert_eq!(code(enclave.handle(Request::Attest(AttestArgs { nonce: vec![] }))), "INVALID_NONCE");
        let long = vec![1; MAX_NONCE_BYTES + 1];
        assert_eq!(code(enclave.handle(Request::Attest(AttestArgs { nonce: long }))), "INVALID_NONCE");
    }

    #[test]
    fn limits_have_their_codes() {
        let (enclave, _) = enclave(1);
        let big = vec![0; MAX_PING_PAYLOAD_BYTES + 1];
        assert_eq!(code(enclave.handle(Request::Ping(PingArgs { payload: big }))), "PAYLOAD_TOO_LARGE");
        let long_id = "k".repeat(MAX_KEY_ID_BYTES + 1);
        let sign = Request::SignDigest(SignDigestArgs { key_id: long_id, digest: vec![0; 32] });
        assert_eq!(code(enclave.handle(sign)), "INVALID_KEY_ID");
        let generate = || Request::GenerateKey(GenerateKeyArgs { curve: Curve::Ed25519 });
        let Response::KeyGenerated(key) = enclave.handle(generate()) else { panic!("no key") };
        assert_eq!(code(enclave.handle(generate())), "KEY_LIMIT_REACHED");
        let tx = Request::SignEthereumTransaction(SignEthereumTransactionArgs {
            key_id: key.key_id,
            unsigned_tx: vec![0xc0],
        });
        assert_eq!(code(enclave.handle(tx)), "KEY_CURVE_MISMATCH");
        let unknown = Request::SignDigest(SignDigestArgs { key_id: "k-none".into(), digest: vec![0; 32] });
        assert_eq!(code(enclave.handle(unknown)), "UNKNOWN_KEY");
        assert!(matches!(enclave.handle(Request::Describe(DescribeArgs {})), Response::Description(_)));
    }
}
