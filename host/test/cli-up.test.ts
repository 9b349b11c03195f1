import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { main } from '../src/cli/main.ts';
import { capture, HAVE_ENCLAVE, isAlive, SKIP_REASON } from './helpers.ts';

const ZCP = fileURLToPath(new URL('../bin/zcp.mjs', import.meta.url));
const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

maybe('zcp up, end to end', () => {
  let dir: string;
  let child: ChildProcess;
  let banner: Record<string, string>;
  const printed: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-up-'));
    child = spawn(process.execPath, [ZCP, 'up', '--port', '0', '--data-dir', join(dir, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stderr: string[] = [];
    child.stderr!.on('data', (c: Buffer) => stderr.push(c.toString()));
    banner = await new Promise((resolve, reject) => {
      const fields: Record<string, string> = {};
      const timer = setTimeout(() => reject(new Error(`no banner in time:\n${printed.join('\n')}\n${stderr.join('')}`)), 20_000);
      child.once('exit', (code) => reject(new Error(`zcp up exited ${code}:\n${stderr.join('')}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        printed.push(line);
        const m = /^ {2}(\S+(?: \S+)?)\s{2,}(.*)$/.exec(line);
        if (m) fields[m[1]!] = m[2]!;
        if (line.startsWith('Ctrl-C')) {
          clearTimeout(timer);
          resolve(fields);
        }
      });
    });
  }, 30_000);

  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => vi.restoreAllMocks());

  it('prints the API address, PCR0 and that the root is a development one', () => {
    expect(banner['API']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(banner['PCR0']).toMatch(/^[0-9a-f]{96}$/);
    expect(banner['NSM']).toMatch(/SIMULATOR.*DEVELOPMENT root/);
    expect(banner['dev root']).toBe(join(dir, 'data', 'nsm-dev-ca-v1', 'root.der'));
    expect(banner['enclave']).toMatch(/^pid \d+, unix:/);
  });

  it('zcp verify with the dev root: VERIFIED, DEVELOPMENT root', async () => {
    const { out } = capture();
    const code = await main(['node', 'zcp', 'verify', '--pcr0', banner['PCR0']!, '--url', banner['API']!, '--root', banner['dev root']!]);
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/^VERIFIED/);
    expect(text).toContain(`PCR0        ${banner['PCR0']}`);
    expect(text).toMatch(/root: DEVELOPMENT root \(sha256 [0-9a-f]{64}\) — not AWS hardware/);
  });

  it('zcp verify --json reports the verified fields', async () => {
    const { out } = capture();
    const code = await main(['node', 'zcp', 'verify', '--json', '--pcr0', banner['PCR0']!, '--url', banner['API']!, '--root', banner['dev root']!]);
    expect(code).toBe(0);
    const result = JSON.parse(out.join('\n'));
    expect(result.verified).toBe(true);
    expect(result.rootKind).toBe('other');
    expect(result.nonce).toMatch(/^[0-9a-f]{64}$/);
  });

  it('zcp verify without --root fails against the AWS root and hints at the dev root', async () => {
    const { err } = capture();
    const code = await main(['node', 'zcp', 'verify', '--pcr0', banner['PCR0']!, '--url', banner['API']!]);
    expect(code).not.toBe(0);
    const text = err.join('\n');
    expect(text).toMatch(/^NOT VERIFIED: [A-Z_]+:/);
    expect(text).toContain('--root <data-dir>/nsm-dev-ca-v1/root.der');
  });

  it('zcp verify with the wrong PCR0 fails with PCR_MISMATCH', async () => {
    const { err } = capture();
    const wrong = `${banner['PCR0']!.slice(0, -2)}${banner['PCR0']!.endsWith('00') ? '01' : '00'}`;
    const code = await main(['node', 'zcp', 'verify', '--pcr0', wrong, '--url', banner['API']!, '--root', banner['dev root']!]);
    expect(code).not.toBe(0);
    expect(err.join('\n')).toContain('PCR_MISMATCH');
  });

  it('zcp verify against nothing listening fails with API_UNREACHABLE', async () => {
    const { err } = capture();
    const code = await main(['node', 'zcp', 'verify', '--pcr0', banner['PCR0']!, '--url', 'http://127.0.0.1:1']);
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('API_UNREACHABLE');
  });

  it('stops cleanly on SIGINT: exit 0 and the enclave is gone', async () => {
    const enclavePid = Number(/^pid (\d+)/.exec(banner['enclave']!)![1]);
    expect(isAlive(enclavePid)).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(isAlive(enclavePid)).toBe(false);
    expect(printed.join('\n')).toContain('stopped (enclave code 0)');
  }, 15_000);
});

describe('zcp up failures', () => {
  afterEach(() => vi.restoreAllMocks());

  it('fails clearly when the enclave binary is missing', async () => {
    const { err } = capture();
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-up-'));
    const code = await main(['node', 'zcp', 'up', '--port', '0', '--data-dir', dir, '--enclave-bin', join(dir, 'nope')]);
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/ENCLAVE_BINARY_NOT_FOUND/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the stderr of an enclave that dies before it is ready', async () => {
    const { err } = capture();
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-up-'));
    // `false` exits 1 at once; a stand-in for an enclave that crashes on start.
    const code = await main(['node', 'zcp', 'up', '--port', '0', '--data-dir', dir, '--enclave-bin', '/bin/false']);
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('ENCLAVE_START_FAILED');
    rmSync(dir, { recursive: true, force: true });
  });
});
