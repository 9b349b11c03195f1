/**
 * `GET /v1/attestation?nonce=<hex>`: a fresh attestation document.
 *
 * The nonce is the only client input. The document's user_data and public
 * key are chosen by the enclave; nothing else is forwarded, so a caller cannot
 * get the enclave to vouch for data of its choosing.
 */
import type { FastifyInstance } from 'fastify';

import { expectResponse } from '../../sidecar/responses.ts';
import type { RouteContext } from '../app.ts';
import { fromHex, hexSchema, toHex } from '../hex.ts';

/** The NSM's nonce limit (crates/nsm MAX_NONCE_LEN). */
const MAX_NONCE_BYTES = 512;

export function attestationRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Querystring: { nonce: string } }>(
    '/v1/attestation',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['nonce'],
          additionalProperties: false,
          properties: { nonce: hexSchema([1, MAX_NONCE_BYTES]) },
        },
      },
    },
    async (request) => {
      const nonce = fromHex(request.query.nonce);
      const response = await ctx.enclave.request('attest', { nonce }, { timeoutMs: ctx.timeoutMs });
      const { document } = expectResponse(response, 'attestation');
      return { document: document.toString('base64'), nonce: toHex(nonce) };
    },
  );
}
