/**
 * Wycheproof secp256k1 ECDSA/SHA-256 (C2SP/wycheproof testvectors_v1).
 *
 * - ecdsa_secp256k1_sha256_bitcoin_test.json: DER, high-S invalid -> strict verify (lowS: true)
 * - ecdsa_secp256k1_sha256_test.json:         DER -> signatureFromDer, plain verify (lowS: false)
 * - ecdsa_secp256k1_sha256_p1363_test.json:   raw r||s, plain verify (lowS: false)
 *
 * digest = SHA-256(msg). valid -> true; invalid -> false or a thrown coded
 * error; acceptable -> either. Every case is checked with the uncompressed
 * and the compressed form of the group's key, which must agree.
 */
import { describe, expect, it } from 'vitest';
import { attempt, fromHex, hex, loadJson, sha256 } from './helpers.ts';
import { implementations, type CoreApi } from './impls.ts';

interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}

interface WycheproofFile {
  numberOfTests: number;
  testGroups: Array<{
    publicKey: { uncompressed: string; wx: string; wy: string };
    tests: WycheproofTest[];
  }>;
}

type Encoding = 'der' | 'p1363';

interface FileSpec {
  file: string;
  encoding: Encoding;
  lowS: boolean;
  expectedCount: number;
}

const FILES: FileSpec[] = [
  { file: 'ecdsa_secp256k1_sha256_bitcoin_test.json', encoding: 'der', lowS: true, expectedCount: 463 },
  { file: 'ecdsa_secp256k1_sha256_test.json', encoding: 'der', lowS: false, expectedCount: 476 },
  { file: 'ecdsa_secp256k1_sha256_p1363_test.json', encoding: 'p1363', lowS: false, expectedCount: 252 },
];

/** The codes a malformed signature may legitimately produce. */
const ENCODING_ERRORS = new Set(['INVALID_SIGNATURE_ENCODING']);

/** Long hex (Wycheproof has 4 KB signatures) shortened for messages. */
function short(h: string): string {
  return h.length <= 160 ? h : `${h.slice(0, 120)}…(${h.length / 2} bytes)`;
}

function compressedKey(wx: string, wy: string): Uint8Array {
  const x = wx.replace(/^(00)+/, '').padStart(64, '0');
  const yOdd = (parseInt(wy.slice(-1), 16) & 1) === 1;
  return fromHex(`${yOdd ? '03' : '02'}${x}`);
}

/**
 * The verdict of one case: `true`/`false`, or `error:<code>` when the core
 * refused the input (only acceptable for malformed encodings).
 */
function verdict(core: CoreApi, spec: FileSpec, publicKey: Uint8Array, t: WycheproofTest): string {
  const digest = sha256(fromHex(t.msg));
  const run = attempt(() => {
    let compact: Uint8Array | null;
    if (spec.encoding === 'der') {
      compact = core.signatureFromDer(fromHex(t.sig));
      // Well-formed DER, r or s out of range. (`=== null` exactly is the API contract;
      // ecdsa.test.ts asserts it separately, so here either empty value counts.)
      if (compact === null || compact === undefined) return false;
      if (compact.length !== 64) throw new Error(`signatureFromDer returned ${compact.length} bytes`);
    } else {
      compact = fromHex(t.sig);
    }
    return core.verifyDigest(publicKey, digest, compact, { lowS: spec.lowS });
  });
  if (!run.threw) return String(run.value);
  return `error:${run.code ?? `<uncoded ${String(run.error)}>`}`;
}

describe.each(implementations)('Wycheproof secp256k1 [$name]', ({ core }) => {
  it.each(FILES)('$file ($encoding, lowS: $lowS)', (spec) => {
    const data = loadJson<WycheproofFile>(`wycheproof/${spec.file}`);
    expect(data.numberOfTests).toBe(spec.expectedCount);
    const failures: string[] = [];
    let checked = 0;
    for (const group of data.testGroups) {
      const uncompressed = fromHex(group.publicKey.uncompressed);
      const compressed = compressedKey(group.publicKey.wx, group.publicKey.wy);
      for (const t of group.tests) {
        checked++;
        const v = verdict(core, spec, uncompressed, t);
        const vc = verdict(core, spec, compressed, t);
        const where = `tcId ${t.tcId} (${t.comment}; ${t.result}; flags ${t.flags.join(',')}; sig ${short(t.sig)})`;
        if (v !== vc) failures.push(`${where}: uncompressed key gives ${v}, compressed key gives ${vc}`);
        if (t.result === 'valid' && v !== 'true') failures.push(`${where}: expected true, got ${v}`);
        if (t.result === 'invalid' && v !== 'false') {
          const code = v.startsWith('error:') ? v.slice('error:'.length) : undefined;
          if (code === undefined || !ENCODING_ERRORS.has(code)) failures.push(`${where}: expected false, got ${v}`);
        }
        if (t.result === 'acceptable' && v !== 'true' && v !== 'false' && !ENCODING_ERRORS.has(v.slice(6))) {
          failures.push(`${where}: expected a verdict or an encoding error, got ${v}`);
        }
      }
    }
    expect(failures.length, failures.slice(0, 20).join('\n')).toBe(0);
    expect(checked).toBe(spec.expectedCount);
  });

  it('sanity: the first valid case of the bitcoin file is true strictly and plainly', () => {
    const data = loadJson<WycheproofFile>('wycheproof/ecdsa_secp256k1_sha256_bitcoin_test.json');
    const group = data.testGroups.find((g) => g.tests.some((t) => t.result === 'valid'))!;
    const t = group.tests.find((x) => x.result === 'valid')!;
    const compact = core.signatureFromDer(fromHex(t.sig));
    expect(compact).not.toBeNull();
    const pk = fromHex(group.publicKey.uncompressed);
    const digest = sha256(fromHex(t.msg));
    expect(core.verifyDigest(pk, digest, compact!, { lowS: true })).toBe(true);
    expect(core.verifyDigest(pk, digest, compact!, { lowS: false })).toBe(true);
    expect(hex(compact!).length).toBe(128);
  });
});
