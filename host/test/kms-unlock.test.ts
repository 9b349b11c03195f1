/**
 * The parent's half of the AWS KMS provider (host/src/seal/kms-unlock.ts): the exact IMDSv2 requests
 * (a PUT for the session token with its TTL header, the role name, the role's credentials with the
 * token), the exact `sealing_unlock` the enclave receives, the blob stored atomically on the first
 * boot and sent back later, and refusals (no role, a failed IMDS call, a blob the enclave changed).
 * IMDS is a local stand-in; the enclave side is tested in enclave/tests/kms_sealing.rs.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { instanceRoleCredentials, unlockWithKms } from '../src/seal/kms-unlock.ts';
import type { Request } from '../src/sidecar/client.ts';
import { fakeEnclave } from './helpers.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

/** A stand-in IMDSv2: a token for PUT, then the role and its credentials for that token only. */
async function imds(role: string | null, status = 200): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    if (req.method === 'PUT' && req.url === '/latest/api/token') return void res.end('TOKEN-1');
    if (req.headers['x-aws-ec2-metadata-token'] !== 'TOKEN-1') return void res.writeHead(401).end();
    if (req.url === '/latest/meta-data/iam/security-credentials/') return void res.writeHead(role ? status : 404).end(role ?? '');
    if (req.url === `/latest/meta-data/iam/security-credentials/${role}`) {
      return void res.end(
        JSON.stringify({ Code: 'Success', Type: 'AWS-HMAC', AccessKeyId: 'ASIAROLE', SecretAccessKey: 'role-secret', Token: 'role-token', Expiration: '2026-12-07T18:00:00Z' }),
      );
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => server.close());
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, seen };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kms-unlock-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('instanceRoleCredentials (IMDSv2)', () => {
  it('asks for a session token, then the role and its credentials with it', async () => {
    const { url, seen } = await imds('sentinel-parent');
    const creds = await instanceRoleCredentials(url);
    expect(creds).toEqual({ accessKeyId: 'ASIAROLE', secretAccessKey: 'role-secret', sessionToken: 'role-token', expiration: '2026-12-07T18:00:00Z' });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'PUT /latest/api/token',
      'GET /latest/meta-data/iam/security-credentials/',
      'GET /latest/meta-data/iam/security-credentials/sentinel-parent',
    ]);
    expect(seen[0]!.headers['x-aws-ec2-metadata-token-ttl-seconds']).toBe('300');
  });

  it('names what is missing: no role, an unreachable service', async () => {
    const { url } = await imds(null);
    await expect(instanceRoleCredentials(url)).rejects.toMatchObject({ code: 'IMDS_UNAVAILABLE' });
    await expect(instanceRoleCredentials('http://127.0.0.1:1')).rejects.toMatchObject({ code: 'IMDS_UNAVAILABLE' });
  });
});

describe('unlockWithKms', () => {
  const creds = { accessKeyId: 'ASIAROLE', secretAccessKey: 'role-secret', sessionToken: 'role-token', expiration: 'x' };

  it('sends the credentials and stores the blob on the first boot, and sends the stored blob afterwards', async () => {
    const blobPath = join(tempDir(), 'sealing', 'kms-blob');
    const calls: Request[] = [];
    const enclave = fakeEnclave((request) => {
      calls.push(request);
      return { id: 1, type: 'sealing_unlocked', ciphertext_blob: Buffer.from('BLOB'), sealing: 'aws-kms' } as never;
    });
    const first = await unlockWithKms(enclave, { keyId: 'alias/sentinel', region: 'eu-west-1', blobPath, credentials: creds });
    expect(first.firstBoot).toBe(true);
    expect(readFileSync(blobPath, 'utf8')).toBe('BLOB');
    expect(statSync(join(blobPath, '..')).mode & 0o777).toBe(0o700);
    expect(calls[0]).toEqual({
      op: 'sealing_unlock',
      key_id: 'alias/sentinel',
      region: 'eu-west-1',
      endpoint: null,
      access_key_id: 'ASIAROLE',
      secret_access_key: 'role-secret',
      session_token: 'role-token',
      ciphertext_blob: null,
    });
    const again = await unlockWithKms(enclave, { keyId: 'alias/sentinel', region: 'eu-west-1', endpoint: 'vpce.kms', blobPath, credentials: creds });
    expect(again.firstBoot).toBe(false);
    expect(calls[1]).toMatchObject({ endpoint: 'vpce.kms', ciphertext_blob: Buffer.from('BLOB') });
  });

  it('refuses an answer that changes the stored blob, and passes the enclave refusal through', async () => {
    const blobPath = join(tempDir(), 'kms-blob');
    const first = fakeEnclave(() => ({ id: 1, type: 'sealing_unlocked', ciphertext_blob: Buffer.from('ONE'), sealing: 'aws-kms' }) as never);
    await unlockWithKms(first, { keyId: 'k', region: 'r', blobPath, credentials: creds });
    const other = fakeEnclave(() => ({ id: 1, type: 'sealing_unlocked', ciphertext_blob: Buffer.from('TWO'), sealing: 'aws-kms' }) as never);
    await expect(unlockWithKms(other, { keyId: 'k', region: 'r', blobPath, credentials: creds })).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE' });
    expect(readFileSync(blobPath, 'utf8')).toBe('ONE');
    const refusing = fakeEnclave(() => {
      throw Object.assign(new Error('KMS_ACCESS_DENIED: the key policy does not admit this PCR0'), { code: 'KMS_UNLOCK_FAILED' });
    });
    await expect(unlockWithKms(refusing, { keyId: 'k', region: 'r', blobPath, credentials: creds })).rejects.toMatchObject({ code: 'KMS_UNLOCK_FAILED' });
  });
});
