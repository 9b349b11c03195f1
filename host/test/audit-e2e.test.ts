/**
 * The audit log end to end: the real enclave, the API with the audit writer,
 * signing over HTTP. Shows that in strict mode no answer leaves before its
 * record is durable, that each receipt names the record holding its request
 * and result digests, that the stored log verifies against the enclave's
 * checkpoints with the attested key, and that a failing disk withholds
 * answers (503 AUDIT_STORAGE_UNAVAILABLE), loses nothing, and recovers.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildApp } from '../src/api/app.ts';
import { AuditWriter } from '../src/audit/writer.ts';
import { core } from '../src/core.ts';
import { EnclaveClient } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { stampedJson } from './api-fixture.ts';
import { FaultyIo } from './fixtures/audit-faulty-io.ts';
import { clientCredential, HAVE_ENCLAVE, SKIP_REASON, startTestEnclave, type TestEnclave } from './helpers.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const unhex = (h: string): Buffer => Buffer.from(h.replace(/^0x/, ''), 'hex');

interface Signed {
  status: number;
  json: { answer?: { type: string; code?: string }; receipt?: string; error?: { code: string } };
  body: string;
}

maybe('the audit log through the API', () => {
  let enclave: TestEnclave;
  let sidecar: EnclaveClient;
  let writer: AuditWriter;
  let app: FastifyInstance;
  let credential: string;
  let keyId: string;
  const io = new FaultyIo();
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-audit-e2e-'));
  /** `store.durable` when each response left, by audit seq of its receipt. */
  const durableAtSend = new Map<number, number>();

  async function post(url: string, operation: Parameters<typeof stampedJson>[1]): Promise<Signed> {
    const payload = stampedJson(credential, operation);
    const res = await app.inject({ method: 'POST', url, payload });
    return { status: res.statusCode, json: res.json(), body: payload.body };
  }

  beforeAll(async () => {
    enclave = await startTestEnclave();
    sidecar = new EnclaveClient({ transport: unixTransport(enclave.socketPath) });
    await sidecar.connect();
    writer = await AuditWriter.open(sidecar, { dir, io, retryMs: 20, followMs: 20 });
    writer.start();
    app = buildApp({ enclave: sidecar, audit: writer });
    app.addHook('onSend', async (_request, reply, payload) => {
      if (!String(reply.getHeader('content-type') ?? '').startsWith('application/json')) return payload;
      const receipt = (JSON.parse(String(payload)) as { receipt?: string }).receipt;
      if (receipt) {
        const claims = core.unsafeDecodeReceiptClaims(unhex(receipt));
        if (claims.auditSeq != null) durableAtSend.set(claims.auditSeq, writer.store.durable);
      }
      return payload;
    });
    credential = clientCredential(enclave);
    const generated = await post('/v1/keys/generate', { op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: 'audit-e2e' });
    expect(generated.status).toBe(200);
    keyId = (generated.json.answer as unknown as { key_id: string }).key_id;
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    await writer?.stop().catch(() => {});
    await sidecar?.close();
    await enclave?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('releases each answer only once its record is durable, and the record matches the receipt', async () => {
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        post('/v1/sign/digest', { op: 'sign_digest', key_id: keyId, digest: Buffer.alloc(32, i + 1) }),
      ),
    );
    for (const r of results) {
      expect(r.status).toBe(200);
      const claims = core.unsafeDecodeReceiptClaims(unhex(r.json.receipt!));
      const seq = claims.auditSeq!;
      expect(typeof seq).toBe('number');
      // Strict: when this response was sent, the store had made the record durable.
      expect(durableAtSend.get(seq)).toBeGreaterThan(seq);
      const [record] = await writer.store.read(seq, 1);
      const decoded = core.auditDecodeRecord(record!);
      expect(decoded.seq).toBe(seq);
      expect(decoded.kind).toBe('decision');
      expect(decoded.request_digest).toBe(`0x${sha256(unhex(r.body))}`);
      expect(decoded.result_digest).toBe(claims.resultHash);
      expect(decoded.principal).toBe(claims.principal);
      expect(decoded.decision?.outcome).toBe('allowed');
    }
  });

  it('stores the whole log, checkpoints included, and it verifies with the attested audit key', async () => {
    await writer.follow();
    await sidecar.request({ op: 'audit_checkpoint' });
    await writer.follow();
    const size = writer.store.size;
    const records = await writer.store.read(0, size);
    const checkpoints = (await writer.store.checkpoints()).map((c) => c.note);
    expect(checkpoints.length).toBeGreaterThan(0);
    const report = core.auditVerifyLog(records, checkpoints, writer.info.verifier_key);
    expect(report.records).toBe(size);
    expect(report.covered).toBe(size);
    // The verifier key is the audit key in the attestation document's key bundle.
    const evidence = await sidecar.request({ op: 'describe' });
    const auditKey = Buffer.from(evidence.attested_keys).subarray(97, 129);
    // `<origin>+<8 hex id>+<base64>`: the base64 may itself hold '+'.
    const b64 = writer.info.verifier_key.split('+').slice(2).join('+');
    expect(Buffer.from(b64, 'base64').subarray(1).equals(auditKey)).toBe(true);
    // The first records are the admin actions of the boot: configuration, policy, resume.
    expect(records.slice(0, 3).map((r) => core.auditDecodeRecord(r).kind)).toEqual(['config', 'policy', 'resume']);
  });

  it('serves the log in the tlog-tiles layout, with proofs that verify against the signed checkpoint', async () => {
    await sidecar.request({ op: 'audit_checkpoint' });
    await writer.follow();
    const info = (await app.inject({ method: 'GET', url: '/v1/audit/log' })).json();
    expect(info.origin).toBe(writer.info.origin);
    expect(info.verifierKey).toBe(writer.info.verifier_key);
    const note = (await app.inject({ method: 'GET', url: '/v1/audit/checkpoint' })).body;
    const checkpoint = core.auditOpenCheckpoint(Buffer.from(note), info.verifierKey);
    expect(checkpoint.size).toBe(info.checkpointSize);
    const size = checkpoint.size;
    // The one (partial) entry bundle and level-0 tile of this small log.
    const bundle = await app.inject({ method: 'GET', url: `/v1/audit/tile/entries/000.p/${size}` });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['content-type']).toBe('application/octet-stream');
    const records: Buffer[] = [];
    for (let at = 0; at < bundle.rawPayload.length; ) {
      const len = bundle.rawPayload.readUInt16BE(at);
      records.push(bundle.rawPayload.subarray(at + 2, at + 2 + len));
      at += 2 + len;
    }
    expect(records).toHaveLength(size);
    expect(core.auditVerifyLog(records, [Buffer.from(note)], info.verifierKey).covered).toBe(size);
    const tile = await app.inject({ method: 'GET', url: `/v1/audit/tile/0/000.p/${size}` });
    expect(tile.rawPayload.length).toBe(32 * size);
    expect(`0x${tile.rawPayload.subarray(0, 32).toString('hex')}`).toBe(core.auditLeafHash(records[0]!));
    // Beyond the checkpoint: not served. A malformed path: a coded error.
    expect((await app.inject({ method: 'GET', url: `/v1/audit/tile/0/000.p/${size + 1}` })).json().error.code).toBe('AUDIT_TILE_NOT_FOUND');
    expect((await app.inject({ method: 'GET', url: '/v1/audit/tile/0/1' })).statusCode).toBeGreaterThanOrEqual(400);
    // A tlog-proof of one record verifies against that checkpoint.
    const proof = (await app.inject({ method: 'GET', url: `/v1/audit/proof/${size - 1}` })).body;
    expect(core.auditVerifyProof(proof, records[size - 1]!, info.verifierKey)).toEqual(checkpoint);
    expect((await app.inject({ method: 'GET', url: `/v1/audit/proof/${size}` })).json().error.code).toBe('AUDIT_RECORD_NOT_FOUND');
  });

  it('withholds answers while the disk fails, then resumes; no record is lost', async () => {
    io.inject({ op: 'fdatasync', code: 'ENOSPC', path: '.seg' });
    const refused = await post('/v1/sign/digest', { op: 'sign_digest', key_id: keyId, digest: Buffer.alloc(32, 0x51) });
    expect(refused.status).toBe(503);
    expect(refused.json.error?.code).toBe('AUDIT_STORAGE_UNAVAILABLE');
    expect(JSON.stringify(refused.json)).not.toContain('signature');
    // While the store is failing, signing requests are refused before they reach the enclave.
    const before = (await sidecar.request({ op: 'audit_read', from: writer.store.size as never, max: 0 as never })).size;
    const again = await post('/v1/sign/digest', { op: 'sign_digest', key_id: keyId, digest: Buffer.alloc(32, 0x52) });
    expect(again.json.error?.code).toBe('AUDIT_STORAGE_UNAVAILABLE');
    const after = (await sidecar.request({ op: 'audit_read', from: writer.store.size as never, max: 0 as never })).size;
    expect(Number(after)).toBe(Number(before));

    io.clear();
    const deadline = Date.now() + 5_000;
    while (writer.failure() !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(writer.failure()).toBeNull();
    const ok = await post('/v1/sign/digest', { op: 'sign_digest', key_id: keyId, digest: Buffer.alloc(32, 0x53) });
    expect(ok.status).toBe(200);
    // The withheld answer's record (the enclave decided and recorded it) is in the store too.
    await writer.follow();
    const records = await writer.store.read(0, writer.store.size);
    const digests = records.map((r) => core.auditDecodeRecord(r).request_digest);
    expect(digests).toContain(`0x${sha256(unhex(refused.body))}`);
    const checkpoints = (await writer.store.checkpoints()).map((c) => c.note);
    core.auditVerifyLog(records, checkpoints, writer.info.verifier_key);
  });
});
