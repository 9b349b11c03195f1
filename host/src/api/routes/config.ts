/**
 * The configuration: `GET /v1/config` serves the signed configuration in
 * force; `POST /v1/config` relays a new one to the enclave, which installs it
 * only with a version above the current one and the signatures of the current
 * admin threshold (`update_config`; docs/configuration.md).
 *
 * The host holds no admin key and judges nothing: refusals keep the enclave's
 * codes (`CONFIG_ROLLBACK` 409, `CONFIG_QUORUM_NOT_MET` 403, malformed 400).
 * The answer names the new configuration hash and the new boot attestation
 * document, which `GET /v1/evidence` then serves.
 */
import { Type } from '@sinclair/typebox';

import { core } from '../../core.ts';
import type { ApiInstance, RouteContext } from '../app.ts';
import { fromHex, hexOut, hexSchema, toHex } from '../hex.ts';
import { ERROR_RESPONSES } from '../schemas.ts';

const MAX_CONFIG_BYTES = Math.floor(core.MAX_FRAME_BYTES / 2);

const ConfigBody = Type.Object(
  { signedConfig: hexSchema([1, MAX_CONFIG_BYTES], 'the signed envelope (`zcp config sign` writes it)') },
  { additionalProperties: false },
);

const ConfigResponse = Type.Object(
  {
    signedConfig: hexOut('the signed configuration envelope in force'),
    configHash: hexOut('SHA-256 of the configuration document'),
    configVersion: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

const ConfigUpdated = Type.Object(
  {
    configHash: hexOut('SHA-256 of the installed configuration'),
    version: Type.Integer({ minimum: 0 }),
    attestationHash: hexOut('SHA-256 of the new boot attestation document (it binds the new configuration hash)'),
  },
  { additionalProperties: false },
);

const AdminDeleteBody = Type.Object(
  { order: hexSchema([1, 16 * 1024], 'a key deletion order signed by the admin quorum (`zcp keys delete --admin-key`)') },
  { additionalProperties: false },
);

const KeyDeletedResponse = Type.Object({ keyId: Type.String() }, { additionalProperties: false });

export function configRoutes(app: ApiInstance, ctx: RouteContext): void {
  app.post(
    '/v1/admin/keys/delete',
    {
      schema: {
        tags: ['configuration'],
        summary: "Delete any key by an order of the admin quorum",
        description:
          'The enclave checks the order (the configuration in force, its admin quorum, not expired), wipes the key whoever owns it ' +
          '(also under a Red kill switch) and records it; the host drops its sealed record (docs/sealed-state.md).',
        body: AdminDeleteBody,
        response: { 200: KeyDeletedResponse, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const deleted = await ctx.call({ op: 'admin_delete_key', order: fromHex(request.body.order) });
      return { keyId: deleted.key_id };
    },
  );

  app.get(
    '/v1/config',
    {
      schema: {
        tags: ['configuration'],
        summary: 'The signed configuration in force',
        description: 'Its hash is in every receipt and in the attestation documents (user_data = 0x03 || config_hash || policy_hash).',
        response: { 200: ConfigResponse, ...ERROR_RESPONSES },
      },
    },
    async () => {
      const e = await ctx.call({ op: 'evidence' });
      return { signedConfig: toHex(e.signed_config), configHash: toHex(e.config_hash), configVersion: Number(e.config_version) };
    },
  );

  app.post(
    '/v1/config',
    {
      // A signed configuration may be larger than a stamped body: hex doubles it.
      bodyLimit: 2 * MAX_CONFIG_BYTES + 1024,
      schema: {
        tags: ['configuration'],
        summary: 'Install a new signed configuration',
        description: 'The enclave installs it only with a higher version and the signatures of the current admin threshold.',
        body: ConfigBody,
        response: { 200: ConfigUpdated, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const signed = fromHex(request.body.signedConfig);
      const updated = await ctx.call({ op: 'update_config', signed_config: signed });
      // In force now: the stack boots with it next time (its audit log ends with it).
      await ctx.installed?.config?.(signed);
      return { configHash: toHex(updated.config_hash), version: Number(updated.version), attestationHash: toHex(updated.attestation_hash) };
    },
  );
}
