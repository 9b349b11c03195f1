import { createRequire } from 'node:module';

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

  it('prints a result that checks out: the signed bytes recover to the printed signer', async () => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    expect(await main(['node', 'zcp', 'demo'])).toBe(0);
    const field = (label: string): string => {
      const line = out.find((l) => l.trimStart().startsWith(label));
      expect(line, `a "${label}" line`).toBeDefined();
      return line!.trimStart().slice(label.length).trim().split(' ')[0]!;
    };
    const address = field('signer address');
    const signed = field('signed raw tx');
    expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(field('recovered signer')).toBe(address);
    expect(field('verdict')).toBe('VERIFIED:');
    // Recompute from the printed bytes alone: the demo's claim is not taken on trust.
    const recovered = core.recoverEthereumTransactionSigner(Buffer.from(signed.slice(2), 'hex'));
    expect(recovered.signer).toBe(address);
    const sample = core.decodeEthereumTransaction(Buffer.from(SAMPLE_UNSIGNED_TX, 'hex'));
    expect(recovered.transaction.signingHash).toBe(sample.signingHash);
    expect(field('signing hash')).toBe(sample.signingHash);
  });

  it('the core it calls is the native binding', () => {
    // The same module instance as the addon package in bindings/node, whose binary is a .node file.
    const require = createRequire(import.meta.url);
    expect(core).toBe(require('../../bindings/node/index.js'));
    const addon = Object.keys(require.cache).find((k) => k.endsWith('.node') && k.includes('bindings/node'));
    expect(addon, 'a native .node addon from bindings/node is loaded').toBeDefined();
  });
});
