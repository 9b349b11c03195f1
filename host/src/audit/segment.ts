/**
 * The on-disk format of audit segments, and their verification when the store
 * opens. A segment `<20-digit first seq>.seg` is a run of entries, each a 16-byte
 * header `seq u64 BE | len u32 BE | crc32 u32 BE` (zlib CRC-32 of the record) and
 * the record bytes. A full segment gets a `<name>.sealed` marker: JSON
 * `{first_seq, last_seq, bytes, sha256}`, so a later change to sealed history is
 * caught by its hash, not only by CRCs.
 *
 * Verification tells a torn tail (an interrupted append: incomplete header or
 * record, a bad CRC at the very end, bytes with no valid entry in them) from
 * corruption (an invalid entry with a valid one after it, a sequence gap): only the
 * first may be cut, and only at the end of the last segment; anything else would
 * silently drop acknowledged history, so it is `AUDIT_SEGMENT_CORRUPT`.
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';

import { AuditStoreError } from './errors.ts';
import { readRange } from './files.ts';
import type { AuditIo } from './io.ts';

export const HEADER_BYTES = 16;
export const MAX_RECORD_BYTES = 32 * 1024;
/** Every INDEX_STRIDE-th entry's offset is kept in memory, so a read skips at most that many entries. */
export const INDEX_STRIDE = 64;
export const SEGMENT_SUFFIX = '.seg';
export const SEALED_SUFFIX = '.sealed';

const NAME_DIGITS = 20;
const TWO_32 = 2 ** 32;
/** Sequence numbers stay JS-safe integers: the high word of the u64 is below 2^21. */
const MAX_SEQ_HIGH = 2 ** 21;

/** `00000000000000001234` + suffix: fixed width, so names sort as numbers. */
export function numberedName(n: number, suffix: string): string {
  return String(n).padStart(NAME_DIGITS, '0') + suffix;
}

/** The number in a `numberedName`, or null for any other file name. */
export function parseNumberedName(name: string, suffix: string): number | null {
  if (name.length !== NAME_DIGITS + suffix.length || !name.endsWith(suffix)) return null;
  const digits = name.slice(0, NAME_DIGITS);
  if (!/^[0-9]+$/.test(digits)) return null;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : null;
}

/** Header and a copy of the record in one buffer: one iovec per entry, and the caller may reuse its bytes. */
export function encodeEntry(seq: number, record: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + record.length);
  frame.writeUInt32BE(Math.floor(seq / TWO_32), 0);
  frame.writeUInt32BE(seq >>> 0, 4);
  frame.writeUInt32BE(record.length, 8);
  frame.writeUInt32BE(crc32(record), 12);
  frame.set(record, HEADER_BYTES);
  return frame;
}

export interface EntryHeader {
  /** -1 when the u64 is beyond JS-safe integers (never written by this store). */
  seq: number;
  len: number;
  crc: number;
}

export function decodeHeader(buf: Buffer, at: number): EntryHeader {
  const high = buf.readUInt32BE(at);
  return {
    seq: high < MAX_SEQ_HIGH ? high * TWO_32 + buf.readUInt32BE(at + 4) : -1,
    len: buf.readUInt32BE(at + 8),
    crc: buf.readUInt32BE(at + 12),
  };
}

/**
 * Reads a segment through a window of `chunk` bytes, so a scan issues a few
 * large reads instead of two per entry. Views it returns stay valid until the next call.
 */
export class SegmentReader {
  private win: Buffer = Buffer.alloc(0);
  private winStart = 0;

  constructor(
    private readonly io: AuditIo,
    private readonly fd: number,
    private readonly limit: number,
    private readonly chunk = 1 << 20,
  ) {}

  /** Bytes [pos, pos + len), or null when the file (or the limit) ends first. */
  async bytes(pos: number, len: number): Promise<Buffer | null> {
    if (pos + len > this.limit) return null;
    if (pos < this.winStart || pos + len > this.winStart + this.win.length) {
      this.win = await readRange(this.io, this.fd, pos, Math.min(Math.max(this.chunk, len), this.limit - pos));
      this.winStart = pos;
      if (this.win.length < len) return null;
    }
    return this.win.subarray(pos - this.winStart, pos - this.winStart + len);
  }
}

/** The entry at `pos` if it is complete, has the expected seq and a matching CRC; else null. */
export async function validEntryAt(reader: SegmentReader, pos: number, seq: number): Promise<Buffer | null> {
  const head = await reader.bytes(pos, HEADER_BYTES);
  if (head === null) return null;
  const h = decodeHeader(head, 0);
  if (h.seq !== seq || h.len === 0 || h.len > MAX_RECORD_BYTES) return null;
  const frame = await reader.bytes(pos, HEADER_BYTES + h.len);
  if (frame === null || crc32(frame.subarray(HEADER_BYTES)) !== h.crc) return null;
  return frame;
}

/** The first offset in `region` holding a complete entry with a matching CRC (any plausible seq), or null. */
export function findValidEntry(region: Buffer): { at: number; seq: number } | null {
  for (let p = 0; p + HEADER_BYTES < region.length; p++) {
    const h = decodeHeader(region, p);
    if (h.seq < 0 || h.len === 0 || h.len > MAX_RECORD_BYTES || p + HEADER_BYTES + h.len > region.length) continue;
    if (crc32(region.subarray(p + HEADER_BYTES, p + HEADER_BYTES + h.len)) === h.crc) return { at: p, seq: h.seq };
  }
  return null;
}

export interface SegmentScan {
  /** Valid entries from the start. */
  records: number;
  /** End of the last valid entry; bytes after it are a torn tail. */
  validBytes: number;
  fileBytes: number;
  /** The bytes after the last valid entry are all zero: the store's preallocated tail, not a torn write. */
  zeroTail: boolean;
  /** Offsets of entries firstSeq + k * INDEX_STRIDE. */
  index: number[];
  /** SHA-256 over [0, validBytes). */
  hash: Hash;
}

/**
 * Verifies a segment from its start: headers, CRCs and seq continuity from
 * `firstSeq`. Stops at the first invalid entry; the rest of the file is a torn
 * tail unless a valid entry hides in it, which is AUDIT_SEGMENT_CORRUPT.
 */
export async function scanSegment(io: AuditIo, fd: number, file: string, firstSeq: number): Promise<SegmentScan> {
  const fileBytes = await io.fileSize(fd);
  const reader = new SegmentReader(io, fd, fileBytes);
  const hash = createHash('sha256');
  const index: number[] = [];
  let pos = 0;
  let seq = firstSeq;
  for (;;) {
    const frame = await validEntryAt(reader, pos, seq);
    if (frame === null) break;
    if ((seq - firstSeq) % INDEX_STRIDE === 0) index.push(pos);
    hash.update(frame);
    pos += frame.length;
    seq++;
  }
  let zeroTail = false;
  if (pos < fileBytes) {
    const tail = await readRange(io, fd, pos, fileBytes - pos);
    zeroTail = isZero(tail);
    const found = zeroTail ? null : findValidEntry(tail);
    if (found !== null) {
      const what =
        found.at === 0
          ? `entry with seq ${found.seq} where seq ${seq} was expected`
          : `valid entry (seq ${found.seq}) at offset ${pos + found.at} after an invalid entry at offset ${pos} (expected seq ${seq})`;
      throw new AuditStoreError('AUDIT_SEGMENT_CORRUPT', `audit segment ${file}: ${what}`);
    }
  }
  return { records: seq - firstSeq, validBytes: pos, fileBytes, index, hash, zeroTail };
}

/** Every byte is zero (the preallocated tail of an active segment, store.ts PREALLOCATE_BYTES). */
export function isZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

export interface SealedMarker {
  first_seq: number;
  last_seq: number;
  bytes: number;
  sha256: string;
}

export function markerFor(firstSeq: number, scan: Pick<SegmentScan, 'records' | 'validBytes' | 'hash'>): SealedMarker {
  return {
    first_seq: firstSeq,
    last_seq: firstSeq + scan.records - 1,
    bytes: scan.validBytes,
    sha256: scan.hash.copy().digest('hex'),
  };
}

/** Throws AUDIT_SEGMENT_CORRUPT unless the stored marker describes exactly the scanned segment. */
export function checkMarker(file: string, stored: Buffer, actual: SealedMarker): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored.toString('utf8'));
  } catch {
    throw new AuditStoreError('AUDIT_SEGMENT_CORRUPT', `audit segment ${file}: its sealed marker is not JSON`);
  }
  const m = parsed as Record<string, unknown>;
  for (const field of ['first_seq', 'last_seq', 'bytes', 'sha256'] as const) {
    if (m[field] !== actual[field]) {
      throw new AuditStoreError(
        'AUDIT_SEGMENT_CORRUPT',
        `audit segment ${file}: sealed marker ${field} is ${JSON.stringify(m[field])}, the segment has ${JSON.stringify(actual[field])}`,
      );
    }
  }
}
