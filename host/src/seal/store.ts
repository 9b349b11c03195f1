/**
 * The host's sealed store: the enclave's sealed records (docs/sealed-state.md), one file each, under
 * `DATA_DIR/sealed/`: `configuration.seal` and `keys/<key id>.seal`. The host cannot read them (they
 * are AES-256-GCM under the enclave's master key); it only keeps them and hands them back at boot.
 * Every write is an atomic replace (temporary, fsync, rename, directory fsync), so a crash leaves the
 * old file or the new one, never a torn one, and the API releases a new key's id only after its
 * record is durable. The file name comes from the record's clear header as the enclave reported it;
 * the enclave checks the header again when it opens the record, so a renamed file gains nothing.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { fsyncDir, writeFileAtomic, TMP_SUFFIX } from '../audit/files.ts';
import { nodeIo, type AuditIo } from '../audit/io.ts';
import { SentinelError } from '../errors.ts';

/** One sealed record as the enclave hands it out (`Receipted.sealed`, `sealed_state`). */
export interface SealedRecord {
  kind: string;
  name: string;
  version: number | bigint;
  record: Uint8Array;
}

const SUFFIX = '.seal';
/** Key ids are the enclave's `k-` + 24 hex digits; anything else is refused before it names a file. */
const KEY_NAME = /^k-[0-9a-f]{24}$/;

export class SealedStore {
  readonly dir: string;
  private readonly io: AuditIo;

  constructor(dir: string, io: AuditIo = nodeIo) {
    this.dir = dir;
    this.io = io;
    mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 });
    // A crash mid-replace leaves a temporary behind; the file it was replacing is intact.
    for (const sub of [dir, join(dir, 'keys')]) {
      for (const name of readdirSync(sub)) if (name.endsWith(TMP_SUFFIX)) rmSync(join(sub, name), { force: true });
    }
  }

  /** Where a record lives, or a refusal for a kind or name this store does not keep. */
  pathOf(record: Pick<SealedRecord, 'kind' | 'name'>): string {
    if (record.kind === 'configuration' && record.name === 'current') return join(this.dir, `configuration${SUFFIX}`);
    if (record.kind === 'key' && KEY_NAME.test(record.name)) return join(this.dir, 'keys', `${record.name}${SUFFIX}`);
    throw new SentinelError('SEALED_STORE_INVALID', `sealed record ${JSON.stringify(record.kind)} ${JSON.stringify(record.name)}: not a kind and name this store keeps`);
  }

  /** Stores `record` durably (atomic replace). Fails with SEALED_STORAGE_UNAVAILABLE. */
  async write(record: SealedRecord): Promise<void> {
    const file = this.pathOf(record);
    try {
      await writeFileAtomic(this.io, file, record.record);
    } catch (e) {
      throw new SentinelError('SEALED_STORAGE_UNAVAILABLE', `sealed record ${record.kind} ${record.name}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Removes a deleted key's record (durably: the directory is synced). A missing file is not an error. */
  async remove(keyId: string): Promise<void> {
    const file = this.pathOf({ kind: 'key', name: keyId });
    try {
      await this.io.unlink(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new SentinelError('SEALED_STORAGE_UNAVAILABLE', `sealed record key ${keyId}: ${(e as Error).message}`, { cause: e });
      }
      return;
    }
    await fsyncDir(this.io, join(this.dir, 'keys'));
  }

  /** Every stored record, in the order the enclave loads them: the configuration first, then keys (sorted). */
  readAll(): Buffer[] {
    const out: Buffer[] = [];
    const configuration = join(this.dir, `configuration${SUFFIX}`);
    try {
      out.push(readFileSync(configuration));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new SentinelError('SEALED_STORE_INVALID', `${configuration}: ${(e as Error).message}`);
    }
    const keys = readdirSync(join(this.dir, 'keys'))
      .filter((n) => n.endsWith(SUFFIX))
      .sort();
    for (const name of keys) out.push(readFileSync(join(this.dir, 'keys', name)));
    return out;
  }

  /** How many key records are stored. */
  keyCount(): number {
    return readdirSync(join(this.dir, 'keys')).filter((n) => n.endsWith(SUFFIX)).length;
  }
}

/** Batches of records for `sealed_load`, within the protocol's per-request limits (1024 records, 512 KiB). */
export function sealedBatches(records: Buffer[], maxRecords = 1024, maxBytes = 512 * 1024): Buffer[][] {
  const batches: Buffer[][] = [];
  let batch: Buffer[] = [];
  let bytes = 0;
  for (const r of records) {
    if (batch.length > 0 && (batch.length === maxRecords || bytes + r.length > maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(r);
    bytes += r.length;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}
