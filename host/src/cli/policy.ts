/**
 * `zcp policy validate | sign | apply | show | dry-run` and `zcp prices sign |
 * apply`: making, signing, installing and inspecting the signed policy the
 * enclave enforces on every signature (docs/policy.md).
 *
 * - `validate` and `sign` are offline: the core (the Rust crate the enclave
 *   runs) parses, hashes and signs; nothing here reads a policy's meaning.
 *   `sign` adds one admin's signature to a document or an envelope; a quorum
 *   of the configuration's admins signs the same file in turn.
 * - `apply` sends the envelope (and the ONNX models its risk rules pin) to the
 *   stack's API like `zcp config apply`; the enclave checks the quorum and the
 *   version, the host that relays it can neither forge nor alter it.
 * - `show` fetches the policy in force through the SDK, which verifies the
 *   enclave's attestation first and checks the policy's hash.
 * - `dry-run` asks the enclave what the active policy (with its live counters)
 *   would decide about a signing request, stamped with the client credential;
 *   `--offline --policy FILE` evaluates a policy locally with the core instead
 *   (fresh counters). Exit 0 when it would be allowed, 1 when it would be refused.
 * - `prices sign | apply`: a USD price table signed by the policy's price-feed key.
 */

import type { Command } from 'commander';

import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import { isEnvelope, policyCore, type PolicyRequestInput, type RuleEvaluation } from '../policy-core.ts';
import { apiJson, applyTarget, type ConfigApplyOptions } from './config.ts';
import { addConnectionOptions, apiOptions, codeOf, collect, type CommonOptions, exactlyOne, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, hex0x, parseHex, readBytes, readText, reportError, runClientCommand, UsageError, writeText } from './connect.ts';
import { field } from './attestation-output.ts';
import { readTxJson } from './sign.ts';
import { loadStack } from './stack.ts';

// ---------------------------------------------------------------- files

/** JSON.parse for input files: a usage error naming the file. */
function parseJsonFile(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError('POLICY_MALFORMED', `${path}: not JSON (${(e as Error).message})`);
  }
}

/** A core refusal (POLICY_*, PRICES_*, CREDENTIAL_*) with its code, as a usage error (bad input file). */
function inputError(e: unknown, prefix: string): never {
  if (e instanceof UsageError) throw e;
  throw new UsageError(codeOf(e), `${prefix}: ${(e as Error).message}`, { cause: e });
}

/** A signed envelope, pretty-printed (the core writes compact JSON). */
function pretty(json: string): string {
  return `${JSON.stringify(JSON.parse(json), null, 2)}\n`;
}

// ---------------------------------------------------------------- validate

export interface PolicyValidateOptions {
  json?: boolean;
}

/** What validate and sign report about a file. */
interface Summary {
  kind: 'policy' | 'signed';
  policyHash: string;
  version: number;
  name: string;
  rules: number;
  signers?: string[];
}

/** The core's reading of a policy document or envelope (throws the core's code). */
function summarize(text: string): Summary {
  const parsed = (() => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined; // the core names what is wrong
    }
  })();
  if (isEnvelope(parsed)) {
    const inspected = policyCore.policyInspectSigned(text);
    const validated = policyCore.policyValidate(JSON.stringify(parsed.policy));
    return {
      kind: 'signed',
      policyHash: hex0x(inspected.policyHash),
      version: inspected.version,
      name: inspected.name,
      rules: validated.rules,
      signers: inspected.signers,
    };
  }
  const validated = policyCore.policyValidate(text);
  return { kind: 'policy', policyHash: hex0x(validated.policyHash), version: validated.version, name: validated.name, rules: validated.rules };
}

function printSummary(s: Summary): void {
  console.log(field('policy hash', s.policyHash));
  console.log(field('version', String(s.version)));
  console.log(field('name', s.name));
  console.log(field('rules', String(s.rules)));
  if (s.signers !== undefined) console.log(field('signers', s.signers.length === 0 ? 'none' : `${s.signers.join(', ')} (checked by the enclave on apply)`));
}

/** `zcp policy validate FILE`: exit 0 valid, 1 refused by the core (its code), 2 unreadable. */
export function runPolicyValidate(file: string, opts: PolicyValidateOptions): number {
  let text: string;
  try {
    text = readText(file, 'policy');
  } catch (e) {
    return reportError(e, opts, EXIT_USAGE);
  }
  let summary: Summary;
  try {
    summary = summarize(text);
  } catch (e) {
    const code = codeOf(e);
    const message = (e as Error).message;
    if (opts.json) console.log(JSON.stringify({ valid: false, error: { code, message } }, null, 2));
    console.error(`error ${code}: ${file}: ${message}`);
    return EXIT_REFUSED;
  }
  if (opts.json) {
    console.log(JSON.stringify({ valid: true, ...summary }, null, 2));
    return EXIT_OK;
  }
  console.log(`${file}: valid ${summary.kind === 'signed' ? 'signed policy' : 'policy document (unsigned)'}`);
  printSummary(summary);
  return EXIT_OK;
}

// ---------------------------------------------------------------- sign

export interface PolicySignOptions {
  key: string;
  out?: string;
  json?: boolean;
}

/** `zcp policy sign FILE --key ADMIN_KEY`: adds (or replaces) this admin's signature; offline. */
export function runPolicySign(file: string, opts: PolicySignOptions): number {
  try {
    const text = readText(file, 'policy');
    const admin = readText(opts.key, '--key');
    const wasEnvelope = isEnvelope(parseJsonFile(text, file));
    let signed: string;
    try {
      signed = policyCore.policySign(text, admin);
    } catch (e) {
      inputError(e, file);
    }
    // An envelope is updated in place; a document gets its envelope next to it.
    const out = opts.out ?? (wasEnvelope ? file : `${file.replace(/\.json$/, '')}.signed.json`);
    writeText(out, pretty(signed));
    const summary = summarize(signed);
    const signedBy = String((JSON.parse(admin) as { admin?: unknown }).admin ?? '');
    if (opts.json) {
      console.log(JSON.stringify({ signedBy, out, ...summary }, null, 2));
      return EXIT_OK;
    }
    console.log(`signed by ${signedBy}: ${out}`);
    printSummary(summary);
    console.log('next: more admins sign the same file if the threshold asks for it, then: zcp policy apply ' + out);
    return EXIT_OK;
  } catch (e) {
    return reportError(e, opts, e instanceof UsageError ? EXIT_USAGE : EXIT_REFUSED);
  }
}

// ---------------------------------------------------------------- apply (HTTP, like zcp config apply)

export interface PolicyApplyOptions extends ConfigApplyOptions {
  model: string[];
}

/** POST JSON to the stack's API; the parsed answer and status, or API_UNREACHABLE. */
async function postJson(opts: ConfigApplyOptions, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> | null }> {
  return apiJson(applyTarget(opts), 'POST', path, body);
}

/** Prints a refusal of an apply (`NOT APPLIED: CODE: message`, or `{ applied: false, code, message }`): exit 1. */
function notApplied(opts: { json?: boolean }, status: number, body: Record<string, unknown> | null): number {
  const error = body?.error as { code?: string; message?: string } | undefined;
  const code = error?.code ?? 'API_ERROR';
  const message = error?.message ?? `HTTP ${status}`;
  if (opts.json) console.log(JSON.stringify({ applied: false, code, message }, null, 2));
  else console.error(`NOT APPLIED: ${code}: ${message}`);
  return EXIT_REFUSED;
}

/** `zcp policy apply FILE [--model ONNX]...`: the enclave decides (quorum, version), exit 1 with its code otherwise. */
export async function runPolicyApply(file: string, opts: PolicyApplyOptions): Promise<number> {
  let text: string;
  let models: string[];
  try {
    text = readText(file, 'policy');
    if (!isEnvelope(parseJsonFile(text, file))) {
      throw new UsageError('INVALID_ARGUMENT', `${file}: not a signed envelope (sign it first: zcp policy sign ${file} --key ADMIN_KEY)`);
    }
    try {
      policyCore.policyInspectSigned(text);
    } catch (e) {
      inputError(e, file);
    }
    models = opts.model.map((m) => hex0x(readBytes(m, '--model')));
  } catch (e) {
    return reportError(e, opts, EXIT_USAGE);
  }
  let answer: Awaited<ReturnType<typeof postJson>>;
  try {
    answer = await postJson(opts, '/v1/policy', { signedPolicy: text, ...(models.length > 0 ? { models } : {}) });
  } catch (e) {
    return reportError(e, opts, codeOf(e) === 'STACK_NOT_FOUND' || codeOf(e) === 'FILE_UNREADABLE' ? EXIT_USAGE : EXIT_REFUSED);
  }
  const body = answer.body;
  if (answer.status !== 200 || typeof body?.policyHash !== 'string') return notApplied(opts, answer.status, body);
  if (opts.json) {
    console.log(JSON.stringify({ applied: true, policyHash: body.policyHash, version: body.version, attestationHash: body.attestationHash }, null, 2));
  } else {
    console.log(`applied: policy version ${String(body.version)}`);
    console.log(field('policy hash', String(body.policyHash)));
    console.log(field('attestation', `${String(body.attestationHash)} (the new boot document binds the policy hash; GET /v1/evidence)`));
  }
  return EXIT_OK;
}

// ---------------------------------------------------------------- show (SDK: attested)

export interface PolicyShowOptions extends CommonOptions {
  out?: string;
}

/** `zcp policy show`: the policy in force, through the SDK (attestation verified, hash checked). */
export function runPolicyShow(opts: PolicyShowOptions): Promise<number> {
  return runClientCommand(
    opts,
    () => undefined,
    async (client) => {
      const p = await client.policy();
      if (opts.out !== undefined) writeText(opts.out, `${JSON.stringify(p.signedPolicy, null, 2)}\n`);
      if (opts.json) {
        console.log(JSON.stringify({ policyHash: p.policyHash, version: p.version, name: p.name, signers: p.signers, attested: p.attested, signedPolicy: p.signedPolicy }, null, 2));
        return EXIT_OK;
      }
      console.log('policy in force');
      console.log(field('policy hash', `${p.policyHash}${p.attested ? ' (the verified attestation binds it)' : ' (hash checked; this SDK build reads no attested policy hash)'}`));
      console.log(field('version', String(p.version)));
      console.log(field('name', p.name));
      console.log(field('signers', p.signers.join(', ') || 'none'));
      const rules = p.signedPolicy.policy.rules ?? [];
      console.log(field('rules', rules.length === 0 ? 'none' : String(rules.length)));
      for (const r of rules) console.log(`    ${String(r.id).padEnd(24)} ${String(r.type)}${r.scope ? `  scope ${JSON.stringify(r.scope)}` : ''}`);
      if (opts.out !== undefined) console.log(`signed policy written to ${opts.out}`);
      else {
        console.log('document:');
        console.log(JSON.stringify(p.signedPolicy.policy, null, 2));
      }
      return EXIT_OK;
    },
  );
}

// ---------------------------------------------------------------- dry-run

export interface PolicyDryRunOptions extends CommonOptions {
  key: string;
  tx?: string;
  typedData?: string;
  message?: string;
  offline?: boolean;
  policy?: string;
  principal?: string;
  label?: string;
  model: string[];
  prices?: string;
}

type DryRunRequest =
  | { op: 'sign_ethereum_transaction'; unsignedTx: Buffer }
  | { op: 'sign_typed_data'; typedData: string }
  | { op: 'sign_personal_message'; message: Buffer };

/** `--tx`: unsigned RLP as 0x-hex, or a JSON transaction object (inline or a file), encoded by the core. */
function txBytes(value: string): Buffer {
  if (/^0x[0-9a-fA-F]*$/.test(value.trim())) return parseHex('--tx', value);
  const object = readTxJson(value);
  try {
    return core.encodeUnsignedTransaction(JSON.stringify(object));
  } catch (e) {
    throw new UsageError(codeOf(e), `--tx: ${(e as Error).message}`, { cause: e });
  }
}

function dryRunRequest(opts: PolicyDryRunOptions): DryRunRequest {
  const which = exactlyOne(opts, [
    ['tx', '--tx'],
    ['typedData', '--typed-data'],
    ['message', '--message'],
  ]);
  if (which === 'tx') return { op: 'sign_ethereum_transaction', unsignedTx: txBytes(opts.tx!) };
  if (which === 'typedData') {
    const text = readText(opts.typedData!, '--typed-data');
    try {
      core.hashTypedData(text);
    } catch (e) {
      throw new UsageError(codeOf(e), `--typed-data ${opts.typedData}: ${(e as Error).message}`, { cause: e });
    }
    return { op: 'sign_typed_data', typedData: text };
  }
  return { op: 'sign_personal_message', message: Buffer.from(opts.message!, 'utf8') };
}

interface DryRunResult {
  decision: string;
  code: string | null;
  policyHash: string | null;
  rulesEvaluated: RuleEvaluation[];
  scoreBps?: number | null;
}

function printDryRun(opts: { json?: boolean }, result: DryRunResult, offline: boolean): number {
  const allowed = result.decision === 'allowed';
  if (opts.json) {
    console.log(JSON.stringify({ ...result, offline }, null, 2));
    return allowed ? EXIT_OK : EXIT_REFUSED;
  }
  console.log(`dry run${offline ? ' (offline, fresh counters)' : ''}: ${result.decision}${result.code ? ` (${result.code})` : ''}`);
  console.log(field('policy hash', result.policyHash ?? 'none installed'));
  if (result.scoreBps !== undefined && result.scoreBps !== null) console.log(field('risk score', `${result.scoreBps} bps`));
  console.log(field('rules', result.rulesEvaluated.length === 0 ? 'none' : `${result.rulesEvaluated.length} evaluated`));
  for (const r of result.rulesEvaluated) {
    const numbers = [r.value !== null ? `value ${r.value}` : '', r.limit !== null ? `limit ${r.limit}` : '', r.window !== null ? `window ${r.window}` : '']
      .filter(Boolean)
      .join(', ');
    console.log(`    ${r.rule.padEnd(24)} ${r.type.padEnd(15)} ${r.result.padEnd(17)} ${numbers}${r.detail ? `${numbers ? '; ' : ''}${r.detail}` : ''}`);
  }
  if (!offline) console.log('no receipt: a dry run is advice relayed by the host; the signing call decides, with a receipt');
  return allowed ? EXIT_OK : EXIT_REFUSED;
}

/** The principal for an offline evaluation: --principal, else the credential's (explicit or the stack's). */
function offlinePrincipal(opts: PolicyDryRunOptions): string {
  if (opts.principal !== undefined) return opts.principal;
  let path = opts.credentials;
  if (path === undefined) {
    try {
      path = loadStack(opts.dataDir ?? '.sentinel').clientKeyPath;
    } catch {
      throw new UsageError('INVALID_ARGUMENT', '--offline: pass --principal ID (no --credentials and no local stack to read it from)');
    }
  }
  const principal = (parseJsonFile(readText(path, '--credentials'), path) as { principal?: unknown }).principal;
  if (typeof principal !== 'string') throw new UsageError('INVALID_ARGUMENT', `${path}: not a client credential; pass --principal ID`);
  return principal;
}

/** `zcp policy dry-run`: exit 0 when the policy would allow the request, 1 when it would refuse it, 2 on usage errors. */
export async function runPolicyDryRun(opts: PolicyDryRunOptions): Promise<number> {
  if (opts.offline) {
    let result: DryRunResult;
    try {
      if (opts.policy === undefined) throw new UsageError('INVALID_ARGUMENT', '--offline needs --policy FILE (a policy document or signed envelope)');
      const request = dryRunRequest(opts);
      const policyText = readText(opts.policy, '--policy');
      const models = opts.model.map((m) => readBytes(m, '--model'));
      const prices = opts.prices === undefined ? undefined : readText(opts.prices, '--prices');
      const input: PolicyRequestInput = {
        op: request.op,
        principal: offlinePrincipal(opts),
        keyId: opts.key,
        ...(opts.label !== undefined ? { keyLabel: opts.label } : {}),
        ...('unsignedTx' in request ? { unsignedTx: request.unsignedTx } : {}),
        ...('typedData' in request ? { typedData: request.typedData } : {}),
      };
      let evaluated: ReturnType<typeof policyCore.evaluatePolicy>;
      try {
        evaluated = policyCore.evaluatePolicy(policyText, input, Date.now(), {
          ...(models.length > 0 ? { models } : {}),
          ...(prices !== undefined ? { signedPrices: prices } : {}),
        });
      } catch (e) {
        inputError(e, '--offline');
      }
      result = {
        decision: evaluated.decision,
        code: evaluated.code,
        policyHash: hex0x(evaluated.policyHash),
        rulesEvaluated: evaluated.rulesEvaluated,
        scoreBps: evaluated.scoreBps,
      };
    } catch (e) {
      return reportError(e, opts, EXIT_USAGE);
    }
    return printDryRun(opts, result, true);
  }
  if (opts.policy !== undefined || opts.model.length > 0 || opts.prices !== undefined || opts.principal !== undefined || opts.label !== undefined) {
    return reportError(
      new UsageError('INVALID_ARGUMENT', '--policy, --model, --prices, --principal and --label are for --offline (online, the enclave uses its own)'),
      opts,
      EXIT_USAGE,
    );
  }
  return runClientCommand(
    opts,
    () => dryRunRequest(opts),
    async (client, request) => {
      const operation =
        request.op === 'sign_ethereum_transaction'
          ? { op: request.op, key_id: opts.key, unsigned_tx: request.unsignedTx }
          : request.op === 'sign_typed_data'
            ? { op: request.op, key_id: opts.key, typed_data: request.typedData }
            : { op: request.op, key_id: opts.key, message: request.message };
      const evaluation = await client.dryRun(operation);
      return printDryRun(opts, evaluation, false);
    },
  );
}

// ---------------------------------------------------------------- prices

export interface PricesSignOptions {
  key: string;
  out?: string;
  json?: boolean;
}

/** `zcp prices sign FILE --key FILE`: signs a price table `{ timestamp_s, prices }` (or re-signs a signed one); offline. */
export function runPricesSign(file: string, opts: PricesSignOptions): number {
  try {
    const text = readText(file, 'prices');
    const parsed = parseJsonFile(text, file) as { table?: unknown; signature?: unknown };
    const signedAlready = parsed !== null && typeof parsed === 'object' && 'table' in parsed && 'signature' in parsed;
    const table = signedAlready ? JSON.stringify(parsed.table) : text;
    const credential = readText(opts.key, '--key');
    let signed: string;
    try {
      signed = policyCore.pricesSign(table, credential);
    } catch (e) {
      inputError(e, file);
    }
    const out = opts.out ?? (signedAlready ? file : `${file.replace(/\.json$/, '')}.signed.json`);
    writeText(out, pretty(signed));
    const t = (JSON.parse(signed) as { table: { timestamp_s: number; prices: unknown[] } }).table;
    if (opts.json) {
      console.log(JSON.stringify({ out, timestampS: t.timestamp_s, entries: t.prices.length }, null, 2));
      return EXIT_OK;
    }
    console.log(`price table signed: ${out}`);
    console.log(field('timestamp', `${t.timestamp_s} (${new Date(t.timestamp_s * 1000).toISOString()})`));
    console.log(field('entries', String(t.prices.length)));
    console.log(`next: zcp prices apply ${out}`);
    return EXIT_OK;
  } catch (e) {
    return reportError(e, opts, e instanceof UsageError ? EXIT_USAGE : EXIT_REFUSED);
  }
}

/** `zcp prices apply FILE`: the enclave checks the price-feed signature and that the table is newer. */
export async function runPricesApply(file: string, opts: ConfigApplyOptions): Promise<number> {
  let text: string;
  try {
    text = readText(file, 'prices');
    parseJsonFile(text, file);
  } catch (e) {
    return reportError(e, opts, EXIT_USAGE);
  }
  let answer: Awaited<ReturnType<typeof postJson>>;
  try {
    answer = await postJson(opts, '/v1/prices', { signedPrices: text });
  } catch (e) {
    return reportError(e, opts, codeOf(e) === 'STACK_NOT_FOUND' || codeOf(e) === 'FILE_UNREADABLE' ? EXIT_USAGE : EXIT_REFUSED);
  }
  const body = answer.body;
  if (answer.status !== 200 || typeof body?.timestampS !== 'number') return notApplied(opts, answer.status, body);
  if (opts.json) console.log(JSON.stringify({ applied: true, timestampS: body.timestampS, entries: body.entries }, null, 2));
  else console.log(`applied: price table of ${new Date(Number(body.timestampS) * 1000).toISOString()}, ${String(body.entries)} entries`);
  return EXIT_OK;
}

// ---------------------------------------------------------------- commands

/** Registers `zcp policy ...` and `zcp prices ...`. `set` receives each command's exit code. */
export function registerPolicy(program: Command, set: (code: number) => void): void {
  const policy = program.command('policy').description('the signed policy the enclave enforces on every signature (docs/policy.md)');
  policy
    .command('validate')
    .description('check a policy document or signed envelope with the core (offline): hash, version, name, rules')
    .argument('<file>', 'policy JSON, or a signed envelope { policy, signatures }')
    .option('--json', 'print the result as JSON')
    .action((file: string, opts: PolicyValidateOptions) => set(runPolicyValidate(file, opts)));
  policy
    .command('sign')
    .description("add an admin's signature (offline): a document becomes NAME.signed.json, an envelope gains one in place")
    .argument('<file>', 'policy JSON or a signed envelope')
    .requiredOption('--key <file>', "the admin's credential file (admin.key)")
    .option('--out <file>', 'where to write the envelope')
    .option('--json', 'print the result as JSON')
    .action((file: string, opts: PolicySignOptions) => set(runPolicySign(file, opts)));
  apiOptions(
    policy
      .command('apply')
      .description("install a signed policy in a running enclave (it needs the configuration's admin quorum and a higher version)")
      .argument('<file>', 'the signed envelope (zcp policy sign)')
      .option('--model <file>', 'an ONNX model a risk_score rule pins (repeatable; exactly the pinned ones)', collect, []),
  ).action(async (file: string, opts: PolicyApplyOptions) => set(await runPolicyApply(file, opts)));
  addConnectionOptions(
    policy
      .command('show')
      .description('the policy in force, fetched through the SDK (attestation verified, hash checked)')
      .option('--out <file>', 'also write the signed envelope to FILE (a starting point for the next version)'),
  ).action(async (opts: PolicyShowOptions) => set(await runPolicyShow(opts)));
  addConnectionOptions(
    policy
      .command('dry-run')
      .description('what the policy would decide about a signing request, without signing or counting it (exit 0 allowed, 1 refused)')
      .requiredOption('--key <id>', 'key id, or the Ethereum address of a secp256k1 key (online: looked up in zcp keys list)')
      .option('--tx <json|file|hex>', 'a transaction: a JSON object (inline or a file) or unsigned RLP as 0x-hex')
      .option('--typed-data <file>', 'EIP-712 typed data JSON')
      .option('--message <text>', 'an EIP-191 personal message (UTF-8)')
      .option('--offline', 'evaluate locally with the core (fresh counters) instead of asking the enclave')
      .option('--policy <file>', '--offline: the policy document or signed envelope to evaluate')
      .option('--principal <id>', "--offline: the asking principal (default: the credential's)")
      .option('--label <label>', "--offline: the key's label (for rules scoped by label)")
      .option('--model <file>', '--offline: an ONNX model the policy pins (repeatable)', collect, [])
      .option('--prices <file>', '--offline: a signed price table (for usd limits)'),
  ).action(async (opts: PolicyDryRunOptions) => set(await runPolicyDryRun(opts)));

  const prices = program.command('prices').description('USD price tables for usd notional limits, signed by the policy\'s price_feed key');
  prices
    .command('sign')
    .description('sign a price table { timestamp_s, prices: [{ asset, usd, decimals }] } (offline)')
    .argument('<file>', 'the table JSON (or a signed table, signed again)')
    .requiredOption('--key <file>', 'the price-feed credential file')
    .option('--out <file>', 'where to write the signed table (default: NAME.signed.json)')
    .option('--json', 'print the result as JSON')
    .action((file: string, opts: PricesSignOptions) => set(runPricesSign(file, opts)));
  apiOptions(
    prices.command('apply').description('send a signed price table to a running enclave (newer than the one in force)').argument('<file>', 'the signed table'),
  ).action(async (file: string, opts: ConfigApplyOptions) => set(await runPricesApply(file, opts)));
}
