/**
 * `GET /v1/evidence`: what a client needs to check receipts itself: the boot
 * attestation document (it binds the receipt, session and import keys and
 * the configuration hash), its hash, and the signed configuration in force.
 *
 * Relayed as the enclave gave it; the host's word adds nothing. A client
 * verifies the document against its own root and PCR0 (and, if it knows it,
 * the configuration hash) before trusting any key in it.
 */
import { Type } from '@sinclair/typebox';

import type { ApiInstance, RouteContext } from '../app.ts';
import { hexOut, toHex } from '../hex.ts';
import { ERROR_RESPONSES } from '../schemas.ts';

const EvidenceResponse = Type.Object(
  {
    attestation: hexOut('the boot attestation document (COSE_Sign1)'),
    attestationHash: hexOut('SHA-256 of the document'),
    signedConfig: hexOut('the signed configuration in force'),
    configHash: hexOut('SHA-256 of the configuration document'),
    configVersion: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

export function evidenceRoutes(app: ApiInstance, ctx: RouteContext): void {
  app.get(
    '/v1/evidence',
    {
      schema: {
        tags: ['attestation'],
        summary: 'Boot attestation and configuration in force',
        description: 'Everything a client needs to verify receipts: the boot document, its hash, and the signed configuration.',
        response: { 200: EvidenceResponse, ...ERROR_RESPONSES },
      },
    },
    async () => {
      const e = await ctx.call({ op: 'evidence' });
      return {
        attestation: toHex(e.attestation),
        attestationHash: toHex(e.attestation_hash),
        signedConfig: toHex(e.signed_config),
        configHash: toHex(e.config_hash),
        configVersion: Number(e.config_version),
      };
    },
  );
}
