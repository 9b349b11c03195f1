/**
 * secp256k1 ECDSA basics: known answers, determinism, low-S, verify
 * (strict vs plain), recovery, DER parsing, range checks.
 */
import { describe, expect, it } from 'vitest';
import { bigToBytes, concat, expectCode, flipS, fromHex, hex, isLowS, N, sha256, utf8 } from './helpers.ts';
import { implementations } from './impls.ts';

const G_COMPRESSED = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';
const G_UNCOMPRESSED =
  '0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8';
// 2G, from SEC 2 / any secp256k1 reference.
const TWO_G_COMPRESSED = '02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5';

const ONE = bigToBytes(1n);
const TWO = bigToBytes(2n);
const N_MINUS_1 = bigToBytes(N - 1n);

// Trezor / RFC 6979 vector 1 (test/vectors/rfc6979/k1_trezor_…): key, msg "sample", DER signature.
const TREZOR_KEY = fromHex('cca9fbcc1b41e5a95d369eaa6ddcff73b61a4efaa279cfc6567e8daa39cbaf50');
const TREZOR_DIGEST = sha256(utf8('sample'));
const TREZOR_DER = fromHex(
  '3045022100af340daf02cc15c8d5d08d7735dfe6b98a474ed373bdb5fbecf7571be52b384202205009fb27f37034a9b24b707b7c6b79ca23ddef9e25f7282e8a797efe53a8f124',
);
const TREZOR_COMPACT =
  'af340daf02cc15c8d5d08d7735dfe6b98a474ed373bdb5fbecf7571be52b38425009fb27f37034a9b24b707b7c6b79ca23ddef9e25f7282e8a797efe53a8f124';

describe.each(implementations)('ECDSA secp256k1 [$name]', ({ core }) => {
  it('derives known public keys (1·G, 2·G, (n-1)·G), compressed by default', () => {
    expect(hex(core.publicKeyFromSecret(ONE))).toBe(G_COMPRESSED);
    expect(hex(core.publicKeyFromSecret(ONE, true))).toBe(G_COMPRESSED);
    expect(hex(core.publicKeyFromSecret(ONE, false))).toBe(G_UNCOMPRESSED);
    expect(hex(core.publicKeyFromSecret(TWO))).toBe(TWO_G_COMPRESSED);
    // (n-1)·G = -G: same x, odd y.
    expect(hex(core.publicKeyFromSecret(N_MINUS_1))).toBe(`03${G_COMPRESSED.slice(2)}`);
  });

  it('returns byte arrays of the documented lengths', () => {
    const { signature, recoveryId } = core.signDigest(TREZOR_KEY, TREZOR_DIGEST);
    expect(signature).toBeInstanceOf(Uint8Array);
    expect(signature.length).toBe(64);
    expect(Number.isInteger(recoveryId)).toBe(true);
    expect(recoveryId).toBeGreaterThanOrEqual(0);
    expect(recoveryId).toBeLessThanOrEqual(3);
    expect(core.publicKeyFromSecret(TREZOR_KEY).length).toBe(33);
    expect(core.publicKeyFromSecret(TREZOR_KEY, false).length).toBe(65);
  });

  it('signs deterministically (RFC 6979) with low-S, and the signature verifies and recovers', () => {
    const a = core.signDigest(TREZOR_KEY, TREZOR_DIGEST);
    const b = core.signDigest(TREZOR_KEY, TREZOR_DIGEST);
    expect(hex(a.signature)).toBe(hex(b.signature));
    expect(a.recoveryId).toBe(b.recoveryId);
    expect(hex(a.signature)).toBe(TREZOR_COMPACT);
    expect(isLowS(a.signature)).toBe(true);
    const pkC = core.publicKeyFromSecret(TREZOR_KEY, true);
    const pkU = core.publicKeyFromSecret(TREZOR_KEY, false);
    expect(core.verifyDigest(pkC, TREZOR_DIGEST, a.signature)).toBe(true);
    expect(core.verifyDigest(pkU, TREZOR_DIGEST, a.signature)).toBe(true);
    expect(hex(core.recoverPublicKey(TREZOR_DIGEST, a.signature, a.recoveryId))).toBe(hex(pkC));
    expect(hex(core.recoverPublicKey(TREZOR_DIGEST, a.signature, a.recoveryId, true))).toBe(hex(pkC));
    expect(hex(core.recoverPublicKey(TREZOR_DIGEST, a.signature, a.recoveryId, false))).toBe(hex(pkU));
  });

  it('recovers a different key (or fails) with the wrong recovery id', () => {
    const { signature, recoveryId } = core.signDigest(TREZOR_KEY, TREZOR_DIGEST);
    const pk = hex(core.publicKeyFromSecret(TREZOR_KEY));
    const other = recoveryId ^ 1;
    expect(hex(core.recoverPublicKey(TREZOR_DIGEST, signature, other))).not.toBe(pk);
  });

  it('rejects the signature for another digest, another key, or a flipped bit', () => {
    const { signature } = core.signDigest(TREZOR_KEY, TREZOR_DIGEST);
    const pk = core.publicKeyFromSecret(TREZOR_KEY);
    const otherDigest = sha256(utf8('test'));
    expect(core.verifyDigest(pk, otherDigest, signature)).toBe(false);
    expect(core.verifyDigest(core.publicKeyFromSecret(ONE), TREZOR_DIGEST, signature)).toBe(false);
    for (const bit of [0, 7, 255, 256, 511]) {
      const bad = Uint8Array.from(signature);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(core.verifyDigest(pk, TREZOR_DIGEST, bad, { lowS: false }), `bit ${bit}`).toBe(false);
    }
  });

  it('strict verification (the default) rejects high-S; plain (lowS: false) accepts it', () => {
    const { signature } = core.signDigest(TREZOR_KEY, TREZOR_DIGEST);
    const pk = core.publicKeyFromSecret(TREZOR_KEY);
    const high = flipS(signature);
    expect(isLowS(high)).toBe(false);
    expect(core.verifyDigest(pk, TREZOR_DIGEST, high)).toBe(false);
    expect(core.verifyDigest(pk, TREZOR_DIGEST, high, {})).toBe(false);
    expect(core.verifyDigest(pk, TREZOR_DIGEST, high, { lowS: true })).toBe(false);
    expect(core.verifyDigest(pk, TREZOR_DIGEST, high, { lowS: false })).toBe(true);
    // The low-S form verifies either way.
    expect(core.verifyDigest(pk, TREZOR_DIGEST, signature, { lowS: true })).toBe(true);
    expect(core.verifyDigest(pk, TREZOR_DIGEST, signature, { lowS: false })).toBe(true);
  });

  it('treats r or s outside [1, n-1] as a verdict (false), not an error', () => {
    const { signature } = core.signDigest(TREZOR_KEY, TREZOR_DIGEST);
    const pk = core.publicKeyFromSecret(TREZOR_KEY);
    const r = signature.subarray(0, 32);
    const s = signature.subarray(32);
    const zero = new Uint8Array(32);
    const n = bigToBytes(N);
    const ff = new Uint8Array(32).fill(0xff);
    for (const [label, sig] of [
      ['r = 0', concat(zero, s)],
      ['s = 0', concat(r, zero)],
      ['r = n', concat(n, s)],
      ['s = n', concat(r, n)],
      ['r = 2^256-1', concat(ff, s)],
      ['s = 2^256-1', concat(r, ff)],
      ['all zero', new Uint8Array(64)],
    ] as const) {
      expect(core.verifyDigest(pk, TREZOR_DIGEST, sig, { lowS: true }), label).toBe(false);
      expect(core.verifyDigest(pk, TREZOR_DIGEST, sig, { lowS: false }), label).toBe(false);
    }
  });

  it('signs digests that are >= n (reduced mod n as in RFC 6979 bits2int)', () => {
    for (const digest of [new Uint8Array(32).fill(0xff), bigToBytes(N), new Uint8Array(32)]) {
      const { signature, recoveryId } = core.signDigest(TREZOR_KEY, digest);
      const pk = core.publicKeyFromSecret(TREZOR_KEY);
      expect(core.verifyDigest(pk, digest, signature)).toBe(true);
      expect(hex(core.recoverPublicKey(digest, signature, recoveryId))).toBe(hex(pk));
    }
  });

  it('parses strict DER into r || s', () => {
    const compact = core.signatureFromDer(TREZOR_DER);
    expect(compact).not.toBeNull();
    expect(hex(compact!)).toBe(TREZOR_COMPACT);
    // Minimal: r = 1, s = 1.
    expect(hex(core.signatureFromDer(fromHex('3006020101020101'))!)).toBe(hex(concat(ONE, ONE)));
  });

  it('returns null for well-formed DER whose r or s is out of range', () => {
    // r = 0
    expect(core.signatureFromDer(fromHex('3006020100020101'))).toBeNull();
    // r negative (0x81 = -127): valid DER INTEGER, but not in [1, n-1]
    expect(core.signatureFromDer(fromHex('3006020181020101'))).toBeNull();
    // s = n (33-byte INTEGER with a leading 00)
    const nDer = concat(Uint8Array.of(0x02, 0x21, 0x00), bigToBytes(N));
    const seq = concat(Uint8Array.of(0x02, 0x01, 0x01), nDer);
    expect(core.signatureFromDer(concat(Uint8Array.of(0x30, seq.length), seq))).toBeNull();
  });

  it('throws INVALID_SIGNATURE_ENCODING for malformed DER', () => {
    const cases: Array<[string, string]> = [
      ['empty', ''],
      ['not a sequence', '3106020101020101'],
      ['length too long', '3007020101020101'],
      ['length too short', '3005020101020101'],
      ['trailing byte', '300602010102010100'],
      ['non-minimal r (leading 00)', '300702020001020101'],
      ['compact bytes instead of DER', TREZOR_COMPACT],
    ];
    for (const [label, der] of cases) {
      const err = expectCode(() => core.signatureFromDer(fromHex(der)), 'INVALID_SIGNATURE_ENCODING');
      expect(err.message, label).toBeTypeOf('string');
    }
  });
});
