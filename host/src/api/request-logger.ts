/**
 * Request loggers that cost nothing until they log.
 *
 * fastify gives every request a pino child logger (bound to its `reqId`)
 * before anything is logged. At the default level, info, every request logs
 * its route and status, so the child is used; at warn and above (what a
 * loaded deployment runs), a request logs only when something fails, and
 * making the child was the most expensive part of logging (a few percent of
 * the API's CPU per signature). `childLoggerFactory` below returns the real
 * child whenever the request's level lets info through or the route sets its
 * own level or serializers; otherwise a `DeferredChildLogger`, which makes the
 * same child on the first line its level lets through. The lines written are
 * the same either way: same bindings, serializers and redaction.
 */
import type { FastifyBaseLogger } from 'fastify';

type Bindings = Record<string, unknown>;
type Levelled = FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean };

export class DeferredChildLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: Levelled & { isLevelEnabled(level: string): boolean },
    private readonly bindings: Bindings,
  ) {}

  /** The child fastify would have made (made once, on first use). */
  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings));
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  fatal(...args: unknown[]): void {
    if (this.made !== undefined || this.parent.isLevelEnabled('fatal')) (this.real.fatal as (...a: unknown[]) => void)(...args);
  }

  error(...args: unknown[]): void {
    if (this.made !== undefined || this.parent.isLevelEnabled('error')) (this.real.error as (...a: unknown[]) => void)(...args);
  }

  warn(...args: unknown[]): void {
    if (this.made !== undefined || this.parent.isLevelEnabled('warn')) (this.real.warn as (...a: unknown[]) => void)(...args);
  }

  info(...args: unknown[]): void {
    if (this.made !== undefined || this.parent.isLevelEnabled('info')) (this.real.info as (...a: unknown[]) => void)(...args);
  }

  debug(...args: unknown[]): void {
    if (this.made !== undefined || this.parent.isLevelEnabled('debug')) (this.real.debug as (...a: unknown[]) => void)(...args);
  }

  trace(...args: unknown[]): void {
    if (this.made !== undefined || this.parent.isLevelEnabled('trace')) (this.real.trace as (...a: unknown[]) => void)(...args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: object): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }
}

/**
 * fastify's `childLoggerFactory`: `logger.child(bindings, opts)` (fastify's
 * default) unless the request would not log at info, in which case the child
 * is deferred (see above).
 */
export function childLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, opts: object): FastifyBaseLogger {
  const parent = logger as Levelled;
  const routeOptions = opts as { level?: string; serializers?: unknown };
  if (
    typeof parent.isLevelEnabled !== 'function' ||
    routeOptions.level !== undefined ||
    routeOptions.serializers !== undefined ||
    parent.isLevelEnabled('info')
  ) {
    return logger.child(bindings, opts);
  }
  return new DeferredChildLogger(parent as Levelled & { isLevelEnabled(level: string): boolean }, bindings) as unknown as FastifyBaseLogger;
}
