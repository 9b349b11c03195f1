/**
 * A client of the API that trusts the enclave, not the host.
 *
 * It fetches the evidence (`GET /v1/evidence`), verifies the boot
 * attestation document against the caller's root and PCR0 (and configuration
 * hash, if given), and takes the attested keys from it; it fetches and
 * verifies it again when a receipt names a newer document (the enclave
 * refreshes it hourly, and on a configuration update). Then each operation is
 * encoded by the core (`encodeBody`), stamped with the principal's credential
 * (fresh 16-byte nonce, the current time in µs), posted to `/v1/stamped`, and
 * its receipt verified with `verifyReceipt` against that document before
 * anything is returned: the receipt must be for this principal, this op and
 * these exact body bytes, and its `result_hash` must match the answer. A
 * refusal throws a `SentinelError` with the enclave's code (and the verified
 * receipt); an answer whose receipt does not check out throws too.
 *
 * Secrets never leave this process: the credential signs locally, and an
 * imported key is sealed with HPKE to the attested import key
 * (client/key-import.ts) before the host sees it.
 */
import { createHash, randomBytes } from 'node:crypto';

import type { Operation, OperationName } from '@sentinel/node/protocol';

import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import { sealKeyImport, type ImportCurve, type ImportPurpose } from './key-import.ts';

export type Curve = ImportCurve;
export type KeyPurpose = ImportPurpose;

export interface StampedClientOptions {
  /** The API base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** The principal's credential: the `client.key` JSON (text or parsed). */
  credential: string | ClientCredential;
  /** Trusted root certificate, DER (`core.awsNitroRootG1()` in production). */
  root: Uint8Array;
  /** Expected PCR0 (48 bytes, or hex). */
  expectedPcr0: Uint8Array | string;
  /** Expected configuration hash (32 bytes, or hex); when unset, receipts are checked against the attested one. */
  expectedConfigHash?: Uint8Array | string;
  /** Accept an all-zero PCR0 (debug enclave). Default false. */
  allowDebug?: boolean;
  /** Substitute `fetch` (tests). */
  fetch?: typeof fetch;
}

export interface ClientCredential {
  principal: string;
  alg: string;
  secret_key: string;
}

/** What `verifyReceipt` returns (claims with bytes as 0x-hex). */
export type VerifiedReceipt = ReturnType<typeof core.verifyReceipt>;

/** Every answer carries its receipt and what verification established. */
export interface Receipted {
  /** The COSE_Sign1 receipt bytes, as the enclave signed them. */
  receipt: Buffer;
  verified: VerifiedReceipt;
}

export interface KeyInfo {
  keyId: string;
  curve: Curve;
  purpose: KeyPurpose;
  label: string;
  /** SEC1 compressed (secp256k1) or the 32-byte Ed25519 key. */
  publicKey: Buffer;
}

export interface ListedKey extends KeyInfo {
  owner: string;
}

export interface SignatureResult {
  signature: Buffer;
  recoveryId: number | null;
}

/** The evidence, verified: the document and the keys it attests. */
export interface VerifiedEvidence {
  attestation: Buffer;
  attestationHash: string;
  configHash: string;
  configVersion: number;
  signedConfig: Buffer;
  attestedKeys: { receiptKey: string; sessionKey: string; importKey: string };
  pcr0: string;
}

/** A refusal by the enclave, proven by its receipt (or an HTTP-level error, without one). */
export class StampedRequestError extends SentinelError {
  constructor(
    code: string,
    message: string,
    readonly status: number,
    readonly receipt?: Receipted,
  ) {
    super(code, message);
    this.name = 'StampedRequestError';
  }
}

interface WireAnswer {
  type: string;
  [field: string]: unknown;
}

export interface StampedClient {
  readonly principal: string;
  readonly evidence: VerifiedEvidence;
  generateKey(args: { curve: Curve; purpose: KeyPurpose; label: string }): Promise<KeyInfo & Receipted>;
  /** Seals `secretKey` to the attested import key; the host sees only the HPKE ciphertext. The caller wipes `secretKey`. */
  importKey(args: { curve: Curve; purpose: KeyPurpose; label: string; secretKey: Uint8Array }): Promise<KeyInfo & Receipted>;
  listKeys(): Promise<{ keys: ListedKey[] } & Receipted>;
  signDigest(keyId: string, digest: Uint8Array): Promise<SignatureResult & Receipted>;
  signEthereumTransaction(keyId: string, unsignedTx: Uint8Array): Promise<{ raw: Buffer } & Receipted>;
  signPersonalMessage(keyId: string, message: Uint8Array): Promise<SignatureResult & Receipted>;
  /** EIP-712 typed data, as JSON text or as an object (serialized with JSON.stringify). */
  signTypedData(keyId: string, typedData: string | object): Promise<SignatureResult & Receipted>;
  /** Sends an operation body as given (no stamp when `stamp` is false): for tests of refusals. */
  send(operation: Operation, options?: { stamp?: boolean }): Promise<{ answer: WireAnswer; status: number } & Receipted>;
}

const OP_ANSWERS: Readonly<Record<string, string>> = core.bodyOperationAnswers();

function hex0x(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
}

function bytesOf(hex: unknown, what: string): Buffer {
  if (typeof hex !== 'string' || !/^0x([0-9a-f]{2})*$/.test(hex)) {
    throw new SentinelError('UNEXPECTED_RESPONSE', `${what}: expected 0x-prefixed hex`);
  }
  return Buffer.from(hex.slice(2), 'hex');
}

function sha256Hex(...parts: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return `0x${h.digest('hex')}`;
}

function normalizeHex(value: Uint8Array | string): string {
  return typeof value === 'string' ? `0x${value.replace(/^0x/, '').toLowerCase()}` : hex0x(value);
}

/** The `result_hash` the enclave puts in a receipt for an answer (enclave/src/decide.rs). */
function expectedResultHash(answer: WireAnswer): string | null {
  switch (answer.type) {
    case 'signature': {
      const sig = bytesOf(answer.signature, 'signature');
      const rid = answer.recovery_id;
      return typeof rid === 'number' ? sha256Hex(sig, Uint8Array.of(rid)) : sha256Hex(sig);
    }
    case 'signed_transaction':
      return sha256Hex(bytesOf(answer.raw, 'raw'));
    case 'key_generated':
      return sha256Hex(bytesOf(answer.public_key, 'public_key'));
    default:
      return null;
  }
}

function parseCredential(credential: string | ClientCredential): { json: string; principal: string } {
  const parsed = (typeof credential === 'string' ? JSON.parse(credential) : credential) as Partial<ClientCredential>;
  if (typeof parsed.principal !== 'string') {
    throw new SentinelError('INVALID_ARGUMENT', 'credential: not a client credential (no `principal`)');
  }
  return { json: typeof credential === 'string' ? credential : JSON.stringify(credential), principal: parsed.principal };
}

async function readJson(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new SentinelError('UNEXPECTED_RESPONSE', `HTTP ${response.status}: not JSON`);
  }
}

function httpError(status: number, body: Record<string, unknown>): StampedRequestError {
  const error = body.error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof error?.code === 'string' ? error.code : 'UNEXPECTED_RESPONSE';
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${status}`;
  return new StampedRequestError(code, message, status);
}

export async function createStampedClient(options: StampedClientOptions): Promise<StampedClient> {
  const doFetch = options.fetch ?? fetch;
  const base = options.url.replace(/\/+$/, '');
  const { json: credentialJson, principal } = parseCredential(options.credential);
  const expectedPcr0 = normalizeHex(options.expectedPcr0);

  // --- the evidence: verified here, never taken on the host's word ---
  async function loadEvidence(): Promise<{ evidence: VerifiedEvidence; receiptOptions: Parameters<typeof core.verifyReceipt>[2] }> {
    const evidenceResponse = await doFetch(`${base}/v1/evidence`);
    const evidenceBody = await readJson(evidenceResponse);
    if (!evidenceResponse.ok) throw httpError(evidenceResponse.status, evidenceBody);
    const attestation = bytesOf(evidenceBody.attestation, 'evidence.attestation');
    const document = core.verifyAttestation(attestation, {
      root: options.root,
      atMs: Date.now(),
      allowDebug: options.allowDebug ?? false,
      expect: { pcrs: { '0': expectedPcr0.slice(2) } },
    });
    if (document.publicKey === null || document.userData === null) {
      throw new SentinelError('EVIDENCE_INVALID', 'the attestation document binds no key bundle or configuration');
    }
    const attestedKeys = core.attestedKeys(Buffer.from(document.publicKey, 'hex'));
    const userData = document.userData.toLowerCase();
    if (!userData.startsWith('02') || userData.length !== 66) {
      throw new SentinelError('EVIDENCE_INVALID', 'the attestation document user_data is not 0x02 || config_hash');
    }
    const attestedConfigHash = `0x${userData.slice(2)}`;
    if (options.expectedConfigHash !== undefined && normalizeHex(options.expectedConfigHash) !== attestedConfigHash) {
      throw new SentinelError('CONFIG_HASH_MISMATCH', `the enclave attests configuration ${attestedConfigHash}, not the expected one`);
    }
    return {
      evidence: {
        attestation,
        attestationHash: sha256Hex(attestation),
        configHash: attestedConfigHash,
        configVersion: Number(evidenceBody.configVersion),
        signedConfig: bytesOf(evidenceBody.signedConfig, 'evidence.signedConfig'),
        attestedKeys: { receiptKey: attestedKeys.receiptKey, sessionKey: attestedKeys.sessionKey, importKey: attestedKeys.importKey },
        pcr0: `0x${document.pcrs['0'] ?? ''}`,
      },
      receiptOptions: {
        root: options.root,
        expectedPcr0,
        expectedConfigHash: attestedConfigHash,
        allowDebug: options.allowDebug ?? false,
      },
    };
  }
  let state = await loadEvidence();

  async function send(operation: Operation, sendOptions?: { stamp?: boolean }): Promise<{ answer: WireAnswer; status: number } & Receipted> {
    const body = core.encodeBody(operation);
    const stamp =
      sendOptions?.stamp === false
        ? null
        : stampOf(credentialJson, operation.op, body);
    const response = await doFetch(`${base}/v1/stamped`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: hex0x(body), stamp }),
    });
    const result = await readJson(response);
    if (typeof result.receipt !== 'string' || typeof result.answer !== 'object' || result.answer === null) {
      throw httpError(response.status, result);
    }
    const answer = result.answer as WireAnswer;
    const receipt = bytesOf(result.receipt, 'receipt');
    let verified: VerifiedReceipt;
    try {
      // The enclave refreshes its boot document (leaf certificates live ~3 hours) and makes a new
      // one on a configuration update: a receipt naming another document sends us to fetch and
      // verify the current one; the receipt must then name exactly that document.
      if (core.unsafeDecodeReceiptClaims(receipt).attestationHash !== state.evidence.attestationHash) state = await loadEvidence();
      verified = core.verifyReceipt(receipt, state.evidence.attestation, state.receiptOptions);
    } catch (e) {
      const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'RECEIPT_INVALID';
      throw new StampedRequestError(code, `the receipt does not verify: ${(e as Error).message}`, response.status);
    }
    const claims = verified.claims;
    const problems: string[] = [];
    if (claims.payloadHash !== sha256Hex(body)) problems.push('payload_hash is not the hash of the body sent');
    // An undecodable body is refused before its op is known: the receipt then names none.
    if (claims.op !== operation.op && !(claims.decision === 'denied' && claims.op === '')) {
      problems.push(`op ${claims.op} is not ${operation.op}`);
    }
    // The receipt names the principal the stamp claimed (none without a stamp).
    const claimed = stamp === null ? '' : stamp.principal;
    if (claims.principal !== claimed) problems.push(`principal ${claims.principal} is not ${claimed}`);
    if (claims.attestationHash !== state.evidence.attestationHash) problems.push('attestation_hash is not the verified document');
    if (answer.type === 'error') {
      if (claims.decision !== 'denied' || claims.code !== answer.code) problems.push('the receipt does not record this refusal');
    } else {
      if (claims.decision !== 'allowed') problems.push('the receipt records a refusal, the answer is not one');
      if (claims.resultHash !== expectedResultHash(answer)) problems.push('result_hash does not match the answer');
    }
    if (problems.length > 0) {
      throw new StampedRequestError('RECEIPT_MISMATCH', `the receipt does not match the answer: ${problems.join('; ')}`, response.status);
    }
    return { answer, status: response.status, receipt, verified };
  }

  async function call(operation: Operation): Promise<{ answer: WireAnswer; status: number } & Receipted> {
    const result = await send(operation);
    const { answer } = result;
    if (answer.type === 'error') {
      const code = String(answer.code);
      throw new StampedRequestError(code, String(answer.message ?? code), result.status, { receipt: result.receipt, verified: result.verified });
    }
    const expected = OP_ANSWERS[operation.op as OperationName];
    if (answer.type !== expected) {
      throw new SentinelError('UNEXPECTED_RESPONSE', `the enclave answered \`${answer.type}\` where \`${expected}\` was expected`);
    }
    return result;
  }

  const keyInfo = (a: WireAnswer): KeyInfo => ({
    keyId: String(a.key_id),
    curve: a.curve as Curve,
    purpose: a.purpose as KeyPurpose,
    label: String(a.label),
    publicKey: bytesOf(a.public_key, 'public_key'),
  });
  const signature = (a: WireAnswer): SignatureResult => ({
    signature: bytesOf(a.signature, 'signature'),
    recoveryId: typeof a.recovery_id === 'number' ? a.recovery_id : null,
  });
  const receipted = (r: Receipted): Receipted => ({ receipt: r.receipt, verified: r.verified });

  return {
    principal,
    get evidence() {
      return state.evidence;
    },
    send,
    async generateKey({ curve, purpose, label }) {
      const r = await call({ op: 'generate_key', curve, purpose, label });
      return { ...keyInfo(r.answer), ...receipted(r) };
    },
    async importKey({ curve, purpose, label, secretKey }) {
      const sealed = await sealKeyImport({
        principal,
        label,
        curve,
        purpose,
        importKey: bytesOf(state.evidence.attestedKeys.importKey, 'importKey'),
        secretKey,
      });
      const r = await call({ op: 'import_key', curve, purpose, label, enc: sealed.enc, ciphertext: sealed.ciphertext });
      return { ...keyInfo(r.answer), ...receipted(r) };
    },
    async listKeys() {
      const r = await call({ op: 'list_keys' } as Operation);
      const keys = (r.answer.keys as WireAnswer[]).map((k) => ({ ...keyInfo(k), owner: String(k.owner) }));
      return { keys, ...receipted(r) };
    },
    async signDigest(keyId, digest) {
      const r = await call({ op: 'sign_digest', key_id: keyId, digest });
      return { ...signature(r.answer), ...receipted(r) };
    },
    async signEthereumTransaction(keyId, unsignedTx) {
      const r = await call({ op: 'sign_ethereum_transaction', key_id: keyId, unsigned_tx: unsignedTx });
      return { raw: bytesOf(r.answer.raw, 'raw'), ...receipted(r) };
    },
    async signPersonalMessage(keyId, message) {
      const r = await call({ op: 'sign_personal_message', key_id: keyId, message });
      return { ...signature(r.answer), ...receipted(r) };
    },
    async signTypedData(keyId, typedData) {
      const text = typeof typedData === 'string' ? typedData : JSON.stringify(typedData);
      const r = await call({ op: 'sign_typed_data', key_id: keyId, typed_data: text });
      return { ...signature(r.answer), ...receipted(r) };
    },
  };
}

/** The wire stamp for `body`: signed by the credential over op, body, time and a fresh nonce. */
function stampOf(credentialJson: string, op: string, body: Uint8Array): { principal: string; timestampUs: string; nonce: string; signature: string } {
  const nonce = randomBytes(16);
  const timestampUs = Date.now() * 1000;
  const stamp = core.stampRequest(credentialJson, op, body, BigInt(timestampUs), nonce);
  return {
    principal: stamp.principal,
    timestampUs: String(timestampUs),
    nonce: hex0x(nonce),
    signature: hex0x(stamp.signature),
  };
}
