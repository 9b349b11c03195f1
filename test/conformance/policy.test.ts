/**
 * Policy engine (crates/policy via `policyValidate` and `evaluatePolicy`,
 * docs/policy.md): both full builds validate and dry-run policies with the
 * same results and refuse bad input with the same codes.
 *
 * Cases come from the rule fixtures in test/vectors/policy/ (hand-written,
 * see its README; `crates/policy/tests/rules.rs` runs every step of them
 * against the crate). `evaluatePolicy` is stateless (a fresh state per call),
 * so a case is replayed here only where a fresh state is what the fixture
 * has: every step of a case whose rules keep no state (chain, contract_list,
 * time_window), the first step of the others. Price tables are signed here
 * with the fixtures' feed key (RFC 8032 test 1) through the native
 * `pricesSign` and verified by both builds. The bindings are built without
 * the ONNX runtime (sentinel-policy's `onnx` feature: the enclave has it), so
 * `risk_score` cases are left to the Rust tests and the enclave's dry run;
 * here both builds must refuse such a policy with the same code.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type * as NativeBuild from '@sentinel/node';
import { expectCode, hex, sha256, utf8, vectorPath } from './helpers.ts';
import { implementations, native, wasm, type CoreApi } from './impls.ts';

/** The native build's own functions (signing policies and prices), used to make inputs. */
const nativeOnly = createRequire(import.meta.url)('@sentinel/node') as typeof NativeBuild;

type Evaluation = ReturnType<CoreApi['evaluatePolicy']>;
type RequestInput = Parameters<CoreApi['evaluatePolicy']>[1];

// --- fixtures -----------------------------------------------------------------------

interface Step {
  note?: string;
  at?: string;
  advance_us?: number;
  caller?: { principal?: string; key_id?: string; label?: string };
  transaction?: Record<string, unknown>;
  erc20?: { call: 'transfer' | 'approve' | 'transferFrom'; to?: string; spender?: string; from?: string; amount: string };
  typed_data?: unknown;
  op?: string;
  replace_policy?: unknown;
  repeat?: number;
  expect: {
    verdict?: string;
    code?: string | null;
    score_bps?: number;
    results?: Record<string, Record<string, string | null>>;
  };
}
interface Case {
  name: string;
  policy: Record<string, unknown>;
  models?: string[];
  requires_model?: string;
  expect_activation_error?: string;
  prices?: unknown;
  start?: string;
  steps: Step[];
}

const FIXTURE_DIR = 'policy';
const fixtureFiles = existsSync(vectorPath(FIXTURE_DIR))
  ? readdirSync(vectorPath(FIXTURE_DIR)).filter((f) => f.endsWith('.json')).sort()
  : [];

/** The fixtures' `price_feed` key: RFC 8032 section 7.1 test 1 (public 0xd75a98..511a). */
const FEED_CREDENTIAL = JSON.stringify({
  admin: 'price-feed',
  alg: 'ed25519',
  secret_key: '0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
});
const STATELESS_TYPES = new Set(['chain', 'contract_list', 'time_window']);
const DEFAULT_START = '2026-01-05T15:00:00Z';

function instantMs(text: string): number {
  // Fixture instants have up to 6 fraction digits; Date keeps milliseconds only.
  const match = /^(.*?)(?:\.(\d{1,6}))?Z$/.exec(text);
  if (!match) throw new Error(`instant ${text}`);
  const whole = Date.parse(`${match[1]}Z`);
  const micros = Number((match[2] ?? '').padEnd(6, '0'));
  return whole + micros / 1000;
}

const word = (hexDigits: string) => hexDigits.replace(/^0x/, '').toLowerCase().padStart(64, '0');
const uintWord = (decimal: string) => word(BigInt(decimal).toString(16));
function erc20Data(call: NonNullable<Step['erc20']>): string {
  switch (call.call) {
    case 'transfer':
      return `0xa9059cbb${word(call.to!)}${uintWord(call.amount)}`;
    case 'approve':
      return `0x095ea7b3${word(call.spender!)}${uintWord(call.amount)}`;
    case 'transferFrom':
      return `0x23b872dd${word(call.from!)}${word(call.to!)}${uintWord(call.amount)}`;
  }
}

/** A fixture step as `evaluatePolicy`'s request (the transaction encoded by the build under test). */
function requestOf(core: CoreApi, step: Step): RequestInput {
  const caller = {
    principal: step.caller?.principal ?? 'agent-1',
    keyId: step.caller?.key_id ?? 'key-1',
    keyLabel: step.caller?.label ?? 'hot',
  };
  if (step.transaction) {
    const tx = { ...step.transaction, ...(step.erc20 ? { data: erc20Data(step.erc20) } : {}) };
    return { op: 'sign_ethereum_transaction', ...caller, unsignedTx: core.encodeUnsignedTransaction(JSON.stringify(tx)) };
  }
  if (step.typed_data !== undefined) {
    return { op: 'sign_typed_data', ...caller, typedData: JSON.stringify(step.typed_data) };
  }
  return { op: step.op as RequestInput['op'], ...caller };
}

interface Replay {
  name: string;
  policyJson: string;
  nowMs: number;
  step: Step;
  signedPrices?: string;
}

/** Every (case, step) this suite can replay with a fresh state, and why the others are left out. */
function replays(): { runs: Replay[]; skipped: string[] } {
  const runs: Replay[] = [];
  const skipped: string[] = [];
  for (const file of fixtureFiles) {
    const doc = JSON.parse(readFileSync(vectorPath(`${FIXTURE_DIR}/${file}`), 'utf8')) as { cases: Case[] };
    for (const c of doc.cases) {
      const where = `${file}: ${c.name}`;
      const policyText = JSON.stringify(c.policy);
      const rules = (c.policy.rules as Array<{ type: string }>) ?? [];
      if (rules.some((r) => r.type === 'risk_score') || c.models || c.expect_activation_error) {
        skipped.push(`${where} (risk model: no ONNX runtime in the bindings)`);
        continue;
      }
      const signedPrices = c.prices ? nativeOnly.pricesSign(JSON.stringify(c.prices), FEED_CREDENTIAL) : undefined;
      const stateless = rules.every((r) => STATELESS_TYPES.has(r.type));
      let now = instantMs(c.start ?? DEFAULT_START);
      for (const [i, step] of c.steps.entries()) {
        if (step.at) now = instantMs(step.at);
        if (step.advance_us) now += step.advance_us / 1000;
        if (step.replace_policy) break;
        runs.push({ name: `${where} #${i}${step.note ? ` (${step.note})` : ''}`, policyJson: policyText, nowMs: now, step, signedPrices });
        if (!stateless) break;
      }
    }
  }
  return { runs, skipped };
}

const { runs: REPLAYS, skipped: SKIPPED } = replays();

/** A result as plain JSON with bytes as hex, for comparing builds. */
function plain(evaluation: Evaluation): unknown {
  return { ...evaluation, policyHash: hex(evaluation.policyHash) };
}

function checkExpectations(evaluation: Evaluation, expectation: Step['expect'], policyRules: number): string[] {
  const problems: string[] = [];
  if (expectation.verdict !== undefined && evaluation.decision !== expectation.verdict) {
    problems.push(`decision ${evaluation.decision} != ${expectation.verdict}`);
  }
  if (expectation.code !== undefined && evaluation.code !== expectation.code) {
    problems.push(`code ${evaluation.code} != ${expectation.code}`);
  }
  if (expectation.score_bps !== undefined && evaluation.scoreBps !== expectation.score_bps) {
    problems.push(`scoreBps ${evaluation.scoreBps} != ${expectation.score_bps}`);
  }
  if (evaluation.rulesEvaluated.length !== policyRules) {
    problems.push(`${evaluation.rulesEvaluated.length} records for ${policyRules} rules`);
  }
  for (const [rule, want] of Object.entries(expectation.results ?? {})) {
    const record = evaluation.rulesEvaluated.find((r) => r.rule === rule);
    if (!record) {
      problems.push(`no record for ${rule}`);
      continue;
    }
    for (const [field, value] of Object.entries(want)) {
      const got = record[field as keyof typeof record];
      if (field === 'detail') {
        if (!(got ?? '').includes(value as string)) problems.push(`${rule}.detail ${JSON.stringify(got)} lacks ${JSON.stringify(value)}`);
      } else if (got !== value) {
        problems.push(`${rule}.${field} ${JSON.stringify(got)} != ${JSON.stringify(value)}`);
      }
    }
  }
  return problems;
}

// --- small inline policies ---------------------------------------------------------------

const CAP_POLICY = {
  version: 3,
  name: 'conformance',
  rules: [
    { id: 'eth-cap', type: 'notional_limit', asset: 'native:1', per_transaction: '1000000000000000000' },
    { id: 'chains', type: 'chain', chain_ids: [1] },
  ],
};
/** The same document with other key order and whitespace: same canonical form and hash. */
const CAP_POLICY_REORDERED = `{
  "rules": [
    {"type": "notional_limit", "per_transaction": "1000000000000000000", "asset": "native:1", "id": "eth-cap"},
    {"chain_ids": [1], "type": "chain", "id": "chains"}
  ],
  "name": "conformance", "version": 3
}`;
const NOW = Date.parse('2026-01-05T15:00:00Z');
const TO = '0x1111111111111111111111111111111111111111';
const CALLER = { principal: 'agent-1', keyId: 'key-1' };
const ADMIN_CREDENTIAL = JSON.stringify({ admin: 'admin-1', alg: 'ed25519', secret_key: `0x${'42'.repeat(32)}` });

function tx(core: CoreApi, fields: Record<string, unknown>): Uint8Array {
  return core.encodeUnsignedTransaction(JSON.stringify({ type: 2, chainId: 1, to: TO, ...fields }));
}

// --- the tests -------------------------------------------------------------------------

describe('policy fixtures', () => {
  it('test/vectors/policy/ has fixtures this suite replays', () => {
    console.log(`policy fixtures: ${REPLAYS.length} steps replayed; left to the Rust tests:\n  ${SKIPPED.join('\n  ')}`);
    expect(fixtureFiles.length).toBeGreaterThan(0);
    expect(REPLAYS.length).toBeGreaterThan(20);
  });
});

describe.each(implementations)('policy ($name)', ({ core }) => {
  it('replays the rule fixtures with a fresh state', () => {
    const failures: string[] = [];
    for (const run of REPLAYS) {
      const rules = (JSON.parse(run.policyJson).rules as unknown[]).length;
      try {
        const evaluation = core.evaluatePolicy(run.policyJson, requestOf(core, run.step), run.nowMs, { signedPrices: run.signedPrices });
        for (const p of checkExpectations(evaluation, run.step.expect, rules)) failures.push(`${run.name}: ${p}`);
      } catch (error) {
        failures.push(`${run.name}: threw ${(error as { code?: string }).code ?? ''} ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('policyValidate: hash over the canonical form, independent of formatting', () => {
    const a = core.policyValidate(JSON.stringify(CAP_POLICY));
    const b = core.policyValidate(CAP_POLICY_REORDERED);
    expect(a.version).toBe(3);
    expect(a.name).toBe('conformance');
    expect(a.rules).toBe(2);
    expect(a.policyHash).toBeInstanceOf(Uint8Array);
    expect(hex(a.policyHash)).toBe(hex(sha256(utf8(a.canonical))));
    expect(b.canonical).toBe(a.canonical);
    expect(hex(b.policyHash)).toBe(hex(a.policyHash));
    // Sorted keys, no whitespace (RFC 8785 for what policies contain).
    expect(a.canonical.startsWith('{"name":"conformance","rules":[{"asset":"native:1","id":"eth-cap"')).toBe(true);
    expect(a.canonical).not.toMatch(/\s/);
  });

  it('evaluatePolicy: at the cap allowed, one wei over denied, with the numbers', () => {
    const policy = JSON.stringify(CAP_POLICY);
    const atCap = core.evaluatePolicy(policy, { op: 'sign_ethereum_transaction', ...CALLER, unsignedTx: tx(core, { value: '1000000000000000000' }) }, NOW);
    expect(atCap.decision).toBe('allowed');
    expect(atCap.code).toBeNull();
    expect(atCap.scoreBps).toBeNull();
    expect(hex(atCap.policyHash)).toBe(hex(core.policyValidate(policy).policyHash));
    expect(atCap.rulesEvaluated).toHaveLength(2);
    expect(atCap.rulesEvaluated[0]).toEqual({
      rule: 'eth-cap',
      type: 'notional_limit',
      result: 'allow',
      value: '1000000000000000000',
      limit: '1000000000000000000',
      window: null,
      detail: expect.stringContaining('wei'),
    });
    expect(atCap.rulesEvaluated[1]).toMatchObject({ rule: 'chains', type: 'chain', result: 'allow' });
    // Every field is present, `null` when it does not apply (never `undefined`).
    expect(Object.keys(atCap.rulesEvaluated[1]!).sort()).toEqual(['detail', 'limit', 'result', 'rule', 'type', 'value', 'window']);
    const over = core.evaluatePolicy(policy, { op: 'sign_ethereum_transaction', ...CALLER, unsignedTx: tx(core, { value: '1000000000000000001' }) }, NOW);
    expect(over.decision).toBe('denied');
    expect(over.code).toBe('POLICY_DENIED');
    expect(over.rulesEvaluated[0]).toMatchObject({ rule: 'eth-cap', result: 'deny', value: '1000000000000000001' });
  });

  it('evaluatePolicy: the transaction as bytes, 0x-hex or bare hex gives the same answer', () => {
    const policy = JSON.stringify(CAP_POLICY);
    const bytes = tx(core, { value: '5' });
    const answers = [bytes, `0x${hex(bytes)}`, hex(bytes)].map((unsignedTx) =>
      plain(core.evaluatePolicy(policy, { op: 'sign_ethereum_transaction', ...CALLER, unsignedTx }, NOW)),
    );
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  it('evaluatePolicy: default deny, and messages and digests are read as such', () => {
    const policy = JSON.stringify(CAP_POLICY);
    for (const op of ['sign_digest', 'sign_ed25519', 'sign_personal_message'] as const) {
      const answer = core.evaluatePolicy(policy, { op, ...CALLER, keyLabel: null }, NOW, null);
      expect(answer.decision).toBe('denied');
      expect(answer.code).toBe('POLICY_NO_MATCH');
      expect(answer.rulesEvaluated.map((r) => r.result)).toEqual(['not_applicable', 'not_applicable']);
    }
  });

  it('evaluatePolicy: a signed envelope is read as its policy (signatures not checked)', () => {
    const bare = JSON.stringify(CAP_POLICY);
    const envelope = nativeOnly.policySign(bare, ADMIN_CREDENTIAL);
    const request = { op: 'sign_ethereum_transaction' as const, ...CALLER, unsignedTx: tx(core, { value: '7' }) };
    expect(plain(core.evaluatePolicy(envelope, request, NOW))).toEqual(plain(core.evaluatePolicy(bare, request, NOW)));
    const dev = nativeOnly.policyDevelopmentSigned(ADMIN_CREDENTIAL);
    const answer = core.evaluatePolicy(dev, { op: 'sign_digest', ...CALLER }, NOW);
    expect(answer.decision).toBe('allowed');
    expect(hex(answer.policyHash)).toBe(hex(nativeOnly.policyInspectSigned(dev).policyHash));
  });
});

// --- errors: the same code in both builds ---------------------------------------------------

const POLICY = JSON.stringify(CAP_POLICY);
const USD_POLICY = JSON.stringify({
  version: 1,
  name: 'usd',
  price_feed: { alg: 'ed25519', public_key: '0xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', max_staleness_s: 300 },
  rules: [{ id: 'usd', type: 'notional_limit', asset: 'usd', per_transaction: '100' }],
});
const TABLE = JSON.stringify({ timestamp_s: 1767625200, prices: [{ asset: 'native:1', usd: '3000', decimals: 18 }] });
const SIGNED_TABLE = nativeOnly.pricesSign(TABLE, FEED_CREDENTIAL);
const WRONG_KEY_TABLE = nativeOnly.pricesSign(TABLE, ADMIN_CREDENTIAL);
const DIGEST_REQUEST = { op: 'sign_digest' as const, ...CALLER };
const BAD_RULE = (rule: Record<string, unknown>) => JSON.stringify({ version: 1, name: 'x', rules: [rule] });
const MODEL_BYTES = utf8('not an ONNX model');
const RISK_POLICY = BAD_RULE({ id: 'r', type: 'risk_score', model_sha256: `0x${hex(sha256(MODEL_BYTES))}`, approve_at_bps: 6000, deny_at_bps: 8500 });

interface ErrorCase {
  name: string;
  code: string;
  call: (core: CoreApi) => unknown;
}
const ERROR_CASES: ErrorCase[] = [
  // The document (policyValidate and evaluatePolicy share the parser).
  { name: 'not JSON', code: 'POLICY_MALFORMED', call: (c) => c.policyValidate('{"version": 1,') },
  { name: 'a float', code: 'POLICY_MALFORMED', call: (c) => c.policyValidate('{"version": 1.5, "name": "x", "rules": []}') },
  { name: 'a key twice', code: 'POLICY_MALFORMED', call: (c) => c.policyValidate('{"version": 1, "version": 2, "name": "x", "rules": []}') },
  { name: 'an unknown field', code: 'POLICY_INVALID', call: (c) => c.policyValidate('{"version": 1, "name": "x", "rules": [], "extra": 1}') },
  { name: 'an unknown rule type', code: 'POLICY_INVALID', call: (c) => c.policyValidate(BAD_RULE({ id: 'a', type: 'magic' })) },
  {
    name: 'two rules with one id',
    code: 'POLICY_DUPLICATE_ID',
    call: (c) =>
      c.policyValidate(JSON.stringify({ version: 1, name: 'x', rules: [{ id: 'a', type: 'chain', chain_ids: [1] }, { id: 'a', type: 'chain', chain_ids: [2] }] })),
  },
  { name: 'over 256 KiB', code: 'POLICY_TOO_LARGE', call: (c) => c.policyValidate(`{"version": 1, "name": "${'x'.repeat(300_000)}", "rules": []}`) },
  { name: 'evaluatePolicy: a bad policy', code: 'POLICY_MALFORMED', call: (c) => c.evaluatePolicy('[', DIGEST_REQUEST, NOW) },
  { name: 'evaluatePolicy: a bad envelope', code: 'POLICY_INVALID', call: (c) => c.evaluatePolicy(JSON.stringify({ policy: CAP_POLICY, signatures: 'none' }), DIGEST_REQUEST, NOW) },
  {
    name: 'evaluatePolicy: a risk rule without its model',
    code: 'POLICY_MODEL_MISSING',
    call: (c) => c.evaluatePolicy(BAD_RULE({ id: 'r', type: 'risk_score', model_sha256: `0x${'ab'.repeat(32)}`, approve_at_bps: 6000, deny_at_bps: 8500 }), DIGEST_REQUEST, NOW),
  },
  // The request.
  { name: 'request: an unknown op', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, { ...DIGEST_REQUEST, op: 'generate_key' as 'sign_digest' }, NOW) },
  { name: 'request: no keyId', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, { op: 'sign_digest', principal: 'p' } as RequestInput, NOW) },
  { name: 'request: a misspelt key', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, { ...DIGEST_REQUEST, keyid: 'k' } as RequestInput, NOW) },
  { name: 'request: not an object', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, 'sign_digest' as unknown as RequestInput, NOW) },
  { name: 'request: a number as keyId', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, { ...DIGEST_REQUEST, keyId: 7 } as unknown as RequestInput, NOW) },
  { name: 'request: no unsignedTx', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, { ...CALLER, op: 'sign_ethereum_transaction' }, NOW) },
  { name: 'request: unsignedTx on a digest', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, { ...DIGEST_REQUEST, unsignedTx: '0x01' }, NOW) },
  { name: 'request: typedData on a transaction', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, { ...CALLER, op: 'sign_ethereum_transaction', unsignedTx: tx(c, {}), typedData: '{}' }, NOW) },
  { name: 'request: unsignedTx not hex', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, { ...CALLER, op: 'sign_ethereum_transaction', unsignedTx: '0xzz' }, NOW) },
  { name: 'request: unsignedTx a number', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, { ...CALLER, op: 'sign_ethereum_transaction', unsignedTx: 5 as unknown as string }, NOW) },
  { name: 'request: trailing bytes after the transaction', code: 'TRAILING_BYTES', call: (c) => c.evaluatePolicy(POLICY, { ...CALLER, op: 'sign_ethereum_transaction', unsignedTx: new Uint8Array([...tx(c, {}), 0]) }, NOW) },
  { name: 'request: typed data that is not EIP-712', code: 'POLICY_REQUEST_INVALID', call: (c) => c.evaluatePolicy(POLICY, { ...CALLER, op: 'sign_typed_data', typedData: '{"types": 1}' }, NOW) },
  // nowMs and options.
  { name: 'nowMs: NaN', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, DIGEST_REQUEST, Number.NaN) },
  { name: 'nowMs: negative', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, DIGEST_REQUEST, -1) },
  { name: 'nowMs: a string', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, DIGEST_REQUEST, String(NOW) as unknown as number) },
  { name: 'nowMs: missing', code: 'INVALID_ARGUMENT', call: (c) => (c.evaluatePolicy as (...args: unknown[]) => unknown)(POLICY, DIGEST_REQUEST) },
  { name: 'options: not an object', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, DIGEST_REQUEST, NOW, 5 as unknown as null) },
  { name: 'options: a misspelt key', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, DIGEST_REQUEST, NOW, { prices: SIGNED_TABLE } as unknown as null) },
  { name: 'options: models not bytes', code: 'INVALID_ARGUMENT', call: (c) => c.evaluatePolicy(POLICY, DIGEST_REQUEST, NOW, { models: ['x'] } as unknown as null) },
  { name: 'options: a model no rule pins', code: 'POLICY_MODEL_INVALID', call: (c) => c.evaluatePolicy(POLICY, DIGEST_REQUEST, NOW, { models: [new Uint8Array([1, 2, 3])] }) },
  {
    // No ONNX runtime in the bindings (and these bytes are no ONNX model either).
    name: 'options: the pinned model of a risk rule',
    code: 'POLICY_MODEL_INVALID',
    call: (c) => c.evaluatePolicy(RISK_POLICY, DIGEST_REQUEST, NOW, { models: [MODEL_BYTES] }),
  },
  // Prices.
  { name: 'prices without a price_feed', code: 'PRICE_FEED_NOT_CONFIGURED', call: (c) => c.evaluatePolicy(POLICY, DIGEST_REQUEST, NOW, { signedPrices: SIGNED_TABLE }) },
  { name: 'prices: not a signed table', code: 'PRICES_INVALID', call: (c) => c.evaluatePolicy(USD_POLICY, DIGEST_REQUEST, NOW, { signedPrices: TABLE }) },
  { name: 'prices: signed by another key', code: 'PRICES_SIGNATURE_INVALID', call: (c) => c.evaluatePolicy(USD_POLICY, DIGEST_REQUEST, NOW, { signedPrices: WRONG_KEY_TABLE }) },
];

describe('policy errors: the same code in every build', () => {
  it.each(ERROR_CASES)('$name -> $code', ({ call, code }) => {
    for (const { name, core } of implementations) {
      const error = expectCode(() => call(core), code);
      expect(error.message.length, `${name}: message`).toBeGreaterThan(0);
    }
  });
});

describe('policy: every build answers the same', () => {
  it('fixtures, signed prices and the inline cases give byte-identical answers', () => {
    const [a, b] = [native, wasm];
    const answer = (core: CoreApi, run: Replay) =>
      plain(core.evaluatePolicy(run.policyJson, requestOf(core, run.step), run.nowMs, { signedPrices: run.signedPrices }));
    for (const run of REPLAYS) expect(answer(b.core, run), run.name).toEqual(answer(a.core, run));
    const usd = (core: CoreApi) =>
      plain(core.evaluatePolicy(USD_POLICY, { op: 'sign_ethereum_transaction', ...CALLER, unsignedTx: tx(core, { value: '10000000000000000' }) }, Date.parse('2026-01-05T15:04:00Z'), { signedPrices: SIGNED_TABLE }));
    expect(usd(b.core)).toEqual(usd(a.core));
    expect(usd(a.core)).toMatchObject({ decision: 'allowed', rulesEvaluated: [{ rule: 'usd', result: 'allow', value: '30000000' }] });
    const validated = (core: CoreApi) => {
      const v = core.policyValidate(POLICY);
      return { ...v, policyHash: hex(v.policyHash) };
    };
    expect(validated(b.core)).toEqual(validated(a.core));
  });
});
