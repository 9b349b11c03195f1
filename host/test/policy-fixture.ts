/**
 * Policies, transactions and the risk model for the policy tests: the
 * end-to-end policy the issue asks for (chain allow list, a per-transaction
 * cap on native value, a burst-3 rate limit with a cooldown, the committed
 * ONNX risk model), transactions built by the core from JSON objects, and
 * the model file with the SHA-256 its card states.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { core } from '../src/core.ts';

/** Ganache's default chain id; the tests' transactions are on it. */
export const CHAIN_ID = 1337;
/** The per-transaction cap on native value: 1 ether. */
export const NATIVE_CAP = 10n ** 18n;

export const RISK_MODEL_PATH = fileURLToPath(new URL('../../models/risk-v1.onnx', import.meta.url));
export const RISK_CARD_PATH = fileURLToPath(new URL('../../models/risk-v1.json', import.meta.url));

/** The model bytes and their SHA-256 (`0x` hex), checked against the card (models/risk-v1.json). */
export function riskModel(): { bytes: Buffer; sha256: string } {
  if (!existsSync(RISK_MODEL_PATH)) throw new Error(`${RISK_MODEL_PATH} is missing (scripts/risk-model produces it)`);
  const bytes = readFileSync(RISK_MODEL_PATH);
  const sha256 = `0x${createHash('sha256').update(bytes).digest('hex')}`;
  if (existsSync(RISK_CARD_PATH)) {
    const card = JSON.stringify(JSON.parse(readFileSync(RISK_CARD_PATH, 'utf8')));
    if (!card.toLowerCase().includes(sha256.slice(2))) throw new Error(`models/risk-v1.json does not state the model's SHA-256 ${sha256}`);
  }
  return { bytes, sha256 };
}

export interface PolicyRule {
  id: string;
  type: string;
  [field: string]: unknown;
}

export interface PolicyDocument {
  version: number;
  name: string;
  price_feed?: { alg: string; public_key: string; max_staleness_s: number };
  rules: PolicyRule[];
}

/** A small valid policy (chain allow list + per-transaction cap + rate limit), for validation and CLI tests. */
export function policyDocument(opts: { version: number; name?: string; extraRules?: PolicyRule[] }): PolicyDocument {
  return {
    version: opts.version,
    name: opts.name ?? 'test-policy',
    rules: [
      { id: 'chain', type: 'chain', chain_ids: [CHAIN_ID], allow_unprotected: false },
      { id: 'native-cap', type: 'notional_limit', asset: `native:${CHAIN_ID}`, per: 'key', per_transaction: NATIVE_CAP.toString() },
      { id: 'burst', type: 'rate_limit', per: 'key', rate: { count: 1, per: '1s' }, burst: 3, cooldown_ms: 60_000 },
      ...(opts.extraRules ?? []),
    ],
  };
}

/**
 * The end-to-end policy: chain 1337 only, at most 1 ether per transaction, 3 requests in a burst then a
 * one-minute cooldown (each key; refilled at 1 per second), and the risk model on keys labelled `allowed`
 * or `risk` (a label scope, so the burst and cap tests are not also scored).
 */
export function e2ePolicy(version: number, model: { sha256: string }, thresholds: { approveAtBps: number; denyAtBps: number }): PolicyDocument {
  return policyDocument({
    version,
    name: 'e2e',
    extraRules: [
      {
        id: 'risk',
        type: 'risk_score',
        scope: { labels: ['allowed', 'risk'] },
        model_sha256: model.sha256,
        approve_at_bps: thresholds.approveAtBps,
        deny_at_bps: thresholds.denyAtBps,
      },
    ],
  });
}

/** Unsigned EIP-1559 transaction bytes, encoded by the core from a JSON object. */
export function transaction(fields: { to: string; value?: bigint; data?: string; nonce?: number; chainId?: number; gas?: number }): Buffer {
  return core.encodeUnsignedTransaction(
    JSON.stringify({
      type: 2,
      chainId: fields.chainId ?? CHAIN_ID,
      nonce: fields.nonce ?? 0,
      to: fields.to,
      value: `0x${(fields.value ?? 0n).toString(16)}`,
      data: fields.data ?? '0x',
      gas: fields.gas ?? (fields.data ? 80_000 : 21_000),
      maxFeePerGas: '30000000000',
      maxPriorityFeePerGas: '1000000000',
    }),
  );
}

/** `approve(spender, 2^256 - 1)` calldata: an unlimited ERC-20 allowance. */
export function unlimitedApproveData(spender: string): string {
  return `0x095ea7b3${spender.slice(2).toLowerCase().padStart(64, '0')}${'f'.repeat(64)}`;
}

/** A fresh-looking address (deterministic per seed). */
export function address(seed: string): string {
  return `0x${createHash('sha256').update(seed).digest('hex').slice(0, 40)}`;
}
