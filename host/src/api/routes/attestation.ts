/**
 * Attestation routes: `GET /v1/attestation?nonce=<hex>` (a fresh document
 * bound to the caller's nonce) and `GET /v1/attestation/boot` (the document
 * the enclave produced at boot, which receipts name by its hash).
 *
 * The nonce is the only client input. The document's user_data and public
 * key are chosen by the enclave; nothing else is forwarded, so a caller cannot
 * get the enclave to vouch for data of its choosing.
 *
 * Both are public and read-only, so any web page may read them
 * (`Access-Control-Allow-Origin: *`, errors included): the browser checker
 * (docs/checker.md) fetches them from wherever it was opened, file:// too. No
 * other route sends CORS headers.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { core } from '../../core.ts';
import type { ApiInstance, RouteContext } from '../app.ts';
import { fromHex, hexOut, hexSchema, toHex } from '../hex.ts';
import { ERROR_RESPONSES } from '../schemas.ts';

const AttestationQuery = Type.Object(
  { nonce: hexSchema([1, core.MAX_NONCE_BYTES], 'your fresh random nonce, echoed in the document') },
  { additionalProperties: false },
);

const AttestationResponse = Type.Object(
  {
    document: hexOut('COSE_Sign1 Nitro attestation document (verify with core.verifyAttestation or `zcp verify`)'),
    nonce: hexOut('the nonce the document carries'),
  },
  { additionalProperties: false },
);

const BootAttestationResponse = Type.Object(
  {
    attestation: hexOut('the boot attestation document (COSE_Sign1): binds the receipt, session and import keys and the configuration hash'),
    attestationHash: hexOut('SHA-256 of the document (what receipts carry as attestation_hash)'),
  },
  { additionalProperties: false },
);

/** Set before validation, so a refusal (400 for a bad nonce) is readable cross-origin too. */
async function allowAnyOrigin(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  void reply.header('access-control-allow-origin', '*');
}

export function attestationRoutes(app: ApiInstance, ctx: RouteContext): void {
  app.get(
    '/v1/attestation',
    {
      onRequest: allowAnyOrigin,
      schema: {
        tags: ['attestation'],
        summary: 'A fresh attestation document for your nonce',
        description: 'Asks the enclave (NSM) for a new document carrying your nonce, the attested key bundle, and the configuration and policy hashes (user_data = 0x03 || config_hash || policy_hash, 32 zero bytes when no policy is installed).',
        querystring: AttestationQuery,
        response: { 200: AttestationResponse, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const nonce = fromHex(request.query.nonce);
      const { document } = await ctx.call({ op: 'attest', nonce });
      return { document: toHex(document), nonce: toHex(nonce) };
    },
  );

  app.get(
    '/v1/attestation/boot',
    {
      onRequest: allowAnyOrigin,
      schema: {
        tags: ['attestation'],
        summary: 'The boot attestation document',
        description: 'The document receipts are bound to (by its hash): verify it once, then verify receipts against it.',
        response: { 200: BootAttestationResponse, ...ERROR_RESPONSES },
      },
    },
    async () => {
      const e = await ctx.call({ op: 'evidence' });
      return { attestation: toHex(e.attestation), attestationHash: toHex(e.attestation_hash) };
    },
  );
}
