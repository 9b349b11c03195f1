/**
 * Opening the store's directory: removes leftovers of interrupted atomic writes,
 * verifies every segment in order (`scanSegment`: headers, CRCs, seq continuity
 * across segments from 0, sealed markers), cuts a torn tail off the last segment
 * (ftruncate + fdatasync) and reports it (a zero tail, the store's preallocation, is
 * cut without being reported), writes a missing marker of a full,
 * verified segment, and loads the latest checkpoint. What it cannot explain as an
 * interrupted append is AUDIT_SEGMENT_CORRUPT: the store refuses to open rather
 * than lose or rewrite acknowledged history.
 */
import { createHash, type Hash } from 'node:crypto';
import path from 'node:path';

import { checkpointSizes, readCheckpoint, type StoredCheckpoint } from './checkpoint-files.ts';
import { AuditStoreError, storageError } from './errors.ts';
import { fsyncDir, readSmallFile, TMP_SUFFIX, writeFileAtomic } from './files.ts';
import type { AuditIo } from './io.ts';
import {
  checkMarker,
  markerFor,
  numberedName,
  parseNumberedName,
  scanSegment,
  SEALED_SUFFIX,
  SEGMENT_SUFFIX,
} from './segment.ts';

export interface StoreDirs {
  root: string;
  segments: string;
  checkpoints: string;
}

export function storeDirs(root: string): StoreDirs {
  return { root, segments: path.join(root, 'segments'), checkpoints: path.join(root, 'checkpoints') };
}

export interface SegmentInfo {
  firstSeq: number;
  file: string;
  /** Offsets of durable entries firstSeq + k * INDEX_STRIDE. */
  index: number[];
}

export interface LoadedLog {
  segments: SegmentInfo[];
  /** Open read-write on the last segment. */
  activeFd: number;
  activeSealed: boolean;
  activeHash: Hash;
  activeBytes: number;
  size: number;
  truncatedBytes: number;
  markersWritten: number;
  latest: StoredCheckpoint | null;
}

async function attempt<T>(op: string, file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof AuditStoreError ? err : storageError(op, file, err);
  }
}

/** Creates an empty segment (or adopts an empty one left by an interrupted creation) and makes its name durable. */
export async function createSegment(io: AuditIo, dir: string, firstSeq: number): Promise<{ fd: number; file: string }> {
  const file = path.join(dir, numberedName(firstSeq, SEGMENT_SUFFIX));
  let fd: number;
  try {
    fd = await io.open(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw storageError('create', file, err);
    fd = await attempt('open', file, () => io.open(file, 'r+'));
    const size = await attempt('fstat', file, () => io.fileSize(fd));
    if (size !== 0) {
      await io.close(fd).catch(() => undefined);
      throw new AuditStoreError('AUDIT_SEGMENT_CORRUPT', `audit segment ${file} should be new but holds ${size} bytes`);
    }
  }
  try {
    await fsyncDir(io, dir);
  } catch (err) {
    await io.close(fd).catch(() => undefined);
    throw err;
  }
  return { fd, file };
}

async function removeLeftovers(io: AuditIo, dir: string, names: string[]): Promise<void> {
  for (const name of names) {
    if (name.endsWith(TMP_SUFFIX)) {
      await attempt('unlink', path.join(dir, name), () => io.unlink(path.join(dir, name)));
    }
  }
}

export async function loadLog(io: AuditIo, dirs: StoreDirs): Promise<LoadedLog> {
  for (const dir of [dirs.root, dirs.segments, dirs.checkpoints]) await attempt('mkdir', dir, () => io.mkdirp(dir));
  for (const dir of [dirs.root, dirs.segments, dirs.checkpoints]) {
    await removeLeftovers(io, dir, await attempt('readdir', dir, () => io.readdir(dir)));
  }

  const names = await attempt('readdir', dirs.segments, () => io.readdir(dirs.segments));
  const firsts = names.map((n) => parseNumberedName(n, SEGMENT_SUFFIX)).filter((n): n is number => n !== null);
  firsts.sort((a, b) => a - b);
  const sealedNames = new Set(names.filter((n) => n.endsWith(SEGMENT_SUFFIX + SEALED_SUFFIX)));
  for (const marker of sealedNames) {
    const first = parseNumberedName(marker.slice(0, -SEALED_SUFFIX.length), SEGMENT_SUFFIX);
    if (first === null || !firsts.includes(first)) {
      throw new AuditStoreError('AUDIT_SEGMENT_CORRUPT', `audit sealed marker ${marker} has no segment (a sealed segment was removed)`);
    }
  }

  const latest = await loadLatestCheckpoint(io, dirs.checkpoints);
  if (firsts.length === 0) {
    const { fd, file } = await createSegment(io, dirs.segments, 0);
    return {
      segments: [{ firstSeq: 0, file, index: [] }],
      activeFd: fd,
      activeSealed: false,
      activeHash: createHash('sha256'),
      activeBytes: 0,
      size: 0,
      truncatedBytes: 0,
      markersWritten: 0,
      latest,
    };
  }

  const segments: SegmentInfo[] = [];
  let expected = 0;
  let truncatedBytes = 0;
  let markersWritten = 0;
  for (let i = 0; i < firsts.length; i++) {
    const firstSeq = firsts[i]!;
    const name = numberedName(firstSeq, SEGMENT_SUFFIX);
    const file = path.join(dirs.segments, name);
    const isLast = i === firsts.length - 1;
    if (firstSeq !== expected) {
      throw new AuditStoreError('AUDIT_SEGMENT_CORRUPT', `audit segment ${file} starts at seq ${firstSeq}; seq ${expected} was expected`);
    }
    const fd = await attempt('open', file, () => io.open(file, isLast ? 'r+' : 'r'));
    let keepOpen = false;
    try {
      const scan = await attempt('read', file, () => scanSegment(io, fd, file, firstSeq));
      const markerFile = file + SEALED_SUFFIX;
      const sealed = sealedNames.has(name + SEALED_SUFFIX);
      const torn = scan.fileBytes - scan.validBytes;
      if (torn > 0 && (!isLast || sealed)) {
        throw new AuditStoreError(
          'AUDIT_SEGMENT_CORRUPT',
          `audit segment ${file} (${sealed ? 'sealed' : 'not the last'}) has ${torn} invalid bytes at offset ${scan.validBytes}`,
        );
      }
      if (!isLast && scan.records === 0) {
        throw new AuditStoreError('AUDIT_SEGMENT_CORRUPT', `audit segment ${file} is empty but is not the last segment`);
      }
      if (torn > 0) {
        // An append the crash interrupted: never acknowledged, so cutting it loses nothing. A
        // zero tail is the store's preallocation (left by a crash): cut, but nothing was torn.
        await attempt('ftruncate', file, () => io.ftruncate(fd, scan.validBytes));
        await attempt('fdatasync', file, () => io.fdatasync(fd));
        if (!scan.zeroTail) truncatedBytes += torn;
      }
      const marker = markerFor(firstSeq, scan);
      if (sealed) {
        const stored = await readSmallFile(io, markerFile);
        if (stored === null) throw storageError('read', markerFile, Object.assign(new Error('vanished'), { code: 'ENOENT' }));
        checkMarker(file, stored, marker);
      } else if (!isLast) {
        // Sealing writes the marker before it creates the next segment, so this is a marker lost
        // afterwards; the segment itself verified, so the marker is rebuilt from it.
        await writeFileAtomic(io, markerFile, Buffer.from(JSON.stringify(marker)));
        markersWritten++;
      }
      segments.push({ firstSeq, file, index: scan.index });
      expected = firstSeq + scan.records;
      if (isLast) {
        keepOpen = true;
        return {
          segments,
          activeFd: fd,
          activeSealed: sealed,
          activeHash: scan.hash,
          activeBytes: scan.validBytes,
          size: expected,
          truncatedBytes,
          markersWritten,
          latest,
        };
      }
    } finally {
      if (!keepOpen) await io.close(fd).catch(() => undefined);
    }
  }
  throw new Error('unreachable: the last segment returns');
}

async function loadLatestCheckpoint(io: AuditIo, dir: string): Promise<StoredCheckpoint | null> {
  const sizes = await checkpointSizes(io, dir);
  const size = sizes.at(-1);
  if (size === undefined) return null;
  const note = await readCheckpoint(io, dir, size);
  return note === null ? null : { size, note };
}
