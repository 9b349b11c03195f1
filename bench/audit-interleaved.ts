/**
 * Where a strict 1-client signature's time goes (issue #11, point 8), with the machine's drift
 * taken out: two local enclaves run side by side and 1-client signing alternates between three
 * modes in blocks of 1,000 signatures, so every mode samples the same minutes of this VM.
 *
 *   - off:    enclave B; its records are acknowledged and discarded (a host that stores nothing);
 *   - bare:   enclave B; after each answer a bare `writeSync` + `fdatasyncSync` of the record into a
 *             preallocated file on the event loop: the least a durable record can cost, no store;
 *   - strict: enclave A; `AuditWriter.persist` (the store's synchronous fast path) before release.
 *
 * A 1,500-sample write + fdatasync floor is measured between blocks too. Per block it prints the
 * p50s; at the end the medians over blocks of `strict - bare` (what the store and writer add over
 * the bare minimum) and `bare - off - floor` (what the machine adds to the bare minimum: an enclave
 * that sat idle through an fdatasync wakes up slower than one in a tight loop). `bench/audit.ts`
 * gives the targets; this separates the two causes of a miss. The enclaves run the default
 * (epoll) server: two busy-poll enclaves would each spin for 200 ms after their last request, on a
 * 2-vCPU machine, into the other mode's block.
 *   node --import tsx bench/audit-interleaved.ts [--blocks N] [--json]
 */
import { closeSync, fdatasyncSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { AuditWriter } from '../host/src/audit/writer.ts';
import { ensureDevConfiguration } from '../host/src/local/dev-config.ts';
import { startEnclave } from '../host/src/local/enclave-process.ts';
import { EnclaveClient } from '../host/src/sidecar/client.ts';
import { stampedFrame } from '../host/src/sidecar/stamped-frame.ts';
import { unixTransport } from '../host/src/sidecar/transport.ts';

const json = process.argv.includes('--json');
const blocksArg = process.argv.indexOf('--blocks');
const BLOCKS = blocksArg > 0 ? Number(process.argv[blocksArg + 1]) : 8;
if (!Number.isInteger(BLOCKS) || BLOCKS < 2) throw new Error('--blocks: an integer >= 2');
const PER_BLOCK = 1000;
const WARMUP = 100;
const log = (...a: unknown[]): void => console.error('[audit-interleaved]', ...a);

type Mode = 'off' | 'bare' | 'strict';

const dir = mkdtempSync(path.join(process.env.SENTINEL_BENCH_DIR ?? tmpdir(), 'sentinel-audit-interleaved-'));
const dataDir = path.join(dir, 'data');
mkdirSync(dataDir, { recursive: true });
const dev = ensureDevConfiguration(dataDir);
const credential = readFileSync(dev.clientKeyPath, 'utf8');
const started: Array<{ stop(): Promise<void> }> = [];
const clients: EnclaveClient[] = [];

function p50(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function enclaveWithKey(name: string): Promise<{ client: EnclaveClient; keyId: string }> {
  const socketPath = path.join(dir, `${name}.sock`);
  const enclave = await startEnclave({
    socketPath,
    dataDir,
    configPath: dev.configPath,
    policyPath: dev.policyPath,
    resumeWith: [dev.adminKeyPath],
    onStderr: (line) => {
      if (/panic|ERROR/.test(line)) log(`enclave ${name}:`, line);
    },
  });
  started.push(enclave);
  const client = new EnclaveClient({ transport: unixTransport(socketPath) });
  clients.push(client);
  await client.connect();
  const generated = await client.request(stampedFrame(credential, { op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: name }));
  if (generated.answer.type !== 'key_generated') throw new Error(JSON.stringify(generated.answer));
  return { client, keyId: generated.answer.key_id };
}

function floorP50(fd: number, at: number, n: number): number {
  const record = Buffer.alloc(600, 7);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    writeSync(fd, record, 0, record.length, at + i * record.length);
    fdatasyncSync(fd);
    samples.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return p50(samples);
}

let writer: AuditWriter | null = null;
let acking: NodeJS.Timeout | null = null;
try {
  const strict = await enclaveWithKey('strict');
  const plain = await enclaveWithKey('off');
  writer = await AuditWriter.open(strict.client, { dir: path.join(dataDir, 'audit-strict'), mode: 'strict', snapshotEveryMs: 0 });
  writer.start();
  const ackAll = async (): Promise<void> => {
    const head = await plain.client.request({ op: 'audit_checkpoint' });
    await plain.client.request({ op: 'audit_ack', durable: head.size });
  };
  await ackAll();
  acking = setInterval(() => void ackAll().catch(() => {}), 20);
  // Preallocated (sparse, as the store's segments are), one file for the bare rows, one for the floor.
  const bareFd = openSync(path.join(dir, 'bare.bin'), 'w');
  ftruncateSync(bareFd, 256 * 1024 * 1024);
  const floorFd = openSync(path.join(dir, 'floor.bin'), 'w');
  ftruncateSync(floorFd, 256 * 1024 * 1024);

  const rows: Array<Record<Mode, number> & { floor: number }> = [];
  let digest = 0;
  for (let block = 0; block < BLOCKS; block++) {
    const order: Mode[] = block % 2 === 0 ? ['off', 'bare', 'strict'] : ['strict', 'bare', 'off'];
    const row = { floor: floorP50(floorFd, block * 1500 * 600, 1500) } as Record<Mode, number> & { floor: number };
    for (const mode of order) {
      const { client, keyId } = mode === 'strict' ? strict : plain;
      const requests = Array.from({ length: PER_BLOCK + WARMUP }, () =>
        stampedFrame(credential, { op: 'sign_digest', key_id: keyId, digest: Buffer.alloc(32, (digest++ % 250) + 1) }),
      );
      const samples: number[] = [];
      for (let i = 0; i < requests.length; i++) {
        const t = process.hrtime.bigint();
        const answer = await client.request(requests[i]!);
        if (answer.answer.type !== 'signature' || !answer.audit) throw new Error(`sign refused: ${JSON.stringify(answer.answer)}`);
        if (mode === 'strict') await writer.persist(answer.audit);
        else if (mode === 'bare') {
          writeSync(bareFd, answer.audit.record);
          fdatasyncSync(bareFd);
        }
        if (i >= WARMUP) samples.push(Number(process.hrtime.bigint() - t) / 1000);
      }
      row[mode] = p50(samples);
    }
    rows.push(row);
    log(`block ${block + 1}/${BLOCKS}: off ${row.off.toFixed(1)} bare ${row.bare.toFixed(1)} strict ${row.strict.toFixed(1)} floor ${row.floor.toFixed(1)} µs`);
  }
  closeSync(bareFd);
  closeSync(floorFd);
  // The first block warms both enclaves and the writer; the medians leave it out.
  const measured = rows.slice(1);
  const med = (f: (r: (typeof rows)[number]) => number): number => p50(measured.map(f));
  const summary = {
    blocks: rows,
    median: {
      off: med((r) => r.off),
      bare: med((r) => r.bare),
      strict: med((r) => r.strict),
      floor: med((r) => r.floor),
      storeOverBare: med((r) => r.strict - r.bare),
      machineOverFloor: med((r) => r.bare - r.off - r.floor),
      strictExcess: med((r) => r.strict - r.off - r.floor),
    },
  };
  if (json) console.log(JSON.stringify(summary));
  else {
    const m = summary.median;
    console.log(`1-client p50 µs in ${BLOCKS} interleaved blocks of ${PER_BLOCK} (default enclave server; medians leave out block 1):`);
    console.log('  block     off    bare  strict   floor  strict-bare  bare-off-floor');
    rows.forEach((r, i) => {
      const f = (n: number): string => n.toFixed(1).padStart(7);
      console.log(`  ${String(i + 1).padStart(5)} ${f(r.off)} ${f(r.bare)} ${f(r.strict)} ${f(r.floor)}      ${f(r.strict - r.bare)}         ${f(r.bare - r.off - r.floor)}`);
    });
    console.log(`  median: off ${m.off.toFixed(1)}, bare ${m.bare.toFixed(1)}, strict ${m.strict.toFixed(1)}, floor ${m.floor.toFixed(1)}`);
    console.log(`  the store and writer over a bare write + fdatasync: ${m.storeOverBare.toFixed(1)} µs`);
    console.log(`  the machine: bare - off - floor: ${m.machineOverFloor.toFixed(1)} µs`);
    console.log(`  strict - off - floor: ${m.strictExcess.toFixed(1)} µs (issue #11 target: <= 20)`);
  }
} catch (e) {
  log('broke:', e);
  process.exitCode = 1;
} finally {
  if (acking) clearInterval(acking);
  await writer?.stop().catch(() => {});
  for (const c of clients) await c.close();
  for (const e of started) await e.stop();
  rmSync(dir, { recursive: true, force: true });
}
