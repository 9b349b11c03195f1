/**
 * `GET /v1/receipts/:id`: a recent receipt by its id (the receipt's
 * request_id, which every stamped answer names in `receiptId` and the
 * `x-sentinel-receipt-id` header). Served from the API's bounded memory; a
 * receipt verifies on its own, so where it was kept does not matter.
 */
import { Type } from '@sinclair/typebox';

import type { ApiInstance, RouteContext } from '../app.ts';
import { errorBody, httpStatusFor } from '../errors.ts';
import { hexOut, toHex } from '../hex.ts';
import { ERROR_RESPONSES } from '../schemas.ts';

const ReceiptParams = Type.Object(
  { id: Type.String({ pattern: '^(0x)?[0-9a-fA-F]{32}$', description: 'receipt id: 0x + 32 hex digits' }) },
  { additionalProperties: false },
);

const ReceiptResponse = Type.Object(
  { receiptId: hexOut('the receipt id'), receipt: hexOut('COSE_Sign1 receipt') },
  { additionalProperties: false },
);

export function receiptRoutes(app: ApiInstance, ctx: RouteContext): void {
  app.get(
    '/v1/receipts/:id',
    {
      schema: {
        tags: ['receipts'],
        summary: 'A recent receipt by id',
        description: 'The API keeps the most recent receipts in memory (bounded); older ones are 404 RECEIPT_NOT_FOUND.',
        params: ReceiptParams,
        response: { 200: ReceiptResponse, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const id = `0x${request.params.id.replace(/^0x/, '').toLowerCase()}`;
      const receipt = ctx.receipts.get(id);
      if (receipt === undefined) {
        return reply.status(httpStatusFor('RECEIPT_NOT_FOUND')).send(errorBody('RECEIPT_NOT_FOUND', `no receipt ${id} in memory`));
      }
      return { receiptId: id, receipt: toHex(receipt) };
    },
  );
}
