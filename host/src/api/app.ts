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
 * Client authentication is not done here: operations on keys arrive as
 * bodies stamped (signed) by a principal, relayed unchanged to the enclave,
 * which verifies the stamp against its attested configuration and answers with
 * a signed receipt (routes/stamped.ts). Checking stamps in this untrusted
 * process would only pretend to protect keys.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';

import type { EnclaveClientLike } from '../sidecar/client.ts';
import { errorBody, httpStatusFor } from './errors.ts';
import { hostAllowed, hostPolicy } from './host-allowlist.ts';
import { attestationRoutes } from './routes/attestation.ts';
import { healthRoutes } from './routes/health.ts';
import { configRoutes } from './routes/config.ts';
import { evidenceRoutes } from './routes/evidence.ts';
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

export interface AppDeps {
  enclave: EnclaveClientLike;
  devRoot?: DevRoot;
  /** Per-request enclave timeout. */
  enclaveTimeoutMs?: number;
  logger?: boolean;
  /** Overrides of DEFAULT_HTTP_TIMEOUTS. */
  timeouts?: Partial<HttpTimeouts>;
  /**
   * Host header values served besides the loopback names (`127.0.0.1`,
   * `localhost`, `[::1]`) on the port the connection arrived on. An entry is a
   * name or IP (matched on that port; IPv6 in brackets) or `name:port` (exact).
   */
  allowedHosts?: string[];
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
  enclave: EnclaveClientLike;
  devRoot?: DevRoot;
  timeoutMs: number;
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const timeouts: HttpTimeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...deps.timeouts };
  const hosts = hostPolicy(deps.allowedHosts ?? []);
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: 512 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    connectionTimeout: timeouts.connectionTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    http: {
      requestTimeout: timeouts.requestTimeoutMs,
      headersTimeout: Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs),
      connectionsCheckingInterval: timeouts.checkIntervalMs,
    },
    clientErrorHandler,
  });
  const context: RouteContext = { enclave: deps.enclave, devRoot: deps.devRoot, timeoutMs: deps.enclaveTimeoutMs ?? 10_000 };

  // Before routing, validation or the enclave: a request for another name is not ours to answer.
  app.addHook('onRequest', async (request, reply) => {
    const port = (request.raw.socket as Socket | undefined)?.localPort;
    if (!hostAllowed(request.headers.host, port, hosts)) {
      return reply
        .status(httpStatusFor('HOST_NOT_ALLOWED'))
        .send(errorBody('HOST_NOT_ALLOWED', `Host ${JSON.stringify(request.headers.host ?? '')} is not served here (DNS rebinding protection)`));
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      return reply.status(400).send(errorBody('INVALID_ARGUMENT', error.message));
    }
    const code = typeof error.code === 'string' ? error.code : '';
    if (code !== '' && !code.startsWith('FST_')) {
      return reply.status(httpStatusFor(code)).send(errorBody(code, error.message));
    }
    // fastify's own errors (bad JSON, wrong content type, body too large) carry a 4xx status.
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const mapped = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_ARGUMENT';
      return reply.status(status).send(errorBody(mapped, error.message));
    }
    request.log.error(error);
    return reply.status(500).send(errorBody('INTERNAL', 'internal error'));
  });
  app.setNotFoundHandler((request, reply) => {
    return reply.status(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });

  const api: ApiInstance = app.withTypeProvider<TypeBoxTypeProvider>();
  healthRoutes(api, context);
  attestationRoutes(api, context);
  evidenceRoutes(api, context);
  configRoutes(api, context);
  stampedRoutes(api, context);
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
