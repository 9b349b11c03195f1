/* tslint:disable */
/* eslint-disable */

/** What `auditVerifyLog` found; the root as `0x` hex. */
export interface AuditLogReport {
    /** Number of records. */
    records: number;
    /** RFC 6962 root of all records. */
    root: string;
    /** Number of checkpoints verified. */
    checkpoints: number;
    /** Size of the largest checkpoint: the records a signature covers. */
    covered: number;
    /** Records after the largest checkpoint, not yet covered by one. */
    uncovered: number;
}
/** A verified checkpoint; the root as `0x` hex. */
export interface AuditCheckpoint {
    /** The log's origin (its key name), e.g. `sentinel/log/<16 hex>`. */
    origin: string;
    /** Tree size: the number of records covered. */
    size: number;
    root: string;
}
/** One policy rule's result in an audit record; absent values `null`. */
export interface AuditRuleResult {
    rule: string; type: string; result: string;
    value: string | null; limit: string | null; window: string | null;
}
/** The decision an audit record holds. */
export interface AuditDecision {
    outcome: 'allowed' | 'denied' | 'pending' | 'approved' | 'rejected';
    code: string | null;
    rules: AuditRuleResult[];
}
/**
 * One state change an audit record's action caused (docs/audit.md: `op` is
 * `notional`, `rate_take`, `rate_cooldown` or `level` as the enclave writes them); absent values `null`.
 */
export interface AuditEffect {
    op: string;
    /** A rule id, or a kill-switch scope (`global`, `key:<id>`, `principal:<id>`). */
    target: string;
    subject: string | null;
    value: string | null;
}
/** A decoded audit record (docs/audit.md): its own field names, digests as `0x` hex, absent values `null`. */
export interface AuditRecord {
    seq: number;
    kind: 'decision' | 'approval' | 'config' | 'policy' | 'key_created' | 'key_imported' | 'halt' | 'resume' | 'heartbeat_trip' | 'log_resumed';
    /** The state changes the action caused, `[]` when none. */
    effects: AuditEffect[];
    /** Enclave time, µs since the Unix epoch. */
    time_us: number;
    principal: string | null;
    request_digest: string | null;
    decision: AuditDecision | null;
    result_digest: string | null;
    prev_hash: string;
}



/** `policyValidate`'s answer. */
export interface PolicyValidation {
    /** SHA-256 of `canonical`. */
    policyHash: Uint8Array;
    version: number;
    name: string;
    /** The canonical JSON (sorted keys, no whitespace) the hash is over. */
    canonical: string;
    /** How many rules the policy has. */
    rules: number;
}
/** The request `evaluatePolicy` decodes and evaluates, as the enclave would. */
export interface PolicyRequestInput {
    op: 'sign_ethereum_transaction' | 'sign_typed_data' | 'sign_personal_message' | 'sign_digest' | 'sign_ed25519';
    /** The authenticated principal (agent) id. */
    principal: string;
    keyId: string;
    /** The key's label (for rule scopes). Defaults to `""`. */
    keyLabel?: string | null;
    /** `sign_ethereum_transaction` only: the unsigned transaction (bytes, or hex with or without `0x`). */
    unsignedTx?: Uint8Array | string | null;
    /** `sign_typed_data` only: the EIP-712 document (JSON text). */
    typedData?: string | null;
}
export interface EvaluatePolicyOptions {
    /** A signed price table (JSON), verified against the policy's `price_feed` (for `usd` limits). */
    signedPrices?: string | null;
    /**
     * ONNX bytes of the models the policy's `risk_score` rules pin (by SHA-256). This build
     * has no ONNX runtime: a model given here is refused (`POLICY_MODEL_INVALID`), and policies
     * with risk rules are dry-run by the enclave (`policy_dry_run`).
     */
    models?: Array<Uint8Array> | null;
}
/** One rule's result; numbers are decimal strings in the rule's unit (`detail` names it). */
export interface PolicyRuleRecord {
    /** The rule's id. */
    rule: string;
    type: 'notional_limit' | 'rate_limit' | 'contract_list' | 'chain' | 'time_window' | 'risk_score';
    result: 'allow' | 'deny' | 'not_applicable' | 'approval_required' | 'error';
    value: string | null;
    limit: string | null;
    window: '1s' | '1m' | '1h' | '1d' | null;
    detail: string | null;
}
/** `evaluatePolicy`'s answer. */
export interface PolicyEvaluation {
    decision: 'allowed' | 'denied' | 'approval_required';
    /** `null` when allowed; else `POLICY_DENIED`, `POLICY_NO_MATCH`, `POLICY_ERROR` or `POLICY_APPROVAL_REQUIRED`. */
    code: string | null;
    policyHash: Uint8Array;
    /** One entry per rule, in policy order. */
    rulesEvaluated: PolicyRuleRecord[];
    /** The risk score in basis points, when a risk rule ran. */
    scoreBps: number | null;
}



export interface AttestationExpectations {
    pcrs?: Record<string, string>; nonce?: string; userData?: string; publicKey?: string; maxAgeMs?: number;
}
export interface AttestationOptions {
    /** Trusted root certificate (DER). Defaults to the embedded AWS Nitro Root-G1. */
    root?: Uint8Array;
    /** Verification time, Unix ms (required: the verifier never reads a clock). */
    atMs: number;
    /** Accept an all-zero PCR0 (debug-mode enclave). Defaults to `false`. */
    allowDebug?: boolean;
    expect?: AttestationExpectations;
}
export interface VerifiedAttestation {
    moduleId: string; digest: string; timestampMs: number; pcrs: Record<string, string>;
    publicKey: string | null; userData: string | null; nonce: string | null;
    certificate: string; rootFingerprint: string; rootKind: 'aws-nitro' | 'other';
}
/** Outcome of one check of a report. */
export type CheckStatus = 'pass' | 'fail' | 'not_requested' | 'not_run';
export interface Check {
    /** Stable id, e.g. `validity`. */
    id: string;
    /** Human label, e.g. "Certificate chain to the trusted root". */
    label: string;
    /** `not_requested`: no expectation was given; `not_run`: an earlier check failed fatally. */
    status: CheckStatus;
    /** One sentence: what was compared, or why it failed. */
    detail: string;
    /** The core's stable error code when `status` is `'fail'` (e.g. `CERTIFICATE_NOT_VALID_AT_TIME`), else `null`. */
    code: string | null;
}
export interface CheckAttestationOptions {
    /** Trusted root certificate (DER). Defaults to the embedded AWS Nitro Root-G1. */
    root?: Uint8Array;
    /** Verification time, Unix ms (required). */
    atMs: number;
    /** Accept an all-zero PCR0 (debug-mode enclave). Defaults to `false`. */
    allowDebug?: boolean;
    /** Hex values, `0x` optional; PCR indexes as decimal strings. Unknown keys throw `INVALID_ARGUMENT`, values that are not hex (or hashes not 32 bytes) `INVALID_EXPECTATION`. */
    expect?: {
        pcrs?: Record<string, string>; nonce?: string; maxAgeMs?: number; configHash?: string; policyHash?: string;
    };
}
export interface AttestationReport {
    /** No check failed. */
    ok: boolean;
    /** The root is not the AWS Nitro Root-G1. */
    development: boolean;
    /** SHA-256 of the root used, hex. */
    rootFingerprint: string;
    /** Always `structure`, `chain`, `validity`, `signature`, `debug_mode`, `pcrs`, `nonce`, `freshness`, `config_hash`, in this order. */
    checks: Check[];
    /** The decoded fields when `structure` passed (even if a later check failed), else `null`. */
    document: VerifiedAttestation | null;
    /** Sentinel's user_data (`0x03 || config_hash || policy_hash`), lowercase hex, when the document carries it. */
    userData: { configHash: string; policyHash: string | null } | null;
}



export interface VerifyOptions { lowS?: boolean }
export interface SignDigestResult { signature: Uint8Array; recoveryId: number }
export interface AccessListItem { address: string; storageKeys: string[] }
export interface RecoveredSigner { signer: string; transaction: DecodedTransaction }
export interface DecodedTransaction {
    kind: 'legacy' | 'eip155' | 'eip2930' | 'eip1559';
    chainId: string | null; nonce: string; gasLimit: string; value: string;
    gasPrice: string | null; maxFeePerGas: string | null; maxPriorityFeePerGas: string | null;
    to: string | null; data: string; accessList: AccessListItem[]; signingHash: string;
}



export interface VerifyReceiptOptions {
    /** Trusted root certificate (DER): `awsNitroRootG1()` for real enclaves, a simulator's dev root locally. */
    root: Uint8Array;
    /** Expected PCR0 (48 bytes, or hex). Unset = any image. */
    expectedPcr0?: Uint8Array | string;
    /** Expected configuration hash (32 bytes, or hex). Unset = only the receipt/document agreement is checked. */
    expectedConfigHash?: Uint8Array | string;
    /** Expected policy hash (32 bytes, or hex): the document must attest this policy (one attesting none fails). Unset = only the receipt/document agreement is checked. */
    expectedPolicyHash?: Uint8Array | string;
    /** When to judge the document's certificate chain, Unix ms. Defaults to the current time. */
    now?: number;
    /** Accept a debug-mode (all-zero PCR0) document. Defaults to `false`. */
    allowDebug?: boolean;
}
/** Signed claims of a receipt; bytes as `0x`-prefixed lowercase hex. */
export interface ReceiptClaims {
    requestId: string;
    /** µs since the Unix epoch (exact: at most 2^53 - 1). */
    timestampUs: number;
    principal: string;
    keyId: string | null;
    op: string;
    payloadHash: string;
    decision: 'allowed' | 'denied';
    code: string | null;
    resultHash: string | null;
    /** One entry per policy rule evaluated, in policy order (empty when no policy applied). */
    rulesEvaluated: RuleEvaluated[];
    configHash: string;
    /** The policy in force, `null` when none was installed. */
    policyHash: string | null;
    attestationHash: string;
    /** The approvers whose approvals released the request (sorted; empty unless it was held). */
    approvals: string[];
    /** The kill-switch state in effect: the strictest of the request's global, key and principal scopes. */
    oversightState: 'green' | 'yellow' | 'red';
    /** The scope that set it: `global`, `key:<key id>` or `principal:<principal id>`. */
    oversightScope: string;
    /** This answer's record in the enclave's audit log (`null` only without a log). */
    auditSeq: number | null;
    /** The latest signed checkpoint of the log when the receipt was made (C2SP signed note text). */
    auditCheckpoint: string | null;
    /** How the key this answer created is kept (`generate_key`, `import_key`): sealed under the AWS KMS master key, sealed under the DEVELOPMENT master key (not for real funds), or `ephemeral` (enclave memory only, lost on restart). `null` when the answer created no key (the claim is then absent). */
    keyStorage: 'sealed:aws-kms' | 'sealed:development' | 'ephemeral' | null;
}
/** One policy rule's result in a receipt (docs/receipts.md); absent values `null`. */
export interface RuleEvaluated {
    /** The rule's id in the policy. */
    rule: string;
    /** `notional_limit`, `rate_limit`, `contract_list`, `chain`, `time_window` or `risk_score`. */
    type: string;
    /** `allow`, `deny`, `not_applicable`, `approval_required` or `error`. */
    result: string;
    /** What was counted or measured (decimal integer string). */
    value: string | null;
    /** The limit it was compared with (decimal integer string). */
    limit: string | null;
    /** `1s`, `1m`, `1h` or `1d`. */
    window: string | null;
    /** What was counted or checked, in words. */
    detail: string | null;
}
export interface CheckReceiptOptions {
    /** Trusted root certificate (DER): `awsNitroRootG1()` for real enclaves, a simulator's dev root locally. */
    root: Uint8Array;
    /** Verification time, Unix ms (required). */
    atMs: number;
    /** Accept a debug-mode (all-zero PCR0) document. Defaults to `false`. */
    allowDebug?: boolean;
    /** Expected PCR0 (48 bytes as hex, `0x` optional). Unset: the `pcr0` check is `not_requested`. */
    expectedPcr0?: string;
    /** Expected configuration hash (32 bytes as hex, `0x` optional), checked in `config_binding`. */
    expectedConfigHash?: string;
    /** Expected policy hash (32 bytes as hex, `0x` optional), checked in `policy_binding`. */
    expectedPolicyHash?: string;
}
export interface ReceiptReport {
    /** No check failed: exactly when `verifyReceipt` would accept the receipt. */
    ok: boolean;
    /** The root is not the AWS Nitro Root-G1. */
    development: boolean;
    /** Always `document`, `pcr0`, `attested_keys`, `user_data`, `receipt_structure`, `attestation_binding`, `config_binding`, `policy_binding`, `receipt_signature`, in this order. */
    checks: Check[];
    /** The decoded claims when the receipt decodes (trusted only if `ok`), else `null`. */
    claims: ReceiptClaims | null;
}
/** The enclave's attested key bundle; `0x` hex. */
export interface AttestedKeys { receiptKey: string; sessionKey: string; importKey: string; auditKey: string }
export interface VerifiedReceipt {
    claims: ReceiptClaims;
    rootKind: 'aws-nitro' | 'other';
    attestedKeys: AttestedKeys;
    /** The document's PCR0, `0x` hex. */
    pcr0: string;
}



/**
 * Parses an attestation document's `public_key` as the attested key bundle
 * (`0x01 || receipt || session || import`).
 */
export function attestedKeys(publicKey: Uint8Array | number[]): AttestedKeys;

/**
 * The RFC 6962 consistency proof from the tree of the first `oldSize`
 * records to the tree of the first `newSize`, as `0x` hex hashes.
 */
export function auditConsistencyProof(records: Uint8Array[], oldSize: number, newSize: number): string[];

/**
 * Decodes an audit record (strictly: canonical CBOR only). Verifies nothing about where it came from.
 */
export function auditDecodeRecord(record: Uint8Array | number[]): AuditRecord;

/**
 * Verifies a signed checkpoint note with the log's verifier key and returns it.
 */
export function auditOpenCheckpoint(note: Uint8Array | number[], verifierKey: string): AuditCheckpoint;

/**
 * Checks that a log's records and checkpoints tie its key history
 * (`{ verifierKey, fromSeq }[]`) together; throws `AUDIT_KEY_HISTORY_INVALID`
 * naming the mismatch (crates/audit/src/key_history.rs).
 */
export function auditVerifyKeyHistory(keys: { verifierKey: string; fromSeq: number }[], records: Uint8Array[], checkpoints: Uint8Array[]): void;

/**
 * Verifies a whole log: `records` (their encodings, in log order) against the
 * signed `checkpoints` (any order) with the log's verifier key (C2SP text
 * `<origin>+<key id>+<base64>`), or its key history (an array: a restarted
 * enclave continues the log under the same origin with a new key; each
 * checkpoint must verify with one of them). Throws the code naming what is
 * wrong (crates/audit/README.md).
 */
export function auditVerifyLog(records: Uint8Array[], checkpoints: Uint8Array[], verifierKeys: string | string[]): AuditLogReport;

/**
 * Verifies a `tlog-proof` for `record` with the log's verifier key; returns the checkpoint it proves against.
 */
export function auditVerifyProof(proof: string, record: Uint8Array | number[], verifierKey: string): AuditCheckpoint;

/**
 * The embedded AWS Nitro Enclaves Root-G1 certificate (DER).
 */
export function awsNitroRootG1(): Uint8Array;

/**
 * Checks a Nitro attestation document step by step and reports every check
 * (`structure`, `chain`, `validity`, `signature`, `debug_mode`, `pcrs`,
 * `nonce`, `freshness`, `config_hash`). A bad document is a report with
 * failed checks; only bad arguments throw.
 */
export function checkAttestation(document: Uint8Array | number[], options: CheckAttestationOptions): AttestationReport;

/**
 * Checks a receipt against the enclave's attestation document step by step
 * and reports every check (`document`, `pcr0`, `attested_keys`, `user_data`,
 * `receipt_structure`, `attestation_binding`, `config_binding`,
 * `policy_binding`, `receipt_signature`). A bad receipt or document is a
 * report with failed checks; only bad arguments throw.
 */
export function checkReceipt(receipt: Uint8Array | number[], document: Uint8Array | number[], options: CheckReceiptOptions): ReceiptReport;

/**
 * Strictly decodes an unsigned transaction into the fields that will be signed.
 */
export function decodeEthereumTransaction(unsigned_tx: Uint8Array | number[]): DecodedTransaction;

/**
 * Ed25519 public key (32 bytes) of a 32-byte seed.
 */
export function ed25519PublicKey(secret_key: Uint8Array | number[]): Uint8Array;

/**
 * Encodes a JSON transaction object (ethers / viem shape) into unsigned RLP.
 */
export function encodeUnsignedTransaction(json: string): Uint8Array;

/**
 * EIP-55 checksummed address of a secp256k1 public key.
 */
export function ethereumAddress(public_key: Uint8Array | number[]): string;

/**
 * Dry run: evaluates one request against a policy (bare or a signed
 * envelope, whose signatures are not checked) at `nowMs` (Unix ms), from a
 * fresh state (nothing is counted). The request is decoded as the enclave
 * decodes what it signs; the answer is the decision record a receipt carries.
 * Without an ONNX runtime in the bindings, a policy with a `risk_score` rule
 * is refused (`POLICY_MODEL_MISSING` / `POLICY_MODEL_INVALID`).
 */
export function evaluatePolicy(policyJson: string, request: PolicyRequestInput, nowMs: number, options?: EvaluatePolicyOptions | null): PolicyEvaluation;

/**
 * EIP-191 `personal_sign` digest of a message.
 */
export function hashPersonalMessage(message: Uint8Array | number[]): Uint8Array;

/**
 * EIP-712 (v4) digest of typed data given as a JSON string.
 */
export function hashTypedData(json: string): Uint8Array;

/**
 * HAZMAT: the `index`-th RFC 6979 nonce candidate. Only for checking test vectors.
 */
export function hazmatRfc6979Nonce(secret_key: Uint8Array | number[], digest: Uint8Array | number[], index: number): Uint8Array;

/**
 * Keccak-256 of bytes.
 */
export function keccak256(data: Uint8Array | number[]): Uint8Array;

/**
 * Parses and validates a bare policy document (any JSON formatting): its
 * hash, version, name, canonical form and rule count. Refusals carry the
 * document's codes (`POLICY_*`, docs/policy.md).
 */
export function policyValidate(json: string): PolicyValidation;

/**
 * SEC1 public key of a secret key; compressed unless `compressed` is false.
 */
export function publicKeyFromSecret(secret_key: Uint8Array | number[], compressed?: boolean | null): Uint8Array;

/**
 * Strictly decodes a signed transaction and recovers its signer (EIP-55 address).
 */
export function recoverEthereumTransactionSigner(signed_tx: Uint8Array | number[]): RecoveredSigner;

/**
 * Recovers the signer's public key (compressed unless `compressed` is false).
 */
export function recoverPublicKey(digest: Uint8Array | number[], signature: Uint8Array | number[], recovery_id: number, compressed?: boolean | null): Uint8Array;

/**
 * Signs a 32-byte digest: RFC 6979 nonce, low-S, recovery id.
 */
export function signDigest(secret_key: Uint8Array | number[], digest: Uint8Array | number[]): SignDigestResult;

/**
 * Zero-allocation `signDigest`: writes `r || s` into `out` (64 bytes) and
 * returns the recovery id. (In WASM the bytes are still copied across the boundary.)
 */
export function signDigestInto(secret_key: Uint8Array | number[], digest: Uint8Array | number[], out: Uint8Array): number;

/**
 * Ed25519 signature (64 bytes) of a message with a 32-byte seed.
 */
export function signEd25519(secret_key: Uint8Array | number[], message: Uint8Array | number[]): Uint8Array;

/**
 * Signs an unsigned legacy / EIP-155 / EIP-2930 / EIP-1559 transaction into its raw signed form.
 */
export function signEthereumTransaction(secret_key: Uint8Array | number[], unsigned_tx: Uint8Array | number[]): Uint8Array;

/**
 * Strict DER signature to 64-byte `r || s`; `null` when r or s is out of range.
 */
export function signatureFromDer(der: Uint8Array | number[]): Uint8Array | null;

/**
 * Decodes a receipt's claims WITHOUT verifying anything (no signature, no
 * document): for display and debugging only.
 */
export function unsafeDecodeReceiptClaims(receipt: Uint8Array | number[]): ReceiptClaims;

/**
 * Verifies a Nitro attestation document (and the expectations, if given).
 */
export function verifyAttestation(document: Uint8Array | number[], options: AttestationOptions): VerifiedAttestation;

/**
 * Verifies a 64-byte `r || s` signature; `lowS` (default true) rejects high-S.
 */
export function verifyDigest(public_key: Uint8Array | number[], digest: Uint8Array | number[], signature: Uint8Array | number[], options?: VerifyOptions | null): boolean;

/**
 * Strict Ed25519 verification.
 */
export function verifyEd25519(public_key: Uint8Array | number[], message: Uint8Array | number[], signature: Uint8Array | number[]): boolean;

/**
 * Verifies a receipt against the enclave's attestation document: the document
 * (chain to `options.root`, PCR0), the key bundle and `user_data` it carries,
 * the receipt's binding to both, and its Ed25519 signature (docs/receipts.md).
 */
export function verifyReceipt(receipt: Uint8Array | number[], attestationDocument: Uint8Array | number[], options: VerifyReceiptOptions): VerifiedReceipt;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly rustsecp256k1_v0_11_context_create: (a: number) => number;
    readonly rustsecp256k1_v0_11_context_destroy: (a: number) => void;
    readonly rustsecp256k1_v0_11_default_error_callback_fn: (a: number, b: number) => void;
    readonly rustsecp256k1_v0_11_default_illegal_callback_fn: (a: number, b: number) => void;
    readonly attestedKeys: (a: number, b: number) => [number, number, number];
    readonly auditConsistencyProof: (a: any, b: number, c: number) => [number, number, number, number];
    readonly auditDecodeRecord: (a: number, b: number) => [number, number, number];
    readonly auditOpenCheckpoint: (a: number, b: number, c: number, d: number) => [number, number, number];
    readonly auditVerifyKeyHistory: (a: any, b: any, c: any) => [number, number];
    readonly auditVerifyLog: (a: any, b: any, c: any) => [number, number, number];
    readonly auditVerifyProof: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number, number];
    readonly awsNitroRootG1: () => [number, number];
    readonly checkAttestation: (a: number, b: number, c: any) => [number, number, number];
    readonly checkReceipt: (a: number, b: number, c: number, d: number, e: any) => [number, number, number];
    readonly decodeEthereumTransaction: (a: number, b: number) => [number, number, number];
    readonly ed25519PublicKey: (a: number, b: number) => [number, number, number, number];
    readonly encodeUnsignedTransaction: (a: number, b: number) => [number, number, number, number];
    readonly ethereumAddress: (a: number, b: number) => [number, number, number, number];
    readonly evaluatePolicy: (a: number, b: number, c: any, d: any, e: any) => [number, number, number];
    readonly hashPersonalMessage: (a: number, b: number) => [number, number];
    readonly hashTypedData: (a: number, b: number) => [number, number, number, number];
    readonly hazmatRfc6979Nonce: (a: number, b: number, c: number, d: number, e: number) => [number, number, number, number];
    readonly keccak256: (a: number, b: number) => [number, number];
    readonly policyValidate: (a: number, b: number) => [number, number, number];
    readonly publicKeyFromSecret: (a: number, b: number, c: any) => [number, number, number, number];
    readonly recoverEthereumTransactionSigner: (a: number, b: number) => [number, number, number];
    readonly recoverPublicKey: (a: number, b: number, c: number, d: number, e: number, f: any) => [number, number, number, number];
    readonly signDigest: (a: number, b: number, c: number, d: number) => [number, number, number];
    readonly signDigestInto: (a: number, b: number, c: number, d: number, e: number, f: number, g: any) => [number, number, number];
    readonly signEd25519: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly signEthereumTransaction: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly signatureFromDer: (a: number, b: number) => [number, number, number];
    readonly unsafeDecodeReceiptClaims: (a: number, b: number) => [number, number, number];
    readonly verifyAttestation: (a: number, b: number, c: any) => [number, number, number];
    readonly verifyDigest: (a: number, b: number, c: number, d: number, e: number, f: number, g: any) => [number, number, number];
    readonly verifyEd25519: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number, number];
    readonly verifyReceipt: (a: number, b: number, c: number, d: number, e: any) => [number, number, number];
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_exn_store: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __externref_drop_slice: (a: number, b: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
