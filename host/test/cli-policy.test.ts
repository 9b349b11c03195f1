/**
 * `zcp policy validate | sign | apply | show | dry-run` and `zcp prices sign |
 * apply` against a real local stack (the enclave booted with the development
 * policy, the API on a loopback port): the happy paths, the exit codes
 * (0 done or allowed, 1 refused, 2 usage) and the JSON each prints.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createClient, SentinelClientError } from '@sentinel/client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { main } from '../src/cli/main.ts';
import { clientOptionsFrom } from '../src/cli/stack.ts';
import { core } from '../src/core.ts';
import { policyCore } from '../src/policy-core.ts';
import { startCliStack, type CliStack } from './cli-fixture.ts';
import { capture, HAVE_ENCLAVE, SKIP_REASON } from './helpers.ts';
import { address, CHAIN_ID, policyDocument, type PolicyDocument } from './policy-fixture.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

/** Runs `zcp ARGS...` (no --data-dir added) and captures its output. */
async function zcp(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { out, err } = capture();
  const code = await main(['node', 'zcp', ...args]);
  vi.restoreAllMocks();
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const txJson = (value: bigint, chainId = CHAIN_ID): string =>
  JSON.stringify({ type: 2, chainId, nonce: 0, to: address('cli-recipient'), value: `0x${value.toString(16)}`, gas: 21000, maxFeePerGas: '30000000000', maxPriorityFeePerGas: '1000000000' });

describe('zcp policy validate and sign (offline)', () => {
  let dir: string;
  let admin: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-policy-cli-'));
    admin = join(dir, 'admin.key');
    writeFileSync(admin, core.generateCredential('admin', 'admin-1', 'ed25519'), { mode: 0o600 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());

  it('validate: a valid document (exit 0, hash, version, rules), an invalid one (exit 1, the core\'s code), a missing file (exit 2)', async () => {
    const file = join(dir, 'p.json');
    const doc = policyDocument({ version: 3 });
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const ok = await zcp('policy', 'validate', file, '--json');
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out)).toEqual({
      valid: true,
      kind: 'policy',
      policyHash: `0x${Buffer.from(policyCore.policyValidate(JSON.stringify(doc)).policyHash).toString('hex')}`,
      version: 3,
      name: doc.name,
      rules: 3,
    });
    const text = await zcp('policy', 'validate', file);
    expect(text.out).toContain('valid policy document (unsigned)');
    expect(text.out).toMatch(/policy hash +0x[0-9a-f]{64}/);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...doc, rules: [...doc.rules, { id: 'x', type: 'chain', chain_idz: [1] }] }));
    const refused = await zcp('policy', 'validate', bad, '--json');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out)).toMatchObject({ valid: false, error: { code: 'POLICY_INVALID' } });
    expect(refused.err).toMatch(/^error POLICY_INVALID: /);
    expect((await zcp('policy', 'validate', join(dir, 'missing.json'))).code).toBe(2);
  });

  it('sign: a document becomes NAME.signed.json; a second admin adds a signature in place', async () => {
    const file = join(dir, 'q.json');
    writeFileSync(file, JSON.stringify(policyDocument({ version: 4 })));
    const first = await zcp('policy', 'sign', file, '--key', admin, '--json');
    expect(first.code, first.err).toBe(0);
    const signedPath = join(dir, 'q.signed.json');
    expect(JSON.parse(first.out)).toMatchObject({ signedBy: 'admin-1', out: signedPath, kind: 'signed', version: 4, signers: ['admin-1'] });
    const second = join(dir, 'admin2.key');
    writeFileSync(second, core.generateCredential('admin', 'admin-2', 'ed25519'), { mode: 0o600 });
    const again = await zcp('policy', 'sign', signedPath, '--key', second, '--json');
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ out: signedPath, signers: ['admin-1', 'admin-2'] });
    const envelope = JSON.parse(readFileSync(signedPath, 'utf8'));
    expect(envelope.signatures.map((s: { admin: string }) => s.admin)).toEqual(['admin-1', 'admin-2']);
    // The same hash as the bare document: signatures do not change it.
    expect(JSON.parse(first.out).policyHash).toBe(JSON.parse(again.out).policyHash);
    const validated = await zcp('policy', 'validate', signedPath, '--json');
    expect(JSON.parse(validated.out)).toMatchObject({ valid: true, kind: 'signed', signers: ['admin-1', 'admin-2'] });
  });

  it('sign: a bad key file or a bad document is a usage error (exit 2)', async () => {
    const file = join(dir, 'r.json');
    writeFileSync(file, JSON.stringify(policyDocument({ version: 1 })));
    expect((await zcp('policy', 'sign', file, '--key', join(dir, 'nope.key'))).code).toBe(2);
    writeFileSync(join(dir, 'garbage.json'), '{"version": 1,');
    expect((await zcp('policy', 'sign', join(dir, 'garbage.json'), '--key', admin)).code).toBe(2);
  });

  it('dry-run --offline evaluates a policy file with the core: exit 0 allowed, 1 denied, rules printed', async () => {
    const file = join(dir, 'offline.json');
    writeFileSync(file, JSON.stringify(policyDocument({ version: 1 })));
    const allowed = await zcp('policy', 'dry-run', '--offline', '--policy', file, '--principal', 'agent-1', '--key', 'k-1', '--tx', txJson(10n ** 17n), '--json');
    expect(allowed.code, allowed.err).toBe(0);
    expect(JSON.parse(allowed.out)).toMatchObject({ decision: 'allowed', code: null, offline: true });
    const denied = await zcp('policy', 'dry-run', '--offline', '--policy', file, '--principal', 'agent-1', '--key', 'k-1', '--tx', txJson(2n * 10n ** 18n));
    expect(denied.code).toBe(1);
    expect(denied.out).toContain('dry run (offline, fresh counters): denied (POLICY_DENIED)');
    expect(denied.out).toMatch(/native-cap +notional_limit +deny +value 2000000000000000000, limit 1000000000000000000/);
    const otherChain = await zcp('policy', 'dry-run', '--offline', '--policy', file, '--principal', 'agent-1', '--key', 'k-1', '--tx', txJson(1n, 1), '--json');
    expect(otherChain.code).toBe(1);
    expect(JSON.parse(otherChain.out).rulesEvaluated.find((r: { rule: string }) => r.rule === 'chain').result).toBe('deny');
    // Usage: no request, two requests, --offline without --policy.
    expect((await zcp('policy', 'dry-run', '--offline', '--policy', file, '--principal', 'a', '--key', 'k')).code).toBe(2);
    expect((await zcp('policy', 'dry-run', '--offline', '--policy', file, '--principal', 'a', '--key', 'k', '--message', 'x', '--tx', txJson(1n))).code).toBe(2);
    expect((await zcp('policy', 'dry-run', '--offline', '--principal', 'a', '--key', 'k', '--message', 'x')).code).toBe(2);
  });
});

maybe('zcp policy and zcp prices against a local stack', () => {
  let stack: CliStack;
  let dir: string;
  let keyId: string;
  let devVersion: number;
  beforeAll(async () => {
    stack = await startCliStack({ https: true });
    dir = mkdtempSync(join(tmpdir(), 'sentinel-policy-stack-'));
    const generated = await stack.json<{ keyId: string }>('keys', 'generate', '--label', 'policy-cli');
    expect(generated.code, generated.err).toBe(0);
    keyId = generated.value.keyId;
  }, 60_000);
  afterAll(async () => {
    await stack?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => vi.restoreAllMocks());

  const write = (name: string, doc: PolicyDocument): string => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(doc, null, 2));
    return file;
  };

  it('show: the development policy in force, its hash checked', async () => {
    const shown = await stack.json<{ policyHash: string; version: number; name: string; signers: string[]; signedPolicy: object }>('policy', 'show');
    expect(shown.code, shown.err).toBe(0);
    const onDisk = readFileSync(stack.enclave.dev.policyPath, 'utf8');
    const inspected = policyCore.policyInspectSigned(onDisk);
    expect(shown.value.policyHash).toBe(`0x${Buffer.from(inspected.policyHash).toString('hex')}`);
    expect(shown.value.signers).toEqual(['dev-admin']);
    expect(shown.value.signedPolicy).toEqual(JSON.parse(onDisk));
    devVersion = shown.value.version;
    const text = await stack.run('policy', 'show', '--out', join(dir, 'current.json'));
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain('policy in force');
    expect(JSON.parse(readFileSync(join(dir, 'current.json'), 'utf8'))).toEqual(JSON.parse(onDisk));
  });

  it('sign + apply a new version, show it, dry-run against it (online: the enclave\'s counters)', async () => {
    const file = write('v2.json', policyDocument({ version: devVersion + 1, name: 'cli' }));
    expect((await zcp('policy', 'sign', file, '--key', stack.enclave.dev.adminKeyPath)).code).toBe(0);
    const signed = join(dir, 'v2.signed.json');
    const applied = await stack.json<{ applied: boolean; policyHash: string; version: number; attestationHash: string }>('policy', 'apply', signed);
    expect(applied.code, applied.err).toBe(0);
    expect(applied.value).toMatchObject({ applied: true, version: devVersion + 1, policyHash: `0x${Buffer.from(policyCore.policyInspectSigned(readFileSync(signed, 'utf8')).policyHash).toString('hex')}` });
    expect(applied.value.attestationHash).toMatch(/^0x[0-9a-f]{64}$/);

    const shown = await stack.json<{ policyHash: string; name: string }>('policy', 'show');
    expect(shown.value).toMatchObject({ policyHash: applied.value.policyHash, name: 'cli' });

    const allowed = await stack.json<{ decision: string; policyHash: string; offline: boolean }>('policy', 'dry-run', '--key', keyId, '--tx', txJson(10n ** 17n));
    expect(allowed.code, allowed.err).toBe(0);
    expect(allowed.value).toMatchObject({ decision: 'allowed', policyHash: applied.value.policyHash, offline: false });
    const denied = await stack.run('policy', 'dry-run', '--key', keyId, '--tx', txJson(3n * 10n ** 18n));
    expect(denied.code).toBe(1);
    expect(denied.out).toContain('dry run: denied (POLICY_DENIED)');
    expect(denied.out).toContain('no receipt');
    const message = await stack.json<{ decision: string }>('policy', 'dry-run', '--key', keyId, '--message', 'hello');
    expect(message.value.decision).toBe('allowed');

    // Applying the same version again is a rollback: exit 1 with the enclave's code.
    const again = await stack.json<{ applied: boolean; code: string }>('policy', 'apply', signed);
    expect(again.code).toBe(1);
    expect(again.value).toMatchObject({ applied: false, code: 'POLICY_ROLLBACK' });
    const unsigned = await stack.run('policy', 'apply', file);
    expect(unsigned.code).toBe(2);
    expect(unsigned.err).toContain('not a signed envelope');
  });

  it('prices: a policy with a price feed and a usd cap; sign and apply a table; a second apply of it is PRICES_ROLLBACK', async () => {
    const feed = join(dir, 'feed.key');
    const feedCredential = core.generateCredential('admin', 'price-feed', 'ed25519');
    writeFileSync(feed, feedCredential, { mode: 0o600 });
    const doc = policyDocument({
      version: devVersion + 2,
      name: 'usd',
      extraRules: [{ id: 'usd-cap', type: 'notional_limit', asset: 'usd', per_transaction: '1000.00' }],
    });
    doc.price_feed = { alg: 'ed25519', public_key: `0x${Buffer.from(core.credentialPublicKey(feedCredential)).toString('hex')}`, max_staleness_s: 300 };
    const file = write('usd.json', doc);
    expect((await zcp('policy', 'sign', file, '--key', stack.enclave.dev.adminKeyPath)).code).toBe(0);
    const applied = await stack.json('policy', 'apply', join(dir, 'usd.signed.json'));
    expect(applied.code, applied.err).toBe(0);

    // Without prices a usd rule cannot be evaluated: the request is denied (POLICY_ERROR).
    const unpriced = await stack.json<{ decision: string; code: string }>('policy', 'dry-run', '--key', keyId, '--tx', txJson(10n ** 17n));
    expect(unpriced.code).toBe(1);
    expect(unpriced.value).toMatchObject({ decision: 'denied', code: 'POLICY_ERROR' });

    const table = join(dir, 'prices.json');
    writeFileSync(table, JSON.stringify({ timestamp_s: Math.floor(Date.now() / 1000), prices: [{ asset: `native:${CHAIN_ID}`, usd: '3000.00', decimals: 18 }] }));
    const signed = await zcp('prices', 'sign', table, '--key', feed, '--json');
    expect(signed.code, signed.err).toBe(0);
    expect(JSON.parse(signed.out)).toMatchObject({ out: join(dir, 'prices.signed.json'), entries: 1 });
    const put = await stack.json<{ applied: boolean; entries: number }>('prices', 'apply', join(dir, 'prices.signed.json'));
    expect(put.code, put.err).toBe(0);
    expect(put.value).toMatchObject({ applied: true, entries: 1 });

    // 0.1 ETH = $300 <= $1000: allowed; 0.5 ETH = $1500: denied by the usd rule.
    const cheap = await stack.json<{ decision: string }>('policy', 'dry-run', '--key', keyId, '--tx', txJson(10n ** 17n));
    expect(cheap.value.decision).toBe('allowed');
    const dear = await stack.json<{ decision: string; rulesEvaluated: Array<{ rule: string; result: string }> }>('policy', 'dry-run', '--key', keyId, '--tx', txJson(5n * 10n ** 17n));
    expect(dear.code).toBe(1);
    expect(dear.value.rulesEvaluated.find((r) => r.rule === 'usd-cap')?.result).toBe('deny');

    const replay = await stack.json<{ applied: boolean; code: string }>('prices', 'apply', join(dir, 'prices.signed.json'));
    expect(replay.code).toBe(1);
    expect(replay.value).toMatchObject({ applied: false, code: 'PRICES_ROLLBACK' });
  });

  it('the SDK: policy() checks the hash, dryRun() is typed, and a refused signature carries its code and verified receipt', async () => {
    const client = await createClient(clientOptionsFrom({ dataDir: stack.dataDir }));
    try {
      const active = await client.policy();
      const shown = await stack.json<{ policyHash: string }>('policy', 'show');
      expect(active.policyHash).toBe(shown.value.policyHash);
      expect(active.name).toBe('usd');
      expect(active.signedPolicy.policy.rules.map((r) => r.id)).toContain('usd-cap');

      const unsigned = core.encodeUnsignedTransaction(txJson(5n * 10n ** 17n));
      const evaluation = await client.dryRun({ op: 'sign_ethereum_transaction', key_id: keyId, unsigned_tx: unsigned });
      expect(evaluation).toMatchObject({ decision: 'denied', code: 'POLICY_DENIED', policyHash: active.policyHash });
      expect(evaluation.rulesEvaluated.find((r) => r.rule === 'usd-cap')).toMatchObject({ type: 'notional_limit', result: 'deny' });

      let refusal: SentinelClientError | undefined;
      try {
        await client.signTransaction(keyId, unsigned);
      } catch (e) {
        refusal = e as SentinelClientError;
      }
      expect(refusal?.code).toBe('POLICY_DENIED');
      expect(refusal?.status).toBe(403);
      const claims = refusal!.receipt!.verified.claims as unknown as { decision: string; policyHash: string; rulesEvaluated: Array<{ rule: string; result: string; value: string | null; limit: string | null }> };
      expect(claims.decision).toBe('denied');
      expect(claims.policyHash).toBe(active.policyHash);
      // $1500.00 against a $1000.00 cap, in micro-dollars.
      expect(claims.rulesEvaluated.find((r) => r.rule === 'usd-cap')).toMatchObject({ result: 'deny', value: '1500000000', limit: '1000000000' });

      const message = await client.signMessage(keyId, 'allowed: no movement for the usd cap');
      expect((message.verified.claims as unknown as { policyHash: string }).policyHash).toBe(active.policyHash);
    } finally {
      await client.close();
    }
  });
});
