/**
 * How client commands find a stack: `stack.json` from `zcp up`, explicit
 * flags over it, and the AWS root unless a development root is named.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { clientOptionsFrom, loadStack } from '../src/cli/stack.ts';
import { core } from '../src/core.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sentinel-stack-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as { code: string }).code;
  }
  throw new Error('expected a throw');
}

function writeStack(dir: string, overrides: Record<string, unknown> = {}): void {
  writeFileSync(join(dir, 'client.key'), '{"principal":"dev-client"}', { mode: 0o600 });
  writeFileSync(join(dir, 'cert.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  writeFileSync(
    join(dir, 'stack.json'),
    JSON.stringify({
      url: 'https://127.0.0.1:9999',
      caPath: join(dir, 'cert.pem'),
      pcr0: 'ab'.repeat(48),
      configHash: `0x${'cd'.repeat(32)}`,
      devRootPath: null,
      clientKeyPath: join(dir, 'client.key'),
      adminKeyPath: join(dir, 'admin.key'),
      enclaveSocket: join(dir, 'enclave.sock'),
      pid: 1,
      ...overrides,
    }),
  );
}

describe('stack.json', () => {
  it('fills every client option from the data directory', () => {
    const dir = tempDir();
    writeStack(dir);
    const options = clientOptionsFrom({ dataDir: dir });
    expect(options.url).toBe('https://127.0.0.1:9999');
    expect(options.credentials).toBe('{"principal":"dev-client"}');
    expect(options.expectedPcr0).toBe('ab'.repeat(48));
    expect(options.expectedConfigHash).toBe(`0x${'cd'.repeat(32)}`);
    expect(options.ca).toContain('BEGIN CERTIFICATE');
    // No development root recorded: the AWS Nitro root.
    expect(Buffer.from(options.root).equals(core.awsNitroRootG1())).toBe(true);
  });

  it('lets explicit flags override the file', () => {
    const dir = tempDir();
    writeStack(dir);
    const options = clientOptionsFrom({ dataDir: dir, url: 'http://127.0.0.1:1', pcr0: 'ef'.repeat(48), configHash: `0x${'01'.repeat(32)}` });
    expect(options.url).toBe('http://127.0.0.1:1');
    expect(options.expectedPcr0).toBe('ef'.repeat(48));
    expect(options.expectedConfigHash).toBe(`0x${'01'.repeat(32)}`);
  });

  it('names what is missing', () => {
    const dir = tempDir();
    expect(codeOf(() => loadStack(dir))).toBe('STACK_NOT_FOUND');
    expect(codeOf(() => clientOptionsFrom({ dataDir: dir }))).toBe('STACK_NOT_FOUND');
    writeFileSync(join(dir, 'stack.json'), '{not json');
    expect(codeOf(() => loadStack(dir))).toBe('STACK_FILE_INVALID');
    writeStack(dir, { url: 42 });
    expect(codeOf(() => loadStack(dir))).toBe('STACK_FILE_INVALID');
  });

  it('works without a stack file when --url, --credentials and --pcr0 are given', () => {
    const dir = tempDir();
    writeStack(dir);
    const options = clientOptionsFrom({ url: 'https://signer.example', credentials: join(dir, 'client.key'), pcr0: '00'.repeat(48) });
    expect(options.url).toBe('https://signer.example');
    expect(options.ca).toBeUndefined();
    expect(Buffer.from(options.root).equals(core.awsNitroRootG1())).toBe(true);
  });

  it('refuses a root other than AWS unless --allow-dev-root', () => {
    const dir = tempDir();
    writeStack(dir);
    const awsRoot = join(dir, 'aws-root.der');
    writeFileSync(awsRoot, core.awsNitroRootG1());
    // The AWS root itself needs no flag.
    expect(Buffer.from(clientOptionsFrom({ dataDir: dir, root: awsRoot }).root).equals(core.awsNitroRootG1())).toBe(true);
    // Any other certificate (here a third party's self-signed one) needs --allow-dev-root.
    const other = join(import.meta.dirname, '../../test/vectors/nitro/evervault_valid-certificate.der');
    expect(codeOf(() => clientOptionsFrom({ dataDir: dir, root: other }))).toBe('INVALID_ARGUMENT');
    expect(Buffer.from(clientOptionsFrom({ dataDir: dir, root: other, allowDevRoot: true }).root).equals(core.awsNitroRootG1())).toBe(false);
    expect(codeOf(() => clientOptionsFrom({ dataDir: dir, root: join(dir, 'missing.der') }))).toBe('FILE_UNREADABLE');
  });
});
