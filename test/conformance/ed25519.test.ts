/**
 * Ed25519 (RFC 8032): the §7.1 test vectors, tampering, strictness (s >= L),
 * length errors, and agreement with @noble/curves' ed25519.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { concat, ED25519_L, expectCode, fromHex, hex, SeededRng, testSeed } from './helpers.ts';
import { implementations } from './impls.ts';

// RFC 8032 section 7.1, TEST 1, TEST 2, TEST 3.
const RFC8032 = [
  {
    name: 'TEST 1',
    secretKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    secretKey: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3',
    secretKey: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

/** The same signature with S replaced by S + L (non-canonical, same group element). */
function addLToS(signature: Uint8Array): Uint8Array {
  const sLe = signature.subarray(32);
  const s = BigInt(`0x${hex(Uint8Array.from(sLe).reverse())}`) + ED25519_L;
  const sBe = fromHex(s.toString(16).padStart(64, '0'));
  return concat(signature.subarray(0, 32), Uint8Array.from(sBe).reverse());
}

const seed = testSeed();
console.log(`[ed25519] random cases use seed ${seed} (set SENTINEL_TEST_SEED=${seed} to reproduce)`);

describe.each(implementations)('Ed25519 [$name]', ({ core }) => {
  it.each(RFC8032)('RFC 8032 $name: public key, signature, verification', (v) => {
    const seedBytes = fromHex(v.secretKey);
    const message = fromHex(v.message);
    expect(hex(core.ed25519PublicKey(seedBytes))).toBe(v.publicKey);
    const signature = core.signEd25519(seedBytes, message);
    expect(signature.length).toBe(64);
    expect(hex(signature)).toBe(v.signature);
    expect(core.verifyEd25519(fromHex(v.publicKey), message, fromHex(v.signature))).toBe(true);
  });

  it.each(RFC8032)('RFC 8032 $name: tampered signature, message or key -> false', (v) => {
    const pk = fromHex(v.publicKey);
    const message = fromHex(v.message);
    const sig = fromHex(v.signature);
    for (const byte of [0, 31, 32, 63]) {
      const bad = Uint8Array.from(sig);
      bad[byte]! ^= 0x01;
      expect(core.verifyEd25519(pk, message, bad), `byte ${byte} flipped`).toBe(false);
    }
    expect(core.verifyEd25519(pk, concat(message, Uint8Array.of(0)), sig)).toBe(false);
    const otherKey = fromHex(RFC8032.find((x) => x.name !== v.name)!.publicKey);
    expect(core.verifyEd25519(otherKey, message, sig)).toBe(false);
  });

  it.each(RFC8032)('RFC 8032 $name: non-canonical S (S + L) is rejected (strict verification)', (v) => {
    const malleated = addLToS(fromHex(v.signature));
    expect(core.verifyEd25519(fromHex(v.publicKey), fromHex(v.message), malleated)).toBe(false);
  });

  it('wrong lengths throw coded errors', () => {
    const t = RFC8032[0]!;
    const pk = fromHex(t.publicKey);
    const sig = fromHex(t.signature);
    const msg = new Uint8Array(0);
    expectCode(() => core.signEd25519(new Uint8Array(31), msg), 'INVALID_SECRET_KEY');
    expectCode(() => core.signEd25519(new Uint8Array(33), msg), 'INVALID_SECRET_KEY');
    expectCode(() => core.signEd25519(new Uint8Array(64), msg), 'INVALID_SECRET_KEY');
    expectCode(() => core.ed25519PublicKey(new Uint8Array(0)), 'INVALID_SECRET_KEY');
    expectCode(() => core.ed25519PublicKey(new Uint8Array(31)), 'INVALID_SECRET_KEY');
    expectCode(() => core.verifyEd25519(pk.subarray(0, 31), msg, sig), 'INVALID_PUBLIC_KEY');
    expectCode(() => core.verifyEd25519(concat(pk, Uint8Array.of(0)), msg, sig), 'INVALID_PUBLIC_KEY');
    expectCode(() => core.verifyEd25519(pk, msg, sig.subarray(0, 63)), 'INVALID_SIGNATURE_ENCODING');
    expectCode(() => core.verifyEd25519(pk, msg, concat(sig, Uint8Array.of(0))), 'INVALID_SIGNATURE_ENCODING');
    expectCode(() => core.verifyEd25519(pk, msg, new Uint8Array(0)), 'INVALID_SIGNATURE_ENCODING');
  });

  it('agrees with @noble/curves ed25519 on 100 random seeds and messages', () => {
    const rng = new SeededRng(seed, 'ed25519');
    for (let i = 0; i < 100; i++) {
      const sk = rng.bytes(32);
      const msg = rng.bytes(rng.int(300));
      const label = `seed ${seed} #${i} sk ${hex(sk)}`;
      const pk = core.ed25519PublicKey(sk);
      expect(hex(pk), label).toBe(hex(ed25519.getPublicKey(sk)));
      const sig = core.signEd25519(sk, msg);
      expect(hex(sig), label).toBe(hex(ed25519.sign(msg, sk)));
      expect(ed25519.verify(sig, msg, pk), label).toBe(true);
      expect(core.verifyEd25519(pk, msg, sig), label).toBe(true);
    }
  });
});
