/**
 * A local stack for the client-command tests (`zcp keys`, `zcp sign`,
 * `zcp receipt`): the real enclave, the real API on a free port, and a data
 * directory holding the `stack.json` that `zcp up` would write, so commands
 * find it with `--data-dir` exactly as they do against `zcp up`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';

import { buildApp } from '../src/api/app.ts';
import { main } from '../src/cli/main.ts';
import { ensureDevCertificate } from '../src/local/dev-cert.ts';
import { EnclaveClient } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { capture, startTestEnclave, type TestEnclave } from './helpers.ts';

export interface CliStack {
  enclave: TestEnclave;
  url: string;
  /** Holds stack.json (and whatever a test writes). */
  dataDir: string;
  pcr0: string;
  configHash: string;
  devRootPath: string;
  /** Runs `zcp ARGS...` in process, returns its exit code. */
  zcp(...args: string[]): Promise<number>;
  /** Runs `zcp ARGS... --data-dir DIR` and captures its output. */
  run(...args: string[]): Promise<{ code: number; out: string; err: string }>;
  /** Runs `zcp ARGS... --data-dir DIR --json` and parses stdout. */
  json<T = Record<string, unknown>>(...args: string[]): Promise<{ code: number; value: T; err: string }>;
  dispose(): Promise<void>;
}

/** `https`: serve TLS with the development certificate `zcp up` makes (stack.json names it as `caPath`). */
export async function startCliStack(options: { https?: boolean } = {}): Promise<CliStack> {
  const enclave = await startTestEnclave();
  const sidecar = new EnclaveClient({ transport: unixTransport(enclave.socketPath) });
  await sidecar.connect();
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-cli-'));
  const cert = options.https ? await ensureDevCertificate(dataDir) : undefined;
  const app: FastifyInstance = buildApp({ enclave: sidecar, ...(cert ? { https: { key: cert.key, cert: cert.cert } } : {}) });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const ready = enclave.process.ready;
  const stack = {
    url,
    caPath: cert?.certPath ?? null,
    pcr0: ready.pcr0,
    configHash: `0x${ready.config_hash}`,
    devRootPath: ready.dev_root_der!,
    clientKeyPath: enclave.dev.clientKeyPath,
    adminKeyPath: enclave.dev.adminKeyPath,
    enclaveSocket: enclave.socketPath,
    pid: process.pid,
  };
  writeFileSync(join(dataDir, 'stack.json'), JSON.stringify(stack, null, 2));
  const zcp = (...args: string[]): Promise<number> => main(['node', 'zcp', ...args]);
  const run = async (...args: string[]) => {
    const { out, err } = capture();
    const code = await zcp(...args, '--data-dir', dataDir);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  return {
    enclave,
    url,
    dataDir,
    pcr0: ready.pcr0,
    configHash: stack.configHash,
    devRootPath: stack.devRootPath,
    zcp,
    run,
    async json<T>(...args: string[]) {
      const { code, out, err } = await run(...args, '--json');
      return { code, value: JSON.parse(out) as T, err };
    },
    async dispose() {
      await app.close();
      await sidecar.close();
      await enclave.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
