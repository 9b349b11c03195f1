/**
 * Typed views of the enclave's answers.
 *
 * `core.decodeResponse` is strict about each answer's fields, so the only thing
 * left to check here is that the answer is the kind the request asked for; a
 * mismatch means the host and enclave disagree and is reported, not cast away.
 */
import { SentinelError } from '../errors.ts';
import type { EnclaveResponse } from './client.ts';

export interface Responses {
  pong: { payload: Buffer };
  description: { protocol_version: number; module_id: string; identity_public_key: Buffer; pcrs: Buffer[] };
  attestation: { document: Buffer };
  key_generated: { key_id: string; curve: string; public_key: Buffer };
  signature: { signature: Buffer; recovery_id: number | null };
  signed_transaction: { raw: Buffer };
}

export function expectResponse<T extends keyof Responses>(response: EnclaveResponse, type: T): Responses[T] & { id: number } {
  if (response.type !== type) {
    throw new SentinelError('UNEXPECTED_RESPONSE', `the enclave answered \`${response.type}\` where \`${type}\` was expected`);
  }
  return response as unknown as Responses[T] & { id: number };
}
