/**
 * The local stack's data directory (local/dev-config.ts): the development
 * policy is created with the credentials, kept across runs (also when edited
 * and re-signed by the admin), and signed again when the admin changes or its
 * signature no longer verifies; a file the core cannot read is refused.
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ensureDevConfiguration } from '../src/local/dev-config.ts';
import { policyCore } from '../src/policy-core.ts';
import { policyDocument } from './policy-fixture.ts';

describe('ensureDevConfiguration: policy.json', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sentinel-devcfg-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the development policy signed by the dev admin, then reuses it', () => {
    const first = ensureDevConfiguration(dir);
    expect(first.created).toEqual(['admin.key', 'client.key', 'config.cbor', 'policy.json']);
    expect(first.policyPath).toBe(join(dir, 'policy.json'));
    const text = readFileSync(first.policyPath, 'utf8');
    expect(text).toBe(`${policyCore.policyDevelopmentSigned(readFileSync(first.adminKeyPath, 'utf8'))}\n`);
    expect(policyCore.policyInspectSigned(text)).toMatchObject({ name: 'development', signers: ['dev-admin'] });
    const again = ensureDevConfiguration(dir);
    expect(again.created).toEqual([]);
    expect(readFileSync(again.policyPath, 'utf8')).toBe(text);
  });

  it('keeps an edited policy re-signed by the admin', () => {
    const dev = ensureDevConfiguration(dir);
    const admin = readFileSync(dev.adminKeyPath, 'utf8');
    const mine = `${JSON.stringify(JSON.parse(policyCore.policySign(JSON.stringify(policyDocument({ version: 2 })), admin)), null, 2)}\n`;
    writeFileSync(dev.policyPath, mine);
    expect(ensureDevConfiguration(dir).created).toEqual([]);
    expect(readFileSync(dev.policyPath, 'utf8')).toBe(mine);
  });

  it('signs it again for a new admin, and when its signature is not the admin\'s', () => {
    const dev = ensureDevConfiguration(dir);
    const before = readFileSync(dev.policyPath, 'utf8');
    unlinkSync(dev.adminKeyPath);
    const renewed = ensureDevConfiguration(dir);
    expect(renewed.created).toEqual(['admin.key', 'config.cbor', 'policy.json']);
    const after = readFileSync(dev.policyPath, 'utf8');
    expect(after).not.toBe(before);
    // Same document, the new admin's signature.
    expect(policyCore.policyInspectSigned(after).policyHash).toEqual(policyCore.policyInspectSigned(before).policyHash);

    // A signature by someone else under the admin's id does not count.
    writeFileSync(dev.policyPath, before);
    expect(ensureDevConfiguration(dir).created).toEqual(['policy.json']);
    expect(readFileSync(dev.policyPath, 'utf8')).toBe(after);
  });

  it('refuses a policy.json the core cannot read (fix or delete it), with the core\'s code', () => {
    const dev = ensureDevConfiguration(dir);
    writeFileSync(dev.policyPath, '{"policy": {"version": 1.5}, "signatures": []}');
    let code: string | undefined;
    try {
      ensureDevConfiguration(dir);
    } catch (e) {
      code = (e as { code?: string }).code;
      expect((e as Error).message).toContain('delete it');
    }
    expect(code).toBe('POLICY_MALFORMED');
  });
});
