/**
 * `@sentinel/client`: the TypeScript SDK of Sentinel. Everything it returns
 * was checked against the attested enclave first (attestation on connect and
 * on every new document, a verified receipt for every answer), so code built
 * on it never has to trust the API host. Adapters for viem and ethers v6 live
 * in `@sentinel/client/viem` and `@sentinel/client/ethers`.
 */
export {
  createClient,
  hex0x,
  OPERATION_ROUTES,
  jsonWithBigInts,
  type AnyOperation,
  type ApprovalOutcome,
  type ApprovalReleased,
  type SentinelClient,
  type WireAnswer,
} from './client.ts';
export { SentinelClientError } from './errors.ts';
export type { ActivePolicy, PolicyEvaluation, RuleEvaluated, SignedPolicy } from './policy.ts';
export {
  IMPORT_INFO_TAG,
  IMPORT_MAX_INFO_BYTES,
  importInfo,
  importSuite,
  sealKeyImport,
  type ImportContext,
  type ImportCurve,
  type ImportPurpose,
  type KeyImportParams,
  type SealedKeyImport,
} from './key-import.ts';
export type {
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
