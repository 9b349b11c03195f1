/**
 * The parent's half of the AWS KMS provider (docs/kms.md): read the instance role's temporary
 * credentials from the instance metadata service (IMDSv2: a session token first, then the role's
 * credentials), send them to an enclave launched with `--sealing aws-kms` (`sealing_unlock`,
 * together with the `CiphertextBlob` stored after the first boot), and store the blob the enclave
 * answers atomically in `DATA_DIR/sealing/kms-blob`. The parent only relays: KMS releases the data
 * key to the enclave's attested RSA key, never to these credentials (the key policy's Deny). The
 * credentials are never printed or logged; they are dropped once the enclave answered.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { writeFileAtomic } from '../audit/files.ts';
import { nodeIo } from '../audit/io.ts';
import { SentinelError } from '../errors.ts';
import type { EnclaveClientLike } from '../sidecar/client.ts';

/** The instance metadata service (IMDSv2). */
export const IMDS_URL = 'http://169.254.169.254';
const TOKEN_TTL_S = 300;
const IMDS_TIMEOUT_MS = 2_000;

/** Temporary credentials of the instance role. */
export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO 8601, as IMDS gives it. */
  expiration: string;
}

async function imdsText(url: string, init: RequestInit, what: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(IMDS_TIMEOUT_MS) });
  } catch (e) {
    throw new SentinelError('IMDS_UNAVAILABLE', `${what}: ${(e as Error).message} (is this an EC2 instance with IMDSv2?)`, { cause: e });
  }
  const text = await response.text();
  if (response.status !== 200) throw new SentinelError('IMDS_UNAVAILABLE', `${what}: HTTP ${response.status}`);
  return text;
}

/** The role's credentials from IMDSv2 (`imdsUrl` is for tests: a local stand-in). */
export async function instanceRoleCredentials(imdsUrl: string = IMDS_URL): Promise<RoleCredentials> {
  const token = await imdsText(
    `${imdsUrl}/latest/api/token`,
    { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_S) } },
    'IMDS session token',
  );
  const headers = { 'x-aws-ec2-metadata-token': token };
  const roles = await imdsText(`${imdsUrl}/latest/meta-data/iam/security-credentials/`, { headers }, 'IMDS role name');
  const role = roles.split('\n')[0]?.trim();
  if (!role) throw new SentinelError('IMDS_UNAVAILABLE', 'IMDS: the instance has no IAM role (attach one that may call kms:Decrypt and kms:GenerateDataKey)');
  const body = await imdsText(`${imdsUrl}/latest/meta-data/iam/security-credentials/${encodeURIComponent(role)}`, { headers }, 'IMDS role credentials');
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new SentinelError('IMDS_UNAVAILABLE', 'IMDS role credentials: not JSON');
  }
  const text = (name: string): string => {
    const v = parsed[name];
    if (typeof v !== 'string' || v.length === 0) throw new SentinelError('IMDS_UNAVAILABLE', `IMDS role credentials: no ${name}`);
    return v;
  };
  if (parsed.Code !== undefined && parsed.Code !== 'Success') {
    throw new SentinelError('IMDS_UNAVAILABLE', `IMDS role credentials: Code ${String(parsed.Code)}`);
  }
  return { accessKeyId: text('AccessKeyId'), secretAccessKey: text('SecretAccessKey'), sessionToken: text('Token'), expiration: text('Expiration') };
}

export interface UnlockOptions {
  /** The KMS key whose policy admits the enclave's PCR0 (id, ARN or alias). */
  keyId: string;
  region: string;
  /** The endpoint's DNS name (a VPC endpoint); default `kms.<region>.amazonaws.com`. */
  endpoint?: string;
  /** Where the `CiphertextBlob` lives (`DATA_DIR/sealing/kms-blob`). */
  blobPath: string;
  credentials: RoleCredentials;
}

/** Sends `sealing_unlock` and stores the blob the enclave answers. Returns whether this was the first boot. */
export async function unlockWithKms(enclave: EnclaveClientLike, opts: UnlockOptions): Promise<{ firstBoot: boolean; blobPath: string }> {
  const stored = existsSync(opts.blobPath) ? readFileSync(opts.blobPath) : null;
  if (stored !== null && stored.length === 0) throw new SentinelError('SEALED_STORE_INVALID', `${opts.blobPath}: empty`);
  const answer = await enclave.request({
    op: 'sealing_unlock',
    key_id: opts.keyId,
    region: opts.region,
    endpoint: opts.endpoint ?? null,
    access_key_id: opts.credentials.accessKeyId,
    secret_access_key: opts.credentials.secretAccessKey,
    session_token: opts.credentials.sessionToken,
    ciphertext_blob: stored,
  });
  const blob = Buffer.from(answer.ciphertext_blob);
  if (stored === null) {
    mkdirSync(dirname(opts.blobPath), { recursive: true, mode: 0o700 });
    await writeFileAtomic(nodeIo, opts.blobPath, blob);
  } else if (!blob.equals(stored)) {
    throw new SentinelError('UNEXPECTED_RESPONSE', 'sealing_unlock: the enclave answered another CiphertextBlob than the stored one');
  }
  return { firstBoot: stored === null, blobPath: opts.blobPath };
}
