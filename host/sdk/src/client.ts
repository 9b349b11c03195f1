/**
 * `createClient`: a client of the Sentinel API that trusts the enclave, not the
 * host that relays to it.
 *
 * The host (API process, proxies, the network) can drop, delay or alter
 * anything, so nothing it says is taken on its word. On connect the client
 * fetches the evidence (`GET /v1/evidence`) and verifies the boot attestation
 * document itself: the chain to the caller's root, PCR0, the configuration
 * hash it attests (pinned if the caller gave one), and the key bundle it binds.
 * Each operation is encoded by the Rust core, stamped locally with the
 * principal's credential (fresh 16-byte nonce, time in µs) and posted to its
 * route; before any answer is returned its receipt is verified against that
 * document: signed by the attested receipt key, for this principal, this op,
 * these exact body bytes, this key, and a `result_hash` that matches the answer
 * (a refusal must be recorded as that refusal). A receipt naming another
 * document sends the client to fetch and verify the current one (the enclave
 * refreshes it hourly and on configuration updates). Refusals throw a
 * `SentinelClientError` carrying the enclave's code and its verified receipt.
 *
 * The optional session path (`session: { socketPath }`) sends the same
 * operations through an attested Noise session opened by the N-API
 * `SessionClient` to the session key of the verified document; it asks for a
 * receipt with every answer and verifies it exactly like the HTTP path.
 * Secrets never leave this process: the credential signs locally and an
 * imported key is sealed with HPKE to the attested import key.
 */
import { createHash, randomBytes } from 'node:crypto';

import type { Operation } from '@sentinel/node/protocol';

import { core, isCoreError } from './core.ts';
import { SentinelClientError } from './errors.ts';
import { sealKeyImport } from './key-import.ts';
import { inspectSignedPolicy, policyEvaluationOf, type ActivePolicy, type PolicyEvaluation, type SignedPolicy } from './policy.ts';
import type {
  ApprovalPending,
  ClientCredential,
  ClientOptions,
  Curve,
  EthSignature,
  Hex,
  Key,
  KeyPurpose,
  Receipted,
  TransactionObject,
  VerifiedAttestation,
  VerifiedEvidence,
  VerifiedReceipt,
} from './types.ts';

/** The route of each body operation (docs: HTTP API). */
export const OPERATION_ROUTES: Readonly<Record<string, string>> = Object.freeze({
  generate_key: '/v1/keys/generate',
  import_key: '/v1/keys/import',
  list_keys: '/v1/keys/list',
  sign_ethereum_transaction: '/v1/sign/transaction',
  sign_personal_message: '/v1/sign/message',
  sign_typed_data: '/v1/sign/typed-data',
  sign_ed25519: '/v1/sign/ed25519',
  sign_digest: '/v1/sign/digest',
});

/** An operation body as `core.encodeBody` takes it (`sign_ed25519` included before the generated types know it). */
export type AnyOperation = Operation | { op: 'sign_ed25519'; key_id: string; message: Uint8Array };

/** An answer in wire JSON form: snake_case fields, bytes as 0x-hex. */
export interface WireAnswer {
  type: string;
  [field: string]: unknown;
}

export interface SentinelClient {
  /** The principal named by the credential. */
  readonly principal: string;
  /** The evidence currently verified (the newest document a receipt named). */
  readonly evidence: VerifiedEvidence;
  /** Whether operations go through an attested session (`session` option). */
  readonly usesSession: boolean;
  generateKey(args: { curve: Curve; purpose: KeyPurpose; label: string }): Promise<Key & Receipted>;
  /** Seals `secretKey` to the attested import key; the host sees only the HPKE ciphertext. The caller wipes `secretKey`. */
  importKey(args: { curve: Curve; purpose: KeyPurpose; label: string; secretKey: Uint8Array }): Promise<Key & Receipted>;
  listKeys(): Promise<{ keys: Key[] } & Receipted>;
  /** Deletes a key this principal owns: the enclave wipes it; there is no undo and no export. */
  deleteKey(keyId: string): Promise<{ keyId: string } & Receipted>;
  /** An unsigned legacy/EIP-155/EIP-2930/EIP-1559 transaction: RLP bytes, 0x-hex, or a JSON transaction object. */
  signTransaction(keyId: string, tx: Uint8Array | Hex | TransactionObject): Promise<{ raw: Hex; hash: Hex; from: Hex } & Receipted>;
  /** EIP-191 personal message: a UTF-8 string, bytes, or `{ raw }` bytes/hex (viem's form). */
  signMessage(keyId: string, message: string | Uint8Array | { raw: Hex | Uint8Array }): Promise<EthSignature & { signer: Hex } & Receipted>;
  /** EIP-712 typed data: the full JSON (types incl. EIP712Domain, primaryType, domain, message), as text or object. */
  signTypedData(keyId: string, typedData: string | object): Promise<EthSignature & { signer: Hex } & Receipted>;
  /** A raw 32-byte digest (raw-purpose keys only). */
  signDigest(keyId: string, digest: Uint8Array | Hex): Promise<{ signature: Hex; recoveryId: number | null } & Receipted>;
  /** Ed25519 over raw bytes (raw-purpose Ed25519 keys only). */
  signEd25519(keyId: string, message: Uint8Array | Hex): Promise<{ signature: Hex } & Receipted>;
  /** A fresh attestation document for `nonce` (default: 32 random bytes), verified against the root, PCR0 and the nonce. */
  attest(nonce?: Uint8Array): Promise<VerifiedAttestation>;
  /** A receipt the API kept (`GET /v1/receipts/:id`), verified against the attested enclave. */
  getReceipt(receiptId: string): Promise<Receipted>;
  /**
   * The signed policy in force (`GET /v1/policy`), its hash computed here by the core and compared with the
   * attested policy hash when the verified evidence carries one. POLICY_NOT_INSTALLED when none is installed.
   */
  policy(): Promise<ActivePolicy>;
  /**
   * What the active policy would decide about a signing operation body (the same body a signing call sends,
   * e.g. `{ op: 'sign_ethereum_transaction', key_id, unsigned_tx }`), stamped like any operation and sent to
   * `POST /v1/policy/dry-run`. Nothing is signed or counted, and there is no receipt: advice only.
   */
  dryRun(operation: AnyOperation): Promise<PolicyEvaluation>;
  /**
   * The outcome of a request held for human approval (a signing call threw `APPROVAL_PENDING` with
   * `requestId`), from `GET /v1/requests/:requestId`, its receipt verified (for a request this client sent,
   * against the exact body it sent): `{ status: 'pending', pending }` while it waits, `{ status: 'released',
   * answer, ...receipt }` once signed (the receipt names the approvals). A refusal throws, with its receipt
   * (`APPROVAL_REJECTED`, `APPROVAL_EXPIRED`, `KILL_SWITCH_HALTED`, a policy refusal).
   */
  approvalResult(requestId: string): Promise<ApprovalOutcome>;
  /**
   * Polls `approvalResult` every `intervalMs` (default 1000) until the request is released (returned) or
   * refused (thrown); `APPROVAL_TIMEOUT` after `timeoutMs` (default: until the hold expires, plus 5 s).
   */
  waitForApproval(requestId: string, options?: { timeoutMs?: number; intervalMs?: number }): Promise<ApprovalReleased>;
  /**
   * Low level: sends an operation body over HTTP as given (unstamped when `stamp` is false) to its route
   * (or `route`), verifies the receipt, and returns the answer without throwing on a refusal (a held
   * request is answer type `approval_pending`, status 202).
   */
  send(operation: AnyOperation, options?: { stamp?: boolean; route?: string }): Promise<{ answer: WireAnswer; status: number } & Receipted>;
  /** Closes the session and the HTTP connection pool. */
  close(): Promise<void>;
}

/** A held request's outcome, once the approvers released it: the enclave's answer (wire JSON) and its receipt. */
export type ApprovalReleased = { status: 'released'; answer: WireAnswer } & Receipted;
/** `approvalResult`: still held, or released (a refusal throws). */
export type ApprovalOutcome = { status: 'pending'; pending: ApprovalPending } | ApprovalReleased;

// ---------------------------------------------------------------- helpers

/** viem's transaction type names, as the EIP-2718 type numbers the core takes. */
const TX_TYPE_NAMES: Readonly<Record<string, number>> = { legacy: 0, eip2930: 1, eip1559: 2 };

/** `0x`-prefixed lowercase hex: how every byte value travels in JSON. */
export function hex0x(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
}

function bytesOf(hex: unknown, what: string): Buffer {
  if (typeof hex !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(hex)) {
    throw new SentinelClientError('UNEXPECTED_RESPONSE', `${what}: expected 0x-prefixed hex`);
  }
  return Buffer.from(hex.slice(2), 'hex');
}

/** Caller input: bytes, or 0x-hex. */
function inputBytes(value: Uint8Array | string, what: string): Buffer {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string' && /^0x([0-9a-fA-F]{2})*$/.test(value)) return Buffer.from(value.slice(2), 'hex');
  throw new SentinelClientError('INVALID_ARGUMENT', `${what}: expected a Uint8Array or 0x-prefixed hex`);
}

function sha256Hex(...parts: Uint8Array[]): Hex {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return `0x${h.digest('hex')}`;
}

function normalizeHex(value: Uint8Array | string, what: string): Hex {
  if (typeof value !== 'string') return hex0x(value);
  const body = value.replace(/^0x/i, '').toLowerCase();
  if (!/^([0-9a-f]{2})*$/.test(body)) throw new SentinelClientError('INVALID_ARGUMENT', `${what}: expected hex`);
  return `0x${body}`;
}

/** Session answers come as the core decodes them (Buffers, bigints); HTTP answers as wire JSON. One form for both. */
function toWire(value: unknown): unknown {
  if (value instanceof Uint8Array) return hex0x(value);
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  }
  return value;
}

/** JSON with bigints: `quantity` → 0x-hex quantities (transactions), `decimal` → decimal strings (EIP-712 values). */
export function jsonWithBigInts(value: unknown, bigints: 'quantity' | 'decimal'): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    if (bigints === 'decimal') return v.toString();
    if (v < 0n) throw new SentinelClientError('INVALID_ARGUMENT', 'a transaction quantity is negative');
    return `0x${v.toString(16)}`;
  });
}

/**
 * The `result_hash` the enclave records for an answer, by the one definition the enclave uses
 * (crates/protocol `result_hash`, through the core's `resultHash`; docs/receipts.md), or the
 * reason the answer is not one the enclave could have sent (not a well-formed answer of its type).
 */
function expectedResultHash(answer: WireAnswer): { hash: Hex | null } | { problem: string } {
  try {
    const hash = core.resultHash(JSON.stringify(answer));
    return { hash: hash === null ? null : hex0x(hash) };
  } catch (e) {
    return { problem: `the answer is not a well-formed \`${String(answer.type)}\` answer (${(e as Error).message})` };
  }
}

function parseCredential(credentials: string | ClientCredential): { json: string; principal: string } {
  let parsed: Partial<ClientCredential>;
  try {
    parsed = (typeof credentials === 'string' ? JSON.parse(credentials) : credentials) as Partial<ClientCredential>;
  } catch {
    throw new SentinelClientError('INVALID_ARGUMENT', 'credentials: not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || typeof parsed.principal !== 'string') {
    throw new SentinelClientError('INVALID_ARGUMENT', 'credentials: not a client credential (no `principal`)');
  }
  return { json: typeof credentials === 'string' ? credentials : JSON.stringify(credentials), principal: parsed.principal };
}

function codeOf(e: unknown, fallback: string): string {
  return typeof (e as { code?: unknown } | null)?.code === 'string' ? (e as { code: string }).code : fallback;
}

/** The wire stamp for `body`: signed by the credential over op, body, time (µs) and a fresh 16-byte nonce. */
function stampOf(credentialJson: string, op: string, body: Uint8Array): { principal: string; timestampUs: string; nonce: Hex; signature: Hex } {
  const nonce = randomBytes(16);
  const timestampUs = BigInt(Date.now()) * 1000n;
  const stamp = core.stampRequest(credentialJson, op, body, timestampUs, nonce);
  return { principal: stamp.principal, timestampUs: timestampUs.toString(), nonce: hex0x(nonce), signature: hex0x(stamp.signature) };
}

/** The EIP-55 address that signed `digest` (the caller compares it with the key's: key lists are not receipt-bound). */
function signerOf(digest: Uint8Array, sig: EthSignature): Hex {
  const rs = Buffer.from(sig.signature.slice(2, 130), 'hex');
  return core.ethereumAddress(core.recoverPublicKey(digest, rs, sig.recoveryId)) as Hex;
}

/** `r || s` (64 bytes) and a recovery id as the 65-byte Ethereum signature. */
function ethSignature(answer: WireAnswer): EthSignature {
  const sig = bytesOf(answer.signature, 'signature');
  const recoveryId = answer.recovery_id;
  if (sig.length !== 64 || (recoveryId !== 0 && recoveryId !== 1)) {
    throw new SentinelClientError('UNEXPECTED_RESPONSE', 'not a secp256k1 signature with a recovery id');
  }
  const v = 27 + recoveryId;
  return {
    signature: hex0x(Buffer.concat([sig, Uint8Array.of(v)])),
    r: hex0x(sig.subarray(0, 32)),
    s: hex0x(sig.subarray(32)),
    v,
    recoveryId,
  };
}

function keyOf(a: WireAnswer): Key {
  const publicKey = bytesOf(a.public_key, 'public_key');
  const curve = a.curve as Curve;
  let address: Hex | null = null;
  if (curve === 'secp256k1') {
    try {
      address = core.ethereumAddress(publicKey) as Hex;
    } catch (e) {
      throw new SentinelClientError('UNEXPECTED_RESPONSE', `public_key: not a secp256k1 key (${(e as Error).message})`);
    }
  }
  return {
    keyId: String(a.key_id),
    curve,
    purpose: a.purpose as KeyPurpose,
    label: String(a.label),
    ...(typeof a.owner === 'string' ? { owner: a.owner } : {}),
    publicKey: hex0x(publicKey),
    address,
    ...(typeof a.storage === 'string' ? { storage: a.storage } : {}),
  };
}

async function readJson(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object') throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch {
    throw new SentinelClientError('UNEXPECTED_RESPONSE', `HTTP ${response.status}: not a JSON object`, { status: response.status });
  }
}

function httpError(status: number, body: Record<string, unknown>): SentinelClientError {
  const error = body.error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof error?.code === 'string' ? error.code : 'UNEXPECTED_RESPONSE';
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${status}`;
  return new SentinelClientError(code, message, { status });
}

/** The API's 202 body `{ status: "pending", request_id, ... }` as the enclave's `approval_pending` answer (wire JSON). */
function pendingAnswer(body: Record<string, unknown>): WireAnswer {
  const { status: _status, receipt: _receipt, receiptId: _receiptId, ...fields } = body;
  return { type: 'approval_pending', ...fields };
}

function pendingOf(answer: WireAnswer, receipted: Receipted): ApprovalPending {
  const number = (v: unknown, what: string): number => {
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new SentinelClientError('UNEXPECTED_RESPONSE', `approval_pending: ${what} is not a number`);
    return n;
  };
  return {
    requestId: normalizeHex(String(answer.request_id), 'request_id'),
    requestDigest: normalizeHex(String(answer.request_digest), 'request_digest'),
    reason: String(answer.reason),
    expiresAtUs: number(answer.expires_at_us, 'expires_at_us'),
    approvals: Array.isArray(answer.approvals) ? answer.approvals.map(String) : [],
    approvalsNeeded: number(answer.approvals_needed, 'approvals_needed'),
    ...receipted,
  };
}

/** Held requests this client sent, by request id, so their outcome is checked against the exact body (bounded). */
const MAX_REMEMBERED_HOLDS = 1024;

// ---------------------------------------------------------------- evidence

interface LoadedEvidence {
  evidence: VerifiedEvidence;
  attestation: Buffer;
  receiptOptions: Parameters<typeof core.verifyReceipt>[2];
}

/** How many verified documents are kept: a receipt may name the previous one while a refresh is under way. */
const KEEP_DOCUMENTS = 8;

// ---------------------------------------------------------------- the client

export async function createClient(options: ClientOptions): Promise<SentinelClient> {
  if (typeof options.url !== 'string' || !/^https?:\/\//.test(options.url)) {
    throw new SentinelClientError('INVALID_ARGUMENT', 'url: expected an http:// or https:// URL');
  }
  if (!(options.root instanceof Uint8Array)) throw new SentinelClientError('INVALID_ARGUMENT', 'root: expected DER bytes');
  const base = options.url.replace(/\/+$/, '');
  const { json: credentialJson, principal } = parseCredential(options.credentials);
  const expectedPcr0 = normalizeHex(options.expectedPcr0, 'expectedPcr0');
  const expectedConfigHash = options.expectedConfigHash === undefined ? undefined : normalizeHex(options.expectedConfigHash, 'expectedConfigHash');
  const expectedPolicyHash = options.expectedPolicyHash === undefined ? undefined : normalizeHex(options.expectedPolicyHash, 'expectedPolicyHash');
  const allowDebug = options.allowDebug ?? false;
  const OP_ANSWERS: Record<string, string> = { ...core.bodyOperationAnswers() };
  OP_ANSWERS.sign_ed25519 ??= 'signature'; // until the addon is rebuilt with sign_ed25519

  // --- HTTP: global fetch, or undici's with an Agent that trusts `ca` ---
  let dispatcher: { close(): Promise<void> } | undefined;
  let doFetch: typeof fetch = options.fetch ?? globalThis.fetch;
  if (options.ca !== undefined) {
    const undici = await import('undici');
    const ca = typeof options.ca === 'string' ? options.ca : Buffer.from(options.ca).toString('utf8');
    const agent = new undici.Agent({ connect: { ca } });
    dispatcher = agent;
    const inner = (options.fetch ?? (undici.fetch as unknown as typeof fetch));
    doFetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => inner(input, { ...init, dispatcher: agent } as RequestInit)) as typeof fetch;
  }
  async function http(path: string, init?: RequestInit): Promise<Response> {
    try {
      return await doFetch(`${base}${path}`, init);
    } catch (e) {
      throw new SentinelClientError('CONNECTION_FAILED', `${base}${path}: ${(e as Error).message}${(e as { cause?: Error }).cause ? ` (${(e as { cause: Error }).cause.message})` : ''}`, { cause: e });
    }
  }

  // --- the evidence: verified here, never taken on the host's word ---
  async function loadEvidence(): Promise<LoadedEvidence> {
    const response = await http('/v1/evidence');
    const body = await readJson(response);
    if (!response.ok) throw httpError(response.status, body);
    const attestation = bytesOf(body.attestation, 'evidence.attestation');
    const document = core.verifyAttestation(attestation, {
      root: options.root,
      atMs: Date.now(),
      allowDebug,
      expect: { pcrs: { '0': expectedPcr0.slice(2) } },
    });
    if (document.publicKey === null || document.userData === null) {
      throw new SentinelClientError('EVIDENCE_INVALID', 'the attestation document binds no key bundle or configuration');
    }
    const keys = core.attestedKeys(Buffer.from(document.publicKey, 'hex'));
    let configHash: Hex;
    let policyHash: Hex | null;
    try {
      const userData = Buffer.from(document.userData, 'hex');
      configHash = core.userDataConfigHash(userData) as Hex;
      policyHash = core.userDataPolicyHash(userData) as Hex | null;
    } catch {
      throw new SentinelClientError('EVIDENCE_INVALID', 'the attestation document user_data is not 0x03 || config_hash || policy_hash');
    }
    if (expectedConfigHash !== undefined && expectedConfigHash !== configHash) {
      throw new SentinelClientError('CONFIG_HASH_MISMATCH', `the enclave attests configuration ${configHash}, not the expected ${expectedConfigHash}`);
    }
    if (expectedPolicyHash !== undefined && expectedPolicyHash !== policyHash) {
      throw new SentinelClientError('POLICY_HASH_MISMATCH', `the enclave attests ${policyHash === null ? 'no policy' : `policy ${policyHash}`}, not the expected ${expectedPolicyHash}`);
    }
    // The signed configuration is the host's word until its hash is the attested one.
    const signedConfig = bytesOf(body.signedConfig, 'evidence.signedConfig');
    let configVersion: number;
    try {
      if (hex0x(core.configHash(signedConfig)) !== configHash) throw new Error('its hash is not the attested configuration hash');
      configVersion = Number((JSON.parse(core.configToJson(signedConfig)) as { version: unknown }).version);
    } catch (e) {
      throw new SentinelClientError('EVIDENCE_INVALID', `evidence.signedConfig: ${(e as Error).message}`);
    }
    const attestationHash = sha256Hex(attestation);
    return {
      attestation,
      evidence: {
        attestation: hex0x(attestation),
        attestationHash,
        configHash,
        configVersion,
        policyHash,
        signedConfig: hex0x(signedConfig),
        attestedKeys: { receiptKey: keys.receiptKey as Hex, sessionKey: keys.sessionKey as Hex, importKey: keys.importKey as Hex },
        pcr0: `0x${(document.pcrs['0'] ?? '').toLowerCase()}`,
        rootKind: document.rootKind,
        timestampMs: document.timestampMs,
      },
      // The document's own hashes: each receipt must name exactly its configuration and policy (the core checks
      // receipt against document; pinning the policy here also refuses a receipt that claims another one).
      receiptOptions: {
        root: options.root,
        expectedPcr0,
        expectedConfigHash: configHash,
        ...(expectedPolicyHash !== undefined ? { expectedPolicyHash } : {}),
        allowDebug,
      },
    };
  }

  const documents = new Map<string, LoadedEvidence>();
  let current = await loadEvidence();
  documents.set(current.evidence.attestationHash, current);
  let reloading: Promise<LoadedEvidence> | null = null;

  async function refreshEvidence(): Promise<LoadedEvidence> {
    reloading ??= loadEvidence().finally(() => {
      reloading = null;
    });
    const loaded = await reloading;
    if (!documents.has(loaded.evidence.attestationHash)) {
      documents.set(loaded.evidence.attestationHash, loaded);
      while (documents.size > KEEP_DOCUMENTS) documents.delete(documents.keys().next().value as string);
    }
    current = loaded;
    return loaded;
  }

  /** Verifies a receipt's signature and document; a receipt naming an unknown document fetches the current one. */
  async function verifyAgainstEvidence(receipt: Buffer): Promise<{ verified: VerifiedReceipt; evidence: VerifiedEvidence }> {
    let named: string;
    try {
      named = core.unsafeDecodeReceiptClaims(receipt).attestationHash;
    } catch (e) {
      throw new SentinelClientError(codeOf(e, 'RECEIPT_INVALID'), `the receipt does not decode: ${(e as Error).message}`);
    }
    // The enclave refreshes its boot document (leaf certificates live ~3 hours) and makes a new one on a
    // configuration update: a receipt naming another document sends us to fetch and verify the current
    // one; the receipt must then name exactly a document this client verified.
    let loaded = documents.get(named);
    if (loaded === undefined) {
      const fresh = await refreshEvidence();
      loaded = fresh.evidence.attestationHash === named ? fresh : undefined;
    }
    if (loaded === undefined) {
      throw new SentinelClientError('RECEIPT_MISMATCH', 'the receipt names an attestation document that is not the enclave\'s current one');
    }
    try {
      return { verified: core.verifyReceipt(receipt, loaded.attestation, loaded.receiptOptions), evidence: loaded.evidence };
    } catch (e) {
      throw new SentinelClientError(codeOf(e, 'RECEIPT_INVALID'), `the receipt does not verify: ${(e as Error).message}`);
    }
  }

  /**
   * The receipt must record exactly this exchange: these body bytes, op, principal, key, and this answer
   * (its result hash, or this refusal). Returns the verified receipt; throws RECEIPT_MISMATCH otherwise.
   */
  async function checkReceipt(args: {
    operation: AnyOperation;
    body: Uint8Array;
    claimedPrincipal: string;
    answer: WireAnswer;
    receipt: Buffer;
    hostReceiptId: unknown;
    status?: number;
  }): Promise<Receipted> {
    const { operation, answer } = args;
    const { verified, evidence } = await verifyAgainstEvidence(args.receipt);
    const claims = verified.claims;
    const problems: string[] = [];
    if (claims.payloadHash !== sha256Hex(args.body)) problems.push('payload_hash is not the hash of the body sent');
    // An undecodable body is refused before its op is known: the receipt then names none.
    if (claims.op !== operation.op && !(claims.decision === 'denied' && claims.op === '')) problems.push(`op ${claims.op} is not ${operation.op}`);
    if (claims.principal !== args.claimedPrincipal) problems.push(`principal ${claims.principal} is not ${args.claimedPrincipal}`);
    if (claims.attestationHash !== evidence.attestationHash) problems.push('attestation_hash is not the verified document');
    if (args.hostReceiptId !== undefined && args.hostReceiptId !== null && String(args.hostReceiptId).toLowerCase() !== claims.requestId) {
      problems.push('receiptId is not the receipt\'s request_id');
    }
    const requestedKey = (operation as { key_id?: unknown }).key_id;
    if (answer.type === 'error') {
      if (claims.decision !== 'denied' || claims.code !== answer.code) problems.push('the receipt does not record this refusal');
    } else if (answer.type === 'approval_pending') {
      // Held, not signed: the receipt records the hold (denied, APPROVAL_PENDING) of exactly this request.
      if (claims.decision !== 'denied' || claims.code !== 'APPROVAL_PENDING') problems.push('the receipt does not record a hold for approval');
      if (String(answer.request_id).toLowerCase() !== claims.requestId) problems.push("request_id is not the receipt's request_id");
      if (String(answer.request_digest).toLowerCase() !== claims.payloadHash) problems.push('request_digest is not the hash of the body sent');
    } else {
      if (claims.decision !== 'allowed') problems.push('the receipt records a refusal, the answer is not one');
      const expected = expectedResultHash(answer);
      if ('problem' in expected) problems.push(expected.problem);
      else if ((claims.resultHash ?? null) !== expected.hash) problems.push('result_hash does not match the answer');
      if (typeof requestedKey === 'string' && claims.keyId !== requestedKey) problems.push(`key_id ${String(claims.keyId)} is not ${requestedKey}`);
      if (answer.type === 'key_generated') {
        // The result hash binds the public key only: the rest must be the request's and the receipt's.
        if (claims.keyId !== answer.key_id) problems.push('the answer\'s key_id is not the receipt\'s');
        // How the key is kept (sealed, DEVELOPMENT, ephemeral) is the receipt's signed claim, not the host's word.
        if ((claims.keyStorage ?? null) !== (answer.storage ?? null)) problems.push(`the answer's storage ${String(answer.storage)} is not the receipt's key_storage ${String(claims.keyStorage)}`);
        for (const field of ['curve', 'purpose', 'label'] as const) {
          if (field in operation && (operation as Record<string, unknown>)[field] !== answer[field]) problems.push(`the answer's ${field} is not the one requested`);
        }
      }
    }
    if (problems.length > 0) {
      throw new SentinelClientError('RECEIPT_MISMATCH', `the receipt does not match the answer: ${problems.join('; ')}`, {
        ...(args.status !== undefined ? { status: args.status } : {}),
      });
    }
    return { receipt: hex0x(args.receipt), receiptId: claims.requestId as Hex, verified };
  }

  // --- transports ---

  async function sendHttp(operation: AnyOperation, sendOptions?: { stamp?: boolean; route?: string }): Promise<{ answer: WireAnswer; status: number } & Receipted> {
    const body = core.encodeBody(operation as Operation);
    const stamp = sendOptions?.stamp === false ? null : stampOf(credentialJson, operation.op, body);
    const route = sendOptions?.route ?? OPERATION_ROUTES[operation.op] ?? '/v1/stamped';
    const response = await http(route, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: hex0x(body), stamp }),
    });
    const result = await readJson(response);
    const held = response.status === 202 && result.status === 'pending';
    if (typeof result.receipt !== 'string' || (!held && (typeof result.answer !== 'object' || result.answer === null))) {
      throw httpError(response.status, result);
    }
    const answer = held ? pendingAnswer(result) : (result.answer as WireAnswer);
    const receipted = await checkReceipt({
      operation,
      body,
      claimedPrincipal: stamp === null ? '' : stamp.principal,
      answer,
      receipt: bytesOf(result.receipt, 'receipt'),
      hostReceiptId: result.receiptId ?? response.headers.get('x-sentinel-receipt-id'),
      status: response.status,
    });
    return { answer, status: response.status, ...receipted };
  }

  type Session = InstanceType<typeof core.SessionClient>;
  let session: Session | null = null;
  const sessionOptions = options.session;

  function openSession(): Session {
    if (sessionOptions === undefined) throw new Error('unreachable');
    return core.SessionClient.connect(sessionOptions.socketPath, {
      sessionKey: bytesOf(current.evidence.attestedKeys.sessionKey, 'sessionKey'),
      attestationHash: bytesOf(current.evidence.attestationHash, 'attestationHash'),
      credential: credentialJson,
      ...(sessionOptions.busyPoll !== undefined ? { busyPoll: sessionOptions.busyPoll } : {}),
    });
  }

  /** Codes after which the enclave did not run the operation and a new session may: reconnect once and retry. */
  const SESSION_RETRY = new Set(['SESSION_EXPIRED', 'SESSION_CLOSED']);
  /** Codes after which this session is unusable (the operation may have run: no retry, a new session next time). */
  const SESSION_DEAD = new Set(['SESSION_BROKEN', 'SESSION_CLIENT_IO', ...SESSION_RETRY]);

  async function sendSession(operation: AnyOperation): Promise<{ answer: WireAnswer; status: number } & Receipted> {
    const body = core.encodeBody(operation as Operation);
    let answered: ReturnType<Session['call']> | undefined;
    for (let attempt = 0; answered === undefined; attempt++) {
      try {
        if (session === null || session.closed) {
          try {
            session = openSession();
          } catch (e) {
            // The document may have been refreshed since it was verified: verify the current one, once.
            if (attempt > 0 || codeOf(e, '') !== 'SESSION_HANDSHAKE_FAILED') throw e;
            await refreshEvidence();
            session = openSession();
          }
        }
        answered = session.call(operation as Operation, true);
      } catch (e) {
        if (session !== null && !session.closed && !SESSION_DEAD.has(codeOf(e, ''))) {
          // Not a session failure of this call: keep the session.
        } else {
          try {
            session?.close();
          } catch {
            /* already gone */
          }
          session = null;
        }
        if (attempt === 0 && SESSION_RETRY.has(codeOf(e, ''))) continue;
        throw new SentinelClientError(codeOf(e, 'SESSION_CLIENT_IO'), (e as Error).message, { cause: e });
      }
    }
    if (answered.receipt === null) throw new SentinelClientError('RECEIPT_MISSING', 'the session answer carries no receipt');
    const answer = toWire(answered.answer) as WireAnswer;
    const receipted = await checkReceipt({ operation, body, claimedPrincipal: principal, answer, receipt: answered.receipt, hostReceiptId: undefined });
    return { answer, status: answer.type === 'error' ? 0 : 200, ...receipted };
  }

  /** Sends, verifies, and throws refusals (with their verified receipt) and unexpected answer types. */
  async function call(operation: AnyOperation): Promise<{ answer: WireAnswer } & Receipted> {
    const result = sessionOptions === undefined ? await sendHttp(operation) : await sendSession(operation);
    const { answer } = result;
    const receipted: Receipted = { receipt: result.receipt, receiptId: result.receiptId, verified: result.verified };
    if (answer.type === 'approval_pending') {
      const pending = pendingOf(answer, receipted);
      remember(pending.requestId, operation);
      throw new SentinelClientError(
        'APPROVAL_PENDING',
        `held for human approval (${pending.reason}; ${pending.approvals.length} of ${pending.approvalsNeeded} approvals; request ${pending.requestId})`,
        { ...(result.status > 0 ? { status: result.status } : {}), receipt: receipted, pending },
      );
    }
    if (answer.type === 'error') {
      const code = String(answer.code);
      throw new SentinelClientError(code, String(answer.message ?? code), {
        ...(result.status > 0 ? { status: result.status } : {}),
        receipt: receipted,
      });
    }
    const expected = OP_ANSWERS[operation.op];
    if (answer.type !== expected) {
      throw new SentinelClientError('UNEXPECTED_RESPONSE', `the enclave answered \`${answer.type}\` where \`${expected}\` was expected`);
    }
    return { answer, ...receipted };
  }

  const receiptOf = (r: Receipted): Receipted => ({ receipt: r.receipt, receiptId: r.receiptId, verified: r.verified });

  // --- requests held for human approval ---

  const holds = new Map<string, AnyOperation>();
  function remember(requestId: string, operation: AnyOperation): void {
    holds.delete(requestId);
    holds.set(requestId, operation);
    while (holds.size > MAX_REMEMBERED_HOLDS) holds.delete(holds.keys().next().value as string);
  }

  async function approvalResult(requestId: string): Promise<ApprovalOutcome> {
    const id = normalizeHex(requestId, 'requestId');
    if (!/^0x[0-9a-f]{32}$/.test(id)) throw new SentinelClientError('INVALID_ARGUMENT', 'requestId: expected 16 bytes (0x + 32 hex digits)');
    const response = await http(`/v1/requests/${id}`);
    const result = await readJson(response);
    const held = response.status === 202 && result.status === 'pending';
    if (typeof result.receipt !== 'string' || (!held && (typeof result.answer !== 'object' || result.answer === null))) {
      throw httpError(response.status, result);
    }
    const answer = held ? pendingAnswer(result) : (result.answer as WireAnswer);
    const receipt = bytesOf(result.receipt, 'receipt');
    const hostReceiptId = result.receiptId ?? response.headers.get('x-sentinel-receipt-id');
    const operation = holds.get(id);
    let receipted: Receipted;
    if (operation !== undefined) {
      // A request this client sent: the receipt must record exactly that body, op, key and principal.
      receipted = await checkReceipt({ operation, body: core.encodeBody(operation as Operation), claimedPrincipal: principal, answer, receipt, hostReceiptId, status: response.status });
    } else {
      receipted = await checkOutcome(answer, receipt, hostReceiptId);
    }
    if (answer.type === 'approval_pending') {
      const pending = pendingOf(answer, receipted);
      if (pending.requestId !== id) throw new SentinelClientError('RECEIPT_MISMATCH', `the host answered for request ${pending.requestId}, not ${id}`);
      return { status: 'pending', pending };
    }
    holds.delete(id);
    if (answer.type === 'error') {
      const code = String(answer.code);
      throw new SentinelClientError(code, String(answer.message ?? code), { status: response.status, receipt: receipted });
    }
    const expected = operation === undefined ? undefined : OP_ANSWERS[operation.op];
    if (expected !== undefined && answer.type !== expected) {
      throw new SentinelClientError('UNEXPECTED_RESPONSE', `the enclave answered \`${answer.type}\` where \`${expected}\` was expected`);
    }
    return { status: 'released', answer, ...receiptOf(receipted) };
  }

  /**
   * The receipt of a held request's outcome when this client did not send it (another process did): signed by
   * the attested enclave, for this principal, and recording this answer (result hash, refusal or hold).
   */
  async function checkOutcome(answer: WireAnswer, receipt: Buffer, hostReceiptId: unknown): Promise<Receipted> {
    const { verified, evidence } = await verifyAgainstEvidence(receipt);
    const claims = verified.claims;
    const problems: string[] = [];
    if (claims.principal !== principal) problems.push(`principal ${claims.principal} is not ${principal}`);
    if (claims.attestationHash !== evidence.attestationHash) problems.push('attestation_hash is not the verified document');
    if (hostReceiptId !== undefined && hostReceiptId !== null && String(hostReceiptId).toLowerCase() !== claims.requestId) {
      problems.push("receiptId is not the receipt's request_id");
    }
    if (answer.type === 'error') {
      if (claims.decision !== 'denied' || claims.code !== answer.code) problems.push('the receipt does not record this refusal');
    } else if (answer.type === 'approval_pending') {
      if (claims.decision !== 'denied' || claims.code !== 'APPROVAL_PENDING') problems.push('the receipt does not record a hold for approval');
      if (String(answer.request_id).toLowerCase() !== claims.requestId) problems.push("request_id is not the receipt's request_id");
      if (String(answer.request_digest).toLowerCase() !== claims.payloadHash) problems.push("request_digest is not the receipt's payload_hash");
    } else {
      if (claims.decision !== 'allowed') problems.push('the receipt records a refusal, the answer is not one');
      const expected = expectedResultHash(answer);
      if ('problem' in expected) problems.push(expected.problem);
      else if ((claims.resultHash ?? null) !== expected.hash) problems.push('result_hash does not match the answer');
      if (answer.type === 'key_generated' && (claims.keyStorage ?? null) !== (answer.storage ?? null)) {
        problems.push(`the answer's storage ${String(answer.storage)} is not the receipt's key_storage ${String(claims.keyStorage)}`);
      }
    }
    if (problems.length > 0) throw new SentinelClientError('RECEIPT_MISMATCH', `the receipt does not match the answer: ${problems.join('; ')}`);
    return { receipt: hex0x(receipt), receiptId: claims.requestId as Hex, verified };
  }

  async function waitForApproval(requestId: string, waitOptions?: { timeoutMs?: number; intervalMs?: number }): Promise<ApprovalReleased> {
    const intervalMs = waitOptions?.intervalMs ?? 1000;
    if (!(intervalMs > 0)) throw new SentinelClientError('INVALID_ARGUMENT', 'intervalMs: expected a positive number of milliseconds');
    const started = Date.now();
    for (;;) {
      const outcome = await approvalResult(requestId);
      if (outcome.status === 'released') return outcome;
      // Default: until the hold expires (then the enclave answers APPROVAL_EXPIRED, which is thrown), plus slack.
      const deadline = waitOptions?.timeoutMs !== undefined ? started + waitOptions.timeoutMs : outcome.pending.expiresAtUs / 1000 + 5_000;
      const now = Date.now();
      if (now >= deadline) {
        throw new SentinelClientError(
          'APPROVAL_TIMEOUT',
          `request ${outcome.pending.requestId} is still held (${outcome.pending.approvals.length} of ${outcome.pending.approvalsNeeded} approvals)`,
          { pending: outcome.pending },
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(intervalMs, deadline - now)));
    }
  }

  const client: SentinelClient = {
    principal,
    get evidence() {
      return current.evidence;
    },
    usesSession: sessionOptions !== undefined,
    send: sendHttp,
    approvalResult,
    waitForApproval,

    async generateKey({ curve, purpose, label }) {
      const r = await call({ op: 'generate_key', curve, purpose, label });
      return { ...keyOf(r.answer), ...receiptOf(r) };
    },

    async importKey({ curve, purpose, label, secretKey }) {
      const sealed = await sealKeyImport({
        principal,
        label,
        curve,
        purpose,
        importKey: bytesOf(current.evidence.attestedKeys.importKey, 'importKey'),
        secretKey,
      });
      const r = await call({ op: 'import_key', curve, purpose, label, enc: sealed.enc, ciphertext: sealed.ciphertext });
      return { ...keyOf(r.answer), ...receiptOf(r) };
    },

    async listKeys() {
      const r = await call({ op: 'list_keys' } as Operation);
      if (!Array.isArray(r.answer.keys)) throw new SentinelClientError('UNEXPECTED_RESPONSE', 'key_list: no `keys` array');
      return { keys: (r.answer.keys as WireAnswer[]).map(keyOf), ...receiptOf(r) };
    },

    async deleteKey(keyId) {
      const r = await call({ op: 'delete_key', key_id: keyId } as Operation);
      return { keyId: String(r.answer.key_id), ...receiptOf(r) };
    },

    async signTransaction(keyId, tx) {
      let unsigned: Buffer;
      let claimedFrom: string | undefined;
      if (tx instanceof Uint8Array || typeof tx === 'string') {
        unsigned = inputBytes(tx, 'tx');
      } else if (tx !== null && typeof tx === 'object') {
        const encode = (core as unknown as { encodeUnsignedTransaction?: (json: string) => Buffer }).encodeUnsignedTransaction;
        if (typeof encode !== 'function') {
          throw new SentinelClientError('NOT_SUPPORTED', 'this build of @sentinel/node has no encodeUnsignedTransaction: pass the unsigned RLP');
        }
        const { from, ...fields } = tx;
        if (typeof from === 'string') claimedFrom = from;
        // viem names the types; the core takes their numbers.
        const named = typeof fields.type === 'string' ? TX_TYPE_NAMES[fields.type] : undefined;
        if (named !== undefined) fields.type = named;
        unsigned = encode(jsonWithBigInts(fields, 'quantity'));
      } else {
        throw new SentinelClientError('INVALID_ARGUMENT', 'tx: expected unsigned RLP (bytes or 0x-hex) or a transaction object');
      }
      const r = await call({ op: 'sign_ethereum_transaction', key_id: keyId, unsigned_tx: unsigned });
      const raw = bytesOf(r.answer.raw, 'raw');
      const from = core.recoverEthereumTransactionSigner(raw).signer as Hex;
      if (claimedFrom !== undefined && claimedFrom.toLowerCase() !== from.toLowerCase()) {
        throw new SentinelClientError('SIGNER_MISMATCH', `tx.from is ${claimedFrom}, the key signs as ${from}`, { receipt: receiptOf(r) });
      }
      return { raw: hex0x(raw), hash: hex0x(core.keccak256(raw)), from, ...receiptOf(r) };
    },

    async signMessage(keyId, message) {
      let bytes: Buffer;
      if (typeof message === 'string') bytes = Buffer.from(message, 'utf8');
      else if (message instanceof Uint8Array) bytes = inputBytes(message, 'message');
      else if (message !== null && typeof message === 'object' && 'raw' in message) bytes = inputBytes(message.raw, 'message.raw');
      else throw new SentinelClientError('INVALID_ARGUMENT', 'message: expected a string, bytes or { raw }');
      const r = await call({ op: 'sign_personal_message', key_id: keyId, message: bytes });
      const sig = ethSignature(r.answer);
      return { ...sig, signer: signerOf(core.hashPersonalMessage(bytes), sig), ...receiptOf(r) };
    },

    async signTypedData(keyId, typedData) {
      const text = typeof typedData === 'string' ? typedData : jsonWithBigInts(typedData, 'decimal');
      const r = await call({ op: 'sign_typed_data', key_id: keyId, typed_data: text });
      const sig = ethSignature(r.answer);
      return { ...sig, signer: signerOf(core.hashTypedData(text), sig), ...receiptOf(r) };
    },

    async signDigest(keyId, digest) {
      const r = await call({ op: 'sign_digest', key_id: keyId, digest: inputBytes(digest, 'digest') });
      const recoveryId = typeof r.answer.recovery_id === 'number' ? r.answer.recovery_id : null;
      return { signature: hex0x(bytesOf(r.answer.signature, 'signature')), recoveryId, ...receiptOf(r) };
    },

    async signEd25519(keyId, message) {
      const r = await call({ op: 'sign_ed25519', key_id: keyId, message: inputBytes(message, 'message') });
      return { signature: hex0x(bytesOf(r.answer.signature, 'signature')), ...receiptOf(r) };
    },

    async attest(nonce) {
      const n = nonce === undefined ? randomBytes(32) : inputBytes(nonce, 'nonce');
      const response = await http(`/v1/attestation?nonce=${hex0x(n)}`);
      const body = await readJson(response);
      if (!response.ok) throw httpError(response.status, body);
      const document = bytesOf(body.document, 'attestation.document');
      let verified: ReturnType<typeof core.verifyAttestation>;
      try {
        verified = core.verifyAttestation(document, {
          root: options.root,
          atMs: Date.now(),
          allowDebug,
          expect: { pcrs: { '0': expectedPcr0.slice(2) }, nonce: n.toString('hex') },
        });
      } catch (e) {
        throw new SentinelClientError(codeOf(e, 'ATTESTATION_INVALID'), `the attestation document does not verify: ${(e as Error).message}`);
      }
      const hexOrNull = (h: string | null): Hex | null => (h === null ? null : (`0x${h.toLowerCase()}` as Hex));
      return {
        document: hex0x(document),
        nonce: hex0x(n),
        moduleId: verified.moduleId,
        timestampMs: verified.timestampMs,
        pcrs: verified.pcrs,
        publicKey: hexOrNull(verified.publicKey),
        userData: hexOrNull(verified.userData),
        rootKind: verified.rootKind,
      };
    },

    async getReceipt(receiptId) {
      const id = normalizeHex(receiptId, 'receiptId');
      const response = await http(`/v1/receipts/${id}`);
      const body = await readJson(response);
      if (!response.ok) throw httpError(response.status, body);
      const receipt = bytesOf(body.receipt, 'receipt');
      const { verified } = await verifyAgainstEvidence(receipt);
      if (verified.claims.requestId !== id) {
        throw new SentinelClientError('RECEIPT_MISMATCH', `the host returned receipt ${verified.claims.requestId} for ${id}`);
      }
      return { receipt: hex0x(receipt), receiptId: id, verified };
    },

    async policy() {
      const response = await http('/v1/policy');
      const body = await readJson(response);
      if (!response.ok) throw httpError(response.status, body);
      const signedPolicy = body.signedPolicy;
      if (signedPolicy === null || typeof signedPolicy !== 'object') throw new SentinelClientError('UNEXPECTED_RESPONSE', 'GET /v1/policy: no signedPolicy object');
      const inspected = inspectSignedPolicy(JSON.stringify(signedPolicy));
      const policyHash = hex0x(inspected.policyHash);
      if (body.policyHash !== policyHash) {
        throw new SentinelClientError('POLICY_HASH_MISMATCH', `the host says policy ${String(body.policyHash)}, the policy it sent hashes to ${policyHash}`);
      }
      // The attested policy hash, when the verified evidence carries one (user_data 0x03 || config_hash || policy_hash).
      const attestedHash = (): Hex | null | undefined => (current.evidence as { policyHash?: Hex | null }).policyHash;
      let attested = attestedHash();
      if (attested !== undefined && attested !== policyHash) {
        await refreshEvidence(); // a policy update makes a new document: check against the current one
        attested = attestedHash();
      }
      if (attested !== undefined && attested !== policyHash) {
        throw new SentinelClientError('POLICY_HASH_MISMATCH', `the enclave attests policy ${String(attested)}, the host sent ${policyHash}`);
      }
      return {
        signedPolicy: signedPolicy as SignedPolicy,
        policyHash,
        version: inspected.version,
        name: inspected.name,
        signers: inspected.signers,
        attested: attested !== undefined,
      };
    },

    async dryRun(operation) {
      const body = core.encodeBody(operation as Operation);
      const stamp = stampOf(credentialJson, operation.op, body);
      const response = await http('/v1/policy/dry-run', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ body: hex0x(body), stamp }),
      });
      const result = await readJson(response);
      if (!response.ok) throw httpError(response.status, result);
      return policyEvaluationOf(result);
    },

    async close() {
      try {
        session?.close();
      } catch {
        /* already closed */
      }
      session = null;
      await dispatcher?.close();
    },
  };
  if (sessionOptions !== undefined) {
    try {
      session = openSession();
    } catch (e) {
      await dispatcher?.close();
      throw new SentinelClientError(codeOf(e, 'SESSION_CLIENT_IO'), `session: ${(e as Error).message}`, { cause: e });
    }
  }
  return client;
}
