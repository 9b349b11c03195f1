/* Generated from crates/protocol by `UPDATE_GENERATED=1 cargo test -p sentinel-protocol typescript`.
   Do not edit: a test fails when this file and the Rust definitions differ. */

export type Curve = "secp256k1" | "ed25519";

export type PingArgs = { payload: Uint8Array, };

export type DescribeArgs = Record<symbol, never>;

export type AttestArgs = { nonce: Uint8Array, };

export type GenerateKeyArgs = { curve: Curve, };

export type SignDigestArgs = { key_id: string, digest: Uint8Array, };

export type SignEthereumTransactionArgs = { key_id: string, unsigned_tx: Uint8Array, };

export type Request = { "op": "ping" } & PingArgs | { "op": "describe" } & DescribeArgs | { "op": "attest" } & AttestArgs | { "op": "generate_key" } & GenerateKeyArgs | { "op": "sign_digest" } & SignDigestArgs | { "op": "sign_ethereum_transaction" } & SignEthereumTransactionArgs;

export type Pong = { payload: Buffer, };

export type Description = { protocol_version: number, module_id: string, 
/**
 * SPKI DER of the enclave's identity key (what attestation documents carry).
 */
identity_public_key: Buffer, 
/**
 * PCR0, PCR1, PCR2 (48 bytes each).
 */
pcrs: Array<Buffer>, };

export type Attestation = { 
/**
 * COSE_Sign1 attestation document.
 */
document: Buffer, };

export type KeyGenerated = { key_id: string, curve: Curve, 
/**
 * SEC1 compressed (secp256k1) or the 32-byte Ed25519 key.
 */
public_key: Buffer, };

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

export type ErrorAnswer = { code: string, message: string, };

export type Response = { "type": "pong" } & Pong | { "type": "description" } & Description | { "type": "attestation" } & Attestation | { "type": "key_generated" } & KeyGenerated | { "type": "signature" } & Signature | { "type": "signed_transaction" } & SignedTransaction | { "type": "error" } & ErrorAnswer;

/** The operation names (`op`). */
export type Operation = Request['op'];

/** The answer type each operation gets when it succeeds. */
export type AnswerTypes = {
  ping: 'pong';
  describe: 'description';
  attest: 'attestation';
  generate_key: 'key_generated';
  sign_digest: 'signature';
  sign_ethereum_transaction: 'signed_transaction';
};

/** The request of operation `O`. */
export type RequestOf<O extends Operation> = Extract<Request, { op: O }>;

/** The successful answer to operation `O`. */
export type AnswerOf<O extends Operation> = Extract<Response, { type: AnswerTypes[O] }>;

/** Codes the enclave program answers with (docs/protocol.md). */
export type EnclaveErrorCode = 'UNKNOWN_KEY' | 'KEY_CURVE_MISMATCH' | 'KEY_LIMIT_REACHED' | 'INVALID_NONCE' | 'INVALID_KEY_ID' | 'PAYLOAD_TOO_LARGE' | 'ENCLAVE_BUSY' | 'TOO_MANY_CONNECTIONS' | 'SIGNATURE_SELF_CHECK_FAILED' | 'INTERNAL';

/** Codes of frames the enclave could not decode (docs/protocol.md). */
export type ProtocolErrorCode = 'FRAME_TOO_LARGE' | 'EMPTY_FRAME' | 'MALFORMED_FRAME' | 'UNSUPPORTED_VERSION' | 'UNKNOWN_OPERATION' | 'INVALID_ARGUMENT';
