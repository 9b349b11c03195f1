/**
 * The HTTP API in front of the sidecar, built as a factory so tests drive it
 * with `app.inject()` and `zcp up` binds it to a port.
 *
 * The host is untrusted: this layer validates shapes (fastify's JSON-schema
 * validation, unknown fields refused rather than stripped) and relays; every
 * decision that matters is taken inside the enclave.
 *
 * Not yet here: client request authentication. Request bodies will be signed
 * by the client and the signature verified inside the enclave (a later issue);
 * checking it in this untrusted process would only pretend to protect keys.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';

import type { EnclaveClientLike } from '../sidecar/client.ts';
import { errorBody, httpStatusFor } from './errors.ts';
import { attestationRoutes } from './routes/attestation.ts';
import { healthRoutes } from './routes/health.ts';
import { keyRoutes } from './routes/keys.ts';
import { signingRoutes } from './routes/signing.ts';

/** Where a simulated NSM's attestation documents chain to (local mode only). */
export interface DevRoot {
  path: string;
  sha256: string;
}

export interface AppDeps {
  enclave: EnclaveClientLike;
  devRoot?: DevRoot;
  /** Per-request enclave timeout. */
  enclaveTimeoutMs?: number;
  logger?: boolean;
}

export interface RouteContext {
  enclave: EnclaveClientLike;
  devRoot?: DevRoot;
  timeoutMs: number;
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: 512 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  const context: RouteContext = { enclave: deps.enclave, devRoot: deps.devRoot, timeoutMs: deps.enclaveTimeoutMs ?? 10_000 };

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

  healthRoutes(app, context);
  attestationRoutes(app, context);
  keyRoutes(app, context);
  signingRoutes(app, context);
  return app;
}
