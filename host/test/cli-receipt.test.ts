/**
 * `zcp receipt verify FILE` against the real enclave: receipts saved by
 * `--receipt-out`, checked against the document fetched from the stack or
 * given offline, and tampered ones refused with the core's codes.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { core } from '../src/core.ts';
import { ensureDevCertificate } from '../src/local/dev-cert.ts';
import { startCliStack, type CliStack } from './cli-fixture.ts';
import { capture, HAVE_ENCLAVE, SKIP_REASON } from './helpers.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/^0x/, ''), 'hex');

interface Verdict {
  verified: boolean;
  receiptId: string;
  claims: {
    requestId: string;
    op: string;
    decision: string;
    code: string | null;
    keyId: string | null;
    principal: string;
    configHash: string;
    policyHash: string | null;
    rulesEvaluated: Array<{ rule: string; type: string; result: string; value: string | null; limit: string | null; window: string | null; detail: string | null }>;
    attestationHash: string;
    approvals: string[];
    oversightState: string;
    oversightScope: string;
    keyStorage: string | null;
  };
  pcr0: string;
  rootKind: string;
  attestationSource: string;
  configHashCompared: boolean;
  policyHashCompared: boolean;
  error?: { code: string; message: string };
}

maybe('zcp receipt verify', () => {
  let s: CliStack;
  let keyId: string;
  /** `{ receiptId, receipt }` of an allowed sign_digest. */
  let allowed: string;
  /** `{ receiptId, receipt }` of a denied sign_digest. */
  let denied: string;
  /** `{ receiptId, receipt }` of the generate_key that made `keyId`. */
  let generated: string;
  let evidence: { attestation: string; attestationHash: string };

  beforeAll(async () => {
    s = await startCliStack();
    generated = join(s.dataDir, 'generated.json');
    const key = await s.json<{ keyId: string }>('keys', 'generate', '--purpose', 'raw', '--label', 'receipts', '--receipt-out', generated);
    keyId = key.value.keyId;
    allowed = join(s.dataDir, 'allowed.json');
    expect((await s.run('sign', 'digest', '--key', keyId, '--digest', '42'.repeat(32), '--receipt-out', allowed)).code).toBe(0);
    const eth = await s.json<{ keyId: string }>('keys', 'generate', '--label', 'receipts-eth');
    denied = join(s.dataDir, 'denied.json');
    expect((await s.run('sign', 'digest', '--key', eth.value.keyId, '--digest', '42'.repeat(32), '--receipt-out', denied)).code).toBe(1);
    evidence = (await (await fetch(new URL('/v1/evidence', s.url))).json()) as typeof evidence;
    vi.restoreAllMocks();
  }, 30_000);
  afterAll(async () => {
    await s?.dispose();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('a saved receipt verifies against the stack\'s attestation document; the claims are printed', async () => {
    const saved = JSON.parse(readFileSync(allowed, 'utf8'));
    const r = await s.run('receipt', 'verify', allowed);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^receipt ${saved.receiptId} verified \\(DEVELOPMENT root\\)\\n`));
    expect(r.out).toContain('decision     allowed');
    expect(r.out).toContain('op           sign_digest');
    expect(r.out).toContain('principal    dev-client');
    expect(r.out).toContain(`key id       ${keyId}`);
    expect(r.out).toContain(`config       ${s.configHash} (not compared: pass --config-hash)`);
    expect(r.out).toMatch(/\n {2}policy {7}(0x[0-9a-f]{64}|none installed) \(= the document's; not pinned: pass --policy-hash\)\n/);
    expect(r.out).toMatch(/\n {2}rules {8}(none|\S+ \(\w+\): (allow|deny|not_applicable|approval_required|error).*)\n/);
    // Signed while every scope was green, without being held.
    expect(r.out).toContain('oversight    green at global (normal)');
    expect(r.out).toContain('approvals    none');
    expect(r.out).toContain(`attestation  ${evidence.attestationHash} from ${s.url}/v1/evidence`);
    expect(r.out).toContain(`enclave      PCR0 0x${s.pcr0} (= expected)`);
    expect(r.out).toMatch(/root {9}DEVELOPMENT root \(sha256 [0-9a-f]{64}\) — not AWS hardware/);

    const j = await s.json<Verdict>('receipt', 'verify', allowed, '--config-hash', s.configHash);
    expect(j.code).toBe(0);
    expect(j.value).toMatchObject({ verified: true, receiptId: saved.receiptId, rootKind: 'other', pcr0: `0x${s.pcr0}`, configHashCompared: true });
    expect(j.value.claims).toMatchObject({ requestId: saved.receiptId, op: 'sign_digest', decision: 'allowed', keyId, configHash: s.configHash, attestationHash: evidence.attestationHash });
    expect(j.value.policyHashCompared).toBe(false);
    expect(j.value.claims).toMatchObject({ approvals: [], oversightState: 'green', oversightScope: 'global' });
    // Structured rule results, every key present.
    for (const rule of j.value.claims.rulesEvaluated) {
      expect(Object.keys(rule).sort()).toEqual(['detail', 'limit', 'result', 'rule', 'type', 'value', 'window']);
    }
    // The policy the receipt names can be pinned; it is the one the document attests.
    const policyHash = j.value.claims.policyHash;
    if (policyHash !== null) {
      const pinned = await s.json<Verdict>('receipt', 'verify', allowed, '--policy-hash', policyHash);
      expect(pinned.code).toBe(0);
      expect(pinned.value).toMatchObject({ verified: true, policyHashCompared: true });
    }
  });

  it('a key generation\'s receipt says how the key is kept (key_storage): this stack seals nothing, so ephemeral', async () => {
    const r = await s.run('receipt', 'verify', generated);
    expect(r.code).toBe(0);
    expect(r.out).toContain('op           generate_key');
    expect(r.out).toContain(`key id       ${keyId}`);
    expect(r.out).toContain('key storage  ephemeral (EPHEMERAL: enclave memory only, lost when the enclave restarts)');
    const j = await s.json<Verdict>('receipt', 'verify', generated);
    expect(j.value.claims).toMatchObject({ op: 'generate_key', keyId, keyStorage: 'ephemeral' });
    // A signature creates no key: no claim, no line.
    const signed = await s.json<Verdict>('receipt', 'verify', allowed);
    expect(signed.value.claims.keyStorage).toBeNull();
    expect((await s.run('receipt', 'verify', allowed)).out).not.toContain('key storage');
  });

  it('a denial\'s receipt verifies too, and says denied with its code', async () => {
    const r = await s.run('receipt', 'verify', denied);
    expect(r.code).toBe(0);
    expect(r.out).toContain('decision     denied (KEY_PURPOSE_MISMATCH)');
  });

  it('offline: --attestation FILE (hex, JSON, raw CBOR) with explicit PCR0 and root, no stack, no credentials', async () => {
    const doc = bytes(evidence.attestation);
    const forms: Array<[string, string | Buffer]> = [
      ['doc.hex', `${evidence.attestation}\n`],
      ['evidence.json', JSON.stringify(evidence)],
      ['doc.cbor', doc],
      ['doc.b64', doc.toString('base64')],
    ];
    const receiptHex = JSON.parse(readFileSync(allowed, 'utf8')).receipt as string;
    const receiptForms: Array<[string, string | Buffer]> = [
      ['r.json', readFileSync(allowed)],
      ['r.hex', receiptHex],
      ['r.cose', bytes(receiptHex)],
    ];
    for (const [name, content] of receiptForms) writeFileSync(join(s.dataDir, name), content);
    const { out, err } = capture();
    for (const [name, content] of forms) {
      const path = join(s.dataDir, name);
      writeFileSync(path, content);
      for (const [receiptName] of receiptForms) {
        const args = ['receipt', 'verify', join(s.dataDir, receiptName), '--attestation', path, '--pcr0', s.pcr0, '--root', s.devRootPath, '--allow-dev-root'];
        expect(await s.zcp(...args), `${receiptName} with ${name}: ${err.at(-1)}`).toBe(0);
        expect(out.join('\n')).toContain(`from --attestation ${path}`);
        out.length = 0;
      }
    }
  });

  it('a tampered receipt does not verify: exit 1 with the core\'s code', async () => {
    const saved = JSON.parse(readFileSync(allowed, 'utf8')) as { receiptId: string; receipt: string };
    const receipt = bytes(saved.receipt);

    // The signature's last byte.
    const sig = Buffer.from(receipt);
    sig[sig.length - 1]! ^= 0x01;
    const sigFile = join(s.dataDir, 'tampered-sig.json');
    writeFileSync(sigFile, JSON.stringify({ receiptId: saved.receiptId, receipt: `0x${sig.toString('hex')}` }));
    let r = await s.run('receipt', 'verify', sigFile);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error RECEIPT_SIGNATURE_INVALID: /);
    expect(r.out).toBe('');

    // A claim inside the payload: the decision "allowed" becomes "allowee" (same length, still canonical CBOR).
    const text = receipt.toString('latin1').replace('allowed', 'allowee');
    const claimFile = join(s.dataDir, 'tampered-claim.json');
    writeFileSync(claimFile, JSON.stringify({ receiptId: saved.receiptId, receipt: `0x${Buffer.from(text, 'latin1').toString('hex')}` }));
    const j = await s.json<Verdict>('receipt', 'verify', claimFile);
    expect(j.code).toBe(1);
    expect(j.value).toEqual({ verified: false, error: { code: 'RECEIPT_MALFORMED', message: expect.any(String) } });

    // The payload hash (a valid-looking claim): the signature no longer matches.
    const claims = core.unsafeDecodeReceiptClaims(receipt);
    const at = receipt.indexOf(bytes(claims.payloadHash));
    const payload = Buffer.from(receipt);
    payload[at]! ^= 0x80;
    const payloadFile = join(s.dataDir, 'tampered-payload.hex');
    writeFileSync(payloadFile, payload.toString('hex'));
    r = await s.run('receipt', 'verify', payloadFile);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error RECEIPT_SIGNATURE_INVALID: /);

    // Another receipt id in the file than the signed one.
    const idFile = join(s.dataDir, 'wrong-id.json');
    writeFileSync(idFile, JSON.stringify({ receiptId: `0x${randomBytes(16).toString('hex')}`, receipt: saved.receipt }));
    r = await s.run('receipt', 'verify', idFile);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error RECEIPT_ID_MISMATCH: /);

    // Not a receipt at all.
    const junk = join(s.dataDir, 'junk.txt');
    writeFileSync(junk, 'hello');
    r = await s.run('receipt', 'verify', junk);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error RECEIPT_MALFORMED: /);
  });

  it('the wrong enclave, configuration or document: exit 1 with the core\'s code', async () => {
    let r = await s.run('receipt', 'verify', allowed, '--pcr0', 'ab'.repeat(48));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error RECEIPT_PCR0_MISMATCH: /);

    r = await s.run('receipt', 'verify', allowed, '--config-hash', `0x${'11'.repeat(32)}`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error RECEIPT_CONFIG_MISMATCH: /);

    r = await s.run('receipt', 'verify', allowed, '--policy-hash', `0x${'11'.repeat(32)}`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error RECEIPT_POLICY_MISMATCH: /);
    r = await s.run('receipt', 'verify', allowed, '--policy-hash', '0x11');
    expect(r.code).toBe(2);

    // A genuine document of the same enclave, but not the one the receipt names.
    const fresh = (await (await fetch(new URL(`/v1/attestation?nonce=0x${randomBytes(16).toString('hex')}`, s.url))).json()) as { document: string };
    const other = join(s.dataDir, 'fresh-doc.hex');
    writeFileSync(other, fresh.document);
    r = await s.run('receipt', 'verify', allowed, '--attestation', other);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error RECEIPT_ATTESTATION_MISMATCH: /);

    // The AWS root (no stack, no --root) does not vouch for the simulator.
    const docFile = join(s.dataDir, 'boot-doc.hex');
    writeFileSync(docFile, evidence.attestation);
    const { err } = capture();
    expect(await s.zcp('receipt', 'verify', allowed, '--attestation', docFile, '--pcr0', s.pcr0)).toBe(1);
    expect(err.at(-1)).toMatch(/^error [A-Z_]+: /);
  });

  it('usage errors exit 2', async () => {
    let r = await s.run('receipt', 'verify', join(s.dataDir, 'missing.json'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error FILE_UNREADABLE: /);
    r = await s.run('receipt', 'verify');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error USAGE: missing required argument 'file'/);
    r = await s.run('receipt', 'verify', allowed, '--pcr0', 'abcd');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error INVALID_ARGUMENT: --pcr0: 2 bytes, expected 48/);
    r = await s.run('receipt', 'verify', allowed, '--root', s.devRootPath);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error INVALID_ARGUMENT: --root .* --allow-dev-root/);
    r = await s.run('receipt', 'verify', allowed, '--at', 'yesterday');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error INVALID_ARGUMENT: --at yesterday/);
  });
});

maybe('zcp keys, sign and receipt verify over HTTPS (the development certificate, as zcp up serves it)', () => {
  let s: CliStack;
  beforeAll(async () => {
    s = await startCliStack({ https: true });
  }, 30_000);
  afterAll(async () => {
    await s?.dispose();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('trusts exactly the stack\'s certificate: sign, save the receipt, verify it with the document fetched over TLS', async () => {
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const key = await s.json<{ keyId: string }>('keys', 'generate', '--purpose', 'raw', '--label', 'tls');
    expect(key.err).toBe('');
    expect(key.code).toBe(0);
    const saved = join(s.dataDir, 'tls-receipt.json');
    expect((await s.run('sign', 'digest', '--key', key.value.keyId, '--digest', '07'.repeat(32), '--receipt-out', saved)).code).toBe(0);
    const r = await s.run('receipt', 'verify', saved);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`from ${s.url}/v1/evidence`);

    // Another certificate is not trusted: both the SDK and the evidence fetch refuse the connection.
    const other = join(s.dataDir, 'other');
    const otherCert = await ensureDevCertificate(other);
    let bad = await s.run('keys', 'list', '--ca', otherCert.certPath);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error [A-Z_]+: /);
    bad = await s.run('receipt', 'verify', saved, '--ca', otherCert.certPath);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error API_UNREACHABLE: /);
  });
});
