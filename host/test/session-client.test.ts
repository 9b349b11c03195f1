/**
 * The low-latency path from Node: the N-API `SessionClient` owns the socket and
 * runs the attested Noise session in Rust. The client verifies the boot
 * attestation itself and takes the session key and attestation hash from the
 * verified document, never from the host.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { core, isCoreError } from '../src/core.ts';
import { clientCredential, HAVE_ENCLAVE, SKIP_REASON, startTestEnclave, type TestEnclave } from './helpers.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (isCoreError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a thrown error');
}

maybe('SessionClient (N-API) against the real enclave', () => {
  let enclave: TestEnclave;
  let root: Buffer;
  let sessionKey: Buffer;
  let attestationHash: Buffer;

  beforeAll(async () => {
    enclave = await startTestEnclave();
    root = readFileSync(enclave.process.ready.dev_root_der!);
    // Unverified fetch, then the client's own checks: chain to the root it chose, PCR0, the hash.
    const evidence = core.SessionClient.fetchEvidence(enclave.socketPath);
    const verified = core.verifyAttestation(evidence.attestation, {
      root,
      atMs: Date.now(),
      expect: { pcrs: { '0': enclave.process.ready.pcr0 } },
    });
    expect(verified.rootKind).toBe('other');
    const keys = core.attestedKeys(Buffer.from(verified.publicKey!, 'hex'));
    sessionKey = Buffer.from(keys.sessionKey.replace(/^0x/, ''), 'hex');
    attestationHash = createHash('sha256').update(evidence.attestation).digest();
    expect(attestationHash.equals(evidence.attestationHash)).toBe(true);
  }, 30_000);

  afterAll(async () => {
    await enclave?.dispose();
  });

  it('signs through an authenticated session, and the signature verifies under the key the enclave made', () => {
    const session = core.SessionClient.connect(enclave.socketPath, {
      sessionKey,
      attestationHash,
      credential: clientCredential(enclave),
    });
    const generated = session.call({ op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: 'node-session' }, true);
    expect(generated.answer.type).toBe('key_generated');
    expect(generated.receipt).not.toBeNull();
    if (generated.answer.type !== 'key_generated') throw new Error('unreachable');
    const { key_id: keyId, public_key: publicKey } = generated.answer;
    // The receipt of the session path verifies like a stamped one.
    const receipt = core.verifyReceipt(generated.receipt!, core.SessionClient.fetchEvidence(enclave.socketPath).attestation, {
      root,
      expectedPcr0: enclave.process.ready.pcr0,
    });
    expect(receipt.claims.op).toBe('generate_key');
    expect(receipt.claims.principal).toBe('dev-client');
    expect(receipt.claims.decision).toBe('allowed');

    const digest = randomBytes(32);
    const { signature, recoveryId } = session.signDigest(keyId, digest);
    expect(recoveryId === 0 || recoveryId === 1).toBe(true);
    expect(core.verifyDigest(publicKey, digest, signature)).toBe(true);

    // Refusals come back inside the session, with their code, and do not end it.
    const refused = session.call({ op: 'sign_ethereum_transaction', key_id: keyId, unsigned_tx: Buffer.from([0xc0]) }, false);
    expect(refused.answer).toMatchObject({ type: 'error', code: 'KEY_PURPOSE_MISMATCH' });
    expect(core.verifyDigest(publicKey, digest, session.signDigest(keyId, digest).signature)).toBe(true);

    session.close();
    expect(session.closed).toBe(true);
    expect(codeOf(() => session.signDigest(keyId, digest))).toBe('SESSION_CLOSED');
  });

  it('refuses a handshake bound to another attestation document, and a credential the configuration does not name', () => {
    const other = Buffer.from(attestationHash);
    other[0] = (other[0] ?? 0) ^ 1;
    expect(
      codeOf(() => core.SessionClient.connect(enclave.socketPath, { sessionKey, attestationHash: other, credential: clientCredential(enclave) })),
    ).toBe('SESSION_HANDSHAKE_FAILED');
    const stranger = core.generateCredential('client', 'dev-client', 'ed25519');
    expect(
      codeOf(() => core.SessionClient.connect(enclave.socketPath, { sessionKey, attestationHash, credential: stranger })),
    ).toBe('SESSION_AUTH_FAILED');
  });
});
