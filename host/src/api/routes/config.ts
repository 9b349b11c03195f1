/**
 * `POST /v1/config`: relays a signed configuration to the enclave, which
 * installs it only with a version above the current one and the signatures
 * of the current admin threshold (`update_config`; docs/configuration.md).
 *
 * The host holds no admin key and judges nothing: refusals keep the enclave's
 * codes (`CONFIG_ROLLBACK` 409, `CONFIG_QUORUM_NOT_MET` 403, malformed 400).
 * The answer names the new configuration hash and the new boot attestation
 * document, which `GET /v1/evidence` then serves.
 */
import { Type } from '@sinclair/typebox';

import { core } from '../../core.ts';
import type { ApiInstance, RouteContext } from '../app.ts';
import { fromHex, hexSchema } from '../hex.ts';
import { hex0x } from '../wire-json.ts';

const ConfigBody = Type.Object(
  {
    /** The signed envelope (`zcp config sign` writes it), 0x-hex. */
    signedConfig: hexSchema([1, Math.floor(core.MAX_FRAME_BYTES / 2)]),
  },
  { additionalProperties: false },
);

export function configRoutes(app: ApiInstance, ctx: RouteContext): void {
  app.post('/v1/config', { schema: { body: ConfigBody } }, async (request) => {
    const updated = await ctx.enclave.request(
      { op: 'update_config', signed_config: fromHex(request.body.signedConfig) },
      { timeoutMs: ctx.timeoutMs },
    );
    return {
      configHash: hex0x(updated.config_hash),
      version: Number(updated.version),
      attestationHash: hex0x(updated.attestation_hash),
    };
  });
}
