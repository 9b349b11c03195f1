/**
 * `zcp audit verify | prove | export`: the audit log for auditors (docs/audit.md).
 *
 * - `verify` checks a stored log (`--data-dir`, read without changing anything) or a served one
 *   (`--url`, through the C2SP tlog-tiles routes): that each checkpoint key of the log's key history
 *   (a restarted enclave continues the log under a new key) is the audit key of an attestation
 *   document (chain to the root, PCR0 if pinned, the same PCR0 for all), that each key after the
 *   first took over with a `log_resumed` record naming an earlier key, then every record, link, tree
 *   root, checkpoint signature and checkpoint consistency, through the Rust core's `verify_log`,
 *   which names what is wrong: a modified, deleted, reordered or inserted record, a truncation.
 * - `prove --seq N` writes a C2SP `tlog-proof` of one record against the latest checkpoint, after
 *   checking it.
 * - `export` writes records by time range as JSON lines or CSV, each with its leaf hash (and its
 *   tlog-proof with `--proofs`), after the same verification as `verify`.
 * - `sync-s3` copies each log's sealed segments and checkpoints to an S3 bucket with Object Lock in
 *   compliance mode (`host/src/audit/s3-sink.ts`, docs/audit-s3.md); credentials come from the AWS
 *   SDK's default chain (environment, instance role), never from the command line.
 */
import { writeFileSync } from 'node:fs';

import type { Command } from 'commander';
import { Agent, fetch as undiciFetch } from 'undici';

import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import { logDirs, readStoredLog, type StoredLog } from '../audit/read-log.ts';
import { createS3Sink } from '../audit/s3-sink.ts';
import { logKeys, signingKey, type LogInfo, type LogKey } from '../audit/log-info.ts';
import { DEV_ROOT_NOT_ALLOWED, devRootRefusal, errorCode, isDevelopmentRoot, timestampLabel } from './attestation-output.ts';
import { readRoot } from './files.ts';

export interface AuditSourceOptions {
  dataDir?: string;
  url?: string;
  ca?: string;
  root?: string;
  allowDevRoot?: boolean;
  pcr0?: string;
  json?: boolean;
}

/** What `verify` established about one key of a log's history. */
export interface VerifiedKey {
  verifierKey: string;
  fromSeq: number;
  rootKind: 'aws-nitro' | 'other';
  pcr0: string;
  attestedAtMs: number;
}

/** What `verify` established about one log. */
export interface VerifiedLog {
  origin: string;
  /** The current key (the last of `keys`). */
  verifierKey: string;
  source: string;
  /** 'other' when any key is attested under a root other than AWS's. */
  rootKind: 'aws-nitro' | 'other';
  /** PCR0 of every key's attestation document (they must agree). */
  pcr0: string;
  /** When the current key's document was made. */
  attestedAtMs: number;
  /** The key history, oldest first. */
  keys: VerifiedKey[];
  records: number;
  covered: number;
  uncovered: number;
  checkpoints: number;
  root: string;
  tornTailBytes: number;
}

/** The audit key bytes of a verifier key `<origin>+<id>+<base64(0x01 ‖ key)>` (the base64 may hold '+'). */
function verifierKeyBytes(verifierKey: string): Buffer {
  const raw = Buffer.from(verifierKey.split('+').slice(2).join('+'), 'base64');
  return raw.subarray(1);
}

/**
 * Step 1 for one key: it is the audit key an attestation document commits to. The document is
 * checked at its own timestamp (archived documents have long-expired certificates), against the
 * root given (default AWS), and PCR0 when pinned. Every key is named by the log's origin; the
 * origin itself is derived from the first key (a restarted enclave keeps it).
 */
function checkOneKey(origin: string, key: LogKey, root: Buffer | undefined, pcr0: string | undefined): VerifiedKey {
  const document = Buffer.from(key.attestation, 'base64');
  const report = core.checkAttestation(document, { ...(root ? { root } : {}), atMs: Date.now() });
  const attestedAtMs = report.document?.timestampMs;
  if (attestedAtMs === undefined) {
    const failed = report.checks.find((c) => c.status === 'fail');
    throw new SentinelError(failed?.code ?? 'ATTESTATION_MALFORMED', `log.json attestation of ${key.verifier_key}: ${failed?.detail ?? 'not a document'}`);
  }
  const verified = core.verifyAttestation(document, {
    ...(root ? { root } : {}),
    atMs: attestedAtMs,
    ...(pcr0 ? { expect: { pcrs: { '0': pcr0 } } } : {}),
  });
  const keys = core.attestedKeys(Buffer.from((verified.publicKey ?? '').replace(/^0x/, ''), 'hex'));
  const auditKey = Buffer.from(keys.auditKey.replace(/^0x/, ''), 'hex');
  if (!verifierKeyBytes(key.verifier_key).equals(auditKey)) {
    throw new SentinelError('AUDIT_KEY_NOT_ATTESTED', `${key.verifier_key}: not the audit key ${keys.auditKey} the attestation document commits to`);
  }
  if (!key.verifier_key.startsWith(`${origin}+`) || (key.from_seq === 0 && origin !== `sentinel/log/${auditKey.subarray(0, 8).toString('hex')}`)) {
    throw new SentinelError('AUDIT_KEY_NOT_ATTESTED', `origin ${origin} is not the one the attested audit key names`);
  }
  return { verifierKey: key.verifier_key, fromSeq: key.from_seq, rootKind: verified.rootKind, pcr0: verified.pcrs['0'] ?? '', attestedAtMs };
}

/**
 * Step 1: every key of the log's history is attested (`checkOneKey`), by documents of one image
 * (the same PCR0: a resume is only accepted by the same image, so another PCR0 means the history
 * was tampered with), and the history is ordered from record 0.
 */
export function checkKeyBinding(info: LogInfo, opts: AuditSourceOptions): VerifiedKey[] {
  const root = opts.root === undefined ? undefined : readRoot(opts.root);
  if (isDevelopmentRoot(root) && !opts.allowDevRoot) throw new SentinelError(DEV_ROOT_NOT_ALLOWED, devRootRefusal(opts.root!, root!));
  const pcr0 = opts.pcr0?.replace(/^0x/, '').toLowerCase();
  const history = logKeys(info);
  history.forEach((key, i) => {
    const ordered = i === 0 ? key.from_seq === 0 : Number.isSafeInteger(key.from_seq) && key.from_seq > history[i - 1]!.from_seq;
    if (!ordered) throw new SentinelError('AUDIT_KEY_HISTORY_INVALID', `log.json keys: ${key.verifier_key} from record ${key.from_seq} is out of order`);
  });
  if (history.at(-1)!.verifier_key !== info.verifier_key) {
    throw new SentinelError('AUDIT_KEY_HISTORY_INVALID', `log.json: verifier_key ${info.verifier_key} is not the last key of its history`);
  }
  const verified = history.map((key) => checkOneKey(info.origin, key, root, pcr0));
  const other = verified.find((k) => k.pcr0 !== verified[0]!.pcr0);
  if (other) {
    throw new SentinelError('AUDIT_KEY_HISTORY_INVALID', `${other.verifierKey} is attested by PCR0 ${other.pcr0}, the log's first key by ${verified[0]!.pcr0}: another image`);
  }
  return verified;
}

/**
 * Step 2: the records tie the keys together. The record at each later key's `from_seq` is the
 * `log_resumed` record its enclave made: it names an earlier key of the history (the one whose
 * checkpoint it resumed from) and carries the SHA-256 of its own audit key; no other record is a
 * `log_resumed` one (a key missing from log.json). Each stored checkpoint is signed by the key in
 * charge at its size. Keys whose first record is not stored (an enclave that died at once) are
 * only attested. The checks are the Rust core's (`verify_key_history`, crates/audit); then
 * `verify_log` with every key.
 */
export function checkKeyHistory(info: LogInfo, records: Uint8Array[], checkpoints: Uint8Array[]): void {
  const keys = logKeys(info).map((k) => ({ verifierKey: k.verifier_key, fromSeq: k.from_seq }));
  try {
    core.auditVerifyKeyHistory(keys, records, checkpoints);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new SentinelError(code === 'AUDIT_RECORD_MODIFIED' ? code : 'AUDIT_KEY_HISTORY_INVALID', (e as Error).message);
  }
}

/** Steps 1 and 2 for one log already read. */
export function verifyStoredLog(log: Pick<StoredLog, 'info' | 'records' | 'checkpoints' | 'tornTailBytes'>, source: string, opts: AuditSourceOptions): VerifiedLog {
  const keys = checkKeyBinding(log.info, opts);
  checkKeyHistory(log.info, log.records, log.checkpoints);
  const report = core.auditVerifyLog(log.records, log.checkpoints, keys.map((k) => k.verifierKey));
  const current = keys.at(-1)!;
  return {
    origin: log.info.origin,
    verifierKey: log.info.verifier_key,
    source,
    rootKind: keys.some((k) => k.rootKind === 'other') ? 'other' : 'aws-nitro',
    pcr0: current.pcr0,
    attestedAtMs: current.attestedAtMs,
    keys,
    records: report.records,
    covered: report.covered,
    uncovered: report.uncovered,
    checkpoints: report.checkpoints,
    root: report.root,
    tornTailBytes: log.tornTailBytes,
  };
}

/** The key of `log`'s history that signed `checkpoint` (AUDIT_CHECKPOINT_SIGNATURE_INVALID when none did). */
function checkpointKey(info: LogInfo, checkpoint: Uint8Array): string {
  const key = signingKey(info, checkpoint);
  if (key === null) throw new SentinelError('AUDIT_CHECKPOINT_SIGNATURE_INVALID', "the latest checkpoint is signed by none of the log's keys");
  return key.verifier_key;
}

/** A served log: its identity, the latest checkpoint and every record up to it, from the tlog-tiles routes. */
export async function fetchServedLog(url: string, ca: string | undefined): Promise<StoredLog> {
  const dispatcher = ca === undefined ? undefined : new Agent({ connect: { ca } });
  const get = async (path: string): Promise<Buffer> => {
    const res = await undiciFetch(`${url.replace(/\/$/, '')}/v1/audit/${path}`, { signal: AbortSignal.timeout(30_000), ...(dispatcher ? { dispatcher } : {}) });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) {
      const error = (JSON.parse(body.toString('utf8') || '{}') as { error?: { code?: string; message?: string } }).error;
      throw new SentinelError(error?.code ?? 'HTTP_ERROR', `GET /v1/audit/${path}: ${res.status} ${error?.message ?? ''}`);
    }
    return body;
  };
  try {
    const served = JSON.parse((await get('log')).toString('utf8')) as {
      origin: string;
      verifierKey: string;
      attestation: string;
      keys?: Array<{ verifierKey: string; attestation: string; fromSeq: number }>;
    };
    const base64 = (hex: string): string => Buffer.from(hex.replace(/^0x/, ''), 'hex').toString('base64');
    const info: LogInfo = {
      origin: served.origin,
      verifier_key: served.verifierKey,
      attestation: base64(served.attestation),
      ...(served.keys ? { keys: served.keys.map((k) => ({ verifier_key: k.verifierKey, attestation: base64(k.attestation), from_seq: k.fromSeq })) } : {}),
    };
    const checkpoint = await get('checkpoint');
    const size = core.auditOpenCheckpoint(checkpoint, checkpointKey(info, checkpoint)).size;
    const records: Buffer[] = [];
    for (let index = 0; index * 256 < size; index++) {
      const width = Math.min(256, size - index * 256);
      const bundle = await get(core.auditTilePath(index, width));
      for (let at = 0; at < bundle.length; ) {
        const len = bundle.readUInt16BE(at);
        records.push(bundle.subarray(at + 2, at + 2 + len));
        at += 2 + len;
      }
    }
    return { dir: url, info, records, checkpoints: [checkpoint], tornTailBytes: 0 };
  } finally {
    await dispatcher?.close();
  }
}

async function loadLogs(opts: AuditSourceOptions): Promise<StoredLog[]> {
  if ((opts.dataDir === undefined) === (opts.url === undefined)) {
    throw new SentinelError('INVALID_ARGUMENT', 'give exactly one of --data-dir and --url');
  }
  if (opts.url !== undefined) return [await fetchServedLog(opts.url, opts.ca === undefined ? undefined : readCa(opts.ca))];
  return logDirs(opts.dataDir!).map(readStoredLog);
}

function readCa(path: string): string {
  return readRoot(path).toString('utf8');
}

function fail(e: unknown, json: boolean | undefined, extra: Record<string, unknown> = {}): number {
  const code = errorCode(e);
  const message = (e as Error).message ?? String(e);
  if (json) console.log(JSON.stringify({ verified: false, ...extra, error: { code, message } }));
  console.error(`error ${code}: ${message}`);
  return code === 'INVALID_ARGUMENT' ? 2 : 1;
}

export async function runAuditVerify(opts: AuditSourceOptions): Promise<number> {
  let logs: StoredLog[];
  try {
    logs = await loadLogs(opts);
  } catch (e) {
    return fail(e, opts.json);
  }
  const results: VerifiedLog[] = [];
  for (const log of logs) {
    try {
      results.push(verifyStoredLog(log, log.dir, opts));
    } catch (e) {
      return fail(e, opts.json, { log: log.info.origin, source: log.dir, verifiedLogs: results });
    }
  }
  if (opts.json) {
    console.log(JSON.stringify({ verified: true, logs: results }));
    return 0;
  }
  for (const r of results) {
    const dev = r.rootKind === 'other' ? ' (key attested under a DEVELOPMENT root, not AWS hardware)' : '';
    console.log(`VERIFIED audit log ${r.origin}${dev}`);
    console.log(`  source        ${r.source}`);
    for (const k of r.keys) {
      const label = r.keys.length === 1 ? 'key' : `key from ${k.fromSeq}`;
      console.log(`  ${label.padEnd(14)}${k.verifierKey}, attested by PCR0 ${k.pcr0.slice(0, 16)}… at ${timestampLabel(k.attestedAtMs)}`);
    }
    if (r.keys.length > 1) console.log(`  restarts      ${r.keys.length - 1}, each continuing the log from a log_resumed record naming an earlier key`);
    console.log(`  records       ${r.records} (${r.covered} covered by a signed checkpoint, ${r.uncovered} after the last one)`);
    console.log(`  checkpoints   ${r.checkpoints}, consistent; root ${r.root}`);
    if (r.tornTailBytes > 0) console.log(`  torn tail     ${r.tornTailBytes} bytes after the last whole record (a write cut by a crash)`);
  }
  return 0;
}

export interface AuditProveOptions extends AuditSourceOptions {
  seq: string;
  out?: string;
}

export async function runAuditProve(opts: AuditProveOptions): Promise<number> {
  try {
    const seq = Number(opts.seq);
    if (!/^[0-9]{1,15}$/.test(opts.seq)) throw new SentinelError('INVALID_ARGUMENT', `--seq ${opts.seq}: expected a record sequence number`);
    const logs = await loadLogs(opts);
    if (logs.length !== 1) throw new SentinelError('INVALID_ARGUMENT', `${logs.length} logs in ${opts.dataDir}: prove reads one (pass the log directory's data dir)`);
    const log = logs[0]!;
    verifyStoredLog(log, log.dir, opts);
    const checkpoint = log.checkpoints[log.checkpoints.length - 1];
    if (!checkpoint) throw new SentinelError('AUDIT_TILE_NOT_FOUND', 'no signed checkpoint yet');
    const key = checkpointKey(log.info, checkpoint);
    const proof = core.auditProve(log.records, seq, checkpoint, key);
    // Checked as a client would check it before it is handed out.
    const proven = core.auditVerifyProof(proof, log.records[seq]!, key);
    if (opts.out) writeFileSync(opts.out, proof);
    else process.stdout.write(proof);
    console.error(`proof of record ${seq} in ${proven.origin} at tree size ${proven.size} (root ${proven.root})${opts.out ? `: ${opts.out}` : ''}`);
    return 0;
  } catch (e) {
    return fail(e, opts.json);
  }
}

export interface AuditExportOptions extends AuditSourceOptions {
  from?: string;
  to?: string;
  format?: string;
  proofs?: boolean;
  out?: string;
}

function parseTime(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (Number.isNaN(ms)) throw new SentinelError('INVALID_ARGUMENT', `${option} ${value}: expected RFC 3339 or unix seconds`);
  return ms * 1000;
}

const CSV_COLUMNS = ['seq', 'time', 'kind', 'principal', 'outcome', 'code', 'request_digest', 'result_digest', 'leaf_hash', 'rules', 'effects'] as const;

interface CsvRule {
  rule: string;
  type: string;
  result: string;
  value?: string | null;
  limit?: string | null;
  window?: string | null;
}
interface CsvEffect {
  op: string;
  target: string;
  subject?: string | null;
  value?: string | null;
}

/**
 * One cell for a record's rule results: `rule (type): result`, with `value/limit per window` when
 * the rule measured something, `; `-separated. JSON lines export keeps them as objects.
 */
function rulesCell(rules: CsvRule[]): string {
  return rules
    .map((r) => {
      const measured = r.value != null || r.limit != null ? ` ${r.value ?? '?'}/${r.limit ?? '?'}${r.window ? ` per ${r.window}` : ''}` : '';
      return `${r.rule} (${r.type}): ${r.result}${measured}`;
    })
    .join('; ');
}

/** One cell for a record's state effects: `op target`, then `[subject]` and `= value` when present, `; `-separated. */
function effectsCell(effects: CsvEffect[]): string {
  return effects.map((e) => `${e.op} ${e.target}${e.subject ? ` [${e.subject}]` : ''}${e.value != null ? ` = ${e.value}` : ''}`).join('; ');
}

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export async function runAuditExport(opts: AuditExportOptions): Promise<number> {
  try {
    const format = opts.format ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'csv') throw new SentinelError('INVALID_ARGUMENT', `--format ${format}: expected jsonl or csv`);
    if (opts.proofs && format === 'csv') throw new SentinelError('INVALID_ARGUMENT', '--proofs needs --format jsonl (a proof is several lines)');
    const fromUs = parseTime('--from', opts.from);
    const toUs = parseTime('--to', opts.to);
    const logs = await loadLogs(opts);
    const lines: string[] = format === 'csv' ? [['log', ...CSV_COLUMNS].join(',')] : [];
    let exported = 0;
    for (const log of logs) {
      const verified = verifyStoredLog(log, log.dir, opts);
      const checkpoint = log.checkpoints[log.checkpoints.length - 1];
      const key = checkpoint ? checkpointKey(log.info, checkpoint) : log.info.verifier_key;
      log.records.forEach((bytes, seq) => {
        const r = core.auditDecodeRecord(bytes);
        if ((fromUs !== undefined && r.time_us < fromUs) || (toUs !== undefined && r.time_us >= toUs)) return;
        const row = {
          log: verified.origin,
          seq: r.seq,
          time: new Date(r.time_us / 1000).toISOString(),
          time_us: r.time_us,
          kind: r.kind,
          principal: r.principal ?? null,
          outcome: r.decision?.outcome ?? null,
          code: r.decision?.code ?? null,
          rules: r.decision?.rules ?? [],
          effects: r.effects ?? [],
          request_digest: r.request_digest ?? null,
          result_digest: r.result_digest ?? null,
          prev_hash: r.prev_hash,
          leaf_hash: core.auditLeafHash(bytes),
          covered: seq < verified.covered,
        };
        if (format === 'csv') {
          const cells = { ...row, rules: rulesCell(row.rules as CsvRule[]), effects: effectsCell(row.effects as CsvEffect[]) };
          lines.push([row.log, ...CSV_COLUMNS.map((c) => cells[c])].map(csvCell).join(','));
        } else {
          const proof = opts.proofs && checkpoint && seq < verified.covered ? core.auditProve(log.records, seq, checkpoint, key) : undefined;
          lines.push(JSON.stringify({ ...row, record: `0x${Buffer.from(bytes).toString('hex')}`, ...(proof ? { proof } : {}) }));
        }
        exported++;
      });
    }
    const text = lines.length > 0 ? `${lines.join('\n')}\n` : '';
    if (opts.out) writeFileSync(opts.out, text);
    else process.stdout.write(text);
    console.error(`exported ${exported} records from ${logs.length} verified log(s)${opts.out ? ` to ${opts.out}` : ''}`);
    return 0;
  } catch (e) {
    return fail(e, opts.json);
  }
}

export interface AuditSyncS3Options {
  dataDir: string;
  bucket: string;
  prefix?: string;
  region?: string;
  endpoint?: string;
  retentionDays: string;
  json?: boolean;
}

/** Each log of the data directory to `s3://BUCKET/PREFIX<log id>/` (sealed segments and checkpoints only). */
export async function runAuditSyncS3(opts: AuditSyncS3Options): Promise<number> {
  try {
    const retentionDays = Number(opts.retentionDays);
    if (!/^[0-9]{1,5}$/.test(opts.retentionDays) || retentionDays < 1) {
      throw new SentinelError('INVALID_ARGUMENT', `--retention-days ${opts.retentionDays}: expected a whole number of days >= 1`);
    }
    const prefix = opts.prefix ?? '';
    if (prefix !== '' && !prefix.endsWith('/')) throw new SentinelError('INVALID_ARGUMENT', `--prefix ${prefix}: must end with '/'`);
    const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const results: Array<{ log: string; uploaded: string[]; skipped: string[] }> = [];
    for (const dir of logDirs(opts.dataDir)) {
      const id = dir.split('/').pop()!;
      const sink = createS3Sink({
        bucket: opts.bucket,
        prefix: `${prefix}${id}/`,
        region,
        retentionDays,
        ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      });
      const { uploaded, skipped } = await sink.syncDir(dir);
      results.push({ log: id, uploaded, skipped });
    }
    if (opts.json) console.log(JSON.stringify({ bucket: opts.bucket, logs: results }));
    else for (const r of results) console.log(`s3://${opts.bucket}/${prefix}${r.log}/: ${r.uploaded.length} uploaded, ${r.skipped.length} already there`);
    return 0;
  } catch (e) {
    return fail(e, opts.json);
  }
}

function sourceOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'a data directory: its stored logs (DATA_DIR/audit/logs/*), read without changing anything')
    .option('--url <url>', 'a Sentinel API: the log it serves (tlog-tiles, /v1/audit/)')
    .option('--ca <file>', "TLS certificate (PEM) to trust for --url: a local stack's <data-dir>/tls/cert.pem")
    .option('--root <file>', 'trusted root for the attestation document that binds the log key (default: AWS Nitro Root-G1)')
    .option('--allow-dev-root', 'accept a --root other than the AWS Nitro root (the simulated NSM of the local stack)')
    .option('--pcr0 <hex>', 'expected PCR0 of the enclave that made the log');
}

/** `zcp audit ...` (docs/cli.md, docs/audit.md). */
export function registerAudit(program: Command, setExit: (code: number) => void): void {
  const audit = program.command('audit').description('the audit log: verify it, prove a record, export it (docs/audit.md)');
  sourceOptions(audit.command('verify').description('verify a stored or served audit log against its signed checkpoints and attested key'))
    .option('--json', 'print the result as JSON')
    .action(async (opts: AuditSourceOptions) => setExit(await runAuditVerify(opts)));
  sourceOptions(audit.command('prove').description('write a C2SP tlog-proof of one record against the latest checkpoint'))
    .requiredOption('--seq <n>', 'the record sequence number (a receipt\'s auditSeq)')
    .option('--out <file>', 'write the proof here (default: stdout)')
    .action(async (opts: AuditProveOptions) => setExit(await runAuditProve(opts)));
  sourceOptions(audit.command('export').description('records by time range as JSON lines or CSV, after verifying the log'))
    .option('--from <time>', 'first record time, RFC 3339 or unix seconds (inclusive)')
    .option('--to <time>', 'last record time, RFC 3339 or unix seconds (exclusive)')
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('--proofs', 'jsonl: add each covered record\'s tlog-proof against the latest checkpoint')
    .option('--out <file>', 'write here (default: stdout)')
    .action(async (opts: AuditExportOptions) => setExit(await runAuditExport(opts)));
  audit
    .command('sync-s3')
    .description('copy sealed segments and checkpoints to S3 with Object Lock in compliance mode (docs/audit-s3.md)')
    .requiredOption('--data-dir <dir>', 'the data directory whose logs (DATA_DIR/audit/logs/*) are copied')
    .requiredOption('--bucket <name>', 'a bucket with Object Lock enabled and a default COMPLIANCE retention')
    .requiredOption('--retention-days <n>', 'days each object stays locked (at least the bucket default)')
    .option('--prefix <prefix>', "key prefix ending in '/'; each log goes under PREFIX<log id>/", '')
    .option('--region <region>', 'AWS region (default: AWS_REGION, else us-east-1)')
    .option('--endpoint <url>', 'an S3-compatible endpoint instead of AWS (path-style addressing)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: AuditSyncS3Options) => setExit(await runAuditSyncS3(opts)));
}
