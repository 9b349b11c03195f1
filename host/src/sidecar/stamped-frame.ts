/**
 * A `stamped` frame for the enclave, stamped now with a client credential (client.key JSON), for
 * code that talks to the enclave socket directly: the benchmarks and the tests. The API never
 * stamps anything (it holds no credential); the SDK builds its own stamps for HTTP.
 */
import { randomBytes } from 'node:crypto';

import { core } from '../core.ts';
import type { Operation, Request } from './client.ts';

/** `operation` stamped with `credential` now (fresh 16-byte nonce), or unstamped when it is null. */
export function stampedFrame(credential: string | null, operation: Operation): Extract<Request, { op: 'stamped' }> {
  const body = core.encodeBody(operation);
  if (credential === null) return { op: 'stamped', body, stamp: null };
  const timestampUs = BigInt(Date.now()) * 1000n;
  const stamp = core.stampRequest(credential, operation.op, body, timestampUs, randomBytes(16));
  return {
    op: 'stamped',
    body,
    // The frame encoder takes a JavaScript number here (µs fit in 2^53 until the year 2255).
    stamp: { principal: stamp.principal, timestamp_us: Number(timestampUs) as unknown as bigint, nonce: stamp.nonce, signature: stamp.signature },
  };
}
