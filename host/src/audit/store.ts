/**
 * The host's durable, fail-closed, append-only audit log (issue #11): the records
 * the enclave makes, in segment files under DATA_DIR/audit (layout: segment.ts,
 * load.ts; docs/audit-storage.md). The enclave is the only source of records; this
 * store keeps them in sequence and says when each one is on disk.
 *
 * Appends are group-committed: a record is written (one writev per batch) as soon
 * as it arrives, and at most one fdatasync is in flight; records written while it
 * runs are covered by the next one. A lone record with nothing in flight takes the
 * synchronous fast path (writev + fdatasync on the event loop), which saves the
 * thread-pool round trip (bench/audit-store.mjs measures both). In `strict` mode an
 * append resolves once its record is durable; in `latency` mode once it is written
 * (while at most LATENCY_MAX_UNDURABLE_BYTES are not yet durable), and a later
 * fdatasync failure is reported in `failure` (and `size` falls back to `durable`, so
 * the writer re-sends from there).
 *
 * Fail-closed: a failed write or fdatasync rejects every record not yet durable,
 * truncates the segment back to its last durable offset (reopening the file: after
 * an fsync error the page cache may hold bytes the disk does not), refuses appends
 * until a probe write + fdatasync succeeds again (retried every `retryMs`).
 */
import { createHash, type Hash } from 'node:crypto';
import path from 'node:path';

import {
  MAX_NOTE_BYTES,
  checkpointSizes,
  readCheckpoint,
  readInfoFile,
  writeCheckpoint,
  writeInfoFile,
  type StoredCheckpoint,
} from './checkpoint-files.ts';
import { AuditStoreError, storageError } from './errors.ts';
import { readSmallFile, writeAllSync, writeFileAtomic } from './files.ts';
import { nodeIo, type AuditIo } from './io.ts';
import { createSegment, loadLog, storeDirs, type SegmentInfo, type StoreDirs } from './load.ts';
import {
  HEADER_BYTES,
  INDEX_STRIDE,
  MAX_RECORD_BYTES,
  SEALED_SUFFIX,
  SegmentReader,
  encodeEntry,
  validEntryAt,
  type SealedMarker,
} from './segment.ts';

export { AuditStoreError, type AuditStoreErrorCode } from './errors.ts';
export { nodeIo, type AuditIo } from './io.ts';

export type AuditMode = 'strict' | 'latency';

export interface AuditStoreOptions {
  /** DATA_DIR/audit. */
  dir: string;
  /** Default 'strict'. */
  mode?: AuditMode;
  /** A segment is sealed once it reaches this size; default 64 MiB, at least 4 KiB. */
  segmentBytes?: number;
  /** Default node:fs; tests pass a fault-injecting adapter. */
  io?: AuditIo;
  /** Delay between recovery probes while storage fails; default 250 ms. */
  retryMs?: number;
  /** Lone records with nothing in flight are written and fdatasync'ed on the event loop (strict mode); default true. */
  syncFastPath?: boolean;
}

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const MIN_SEGMENT_BYTES = 4096;
const DEFAULT_RETRY_MS = 250;
const PROBE_BYTES = 4096;
/**
 * Latency mode releases a record once written, but not without bound: past this many
 * written-but-not-durable bytes an append waits for durability as in strict mode. It
 * caps what a crash can take from released records and how long one fdatasync runs
 * (unbounded, one fdatasync flushed seconds of writes in bench/audit-store.mjs).
 */
export const LATENCY_MAX_UNDURABLE_BYTES = 1024 * 1024;
/**
 * Group commit under load waits for a group. On this kind of VM one fdatasync costs 40-60 µs
 * of CPU besides its wait, and its I/O completions interrupt whatever runs on that core (the
 * enclave, in the local stack); starting one per record as soon as the previous one ends spends
 * that once records arrive about one fdatasync apart (bench/audit.ts). While the appender reports
 * `pending` requests in flight, strict mode starts the next fdatasync once `pending /
 * GROUP_DIVISOR` records wait (half of what is coming; the other half keeps the enclave busy) or
 * after GROUP_WAIT_MS, and writes the group just before it (one writev per group). Latency mode
 * has released its records already: it writes each at once, and its fdatasync always waits
 * LATENCY_SYNC_MS for company (half of LATENCY_MAX_UNDURABLE_BYTES starts it at once), so a
 * released record is durable within LATENCY_SYNC_MS plus one fdatasync; an fdatasync per record
 * would cost a 1-client signature about 15 µs more on this VM (bench/audit.ts).
 */
export const GROUP_DIVISOR = 2;
/**
 * The active segment grows ahead of its writes in steps of this many zero bytes (a sparse
 * ftruncate), so an fdatasync flushes the record's block and not also a change of the file's size,
 * which on ext4 costs a journal commit: about 120 against 180 µs per fdatasync on this disk
 * (bench/audit.ts measures both). The zero tail holds no valid entry: opening cuts it without
 * calling it torn (load.ts), and sealing and a clean close cut it first.
 */
export const PREALLOCATE_BYTES = 1024 * 1024;
export const GROUP_WAIT_MS = 1;
/** Latency mode: how long a written record may wait for its fdatasync (see GROUP_DIVISOR). */
export const LATENCY_SYNC_MS = 5;

const RESOLVED: Promise<void> = Promise.resolve();

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A record not yet durable. */
interface Entry {
  seq: number;
  /** Header + record. */
  frame: Buffer;
  /** Offset in the active segment, once written. */
  offset: number;
  /** The appender: strict waits for durability, latency only for the write (then null). */
  main: Waiter | null;
  /** Idempotent re-appends and close(), all waiting for durability. */
  extra: Waiter[] | null;
  /** The appender expects more records right away: never the synchronous fast path. */
  busy: boolean;
}

/** Hints from the appender. */
export interface AppendOptions {
  /**
   * More records are on their way (the writer has other enclave requests in flight): the record
   * waits for a group-commit fdatasync off the event loop instead of the synchronous fast path,
   * which would block the loop for a whole fdatasync per record under load.
   */
  busy?: boolean;
  /** How many requests the appender has in flight, each likely to bring a record (see GROUP_DIVISOR). */
  pending?: number;
  /**
   * Nothing else is on its way (the appender has no other request in flight): strict mode writes
   * and fdatasyncs the record within this call when nothing else is queued or syncing (the
   * synchronous fast path, at most once per event-loop turn), instead of on the next tick.
   */
  alone?: boolean;
}

function invalid(message: string): AuditStoreError {
  return new AuditStoreError('AUDIT_ARGUMENT_INVALID', message);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

export class AuditStore {
  readonly mode: AuditMode;
  readonly recovered: { truncatedBytes: number; markersWritten: number };

  private readonly io: AuditIo;
  private readonly dirs: StoreDirs;
  private readonly segmentBytes: number;
  private readonly retryMs: number;
  private readonly syncFastPath: boolean;

  /** Every segment, oldest first; the last is the active one. */
  private readonly segments: SegmentInfo[];
  /** The active segment's fd; null while recovery reopens it or after close. */
  private fd: number | null;
  /** A sealed marker exists for the active segment: nothing more may be written to it. */
  private activeSealed: boolean;
  /** SHA-256 of the active segment's durable bytes (the sealed marker's hash, without re-reading 64 MiB). */
  private activeHash: Hash;
  private durableOffset: number;
  private writtenOffset: number;
  /** The active segment's file size: written bytes plus the preallocated zero tail. */
  private allocated: number;
  private durableCount: number;
  /** Records durable..size-1: the first `writtenInQueue` are written, the rest wait for the next writev. */
  private queue: Entry[] = [];
  private writtenInQueue = 0;

  private syncing: Promise<void> | null = null;
  private sealing: Promise<void> | null = null;
  private recovering: Promise<void> | null = null;
  private flushScheduled = false;
  /** A synchronous fdatasync ran in this event-loop turn: the next lone record waits for the next turn. */
  private fastPathTurn = false;
  /** Durable frames of the active segment not yet in `activeHash` (hashed after their release). */
  private unhashed: Buffer[] = [];
  private hashScheduled = false;
  /** Written records that start an fdatasync at once (strict mode; from the appender's `pending`). */
  private groupTarget = 1;
  private groupTimer: NodeJS.Timeout | null = null;
  /** The group timer fired: what waits is committed at the next chance. */
  private groupDue = false;
  /** Bumped on failure, so an fdatasync that was in flight cannot mark dropped records durable. */
  private generation = 0;
  private failureError: AuditStoreError | null = null;
  private retryTimer: { timer: NodeJS.Timeout; wake: () => void } | null = null;
  private closing: Promise<void> | null = null;
  private latest: StoredCheckpoint | null;
  /** Checkpoint and info writes, one at a time (they share temporary names). */
  private fileChain: Promise<unknown> = Promise.resolve();

  private constructor(options: Required<Omit<AuditStoreOptions, 'dir'>>, dirs: StoreDirs, loaded: Awaited<ReturnType<typeof loadLog>>) {
    this.mode = options.mode;
    this.io = options.io;
    this.segmentBytes = options.segmentBytes;
    this.retryMs = options.retryMs;
    this.syncFastPath = options.syncFastPath;
    this.dirs = dirs;
    this.segments = loaded.segments;
    this.fd = loaded.activeFd;
    this.activeSealed = loaded.activeSealed;
    this.activeHash = loaded.activeHash;
    this.durableOffset = loaded.activeBytes;
    this.writtenOffset = loaded.activeBytes;
    this.allocated = loaded.activeBytes;
    this.durableCount = loaded.size;
    this.latest = loaded.latest;
    this.recovered = { truncatedBytes: loaded.truncatedBytes, markersWritten: loaded.markersWritten };
  }

  /** Opens (creating if needed) the store in `options.dir`, verifying every segment first. */
  static async open(options: AuditStoreOptions): Promise<AuditStore> {
    if (typeof options?.dir !== 'string' || options.dir === '') throw invalid('audit store option dir must be a directory path');
    const mode = options.mode ?? 'strict';
    if (mode !== 'strict' && mode !== 'latency') throw invalid(`audit store option mode must be 'strict' or 'latency', not ${String(mode)}`);
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!isCount(segmentBytes) || segmentBytes < MIN_SEGMENT_BYTES || segmentBytes > 2 ** 40) {
      throw invalid(`audit store option segmentBytes must be an integer from ${MIN_SEGMENT_BYTES} to 2^40`);
    }
    const retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
    if (!isCount(retryMs) || retryMs < 1) throw invalid('audit store option retryMs must be a positive integer');
    const io = options.io ?? nodeIo;
    const dirs = storeDirs(options.dir);
    const loaded = await loadLog(io, dirs);
    return new AuditStore({ mode, segmentBytes, retryMs, io, syncFastPath: options.syncFastPath ?? true }, dirs, loaded);
  }

  /** The next sequence number: records appended (durable, written or waiting to be written). */
  get size(): number {
    return this.durableCount + this.queue.length;
  }

  /** Records fdatasync'ed. */
  get durable(): number {
    return this.durableCount;
  }

  /** Non-null while storage is failing (appends are refused with it). */
  get failure(): AuditStoreError | null {
    return this.failureError;
  }

  /**
   * Appends the record with sequence number `seq`: `seq === size` appends; a lower
   * seq with the same bytes resolves once that record is durable (a re-send); other
   * bytes are AUDIT_SEQUENCE_CONFLICT; a higher seq is AUDIT_SEQUENCE_GAP.
   */
  append(seq: number, record: Uint8Array, options?: AppendOptions): Promise<void> {
    if (this.closing !== null) return Promise.reject(new AuditStoreError('AUDIT_STORE_CLOSED', 'audit store is closed'));
    if (this.failureError !== null) return Promise.reject(this.failureError);
    if (!isCount(seq)) return Promise.reject(invalid(`audit append: seq must be a non-negative safe integer, not ${String(seq)}`));
    if (!(record instanceof Uint8Array) || record.length === 0) {
      return Promise.reject(invalid('audit append: record must be a non-empty Uint8Array'));
    }
    if (record.length > MAX_RECORD_BYTES) {
      return Promise.reject(
        new AuditStoreError('AUDIT_RECORD_TOO_LARGE', `audit append: record ${seq} is ${record.length} bytes, over ${MAX_RECORD_BYTES}`),
      );
    }
    const size = this.size;
    if (seq === size && options?.alone === true && this.fastPathNow(record.length)) return this.appendAlone(seq, record);
    if (seq === size) {
      return new Promise<void>((resolve, reject) => {
        const busy = options?.busy === true;
        const pending = options?.pending;
        this.groupTarget = busy && isCount(pending) ? Math.max(1, Math.floor(pending / GROUP_DIVISOR)) : 1;
        this.queue.push({ seq, frame: encodeEntry(seq, record), offset: -1, main: { resolve, reject }, extra: null, busy });
        this.scheduleFlush(busy);
      });
    }
    if (seq > size) {
      return Promise.reject(
        new AuditStoreError('AUDIT_SEQUENCE_GAP', `audit append: seq ${seq} is ahead of the store's size ${size}; send from ${size}`),
      );
    }
    return this.reappend(seq, record);
  }

  private conflict(seq: number): AuditStoreError {
    return new AuditStoreError('AUDIT_SEQUENCE_CONFLICT', `audit append: seq ${seq} is stored with other bytes`);
  }

  /** A record already appended, sent again: the same bytes wait for its durability, others conflict. */
  private async reappend(seq: number, record: Uint8Array): Promise<void> {
    if (seq >= this.durableCount) {
      const entry = this.queue[seq - this.durableCount]!;
      if (!sameBytes(record, entry.frame.subarray(HEADER_BYTES))) throw this.conflict(seq);
      return new Promise<void>((resolve, reject) => (entry.extra ??= []).push({ resolve, reject }));
    }
    const [stored] = await this.read(seq, 1);
    if (stored === undefined || !sameBytes(record, stored)) throw this.conflict(seq);
  }

  private scheduleFlush(busy = false): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const run = () => {
      this.flushScheduled = false;
      this.flush();
    };
    // A nextTick runs once the current call stack returns, so every append made in it joins one
    // writev. The synchronous fast path runs at most once per event-loop turn: a writer that
    // appends again as soon as it is resolved would otherwise chain fdatasyncs on the event loop
    // forever, and no timer or socket would ever run; a second lone record in the same turn
    // waits for the next turn (setImmediate). The first one does not: that hop costs a lone
    // strict signature about 9 µs on this VM (bench/audit.ts).
    // Latency mode has released the record already: its write waits for the next turn too, so
    // the caller's next request leaves before the write(2), not after it.
    const mayTakeFastPath = this.syncFastPath && !busy && this.mode === 'strict' && this.syncing === null;
    if ((mayTakeFastPath && this.fastPathTurn) || this.mode === 'latency') setImmediate(run);
    else process.nextTick(run);
  }

  /** Whether a lone record of `recordBytes` can take the synchronous fast path within `append` now. */
  private fastPathNow(recordBytes: number): boolean {
    return (
      this.syncFastPath &&
      this.mode === 'strict' &&
      !this.fastPathTurn &&
      !this.flushScheduled &&
      this.syncing === null &&
      this.sealing === null &&
      this.fd !== null &&
      !this.activeSealed &&
      this.queue.length === 0 &&
      this.writtenOffset + HEADER_BYTES + recordBytes <= this.segmentBytes
    );
  }

  /**
   * The synchronous fast path within `append` (see scheduleFlush): the record is written and
   * fdatasync'ed before the call returns, and nothing else happens before the fdatasync (no
   * queue entry, no promise), so a lone strict signature pays for little besides the disk.
   */
  private appendAlone(seq: number, record: Uint8Array): Promise<void> {
    const frame = encodeEntry(seq, record);
    const offset = this.writtenOffset;
    const end = offset + frame.length;
    this.preallocate(end);
    this.tookFastPath();
    try {
      writeAllSync(this.io, this.fd!, [frame], offset);
      this.writtenOffset = end;
    } catch (err) {
      this.fail(storageError('write', this.activeFile, err));
      return Promise.reject(this.failureError);
    }
    try {
      this.io.fdatasyncSync(this.fd!);
    } catch (err) {
      this.fail(storageError('fdatasync', this.activeFile, err));
      return Promise.reject(this.failureError);
    }
    const segment = this.segments.at(-1)!;
    this.durableCount++;
    this.durableOffset = end;
    this.noteDurable(segment, seq, offset, frame);
    return RESOLVED;
  }

  /** Marks that a synchronous fdatasync ran in this event-loop turn (see scheduleFlush). */
  private tookFastPath(): void {
    if (this.fastPathTurn) return;
    this.fastPathTurn = true;
    setImmediate(() => {
      this.fastPathTurn = false;
    });
  }

  private get activeFile(): string {
    return this.segments.at(-1)!.file;
  }

  /** Writes what is queued, seals a full segment, starts an fdatasync; re-entered when each of those ends. */
  private flush(): void {
    for (;;) {
      if (this.failureError !== null || this.sealing !== null || this.fd === null) return;
      if (this.activeSealed || this.writtenOffset >= this.segmentBytes) {
        // Seal only once every written byte of the segment is durable.
        if (this.writtenInQueue > 0) {
          if (this.syncing === null) this.startSync();
        } else if (this.syncing === null) {
          this.sealing = this.seal();
        }
        return;
      }
      if (this.writtenInQueue === this.queue.length) return;
      const fast =
        this.syncFastPath && !this.fastPathTurn && this.mode === 'strict' && this.syncing === null && this.queue.length === 1 && !this.queue[0]!.busy;
      // Strict mode releases nothing before the fdatasync, so its records are written just before
      // one starts: one writev per group, not one per record.
      if (this.mode === 'strict' && !fast && !this.groupReady()) return;

      const from = this.writtenInQueue;
      const bufs: Buffer[] = [];
      let end = from;
      let offset = this.writtenOffset;
      while (end < this.queue.length && offset < this.segmentBytes) {
        const entry = this.queue[end++]!;
        entry.offset = offset;
        offset += entry.frame.length;
        bufs.push(entry.frame);
      }
      this.preallocate(offset);
      try {
        writeAllSync(this.io, this.fd, bufs, this.writtenOffset);
      } catch (err) {
        this.fail(storageError('write', this.activeFile, err));
        return;
      }
      this.writtenOffset = offset;
      this.writtenInQueue = end;
      if (this.mode === 'latency' && offset - this.durableOffset <= LATENCY_MAX_UNDURABLE_BYTES) {
        for (let i = from; i < end; i++) {
          const entry = this.queue[i]!;
          entry.main?.resolve();
          entry.main = null;
        }
      }
      if (fast) {
        this.tookFastPath();
        try {
          this.io.fdatasyncSync(this.fd);
        } catch (err) {
          this.fail(storageError('fdatasync', this.activeFile, err));
          return;
        }
        this.markDurable(end, offset);
      } else if (this.mode === 'strict') {
        if (this.syncing === null) this.startSync();
      } else {
        this.syncWhenGrouped();
      }
    }
  }

  /**
   * Strict mode: whether the records waiting now make a group worth an fdatasync (GROUP_DIVISOR),
   * else false with a timer armed that lets them go after GROUP_WAIT_MS. Never while one runs.
   */
  private groupReady(): boolean {
    if (this.syncing !== null) return false;
    if (this.groupDue || this.closing !== null || this.queue.length - this.writtenInQueue >= this.groupTarget) return true;
    this.armGroupTimer();
    return false;
  }

  /** Latency mode: the next fdatasync starts once a group has gathered (GROUP_WAIT_MS) or many bytes wait. */
  private syncWhenGrouped(): void {
    if (this.syncing !== null || this.writtenInQueue === 0) return;
    if (this.groupDue || this.closing !== null || this.writtenOffset - this.durableOffset >= LATENCY_MAX_UNDURABLE_BYTES / 2) {
      this.startSync();
      return;
    }
    this.armGroupTimer();
  }

  private armGroupTimer(): void {
    this.groupTimer ??= setTimeout(() => this.commitGroup(), this.mode === 'latency' ? LATENCY_SYNC_MS : GROUP_WAIT_MS);
  }

  /** The group waited long enough (or nothing more is coming): what waits is written and synced now. */
  private commitGroup(): void {
    if (this.groupTimer !== null) clearTimeout(this.groupTimer);
    this.groupTimer = null;
    this.groupDue = true;
    this.flush();
    if (this.mode === 'latency' && this.failureError === null && this.fd !== null && this.sealing === null) this.syncWhenGrouped();
  }

  /** Grows the active segment past `end` (up to its sealing size) before a write reaches past its zero tail. */
  private preallocate(end: number): void {
    if (end <= this.allocated || end >= this.segmentBytes) return;
    const target = Math.min(end + PREALLOCATE_BYTES, this.segmentBytes);
    try {
      this.io.extendSync(this.fd!, target);
      this.allocated = target;
    } catch {
      // Only the fdatasyncs get slower: the write itself grows the file (and reports a full disk).
    }
  }

  /** Cuts the zero tail of the active segment (before sealing it and on close); all written bytes are durable. */
  private async cutPreallocated(fd: number): Promise<void> {
    if (this.allocated <= this.durableOffset) return;
    await this.io.ftruncate(fd, this.durableOffset);
    await this.io.fdatasync(fd);
    this.allocated = this.durableOffset;
  }

  private startSync(): void {
    this.groupDue = false;
    if (this.groupTimer !== null) {
      clearTimeout(this.groupTimer);
      this.groupTimer = null;
    }
    const fd = this.fd!;
    const count = this.writtenInQueue;
    const offset = this.writtenOffset;
    const generation = this.generation;
    this.syncing = this.io.fdatasync(fd).then(
      () => {
        this.syncing = null;
        if (generation !== this.generation) return;
        this.markDurable(count, offset);
        this.flush();
        if (this.mode === 'latency' && this.failureError === null && this.fd !== null) this.syncWhenGrouped();
      },
      (err: unknown) => {
        this.syncing = null;
        if (generation !== this.generation) return;
        this.fail(storageError('fdatasync', this.activeFile, err));
      },
    );
  }

  /** The first `count` queued records are on disk, up to `offset` of the active segment. */
  private markDurable(count: number, offset: number): void {
    const segment = this.segments.at(-1)!;
    const done = this.queue.splice(0, count);
    this.writtenInQueue -= count;
    this.durableCount += count;
    this.durableOffset = offset;
    for (const entry of done) {
      this.noteDurable(segment, entry.seq, entry.offset, entry.frame);
      entry.main?.resolve();
      if (entry.extra !== null) for (const w of entry.extra) w.resolve();
    }
  }

  /** A durable entry's place in the active segment's index, and its bytes for the segment's hash. */
  private noteDurable(segment: SegmentInfo, seq: number, offset: number, frame: Buffer): void {
    if ((seq - segment.firstSeq) % INDEX_STRIDE === 0) segment.index.push(offset);
    this.unhashed.push(frame);
    // The segment's hash is needed only when it is sealed: kept off the path that releases answers.
    if (!this.hashScheduled) {
      this.hashScheduled = true;
      setImmediate(() => this.hashDurable());
    }
  }

  /** Folds the durable frames not yet hashed into the active segment's SHA-256. */
  private hashDurable(): void {
    this.hashScheduled = false;
    for (const frame of this.unhashed) this.activeHash.update(frame);
    this.unhashed = [];
  }

  /** Marks the full active segment sealed (marker with its hash) and opens the next one. */
  private async seal(): Promise<void> {
    try {
      const segment = this.segments.at(-1)!;
      if (!this.activeSealed) {
        // The marker's length is the file's: no zero tail after a sealed segment.
        await this.cutPreallocated(this.fd!);
        this.hashDurable();
        const marker: SealedMarker = {
          first_seq: segment.firstSeq,
          last_seq: this.durableCount - 1,
          bytes: this.durableOffset,
          sha256: this.activeHash.copy().digest('hex'),
        };
        await writeFileAtomic(this.io, segment.file + SEALED_SUFFIX, Buffer.from(JSON.stringify(marker)));
        this.activeSealed = true;
      }
      const next = await createSegment(this.io, this.dirs.segments, this.durableCount);
      const old = this.fd;
      this.segments.push({ firstSeq: this.durableCount, file: next.file, index: [] });
      this.fd = next.fd;
      this.activeSealed = false;
      this.activeHash = createHash('sha256');
      this.durableOffset = 0;
      this.writtenOffset = 0;
      this.allocated = 0;
      // Everything in the old segment was fdatasync'ed before sealing; a close error loses nothing.
      if (old !== null) await this.io.close(old).catch(() => undefined);
    } catch (err) {
      this.sealing = null;
      this.fail(err instanceof AuditStoreError ? err : storageError('seal', this.activeFile, err));
      return;
    }
    this.sealing = null;
    this.flush();
  }

  /** Storage failed: drop and reject everything not durable, refuse appends, start recovering. */
  private fail(error: AuditStoreError): void {
    if (this.failureError !== null) return;
    this.failureError = error;
    this.generation++;
    if (this.groupTimer !== null) {
      clearTimeout(this.groupTimer);
      this.groupTimer = null;
    }
    const dropped = this.queue;
    this.queue = [];
    this.writtenInQueue = 0;
    this.writtenOffset = this.durableOffset;
    for (const entry of dropped) {
      entry.main?.reject(error);
      if (entry.extra !== null) for (const w of entry.extra) w.reject(error);
    }
    this.recovering = this.recover();
  }

  private async recover(): Promise<void> {
    // The fdatasync or seal in flight still uses the old fd; its outcome is ignored (generation).
    await this.syncing?.catch(() => undefined);
    await this.sealing?.catch(() => undefined);
    // At least one attempt even when closing, so the cut of undurable bytes is tried.
    for (;;) {
      try {
        await this.repair();
        this.failureError = null;
        this.flush();
        return;
      } catch (err) {
        if (err instanceof AuditStoreError && err.code === 'AUDIT_SEGMENT_CORRUPT') {
          // Durable bytes are gone: no retry can bring them back.
          this.failureError = err;
          return;
        }
      }
      if (this.closing !== null) return;
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, this.retryMs);
        timer.unref();
        this.retryTimer = { timer, wake };
      });
      this.retryTimer = null;
      if (this.closing !== null) return;
    }
  }

  /**
   * Cuts the active segment back to its durable length through a fresh fd, checks
   * the entries before that point still verify, and proves the segment takes writes
   * again with a probe write + fdatasync. Throws while anything fails.
   */
  private async repair(): Promise<void> {
    const file = this.activeFile;
    const io = this.io;
    if (this.fd !== null) {
      const old = this.fd;
      this.fd = null;
      await io.ftruncate(old, this.durableOffset).catch(() => undefined);
      await io.close(old).catch(() => undefined);
    }
    const fd = await io.open(file, 'r+').catch((err: unknown) => {
      throw storageError('open', file, err);
    });
    try {
      const size = await io.fileSize(fd).catch((err: unknown) => {
        throw storageError('fstat', file, err);
      });
      if (size < this.durableOffset) {
        throw new AuditStoreError('AUDIT_SEGMENT_CORRUPT', `audit segment ${file} is ${size} bytes, shorter than its ${this.durableOffset} durable bytes`);
      }
      if (size > this.durableOffset) {
        await io.ftruncate(fd, this.durableOffset).catch((err: unknown) => {
          throw storageError('ftruncate', file, err);
        });
      }
      await this.verifyTail(fd, file);
      await this.probe(fd, file);
    } catch (err) {
      await io.close(fd).catch(() => undefined);
      throw err;
    }
    this.fd = fd;
    this.writtenOffset = this.durableOffset;
    this.allocated = this.durableOffset;
  }

  /** The durable entries after the last index point must still read back whole, ending exactly at the durable offset. */
  private async verifyTail(fd: number, file: string): Promise<void> {
    const segment = this.segments.at(-1)!;
    if (segment.index.length === 0) return;
    const k = segment.index.length - 1;
    let pos = segment.index[k]!;
    let seq = segment.firstSeq + k * INDEX_STRIDE;
    const reader = new SegmentReader(this.io, fd, this.durableOffset);
    while (pos < this.durableOffset) {
      const frame = await validEntryAt(reader, pos, seq).catch((err: unknown) => {
        throw storageError('read', file, err);
      });
      if (frame === null) {
        throw new AuditStoreError('AUDIT_SEGMENT_CORRUPT', `audit segment ${file}: durable entry seq ${seq} at offset ${pos} does not verify`);
      }
      pos += frame.length;
      seq++;
    }
    if (seq !== this.durableCount) {
      throw new AuditStoreError('AUDIT_SEGMENT_CORRUPT', `audit segment ${file}: ends at seq ${seq}, ${this.durableCount} were durable`);
    }
  }

  /**
   * Proves the segment takes writes again: zeros written past the durable end and
   * fdatasync'ed, then cut off (and the cut fdatasync'ed). A crash in between leaves
   * zeros, which hold no valid entry, so opening cuts them as a torn tail.
   */
  private async probe(fd: number, file: string): Promise<void> {
    const io = this.io;
    try {
      writeAllSync(io, fd, [Buffer.alloc(PROBE_BYTES)], this.durableOffset);
      await io.fdatasync(fd);
    } catch (err) {
      await io.ftruncate(fd, this.durableOffset).catch(() => undefined);
      throw storageError('probe write', file, err);
    }
    await io.ftruncate(fd, this.durableOffset).catch((err: unknown) => {
      throw storageError('ftruncate', file, err);
    });
    await io.fdatasync(fd).catch((err: unknown) => {
      throw storageError('fdatasync', file, err);
    });
  }

  /** Stores a signed checkpoint note for tree size `size` (atomically; the same bytes again are a no-op). */
  saveCheckpoint(size: number, note: Uint8Array): Promise<void> {
    if (this.closing !== null) return Promise.reject(new AuditStoreError('AUDIT_STORE_CLOSED', 'audit store is closed'));
    if (!isCount(size)) return Promise.reject(invalid(`audit checkpoint: size must be a non-negative safe integer, not ${String(size)}`));
    if (!(note instanceof Uint8Array) || note.length === 0 || note.length > MAX_NOTE_BYTES) {
      return Promise.reject(invalid(`audit checkpoint: note must be 1 to ${MAX_NOTE_BYTES} bytes`));
    }
    const bytes = Buffer.from(note);
    return this.serialize(async () => {
      await writeCheckpoint(this.io, this.dirs.checkpoints, size, bytes);
      if (this.latest === null || size >= this.latest.size) this.latest = { size, note: bytes };
    });
  }

  /** The checkpoint with the largest size (kept in memory), or null. */
  latestCheckpoint(): { size: number; note: Buffer } | null {
    return this.latest === null ? null : { size: this.latest.size, note: Buffer.from(this.latest.note) };
  }

  /** Every stored checkpoint, ascending by size. */
  async checkpoints(): Promise<Array<{ size: number; note: Buffer }>> {
    const out: StoredCheckpoint[] = [];
    for (const size of await checkpointSizes(this.io, this.dirs.checkpoints)) {
      const note = await readCheckpoint(this.io, this.dirs.checkpoints, size);
      if (note !== null) out.push({ size, note });
    }
    return out;
  }

  /**
   * Up to `count` records from seq `from`, in order, durable ones only (a record
   * past `durable` may still be cut by a storage failure). Each is checked against
   * its header (seq, CRC) as it is read.
   */
  async read(from: number, count: number): Promise<Buffer[]> {
    if (!isCount(from) || !isCount(count)) throw invalid('audit read: from and count must be non-negative safe integers');
    const end = Math.min(from + count, this.durableCount);
    const out: Buffer[] = [];
    let seq = from;
    while (seq < end) {
      const i = this.segmentIndexOf(seq);
      const segment = this.segments[i]!;
      const segmentEnd = Math.min(end, this.segments[i + 1]?.firstSeq ?? end);
      const k = Math.floor((seq - segment.firstSeq) / INDEX_STRIDE);
      let pos = segment.index[k]!;
      let at = segment.firstSeq + k * INDEX_STRIDE;
      const fd = await this.io.open(segment.file, 'r').catch((err: unknown) => {
        throw storageError('open', segment.file, err);
      });
      try {
        const reader = new SegmentReader(this.io, fd, Number.MAX_SAFE_INTEGER, 256 * 1024);
        while (at < segmentEnd) {
          const frame = await validEntryAt(reader, pos, at).catch((err: unknown) => {
            throw storageError('read', segment.file, err);
          });
          if (frame === null) {
            throw new AuditStoreError('AUDIT_SEGMENT_CORRUPT', `audit segment ${segment.file}: entry seq ${at} at offset ${pos} does not verify`);
          }
          if (at >= seq) out.push(Buffer.from(frame.subarray(HEADER_BYTES)));
          pos += frame.length;
          at++;
        }
      } finally {
        await this.io.close(fd).catch(() => undefined);
      }
      seq = segmentEnd;
    }
    return out;
  }

  /** The segment holding `seq` (binary search on first seqs). */
  private segmentIndexOf(seq: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid]!.firstSeq <= seq) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** `log.json`, or null before the first writeInfo. */
  readInfo(): Promise<unknown | null> {
    return readInfoFile(this.io, path.join(this.dirs.root, 'log.json'));
  }

  /** Replaces `log.json` atomically: `{origin, verifier_key, attestation}`. */
  writeInfo(info: unknown): Promise<void> {
    if (this.closing !== null) return Promise.reject(new AuditStoreError('AUDIT_STORE_CLOSED', 'audit store is closed'));
    return this.serialize(() => writeInfoFile(this.io, path.join(this.dirs.root, 'log.json'), info));
  }

  private serialize(task: () => Promise<void>): Promise<void> {
    const run = this.fileChain.then(task, task);
    this.fileChain = run.catch(() => undefined);
    return run;
  }

  /**
   * Waits until every appended record is durable (or rejected), fdatasyncs and
   * closes. Appends after close() began are AUDIT_STORE_CLOSED. Rejects only when
   * that last fdatasync fails.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    // Nothing more is coming: a group still gathering is committed now.
    if (this.groupTimer !== null) this.commitGroup();
    const last = this.queue.at(-1);
    if (last !== undefined) {
      await new Promise<void>((settle) => (last.extra ??= []).push({ resolve: settle, reject: () => settle() }));
    }
    await this.syncing?.catch(() => undefined);
    await this.sealing?.catch(() => undefined);
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer.timer);
      this.retryTimer.wake();
    }
    await this.recovering?.catch(() => undefined);
    await this.fileChain;
    const fd = this.fd;
    this.fd = null;
    if (fd === null) return;
    try {
      if (this.failureError === null) {
        await this.cutPreallocated(fd);
        await this.io.fdatasync(fd);
      }
    } catch (err) {
      throw storageError('fdatasync', this.activeFile, err);
    } finally {
      await this.io.close(fd).catch(() => undefined);
    }
  }
}

/** Reads a segment's sealed marker, or null when it has none (for tools and tests). */
export async function readSealedMarker(io: AuditIo, segmentFile: string): Promise<SealedMarker | null> {
  const bytes = await readSmallFile(io, segmentFile + SEALED_SUFFIX);
  return bytes === null ? null : (JSON.parse(bytes.toString('utf8')) as SealedMarker);
}
