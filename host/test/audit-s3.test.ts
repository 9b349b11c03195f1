/**
 * The audit WORM sink (host/src/audit/s3-sink.ts, docs/audit-s3.md), in two parts:
 *
 * - without a server: the exact HTTP requests the sink sends (captured by a request handler given to
 *   the SDK client, after signing): method, path, `x-amz-object-lock-mode`,
 *   `x-amz-object-lock-retain-until-date`, `If-None-Match`, the SHA-256 checksum headers; and its
 *   decisions on scripted answers (existing object with the same or other bytes, a 412 race, bucket
 *   lock configurations, S3 errors without credential material);
 * - against moto's S3 server (PyPI moto[server], started here on a free loopback port): uploads with
 *   COMPLIANCE locks, the active segment left alone, resync skipping, overwrites refused, a versioned
 *   delete of a locked object refused by the server, buckets that are not WORM refused. Where moto
 *   lacks an S3 behaviour (GetObjectRetention, checksum verification, …) the test checks what moto
 *   has and docs/audit-s3.md says what is not covered.
 *
 * The moto part is skipped only when moto_server is missing and SENTINEL_REQUIRE_MOTO is unset; with
 * it set (CI), a missing moto_server fails. `bash scripts/install-moto.sh` installs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { AuditSinkError, createS3Sink, parseSealedMarker, type SealedMarker } from '../src/audit/s3-sink.ts';
import { AuditStore } from '../src/audit/store.ts';
import { main } from '../src/cli/main.ts';
import { capture } from './helpers.ts';

vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });

const MOTO_VENV = process.env.SENTINEL_MOTO_VENV ?? join(homedir(), '.cache/sentinel/moto-venv');
const MOTO_SERVER = join(MOTO_VENV, 'bin/moto_server');
const HAVE_MOTO = existsSync(MOTO_SERVER);
const REQUIRE_MOTO = (process.env.SENTINEL_REQUIRE_MOTO ?? '') !== '';

const ACCESS_KEY = 'AKIASENTINELTEST0001';
const SECRET_KEY = 'sentinel-secret-must-never-appear-anywhere';
const NOW = new Date('2026-12-07T10:00:00.000Z');
const DAY = 86_400_000;
const sha256hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sha256b64 = (b: Buffer): string => createHash('sha256').update(b).digest('base64');
const seg = (n: number): string => `${String(n).padStart(20, '0')}.seg`;
const cp = (n: number): string => `${String(n).padStart(20, '0')}.cp`;
const note = (size: number, tag = 'root'): string => `sentinel/log/0123456789abcdef\n${size}\n${Buffer.from(`${tag}-${size}`).toString('base64')}\n\n— sentinel/log/0123456789abcdef sig${size}\n`;

/** A local audit dir as store.ts lays it out; segment bytes are arbitrary (the sink never parses them). */
function writeAuditDir(dir: string, sealed: number[], active: number | null, checkpoints: number[]): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  mkdirSync(join(dir, 'segments'), { recursive: true });
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  for (const n of sealed) {
    const bytes = Buffer.from(`segment ${n} `.repeat(50 + n));
    writeFileSync(join(dir, 'segments', seg(n)), bytes);
    writeFileSync(join(dir, 'segments', `${seg(n)}.sealed`), JSON.stringify({ first_seq: n, last_seq: n + 3, bytes: bytes.length, sha256: sha256hex(bytes) }));
    files.set(`segments/${seg(n)}`, bytes);
  }
  if (active !== null) writeFileSync(join(dir, 'segments', seg(active)), Buffer.from(`active segment ${active}`));
  for (const n of checkpoints) {
    const bytes = Buffer.from(note(n));
    writeFileSync(join(dir, 'checkpoints', cp(n)), bytes);
    files.set(`checkpoints/${cp(n)}`, bytes);
  }
  writeFileSync(join(dir, 'checkpoints', `${cp(99)}.tmp`), 'half-written'); // an atomic write's temporary
  writeFileSync(join(dir, 'log.json'), '{}');
  return files;
}

/** The AuditSinkError a call must fail with (a resolved call fails the test). */
async function sinkFailure(p: Promise<unknown>): Promise<AuditSinkError> {
  const outcome = await p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  if (outcome.ok) throw new Error(`expected an AuditSinkError, got ${JSON.stringify(outcome.v)}`);
  expect(outcome.e).toBeInstanceOf(AuditSinkError);
  return outcome.e as AuditSinkError;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sentinel-audit-s3-'));
}

// --- the requests the sink sends (no server) ---------------------------------------------------

interface Captured {
  method: string;
  hostname: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string>;
  body: Buffer | null;
}
interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}
type Responder = (req: Captured) => Answer;

const xmlError = (status: number, code: string, message: string): Answer => ({
  status,
  headers: { 'content-type': 'application/xml' },
  body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>REQ1</RequestId></Error>`,
});
const lockConfig = (mode: string | null, days = 30): Answer => ({
  status: 200,
  headers: { 'content-type': 'application/xml' },
  body:
    '<?xml version="1.0" encoding="UTF-8"?><ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled>' +
    (mode === null ? '' : `<Rule><DefaultRetention><Mode>${mode}</Mode><Days>${days}</Days></DefaultRetention></Rule>`) +
    '</ObjectLockConfiguration>',
});
const emptyListing: Answer = {
  status: 200,
  headers: { 'content-type': 'application/xml' },
  body: '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>audit-worm</Name><Prefix>prod/</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>',
};
const listing = (keys: [string, number][]): Answer => ({
  status: 200,
  headers: { 'content-type': 'application/xml' },
  body:
    '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>audit-worm</Name><Prefix>prod/</Prefix>' +
    keys.map(([k, size]) => `<Contents><Key>${k}</Key><Size>${size}</Size></Contents>`).join('') +
    `<KeyCount>${keys.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`,
});
const stored = (bytes: Buffer, mode = 'COMPLIANCE'): Answer => ({
  status: 200,
  headers: {
    'content-length': String(bytes.length),
    'x-amz-checksum-sha256': sha256b64(bytes),
    'x-amz-object-lock-mode': mode,
    'x-amz-object-lock-retain-until-date': '2027-01-01T00:00:00.000Z',
    'x-amz-version-id': 'v1',
  },
});

/** An S3 client whose request handler records each signed request and answers from `respond`. */
function capturingClient(respond: Responder): { client: S3Client; sent: Captured[] } {
  const sent: Captured[] = [];
  const requestHandler = {
    async handle(request: { method: string; hostname: string; path: string; query?: Record<string, unknown>; headers: Record<string, string>; body?: unknown }) {
      const body = request.body === undefined || request.body === null ? null : Buffer.from(request.body as Uint8Array);
      const c: Captured = { method: request.method, hostname: request.hostname, path: request.path, query: { ...(request.query ?? {}) }, headers: { ...request.headers }, body };
      sent.push(c);
      const a = respond(c);
      const payload = Buffer.from(a.body ?? '');
      return { response: { statusCode: a.status, headers: { 'x-amz-request-id': 'REQ1', ...(a.headers ?? {}) }, body: Readable.from(payload.length ? [payload] : []) } };
    },
  };
  const client = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, requestHandler, maxAttempts: 1 });
  return { client, sent };
}

const header = (r: Captured, name: string): string | undefined => {
  const k = Object.keys(r.headers).find((h) => h.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : r.headers[k];
};

describe('the S3 sink: the requests it sends (captured, no server)', () => {
  const opts = { bucket: 'audit-worm', prefix: 'prod/', region: 'eu-west-1', retentionDays: 400, now: () => NOW };

  it('a new sealed segment: HeadObject (404), then one conditional PutObject with the COMPLIANCE lock and the seal as SHA-256', async () => {
    const dir = tempDir();
    const files = writeAuditDir(dir, [1], null, []);
    const bytes = files.get(`segments/${seg(1)}`)!;
    const { client, sent } = capturingClient((r) => (r.method === 'HEAD' ? { status: 404 } : { status: 200, headers: { 'x-amz-version-id': 'v1' } }));
    const sink = createS3Sink({ ...opts, client });
    const marker: SealedMarker = { first_seq: 1, last_seq: 4, bytes: bytes.length, sha256: sha256hex(bytes) };
    expect(await sink.uploadSegment(join(dir, 'segments', seg(1)), marker)).toEqual({ key: `prod/segments/${seg(1)}`, status: 'uploaded' });

    expect(sent.map((r) => `${r.method} ${r.hostname}${r.path}`)).toEqual([
      `HEAD audit-worm.s3.eu-west-1.amazonaws.com/prod/segments/${seg(1)}`,
      `PUT audit-worm.s3.eu-west-1.amazonaws.com/prod/segments/${seg(1)}`,
    ]);
    expect(header(sent[0]!, 'x-amz-checksum-mode')).toBe('ENABLED');
    const put = sent[1]!;
    expect(header(put, 'x-amz-object-lock-mode')).toBe('COMPLIANCE');
    // NOW + 400 days, in the SDK's ISO 8601 form (milliseconds left out when zero).
    expect(header(put, 'x-amz-object-lock-retain-until-date')).toBe('2028-01-11T10:00:00Z');
    expect(Date.parse(header(put, 'x-amz-object-lock-retain-until-date')!)).toBe(NOW.getTime() + 400 * DAY);
    expect(header(put, 'if-none-match')).toBe('*');
    // S3 refuses Object Lock puts without Content-MD5 or an x-amz-checksum-* header.
    expect(header(put, 'x-amz-checksum-sha256')).toBe(Buffer.from(marker.sha256, 'hex').toString('base64'));
    expect(header(put, 'x-amz-sdk-checksum-algorithm')).toBe('SHA256');
    expect(header(put, 'x-amz-checksum-crc32')).toBeUndefined();
    expect(header(put, 'x-amz-meta-sentinel-first-seq')).toBe('1');
    expect(header(put, 'x-amz-meta-sentinel-last-seq')).toBe('4');
    expect(header(put, 'x-amz-meta-sentinel-sha256')).toBe(marker.sha256);
    expect(header(put, 'content-length')).toBe(String(bytes.length));
    expect(put.body?.equals(bytes)).toBe(true);
    // Signed with the given key id; the secret itself is in no header.
    expect(header(put, 'authorization')).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/\\d{8}/eu-west-1/s3/aws4_request`));
    for (const r of sent) expect(JSON.stringify(r.headers)).not.toContain(SECRET_KEY);
    rmSync(dir, { recursive: true, force: true });
  });

  it('syncDir: checks the bucket lock, lists the prefix, puts sealed segments and checkpoints (no HEAD for unlisted keys), never the active segment', async () => {
    const dir = tempDir();
    writeAuditDir(dir, [0, 7], 12, [3, 10]);
    const { client, sent } = capturingClient((r) => {
      if ('object-lock' in r.query) return lockConfig('COMPLIANCE', 365);
      if (r.query['list-type'] === '2') return emptyListing;
      if (r.method === 'PUT') return { status: 200 };
      throw new Error(`unexpected ${r.method} ${r.path}`);
    });
    const result = await createS3Sink({ ...opts, client }).syncDir(dir);
    expect(result).toEqual({
      uploaded: [`prod/segments/${seg(0)}`, `prod/segments/${seg(7)}`, `prod/checkpoints/${cp(3)}`, `prod/checkpoints/${cp(10)}`],
      skipped: [],
    });
    expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /',
      'GET /',
      `PUT /prod/segments/${seg(0)}`,
      `PUT /prod/segments/${seg(7)}`,
      `PUT /prod/checkpoints/${cp(3)}`,
      `PUT /prod/checkpoints/${cp(10)}`,
    ]);
    expect(sent[1]!.query.prefix).toBe('prod/');
    for (const put of sent.slice(2)) {
      expect(header(put, 'if-none-match')).toBe('*');
      expect(header(put, 'x-amz-object-lock-mode')).toBe('COMPLIANCE');
      expect(header(put, 'x-amz-checksum-sha256')).toBe(sha256b64(put.body!));
    }
    expect(header(sent[4]!, 'content-type')).toBe('text/plain; charset=utf-8');
    expect(header(sent[4]!, 'x-amz-meta-sentinel-tree-size')).toBe('3');
    expect(sent.some((r) => r.path.includes(seg(12)))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('an object already there with the same bytes and a COMPLIANCE lock is skipped (HEAD, no PUT)', async () => {
    const bytes = Buffer.from(note(5));
    const { client, sent } = capturingClient((r) => (r.method === 'HEAD' ? stored(bytes) : { status: 500 }));
    expect(await createS3Sink({ ...opts, client }).uploadCheckpoint(5, bytes)).toEqual({ key: `prod/checkpoints/${cp(5)}`, status: 'skipped' });
    expect(sent.map((r) => r.method)).toEqual(['HEAD']);
  });

  it('an object already there with other bytes: AUDIT_SINK_OBJECT_EXISTS, nothing written', async () => {
    const other = Buffer.from(note(5, 'forged'));
    const { client, sent } = capturingClient((r) => (r.method === 'HEAD' ? stored(other) : { status: 500 }));
    const err = await sinkFailure(createS3Sink({ ...opts, client }).uploadCheckpoint(5n, note(5)));
    expect(err.code).toBe('AUDIT_SINK_OBJECT_EXISTS');
    expect(err.message).toContain(`s3://audit-worm/prod/checkpoints/${cp(5)}`);
    expect(sent.map((r) => r.method)).toEqual(['HEAD']);
  });

  it('the same bytes without a COMPLIANCE lock: AUDIT_SINK_OBJECT_NOT_LOCKED', async () => {
    const bytes = Buffer.from(note(5));
    const { client } = capturingClient((r) => (r.method === 'HEAD' ? stored(bytes, 'GOVERNANCE') : { status: 500 }));
    await expect(createS3Sink({ ...opts, client }).uploadCheckpoint(5, bytes)).rejects.toMatchObject({ code: 'AUDIT_SINK_OBJECT_NOT_LOCKED' });
  });

  it('a put refused with 412 (written by someone else since the check) is settled by comparing what is there', async () => {
    const bytes = Buffer.from(note(8));
    let heads = 0;
    const race = (there: Buffer): Responder => (r) => {
      if (r.method === 'HEAD') return heads++ === 0 ? { status: 404 } : stored(there);
      return xmlError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    };
    const same = capturingClient(race(bytes));
    expect(await createS3Sink({ ...opts, client: same.client }).uploadCheckpoint(8, bytes)).toEqual({ key: `prod/checkpoints/${cp(8)}`, status: 'skipped' });
    expect(same.sent.map((r) => r.method)).toEqual(['HEAD', 'PUT', 'HEAD']);
    heads = 0;
    const other = capturingClient(race(Buffer.from(note(8, 'other'))));
    await expect(createS3Sink({ ...opts, client: other.client }).uploadCheckpoint(8, bytes)).rejects.toMatchObject({ code: 'AUDIT_SINK_OBJECT_EXISTS' });
  });

  it('the same-size object without a stored SHA-256 is fetched and hashed before it counts as uploaded', async () => {
    const bytes = Buffer.from(note(6));
    const { client, sent } = capturingClient((r): Answer => {
      if (r.method === 'HEAD') return { status: 200, headers: { 'content-length': String(bytes.length), 'x-amz-object-lock-mode': 'COMPLIANCE', 'x-amz-version-id': 'v9' } };
      if (r.method === 'GET') return { status: 200, headers: { 'content-length': String(bytes.length) }, body: bytes.toString() };
      return { status: 500 };
    });
    expect(await createS3Sink({ ...opts, client }).uploadCheckpoint(6, bytes)).toMatchObject({ status: 'skipped' });
    expect(sent.map((r) => r.method)).toEqual(['HEAD', 'GET']);
    expect(sent[1]!.path).toBe(`/prod/checkpoints/${cp(6)}`);
  });

  it('a segment that does not match its seal (bytes, hash, or another segment\'s marker) is refused before any request (AUDIT_SINK_SEGMENT_MISMATCH)', async () => {
    const dir = tempDir();
    const files = writeAuditDir(dir, [1], null, []);
    const bytes = files.get(`segments/${seg(1)}`)!;
    const path = join(dir, 'segments', seg(1));
    const marker: SealedMarker = { first_seq: 1, last_seq: 4, bytes: bytes.length, sha256: sha256hex(bytes) };
    const { client, sent } = capturingClient(() => ({ status: 500 }));
    const sink = createS3Sink({ ...opts, client });
    await expect(sink.uploadSegment(path, { ...marker, first_seq: 0 })).rejects.toMatchObject({ code: 'AUDIT_SINK_SEGMENT_MISMATCH', message: expect.stringContaining('first_seq 0') });
    await expect(sink.uploadSegment(path, { ...marker, sha256: sha256hex(Buffer.from('other')) })).rejects.toMatchObject({ code: 'AUDIT_SINK_SEGMENT_MISMATCH' });
    writeFileSync(path, Buffer.concat([bytes, Buffer.from('x')]));
    await expect(sink.uploadSegment(path, marker)).rejects.toMatchObject({ code: 'AUDIT_SINK_SEGMENT_MISMATCH', message: expect.stringContaining(`vs ${bytes.length}`) });
    await expect(sink.uploadSegment(path, { ...marker, bytes: -1 })).rejects.toMatchObject({ code: 'AUDIT_SINK_MARKER_INVALID' });
    expect(sent).toEqual([]);
    // syncDir reads the marker from disk: the same refusal, and no PUT.
    const sync = capturingClient((r) => ('object-lock' in r.query ? lockConfig('COMPLIANCE', 1) : r.query['list-type'] === '2' ? emptyListing : { status: 500 }));
    await expect(createS3Sink({ ...opts, client: sync.client }).syncDir(dir)).rejects.toMatchObject({ code: 'AUDIT_SINK_SEGMENT_MISMATCH' });
    expect(sync.sent.map((r) => r.method)).toEqual(['GET', 'GET']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a checkpoint filed under another tree size is refused (AUDIT_SINK_CHECKPOINT_INVALID)', async () => {
    const { client, sent } = capturingClient(() => ({ status: 500 }));
    await expect(createS3Sink({ ...opts, client }).uploadCheckpoint(9, note(8))).rejects.toMatchObject({ code: 'AUDIT_SINK_CHECKPOINT_INVALID' });
    await expect(createS3Sink({ ...opts, client }).uploadCheckpoint(-1, note(8))).rejects.toMatchObject({ code: 'AUDIT_SINK_CHECKPOINT_INVALID' });
    expect(sent).toEqual([]);
  });

  it('verifyBucket: COMPLIANCE default retention passes; none, GOVERNANCE, no default rule or a longer default than retentionDays is AUDIT_SINK_NOT_WORM', async () => {
    const answer = (a: Answer) => createS3Sink({ ...opts, client: capturingClient(() => a).client });
    expect(await answer(lockConfig('COMPLIANCE', 365)).verifyBucket()).toEqual({ mode: 'COMPLIANCE', defaultRetentionDays: 365 });
    const refusals: [Answer, string][] = [
      [xmlError(404, 'ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket'), 'no Object Lock configuration'],
      [lockConfig('GOVERNANCE', 30), 'GOVERNANCE, not COMPLIANCE'],
      [lockConfig(null), 'absent, not COMPLIANCE'],
      [lockConfig('COMPLIANCE', 3650), 'shorter than the bucket'],
    ];
    for (const [a, text] of refusals) {
      const err = await sinkFailure(answer(a).verifyBucket());
      expect(err.code, text).toBe('AUDIT_SINK_NOT_WORM');
      expect(err.message).toContain('audit-worm');
      expect(err.message).toContain(text);
    }
  });

  it('an S3 error becomes AUDIT_SINK_REQUEST_FAILED naming the operation, bucket and key, with no credential material', async () => {
    const { client } = capturingClient((r) => (r.method === 'HEAD' ? { status: 404 } : xmlError(403, 'AccessDenied', 'Access Denied')));
    const err = await sinkFailure(createS3Sink({ ...opts, client }).uploadCheckpoint(2, note(2)));
    expect(err.code).toBe('AUDIT_SINK_REQUEST_FAILED');
    expect(err.message).toBe(`PutObject s3://audit-worm/prod/checkpoints/${cp(2)} failed: AccessDenied (HTTP 403): Access Denied`);
    expect(err.details).toMatchObject({ bucket: 'audit-worm', key: `prod/checkpoints/${cp(2)}`, s3Code: 'AccessDenied', httpStatus: 403 });
    expect(err.cause).toBeUndefined();
    const everything = `${err.message}\n${err.stack}\n${JSON.stringify(err)}\n${JSON.stringify(err.details)}`;
    expect(everything).not.toContain(SECRET_KEY);
    expect(everything).not.toContain(ACCESS_KEY);
  });

  it('options are checked (AUDIT_SINK_CONFIG_INVALID naming the field)', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ bucket: 'A_B' }, 'bucket'],
      [{ prefix: 'prod' }, 'prefix'],
      [{ prefix: '/prod/' }, 'prefix'],
      [{ retentionDays: 0 }, 'retentionDays'],
      [{ retentionDays: 1.5 }, 'retentionDays'],
      [{ region: '' }, 'region'],
    ];
    for (const [override, field] of bad) {
      expect(() => createS3Sink({ ...opts, ...override } as never), field).toThrow(expect.objectContaining({ code: 'AUDIT_SINK_CONFIG_INVALID', message: expect.stringContaining(`option ${field}`) }));
    }
  });

  it('parseSealedMarker checks each field (AUDIT_SINK_MARKER_INVALID naming it)', () => {
    const ok = { first_seq: 64, last_seq: 127, bytes: 4096, sha256: 'ab'.repeat(32) };
    expect(parseSealedMarker(JSON.stringify(ok))).toEqual(ok);
    const cases: [unknown, string][] = [
      [{ ...ok, first_seq: -1 }, 'first_seq'],
      [{ ...ok, last_seq: 63 }, 'last_seq'],
      [{ ...ok, last_seq: '127' }, 'last_seq'],
      [{ ...ok, bytes: 1.5 }, 'bytes'],
      [{ ...ok, sha256: 'AB'.repeat(32) }, 'sha256'],
      [{ ...ok, sha256: undefined }, 'sha256'],
    ];
    for (const [v, field] of cases) expect(() => parseSealedMarker(JSON.stringify(v)), field).toThrow(expect.objectContaining({ code: 'AUDIT_SINK_MARKER_INVALID', message: expect.stringContaining(`field ${field}`) }));
    expect(() => parseSealedMarker('{')).toThrow(expect.objectContaining({ code: 'AUDIT_SINK_MARKER_INVALID' }));
    expect(() => parseSealedMarker('[]')).toThrow(expect.objectContaining({ code: 'AUDIT_SINK_MARKER_INVALID' }));
  });
});

// --- against moto's S3 server -----------------------------------------------------------------

if (!HAVE_MOTO && REQUIRE_MOTO) {
  describe('the S3 sink against moto', () => {
    it('needs moto_server', () => {
      throw new Error(`${MOTO_SERVER} is missing and SENTINEL_REQUIRE_MOTO is set: run bash scripts/install-moto.sh`);
    });
  });
}
if (!HAVE_MOTO && !REQUIRE_MOTO) it.skip(`moto_server missing at ${MOTO_SERVER} (run: bash scripts/install-moto.sh)`, () => {});
const motoSuite = HAVE_MOTO ? describe : describe.skip;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

motoSuite('the S3 sink against moto (S3 Object Lock, COMPLIANCE mode)', () => {
  let moto: ChildProcess;
  let motoLog = '';
  let endpoint: string;
  let s3: S3Client;
  let dir: string;
  let files: Map<string, Buffer>;
  const startedAt = new Date();
  const BUCKET = 'sentinel-audit-worm';
  const PREFIX = 'prod/';
  const sinkFor = (bucket: string, retentionDays = 3) =>
    createS3Sink({ bucket, prefix: PREFIX, region: 'us-east-1', endpoint, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, retentionDays, now: () => startedAt });

  beforeAll(async () => {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    moto = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    moto.stdout!.on('data', (d: Buffer) => (motoLog += d.toString()));
    moto.stderr!.on('data', (d: Buffer) => (motoLog += d.toString()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (moto.exitCode !== null) throw new Error(`moto_server exited (${moto.exitCode}):\n${motoLog}`);
      try {
        if ((await fetch(`${endpoint}/`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`moto_server did not answer on ${endpoint} within 30 s:\n${motoLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }));
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: BUCKET,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } },
      }),
    );
    dir = tempDir();
    files = writeAuditDir(dir, [0, 5], 9, [3, 6]);
  });

  afterAll(async () => {
    if (moto !== undefined && moto.exitCode === null) {
      const exited = new Promise((r) => moto.once('exit', r));
      moto.kill('SIGTERM');
      await exited;
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const listKeys = async (bucket: string): Promise<string[]> =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!).sort();

  it('verifyBucket accepts the bucket: Object Lock enabled, default retention COMPLIANCE', async () => {
    expect(await sinkFor(BUCKET).verifyBucket()).toEqual({ mode: 'COMPLIANCE', defaultRetentionDays: 1 });
  });

  it('syncDir uploads the sealed segments and the checkpoints under a COMPLIANCE lock until now + retentionDays; the active segment stays local', async () => {
    const result = await sinkFor(BUCKET).syncDir(dir);
    const expected = [`prod/segments/${seg(0)}`, `prod/segments/${seg(5)}`, `prod/checkpoints/${cp(3)}`, `prod/checkpoints/${cp(6)}`];
    expect(result).toEqual({ uploaded: expected, skipped: [] });
    expect(await listKeys(BUCKET)).toEqual([...expected].sort());
    const until = new Date(startedAt.getTime() + 3 * DAY);
    for (const key of expected) {
      const h = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }));
      expect(h.ObjectLockMode, key).toBe('COMPLIANCE');
      expect(h.ObjectLockRetainUntilDate?.toISOString(), key).toBe(until.toISOString());
      const local = files.get(key.slice(PREFIX.length))!;
      expect(h.ChecksumSHA256, key).toBe(sha256b64(local));
      const body = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
      expect(body.equals(local), key).toBe(true);
    }
    await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `prod/segments/${seg(9)}` }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('GetObjectRetention is not implemented by moto 5.2.6 (it answers the object body), so the lock is read with HeadObject above', async () => {
    // When moto implements it this test fails: then assert GetObjectRetention's Mode and RetainUntilDate instead.
    const key = `prod/checkpoints/${cp(3)}`;
    const err = (await s3.send(new GetObjectRetentionCommand({ Bucket: BUCKET, Key: key })).catch((e: unknown) => e)) as {
      message: string;
      $response?: { statusCode: number };
      $responseBodyText?: string;
    };
    expect(err.message).toMatch(/XML parse error/);
    expect(err.$response?.statusCode).toBe(200);
    expect(err.$responseBodyText).toBe(files.get(`checkpoints/${cp(3)}`)!.toString());
  });

  it('a second sync skips what is there; a segment sealed since and a new checkpoint are uploaded', async () => {
    expect(await sinkFor(BUCKET).syncDir(dir)).toEqual({
      uploaded: [],
      skipped: [`prod/segments/${seg(0)}`, `prod/segments/${seg(5)}`, `prod/checkpoints/${cp(3)}`, `prod/checkpoints/${cp(6)}`],
    });
    // The store seals segment 9 (marker written) and opens 14; a new checkpoint at size 12.
    const s9 = Buffer.from(`active segment 9, now sealed`);
    writeFileSync(join(dir, 'segments', seg(9)), s9);
    writeFileSync(join(dir, 'segments', `${seg(9)}.sealed`), JSON.stringify({ first_seq: 9, last_seq: 13, bytes: s9.length, sha256: sha256hex(s9) }));
    writeFileSync(join(dir, 'segments', seg(14)), 'active segment 14');
    writeFileSync(join(dir, 'checkpoints', cp(12)), note(12));
    const r = await sinkFor(BUCKET).syncDir(dir);
    expect(r.uploaded).toEqual([`prod/segments/${seg(9)}`, `prod/checkpoints/${cp(12)}`]);
    expect(r.skipped).toHaveLength(4);
    expect(await listKeys(BUCKET)).not.toContain(`prod/segments/${seg(14)}`);
  });

  it('other bytes under an uploaded name are refused (AUDIT_SINK_OBJECT_EXISTS) and the stored object is unchanged', async () => {
    const key = `prod/checkpoints/${cp(6)}`;
    const original = files.get(`checkpoints/${cp(6)}`)!;
    await expect(sinkFor(BUCKET).uploadCheckpoint(6, note(6, 'forged'))).rejects.toMatchObject({ code: 'AUDIT_SINK_OBJECT_EXISTS' });
    writeFileSync(join(dir, 'checkpoints', cp(6)), note(6, 'rewritten locally'));
    await expect(sinkFor(BUCKET).syncDir(dir)).rejects.toMatchObject({ code: 'AUDIT_SINK_OBJECT_EXISTS', message: expect.stringContaining(`s3://${BUCKET}/${key}`) });
    writeFileSync(join(dir, 'checkpoints', cp(6)), original);
    // The server's own guard, without the sink's HeadObject: a conditional create of an existing key is 412.
    await expect(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from('forged'), IfNoneMatch: '*', ChecksumAlgorithm: 'SHA256' })),
    ).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    const body = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
    expect(body.equals(original)).toBe(true);
  });

  it('deleting the locked version (DeleteObject with VersionId) is refused by the server with AccessDenied, governance bypass or not; the object stays', async () => {
    const key = `prod/segments/${seg(0)}`;
    const h = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(h.VersionId).toBeTruthy();
    for (const bypass of [false, true]) {
      await expect(
        s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key, VersionId: h.VersionId, BypassGovernanceRetention: bypass || undefined })),
      ).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    }
    const again = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, VersionId: h.VersionId }));
    expect(Buffer.from(await again.Body!.transformToByteArray()).equals(files.get(`segments/${seg(0)}`)!)).toBe(true);
  });

  it('buckets that are not WORM are refused by verifyBucket (AUDIT_SINK_NOT_WORM), and syncDir writes nothing to them', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sentinel-audit-plain' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'sentinel-audit-governance', ObjectLockEnabledForBucket: true }));
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: 'sentinel-audit-governance',
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } },
      }),
    );
    await s3.send(new CreateBucketCommand({ Bucket: 'sentinel-audit-norule', ObjectLockEnabledForBucket: true }));
    for (const [bucket, text] of [
      ['sentinel-audit-plain', 'no Object Lock configuration'],
      ['sentinel-audit-governance', 'GOVERNANCE, not COMPLIANCE'],
      ['sentinel-audit-norule', 'absent, not COMPLIANCE'],
    ] as const) {
      await expect(sinkFor(bucket).verifyBucket(), bucket).rejects.toMatchObject({ code: 'AUDIT_SINK_NOT_WORM', message: expect.stringContaining(text) });
      await expect(sinkFor(bucket).syncDir(dir), bucket).rejects.toMatchObject({ code: 'AUDIT_SINK_NOT_WORM' });
      expect(await listKeys(bucket), bucket).toEqual([]);
    }
  });

  it('a directory written by the real AuditStore: its sealed segments and checkpoints are uploaded, its active segment is not', async () => {
    const storeDir = tempDir();
    try {
      // 4 KiB segments (the store's minimum) and ~1 KiB records: a few sealed segments and an active one.
      const store = await AuditStore.open({ dir: storeDir, segmentBytes: 4096 });
      for (let seq = 0; seq < 13; seq++) await store.append(seq, Buffer.alloc(1000, seq));
      await store.saveCheckpoint(8, Buffer.from(note(8)));
      await store.saveCheckpoint(13, Buffer.from(note(13)));
      await store.close();
      const segNames = readdirSync(join(storeDir, 'segments')).filter((n) => n.endsWith('.seg')).sort();
      const sealed = segNames.filter((n) => existsSync(join(storeDir, 'segments', `${n}.sealed`)));
      expect(sealed.length).toBeGreaterThanOrEqual(2);
      expect(sealed.length).toBe(segNames.length - 1);
      const sink = createS3Sink({ bucket: BUCKET, prefix: 'store/', region: 'us-east-1', endpoint, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, retentionDays: 3, now: () => startedAt });
      const r = await sink.syncDir(storeDir);
      expect(r).toEqual({ uploaded: [...sealed.map((n) => `store/segments/${n}`), `store/checkpoints/${cp(8)}`, `store/checkpoints/${cp(13)}`], skipped: [] });
      for (const n of sealed) {
        const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `store/segments/${n}` }));
        expect(Buffer.from(await got.Body!.transformToByteArray()).equals(readFileSync(join(storeDir, 'segments', n))), n).toBe(true);
        expect(got.ObjectLockMode).toBe('COMPLIANCE');
      }
      expect((await listKeys(BUCKET)).filter((k) => k.startsWith('store/segments/'))).not.toContain(`store/segments/${segNames.at(-1)}`);
    } finally {
      rmSync(storeDir, { recursive: true, force: true });
    }
  });

  it('zcp audit sync-s3 copies every log of a data directory, credentials from the environment', async () => {
    const dataDir = tempDir();
    const logDir = join(dataDir, 'audit', 'logs', '00112233445566aa');
    const env = { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
    try {
      const store = await AuditStore.open({ dir: logDir, segmentBytes: 4096 });
      for (let seq = 0; seq < 9; seq++) await store.append(seq, Buffer.alloc(1000, seq));
      await store.saveCheckpoint(9, Buffer.from(note(9)));
      await store.close();
      process.env.AWS_ACCESS_KEY_ID = ACCESS_KEY;
      process.env.AWS_SECRET_ACCESS_KEY = SECRET_KEY;
      const args = ['audit', 'sync-s3', '--data-dir', dataDir, '--bucket', BUCKET, '--prefix', 'cli/', '--endpoint', endpoint, '--retention-days', '2', '--json'];
      const { out } = capture();
      expect(await main(['node', 'zcp', ...args])).toBe(0);
      const first = JSON.parse(out.join('\n')) as { logs: Array<{ log: string; uploaded: string[]; skipped: string[] }> };
      expect(first.logs).toHaveLength(1);
      expect(first.logs[0]!.uploaded).toContain(`cli/00112233445566aa/checkpoints/${cp(9)}`);
      expect(first.logs[0]!.uploaded.some((k) => k.startsWith('cli/00112233445566aa/segments/'))).toBe(true);
      // Again: everything is already there.
      const again = capture();
      expect(await main(['node', 'zcp', ...args])).toBe(0);
      const second = JSON.parse(again.out.join('\n')) as { logs: Array<{ uploaded: string[]; skipped: string[] }> };
      expect(second.logs[0]!.uploaded).toEqual([]);
      expect(second.logs[0]!.skipped.sort()).toEqual(first.logs[0]!.uploaded.sort());
      // The secret never appears in what the command printed.
      expect([...out, ...again.out].join('\n')).not.toContain(SECRET_KEY);
    } finally {
      vi.restoreAllMocks();
      process.env.AWS_ACCESS_KEY_ID = env.AWS_ACCESS_KEY_ID;
      process.env.AWS_SECRET_ACCESS_KEY = env.AWS_SECRET_ACCESS_KEY;
      if (env.AWS_ACCESS_KEY_ID === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (env.AWS_SECRET_ACCESS_KEY === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('an S3 error names the bucket and carries no credential', async () => {
    const err = await sinkFailure(sinkFor('sentinel-audit-missing').verifyBucket());
    expect(err.code).toBe('AUDIT_SINK_REQUEST_FAILED');
    expect(err.message).toContain('s3://sentinel-audit-missing');
    expect(err.details.s3Code).toBe('NoSuchBucket');
    expect(`${err.message}${err.stack}${JSON.stringify(err)}`).not.toContain(SECRET_KEY);
  });
});
