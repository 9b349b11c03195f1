/**
 * The signed policy (docs/policy.md): validate one, show the one in force,
 * apply a new one, ask what it would decide (a dry run), and feed it prices.
 *
 * - `POST /v1/policy/validate` checks a policy document or a signed envelope
 *   with the core (the same Rust the enclave runs): its hash, version, name and
 *   rule count, or the refusal code. Nothing is sent to the enclave.
 * - `GET /v1/policy` relays the signed policy in force from the enclave's
 *   evidence (its hash is in the attested user_data, so a client can check it).
 * - `POST /v1/policy` relays a signed envelope and the ONNX models its
 *   `risk_score` rules pin (`update_policy`). The host holds no admin key and
 *   judges nothing: the enclave installs it only with the configuration's
 *   admin quorum and a higher version, and answers the new policy hash and the
 *   new boot attestation (which binds it).
 * - `POST /v1/policy/dry-run` takes a stamped body exactly like the stamped
 *   routes and relays it as `policy_dry_run`: what the active policy, with its
 *   live counters, would decide now. Nothing is signed or counted, and there is
 *   no receipt: the answer is advice, relayed by an untrusted host.
 * - `POST /v1/prices` relays a price table signed by the policy's price-feed
 *   key (`update_prices`), for `usd` notional limits.
 *
 * Refusals keep the codes of the core and the enclave (`POLICY_*`, `PRICES_*`;
 * statuses in errors.ts). Policy verdicts on signing routes (POLICY_DENIED, ...)
 * are not here: they are refusals of the stamped routes, with their receipts.
 */
import type { IncomingMessage } from 'node:http';

import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';

import { core } from '../../core.ts';
import { SentinelError } from '../../errors.ts';
import { isEnvelope, policyCore, type RuleEvaluation } from '../../policy-core.ts';
import type { ApiInstance, RouteContext } from '../app.ts';
import { errorBody } from '../errors.ts';
import { fromHex, hexOut, hexSchema, toHex } from '../hex.ts';
import { ERROR_RESPONSES } from '../schemas.ts';
import { StampedBody, wireStamp } from './stamped.ts';

/** Largest JSON request on the policy routes that carry no model (a policy is at most 256 KiB canonical; formatting adds). */
const POLICY_BODY_LIMIT = 1024 * 1024;
/** A signed policy plus its models must fit one frame; hex doubles the models. */
const APPLY_BODY_LIMIT = 2 * core.MAX_FRAME_BYTES + 1024;

const JsonObject = (description: string) => Type.Object({}, { additionalProperties: true, description });

const Envelope = Type.Object(
  {
    policy: JsonObject('the policy document: { version, name, price_feed?, rules }'),
    signatures: Type.Array(
      Type.Object(
        { admin: Type.String({ description: 'admin id in the configuration' }), signature: Type.String({ description: '0x-hex signature' }) },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true, description: 'signed envelope `{ policy, signatures }` (`zcp policy sign` writes it)' },
);

/** The envelope as a JSON object, or its exact JSON text (what `zcp policy apply` sends: the file as written). */
const EnvelopeInput = Type.Union([Envelope, Type.String({ minLength: 2, maxLength: core.MAX_FRAME_BYTES, description: 'the envelope as JSON text' })]);

const Signers = Type.Array(Type.String(), { description: 'admin ids that signed (not checked here: the enclave checks the quorum)' });

const Validated = Type.Object(
  {
    kind: Type.Union([Type.Literal('policy'), Type.Literal('signed')], { description: '`policy` for a bare document, `signed` for an envelope' }),
    policyHash: hexOut('SHA-256 of the canonical policy JSON (RFC 8785)'),
    version: Type.Integer({ minimum: 0 }),
    name: Type.String(),
    rules: Type.Integer({ minimum: 0, description: 'how many rules' }),
    signers: Type.Optional(Signers),
  },
  { additionalProperties: false },
);

const PolicyResponse = Type.Object(
  {
    signedPolicy: Envelope,
    policyHash: hexOut('SHA-256 of the canonical policy JSON; the attestation user_data binds it (0x03 || config_hash || policy_hash)'),
    policyVersion: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

const ApplyBody = Type.Object(
  {
    signedPolicy: EnvelopeInput,
    models: Type.Optional(
      Type.Array(hexSchema([1, core.MAX_FRAME_BYTES], 'an ONNX model a `risk_score` rule pins by SHA-256'), {
        maxItems: 64,
        description: 'exactly the models the policy pins',
      }),
    ),
  },
  { additionalProperties: false },
);

const PolicyUpdated = Type.Object(
  {
    policyHash: hexOut('SHA-256 of the installed policy'),
    version: Type.Integer({ minimum: 0 }),
    attestationHash: hexOut('SHA-256 of the new boot attestation document (its user_data binds the new policy hash)'),
  },
  { additionalProperties: false },
);

const RuleEvaluated = Type.Object(
  {
    rule: Type.String({ description: 'rule id' }),
    type: Type.String({ description: 'notional_limit, rate_limit, contract_list, chain, time_window, risk_score' }),
    result: Type.String({ description: 'allow, deny, not_applicable, approval_required or error' }),
    value: Type.Union([Type.String(), Type.Null()], { description: 'what was counted or scored (decimal)' }),
    limit: Type.Union([Type.String(), Type.Null()], { description: 'the limit it was compared with (decimal)' }),
    window: Type.Union([Type.String(), Type.Null()], { description: '1s, 1m, 1h or 1d' }),
    detail: Type.Union([Type.String(), Type.Null()], { description: 'asset and unit, model hash, or the reason' }),
  },
  { additionalProperties: true },
);

const DryRunResponse = Type.Object(
  {
    decision: Type.String({ description: 'allowed, denied or approval_required' }),
    code: Type.Union([Type.String(), Type.Null()], { description: 'the refusal code when not allowed (POLICY_DENIED, POLICY_NO_MATCH, ... or an earlier check\'s)' }),
    policyHash: Type.Union([hexOut('the policy that decided'), Type.Null()]),
    rulesEvaluated: Type.Array(RuleEvaluated),
  },
  { additionalProperties: false },
);

const PricesBody = Type.Object(
  {
    signedPrices: Type.Union(
      [
        Type.Object({ table: JsonObject('{ timestamp_s, prices: [{ asset, usd, decimals }] }'), signature: Type.String() }, { additionalProperties: true }),
        Type.String({ minLength: 2, maxLength: core.MAX_FRAME_BYTES, description: 'the signed table as JSON text' }),
      ],
      { description: 'a price table signed by the policy\'s price_feed key (`zcp prices sign` writes it)' },
    ),
  },
  { additionalProperties: false },
);

const PricesUpdated = Type.Object(
  { timestampS: Type.Integer({ minimum: 0, description: "the table's timestamp (unix seconds)" }), entries: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

/** The exact request text of each JSON request in this scope (a policy's hash is over what was written). */
const rawBodies = new WeakMap<IncomingMessage, string>();

/** JSON text as UTF-8 bytes: a string as given, an object serialized (policies hold only integers and strings). */
function jsonBytes(value: string | object): Buffer {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
}

/** A core error keeps its code (POLICY_*); anything else is INTERNAL. */
function coreRefusal(e: unknown): SentinelError {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return new SentinelError(code, (e as Error).message, { cause: e });
  return new SentinelError('INTERNAL', 'the core failed', { cause: e });
}

/** The rule records of an enclave answer as JSON (the same fields receipts carry). */
function ruleRecords(records: ReadonlyArray<Record<string, unknown>>): RuleEvaluation[] {
  const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  return records.map((r) => ({
    rule: String(r.rule),
    type: String(r.type),
    result: String(r.result),
    value: text(r.value),
    limit: text(r.limit),
    window: text(r.window),
    detail: text(r.detail),
  }));
}

export function policyRoutes(scope: FastifyInstance, ctx: RouteContext): void {
  // In this scope the JSON parser also keeps the request text: validation must see the document as
  // written (a key twice or a float is a refusal there, and JSON.parse would hide both).
  const parseJson = scope.getDefaultJsonParser('error', 'error');
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    rawBodies.set(request.raw, body as string);
    parseJson(request, body as string, done);
  });
  const app = scope as unknown as ApiInstance;

  app.post(
    '/v1/policy/validate',
    {
      bodyLimit: POLICY_BODY_LIMIT,
      schema: {
        tags: ['policy'],
        summary: 'Validate a policy document or a signed envelope',
        description:
          'Checks the JSON with the core the enclave runs (strict JSON, every field, ranges, unique ids) and answers its hash ' +
          '(SHA-256 of the canonical form), version, name and rule count, plus the signers of an envelope (their signatures are ' +
          'checked by the enclave on apply, against the configuration in force). Refusals: POLICY_MALFORMED, POLICY_INVALID, ' +
          'POLICY_DUPLICATE_ID (400), POLICY_TOO_LARGE (413). Nothing reaches the enclave.',
        body: JsonObject('a policy document `{ version, name, price_feed?, rules }` or a signed envelope `{ policy, signatures }`'),
        response: { 200: Validated, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const text = rawBodies.get(request.raw) ?? JSON.stringify(request.body);
      try {
        if (isEnvelope(request.body)) {
          const inspected = policyCore.policyInspectSigned(text);
          const validated = policyCore.policyValidate(JSON.stringify(request.body.policy));
          return {
            kind: 'signed' as const,
            policyHash: toHex(inspected.policyHash),
            version: inspected.version,
            name: inspected.name,
            rules: validated.rules,
            signers: inspected.signers,
          };
        }
        const validated = policyCore.policyValidate(text);
        return { kind: 'policy' as const, policyHash: toHex(validated.policyHash), version: validated.version, name: validated.name, rules: validated.rules };
      } catch (e) {
        if (e instanceof SentinelError) throw e;
        throw coreRefusal(e);
      }
    },
  );

  app.get(
    '/v1/policy',
    {
      schema: {
        tags: ['policy'],
        summary: 'The signed policy in force',
        description:
          "The enclave's signed policy envelope, its hash and version (from its evidence). The hash is attested in user_data " +
          '(0x03 || config_hash || policy_hash) and named by every receipt. 404 POLICY_NOT_INSTALLED when none is installed.',
        response: { 200: PolicyResponse, ...ERROR_RESPONSES },
      },
    },
    async (_request, reply) => {
      const e = await ctx.call({ op: 'evidence' });
      if (e.signed_policy === null || e.signed_policy === undefined || e.policy_hash === null || e.policy_hash === undefined) {
        return reply.status(404).send(errorBody('POLICY_NOT_INSTALLED', 'no policy is installed (POST /v1/policy, or start the enclave with --policy)'));
      }
      let signedPolicy: unknown;
      try {
        signedPolicy = JSON.parse(Buffer.from(e.signed_policy).toString('utf8'));
      } catch {
        throw new SentinelError('UNEXPECTED_RESPONSE', 'the enclave returned a signed policy that is not JSON');
      }
      return { signedPolicy: signedPolicy as never, policyHash: toHex(e.policy_hash), policyVersion: Number(e.policy_version ?? 0) };
    },
  );

  app.post(
    '/v1/policy',
    {
      bodyLimit: APPLY_BODY_LIMIT,
      schema: {
        tags: ['policy'],
        summary: 'Install a new signed policy',
        description:
          'Body `{ signedPolicy, models? }`: the envelope (object or its JSON text) and the ONNX models its risk_score rules pin. ' +
          "The enclave installs it only with valid signatures of the configuration's admin threshold and a version above the " +
          'active one, and answers the policy hash and the new boot attestation that binds it. Refusals: POLICY_ROLLBACK 409, ' +
          'POLICY_QUORUM_NOT_MET 403, POLICY_MODEL_MISSING / POLICY_MODEL_INVALID / POLICY_INVALID / POLICY_MALFORMED 400.',
        body: ApplyBody,
        response: { 200: PolicyUpdated, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { signedPolicy, models } = request.body;
      const signed = jsonBytes(signedPolicy);
      const onnx = (models ?? []).map((m) => fromHex(m));
      const updated = await ctx.call({ op: 'update_policy', signed_policy: signed, models: onnx.map((m) => ({ onnx: m })) });
      // In force now: the stack boots with it next time (its audit log ends with it).
      await ctx.installed?.policy?.(signed, onnx);
      return { policyHash: toHex(updated.policy_hash), version: Number(updated.version), attestationHash: toHex(updated.attestation_hash) };
    },
  );

  app.post(
    '/v1/policy/dry-run',
    {
      schema: {
        tags: ['policy'],
        summary: 'What the active policy would decide about a signing request',
        description:
          'The request is `{ body, stamp }` exactly as for the stamped signing routes. The enclave authenticates it and evaluates ' +
          'the active policy with its live counters, without signing and without counting it: `{ decision, code, policyHash, ' +
          'rulesEvaluated }`. No receipt: a dry run is advice relayed by the host, the signing route decides. A request refused ' +
          'before the policy (stamp, permission, key) answers that refusal code in `code`, or is an error without a decision.',
        body: StampedBody,
        response: { 200: DryRunResponse, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const { body, stamp } = request.body;
      const evaluation = await ctx.call({ op: 'policy_dry_run', body: fromHex(body), stamp: wireStamp(stamp) });
      return {
        decision: String(evaluation.decision),
        code: evaluation.code ?? null,
        policyHash: evaluation.policy_hash ? toHex(evaluation.policy_hash) : null,
        rulesEvaluated: ruleRecords(evaluation.rules_evaluated as unknown as Array<Record<string, unknown>>),
      };
    },
  );

  app.post(
    '/v1/prices',
    {
      bodyLimit: POLICY_BODY_LIMIT,
      schema: {
        tags: ['policy'],
        summary: 'Install a signed USD price table',
        description:
          "Body `{ signedPrices }`: a table signed by the active policy's price_feed key (object or JSON text), newer than the one " +
          'in force. Used by `usd` notional limits; a missing or stale table makes them deny. Refusals: PRICES_SIGNATURE_INVALID 403, ' +
          'PRICES_ROLLBACK 409, PRICE_FEED_NOT_CONFIGURED 409, PRICES_INVALID 400.',
        body: PricesBody,
        response: { 200: PricesUpdated, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const updated = await ctx.call({ op: 'update_prices', signed_prices: jsonBytes(request.body.signedPrices) });
      return { timestampS: Number(updated.timestamp_s), entries: Number(updated.entries) };
    },
  );
}
