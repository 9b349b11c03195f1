/* Generated from crates/protocol by `UPDATE_GENERATED=1 cargo test -p sentinel-protocol typescript`.
   Do not edit: a test fails when this file and the Rust definitions differ. */

export type Curve = "secp256k1" | "ed25519";

export type KeyPurpose = "ethereum" | "raw";

export type Stamp = { principal: string, timestamp_us: bigint, nonce: Uint8Array, signature: Uint8Array, };

export type PingArgs = { payload: Uint8Array, };

export type DescribeArgs = Record<symbol, never>;

export type AttestArgs = { nonce: Uint8Array, };

export type EvidenceArgs = Record<symbol, never>;

export type UpdateConfigArgs = { 
/**
 * The signed configuration envelope (docs/configuration.md).
 */
signed_config: Uint8Array, };

export type PolicyModel = { onnx: Uint8Array, };

export type UpdatePolicyArgs = { 
/**
 * The signed policy envelope, JSON text as UTF-8 (docs/policy.md).
 */
signed_policy: Uint8Array, 
/**
 * The models its `risk_score` rules pin (exactly those; checked by hash).
 */
models: Array<PolicyModel>, };

export type UpdatePricesArgs = { 
/**
 * The signed price table, JSON text as UTF-8 (docs/policy.md).
 */
signed_prices: Uint8Array, };

export type StampedArgs = { 
/**
 * The exact operation body the stamp signs: a CBOR map `{op, ...args}`.
 */
body: Uint8Array, stamp: Stamp | null, };

export type SessionOpenArgs = { handshake: Uint8Array, };

export type SessionFrameArgs = { session_id: Uint8Array, frame: Uint8Array, };

export type SessionCloseArgs = { session_id: Uint8Array, };

export type OversightSignature = { 
/**
 * An overseer's or approver's id in the configuration.
 */
signer: string, signature: Uint8Array, };

export type OversightArgs = { 
/**
 * The command, canonical CBOR (`sentinel_oversight::Command`); signers sign
 * SHA-256("sentinel/oversight/v1" || command).
 */
command: Uint8Array, signatures: Array<OversightSignature>, };

export type OversightChallengeArgs = Record<symbol, never>;

export type ApprovalResultArgs = { 
/**
 * 16 bytes: the held request's id (its receipt's `request_id`).
 */
request_id: Uint8Array, };

export type AuditReadArgs = { 
/**
 * The first sequence number wanted (the host's next record to store).
 */
from: bigint, 
/**
 * At most this many records (the enclave caps it too).
 */
max: bigint, };

export type AuditWaitArgs = { 
/**
 * The first sequence number wanted (the host's next record to store).
 */
from: bigint, 
/**
 * At most this many records (the enclave caps it too).
 */
max: bigint, 
/**
 * How long to wait for one, in milliseconds (capped at 5000); then an empty answer.
 */
timeout_ms: bigint, };

export type AuditAckArgs = { 
/**
 * Records `0..durable` are stored durably by the host.
 */
durable: bigint, };

export type AuditCheckpointArgs = Record<symbol, never>;

export type AuditResumeBeginArgs = { 
/**
 * A boot attestation document of the enclave that signed `checkpoint` (its attested
 * key bundle names the audit key), as the host stored it with the log.
 */
attestation: Buffer, 
/**
 * The latest checkpoint of the log (a signed note).
 */
checkpoint: Buffer, 
/**
 * The first part of the latest sealed state snapshot of this log (`sealed_snapshot`), if
 * the host has one; its other parts follow with `audit_resume_snapshot`, then the records
 * from its position (`audit_resume_progress.next`).
 */
snapshot?: Buffer | null, };

export type AuditResumeRecordsArgs = { 
/**
 * The next records, in order (at most `MAX_AUDIT_READ_RECORDS` and `MAX_AUDIT_READ_BYTES`).
 */
records: Array<Buffer>, };

export type AuditResumeSnapshotArgs = { 
/**
 * One sealed snapshot part, as `sealed_snapshot` answered it.
 */
part: Buffer, };

export type AuditResumeFinishArgs = Record<symbol, never>;

export type AuditStartArgs = Record<symbol, never>;

export type SealedLoadArgs = { 
/**
 * Sealed records, at most `MAX_AUDIT_READ_RECORDS` and `MAX_AUDIT_READ_BYTES` per request.
 */
records: Array<Buffer>, };

export type SealedStateArgs = Record<symbol, never>;

export type SealedSnapshotArgs = { 
/**
 * 0 (or absent): take a new snapshot and answer its first part; `i` > 0: answer part `i`
 * of the snapshot taken last.
 */
part?: bigint, };

export type ForwardSendArgs = { 
/**
 * The receiving enclave's boot attestation document (its `evidence`).
 */
peer_attestation: Buffer, 
/**
 * A signed upgrade approval (docs/sealed-state.md), needed when the peer's PCR0 differs.
 */
upgrade_approval: Buffer | null, };

export type ForwardAcceptArgs = { 
/**
 * What `forward_send` answered.
 */
sender_attestation: Buffer, enc: Buffer, ciphertext: Buffer, 
/**
 * The same upgrade approval, when the sender's PCR0 differs from this enclave's.
 */
upgrade_approval: Buffer | null, };

export type SealingUnlockArgs = { 
/**
 * The KMS key (id, ARN or alias) whose policy admits this enclave's PCR0.
 */
key_id: string, region: string, 
/**
 * The endpoint's DNS name (TLS server name); `None`: `kms.<region>.amazonaws.com`.
 */
endpoint: string | null, access_key_id: string, secret_access_key: string, session_token: string | null, 
/**
 * The `CiphertextBlob` the first unlock answered; `None` on the first boot.
 */
ciphertext_blob: Buffer | null, };

export type AdminDeleteKeyArgs = { 
/**
 * The signed order (canonical CBOR `{approval, signatures}` over a `sentinel/key-deletion/v1` document).
 */
order: Buffer, };

export type Request = { "op": "ping" } & PingArgs | { "op": "describe" } & DescribeArgs | { "op": "attest" } & AttestArgs | { "op": "evidence" } & EvidenceArgs | { "op": "update_config" } & UpdateConfigArgs | { "op": "update_policy" } & UpdatePolicyArgs | { "op": "update_prices" } & UpdatePricesArgs | { "op": "policy_dry_run" } & StampedArgs | { "op": "stamped" } & StampedArgs | { "op": "session_open" } & SessionOpenArgs | { "op": "session_frame" } & SessionFrameArgs | { "op": "session_close" } & SessionCloseArgs | { "op": "oversight" } & OversightArgs | { "op": "oversight_challenge" } & OversightChallengeArgs | { "op": "approval" } & OversightArgs | { "op": "list_approvals" } & OversightArgs | { "op": "approval_result" } & ApprovalResultArgs | { "op": "audit_read" } & AuditReadArgs | { "op": "audit_wait" } & AuditWaitArgs | { "op": "audit_ack" } & AuditAckArgs | { "op": "audit_checkpoint" } & AuditCheckpointArgs | { "op": "audit_resume_begin" } & AuditResumeBeginArgs | { "op": "audit_resume_records" } & AuditResumeRecordsArgs | { "op": "audit_resume_snapshot" } & AuditResumeSnapshotArgs | { "op": "audit_resume_finish" } & AuditResumeFinishArgs | { "op": "audit_start" } & AuditStartArgs | { "op": "sealed_load" } & SealedLoadArgs | { "op": "sealed_state" } & SealedStateArgs | { "op": "forward_send" } & ForwardSendArgs | { "op": "forward_accept" } & ForwardAcceptArgs | { "op": "sealing_unlock" } & SealingUnlockArgs | { "op": "admin_delete_key" } & AdminDeleteKeyArgs | { "op": "sealed_snapshot" } & SealedSnapshotArgs;

export type GenerateKeyArgs = { curve: Curve, purpose: KeyPurpose, 
/**
 * The operator's name for the key (configuration permissions can name labels).
 */
label: string, };

export type ImportKeyArgs = { curve: Curve, purpose: KeyPurpose, label: string, 
/**
 * HPKE encapsulated key (32 bytes, X25519).
 */
enc: Uint8Array, ciphertext: Uint8Array, };

export type ListKeysArgs = Record<symbol, never>;

export type DeleteKeyArgs = { key_id: string, };

export type SignDigestArgs = { key_id: string, digest: Uint8Array, };

export type SignEthereumTransactionArgs = { key_id: string, unsigned_tx: Uint8Array, };

export type SignPersonalMessageArgs = { key_id: string, message: Uint8Array, };

export type SignTypedDataArgs = { key_id: string, 
/**
 * EIP-712 typed data as JSON text (`{types, primaryType, domain, message}`).
 */
typed_data: string, };

export type SignEd25519Args = { key_id: string, 
/**
 * 1 to `MAX_ED25519_MESSAGE_BYTES` bytes, signed as they are (pure Ed25519).
 */
message: Uint8Array, };

export type Operation = { "op": "generate_key" } & GenerateKeyArgs | { "op": "import_key" } & ImportKeyArgs | { "op": "list_keys" } & ListKeysArgs | { "op": "delete_key" } & DeleteKeyArgs | { "op": "sign_digest" } & SignDigestArgs | { "op": "sign_ethereum_transaction" } & SignEthereumTransactionArgs | { "op": "sign_personal_message" } & SignPersonalMessageArgs | { "op": "sign_typed_data" } & SignTypedDataArgs | { "op": "sign_ed25519" } & SignEd25519Args;

export type SessionRequest = { 
/**
 * The client's own correlation id, echoed in the answer.
 */
id: bigint, 
/**
 * Ask for a signed receipt with the answer.
 */
receipt: boolean, 
/**
 * The operation body, as in a stamped request.
 */
body: Uint8Array, };

export type SessionAnswer = { id: bigint, answer: Response, receipt: Buffer | null, };

export type Pong = { payload: Buffer, };

export type Description = { protocol_version: number, module_id: string, 
/**
 * The attested key bundle (what attestation documents carry as `public_key`):
 * `0x02 || receipt key (Ed25519) || session key (X25519) || import key (X25519) || audit key (Ed25519)`.
 */
attested_keys: Buffer, 
/**
 * PCR0, PCR1, PCR2 (48 bytes each).
 */
pcrs: Array<Buffer>, 
/**
 * Where keys survive a restart: `aws-kms`, `development` (a key file on the host's disk:
 * never production) or `none` (memory only: every key is ephemeral).
 */
sealing: string, };

export type Attestation = { 
/**
 * COSE_Sign1 attestation document.
 */
document: Buffer, };

export type Evidence = { 
/**
 * The boot attestation document (COSE_Sign1): binds the receipt, session and import keys and the configuration hash.
 */
attestation: Buffer, 
/**
 * SHA-256 of `attestation` (what receipts carry as `attestation_hash`).
 */
attestation_hash: Buffer, 
/**
 * The signed configuration in force.
 */
signed_config: Buffer, config_hash: Buffer, config_version: bigint, 
/**
 * The signed policy in force (JSON text as UTF-8), its hash and version; null before one is installed.
 */
signed_policy: Buffer | null, policy_hash: Buffer | null, policy_version: bigint | null, };

export type ConfigUpdated = { config_hash: Buffer, version: bigint, 
/**
 * SHA-256 of the new boot attestation document (it binds the new configuration hash).
 */
attestation_hash: Buffer, };

export type PolicyUpdated = { policy_hash: Buffer, version: bigint, 
/**
 * SHA-256 of the new boot attestation document (its `user_data` binds the policy hash).
 */
attestation_hash: Buffer, };

export type PricesUpdated = { timestamp_s: bigint, entries: bigint, };

export type RuleEvaluated = { rule: string, type: string, result: string, value: string | null, limit: string | null, window: string | null, detail: string | null, };

export type PolicyEvaluation = { 
/**
 * `allowed`, `denied` or `approval_required`.
 */
decision: string, 
/**
 * The refusal code when not allowed (`POLICY_DENIED`, `POLICY_NO_MATCH`, ... or an earlier stage's).
 */
code: string | null, policy_hash: Buffer | null, rules_evaluated: Array<RuleEvaluated>, };

export type Receipted = { answer: Response, 
/**
 * COSE_Sign1 receipt (docs/receipts.md).
 */
receipt: Buffer, 
/**
 * This answer's audit record (its `seq` is the receipt's `audit_seq`): in strict mode the
 * host stores it durably before it releases the answer (docs/audit.md).
 */
audit: AuditEntry | null, 
/**
 * A key this answer created, sealed (docs/sealed-state.md): the host stores it durably
 * (atomic replace) before it releases the answer, so no key id reaches a client that a
 * restart would lose. `None` for every other answer, and when sealing is `none`.
 */
sealed: SealedRecord | null, };

export type AuditEntry = { seq: bigint, record: Buffer, };

export type AuditRecords = { 
/**
 * The sequence number of `records[0]`.
 */
from: bigint, records: Array<Buffer>, 
/**
 * Records made so far (the next record's sequence number).
 */
size: bigint, 
/**
 * What the host last acknowledged as durable.
 */
durable: bigint, 
/**
 * The latest signed checkpoint (C2SP tlog-checkpoint as a signed note), if any.
 */
checkpoint: Buffer | null, 
/**
 * The log's origin (the checkpoint key's name) and verifier key (Go `sumdb/note` text form).
 */
origin: string, verifier_key: string, };

export type AuditAcked = { durable: bigint, };

export type AuditResumeProgress = { 
/**
 * The sequence number of the next record expected.
 */
next: bigint, 
/**
 * The size of the checkpoint being resumed from.
 */
checkpoint_size: bigint, 
/**
 * Parts of the sealed state snapshot still expected (`audit_resume_snapshot`) before any record.
 */
snapshot_parts_missing: bigint, };

export type AuditResumed = { 
/**
 * Whether a previous log was continued (false: `audit_start`, a new log).
 */
resumed: boolean, 
/**
 * The log's origin (unchanged by a resume) and this enclave's verifier key for it.
 */
origin: string, verifier_key: string, 
/**
 * The previous enclave's verifier key (resumes only).
 */
previous_verifier_key: string | null, 
/**
 * Records in the log before this enclave's first one.
 */
size: bigint, 
/**
 * Of those, covered by the checkpoint resumed from (the rest, the tail, only by their hash chain).
 */
covered: bigint, 
/**
 * The sequence number of this enclave's `log_resumed` record (resumes only).
 */
resumed_seq: bigint | null, 
/**
 * State changes replayed from the records, and those not applied (a rule no longer in
 * the policy, or a tail record that would loosen the kill switch).
 */
effects_applied: bigint, effects_skipped: bigint, 
/**
 * The kill switch as rebuilt: the global level and every scope not Green (`scope=level`).
 */
global_level: string, scopes: Array<string>, 
/**
 * Keys the log deleted that sealed records had brought back: wiped again (at most 256 ids listed).
 */
keys_wiped: bigint, keys_wiped_ids: Array<string>, 
/**
 * Keys the log created that no sealed record brought back: unavailable (at most 256 ids listed).
 */
keys_missing: bigint, keys_missing_ids: Array<string>, 
/**
 * The log position of the sealed snapshot the state started from (`None`: the whole
 * log was replayed).
 */
snapshot_size: bigint | null, };

export type SealedRecord = { kind: string, name: string, version: bigint, record: Buffer, };

export type SealedLoaded = { 
/**
 * Records opened and in force (keys held, configuration lineage adopted).
 */
loaded: bigint, 
/**
 * Records refused: each stays unusable (a key is not held; it is never re-created).
 */
refused: Array<SealedRefusal>, 
/**
 * Keys the enclave holds now.
 */
keys: bigint, 
/**
 * The configuration lineage in force (hex), once a configuration is installed.
 */
lineage: string | null, };

export type SealedRefusal = { 
/**
 * The record's position in the request.
 */
index: bigint, 
/**
 * The kind and name its clear header claims (empty when the header does not parse).
 */
kind: string, name: string, code: string, message: string, };

export type SealedStateAnswer = { 
/**
 * `aws-kms`, `development` or `none` (keys live in memory only: ephemeral).
 */
sealing: string, 
/**
 * The configuration lineage in force (hex), once a configuration is installed.
 */
lineage: string | null, 
/**
 * The configuration record (sealed now; `None` when not configured or sealing is `none`).
 */
configuration: SealedRecord | null, };

export type SealedSnapshotAnswer = { 
/**
 * One part of the sealed snapshot (kind `state`, name `<snapshot id>/<part>/<parts>`,
 * version = `size`): a snapshot is sealed in parts of at most 512 KiB so each fits a frame.
 */
record: SealedRecord, part: bigint, parts: bigint, 
/**
 * The audit log position it was made at: records `0 .. size` are in it.
 */
size: bigint, 
/**
 * The checkpoint signed at `size` (a signed note): store it with the log before the
 * snapshot, or a resume finds the log older than the snapshot.
 */
checkpoint: Buffer, 
/**
 * How long decisions paused while it was taken, in microseconds.
 */
paused_us: bigint, };

export type ForwardSent = { 
/**
 * The sender's boot attestation document (the receiver checks it).
 */
attestation: Buffer, 
/**
 * HPKE `enc` and ciphertext of the master key and lineage, to the receiver's import key.
 */
enc: Buffer, ciphertext: Buffer, };

export type ForwardAccepted = { 
/**
 * The lineage this enclave now seals under (hex): the sender's.
 */
lineage: string, 
/**
 * The sender's PCR0 (hex), as its document attested it.
 */
sender_pcr0: string, };

export type SealingUnlocked = { 
/**
 * The `CiphertextBlob` for the host to store (not secret: only an enclave KMS admits opens it).
 */
ciphertext_blob: Buffer, 
/**
 * `aws-kms`.
 */
sealing: string, };

export type SessionOpened = { session_id: Buffer, handshake: Buffer, };

export type SessionFrameAnswer = { session_id: Buffer, frame: Buffer, 
/**
 * The audit record of the request this frame answers, in clear for the host to store
 * (records hold digests, names and decisions, never request contents or secrets).
 */
audit: AuditEntry | null, 
/**
 * A key this frame's answer created, sealed: stored by the host before it relays the frame.
 */
sealed: SealedRecord | null, };

export type SessionClosed = { session_id: Buffer, };

export type Authenticated = { principal: string, expires_at_us: bigint, };

export type KeyInfo = { key_id: string, curve: Curve, purpose: KeyPurpose, label: string, 
/**
 * The principal that created or imported it.
 */
owner: string, public_key: Buffer, };

export type KeyList = { keys: Array<KeyInfo>, };

export type KeyDeleted = { key_id: string, };

export type KeyGenerated = { key_id: string, curve: Curve, purpose: KeyPurpose, label: string, 
/**
 * SEC1 compressed (secp256k1) or the 32-byte Ed25519 key.
 */
public_key: Buffer, 
/**
 * How the key survives a restart: `sealed:aws-kms`, `sealed:development` (DEVELOPMENT
 * sealing: the master key is a file on the host), or `ephemeral` (sealing `none`: lost on
 * restart). The receipt's `result_hash` covers the public key only (docs/receipts.md), not this.
 */
storage: string, };

export type Signature = { 
/**
 * 64 bytes: `r || s` (secp256k1, low-S) or the Ed25519 signature.
 */
signature: Buffer, 
/**
 * secp256k1 only.
 */
recovery_id: number | null, };

export type SignedTransaction = { 
/**
 * The raw signed transaction, ready for `eth_sendRawTransaction`.
 */
raw: Buffer, };

export type ScopeStatus = { 
/**
 * `global`, `key:<id>` or `principal:<id>`.
 */
scope: string, 
/**
 * `green`, `yellow` or `red`.
 */
level: string, reason: string, since_us: bigint, 
/**
 * Who set it: signer ids, or `enclave` (boot, heartbeat, automatic trips).
 */
by: Array<string>, };

export type OversightStatus = { global: ScopeStatus, 
/**
 * Keys and principals that are not green.
 */
scopes: Array<ScopeStatus>, 
/**
 * 0: no heartbeat configured.
 */
heartbeat_interval_ms: bigint, heartbeat_deadline_us: bigint | null, pending_approvals: bigint, max_pending: bigint, 
/**
 * The command's accepted signers.
 */
signers: Array<string>, };

export type OversightChallenge = { 
/**
 * 32 random bytes a resume must sign; one use.
 */
challenge: Buffer, expires_at_us: bigint, };

export type ApprovalPending = { 
/**
 * 16 bytes; also the receipt's `request_id`.
 */
request_id: Buffer, 
/**
 * SHA-256 of the request body: what approvers approve.
 */
request_digest: Buffer, 
/**
 * `policy_approval_required` or `yellow_state`.
 */
reason: string, expires_at_us: bigint, approvals: Array<string>, approvals_needed: bigint, };

export type ApprovalUpdated = { request_id: Buffer, 
/**
 * `pending`, `released` (signed), `refused` (the release was refused: `code`) or `rejected`.
 */
state: string, code: string | null, approvals: Array<string>, approvals_needed: bigint, };

export type HeldRequestInfo = { request_id: Buffer, request_digest: Buffer, principal: string, key_id: string | null, op: string, reason: string, 
/**
 * The exact operation body (CBOR), so approvers can decode what they approve.
 */
body: Buffer, held_at_us: bigint, expires_at_us: bigint, approvals: Array<string>, approvals_needed: bigint, };

export type ApprovalList = { entries: Array<HeldRequestInfo>, };

export type ErrorAnswer = { code: string, message: string, };

export type Response = { "type": "pong" } & Pong | { "type": "description" } & Description | { "type": "attestation" } & Attestation | { "type": "evidence" } & Evidence | { "type": "config_updated" } & ConfigUpdated | { "type": "policy_updated" } & PolicyUpdated | { "type": "prices_updated" } & PricesUpdated | { "type": "policy_evaluation" } & PolicyEvaluation | { "type": "receipted" } & Receipted | { "type": "session_opened" } & SessionOpened | { "type": "session_frame" } & SessionFrameAnswer | { "type": "session_closed" } & SessionClosed | { "type": "authenticated" } & Authenticated | { "type": "key_generated" } & KeyGenerated | { "type": "key_list" } & KeyList | { "type": "key_deleted" } & KeyDeleted | { "type": "signature" } & Signature | { "type": "signed_transaction" } & SignedTransaction | { "type": "oversight_status" } & OversightStatus | { "type": "oversight_challenge" } & OversightChallenge | { "type": "approval_pending" } & ApprovalPending | { "type": "approval_updated" } & ApprovalUpdated | { "type": "approval_list" } & ApprovalList | { "type": "audit_records" } & AuditRecords | { "type": "audit_acked" } & AuditAcked | { "type": "audit_resume_progress" } & AuditResumeProgress | { "type": "audit_resumed" } & AuditResumed | { "type": "sealed_loaded" } & SealedLoaded | { "type": "sealed_state" } & SealedStateAnswer | { "type": "forward_sent" } & ForwardSent | { "type": "forward_accepted" } & ForwardAccepted | { "type": "sealing_unlocked" } & SealingUnlocked | { "type": "sealed_snapshot" } & SealedSnapshotAnswer | { "type": "error" } & ErrorAnswer;

/** The frame operation names (`op`). */
export type FrameOp = Request['op'];

/** The body operation names (`op` of a stamped or session body). */
export type OperationName = Operation['op'];

/** The answer type each body operation gets when it succeeds. */
export type OperationAnswerTypes = {
  generate_key: 'key_generated';
  import_key: 'key_generated';
  list_keys: 'key_list';
  delete_key: 'key_deleted';
  sign_digest: 'signature';
  sign_ethereum_transaction: 'signed_transaction';
  sign_personal_message: 'signature';
  sign_typed_data: 'signature';
  sign_ed25519: 'signature';
};

/** The successful answer to body operation `O`. */
export type OperationAnswerOf<O extends OperationName> = Extract<Response, { type: OperationAnswerTypes[O] }>;

/** The answer type each operation gets when it succeeds. */
export type AnswerTypes = {
  ping: 'pong';
  describe: 'description';
  attest: 'attestation';
  evidence: 'evidence';
  update_config: 'config_updated';
  update_policy: 'policy_updated';
  update_prices: 'prices_updated';
  policy_dry_run: 'policy_evaluation';
  stamped: 'receipted';
  session_open: 'session_opened';
  session_frame: 'session_frame';
  session_close: 'session_closed';
  oversight: 'oversight_status';
  oversight_challenge: 'oversight_challenge';
  approval: 'approval_updated';
  list_approvals: 'approval_list';
  approval_result: 'receipted';
  audit_read: 'audit_records';
  audit_wait: 'audit_records';
  audit_ack: 'audit_acked';
  audit_checkpoint: 'audit_records';
  audit_resume_begin: 'audit_resume_progress';
  audit_resume_records: 'audit_resume_progress';
  audit_resume_snapshot: 'audit_resume_progress';
  audit_resume_finish: 'audit_resumed';
  audit_start: 'audit_resumed';
  sealed_load: 'sealed_loaded';
  sealed_state: 'sealed_state';
  forward_send: 'forward_sent';
  forward_accept: 'forward_accepted';
  sealing_unlock: 'sealing_unlocked';
  admin_delete_key: 'key_deleted';
  sealed_snapshot: 'sealed_snapshot';
};

/** The request of operation `O`. */
export type RequestOf<O extends FrameOp> = Extract<Request, { op: O }>;

/** The successful answer to operation `O`. */
export type AnswerOf<O extends FrameOp> = Extract<Response, { type: AnswerTypes[O] }>;

/** Codes the enclave program answers with (docs/protocol.md). */
export type EnclaveErrorCode = 'UNKNOWN_KEY' | 'KEY_CURVE_MISMATCH' | 'KEY_LIMIT_REACHED' | 'INVALID_NONCE' | 'INVALID_KEY_ID' | 'PAYLOAD_TOO_LARGE' | 'ENCLAVE_BUSY' | 'TOO_MANY_CONNECTIONS' | 'SIGNATURE_SELF_CHECK_FAILED' | 'AUDIT_BACKLOG_FULL' | 'AUDIT_RANGE_UNAVAILABLE' | 'AUDIT_ACK_INVALID' | 'AUDIT_LOG_NOT_OPEN' | 'AUDIT_RESUME_STATE' | 'AUDIT_RESUME_ATTESTATION' | 'AUDIT_RESUME_MISMATCH' | 'AUDIT_RESUME_ROLLBACK' | 'AUDIT_RESUME_INVALID' | 'INTERNAL' | 'KEY_PURPOSE_MISMATCH' | 'INVALID_LABEL' | 'KEY_QUOTA_EXCEEDED' | 'OPERATION_NOT_PERMITTED' | 'KEY_NOT_PERMITTED' | 'STAMP_MISSING' | 'UNKNOWN_PRINCIPAL' | 'STAMP_SIGNATURE_INVALID' | 'STAMP_EXPIRED' | 'STAMP_REPLAYED' | 'REPLAY_CACHE_FULL' | 'STAMP_MALFORMED' | 'UNKNOWN_SESSION' | 'TOO_MANY_SESSIONS' | 'SESSION_HANDSHAKE_FAILED' | 'SESSION_AUTH_FAILED' | 'SESSION_BROKEN' | 'SESSION_EXPIRED' | 'CONFIG_ROLLBACK' | 'CONFIG_QUORUM_NOT_MET' | 'CONFIG_INVALID' | 'NOT_CONFIGURED' | 'INVALID_IMPORTED_KEY' | 'INVALID_BODY' | 'POLICY_NOT_INSTALLED' | 'POLICY_DENIED' | 'POLICY_NO_MATCH' | 'POLICY_ERROR' | 'POLICY_APPROVAL_REQUIRED' | 'KILL_SWITCH_HALTED' | 'APPROVAL_PENDING' | 'SEAL_LOAD_CLOSED' | 'SEAL_CONFIG_CONFLICT' | 'SEAL_RECORD_DUPLICATE' | 'SEAL_RECORD_UNSUPPORTED' | 'SEAL_SNAPSHOT_TOO_LARGE' | 'SEAL_SNAPSHOT_MISMATCH' | 'SEALING_DISABLED' | 'SEALING_KEY_ABSENT' | 'FORWARD_ATTESTATION_INVALID' | 'FORWARD_CONFIG_MISMATCH' | 'FORWARD_PEER_NOT_APPROVED' | 'FORWARD_APPROVAL_INVALID' | 'FORWARD_STATE' | 'FORWARD_DECRYPTION_FAILED' | 'SEALING_UNLOCK_STATE' | 'KMS_UNLOCK_FAILED' | 'SESSION_KEY_CREATION_REFUSED';

/** Codes of frames the enclave could not decode (docs/protocol.md). */
export type ProtocolErrorCode = 'FRAME_TOO_LARGE' | 'EMPTY_FRAME' | 'MALFORMED_FRAME' | 'UNSUPPORTED_VERSION' | 'UNKNOWN_OPERATION' | 'INVALID_ARGUMENT';
