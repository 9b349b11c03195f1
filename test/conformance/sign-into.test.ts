/**
 * `signDigestInto`: the zero-allocation variant of `signDigest` for
 * latency-critical callers. Same bytes, same recovery id, same error codes.
 */
import { describe, expect, it } from 'vitest';

import { codeOf, hex, SeededRng, testSeed } from './helpers.ts';
import { implementations } from './impls.ts';

describe.each(implementations)('signDigestInto [$name]', ({ core }) => {
  it('writes exactly what signDigest returns, into the caller buffer', () => {
    const seed = testSeed();
    console.log(`sign-into: seed ${seed} (SENTINEL_TEST_SEED to replay)`);
    const rng = new SeededRng(seed, 'sign-into');
    const out = new Uint8Array(64);
    for (let i = 0; i < 100; i++) {
      const sk = rng.secretKey();
      const digest = rng.bytes(32);
      const expected = core.signDigest(sk, digest);
      out.fill(0xee);
      const recoveryId = core.signDigestInto(sk, digest, out);
      expect(hex(out)).toBe(hex(expected.signature));
      expect(recoveryId).toBe(expected.recoveryId);
    }
  });

  it('rejects a wrong-size output buffer and bad inputs with the usual codes', () => {
    const sk = new Uint8Array(32).fill(1);
    const digest = new Uint8Array(32).fill(2);
    expect(codeOf(() => core.signDigestInto(sk, digest, new Uint8Array(63)))).toBe('INVALID_SIGNATURE_ENCODING');
    expect(codeOf(() => core.signDigestInto(new Uint8Array(32), digest, new Uint8Array(64)))).toBe('INVALID_SECRET_KEY');
    expect(codeOf(() => core.signDigestInto(sk, new Uint8Array(31), new Uint8Array(64)))).toBe('INVALID_DIGEST_LENGTH');
  });
});
