/**
 * Compile-time checks of the sidecar's typed requests, run by `tsc` (part of
 * `npm test`): each `@ts-expect-error` line must fail to type-check, so a
 * request without a required argument, with a misspelled operation or with a
 * wrong answer type makes the build fail. Never executed.
 */
import type { Operation } from '@sentinel/node/protocol';

import { core } from '../../src/core.ts';
import type { EnclaveClientLike } from '../../src/sidecar/client.ts';

export async function typedRequests(client: EnclaveClientLike): Promise<void> {
  const digest = new Uint8Array(32);
  const body = core.encodeBody({ op: 'sign_digest', key_id: 'k-1', digest });

  // The answer type follows from the operation.
  const receipted = await client.request({ op: 'stamped', body, stamp: null });
  const receipt: Buffer = receipted.receipt;
  const answerType: string = receipted.answer.type;
  const evidence = await client.request({ op: 'evidence' });
  const configHash: Buffer = evidence.config_hash;
  const attestation: Buffer = evidence.attestation;
  void [receipt, answerType, configHash, attestation];

  // Oversight frames: the command bytes and signatures in, the kill switch's state out.
  const status = await client.request({ op: 'oversight', command: body, signatures: [{ signer: 'alice', signature: digest }] });
  const level: string = status.global.level;
  const challenge: Buffer = (await client.request({ op: 'oversight_challenge' })).challenge;
  const held = await client.request({ op: 'approval_result', request_id: new Uint8Array(16) });
  const heldReceipt: Buffer = held.receipt;
  void [level, challenge, heldReceipt];
  // @ts-expect-error approval_result needs the request id
  void client.request({ op: 'approval_result' });
  // @ts-expect-error an oversight answer is no receipted answer
  void (await client.request({ op: 'oversight', command: body, signatures: [] })).receipt;

  // Body operations exist only inside a stamped body or a session.
  const operation: Operation = { op: 'generate_key', curve: 'ed25519', purpose: 'raw', label: 'l' };
  void operation;

  // @ts-expect-error key operations are not frames: they travel stamped
  void client.request({ op: 'sign_digest', key_id: 'k-1', digest });
  // @ts-expect-error key operations are not frames: they travel stamped
  void client.request({ op: 'generate_key', curve: 'ed25519', purpose: 'raw', label: 'l' });
  // @ts-expect-error a receipted answer has no `document`
  void (await client.request({ op: 'stamped', body, stamp: null })).document;
  // @ts-expect-error `body` is required for stamped
  void client.request({ op: 'stamped', stamp: null });
  // @ts-expect-error `body` must be bytes
  void client.request({ op: 'stamped', body: 'a0', stamp: null });
  // @ts-expect-error no such operation
  void client.request({ op: 'launch_missiles' });
  // @ts-expect-error the host's camelCase names are not the wire's
  void client.request({ op: 'update_config', signedConfig: body });
  // @ts-expect-error `purpose` and `label` are required to create a key
  void core.encodeBody({ op: 'generate_key', curve: 'ed25519' });
  // @ts-expect-error no such curve
  void core.encodeBody({ op: 'generate_key', curve: 'p256', purpose: 'raw', label: 'l' });
}
