import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SAMPLE_UNSIGNED_TX } from '../src/cli/demo.ts';
import { core } from '../src/core.ts';
import type { OperationAnswerOf, OperationName } from '@sentinel/node/protocol';

import { EnclaveClient, type Operation, type Request } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { clientCredential, HAVE_ENCLAVE, SKIP_REASON, stampedFrame, startTestEnclave, type TestEnclave } from './helpers.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}

/** Sends `operation` stamped and returns its (successful) answer. */
async function stamped<O extends OperationName>(
  client: EnclaveClient,
  credential: string,
  operation: Extract<Operation, { op: O }>,
  type: OperationAnswerOf<O>['type'],
): Promise<OperationAnswerOf<O>> {
  const { answer } = await client.request(stampedFrame(credential, operation));
  if (answer.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(answer)}`);
  return answer as OperationAnswerOf<O>;
}

maybe('EnclaveClient against the real enclave', () => {
  let enclave: TestEnclave;
  let client: EnclaveClient;

  beforeAll(async () => {
    enclave = await startTestEnclave();
    client = new EnclaveClient({ transport: unixTransport(enclave.socketPath), backoff: { initialMs: 10, maxMs: 100 } });
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await enclave?.dispose();
  });

  it('round-trips ping and describe', async () => {
    const payload = Buffer.from('sentinel ping');
    const pong = await client.request({ op: 'ping', payload });
    expect(pong.payload.equals(payload)).toBe(true);

    const described = await client.request({ op: 'describe' });
    expect(described.protocol_version).toBe(2);
    expect(described.pcrs).toHaveLength(3);
    expect(described.pcrs[0]!.toString('hex')).toBe(enclave.process.ready.pcr0);
    expect(described.attested_keys.toString('hex')).toBe(enclave.process.ready.attested_keys);
  });

  it('gets an attestation document that verifies against the dev root and carries our nonce', async () => {
    const nonce = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const { document } = await client.request({ op: 'attest', nonce });
    const { readFileSync } = await import('node:fs');
    const root = readFileSync(enclave.process.ready.dev_root_der!);
    const verified = core.verifyAttestation(document, {
      root,
      atMs: Date.now(),
      expect: { nonce: nonce.toString('hex'), pcrs: { '0': enclave.process.ready.pcr0 } },
    });
    expect(verified.rootKind).toBe('other');
    expect(verified.publicKey).toBe(enclave.process.ready.attested_keys);
    const { config_hash: configHash, policy_hash: policyHash } = enclave.process.ready;
    expect(verified.userData).toBe(`03${configHash}${policyHash ?? '00'.repeat(32)}`);
  });

  it('serves the evidence: the boot document and the configuration it was started with', async () => {
    const evidence = await client.request({ op: 'evidence' });
    expect(evidence.config_hash.toString('hex')).toBe(enclave.process.ready.config_hash);
    const { readFileSync } = await import('node:fs');
    expect(evidence.signed_config.equals(readFileSync(enclave.dev.configPath))).toBe(true);
  });

  it('generates keys and signs digests with both curves, in stamped frames', async () => {
    const credential = clientCredential(enclave);
    const digest = core.keccak256(Buffer.from('hello'));
    const k1 = await stamped(client, credential, { op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: 'k1' }, 'key_generated');
    expect(k1.curve).toBe('secp256k1');
    const sig = await stamped(client, credential, { op: 'sign_digest', key_id: k1.key_id, digest }, 'signature');
    expect(sig.signature).toHaveLength(64);
    expect(core.verifyDigest(k1.public_key, digest, sig.signature)).toBe(true);
    expect(core.recoverPublicKey(digest, sig.signature, sig.recovery_id!).equals(k1.public_key)).toBe(true);

    const ed = await stamped(client, credential, { op: 'generate_key', curve: 'ed25519', purpose: 'raw', label: 'ed' }, 'key_generated');
    const edSig = await stamped(client, credential, { op: 'sign_digest', key_id: ed.key_id, digest }, 'signature');
    expect(edSig.recovery_id).toBeNull();
    expect(core.verifyEd25519(ed.public_key, digest, edSig.signature)).toBe(true);
  });

  it('signs an Ethereum transaction that recovers to the key', async () => {
    const credential = clientCredential(enclave);
    const key = await stamped(client, credential, { op: 'generate_key', curve: 'secp256k1', purpose: 'ethereum', label: 'eth' }, 'key_generated');
    const unsignedTx = Buffer.from(SAMPLE_UNSIGNED_TX, 'hex');
    const { raw } = await stamped(client, credential, { op: 'sign_ethereum_transaction', key_id: key.key_id, unsigned_tx: unsignedTx }, 'signed_transaction');
    const recovered = core.recoverEthereumTransactionSigner(raw);
    expect(recovered.signer).toBe(core.ethereumAddress(key.public_key));
  });

  it('answers refusals inside a receipted answer, with the enclave code', async () => {
    const credential = clientCredential(enclave);
    const refused = async (frame: Extract<Request, { op: 'stamped' }>): Promise<string> => {
      const { answer, receipt } = await client.request(frame);
      expect(receipt.length).toBeGreaterThan(0);
      expect(answer.type).toBe('error');
      return answer.type === 'error' ? answer.code : '';
    };
    expect(await refused(stampedFrame(null, { op: 'list_keys' } as Operation))).toBe('STAMP_MISSING');
    expect(await refused(stampedFrame(credential, { op: 'sign_digest', key_id: 'k-nope', digest: Buffer.alloc(32) }))).toBe('UNKNOWN_KEY');
    const ed = await stamped(client, credential, { op: 'generate_key', curve: 'ed25519', purpose: 'raw', label: 'ed2' }, 'key_generated');
    expect(
      await refused(stampedFrame(credential, { op: 'sign_ethereum_transaction', key_id: ed.key_id, unsigned_tx: Buffer.from(SAMPLE_UNSIGNED_TX, 'hex') })),
    ).toMatch(/^KEY_(CURVE|PURPOSE)_MISMATCH$/);
    expect(await refused(stampedFrame(credential, { op: 'sign_digest', key_id: ed.key_id, digest: Buffer.alloc(31) }))).toBe('INVALID_DIGEST_LENGTH');
    const stranger = core.generateCredential('client', 'mallory', 'ed25519');
    expect(await refused(stampedFrame(stranger, { op: 'list_keys' } as Operation))).toBe('UNKNOWN_PRINCIPAL');
    // The connection survives error answers.
    expect(client.state).toBe('connected');
  });

  it('pipelines 1000 concurrent requests and matches every answer to its request', async () => {
    const payloads = Array.from({ length: 1000 }, (_, i) => Buffer.from(`payload-${i}-${'x'.repeat(i % 97)}`));
    const answers = await Promise.all(payloads.map((payload) => client.request({ op: 'ping', payload })));
    answers.forEach((answer, i) => expect(answer.payload.equals(payloads[i]!)).toBe(true));
    const ids = answers.map((a) => a.id);
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids); // ids increase in call order
    expect(client.inFlight).toBe(0);
  });

  it('queues callers past the in-flight cap and answers all of them', async () => {
    const small = new EnclaveClient({ transport: unixTransport(enclave.socketPath), maxInFlight: 8, maxQueued: 1000 });
    await small.connect();
    try {
      const all = Array.from({ length: 200 }, (_, i) => small.request({ op: 'ping', payload: Buffer.from([i]) }));
      expect(small.inFlight).toBe(8);
      expect(small.queued).toBe(192);
      const answers = await Promise.all(all);
      answers.forEach((a, i) => expect(a.payload[0]).toBe(i));
      expect(small.queued).toBe(0);
    } finally {
      await small.close();
    }
  });

  it('rejects with ENCLAVE_BUSY past the queue cap', async () => {
    const small = new EnclaveClient({ transport: unixTransport(enclave.socketPath), maxInFlight: 2, maxQueued: 3 });
    await small.connect();
    try {
      const accepted = Array.from({ length: 5 }, () => small.request({ op: 'ping', payload: Buffer.from('a') }));
      const busy = await rejection(small.request({ op: 'ping', payload: Buffer.from('b') }));
      expect(busy.code).toBe('ENCLAVE_BUSY');
      expect(await Promise.all(accepted)).toHaveLength(5);
    } finally {
      await small.close();
    }
  });

  it('rejects bad arguments in the codec, before anything is sent', async () => {
    // TypeScript refuses these at compile time (test/types/sidecar-requests.ts); an untyped caller meets the codec.
    const untyped = (request: unknown): Request => request as Request;
    const badCurve = client.request(untyped({ op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: 'x' }));
    expect(client.inFlight).toBe(0);
    expect((await rejection(badCurve)).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(client.request(untyped({ op: 'stamped', body: Buffer.from('a0', 'hex'), stamp: 'not a stamp' })))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(client.request(untyped({ op: 'sign_digest', key_id: 'k' })))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(client.request(untyped({ op: 'launch_missiles' })))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(client.request(untyped({ op: 'describe', extra: true })))).code).toBe('INVALID_ARGUMENT');
    expect(client.inFlight).toBe(0);
  });
});

describe('the stamped fast path of the codec', () => {
  it('encodeStampedRequest writes the bytes encodeRequest writes, and refuses what it refuses', () => {
    const body = core.encodeBody({ op: 'list_keys' });
    const stamp = { principal: 'dev-client', timestamp_us: 1_700_000_000_000_000, nonce: Buffer.alloc(16, 1), signature: Buffer.alloc(64, 2) };
    const generic = (s: unknown) => core.encodeRequest(9, { op: 'stamped', body, stamp: s } as Request);
    expect(core.encodeStampedRequest(9, body, stamp).equals(generic(stamp))).toBe(true);
    expect(core.encodeStampedRequest(9, body, null).equals(generic(null))).toBe(true);
    expect(core.encodeStampedRequest(2 ** 53 - 1, body, { ...stamp, timestamp_us: 0 }).length).toBeGreaterThan(body.length);
    const code = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return (e as { code?: unknown }).code;
      }
      return 'no error';
    };
    for (const timestamp_us of [1.5, -1, 2 ** 53, Number.NaN]) {
      expect(code(() => core.encodeStampedRequest(9, body, { ...stamp, timestamp_us })), String(timestamp_us)).toBe('INVALID_ARGUMENT');
    }
    // The sidecar takes the fast path for safe integers only; anything else meets the generic codec, as before.
    expect(code(() => generic({ ...stamp, timestamp_us: 1.5 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => core.encodeStampedRequest(-1, body, stamp))).toBe('INVALID_ARGUMENT');
    const { signature: _, ...unsigned } = stamp;
    expect(code(() => core.encodeStampedRequest(9, body, unsigned as typeof stamp))).toBe('INVALID_ARGUMENT');
  });
});

maybe('EnclaveClient failure handling', () => {
  it('times out a request the peer never answers, and cleans up', async () => {
    // A peer that accepts and reads but never answers: the enclave always answers, so it cannot test this.
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = join(mkdtempSync(join(tmpdir(), 'sentinel-silent-')), 's.sock');
    const server = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const client = new EnclaveClient({ transport: () => createConnection({ path }), timeoutMs: 50 });
    await client.connect();
    const started = Date.now();
    const timedOut = await rejection(client.request({ op: 'ping', payload: Buffer.from('?') }));
    expect(timedOut.code).toBe('ENCLAVE_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(client.inFlight).toBe(0);
    const perCall = await rejection(client.request({ op: 'ping', payload: Buffer.from('?') }, { timeoutMs: 10 }));
    expect(perCall.code).toBe('ENCLAVE_TIMEOUT');
    await client.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('rejects an answer of another type than the operation declares', async () => {
    // A peer that answers every request with `{v:2, id:1, type:"pong", payload:h''}`.
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = join(mkdtempSync(join(tmpdir(), 'sentinel-wrong-')), 's.sock');
    const pong = Buffer.from('a461760262696401647479706564706f6e67677061796c6f616440', 'hex');
    const frame = Buffer.concat([Buffer.from([0, 0, 0, pong.length]), pong]);
    const server = createServer((socket) => socket.once('data', () => socket.write(frame)));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const client = new EnclaveClient({ transport: () => createConnection({ path }) });
    await client.connect();
    const wrong = await rejection(client.request({ op: 'describe' }));
    expect(wrong.code).toBe('UNEXPECTED_RESPONSE');
    expect(wrong.message).toContain('`description`');
    await client.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('rejects every pending request when the connection drops, and never re-sends them', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = join(mkdtempSync(join(tmpdir(), 'sentinel-drop-')), 's.sock');
    let received = 0;
    let connections = 0;
    const peers: import('node:net').Socket[] = [];
    const server = createServer((socket) => {
      connections++;
      peers.push(socket);
      socket.on('data', (chunk) => (received += chunk.length));
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const client = new EnclaveClient({ transport: () => createConnection({ path }), backoff: { initialMs: 5, maxMs: 20 } });
    await client.connect();
    const pending = Array.from({ length: 50 }, () => client.request({ op: 'ping', payload: Buffer.from('p') }));
    expect(client.inFlight).toBe(50);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const sentBefore = received;
    expect(sentBefore).toBeGreaterThan(0);
    const reconnected = new Promise((resolve) => client.once('connect', resolve));
    peers[0]!.destroy();
    const outcomes = await Promise.allSettled(pending);
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason.code === 'ENCLAVE_UNAVAILABLE')).toBe(true);
    expect(client.inFlight).toBe(0);
    await reconnected;
    expect(connections).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received).toBe(sentBefore); // nothing replayed on the new connection
    await client.close();
    for (const peer of peers) peer.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('rejects with ENCLAVE_UNAVAILABLE when not connected', async () => {
    const client = new EnclaveClient({ transport: () => createConnection({ path: '/nonexistent/sentinel.sock' }) });
    expect((await rejection(client.request({ op: 'describe' }))).code).toBe('ENCLAVE_UNAVAILABLE');
    expect((await rejection(client.connect(200))).code).toBe('ENCLAVE_UNAVAILABLE');
    await client.close();
    expect((await rejection(client.request({ op: 'describe' }))).code).toBe('ENCLAVE_UNAVAILABLE');
  });

  it('rejects pending requests when the enclave goes away, then reconnects once it is back', async () => {
    const enclave = await startTestEnclave();
    const client = new EnclaveClient({ transport: unixTransport(enclave.socketPath), backoff: { initialMs: 10, maxMs: 200 } });
    try {
      await client.connect();
      const credential = clientCredential(enclave);
      const key = await stamped(client, credential, { op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: 'gone' }, 'key_generated');
      const disconnected = new Promise((resolve) => client.once('disconnect', resolve));
      // Many requests in flight while the enclave is stopped: each must be rejected, none resolved or left hanging.
      const pending = Array.from({ length: 200 }, () =>
        client.request(stampedFrame(credential, { op: 'sign_digest', key_id: key.key_id, digest: Buffer.alloc(32, 7) }), { timeoutMs: 10_000 }),
      );
      const settled = Promise.allSettled(pending);
      await enclave.process.stop();
      await disconnected;
      const outcomes = await settled;
      const rejected = outcomes.filter((o) => o.status === 'rejected');
      // Some may have been answered before the stop; the rest fail with ENCLAVE_UNAVAILABLE, not a timeout.
      for (const r of rejected) expect((r as PromiseRejectedResult).reason.code).toBe('ENCLAVE_UNAVAILABLE');
      expect(client.inFlight).toBe(0);
      expect((await rejection(client.request({ op: 'describe' }))).code).toBe('ENCLAVE_UNAVAILABLE');

      const reconnected = new Promise((resolve) => client.once('connect', resolve));
      const restarted = await enclave.restart();
      await reconnected;
      const described = await client.request({ op: 'describe' });
      expect(described.pcrs[0]!.toString('hex')).toBe(restarted.ready.pcr0);
      // Keys live in enclave memory: the old key is gone with the old enclave.
      const { answer } = await client.request(stampedFrame(credential, { op: 'sign_digest', key_id: key.key_id, digest: Buffer.alloc(32) }));
      expect(answer).toMatchObject({ type: 'error', code: 'UNKNOWN_KEY' });
    } finally {
      await client.close();
      await enclave.dispose();
    }
  });

  it('drops the connection on a corrupt stream and rejects what was pending', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = join(mkdtempSync(join(tmpdir(), 'sentinel-corrupt-')), 's.sock');
    // Answers every request with a length prefix over the 1 MiB cap.
    const server = createServer((socket) => socket.once('data', () => socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff]))));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const client = new EnclaveClient({ transport: () => createConnection({ path }), backoff: { initialMs: 1000 } });
    await client.connect();
    const protocolError = new Promise<Error>((resolve) => client.once('protocolError', resolve));
    const failed = await rejection(client.request({ op: 'ping', payload: Buffer.from('x') }));
    expect(failed.code).toBe('ENCLAVE_UNAVAILABLE');
    expect(((await protocolError) as Error & { code?: string }).code).toBe('FRAME_TOO_LARGE');
    await client.close();
    await new Promise((resolve) => server.close(resolve));
  });
});
