/**
 * Strict audit on the session path, end to end: `zcp up` in its default
 * strict mode starts the enclave with `--audit-strict-sessions`, and its audit
 * writer follows the log with `audit_wait` on a connection of its own. A
 * client with an attested session straight on the enclave's socket (the
 * native `SessionClient`, the trading desks' path, no API in between) gets
 * each signature only once the writer acknowledged its record (after the
 * fsync): by the time an answer is in the client's hands, the record its
 * receipt names is already in the store, with the same digests, for every
 * one of them. (That the enclave
 * holds an answer until the acknowledgement is `enclave/tests/strict_sessions.rs`.)
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { logDirs, readStoredLog } from '../src/audit/read-log.ts';
import { core } from '../src/core.ts';
import { HAVE_ENCLAVE, runZcp, SKIP_REASON } from './helpers.ts';
import { startUp, stopStack, type Up } from './zcp-up-fixture.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

maybe('strict audit on the session path', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'zcp-sessions-'));
  let up: Up | undefined;
  afterAll(async () => {
    if (up) await stopStack(up);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('releases every session signature only once its record is stored', async () => {
    up = await startUp(dataDir);
    const stack = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as { enclaveSocket: string; clientKeyPath: string };
    const evidence = core.SessionClient.fetchEvidence(stack.enclaveSocket);
    const session = core.SessionClient.connect(stack.enclaveSocket, {
      sessionKey: evidence.sessionKey,
      attestationHash: evidence.attestationHash,
      credential: readFileSync(stack.clientKeyPath, 'utf8'),
    });
    try {
      // Keys are sealed on this stack: a session may not create one (its sealed record would reach
      // only the raw relay); the key is made over the API, and the session signs with it.
      const refused = session.call({ op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: 'desk' }, true);
      expect(refused.answer).toMatchObject({ type: 'error', code: 'SESSION_KEY_CREATION_REFUSED' });
      const made = await runZcp('keys', 'generate', '--data-dir', dataDir, '--curve', 'secp256k1', '--purpose', 'raw', '--label', 'desk', '--json');
      expect(made.code, made.err).toBe(0);
      const keyId = (JSON.parse(made.out) as { keyId: string }).keyId;
      const [dir] = logDirs(dataDir);
      for (let i = 0; i < 20; i++) {
        const digest = createHash('sha256').update(`order ${i}`).digest();
        const { answer, receipt } = session.call({ op: 'sign_digest', key_id: keyId, digest }, true);
        expect(answer.type).toBe('signature');
        // The answer is in hand, so the writer has acknowledged its record (after the fsync): the
        // record is in the store's segment already.
        const claims = core.unsafeDecodeReceiptClaims(receipt!);
        const seq = Number(claims.auditSeq);
        const log = readStoredLog(dir!);
        expect(log.records.length, `record ${seq} stored before its answer was released`).toBeGreaterThan(seq);
        const record = core.auditDecodeRecord(log.records[seq]!);
        expect(Number(record.seq)).toBe(seq);
        expect(record.result_digest).toBe(claims.resultHash);
      }
    } finally {
      session.close();
    }
  }, 60_000);
});
