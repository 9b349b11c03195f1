/**
 * The audit log's WORM sink: copies the sealed segments and the signed checkpoints of the local audit
 * store (DATA_DIR/audit/, see host/src/audit/store.ts) to an Amazon S3 bucket with Object Lock, each
 * object written once with `ObjectLockMode: COMPLIANCE` and a retain-until date of now + retentionDays,
 * so that nobody, the bucket owner and the AWS root account included, can delete or overwrite it
 * before that date (docs/audit-s3.md). The host is untrusted, so the sink adds no trust of its own: it
 * only makes tampering after upload impossible. It never overwrites: every put is a conditional
 * create (`If-None-Match: *`), an existing key with the same bytes counts as already uploaded and one
 * with other bytes is refused (AUDIT_SINK_OBJECT_EXISTS). The active segment is never uploaded (only
 * a segment with its `.sealed` marker is final), and a segment whose bytes do not match its marker is
 * refused before anything is sent. Each put carries the SHA-256 of the body (`x-amz-checksum-sha256`,
 * taken from the seal for segments), which S3 requires with Object Lock parameters and checks against
 * what it receives. Errors are `AuditSinkError`s with stable AUDIT_SINK_* codes naming the bucket and
 * key; the AWS SDK's own error objects are not kept as `cause`, so a logged error carries no request
 * signature or credential material.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

import {
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';

import { SentinelError } from '../errors.ts';

export type AuditSinkErrorCode =
  | 'AUDIT_SINK_CONFIG_INVALID'
  | 'AUDIT_SINK_NOT_WORM'
  | 'AUDIT_SINK_OBJECT_EXISTS'
  | 'AUDIT_SINK_OBJECT_NOT_LOCKED'
  | 'AUDIT_SINK_MARKER_INVALID'
  | 'AUDIT_SINK_SEGMENT_MISMATCH'
  | 'AUDIT_SINK_CHECKPOINT_INVALID'
  | 'AUDIT_SINK_LOCAL_READ'
  | 'AUDIT_SINK_REQUEST_FAILED';

/** What S3 said, copied field by field (never the SDK error object, which holds the raw response). */
export interface AuditSinkErrorDetails {
  bucket?: string;
  key?: string;
  operation?: string;
  s3Code?: string;
  httpStatus?: number;
  requestId?: string;
}

export class AuditSinkError extends SentinelError {
  readonly details: AuditSinkErrorDetails;

  constructor(code: AuditSinkErrorCode, message: string, details: AuditSinkErrorDetails = {}) {
    super(code, message);
    this.name = 'AuditSinkError';
    this.details = details;
  }
}

/**
 * The `<name>.sealed` marker of a sealed segment, as store.ts writes it (segment.ts `SealedMarker`,
 * the same shape, so the store's marker can be passed as it is).
 */
export interface SealedMarker {
  first_seq: number;
  last_seq: number;
  bytes: number;
  sha256: string;
}

export interface S3SinkOptions {
  bucket: string;
  /** Key prefix, '' or ending in '/', e.g. 'sentinel/prod-1/'. */
  prefix: string;
  region: string;
  /** An S3-compatible endpoint (tests: moto); path-style addressing is then used. */
  endpoint?: string;
  /** Static credentials; without them the SDK's default chain (the instance role) is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Whole days each object stays locked from its upload; at least the bucket's default retention. */
  retentionDays: number;
  /** A ready client (tests capture its requests); `region`, `endpoint`, `credentials` are then unused. */
  client?: S3Client;
  /** The clock the retain-until date is computed from. */
  now?: () => Date;
}

export interface UploadResult {
  key: string;
  status: 'uploaded' | 'skipped';
}

export interface SyncResult {
  /** Keys written by this run. */
  uploaded: string[];
  /** Keys already in the bucket with the same bytes (and a COMPLIANCE lock): nothing sent. */
  skipped: string[];
}

export interface BucketLock {
  mode: 'COMPLIANCE';
  /** The bucket's default retention in days (years counted as 365 days). */
  defaultRetentionDays: number;
}

export interface S3Sink {
  readonly bucket: string;
  readonly prefix: string;
  uploadSegment(path: string, marker: SealedMarker): Promise<UploadResult>;
  uploadCheckpoint(size: bigint | number, note: Buffer | string): Promise<UploadResult>;
  syncDir(auditDir: string): Promise<SyncResult>;
  verifyBucket(): Promise<BucketLock>;
}

const DAY_MS = 86_400_000;
const SEGMENT_NAME = /^(\d{20})\.seg$/;
const CHECKPOINT_NAME = /^(\d{20})\.cp$/;
const U64_MAX = (1n << 64n) - 1n;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

const pad20 = (n: bigint): string => n.toString().padStart(20, '0');

/** Whatever the SDK threw, reduced to what names the failure (no headers, no body, no signature). */
function s3Failure(e: unknown): { name: string; status?: number; requestId?: string; message: string } {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
  return {
    name: err?.name ?? 'Error',
    status: err?.$metadata?.httpStatusCode,
    requestId: err?.$metadata?.requestId,
    message: String(err?.message ?? e),
  };
}

function requestFailed(operation: string, bucket: string, key: string | undefined, e: unknown): AuditSinkError {
  const f = s3Failure(e);
  const where = key === undefined ? `s3://${bucket}` : `s3://${bucket}/${key}`;
  return new AuditSinkError(
    'AUDIT_SINK_REQUEST_FAILED',
    `${operation} ${where} failed: ${f.name}${f.status === undefined ? '' : ` (HTTP ${f.status})`}: ${f.message}`,
    { bucket, key, operation, s3Code: f.name, httpStatus: f.status, requestId: f.requestId },
  );
}

function readLocal(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new AuditSinkError('AUDIT_SINK_LOCAL_READ', `cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Parses a `.sealed` marker; each field is checked, since its hash is what S3 is told to verify. */
export function parseSealedMarker(text: string | Buffer, source = 'marker'): SealedMarker {
  let v: unknown;
  try {
    v = JSON.parse(text.toString());
  } catch (e) {
    throw new AuditSinkError('AUDIT_SINK_MARKER_INVALID', `${source}: not JSON: ${(e as Error).message}`);
  }
  return checkMarkerFields(v, source);
}

function checkMarkerFields(v: unknown, source: string): SealedMarker {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new AuditSinkError('AUDIT_SINK_MARKER_INVALID', `${source}: the marker is not a JSON object`);
  }
  const o = v as Record<string, unknown>;
  const bad = (field: string, why: string): AuditSinkError =>
    new AuditSinkError('AUDIT_SINK_MARKER_INVALID', `${source}: field ${field} ${why}`);
  if (!isCount(o.first_seq)) throw bad('first_seq', 'is not a non-negative integer');
  // A segment is sealed only once it is full, so it holds at least one record.
  if (!isCount(o.last_seq) || o.last_seq < o.first_seq) throw bad('last_seq', 'is not an integer >= first_seq');
  if (!isCount(o.bytes)) throw bad('bytes', 'is not a non-negative integer');
  if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256)) throw bad('sha256', 'is not 64 lowercase hex digits');
  return { first_seq: o.first_seq, last_seq: o.last_seq, bytes: o.bytes, sha256: o.sha256 };
}

function checkOptions(o: S3SinkOptions): void {
  const bad = (field: string, why: string): AuditSinkError => new AuditSinkError('AUDIT_SINK_CONFIG_INVALID', `S3 sink option ${field} ${why}`);
  // S3's bucket naming rules (general purpose buckets): 3-63 of [a-z0-9.-], starting and ending alphanumeric.
  if (typeof o.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(o.bucket)) throw bad('bucket', `is not a valid bucket name: ${JSON.stringify(o.bucket)}`);
  if (typeof o.prefix !== 'string' || (o.prefix !== '' && (!o.prefix.endsWith('/') || o.prefix.startsWith('/') || o.prefix.includes('//')))) {
    throw bad('prefix', `must be '' or end in '/' (no leading '/', no '//'): ${JSON.stringify(o.prefix)}`);
  }
  if (!Number.isSafeInteger(o.retentionDays) || o.retentionDays < 1) throw bad('retentionDays', `must be a whole number of days >= 1: ${String(o.retentionDays)}`);
  if (o.client === undefined && (typeof o.region !== 'string' || o.region === '')) throw bad('region', 'is empty');
}

export function createS3Sink(options: S3SinkOptions): S3Sink {
  checkOptions(options);
  const { bucket, prefix, retentionDays } = options;
  const now = options.now ?? (() => new Date());
  const client =
    options.client ??
    new S3Client({
      region: options.region,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint, forcePathStyle: true }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    });

  const retainUntil = (): Date => new Date(now().getTime() + retentionDays * DAY_MS);

  async function head(key: string): Promise<HeadObjectCommandOutput | null> {
    try {
      return await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
    } catch (e) {
      // 404 only when the role may list the bucket (s3:ListBucket); without it S3 answers 403.
      if (s3Failure(e).status === 404) return null;
      throw requestFailed('HeadObject', bucket, key, e);
    }
  }

  async function storedSha256(key: string, h: HeadObjectCommandOutput): Promise<string> {
    if (h.ChecksumSHA256 !== undefined && !h.ChecksumSHA256.includes('-')) return h.ChecksumSHA256;
    // No full-object SHA-256 stored (uploaded by something else): hash the stored bytes ourselves. The
    // current version (no VersionId: that would need s3:GetObjectVersion too), which HEAD just described.
    try {
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = await got.Body!.transformToByteArray();
      return createHash('sha256').update(bytes).digest('base64');
    } catch (e) {
      throw requestFailed('GetObject', bucket, key, e);
    }
  }

  /** An object already at `key`: the same bytes under a COMPLIANCE lock is a completed upload. */
  async function compareExisting(key: string, h: HeadObjectCommandOutput, body: Buffer, sha256: string): Promise<UploadResult> {
    const sameSize = h.ContentLength === body.length;
    if (!sameSize || (await storedSha256(key, h)) !== sha256) {
      throw new AuditSinkError(
        'AUDIT_SINK_OBJECT_EXISTS',
        `s3://${bucket}/${key} already exists with other bytes (${String(h.ContentLength)} bytes stored, ${body.length} local); it is never overwritten`,
        { bucket, key },
      );
    }
    if (h.ObjectLockMode !== 'COMPLIANCE') {
      throw new AuditSinkError(
        'AUDIT_SINK_OBJECT_NOT_LOCKED',
        `s3://${bucket}/${key} holds the same bytes but its lock mode is ${h.ObjectLockMode ?? 'none'}, not COMPLIANCE (or the role lacks s3:GetObjectRetention)`,
        { bucket, key },
      );
    }
    return { key, status: 'skipped' };
  }

  /**
   * Writes `body` at `key` unless it is there. `known`: what a listing said (true = present), so a
   * resync does not send bodies only to be refused; a put refused with 412 (someone wrote the key
   * between the check and the put) is resolved by the same comparison. `sha256`: of `body`, base64.
   */
  async function putOnce(key: string, body: Buffer, sha256: string, meta: Record<string, string>, contentType: string, known?: boolean): Promise<UploadResult> {
    if (known !== false) {
      const h = await head(key);
      if (h !== null) return compareExisting(key, h, body, sha256);
    }
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: contentType,
          Metadata: meta,
          IfNoneMatch: '*',
          ObjectLockMode: 'COMPLIANCE',
          ObjectLockRetainUntilDate: retainUntil(),
          ChecksumAlgorithm: 'SHA256',
          ChecksumSHA256: sha256,
        }),
      );
      return { key, status: 'uploaded' };
    } catch (e) {
      if (s3Failure(e).status !== 412) throw requestFailed('PutObject', bucket, key, e);
    }
    const h = await head(key);
    if (h === null) {
      throw new AuditSinkError('AUDIT_SINK_REQUEST_FAILED', `PutObject s3://${bucket}/${key} was refused as existing (412) but HeadObject finds nothing`, {
        bucket,
        key,
        operation: 'PutObject',
        httpStatus: 412,
      });
    }
    return compareExisting(key, h, body, sha256);
  }

  async function uploadSegmentBytes(name: string, path: string, marker: SealedMarker, known?: boolean): Promise<UploadResult> {
    const key = `${prefix}segments/${name}`;
    const m = checkMarkerFields(marker, `${path}.sealed`);
    // The name is the first sequence number: a marker copied from another segment must not pass.
    if (BigInt(SEGMENT_NAME.exec(name)![1]!) !== BigInt(m.first_seq)) {
      throw new AuditSinkError('AUDIT_SINK_SEGMENT_MISMATCH', `${path}: its seal says first_seq ${m.first_seq}: not uploaded to s3://${bucket}/${key}`, { bucket, key });
    }
    const body = readLocal(path);
    const hex = createHash('sha256').update(body).digest('hex');
    if (body.length !== m.bytes || hex !== m.sha256) {
      throw new AuditSinkError(
        'AUDIT_SINK_SEGMENT_MISMATCH',
        `${path} does not match its seal (${body.length} bytes vs ${m.bytes}, sha256 ${hex} vs ${m.sha256}): not uploaded to s3://${bucket}/${key}`,
        { bucket, key },
      );
    }
    const meta = { 'sentinel-sha256': m.sha256, 'sentinel-first-seq': String(m.first_seq), 'sentinel-last-seq': String(m.last_seq) };
    return putOnce(key, body, Buffer.from(hex, 'hex').toString('base64'), meta, 'application/octet-stream', known);
  }

  function checkpointKey(size: bigint | number): { key: string; size: bigint } {
    const n = typeof size === 'bigint' ? size : Number.isSafeInteger(size) ? BigInt(size) : -1n;
    if (n < 0n || n > U64_MAX) throw new AuditSinkError('AUDIT_SINK_CHECKPOINT_INVALID', `checkpoint size ${String(size)} is not a u64`);
    return { key: `${prefix}checkpoints/${pad20(n)}.cp`, size: n };
  }

  async function uploadCheckpointBytes(size: bigint | number, note: Buffer | string, known?: boolean): Promise<UploadResult> {
    const { key, size: n } = checkpointKey(size);
    const body = typeof note === 'string' ? Buffer.from(note, 'utf8') : note;
    // C2SP tlog-checkpoint: line 1 origin, line 2 the tree size in decimal. A note filed under another
    // size would be a mislabelled object forever, so the two must agree.
    const line2 = body.toString('utf8').split('\n')[1];
    if (line2 !== n.toString()) {
      throw new AuditSinkError(
        'AUDIT_SINK_CHECKPOINT_INVALID',
        `checkpoint for size ${n} has tree size line ${JSON.stringify(line2 ?? null)}: not uploaded to s3://${bucket}/${key}`,
        { bucket, key },
      );
    }
    const sha256 = createHash('sha256').update(body).digest('base64');
    return putOnce(key, body, sha256, { 'sentinel-tree-size': n.toString() }, 'text/plain; charset=utf-8', known);
  }

  async function listKeys(): Promise<Set<string>> {
    const keys = new Set<string>();
    let token: string | undefined;
    do {
      let page;
      try {
        page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      } catch (e) {
        throw requestFailed('ListObjectsV2', bucket, prefix === '' ? undefined : prefix, e);
      }
      for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.add(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys;
  }

  function listDir(dir: string): string[] {
    try {
      return readdirSync(dir).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new AuditSinkError('AUDIT_SINK_LOCAL_READ', `cannot list ${dir}: ${(e as Error).message}`);
    }
  }

  async function verifyBucket(): Promise<BucketLock> {
    let cfg;
    try {
      cfg = (await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration;
    } catch (e) {
      if (s3Failure(e).name === 'ObjectLockConfigurationNotFoundError') {
        throw new AuditSinkError('AUDIT_SINK_NOT_WORM', `bucket ${bucket} has no Object Lock configuration (Object Lock is set when the bucket is created)`, { bucket });
      }
      throw requestFailed('GetObjectLockConfiguration', bucket, undefined, e);
    }
    if (cfg?.ObjectLockEnabled !== 'Enabled') {
      throw new AuditSinkError('AUDIT_SINK_NOT_WORM', `bucket ${bucket}: ObjectLockEnabled is ${cfg?.ObjectLockEnabled ?? 'absent'}, not Enabled`, { bucket });
    }
    const rule = cfg.Rule?.DefaultRetention;
    if (rule?.Mode !== 'COMPLIANCE') {
      throw new AuditSinkError('AUDIT_SINK_NOT_WORM', `bucket ${bucket}: default retention mode is ${rule?.Mode ?? 'absent'}, not COMPLIANCE`, { bucket });
    }
    const days = (rule.Days ?? 0) + (rule.Years ?? 0) * 365;
    if (days < 1) throw new AuditSinkError('AUDIT_SINK_NOT_WORM', `bucket ${bucket}: default COMPLIANCE retention has no period`, { bucket });
    // An explicit retain-until date replaces the bucket default for that object: a shorter one would
    // weaken what the bucket's owner configured.
    if (retentionDays < days) {
      throw new AuditSinkError(
        'AUDIT_SINK_NOT_WORM',
        `bucket ${bucket}: retentionDays ${retentionDays} is shorter than the bucket's default COMPLIANCE retention of ${days} days`,
        { bucket },
      );
    }
    return { mode: 'COMPLIANCE', defaultRetentionDays: days };
  }

  return {
    bucket,
    prefix,
    async uploadSegment(path: string, marker: SealedMarker): Promise<UploadResult> {
      const name = basename(path);
      if (!SEGMENT_NAME.test(name)) throw new AuditSinkError('AUDIT_SINK_MARKER_INVALID', `${path}: a segment's name is 20 digits + .seg`);
      return uploadSegmentBytes(name, path, marker);
    },
    async uploadCheckpoint(size: bigint | number, note: Buffer | string): Promise<UploadResult> {
      return uploadCheckpointBytes(size, note);
    },
    verifyBucket,
    async syncDir(auditDir: string): Promise<SyncResult> {
      try {
        if (!statSync(auditDir).isDirectory()) throw new Error('not a directory');
      } catch (e) {
        throw new AuditSinkError('AUDIT_SINK_LOCAL_READ', `audit directory ${auditDir}: ${(e as Error).message}`);
      }
      await verifyBucket();
      const existing = await listKeys();
      const result: SyncResult = { uploaded: [], skipped: [] };
      const record = (r: UploadResult): void => void (r.status === 'uploaded' ? result.uploaded : result.skipped).push(r.key);

      // Segments first, oldest first; one without its marker is the active segment (or one being
      // sealed right now): its bytes may still change, so it waits for the next run.
      const segDir = join(auditDir, 'segments');
      const segNames = listDir(segDir);
      const names = new Set(segNames);
      for (const name of segNames) {
        if (!SEGMENT_NAME.test(name) || !names.has(`${name}.sealed`)) continue;
        const markerPath = join(segDir, `${name}.sealed`);
        const marker = parseSealedMarker(readLocal(markerPath), markerPath);
        record(await uploadSegmentBytes(name, join(segDir, name), marker, existing.has(`${prefix}segments/${name}`)));
      }
      const cpDir = join(auditDir, 'checkpoints');
      for (const name of listDir(cpDir)) {
        const m = CHECKPOINT_NAME.exec(name);
        if (m === null) continue; // temporary files of the atomic write, anything foreign
        const size = BigInt(m[1]!);
        record(await uploadCheckpointBytes(size, readLocal(join(cpDir, name)), existing.has(checkpointKey(size).key)));
      }
      return result;
    },
  };
}
