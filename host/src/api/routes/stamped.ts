/**
 * `POST /v1/stamped`: relays one operation body, signed by a principal, to the
 * enclave unchanged, and returns its answer with the enclave's receipt.
 *
 * The host checks shapes only. It cannot sign for anyone (it holds no
 * credential) and must not judge a stamp: the enclave verifies the stamp
 * against its attested configuration, decides, and signs a receipt that binds
 * the exact body bytes (`payload_hash`), the principal and the result. A
 * refusal is an answer too: `{ answer: { type: 'error', code, ... }, receipt }`
 * with the HTTP status of its code, so a client can prove it was refused.
 */
import { Type } from '@sinclair/typebox';

import { core } from '../../core.ts';
import { SentinelError } from '../../errors.ts';
import type { ApiInstance, RouteContext } from '../app.ts';
import { httpStatusFor } from '../errors.ts';
import { fromHex, hexSchema } from '../hex.ts';
import { hex0x, toWireJson } from '../wire-json.ts';

/** Shapes only: the enclave refuses a nonce or signature of the wrong size with a receipt (STAMP_MALFORMED). */
const Stamp = Type.Object(
  {
    principal: Type.String({ minLength: 1, maxLength: 256 }),
    /** µs since the Unix epoch; a decimal string or a JSON integer. */
    timestampUs: Type.Union([Type.String({ pattern: '^[0-9]{1,16}$' }), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })]),
    nonce: hexSchema([1, 255]),
    signature: hexSchema([1, 512]),
  },
  { additionalProperties: false },
);

const StampedBody = Type.Object(
  {
    body: hexSchema([1, core.MAX_BODY_BYTES]),
    stamp: Type.Optional(Type.Union([Stamp, Type.Null()])),
  },
  { additionalProperties: false },
);

function timestampOf(value: string | number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new SentinelError('INVALID_ARGUMENT', 'stamp.timestampUs: must be an integer below 2^53');
  return n;
}

export function stampedRoutes(app: ApiInstance, ctx: RouteContext): void {
  app.post('/v1/stamped', { schema: { body: StampedBody } }, async (request, reply) => {
    const { body, stamp } = request.body;
    const answered = await ctx.enclave.request(
      {
        op: 'stamped',
        body: fromHex(body),
        stamp: stamp
          ? {
              principal: stamp.principal,
              // The generated type says bigint (u64); the codec takes any exact integer and receipts cap at 2^53 - 1.
              timestamp_us: timestampOf(stamp.timestampUs) as unknown as bigint,
              nonce: fromHex(stamp.nonce),
              signature: fromHex(stamp.signature),
            }
          : null,
      },
      { timeoutMs: ctx.timeoutMs },
    );
    const answer = answered.answer;
    const status = answer.type === 'error' ? httpStatusFor(answer.code) : 200;
    return reply.status(status).send({ answer: toWireJson(answer), receipt: hex0x(answered.receipt) });
  });
}
