/**
 * The trust path end to end: the real local enclave (simulated NSM, development
 * configuration), the API on a real port, and the SDK client (`@sentinel/client`),
 * which trusts only the attestation document and the receipts, never the host.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type SentinelClient } from '@sentinel/client';

import { buildApp } from '../src/api/app.ts';
import { SAMPLE_UNSIGNED_TX } from '../src/cli/demo.ts';
import { core } from '../src/core.ts';
import { EnclaveClient } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { clientCredential, EIP712_MAIL, HAVE_ENCLAVE, SKIP_REASON, startTestEnclave, type TestEnclave } from './helpers.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

const unhex = (hex: string): Buffer => Buffer.from(hex.replace(/^0x/, ''), 'hex');

async function refusal(promise: Promise<unknown>): Promise<{ code?: string; message: string; receipt?: { verified: { claims: { decision: string; code: string | null } } } }> {
  try {
    await promise;
  } catch (e) {
    return e as never;
  }
  throw new Error('expected a refusal');
}

maybe('stamped requests through the API to the real enclave', () => {
  let enclave: TestEnclave;
  let sidecar: EnclaveClient;
  let app: FastifyInstance;
  let url: string;
  let client: SentinelClient;
  let root: Buffer;
  /** Every request body the host received, as text. */
  const seen: string[] = [];

  beforeAll(async () => {
    enclave = await startTestEnclave();
    sidecar = new EnclaveClient({ transport: unixTransport(enclave.socketPath) });
    await sidecar.connect();
    app = buildApp({ enclave: sidecar });
    app.addHook('preHandler', async (request) => {
      if (request.body !== undefined) seen.push(JSON.stringify(request.body));
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
    root = readFileSync(enclave.process.ready.dev_root_der!);
    client = await createClient({ url, credentials: clientCredential(enclave), root, expectedPcr0: enclave.process.ready.pcr0 });
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    await sidecar?.close();
    await enclave?.dispose();
  });

  it('verifies the evidence: the attested configuration is the one the enclave booted with', () => {
    expect(client.principal).toBe('dev-client');
    expect(client.evidence.configHash).toBe(`0x${enclave.process.ready.config_hash}`);
    expect(client.evidence.attestedKeys.importKey).toMatch(/^0x[0-9a-f]{64}$/);
    expect(`02${client.evidence.attestedKeys.receiptKey.slice(2)}`).toBe(enclave.process.ready.attested_keys.slice(0, 66));
  });

  it('generates a key and signs a digest, with verified receipts', async () => {
    const key = await client.generateKey({ curve: 'secp256k1', purpose: 'raw', label: 'e2e-raw' });
    expect(key.verified.claims.decision).toBe('allowed');
    expect(key.verified.claims.op).toBe('generate_key');
    expect(key.verified.claims.principal).toBe('dev-client');
    const digest = core.keccak256(Buffer.from('stamped e2e'));
    const signed = await client.signDigest(key.keyId, digest);
    expect(core.verifyDigest(unhex(key.publicKey), digest, unhex(signed.signature))).toBe(true);
    expect(signed.verified.claims.keyId).toBe(key.keyId);
    expect(signed.verified.claims.configHash).toBe(client.evidence.configHash);

    const listed = await client.listKeys();
    expect(listed.keys.map((k) => k.keyId)).toContain(key.keyId);
  });

  it('signs an EIP-1559 transaction that recovers to the key', async () => {
    const key = await client.generateKey({ curve: 'secp256k1', purpose: 'ethereum', label: 'e2e-eth' });
    const { raw, hash, verified } = await client.signTransaction(key.keyId, Buffer.from(SAMPLE_UNSIGNED_TX, 'hex'));
    expect(verified.claims.op).toBe('sign_ethereum_transaction');
    expect(raw).toMatch(/^0x[0-9a-f]+$/);
    expect(hash).toBe(`0x${core.keccak256(unhex(raw)).toString('hex')}`);
    const recovered = core.recoverEthereumTransactionSigner(unhex(raw));
    expect(recovered.transaction.kind).toBe('eip1559');
    expect(recovered.signer).toBe(key.address);

    const message = Buffer.from('hello from e2e');
    const personal = await client.signMessage(key.keyId, message);
    const digest = core.hashPersonalMessage(message);
    expect(core.recoverPublicKey(digest, unhex(personal.signature).subarray(0, 64), personal.recoveryId).equals(unhex(key.publicKey))).toBe(true);
  });

  it('EIP-712 through the enclave: the EIP\'s own Mail example, signed by an imported keccak256("cow") key, gives the EIP\'s r, s and v', async () => {
    // EIPS/eip-712.md and its Example.js: privateKey = keccak256('cow'); r, s and v from the vector file.
    const mail = EIP712_MAIL.typedData;
    const cow = core.keccak256(Buffer.from('cow'));
    const key = await client.importKey({ curve: 'secp256k1', purpose: 'ethereum', label: 'eip712-cow', secretKey: cow });
    cow.fill(0);
    expect(key.address).toBe(EIP712_MAIL.signerAddress);
    const signed = await client.signTypedData(key.keyId, mail);
    expect(signed.r).toBe(EIP712_MAIL.r);
    expect(signed.s).toBe(EIP712_MAIL.s);
    expect(27 + signed.recoveryId).toBe(EIP712_MAIL.v);
    expect(signed.signature).toBe(`${signed.r}${signed.s.slice(2)}1c`);
    expect(signed.verified.claims.op).toBe('sign_typed_data');
    // An `ethereum` key never signs a raw digest, so policy cannot be bypassed through one.
    const refused = await refusal(client.signDigest(key.keyId, core.hashTypedData(JSON.stringify(mail))));
    expect(refused.code).toBe('KEY_PURPOSE_MISMATCH');
  });

  it('imports a key sealed with HPKE: the host never sees the secret', async () => {
    let secret: Buffer;
    do secret = randomBytes(32);
    while ((() => { try { core.publicKeyFromSecret(secret); return false; } catch { return true; } })());
    const secretHex = secret.toString('hex');
    const expectedPublic = core.publicKeyFromSecret(secret, true);
    const before = seen.length;
    const key = await client.importKey({ curve: 'secp256k1', purpose: 'raw', label: 'e2e-imported', secretKey: secret });
    expect(key.publicKey).toBe(`0x${expectedPublic.toString('hex')}`);
    expect(key.verified.claims.op).toBe('import_key');
    const digest = core.keccak256(Buffer.from('imported'));
    const signed = await client.signDigest(key.keyId, digest);
    expect(core.verifyDigest(expectedPublic, digest, unhex(signed.signature))).toBe(true);
    const bodies = seen.slice(before);
    expect(bodies.length).toBeGreaterThanOrEqual(2);
    for (const body of bodies) expect(body.toLowerCase()).not.toContain(secretHex);
    secret.fill(0);
  });

  it('refuses an unstamped body with STAMP_MISSING, and proves it with a receipt', async () => {
    const { answer, verified } = await client.send({ op: 'generate_key', curve: 'ed25519', purpose: 'raw', label: 'nope' }, { stamp: false, route: '/v1/stamped' });
    expect(answer.type).toBe('error');
    expect(answer.code).toBe('STAMP_MISSING');
    expect(verified.claims.decision).toBe('denied');
    expect(verified.claims.code).toBe('STAMP_MISSING');
    // The raw HTTP status of that refusal.
    const body = core.encodeBody({ op: 'list_keys' } as never);
    const res = await fetch(`${url}/v1/stamped`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: `0x${body.toString('hex')}` }),
    });
    expect(res.status).toBe(401);
    const json = (await res.json()) as { answer: { code: string }; receipt: string };
    expect(json.answer.code).toBe('STAMP_MISSING');
    expect(json.receipt).toMatch(/^0x[0-9a-f]+$/);
  });

  it('refuses a credential the configuration does not know', async () => {
    const stranger = core.generateCredential('client', 'dev-client', 'ed25519');
    const other = await createClient({ url, credentials: stranger, root, expectedPcr0: enclave.process.ready.pcr0 });
    const refused = await refusal(other.generateKey({ curve: 'ed25519', purpose: 'raw', label: 'x' }));
    expect(['UNKNOWN_PRINCIPAL', 'STAMP_SIGNATURE_INVALID']).toContain(refused.code);
    expect(refused.receipt?.verified.claims.decision).toBe('denied');

    const unknown = core.generateCredential('client', 'mallory', 'ed25519');
    const mallory = await createClient({ url, credentials: unknown, root, expectedPcr0: enclave.process.ready.pcr0 });
    expect((await refusal(mallory.listKeys())).code).toBe('UNKNOWN_PRINCIPAL');
  });

  it('refuses to trust evidence for another PCR0 or configuration', async () => {
    const pcr0 = enclave.process.ready.pcr0;
    const wrongPcr0 = `${pcr0.slice(0, -2)}${pcr0.endsWith('00') ? '01' : '00'}`;
    const wrong = await refusal(createClient({ url, credentials: clientCredential(enclave), root, expectedPcr0: wrongPcr0 }));
    expect(wrong.code).toBe('PCR_MISMATCH');
    const otherConfig = await refusal(
      createClient({ url, credentials: clientCredential(enclave), root, expectedPcr0: pcr0, expectedConfigHash: '00'.repeat(32) }),
    );
    expect(otherConfig.code).toBe('CONFIG_HASH_MISMATCH');
  });

  it('rejects an answer the host altered: its receipt no longer matches', async () => {
    const key = await client.generateKey({ curve: 'ed25519', purpose: 'raw', label: 'e2e-tamper' });
    // A host that flips a byte of every signature it relays.
    const tampering: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith('/v1/sign/digest')) return res;
      const json = (await res.json()) as { answer: { signature?: string } };
      if (json.answer.signature) json.answer.signature = `0x${json.answer.signature.slice(2, 4) === 'ff' ? '00' : 'ff'}${json.answer.signature.slice(4)}`;
      return new Response(JSON.stringify(json), { status: res.status, headers: { 'content-type': 'application/json' } });
    };
    const fooled = await createClient({ url, credentials: clientCredential(enclave), root, expectedPcr0: enclave.process.ready.pcr0, fetch: tampering });
    expect((await refusal(fooled.signDigest(key.keyId, Buffer.alloc(32, 1)))).code).toBe('RECEIPT_MISMATCH');
  });
});

maybe('the enclave refreshes its boot attestation; the stamped client follows', () => {
  let enclave: TestEnclave;
  let sidecar: EnclaveClient;
  let app: FastifyInstance;

  beforeAll(async () => {
    // Every second here (the default is hourly: leaf certificates are valid ~3 hours).
    enclave = await startTestEnclave({ evidenceRefreshSecs: 1 });
    sidecar = new EnclaveClient({ transport: unixTransport(enclave.socketPath) });
    await sidecar.connect();
    app = buildApp({ enclave: sidecar });
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    await sidecar?.close();
    await enclave?.dispose();
  });

  it('a receipt naming a newer document makes the client fetch and verify that document, then accept the receipt', async () => {
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const root = readFileSync(enclave.process.ready.dev_root_der!);
    const client = await createClient({ url, credentials: clientCredential(enclave), root, expectedPcr0: enclave.process.ready.pcr0 });
    const first = client.evidence.attestationHash;
    const key = await client.generateKey({ curve: 'ed25519', purpose: 'raw', label: 'refresh' });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const signed = await client.signDigest(key.keyId, randomBytes(32));
    expect(client.evidence.attestationHash).not.toBe(first);
    expect(signed.verified.claims.attestationHash).toBe(client.evidence.attestationHash);
    expect(client.evidence.configHash).toBe(`0x${enclave.process.ready.config_hash}`);
  }, 20_000);
});
