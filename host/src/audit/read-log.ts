/**
 * Reads a stored audit log for verification, without trusting or changing it: every entry of
 * every segment in file order, framed only by its length, whatever its sequence number or CRC
 * say. The store (`store.ts`) refuses a damaged log outright; a verifier must instead hand what is
 * there to `verify_log` (the Rust core), which names what was done to it: a modified, deleted,
 * reordered or inserted record, or a truncation below a checkpoint. Nothing here writes, so
 * `zcp audit verify` can run on a copy, a mounted backup or a live data directory alike.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { SentinelError } from '../errors.ts';
import { CHECKPOINT_SUFFIX } from './checkpoint-files.ts';
import { HEADER_BYTES, isZero, parseNumberedName, SEGMENT_SUFFIX } from './segment.ts';
import type { LogInfo } from './writer.ts';

export interface StoredLog {
  dir: string;
  info: LogInfo;
  /** Record bytes, in file order. */
  records: Buffer[];
  /** Signed checkpoint notes, by ascending size. */
  checkpoints: Buffer[];
  /** Bytes after the last whole entry of the last segment (a torn write the store would cut). */
  tornTailBytes: number;
}

/** The logs under a data directory (`DATA_DIR/audit/logs/<id>`), by directory name. */
export function logDirs(dataDir: string): string[] {
  const root = join(dataDir, 'audit', 'logs');
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    throw new SentinelError('AUDIT_LOG_NOT_FOUND', `${root}: no audit logs here (is ${dataDir} a Sentinel data directory?)`);
  }
  return names.filter((n) => /^[0-9a-f]{16}$/.test(n)).sort().map((n) => join(root, n));
}

export function readStoredLog(dir: string): StoredLog {
  let info: LogInfo;
  try {
    info = JSON.parse(readFileSync(join(dir, 'log.json'), 'utf8')) as LogInfo;
  } catch (e) {
    throw new SentinelError('AUDIT_LOG_NOT_FOUND', `${join(dir, 'log.json')}: ${(e as Error).message}`);
  }
  const segmentsDir = join(dir, 'segments');
  const segments = readdirSync(segmentsDir)
    .map((name) => ({ name, first: parseNumberedName(name, SEGMENT_SUFFIX) }))
    .filter((s) => s.first !== null)
    .sort((a, b) => a.first! - b.first!);
  const records: Buffer[] = [];
  let tornTailBytes = 0;
  segments.forEach(({ name }, i) => {
    const file = join(segmentsDir, name);
    const bytes = readFileSync(file);
    let at = 0;
    const last = i === segments.length - 1;
    while (at < bytes.length) {
      // The active segment's preallocated zero tail (store.ts PREALLOCATE_BYTES): no entry is
      // empty, so a zero header is where the written entries end.
      if (last && isZero(bytes.subarray(at))) break;
      const whole = at + HEADER_BYTES <= bytes.length && at + HEADER_BYTES + bytes.readUInt32BE(at + 8) <= bytes.length;
      if (!whole) {
        if (i === segments.length - 1) {
          tornTailBytes = bytes.length - at;
          break;
        }
        throw new SentinelError('AUDIT_SEGMENT_CORRUPT', `${file}: the entry at byte ${at} runs past the end of a sealed segment`);
      }
      const len = bytes.readUInt32BE(at + 8);
      records.push(bytes.subarray(at + HEADER_BYTES, at + HEADER_BYTES + len));
      at += HEADER_BYTES + len;
    }
  });
  const checkpointsDir = join(dir, 'checkpoints');
  const checkpoints = readdirSync(checkpointsDir)
    .map((name) => ({ name, size: parseNumberedName(name, CHECKPOINT_SUFFIX) }))
    .filter((c) => c.size !== null)
    .sort((a, b) => a.size! - b.size!)
    .map((c) => readFileSync(join(checkpointsDir, c.name)));
  return { dir, info, records, checkpoints, tornTailBytes };
}
