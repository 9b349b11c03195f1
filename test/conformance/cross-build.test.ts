/**
 * Cross-build: the native (N-API) and WASM builds are one core, so they must
 * produce byte-identical outputs and deep-equal decoded objects.
 *
 * The seed is printed; rerun a failure with SENTINEL_TEST_SEED=<seed>.
 */
import { describe, expect, it } from 'vitest';
import { attempt, ethersTransactions, flipS, fromHex, hex, SeededRng, testSeed, TX_FORMS, type Outcome } from './helpers.ts';
import { native, wasm } from './impls.ts';

const seed = testSeed();
console.log(`[cross-build] seed ${seed} (set SENTINEL_TEST_SEED=${seed} to reproduce)`);

const n = native.core;
const w = wasm.core;

/** Bytes anywhere in a value become `{ hex }`, so Buffer and Uint8Array compare equal. */
function plain(v: unknown): unknown {
  if (v === undefined) return '<undefined>'; // distinct from null: the API returns null, never undefined
  if (v instanceof Uint8Array) return { hex: hex(v) };
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** Comparable form of an outcome: bytes as hex, errors as their code. */
function norm(o: Outcome<unknown>): unknown {
  if (o.threw) return { error: o.code ?? String(o.error) };
  return { value: plain(o.value) };
}

function both<T>(fn: (core: typeof n) => T): { native: unknown; wasm: unknown } {
  return { native: norm(attempt(() => fn(n))), wasm: norm(attempt(() => fn(w))) };
}

describe('native and wasm builds agree', () => {
  it(`secp256k1: 200 random keys/digests sign identically (signature, recovery id, keys, recovery, nonces; seed ${seed})`, () => {
    const rng = new SeededRng(seed, 'cross-build-secp');
    for (let i = 0; i < 200; i++) {
      const sk = rng.secretKey();
      const digest = rng.bytes(32);
      const where = `seed ${seed} #${i} sk=${hex(sk)} digest=${hex(digest)}`;
      const sn = n.signDigest(sk, digest);
      const sw = w.signDigest(sk, digest);
      expect(hex(sn.signature), where).toBe(hex(sw.signature));
      expect(sn.recoveryId, where).toBe(sw.recoveryId);
      for (const compressed of [true, false]) {
        expect(hex(n.publicKeyFromSecret(sk, compressed)), where).toBe(hex(w.publicKeyFromSecret(sk, compressed)));
        expect(hex(n.recoverPublicKey(digest, sn.signature, sn.recoveryId, compressed)), where).toBe(
          hex(w.recoverPublicKey(digest, sw.signature, sw.recoveryId, compressed)),
        );
      }
      expect(hex(n.hazmatRfc6979Nonce(sk, digest, 0)), where).toBe(hex(w.hazmatRfc6979Nonce(sk, digest, 0)));
      expect(hex(n.hazmatRfc6979Nonce(sk, digest, 1)), where).toBe(hex(w.hazmatRfc6979Nonce(sk, digest, 1)));
      const pk = n.publicKeyFromSecret(sk);
      const high = flipS(sn.signature);
      for (const lowS of [true, false]) {
        expect(n.verifyDigest(pk, digest, high, { lowS }), where).toBe(w.verifyDigest(pk, digest, high, { lowS }));
      }
      expect(n.ethereumAddress(pk), where).toBe(w.ethereumAddress(pk));
    }
  });

  it(`secp256k1: random byte strings as keys, digests, signatures give the same result or error code (seed ${seed})`, () => {
    const rng = new SeededRng(seed, 'cross-build-junk');
    for (let i = 0; i < 200; i++) {
      const len = [0, 1, 31, 32, 33, 63, 64, 65][rng.int(8)]!;
      const a = rng.bytes(len);
      const b = rng.bytes(32);
      const c = rng.bytes(64);
      const where = `seed ${seed} #${i} a=${hex(a)}`;
      const r0 = both((core) => core.signDigest(a, b));
      expect(r0.native, where).toEqual(r0.wasm);
      const rp = both((core) => core.publicKeyFromSecret(a, false));
      expect(rp.native, where).toEqual(rp.wasm);
      const r1 = both((core) => core.verifyDigest(a, b, c, { lowS: false }));
      expect(r1.native, where).toEqual(r1.wasm);
      const r2 = both((core) => core.recoverPublicKey(b, c, i % 4));
      expect(r2.native, where).toEqual(r2.wasm);
      const r3 = both((core) => core.signatureFromDer(a));
      expect(r3.native, where).toEqual(r3.wasm);
      const r4 = both((core) => core.signDigest(b, a));
      expect(r4.native, where).toEqual(r4.wasm);
    }
  });

  it('signatureFromDer: identical results (bytes, null, or error code) for in-range, out-of-range and malformed DER', () => {
    const cases = [
      '3006020101020101', // r = s = 1
      '3006020100020101', // r = 0 -> null
      '3006020181020101', // r negative -> null
      '3026022100fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141020101', // r = n -> null
      '3007020101020101', // bad length -> INVALID_SIGNATURE_ENCODING
      '',
    ];
    for (const der of cases) {
      const r = both((core) => core.signatureFromDer(fromHex(der)));
      expect(r.native, der).toStrictEqual(r.wasm);
    }
  });

  it(`Ed25519: 100 random seeds/messages sign identically (seed ${seed})`, () => {
    const rng = new SeededRng(seed, 'cross-build-ed25519');
    for (let i = 0; i < 100; i++) {
      const sk = rng.bytes(32);
      const msg = rng.bytes(rng.int(512));
      const where = `seed ${seed} #${i} sk=${hex(sk)}`;
      const pk = n.ed25519PublicKey(sk);
      expect(hex(pk), where).toBe(hex(w.ed25519PublicKey(sk)));
      const sig = n.signEd25519(sk, msg);
      expect(hex(sig), where).toBe(hex(w.signEd25519(sk, msg)));
      expect(n.verifyEd25519(pk, msg, sig), where).toBe(true);
      expect(w.verifyEd25519(pk, msg, sig), where).toBe(true);
    }
  });

  it(`hashing: keccak256, EIP-191 on 100 random inputs (seed ${seed})`, () => {
    const rng = new SeededRng(seed, 'cross-build-hash');
    for (let i = 0; i < 100; i++) {
      const data = rng.bytes(rng.int(1000));
      expect(hex(n.keccak256(data))).toBe(hex(w.keccak256(data)));
      expect(hex(n.hashPersonalMessage(data))).toBe(hex(w.hashPersonalMessage(data)));
    }
    const typed = JSON.stringify({
      types: { EIP712Domain: [{ name: 'name', type: 'string' }], Greeting: [{ name: 'text', type: 'string' }] },
      primaryType: 'Greeting',
      domain: { name: 'Sentinel' },
      message: { text: 'gm' },
    });
    expect(hex(n.hashTypedData(typed))).toBe(hex(w.hashTypedData(typed)));
  });

  const entries = ethersTransactions();
  const picked = Array.from({ length: 50 }, (_, i) => entries[Math.floor((i * entries.length) / 50)]!);

  it('Ethereum: 50 ethers entries x 4 forms sign to identical bytes and decode to deep-equal objects', () => {
    expect(picked.length).toBe(50);
    let compared = 0;
    for (const entry of picked) {
      const sk = fromHex(entry.privateKey);
      for (const form of TX_FORMS) {
        const where = `${entry.name} ${form.label}`;
        const unsigned = fromHex(entry[form.unsigned]);
        const sn = attempt(() => n.signEthereumTransaction(sk, unsigned));
        const sw = attempt(() => w.signEthereumTransaction(sk, unsigned));
        expect(norm(sn), where).toEqual(norm(sw));
        const dn = attempt(() => n.decodeEthereumTransaction(unsigned));
        const dw = attempt(() => w.decodeEthereumTransaction(unsigned));
        expect(dn.threw, where).toBe(dw.threw);
        if (dn.threw) {
          expect(dn.code, where).toBe(dw.code);
        } else {
          expect(dn.value, where).toStrictEqual(dw.value);
          expect(JSON.stringify(dn.value), where).toBe(JSON.stringify(dw.value));
        }
        compared++;
      }
    }
    expect(compared).toBe(200);
  });

  it(
    'Ethereum: recoverEthereumTransactionSigner agrees on 50 entries x 4 signed forms',
    () => {
      for (const entry of picked) {
        for (const form of TX_FORMS) {
          const signed = fromHex(entry[form.signed]);
          const rn = attempt(() => n.recoverEthereumTransactionSigner(signed));
          const rw = attempt(() => w.recoverEthereumTransactionSigner(signed));
          const where = `${entry.name} ${form.label}`;
          expect(rn.threw, where).toBe(rw.threw);
          if (rn.threw) expect(rn.code, where).toBe(rw.code);
          else expect(rn.value, where).toStrictEqual(rw.value);
        }
      }
    },
  );
});
