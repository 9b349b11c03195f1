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
 * The records of one enclave identity form one log, stored under
 * `audit/logs/<origin id>/` with `log.json` naming its origin, verifier key
 * and the attestation document that commits to that key.
 */
import { join } from 'node:path';

import type { EnclaveClientLike } from '../sidecar/client.ts';
import { SentinelError } from '../errors.ts';
import { AuditStore, type AuditIo, type AuditMode } from './store.ts';
import { AuditTiles } from './tiles.ts';

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
}

/** What `log.json` records about one log. */
export interface LogInfo {
  origin: string;
  verifier_key: string;
  /** The boot attestation document (base64) whose attested key bundle holds the checkpoint key. */
  attestation: string;
}

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
  private stopped = false;
  /** The last follower failure (the enclave unreachable, storage failing), for health. */
  lastError: SentinelError | null = null;

  private constructor(store: AuditStore, info: LogInfo, dir: string, enclave: EnclaveClientLike, options: AuditWriterOptions) {
    this.store = store;
    this.tiles = new AuditTiles(store);
    this.info = info;
    this.dir = dir;
    this.enclave = enclave;
    this.followMs = options.followMs ?? 100;
    this.ackEvery = options.ackEvery ?? 256;
  }

  /**
   * Opens the store of the enclave's current log (asking the enclave which one that is) and
   * catches up with what the enclave holds. Does not start the follower (`start`).
   */
  static async open(enclave: EnclaveClientLike, options: AuditWriterOptions): Promise<AuditWriter> {
    const head = await enclave.request({ op: 'audit_read', from: u64(0), max: u64(0) }).catch(() => null);
    const described = head ?? (await enclave.request({ op: 'audit_checkpoint' }));
    const evidence = await enclave.request({ op: 'evidence' });
    const info: LogInfo = {
      origin: described.origin,
      verifier_key: described.verifier_key,
      attestation: Buffer.from(evidence.attestation).toString('base64'),
    };
    const dir = join(options.dir, 'logs', logId(info.origin));
    const store = await AuditStore.open({
      dir,
      mode: options.mode ?? 'strict',
      ...(options.segmentBytes ? { segmentBytes: options.segmentBytes } : {}),
      ...(options.io ? { io: options.io } : {}),
      ...(options.retryMs ? { retryMs: options.retryMs } : {}),
    });
    const existing = (await store.readInfo()) as LogInfo | null;
    if (existing === null) await store.writeInfo(info);
    else if (existing.origin !== info.origin || existing.verifier_key !== info.verifier_key) {
      throw new SentinelError('AUDIT_LOG_MISMATCH', `${dir}: log.json names ${existing.origin}, the enclave's log is ${info.origin}`);
    }
    const writer = new AuditWriter(store, info, dir, enclave, options);
    writer.savedCheckpoint = store.latestCheckpoint()?.size ?? -1;
    await writer.follow();
    return writer;
  }

  get mode(): AuditMode {
    return this.store.mode;
  }

  /** Starts the follower timer. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      this.follow().catch(() => {});
    }, this.followMs);
    this.timer.unref();
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
      const busy = ((this.enclave as { inFlight?: number }).inFlight ?? 0) > 0;
      // No promise chained per record (this is the sign path): the acknowledgement is sent here,
      // once enough is durable, and by the follower.
      if (this.store.durable - this.acked >= this.ackEvery) void this.ack().catch(() => {});
      return this.store.append(seq, record, { busy });
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
      if (read.records.length === 0 || this.store.size >= Number(read.size)) {
        this.drainEarly();
        return;
      }
    }
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
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    try {
      await this.enclave.request({ op: 'audit_checkpoint' });
      await this.follow();
    } finally {
      await this.store.close();
    }
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

/** A u64 protocol field: the codec takes a JS number (ours stay below 2^53). */
function u64(n: number): bigint {
  return n as unknown as bigint;
}

function asError(e: unknown): SentinelError {
  if (e instanceof SentinelError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  return new SentinelError(typeof code === 'string' ? code : 'INTERNAL', (e as Error)?.message ?? String(e), { cause: e });
}
