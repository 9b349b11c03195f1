/**
 * The audit log (crates/audit via the `audit*` functions, docs/audit.md): a
 * log built here without our code — records in canonical CBOR by a tiny
 * encoder below, the RFC 6962 tree and proofs by a direct transcription of the
 * RFC's definitions over node:crypto SHA-256, checkpoints signed as C2SP
 * signed notes with node:crypto Ed25519 — is verified, decoded and proven the
 * same way by every build, and each way of tampering with it is refused with
 * the same code in every build.
 *
 * Builds: native (N-API) and wasm for the verifying and decoding functions;
 * the browser package `@sentinel/verify-wasm` for `verifyAuditProof` and
 * `auditDecodeRecord`; native alone for what the host serves (`auditProve`,
 * `auditTile`, `auditEntryBundle`, `auditParseTilePath`, `auditLeafHash`).
 */
import { createPrivateKey, createPublicKey, sign as cryptoSign } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type * as NativeBuild from '@sentinel/node';
import { concat, expectCode, hex0x, sha256, utf8 } from './helpers.ts';
import { attestationImplementations, implementations, native, verifyWasm } from './impls.ts';

/** The native build's own functions (what the host serves: proofs, tiles, bundles, paths). */
const nativeOnly = createRequire(import.meta.url)('@sentinel/node') as typeof NativeBuild;

/** `list[i]`, which must exist. */
function at<T>(list: readonly T[], i: number): T {
  const item = list[i];
  if (item === undefined) throw new Error(`no element ${i}`);
  return item;
}

// --- canonical CBOR (RFC 8949 §4.2.1: shortest heads, definite lengths) ------

function head(major: number, n: number | bigint): Uint8Array {
  const v = BigInt(n);
  const m = major << 5;
  if (v < 24n) return Uint8Array.of(m | Number(v));
  if (v < 0x100n) return Uint8Array.of(m | 24, Number(v));
  if (v < 0x10000n) return Uint8Array.of(m | 25, Number(v >> 8n), Number(v & 0xffn));
  const width = v < 0x100000000n ? 4 : 8;
  const out = new Uint8Array(1 + width);
  out[0] = m | (width === 4 ? 26 : 27);
  for (let i = 0; i < width; i++) out[width - i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}
const cbor = {
  uint: (n: number | bigint) => head(0, n),
  bytes: (b: Uint8Array) => concat(head(2, b.length), b),
  text: (s: string) => concat(head(3, utf8(s).length), utf8(s)),
  null: Uint8Array.of(0xf6),
  array: (items: Uint8Array[]) => concat(head(4, items.length), ...items),
  /** Entries in the order given: canonical when the keys are sorted by their encoding. */
  map: (entries: Array<[string, Uint8Array]>) => concat(head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor.text(k), v])),
};
const orNull = <T>(v: T | null, enc: (v: T) => Uint8Array) => (v === null ? cbor.null : enc(v));

// --- the log's records ----------------------------------------------------------

interface Rule { rule: string; type: string; result: string; value: string | null; limit: string | null; window: string | null }
interface Effect { op: string; target: string; subject: string | null; value: string | null }
interface Record {
  seq: number;
  kind: string;
  effects: Effect[];
  time_us: number;
  principal: string | null;
  request_digest: string | null;
  decision: { outcome: string; code: string | null; rules: Rule[] } | null;
  result_digest: string | null;
  prev_hash: string;
}

const fromHex0x = (h: string) => new Uint8Array(Buffer.from(h.slice(2), 'hex'));

/** The record's canonical encoding: keys `seq kind effects time_us decision prev_hash principal result_digest request_digest`. */
function encodeRecord(r: Record): Uint8Array {
  const rule = (x: Rule) =>
    cbor.map([
      ['rule', cbor.text(x.rule)],
      ['type', cbor.text(x.type)],
      ['limit', orNull(x.limit, cbor.text)],
      ['value', orNull(x.value, cbor.text)],
      ['result', cbor.text(x.result)],
      ['window', orNull(x.window, cbor.text)],
    ]);
  const decision = orNull(r.decision, (d) =>
    cbor.map([
      ['code', orNull(d.code, cbor.text)],
      ['rules', cbor.array(d.rules.map(rule))],
      ['outcome', cbor.text(d.outcome)],
    ]),
  );
  const effect = (e: Effect) =>
    cbor.map([
      ['op', cbor.text(e.op)],
      ['value', orNull(e.value, cbor.text)],
      ['target', cbor.text(e.target)],
      ['subject', orNull(e.subject, cbor.text)],
    ]);
  return cbor.map([
    ['seq', cbor.uint(r.seq)],
    ['kind', cbor.text(r.kind)],
    ['effects', cbor.array(r.effects.map(effect))],
    ['time_us', cbor.uint(r.time_us)],
    ['decision', decision],
    ['prev_hash', cbor.bytes(fromHex0x(r.prev_hash))],
    ['principal', orNull(r.principal, cbor.text)],
    ['result_digest', orNull(r.result_digest, (h) => cbor.bytes(fromHex0x(h)))],
    ['request_digest', orNull(r.request_digest, (h) => cbor.bytes(fromHex0x(h)))],
  ]);
}

const KINDS = ['decision', 'approval', 'config', 'policy', 'key_created', 'key_imported', 'halt', 'resume', 'heartbeat_trip', 'log_resumed'];
const OUTCOMES = ['allowed', 'denied', 'pending', 'approved', 'rejected'];

function makeLog(n: number): { views: Record[]; records: Uint8Array[] } {
  const views: Record[] = [];
  const records: Uint8Array[] = [];
  let prev: Uint8Array = new Uint8Array(32);
  for (let seq = 0; seq < n; seq++) {
    const effects: Effect[] = [
      { op: 'notional', target: `r${seq % 3}`, subject: `key:k${seq % 4}`, value: String(seq * 1_000_000) },
      { op: 'rate_take', target: 'r1', subject: `principal:p${seq % 7}`, value: null },
      { op: 'level', target: 'global', subject: null, value: 'red' },
    ];
    const view: Record = {
      seq,
      kind: at(KINDS, seq % KINDS.length),
      effects: effects.slice(0, seq % 4),
      time_us: 1_765_000_000_000_000 + seq * 1000,
      principal: seq % 5 === 4 ? null : `principal-${seq % 7}`,
      request_digest: seq % 3 === 2 ? null : hex0x(sha256(utf8(`request ${seq}`))),
      decision:
        seq % 4 === 3
          ? null
          : {
              outcome: at(OUTCOMES, seq % OUTCOMES.length),
              code: seq % 2 === 0 ? null : 'POLICY_DENIED',
              rules: seq % 6 === 0 ? [] : [{ rule: `r${seq % 3}`, type: 'rate_limit', result: 'deny', value: String(seq), limit: null, window: '1m' }],
            },
      result_digest: seq % 2 === 0 ? hex0x(sha256(utf8(`result ${seq}`))) : null,
      prev_hash: hex0x(prev),
    };
    const bytes = encodeRecord(view);
    views.push(view);
    records.push(bytes);
    prev = sha256(bytes);
  }
  return { views, records };
}

// --- RFC 6962 §2.1, transcribed ------------------------------------------------------

const leafHash = (d: Uint8Array) => sha256(concat(Uint8Array.of(0), d));
const nodeHash = (l: Uint8Array, r: Uint8Array) => sha256(concat(Uint8Array.of(1), l, r));
/** The largest power of two smaller than n (n >= 2). */
const split = (n: number) => 2 ** Math.floor(Math.log2(n - 1));
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  if (leaves.length === 1) return at(leaves, 0);
  const k = split(leaves.length);
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
/** PATH(m, D[n]). */
function path(m: number, leaves: Uint8Array[]): Uint8Array[] {
  if (leaves.length <= 1) return [];
  const k = split(leaves.length);
  return m < k ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))] : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}
/** SUBPROOF(m, D[n], b). */
function subproof(m: number, leaves: Uint8Array[], complete: boolean): Uint8Array[] {
  const n = leaves.length;
  if (m === n) return complete ? [] : [mth(leaves)];
  const k = split(n);
  return m <= k
    ? [...subproof(m, leaves.slice(0, k), complete), mth(leaves.slice(k))]
    : [...subproof(m - k, leaves.slice(k), false), mth(leaves.slice(0, k))];
}

// --- C2SP signed note and checkpoint with node:crypto Ed25519 ----------------------

const ORIGIN = 'sentinel/log/0123456789abcdef';
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function noteKey(seed: number, name = ORIGIN) {
  const pkcs8 = concat(fromHex0x('0x302e020100300506032b657004220420'), new Uint8Array(32).fill(seed));
  const privateKey = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  const pub = new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' })).subarray(12);
  const id = sha256(concat(utf8(name), Uint8Array.of(0x0a, 0x01), pub)).subarray(0, 4);
  return {
    vkey: `${name}+${Buffer.from(id).toString('hex')}+${b64(concat(Uint8Array.of(0x01), pub))}`,
    sign(text: string): Uint8Array {
      const sig = new Uint8Array(cryptoSign(null, Buffer.from(text, 'utf8'), privateKey));
      return utf8(`${text}\n\u2014 ${name} ${b64(concat(id, sig))}\n`);
    },
  };
}

function checkpoint(key: ReturnType<typeof noteKey>, leaves: Uint8Array[], size: number): Uint8Array {
  return key.sign(`${ORIGIN}\n${size}\n${b64(mth(leaves.slice(0, size)))}\n`);
}

// --- the fixture ---------------------------------------------------------------------

const N_RECORDS = 300; // past one full level-0 tile: a partial level-0 and a level-1 tile
const { views, records } = makeLog(N_RECORDS);
const leaves = records.map(leafHash);
const KEY = noteKey(7);
const CP = { 100: checkpoint(KEY, leaves, 100), 256: checkpoint(KEY, leaves, 256), 300: checkpoint(KEY, leaves, 300) };
const ROOT_300 = hex0x(mth(leaves));
const OTHER_KEY = noteKey(8);

function reencoded(i: number, change: Partial<Record>): Uint8Array[] {
  const copy = [...records];
  copy[i] = encodeRecord({ ...at(views, i), ...change });
  return copy;
}
/** Record `i`'s bytes and leaf hash. */
const rec = (i: number) => at(records, i);
const leaf = (i: number) => at(leaves, i);

/** The proof text `auditProve` writes for record `index` under the size-300 checkpoint. */
function proofText(index: number): string {
  return [
    'c2sp.org/tlog-proof@v1',
    `index ${index}`,
    ...path(index, leaves).map(b64),
    '',
    Buffer.from(CP[300]).toString('utf8'),
  ].join('\n');
}

describe.each(implementations)('audit log [$name]', ({ core }) => {
  it('decodes every record to its fields', () => {
    for (const i of [0, 1, 3, 4, 5, 6, 299]) expect(core.auditDecodeRecord(rec(i))).toEqual(at(views, i));
  });

  it('verifies the log against its checkpoints and reports what they cover', () => {
    expect(core.auditVerifyLog(records, [CP[100], CP[300]], KEY.vkey)).toEqual({
      records: 300,
      root: ROOT_300,
      checkpoints: 2,
      covered: 300,
      uncovered: 0,
    });
    expect(core.auditVerifyLog(records, [CP[256]], KEY.vkey)).toMatchObject({ covered: 256, uncovered: 44 });
    expect(core.auditVerifyLog([], [], KEY.vkey)).toEqual({ records: 0, root: hex0x(mth([])), checkpoints: 0, covered: 0, uncovered: 0 });
  });

  it("checks that a log's records and checkpoints tie its key history together (auditVerifyKeyHistory)", () => {
    // Records 0-2 under KEY; record 3 is the log_resumed record of OTHER_KEY (it names KEY and
    // carries the SHA-256 of OTHER_KEY's public key); records 4-5 under OTHER_KEY.
    const publicKey = (k: ReturnType<typeof noteKey>) => new Uint8Array(Buffer.from(k.vkey.split('+').slice(2).join('+'), 'base64')).subarray(1);
    const base = (seq: number): Record => ({
      seq,
      kind: 'decision',
      effects: [],
      time_us: 1_765_000_000_000_000 + seq,
      principal: 'p',
      request_digest: hex0x(sha256(utf8(`request ${seq}`))),
      decision: { outcome: 'allowed', code: null, rules: [] },
      result_digest: null,
      prev_hash: hex0x(new Uint8Array(32)),
    });
    const resumed = (seq: number, from: string, key: ReturnType<typeof noteKey>): Record => ({
      ...base(seq),
      kind: 'log_resumed',
      effects: [{ op: 'log_resumed', target: from, subject: null, value: `covered=${seq} size=${seq}` }],
      principal: null,
      request_digest: null,
      decision: null,
      result_digest: hex0x(sha256(publicKey(key))),
    });
    const log = [base(0), base(1), base(2), resumed(3, KEY.vkey, OTHER_KEY), base(4), base(5)].map(encodeRecord);
    const lv = log.map(leafHash);
    const history = [
      { verifierKey: KEY.vkey, fromSeq: 0 },
      { verifierKey: OTHER_KEY.vkey, fromSeq: 3 },
    ];
    const cps = [checkpoint(KEY, lv, 3), checkpoint(OTHER_KEY, lv, 6)];
    expect(core.auditVerifyKeyHistory(history, log, cps)).toBeUndefined();
    // The same log under one key: record 3 is a log_resumed record no key starts at.
    expectCode(() => core.auditVerifyKeyHistory([history[0]!], log, [cps[0]!]), 'AUDIT_KEY_HISTORY_INVALID');
    // The second key moved, out of order, or not the one the record names.
    expectCode(() => core.auditVerifyKeyHistory([history[0]!, { ...history[1]!, fromSeq: 4 }], log, cps), 'AUDIT_KEY_HISTORY_INVALID');
    expectCode(() => core.auditVerifyKeyHistory([history[1]!, history[0]!], log, cps), 'AUDIT_KEY_HISTORY_INVALID');
    expectCode(() => core.auditVerifyKeyHistory([history[0]!, { verifierKey: noteKey(9).vkey, fromSeq: 3 }], log, cps), 'AUDIT_KEY_HISTORY_INVALID');
    // A checkpoint signed by a key that was not in charge at its size.
    expectCode(() => core.auditVerifyKeyHistory(history, log, [checkpoint(KEY, lv, 5)]), 'AUDIT_KEY_HISTORY_INVALID');
    // Arguments.
    expectCode(() => core.auditVerifyKeyHistory([{ verifierKey: 'not a key', fromSeq: 0 }], log, []), 'AUDIT_VERIFIER_KEY_INVALID');
    expectCode(() => core.auditVerifyKeyHistory([{ verifierKey: KEY.vkey, fromSeq: -1 }], log, []), 'INVALID_ARGUMENT');
    expectCode(() => core.auditVerifyKeyHistory(7 as never, log, []), 'INVALID_ARGUMENT');
  });

  it('verifies a log continued under the same origin with a new key (a key history)', () => {
    // The first enclave signed up to 100; a restarted one (OTHER_KEY, same origin) signed 300.
    const cps = [CP[100], checkpoint(OTHER_KEY, leaves, 300)];
    const report = { records: 300, root: ROOT_300, checkpoints: 2, covered: 300, uncovered: 0 };
    expect(core.auditVerifyLog(records, cps, [KEY.vkey, OTHER_KEY.vkey])).toEqual(report);
    expect(core.auditVerifyLog(records, cps, [OTHER_KEY.vkey, KEY.vkey])).toEqual(report);
    expect(core.auditVerifyLog(records, [CP[300]], [KEY.vkey])).toEqual({ ...report, checkpoints: 1 });
    for (const keys of [KEY.vkey, [KEY.vkey], [OTHER_KEY.vkey], []]) {
      expectCode(() => core.auditVerifyLog(records, cps, keys), 'AUDIT_CHECKPOINT_SIGNATURE_INVALID');
    }
    expectCode(() => core.auditVerifyLog(records, cps, [KEY.vkey, 'not a key']), 'AUDIT_VERIFIER_KEY_INVALID');
    expectCode(() => core.auditVerifyLog(records, cps, [KEY.vkey, 7] as never), 'INVALID_ARGUMENT');
    expectCode(() => core.auditVerifyLog(records, cps, 7 as never), 'INVALID_ARGUMENT');
  });

  it('names each way the log was tampered with', () => {
    const cps = [CP[300]];
    expectCode(() => core.auditVerifyLog(reencoded(120, { principal: 'mallory' }), cps, KEY.vkey), 'AUDIT_RECORD_MODIFIED');
    expectCode(() => core.auditVerifyLog([...records.slice(0, 50), ...records.slice(51)], cps, KEY.vkey), 'AUDIT_RECORD_DELETED');
    const swapped = [...records.slice(0, 10), rec(11), rec(10), ...records.slice(12)];
    expectCode(() => core.auditVerifyLog(swapped, cps, KEY.vkey), 'AUDIT_RECORD_REORDERED');
    expectCode(() => core.auditVerifyLog([...records.slice(0, 12), rec(11), ...records.slice(12)], cps, KEY.vkey), 'AUDIT_RECORD_INSERTED');
    expectCode(() => core.auditVerifyLog(records.slice(0, 299), cps, KEY.vkey), 'AUDIT_TRUNCATED');
    expectCode(() => core.auditVerifyLog(records, [checkpoint(OTHER_KEY, leaves, 300)], KEY.vkey), 'AUDIT_CHECKPOINT_SIGNATURE_INVALID');
    const forked = [...leaves];
    forked[5] = leafHash(utf8('fork'));
    expectCode(() => core.auditVerifyLog(records, [checkpoint(KEY, forked, 100), CP[300]], KEY.vkey), 'AUDIT_CHECKPOINT_INCONSISTENT');
    expectCode(() => core.auditVerifyLog(records, cps, 'not a key'), 'AUDIT_VERIFIER_KEY_INVALID');
    expectCode(() => core.auditVerifyLog('records' as never, cps, KEY.vkey), 'INVALID_ARGUMENT');
    expectCode(() => core.auditVerifyLog([rec(0), 'x'] as never, cps, KEY.vkey), 'INVALID_ARGUMENT');
  });

  it('opens checkpoints and verifies tlog-proofs', () => {
    const cp300 = { origin: ORIGIN, size: 300, root: ROOT_300 };
    expect(core.auditOpenCheckpoint(CP[300], KEY.vkey)).toEqual(cp300);
    expectCode(() => core.auditOpenCheckpoint(CP[300], OTHER_KEY.vkey), 'AUDIT_NOTE_UNVERIFIED');
    for (const i of [0, 7, 255, 256, 299]) expect(core.auditVerifyProof(proofText(i), rec(i), KEY.vkey)).toEqual(cp300);
    expectCode(() => core.auditVerifyProof(proofText(7), rec(8), KEY.vkey), 'AUDIT_ROOT_MISMATCH');
    expectCode(() => core.auditVerifyProof(proofText(7).replace('index 7', 'index 07'), rec(7), KEY.vkey), 'AUDIT_PROOF_MALFORMED');
  });

  it('makes RFC 6962 consistency proofs', () => {
    for (const [m, n] of [[1, 300], [100, 300], [256, 300], [300, 300], [3, 7]] as const) {
      expect(core.auditConsistencyProof(records, m, n)).toEqual(m === n ? [] : subproof(m, leaves.slice(0, n), true).map(hex0x));
    }
    expectCode(() => core.auditConsistencyProof(records, 0, 5), 'AUDIT_TREE_SIZE_INVALID');
    expectCode(() => core.auditConsistencyProof(records, 5, 301), 'AUDIT_TREE_SIZE_INVALID');
    expectCode(() => core.auditConsistencyProof(records, 1.5, 5), 'INVALID_ARGUMENT');
    expectCode(() => core.auditConsistencyProof(records, -1, 5), 'INVALID_ARGUMENT');
  });
});

describe.each(attestationImplementations)('audit record decoding [$name]', ({ api }) => {
  it('decodes the same record, refuses the same bytes', () => {
    expect(api.auditDecodeRecord(rec(3))).toEqual(at(views, 3));
    expectCode(() => api.auditDecodeRecord(rec(3).subarray(0, 20)), 'AUDIT_RECORD_MALFORMED');
    // A long head where a short one fits: a valid record, not in its canonical encoding.
    const long = concat(Uint8Array.of(0xb8, 9), rec(3).subarray(1));
    expectCode(() => api.auditDecodeRecord(long), 'AUDIT_RECORD_NOT_CANONICAL');
  });
});

describe('the browser verifier checks audit proofs as the full builds do', () => {
  it('verifyAuditProof', () => {
    for (const i of [0, 200, 299]) {
      expect(verifyWasm.verifyAuditProof(proofText(i), rec(i), KEY.vkey)).toEqual(native.core.auditVerifyProof(proofText(i), rec(i), KEY.vkey));
    }
    expectCode(() => verifyWasm.verifyAuditProof(proofText(1), rec(2), KEY.vkey), 'AUDIT_ROOT_MISMATCH');
    expectCode(() => verifyWasm.verifyAuditProof(proofText(1), rec(1), OTHER_KEY.vkey), 'AUDIT_NOTE_UNVERIFIED');
  });
});

describe('what the host serves (native)', () => {
  const n = nativeOnly;

  it('auditProve writes the tlog-proof, auditLeafHash the leaf hash', () => {
    for (const i of [0, 7, 256, 299]) expect(n.auditProve(records, i, CP[300], KEY.vkey)).toBe(proofText(i));
    // A proof under an older checkpoint, from the whole log.
    expect(n.auditVerifyProof(n.auditProve(records, 99, CP[100], KEY.vkey), rec(99), KEY.vkey).size).toBe(100);
    expectCode(() => n.auditProve(records, 100, CP[100], KEY.vkey), 'AUDIT_INDEX_OUT_OF_RANGE');
    expectCode(() => n.auditProve(reencoded(3, { principal: 'x' }), 0, CP[100], KEY.vkey), 'AUDIT_ROOT_MISMATCH');
    expectCode(() => n.auditProve(records.slice(0, 99), 0, CP[100], KEY.vkey), 'AUDIT_TREE_SIZE_INVALID');
    expect(n.auditLeafHash(rec(42))).toBe(hex0x(leaf(42)));
  });

  it('auditTile: level-0 and level-1 tiles, full, partial and narrower', () => {
    expect(hex0x(n.auditTile(records, 0, 0))).toBe(hex0x(concat(...leaves.slice(0, 256))));
    expect(hex0x(n.auditTile(records, 0, 1))).toBe(hex0x(concat(...leaves.slice(256))));
    expect(hex0x(n.auditTile(records, 0, 1, 4))).toBe(hex0x(concat(...leaves.slice(256, 260))));
    expect(hex0x(n.auditTile(records, 1, 0))).toBe(hex0x(mth(leaves.slice(0, 256))));
    expect(hex0x(n.auditTile({ leafHashes: leaves }, 1, 0))).toBe(hex0x(mth(leaves.slice(0, 256))));
    expectCode(() => n.auditTile(records, 0, 2), 'AUDIT_TILE_NOT_IN_TREE');
    expectCode(() => n.auditTile(records, 0, 1, 45), 'AUDIT_TILE_NOT_IN_TREE');
    expectCode(() => n.auditTile(records, 0, 0, 257), 'AUDIT_TILE_PATH_INVALID');
    expectCode(() => n.auditTile({ leafHashes: [leaf(0), leaf(1).subarray(1)] }, 0, 0), 'AUDIT_HASH_LENGTH');
    expectCode(() => n.auditTile({ leafHashes: 'x' } as never, 0, 0), 'INVALID_ARGUMENT');
  });

  it('auditEntryBundle: u16 big-endian length-prefixed records', () => {
    const bundle = n.auditEntryBundle(records, 1);
    const entries: string[] = [];
    for (let at = 0; at < bundle.length; ) {
      const len = bundle.readUInt16BE(at);
      entries.push(hex0x(bundle.subarray(at + 2, at + 2 + len)));
      at += 2 + len;
    }
    expect(entries).toEqual(records.slice(256).map(hex0x));
    expect(n.auditEntryBundle(records, 0).length).toBe(records.slice(0, 256).reduce((s, r) => s + 2 + r.length, 0));
    expectCode(() => n.auditEntryBundle(records, 1, 45), 'AUDIT_TILE_NOT_IN_TREE');
  });

  it('auditParseTilePath: strict tlog-tiles paths', () => {
    expect(n.auditParseTilePath('tile/1/x001/234.p/5')).toEqual({ level: 1, index: 1234, width: 5, entries: false });
    expect(n.auditParseTilePath('tile/entries/000')).toEqual({ level: 0, index: 0, width: 256, entries: true });
    for (const bad of ['tile/1/1234', 'tile/1/x000/234', 'tile/01/000', 'tile/0/000.p/256', 'tile/64/000', '/tile/0/000']) {
      expectCode(() => n.auditParseTilePath(bad), 'AUDIT_TILE_PATH_INVALID');
    }
  });
});
