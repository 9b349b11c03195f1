/**
 * The policy functions of the Rust core (N-API), typed once for the host.
 *
 * The host never parses, hashes, signs or evaluates a policy itself: the same
 * Rust crate the enclave runs (`crates/policy`) does, through these binding
 * functions (docs/policy.md). A build of `@sentinel/node` without them throws
 * `NOT_SUPPORTED` naming the function, instead of a TypeError.
 */
import { core } from './core.ts';
import { SentinelError } from './errors.ts';

/** What `policyValidate` answers for a bare policy document. */
export interface PolicyValidation {
  /** SHA-256 of the canonical JSON (RFC 8785). */
  policyHash: Buffer;
  version: number;
  name: string;
  /** The canonical JSON text (what is hashed). */
  canonical: string;
  /** How many rules it has. */
  rules: number;
}

/** What `policyInspectSigned` answers for a signed envelope (signatures not checked). */
export interface SignedPolicyInspection {
  policyHash: Buffer;
  version: number;
  name: string;
  /** Admin ids that signed, in envelope order. */
  signers: string[];
}

/** The request `evaluatePolicy` takes (what the enclave would decode from the body). */
export interface PolicyRequestInput {
  op: 'sign_ethereum_transaction' | 'sign_typed_data' | 'sign_personal_message' | 'sign_digest' | 'sign_ed25519';
  principal: string;
  keyId: string;
  keyLabel?: string;
  unsignedTx?: Buffer | string;
  typedData?: string;
}

/** One rule's result, as receipts and dry runs record it. */
export interface RuleEvaluation {
  rule: string;
  type: string;
  result: string;
  value: string | null;
  limit: string | null;
  window: string | null;
  detail: string | null;
}

export interface PolicyEvaluationResult {
  decision: 'allowed' | 'denied' | 'approval_required';
  code: string | null;
  policyHash: Buffer;
  rulesEvaluated: RuleEvaluation[];
  scoreBps: number | null;
}

export interface PolicyCore {
  policyValidate(json: string): PolicyValidation;
  policySign(json: string, adminCredentialJson: string): string;
  policyInspectSigned(json: string): SignedPolicyInspection;
  policyDevelopmentSigned(adminCredentialJson: string): string;
  pricesSign(tableJson: string, credentialJson: string): string;
  evaluatePolicy(
    policyJson: string,
    request: PolicyRequestInput,
    nowMs: number,
    options?: { signedPrices?: string; models?: Buffer[] },
  ): PolicyEvaluationResult;
}

const NAMES: ReadonlyArray<keyof PolicyCore> = [
  'policyValidate',
  'policySign',
  'policyInspectSigned',
  'policyDevelopmentSigned',
  'pricesSign',
  'evaluatePolicy',
];

const loaded = core as unknown as Partial<Record<keyof PolicyCore, (...args: unknown[]) => unknown>>;

/** The binding's policy functions; each throws NOT_SUPPORTED when this build of `@sentinel/node` lacks it. */
export const policyCore: PolicyCore = Object.fromEntries(
  NAMES.map((name) => [
    name,
    (...args: unknown[]) => {
      const fn = loaded[name];
      if (typeof fn !== 'function') {
        throw new SentinelError('NOT_SUPPORTED', `this build of @sentinel/node has no ${name} (rebuild the addon: bash scripts/build.sh)`);
      }
      return fn.apply(core, args);
    },
  ]),
) as unknown as PolicyCore;

/** A signed envelope (`{ policy, signatures }`) rather than a bare policy document, judged by its top-level keys only. */
export function isEnvelope(value: unknown): value is { policy: Record<string, unknown>; signatures: unknown[] } {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && 'policy' in value && 'signatures' in value;
}
