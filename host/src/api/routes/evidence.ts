/**
 * `GET /v1/evidence`: what a client needs to check receipts itself: the boot
 * attestation document (it binds the receipt, session and import keys and
 * the configuration and policy hashes), its hash, and the signed configuration
 * and policy in force (null policy fields before one is installed).
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
    signedPolicy: Type.Union([hexOut('the signed policy envelope in force (JSON text as UTF-8)'), Type.Null()]),
    policyHash: Type.Union([hexOut('SHA-256 of the canonical policy JSON; user_data = 0x03 || config_hash || policy_hash'), Type.Null()]),
    policyVersion: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  },
  { additionalProperties: false },
);

export function evidenceRoutes(app: ApiInstance, ctx: RouteContext): void {
  app.get(
    '/v1/evidence',
    {
      schema: {
        tags: ['attestation'],
        summary: 'Boot attestation, configuration and policy in force',
        description:
          'Everything a client needs to verify receipts: the boot document, its hash, the signed configuration, and the signed ' +
          'policy with its hash and version (null before one is installed).',
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
        signedPolicy: e.signed_policy ? toHex(e.signed_policy) : null,
        policyHash: e.policy_hash ? toHex(e.policy_hash) : null,
        policyVersion: e.policy_version === null || e.policy_version === undefined ? null : Number(e.policy_version),
      };
    },
  );
}
