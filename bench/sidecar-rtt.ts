/**
 * The full host path of one signature: TypeScript sidecar -> Unix socket ->
 * enclave -> back, sequential requests, p50/p99, next to the in-process
 * N-API sign in the same run. Run: node --import tsx bench/sidecar-rtt.ts [--quick]
 * (`bench/enclave-rtt.mjs` measures the same round trip from a plain Rust
 * client and the VM's transport floor.) `--busy-poll` starts the enclave in latency mode.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { core } from '../host/src/core.ts';
import { startEnclave } from '../host/src/local/enclave-process.ts';
import { EnclaveClient } from '../host/src/sidecar/client.ts';
import { unixTransport } from '../host/src/sidecar/transport.ts';

const iterations = process.argv.includes('--quick') ? 2000 : 20000;
const dir = mkdtempSync(path.join(tmpdir(), 'sentinel-rtt-'));
const socketPath = path.join(dir, 'enclave.sock');
const busyPoll = process.argv.includes('--busy-poll');
const enclave = await startEnclave({ socketPath, dataDir: dir, busyPoll });
const client = new EnclaveClient({ transport: unixTransport(socketPath) });
await client.connect();

function pct(samples: number[]): { p50: number; p99: number } {
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.round((samples.length - 1) * q)]! / 1000;
  return { p50: at(0.5), p99: at(0.99) };
}

async function measureAsync(op: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < iterations / 10; i++) await op(i);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = process.hrtime.bigint();
    await op(i);
    samples.push(Number(process.hrtime.bigint() - t));
  }
  return pct(samples);
}

const digests = Array.from({ length: 256 }, (_, i) => Buffer.alloc(32, i));
try {
  const key = await client.request({ op: 'generate_key', curve: 'secp256k1' });
  const keyId = String(key.key_id);
  const ping = await measureAsync(() => client.request({ op: 'ping', payload: Buffer.alloc(0) }));
  const sign = await measureAsync((i) => client.request({ op: 'sign_digest', key_id: keyId, digest: digests[i & 255]! }));
  const secret = Buffer.alloc(32, 0x42);
  const inProcess = await measureAsync(async (i) => core.signDigest(secret, digests[i & 255]!));
  const ratio = sign.p50 / inProcess.p50;
  console.log(`TypeScript sidecar -> enclave over a Unix socket${busyPoll ? ' (enclave --busy-poll)' : ''}, ${iterations} sequential requests (µs)`);
  for (const [name, r] of [
    ['round trip: ping (sidecar)', ping],
    ['round trip: sign_digest (sidecar)', sign],
    ['in process: N-API signDigest', inProcess],
  ] as const) {
    console.log(`  ${name.padEnd(36)} p50 ${r.p50.toFixed(2).padStart(8)}  p99 ${r.p99.toFixed(2).padStart(8)}`);
  }
  console.log(`  sign via sidecar p50 / in-process sign p50 = ${ratio.toFixed(2)}x (target <= 2.00x, default scheduling)`);
} finally {
  await client.close();
  await enclave.stop();
  rmSync(dir, { recursive: true, force: true });
}
