/**
 * Errors: every bad input throws a JS Error carrying a stable string `code`,
 * the same code in both builds (table-driven), never key material in the
 * message, and never a crash of the process.
 *
 * Ethereum decoding codes come from crates/eth/src/error.rs.
 */
import { describe, expect, it } from 'vitest';
import { attempt, bigToBytes, codeOf, concat, EIP712_MAIL, expectCode, fromHex, hex, N, P, rlp, rlpInt, sha256, utf8, type RlpItem } from './helpers.ts';
import { implementations, native, wasm, type CoreApi } from './impls.ts';

// --- fixtures -----------------------------------------------------------------

const SK = new Uint8Array(32).fill(0x11);
const DIGEST = sha256(utf8('sample'));
const G = fromHex('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
const G_X = fromHex('79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
const G_Y = fromHex('483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8');
// A valid low-S signature (Trezor RFC 6979 vector 1, digest = SHA-256("sample")).
const SIG = fromHex(
  'af340daf02cc15c8d5d08d7735dfe6b98a474ed373bdb5fbecf7571be52b38425009fb27f37034a9b24b707b7c6b79ca23ddef9e25f7282e8a797efe53a8f124',
);
const R_ZERO_S_ONE = concat(new Uint8Array(32), bigToBytes(1n));
const R_N = concat(bigToBytes(N), SIG.subarray(32));

// EIP-155 spec example (test/vectors/ethereum/eip155_spec_example.json).
const EIP155_UNSIGNED = fromHex(
  'ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080',
);
const EIP155_SIGNED = fromHex(
  'f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83',
);

const TO = new Uint8Array(20).fill(0x35);
const b = (n: number | bigint) => rlpInt(n);
/** The nine fields of the EIP-155 example as RLP items. */
function eip155Fields(): Uint8Array[] {
  return [b(9), b(20_000_000_000n), b(21000), TO, b(10n ** 18n), new Uint8Array(0), b(1), b(0), b(0)];
}
/** A list of already-encoded items (lets a test put a non-canonical item in). */
function rawList(encodedItems: Uint8Array[]): Uint8Array {
  const payload = concat(...encodedItems);
  const header = payload.length < 56 ? Uint8Array.of(0xc0 + payload.length) : concat(Uint8Array.of(0xf7 + rlpInt(payload.length).length), rlpInt(payload.length));
  return concat(header, payload);
}
function eip155With(index: number, encoded: Uint8Array): Uint8Array {
  const items = eip155Fields().map((f) => rlp(f));
  items[index] = encoded;
  return rawList(items);
}
/** An unsigned EIP-1559 transaction, fields as RLP items. */
function londonFields(): RlpItem[] {
  return [b(1), b(0), b(1), b(100), b(21000), TO, b(1), new Uint8Array(0), []];
}
function london(fields: RlpItem[] = londonFields()): Uint8Array {
  return concat(Uint8Array.of(0x02), rlp(fields));
}

/** A well-formed EIP-155 transaction of exactly `size` bytes (data padded). */
function eip155OfSize(size: number): Uint8Array {
  const make = (dataLength: number) => {
    const fields = eip155Fields();
    fields[5] = new Uint8Array(dataLength).fill(0xab);
    return rlp(fields);
  };
  let dataLength = size - 60;
  for (let i = 0; i < 4; i++) dataLength += size - make(dataLength).length;
  const tx = make(dataLength);
  if (tx.length !== size) throw new Error(`eip155OfSize: got ${tx.length}, wanted ${size}`);
  return tx;
}
const MAX_TX = 131_072;

// --- the table ------------------------------------------------------------------

interface ErrorCase {
  name: string;
  code: string;
  call: (core: CoreApi) => unknown;
}

const SECRET_KEY_INPUTS: Array<[string, Uint8Array]> = [
  ['31 bytes', new Uint8Array(31).fill(1)],
  ['33 bytes', new Uint8Array(33).fill(1)],
  ['empty', new Uint8Array(0)],
  ['zero', new Uint8Array(32)],
  ['n', bigToBytes(N)],
  ['n + 1', bigToBytes(N + 1n)],
  ['2^256 - 1', new Uint8Array(32).fill(0xff)],
];
const SECRET_KEY_CASES: ErrorCase[] = SECRET_KEY_INPUTS.flatMap(([label, sk]) => [
  { name: `signDigest: secret key ${label}`, code: 'INVALID_SECRET_KEY', call: (c: CoreApi) => c.signDigest(sk, DIGEST) },
  { name: `publicKeyFromSecret: secret key ${label}`, code: 'INVALID_SECRET_KEY', call: (c: CoreApi) => c.publicKeyFromSecret(sk) },
  {
    name: `signEthereumTransaction: secret key ${label}`,
    code: 'INVALID_SECRET_KEY',
    call: (c: CoreApi) => c.signEthereumTransaction(sk, EIP155_UNSIGNED),
  },
  {
    name: `hazmatRfc6979Nonce: secret key ${label}`,
    code: 'INVALID_SECRET_KEY',
    call: (c: CoreApi) => c.hazmatRfc6979Nonce(sk, DIGEST, 0),
  },
]);

const DIGEST_CASES: ErrorCase[] = [0, 31, 33, 64].flatMap((len) => {
  const d = new Uint8Array(len).fill(7);
  return [
    { name: `signDigest: digest ${len} bytes`, code: 'INVALID_DIGEST_LENGTH', call: (c: CoreApi) => c.signDigest(SK, d) },
    { name: `verifyDigest: digest ${len} bytes`, code: 'INVALID_DIGEST_LENGTH', call: (c: CoreApi) => c.verifyDigest(G, d, SIG) },
    { name: `recoverPublicKey: digest ${len} bytes`, code: 'INVALID_DIGEST_LENGTH', call: (c: CoreApi) => c.recoverPublicKey(d, SIG, 0) },
    { name: `hazmatRfc6979Nonce: digest ${len} bytes`, code: 'INVALID_DIGEST_LENGTH', call: (c: CoreApi) => c.hazmatRfc6979Nonce(SK, d, 0) },
  ];
});

const SIGNATURE_INPUTS: Array<[string, Uint8Array]> = [
  ['63 bytes', SIG.subarray(0, 63)],
  ['65 bytes', concat(SIG, Uint8Array.of(1))],
  ['empty', new Uint8Array(0)],
  ['DER instead of r||s', fromHex('3006020101020101')],
];
const SIGNATURE_CASES: ErrorCase[] = SIGNATURE_INPUTS.flatMap(([label, sig]) => [
  {
    name: `verifyDigest (strict): signature ${label}`,
    code: 'INVALID_SIGNATURE_ENCODING',
    call: (c: CoreApi) => c.verifyDigest(G, DIGEST, sig),
  },
  {
    name: `verifyDigest (plain): signature ${label}`,
    code: 'INVALID_SIGNATURE_ENCODING',
    call: (c: CoreApi) => c.verifyDigest(G, DIGEST, sig, { lowS: false }),
  },
  {
    name: `recoverPublicKey: signature ${label}`,
    code: 'INVALID_SIGNATURE_ENCODING',
    call: (c: CoreApi) => c.recoverPublicKey(DIGEST, sig, 0),
  },
]);

const PUBLIC_KEY_INPUTS: Array<[string, Uint8Array]> = [
  ['empty', new Uint8Array(0)],
  ['32 bytes (x only)', G_X],
  ['34 bytes', concat(G, Uint8Array.of(0))],
  ['64 bytes (x||y without prefix)', concat(G_X, G_Y)],
  ['66 bytes', concat(Uint8Array.of(4), G_X, G_Y, Uint8Array.of(0))],
  ['33 bytes with prefix 0x05', concat(Uint8Array.of(5), G_X)],
  ['compressed with x = p (not a field element)', concat(Uint8Array.of(2), bigToBytes(P))],
  ['uncompressed, not on the curve (y + 1)', concat(Uint8Array.of(4), G_X, bigToBytes(BigInt(`0x${hex(G_Y)}`) + 1n))],
  ['uncompressed all zero (point at infinity encoding)', concat(Uint8Array.of(4), new Uint8Array(64))],
  ['a single 0x00 byte (SEC1 infinity)', Uint8Array.of(0)],
];
const PUBLIC_KEY_CASES: ErrorCase[] = PUBLIC_KEY_INPUTS.flatMap(([label, pk]) => [
  { name: `verifyDigest: public key ${label}`, code: 'INVALID_PUBLIC_KEY', call: (c: CoreApi) => c.verifyDigest(pk, DIGEST, SIG) },
  { name: `ethereumAddress: public key ${label}`, code: 'INVALID_PUBLIC_KEY', call: (c: CoreApi) => c.ethereumAddress(pk) },
]);

const RECOVERY_CASES: ErrorCase[] = [
  ...[4, 5, 255, 256, 2 ** 31, -1].map((id) => ({
    name: `recoverPublicKey: recovery id ${id}`,
    code: 'INVALID_RECOVERY_ID',
    call: (c: CoreApi) => c.recoverPublicKey(DIGEST, SIG, id),
  })),
  { name: 'recoverPublicKey: r = 0, s = 1', code: 'RECOVERY_FAILED', call: (c) => c.recoverPublicKey(DIGEST, R_ZERO_S_ONE, 0) },
  // Recovery ids 2/3 need r + n < p; for this r, r + n >= p, so no key recovers.
  { name: 'recoverPublicKey: recovery id 2 with a large r', code: 'RECOVERY_FAILED', call: (c) => c.recoverPublicKey(DIGEST, SIG, 2) },
  { name: 'recoverPublicKey: recovery id 3 with a large r', code: 'RECOVERY_FAILED', call: (c) => c.recoverPublicKey(DIGEST, SIG, 3) },
  { name: 'recoverPublicKey: r = n (overflow)', code: 'INVALID_SIGNATURE_ENCODING', call: (c) => c.recoverPublicKey(DIGEST, R_N, 0) },
];

const DER_INPUTS: Array<[string, string]> = [
  ['empty', ''],
  ['random bytes', 'deadbeef'],
  ['BER long-form length', '308106020101020101'],
  ['trailing garbage', '300602010102010100'],
];
const DER_CASES: ErrorCase[] = DER_INPUTS.map(([label, der]) => ({
  name: `signatureFromDer: ${label}`,
  code: 'INVALID_SIGNATURE_ENCODING',
  call: (c: CoreApi) => c.signatureFromDer(fromHex(der)),
}));

const ED25519_CASES: ErrorCase[] = [
  { name: 'signEd25519: seed 31 bytes', code: 'INVALID_SECRET_KEY', call: (c) => c.signEd25519(new Uint8Array(31), new Uint8Array(0)) },
  { name: 'ed25519PublicKey: seed 33 bytes', code: 'INVALID_SECRET_KEY', call: (c) => c.ed25519PublicKey(new Uint8Array(33)) },
  {
    name: 'verifyEd25519: public key 31 bytes',
    code: 'INVALID_PUBLIC_KEY',
    call: (c) => c.verifyEd25519(new Uint8Array(31), new Uint8Array(0), new Uint8Array(64)),
  },
  {
    name: 'verifyEd25519: signature 63 bytes',
    code: 'INVALID_SIGNATURE_ENCODING',
    call: (c) => c.verifyEd25519(fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'), new Uint8Array(0), new Uint8Array(63)),
  },
];

const ETH_TX_BAD_INPUTS: Array<[string, string, () => Uint8Array]> = [
  ['empty input', 'EMPTY_INPUT', () => new Uint8Array(0)],
  ['oversize input (131073 bytes, otherwise well-formed)', 'TRANSACTION_TOO_LARGE', () => eip155OfSize(MAX_TX + 1)],
  ['oversize input (200000 bytes of junk)', 'TRANSACTION_TOO_LARGE', () => new Uint8Array(200_000).fill(0xf9)],
  ['trailing bytes after a legacy list', 'TRAILING_BYTES', () => concat(EIP155_UNSIGNED, Uint8Array.of(0))],
  ['trailing bytes after an EIP-1559 list', 'TRAILING_BYTES', () => concat(london(), Uint8Array.of(0xc0))],
  ['non-canonical integer: nonce with a leading zero byte', 'INTEGER_LEADING_ZERO', () => eip155With(0, rlp(Uint8Array.of(0, 9)))],
  ['non-canonical integer: zero as 0x00 instead of the empty string', 'INTEGER_LEADING_ZERO', () => eip155With(4, rlp(Uint8Array.of(0)))],
  ['non-canonical RLP: single byte 0x09 wrapped as 0x8109', 'NON_CANONICAL_RLP', () => eip155With(0, Uint8Array.of(0x81, 0x09))],
  ['non-canonical RLP: long-form list length below 56', 'NON_CANONICAL_RLP', () => concat(Uint8Array.of(0xf8, EIP155_UNSIGNED[0]! - 0xc0), EIP155_UNSIGNED.subarray(1))],
  ['wrong field count: legacy with 7 fields', 'WRONG_FIELD_COUNT', () => rlp(eip155Fields().slice(0, 7))],
  ['wrong field count: legacy with 5 fields', 'WRONG_FIELD_COUNT', () => rlp(eip155Fields().slice(0, 5))],
  ['wrong field count: EIP-1559 with 8 fields', 'WRONG_FIELD_COUNT', () => london(londonFields().slice(0, 8))],
  ['wrong field count: a signed EIP-1559 transaction (12 fields)', 'WRONG_FIELD_COUNT', () => london([...londonFields(), b(1), b(1), b(1)])],
  ['integer overflow: 9-byte nonce', 'INTEGER_OVERFLOW', () => eip155With(0, rlp(new Uint8Array(9).fill(1)))],
  ['integer overflow: 33-byte value', 'INTEGER_OVERFLOW', () => eip155With(4, rlp(new Uint8Array(33).fill(1)))],
  ['unsupported type 0x03', 'UNSUPPORTED_TRANSACTION_TYPE', () => concat(Uint8Array.of(0x03), london().subarray(1))],
  ['unsupported type 0x00', 'UNSUPPORTED_TRANSACTION_TYPE', () => concat(Uint8Array.of(0x00), london().subarray(1))],
  ['top level is an RLP string', 'EXPECTED_LIST', () => rlp(new Uint8Array(10).fill(1))],
  ['truncated legacy list', 'RLP_TRUNCATED', () => EIP155_UNSIGNED.subarray(0, EIP155_UNSIGNED.length - 1)],
  ['truncated EIP-1559 list', 'RLP_TRUNCATED', () => london().subarray(0, 10)],
  ['to of 19 bytes', 'INVALID_TO_ADDRESS', () => eip155With(3, rlp(new Uint8Array(19).fill(0x35)))],
  ['nonce given as a list', 'EXPECTED_STRING', () => eip155With(0, rlp([]))],
  ['EIP-155 tail with chain id 0', 'INVALID_EIP155_TAIL', () => eip155With(6, rlp(new Uint8Array(0)))],
  ['an already signed EIP-155 transaction', 'INVALID_EIP155_TAIL', () => EIP155_SIGNED],
  ['access list given as a string', 'EXPECTED_LIST', () => london([...londonFields().slice(0, 8), new Uint8Array(0)])],
  ['access list entry with a 19-byte address', 'INVALID_ACCESS_LIST', () => london([...londonFields().slice(0, 8), [[new Uint8Array(19), []]]])],
  ['access list storage key of 31 bytes', 'INVALID_ACCESS_LIST', () => london([...londonFields().slice(0, 8), [[TO, [new Uint8Array(31)]]]])],
];

const ETH_CASES: ErrorCase[] = ETH_TX_BAD_INPUTS.flatMap(([label, code, input]) => [
  { name: `decodeEthereumTransaction: ${label}`, code, call: (c: CoreApi) => c.decodeEthereumTransaction(input()) },
  { name: `signEthereumTransaction: ${label}`, code, call: (c: CoreApi) => c.signEthereumTransaction(SK, input()) },
]);

// EIP-712 "Mail" example (valid; see eip191-712.test.ts) and broken variants.
const MAIL = EIP712_MAIL.typedData;
const mailWithout = (key: keyof typeof MAIL) => JSON.stringify(Object.fromEntries(Object.entries(MAIL).filter(([k]) => k !== key)));

// Codes and conditions from crates/eth/README.md.
const TYPED_DATA_CASES: ErrorCase[] = [
  { name: 'hashTypedData: not JSON', code: 'INVALID_TYPED_DATA', call: (c) => c.hashTypedData('{ not json') },
  { name: 'hashTypedData: a JSON number', code: 'INVALID_TYPED_DATA', call: (c) => c.hashTypedData('42') },
  { name: 'hashTypedData: empty object', code: 'INVALID_TYPED_DATA', call: (c) => c.hashTypedData('{}') },
  { name: 'hashTypedData: no message', code: 'INVALID_TYPED_DATA', call: (c) => c.hashTypedData(mailWithout('message')) },
  {
    name: 'hashTypedData: EIP712Domain type missing',
    code: 'TYPED_DATA_DOMAIN_MISMATCH',
    call: (c) => c.hashTypedData(JSON.stringify({ ...MAIL, types: { Person: MAIL.types.Person, Mail: MAIL.types.Mail } })),
  },
  {
    name: 'hashTypedData: domain has a key its type does not declare',
    code: 'TYPED_DATA_DOMAIN_MISMATCH',
    call: (c) => c.hashTypedData(JSON.stringify({ ...MAIL, domain: { ...MAIL.domain, salt: `0x${'00'.repeat(32)}` } })),
  },
  {
    name: 'hashTypedData: message lacks a field (contents)',
    code: 'TYPED_DATA_NOT_HASHABLE',
    call: (c) => c.hashTypedData(JSON.stringify({ ...MAIL, message: { from: MAIL.message.from, to: MAIL.message.to } })),
  },
  {
    name: 'hashTypedData: unknown primary type',
    code: 'TYPED_DATA_NOT_HASHABLE',
    call: (c) => c.hashTypedData(JSON.stringify({ ...MAIL, primaryType: 'Letter' })),
  },
];

const CASES: ErrorCase[] = [
  ...SECRET_KEY_CASES,
  ...DIGEST_CASES,
  ...SIGNATURE_CASES,
  ...PUBLIC_KEY_CASES,
  ...RECOVERY_CASES,
  ...DER_CASES,
  ...ED25519_CASES,
  ...ETH_CASES,
  ...TYPED_DATA_CASES,
];

// --- tests ----------------------------------------------------------------------

describe('error fixtures', () => {
  it('the size boundary fixture is exactly at the limit', () => {
    expect(eip155OfSize(MAX_TX).length).toBe(MAX_TX);
    expect(eip155OfSize(MAX_TX + 1).length).toBe(MAX_TX + 1);
  });
});

describe.each(implementations)('errors [$name]', ({ core }) => {
  it.each(CASES)('$name -> $code', ({ call, code }) => {
    const err = expectCode(() => call(core), code);
    expect(err.message.length).toBeGreaterThan(0);
  });

  it(`accepts a transaction of exactly ${MAX_TX} bytes (the limit is inclusive)`, () => {
    const tx = eip155OfSize(MAX_TX);
    const view = core.decodeEthereumTransaction(tx);
    expect(view.kind).toBe('eip155');
    expect(core.signEthereumTransaction(SK, tx).length).toBeGreaterThan(MAX_TX);
  });

  it('error messages never contain the secret key', () => {
    const sk = new Uint8Array(32).fill(0xab);
    const skHex = hex(sk);
    const messages = [
      attempt(() => core.signDigest(sk, new Uint8Array(31))),
      attempt(() => core.signEthereumTransaction(sk, new Uint8Array(0))),
      attempt(() => core.signEthereumTransaction(sk, concat(EIP155_UNSIGNED, Uint8Array.of(0)))),
      attempt(() => core.hazmatRfc6979Nonce(sk, new Uint8Array(3), 0)),
      attempt(() => core.signDigest(new Uint8Array(31).fill(0xab), DIGEST)),
    ].map((o) => {
      expect(o.threw).toBe(true);
      return `${(o.error as Error).message} ${String(o.error)} ${(o.error as Error).stack ?? ''}`;
    });
    for (const m of messages) {
      expect(m.toLowerCase()).not.toContain(skHex.slice(0, 16));
    }
  });

  it('failures are catchable and leave the core usable (no crash, no poisoned state)', () => {
    for (let round = 0; round < 20; round++) {
      for (const { call } of CASES) {
        const outcome = attempt(() => call(core));
        expect(outcome.threw).toBe(true);
        expect(outcome.error).toBeInstanceOf(Error);
      }
    }
    // Values of the wrong JS type: may throw (must be a catchable Error) or be coerced; never crash.
    const junk: unknown[] = [undefined, null, 42, 'abc', {}, [1, 2, 3], Symbol('x'), () => 0];
    for (const j of junk) {
      const calls: Array<() => unknown> = [
        () => core.signDigest(j as Uint8Array, DIGEST),
        () => core.signDigest(SK, j as Uint8Array),
        () => core.verifyDigest(j as Uint8Array, DIGEST, SIG),
        () => core.recoverPublicKey(DIGEST, SIG, j as number),
        () => core.decodeEthereumTransaction(j as Uint8Array),
        () => core.hashTypedData(j as string),
        () => core.verifyEd25519(j as Uint8Array, new Uint8Array(0), new Uint8Array(64)),
      ];
      for (const fn of calls) {
        const outcome = attempt(fn);
        if (outcome.threw) expect(outcome.error).toBeInstanceOf(Error);
      }
    }
    // Still works afterwards, and still deterministic.
    const { signature } = core.signDigest(SK, DIGEST);
    expect(core.verifyDigest(core.publicKeyFromSecret(SK), DIGEST, signature)).toBe(true);
    expect(hex(core.signDigest(SK, DIGEST).signature)).toBe(hex(signature));
  });
});

describe('native and wasm throw the same code for the same bad input', () => {
  it.each(CASES)('$name', ({ call, code }) => {
    const nativeCode = codeOf(() => call(native.core));
    const wasmCode = codeOf(() => call(wasm.core));
    expect({ native: nativeCode, wasm: wasmCode }).toEqual({ native: code, wasm: code });
  });

  it('error objects have the same shape: Error instances with string code and message', () => {
    const n = attempt(() => native.core.signDigest(new Uint8Array(1), DIGEST));
    const w = attempt(() => wasm.core.signDigest(new Uint8Array(1), DIGEST));
    for (const o of [n, w]) {
      expect(o.error).toBeInstanceOf(Error);
      expect(typeof (o.error as Error).message).toBe('string');
      expect(o.code).toBe('INVALID_SECRET_KEY');
    }
    expect((n.error as Error).message).toBe((w.error as Error).message);
  });
});
