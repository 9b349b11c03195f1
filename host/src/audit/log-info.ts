/**
 * What the host records about a log besides its records and checkpoints: `log.json` (the log's
 * origin, its current verifier key with the attestation document that commits to it, and the key
 * history) and `DATA_DIR/audit/current` (the id of the log in use, so the next `zcp up` knows
 * which log to continue). A restarted enclave has a new audit key but continues the same log
 * under the same origin (docs/audit.md, "Restart"), so a log is signed by a sequence of keys, each
 * from the record where its enclave took over (`from_seq`, the `log_resumed` record it made).
 * Readers check every key's attestation and every checkpoint against the key history.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import { writeFileAtomic } from './files.ts';
import { nodeIo, type AuditIo } from './io.ts';

/** One key that signed (part of) a log: from record `from_seq` on. */
export interface LogKey {
  verifier_key: string;
  /** The boot attestation document (base64) whose attested key bundle holds this key. */
  attestation: string;
  /** The first record this key's enclave made: 0, or the seq of its `log_resumed` record. */
  from_seq: number;
}

/** What `log.json` records about one log. */
export interface LogInfo {
  origin: string;
  /** The current key (the last of `keys`). */
  verifier_key: string;
  /** The boot attestation document (base64) whose attested key bundle holds the current key. */
  attestation: string;
  /** The key history, oldest first; absent in a log.json written before restarts continued logs. */
  keys?: LogKey[];
}

/** The file naming the log in use, in the data directory's `audit` folder. */
export const CURRENT_FILE = 'current';

/** The key history: `keys`, or (an older log.json) its one key from record 0. */
export function logKeys(info: LogInfo): LogKey[] {
  if (Array.isArray(info.keys) && info.keys.length > 0) return info.keys;
  return [{ verifier_key: info.verifier_key, attestation: info.attestation, from_seq: 0 }];
}

/**
 * The key of the history that signed `note` (newest first), or null when none of them did. The
 * latest checkpoint is usually the current key's, but after a restart that crashed before its first
 * checkpoint was stored it is an earlier key's.
 */
export function signingKey(info: LogInfo, note: Uint8Array): LogKey | null {
  for (const key of [...logKeys(info)].reverse()) {
    try {
      core.auditOpenCheckpoint(note, key.verifier_key);
      return key;
    } catch {
      // Not this key's signature: try the one before.
    }
  }
  return null;
}

/**
 * `info` with `key` added as its current key. Entries from `key.from_seq` on are dropped: an
 * enclave that took over there and died before any of its records was stored signed nothing the
 * log holds, and the new enclave's records start at the same sequence number.
 */
export function withKey(info: LogInfo, key: LogKey): LogInfo {
  const keys = logKeys(info).filter((k) => k.from_seq < key.from_seq);
  return { origin: info.origin, verifier_key: key.verifier_key, attestation: key.attestation, keys: [...keys, key] };
}

/** The log id `current` names, or null when there is none (a first run, or a data directory from before). */
export function readCurrentLog(auditDir: string): string | null {
  const file = join(auditDir, CURRENT_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SentinelError('AUDIT_LOG_NOT_FOUND', `${file}: ${(e as Error).message}`, { cause: e });
  }
  const id = text.trim();
  if (!/^[0-9a-f]{16}$/.test(id)) {
    throw new SentinelError('AUDIT_LOG_NOT_FOUND', `${file}: ${JSON.stringify(text.slice(0, 40))} is not a log id (16 hex digits)`);
  }
  return id;
}

/** Makes `id` the log in use (atomically and durably). */
export async function writeCurrentLog(auditDir: string, id: string, io: AuditIo = nodeIo): Promise<void> {
  await io.mkdirp(auditDir);
  await writeFileAtomic(io, join(auditDir, CURRENT_FILE), Buffer.from(`${id}\n`, 'utf8'));
}
