import { spawn, type ChildProcess } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { main } from '../src/cli/main.ts';
import { isLoopbackAddress, nonLoopbackWarning } from '../src/cli/up.ts';
import { core } from '../src/core.ts';
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

  it('creates the credentials (mode 0600) and the signed configuration, and prints where they are', () => {
    const data = join(dir, 'data');
    expect(banner['admin key']).toBe(`${join(data, 'admin.key')} (created) (secret, mode 0600)`);
    expect(banner['client key']).toBe(`${join(data, 'client.key')} (created) (secret, mode 0600)`);
    expect(banner['config']).toBe(`${join(data, 'config.cbor')} (created)`);
    for (const file of ['admin.key', 'client.key']) expect(statSync(join(data, file)).mode & 0o777, file).toBe(0o600);
    const signed = readFileSync(join(data, 'config.cbor'));
    expect(banner['config hash']).toBe(core.configHash(signed).toString('hex'));
    const client = JSON.parse(readFileSync(join(data, 'client.key'), 'utf8'));
    expect(client.principal).toBe('dev-client');
    // No secret is printed.
    const admin = JSON.parse(readFileSync(join(data, 'admin.key'), 'utf8'));
    for (const secret of [client.secret_key, admin.secret_key]) {
      expect(printed.join('\n')).not.toContain(secret.replace(/^0x/, ''));
    }
  });

  it('prints a verify command that works as printed (with --allow-dev-root)', async () => {
    const printedCommand = banner['verify']!.split(' ');
    expect(printedCommand).toContain('--allow-dev-root');
    const { out } = capture();
    expect(await main(['node', ...printedCommand])).toBe(0);
    expect(out[0]).toMatch(/^VERIFIED against a DEVELOPMENT root/);
  });

  it('zcp verify with the dev root and --allow-dev-root: VERIFIED, DEVELOPMENT in the first line, the checks listed', async () => {
    const { out } = capture();
    const code = await main(['node', 'zcp', 'verify', '--pcr0', banner['PCR0']!, '--url', banner['API']!, '--root', banner['dev root']!, '--allow-dev-root']);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^VERIFIED against a DEVELOPMENT root, not AWS hardware: /);
    const text = out.join('\n');
    expect(text).toContain('checked      certificate chain to the given DEVELOPMENT root');
    expect(text).toContain('COSE_Sign1 ES384 signature');
    expect(text).toContain('PCR0 equals --pcr0');
    expect(text).toContain('nonce equals the fresh random nonce');
    expect(text).toContain('issued at most 300 s ago');
    expect(text).toContain('not checked  public key (attested key bundle), user data (0x02 + configuration hash)');
    expect(text).toContain(`PCR0         ${banner['PCR0']}`);
    expect(text).toMatch(/public key   01[0-9a-f]{192} \(the attested key bundle\)/);
    expect(text).toMatch(/receipt key 0x[0-9a-f]{64} \(Ed25519\)/);
    expect(text).toContain(`(configuration hash ${banner['config hash']}, not compared)`);
    expect(text).toMatch(/root: DEVELOPMENT root \(sha256 [0-9a-f]{64}\) — not AWS hardware/);
  });

  it('zcp verify --config-hash compares the configuration hash in user_data', async () => {
    const { out, err } = capture();
    const args = ['node', 'zcp', 'verify', '--pcr0', banner['PCR0']!, '--url', banner['API']!, '--root', banner['dev root']!, '--allow-dev-root'];
    expect(await main([...args, '--config-hash', banner['config hash']!])).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('user data is 0x02 + --config-hash');
    expect(text).toContain(`(configuration hash ${banner['config hash']}, equals --config-hash)`);
    out.length = 0;
    const other = banner['config hash']!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect(await main([...args, '--config-hash', other])).toBe(1);
    expect(err.join('\n')).toMatch(/NOT VERIFIED \(DEVELOPMENT root\): USER_DATA_MISMATCH|NOT VERIFIED \(DEVELOPMENT root\): [A-Z_]+: .*user/i);
    expect(await main([...args, '--config-hash', 'xyz'])).toBe(2);
  });

  it('zcp verify with the dev root but without --allow-dev-root: DEVELOPMENT first, says why, exits non-zero', async () => {
    const { out, err } = capture();
    const code = await main(['node', 'zcp', 'verify', '--pcr0', banner['PCR0']!, '--url', banner['API']!, '--root', banner['dev root']!]);
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err[0]).toMatch(/^NOT VERIFIED \(DEVELOPMENT root\): DEV_ROOT_NOT_ALLOWED: .*--allow-dev-root/);
  });

  it('zcp verify --json reports the verified fields, the checks and devRoot', async () => {
    const { out } = capture();
    const args = ['node', 'zcp', 'verify', '--json', '--pcr0', banner['PCR0']!, '--url', banner['API']!, '--root', banner['dev root']!];
    expect(await main([...args, '--allow-dev-root'])).toBe(0);
    const result = JSON.parse(out.join('\n'));
    expect(result.verified).toBe(true);
    expect(result.devRoot).toBe(true);
    expect(result.checked).toEqual(['certificate-chain', 'signature', 'pcr0', 'nonce', 'freshness', 'not-debug']);
    expect(result.notChecked).toEqual(['public-key', 'user-data']);
    expect(result.rootKind).toBe('other');
    expect(result.nonce).toMatch(/^[0-9a-f]{64}$/);
    out.length = 0;
    expect(await main(args)).toBe(1);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ verified: false, devRoot: true, code: 'DEV_ROOT_NOT_ALLOWED' });
  });

  it('the API refuses a foreign Host header (DNS rebinding) with 421 HOST_NOT_ALLOWED', async () => {
    const port = Number(new URL(banner['API']!).port);
    const answer = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpGet({ host: '127.0.0.1', port, path: '/v1/health', headers: { host } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
      });
    expect((await answer(`localhost:${port}`)).status).toBe(200);
    const rebound = await answer(`attacker.example:${port}`);
    expect(rebound.status).toBe(421);
    expect(JSON.parse(rebound.body).error.code).toBe('HOST_NOT_ALLOWED');
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
    const code = await main(['node', 'zcp', 'verify', '--pcr0', wrong, '--url', banner['API']!, '--root', banner['dev root']!, '--allow-dev-root']);
    expect(code).not.toBe(0);
    expect(err.join('\n')).toContain('PCR_MISMATCH');
  });

  it('zcp verify against nothing listening fails with API_UNREACHABLE', async () => {
    const { err } = capture();
    const code = await main(['node', 'zcp', 'verify', '--pcr0', banner['PCR0']!, '--url', 'http://127.0.0.1:1']);
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('API_UNREACHABLE');
  });

  it('zcp config apply: a higher version signed by the admin is installed; a replay is CONFIG_ROLLBACK; a stranger\'s signature is CONFIG_QUORUM_NOT_MET', async () => {
    const data = join(dir, 'data');
    const current = JSON.parse(core.configToJson(readFileSync(join(data, 'config.cbor')))).config;
    const next = core.configFromJson(JSON.stringify({ ...current, version: current.version + 1 }));
    const signedBy = (adminKey: string) => core.signedConfig(next, [core.configSign(next, adminKey)]);
    const file = join(dir, 'config-v2.cbor');
    writeFileSync(file, signedBy(readFileSync(join(data, 'admin.key'), 'utf8')));
    const { out, err } = capture();
    expect(await main(['node', 'zcp', 'config', 'apply', file, '--url', banner['API']!, '--json'])).toBe(0);
    const applied = JSON.parse(out.join('\n'));
    expect(applied).toMatchObject({ applied: true, version: current.version + 1, configHash: `0x${core.configHash(next).toString('hex')}` });
    // The evidence now attests the new configuration.
    const evidence = (await (await fetch(`${banner['API']}/v1/evidence`)).json()) as { configHash: string; attestationHash: string };
    expect(evidence).toMatchObject({ configHash: applied.configHash, attestationHash: applied.attestationHash });

    expect(await main(['node', 'zcp', 'config', 'apply', file, '--url', banner['API']!])).toBe(1);
    expect(err.join('\n')).toContain('NOT APPLIED: CONFIG_ROLLBACK');
    const later = core.configFromJson(JSON.stringify({ ...current, version: current.version + 2 }));
    writeFileSync(file, core.signedConfig(later, [core.configSign(later, core.generateCredential('admin', 'dev-admin', 'ed25519'))]));
    expect(await main(['node', 'zcp', 'config', 'apply', file, '--url', banner['API']!])).toBe(1);
    expect(err.join('\n')).toContain('NOT APPLIED: CONFIG_QUORUM_NOT_MET');
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

  it('reuses the credentials and configuration on the next run', async () => {
    const data = join(dir, 'data');
    const before = ['admin.key', 'client.key', 'config.cbor'].map((f) => readFileSync(join(data, f)));
    const second = spawn(process.execPath, [ZCP, 'up', '--port', '0', '--data-dir', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const stderr: string[] = [];
    second.stderr!.on('data', (c: Buffer) => stderr.push(c.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner in time:\n${lines.join('\n')}`)), 20_000);
      createInterface({ input: second.stdout! }).on('line', (line) => {
        lines.push(line);
        if (line.startsWith('Ctrl-C')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const exited = new Promise<string>((resolve) => second.once('exit', (code, signal) => resolve(`${code} ${signal}`)));
    second.kill('SIGINT');
    expect(await exited, `${lines.join('\n')}\n${stderr.join('')}`).toBe('0 null');
    expect(lines.join('\n')).not.toContain('(created)');
    expect(lines.find((l) => l.startsWith('  config hash'))).toBe(`  config hash  ${banner['config hash']}`);
    ['admin.key', 'client.key', 'config.cbor'].forEach((f, i) => expect(readFileSync(join(data, f)).equals(before[i]!), f).toBe(true));
  }, 30_000);
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

  it('warns on stderr when the API is to be bound to a non-loopback address', async () => {
    const { err } = capture();
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-up-'));
    try {
      // /bin/false stands in for the enclave: the warning comes before anything is started.
      expect(await main(['node', 'zcp', 'up', '--port', '0', '--host', '0.0.0.0', '--data-dir', dir, '--enclave-bin', '/bin/false'])).toBe(1);
      expect(err[0]).toMatch(/^WARNING: --host 0\.0\.0\.0 is not a loopback address/);
      expect(err.join('\n')).toContain('plain HTTP');
      err.length = 0;
      expect(await main(['node', 'zcp', 'up', '--port', '0', '--data-dir', dir, '--enclave-bin', '/bin/false'])).toBe(1);
      expect(err.join('\n')).not.toContain('WARNING');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('knows which addresses are loopback', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopbackAddress(host), host).toBe(true);
      expect(nonLoopbackWarning(host), host).toBeUndefined();
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.1', 'fd00::1', 'example.com', '']) {
      expect(isLoopbackAddress(host), host).toBe(false);
      expect(nonLoopbackWarning(host), host).toMatch(/^WARNING: /);
    }
  });

  it('refuses a malformed --allowed-host before starting anything', async () => {
    const { err } = capture();
    expect(await main(['node', 'zcp', 'up', '--port', '0', '--allowed-host', 'http://x/', '--enclave-bin', '/nonexistent'])).toBe(2);
    expect(err.join('\n')).toContain('INVALID_ARGUMENT');
  });
});
