/**
 * Signed checkpoints (`checkpoints/<20-digit tree size>.cp`, the note bytes exactly
 * as the enclave signed them) and the log's description (`log.json`: origin,
 * verifier key, attestation). Each file is replaced atomically and durably; the
 * host only stores them, their signatures are for readers to check.
 */
import path from 'node:path';

import { AuditStoreError, storageError } from './errors.ts';
import { readSmallFile, writeFileAtomic } from './files.ts';
import type { AuditIo } from './io.ts';
import { numberedName, parseNumberedName } from './segment.ts';

export const CHECKPOINT_SUFFIX = '.cp';
/** A C2SP signed note is at most 64 KiB (crates/audit note.rs). */
export const MAX_NOTE_BYTES = 64 * 1024;

export interface StoredCheckpoint {
  size: number;
  note: Buffer;
}

export async function checkpointSizes(io: AuditIo, dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await io.readdir(dir);
  } catch (err) {
    throw storageError('readdir', dir, err);
  }
  const sizes: number[] = [];
  for (const name of names) {
    const size = parseNumberedName(name, CHECKPOINT_SUFFIX);
    if (size !== null) sizes.push(size);
  }
  return sizes.sort((a, b) => a - b);
}

export async function readCheckpoint(io: AuditIo, dir: string, size: number): Promise<Buffer | null> {
  return readSmallFile(io, path.join(dir, numberedName(size, CHECKPOINT_SUFFIX)));
}

/**
 * Stores the note for `size`. The same bytes again are a no-op; other bytes for a
 * stored size are AUDIT_SEQUENCE_CONFLICT (two signed roots for one size must never
 * be papered over by overwriting one).
 */
export async function writeCheckpoint(io: AuditIo, dir: string, size: number, note: Buffer): Promise<void> {
  const existing = await readCheckpoint(io, dir, size);
  if (existing !== null) {
    if (existing.equals(note)) return;
    throw new AuditStoreError(
      'AUDIT_SEQUENCE_CONFLICT',
      `audit checkpoint for size ${size} is already stored with other bytes`,
    );
  }
  await writeFileAtomic(io, path.join(dir, numberedName(size, CHECKPOINT_SUFFIX)), note);
}

export async function readInfoFile(io: AuditIo, file: string): Promise<unknown | null> {
  const bytes = await readSmallFile(io, file);
  if (bytes === null) return null;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw new AuditStoreError('AUDIT_SEGMENT_CORRUPT', `audit log info ${file} is not JSON`);
  }
}

export async function writeInfoFile(io: AuditIo, file: string, info: unknown): Promise<void> {
  const text = JSON.stringify(info);
  if (text === undefined) throw new AuditStoreError('AUDIT_ARGUMENT_INVALID', 'audit log info must be JSON-serializable');
  await writeFileAtomic(io, file, Buffer.from(text + '\n', 'utf8'));
}
