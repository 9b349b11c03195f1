/**
 * The kill switch and the approval queue (docs/oversight.md): routes that
 * relay oversight commands signed by the configuration's overseers and
 * approvers to the enclave, which alone checks the signatures, the quorum,
 * the timestamp window and replays, and answers its state.
 *
 * - `GET /v1/oversight/challenge`: a fresh resume challenge (one use; a
 *   resume must carry the current one, so an old resume cannot be replayed).
 * - `POST /v1/oversight`: a `halt`, `resume`, `heartbeat` or `status` command
 *   (`oversight` frame), answered with the kill switch's state. The aliases
 *   `POST /v1/oversight/halt|resume|heartbeat|status` refuse a command of
 *   another action (400 OVERSIGHT_MALFORMED) before the enclave sees it.
 * - `POST /v1/approvals`: a `list_approvals` command: the held requests, each
 *   with its exact body so approvers can decode what they approve.
 * - `POST /v1/approvals/decision`: an `approve` or `reject` command for one
 *   held request (`approval` frame).
 * - `GET /v1/requests/:requestId`: the outcome of a held request
 *   (`approval_result`), answered like the signing routes: 202 while it is
 *   pending, the signature (200) or the refusal with its receipt once decided.
 *
 * The host holds no oversight key and judges nothing: the command is the
 * canonical CBOR the signers signed (`core.oversightCommand`), relayed as
 * bytes. It reads one thing, the action, to pick the frame and to keep each
 * route to its actions (`core.oversightDecode`, the Rust the enclave runs).
 */
import type { OversightArgs } from '@sentinel/node/protocol';
import { Type, type Static } from '@sinclair/typebox';

import { core } from '../../core.ts';
import { SentinelError } from '../../errors.ts';
import type { ApiInstance, RouteContext } from '../app.ts';
import { fromHex, hexOut, hexSchema } from '../hex.ts';
import { ApprovalPendingResponse, AnyAnswer, ERROR_RESPONSES, receipted } from '../schemas.ts';
import { toWireJson } from '../wire-json.ts';
import { replyReceipted } from './stamped.ts';

/** `sentinel_oversight::MAX_COMMAND_BYTES`: the enclave reads no larger command. */
const MAX_COMMAND_BYTES = 1024;
/** `sentinel_oversight::MAX_COMMAND_SIGNATURES`. */
const MAX_COMMAND_SIGNATURES = 16;

export const OversightBody = Type.Object(
  {
    command: hexSchema([1, MAX_COMMAND_BYTES], 'the oversight command, canonical CBOR (core.oversightCommand; zcp halt / resume build it)'),
    signatures: Type.Array(
      Type.Object(
        {
          signer: Type.String({ minLength: 1, maxLength: 64, description: "an overseer's or approver's id in the configuration" }),
          signature: hexSchema([1, 512], 'the signature over SHA-256("sentinel/oversight/v1" || command) (core.oversightSign)'),
        },
        { additionalProperties: false },
      ),
      { maxItems: MAX_COMMAND_SIGNATURES, description: 'one entry per signer; the enclave checks each against the configuration' },
    ),
  },
  { additionalProperties: false },
);

const ScopeStatus = Type.Object(
  {
    scope: Type.String({ description: 'global, key:<key id> or principal:<principal id>' }),
    level: Type.String({ description: 'green, yellow or red' }),
    reason: Type.String(),
    since_us: Type.Integer({ minimum: 0, description: 'µs since the Unix epoch' }),
    by: Type.Array(Type.String(), { description: 'signer ids, or `enclave` (boot, missed heartbeat, automatic trips)' }),
  },
  { additionalProperties: true },
);

const OversightStatusAnswer = Type.Object(
  {
    type: Type.Literal('oversight_status'),
    global: ScopeStatus,
    scopes: Type.Array(ScopeStatus, { description: 'keys and principals that are not green' }),
    heartbeat_interval_ms: Type.Integer({ minimum: 0, description: '0: no heartbeat configured' }),
    heartbeat_deadline_us: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    pending_approvals: Type.Integer({ minimum: 0 }),
    max_pending: Type.Integer({ minimum: 0 }),
    signers: Type.Array(Type.String(), { description: "the command's accepted signers" }),
  },
  { additionalProperties: true },
);

const ChallengeAnswer = Type.Object(
  {
    type: Type.Literal('oversight_challenge'),
    challenge: hexOut('32 bytes a resume command must carry; one use'),
    expires_at_us: Type.Integer({ minimum: 0, description: 'µs since the Unix epoch' }),
  },
  { additionalProperties: true },
);

const HeldRequest = Type.Object(
  {
    request_id: hexOut('16 bytes'),
    request_digest: hexOut('SHA-256 of the body: what approvers approve'),
    principal: Type.String(),
    key_id: Type.Union([Type.String(), Type.Null()]),
    op: Type.String(),
    reason: Type.String({ description: '`policy_approval_required` or `yellow_state`' }),
    body: hexOut('the exact operation body (CBOR; core.decodeBody reads it)'),
    held_at_us: Type.Integer({ minimum: 0 }),
    expires_at_us: Type.Integer({ minimum: 0 }),
    approvals: Type.Array(Type.String()),
    approvals_needed: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: true },
);

const ApprovalListAnswer = Type.Object(
  { type: Type.Literal('approval_list'), entries: Type.Array(HeldRequest) },
  { additionalProperties: true },
);

const ApprovalUpdatedAnswer = Type.Object(
  {
    type: Type.Literal('approval_updated'),
    request_id: hexOut('16 bytes'),
    state: Type.String({ description: 'pending, released (signed), refused (the release was refused: code) or rejected' }),
    code: Type.Union([Type.String(), Type.Null()]),
    approvals: Type.Array(Type.String()),
    approvals_needed: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: true },
);

const RequestParams = Type.Object(
  { requestId: Type.String({ pattern: '^(0x)?[0-9a-fA-F]{32}$', description: 'the held request id: 0x + 32 hex digits (the 202 answer\'s request_id)' }) },
  { additionalProperties: false },
);

/** The actions of the `oversight` frame, and the alias route of each. */
const OVERSIGHT_ACTIONS = ['halt', 'resume', 'heartbeat', 'status'] as const;

/** The command's action, read by the core (OVERSIGHT_MALFORMED when it is not a valid command). */
export function commandAction(command: Uint8Array): string {
  let json: string;
  try {
    json = core.oversightDecode(command);
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code !== '') throw new SentinelError(code, (e as Error).message, { cause: e });
    throw new SentinelError('INTERNAL', 'the core failed to read the command', { cause: e });
  }
  return String((JSON.parse(json) as { action?: unknown }).action);
}

/** Refuses a command whose action this route does not serve (before the enclave sees it). */
function expectAction(url: string, command: Uint8Array, allowed: readonly string[]): string {
  const action = commandAction(command);
  if (!allowed.includes(action)) {
    throw new SentinelError('OVERSIGHT_MALFORMED', `${url} takes ${allowed.join(' or ')} commands; this command is ${action}`);
  }
  return action;
}

function wireArgs(body: Static<typeof OversightBody>): OversightArgs {
  return {
    command: fromHex(body.command),
    signatures: body.signatures.map((s) => ({ signer: s.signer, signature: fromHex(s.signature) })),
  };
}

/** An enclave answer as JSON: its own field names, bytes as 0x-hex, without the frame id. */
function answerJson(answer: { id: number }): never {
  const { id: _id, ...rest } = answer;
  return toWireJson(rest) as never;
}

export function oversightRoutes(app: ApiInstance, ctx: RouteContext): void {
  app.get(
    '/v1/oversight/challenge',
    {
      schema: {
        tags: ['oversight'],
        summary: 'A fresh resume challenge',
        description:
          "32 random bytes the next resume command must carry (it replaces the previous challenge; one use, with an expiry), so an " +
          'old resume cannot be replayed. Anyone may ask; only the overseers\' quorum can use it.',
        response: { 200: ChallengeAnswer, ...ERROR_RESPONSES },
      },
    },
    async () => answerJson(await ctx.call({ op: 'oversight_challenge' })),
  );

  const relayOversight = (url: string, allowed: readonly string[]) =>
    app.post(
      url,
      {
        schema: {
          tags: ['oversight'],
          summary: allowed.length === 1 ? `A signed ${allowed[0]} command` : 'A signed halt, resume, heartbeat or status command',
          description:
            'Body `{ command, signatures: [{ signer, signature }] }`: the canonical CBOR command and its signers\' signatures over ' +
            'SHA-256("sentinel/oversight/v1" || command). halt (level yellow or red), heartbeat and status need one overseer; resume ' +
            "(level green or yellow, the current challenge) the configuration's resume threshold. Answers the kill switch's state. " +
            'Refusals: OVERSIGHT_MALFORMED 400 (also a command of another action than the route\'s), OVERSIGHT_SIGNATURE_INVALID / ' +
            'OVERSIGHT_STALE 401, OVERSIGHT_NOT_PERMITTED / OVERSIGHT_QUORUM_NOT_MET 403, OVERSIGHT_REPLAY / ' +
            'OVERSIGHT_CHALLENGE_INVALID 409, OVERSIGHT_REPLAY_CACHE_FULL 503.',
          body: OversightBody,
          response: { 200: OversightStatusAnswer, ...ERROR_RESPONSES },
        },
      },
      async (request) => {
        const args = wireArgs(request.body);
        const action = expectAction(url, args.command, allowed);
        return answerJson(await ctx.call({ op: 'oversight', ...args }, `oversight_${action}`));
      },
    );
  relayOversight('/v1/oversight', OVERSIGHT_ACTIONS);
  for (const action of OVERSIGHT_ACTIONS) relayOversight(`/v1/oversight/${action}`, [action]);

  app.post(
    '/v1/approvals',
    {
      schema: {
        tags: ['oversight'],
        summary: 'The requests held for human approval',
        description:
          'Body `{ command, signatures }` with a signed list_approvals command (one overseer or approver). Answers every held ' +
          'request with its id, digest, principal, key, op, exact body (CBOR), expiry and approvals so far.',
        body: OversightBody,
        response: { 200: ApprovalListAnswer, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const args = wireArgs(request.body);
      expectAction('/v1/approvals', args.command, ['list_approvals']);
      return answerJson(await ctx.call({ op: 'list_approvals', ...args }));
    },
  );

  app.post(
    '/v1/approvals/decision',
    {
      schema: {
        tags: ['oversight'],
        summary: 'Approve or reject a held request',
        description:
          'Body `{ command, signatures }` with a signed approve or reject command naming the held request (request_id) and the ' +
          'SHA-256 of its body (request_digest). Approvals accumulate across commands; the request is signed once the ' +
          "configuration's approval threshold of distinct approvers approved before it expired; one rejection refuses it. " +
          'Refusals: APPROVAL_UNKNOWN 404, APPROVAL_EXPIRED 410, APPROVAL_DIGEST_MISMATCH 409, APPROVAL_REJECTED 403, and the ' +
          'OVERSIGHT_* codes.',
        body: OversightBody,
        response: { 200: ApprovalUpdatedAnswer, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const args = wireArgs(request.body);
      const action = expectAction('/v1/approvals/decision', args.command, ['approve', 'reject']);
      return answerJson(await ctx.call({ op: 'approval', ...args }, `approval_${action}`));
    },
  );

  app.get(
    '/v1/requests/:requestId',
    {
      schema: {
        tags: ['oversight'],
        summary: 'The outcome of a request held for approval',
        description:
          'Answers like the signing route did: 202 `{ status: "pending", ... }` while it waits, then the signature with its ' +
          'receipt (200, the receipt naming the approvals), or the refusal with its receipt (APPROVAL_REJECTED 403, ' +
          'APPROVAL_EXPIRED 410, KILL_SWITCH_HALTED 423, a policy refusal). APPROVAL_UNKNOWN 404 for an id the enclave does not hold.',
        params: RequestParams,
        response: { 200: receipted(AnyAnswer), 202: ApprovalPendingResponse, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const requestId = fromHex(request.params.requestId);
      const answered = await ctx.call({ op: 'approval_result', request_id: requestId });
      return replyReceipted(reply, ctx, answered);
    },
  );
}
