import { afterEach, describe, expect, it, vi } from 'vitest';

import { main } from '../src/cli/main.ts';
import { runDemo, SAMPLE_UNSIGNED_TX } from '../src/cli/demo.ts';
import { core } from '../src/core.ts';

describe('zcp demo', () => {
  afterEach(() => vi.restoreAllMocks());

  it('signs the sample transaction and recovers the signer from the signed bytes', () => {
    const result = runDemo();
    expect(result.verified).toBe(true);
    expect(result.recoveredSigner).toBe(result.address);
    expect(result.transaction.kind).toBe('eip1559');
    expect(result.transaction.chainId).toBe('1');
    expect(result.transaction.value).toBe('10000000000000000');
    expect(result.transaction.to).toBe('0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045');
    // A typed transaction's signed form keeps the type byte and appends y-parity, r, s.
    expect(result.signedRawTransaction.startsWith('0x02')).toBe(true);
    expect(result.signedRawTransaction.length).toBeGreaterThan(SAMPLE_UNSIGNED_TX.length + 2 * 64);
  });

  it('uses a fresh key each run', () => {
    expect(runDemo().address).not.toBe(runDemo().address);
  });

  it('exits 0 and prints JSON with --json', async () => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    expect(await main(['node', 'zcp', 'demo', '--json'])).toBe(0);
    const printed = JSON.parse(out.join('\n'));
    expect(printed.verified).toBe(true);
    // The secret key must never appear in output: nothing 32-byte-hex-like except known public values.
    const allowed = new Set([printed.transaction.signingHash.slice(2)]);
    const hex64 = out.join('\n').match(/[0-9a-f]{64}/g) ?? [];
    for (const h of hex64) {
      const inSigned = printed.signedRawTransaction.includes(h);
      expect(inSigned || allowed.has(h)).toBe(true);
    }
  });

  it('reports a core error code and exits 2 for a malformed transaction', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((s: string) => void errors.push(s));
    expect(await main(['node', 'zcp', 'demo', '--tx', '0x02c0ff'])).toBe(2);
    expect(errors.join('\n')).toMatch(/^error [A-Z_]+: /);
  });

  it('the core it calls is the native binding', () => {
    expect(typeof core.signDigest).toBe('function');
  });
});
