/**
 * The policy as the SDK hands it back (docs/policy.md): the signed policy in
 * force, checked against its hash (computed here by the core, and compared
 * with the attested one when the evidence carries it), and dry-run
 * evaluations. A dry run has no receipt: it is the enclave's answer relayed by
 * the host, advice only; the signing call decides, with a receipt.
 */
import { core } from './core.ts';
import { SentinelClientError } from './errors.ts';
import type { Hex } from './types.ts';

/** One rule's result, as receipts (`rules_evaluated`) and dry runs record it. */
export interface RuleEvaluated {
  /** The rule's id. */
  rule: string;
  /** notional_limit, rate_limit, contract_list, chain, time_window or risk_score. */
  type: string;
  /** allow, deny, not_applicable, approval_required or error. */
  result: string;
  /** What was counted or scored (decimal), the limit it was compared with, the window (1s, 1m, 1h, 1d). */
  value: string | null;
  limit: string | null;
  window: string | null;
  /** Asset and unit, the model hash, or the reason. */
  detail: string | null;
}

/** What the active policy would decide about a request (`client.dryRun`). */
export interface PolicyEvaluation {
  decision: 'allowed' | 'denied' | 'approval_required';
  /** The refusal code when not allowed: POLICY_DENIED, POLICY_NO_MATCH, POLICY_ERROR, POLICY_APPROVAL_REQUIRED, or an earlier check's. */
  code: string | null;
  /** The policy that decided (null when none is installed). */
  policyHash: Hex | null;
  rulesEvaluated: RuleEvaluated[];
}

/** A signed policy envelope: the document and the admins' signatures. */
export interface SignedPolicy {
  policy: { version: number; name: string; rules: Array<{ id: string; type: string; [field: string]: unknown }>; [field: string]: unknown };
  signatures: Array<{ admin: string; signature: string }>;
}

/** The signed policy in force (`client.policy()`). */
export interface ActivePolicy {
  signedPolicy: SignedPolicy;
  /** SHA-256 of its canonical JSON, computed here by the core. */
  policyHash: Hex;
  version: number;
  name: string;
  /** Admin ids that signed (the enclave checked their quorum when it installed it). */
  signers: string[];
  /** True when the hash was compared with the one the verified attestation binds. */
  attested: boolean;
}

interface PolicyCoreFunctions {
  policyInspectSigned(json: string): { policyHash: Uint8Array; version: number; name: string; signers: string[] };
}

/** The core's reading of a signed envelope (hash, version, name, signers). */
export function inspectSignedPolicy(json: string): ReturnType<PolicyCoreFunctions['policyInspectSigned']> {
  const fn = (core as unknown as Partial<PolicyCoreFunctions>).policyInspectSigned;
  if (typeof fn !== 'function') throw new SentinelClientError('NOT_SUPPORTED', 'this build of @sentinel/node has no policyInspectSigned');
  try {
    return fn.call(core, json);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new SentinelClientError(typeof code === 'string' ? code : 'POLICY_MALFORMED', `the signed policy: ${(e as Error).message}`);
  }
}

const DECISIONS = new Set(['allowed', 'denied', 'approval_required']);

/** A dry-run answer as JSON, checked for shape (it is the host's relay: nothing more can be checked). */
export function policyEvaluationOf(body: Record<string, unknown>): PolicyEvaluation {
  const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  if (typeof body.decision !== 'string' || !DECISIONS.has(body.decision) || !Array.isArray(body.rulesEvaluated)) {
    throw new SentinelClientError('UNEXPECTED_RESPONSE', 'the dry-run answer is not { decision, code, policyHash, rulesEvaluated }');
  }
  const policyHash = body.policyHash;
  if (policyHash !== null && (typeof policyHash !== 'string' || !/^0x[0-9a-f]{64}$/.test(policyHash))) {
    throw new SentinelClientError('UNEXPECTED_RESPONSE', 'the dry-run answer\'s policyHash is not 32 bytes of 0x-hex');
  }
  return {
    decision: body.decision as PolicyEvaluation['decision'],
    code: text(body.code),
    policyHash: policyHash as Hex | null,
    rulesEvaluated: (body.rulesEvaluated as Array<Record<string, unknown>>).map((r) => ({
      rule: String(r.rule),
      type: String(r.type),
      result: String(r.result),
      value: text(r.value),
      limit: text(r.limit),
      window: text(r.window),
      detail: text(r.detail),
    })),
  };
}
