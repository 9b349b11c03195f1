/**
 * The SDK's test stack: the real enclave (simulated NSM, development
 * configuration), the real API on a loopback port (HTTP, or HTTPS with the
 * development certificate), and the options a client needs to trust it.
 */
import { readFileSync } from 'node:fs';

import type { FastifyInstance } from 'fastify';

import type { ClientOptions } from '@sentinel/client';

import { buildApp } from '../src/api/app.ts';
import { ensureDevCertificate } from '../src/local/dev-cert.ts';
import { EnclaveClient } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { clientCredential, startTestEnclave, type TestEnclave } from './helpers.ts';

export interface SdkStack {
  enclave: TestEnclave;
  app: FastifyInstance;
  url: string;
  root: Buffer;
  /** PEM of the development certificate, when served over HTTPS. */
  ca?: string;
  /** Every JSON request body the API received. */
  seen: string[];
  options(extra?: Partial<ClientOptions>): ClientOptions;
  dispose(): Promise<void>;
}

export async function startSdkStack(opts: { https?: boolean; evidenceRefreshSecs?: number } = {}): Promise<SdkStack> {
  const enclave = await startTestEnclave(opts.evidenceRefreshSecs === undefined ? {} : { evidenceRefreshSecs: opts.evidenceRefreshSecs });
  const sidecar = new EnclaveClient({ transport: unixTransport(enclave.socketPath) });
  await sidecar.connect();
  const cert = opts.https ? await ensureDevCertificate(enclave.dataDir) : undefined;
  const app = buildApp({ enclave: sidecar, ...(cert ? { https: { key: cert.key, cert: cert.cert } } : {}) });
  const seen: string[] = [];
  app.addHook('preHandler', async (request) => {
    if (request.body !== undefined) seen.push(JSON.stringify(request.body));
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const root = readFileSync(enclave.process.ready.dev_root_der!);
  return {
    enclave,
    app,
    url,
    root,
    ...(cert ? { ca: cert.cert } : {}),
    seen,
    options: (extra = {}) => ({
      url,
      credentials: clientCredential(enclave),
      root,
      expectedPcr0: enclave.process.ready.pcr0,
      ...(cert ? { ca: cert.cert } : {}),
      ...extra,
    }),
    async dispose() {
      await app.close();
      await sidecar.close();
      await enclave.dispose();
    },
  };
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string; status?: number; receiptId?: string; receipt?: { receipt: string; receiptId: string; verified: { claims: { decision: string; code?: string | null; op: string; requestId: string } } } }> {
  try {
    await promise;
  } catch (e) {
    return e as never;
  }
  throw new Error('expected a rejection');
}
