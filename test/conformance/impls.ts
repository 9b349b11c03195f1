/**
 * The two builds of the Sentinel core under test, behind one interface.
 *
 * - native: the N-API addon `@sentinel/node` (bindings/node, returns Buffers)
 * - wasm:   the wasm-bindgen Node build `@sentinel/wasm` (bindings/wasm/pkg, returns Uint8Arrays)
 *
 * Both are CommonJS and load synchronously. Every test file runs its cases
 * against each of them with `describe.each(implementations)`. Bytes are
 * compared by hex, never by identity or class.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface SignDigestResult {
  /** 64 bytes `r || s`, low-S. */
  signature: Uint8Array;
  /** 0..=3 */
  recoveryId: number;
}

export interface VerifyOptions {
  /** Reject high-S signatures. Defaults to `true` (strict). */
  lowS?: boolean;
}

export interface AccessListItem {
  address: string;
  storageKeys: string[];
}

export type TransactionKind = 'legacy' | 'eip155' | 'eip2930' | 'eip1559';

export interface DecodedTransaction {
  kind: TransactionKind;
  chainId: string | null;
  nonce: string;
  gasLimit: string;
  value: string;
  gasPrice: string | null;
  maxFeePerGas: string | null;
  maxPriorityFeePerGas: string | null;
  to: string | null;
  data: string;
  accessList: AccessListItem[];
  signingHash: string;
}

export interface RecoveredTransaction {
  /** EIP-55 address of the signer. */
  signer: string;
  transaction: DecodedTransaction;
}

/** What both builds export. */
export interface CoreApi {
  signDigest(secretKey: Uint8Array, digest: Uint8Array): SignDigestResult;
  /** Zero-allocation variant: writes r || s into `out` (64 bytes), returns the recovery id. */
  signDigestInto(secretKey: Uint8Array, digest: Uint8Array, out: Uint8Array): number;
  verifyDigest(publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array, options?: VerifyOptions): boolean;
  publicKeyFromSecret(secretKey: Uint8Array, compressed?: boolean): Uint8Array;
  recoverPublicKey(digest: Uint8Array, signature: Uint8Array, recoveryId: number, compressed?: boolean): Uint8Array;
  signatureFromDer(der: Uint8Array): Uint8Array | null;
  ethereumAddress(publicKey: Uint8Array): string;
  signEthereumTransaction(secretKey: Uint8Array, unsignedTx: Uint8Array): Uint8Array;
  decodeEthereumTransaction(unsignedTx: Uint8Array): DecodedTransaction;
  /** Lands later than the rest; tests that need it skip (with a reason) when it is absent. */
  recoverEthereumTransactionSigner?: (signedRawTx: Uint8Array) => RecoveredTransaction;
  hashPersonalMessage(message: Uint8Array): Uint8Array;
  hashTypedData(json: string): Uint8Array;
  keccak256(data: Uint8Array): Uint8Array;
  signEd25519(seed: Uint8Array, message: Uint8Array): Uint8Array;
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  hazmatRfc6979Nonce(secretKey: Uint8Array, digest: Uint8Array, index: number): Uint8Array;
}

export type ImplName = 'native' | 'wasm';

export interface Implementation {
  name: ImplName;
  core: CoreApi;
}

const REQUIRED: ReadonlyArray<keyof CoreApi> = [
  'signDigest',
  'signDigestInto',
  'verifyDigest',
  'publicKeyFromSecret',
  'recoverPublicKey',
  'signatureFromDer',
  'ethereumAddress',
  'signEthereumTransaction',
  'decodeEthereumTransaction',
  'hashPersonalMessage',
  'hashTypedData',
  'keccak256',
  'signEd25519',
  'ed25519PublicKey',
  'verifyEd25519',
  'hazmatRfc6979Nonce',
];

function load(name: ImplName, specifier: string, builtFile: string): Implementation {
  let mod: Record<string, unknown>;
  try {
    mod = require(specifier) as Record<string, unknown>;
  } catch (err) {
    throw new Error(
      `conformance: cannot load the ${name} build (${specifier}, expected ${builtFile}); ` +
        `run \`bash scripts/build.sh\` first. Cause: ${(err as Error).message}`,
    );
  }
  // A missing export is a failure of the build, not something to skip
  // (recoverEthereumTransactionSigner excepted: its tests skip with a reason).
  const missing = REQUIRED.filter((fn) => typeof mod[fn] !== 'function');
  if (missing.length > 0) {
    throw new Error(`conformance: the ${name} build does not export: ${missing.join(', ')}`);
  }
  return { name, core: mod as unknown as CoreApi };
}

export const native: Implementation = load('native', '@sentinel/node', 'bindings/node/index.js + sentinel.linux-x64-gnu.node');
export const wasm: Implementation = load('wasm', '@sentinel/wasm', 'bindings/wasm/pkg/sentinel_wasm.js');

export const implementations: Implementation[] = [native, wasm];

/** Whether a build exports recoverEthereumTransactionSigner (it may land later). */
export function hasRecoverSigner(core: CoreApi): boolean {
  return typeof core.recoverEthereumTransactionSigner === 'function';
}
