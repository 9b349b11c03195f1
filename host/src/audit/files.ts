/**
 * Whole-file helpers over `AuditIo`: the gather write that survives short writes,
 * reads of a byte range or a small file, directory fsync, and the atomic replace
 * (write a temporary, fsync it, rename it over the target, fsync the directory)
 * that checkpoints, sealed markers and `log.json` use, so a crash leaves either the
 * old file or the new one, never a torn one. Every failure becomes
 * `AUDIT_STORAGE_UNAVAILABLE` naming the call and the path.
 */
import path from 'node:path';

import { storageError } from './errors.ts';
import type { AuditIo } from './io.ts';

/** Suffix of a file being replaced atomically; leftovers are removed when the store opens. */
export const TMP_SUFFIX = '.tmp';

/**
 * Writes every byte of `buffers` at `position`, looping over short writes (a
 * writev may stop early when the disk fills; the next call then reports ENOSPC).
 * Throws the raw errno error; the caller knows which file it was.
 */
export function writeAllSync(io: AuditIo, fd: number, buffers: readonly Buffer[], position: number): void {
  let bufs = buffers;
  let pos = position;
  let left = bufs.reduce((n, b) => n + b.length, 0);
  while (left > 0) {
    const n = io.writevSync(fd, bufs, pos);
    if (n <= 0) throw Object.assign(new Error('writev wrote nothing'), { code: 'EIO' });
    left -= n;
    pos += n;
    if (left === 0) break;
    // Drop what was written: whole buffers first, then the front of the partly written one.
    let skip = n;
    let i = 0;
    while (skip >= bufs[i]!.length) skip -= bufs[i++]!.length;
    bufs = [bufs[i]!.subarray(skip), ...bufs.slice(i + 1)];
  }
}

/** Reads exactly `length` bytes at `position` (fewer only if the file ends first). */
export async function readRange(io: AuditIo, fd: number, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = await io.read(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/** The whole content of a small file, or null when it does not exist. */
export async function readSmallFile(io: AuditIo, file: string): Promise<Buffer | null> {
  let fd: number;
  try {
    fd = await io.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw storageError('open', file, err);
  }
  try {
    const size = await io.fileSize(fd);
    return await readRange(io, fd, 0, size);
  } catch (err) {
    throw storageError('read', file, err);
  } finally {
    await io.close(fd).catch(() => undefined);
  }
}

/** Makes a directory's entries (a created, renamed or removed file) durable. */
export async function fsyncDir(io: AuditIo, dir: string): Promise<void> {
  let fd: number;
  try {
    fd = await io.open(dir, 'r');
  } catch (err) {
    throw storageError('open', dir, err);
  }
  try {
    await io.fsync(fd);
  } catch (err) {
    throw storageError('fsync', dir, err);
  } finally {
    await io.close(fd).catch(() => undefined);
  }
}

/** Replaces `file` with `data` atomically and durably (temporary, fsync, rename, directory fsync). */
export async function writeFileAtomic(io: AuditIo, file: string, data: Uint8Array): Promise<void> {
  const tmp = file + TMP_SUFFIX;
  let fd: number;
  try {
    fd = await io.open(tmp, 'w');
  } catch (err) {
    throw storageError('open', tmp, err);
  }
  try {
    writeAllSync(io, fd, [Buffer.from(data.buffer, data.byteOffset, data.byteLength)], 0);
    await io.fsync(fd);
  } catch (err) {
    await io.close(fd).catch(() => undefined);
    await io.unlink(tmp).catch(() => undefined);
    throw storageError('write', tmp, err);
  }
  try {
    await io.close(fd);
    await io.rename(tmp, file);
  } catch (err) {
    await io.unlink(tmp).catch(() => undefined);
    throw storageError('rename', file, err);
  }
  await fsyncDir(io, path.dirname(file));
}
