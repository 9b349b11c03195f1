//! The enclave's state and its entry points.
//!
//! At boot the enclave creates four ephemeral keys: the receipt key (Ed25519,
//! signs every receipt), the session key (X25519, the static key of attested
//! sessions), the import key (X25519, the HPKE recipient of key imports) and
//! the audit key (Ed25519, signs the audit log's checkpoints, `src/audit.rs`).
//! Attestation documents carry all four in `public_key` (the attested key
//! bundle, `sentinel_evidence::AttestedKeys`) and the configuration hash in
//! `user_data`, so a client that checked a document (PCR0 + configuration
//! hash) can trust receipts, sessions and imports that use those keys. A
//! client chooses only the nonce, never `user_data` or `public_key`.
//!
//! Until a signed configuration is installed (`update_config`; the first one
//! is trusted on first use and must satisfy its own admin quorum), the
//! enclave answers only `ping` and `describe`: there is nobody to authenticate
//! yet, and no evidence to bind answers to. Until a signed policy is installed
//! as well (`update_policy`, signed by that configuration's admin quorum),
//! nothing is signed; its hash joins the configuration hash in `user_data`.
use std::sync::{Arc, Mutex, RwLock};

use sentinel_config::{Configuration, StampVerifier};
use sentinel_evidence::{AttestedKeys, Decision, ReceiptClaims, UserData};
use sentinel_nsm::{AttestationRequest, NsmProvider, Pcr, PCR_COUNT};
use sentinel_protocol::limits::{
    DEFAULT_MAX_KEYS, MAX_BODY_BYTES, MAX_NONCE_BYTES, MAX_PING_PAYLOAD_BYTES, MAX_TRANSACTION_BYTES,
};
use sentinel_protocol::{
    decode_body, Attestation, ConfigUpdated, Description, EnclaveError, EnclaveErrorCode, Evidence, ImportKeyArgs,
    Pong, Receipted, Request, Response, StampedArgs, PROTOCOL_VERSION,
};
use sha2::{Digest, Sha256};

use crate::decide::Decided;
use crate::keys::{Key, KeyStore};
use crate::policy::PolicyInfo;
use crate::sessions::ConnectionSessions;

/// What the enclave is launched with.
#[derive(Clone, Debug)]
pub struct EnclaveConfig {
    /// Keys this enclave may hold at once (`KEY_LIMIT_REACHED` past it).
    pub max_keys: usize,
    /// Entries of the stamp replay cache (`REPLAY_CACHE_FULL` past it).
    pub replay_cache_entries: usize,
    /// Checkpoint cadence and the unacknowledged-record bound of the audit log.
    pub audit: crate::audit::AuditPolicy,
    /// Keep the audit log closed until the host resumes the previous log or starts a new one.
    pub audit_resume: bool,
    /// The root (DER) a previous enclave's attestation document must chain to for its log to
    /// be resumed; `None`: no resume is possible (`AUDIT_RESUME_ATTESTATION`).
    pub attestation_root: Option<Vec<u8>>,
    /// Plaintext bytes per sealed part of a state snapshot (`src/snapshot.rs`; tests lower it to
    /// exercise several parts with a small state).
    pub snapshot_part_bytes: usize,
}

impl Default for EnclaveConfig {
    fn default() -> Self {
        EnclaveConfig {
            max_keys: DEFAULT_MAX_KEYS,
            replay_cache_entries: sentinel_config::DEFAULT_REPLAY_CACHE_CAPACITY,
            audit: crate::audit::AuditPolicy::default(),
            audit_resume: false,
            attestation_root: None,
            snapshot_part_bytes: crate::snapshot::PART_BYTES,
        }
    }
}

/// The configuration in force and the evidence that binds it.
pub(crate) struct Installed {
    pub(crate) config: Arc<Configuration>,
    pub(crate) signed_config: Vec<u8>,
    pub(crate) config_hash: [u8; 32],
    /// The boot attestation document for this configuration, and its SHA-256.
    pub(crate) attestation: Vec<u8>,
    pub(crate) attestation_hash: [u8; 32],
    /// The document this one replaced by [`Enclave::refresh_evidence`] (same keys, same
    /// configuration): a client that verified it just before the refresh can still open a session.
    pub(crate) previous_attestation_hash: Option<[u8; 32]>,
    /// The signed policy in force (its hash is in `user_data` and in every receipt).
    pub(crate) policy: Option<PolicyInfo>,
}

pub struct Enclave {
    pub(crate) keys: KeyStore,
    receipt_key: ed25519_dalek::SigningKey,
    pub(crate) session_secret: sentinel_session::SessionSecret,
    import_secret: sentinel_import::ImportSecret,
    attested_keys: Vec<u8>,
    pub(crate) nsm: Arc<dyn NsmProvider>,
    pcrs: [Pcr; PCR_COUNT],
    module_id: String,
    installed: RwLock<Option<Arc<Installed>>>,
    pub(crate) stamps: Mutex<StampVerifier>,
    /// Serialises configuration and policy updates and evidence refreshes.
    pub(crate) updating: Mutex<()>,
    /// The active policy with its counters and prices (`src/policy.rs`); `None` until one is installed.
    pub(crate) policy: Mutex<Option<sentinel_policy::Engine>>,
    /// Benchmarks only (simulator builds): sign without the policy stage, to measure what it adds.
    #[cfg(feature = "simulator")]
    pub(crate) skip_policy: std::sync::atomic::AtomicBool,
    /// Signatures and signed transactions released so far (tests and metrics: "nothing was signed").
    pub(crate) signatures_released: std::sync::atomic::AtomicU64,
    /// The kill switch, its trips and the approval queue (`src/oversight.rs`); Red at boot.
    pub(crate) oversight: crate::oversight::OversightState,
    /// The audit log (`src/audit.rs`): one record per decision and admin action.
    pub(crate) audit: crate::audit::AuditLog,
    /// A resume of the previous enclave's log in progress (`src/resume.rs`).
    pub(crate) resuming: Mutex<Option<crate::resume::Resuming>>,
    pub(crate) attestation_root: Option<Vec<u8>>,
    /// Sealed state (`src/sealing.rs`): the master key and the configuration lineage.
    pub(crate) sealing: crate::sealing::Sealing,
    /// How `sealing_unlock` reaches AWS KMS (`src/kms_unlock.rs`), when launched with one.
    pub(crate) kms: std::sync::OnceLock<Box<dyn crate::kms_unlock::KmsConnector>>,
    /// Held (read) by every request that may change decision state or append to the log, and
    /// (write) by `sealed_snapshot`, so a snapshot is one cut of state and log (`src/snapshot.rs`).
    pub(crate) state_gate: RwLock<()>,
    /// Keys the log deleted, and keys it created that no sealed record brought back.
    pub(crate) key_history: Mutex<crate::snapshot::KeyHistory>,
    /// The state snapshot taken last, in sealed parts, for the host to read (`sealed_snapshot`).
    pub(crate) held_snapshot: Mutex<Option<crate::snapshot::HeldSnapshot>>,
    pub(crate) snapshot_part_bytes: usize,
}

fn refuse(code: EnclaveErrorCode, message: impl Into<String>) -> Response {
    Response::error(&EnclaveError::new(code, message))
}

pub(crate) fn not_configured() -> Response {
    refuse(EnclaveErrorCode::NotConfigured, "the enclave has no configuration yet; send `update_config` first")
}

/// The enclave's clock, in microseconds since the Unix epoch. Read here, in
/// the enclave program, and passed to the pure crates as `now_us`.
pub fn now_us() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

impl Enclave {
    /// An enclave without sealing (keys in memory only: `--sealing none`).
    pub fn new(
        nsm: Arc<dyn NsmProvider>,
        module_id: String,
        config: &EnclaveConfig,
    ) -> Result<Self, sentinel_nsm::Error> {
        Self::with_sealing(nsm, module_id, config, crate::sealing::Sealing::none())
    }

    /// An enclave whose keys are sealed as `sealing` says (`src/sealing.rs`).
    pub fn with_sealing(
        nsm: Arc<dyn NsmProvider>,
        module_id: String,
        config: &EnclaveConfig,
        sealing: crate::sealing::Sealing,
    ) -> Result<Self, sentinel_nsm::Error> {
        // The protocol's limits are the NSM's and the decoder's; if they ever differ, one is wrong.
        const { assert!(MAX_NONCE_BYTES == sentinel_nsm::MAX_NONCE_LEN) };
        const { assert!(MAX_TRANSACTION_BYTES == sentinel_eth::MAX_TRANSACTION_BYTES) };
        let pcrs = nsm.describe_pcrs()?;
        let mut seed = zeroize::Zeroizing::new(crate::random_bytes::<32>());
        let receipt_key = ed25519_dalek::SigningKey::from_bytes(&seed);
        *seed = crate::random_bytes::<32>();
        let session_secret = sentinel_session::SessionSecret::from_bytes(*seed);
        *seed = crate::random_bytes::<32>();
        let import_secret = sentinel_import::ImportSecret::from_bytes(&seed);
        *seed = crate::random_bytes::<32>();
        let audit = crate::audit::AuditLog::new(
            ed25519_dalek::SigningKey::from_bytes(&seed),
            config.audit,
            config.audit_resume,
        );
        let attested_keys = AttestedKeys {
            receipt: receipt_key.verifying_key().to_bytes(),
            session: session_secret.public(),
            import: import_secret.public(),
            audit: audit.public_key(),
        }
        .to_bytes()
        .to_vec();
        Ok(Enclave {
            keys: KeyStore::new(config.max_keys),
            receipt_key,
            session_secret,
            import_secret,
            attested_keys,
            nsm,
            pcrs,
            module_id,
            installed: RwLock::new(None),
            stamps: Mutex::new(StampVerifier::new(config.replay_cache_entries)),
            updating: Mutex::new(()),
            policy: Mutex::new(None),
            #[cfg(feature = "simulator")]
            skip_policy: std::sync::atomic::AtomicBool::new(false),
            signatures_released: std::sync::atomic::AtomicU64::new(0),
            oversight: crate::oversight::OversightState::boot(),
            audit,
            resuming: Mutex::new(None),
            attestation_root: config.attestation_root.clone(),
            snapshot_part_bytes: config.snapshot_part_bytes.clamp(1, crate::snapshot::PART_BYTES),
            sealing,
            kms: std::sync::OnceLock::new(),
            state_gate: RwLock::new(()),
            key_history: Mutex::new(crate::snapshot::KeyHistory::default()),
            held_snapshot: Mutex::new(None),
        })
    }

    /// The attested key bundle (what attestation documents carry as `public_key`).
    pub fn attested_keys(&self) -> &[u8] {
        &self.attested_keys
    }

    pub fn pcrs(&self) -> &[Pcr; PCR_COUNT] {
        &self.pcrs
    }

    pub(crate) fn installed(&self) -> Option<Arc<Installed>> {
        self.installed.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Signatures (and signed transactions) released since boot.
    pub fn signatures_released(&self) -> u64 {
        self.signatures_released.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The audit log (its origin, verifier key, sizes).
    pub fn audit_log(&self) -> &crate::audit::AuditLog {
        &self.audit
    }

    /// With `--audit-strict-sessions`: the log size that must be durable before `response` may be
    /// written (a session answer whose record is not yet acknowledged); `None`: write it now.
    pub fn hold_until(&self, response: &Response) -> Option<u64> {
        if !self.audit.strict_sessions() {
            return None;
        }
        match response {
            Response::SessionFrame(answer) => answer.audit.as_ref().map(|a| a.seq + 1),
            _ => None,
        }
    }

    /// The audit log's checkpoint timer (the binary calls it every few milliseconds).
    pub fn audit_tick(&self) {
        self.audit.tick(now_us());
    }

    /// The way to AWS KMS for `sealing_unlock` (set once, at launch).
    pub fn set_kms_connector(&self, connector: Box<dyn crate::kms_unlock::KmsConnector>) {
        let _ = self.kms.set(connector);
    }

    /// Whether new keys are sealed (any provider but `none`).
    pub fn seals_keys(&self) -> bool {
        self.sealing.kind() != sentinel_seal::SealingKind::None
    }

    /// Where keys survive a restart (`--sealing`).
    pub fn sealing_kind(&self) -> sentinel_seal::SealingKind {
        self.sealing.kind()
    }

    /// The configuration hash in force, if any.
    pub fn config_hash(&self) -> Option<[u8; 32]> {
        self.installed().map(|i| i.config_hash)
    }

    /// Benchmarks only: from now on sign without evaluating any policy (receipts then list no
    /// rules). Exists only in simulator builds (local mode), never in the EIF; it is how
    /// `benches/policy.rs` measures the policy stage's cost against no policy at all.
    #[cfg(feature = "simulator")]
    pub fn unsafe_skip_policy_for_benchmarks(&self) {
        self.skip_policy.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The policy hash and version in force, if any.
    pub fn policy(&self) -> Option<([u8; 32], u64)> {
        self.installed().and_then(|i| i.policy.as_ref().map(|p| (p.hash, p.version)))
    }

    /// Requests that take milliseconds (P-384 attestation work): servers run them off the connection's thread.
    pub fn is_slow(request: &Request) -> bool {
        matches!(
            request,
            Request::Attest(_)
                | Request::UpdateConfig(_)
                | Request::UpdatePolicy(_)
                | Request::AuditWait(_)
                | Request::AuditResumeBegin(_)
                | Request::AuditResumeRecords(_)
                | Request::AuditResumeSnapshot(_)
                | Request::AuditResumeFinish(_)
                | Request::SealedLoad(_)
                | Request::ForwardSend(_)
                | Request::ForwardAccept(_)
                | Request::SealingUnlock(_)
        )
    }

    /// Whether a request may change decision state or append to the audit log: it then holds the read
    /// side of `state_gate` while it runs, so a state snapshot (`src/snapshot.rs`) is one cut. Reads,
    /// waits and the snapshot itself do not.
    fn changes_state(request: &Request) -> bool {
        !matches!(
            request,
            Request::Ping(_)
                | Request::Describe(_)
                | Request::Attest(_)
                | Request::Evidence(_)
                | Request::AuditRead(_)
                | Request::AuditWait(_)
                | Request::AuditAck(_)
                | Request::AuditCheckpoint(_)
                | Request::SealedState(_)
                | Request::SealedSnapshot(_)
        )
    }

    /// Answers a request that needs no connection state (what [`Enclave::is_slow`] selects, and tests).
    pub fn handle(&self, request: Request) -> Response {
        self.handle_on(&mut ConnectionSessions::default(), request)
    }

    /// Answers one request of a connection. Never panics on request content; failures are error responses.
    pub fn handle_on(&self, sessions: &mut ConnectionSessions, request: Request) -> Response {
        let _gate = Enclave::changes_state(&request).then(|| self.state_gate.read().unwrap_or_else(|p| p.into_inner()));
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
                attested_keys: self.attested_keys.clone(),
                pcrs: self.pcrs[..3].iter().map(|p| p.to_vec()).collect(),
                sealing: self.sealing.kind().as_str().to_string(),
            }),
            Request::Attest(args) => match self.installed() {
                Some(installed) => self.attest(args.nonce, &installed),
                None => not_configured(),
            },
            Request::Evidence(_) => match self.installed() {
                Some(i) => Response::Evidence(Box::new(Evidence {
                    attestation: i.attestation.clone(),
                    attestation_hash: i.attestation_hash.to_vec(),
                    signed_config: i.signed_config.clone(),
                    config_hash: i.config_hash.to_vec(),
                    config_version: i.config.version,
                    signed_policy: i.policy.as_ref().map(|p| p.signed.clone()),
                    policy_hash: i.policy.as_ref().map(|p| p.hash.to_vec()),
                    policy_version: i.policy.as_ref().map(|p| p.version),
                })),
                None => not_configured(),
            },
            Request::UpdateConfig(args) => self.update_config(&args.signed_config),
            Request::UpdatePolicy(args) => self.update_policy(&args),
            Request::UpdatePrices(args) => crate::policy::install_prices(&self.policy, &args.signed_prices),
            Request::PolicyDryRun(args) => self.policy_dry_run(args),
            Request::Stamped(args) => self.stamped(args),
            Request::SessionOpen(args) => sessions.open(self, &args.handshake),
            Request::SessionFrame(args) => sessions.frame(self, &args.session_id, &args.frame),
            Request::SessionClose(args) => sessions.close(&args.session_id),
            // Until the log is open (a resume pending) the kill switch is the log's to restore.
            Request::Oversight(_) | Request::Approval(_) | Request::ListApprovals(_) if !self.audit.is_open() => {
                Response::error(&crate::audit::not_open())
            }
            Request::Oversight(args) => self.oversight_command(&args),
            Request::OversightChallenge(_) => self.oversight_challenge(),
            Request::Approval(args) => self.approval_command(&args),
            Request::ListApprovals(args) => self.list_approvals(&args),
            Request::ApprovalResult(args) => self.approval_result(&args),
            Request::AuditRead(args) => self.audit.read(args.from, args.max),
            Request::AuditWait(args) => {
                self.audit.wait(args.from, args.max, std::time::Duration::from_millis(args.timeout_ms))
            }
            Request::AuditAck(args) => self.audit.ack(args.durable),
            Request::AuditCheckpoint(_) => self.audit.checkpoint(now_us()),
            Request::AuditResumeBegin(args) => self.resume_begin(&args),
            Request::AuditResumeRecords(args) => self.resume_records(&args.records),
            Request::AuditResumeFinish(_) => self.resume_finish(),
            Request::AuditStart(_) => self.audit_start(),
            Request::SealedLoad(args) => self.sealed_load(&args.records),
            Request::SealedState(_) => self.sealed_state(),
            Request::ForwardSend(args) => self.forward_send(&args),
            Request::ForwardAccept(args) => self.forward_accept(&args),
            Request::SealingUnlock(args) => self.sealing_unlock(&args),
            Request::AdminDeleteKey(args) => self.admin_delete_key(&args.order),
            Request::SealedSnapshot(args) => self.sealed_snapshot(args.part.unwrap_or(0)),
            Request::AuditResumeSnapshot(args) => self.resume_snapshot(&args.part),
        }
    }

    fn attest(&self, nonce: Vec<u8>, installed: &Installed) -> Response {
        if nonce.is_empty() || nonce.len() > MAX_NONCE_BYTES {
            return refuse(
                EnclaveErrorCode::InvalidNonce,
                format!("nonce: must be 1 to {MAX_NONCE_BYTES} bytes, found {}", nonce.len()),
            );
        }
        match self.attestation_document(Some(nonce), &installed.config_hash, installed.policy.as_ref()) {
            Ok(document) => Response::Attestation(Attestation { document }),
            Err(e) => Response::error(&e),
        }
    }

    fn attestation_document(
        &self,
        nonce: Option<Vec<u8>>,
        config_hash: &[u8; 32],
        policy: Option<&PolicyInfo>,
    ) -> Result<Vec<u8>, sentinel_nsm::Error> {
        let user_data = UserData { config_hash: *config_hash, policy_hash: policy.map(|p| p.hash) };
        let request = AttestationRequest {
            user_data: Some(user_data.to_bytes().to_vec()),
            nonce,
            public_key: Some(self.attested_keys.clone()),
        };
        self.nsm.attestation(&request)
    }

    /// Installs a configuration: the first one on trust (it must meet its own
    /// admin quorum), later ones only with a higher version and the current
    /// admins' quorum. A new boot attestation document binds the new hash.
    fn update_config(&self, signed: &[u8]) -> Response {
        // One update at a time; signing continues under the old configuration until the swap.
        let _one = self.updating.lock().unwrap_or_else(|p| p.into_inner());
        let verified = match self.installed() {
            None => sentinel_config::SignedConfig::verify_initial(signed),
            Some(current) => current.config.verify_update(signed),
        };
        let config = match verified {
            Ok(config) => config,
            Err(e) => return Response::error(&e),
        };
        let config_hash = config.config_hash();
        let first = self.installed().is_none();
        // The policy stays in force across configuration updates (the new admins sign the next one).
        let policy = self.installed().and_then(|i| i.policy.clone());
        let attestation = match self.attestation_document(None, &config_hash, policy.as_ref()) {
            Ok(document) => document,
            Err(e) => return Response::error(&e),
        };
        let attestation_hash: [u8; 32] = Sha256::digest(&attestation).into();
        let version = config.version;
        self.oversight.reconfigure(&config);
        let installed = Installed {
            config: Arc::new(config),
            signed_config: signed.to_vec(),
            config_hash,
            attestation,
            attestation_hash,
            previous_attestation_hash: None,
            policy,
        };
        *self.installed.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(installed));
        if first {
            // Trusted on first use: it starts a lineage (a sealed configuration record may then
            // name the one it belongs to: src/sealing.rs). Updates keep the lineage.
            self.sealing.set_lineage(sentinel_seal::Lineage::of_first_configuration(&config_hash));
        }
        self.record_admin(sentinel_audit::RecordKind::Config, "admins", signed, config_hash, Vec::new());
        tracing::info!(version, config_hash = %hex::encode(config_hash), "configuration installed");
        Response::ConfigUpdated(ConfigUpdated {
            config_hash: config_hash.to_vec(),
            version,
            attestation_hash: attestation_hash.to_vec(),
        })
    }

    /// Replaces the boot attestation document with a fresh one for the same
    /// keys and configuration. Attestation leaf certificates are valid for
    /// about three hours (AWS and the simulator alike), so a long-running
    /// enclave refreshes its evidence (the binary every `--evidence-refresh-secs`)
    /// to keep receipts verifiable at the current time. Receipts then name the
    /// new document; the previous one still completes session handshakes.
    /// Returns the new document's hash, or `None` when not configured.
    pub fn refresh_evidence(&self) -> Result<Option<[u8; 32]>, sentinel_nsm::Error> {
        let _one = self.updating.lock().unwrap_or_else(|p| p.into_inner());
        let Some(current) = self.installed() else { return Ok(None) };
        let attestation = self.attestation_document(None, &current.config_hash, current.policy.as_ref())?;
        let attestation_hash: [u8; 32] = Sha256::digest(&attestation).into();
        let installed = Installed {
            config: current.config.clone(),
            signed_config: current.signed_config.clone(),
            config_hash: current.config_hash,
            attestation,
            attestation_hash,
            previous_attestation_hash: Some(current.attestation_hash),
            policy: current.policy.clone(),
        };
        *self.installed.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(installed));
        Ok(Some(attestation_hash))
    }

    /// Installs a policy signed by the configuration's admin quorum with a
    /// version above the active one, and a boot attestation document whose
    /// `user_data` binds its hash. Counters of rules that keep their id and
    /// type carry over; the price table stays until the feed signs a new one.
    fn update_policy(&self, args: &sentinel_protocol::UpdatePolicyArgs) -> Response {
        let _one = self.updating.lock().unwrap_or_else(|p| p.into_inner());
        let Some(current) = self.installed() else { return not_configured() };
        let models: Vec<Vec<u8>> = args.models.iter().map(|m| m.onnx.clone()).collect();
        let active_version = current.policy.as_ref().map(|p| p.version);
        let (active, info) =
            match crate::policy::verify_policy(&args.signed_policy, &models, &current.config.admins, active_version) {
                Ok(v) => v,
                Err(response) => return response,
            };
        let attestation = match self.attestation_document(None, &current.config_hash, Some(&info)) {
            Ok(document) => document,
            Err(e) => return Response::error(&e),
        };
        let attestation_hash: [u8; 32] = Sha256::digest(&attestation).into();
        let answer = sentinel_protocol::PolicyUpdated {
            policy_hash: info.hash.to_vec(),
            version: info.version,
            attestation_hash: attestation_hash.to_vec(),
        };
        let installed = Installed {
            config: current.config.clone(),
            signed_config: current.signed_config.clone(),
            config_hash: current.config_hash,
            attestation,
            attestation_hash,
            previous_attestation_hash: None,
            policy: Some(info),
        };
        {
            // Swap the engine and the evidence together: no request is evaluated under the new
            // policy while receipts still name the old attestation, or the other way round.
            let mut engine = self.policy.lock().unwrap_or_else(|p| p.into_inner());
            match engine.as_mut() {
                Some(engine) => engine.replace_policy(active),
                None => *engine = Some(sentinel_policy::Engine::new(active)),
            }
            *self.installed.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(installed));
        }
        let policy_hash: [u8; 32] = answer.policy_hash.as_slice().try_into().expect("32 bytes");
        self.record_admin(sentinel_audit::RecordKind::Policy, "admins", &args.signed_policy, policy_hash, Vec::new());
        tracing::info!(version = answer.version, policy_hash = %hex::encode(&answer.policy_hash), "policy installed");
        Response::PolicyUpdated(answer)
    }

    /// A dry run: authenticate exactly as `stamped` does, then report what the
    /// policy would decide now (nothing signed, nothing counted, no receipt).
    fn policy_dry_run(&self, args: StampedArgs) -> Response {
        let Some(installed) = self.installed() else { return not_configured() };
        let now = now_us();
        let operation = match decode_body(&args.body) {
            Ok(operation) => operation,
            Err(e) => return refuse(EnclaveErrorCode::InvalidBody, format!("{}: {}", e.code(), e.message)),
        };
        let Some(stamp) = args.stamp else {
            return refuse(EnclaveErrorCode::StampMissing, "stamp: every operation must be stamped by a principal");
        };
        let stamp = sentinel_config::Stamp {
            principal: stamp.principal,
            timestamp_us: stamp.timestamp_us,
            nonce: stamp.nonce,
            signature: stamp.signature,
        };
        let verified = {
            let mut stamps = self.stamps.lock().unwrap_or_else(|p| p.into_inner());
            stamps.verify(&installed.config, operation.wire_name(), &args.body, &stamp, now).cloned()
        };
        match verified {
            Ok(principal) => self.dry_run(&principal, operation),
            Err(e) => Response::error(&e),
        }
    }

    /// The stamp path: decode the body, authenticate the stamp over exactly
    /// those bytes, decide, and answer with a receipt (refusals too).
    fn stamped(&self, args: StampedArgs) -> Response {
        let Some(installed) = self.installed() else { return not_configured() };
        let now = now_us();
        let claimed = args.stamp.as_ref().map(|s| s.principal.clone()).unwrap_or_default();
        let mut receipt = ReceiptInput {
            request_id: crate::random_bytes::<16>(),
            principal: claimed,
            op: String::new(),
            body: &args.body,
            now,
            stamp: None,
        };
        if args.body.len() > MAX_BODY_BYTES {
            let d =
                Decided::refused(EnclaveErrorCode::PayloadTooLarge, format!("body: at most {MAX_BODY_BYTES} bytes"));
            return self.receipted(&installed, &receipt, d);
        }
        let operation = match decode_body(&args.body) {
            Ok(operation) => operation,
            Err(e) => {
                let d = Decided::refused(EnclaveErrorCode::InvalidBody, format!("{}: {}", e.code(), e.message));
                return self.receipted(&installed, &receipt, d);
            }
        };
        receipt.op = operation.wire_name().to_string();
        let Some(stamp) = args.stamp else {
            let d = Decided::refused(
                EnclaveErrorCode::StampMissing,
                "stamp: every operation must be stamped by a principal",
            );
            return self.receipted(&installed, &receipt, d);
        };
        let stamp = sentinel_config::Stamp {
            principal: stamp.principal,
            timestamp_us: stamp.timestamp_us,
            nonce: stamp.nonce,
            signature: stamp.signature,
        };
        let verified = {
            let mut stamps = self.stamps.lock().unwrap_or_else(|p| p.into_inner());
            stamps.verify(&installed.config, &receipt.op, &args.body, &stamp, now).cloned()
        };
        match verified {
            Ok(principal) => {
                // Its audit record says which stamp was accepted, for a restarted enclave's replay cache.
                receipt.stamp = Some((sentinel_config::replay_key(&principal.id, &stamp.nonce), stamp.timestamp_us));
                let decided = self.decide(&principal, operation);
                self.answer(&installed, &receipt, decided, &principal)
            }
            Err(e) => self.receipted(&installed, &receipt, Decided::answer(Response::error(&e))),
        }
    }

    /// The receipted answer of a decided request, or, when it must wait for approvers, its
    /// pending answer (the request is held: `src/oversight.rs`).
    pub(crate) fn answer(
        &self,
        installed: &Installed,
        input: &ReceiptInput<'_>,
        mut decided: Decided,
        principal: &sentinel_config::Principal,
    ) -> Response {
        match (decided.hold.take(), decided.held_operation.take()) {
            (Some(reason), Some(operation)) => self.hold(installed, input, decided, reason, (principal, *operation)),
            _ => self.receipted(installed, input, decided),
        }
    }

    pub(crate) fn receipted(&self, installed: &Installed, input: &ReceiptInput<'_>, decided: Decided) -> Response {
        let (receipt, audit) = self.record_and_receipt(installed, input, &decided);
        Response::Receipted(Receipted { answer: Box::new(decided.response), receipt, audit, sealed: decided.sealed })
    }

    /// Records one decision in the audit log and signs its receipt, which names the record.
    pub(crate) fn record_and_receipt(
        &self,
        installed: &Installed,
        input: &ReceiptInput<'_>,
        decided: &Decided,
    ) -> (Vec<u8>, Option<sentinel_protocol::AuditEntry>) {
        let appended = self.record_decision(input, decided);
        let receipt = self.receipt(installed, input, decided, appended.as_ref());
        (receipt, appended.map(|a| a.entry))
    }

    /// The audit record of one decision (`None` past the log's hard bound; see `src/audit.rs`).
    pub(crate) fn record_decision(
        &self,
        input: &ReceiptInput<'_>,
        decided: &Decided,
    ) -> Option<crate::audit::Appended> {
        self.audit.append(input.now, |seq, prev_hash| crate::audit::decision_record(seq, prev_hash, input, decided))
    }

    /// Signs the receipt of one decision (naming its audit record, if it has one).
    pub(crate) fn receipt(
        &self,
        installed: &Installed,
        input: &ReceiptInput<'_>,
        decided: &Decided,
        audit: Option<&crate::audit::Appended>,
    ) -> Vec<u8> {
        let code = match &decided.response {
            Response::Error(e) => Some(e.code.clone()),
            _ => None,
        };
        let oversight = decided.oversight.clone().unwrap_or_else(|| {
            crate::oversight::read(&self.oversight.switch).effective(
                decided.key_id.as_deref(),
                &input.principal,
                input.now,
            )
        });
        let claims = ReceiptClaims {
            request_id: input.request_id,
            timestamp_us: input.now,
            principal: input.principal.clone(),
            key_id: decided.key_id.clone(),
            op: input.op.clone(),
            payload_hash: Sha256::digest(input.body).into(),
            decision: if code.is_some() { Decision::Denied } else { Decision::Allowed },
            code,
            result_hash: decided.result_hash,
            rules_evaluated: decided
                .rules
                .iter()
                .map(|r| sentinel_evidence::RuleEvaluated {
                    rule: r.rule.clone(),
                    rule_type: r.rule_type.clone(),
                    result: r.result.clone(),
                    value: r.value.clone(),
                    limit: r.limit.clone(),
                    window: r.window.clone(),
                    detail: r.detail.clone(),
                })
                .collect(),
            config_hash: installed.config_hash,
            policy_hash: installed.policy.as_ref().map(|p| p.hash),
            attestation_hash: installed.attestation_hash,
            oversight_state: oversight.level.as_str().to_string(),
            oversight_scope: oversight.scope.to_string(),
            approvals: decided.approvals.clone(),
            audit_seq: audit.map(|a| a.entry.seq),
            audit_checkpoint: audit.and_then(|a| a.checkpoint.as_deref().map(str::to_string)),
            // Read from the answer itself, so the signed claim and the answer's mark cannot differ.
            key_storage: match &decided.response {
                Response::KeyGenerated(key) => Some(key.storage.clone()),
                _ => None,
            },
        };
        sentinel_evidence::sign_receipt(&claims, &self.receipt_key)
    }

    /// Records an admin action that took effect: `signed` is what was signed (its SHA-256 is the
    /// record's request digest), `result` the hash of what is now in force.
    pub(crate) fn record_admin(
        &self,
        kind: sentinel_audit::RecordKind,
        by: &str,
        signed: &[u8],
        result: [u8; 32],
        effects: Vec<sentinel_audit::record::Effect>,
    ) {
        let now = now_us();
        let request: [u8; 32] = Sha256::digest(signed).into();
        self.audit.append(now, |seq, prev| {
            crate::audit::admin_record(seq, prev, now, kind, by, Some(request), Some(result), effects)
        });
        // Rare, and what a resumed log must prove it ended with: checkpointed at once, so it is never
        // in the unverified tail a restarted enclave discounts (src/resume.rs).
        self.audit.sign_current(now);
    }

    /// Opens a master key a peer enclave sealed to this enclave's attested import key (`src/forwarding.rs`).
    pub(crate) fn open_forwarded(
        &self,
        info: &[u8],
        enc: &[u8],
        ciphertext: &[u8],
    ) -> Result<zeroize::Zeroizing<[u8; sentinel_import::FORWARD_PAYLOAD_LEN]>, sentinel_import::ImportError> {
        sentinel_import::open_forward(&self.import_secret, info, enc, ciphertext)
    }

    /// Opens an HPKE-sealed key import bound to `principal` and the key's label, curve and purpose.
    pub(crate) fn open_import(&self, principal: &str, args: &ImportKeyArgs) -> Result<Box<Key>, Response> {
        let context = sentinel_import::ImportContext {
            principal: principal.to_string(),
            label: args.label.clone(),
            curve: match args.curve {
                sentinel_protocol::Curve::Secp256k1 => sentinel_import::Curve::Secp256k1,
                sentinel_protocol::Curve::Ed25519 => sentinel_import::Curve::Ed25519,
            },
            purpose: match args.purpose {
                sentinel_protocol::KeyPurpose::Ethereum => sentinel_import::KeyPurpose::Ethereum,
                sentinel_protocol::KeyPurpose::Raw => sentinel_import::KeyPurpose::Raw,
            },
        };
        let secret = sentinel_import::open_import(&self.import_secret, &context, &args.enc, &args.ciphertext)
            .map_err(|e| Response::error(&e))?;
        Key::from_secret(args.curve, secret.expose_secret()).map_err(|e| Response::error(&e))
    }
}

/// What a receipt records about the request itself.
pub(crate) struct ReceiptInput<'a> {
    /// 16 random bytes; a held request keeps its id through to its final receipt.
    pub(crate) request_id: [u8; 16],
    pub(crate) principal: String,
    pub(crate) op: String,
    pub(crate) body: &'a [u8],
    pub(crate) now: u64,
    /// The accepted stamp's replay key and timestamp (stamped requests only).
    pub(crate) stamp: Option<([u8; 32], u64)>,
}
