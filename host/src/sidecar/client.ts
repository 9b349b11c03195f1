/**
 * The sidecar: the host's one connection to the enclave.
 *
 * It sits in the latency path of every signature, so the hot path is a
 * Map lookup and a frame write: the wire format stays in the native codec
 * (`core.encodeRequest` / `FrameDecoder` / `decodeResponse`), each request
 * costs one promise and one timer (armed with arguments, not a closure), and
 * writes issued in the same tick are corked into one syscall.
 *
 * Requests lost with a connection are rejected, never re-sent: a signing
 * request may already have been executed, and replaying it silently is the
 * caller's decision to make, not ours. Only the connection is retried, with
 * capped exponential backoff.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

import type { AnswerOf, Operation, Request, Response } from '@sentinel/node/protocol';

import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import type { Transport } from './transport.ts';

export type { AnswerOf, Operation, Request, Response };

/** A decoded answer frame: any response type, with the request id. */
export type EnclaveResponse = ReturnType<typeof core.decodeResponse>;
/** The successful answer to request `R` (its type follows from `R['op']`). */
export type Answer<R extends Request> = AnswerOf<R['op']> & { id: number };

export interface RequestOptions {
  timeoutMs?: number;
}

/** What the API needs from the sidecar (tests substitute fakes). */
export interface EnclaveClientLike {
  /**
   * Sends one request; resolves with the answer type the operation declares
   * (generated from crates/protocol), rejects with the enclave's code on `error`.
   */
  request<R extends Request>(request: R, options?: RequestOptions): Promise<Answer<R>>;
}

/** Operation -> answer type, from the Rust definitions (one table, read once). */
const ANSWER_TYPES: Readonly<Record<string, string>> = core.operationAnswers();

export interface EnclaveClientOptions {
  transport: Transport;
  /** Default per-request timeout. */
  timeoutMs?: number;
  /** Requests written and not yet answered; callers past it wait in a queue. */
  maxInFlight?: number;
  /** Waiting callers past which new requests fail fast with ENCLAVE_BUSY. */
  maxQueued?: number;
  backoff?: { initialMs?: number; maxMs?: number };
}

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closed';

class Pending {
  resolve!: (response: EnclaveResponse) => void;
  /** The answer type this request's operation declares. */
  expects = '';
  reject!: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
  /** The encoded request while it waits in the queue (unset once written). */
  frame: Buffer | undefined;
  done = false;

  constructor(readonly id: number) {}
}

export class EnclaveClient extends EventEmitter implements EnclaveClientLike {
  private readonly transport: Transport;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly maxQueued: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;

  private socket: Socket | null = null;
  private decoder = new core.FrameDecoder();
  private connState: ConnectionState = 'idle';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private inFlightCount = 0;
  private queue: Pending[] = [];
  private queueHead = 0;
  private queuedCount = 0;
  /** Frames held back after `write()` returned false, until 'drain'. */
  private outbox: Buffer[] | null = null;
  private corkedSocket: Socket | null = null;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private lastError: Error | undefined;

  constructor(options: EnclaveClientOptions) {
    super();
    this.transport = options.transport;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxInFlight = options.maxInFlight ?? 4096;
    this.maxQueued = options.maxQueued ?? 65_536;
    this.backoffInitialMs = options.backoff?.initialMs ?? 50;
    this.backoffMaxMs = options.backoff?.maxMs ?? 5_000;
  }

  get state(): ConnectionState {
    return this.connState;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  get queued(): number {
    return this.queuedCount;
  }

  /** Starts connecting (and reconnecting) and resolves once connected. */
  connect(timeoutMs = 10_000): Promise<void> {
    if (this.connState === 'closed') return Promise.reject(unavailable('the client is closed'));
    if (this.connState === 'connected') return Promise.resolve();
    if (this.connState === 'idle') this.open();
    return new Promise((resolve, reject) => {
      const done = (error?: Error): void => {
        clearTimeout(timer);
        this.off('connect', onConnect);
        this.off('closed', onClosed);
        if (error) reject(error);
        else resolve();
      };
      const onConnect = (): void => done();
      const onClosed = (): void => done(unavailable('the client was closed while connecting'));
      const timer = setTimeout(() => {
        const cause = this.lastError ? `: ${this.lastError.message}` : '';
        done(unavailable(`could not connect to the enclave within ${timeoutMs} ms${cause}`));
      }, timeoutMs);
      this.on('connect', onConnect);
      this.on('closed', onClosed);
    });
  }

  request<R extends Request>(request: R, options?: RequestOptions): Promise<Answer<R>> {
    if (this.connState !== 'connected') {
      return Promise.reject(unavailable(`not connected to the enclave (${this.connState})`));
    }
    const sendNow = this.inFlightCount < this.maxInFlight;
    if (!sendNow && this.queuedCount >= this.maxQueued) {
      return Promise.reject(
        new SentinelError('ENCLAVE_BUSY', `${this.inFlightCount} requests in flight and ${this.queuedCount} queued`),
      );
    }
    const id = this.nextId++;
    let frame: Buffer;
    try {
      frame = encodeFrame(id, request);
    } catch (e) {
      return Promise.reject(e);
    }
    const p = new Pending(id);
    p.expects = ANSWER_TYPES[request.op] ?? '';
    const promise = new Promise<Answer<R>>((resolve, reject) => {
      p.resolve = resolve as (response: EnclaveResponse) => void;
      p.reject = reject;
    });
    p.timer = setTimeout(this.onTimeout, options?.timeoutMs ?? this.timeoutMs, p);
    if (sendNow) {
      this.send(p, frame);
    } else {
      p.frame = frame;
      this.queue.push(p);
      this.queuedCount++;
    }
    return promise;
  }

  /** Rejects everything outstanding, stops reconnecting and closes the connection. */
  async close(): Promise<void> {
    if (this.connState === 'closed') return;
    this.connState = 'closed';
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.rejectAll('the client was closed');
    this.emit('closed');
    const socket = this.socket;
    this.socket = null;
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.destroy();
      });
    }
  }

  private open(): void {
    this.connState = 'connecting';
    this.decoder = new core.FrameDecoder();
    this.outbox = null;
    let socket: Socket;
    try {
      socket = this.transport();
    } catch (e) {
      this.lastError = e instanceof Error ? e : new Error(String(e));
      this.connState = 'disconnected';
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.on('connect', () => {
      if (socket !== this.socket) return;
      socket.setNoDelay?.(true);
      this.connState = 'connected';
      this.attempts = 0;
      this.lastError = undefined;
      this.emit('connect');
    });
    socket.on('data', (chunk: Buffer) => {
      if (socket === this.socket) this.onData(chunk);
    });
    socket.on('drain', () => {
      if (socket === this.socket) this.flush(socket);
    });
    socket.on('error', (error: Error) => {
      this.lastError = error;
    });
    socket.on('close', () => {
      if (socket === this.socket) this.onClose();
    });
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      let response: EnclaveResponse;
      try {
        const body = this.decoder.next();
        if (body === null) break;
        response = core.decodeResponse(body);
      } catch (e) {
        // The stream can no longer be trusted to be in sync: drop it (and with it every request on it).
        this.lastError = e instanceof Error ? e : new Error(String(e));
        this.emit('protocolError', this.lastError);
        this.socket?.destroy();
        return;
      }
      const p = this.pending.get(response.id);
      // Unknown ids: answers to requests that already timed out, or id-0 errors about a frame we never sent.
      if (p === undefined) continue;
      this.pending.delete(response.id);
      this.inFlightCount--;
      p.done = true;
      clearTimeout(p.timer);
      if (response.type === 'error') {
        p.reject(new SentinelError(response.code, response.message));
      } else if (response.type !== p.expects) {
        // The enclave and this host disagree about the protocol: report it, never cast it away.
        p.reject(
          new SentinelError('UNEXPECTED_RESPONSE', `the enclave answered \`${response.type}\` where \`${p.expects}\` was expected`),
        );
      } else {
        p.resolve(response);
      }
    }
    if (this.queuedCount > 0) this.pump();
  }

  private send(p: Pending, frame: Buffer): void {
    this.inFlightCount++;
    this.pending.set(p.id, p);
    const socket = this.socket!;
    if (this.outbox !== null) {
      this.outbox.push(frame);
      return;
    }
    if (this.corkedSocket !== socket) {
      this.corkedSocket = socket;
      socket.cork();
      process.nextTick(this.onTick, socket);
    }
    if (!socket.write(frame)) this.outbox = [];
  }

  private flush(socket: Socket): void {
    const outbox = this.outbox;
    if (outbox === null) return;
    let i = 0;
    let writable = true;
    socket.cork();
    while (i < outbox.length && writable) writable = socket.write(outbox[i++]!);
    socket.uncork();
    if (i === outbox.length && writable) this.outbox = null;
    else outbox.splice(0, i);
  }

  private readonly onTick = (socket: Socket): void => {
    if (this.corkedSocket === socket) this.corkedSocket = null;
    socket.uncork();
  };

  /** A freed in-flight slot goes to the oldest waiting caller still waiting. */
  private pump(): void {
    while (this.inFlightCount < this.maxInFlight && this.queueHead < this.queue.length) {
      const p = this.queue[this.queueHead++]!;
      if (p.done) continue;
      this.queuedCount--;
      const frame = p.frame!;
      p.frame = undefined;
      this.send(p, frame);
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private readonly onTimeout = (p: Pending): void => {
    if (p.done) return;
    p.done = true;
    if (p.frame !== undefined) {
      p.frame = undefined;
      this.queuedCount--;
    } else {
      // The enclave may still answer; that late answer is dropped as an unknown id.
      this.pending.delete(p.id);
      this.inFlightCount--;
    }
    p.reject(new SentinelError('ENCLAVE_TIMEOUT', `request ${p.id} got no answer from the enclave in time`));
    if (this.queuedCount > 0) this.pump();
  };

  private onClose(): void {
    this.socket = null;
    this.corkedSocket = null;
    this.outbox = null;
    this.connState = 'disconnected';
    this.rejectAll('the connection to the enclave was lost; the request may or may not have been executed');
    this.emit('disconnect', this.lastError);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** this.attempts);
    this.attempts = Math.min(this.attempts + 1, 30);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.connState !== 'closed') this.open();
    }, delay);
    // A client nobody closed must not keep the process alive on its own.
    this.reconnectTimer.unref();
  }

  private rejectAll(message: string): void {
    const error = (): SentinelError => unavailable(message);
    for (const p of this.pending.values()) {
      p.done = true;
      clearTimeout(p.timer);
      p.reject(error());
    }
    this.pending.clear();
    this.inFlightCount = 0;
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const p = this.queue[i]!;
      if (p.done) continue;
      p.done = true;
      p.frame = undefined;
      clearTimeout(p.timer);
      p.reject(error());
    }
    this.queue = [];
    this.queueHead = 0;
    this.queuedCount = 0;
  }
}

/**
 * `core.encodeRequest(id, request)`; a `stamped` request with a byte body and
 * a timestamp that is a non-negative safe integer (what the API sends, once
 * per signature) goes through `core.encodeStampedRequest`, which reads the
 * stamp's four fields directly instead of converting the whole object
 * generically: the same frame bytes (sidecar.test.ts). Unlike the generic
 * conversion it does not look for extra keys on the objects; the typed
 * callers cannot add any.
 */
function encodeFrame(id: number, request: Request): Buffer {
  if (request.op === 'stamped' && request.body instanceof Uint8Array) {
    const stamp = request.stamp as (Omit<NonNullable<typeof request.stamp>, 'timestamp_us'> & { timestamp_us: unknown }) | null | undefined;
    if (stamp == null || (typeof stamp.timestamp_us === 'number' && Number.isSafeInteger(stamp.timestamp_us) && stamp.timestamp_us >= 0)) {
      return core.encodeStampedRequest(id, request.body, (stamp ?? null) as Parameters<typeof core.encodeStampedRequest>[2]);
    }
  }
  return core.encodeRequest(id, request);
}

function unavailable(message: string): SentinelError {
  return new SentinelError('ENCLAVE_UNAVAILABLE', message);
}
