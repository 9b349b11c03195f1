/**
 * `POST /v1/keys`: generate a key inside the enclave. Only the id and the
 * public key ever leave it.
 */
import type { FastifyInstance } from 'fastify';

import { expectResponse } from '../../sidecar/responses.ts';
import type { RouteContext } from '../app.ts';
import { toHex } from '../hex.ts';

export function keyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: { curve: 'secp256k1' | 'ed25519' } }>(
    '/v1/keys',
    {
      schema: {
        body: {
          type: 'object',
          required: ['curve'],
          additionalProperties: false,
          properties: { curve: { type: 'string', enum: ['secp256k1', 'ed25519'] } },
        },
      },
    },
    async (request, reply) => {
      const response = await ctx.enclave.request('generate_key', { curve: request.body.curve }, { timeoutMs: ctx.timeoutMs });
      const key = expectResponse(response, 'key_generated');
      return reply.status(201).send({ keyId: key.key_id, curve: key.curve, publicKey: toHex(key.public_key) });
    },
  );
}
