/**
 * How client commands (`zcp keys`, `zcp sign`, `zcp receipt`, `zcp rpc`) find
 * the stack they talk to and what they trust about it.
 *
 * `zcp up` writes `DATA_DIR/stack.json` once it listens: the API URL, its
 * development TLS certificate, PCR0, configuration hash, development root and
 * credential paths. Reading it is a local-mode convenience: the file is as
 * trustworthy as the data directory it sits in. In production every value is
 * given explicitly (`--url --credentials --pcr0 --config-hash`, the AWS root
 * by default), and explicit options always override the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import { readRoot } from './files.ts';

export const STACK_FILE = 'stack.json';

/** What `zcp up` records in `DATA_DIR/stack.json`. */
export interface StackInfo {
  url: string;
  /** The development TLS certificate (PEM) to trust; null when the API speaks plain HTTP. */
  caPath: string | null;
  /** PCR0, 96 hex digits without `0x`. */
  pcr0: string;
  /** `0x` + 64 hex digits, or null when no configuration is installed. */
  configHash: string | null;
  /** SHA-256 of the policy in force at start (`0x` + 64 hex digits), or null when none is installed; `zcp policy apply` changes it. */
  policyHash?: string | null;
  /** Its version, or null. */
  policyVersion?: number | null;
  /** DER development root (simulated NSM); null on Nitro hardware. */
  devRootPath: string | null;
  clientKeyPath: string;
  adminKeyPath: string;
  enclaveSocket: string | null;
  pid: number;
  /** The audit log in use: its origin, the current key, and whether this start continued it after a restart. */
  auditLog?: { origin: string; verifierKey: string; resumed: boolean; resumedSeq: number | null };
}

/** The connection options every client command accepts. */
export interface ConnectionOptions {
  dataDir?: string;
  url?: string;
  credentials?: string;
  pcr0?: string;
  configHash?: string;
  /** Only when given: a policy update changes the attested policy, so stack.json's is never pinned. */
  policyHash?: string;
  root?: string;
  allowDevRoot?: boolean;
  ca?: string;
}

/** What `createClient` from `@sentinel/client` takes (the fields the CLI fills). */
export interface StackClientOptions {
  url: string;
  /** The client credential JSON text. */
  credentials: string;
  expectedPcr0: string;
  expectedConfigHash?: string;
  expectedPolicyHash?: string;
  root: Uint8Array;
  ca?: string;
}

function text(value: unknown, field: string, file: string): string {
  if (typeof value !== 'string' || value === '') throw new SentinelError('STACK_FILE_INVALID', `${file}: \`${field}\` must be a non-empty string`);
  return value;
}

function textOrNull(value: unknown, field: string, file: string): string | null {
  return value === null || value === undefined ? null : text(value, field, file);
}

/** Reads `DATA_DIR/stack.json`; STACK_NOT_FOUND when `zcp up` never ran there. */
export function loadStack(dataDir: string): StackInfo {
  const file = join(resolve(dataDir), STACK_FILE);
  if (!existsSync(file)) {
    throw new SentinelError('STACK_NOT_FOUND', `${file} does not exist: start the local stack with \`zcp up --data-dir ${dataDir}\`, or pass --url, --credentials and --pcr0`);
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new SentinelError('STACK_FILE_INVALID', `${file}: not JSON (${(e as Error).message})`);
  }
  return {
    url: text(raw.url, 'url', file),
    caPath: textOrNull(raw.caPath, 'caPath', file),
    pcr0: text(raw.pcr0, 'pcr0', file),
    configHash: textOrNull(raw.configHash, 'configHash', file),
    policyHash: textOrNull(raw.policyHash, 'policyHash', file),
    policyVersion: typeof raw.policyVersion === 'number' ? raw.policyVersion : null,
    devRootPath: textOrNull(raw.devRootPath, 'devRootPath', file),
    clientKeyPath: text(raw.clientKeyPath, 'clientKeyPath', file),
    adminKeyPath: text(raw.adminKeyPath, 'adminKeyPath', file),
    enclaveSocket: textOrNull(raw.enclaveSocket, 'enclaveSocket', file),
    pid: typeof raw.pid === 'number' ? raw.pid : 0,
  };
}

/**
 * Client options from explicit flags, falling back to the stack file in
 * `--data-dir` (default `.sentinel`) for whatever is not given. Without a
 * stack file, `--url`, `--credentials` and `--pcr0` are required, and the root
 * is the AWS Nitro root unless `--root` (with `--allow-dev-root` when it is
 * not the AWS root) names another.
 */
export function clientOptionsFrom(opts: ConnectionOptions): StackClientOptions {
  const explicit = opts.url !== undefined && opts.credentials !== undefined && opts.pcr0 !== undefined;
  const stack = explicit && opts.dataDir === undefined ? undefined : tryLoadStack(opts.dataDir ?? '.sentinel', explicit);
  const url = opts.url ?? stack?.url;
  const credentialsPath = opts.credentials ?? stack?.clientKeyPath;
  const pcr0 = opts.pcr0 ?? stack?.pcr0;
  if (url === undefined || credentialsPath === undefined || pcr0 === undefined) {
    throw new SentinelError('INVALID_ARGUMENT', 'no stack to talk to: pass --data-dir of a running `zcp up`, or --url, --credentials and --pcr0');
  }
  const rootPath = opts.root ?? stack?.devRootPath ?? undefined;
  let root: Uint8Array;
  if (rootPath === undefined) {
    root = core.awsNitroRootG1();
  } else {
    root = readRoot(rootPath);
    const fromStack = opts.root === undefined;
    if (!fromStack && !opts.allowDevRoot && !Buffer.from(root).equals(core.awsNitroRootG1())) {
      throw new SentinelError('INVALID_ARGUMENT', `--root ${rootPath} is not the AWS Nitro root: pass --allow-dev-root to trust it (local testing only)`);
    }
  }
  const caPath = opts.ca ?? stack?.caPath ?? undefined;
  const configHash = opts.configHash ?? stack?.configHash ?? undefined;
  return {
    url,
    credentials: readText(credentialsPath, 'credentials'),
    expectedPcr0: pcr0,
    ...(configHash !== undefined ? { expectedConfigHash: configHash } : {}),
    ...(opts.policyHash !== undefined ? { expectedPolicyHash: opts.policyHash } : {}),
    root,
    ...(caPath !== undefined ? { ca: readText(caPath, 'TLS certificate') } : {}),
  };
}

function tryLoadStack(dataDir: string, optional: boolean): StackInfo | undefined {
  try {
    return loadStack(dataDir);
  } catch (e) {
    if (optional && (e as { code?: string }).code === 'STACK_NOT_FOUND') return undefined;
    throw e;
  }
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new SentinelError('FILE_UNREADABLE', `cannot read the ${what} file ${path}: ${(e as Error).message}`, { cause: e });
  }
}
