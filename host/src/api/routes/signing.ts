/**
 * Signing routes: a raw 32-byte digest, or an unsigned Ethereum transaction
 * that the enclave decodes itself (so a future policy engine judges what is
 * actually signed, not a digest the host claims it came from).
 */
import { Type } from '@sinclair/typebox';

import { core } from '../../core.ts';
import type { ApiInstance, RouteContext } from '../app.ts';
import { fromHex, hexSchema, toHex } from '../hex.ts';

const keyId = Type.String({ pattern: `^[A-Za-z0-9._:-]{1,${core.MAX_KEY_ID_BYTES}}$` });

const SignDigestBody = Type.Object({ keyId, digest: hexSchema(32) }, { additionalProperties: false });

const SignTransactionBody = Type.Object(
  { keyId, unsignedTx: hexSchema([1, core.MAX_TRANSACTION_BYTES]) },
  { additionalProperties: false },
);

export function signingRoutes(app: ApiInstance, ctx: RouteContext): void {
  app.post(
    '/v1/sign',
    { schema: { body: SignDigestBody } },
    async (request) => {
      const { keyId, digest } = request.body;
      const signed = await ctx.enclave.request({ op: 'sign_digest', key_id: keyId, digest: fromHex(digest) }, { timeoutMs: ctx.timeoutMs });
      return { signature: toHex(signed.signature), recoveryId: signed.recovery_id };
    },
  );

  app.post(
    '/v1/ethereum/transactions/sign',
    { schema: { body: SignTransactionBody } },
    async (request) => {
      const { keyId, unsignedTx } = request.body;
      const { raw } = await ctx.enclave.request(
        { op: 'sign_ethereum_transaction', key_id: keyId, unsigned_tx: fromHex(unsignedTx) },
        { timeoutMs: ctx.timeoutMs },
      );
      return { signedTx: toHex(raw) };
    },
  );
}
