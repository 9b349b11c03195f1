/**
 * EIP-191 personal messages, EIP-712 (v4) typed data, keccak-256 and EIP-55
 * addresses.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { addressFromUncompressed, concat, EIP712_MAIL, fromHex, hex, hex0x, keccak, SeededRng, testSeed, toChecksumAddress, utf8 } from './helpers.ts';
import { implementations } from './impls.ts';

// The "Mail" example of EIP-712 (EIPS/eip-712.md and its Example.js; test/vectors/ethereum/eip712_mail_example.json).
const MAIL = EIP712_MAIL.typedData;
const MAIL_DIGEST = EIP712_MAIL.digest;
// Example.js signs with privateKey = keccak256('cow').
const MAIL_R = EIP712_MAIL.r.slice(2);
const MAIL_S = EIP712_MAIL.s.slice(2);

// EIP-55 spec examples (all-caps, all-lower, mixed).
const EIP55_EXAMPLES = [
  '0x52908400098527886E0F7030069857D2E4169EE7',
  '0x8617E340B3D01FA5F11F306F4090FD50E238070D',
  '0xde709f2102306220921060314715629080e2fb77',
  '0x27b1fdb04752bbc536007a920d24acb045561c26',
  '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
  '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
  '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
];

const seed = testSeed();
console.log(`[eip191-712] random EIP-55 checks use seed ${seed} (set SENTINEL_TEST_SEED=${seed} to reproduce)`);

describe('EIP-55 reference implementation used by the suite', () => {
  it('reproduces the EIP-55 spec examples', () => {
    for (const a of EIP55_EXAMPLES) expect(toChecksumAddress(a)).toBe(a);
  });
});

describe.each(implementations)('EIP-191 / EIP-712 / keccak / EIP-55 [$name]', ({ core }) => {
  it('keccak256 known answers', () => {
    expect(hex(core.keccak256(new Uint8Array(0)))).toBe('c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
    expect(hex(core.keccak256(utf8('hello world')))).toBe('47173285a8d7341e5e972fc677286384f802f8ef42a5ec5f03bbfa254cb01fad');
    const big = new Uint8Array(1000).map((_, i) => i & 0xff);
    expect(hex(core.keccak256(big))).toBe(hex(keccak(big)));
  });

  it('EIP-191: "hello world"', () => {
    expect(hex0x(core.hashPersonalMessage(utf8('hello world')))).toBe(
      '0xd9eba16ed0ecae432b71fe008c98cc872bb4cc214d3220a36f365326cf807d68',
    );
  });

  it('EIP-191: equals keccak256("\\x19Ethereum Signed Message:\\n" + len + message) for several lengths', () => {
    for (const len of [0, 1, 9, 10, 32, 99, 100, 1000]) {
      const msg = new Uint8Array(len).map((_, i) => (i * 7 + 3) & 0xff);
      const expected = keccak(concat(utf8(`\x19Ethereum Signed Message:\n${len}`), msg));
      expect(hex(core.hashPersonalMessage(msg)), `length ${len}`).toBe(hex(expected));
    }
  });

  it('EIP-712: the Mail example digest', () => {
    expect(hex0x(core.hashTypedData(JSON.stringify(MAIL)))).toBe(MAIL_DIGEST);
  });

  it('EIP-712: key order and whitespace of the JSON do not matter', () => {
    const reordered = JSON.stringify(
      { message: MAIL.message, domain: MAIL.domain, primaryType: MAIL.primaryType, types: MAIL.types },
      null,
      2,
    );
    expect(hex0x(core.hashTypedData(reordered))).toBe(MAIL_DIGEST);
  });

  it('EIP-712: a changed field changes the digest', () => {
    const changed = { ...MAIL, message: { ...MAIL.message, contents: 'Hello, Bob?' } };
    expect(hex0x(core.hashTypedData(JSON.stringify(changed)))).not.toBe(MAIL_DIGEST);
  });

  it('EIP-712: the Mail example signature with keccak256("cow") (v = 28)', () => {
    const sk = keccak(utf8('cow'));
    const { signature, recoveryId } = core.signDigest(sk, fromHex(MAIL_DIGEST));
    expect(hex(signature)).toBe(MAIL_R + MAIL_S);
    expect(recoveryId + 27).toBe(EIP712_MAIL.v);
    // The signer is the message's "from" wallet.
    expect(core.ethereumAddress(core.publicKeyFromSecret(sk))).toBe(MAIL.message.from.wallet);
  });

  it('EIP-55: address of key 0x46…46 (the EIP-155 example key)', () => {
    const sk = new Uint8Array(32).fill(0x46);
    expect(core.ethereumAddress(core.publicKeyFromSecret(sk))).toBe('0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F');
    expect(core.ethereumAddress(core.publicKeyFromSecret(sk, false))).toBe('0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F');
  });

  it('EIP-55: addresses of 100 random keys match an independent derivation', () => {
    const rng = new SeededRng(seed, 'eip55');
    for (let i = 0; i < 100; i++) {
      const sk = rng.secretKey();
      const expected = addressFromUncompressed(secp256k1.getPublicKey(sk, false));
      expect(core.ethereumAddress(core.publicKeyFromSecret(sk)), `seed ${seed} #${i} key ${hex(sk)}`).toBe(expected);
    }
  });
});
