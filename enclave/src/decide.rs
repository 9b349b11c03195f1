//! The one decision point: what an authenticated principal may have done.
//!
//! Every operation body, whichever path it came by (a stamp or a session),
//! goes through [`Enclave::decide`] in this order: permission (the signed
//! configuration: operation, key, quota) -> purpose (what the key was created
//! for) -> policy (`src/policy.rs`: the signed policy's rules over the decoded
//! request; evaluated and counted atomically) -> sign -> answer, after a
//! check that the audit log has room (`src/audit.rs`). A stage that
//! cannot decide denies. The answer comes back with what a receipt records
//! about it, including every rule's result. A dry run (`policy_dry_run`) stops
//! after the policy stage and reports it without signing or counting.
use sentinel_config::Principal;
use sentinel_oversight::{Effective, HoldReason, Level};
use sentinel_protocol::limits::{MAX_ED25519_MESSAGE_BYTES, MAX_KEY_ID_BYTES};
use sentinel_protocol::{
    result_hash, EnclaveError, EnclaveErrorCode, KeyList, KeyPurpose, Operation, PolicyEvaluation, Response,
    RuleEvaluated, SignedTransaction,
};
use sentinel_signer::secp256k1;
use sha2::Digest;

use crate::enclave::Enclave;
use crate::keys::{self_check_failed, Key, NewKey, StoredKey};
use crate::policy::{self, Mode};

/// An answer and what its receipt says about it.
pub struct Decided {
    pub response: Response,
    pub key_id: Option<String>,
    /// What the receipt records as `result_hash`: `sentinel_protocol::result_hash` of `response`.
    pub result_hash: Option<[u8; 32]>,
    /// Every policy rule's result (empty when the policy stage was not reached).
    pub rules: Vec<RuleEvaluated>,
    /// The kill-switch state the request was decided under (`None`: not reached; the receipt
    /// then records the state at the time it is made).
    pub oversight: Option<Effective>,
    /// The approvers whose approvals released a held request.
    pub approvals: Vec<String>,
    /// The policy counter changes this decision made (its audit record carries them: a
    /// restarted enclave replays them, `src/resume.rs`).
    pub effects: Vec<sentinel_policy::Effect>,
    /// Set when the request must be held for approval instead of answered.
    pub(crate) hold: Option<HoldReason>,
    /// The operation, handed back when it is to be held.
    pub(crate) held_operation: Option<Box<Operation>>,
    /// The sealed record of a key this decision created, for the host to store before it
    /// releases the answer (`src/sealing.rs`).
    pub sealed: Option<Box<sentinel_protocol::SealedRecord>>,
}

impl Decided {
    pub fn refused(code: EnclaveErrorCode, message: impl Into<String>) -> Self {
        Decided::answer(Response::error(&EnclaveError::new(code, message)))
    }

    pub fn answer(response: Response) -> Self {
        Decided {
            response,
            key_id: None,
            result_hash: None,
            rules: Vec::new(),
            oversight: None,
            approvals: Vec::new(),
            effects: Vec::new(),
            hold: None,
            held_operation: None,
            sealed: None,
        }
    }

    fn with_key_id(mut self, key_id: &str) -> Self {
        self.key_id = Some(key_id.to_string());
        self
    }
}

impl Enclave {
    /// Decides one operation of `principal`. Never panics on request content.
    pub fn decide(&self, principal: &Principal, operation: Operation) -> Decided {
        self.decide_in(principal, operation, Mode::Decide)
    }

    /// What `decide` would answer now, as a `policy_evaluation`: nothing is signed or counted.
    pub(crate) fn dry_run(&self, principal: &Principal, operation: Operation) -> Response {
        let decided = self.decide_in(principal, operation, Mode::DryRun);
        match decided.response {
            Response::PolicyEvaluation(_) => decided.response,
            // Refused before the policy stage (permission, key, decoding), or not a signing operation.
            Response::Error(e) => Response::PolicyEvaluation(PolicyEvaluation {
                decision: "denied".into(),
                code: Some(e.code),
                policy_hash: self.installed().and_then(|i| i.policy.as_ref().map(|p| p.hash.to_vec())),
                rules_evaluated: decided.rules,
            }),
            _ => Response::PolicyEvaluation(PolicyEvaluation {
                decision: "allowed".into(),
                code: None,
                policy_hash: self.installed().and_then(|i| i.policy.as_ref().map(|p| p.hash.to_vec())),
                rules_evaluated: Vec::new(),
            }),
        }
    }

    pub(crate) fn decide_in(&self, principal: &Principal, operation: Operation, mode: Mode) -> Decided {
        let op = operation.wire_name();
        // Deleting is the owner's right over its own key (checked below); the configuration's
        // operation list does not name it, so no permission can grant it over another's key.
        if !principal.may(op) && !matches!(operation, Operation::DeleteKey(_)) {
            return Decided::refused(
                EnclaveErrorCode::OperationNotPermitted,
                format!("op: principal `{}` may not `{op}`", principal.id),
            );
        }
        if mode == Mode::DryRun
            && matches!(
                operation,
                Operation::GenerateKey(_) | Operation::ImportKey(_) | Operation::ListKeys(_) | Operation::DeleteKey(_)
            )
        {
            // Key management is the configuration's (checked above); the policy has no say.
            return Decided::answer(Response::PolicyEvaluation(PolicyEvaluation {
                decision: "allowed".into(),
                code: None,
                policy_hash: self.installed().and_then(|i| i.policy.as_ref().map(|p| p.hash.to_vec())),
                rules_evaluated: Vec::new(),
            }));
        }
        if mode != Mode::DryRun {
            // From the first key operation on, no sealed record is loaded (src/sealing.rs).
            self.sealing.close_load();
        }
        // Nothing is signed or created while the host leaves too many audit records unstored.
        if mode != Mode::DryRun && !matches!(operation, Operation::ListKeys(_)) {
            if let Err(e) = self.audit.check_room() {
                return refused(e);
            }
        }
        let decided = match &operation {
            Operation::GenerateKey(args) => {
                let new = new_key(principal, args.purpose, &args.label);
                match self.keys.generate(args.curve, &new) {
                    Ok(info) => self.sealed_key_answer(info),
                    Err(e) => refused(e),
                }
            }
            Operation::ImportKey(args) => {
                let new = new_key(principal, args.purpose, &args.label);
                if let Err(e) = crate::keys::check_new_key(args.curve, &new) {
                    return refused(e);
                }
                match self.open_import(&principal.id, args) {
                    Ok(key) => match self.keys.insert(key, &new) {
                        Ok(info) => self.sealed_key_answer(info),
                        Err(e) => refused(e),
                    },
                    Err(response) => Decided::answer(response),
                }
            }
            Operation::DeleteKey(args) => self.delete_key(principal, &args.key_id),
            Operation::ListKeys(_) => Decided::answer(Response::KeyList(KeyList {
                keys: self.keys.list(|k| principal.may_use_key(&k.label, &k.owner)),
            })),
            Operation::SignDigest(args) => {
                self.with_permitted_key(principal, &args.key_id, KeyPurpose::Raw, (&operation, mode), |k| {
                    match secp256k1::digest_from_slice(&args.digest) {
                        Ok(digest) => k.key.sign_digest(digest),
                        Err(e) => Response::error(&e),
                    }
                })
            }
            Operation::SignEthereumTransaction(args) => self.with_permitted_key(
                principal,
                &args.key_id,
                KeyPurpose::Ethereum,
                (&operation, mode),
                |k| match &*k.key {
                    Key::Secp256k1 { secret, .. } => match sentinel_eth::sign_transaction(secret, &args.unsigned_tx) {
                        Ok(raw) => Response::SignedTransaction(SignedTransaction { raw }),
                        Err(e) if e.code() == EnclaveErrorCode::SignatureSelfCheckFailed.as_str() => {
                            self_check_failed()
                        }
                        Err(e) => Response::error(&e),
                    },
                    Key::Ed25519 { .. } => curve_mismatch(),
                },
            ),
            Operation::SignPersonalMessage(args) => {
                self.with_permitted_key(principal, &args.key_id, KeyPurpose::Ethereum, (&operation, mode), |k| {
                    k.key.sign_digest(&sentinel_eth::hash_personal_message(&args.message))
                })
            }
            Operation::SignTypedData(args) => {
                self.with_permitted_key(principal, &args.key_id, KeyPurpose::Ethereum, (&operation, mode), |k| {
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
                self.with_permitted_key(principal, &args.key_id, KeyPurpose::Raw, (&operation, mode), |k| {
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
        let mut decided = Decided { result_hash: result_hash(&decided.response), ..decided };
        if decided.hold.is_some() {
            decided.held_operation = Some(Box::new(operation));
        }
        decided
    }

    /// Runs `sign` with the named key after the key-level checks (known id, the
    /// principal may use it, it was created for `purpose`) and the policy stage.
    fn with_permitted_key(
        &self,
        principal: &Principal,
        key_id: &str,
        purpose: KeyPurpose,
        (operation, mode): (&Operation, Mode),
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
            let now = crate::enclave::now_us();
            // The read guard is held until the signature is made: a halt (the write guard) is
            // acknowledged only once no request that passed this check is still signing.
            let switch = crate::oversight::read(&self.oversight.switch);
            let effective = switch.effective(Some(key_id), &principal.id, now);
            if effective.level == Level::Red && mode != Mode::DryRun {
                let message = crate::oversight::halted_message(&switch, &effective);
                return Decided {
                    oversight: Some(effective),
                    ..Decided::refused(EnclaveErrorCode::KillSwitchHalted, message)
                };
            }
            #[cfg(feature = "simulator")]
            if self.skip_policy.load(std::sync::atomic::Ordering::Relaxed) {
                return Decided { oversight: Some(effective), ..Decided::answer(sign(k)) };
            }
            let caller = sentinel_policy::Caller { principal: &principal.id, key_id, key_label: &k.label };
            let request = match policy::policy_request(operation, caller) {
                Ok(request) => request,
                Err(response) => return Decided { oversight: Some(effective), ..Decided::answer(response) },
            };
            // Yellow: nothing is counted until the approvals are in (the release counts it).
            let yellow = effective.level == Level::Yellow && mode == Mode::Decide;
            let stage = policy::evaluate(&self.policy, &request, now, if yellow { Mode::DryRun } else { mode });
            if mode == Mode::DryRun {
                let policy_hash = self.installed().and_then(|i| i.policy.as_ref().map(|p| p.hash.to_vec()));
                let (decision, code) = if effective.level == Level::Red {
                    ("denied".to_string(), Some(EnclaveErrorCode::KillSwitchHalted.as_str().to_string()))
                } else {
                    (stage.verdict.to_string(), stage.refusal.map(|e| e.code.as_str().to_string()))
                };
                return Decided::answer(Response::PolicyEvaluation(PolicyEvaluation {
                    decision,
                    code,
                    policy_hash,
                    rules_evaluated: stage.rules,
                }));
            }
            let trips = self.oversight.trips_enabled().then(|| (stage.policy_denied(), stage.risk_score_bps));
            let decided = match stage.refusal {
                Some(refusal) if refusal.code == EnclaveErrorCode::PolicyApprovalRequired && mode == Mode::Decide => {
                    Decided { hold: Some(HoldReason::Policy), ..Decided::answer(Response::error(&refusal)) }
                }
                Some(refusal) => Decided::answer(Response::error(&refusal)),
                None if yellow => Decided {
                    hold: Some(HoldReason::Yellow),
                    ..Decided::answer(Response::error(&sentinel_protocol::EnclaveError::new(
                        EnclaveErrorCode::ApprovalPending,
                        "held for approval (yellow state)",
                    )))
                },
                None => Decided::answer(sign(k)),
            };
            drop(switch);
            if let Some((denied, score)) = trips {
                self.record_for_trips(&principal.id, denied, score);
            }
            Decided { rules: stage.rules, effects: stage.effects, oversight: Some(effective), ..decided }
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

impl Enclave {
    /// Deletes a key its owner names: refused under a Red kill switch (a halted principal must
    /// not be able to destroy keys either); the secret is wiped when the key is dropped.
    fn delete_key(&self, principal: &Principal, key_id: &str) -> Decided {
        if key_id.len() > MAX_KEY_ID_BYTES {
            return Decided::refused(
                EnclaveErrorCode::InvalidKeyId,
                format!("key_id: at most {MAX_KEY_ID_BYTES} bytes"),
            );
        }
        let owner = self.keys.with_key(key_id, |k| k.owner.clone());
        let decided = match owner {
            None => {
                Decided::refused(EnclaveErrorCode::UnknownKey, format!("key_id: no key `{key_id}` in this enclave"))
            }
            Some(owner) if owner != principal.id => Decided::refused(
                EnclaveErrorCode::KeyNotPermitted,
                format!("key_id: only its owner may delete `{key_id}`; principal `{}` is not", principal.id),
            ),
            Some(_) => {
                let switch = crate::oversight::read(&self.oversight.switch);
                let effective = switch.effective(Some(key_id), &principal.id, crate::enclave::now_us());
                if effective.level == Level::Red {
                    let message = crate::oversight::halted_message(&switch, &effective);
                    Decided {
                        oversight: Some(effective),
                        ..Decided::refused(EnclaveErrorCode::KillSwitchHalted, message)
                    }
                } else if self.keys.remove(key_id) {
                    self.note_key_deleted(key_id);
                    Decided {
                        oversight: Some(effective),
                        ..Decided::answer(Response::KeyDeleted(sentinel_protocol::KeyDeleted { key_id: key_id.into() }))
                    }
                } else {
                    // Deleted by a concurrent request of the same owner between the two lookups.
                    Decided::refused(EnclaveErrorCode::UnknownKey, format!("key_id: no key `{key_id}` in this enclave"))
                }
            }
        };
        decided.with_key_id(key_id)
    }

    /// `admin_delete_key`: an order of the admin quorum deletes a key whoever owns it.
    pub(crate) fn admin_delete_key(&self, order: &[u8]) -> Response {
        let Some(installed) = self.installed() else { return crate::enclave::not_configured() };
        let verified =
            sentinel_config::KeyDeletionOrder::verify(order, &installed.config.admins, crate::enclave::now_us());
        let order_doc = match verified {
            Ok(o) => o,
            Err(e) => return Response::error(&e),
        };
        if order_doc.config_hash != installed.config_hash {
            return Response::error(&EnclaveError::new(
                EnclaveErrorCode::ConfigInvalid,
                "order.config_hash: the order names another configuration than the one in force",
            ));
        }
        let key_id = order_doc.key_id;
        if !self.keys.remove(&key_id) {
            return Response::error(&EnclaveError::new(
                EnclaveErrorCode::UnknownKey,
                format!("key_id: no key `{key_id}` in this enclave"),
            ));
        }
        self.note_key_deleted(&key_id);
        let effect = sentinel_audit::record::Effect {
            op: crate::audit::KEY_DELETED_OP.into(),
            target: key_id.clone(),
            subject: None,
            value: None,
        };
        let digest: [u8; 32] = sha2::Sha256::digest(key_id.as_bytes()).into();
        self.record_admin(sentinel_audit::RecordKind::KeyDeleted, "admins", order, digest, vec![effect]);
        tracing::warn!(key_id = %key_id, "key deleted by an order of the admin quorum");
        Response::KeyDeleted(sentinel_protocol::KeyDeleted { key_id })
    }

    /// The answer for a key just created, with its sealed record. A key that cannot be sealed
    /// is not kept: a key id must never reach a client that a restart would silently lose.
    fn sealed_key_answer(&self, info: sentinel_protocol::KeyInfo) -> Decided {
        let sealed = self.keys.with_key(&info.key_id, |k| self.sealing.seal_key(&info.key_id, k));
        match sealed {
            Some(Ok(sealed)) => {
                Decided { sealed: sealed.map(Box::new), ..answer_key(info, self.sealing.kind().key_storage()) }
            }
            Some(Err(e)) => {
                self.keys.remove(&info.key_id);
                refused(e)
            }
            None => refused(EnclaveError::new(EnclaveErrorCode::Internal, "key: not held after it was created")),
        }
    }
}

fn answer_key(info: sentinel_protocol::KeyInfo, storage: &str) -> Decided {
    let key_id = info.key_id.clone();
    Decided {
        key_id: Some(key_id),
        ..Decided::answer(Response::KeyGenerated(sentinel_protocol::KeyGenerated {
            key_id: info.key_id,
            curve: info.curve,
            purpose: info.purpose,
            label: info.label,
            public_key: info.public_key,
            storage: storage.to_string(),
        }))
    }
}

fn refused(e: EnclaveError) -> Decided {
    Decided::answer(Response::error(&e))
}

fn curve_mismatch() -> Response {
    Response::error(&EnclaveError::new(
        EnclaveErrorCode::KeyCurveMismatch,
        "key_id: this operation needs a secp256k1 key",
    ))
}
