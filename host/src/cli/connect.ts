/**
 * What every client command (`zcp keys`, `zcp sign`, `zcp rpc`) shares: the
 * connection options, turning them into an attested `@sentinel/client`, and
 * one way of reporting results and refusals, so that scripts can rely on the
 * same contract everywhere. A command first checks its arguments and reads its
 * files (any problem there is a usage error, exit 2, and nothing is sent);
 * only then does it connect, and from then on a refusal (from the enclave, or
 * a verification the client ran) is exit 1 with the refusal's code. Results
 * are printed only after the SDK verified the answer's receipt against the
 * attested enclave; the host that relayed them is never trusted.
 */
import { readFileSync, writeFileSync } from 'node:fs';

import { createClient } from '@sentinel/client';
import type { Command } from 'commander';

import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import { field } from './attestation-output.ts';
import { clientOptionsFrom, type ConnectionOptions } from './stack.ts';

/** A problem with the command line or its input files: exit 2, nothing was sent. */
export class UsageError extends SentinelError {}

export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;

export type Client = Awaited<ReturnType<typeof createClient>>;
export type VerifiedReceipt = ReturnType<typeof core.verifyReceipt>;

/** What every SDK answer carries: its receipt, already verified. */
export interface Receipted {
  receipt: string;
  receiptId: string;
  verified: VerifiedReceipt;
}

export interface CommonOptions extends ConnectionOptions {
  json?: boolean;
  receiptOut?: string;
}

/** Adds the connection options (`--data-dir`, or explicit `--url --credentials --pcr0 ...`) and `--json`. */
export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'data directory of a local stack (`zcp up`): reads DIR/stack.json (default: .sentinel)')
    .option('--url <url>', 'API base URL (overrides stack.json)')
    .option('--credentials <file>', 'client credential file, client.key JSON (overrides stack.json)')
    .option('--pcr0 <hex>', 'expected PCR0 of the enclave image, 96 hex digits (overrides stack.json)')
    .option('--config-hash <hex>', 'expected configuration hash (overrides stack.json)')
    .option('--policy-hash <hex>', 'expected policy hash: the enclave must attest it, and every receipt name it (not pinned unless given)')
    .option('--root <file>', 'trusted root certificate, PEM or DER (default: AWS Nitro Enclaves Root-G1, or the stack\'s development root)')
    .option('--allow-dev-root', 'accept a --root other than the AWS Nitro root (local testing: the simulated NSM)')
    .option('--ca <file>', 'PEM certificate to trust for the API\'s TLS (default: the stack\'s development certificate)')
    .option('--json', 'print the result as JSON');
}

/** Adds `--receipt-out FILE`. */
export function addReceiptOut(cmd: Command): Command {
  return cmd.option('--receipt-out <file>', 'also write the receipt as JSON { receiptId, receipt } (for `zcp receipt verify`)');
}

/** The code of any error (the SDK's, the core's, the CLI's), or INTERNAL. */
export function codeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : 'INTERNAL';
}

/** The receipt of a refusal, when the error carries one (hex). */
function refusalReceipt(e: unknown): { receiptId?: string; receipt?: string } {
  const err = e as { receiptId?: unknown; receipt?: unknown } | null;
  const receiptId = typeof err?.receiptId === 'string' ? err.receiptId : undefined;
  let receipt: string | undefined;
  if (typeof err?.receipt === 'string') receipt = err.receipt;
  else if (err?.receipt instanceof Uint8Array) receipt = `0x${Buffer.from(err.receipt).toString('hex')}`;
  else if (typeof (err?.receipt as { receipt?: unknown } | undefined)?.receipt === 'string') {
    receipt = (err!.receipt as { receipt: string }).receipt;
  }
  const nestedId = (err?.receipt as { receiptId?: unknown } | undefined)?.receiptId;
  return { receiptId: receiptId ?? (typeof nestedId === 'string' ? nestedId : undefined), receipt };
}

/**
 * Prints an error as `error CODE: message` on stderr (plus `(receipt ID)`
 * when the refusal has one) and, with `--json`, as `{ error: { code, message,
 * receiptId? } }` on stdout. Returns the exit code.
 */
export function reportError(e: unknown, opts: { json?: boolean }, exitCode: number): number {
  const code = codeOf(e);
  const message = e instanceof Error ? e.message : String(e);
  const { receiptId } = refusalReceipt(e);
  // A request held for human approval (APPROVAL_PENDING): not signed yet; its id is what approvers and `GET /v1/requests/:id` take.
  const requestId = typeof (e as { requestId?: unknown } | null)?.requestId === 'string' ? (e as { requestId: string }).requestId : undefined;
  console.error(`error ${code}: ${message}${receiptId !== undefined ? ` (receipt ${receiptId})` : ''}`);
  if (requestId !== undefined) console.error(`held for approval: zcp approvals list / zcp approvals approve ${requestId} --key APPROVER_KEY`);
  if (opts.json) {
    console.log(
      JSON.stringify({ error: { code, message, ...(receiptId !== undefined ? { receiptId } : {}), ...(requestId !== undefined ? { requestId } : {}) } }, null, 2),
    );
  }
  return exitCode;
}

/** Writes `{ receiptId, receipt }` to `--receipt-out` (replacing the file). */
export function writeReceiptFile(path: string, r: { receiptId: string; receipt: string }): void {
  try {
    writeFileSync(path, `${JSON.stringify({ receiptId: r.receiptId, receipt: r.receipt }, null, 2)}\n`, { mode: 0o644 });
  } catch (e) {
    throw new SentinelError('FILE_UNWRITABLE', `${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Runs a client command: `prepare` checks arguments and reads files (errors:
 * exit 2), then the client connects (verifying the enclave's attestation) and
 * `run` talks to it (errors: exit 1, except a UsageError `run` throws when
 * the SDK refused an argument before sending anything: exit 2). The client is closed either way. A
 * refusal that came with a receipt still writes it to `--receipt-out`: it is
 * signed evidence of the denial. `cleanup` runs last whatever happened (it
 * wipes secrets that `prepare` read).
 */
export async function runClientCommand<P>(
  opts: CommonOptions,
  prepare: () => P,
  run: (client: Client, prepared: P) => Promise<number>,
  cleanup?: (prepared: P) => void,
): Promise<number> {
  let prepared: P | undefined;
  let clientOptions: ReturnType<typeof clientOptionsFrom>;
  try {
    prepared = prepare();
    clientOptions = clientOptionsFrom(opts);
  } catch (e) {
    if (prepared !== undefined) cleanup?.(prepared);
    return reportError(e, opts, EXIT_USAGE);
  }
  let client: Client | undefined;
  try {
    client = await createClient(clientOptions);
    await resolveKeyAddress(client, opts as CommonOptions & { key?: unknown });
    return await run(client, prepared);
  } catch (e) {
    const { receiptId, receipt } = refusalReceipt(e);
    if (opts.receiptOut !== undefined && receiptId !== undefined && receipt !== undefined) {
      try {
        writeReceiptFile(opts.receiptOut, { receiptId, receipt });
      } catch (w) {
        reportError(w, { json: false }, EXIT_REFUSED);
      }
    }
    return reportError(e, opts, e instanceof UsageError ? EXIT_USAGE : EXIT_REFUSED);
  } finally {
    cleanup?.(prepared);
    await client?.close().catch(() => undefined);
  }
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * `--key` takes a key id or an Ethereum address: an address is looked up in
 * the principal's key list (itself bound by its receipt) and replaced by its
 * key id before the command runs.
 */
async function resolveKeyAddress(client: Client, opts: { key?: unknown }): Promise<void> {
  if (typeof opts.key !== 'string' || !ADDRESS.test(opts.key)) return;
  const wanted = opts.key.toLowerCase();
  const { keys } = await client.listKeys();
  const key = keys.find((k) => k.address !== null && k.address.toLowerCase() === wanted);
  if (key === undefined) throw new SentinelError('UNKNOWN_KEY', `no secp256k1 key of this principal has address ${opts.key}`);
  opts.key = key.keyId;
}

/** One line about the receipt, after the result: the proof the result was checked. */
export function receiptLine(r: Receipted): string {
  const root = r.verified.rootKind === 'aws-nitro' ? 'AWS Nitro Enclaves Root-G1' : 'DEVELOPMENT root, not AWS hardware';
  return `receipt ${r.receiptId} verified (${r.verified.claims.decision} for ${r.verified.claims.principal}; enclave PCR0 ${r.verified.pcr0.slice(2, 18)}…; ${root})`;
}

/** What `--json` adds to every result: the receipt and what its verification established. */
export function receiptJson(r: Receipted): Record<string, unknown> {
  return {
    receiptId: r.receiptId,
    receipt: r.receipt,
    verified: { rootKind: r.verified.rootKind, pcr0: r.verified.pcr0, claims: r.verified.claims },
  };
}

/**
 * Prints a verified result: `--json` gives `{ ...result, receiptId, receipt,
 * verified }`; text gives the title, one `label value` line per field (or
 * what `lines` prints), then the receipt line. Writes `--receipt-out` first, so a failure to write it is reported
 * before anything claims success.
 */
export function printResult(
  opts: CommonOptions,
  title: string,
  result: Record<string, unknown>,
  lines: Array<[string, string]> | (() => void),
  receipted: Receipted,
): number {
  if (opts.receiptOut !== undefined) writeReceiptFile(opts.receiptOut, receipted);
  if (opts.json) {
    console.log(JSON.stringify({ ...result, ...receiptJson(receipted) }, null, 2));
    return EXIT_OK;
  }
  console.log(title);
  if (typeof lines === 'function') lines();
  else for (const [label, value] of lines) console.log(field(label, value));
  console.log(receiptLine(receipted));
  if (opts.receiptOut !== undefined) console.log(`receipt written to ${opts.receiptOut}`);
  return EXIT_OK;
}

/** Bytes from hex (`0x` optional, even length); `bytes` pins the length. UsageError otherwise. */
export function parseHex(option: string, text: string, bytes?: number): Buffer {
  const digits = text.trim().replace(/^0x/i, '');
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) {
    throw new UsageError('INVALID_ARGUMENT', `${option}: not hex bytes (0x followed by an even number of hex digits)`);
  }
  const out = Buffer.from(digits, 'hex');
  if (bytes !== undefined && out.length !== bytes) {
    throw new UsageError('INVALID_ARGUMENT', `${option}: ${out.length} bytes, expected ${bytes}`);
  }
  return out;
}

/** The SDK's: one hex encoding for every byte value the CLI prints. */
export { hex0x } from '@sentinel/client';

/** Exactly one of several options; UsageError naming them otherwise. */
export function exactlyOne<T extends object>(opts: T, names: Array<[keyof T & string, string]>): keyof T & string {
  const given = names.filter(([k]) => opts[k] !== undefined);
  if (given.length !== 1) {
    const list = names.map(([, flag]) => flag).join(' or ');
    throw new UsageError('INVALID_ARGUMENT', given.length === 0 ? `one of ${list} is required` : `give only one of ${list}`);
  }
  return given[0]![0];
}

/** A repeatable option's collector (`--key a --key b` -> `['a', 'b']`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The options of commands that call the HTTP API of a running stack (`zcp policy apply`, `zcp halt`, ...). */
export function apiOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', "API base URL (default: the stack's in --data-dir, else https://127.0.0.1:8787)")
    .option('--data-dir <dir>', 'a local stack (zcp up): its stack.json gives the URL and TLS certificate (default: .sentinel, when present)')
    .option('--ca <file>', "PEM certificate to trust for the API's TLS (default: the stack's development certificate)")
    .option('--json', 'print the result as JSON');
}

/** An input file's text; a usage error naming the option or input (`what`) when it cannot be read. */
export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError('FILE_UNREADABLE', `${what}: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** An input file's bytes (same refusal as `readText`). */
export function readBytes(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError('FILE_UNREADABLE', `${what}: cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Writes an output file (newline-terminated, mode 0644); FILE_UNWRITABLE naming the path otherwise. */
export function writeText(path: string, text: string): void {
  try {
    writeFileSync(path, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o644 });
  } catch (e) {
    throw new SentinelError('FILE_UNWRITABLE', `${path}: ${(e as Error).message}`, { cause: e });
  }
}
