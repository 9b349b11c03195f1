import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { main } from '../src/cli/main.ts';
import { isLoopbackAddress, nonLoopbackWarning } from '../src/cli/up.ts';
import { core } from '../src/core.ts';
import { policyCore } from '../src/policy-core.ts';
import { capture, HAVE_ENCLAVE, isAlive, SKIP_REASON } from './helpers.ts';

const ZCP = fileURLToPath(new URL('../bin/zcp.mjs', import.meta.url));
const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

/** Runs zcp in a child process (for options only the process environment can give, like extra CA certificates). */
function zcpChild(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [ZCP, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `zcp up` with `args` and resolves with its banner fields once it is up. */
function startUp(args: string[], printed: string[] = [], stderr: string[] = []): Promise<{ child: ChildProcess; banner: Record<string, string> }> {
  const child = spawn(process.execPath, [ZCP, 'up', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr!.on('data', (c: Buffer) => stderr.push(c.toString()));
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    const timer = setTimeout(() => reject(new Error(`no banner in time:\n${printed.join('\n')}\n${stderr.join('')}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`zcp up exited ${code}:\n${stderr.join('')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      printed.push(line);
      const m = /^ {2}(\S+(?: \S+)?)\s{2,}(.*)$/.exec(line);
      if (m) fields[m[1]!] = m[2]!;
      if (line.startsWith('Ctrl-C')) {
        clearTimeout(timer);
        resolve({ child, banner: fields });
      }
    });
  });
}

maybe('zcp up, end to end', () => {
  let dir: string;
  let child: ChildProcess;
  let banner: Record<string, string>;
  let ca: string;
  let dispatcher: Agent;
  /** The configuration `zcp config apply` installed (0x hex), which the next start boots with. */
  let appliedConfigHash = '';
  const printed: string[] = [];
  const stderr: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-up-'));
    ({ child, banner } = await startUp(['--data-dir', join(dir, 'data')], printed, stderr));
    ca = banner['TLS cert']!.split(' ')[0]!;
    dispatcher = new Agent({ connect: { ca: readFileSync(ca, 'utf8') } });
  }, 30_000);

  afterAll(async () => {
    // Ctrl-C first, so `zcp up` stops its enclave (a SIGKILL would leave the enclave running, orphaned).
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await dispatcher?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => vi.restoreAllMocks());

  it('serves HTTPS with the development certificate it made, and says where it is', () => {
    expect(banner['API']).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(banner['TLS cert']).toBe(`${join(dir, 'data', 'tls', 'cert.pem')} (created) (self-signed DEVELOPMENT certificate: clients pass --ca)`);
    expect(statSync(join(dir, 'data', 'tls', 'key.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(ca, 'utf8')).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('says the enclave came up halted and was resumed with the development admin key; zcp status shows it green', async () => {
    const data = join(dir, 'data');
    expect(banner['kill switch']).toBe(`the enclave came up halted (global Red) and was resumed with the development admin key (${join(data, 'admin.key')})`);
    const status = await zcpChild(['status', '--key', join(data, 'admin.key'), '--data-dir', data, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).global).toMatchObject({ scope: 'global', level: 'green', by: ['dev-admin'] });
  });

  it('writes stack.json once listening, as the contract says', () => {
    const data = join(dir, 'data');
    expect(banner['stack']).toBe(join(data, 'stack.json'));
    const stack = JSON.parse(readFileSync(join(data, 'stack.json'), 'utf8'));
    expect(stack).toEqual({
      url: banner['API'],
      caPath: ca,
      pcr0: banner['PCR0'],
      configHash: `0x${banner['config hash']}`,
      policyHash: `0x${banner['policy hash']!.split(' ')[0]}`,
      policyVersion: expect.any(Number),
      devRootPath: banner['dev root'],
      clientKeyPath: join(data, 'client.key'),
      adminKeyPath: join(data, 'admin.key'),
      enclaveSocket: expect.stringMatching(/enclave\.sock$|\.sock$/),
      pid: child.pid,
      // A first start: a new audit log, not one continued after a restart.
      auditLog: { origin: expect.stringMatching(/^sentinel\/log\/[0-9a-f]{16}$/), verifierKey: banner['log key'], resumed: false, resumedSeq: null },
    });
  });

  it('logs requests as JSON lines on stderr (route and status; nothing on stdout)', async () => {
    const res = await undiciFetch(`${banner['API']}/v1/health`, { dispatcher });
    expect(res.status).toBe(200);
    const health = (await res.json()) as { enclave: { pcr0: string } };
    expect(health.enclave.pcr0).toBe(`0x${banner['PCR0']}`);
    await new Promise((r) => setTimeout(r, 200));
    const lines = stderr.join('').split('\n').filter((l) => l.includes('/v1/health'));
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.parse(lines[0]!).req).toMatchObject({ method: 'GET', url: '/v1/health', route: '/v1/health' });
    expect(stderr.join('')).toContain('"statusCode":200');
    expect(printed.join('\n')).not.toContain('"level"');
  });

  it('prints the API address, PCR0 and that the root is a development one', () => {
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
    // The development policy, signed by that admin: the enclave signs nothing without a policy.
    expect(banner['policy']).toBe(`${join(data, 'policy.json')} (created)`);
    const policy = policyCore.policyInspectSigned(readFileSync(join(data, 'policy.json'), 'utf8'));
    expect(banner['policy hash']).toBe(`${Buffer.from(policy.policyHash).toString('hex')} (version ${policy.version})`);
    expect(policy.signers).toEqual(['dev-admin']);
    const client = JSON.parse(readFileSync(join(data, 'client.key'), 'utf8'));
    expect(client.principal).toBe('dev-client');
    // No secret is printed.
    const admin = JSON.parse(readFileSync(join(data, 'admin.key'), 'utf8'));
    for (const secret of [client.secret_key, admin.secret_key]) {
      expect(printed.join('\n')).not.toContain(secret.replace(/^0x/, ''));
    }
  });

  it('prints a verify command that works as printed (with --ca and --allow-dev-root)', async () => {
    const printedCommand = banner['verify']!.split(' ');
    expect(printedCommand).toContain('--allow-dev-root');
    expect(printedCommand.join(' ')).toContain(`--ca ${ca}`);
    const { out } = capture();
    expect(await main(['node', ...printedCommand])).toBe(0);
    expect(out[0]).toMatch(/^VERIFIED against a DEVELOPMENT root/);
  });

  it('zcp verify with the dev root and --allow-dev-root: VERIFIED, DEVELOPMENT in the first line, the checks listed', async () => {
    const { out } = capture();
    const code = await main(['node', 'zcp', 'verify', '--pcr0', banner['PCR0']!, '--url', banner['API']!, '--ca', ca, '--root', banner['dev root']!, '--allow-dev-root']);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^VERIFIED against a DEVELOPMENT root, not AWS hardware: /);
    const text = out.join('\n');
    expect(text).toContain('checked      certificate chain to the given DEVELOPMENT root');
    expect(text).toContain('COSE_Sign1 ES384 signature');
    expect(text).toContain('PCR0 equals --pcr0');
    expect(text).toContain('nonce equals the fresh random nonce');
    expect(text).toContain('issued at most 300 s ago');
    expect(text).toContain('not checked  public key (attested key bundle), user data (0x03 + configuration hash + policy hash)');
    expect(text).toContain(`PCR0         ${banner['PCR0']}`);
    expect(text).toMatch(/public key   02[0-9a-f]{256} \(the attested key bundle\)/);
    expect(text).toMatch(/receipt key 0x[0-9a-f]{64} \(Ed25519\)/);
    expect(text).toContain(`configuration hash ${banner['config hash']}, not compared`);
    expect(text).toMatch(/(no policy installed|policy hash [0-9a-f]{64}), not compared/);
    expect(text).toMatch(/root: DEVELOPMENT root \(sha256 [0-9a-f]{64}\) — not AWS hardware/);
  });

  it('zcp verify --config-hash / --policy-hash compare the hashes in user_data (parsed by the core)', async () => {
    const { out, err } = capture();
    const args = ['node', 'zcp', 'verify', '--pcr0', banner['PCR0']!, '--url', banner['API']!, '--ca', ca, '--root', banner['dev root']!, '--allow-dev-root'];
    expect(await main([...args, '--config-hash', banner['config hash']!])).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('user data is 0x03 + --config-hash + a policy hash');
    expect(text).toContain(`configuration hash ${banner['config hash']}, equals --config-hash`);
    expect(text).toContain('policy hash in user data: shown, not compared (pass --policy-hash)');
    out.length = 0;
    const other = banner['config hash']!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect(await main([...args, '--config-hash', other])).toBe(1);
    expect(err.join('\n')).toMatch(/NOT VERIFIED \(DEVELOPMENT root\): USER_DATA_MISMATCH: user_data: the attested configuration hash [0-9a-f]{64} is not --config-hash/);
    expect(await main([...args, '--config-hash', 'xyz'])).toBe(2);
    expect(await main([...args, '--policy-hash', 'xyz'])).toBe(2);
    // The policy hash the document attests (read from a verified run's JSON), then another one.
    out.length = 0;
    expect(await main([...args, '--json'])).toBe(0);
    const userData = (JSON.parse(out.join('\n')) as { userData: string }).userData;
    const attestedPolicy = core.userDataPolicyHash(Buffer.from(userData, 'hex'));
    out.length = 0;
    err.length = 0;
    if (attestedPolicy !== null) {
      expect(await main([...args, '--config-hash', banner['config hash']!, '--policy-hash', attestedPolicy, '--json'])).toBe(0);
      const verdict = JSON.parse(out.join('\n')) as { checked: string[]; notChecked: string[] };
      expect(verdict.checked).toEqual(expect.arrayContaining(['config-hash', 'policy-hash']));
      expect(verdict.notChecked).not.toContain('user-data');
    }
    expect(await main([...args, '--policy-hash', '11'.repeat(32)])).toBe(1);
    expect(err.join('\n')).toMatch(/USER_DATA_MISMATCH: user_data: (the document attests no policy|the attested policy hash [0-9a-f]{64} is not --policy-hash)/);
  });

  it('zcp verify with the dev root but without --allow-dev-root: DEVELOPMENT first, says why, exits non-zero', async () => {
    const { out, err } = capture();
    const code = await main(['node', 'zcp', 'verify', '--pcr0', banner['PCR0']!, '--url', banner['API']!, '--ca', ca, '--root', banner['dev root']!]);
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err[0]).toMatch(/^NOT VERIFIED \(DEVELOPMENT root\): DEV_ROOT_NOT_ALLOWED: .*--allow-dev-root/);
  });

  it('zcp verify --json reports the verified fields, the checks and devRoot', async () => {
    const { out } = capture();
    const args = ['node', 'zcp', 'verify', '--json', '--pcr0', banner['PCR0']!, '--url', banner['API']!, '--ca', ca, '--root', banner['dev root']!];
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
        const req = httpsGet({ host: '127.0.0.1', servername: 'localhost', port, path: '/v1/health', headers: { host }, ca: readFileSync(ca) }, (res) => {
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

  it('zcp verify without --ca does not trust the development certificate: TLS_CERTIFICATE_UNTRUSTED with a hint', async () => {
    const { err } = capture();
    const code = await main(['node', 'zcp', 'verify', '--pcr0', banner['PCR0']!, '--url', banner['API']!, '--root', banner['dev root']!, '--allow-dev-root']);
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/TLS_CERTIFICATE_UNTRUSTED: .*pass --ca <data-dir>\/tls\/cert\.pem/);
  });

  it('zcp verify without --root fails against the AWS root and hints at the dev root', async () => {
    const { err } = capture();
    const code = await main(['node', 'zcp', 'verify', '--pcr0', banner['PCR0']!, '--url', banner['API']!, '--ca', ca]);
    expect(code).not.toBe(0);
    const text = err.join('\n');
    expect(text).toMatch(/^NOT VERIFIED: [A-Z_]+:/);
    expect(text).toContain('--root <data-dir>/nsm-dev-ca-v1/root.der');
  });

  it('zcp verify with the wrong PCR0 fails with PCR_MISMATCH', async () => {
    const { err } = capture();
    const wrong = `${banner['PCR0']!.slice(0, -2)}${banner['PCR0']!.endsWith('00') ? '01' : '00'}`;
    const code = await main(['node', 'zcp', 'verify', '--pcr0', wrong, '--url', banner['API']!, '--ca', ca, '--root', banner['dev root']!, '--allow-dev-root']);
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
    // By --data-dir: stack.json gives the URL and the development certificate to trust.
    const first = await zcpChild(['config', 'apply', file, '--data-dir', data, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const applied = JSON.parse(first.stdout);
    expect(applied).toMatchObject({ applied: true, version: current.version + 1, configHash: `0x${core.configHash(next).toString('hex')}` });
    // The evidence now attests the new configuration.
    const evidence = (await (await undiciFetch(`${banner['API']}/v1/evidence`, { dispatcher })).json()) as { configHash: string; attestationHash: string };
    expect(evidence).toMatchObject({ configHash: applied.configHash, attestationHash: applied.attestationHash });
    // And the stack keeps it: the next start boots with it (its audit log ends with it).
    expect(readFileSync(join(data, 'config.cbor')).equals(readFileSync(file))).toBe(true);
    appliedConfigHash = applied.configHash;

    // By --url and --ca.
    const replay = await zcpChild(['config', 'apply', file, '--url', banner['API']!, '--ca', ca]);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toContain('NOT APPLIED: CONFIG_ROLLBACK');
    const later = core.configFromJson(JSON.stringify({ ...current, version: current.version + 2 }));
    writeFileSync(file, core.signedConfig(later, [core.configSign(later, core.generateCredential('admin', 'dev-admin', 'ed25519'))]));
    const stranger = await zcpChild(['config', 'apply', file, '--url', banner['API']!, '--ca', ca]);
    // Without trusting the certificate, nothing is sent.
    const untrusted = await zcpChild(['config', 'apply', file, '--url', banner['API']!]);
    expect(untrusted.code).not.toBe(0);
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toContain('NOT APPLIED: CONFIG_QUORUM_NOT_MET');
  }, 30_000);

  it('stops cleanly on SIGINT: exit 0 and the enclave is gone', async () => {
    const enclavePid = Number(/^pid (\d+)/.exec(banner['enclave']!)![1]);
    expect(isAlive(enclavePid)).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(isAlive(enclavePid)).toBe(false);
    expect(printed.join('\n')).toContain('stopped (enclave code 0)');
    expect(existsSync(join(dir, 'data', 'stack.json'))).toBe(false);
  }, 15_000);

  it('reuses the credentials and configuration on the next run', async () => {
    const data = join(dir, 'data');
    const before = ['admin.key', 'client.key', 'config.cbor', 'tls/cert.pem', 'tls/key.pem'].map((f) => readFileSync(join(data, f)));
    // It boots with the configuration `zcp config apply` installed (above), so it continues the audit log.
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
    expect(lines.find((l) => l.startsWith('  log resumed'))).toMatch(/continued after a restart/);
    expect(lines.find((l) => l.startsWith('  TLS cert'))).toContain(join(data, 'tls', 'cert.pem'));
    expect(lines.find((l) => l.startsWith('  config hash'))).toBe(`  config hash  ${appliedConfigHash.slice(2)}`);
    ['admin.key', 'client.key', 'config.cbor', 'tls/cert.pem', 'tls/key.pem'].forEach((f, i) => expect(readFileSync(join(data, f)).equals(before[i]!), f).toBe(true));
  }, 45_000);
});

maybe('zcp up --insecure-http', () => {
  it('serves plain HTTP (stack.json caPath null), zcp verify works without --ca, and --log-level silent logs nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-up-'));
    const stderr: string[] = [];
    const { child, banner } = await startUp(['--data-dir', dir, '--insecure-http', '--log-level', 'silent'], [], stderr);
    try {
      expect(banner['API']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(banner['TLS']).toMatch(/^NONE: --insecure-http/);
      expect(existsSync(join(dir, 'tls'))).toBe(false);
      expect(JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8'))).toMatchObject({ url: banner['API'], caPath: null });
      expect(banner['verify']).not.toContain('--ca');
      const { out } = capture();
      expect(await main(['node', ...banner['verify']!.split(' ')])).toBe(0);
      expect(out[0]).toMatch(/^VERIFIED against a DEVELOPMENT root/);
      expect(stderr.join('')).not.toContain('"level"');
    } finally {
      vi.restoreAllMocks();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

maybe('zcp up --json', () => {
  it('prints one JSON line when ready (the stack.json fields) and JSON lines on SIGINT, then exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-up-'));
    const child = spawn(process.execPath, [ZCP, 'up', '--port', '0', '--data-dir', dir, '--json', '--log-level', 'silent'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const events: Array<Record<string, unknown>> = [];
    const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no ready event in time')), 20_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const event = JSON.parse(line) as Record<string, unknown>;
        events.push(event);
        if (event.event === 'ready') {
          clearTimeout(timer);
          resolve(event);
        }
      });
    });
    try {
      const event = await ready;
      const stack = JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8'));
      expect(event).toMatchObject({ ...stack, event: 'ready', nsm: 'simulator', stackPath: join(dir, 'stack.json') });
      expect(event.killSwitch).toEqual({ bootedHalted: true, fromAuditLog: false, resumedWith: join(dir, 'admin.key'), level: 'green', scopes: [] });
      expect(event.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(event.created).toEqual(expect.arrayContaining(['admin.key', 'client.key', 'config.cbor', 'policy.json', 'tls/cert.pem']));
      expect(event.policyHash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(event.policyPath).toBe(join(dir, 'policy.json'));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(events.map((e) => e.event)).toEqual(['ready', 'stopping', 'stopped']);
      expect(events[2]).toMatchObject({ enclave: { code: 0 } });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

maybe('zcp up killed outright', () => {
  it('its enclave stops on its own (--exit-with-parent) instead of serving an orphaned socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-up-'));
    const { child, banner } = await startUp(['--data-dir', dir, '--insecure-http', '--log-level', 'silent']);
    const enclavePid = Number(/^pid (\d+)/.exec(banner['enclave']!)![1]);
    try {
      expect(isAlive(enclavePid)).toBe(true);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      const deadline = Date.now() + 5_000;
      while (isAlive(enclavePid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(isAlive(enclavePid)).toBe(false);
    } finally {
      if (isAlive(enclavePid)) process.kill(enclavePid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
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
      expect(err.join('\n')).toContain('HTTPS with a self-signed DEVELOPMENT certificate');
      expect(err.join('\n')).not.toContain('PLAIN HTTP');
      err.length = 0;
      expect(await main(['node', 'zcp', 'up', '--port', '0', '--host', '0.0.0.0', '--insecure-http', '--data-dir', dir, '--enclave-bin', '/bin/false'])).toBe(1);
      expect(err.join('\n')).toContain('*** --insecure-http: it speaks PLAIN HTTP (no TLS)');
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

  it('refuses an unknown --log-level before starting anything', async () => {
    const { err } = capture();
    expect(await main(['node', 'zcp', 'up', '--port', '0', '--log-level', 'loud', '--enclave-bin', '/nonexistent'])).toBe(2);
    expect(err.join('\n')).toContain('error INVALID_ARGUMENT: --log-level loud');
  });

  it('refuses a --snapshot-every-s that is not whole seconds before starting anything', async () => {
    for (const bad of ['-1', '1.5', 'often', '86401']) {
      const { err } = capture();
      expect(await main(['node', 'zcp', 'up', '--port', '0', '--snapshot-every-s', bad, '--enclave-bin', '/nonexistent']), bad).toBe(2);
      expect(err.join('\n'), bad).toContain(`error INVALID_ARGUMENT: --snapshot-every-s ${bad}`);
    }
  });

  it('refuses a malformed --allowed-host before starting anything', async () => {
    const { err } = capture();
    expect(await main(['node', 'zcp', 'up', '--port', '0', '--allowed-host', 'http://x/', '--enclave-bin', '/nonexistent'])).toBe(2);
    expect(err.join('\n')).toContain('INVALID_ARGUMENT');
  });
});
