/**
 * The shapes the SDK hands back: plain JSON-friendly values (bytes as
 * `0x`-prefixed lowercase hex, addresses EIP-55), so results can be logged,
 * stored or passed to viem and ethers without conversion, and every answer
 * carries the receipt that proves where it came from.
 */
import type { Core } from './core.ts';

export type Hex = `0x${string}`;
export type Curve = 'secp256k1' | 'ed25519';
export type KeyPurpose = 'ethereum' | 'raw';

/** What `core.verifyReceipt` established: the signed claims (bytes as 0x-hex) and the document's facts. */
export type VerifiedReceipt = ReturnType<Core['verifyReceipt']>;

/** Every answer carries its receipt, verified before the answer was returned. */
export interface Receipted {
  /** The COSE_Sign1 receipt, exactly as the enclave signed it. */
  receipt: Hex;
  /** The receipt's `request_id` (16 bytes): the key of `GET /v1/receipts/:id`. */
  receiptId: Hex;
  verified: VerifiedReceipt;
}

/**
 * A signing request the enclave holds for human approval (a policy verdict or a Yellow kill switch;
 * docs/oversight.md). Its receipt (verified: decision denied, code APPROVAL_PENDING) proves the hold;
 * `client.approvalResult(requestId)` / `client.waitForApproval(requestId)` give the outcome.
 */
export interface ApprovalPending extends Receipted {
  /** 16 bytes: the held request's id (also its receipt's request_id). */
  requestId: Hex;
  /** SHA-256 of the request body: what approvers approve. */
  requestDigest: Hex;
  /** `policy_approval_required` or `yellow_state`. */
  reason: string;
  /** µs since the Unix epoch: refused (APPROVAL_EXPIRED) unless approved by then. */
  expiresAtUs: number;
  /** Approver ids that approved so far. */
  approvals: string[];
  /** Distinct approvals that release it. */
  approvalsNeeded: number;
}

export interface Key {
  keyId: string;
  curve: Curve;
  purpose: KeyPurpose;
  label: string;
  /** The principal that created or imported it (listKeys only). */
  owner?: string;
  /** SEC1 compressed (secp256k1) or the 32-byte Ed25519 key. */
  publicKey: Hex;
  /** EIP-55 address of a secp256k1 key; null for Ed25519. */
  address: Hex | null;
  /**
   * How the key survives a restart (generate/import answers only): `sealed:aws-kms`, `sealed:development`
   * (DEVELOPMENT: the master key is a file on the host) or `ephemeral` (memory only: lost on restart).
   */
  storage?: string;
}

export interface EthSignature {
  /** 65 bytes `r || s || v`, v = 27 + recoveryId (what eth_sign and viem/ethers return). */
  signature: Hex;
  r: Hex;
  s: Hex;
  v: number;
  recoveryId: number;
}

export interface ClientCredential {
  principal: string;
  alg: string;
  secret_key: string;
}

/** The enclave's evidence, verified by this client (never taken on the host's word). */
export interface VerifiedEvidence {
  /** The boot attestation document (COSE_Sign1). */
  attestation: Hex;
  /** SHA-256 of `attestation`: what receipts and sessions name. */
  attestationHash: Hex;
  /** The configuration hash the document attests (its user_data). */
  configHash: Hex;
  /** The version of the signed configuration, read from the signed configuration whose hash is attested. */
  configVersion: number;
  /** The policy hash the document attests (its user_data), or null when no policy is installed. */
  policyHash: Hex | null;
  signedConfig: Hex;
  attestedKeys: { receiptKey: Hex; sessionKey: Hex; importKey: Hex };
  pcr0: Hex;
  rootKind: 'aws-nitro' | 'other';
  /** The document's timestamp, Unix ms. */
  timestampMs: number;
}

/** A fresh attestation document for a client nonce, verified. */
export interface VerifiedAttestation {
  document: Hex;
  nonce: Hex;
  moduleId: string;
  timestampMs: number;
  pcrs: Record<string, string>;
  publicKey: Hex | null;
  userData: Hex | null;
  rootKind: 'aws-nitro' | 'other';
}

/** A JSON transaction (ethers/viem style); numbers as bigint, number, decimal or 0x-hex strings. */
export interface TransactionObject {
  type?: number | string | null;
  chainId?: number | bigint | string | null;
  nonce?: number | bigint | string | null;
  to?: string | null;
  value?: number | bigint | string | null;
  data?: string | null;
  input?: string | null;
  gas?: number | bigint | string | null;
  gasLimit?: number | bigint | string | null;
  gasPrice?: number | bigint | string | null;
  maxFeePerGas?: number | bigint | string | null;
  maxPriorityFeePerGas?: number | bigint | string | null;
  accessList?: ReadonlyArray<{ address: string; storageKeys: readonly string[] }> | null;
  [field: string]: unknown;
}

export interface ClientOptions {
  /** The API base URL: `https://...` (or `http://` for an `--insecure-http` stack). */
  url: string;
  /** The principal's credential: the `client.key` JSON, as text or parsed. */
  credentials: string | ClientCredential;
  /** Expected PCR0 of the enclave image (48 bytes, or 96 hex digits with or without 0x). */
  expectedPcr0: string | Uint8Array;
  /** Expected configuration hash (32 bytes or hex); unset = whatever configuration the verified document attests. */
  expectedConfigHash?: string | Uint8Array;
  /**
   * Expected policy hash (32 bytes or hex): the attested policy must be this one (POLICY_HASH_MISMATCH, also when
   * no policy is installed), and so must every receipt's. Unset = whatever policy the verified document attests.
   * A policy update makes a new document, which a pinned client then refuses, as it does a configuration update.
   */
  expectedPolicyHash?: string | Uint8Array;
  /** Trusted root certificate, DER: `core.awsNitroRootG1()` in production, the simulator's dev root locally. */
  root: Uint8Array;
  /** PEM of a TLS certificate (or CA) to trust for the API, e.g. the local stack's development certificate. */
  ca?: string | Uint8Array;
  /** Accept an all-zero PCR0 (debug-mode enclave). Default false. */
  allowDebug?: boolean;
  /** Low-latency path: an attested Noise session straight to the enclave's socket (same machine). */
  session?: { socketPath: string; busyPoll?: boolean };
  /** Substitute `fetch` (tests, proxies). With `ca`, it is called with an undici `dispatcher` in its init. */
  fetch?: typeof fetch;
}
