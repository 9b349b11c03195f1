/**
 * Signing routes: a raw 32-byte digest, or an unsigned Ethereum transaction
 * that the enclave decodes itself (so a future policy engine judges what is
 * actually signed, not a digest the host claims it came from).
 */
import type { FastifyInstance } from 'fastify';

import { expectResponse } from '../../sidecar/responses.ts';
import type { RouteContext } from '../app.ts';
import { fromHex, hexSchema, toHex } from '../hex.ts';

/** crates/eth MAX_TRANSACTION_BYTES. */
const MAX_TRANSACTION_BYTES = 131_072;

const keyId = { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } as const;

export function signingRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Body: { keyId: string; digest: string } }>(
    '/v1/sign',
    {
      schema: {
        body: {
          type: 'object',
          required: ['keyId', 'digest'],
          additionalProperties: false,
          properties: { keyId, digest: hexSchema(32) },
        },
      },
    },
    async (request) => {
      const { keyId, digest } = request.body;
      const response = await ctx.enclave.request('sign_digest', { keyId, digest: fromHex(digest) }, { timeoutMs: ctx.timeoutMs });
      const signed = expectResponse(response, 'signature');
      return { signature: toHex(signed.signature), recoveryId: signed.recovery_id };
    },
  );

  app.post<{ Body: { keyId: string; unsignedTx: string } }>(
    '/v1/ethereum/transactions/sign',
    {
      schema: {
        body: {
          type: 'object',
          required: ['keyId', 'unsignedTx'],
          additionalProperties: false,
          properties: { keyId, unsignedTx: hexSchema([1, MAX_TRANSACTION_BYTES]) },
        },
      },
    },
    async (request) => {
      const { keyId, unsignedTx } = request.body;
      const response = await ctx.enclave.request(
        'sign_ethereum_transaction',
        { keyId, unsignedTx: fromHex(unsignedTx) },
        { timeoutMs: ctx.timeoutMs },
      );
      return { signedTx: toHex(expectResponse(response, 'signed_transaction').raw) };
    },
  );
}
