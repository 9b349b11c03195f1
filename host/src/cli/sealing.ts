/**
 * `zcp sealing unlock`: the parent's step after it started an enclave with `--sealing aws-kms`
 * (production: docs/kms.md). It reads the instance role's credentials from IMDSv2, sends them with
 * the stored `CiphertextBlob` to the enclave over its socket (`sealing_unlock`), and stores the blob
 * the enclave answers (`DATA_DIR/sealing/kms-blob`). Credentials are never printed.
 */
import { join, resolve } from 'node:path';

import type { Command } from 'commander';

import { instanceRoleCredentials, IMDS_URL, unlockWithKms } from '../seal/kms-unlock.ts';
import { EnclaveClient } from '../sidecar/client.ts';
import { unixTransport } from '../sidecar/transport.ts';
import { errorCode } from './attestation-output.ts';

interface UnlockCliOptions {
  socket: string;
  keyId: string;
  region: string;
  endpoint?: string;
  dataDir: string;
  imdsUrl: string;
  json?: boolean;
}

export async function runSealingUnlock(opts: UnlockCliOptions): Promise<number> {
  const client = new EnclaveClient({ transport: unixTransport(resolve(opts.socket)) });
  try {
    const credentials = await instanceRoleCredentials(opts.imdsUrl);
    await client.connect(5_000);
    const blobPath = join(resolve(opts.dataDir), 'sealing', 'kms-blob');
    const done = await unlockWithKms(client, { keyId: opts.keyId, region: opts.region, endpoint: opts.endpoint, blobPath, credentials });
    if (opts.json) console.log(JSON.stringify({ unlocked: true, sealing: 'aws-kms', firstBoot: done.firstBoot, blobPath: done.blobPath }));
    else console.log(`unlocked: the enclave holds its master key from AWS KMS (${done.firstBoot ? 'first boot: data key generated, blob stored in' : 'blob from'} ${done.blobPath})`);
    return 0;
  } catch (e) {
    if (opts.json) console.log(JSON.stringify({ unlocked: false, code: errorCode(e), message: (e as Error).message }));
    else console.error(`error ${errorCode(e)}: ${(e as Error).message}`);
    return 1;
  } finally {
    await client.close();
  }
}

export function registerSealing(program: Command, set: (code: number) => void): void {
  const sealing = program.command('sealing').description('sealed state: the master key of an enclave started with --sealing aws-kms');
  sealing
    .command('unlock')
    .description("send the instance role's credentials (IMDSv2) and the stored blob to the enclave, which gets its master key from AWS KMS")
    .requiredOption('--socket <path>', "the enclave's socket (the parent's local end of its vsock relay)")
    .requiredOption('--key-id <id>', 'the KMS key whose policy admits the enclave image (docs/kms-key-policy.json)')
    .requiredOption('--region <region>', 'the KMS region, e.g. eu-west-1')
    .option('--endpoint <host>', 'the KMS endpoint DNS name (a VPC endpoint); default kms.<region>.amazonaws.com')
    .option('--data-dir <dir>', 'where sealing/kms-blob is kept', '.sentinel')
    .option('--imds-url <url>', 'instance metadata service (tests only)', IMDS_URL)
    .option('--json', 'one JSON line on stdout')
    .action(async (opts: UnlockCliOptions) => set(await runSealingUnlock(opts)));
}
