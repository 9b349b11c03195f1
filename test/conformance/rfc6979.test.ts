/**
 * RFC 6979 deterministic nonces and the signatures they give.
 *
 * - k1_trezor_…json (Trezor / CoreBitcoin via Sajjon/K1): privateKey hex,
 *   msg UTF-8 hashed with SHA-256, expected k, r, s (low-S) and DER.
 * - bitcoinjs_ecdsa_rfc6979.json (bitcoinjs-lib fixtures): valid.ecdsa
 *   {d, k, message, signature{r,s}}; valid.rfc6979 {message, d, k0, k1, k15}
 *   where k1/k15 are the §3.2 step h retry candidates.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, hex, loadJson, padHex, sha256, utf8 } from './helpers.ts';
import { implementations } from './impls.ts';

interface TrezorFile {
  numberOfTests: number;
  testGroups: Array<{
    tests: Array<{
      tcId: number;
      privateKey: string;
      msg: string;
      expected: { k: string; r: string; s: string; der: string };
    }>;
  }>;
}

interface BitcoinjsFile {
  valid: {
    ecdsa: Array<{ d: string; k: string; message: string; signature: { r: string; s: string } }>;
    rfc6979: Array<{ message: string; d: string; k0: string; k1: string; k15: string }>;
  };
}

const trezor = loadJson<TrezorFile>('rfc6979/k1_trezor_ecdsa_secp256k1_sha256_rfc6979.json');
const bitcoinjs = loadJson<BitcoinjsFile>('rfc6979/bitcoinjs_ecdsa_rfc6979.json');

describe.each(implementations)('RFC 6979 [$name]', ({ core }) => {
  it('Trezor vectors: nonce k, low-S signature r||s, DER', () => {
    const data = trezor;
    const tests = data.testGroups[0]!.tests;
    expect(tests.length).toBe(6);
    expect(data.numberOfTests).toBe(6);
    let checked = 0;
    for (const t of tests) {
      const sk = fromHex(padHex(t.privateKey));
      const digest = sha256(utf8(t.msg));
      const label = `tcId ${t.tcId} (${JSON.stringify(t.msg)})`;
      expect(hex(core.hazmatRfc6979Nonce(sk, digest, 0)), label).toBe(padHex(t.expected.k));
      const { signature, recoveryId } = core.signDigest(sk, digest);
      const expectedCompact = padHex(t.expected.r) + padHex(t.expected.s);
      expect(hex(signature), label).toBe(expectedCompact);
      const fromDer = core.signatureFromDer(fromHex(t.expected.der));
      expect(fromDer, label).not.toBeNull();
      expect(hex(fromDer!), label).toBe(expectedCompact);
      const pk = core.publicKeyFromSecret(sk);
      expect(core.verifyDigest(pk, digest, signature), label).toBe(true);
      expect(hex(core.recoverPublicKey(digest, signature, recoveryId)), label).toBe(hex(pk));
      checked++;
    }
    expect(checked).toBe(6);
  });

  it('bitcoinjs valid.ecdsa: nonce k and signature r||s', () => {
    const data = bitcoinjs;
    const cases = data.valid.ecdsa;
    expect(cases.length).toBe(7);
    let checked = 0;
    for (const c of cases) {
      const sk = fromHex(padHex(c.d));
      const digest = sha256(utf8(c.message));
      const label = `d=${c.d} message=${JSON.stringify(c.message)}`;
      expect(hex(core.hazmatRfc6979Nonce(sk, digest, 0)), label).toBe(padHex(c.k));
      const { signature } = core.signDigest(sk, digest);
      expect(hex(signature), label).toBe(padHex(c.signature.r) + padHex(c.signature.s));
      expect(core.verifyDigest(core.publicKeyFromSecret(sk), digest, signature), label).toBe(true);
      checked++;
    }
    expect(checked).toBe(7);
  });

  it('bitcoinjs valid.rfc6979: candidates k0, k1, k15 (section 3.2 step h retries)', () => {
    const data = bitcoinjs;
    const cases = data.valid.rfc6979;
    expect(cases.length).toBe(10);
    let checked = 0;
    for (const c of cases) {
      const sk = fromHex(padHex(c.d));
      const digest = sha256(utf8(c.message));
      const label = `d=${c.d} message=${JSON.stringify(c.message)}`;
      expect(hex(core.hazmatRfc6979Nonce(sk, digest, 0)), `${label} k0`).toBe(padHex(c.k0));
      expect(hex(core.hazmatRfc6979Nonce(sk, digest, 1)), `${label} k1`).toBe(padHex(c.k1));
      expect(hex(core.hazmatRfc6979Nonce(sk, digest, 15)), `${label} k15`).toBe(padHex(c.k15));
      checked += 3;
    }
    expect(checked).toBe(30);
  });

  it('the signing nonce is candidate 0: signing uses k0 (r = x(k0·G) mod n)', () => {
    // For every bitcoinjs rfc6979 case, r of our signature must be the x of k0·G;
    // k0·G's x is obtained from the core itself by deriving the public key of k0.
    const data = bitcoinjs;
    for (const c of data.valid.rfc6979) {
      const sk = fromHex(padHex(c.d));
      const digest = sha256(utf8(c.message));
      const { signature } = core.signDigest(sk, digest);
      const kG = core.publicKeyFromSecret(fromHex(padHex(c.k0)));
      // x(k·G) < n except with negligible probability, so r = x(k·G).
      expect(hex(signature.subarray(0, 32)), c.message).toBe(hex(kG.subarray(1)));
    }
  });
});
