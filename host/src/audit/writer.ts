/**
 * The audit writer: moves the enclave's audit records into the durable
 * store (`store.ts`) and tells the enclave what is stored.
 *
 * Records reach the host two ways. A receipted answer (and a session frame)
 * carries its own record, and the API hands it to `persist` before it
 * releases the answer: in strict mode (the default) `persist` resolves only
 * once the record is durable, so no signature leaves before its record is on
 * disk; in latency mode it resolves at once and the fsync follows (a later
 * loss is still detected: the receipt names the record's sequence number).
 * Every other record (configuration, policy, kill-switch actions, answers
 * that went around the API) is pulled by the follower: `audit_read` from the
 * store's size every `followMs`, and at once when an answer shows a gap.
 * The follower also stores each new signed checkpoint and acknowledges what
 * is durable (`audit_ack`), which is what lets the enclave keep signing:
 * past its backlog bound it refuses with `AUDIT_BACKLOG_FULL`.
 *
 * A log is stored under `audit/logs/<origin id>/` with `log.json` naming its
 * origin, its verifier keys and the attestation documents that commit to
 * them (`log-info.ts`); `audit/current` names the log in use. A restarted
 * enclave started with `--audit-resume` keeps its log closed until `open`
 * hands it the log `current` names (`audit_resume_begin`, the records from
 * seq 0, `audit_resume_finish`): the enclave checks them against the latest
 * signed checkpoint, rebuilds its state from them and continues the same log
 * under a new key, which `open` adds to `log.json`. A refused resume is an
 * error, never a silent new log (docs/audit.md, "Restart").
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { AnswerOf, EnclaveClientLike } from '../sidecar/client.ts';
import { SentinelError } from '../errors.ts';
import { logKeys, readCurrentLog, signingKey, withKey, writeCurrentLog, type LogInfo } from './log-info.ts';
import { AuditStore, type AuditIo, type AuditMode, type AuditStoreOptions } from './store.ts';
import { writeFileAtomic } from './files.ts';
import { nodeIo } from './io.ts';
import { AuditTiles } from './tiles.ts';

export { logKeys, signingKey, type LogInfo, type LogKey } from './log-info.ts';

/** What the enclave answered when its log opened: resumed (`resumed: true`) or started anew. */
export type AuditResumed = AnswerOf<'audit_resume_finish'>;

/** Most records and record bytes one `audit_resume_records` request carries (the protocol's caps). */
export const RESUME_BATCH_RECORDS = 1024;
export const RESUME_BATCH_BYTES = 512 * 1024;
/** A resume replays the whole log: its requests may take longer than a signature. */
const RESUME_TIMEOUT_MS = 120_000;

export interface AuditEntryLike {
  seq: number | bigint;
  record: Uint8Array;
}

export interface AuditWriterOptions {
  /** The data directory's `audit` folder. */
  dir: string;
  mode?: AuditMode;
  /** How often the follower reads the enclave's new records (default 100 ms). */
  followMs?: number;
  /** Acknowledge once this many new records are durable (default 256), and on every follower tick. */
  ackEvery?: number;
  /** Segment size of the store (tests). */
  segmentBytes?: number;
  /** File operations of the store (tests inject faults); default node:fs. */
  io?: AuditIo;
  /** How often a failed store probes the disk again (default 250 ms). */
  retryMs?: number;
  /**
   * The enclave's log is waiting (`--audit-resume`): start a new log (`audit_start`) instead of
   * continuing the one `current` names (`zcp up --audit-new-log`).
   */
  newLog?: boolean;
  /**
   * A connection of its own (it carries no session and nothing the API waits on) on which the
   * writer follows the log with `audit_wait`: every new record is stored and acknowledged as soon
   * as the enclave makes it, which is what releases the session answers an enclave started with
   * `--audit-strict-sessions` holds. Without one, the follower polls every `followMs`.
   */
  watch?: EnclaveClientLike;
  /**
   * How often the writer asks the enclave for a sealed state snapshot (`sealed_snapshot`, stored as
   * `snapshot.seal` in the log's directory once the log is durable up to it), so that a restart
   * replays only the records after it. Default 60,000 ms; 0: no timer (`snapshot()` and the clean
   * stop still take one) (docs/sealed-state.md).
   */
  snapshotEveryMs?: number;
}

/** The sealed state snapshot of a log, next to its records. */
export const SNAPSHOT_FILE = 'snapshot.seal';
const SNAPSHOT_MAGIC = Buffer.from('SNTLSNAP');

/** `snapshot.seal`: `SNTLSNAP`, u32 BE part count, then each part as u32 BE length and bytes. */
export function encodeSnapshotFile(parts: Uint8Array[]): Buffer {
  const head = Buffer.alloc(12);
  SNAPSHOT_MAGIC.copy(head);
  head.writeUInt32BE(parts.length, 8);
  const chunks: Buffer[] = [head];
  for (const part of parts) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(part.length);
    chunks.push(len, Buffer.from(part));
  }
  return Buffer.concat(chunks);
}

/** The parts of a `snapshot.seal` file; SEALED_STORE_INVALID when it is not one (the enclave checks each part again). */
export function decodeSnapshotFile(bytes: Buffer): Buffer[] {
  const invalid = (why: string): SentinelError => new SentinelError('SEALED_STORE_INVALID', `${SNAPSHOT_FILE}: ${why}`);
  if (bytes.length < 12 || !bytes.subarray(0, 8).equals(SNAPSHOT_MAGIC)) throw invalid('not a snapshot file');
  const count = bytes.readUInt32BE(8);
  const parts: Buffer[] = [];
  let at = 12;
  for (let i = 0; i < count; i++) {
    if (at + 4 > bytes.length) throw invalid('truncated');
    const len = bytes.readUInt32BE(at);
    if (at + 4 + len > bytes.length) throw invalid('truncated');
    parts.push(bytes.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  if (at !== bytes.length || count === 0) throw invalid(count === 0 ? 'no part' : 'trailing bytes');
  return parts;
}

/** What the last snapshot was, for health and `zcp up`. */
export interface SnapshotInfo {
  size: number;
  bytes: number;
  parts: number;
  pausedUs: number;
  atMs: number;
}

/** How long one `audit_wait` may wait for a record before it answers empty. */
const WATCH_WAIT_MS = 1000;

/** The `<16 hex>` of `sentinel/log/<16 hex>`: the log's directory name. */
export function logId(origin: string): string {
  const id = origin.split('/').pop() ?? '';
  if (!/^[0-9a-f]{16}$/.test(id)) throw new SentinelError('AUDIT_ORIGIN_INVALID', `origin: ${JSON.stringify(origin)} is not sentinel/log/<16 hex digits>`);
  return id;
}

/** The tree size a checkpoint note states (its second line). */
export function checkpointSize(note: Uint8Array): number {
  const lines = Buffer.from(note).toString('utf8').split('\n');
  const size = Number(lines[1]);
  if (!/^[0-9]+$/.test(lines[1] ?? '') || !Number.isSafeInteger(size)) {
    throw new SentinelError('AUDIT_CHECKPOINT_MALFORMED', 'checkpoint: the second line is not a tree size');
  }
  return size;
}

export class AuditWriter {
  readonly store: AuditStore;
  readonly tiles: AuditTiles;
  readonly info: LogInfo;
  readonly dir: string;
  private readonly enclave: EnclaveClientLike;
  private readonly followMs: number;
  private readonly ackEvery: number;
  /** Records that arrived ahead of the store (seq > size), waiting for the ones before them. */
  private readonly early = new Map<number, { record: Uint8Array; waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> }>();
  private filling: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private acked = 0;
  private savedCheckpoint = -1;
  /** `audit/current` names this log (written once the log has a stored checkpoint: only then can it be resumed). */
  private isCurrent = false;
  private stopped = false;
  /** Ends the watch loop's pause after a failed `audit_wait` (set while it waits). */
  private wakeWatch: (() => void) | undefined;
  /** How the log opened: null when it was open at boot, else the enclave's `audit_resumed` answer. */
  readonly resumed: AuditResumed | null;
  private readonly auditDir: string;
  private readonly io: AuditIo | undefined;
  private readonly watchClient: EnclaveClientLike | null;
  private watching: Promise<void> | null = null;
  /** The last follower failure (the enclave unreachable, storage failing), for health. */
  lastError: SentinelError | null = null;
  private readonly snapshotEveryMs: number;
  private snapshotTimer: NodeJS.Timeout | null = null;
  private snapshotting: Promise<SnapshotInfo | null> | null = null;
  /** Set once the enclave answered SEALING_DISABLED: it has nothing to seal a snapshot with. */
  private snapshotsOff = false;
  /** The last snapshot stored, and the last failure to take one (health). */
  lastSnapshot: SnapshotInfo | null = null;
  snapshotError: SentinelError | null = null;

  private constructor(
    store: AuditStore,
    info: LogInfo,
    dir: string,
    enclave: EnclaveClientLike,
    options: AuditWriterOptions,
    resumed: AuditResumed | null,
  ) {
    this.store = store;
    this.tiles = new AuditTiles(store);
    this.info = info;
    this.dir = dir;
    this.enclave = enclave;
    this.followMs = options.followMs ?? 100;
    this.ackEvery = options.ackEvery ?? 256;
    this.resumed = resumed;
    this.auditDir = options.dir;
    this.io = options.io;
    this.watchClient = options.watch ?? null;
    this.snapshotEveryMs = options.snapshotEveryMs ?? 60_000;
  }

  /**
   * Opens the store of the enclave's log and catches up with what the enclave holds. Does not
   * start the follower (`start`).
   *
   * - The enclave's log is open (it booted without `--audit-resume`): its log, in its own
   *   directory (created with `log.json` if new).
   * - It is waiting (`AUDIT_LOG_NOT_OPEN`) and `audit/current` names a log: that log is resumed
   *   (`resumeLog`) and continues in the same directory, with the new key added to `log.json`.
   *   A refusal throws the enclave's code (`AUDIT_RESUME_INVALID`, `_ATTESTATION`, `_MISMATCH`, ...).
   * - It is waiting and there is no log to continue (or `newLog`): `audit_start`, a new log.
   */
  static async open(enclave: EnclaveClientLike, options: AuditWriterOptions): Promise<AuditWriter> {
    const storeOptions = (dir: string): AuditStoreOptions => ({
      dir,
      mode: options.mode ?? 'strict',
      ...(options.segmentBytes ? { segmentBytes: options.segmentBytes } : {}),
      ...(options.io ? { io: options.io } : {}),
      ...(options.retryMs ? { retryMs: options.retryMs } : {}),
    });
    let described: { origin: string; verifier_key: string } | null = await describeLog(enclave);
    let resumed: AuditResumed | null = null;
    let continued: { store: AuditStore; previous: LogInfo; dir: string } | null = null;
    if (described === null) {
      const id = options.newLog ? null : readCurrentLog(options.dir);
      if (id === null) {
        resumed = await enclave.request({ op: 'audit_start' });
      } else {
        const dir = join(options.dir, 'logs', id);
        const done = await resumeLog(enclave, dir, storeOptions(dir));
        resumed = done.answer;
        continued = { store: done.store, previous: done.previous, dir };
      }
      described = resumed;
    }
    const evidence = await enclave.request({ op: 'evidence' }).catch(async (e: unknown) => {
      await continued?.store.close().catch(() => {});
      throw e;
    });
    const attestation = Buffer.from(evidence.attestation).toString('base64');

    let store: AuditStore;
    let info: LogInfo;
    let dir: string;
    if (continued !== null) {
      ({ store, dir } = continued);
      try {
        if (described.origin !== continued.previous.origin) {
          throw new SentinelError('AUDIT_LOG_MISMATCH', `${dir}: log.json names ${continued.previous.origin}, the enclave resumed ${described.origin}`);
        }
        const fromSeq = Number(resumed?.resumed_seq ?? -1);
        if (fromSeq !== store.size) {
          throw new SentinelError('AUDIT_LOG_MISMATCH', `${dir}: the enclave continues the log at seq ${fromSeq}, the store holds ${store.size} records`);
        }
        info = withKey(continued.previous, { verifier_key: described.verifier_key, attestation, from_seq: fromSeq });
        await store.writeInfo(info);
      } catch (e) {
        await store.close().catch(() => {});
        throw e;
      }
    } else {
      const origin = described.origin;
      dir = join(options.dir, 'logs', logId(origin));
      store = await AuditStore.open(storeOptions(dir));
      const existing = (await store.readInfo()) as LogInfo | null;
      if (existing === null) {
        info = withKey({ origin, verifier_key: described.verifier_key, attestation, keys: [] }, { verifier_key: described.verifier_key, attestation, from_seq: 0 });
        await store.writeInfo(info);
      } else if (existing.origin !== origin || existing.verifier_key !== described.verifier_key) {
        await store.close().catch(() => {});
        throw new SentinelError('AUDIT_LOG_MISMATCH', `${dir}: log.json names ${existing.origin}, the enclave's log is ${origin}`);
      } else {
        info = existing;
      }
    }
    const writer = new AuditWriter(store, info, dir, enclave, options, resumed);
    writer.savedCheckpoint = store.latestCheckpoint()?.size ?? -1;
    // A resumed log is already the one `current` names.
    writer.isCurrent = continued !== null;
    // A checkpoint of everything so far, stored before the API serves anything: the log can be
    // resumed from the start (`current` is written once it is stored).
    await writer.checkpoint();
    return writer;
  }

  get mode(): AuditMode {
    return this.store.mode;
  }

  /** Starts the follower timer, and the `audit_wait` loop when the writer has a connection for it. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      this.follow().catch(() => {});
    }, this.followMs);
    this.timer.unref();
    if (this.watchClient && !this.watching) this.watching = this.watchLoop(this.watchClient);
    if (this.snapshotEveryMs > 0) {
      this.snapshotTimer = setInterval(() => {
        this.snapshot().catch(() => {});
      }, this.snapshotEveryMs);
      this.snapshotTimer.unref();
    }
  }

  /**
   * Takes a sealed state snapshot (`sealed_snapshot`: decisions pause while the enclave captures
   * its state and signs a checkpoint at that point) and stores it as `snapshot.seal` (atomic
   * replace) once the records it covers and that checkpoint are durable here, never before: a
   * snapshot ahead of the stored log would make the next resume refuse the log as rolled back.
   * Null when sealing is `none` (then the timer stops). One at a time.
   */
  snapshot(): Promise<SnapshotInfo | null> {
    if (!this.snapshotting) {
      this.snapshotting = this.takeSnapshot().finally(() => {
        this.snapshotting = null;
      });
    }
    return this.snapshotting;
  }

  private async takeSnapshot(): Promise<SnapshotInfo | null> {
    try {
      const answer = await this.enclave.request({ op: 'sealed_snapshot', part: u64(0) });
      const size = Number(answer.size);
      const parts: Uint8Array[] = [answer.record.record];
      for (let i = 1; i < Number(answer.parts); i++) {
        const next = await this.enclave.request({ op: 'sealed_snapshot', part: u64(i) });
        if (Number(next.size) !== size || Number(next.part) !== i) {
          throw new SentinelError('UNEXPECTED_RESPONSE', `snapshot part ${i}: the enclave answered part ${Number(next.part)} of a snapshot at ${Number(next.size)}`);
        }
        parts.push(next.record.record);
      }
      await this.fill();
      await this.waitDurable();
      await this.saveCheckpoint(answer.checkpoint);
      if (this.store.durable < size || this.savedCheckpoint < size) {
        throw new SentinelError('AUDIT_STORAGE_UNAVAILABLE', `snapshot at ${size}: the stored log reaches ${this.store.durable} records, checkpoint ${this.savedCheckpoint}; the snapshot is not stored`);
      }
      const file = encodeSnapshotFile(parts);
      await writeFileAtomic(this.io ?? nodeIo, join(this.dir, SNAPSHOT_FILE), file);
      this.lastSnapshot = { size, bytes: file.length, parts: parts.length, pausedUs: Number(answer.paused_us), atMs: Date.now() };
      this.snapshotError = null;
      return this.lastSnapshot;
    } catch (e) {
      const error = asError(e);
      if (error.code === 'SEALING_DISABLED') {
        this.snapshotsOff = true;
        if (this.snapshotTimer) clearInterval(this.snapshotTimer);
        this.snapshotTimer = null;
        return null;
      }
      this.snapshotError = error;
      throw error;
    }
  }

  /**
   * Follows the log as it grows: `audit_wait` from the store's size, store what comes (group
   * commit), acknowledge at once. One fsync after a record is made, the enclave knows it is
   * durable: what a session answer held for its record (strict sessions) waits for.
   */
  private async watchLoop(client: EnclaveClientLike): Promise<void> {
    while (!this.stopped) {
      try {
        const read = await client.request({
          op: 'audit_wait',
          from: u64(this.store.size),
          max: u64(1024),
          timeout_ms: u64(WATCH_WAIT_MS),
        });
        if (this.stopped) return;
        await this.storeRead(read);
        await this.ack();
      } catch (e) {
        if (this.stopped) return;
        this.lastError = asError(e);
        // The pause ends early when the writer is stopped or abandoned (an enclave that is gone).
        await new Promise<void>((r) => {
          const t = setTimeout(r, this.followMs);
          this.wakeWatch = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wakeWatch = undefined;
      }
    }
  }

  /**
   * Stores one record the enclave attached to an answer. Strict: resolves once it is durable
   * (rejects with AUDIT_STORAGE_UNAVAILABLE when it cannot be); latency: resolves at once.
   */
  persist(entry: AuditEntryLike): Promise<void> {
    const durable = this.persistDurably(Number(entry.seq), entry.record);
    if (this.store.mode === 'latency') {
      durable.catch((e) => {
        this.lastError = asError(e);
      });
      return Promise.resolve();
    }
    return durable;
  }

  private persistDurably(seq: number, record: Uint8Array): Promise<void> {
    if (seq <= this.store.size) {
      // Other requests still in flight: their records follow at once, so group-commit them
      // instead of an fdatasync on the event loop per record.
      const pending = (this.enclave as { inFlight?: number }).inFlight ?? 0;
      // No promise chained per record (this is the sign path): the acknowledgement is sent here,
      // once enough is durable, and by the follower.
      if (this.store.durable - this.acked >= this.ackEvery) void this.ack().catch(() => {});
      return this.store.append(seq, record, { busy: pending > 0, pending, alone: pending === 0 });
    }
    // Ahead of the store: wait for the records before it (in flight on other answers, or
    // only in the enclave), and fetch them now rather than on the next tick.
    return new Promise<void>((resolve, reject) => {
      const slot = this.early.get(seq) ?? { record, waiters: [] };
      slot.waiters.push({ resolve, reject });
      this.early.set(seq, slot);
      setImmediate(() => {
        if (this.early.size > 0) this.fill().catch(() => {});
      });
    });
  }

  /** Appends the early records that are now next in line. */
  private drainEarly(): void {
    for (;;) {
      const next = this.early.get(this.store.size);
      if (!next) return;
      this.early.delete(this.store.size);
      const done = this.store.append(this.store.size, next.record, { busy: true });
      for (const w of next.waiters) done.then(w.resolve, w.reject);
    }
  }

  /** Reads what the enclave holds from the store's size (one at a time). */
  private fill(): Promise<void> {
    if (!this.filling) {
      this.filling = this.readFromEnclave().finally(() => {
        this.filling = null;
      });
    }
    return this.filling;
  }

  private async readFromEnclave(): Promise<void> {
    for (;;) {
      this.drainEarly();
      const from = this.store.size;
      const read = await this.enclave.request({ op: 'audit_read', from: u64(from), max: u64(1024) });
      await this.storeRead(read);
      if (read.records.length === 0 || this.store.size >= Number(read.size)) {
        this.drainEarly();
        return;
      }
    }
  }

  /** Stores the records of one `audit_read` / `audit_wait` answer (those the store lacks) and its checkpoint. */
  private async storeRead(read: { from: bigint | number; records: Uint8Array[]; checkpoint: Uint8Array | null }): Promise<void> {
    const at = Number(read.from);
    const appends: Promise<void>[] = [];
    read.records.forEach((record: Uint8Array, i: number) => {
      const seq = at + i;
      if (seq >= this.store.size) {
        const waiting = this.early.get(seq);
        this.early.delete(seq);
        const done = this.store.append(seq, record, { busy: true });
        appends.push(done);
        for (const w of waiting?.waiters ?? []) done.then(w.resolve, w.reject);
      }
    });
    await this.saveCheckpoint(read.checkpoint);
    if (appends.length > 0) await Promise.all(appends);
    // The checkpoint may cover records that only now became durable.
    await this.saveCheckpoint(read.checkpoint);
  }

  private async saveCheckpoint(note: Uint8Array | null | undefined): Promise<void> {
    if (!note) return;
    const size = checkpointSize(note);
    if (size <= this.savedCheckpoint) return;
    // A checkpoint is stored once the records it covers are durable: a stored checkpoint never
    // vouches for records the store could still lose.
    if (size > this.store.durable) return;
    await this.store.saveCheckpoint(size, Buffer.from(note));
    this.savedCheckpoint = size;
    if (!this.isCurrent) {
      await writeCurrentLog(this.auditDir, logId(this.info.origin), this.io);
      this.isCurrent = true;
    }
  }

  private async ack(): Promise<void> {
    const durable = this.store.durable;
    if (durable <= this.acked) return;
    this.acked = durable;
    await this.enclave.request({ op: 'audit_ack', durable: u64(durable) });
  }

  /** One follower step: new records, the latest checkpoint, the acknowledgement. */
  async follow(): Promise<void> {
    try {
      await this.fill();
      await this.waitDurable();
      const latest = await this.enclave.request({ op: 'audit_read', from: u64(this.store.size), max: u64(0) });
      await this.saveCheckpoint(latest.checkpoint);
      await this.ack();
      this.lastError = null;
    } catch (e) {
      this.lastError = asError(e);
      throw this.lastError;
    }
  }

  /** Asks the enclave for a checkpoint of everything it recorded and stores it (with the records it covers). */
  async checkpoint(): Promise<void> {
    await this.enclave.request({ op: 'audit_checkpoint' });
    await this.follow();
  }

  /** Resolves once every record appended so far is durable (or the store fails). */
  private async waitDurable(): Promise<void> {
    const size = this.store.size;
    while (this.store.durable < size && this.store.failure === null) await new Promise((r) => setTimeout(r, 1));
    if (this.store.failure) throw this.store.failure;
  }

  /**
   * Clean shutdown: asks the enclave for a checkpoint of everything it recorded, stores the
   * remaining records and that checkpoint, acknowledges, and closes the store.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    // A last snapshot, so the next start replays nothing (best effort: the log is the authority).
    if (!this.snapshotsOff) await this.snapshot().catch(() => {});
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    try {
      await this.enclave.request({ op: 'audit_checkpoint' });
      await this.follow();
    } finally {
      await this.store.close();
    }
  }

  /**
   * Stops following a log whose enclave is gone (it exited or was killed): no checkpoint can be asked
   * for, so what is stored stays as it is (a restarted enclave resumes from it), and the store is closed.
   */
  async abandon(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.snapshotTimer) clearInterval(this.snapshotTimer);
    this.wakeWatch?.();
    await this.store.close();
  }

  /** Non-null while the store cannot be written (the API then refuses signing requests). */
  failure(): SentinelError | null {
    return this.store.failure ?? null;
  }

  /** The stored log the API's `/v1/audit/*` routes serve. */
  log(): { info: LogInfo; store: AuditStore; tiles: AuditTiles } {
    return { info: this.info, store: this.store, tiles: this.tiles };
  }

  /** For health and metrics. */
  status(): { origin: string; size: number; durable: number; checkpoint: number; mode: AuditMode; failure: string | null } {
    return {
      origin: this.info.origin,
      size: this.store.size,
      durable: this.store.durable,
      checkpoint: this.savedCheckpoint,
      mode: this.store.mode,
      failure: this.store.failure?.code ?? this.lastError?.code ?? null,
    };
  }
}

/** The enclave's log (origin and key), or null while it waits for a resume (`AUDIT_LOG_NOT_OPEN`). */
async function describeLog(enclave: EnclaveClientLike): Promise<{ origin: string; verifier_key: string } | null> {
  try {
    return await enclave.request({ op: 'audit_read', from: u64(0), max: u64(0) });
  } catch (e) {
    if ((e as { code?: unknown } | null)?.code === 'AUDIT_LOG_NOT_OPEN') return null;
  }
  // Records from 0 already acknowledged (a writer opened again against a running enclave).
  return enclave.request({ op: 'audit_checkpoint' });
}

/**
 * Hands the stored log in `dir` to a waiting enclave: its latest checkpoint with the attestation
 * document of the key that signed it and the log's sealed snapshot if there is one, then every
 * durable record from seq 0 (or from the snapshot's position), in order, one request
 * at a time (at most RESUME_BATCH_RECORDS records and RESUME_BATCH_BYTES bytes each). Returns the
 * store, open, to continue the log in.
 */
async function resumeLog(
  enclave: EnclaveClientLike,
  dir: string,
  storeOptions: AuditStoreOptions,
): Promise<{ store: AuditStore; previous: LogInfo; answer: AuditResumed }> {
  if (!existsSync(join(dir, 'log.json'))) {
    throw new SentinelError('AUDIT_LOG_NOT_FOUND', `${dir}: the log in use (audit/current) has no log.json here; nothing to continue`);
  }
  const store = await AuditStore.open(storeOptions);
  try {
    const previous = (await store.readInfo()) as LogInfo | null;
    if (previous === null) throw new SentinelError('AUDIT_LOG_NOT_FOUND', `${dir}: no log.json`);
    const checkpoint = store.latestCheckpoint();
    if (checkpoint === null) {
      throw new SentinelError('AUDIT_RESUME_NO_CHECKPOINT', `${dir}: no signed checkpoint is stored, so nothing vouches for its ${store.size} records`);
    }
    // The enclave decides whether the document and the checkpoint go together; a key of the
    // history that does not open the checkpoint would only be refused.
    const key = signingKey(previous, checkpoint.note) ?? logKeys(previous).at(-1)!;
    const timeoutMs = RESUME_TIMEOUT_MS;
    const attestation = Buffer.from(key.attestation, 'base64');
    const snapshotPath = join(dir, SNAPSHOT_FILE);
    let parts: Buffer[] = [];
    try {
      if (existsSync(snapshotPath)) parts = decodeSnapshotFile(readFileSync(snapshotPath));
    } catch (e) {
      process.stderr.write(`warning: ${(e as Error).message}; replaying the whole log\n`);
    }
    let begun: { next: bigint | number };
    try {
      begun = await enclave.request({ op: 'audit_resume_begin', attestation, checkpoint: checkpoint.note, snapshot: parts[0] ?? null }, { timeoutMs });
      for (const part of parts.slice(1)) begun = await enclave.request({ op: 'audit_resume_snapshot', part }, { timeoutMs });
    } catch (e) {
      // A snapshot this enclave cannot use (another master key, sealing turned off) only costs
      // time: the whole log is replayed instead. A log older than the snapshot is never retried.
      const code = (e as { code?: unknown } | null)?.code;
      if (parts.length === 0 || (code !== 'SEAL_SNAPSHOT_MISMATCH' && code !== 'SEALING_DISABLED')) throw e;
      process.stderr.write(`warning: ${dir}/${SNAPSHOT_FILE} was not used (${String(code)}: ${(e as Error).message}); replaying the whole log\n`);
      begun = await enclave.request({ op: 'audit_resume_begin', attestation, checkpoint: checkpoint.note, snapshot: null }, { timeoutMs });
    }
    let next = Number(begun.next);
    let read: Buffer[] = [];
    while (next < store.size) {
      if (read.length === 0) read = await store.read(next, RESUME_BATCH_RECORDS);
      let bytes = 0;
      let n = 0;
      while (n < read.length && (n === 0 || bytes + read[n]!.length <= RESUME_BATCH_BYTES)) bytes += read[n++]!.length;
      await enclave.request({ op: 'audit_resume_records', records: read.splice(0, n) }, { timeoutMs });
      next += n;
    }
    const answer = await enclave.request({ op: 'audit_resume_finish' }, { timeoutMs });
    return { store, previous, answer };
  } catch (e) {
    await store.close().catch(() => {});
    throw asError(e);
  }
}

/** A u64 protocol field: the codec takes a JS number (ours stay below 2^53). */
function u64(n: number): bigint {
  return n as unknown as bigint;
}

function asError(e: unknown): SentinelError {
  if (e instanceof SentinelError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  return new SentinelError(typeof code === 'string' ? code : 'INTERNAL', (e as Error)?.message ?? String(e), { cause: e });
}
