/**
 * Response schemas shared by the routes: the error shapes every route can
 * answer with, and the enclave's answers as JSON. They document the API
 * (OpenAPI at /openapi.json) and make fastify serialize answers with
 * fast-json-stringify. Enclave answers keep `additionalProperties`: a field
 * the enclave adds must reach the client, never be dropped by the host.
 */
import { Type, type TSchema } from '@sinclair/typebox';

import { hexOut } from './hex.ts';

export const ErrorObject = Type.Object(
  {
    code: Type.String({ description: 'stable UPPER_SNAKE error code (docs/api.md lists them with their statuses)' }),
    message: Type.String({ description: 'human-readable detail' }),
  },
  { additionalProperties: false },
);

/** `{ error }`: a refusal without a receipt (the host refused, or the enclave could not be reached). */
export const ErrorResponse = Type.Object({ error: ErrorObject }, { additionalProperties: false, description: 'error without a receipt' });

/** The enclave's refusal of a stamped operation, as its answer. */
export const ErrorAnswer = Type.Object(
  { type: Type.Literal('error'), code: Type.String(), message: Type.String() },
  { additionalProperties: true },
);

/**
 * A refusal: always `error`; for a stamped operation the enclave refused, also
 * its answer and the signed receipt that proves the refusal.
 */
export const Refusal = Type.Object(
  {
    error: ErrorObject,
    answer: Type.Optional(ErrorAnswer),
    receipt: Type.Optional(hexOut('COSE_Sign1 receipt of the refusal')),
    receiptId: Type.Optional(hexOut("the receipt's request id (also in the x-sentinel-receipt-id header)")),
  },
  { additionalProperties: false, description: 'refusal: `error`, plus `answer`, `receipt` and `receiptId` when the enclave refused a stamped operation' },
);

/** Responses every route may give besides its own success. */
export const ERROR_RESPONSES = { '4xx': Refusal, '5xx': Refusal } as const;

const Curve = Type.Union([Type.Literal('secp256k1'), Type.Literal('ed25519')]);
const Purpose = Type.Union([Type.Literal('ethereum'), Type.Literal('raw')]);

export const KeyGeneratedAnswer = Type.Object(
  {
    type: Type.Literal('key_generated'),
    key_id: Type.String(),
    curve: Curve,
    purpose: Purpose,
    label: Type.String(),
    public_key: hexOut('SEC1 compressed secp256k1 key or 32-byte Ed25519 key'),
    storage: Type.Union([Type.Literal('sealed:aws-kms'), Type.Literal('sealed:development'), Type.Literal('ephemeral')], {
      description: 'how the key survives a restart: sealed (AWS KMS, or a DEVELOPMENT key file on the host), or ephemeral (memory only)',
    }),
  },
  { additionalProperties: true },
);

export const KeyDeletedAnswer = Type.Object(
  {
    type: Type.Literal('key_deleted'),
    key_id: Type.String(),
  },
  { additionalProperties: true },
);

export const KeyListAnswer = Type.Object(
  {
    type: Type.Literal('key_list'),
    keys: Type.Array(
      Type.Object(
        {
          key_id: Type.String(),
          curve: Curve,
          purpose: Purpose,
          label: Type.String(),
          owner: Type.String({ description: 'the principal that created or imported it' }),
          public_key: hexOut('public key'),
        },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true },
);

export const SignatureAnswer = Type.Object(
  {
    type: Type.Literal('signature'),
    signature: hexOut('64 bytes: r || s (secp256k1, low-S) or the Ed25519 signature'),
    recovery_id: Type.Union([Type.Integer({ minimum: 0, maximum: 3 }), Type.Null()], { description: 'secp256k1 only' }),
  },
  { additionalProperties: true },
);

export const SignedTransactionAnswer = Type.Object(
  { type: Type.Literal('signed_transaction'), raw: hexOut('the raw signed transaction, ready for eth_sendRawTransaction') },
  { additionalProperties: true },
);

export const AnyAnswer = Type.Object(
  { type: Type.String({ description: 'answer type: key_generated, key_list, signature, signed_transaction, ...' }) },
  { additionalProperties: true },
);

/** `{ answer, receipt, receiptId }` with the given answer schema. */
export function receipted(answer: TSchema): TSchema {
  return Type.Object(
    {
      answer,
      receipt: hexOut('COSE_Sign1 receipt signed by the enclave (docs/receipts.md)'),
      receiptId: hexOut("the receipt's request id (also in the x-sentinel-receipt-id header)"),
    },
    { additionalProperties: false },
  );
}

/**
 * 202: a signing request the enclave holds for human approval (policy verdict or Yellow state). Not a
 * refusal: the receipt (decision `denied`, code `APPROVAL_PENDING`) proves it was held, and
 * `GET /v1/requests/:requestId` gives the outcome once approvers decided (docs/oversight.md).
 */
export const ApprovalPendingResponse = Type.Object(
  {
    status: Type.Literal('pending'),
    request_id: hexOut("16 bytes: the held request's id (also the receipt's request_id)"),
    request_digest: hexOut('SHA-256 of the request body: what approvers approve'),
    reason: Type.String({ description: '`policy_approval_required` or `yellow_state`' }),
    expires_at_us: Type.Integer({ minimum: 0, description: 'µs since the Unix epoch: the request is refused (APPROVAL_EXPIRED) unless approved by then' }),
    approvals: Type.Array(Type.String(), { description: 'approver ids that approved so far' }),
    approvals_needed: Type.Integer({ minimum: 0, description: 'distinct approvals that release it' }),
    receipt: hexOut('COSE_Sign1 receipt of the hold (decision denied, code APPROVAL_PENDING)'),
    receiptId: hexOut("the receipt's request id (also in the x-sentinel-receipt-id header)"),
  },
  { additionalProperties: false, description: 'the request is held for human approval' },
);
