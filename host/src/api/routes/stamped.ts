/**
 * The stamped routes: one operation body, signed by a principal, relayed to
 * the enclave unchanged, answered with the enclave's answer and receipt.
 *
 * Every route is the same handler (`stampedRoute`): the host checks shapes
 * and that the body's `op` is the one the route serves (a mismatch is
 * 400 OPERATION_ROUTE_MISMATCH; a body whose op cannot be read is forwarded,
 * and the enclave refuses it with a receipt). It cannot sign for anyone (it holds no
 * credential) and must not judge a stamp: the enclave verifies the stamp
 * against its attested configuration, decides, and signs a receipt that binds
 * the exact body bytes (`payload_hash`), the principal and the result. The
 * body stays CBOR bytes for that reason: the stamp covers exact bytes, which
 * a JSON re-encoding by the host could not preserve (the SDK and CLI build
 * them). A refusal is an answer too: `{ error, answer: { type: 'error', code,
 * message }, receipt, receiptId }` with the HTTP status of its code, so a
 * client can prove it was refused. A request the enclave holds for human
 * approval (docs/oversight.md) is neither: 202 `{ status: "pending",
 * request_id, ... }` with the hold's receipt (`replyReceipted`).
 */
import type { OperationName, Receipted as ReceiptedArgs, StampedArgs } from '@sentinel/node/protocol';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';

import { core } from '../../core.ts';
import { SentinelError } from '../../errors.ts';
import type { ApiInstance, RouteContext } from '../app.ts';
import { errorBody, httpStatusFor } from '../errors.ts';
import { fromHex, hexSchema, toHex } from '../hex.ts';
import {
  AnyAnswer,
  ApprovalPendingResponse,
  ERROR_RESPONSES,
  KeyDeletedAnswer,
  KeyGeneratedAnswer,
  KeyListAnswer,
  receipted,
  SignatureAnswer,
  SignedTransactionAnswer,
} from '../schemas.ts';
import { toWireJson, type WireJson } from '../wire-json.ts';

export const RECEIPT_ID_HEADER = 'x-sentinel-receipt-id';

/** Shapes only: the enclave refuses a nonce or signature of the wrong size with a receipt (STAMP_MALFORMED). */
const Stamp = Type.Object(
  {
    principal: Type.String({ minLength: 1, maxLength: 256, description: 'the principal id in the configuration' }),
    timestampUs: Type.Union([Type.String({ pattern: '^[0-9]{1,16}$' }), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })], {
      description: 'µs since the Unix epoch: a decimal string or a JSON integer',
    }),
    nonce: hexSchema([1, 255], 'stamp nonce (16 to 32 bytes are accepted by the enclave)'),
    signature: hexSchema([1, 512], "signature by the principal's key over the stamp digest"),
  },
  { additionalProperties: false, description: "the principal's signature over (op, body, timestampUs, nonce): core.stampRequest" },
);

export const StampedBody = Type.Object(
  {
    body: hexSchema([1, core.MAX_BODY_BYTES], 'the CBOR operation body `{op, ...args}` (core.encodeBody), exactly the bytes the stamp signs'),
    stamp: Type.Optional(Type.Union([Stamp, Type.Null()])),
  },
  { additionalProperties: false },
);

export interface StampedRouteSpec {
  url: string;
  /** The body operation this route serves; undefined: any (the generic route). */
  op?: OperationName;
  summary: string;
  description: string;
  answer: TSchema;
}

/** The stamped routes (docs/api.md documents them). */
export const STAMPED_ROUTES: readonly StampedRouteSpec[] = [
  {
    url: '/v1/stamped',
    summary: 'Relay any stamped operation',
    description: 'The generic route: any body operation. The answer type follows from the operation.',
    answer: AnyAnswer,
  },
  {
    url: '/v1/keys/generate',
    op: 'generate_key',
    summary: 'Generate a key',
    description: 'Body `{op: "generate_key", curve, purpose, label}`. Answers `key_generated`.',
    answer: KeyGeneratedAnswer,
  },
  {
    url: '/v1/keys/import',
    op: 'import_key',
    summary: 'Import a key (HPKE-encrypted to the attested import key)',
    description: 'Body `{op: "import_key", curve, purpose, label, enc, ciphertext}` (docs/key-import.md). Answers `key_generated`.',
    answer: KeyGeneratedAnswer,
  },
  {
    url: '/v1/keys/delete',
    op: 'delete_key',
    summary: 'Delete a key (its owner only)',
    description:
      'Body `{op: "delete_key", key_id}`. The enclave wipes the key and the host drops its sealed record; the audit log records it. ' +
      'Answers `key_deleted`. There is no export.',
    answer: KeyDeletedAnswer,
  },
  {
    url: '/v1/keys/list',
    op: 'list_keys',
    summary: "List the principal's keys",
    description: 'Body `{op: "list_keys"}`. Answers `key_list`.',
    answer: KeyListAnswer,
  },
  {
    url: '/v1/sign/transaction',
    op: 'sign_ethereum_transaction',
    summary: 'Sign an Ethereum transaction',
    description:
      'Body `{op: "sign_ethereum_transaction", key_id, unsigned_tx}`: unsigned RLP of a legacy, EIP-155, EIP-2930 or EIP-1559 ' +
      'transaction (the SDK and CLI encode JSON transaction objects with core.encodeUnsignedTransaction). Answers `signed_transaction`.',
    answer: SignedTransactionAnswer,
  },
  {
    url: '/v1/sign/message',
    op: 'sign_personal_message',
    summary: 'Sign an EIP-191 personal message',
    description: 'Body `{op: "sign_personal_message", key_id, message}`. Answers `signature` (r || s and recovery_id).',
    answer: SignatureAnswer,
  },
  {
    url: '/v1/sign/typed-data',
    op: 'sign_typed_data',
    summary: 'Sign EIP-712 typed data',
    description: 'Body `{op: "sign_typed_data", key_id, typed_data}` (the full EIP-712 JSON, incl. types.EIP712Domain). Answers `signature`.',
    answer: SignatureAnswer,
  },
  {
    url: '/v1/sign/ed25519',
    op: 'sign_ed25519',
    summary: 'Sign raw bytes with an Ed25519 key',
    description: 'Body `{op: "sign_ed25519", key_id, message}` (1 to 65536 bytes; Ed25519 keys of purpose raw). Answers `signature` (recovery_id null).',
    answer: SignatureAnswer,
  },
  {
    url: '/v1/sign/digest',
    op: 'sign_digest',
    summary: 'Sign a raw 32-byte digest',
    description: 'Body `{op: "sign_digest", key_id, digest}` (keys of purpose raw only). Answers `signature`.',
    answer: SignatureAnswer,
  },
];

/** Where a body operation is served (for the mismatch message). */
const ROUTE_OF = new Map(STAMPED_ROUTES.filter((r) => r.op !== undefined).map((r) => [r.op as string, r.url]));

function timestampOf(value: string | number): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new SentinelError('INVALID_ARGUMENT', 'stamp.timestampUs: must be an integer below 2^53');
  return n;
}

/** The wire stamp of a validated `{ body, stamp }` request (null when unstamped): the same on every stamped frame. */
export function wireStamp(stamp: Static<typeof StampedBody>['stamp']): StampedArgs['stamp'] {
  if (!stamp) return null;
  return {
    principal: stamp.principal,
    // The generated type says bigint (u64); the codec takes any exact integer and receipts cap at 2^53 - 1.
    timestamp_us: timestampOf(stamp.timestampUs) as unknown as bigint,
    nonce: fromHex(stamp.nonce),
    signature: fromHex(stamp.signature),
  };
}

/** The receipt's request id (`0x` + 32 lowercase hex): the key of GET /v1/receipts/:id. */
function receiptIdOf(receipt: Buffer): string {
  try {
    return core.unsafeReceiptRequestId(receipt);
  } catch (e) {
    throw new SentinelError('UNEXPECTED_RESPONSE', `the enclave returned a receipt that does not decode (${(e as Error).message})`);
  }
}

/**
 * The body's op (the first key of its CBOR map, a known operation name), or
 * undefined when the core cannot read one (the enclave will refuse the body).
 * Only the op is read: the enclave decodes and judges the rest.
 */
function bodyOperation(body: Buffer): string | undefined {
  return core.bodyOperationName(body) ?? undefined;
}

export function stampedRoute(app: ApiInstance, ctx: RouteContext, spec: StampedRouteSpec): void {
  app.post(
    spec.url,
    {
      schema: {
        tags: ['stamped'],
        summary: spec.summary,
        description:
          `${spec.description} The request is \`{ body, stamp }\`; the answer carries the receipt (\`receipt\`, \`receiptId\` and the ` +
          `\`${RECEIPT_ID_HEADER}\` header), refusals too. A request held for human approval (a policy verdict or a Yellow kill ` +
          'switch) is 202 `{ status: "pending", request_id, ... }`: GET /v1/requests/:requestId gives the outcome.',
        body: StampedBody,
        response: { 200: receipted(spec.answer), 202: ApprovalPendingResponse, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { body, stamp } = request.body;
      const bytes = fromHex(body);
      const op = bodyOperation(bytes);
      if (spec.op !== undefined && op !== undefined && op !== spec.op) {
        const where = ROUTE_OF.get(op);
        return reply
          .status(httpStatusFor('OPERATION_ROUTE_MISMATCH'))
          .send(errorBody('OPERATION_ROUTE_MISMATCH', `${spec.url} serves ${spec.op}; this body is ${op} (send it to ${where ?? '/v1/stamped'})`));
      }
      const answered = await ctx.call(
        { op: 'stamped', body: bytes, stamp: wireStamp(stamp) },
        op ?? spec.op ?? 'undecodable',
      );
      return replyReceipted(reply, ctx, answered);
    },
  );
}

/**
 * A receipted answer of the enclave as HTTP (the stamped routes and `GET /v1/requests/:requestId`):
 * the receipt is kept for `GET /v1/receipts/:id` and named in the header;
 * - a refusal is `{ error, answer, receipt, receiptId }` with the status of its code;
 * - a request held for human approval (`approval_pending`, receipt code APPROVAL_PENDING) is 202
 *   `{ status: "pending", request_id, request_digest, reason, expires_at_us, approvals, approvals_needed, receipt, receiptId }`;
 * - anything else is 200 `{ answer, receipt, receiptId }`.
 */
export function replyReceipted(
  reply: FastifyReply,
  ctx: RouteContext,
  answered: { answer: ReceiptedArgs['answer']; receipt: Buffer },
): FastifyReply {
  const receiptId = receiptIdOf(answered.receipt);
  ctx.receipts.set(receiptId, answered.receipt);
  const answer = answered.answer;
  const receipt = toHex(answered.receipt);
  reply.header(RECEIPT_ID_HEADER, receiptId);
  if (answer.type === 'error') {
    return reply.status(httpStatusFor(answer.code)).send({
      error: { code: answer.code, message: answer.message },
      answer: toWireJson(answer) as { type: 'error'; code: string; message: string },
      receipt,
      receiptId,
    });
  }
  if (answer.type === 'approval_pending') {
    const { type: _type, ...pending } = toWireJson(answer) as Record<string, WireJson>;
    return reply.status(202).send({ status: 'pending', ...pending, receipt, receiptId } as never);
  }
  return reply.status(200).send({ answer: toWireJson(answer), receipt, receiptId } as never);
}

export function stampedRoutes(app: ApiInstance, ctx: RouteContext): void {
  for (const spec of STAMPED_ROUTES) stampedRoute(app, ctx, spec);
}
