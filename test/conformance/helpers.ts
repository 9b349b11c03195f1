/**
 * Shared helpers of the conformance suite: hex, vectors (read from
 * test/vectors relative to this file), SHA-256 via node:crypto, a seeded
 * deterministic RNG, a tiny RLP encoder for building malformed transactions,
 * and an independent EIP-55 implementation (keccak from @noble/hashes).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { expect } from 'vitest';

// ---------------------------------------------------------------------------
// bytes / hex

/** Lowercase hex without prefix. Works for Buffer and Uint8Array alike. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Lowercase hex with `0x` prefix. */
export function hex0x(bytes: Uint8Array): string {
  return `0x${hex(bytes)}`;
}

/** Hex (with or without `0x`; `"0x"` is empty) to a plain Uint8Array. */
export function fromHex(text: string): Uint8Array {
  const h = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new Error(`fromHex: not an even-length hex string: ${text}`);
  return new Uint8Array(Buffer.from(h, 'hex'));
}

/** Left-pads a hex string (no prefix) with zeros to `bytes` bytes. */
export function padHex(text: string, bytes = 32): string {
  const h = text.startsWith('0x') ? text.slice(2) : text;
  if (h.length > bytes * 2) throw new Error(`padHex: ${text} is longer than ${bytes} bytes`);
  return h.padStart(bytes * 2, '0');
}

export function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
}

/** Quantity in hex (`"0x"` and `undefined` are zero) to bigint. */
export function bigFromHex(text: string | undefined): bigint {
  if (text === undefined || text === '0x' || text === '') return 0n;
  return BigInt(text.startsWith('0x') ? text : `0x${text}`);
}

export function bytesToBig(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${hex(bytes)}`);
}

export function bigToBytes(value: bigint, length = 32): Uint8Array {
  if (value < 0n) throw new Error('bigToBytes: negative');
  return fromHex(padHex(value.toString(16).padStart(length * 2, '0'), length));
}

// ---------------------------------------------------------------------------
// hashes

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** Independent keccak-256 (@noble/hashes), for cross-checking the core. */
export function keccak(data: Uint8Array): Uint8Array {
  return keccak_256(data);
}

// ---------------------------------------------------------------------------
// secp256k1 constants

/** Order of the secp256k1 group. */
export const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
export const HALF_N = N >> 1n;
/** Field prime of secp256k1. */
export const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
/** Order of the Ed25519 base point. */
export const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** The same signature with s replaced by n - s (flips low-S <-> high-S). */
export function flipS(signature: Uint8Array): Uint8Array {
  const r = signature.subarray(0, 32);
  const s = bytesToBig(signature.subarray(32, 64));
  return concat(r, bigToBytes(N - s));
}

export function isLowS(signature: Uint8Array): boolean {
  return bytesToBig(signature.subarray(32, 64)) <= HALF_N;
}

// ---------------------------------------------------------------------------
// vectors

/** Absolute path of a file under test/vectors/. */
export function vectorPath(relative: string): string {
  return fileURLToPath(new URL(`../vectors/${relative}`, import.meta.url));
}

export function loadJson<T>(relative: string): T {
  return JSON.parse(readFileSync(vectorPath(relative), 'utf8')) as T;
}

/** The EIP-712 "Mail" example (test/vectors/ethereum/eip712_mail_example.json): typed data, digest, signature by keccak256("cow"). */
export interface Eip712MailVector {
  typedData: {
    types: { EIP712Domain: TypedField[]; Person: TypedField[]; Mail: TypedField[] };
    primaryType: 'Mail';
    domain: { name: string; version: string; chainId: number; verifyingContract: `0x${string}` };
    message: { from: MailPerson; to: MailPerson; contents: string };
  };
  signerAddress: `0x${string}`;
  digest: `0x${string}`;
  v: number;
  r: `0x${string}`;
  s: `0x${string}`;
}
interface TypedField {
  name: string;
  type: string;
}
interface MailPerson {
  name: string;
  wallet: `0x${string}`;
}

export const EIP712_MAIL: Eip712MailVector = loadJson<Eip712MailVector>('ethereum/eip712_mail_example.json');

export function loadGzJson<T>(relative: string): T {
  return JSON.parse(gunzipSync(readFileSync(vectorPath(relative))).toString('utf8')) as T;
}

// --- ethers.js transaction vectors -----------------------------------------

export interface EthersTransactionFields {
  to?: string;
  nonce?: number;
  gasLimit?: string;
  gasPrice?: string;
  maxFeePerGas?: string;
  maxPriorityFeePerGas?: string;
  data?: string;
  value?: string;
  accessList?: Array<{ address: string; storageKeys: string[] }>;
  chainId?: string;
}

export interface EthersEntry {
  name: string;
  transaction: EthersTransactionFields;
  privateKey: string;
  unsignedLegacy: string;
  signedLegacy: string;
  unsignedEip155: string;
  signedEip155: string;
  unsignedBerlin: string;
  signedBerlin: string;
  unsignedLondon: string;
  signedLondon: string;
}

export interface TxForm {
  label: 'Legacy' | 'Eip155' | 'Berlin' | 'London';
  kind: 'legacy' | 'eip155' | 'eip2930' | 'eip1559';
  unsigned: 'unsignedLegacy' | 'unsignedEip155' | 'unsignedBerlin' | 'unsignedLondon';
  signed: 'signedLegacy' | 'signedEip155' | 'signedBerlin' | 'signedLondon';
}

export const TX_FORMS: readonly TxForm[] = [
  { label: 'Legacy', kind: 'legacy', unsigned: 'unsignedLegacy', signed: 'signedLegacy' },
  { label: 'Eip155', kind: 'eip155', unsigned: 'unsignedEip155', signed: 'signedEip155' },
  { label: 'Berlin', kind: 'eip2930', unsigned: 'unsignedBerlin', signed: 'signedBerlin' },
  { label: 'London', kind: 'eip1559', unsigned: 'unsignedLondon', signed: 'signedLondon' },
];

let ethersCache: EthersEntry[] | undefined;
/** The 896 entries of ethers.js' testcases/transaction.json.gz. */
export function ethersTransactions(): EthersEntry[] {
  ethersCache ??= loadGzJson<EthersEntry[]>('ethereum/ethers_transaction.json.gz');
  return ethersCache;
}

/**
 * ethers' vectors include EIP-155 forms with chain id 0 (17 "random-*" entries
 * with chainId "0x" and the 384 "masked-*" entries without a chainId). ethers
 * encoded that 0 as the single byte 0x00 (`... 00 80 80`), a non-canonical RLP
 * integer, and signed those very bytes. The core accepts only the canonical
 * encoding, so it refuses these unsigned forms with INTEGER_LEADING_ZERO
 * (crates/eth/src/rlp.rs); the canonical spelling (0x80) is refused too, with
 * INVALID_EIP155_TAIL ("EIP-155 chain id must not be zero").
 */
export function isEip155WithChainIdZero(entry: EthersEntry, form: TxForm): boolean {
  return form.kind === 'eip155' && bigFromHex(entry.transaction.chainId) === 0n;
}

/**
 * The chain id ethers put in an entry's typed (EIP-2930/1559) forms: the
 * entry's chainId, or 1 when the entry has none (the "masked-*" entries; the
 * unsigned bytes say so: `01 <list> 01 ...`).
 */
export function ethersTypedChainId(entry: EthersEntry): bigint {
  return entry.transaction.chainId === undefined ? 1n : bigFromHex(entry.transaction.chainId);
}

// ---------------------------------------------------------------------------
// errors

export interface Outcome<T> {
  threw: boolean;
  value?: T;
  error?: unknown;
  /** The `code` of a thrown error, if it has a string one. */
  code?: string;
}

export function attempt<T>(fn: () => T): Outcome<T> {
  try {
    return { threw: false, value: fn() };
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    return { threw: true, error, code: typeof code === 'string' ? code : undefined };
  }
}

/** The code thrown by `fn`, `'<no throw>'` if it returned, `'<no code>'` if the throw carried none. */
export function codeOf(fn: () => unknown): string {
  const outcome = attempt(fn);
  if (!outcome.threw) return '<no throw>';
  return outcome.code ?? `<no code: ${String(outcome.error)}>`;
}

/** Asserts that `fn` throws a JS Error whose string `code` is `code`. */
export function expectCode(fn: () => unknown, code: string): Error {
  const outcome = attempt(fn);
  expect(outcome.threw, `expected a throw with code ${code}, but the call returned`).toBe(true);
  expect(outcome.error).toBeInstanceOf(Error);
  expect((outcome.error as { code?: unknown }).code).toBe(code);
  return outcome.error as Error;
}

// ---------------------------------------------------------------------------
// seeded RNG (SHA-256 in counter mode): reproducible, printable seed

/** The seed for random tests: `SENTINEL_TEST_SEED` if set, else a fresh one. Printed by callers. */
export function testSeed(): string {
  const fromEnv = process.env.SENTINEL_TEST_SEED;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return String(Math.floor(Math.random() * 2 ** 32));
}

export class SeededRng {
  private counter = 0;
  private pool: Uint8Array = new Uint8Array(0);

  constructor(
    readonly seed: string,
    readonly label: string,
  ) {}

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (this.pool.length === 0) {
        this.pool = sha256(utf8(`${this.label}/${this.seed}/${this.counter++}`));
      }
      const take = Math.min(this.pool.length, length - filled);
      out.set(this.pool.subarray(0, take), filled);
      this.pool = this.pool.subarray(take);
      filled += take;
    }
    return out;
  }

  /** Uniform integer in [0, max). */
  int(max: number): number {
    const v = new DataView(this.bytes(4).buffer).getUint32(0);
    return v % max;
  }

  /** A valid secp256k1 secret key in [1, n-1]. */
  secretKey(): Uint8Array {
    for (;;) {
      const k = this.bytes(32);
      const v = bytesToBig(k);
      if (v > 0n && v < N) return k;
    }
  }
}

// ---------------------------------------------------------------------------
// RLP (encoder only; enough to build well-formed and malformed transactions)

export type RlpItem = Uint8Array | RlpItem[];

function rlpLength(length: number, offset: number): Uint8Array {
  if (length < 56) return Uint8Array.of(offset + length);
  const bytes = rlpInt(length);
  return concat(Uint8Array.of(offset + 55 + bytes.length), bytes);
}

export function rlp(item: RlpItem): Uint8Array {
  if (item instanceof Uint8Array) {
    if (item.length === 1 && item[0]! < 0x80) return item;
    return concat(rlpLength(item.length, 0x80), item);
  }
  const payload = concat(...item.map(rlp));
  return concat(rlpLength(payload.length, 0xc0), payload);
}

/** Canonical big-endian integer bytes (zero is empty). */
export function rlpInt(value: bigint | number): Uint8Array {
  const v = BigInt(value);
  if (v === 0n) return new Uint8Array(0);
  let h = v.toString(16);
  if (h.length % 2) h = `0${h}`;
  return fromHex(h);
}

// ---------------------------------------------------------------------------
// EIP-55, independently of the core

/** EIP-55 checksum of a 20-byte address given as hex (any case, with or without 0x). */
export function toChecksumAddress(address: string): string {
  const lower = (address.startsWith('0x') ? address.slice(2) : address).toLowerCase();
  const hash = hex(keccak(utf8(lower)));
  let out = '0x';
  for (let i = 0; i < lower.length; i++) {
    const c = lower[i]!;
    out += parseInt(hash[i]!, 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

/** Ethereum address of an uncompressed (65-byte, 0x04-prefixed) public key, EIP-55. */
export function addressFromUncompressed(publicKey: Uint8Array): string {
  if (publicKey.length !== 65 || publicKey[0] !== 4) throw new Error('addressFromUncompressed: need 65 bytes 04||x||y');
  return toChecksumAddress(hex(keccak(publicKey.subarray(1)).subarray(12)));
}
