//! The one decision point: what an authenticated principal may have done.
//!
//! Every operation body, whichever path it came by (a stamp or a session),
//! goes through [`Enclave::decide`] in this order: permission (the signed
//! configuration: operation, key, quota) -> purpose (what the key was created
//! for) -> policy (rules; none until the policy issue, so `rules_evaluated`
//! is empty) -> sign -> answer. A stage that cannot decide denies. The
//! answer comes back with what a receipt records about it.
use sentinel_config::Principal;
use sentinel_protocol::limits::{MAX_ED25519_MESSAGE_BYTES, MAX_KEY_ID_BYTES};
use sentinel_protocol::{
    result_hash, EnclaveError, EnclaveErrorCode, KeyList, KeyPurpose, Operation, Response, SignedTransaction,
};
use sentinel_signer::secp256k1;

use crate::enclave::Enclave;
use crate::keys::{self_check_failed, Key, NewKey, StoredKey};

/// An answer and what its receipt says about it.
pub struct Decided {
    pub response: Response,
    pub key_id: Option<String>,
    /// What the receipt records as `result_hash`: `sentinel_protocol::result_hash` of `response`.
    pub result_hash: Option<[u8; 32]>,
}

impl Decided {
    pub fn refused(code: EnclaveErrorCode, message: impl Into<String>) -> Self {
        Decided { response: Response::error(&EnclaveError::new(code, message)), key_id: None, result_hash: None }
    }

    fn with_key_id(mut self, key_id: &str) -> Self {
        self.key_id = Some(key_id.to_string());
        self
    }
}

impl Enclave {
    /// Decides one operation of `principal`. Never panics on request content.
    pub fn decide(&self, principal: &Principal, operation: Operation) -> Decided {
        let op = operation.wire_name();
        if !principal.may(op) {
            return Decided::refused(
                EnclaveErrorCode::OperationNotPermitted,
                format!("op: principal `{}` may not `{op}`", principal.id),
            );
        }
        let decided =
            match operation {
                Operation::GenerateKey(args) => {
                    let new = new_key(principal, args.purpose, &args.label);
                    match self.keys.generate(args.curve, &new) {
                        Ok(info) => answer_key(info),
                        Err(e) => refused(e),
                    }
                }
                Operation::ImportKey(args) => {
                    let new = new_key(principal, args.purpose, &args.label);
                    if let Err(e) = crate::keys::check_new_key(args.curve, &new) {
                        return refused(e);
                    }
                    match self.open_import(&principal.id, &args) {
                        Ok(key) => match self.keys.insert(key, &new) {
                            Ok(info) => answer_key(info),
                            Err(e) => refused(e),
                        },
                        Err(response) => Decided { response, key_id: None, result_hash: None },
                    }
                }
                Operation::ListKeys(_) => Decided {
                    response: Response::KeyList(KeyList {
                        keys: self.keys.list(|k| principal.may_use_key(&k.label, &k.owner)),
                    }),
                    key_id: None,
                    result_hash: None,
                },
                Operation::SignDigest(args) => self.with_permitted_key(principal, &args.key_id, KeyPurpose::Raw, |k| {
                    match secp256k1::digest_from_slice(&args.digest) {
                        Ok(digest) => k.key.sign_digest(digest),
                        Err(e) => Response::error(&e),
                    }
                }),
                Operation::SignEthereumTransaction(args) => {
                    self.with_permitted_key(principal, &args.key_id, KeyPurpose::Ethereum, |k| match &*k.key {
                        Key::Secp256k1 { secret, .. } => {
                            match sentinel_eth::sign_transaction(secret, &args.unsigned_tx) {
                                Ok(raw) => Response::SignedTransaction(SignedTransaction { raw }),
                                Err(e) if e.code() == EnclaveErrorCode::SignatureSelfCheckFailed.as_str() => {
                                    self_check_failed()
                                }
                                Err(e) => Response::error(&e),
                            }
                        }
                        Key::Ed25519 { .. } => curve_mismatch(),
                    })
                }
                Operation::SignPersonalMessage(args) => {
                    self.with_permitted_key(principal, &args.key_id, KeyPurpose::Ethereum, |k| {
                        k.key.sign_digest(&sentinel_eth::hash_personal_message(&args.message))
                    })
                }
                Operation::SignTypedData(args) => {
                    self.with_permitted_key(principal, &args.key_id, KeyPurpose::Ethereum, |k| {
                        match sentinel_eth::hash_typed_data(&args.typed_data) {
                            Ok(digest) => k.key.sign_digest(&digest),
                            Err(e) => Response::error(&e),
                        }
                    })
                }
                Operation::SignEd25519(args) => {
                    if args.message.is_empty() || args.message.len() > MAX_ED25519_MESSAGE_BYTES {
                        let code = if args.message.is_empty() {
                            EnclaveErrorCode::InvalidBody
                        } else {
                            EnclaveErrorCode::PayloadTooLarge
                        };
                        return Decided::refused(
                            code,
                            format!("message: 1 to {MAX_ED25519_MESSAGE_BYTES} bytes, found {}", args.message.len()),
                        );
                    }
                    self.with_permitted_key(principal, &args.key_id, KeyPurpose::Raw, |k| {
                        k.key.sign_ed25519(&args.message).unwrap_or_else(|| {
                            Response::error(&EnclaveError::new(
                                EnclaveErrorCode::KeyCurveMismatch,
                                "key_id: `sign_ed25519` needs an ed25519 key",
                            ))
                        })
                    })
                }
            };
        if matches!(decided.response, Response::Signature(_) | Response::SignedTransaction(_)) {
            self.signatures_released.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Decided { result_hash: result_hash(&decided.response), ..decided }
    }

    /// Runs `sign` with the named key after the key-level checks: known id, the
    /// principal may use it, and it was created for `purpose`.
    fn with_permitted_key(
        &self,
        principal: &Principal,
        key_id: &str,
        purpose: KeyPurpose,
        sign: impl FnOnce(&StoredKey) -> Response,
    ) -> Decided {
        if key_id.len() > MAX_KEY_ID_BYTES {
            return Decided::refused(
                EnclaveErrorCode::InvalidKeyId,
                format!("key_id: at most {MAX_KEY_ID_BYTES} bytes"),
            );
        }
        let outcome = self.keys.with_key(key_id, |k| {
            if !principal.may_use_key(&k.label, &k.owner) {
                return Decided::refused(
                    EnclaveErrorCode::KeyNotPermitted,
                    format!("key_id: principal `{}` may not use `{key_id}`", principal.id),
                );
            }
            if k.purpose != purpose {
                return Decided::refused(
                    EnclaveErrorCode::KeyPurposeMismatch,
                    format!(
                        "key_id: `{key_id}` is a `{}` key; this operation needs a `{}` key",
                        k.purpose.as_str(),
                        purpose.as_str()
                    ),
                );
            }
            Decided { response: sign(k), key_id: None, result_hash: None }
        });
        match outcome {
            Some(decided) => decided.with_key_id(key_id),
            // The id is echoed: it is the client's own handle, not a secret.
            None => {
                Decided::refused(EnclaveErrorCode::UnknownKey, format!("key_id: no key `{key_id}` in this enclave"))
                    .with_key_id(key_id)
            }
        }
    }
}

fn new_key<'a>(principal: &'a Principal, purpose: KeyPurpose, label: &'a str) -> NewKey<'a> {
    NewKey {
        purpose,
        label,
        owner: &principal.id,
        owner_quota: usize::try_from(principal.max_keys()).unwrap_or(usize::MAX),
    }
}

fn answer_key(info: sentinel_protocol::KeyInfo) -> Decided {
    let key_id = info.key_id.clone();
    Decided {
        response: Response::KeyGenerated(sentinel_protocol::KeyGenerated {
            key_id: info.key_id,
            curve: info.curve,
            purpose: info.purpose,
            label: info.label,
            public_key: info.public_key,
        }),
        key_id: Some(key_id),
        result_hash: None,
    }
}

fn refused(e: EnclaveError) -> Decided {
    Decided { response: Response::error(&e), key_id: None, result_hash: None }
}

fn curve_mismatch() -> Response {
    Response::error(&EnclaveError::new(
        EnclaveErrorCode::KeyCurveMismatch,
        "key_id: this operation needs a secp256k1 key",
    ))
}
