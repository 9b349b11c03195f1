/**
 * Compile-time checks of the sidecar's typed requests, run by `tsc` (part of
 * `npm test`): each `@ts-expect-error` line must fail to type-check, so a
 * request without a required argument, with a misspelled operation or with a
 * wrong answer type makes the build fail. Never executed.
 */
import type { EnclaveClientLike } from '../../src/sidecar/client.ts';

export async function typedRequests(client: EnclaveClientLike): Promise<void> {
  const digest = new Uint8Array(32);

  // The answer type follows from the operation.
  const signed = await client.request({ op: 'sign_digest', key_id: 'k-1', digest });
  const signature: Buffer = signed.signature;
  const recoveryId: number | null = signed.recovery_id;
  const key = await client.request({ op: 'generate_key', curve: 'ed25519' });
  const keyId: string = key.key_id;
  void [signature, recoveryId, keyId];

  // @ts-expect-error a signature answer has no `document`
  void (await client.request({ op: 'sign_digest', key_id: 'k-1', digest })).document;
  // @ts-expect-error `key_id` is required for sign_digest
  void client.request({ op: 'sign_digest', digest });
  // @ts-expect-error `digest` must be bytes
  void client.request({ op: 'sign_digest', key_id: 'k-1', digest: 'aa' });
  // @ts-expect-error no such operation
  void client.request({ op: 'launch_missiles' });
  // @ts-expect-error no such curve
  void client.request({ op: 'generate_key', curve: 'p256' });
  // @ts-expect-error the host's camelCase names are not the wire's
  void client.request({ op: 'sign_ethereum_transaction', keyId: 'k-1', unsignedTx: digest });
}
