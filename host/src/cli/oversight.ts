/**
 * `zcp halt | resume | status | heartbeat | approvals`: the kill switch and
 * the approval queue (docs/oversight.md), driven by the configuration's
 * overseers and approvers with their own keys.
 *
 * Every command is built, encoded and signed here by the core (the Rust crate
 * the enclave runs: `oversightCommand`, `oversightSign`), stamped with the
 * time now (µs) and a 16-byte random nonce, and sent to the stack's API like
 * `zcp policy apply` (`--url` / `--data-dir` / `--ca`). The enclave checks
 * the signatures against its configuration, the quorum, the timestamp window
 * and replays; the host that relays the command can neither forge nor alter
 * it. Nothing here needs a client credential.
 *
 * - `halt --scope S --key FILE [--level red|yellow] [--reason TEXT]`: one overseer.
 * - `resume --scope S [--level green|yellow] --key FILE [--key FILE ...]`: fetches
 *   the enclave's current challenge, signs with every key (the resume quorum),
 *   submits. Offline: `resume prepare` writes the command (JSON and CBOR hex),
 *   each overseer runs `resume sign` on their own machine, `resume submit`
 *   sends it with their signatures. The command must reach the enclave within
 *   the configuration's stamp window of `prepare` and before the challenge expires.
 * - `status --key FILE`, `heartbeat --key FILE [--every MS]`.
 * - `approvals list | approve ID | reject ID --key FILE`: the held requests.
 *
 * Exit codes: 0 done, 1 refused (the enclave's or the API's code), 2 usage
 * (bad arguments or files; nothing was sent).
 */

import type { Command } from 'commander';

import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import { buildCommand, decodeCommand, signCommand, type BuiltCommand, type CommandFields, type OversightLevel } from '../oversight-core.ts';
import { field } from './attestation-output.ts';
import { apiJson, applyTarget, type ConfigApplyOptions } from './config.ts';
import { apiOptions, codeOf, collect, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, hex0x, parseHex, readText, reportError, UsageError, writeText } from './connect.ts';

/** Connection options shared with `zcp policy apply`: --url, --data-dir, --ca, --json. */
export type ApiOptions = ConfigApplyOptions;

export interface SignerOptions extends ApiOptions {
  key: string[];
}

// ---------------------------------------------------------------- files and inputs

function parseJsonFile(path: string, what: string): Record<string, unknown> {
  const text = readText(path, what);
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (e) {
    throw new UsageError('INVALID_ARGUMENT', `${what} ${path}: ${(e as Error).message}`);
  }
}

/** The credential files of `--key` (at least one), read once. */
function readKeys(opts: { key?: string[] }): string[] {
  const keys = opts.key ?? [];
  if (keys.length === 0) throw new UsageError('INVALID_ARGUMENT', '--key FILE is required (an overseer\'s or approver\'s credential file)');
  return keys.map((k) => readText(k, '--key'));
}

/** A core refusal of an argument (OVERSIGHT_MALFORMED, CREDENTIAL_INVALID, ...) as a usage error: nothing was sent. */
function usage<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(codeOf(e), `${what}: ${(e as Error).message}`, { cause: e });
  }
}

function build(fields: Parameters<typeof buildCommand>[0]): BuiltCommand {
  return usage('command', () => buildCommand(fields));
}

function signAll(command: Buffer, keys: string[]): Array<{ signer: string; signature: string }> {
  return keys.map((k) => {
    const s = usage('--key', () => signCommand(command, k));
    return { signer: s.signer, signature: hex0x(s.signature) };
  });
}

// ---------------------------------------------------------------- HTTP

/** The API's answer: status and JSON body (null when not JSON). API_UNREACHABLE when it cannot be reached. */
async function api(opts: ApiOptions, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> | null }> {
  let target: ReturnType<typeof applyTarget>;
  try {
    target = applyTarget(opts);
  } catch (e) {
    throw new UsageError(codeOf(e), (e as Error).message, { cause: e });
  }
  return apiJson(target, method, path, body);
}

/** A 2xx answer's body, or the refusal as an error with its code (exit 1). */
async function call(opts: ApiOptions, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const answer = await api(opts, method, path, body);
  if (answer.status >= 200 && answer.status < 300 && answer.body !== null) return answer.body;
  const error = answer.body?.error as { code?: unknown; message?: unknown } | undefined;
  throw new SentinelError(
    typeof error?.code === 'string' ? error.code : 'API_ERROR',
    typeof error?.message === 'string' ? error.message : `HTTP ${answer.status}`,
  );
}

/** Runs a command body: usage errors exit 2, refusals exit 1. */
async function guarded(opts: { json?: boolean }, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (e) {
    const exit = e instanceof UsageError || codeOf(e) === 'STACK_NOT_FOUND' ? EXIT_USAGE : EXIT_REFUSED;
    return reportError(e, opts, exit);
  }
}

// ---------------------------------------------------------------- printing

const time = (us: unknown): string => {
  const n = Number(us);
  return Number.isFinite(n) && n > 0 ? new Date(n / 1000).toISOString() : String(us);
};

interface ScopeStatus {
  scope: string;
  level: string;
  reason: string;
  since_us: number;
  by: string[];
}

function scopeLine(s: ScopeStatus): string {
  const by = s.by.length > 0 ? ` by ${s.by.join(', ')}` : '';
  return `${s.level.toUpperCase()} since ${time(s.since_us)}${by}${s.reason ? `: ${s.reason}` : ''}`;
}

function printStatus(opts: { json?: boolean }, title: string, status: Record<string, unknown>): number {
  if (opts.json) {
    console.log(JSON.stringify(status, null, 2));
    return EXIT_OK;
  }
  const global = status.global as ScopeStatus;
  const scopes = (status.scopes as ScopeStatus[] | undefined) ?? [];
  console.log(title);
  console.log(field('global', scopeLine(global)));
  if (scopes.length === 0) console.log(field('scopes', 'every key and principal green'));
  for (const s of scopes) console.log(field(s.scope, scopeLine(s)));
  const interval = Number(status.heartbeat_interval_ms ?? 0);
  const deadline = status.heartbeat_deadline_us;
  console.log(
    field(
      'heartbeat',
      interval === 0 ? 'off (not configured)' : `every ${interval} ms${deadline !== null && deadline !== undefined ? `; next due by ${time(deadline)}` : ''}`,
    ),
  );
  console.log(field('held', `${String(status.pending_approvals)} of at most ${String(status.max_pending)} requests wait for approval`));
  console.log(field('signed by', ((status.signers as string[] | undefined) ?? []).join(', ') || 'none'));
  return EXIT_OK;
}

// ---------------------------------------------------------------- halt

export interface HaltOptions extends SignerOptions {
  scope?: string;
  level?: string;
  reason?: string;
}

/** `zcp halt --scope S --key FILE [--level red|yellow] [--reason TEXT]`. */
export function runHalt(opts: HaltOptions): Promise<number> {
  return guarded(opts, async () => {
    if (opts.scope === undefined) throw new UsageError('INVALID_ARGUMENT', '--scope is required: global, key:ID or principal:NAME');
    const keys = readKeys(opts);
    const built = build({
      action: 'halt',
      scope: opts.scope,
      level: (opts.level ?? 'red') as OversightLevel,
      ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    });
    const status = await call(opts, 'POST', '/v1/oversight/halt', { command: hex0x(built.command), signatures: signAll(built.command, keys) });
    return printStatus(opts, `halted: ${opts.scope} is ${(opts.level ?? 'red').toUpperCase()}`, status);
  });
}

// ---------------------------------------------------------------- resume (online and offline)

export interface ResumeOptions extends SignerOptions {
  scope?: string;
  level?: string;
  out?: string;
  sig?: string[];
}

/** What `zcp resume prepare` writes: the command to sign, in both forms, and until when it can be used. */
interface PreparedFile {
  command: string;
  digest: string;
  fields: CommandFields;
  challengeExpiresAtUs: number | null;
}

/** A resume over the enclave's current challenge (fetched now). */
async function prepareResume(opts: ResumeOptions): Promise<{ built: BuiltCommand; expiresAtUs: number | null }> {
  if (opts.scope === undefined) throw new UsageError('INVALID_ARGUMENT', '--scope is required: global, key:ID or principal:NAME');
  const level = (opts.level ?? 'green') as OversightLevel;
  // Check the arguments before asking the enclave for anything (the challenge is a placeholder here).
  build({ action: 'resume', scope: opts.scope, level, challenge: hex0x(Buffer.alloc(32)) });
  const challenge = await call(opts, 'GET', '/v1/oversight/challenge');
  if (typeof challenge.challenge !== 'string') throw new SentinelError('UNEXPECTED_RESPONSE', 'GET /v1/oversight/challenge: no challenge');
  const built = build({ action: 'resume', scope: opts.scope, level, challenge: challenge.challenge });
  const expires = Number(challenge.expires_at_us);
  return { built, expiresAtUs: Number.isFinite(expires) ? expires : null };
}

async function submit(opts: ApiOptions, command: Buffer, signatures: Array<{ signer: string; signature: string }>): Promise<number> {
  const fields = decodeCommand(command);
  const route =
    fields.action === 'approve' || fields.action === 'reject'
      ? '/v1/approvals/decision'
      : fields.action === 'list_approvals'
        ? '/v1/approvals'
        : `/v1/oversight/${fields.action}`;
  const answer = await call(opts, 'POST', route, { command: hex0x(command), signatures });
  if (answer.type === 'oversight_status') {
    const what = fields.action === 'resume' ? `resumed: ${String(fields.scope)} is ${String(fields.level).toUpperCase()}` : `${fields.action}: accepted`;
    return printStatus(opts, what, answer);
  }
  console.log(JSON.stringify(answer, null, 2));
  return EXIT_OK;
}

/** `zcp resume --scope S [--level green|yellow] --key FILE [--key FILE ...]`: challenge, sign with every key, submit. */
export function runResume(opts: ResumeOptions): Promise<number> {
  return guarded(opts, async () => {
    const keys = readKeys(opts);
    const { built } = await prepareResume(opts);
    return submit(opts, built.command, signAll(built.command, keys));
  });
}

/** `zcp resume prepare --scope S [--level] [--out FILE]`: the command to sign offline (JSON on stdout, or FILE). */
export function runResumePrepare(opts: ResumeOptions): Promise<number> {
  return guarded(opts, async () => {
    const { built, expiresAtUs } = await prepareResume(opts);
    const file: PreparedFile = { command: hex0x(built.command), digest: hex0x(built.digest), fields: built.fields, challengeExpiresAtUs: expiresAtUs };
    const text = JSON.stringify(file, null, 2);
    if (opts.out !== undefined) {
      writeText(opts.out, text);
      console.error(`resume command written to ${opts.out}; sign it (zcp resume sign ${opts.out} --key FILE) and submit it before ${expiresAtUs ? time(expiresAtUs) : 'the challenge expires'}`);
    } else {
      console.log(text);
    }
    return EXIT_OK;
  });
}

/** A prepared command file: its CBOR (checked by the core), which must say what its `fields` say. */
function readPrepared(path: string): Buffer {
  const file = parseJsonFile(path, 'command file');
  if (typeof file.command !== 'string') throw new UsageError('INVALID_ARGUMENT', `${path}: no \`command\` (0x-hex CBOR; zcp resume prepare writes it)`);
  const command = parseHex(`${path}: command`, file.command);
  const decoded = usage(path, () => decodeCommand(command));
  if (file.fields !== undefined && JSON.stringify(sortKeys(file.fields)) !== JSON.stringify(sortKeys(decoded))) {
    throw new UsageError('OVERSIGHT_MALFORMED', `${path}: \`fields\` do not describe the \`command\` bytes (what would be signed is the CBOR: ${JSON.stringify(decoded)})`);
  }
  return command;
}

function sortKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** `zcp resume sign CMD.json --key FILE [--out FILE]`: one signature `{ signer, signature }` (offline). */
export function runResumeSign(file: string, opts: ResumeOptions): Promise<number> {
  return guarded(opts, async () => {
    const command = readPrepared(file);
    const keys = readKeys(opts);
    const fields = decodeCommand(command);
    // What is signed, for the human signing it (stderr: stdout is the signature).
    console.error(
      `signing ${fields.action}${fields.scope ? ` of ${fields.scope}` : ''}${fields.level ? ` to ${fields.level}` : ''}` +
        ` (timestamp ${time(fields.timestamp_us)}${fields.challenge ? `, challenge ${fields.challenge.slice(0, 18)}…` : ''})`,
    );
    const signatures = signAll(command, keys);
    const text = JSON.stringify(signatures.length === 1 ? signatures[0] : signatures, null, 2);
    if (opts.out !== undefined) {
      writeText(opts.out, text);
      console.error(`signature of ${signatures.map((s) => s.signer).join(', ')} written to ${opts.out}`);
    } else {
      console.log(text);
    }
    return EXIT_OK;
  });
}

/** `zcp resume submit CMD.json --sig A.json [--sig B.json ...]`: sends the command with the collected signatures. */
export function runResumeSubmit(file: string, opts: ResumeOptions): Promise<number> {
  return guarded(opts, async () => {
    const command = readPrepared(file);
    const signatures: Array<{ signer: string; signature: string }> = [];
    for (const path of opts.sig ?? []) {
      const parsed = JSON.parse(readText(path, '--sig')) as unknown;
      for (const entry of Array.isArray(parsed) ? parsed : [parsed]) {
        const s = entry as { signer?: unknown; signature?: unknown } | null;
        if (typeof s?.signer !== 'string' || typeof s.signature !== 'string') {
          throw new UsageError('INVALID_ARGUMENT', `--sig ${path}: expected { signer, signature } (zcp resume sign writes it)`);
        }
        signatures.push({ signer: s.signer, signature: hex0x(parseHex(`--sig ${path}`, s.signature)) });
      }
    }
    // Keys given here sign too (an overseer at the submitting machine).
    if ((opts.key ?? []).length > 0) signatures.push(...signAll(command, readKeys(opts)));
    if (signatures.length === 0) throw new UsageError('INVALID_ARGUMENT', 'no signatures: pass --sig FILE (zcp resume sign writes them) or --key FILE');
    return submit(opts, command, signatures);
  });
}

// ---------------------------------------------------------------- status and heartbeat

/** `zcp status --key FILE`: the kill switch's state, read with a signed status command. */
export function runStatus(opts: SignerOptions): Promise<number> {
  return guarded(opts, async () => {
    const keys = readKeys(opts);
    const built = build({ action: 'status' });
    const status = await call(opts, 'POST', '/v1/oversight/status', { command: hex0x(built.command), signatures: signAll(built.command, keys) });
    return printStatus(opts, 'kill switch', status);
  });
}

export interface HeartbeatOptions extends SignerOptions {
  every?: string;
}

/** `zcp heartbeat --key FILE [--every MS]`: one signed heartbeat, or one every MS until Ctrl-C. */
export function runHeartbeat(opts: HeartbeatOptions): Promise<number> {
  return guarded(opts, async () => {
    const keys = readKeys(opts);
    const every = opts.every === undefined ? undefined : Number(opts.every);
    if (every !== undefined && (!Number.isInteger(every) || every < 1)) throw new UsageError('INVALID_ARGUMENT', `--every ${opts.every}: expected a whole number of milliseconds`);
    const beat = async (): Promise<Record<string, unknown>> => {
      const built = build({ action: 'heartbeat' });
      return call(opts, 'POST', '/v1/oversight/heartbeat', { command: hex0x(built.command), signatures: signAll(built.command, keys) });
    };
    if (every === undefined) return printStatus(opts, 'heartbeat accepted', await beat());

    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const onSignal = (): void => stop();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let beats = 0;
    try {
      for (;;) {
        const started = Date.now();
        let status: Record<string, unknown>;
        try {
          status = await beat();
        } catch (e) {
          // The API or the network may come back; a refusal by the enclave (wrong key, stale clock) will not.
          if (codeOf(e) !== 'API_UNREACHABLE') throw e;
          console.error(`warning ${codeOf(e)}: ${(e as Error).message}; retrying`);
          status = {};
        }
        if (status.global !== undefined) {
          beats++;
          const global = status.global as ScopeStatus;
          if (opts.json) console.log(JSON.stringify({ beat: beats, at: new Date().toISOString(), level: global.level, heartbeat_deadline_us: status.heartbeat_deadline_us ?? null }));
          else console.log(`heartbeat ${beats} at ${new Date().toISOString()}: global ${global.level.toUpperCase()}${status.heartbeat_deadline_us ? `, next due by ${time(status.heartbeat_deadline_us)}` : ''}`);
        }
        const wait = Math.max(0, every - (Date.now() - started));
        let timer: NodeJS.Timeout | undefined;
        const more = await Promise.race([stopped.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), wait)))]);
        clearTimeout(timer);
        if (!more) break;
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (!opts.json) console.log(`stopped after ${beats} heartbeats`);
    return EXIT_OK;
  });
}

// ---------------------------------------------------------------- approvals

interface HeldRequest {
  request_id: string;
  request_digest: string;
  principal: string;
  key_id: string | null;
  op: string;
  reason: string;
  body: string;
  held_at_us: number;
  expires_at_us: number;
  approvals: string[];
  approvals_needed: number;
}

async function listHeld(opts: SignerOptions, keys: string[]): Promise<HeldRequest[]> {
  const built = build({ action: 'list_approvals' });
  const answer = await call(opts, 'POST', '/v1/approvals', { command: hex0x(built.command), signatures: signAll(built.command, keys) });
  return (answer.entries as HeldRequest[] | undefined) ?? [];
}

/** What a held body asks for, decoded by the core (the bytes approvers approve): one line. */
function describeBody(bodyHex: string): string {
  let operation: Record<string, unknown>;
  try {
    operation = core.decodeBody(Buffer.from(bodyHex.replace(/^0x/, ''), 'hex')) as unknown as Record<string, unknown>;
  } catch (e) {
    return `(the body does not decode: ${codeOf(e)})`;
  }
  const bytes = (v: unknown): Buffer => (v instanceof Uint8Array ? Buffer.from(v) : Buffer.alloc(0));
  switch (operation.op) {
    case 'sign_ethereum_transaction': {
      try {
        const tx = core.decodeEthereumTransaction(bytes(operation.unsigned_tx));
        return `${tx.kind} transaction: chain ${tx.chainId ?? 'none'}, to ${tx.to ?? '(contract creation)'}, value ${tx.value} wei, nonce ${tx.nonce}, ${(tx.data.length - 2) / 2} bytes of data`;
      } catch (e) {
        return `transaction that does not decode (${codeOf(e)})`;
      }
    }
    case 'sign_personal_message': {
      const message = bytes(operation.message);
      const text = message.toString('utf8');
      const printable = /^[\x20-\x7e\s]*$/.test(text);
      return `personal message: ${printable ? JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text) : hex0x(message)}`;
    }
    case 'sign_typed_data': {
      try {
        const doc = JSON.parse(String(operation.typed_data)) as { primaryType?: unknown; domain?: { name?: unknown; chainId?: unknown } };
        return `EIP-712 ${String(doc.primaryType)} (domain ${String(doc.domain?.name ?? '?')}, chain ${String(doc.domain?.chainId ?? '?')})`;
      } catch {
        return 'EIP-712 typed data';
      }
    }
    case 'sign_digest':
      return `digest ${hex0x(bytes(operation.digest))}`;
    case 'sign_ed25519':
      return `Ed25519 message of ${bytes(operation.message).length} bytes`;
    default:
      return String(operation.op);
  }
}

/** `zcp approvals list --key FILE`. */
export function runApprovalsList(opts: SignerOptions): Promise<number> {
  return guarded(opts, async () => {
    const keys = readKeys(opts);
    const entries = await listHeld(opts, keys);
    if (opts.json) {
      console.log(JSON.stringify({ entries: entries.map((e) => ({ ...e, summary: describeBody(e.body) })) }, null, 2));
      return EXIT_OK;
    }
    console.log(entries.length === 0 ? 'no request is held for approval' : `${entries.length} held for approval`);
    const now = Date.now() * 1000;
    for (const e of entries) {
      console.log(`request ${e.request_id}`);
      console.log(field('op', `${e.op}${e.key_id ? ` with key ${e.key_id}` : ''}, by ${e.principal}`));
      console.log(field('asks', describeBody(e.body)));
      console.log(field('digest', `${e.request_digest} (SHA-256 of the body: what an approval signs)`));
      console.log(field('reason', e.reason));
      const left = Math.round((Number(e.expires_at_us) - now) / 1e6);
      console.log(field('expires', `${time(e.expires_at_us)} (${left > 0 ? `in ${left} s` : 'expired'}); held since ${time(e.held_at_us)}`));
      console.log(field('approvals', `${e.approvals.length} of ${e.approvals_needed}${e.approvals.length > 0 ? `: ${e.approvals.join(', ')}` : ''}`));
    }
    return EXIT_OK;
  });
}

export interface DecisionOptions extends SignerOptions {
  digest?: string;
}

/** `zcp approvals approve|reject REQUEST_ID --key FILE [--digest HEX]`. */
export function runApprovalDecision(action: 'approve' | 'reject', requestId: string, opts: DecisionOptions): Promise<number> {
  return guarded(opts, async () => {
    const id = hex0x(parseHex('REQUEST_ID', requestId, 16));
    const keys = readKeys(opts);
    let digest: string;
    if (opts.digest !== undefined) {
      digest = hex0x(parseHex('--digest', opts.digest, 32));
    } else {
      // The digest approvers sign is the held body's: read it from the list (signed with the same key).
      const held = (await listHeld(opts, keys)).find((e) => e.request_id.toLowerCase() === id);
      if (held === undefined) throw new SentinelError('APPROVAL_UNKNOWN', `no held request ${id} (zcp approvals list shows them)`);
      digest = held.request_digest;
    }
    const built = build({ action, request_id: id, request_digest: digest });
    const updated = await call(opts, 'POST', '/v1/approvals/decision', { command: hex0x(built.command), signatures: signAll(built.command, keys) });
    const state = String(updated.state);
    if (opts.json) console.log(JSON.stringify(updated, null, 2));
    else {
      const approvals = (updated.approvals as string[] | undefined) ?? [];
      const verb = action === 'approve' ? 'approved' : 'rejected';
      console.log(`${verb}: request ${id}`);
      console.log(field('state', `${state}${updated.code ? ` (${String(updated.code)})` : ''}`));
      console.log(field('approvals', `${approvals.length} of ${String(updated.approvals_needed)}${approvals.length > 0 ? `: ${approvals.join(', ')}` : ''}`));
      if (state === 'released') console.log(`signed: the requester fetches the signature and its receipt with GET /v1/requests/${id}`);
    }
    if (state === 'refused') {
      console.error(`error ${String(updated.code ?? 'APPROVAL_REFUSED')}: the approvals were complete but the enclave refused to sign`);
      return EXIT_REFUSED;
    }
    return EXIT_OK;
  });
}

// ---------------------------------------------------------------- commands

function keyOption(cmd: Command, what: string): Command {
  return cmd.option('--key <file>', `${what} (repeatable: each key signs)`, collect, []);
}

/** Registers `zcp halt`, `resume`, `status`, `heartbeat` and `approvals`. `set` receives each command's exit code. */
export function registerOversight(program: Command, set: (code: number) => void): void {
  apiOptions(
    keyOption(
      program
        .command('halt')
        .description('halt (red: nothing is signed) or degrade (yellow: every request waits for approval) a scope; one overseer signs')
        .option('--scope <scope>', 'global, key:KEY_ID or principal:PRINCIPAL_ID')
        .option('--level <level>', 'red or yellow', 'red')
        .option('--reason <text>', 'why (recorded in the state and every receipt of the scope)'),
      "an overseer's credential file",
    ),
  ).action(async (opts: HaltOptions) => set(await runHalt(opts)));

  const resume = apiOptions(
    keyOption(
      program
        .command('resume')
        .description("lift a halt: fetches the enclave's challenge, signs with every --key (the resume quorum) and submits; or offline: prepare, sign, submit")
        .option('--scope <scope>', 'global, key:KEY_ID or principal:PRINCIPAL_ID')
        .option('--level <level>', 'green or yellow', 'green'),
      "an overseer's credential file",
    ),
  ).action(async (opts: ResumeOptions) => set(await runResume(opts)));
  // The subcommands share resume's options (--scope, --level, --key, --url, --data-dir, --ca, --json): read merged.
  resume
    .command('prepare')
    .description('fetch a challenge and write the resume command to sign offline (JSON with the CBOR hex), on stdout or --out')
    .option('--out <file>', 'write it to FILE instead of stdout')
    .action(async (_opts: unknown, cmd: Command) => set(await runResumePrepare(cmd.optsWithGlobals() as ResumeOptions)));
  resume
    .command('sign')
    .description("add an overseer's signature to a prepared command (offline): { signer, signature } on stdout or --out")
    .argument('<file>', 'the command file (zcp resume prepare)')
    .option('--out <file>', 'write it to FILE instead of stdout')
    .action(async (file: string, _opts: unknown, cmd: Command) => set(await runResumeSign(file, cmd.optsWithGlobals() as ResumeOptions)));
  resume
    .command('submit')
    .description('send a prepared command with the signatures collected (zcp resume sign)')
    .argument('<file>', 'the command file (zcp resume prepare)')
    .option('--sig <file>', 'a signature file (repeatable)', collect, [])
    .action(async (file: string, _opts: unknown, cmd: Command) => set(await runResumeSubmit(file, cmd.optsWithGlobals() as ResumeOptions)));

  apiOptions(
    keyOption(program.command('status').description("the kill switch's state (global, keys, principals, heartbeat, held requests); one overseer signs"), "an overseer's credential file"),
  ).action(async (opts: SignerOptions) => set(await runStatus(opts)));

  apiOptions(
    keyOption(
      program
        .command('heartbeat')
        .description("tell the enclave an operator is alive (when the configuration sets a heartbeat interval, missing one halts it)")
        .option('--every <ms>', 'keep sending one every MS milliseconds until Ctrl-C'),
      "an overseer's credential file",
    ),
  ).action(async (opts: HeartbeatOptions) => set(await runHeartbeat(opts)));

  const approvals = program.command('approvals').description('the requests held for human approval (policy verdicts, Yellow scopes)');
  apiOptions(keyOption(approvals.command('list').description('the held requests: what each asks for, its digest, expiry and approvals'), "an approver's or overseer's credential file")).action(
    async (opts: SignerOptions) => set(await runApprovalsList(opts)),
  );
  for (const action of ['approve', 'reject'] as const) {
    apiOptions(
      keyOption(
        approvals
          .command(action)
          .description(action === 'approve' ? 'approve a held request (released once the approval threshold is met)' : 'reject a held request (refused at once)')
          .argument('<request-id>', 'the held request id (0x + 32 hex digits; zcp approvals list)')
          .option('--digest <hex>', 'the request digest to sign (default: read from the list)'),
        "an approver's credential file",
      ),
    ).action(async (requestId: string, opts: DecisionOptions) => set(await runApprovalDecision(action, requestId, opts)));
  }
}
