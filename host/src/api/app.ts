/**
 * The HTTP API in front of the sidecar, built as a factory so tests drive it
 * with `app.inject()` and `zcp up` binds it to a port.
 *
 * The host is untrusted: this layer validates shapes (fastify's JSON-schema
 * validation, unknown fields refused rather than stripped) and relays; every
 * decision that matters is taken inside the enclave. Each route's schema is a
 * TypeBox schema, so its `Body` / `Querystring` type is derived from it.
 *
 * HTTP defaults that hold for any deployment: request, header, idle and
 * keep-alive timeouts (a slow client cannot hold a connection open), and a
 * Host allow-list (a web page that rebinds its own DNS name to 127.0.0.1
 * cannot drive the API from the user's browser: its requests carry its name).
 *
 * HTTPS by default (`zcp up` makes a development certificate, local/dev-cert.ts);
 * JSON schemas on every route, which also make the OpenAPI document at
 * `/openapi.json`; one error registry (errors.ts); pino logs that never carry
 * bodies, stamps or credentials (redacted, and the request serializer logs
 * the route and status only); Prometheus metrics with bounded labels.
 *
 * Client authentication is not done here: operations on keys arrive as
 * bodies stamped (signed) by a principal, relayed unchanged to the enclave,
 * which verifies the stamp against its attested configuration and answers with
 * a signed receipt (routes/stamped.ts). Checking stamps in this untrusted
 * process would only pretend to protect keys.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { Registry } from 'prom-client';

import type { Answer, EnclaveClientLike, Request } from '../sidecar/client.ts';
import type { AuditStore } from '../audit/store.ts';
import type { AuditTiles } from '../audit/tiles.ts';
import type { LogInfo } from '../audit/writer.ts';
import { SentinelError } from '../errors.ts';
import { errorBody, httpStatusFor } from './errors.ts';
import { describeHexPattern } from './hex.ts';
import { hostAllowed, hostPolicy } from './host-allowlist.ts';
import { apiMetrics, type ApiMetrics } from './metrics.ts';
import { ReceiptCache } from './receipt-cache.ts';
import { childLoggerFactory } from './request-logger.ts';
import { attestationRoutes } from './routes/attestation.ts';
import { checkerRoutes } from './routes/checker.ts';
import { configRoutes } from './routes/config.ts';
import { evidenceRoutes } from './routes/evidence.ts';
import { healthRoutes } from './routes/health.ts';
import { oversightRoutes } from './routes/oversight.ts';
import { policyRoutes } from './routes/policy.ts';
import { receiptRoutes } from './routes/receipts.ts';
import { auditRoutes } from './routes/audit.ts';
import { stampedRoutes } from './routes/stamped.ts';

/** Where a simulated NSM's attestation documents chain to (local mode only). */
export interface DevRoot {
  path: string;
  sha256: string;
}

/** HTTP timeouts, all in milliseconds; see DEFAULT_HTTP_TIMEOUTS. */
export interface HttpTimeouts {
  /** A socket with no traffic for this long is closed (fastify `connectionTimeout`). Must exceed the enclave timeout. */
  connectionTimeoutMs: number;
  /** The whole request, headers and body, must arrive within this, else 408 and close (fastify/node `requestTimeout`). */
  requestTimeoutMs: number;
  /** The request headers must arrive within this, else 408 and close (node `headersTimeout`; capped at requestTimeoutMs). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (fastify `keepAliveTimeout`). */
  keepAliveTimeoutMs: number;
  /** How often node looks for requests past their header/request deadline (node `connectionsCheckingInterval`). */
  checkIntervalMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: Readonly<HttpTimeouts> = Object.freeze({
  connectionTimeoutMs: 30_000,
  requestTimeoutMs: 15_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
});

/** Receipts kept for GET /v1/receipts/:id unless AppDeps.receiptCache says otherwise. */
export const DEFAULT_RECEIPT_CACHE = 100_000;

/** Largest request body (JSON) on every route but POST /v1/config and the policy routes: a stamped body of MAX_BODY_BYTES, hex, fits. */
export const BODY_LIMIT = 512 * 1024;

/** Logger settings: pino JSON lines, redacted (see REDACT_PATHS). */
export interface ApiLoggerOptions {
  /** pino level: fatal, error, warn, info, debug, trace or silent. Default info. */
  level?: string;
  /** Where the JSON lines go (default stdout; `zcp up` passes stderr). */
  stream?: { write(line: string): unknown };
}

export interface AppDeps {
  enclave: EnclaveClientLike;
  devRoot?: DevRoot;
  /** Per-request enclave timeout. */
  enclaveTimeoutMs?: number;
  /** false (default): no logs; true or options: pino JSON lines, redacted. */
  logger?: boolean | ApiLoggerOptions;
  /** Overrides of DEFAULT_HTTP_TIMEOUTS. */
  timeouts?: Partial<HttpTimeouts>;
  /**
   * Host header values served besides the loopback names (`127.0.0.1`,
   * `localhost`, `[::1]`) on the port the connection arrived on. An entry is a
   * name or IP (matched on that port; IPv6 in brackets) or `name:port` (exact).
   */
  allowedHosts?: string[];
  /** Serve HTTPS with this key and certificate (PEM); plain HTTP without. */
  https?: { key: string | Buffer; cert: string | Buffer };
  /** The prom-client registry to register the API's metrics on (default: a new one, with the process metrics). */
  metrics?: Registry;
  /** How many receipts GET /v1/receipts/:id can serve (the most recent; default DEFAULT_RECEIPT_CACHE; 0 keeps none). */
  receiptCache?: number;
  /**
   * The audit log's writer (`host/src/audit/writer.ts`): every answer that carries an audit
   * record is released only after `persist` resolves (strict mode: once the record is durable).
   * Without one (tests of routes alone) answers are relayed as they come.
   */
  audit?: AuditSink;
  /**
   * Called once the enclave installed a configuration or policy the API relayed, so the stack
   * boots with it next time (`zcp up` writes `config.cbor` / `policy.json`): a restarted enclave
   * resumes its audit log only under the configuration and policy the log ends with.
   */
  installed?: InstalledSink;
  /**
   * Where a new key's sealed record goes (`zcp up`: `DATA_DIR/sealed/`, host/src/seal/store.ts). An
   * answer carrying one is released only after `persist` resolves: no key id reaches a client that
   * a restart would lose. Without one, sealed records are dropped (tests of routes alone).
   */
  sealed?: SealedSink;
}

/** What the API needs from the sealed store. */
export interface SealedSink {
  persist(record: { kind: string; name: string; version: number | bigint; record: Uint8Array }): Promise<void>;
  /** Drops a deleted key's record (the enclave wiped the key; the audit log records the deletion). */
  remove(keyId: string): Promise<void>;
}

/** Where the stack keeps what the enclave has in force (the files it boots with). */
export interface InstalledSink {
  config?(signedConfig: Uint8Array): Promise<void>;
  policy?(signedPolicy: Uint8Array, models: Uint8Array[]): Promise<void>;
}

/** What the API needs from the audit writer. */
export interface AuditSink {
  persist(entry: { seq: number | bigint; record: Uint8Array }): Promise<void>;
  /** Non-null while the store cannot be written: signing requests are refused before reaching the enclave. */
  failure(): SentinelError | null;
  /** The stored log the `/v1/audit/*` routes serve (null: not open yet). */
  log?(): AuditLogView | null;
}

/** What the audit routes read: the log's identity, its store and its tiles. */
export interface AuditLogView {
  info: LogInfo;
  store: AuditStore;
  tiles: AuditTiles;
}

/** The fastify instance routes are registered on: schemas give the handler types. */
export type ApiInstance = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface RouteContext {
  /**
   * One enclave request, measured: round-trip time and the answer's code go to
   * the metrics under `op` (default: the frame op; stamped routes pass the body op).
   */
  call<R extends Request>(request: R, op?: string): Promise<Answer<R>>;
  receipts: ReceiptCache;
  metrics: ApiMetrics;
  devRoot?: DevRoot;
  timeoutMs: number;
  /** The audit writer, when there is one (the `/v1/audit/*` routes read its log). */
  audit?: AuditSink;
  installed?: InstalledSink;
}

/**
 * Never logged, even if a serializer or a hook put them in a log object:
 * stamps and their parts, bodies, credentials, and the headers that carry
 * them. The request serializer below already logs only method, route, URL
 * path and address.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'req.body',
  'body',
  'stamp',
  'signature',
  'nonce',
  'credentials',
  'credential',
  'secret_key',
  'secretKey',
  '*.body',
  '*.stamp',
  '*.signature',
  '*.nonce',
  '*.credentials',
  '*.credential',
  '*.secret_key',
  '*.secretKey',
];

function loggerOptions(logger: AppDeps['logger']): false | Record<string, unknown> {
  if (!logger) return false;
  const options = logger === true ? {} : logger;
  return {
    level: options.level ?? 'info',
    ...(options.stream ? { stream: options.stream } : {}),
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        // The path only: a query string is the client's data.
        url: request.url.split('?')[0],
        route: request.routeOptions?.url,
        remoteAddress: request.ip,
      }),
    },
  };
}

/** Codes the sidecar raises itself: the enclave never answered, so there is no round trip to time. */
const NO_ROUND_TRIP = new Set(['ENCLAVE_UNAVAILABLE', 'ENCLAVE_TIMEOUT', 'ENCLAVE_BUSY']);

/** Frame operations whose answers can carry a signature (and so an audit record). */
const AUDITED_OPS = new Set(['stamped', 'approval_result']);

function measuredCall(enclave: EnclaveClientLike, metrics: ApiMetrics, timeoutMs: number, audit?: AuditSink, sealed?: SealedSink): RouteContext['call'] {
  return async function call<R extends Request>(request: R, op: string = request.op): Promise<Answer<R>> {
    if (audit && AUDITED_OPS.has(request.op)) {
      // Fail closed before anything is signed: the record of this request could not be stored.
      const failure = audit.failure();
      if (failure) {
        metrics.answers.inc({ op, code: 'AUDIT_STORAGE_UNAVAILABLE' });
        throw new SentinelError('AUDIT_STORAGE_UNAVAILABLE', failure.message, { cause: failure });
      }
    }
    const started = process.hrtime.bigint();
    let answer: Answer<R>;
    try {
      answer = await enclave.request(request, { timeoutMs });
    } catch (e) {
      const code = (e as { code?: unknown } | null)?.code;
      const label = typeof code === 'string' ? code : 'INTERNAL';
      if (!NO_ROUND_TRIP.has(label)) metrics.enclaveRtt.observe({ op }, Number(process.hrtime.bigint() - started) / 1e9);
      metrics.answers.inc({ op, code: label });
      throw e;
    }
    metrics.enclaveRtt.observe({ op }, Number(process.hrtime.bigint() - started) / 1e9);
    const inner = (answer as { answer?: { type?: string; code?: string } }).answer;
    const code = inner?.type === 'error' && typeof inner.code === 'string' ? inner.code : inner?.type === 'approval_pending' ? 'APPROVAL_PENDING' : 'OK';
    metrics.answers.inc({ op, code });
    const entry = (answer as { audit?: { seq: number | bigint; record: Uint8Array } | null }).audit;
    if (audit && entry) {
      try {
        await audit.persist(entry);
      } catch (e) {
        // The answer (a signature, perhaps) is withheld: its record is not durable. The enclave
        // keeps the record until it is stored, so nothing is lost; the client may retry.
        const message = (e as Error)?.message ?? String(e);
        throw new SentinelError('AUDIT_STORAGE_UNAVAILABLE', `the answer is withheld: its audit record could not be stored (${message})`, { cause: e });
      }
    }
    // A deletion: the owner's (a receipted answer) or the admin quorum's (the answer itself).
    const deleted = (answer as { answer?: { type?: string; key_id?: string } }).answer ?? (answer as { type?: string; key_id?: string });
    if (sealed && deleted?.type === 'key_deleted' && typeof deleted.key_id === 'string') {
      // Best effort: a record left behind is wiped again at the next start (the log says deleted).
      await sealed.remove(deleted.key_id).catch(() => undefined);
    }
    const record = (answer as { sealed?: { kind: string; name: string; version: number | bigint; record: Uint8Array } | null }).sealed;
    if (sealed && record) {
      try {
        await sealed.persist(record);
      } catch (e) {
        // The key exists in the enclave but would not survive a restart: its id is not released.
        const message = (e as Error)?.message ?? String(e);
        throw new SentinelError('SEALED_STORAGE_UNAVAILABLE', `the answer is withheld: the new key's sealed record could not be stored (${message})`, { cause: e });
      }
    }
    return answer;
  };
}

/** A validation failure as one readable sentence (no input values: they may be secrets). */
function validationMessage(error: FastifyError): string {
  const first = error.validation?.[0];
  if (!first) return error.message;
  const where = `${error.validationContext ?? 'request'}${first.instancePath}`;
  const params = first.params as Record<string, unknown>;
  if (first.keyword === 'pattern' && typeof params.pattern === 'string') {
    const hex = describeHexPattern(params.pattern);
    if (hex) return `${where} ${hex}`;
  }
  if (first.keyword === 'additionalProperties') return `${where} has an unknown field ${JSON.stringify(params.additionalProperty)}`;
  return `${where} ${first.message ?? 'is invalid'}`;
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const timeouts: HttpTimeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...deps.timeouts };
  const hosts = hostPolicy(deps.allowedHosts ?? []);
  const nodeServerOptions = {
    requestTimeout: timeouts.requestTimeoutMs,
    headersTimeout: Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs),
    connectionsCheckingInterval: timeouts.checkIntervalMs,
  };
  const options = {
    logger: loggerOptions(deps.logger),
    // Request loggers made only when a line is written (request-logger.ts); none at all without a logger.
    ...(deps.logger ? { childLoggerFactory } : {}),
    bodyLimit: BODY_LIMIT,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    connectionTimeout: timeouts.connectionTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    ...(deps.https ? { https: { key: deps.https.key, cert: deps.https.cert, ...nodeServerOptions } } : { http: nodeServerOptions }),
    clientErrorHandler,
  };
  const app = Fastify(options as never) as unknown as FastifyInstance;
  const metrics = apiMetrics(deps.metrics);
  const context: RouteContext = {
    call: measuredCall(deps.enclave, metrics, deps.enclaveTimeoutMs ?? 10_000, deps.audit, deps.sealed),
    receipts: new ReceiptCache(deps.receiptCache ?? DEFAULT_RECEIPT_CACHE),
    metrics,
    devRoot: deps.devRoot,
    timeoutMs: deps.enclaveTimeoutMs ?? 10_000,
    ...(deps.audit ? { audit: deps.audit } : {}),
    ...(deps.installed ? { installed: deps.installed } : {}),
  };

  // JSON only: a body of any other type is 415, not parsed as a string and refused by the schema.
  app.removeContentTypeParser(['text/plain']);

  // Before routing, validation or the enclave: a request for another name is not ours to answer.
  app.addHook('onRequest', async (request, reply) => {
    const port = (request.raw.socket as Socket | undefined)?.localPort;
    if (!hostAllowed(request.headers.host, port, hosts)) {
      return reply
        .status(httpStatusFor('HOST_NOT_ALLOWED'))
        .send(errorBody('HOST_NOT_ALLOWED', `Host ${JSON.stringify(request.headers.host ?? '')} is not served here (DNS rebinding protection)`));
    }
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      return reply.status(400).send(errorBody('INVALID_ARGUMENT', validationMessage(error)));
    }
    const code = typeof error.code === 'string' ? error.code : '';
    if (code !== '' && !code.startsWith('FST_')) {
      const status = httpStatusFor(code);
      if (status >= 500) request.log.error({ code, err: error }, 'request failed');
      return reply.status(status).send(errorBody(code, error.message));
    }
    // fastify's own errors (bad JSON, wrong content type, body too large) carry a 4xx status.
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const mapped =
        status === 413
          ? 'PAYLOAD_TOO_LARGE'
          : status === 415
            ? 'UNSUPPORTED_MEDIA_TYPE'
            : code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error instanceof SyntaxError
              ? 'INVALID_JSON'
              : 'INVALID_ARGUMENT';
      const message = mapped === 'INVALID_JSON' ? 'the request body is not valid JSON' : error.message;
      return reply.status(status).send(errorBody(mapped, message));
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send(errorBody('INTERNAL', 'internal error'));
  });
  app.setNotFoundHandler((request, reply) => {
    return reply.status(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });

  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Sentinel API',
        version: '1',
        description:
          'Hardware-isolated signing on AWS Nitro Enclaves. Stamped routes take the CBOR operation body and the principal\'s stamp ' +
          'and answer with a receipt signed by the enclave. Bytes in JSON are 0x-prefixed hex. docs/api.md explains it.',
      },
      tags: [
        { name: 'stamped', description: 'Operations on keys: stamped by a principal, answered with a receipt' },
        { name: 'attestation', description: 'Attestation documents and evidence' },
        { name: 'configuration', description: 'The signed configuration' },
        { name: 'policy', description: 'The signed policy: validate, show, apply, dry run; signed price tables' },
        { name: 'oversight', description: 'The kill switch and the approval queue: commands signed by the overseers and approvers' },
        { name: 'receipts', description: 'Recent receipts by id' },
        { name: 'operations', description: 'Health, readiness, metrics, this document' },
      ],
    },
  });

  void app.register(async (child) => {
    const api = child.withTypeProvider<TypeBoxTypeProvider>() as unknown as ApiInstance;
    healthRoutes(api, context);
    attestationRoutes(api, context);
    checkerRoutes(api, context);
    evidenceRoutes(api, context);
    configRoutes(api, context);
    receiptRoutes(api, context);
    auditRoutes(api, context);
    stampedRoutes(api, context);
    oversightRoutes(api, context);
    // Its own scope: its JSON parser also keeps the request text (a policy is validated as written).
    void child.register(async (scope) => policyRoutes(scope, context));
    child.get(
      '/openapi.json',
      { logLevel: 'warn', schema: { tags: ['operations'], summary: 'This API as an OpenAPI 3 document', description: 'Generated from the route schemas by @fastify/swagger.' } },
      async () => child.swagger(),
    );
  });
  return app;
}

/**
 * Errors node's HTTP parser raises before fastify has a request (timeouts,
 * oversized or malformed headers), answered in the API's error format.
 */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ['REQUEST_TIMEOUT', 'the request did not arrive in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? ['HEADERS_TOO_LARGE', 'request headers too large']
        : ['INVALID_ARGUMENT', 'malformed HTTP request'];
  const status = httpStatusFor(code);
  if (socket.writable) {
    const body = JSON.stringify(errorBody(code, message));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
