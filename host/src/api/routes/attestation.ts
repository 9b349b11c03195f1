/**
 * `GET /v1/attestation?nonce=<hex>`: a fresh attestation document.
 *
 * The nonce is the only client input. The document's user_data and public
 * key are chosen by the enclave; nothing else is forwarded, so a caller cannot
 * get the enclave to vouch for data of its choosing.
 */
import { Type } from '@sinclair/typebox';

import { core } from '../../core.ts';
import type { ApiInstance, RouteContext } from '../app.ts';
import { fromHex, hexSchema, toHex } from '../hex.ts';

const AttestationQuery = Type.Object({ nonce: hexSchema([1, core.MAX_NONCE_BYTES]) }, { additionalProperties: false });

export function attestationRoutes(app: ApiInstance, ctx: RouteContext): void {
  app.get(
    '/v1/attestation',
    { schema: { querystring: AttestationQuery } },
    async (request) => {
      const nonce = fromHex(request.query.nonce);
      const { document } = await ctx.enclave.request({ op: 'attest', nonce }, { timeoutMs: ctx.timeoutMs });
      return { document: document.toString('base64'), nonce: toHex(nonce) };
    },
  );
}
