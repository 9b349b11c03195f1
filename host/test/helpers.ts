/**
 * Test helpers: the real enclave binary in a temp dir, and console capture.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { vi } from 'vitest';

import { DEFAULT_ENCLAVE_BIN, startEnclave, type EnclaveProcess } from '../src/local/enclave-process.ts';
import type { EnclaveClientLike, EnclaveResponse, Request } from '../src/sidecar/client.ts';

export const ENCLAVE_BIN = DEFAULT_ENCLAVE_BIN;
export const HAVE_ENCLAVE = existsSync(ENCLAVE_BIN);
export const SKIP_REASON = `enclave binary missing at ${ENCLAVE_BIN} (run: bash scripts/build.sh)`;

export interface TestEnclave {
  dir: string;
  socketPath: string;
  dataDir: string;
  process: EnclaveProcess;
  /** Starts it again on the same socket and data dir (same dev CA). */
  restart(): Promise<EnclaveProcess>;
  dispose(): Promise<void>;
}

export async function startTestEnclave(): Promise<TestEnclave> {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-host-'));
  const socketPath = join(dir, 'enclave.sock');
  const dataDir = join(dir, 'data');
  const t: TestEnclave = {
    dir,
    socketPath,
    dataDir,
    process: await startEnclave({ socketPath, dataDir }),
    async restart() {
      await t.process.stop();
      t.process = await startEnclave({ socketPath, dataDir });
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
