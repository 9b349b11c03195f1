/**
 * Test helpers: the real enclave binary in a temp dir, and console capture.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { vi } from 'vitest';

import { core } from '../src/core.ts';
import { ensureDevConfiguration, type DevConfiguration } from '../src/local/dev-config.ts';
import { DEFAULT_ENCLAVE_BIN, startEnclave, type EnclaveProcess } from '../src/local/enclave-process.ts';
import type { EnclaveClientLike, EnclaveResponse, Operation, Request } from '../src/sidecar/client.ts';

export const ENCLAVE_BIN = DEFAULT_ENCLAVE_BIN;
export const HAVE_ENCLAVE = existsSync(ENCLAVE_BIN);
export const SKIP_REASON = `enclave binary missing at ${ENCLAVE_BIN} (run: bash scripts/build.sh)`;

export interface TestEnclave {
  dir: string;
  socketPath: string;
  dataDir: string;
  /** admin.key, client.key, the signed config.cbor and policy.json the enclave booted with. */
  dev: DevConfiguration;
  process: EnclaveProcess;
  /** Starts it again on the same socket and data dir (same dev CA). */
  restart(): Promise<EnclaveProcess>;
  dispose(): Promise<void>;
}

export interface TestEnclaveOptions {
  /** false: boot without a configuration (and so without a policy). */
  configured?: boolean;
  /**
   * The signed policy to boot with: the development policy `zcp up` uses (default, DATA_DIR/policy.json),
   * a path to another signed envelope, or false for none (signing then refused with POLICY_NOT_INSTALLED).
   */
  policy?: false | string;
  /** ONNX models that policy pins (`--policy-model`). */
  policyModels?: string[];
  evidenceRefreshSecs?: number;
  /**
   * The enclave boots halted (kill switch Red). Credential files that resume it after boot (`resumeWith`):
   * default the development admin (the development configuration's overseer) when configured; false leaves
   * it halted (to test the boot state, or to resume it by hand).
   */
  resumeWith?: false | string[];
  /**
   * A signed configuration to boot with instead of the development one (e.g. with an `oversight` section),
   * made from the development credentials (written to DATA_DIR/custom-config.cbor).
   */
  config?: (dev: DevConfiguration) => Uint8Array;
}

/**
 * The real enclave, booted the way `zcp up` boots it: the development configuration and the
 * development policy from the data directory (local/dev-config.ts), resumed after boot with the
 * development admin key (it boots halted), unless the options say otherwise.
 */
export async function startTestEnclave(options: TestEnclaveOptions = {}): Promise<TestEnclave> {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-host-'));
  const socketPath = join(dir, 'enclave.sock');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const dev = ensureDevConfiguration(dataDir);
  let configPath = options.configured === false ? undefined : dev.configPath;
  if (configPath !== undefined && options.config !== undefined) {
    configPath = join(dataDir, 'custom-config.cbor');
    writeFileSync(configPath, options.config(dev));
  }
  const policyPath = configPath === undefined || options.policy === false ? undefined : (options.policy ?? dev.policyPath);
  const resumeWith = configPath === undefined || options.resumeWith === false ? undefined : (options.resumeWith ?? [dev.adminKeyPath]);
  const start = (): Promise<EnclaveProcess> =>
    startEnclave({
      socketPath,
      dataDir,
      configPath,
      policyPath,
      policyModelPaths: policyPath === undefined ? undefined : options.policyModels,
      evidenceRefreshSecs: options.evidenceRefreshSecs,
      resumeWith,
    });
  const t: TestEnclave = {
    dir,
    socketPath,
    dataDir,
    dev,
    process: await start(),
    async restart() {
      await t.process.stop();
      t.process = await start();
      return t.process;
    },
    async dispose() {
      await t.process.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Collects console.log / console.error lines (restore with vi.restoreAllMocks()). */
export function capture(): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  return { out, err };
}

/**
 * A stand-in enclave for API tests: answers every request with `answer(request)`.
 * The cast is the point: a fake answers whatever the test needs, typed or not.
 */
export function fakeEnclave(answer: (request: Request) => EnclaveResponse | Promise<EnclaveResponse>): EnclaveClientLike {
  return { request: (async (request: Request) => answer(request)) as EnclaveClientLike['request'] };
}

/** The test enclave's client credential (client.key JSON). */
export function clientCredential(t: TestEnclave): string {
  return readFileSync(t.dev.clientKeyPath, 'utf8');
}

export { stampedFrame } from '../src/sidecar/stamped-frame.ts';

/** `zcp ARGS...` in process, with its output (console captured, restored after). */
export async function runZcp(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('../src/cli/main.ts');
  const { out, err } = capture();
  try {
    const code = await main(['node', 'zcp', ...args]);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    vi.restoreAllMocks();
  }
}

/** The EIP-712 "Mail" example, loaded once by the conformance suite's helpers (one definition). */
export { EIP712_MAIL, type Eip712MailVector } from '../../test/conformance/helpers.ts';
