/**
 * `POST /v1/keys`: generate a key inside the enclave. Only the id and the
 * public key ever leave it.
 */
import { Type } from '@sinclair/typebox';

import type { ApiInstance, RouteContext } from '../app.ts';
import { toHex } from '../hex.ts';

const CURVES = ['secp256k1', 'ed25519'] as const;

/** A plain `enum` (not TypeBox's anyOf of literals), so validation messages stay as they were. */
const Curve = Type.Unsafe<(typeof CURVES)[number]>({ type: 'string', enum: [...CURVES] });

const GenerateKeyBody = Type.Object({ curve: Curve }, { additionalProperties: false });

export function keyRoutes(app: ApiInstance, ctx: RouteContext): void {
  app.post(
    '/v1/keys',
    { schema: { body: GenerateKeyBody } },
    async (request, reply) => {
      const key = await ctx.enclave.request({ op: 'generate_key', curve: request.body.curve }, { timeoutMs: ctx.timeoutMs });
      return reply.status(201).send({ keyId: key.key_id, curve: key.curve, publicKey: toHex(key.public_key) });
    },
  );
}
