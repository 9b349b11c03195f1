/**
 * `zcp audit verify | prove | export` on a real log: made by the real enclave, stored by the
 * audit writer, served by the API. The untouched log verifies (from its directory and over HTTP
 * through the tlog-tiles routes); copies tampered the ways a host could are refused, each with the
 * code naming what was done; proofs check against the signed checkpoint; exports filter by time.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildApp } from '../src/api/app.ts';
import { AuditWriter } from '../src/audit/writer.ts';
import { main } from '../src/cli/main.ts';
import { core } from '../src/core.ts';
import { EnclaveClient } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { stampedJson } from './api-fixture.ts';
import { capture, clientCredential, HAVE_ENCLAVE, SKIP_REASON, startTestEnclave, type TestEnclave } from './helpers.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

/** Byte ranges of the entries of a segment file: header (16 bytes) and record (then maybe the active segment's preallocated zero tail). */
function entries(file: string): Array<{ at: number; end: number }> {
  const bytes = readFileSync(file);
  const out: Array<{ at: number; end: number }> = [];
  for (let at = 0; at < bytes.length && !bytes.subarray(at).every((b) => b === 0); ) {
    const end = at + 16 + bytes.readUInt32BE(at + 8);
    out.push({ at, end });
    at = end;
  }
  return out;
}

maybe('zcp audit', () => {
  let enclave: TestEnclave;
  let sidecar: EnclaveClient;
  let writer: AuditWriter;
  let app: FastifyInstance;
  let url: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-cli-audit-'));
  let root: string;
  let logDir: string;

  async function zcp(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const { out, err } = capture();
    const code = await main(['node', 'zcp', 'audit', ...args]);
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  /** `verify --json` of a copy of the log changed by `tamper`. */
  async function verifyTampered(tamper: (segment: string, dir: string) => void): Promise<{ code: number; error?: { code: string; message: string } }> {
    const copy = mkdtempSync(join(tmpdir(), 'sentinel-cli-audit-copy-'));
    try {
      cpSync(join(dataDir, 'audit'), join(copy, 'audit'), { recursive: true });
      const dir = join(copy, 'audit', 'logs', logDir);
      tamper(join(dir, 'segments', readdirSync(join(dir, 'segments')).sort()[0]!), dir);
      const r = await zcp('verify', '--data-dir', copy, '--root', root, '--allow-dev-root', '--json');
      return { code: r.code, ...(JSON.parse(r.out) as { error?: { code: string; message: string } }) };
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }

  beforeAll(async () => {
    enclave = await startTestEnclave();
    root = enclave.process.ready.dev_root_der!;
    sidecar = new EnclaveClient({ transport: unixTransport(enclave.socketPath) });
    await sidecar.connect();
    writer = await AuditWriter.open(sidecar, { dir: join(dataDir, 'audit') });
    app = buildApp({ enclave: sidecar, audit: writer });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    const credential = clientCredential(enclave);
    const post = async (path: string, op: Parameters<typeof stampedJson>[1]) =>
      (await app.inject({ method: 'POST', url: path, payload: stampedJson(credential, op) })).json();
    const key = await post('/v1/keys/generate', { op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: 'cli-audit' });
    for (let i = 0; i < 12; i++) await post('/v1/sign/digest', { op: 'sign_digest', key_id: key.answer.key_id, digest: Buffer.alloc(32, i + 1) });
    await post('/v1/sign/digest', { op: 'sign_digest', key_id: 'no-such-key', digest: Buffer.alloc(32, 1) });
    await sidecar.request({ op: 'audit_checkpoint' });
    await writer.follow();
    logDir = readdirSync(join(dataDir, 'audit', 'logs'))[0]!;
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    await writer?.stop().catch(() => {});
    await sidecar?.close();
    await enclave?.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('verifies the stored log, binding its key to the attestation document and PCR0', async () => {
    const r = await zcp('verify', '--data-dir', dataDir, '--root', root, '--allow-dev-root', '--pcr0', enclave.process.ready.pcr0, '--json');
    expect(r.code).toBe(0);
    const v = JSON.parse(r.out) as { verified: boolean; logs: Array<{ origin: string; records: number; covered: number; uncovered: number; rootKind: string; pcr0: string }> };
    expect(v.verified).toBe(true);
    expect(v.logs).toHaveLength(1);
    expect(v.logs[0]).toMatchObject({ origin: writer.info.origin, records: writer.store.size, covered: writer.store.size, uncovered: 0, rootKind: 'other' });
    expect(v.logs[0]!.pcr0).toBe(enclave.process.ready.pcr0);
    const text = await zcp('verify', '--data-dir', dataDir, '--root', root, '--allow-dev-root');
    expect(text.code).toBe(0);
    expect(text.out).toContain(`VERIFIED audit log ${writer.info.origin} (key attested under a DEVELOPMENT root`);
    // A development root must be allowed explicitly; another PCR0 is refused.
    expect((await zcp('verify', '--data-dir', dataDir, '--root', root)).err).toContain('DEV_ROOT_NOT_ALLOWED');
    const other = await zcp('verify', '--data-dir', dataDir, '--root', root, '--allow-dev-root', '--pcr0', '11'.repeat(48));
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/^error PCR/m);
  });

  it('verifies the served log through the tlog-tiles routes', async () => {
    const r = await zcp('verify', '--url', url, '--root', root, '--allow-dev-root', '--json');
    expect(r.code).toBe(0);
    const v = JSON.parse(r.out) as { logs: Array<{ records: number; source: string }> };
    expect(v.logs[0]!.records).toBe(writer.store.latestCheckpoint()!.size);
  });

  it('names what a host did to a copy of the log', async () => {
    // A byte of a record changed (the CRC is left as is: the verifier does not trust it either).
    expect(
      (
        await verifyTampered((segment) => {
          const bytes = readFileSync(segment);
          const e = entries(segment)[5]!;
          bytes[e.end - 3] = bytes[e.end - 3]! ^ 0x01;
          writeFileSync(segment, bytes);
        })
      ).error?.code,
    ).toBe('AUDIT_RECORD_MODIFIED');
    // A whole entry cut out of the middle.
    expect(
      (
        await verifyTampered((segment) => {
          const bytes = readFileSync(segment);
          const e = entries(segment)[6]!;
          writeFileSync(segment, Buffer.concat([bytes.subarray(0, e.at), bytes.subarray(e.end)]));
        })
      ).error?.code,
    ).toBe('AUDIT_RECORD_DELETED');
    // Two entries swapped.
    expect(
      (
        await verifyTampered((segment) => {
          const bytes = readFileSync(segment);
          const [a, b] = [entries(segment)[7]!, entries(segment)[8]!];
          writeFileSync(segment, Buffer.concat([bytes.subarray(0, a.at), bytes.subarray(b.at, b.end), bytes.subarray(a.at, a.end), bytes.subarray(b.end)]));
        })
      ).error?.code,
    ).toBe('AUDIT_RECORD_REORDERED');
    // An entry repeated.
    expect(
      (
        await verifyTampered((segment) => {
          const bytes = readFileSync(segment);
          const e = entries(segment)[4]!;
          writeFileSync(segment, Buffer.concat([bytes.subarray(0, e.end), bytes.subarray(e.at, e.end), bytes.subarray(e.end)]));
        })
      ).error?.code,
    ).toBe('AUDIT_RECORD_INSERTED');
    // Records a signed checkpoint covers, cut off the end.
    expect(
      (
        await verifyTampered((segment) => {
          truncateSync(segment, entries(segment)[10]!.at);
        })
      ).error?.code,
    ).toBe('AUDIT_TRUNCATED');
    // A checkpoint's root changed.
    expect(
      (
        await verifyTampered((_segment, dir) => {
          const cps = join(dir, 'checkpoints');
          const file = join(cps, readdirSync(cps).sort().pop()!);
          const lines = readFileSync(file, 'utf8').split('\n');
          lines[2] = Buffer.alloc(32, 7).toString('base64');
          writeFileSync(file, lines.join('\n'));
        })
      ).error?.code,
    ).toBe('AUDIT_CHECKPOINT_SIGNATURE_INVALID');
    // Another key put in log.json: not the attested one.
    expect(
      (
        await verifyTampered((_segment, dir) => {
          const info = JSON.parse(readFileSync(join(dir, 'log.json'), 'utf8'));
          info.verifier_key = info.verifier_key.replace(/\+[^+]+\+/, '+00000000+');
          writeFileSync(join(dir, 'log.json'), JSON.stringify(info));
        })
      ).code,
    ).toBe(1);
  });

  it('proves one record and exports records by time range', async () => {
    const out = join(dataDir, 'proof.txt');
    const proved = await zcp('prove', '--data-dir', dataDir, '--root', root, '--allow-dev-root', '--seq', '5', '--out', out);
    expect(proved.code).toBe(0);
    const [record] = await writer.store.read(5, 1);
    const checkpoint = core.auditVerifyProof(readFileSync(out, 'utf8'), record!, writer.info.verifier_key);
    expect(checkpoint.origin).toBe(writer.info.origin);
    expect((await zcp('prove', '--data-dir', dataDir, '--root', root, '--allow-dev-root', '--seq', '999999', '--out', out)).code).toBe(1);

    const jsonl = join(dataDir, 'export.jsonl');
    expect((await zcp('export', '--data-dir', dataDir, '--root', root, '--allow-dev-root', '--proofs', '--out', jsonl)).code).toBe(0);
    const rows = readFileSync(jsonl, 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            seq: number;
            kind: string;
            time_us: number;
            outcome: string;
            proof?: string;
            record: string;
            rules: Array<{ rule: string; type: string; result: string }>;
            effects: Array<{ op: string; target: string }>;
          },
      );
    expect(rows).toHaveLength(writer.store.size);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i));
    expect(rows.filter((r) => r.outcome === 'denied')).toHaveLength(1);
    for (const r of rows) expect(core.auditVerifyProof(r.proof!, Buffer.from(r.record.slice(2), 'hex'), writer.info.verifier_key).size).toBe(writer.store.latestCheckpoint()!.size);
    // A time range: from the key's creation on (seconds resolution is enough for an ordered check).
    const keyRow = rows.find((r) => r.kind === 'key_created')!;
    const csv = join(dataDir, 'export.csv');
    const from = new Date(keyRow.time_us / 1000).toISOString();
    expect((await zcp('export', '--data-dir', dataDir, '--root', root, '--allow-dev-root', '--format', 'csv', '--from', from, '--out', csv)).code).toBe(0);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('log,seq,time,kind,principal,outcome,code,request_digest,result_digest,leaf_hash,rules,effects');
    expect(lines.length - 1).toBe(rows.filter((r) => r.time_us >= Math.floor(keyRow.time_us / 1000) * 1000).length);
    // Rule results and effects are cells too: each row's name every rule and effect its JSON line has.
    const cells = (line: string): string[] => [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)].map((m) => m[1]!.replace(/^"|"$/g, '').replace(/""/g, '"')).slice(0, 12);
    let withEffects = 0;
    for (const line of lines.slice(1)) {
      const c = cells(line);
      const row = rows.find((r) => r.seq === Number(c[1]))!;
      for (const rule of row.rules) expect(c[10]).toContain(`${rule.rule} (${rule.type}): ${rule.result}`);
      for (const effect of row.effects) expect(c[11]).toContain(`${effect.op} ${effect.target}`);
      if (row.effects.length > 0) withEffects++;
    }
    expect(withEffects).toBeGreaterThan(0);
  });
});
