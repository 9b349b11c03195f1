/**
 * The builds of the Sentinel core under test.
 *
 * - native:      the N-API addon `@sentinel/node` (bindings/node, returns Buffers)
 * - wasm:        the wasm-bindgen Node build `@sentinel/wasm` (bindings/wasm/pkg, returns Uint8Arrays)
 * - verify-wasm: the browser verifier `@sentinel/verify-wasm` (bindings/wasm-verify/pkg):
 *                the attestation and receipt functions, and the audit proof check and record decoder
 *
 * The types are not written here: they come from each package's committed,
 * generated declarations (bindings/node/index.d.ts,
 * bindings/wasm/pkg/sentinel_wasm.d.ts, bindings/wasm-verify/pkg/sentinel_verify_wasm.d.ts).
 * `CoreApi` is the union of the two full builds restricted to the functions
 * both export, so a call in a test type-checks only when every build's
 * declaration accepts it, and a signature that drifts in one build fails
 * `npx tsc -p tsconfig.json` (the root config includes test/).
 *
 * All three are CommonJS and load synchronously. Test files run their cases
 * against each build with `describe.each(...)`. Bytes are compared by hex,
 * never by identity or class.
 */
import { createRequire } from 'node:module';
import type * as NativeBuild from '@sentinel/node';
import type * as WasmBuild from '@sentinel/wasm';
import type * as VerifyWasmBuild from '@sentinel/verify-wasm';

const require = createRequire(import.meta.url);

type NativeModule = typeof NativeBuild;
type WasmModule = typeof WasmBuild;
type VerifyWasmModule = typeof VerifyWasmBuild;

/**
 * Every function both full builds export (the N-API build adds the protocol
 * codec). `default` is the CommonJS module object TypeScript synthesizes, not an export.
 */
export type CoreFunction = Exclude<Extract<keyof NativeModule & keyof WasmModule, string>, 'default'>;
/** The attestation functions every build exports, the browser verifier included. */
export type AttestationFunction = Extract<CoreFunction & keyof VerifyWasmModule, string>;

/** One full build, typed by its own declarations. */
export type CoreApi = Pick<NativeModule, CoreFunction> | Pick<WasmModule, CoreFunction>;
/** The attestation part of any build. */
export type AttestationApi =
  | Pick<NativeModule, AttestationFunction>
  | Pick<WasmModule, AttestationFunction>
  | Pick<VerifyWasmModule, AttestationFunction>;

export type DecodedTransaction = ReturnType<CoreApi['decodeEthereumTransaction']>;
export type RecoveredTransaction = ReturnType<CoreApi['recoverEthereumTransactionSigner']>;
export type VerifiedAttestation = ReturnType<AttestationApi['verifyAttestation']>;
export type AttestationOptions = Parameters<AttestationApi['verifyAttestation']>[1];
export type VerifiedReceipt = ReturnType<AttestationApi['verifyReceipt']>;
export type VerifyReceiptOptions = Parameters<AttestationApi['verifyReceipt']>[2];

export type ImplName = 'native' | 'wasm';
export type AttestationImplName = ImplName | 'verify-wasm';

export interface Implementation {
  name: ImplName;
  core: CoreApi;
}

export interface AttestationImplementation {
  name: AttestationImplName;
  api: AttestationApi;
}

/**
 * The function names checked at load time. A `Record` over the derived key
 * types, so `tsc` fails when a build gains or loses a shared function and
 * this list is not updated.
 */
const CORE_FUNCTIONS: Record<CoreFunction, true> = {
  signDigest: true,
  signDigestInto: true,
  verifyDigest: true,
  publicKeyFromSecret: true,
  recoverPublicKey: true,
  signatureFromDer: true,
  ethereumAddress: true,
  signEthereumTransaction: true,
  decodeEthereumTransaction: true,
  encodeUnsignedTransaction: true,
  recoverEthereumTransactionSigner: true,
  hashPersonalMessage: true,
  hashTypedData: true,
  keccak256: true,
  signEd25519: true,
  ed25519PublicKey: true,
  verifyEd25519: true,
  hazmatRfc6979Nonce: true,
  verifyAttestation: true,
  checkAttestation: true,
  awsNitroRootG1: true,
  verifyReceipt: true,
  unsafeDecodeReceiptClaims: true,
  attestedKeys: true,
  // Policy engine (policy.test.ts).
  policyValidate: true,
  evaluatePolicy: true,
  // Audit log (audit.test.ts).
  auditVerifyLog: true,
  auditVerifyKeyHistory: true,
  auditVerifyProof: true,
  auditDecodeRecord: true,
  auditOpenCheckpoint: true,
  auditConsistencyProof: true,
};
const ATTESTATION_FUNCTIONS: Record<AttestationFunction, true> = {
  verifyAttestation: true,
  checkAttestation: true,
  awsNitroRootG1: true,
  // Receipts (receipts.test.ts): the browser verifier carries them too.
  verifyReceipt: true,
  unsafeDecodeReceiptClaims: true,
  attestedKeys: true,
  // Audit records (audit.test.ts); the browser package's proof check is `verifyAuditProof` there.
  auditDecodeRecord: true,
};

function load<T>(name: string, specifier: string, builtFile: string, functions: object): T {
  let mod: Record<string, unknown>;
  try {
    mod = require(specifier) as Record<string, unknown>;
  } catch (err) {
    throw new Error(
      `conformance: cannot load the ${name} build (${specifier}, expected ${builtFile}); ` +
        `run \`bash scripts/build.sh\` first. Cause: ${(err as Error).message}`,
    );
  }
  // A missing export is a failure of the build, never something to skip.
  const missing = Object.keys(functions).filter((fn) => typeof mod[fn] !== 'function');
  if (missing.length > 0) {
    throw new Error(`conformance: the ${name} build does not export: ${missing.join(', ')}`);
  }
  return mod as T;
}

const nativeModule = load<NativeModule>('native', '@sentinel/node', 'bindings/node/index.js + sentinel.linux-x64-gnu.node', CORE_FUNCTIONS);
const wasmModule = load<WasmModule>('wasm', '@sentinel/wasm', 'bindings/wasm/pkg/sentinel_wasm.js', CORE_FUNCTIONS);
const verifyWasmModule = load<VerifyWasmModule>(
  'verify-wasm',
  '@sentinel/verify-wasm',
  'bindings/wasm-verify/pkg/sentinel_verify_wasm.js',
  { ...ATTESTATION_FUNCTIONS, verifyAuditProof: true },
);

export const native: Implementation = { name: 'native', core: nativeModule };
export const wasm: Implementation = { name: 'wasm', core: wasmModule };

export const implementations: Implementation[] = [native, wasm];

/** The browser package on its own, for what only it exports (`verifyAuditProof`). */
export const verifyWasm: Pick<VerifyWasmModule, 'verifyAuditProof'> = verifyWasmModule;

/** The attestation verifier of every build: native, wasm and the browser package. */
export const attestationImplementations: AttestationImplementation[] = [
  { name: 'native', api: nativeModule },
  { name: 'wasm', api: wasmModule },
  { name: 'verify-wasm', api: verifyWasmModule },
];
