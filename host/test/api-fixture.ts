/**
 * What API tests post: `{ body, stamp }` JSON built the way the SDK builds it
 * (core.encodeBody, core.stampRequest), so tests drive the API exactly as a
 * client would.
 */
import { randomBytes } from 'node:crypto';

import type { Operation } from '@sentinel/node/protocol';

import { core } from '../src/core.ts';

export const hex = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}`;

/** `{ body, stamp }` as a client posts it: the operation encoded and stamped with `credential` now (unstamped when null). */
export function stampedJson(credential: string | null, operation: Operation): { body: string; stamp: object | null } {
  const body = core.encodeBody(operation);
  if (credential === null) return { body: hex(body), stamp: null };
  const timestampUs = BigInt(Date.now()) * 1000n;
  const stamp = core.stampRequest(credential, operation.op, body, timestampUs, randomBytes(16));
  return {
    body: hex(body),
    stamp: { principal: stamp.principal, timestampUs: timestampUs.toString(), nonce: hex(stamp.nonce), signature: hex(stamp.signature) },
  };
}
