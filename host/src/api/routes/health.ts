/**
 * Operator endpoints: `GET /healthz` (the process is up), `GET /readyz` (the
 * enclave answers and has a configuration and a policy: route traffic here), `GET
 * /metrics` (Prometheus) and `GET /v1/health` (a description of the enclave).
 *
 * What they report about the enclave comes from the untrusted host and is
 * for operators only; clients establish trust with an attestation document
 * (`zcp verify`), never with these.
 */
import { Type } from '@sinclair/typebox';

import type { ApiInstance, RouteContext } from '../app.ts';
import { errorBody, httpStatusFor } from '../errors.ts';
import { hexOut, toHex } from '../hex.ts';
import { ERROR_RESPONSES } from '../schemas.ts';

const HealthResponse = Type.Object(
  {
    status: Type.Literal('ok'),
    enclave: Type.Object(
      {
        moduleId: Type.String(),
        protocolVersion: Type.Integer(),
        pcr0: Type.Union([hexOut('PCR0 (SHA-384 of the enclave image)'), Type.Null()]),
        pcrs: Type.Array(hexOut('PCR')),
        attestedKeys: hexOut('the attested key bundle: 0x01 || receipt key || session key || import key'),
        sealing: Type.Union([Type.Literal('aws-kms'), Type.Literal('development'), Type.Literal('none')], {
          description: 'where keys survive a restart (docs/sealed-state.md)',
        }),
        sealingWarning: Type.Union([Type.String(), Type.Null()], {
          description: 'DEVELOPMENT sealing or none (ephemeral keys): what that means; null for aws-kms',
        }),
      },
      { additionalProperties: false },
    ),
    attestationRoot: Type.Optional(
      Type.Object(
        { kind: Type.Literal('development'), path: Type.String(), sha256: hexOut('SHA-256 of the DER root') },
        { additionalProperties: false, description: 'present only with a simulated NSM: documents chain to this development root' },
      ),
    ),
  },
  { additionalProperties: false },
);

const Status = (status: string) => Type.Object({ status: Type.Literal(status) }, { additionalProperties: false });

const ReadyResponse = Type.Object(
  {
    status: Type.Literal('ready'),
    configHash: hexOut('configuration in force'),
    configVersion: Type.Integer({ minimum: 0 }),
    policyHash: hexOut('policy in force'),
    policyVersion: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

/** What health says about a sealing provider that is not production's. */
export function sealingWarning(sealing: string): string | null {
  if (sealing === 'development') return 'DEVELOPMENT sealing: the master key is a file on the host; anyone who reads it can open every sealed key';
  if (sealing === 'none') return 'no sealing: keys live in enclave memory only and a restart loses every key (each is ephemeral)';
  return null;
}

export function healthRoutes(app: ApiInstance, ctx: RouteContext): void {
  app.get(
    '/v1/health',
    {
      schema: {
        tags: ['operations'],
        summary: 'The API is up and describes the enclave',
        description: 'For operators: the enclave module id, protocol version, PCRs and attested key bundle (unverified: use /v1/attestation to trust them).',
        response: { 200: HealthResponse, ...ERROR_RESPONSES },
      },
    },
    async () => {
      const described = await ctx.call({ op: 'describe' });
      return {
        status: 'ok' as const,
        enclave: {
          moduleId: described.module_id,
          protocolVersion: described.protocol_version,
          pcr0: described.pcrs[0] ? toHex(described.pcrs[0]) : null,
          pcrs: described.pcrs.map(toHex),
          attestedKeys: toHex(described.attested_keys),
          sealing: described.sealing as 'aws-kms' | 'development' | 'none',
          sealingWarning: sealingWarning(described.sealing),
        },
        ...(ctx.devRoot ? { attestationRoot: { kind: 'development' as const, path: ctx.devRoot.path, sha256: `0x${ctx.devRoot.sha256.replace(/^0x/, '')}` } } : {}),
      };
    },
  );

  app.get(
    '/healthz',
    {
      logLevel: 'warn',
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the API process is up',
        description: 'Does not ask the enclave (see /readyz).',
        response: { 200: Status('ok') },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the enclave answers, is configured and has a policy',
        description:
          'Asks the enclave for its evidence; 503 NOT_READY when it does not answer, has no configuration, or has no policy ' +
          '(it would refuse every signature: POLICY_NOT_INSTALLED).',
        response: { 200: ReadyResponse, ...ERROR_RESPONSES },
      },
    },
    async (_request, reply) => {
      try {
        const e = await ctx.call({ op: 'evidence' });
        if (!e.policy_hash) {
          return reply.status(httpStatusFor('NOT_READY')).send(errorBody('NOT_READY', 'the enclave is not ready: POLICY_NOT_INSTALLED'));
        }
        return {
          status: 'ready' as const,
          configHash: toHex(e.config_hash),
          configVersion: Number(e.config_version),
          policyHash: toHex(e.policy_hash),
          policyVersion: Number(e.policy_version ?? 0),
        };
      } catch (err) {
        const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'INTERNAL';
        return reply.status(httpStatusFor('NOT_READY')).send(errorBody('NOT_READY', `the enclave is not ready: ${code}`));
      }
    },
  );

  app.get(
    '/metrics',
    {
      logLevel: 'warn',
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        description:
          'Text exposition format: sentinel_http_requests_total{method,route,status}, sentinel_http_request_duration_seconds{method,route}, ' +
          'sentinel_enclave_rtt_seconds{op}, sentinel_answers_total{op,code} and the default process metrics.',
        produces: ['text/plain'],
        response: { 200: Type.String({ description: 'Prometheus text format' }) },
      },
    },
    async (_request, reply) => {
      const text = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(text);
    },
  );
}
