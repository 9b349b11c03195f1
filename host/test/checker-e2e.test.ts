/**
 * The browser checker page (host/checker, docs/checker.md) end to end, in headless
 * Chromium (Debian's /usr/bin/chromium driven by playwright-core):
 *
 * - the real AWS documents (test/vectors/nitro) verify at a time inside their window and fail
 *   outside it (`validity`), from file:// (the self-contained build), pasted or uploaded;
 * - a mutated document fails with the right check marked; malformed input is explained on the page;
 * - the local stack serves the page at /checker/; a document fetched through the page (fresh
 *   nonce) and a receipt of a real signing request verify with the development root, labelled
 *   DEVELOPMENT; the page from file:// fetches cross-origin (CORS); once loaded it works offline;
 *   the page makes no request but its own load and the fetches asked for;
 * - the receipt's record in the audit log (the stack runs the audit writer): the proof and the record
 *   fetched on the page pass every audit check; a tampered proof fails with the core's code, and a
 *   valid proof of another record fails the record check;
 * - a share link (inputs in the URL fragment) reproduces the verdict;
 * - screenshots (the page; the audit verdict) and the measured page weight and time to verdict are
 *   saved in test/artifacts/.
 *
 * Skipped only when Chromium is missing and SENTINEL_REQUIRE_BROWSER is unset; scripts/test.sh
 * installs Chromium (scripts/install-chromium.sh) and sets it, so CI never skips silently.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { createClient, type SentinelClient } from '@sentinel/client';

import { buildApp } from '../src/api/app.ts';
import { CHECKER_PAGE_PATH, loadCheckerPage } from '../src/api/routes/checker.ts';
import { AuditWriter } from '../src/audit/writer.ts';
import { core } from '../src/core.ts';
import { EnclaveClient } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { clientCredential, fakeEnclave, HAVE_ENCLAVE, SKIP_REASON, startTestEnclave, type TestEnclave } from './helpers.ts';

// A browser on a shared 2-core machine: generous per-test limits (each test takes about a second).
vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const REQUIRE_BROWSER = (process.env.SENTINEL_REQUIRE_BROWSER ?? '') !== '';
const repo = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const CHECKER_DIR = repo('host/checker');
const WASM_WEB = repo('bindings/wasm-verify/web');
const VECTORS = repo('test/vectors/nitro');
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

interface ExpectedDocument {
  file: string;
  encoding: 'base64' | 'raw CBOR';
  cose_signature_valid: boolean;
  chain_valid: boolean;
  pcr0_all_zero: boolean;
  timestamp_ms: number;
  leaf_not_before: string;
  leaf_not_after: string;
  pcr0?: string;
  pcr1?: string;
  pcr2?: string;
}
const EXPECTED = JSON.parse(readFileSync(join(VECTORS, 'EXPECTED.json'), 'utf8')) as { documents: ExpectedDocument[] };
const VALID = EXPECTED.documents.filter((d) => d.cose_signature_valid && d.chain_valid);
const docBytes = (d: ExpectedDocument): Buffer => {
  const raw = readFileSync(join(VECTORS, d.file));
  return d.encoding === 'base64' ? Buffer.from(raw.toString('utf8').trim(), 'base64') : raw;
};
const byFile = (file: string): ExpectedDocument => EXPECTED.documents.find((d) => d.file === file)!;
const HOUR = 3_600_000;

/** Builds dist/index.html unless it is newer than every input (scripts/build.sh builds it too). */
function ensureBuilt(): void {
  const inputs = [
    ...readdirSync(join(CHECKER_DIR, 'src')).map((f) => join(CHECKER_DIR, 'src', f)),
    join(CHECKER_DIR, 'build.mjs'),
    join(WASM_WEB, 'sentinel_verify_wasm.js'),
    join(WASM_WEB, 'sentinel_verify_wasm_bg.wasm'),
  ];
  const newest = Math.max(...inputs.map((f) => (existsSync(f) ? statSync(f).mtimeMs : 0)));
  if (existsSync(CHECKER_PAGE_PATH) && statSync(CHECKER_PAGE_PATH).mtimeMs >= newest) return;
  execFileSync(process.execPath, [join(CHECKER_DIR, 'build.mjs')], { stdio: ['ignore', 'inherit', 'inherit'] });
}

// --- page helpers -------------------------------------------------------------------

type Statuses = Record<string, string>;

async function statuses(page: Page, list = '#checks'): Promise<Statuses> {
  return page.$$eval(`${list} li`, (items) => Object.fromEntries(items.map((li) => [li.getAttribute('data-check'), li.getAttribute('data-status')])));
}

async function verdictOf(page: Page, selector = '#verdict'): Promise<{ ok: boolean; development: boolean; text: string }> {
  const v = page.locator(selector);
  await v.waitFor({ state: 'visible' });
  return { ok: (await v.getAttribute('data-ok')) === 'true', development: (await v.getAttribute('data-development')) === 'true', text: (await v.textContent()) ?? '' };
}

/** Sets the verification time (the datetime-local field, read as UTC). */
async function setAt(page: Page, ms: number | null): Promise<void> {
  await page.$eval('#at', (el, v) => void ((el as HTMLInputElement).value = v), ms === null ? '' : new Date(ms).toISOString().replace(/Z$/, ''));
}

async function openPage(context: BrowserContext, url: string): Promise<{ page: Page; requests: string[]; problems: string[] }> {
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (r) => void requests.push(`${r.method()} ${r.url()}`));
  page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
  page.on('pageerror', (e) => void problems.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
  return { page, requests, problems };
}

/** Clears the form's document and receipt, sets the time, pastes `doc` (base64), and verifies. */
async function pasteAndVerify(page: Page, doc: Buffer, atMs: number | null, opts: { allowDebug?: boolean } = {}): Promise<Statuses> {
  await page.fill('#document', doc.toString('base64'));
  await page.fill('#receipt', '');
  await setAt(page, atMs);
  await page.setChecked('#allow-debug', opts.allowDebug ?? false);
  await page.click('#verify');
  await verdictOf(page);
  return statuses(page);
}

/** Clears the audit verdict, runs `action`, and waits for the audit check (it finishes asynchronously). */
async function auditVerdict(page: Page, action: () => Promise<void>): Promise<{ ok: boolean; statuses: Statuses; text: string }> {
  await page.$eval('#audit-verdict', (el) => el.removeAttribute('data-ok'));
  await action();
  await page.waitForSelector('#audit-verdict[data-ok]', { timeout: 10_000 });
  const verdict = await verdictOf(page, '#audit-verdict');
  return { ok: verdict.ok, statuses: await statuses(page, '#audit-checks'), text: await page.textContent('#audit-checks') ?? '' };
}

const ATTESTATION_IDS = ['structure', 'chain', 'validity', 'signature', 'debug_mode', 'pcrs', 'nonce', 'freshness', 'config_hash'];
const RECEIPT_IDS = ['document', 'pcr0', 'attested_keys', 'user_data', 'receipt_structure', 'attestation_binding', 'config_binding', 'policy_binding', 'receipt_signature'];

// --- the API side: serving and CORS (no browser) ----------------------------------------

describe('the checker route and the attestation CORS headers', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    ensureBuilt();
    app = buildApp({
      enclave: fakeEnclave((request) =>
        request.op === 'attest'
          ? { id: 1, type: 'attestation', document: Buffer.from('doc') }
          : ({ id: 1, type: 'evidence', attestation: Buffer.from('doc'), attestation_hash: Buffer.alloc(32, 1) } as never),
      ),
    });
    await app.ready();
  }, 60_000);
  afterAll(async () => app?.close());

  it('serves the built page at /checker/ and /checker/index.html with a strict CSP; /checker redirects', async () => {
    for (const url of ['/checker/', '/checker/index.html']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+' 'wasm-unsafe-eval'/);
      expect(csp).toContain('connect-src *');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.body).toBe(readFileSync(CHECKER_PAGE_PATH, 'utf8'));
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
    const redirect = await app.inject({ method: 'GET', url: '/checker' });
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe('/checker/');
  });

  it('a missing build reads as not built (the route then answers 404 CHECKER_NOT_BUILT)', () => {
    expect(loadCheckerPage(join(CHECKER_DIR, 'no-such-dist', 'index.html'))).toBeNull();
    expect(loadCheckerPage()?.csp).toMatch(/^default-src 'none'/);
  });

  it('the two attestation routes allow any origin, refusals included; other routes do not', async () => {
    const fresh = await app.inject({ method: 'GET', url: '/v1/attestation?nonce=0x01' });
    expect(fresh.statusCode).toBe(200);
    expect(fresh.headers['access-control-allow-origin']).toBe('*');
    const bad = await app.inject({ method: 'GET', url: '/v1/attestation?nonce=zz' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['access-control-allow-origin']).toBe('*');
    const boot = await app.inject({ method: 'GET', url: '/v1/attestation/boot' });
    expect(boot.statusCode).toBe(200);
    expect(boot.headers['access-control-allow-origin']).toBe('*');
    for (const url of ['/v1/health', '/healthz', '/openapi.json', '/v1/receipts/0x' + 'ab'.repeat(16)]) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.headers['access-control-allow-origin'], url).toBeUndefined();
    }
  });
});

// --- the page in Chromium ---------------------------------------------------------------

if (!HAVE_CHROMIUM && REQUIRE_BROWSER) {
  describe('the checker page in Chromium', () => {
    it('needs Chromium', () => {
      throw new Error(`${CHROMIUM} is missing and SENTINEL_REQUIRE_BROWSER is set: run bash scripts/install-chromium.sh`);
    });
  });
}
const browserSuite = HAVE_CHROMIUM ? describe : describe.skip;
if (!HAVE_CHROMIUM && !REQUIRE_BROWSER) it.skip(`Chromium missing at ${CHROMIUM} (run: bash scripts/install-chromium.sh)`, () => {});

browserSuite('the checker page in Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  const fileUrl = pathToFileURL(CHECKER_PAGE_PATH).href;
  const metrics: Record<string, unknown> = {};

  beforeAll(async () => {
    ensureBuilt();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless'] });
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  describe('from file:// (the self-contained build)', () => {
    let page: Page;
    let requests: string[];
    let problems: string[];
    beforeAll(async () => {
      ({ page, requests, problems } = await openPage(context, fileUrl));
    }, 30_000);

    it('starts with the AWS root, no DEVELOPMENT banner, every field labelled', async () => {
      expect(await page.textContent('#root-label')).toContain('AWS Nitro Enclaves Root-G1');
      expect(await page.isHidden('#dev-banner')).toBe(true);
      const unlabelled = await page.$$eval('input, textarea', (els) => els.filter((e) => (e as HTMLInputElement).labels?.length === 0).map((e) => e.id));
      expect(unlabelled).toEqual([]);
      expect(await page.getAttribute('#verdict', 'role')).toBe('status');
      expect(await page.getAttribute('#errors', 'role')).toBe('alert');
      expect(await page.textContent('[data-section="audit-log"]')).toContain('Inclusion in the audit log');
      expect(await page.getAttribute('#audit-verdict', 'role')).toBe('status');
      expect(await page.isDisabled('#fetch-proof')).toBe(false);
    });

    it.each(VALID.map((d) => [d.file, d] as const))('%s verifies inside its window and fails outside it (validity)', async (_file, d) => {
      const inside = await pasteAndVerify(page, docBytes(d), d.timestamp_ms, { allowDebug: d.pcr0_all_zero });
      expect(Object.keys(inside)).toEqual(ATTESTATION_IDS);
      const verdict = await verdictOf(page);
      expect(verdict.ok, JSON.stringify(inside)).toBe(true);
      expect(verdict.development).toBe(false);
      expect(verdict.text).toContain('VERIFIED');
      expect(verdict.text).not.toContain('DEVELOPMENT');
      for (const id of ['structure', 'chain', 'validity', 'signature', 'debug_mode']) expect(inside[id], id).toBe('pass');
      expect(inside.pcrs).toBe('not_requested');
      expect(await page.textContent('#fields')).toContain(new Date(d.timestamp_ms).toISOString());

      for (const at of [Date.parse(d.leaf_not_after) + HOUR, Date.parse(d.leaf_not_before) - HOUR]) {
        const outside = await pasteAndVerify(page, docBytes(d), at, { allowDebug: d.pcr0_all_zero });
        expect((await verdictOf(page)).ok).toBe(false);
        expect(outside.validity).toBe('fail');
        expect(outside.structure).toBe('pass');
        expect(await page.textContent('#checks li[data-check="validity"]')).toContain('CERTIFICATE_NOT_VALID_AT_TIME');
        expect(await page.textContent('#checks li[data-check="validity"] .status')).toBe('FAIL');
      }
    });

    it('a raw CBOR document uploaded as a file verifies; expected PCRs pass, a wrong one fails `pcrs`', async () => {
      const d = byFile('qos_attestation-doc.bin');
      await page.fill('#document', '');
      await page.setInputFiles('#document-file', join(VECTORS, d.file));
      await page.waitForFunction(() => (document.getElementById('document') as HTMLTextAreaElement).value !== '');
      expect(Buffer.from(await page.inputValue('#document'), 'base64').equals(docBytes(d))).toBe(true);
      await page.fill('#pcr0', d.pcr0!);
      await page.fill('#pcr1', `0x${d.pcr1!}`);
      await page.fill('#pcr2', d.pcr2!.toUpperCase());
      await setAt(page, d.timestamp_ms);
      await page.click('#verify');
      expect((await verdictOf(page)).ok).toBe(true);
      expect((await statuses(page)).pcrs).toBe('pass');
      await page.fill('#pcr2', d.pcr1!);
      await page.click('#verify');
      expect((await verdictOf(page)).ok).toBe(false);
      expect((await statuses(page)).pcrs).toBe('fail');
      for (const id of ['pcr0', 'pcr1', 'pcr2']) await page.fill(`#${id}`, '');
    });

    it('a debug-mode document fails `debug_mode` unless debug mode is accepted', async () => {
      const d = byFile('evervault_valid-attestation-doc-base64');
      const refused = await pasteAndVerify(page, docBytes(d), d.timestamp_ms);
      expect(refused.debug_mode).toBe('fail');
      expect((await verdictOf(page)).ok).toBe(false);
    });

    it('mutated documents fail with the right check marked', async () => {
      const d = byFile('eternis_example_attestation');
      const good = docBytes(d);
      // The last byte is the COSE signature's.
      const badSignature = Buffer.from(good);
      badSignature[badSignature.length - 1]! ^= 0x01;
      const sig = await pasteAndVerify(page, badSignature, d.timestamp_ms);
      expect(sig.signature).toBe('fail');
      expect(sig.structure).toBe('pass');
      expect(sig.chain).toBe('pass');
      expect(sig.validity).toBe('pass');
      expect(await page.textContent('#checks li[data-check="signature"]')).toContain('SIGNATURE_INVALID');
      // The first byte is the COSE_Sign1 array header.
      const badStructure = Buffer.from(good);
      badStructure[0] = 0x83;
      const structure = await pasteAndVerify(page, badStructure, d.timestamp_ms);
      expect(structure.structure).toBe('fail');
      for (const id of ATTESTATION_IDS.slice(1)) expect(['not_run', 'not_requested'], id).toContain(structure[id]);
      expect(await page.textContent('#fields')).toContain('not decoded');
      // The real invalid document of the vectors: its signature does not verify.
      const invalid = byFile('eternis_invalid_attestation');
      const upstream = await pasteAndVerify(page, docBytes(invalid), invalid.timestamp_ms, { allowDebug: true });
      expect(upstream.signature).toBe('fail');
    });

    it('malformed input is explained on the page, without a verdict', async () => {
      const cases: Array<[string, string, RegExp]> = [
        ['#document', 'not%%base64', /Attestation document: Not hex or base64: "%"/],
        ['#document', '0xabc', /Attestation document: Not hex: an odd number of digits/],
        ['#document', '', /Attestation document: paste one/],
        ['#pcr0', 'abcd', /Expected PCR0: expected 48 bytes of hex \(96 digits\), got 4 digits/],
        ['#config-hash', 'zz', /Expected configuration hash: Not hex/],
        ['#max-age', '-5', /Maximum age: a positive whole number of seconds/],
      ];
      const doc = docBytes(byFile('eternis_example_attestation')).toString('base64');
      for (const [field, value, message] of cases) {
        for (const [f, v] of [['#document', doc], ['#pcr0', ''], ['#config-hash', ''], ['#max-age', '']]) await page.fill(f!, v!);
        await page.fill(field, value);
        await page.click('#verify');
        expect(await page.textContent('#errors'), `${field}=${value}`).toMatch(message);
        expect(await page.isHidden('#attestation-result')).toBe(true);
      }
      await page.fill('#document', '');
      await page.fill('#pcr0', '');
      await page.fill('#config-hash', '');
      await page.fill('#max-age', '');
    });

    it('works from the keyboard: Enter in a field runs the check', async () => {
      const d = byFile('eternis_example_attestation');
      await page.fill('#document', docBytes(d).toString('base64'));
      await setAt(page, d.timestamp_ms);
      await page.focus('#pcr0');
      await page.keyboard.press('Enter');
      expect((await verdictOf(page)).ok).toBe(true);
    });

    it('made no request but its own load, and logged no error', () => {
      expect(requests).toEqual([`GET ${fileUrl}`]);
      expect(problems).toEqual([]);
    });

    it('a share link reproduces the verdict (fragment: inputs and time)', async () => {
      const d = byFile('eternis_example_attestation');
      await pasteAndVerify(page, docBytes(d), d.timestamp_ms + 1);
      const expected = await statuses(page);
      await page.click('#share');
      const link = await page.inputValue('#share-link');
      expect(link.startsWith(`${fileUrl}#`)).toBe(true);
      const params = new URLSearchParams(new URL(link).hash.slice(1));
      expect(params.get('at')).toBe(new Date(d.timestamp_ms + 1).toISOString());
      expect(params.get('root')).toBeNull();
      const other = await openPage(context, link);
      const verdict = await verdictOf(other.page);
      expect(verdict.ok).toBe(true);
      expect(await statuses(other.page)).toEqual(expected);
      expect(other.requests).toEqual([`GET ${link.split('#')[0]}`]);
      expect(other.problems).toEqual([]);
      await other.page.close();
    });
  });

  maybeStack('served by the local stack, with its development root', () => {
    let enclave: TestEnclave;
    let sidecar: EnclaveClient;
    let writer: AuditWriter;
    let app: FastifyInstance;
    let url: string;
    let signed: { receipt: string; receiptId: string };
    /** The receipt of the generate_key that made the key `signed` is by. */
    let generated: { receipt: string; receiptId: string };
    const auditDir = mkdtempSync(join(tmpdir(), 'sentinel-checker-audit-'));
    let client: SentinelClient;
    let devRootPath: string;
    let page: Page;
    let requests: string[];
    let problems: string[];

    beforeAll(async () => {
      enclave = await startTestEnclave();
      sidecar = new EnclaveClient({ transport: unixTransport(enclave.socketPath) });
      await sidecar.connect();
      // The audit writer stores the enclave's records and checkpoints; the API serves them under /v1/audit/.
      writer = await AuditWriter.open(sidecar, { dir: auditDir });
      writer.start();
      app = buildApp({ enclave: sidecar, audit: writer });
      url = await app.listen({ port: 0, host: '127.0.0.1' });
      devRootPath = enclave.process.ready.dev_root_der!;
      client = await createClient({ url, credentials: clientCredential(enclave), root: readFileSync(devRootPath), expectedPcr0: enclave.process.ready.pcr0 });
      ({ page, requests, problems } = await openPage(context, `${url}/checker/`));
    }, 60_000);
    afterAll(async () => {
      await page?.close();
      await app?.close();
      await writer?.stop().catch(() => {});
      await sidecar?.close();
      await enclave?.dispose();
      rmSync(auditDir, { recursive: true, force: true });
    });

    it('fetches a document with a fresh nonce: against the AWS root the chain fails, not DEVELOPMENT', async () => {
      expect(await page.inputValue('#url')).toBe(url);
      await page.click('#fetch-fresh');
      const verdict = await verdictOf(page);
      expect(verdict.ok).toBe(false);
      expect(verdict.development).toBe(false);
      const s = await statuses(page);
      expect(s.structure).toBe('pass');
      expect(s.chain).toBe('fail');
    });

    it('with the development root loaded: VERIFIED, labelled DEVELOPMENT, nonce, freshness, PCR0 and configuration hash checked', async () => {
      await page.click('#root-details summary');
      await page.setInputFiles('#root-file', devRootPath);
      await page.click('#root-load');
      await page.waitForSelector('#dev-banner', { state: 'visible' });
      expect(await page.textContent('#dev-banner')).toContain('DEVELOPMENT');
      expect(await page.textContent('#root-label')).toContain('DEVELOPMENT root');
      await page.fill('#pcr0', enclave.process.ready.pcr0);
      await page.fill('#config-hash', enclave.process.ready.config_hash!);
      await page.$eval('#verdict', (el) => el.removeAttribute('data-ok'));
      await page.click('#fetch-fresh');
      await page.waitForSelector('#verdict[data-ok]');
      const verdict = await verdictOf(page);
      const s = await statuses(page);
      expect(verdict.ok, JSON.stringify(s)).toBe(true);
      expect(verdict.development).toBe(true);
      expect(verdict.text).toContain('DEVELOPMENT');
      for (const id of ATTESTATION_IDS) expect(s[id], id).toBe('pass');
      const nonce = await page.inputValue('#nonce');
      expect(nonce).toMatch(/^[0-9a-f]{64}$/);
      expect(await page.textContent('#fields')).toContain(nonce);
      expect(await page.textContent('#verdict-context')).toContain('DEVELOPMENT root');
    });

    it('verifies a receipt of a real signing request against the boot document, labelled DEVELOPMENT', async () => {
      const key = await client.generateKey({ curve: 'secp256k1', purpose: 'raw', label: 'checker-e2e' });
      generated = { receipt: key.receipt, receiptId: key.receiptId };
      signed = await client.signDigest(key.keyId, core.keccak256(Buffer.from('checker e2e')));
      await page.$eval('#verdict', (el) => el.removeAttribute('data-ok'));
      await page.click('#fetch-boot');
      await page.waitForSelector('#verdict[data-ok]');
      expect((await verdictOf(page)).ok).toBe(true);
      await page.fill('#receipt', signed.receipt);
      await page.click('#verify');
      const receipt = await verdictOf(page, '#receipt-verdict');
      const s = await statuses(page, '#receipt-checks');
      expect(Object.keys(s)).toEqual(RECEIPT_IDS);
      expect(receipt.ok, JSON.stringify(s)).toBe(true);
      expect(receipt.development).toBe(true);
      expect(receipt.text).toContain('DEVELOPMENT');
      expect(await page.textContent('#receipt-fields')).toContain(signed.receiptId);
      expect(await page.textContent('#receipt-fields')).toContain('sign_digest');

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'checker.png'), fullPage: true });

      // Another request's receipt is still a valid receipt; a mutated one fails its signature.
      const mutated = Buffer.from(signed.receipt.replace(/^0x/, ''), 'hex');
      mutated[mutated.length - 1]! ^= 0x01;
      await page.fill('#receipt', mutated.toString('hex'));
      await page.click('#verify');
      expect((await verdictOf(page, '#receipt-verdict')).ok).toBe(false);
      expect((await statuses(page, '#receipt-checks')).receipt_signature).toBe('fail');
      await page.fill('#receipt', signed.receipt);
    });

    it("a key generation's receipt shows how the key is kept (key_storage): ephemeral here, labelled next to the verdict", async () => {
      await page.fill('#receipt', generated.receipt);
      await page.click('#verify');
      const receipt = await verdictOf(page, '#receipt-verdict');
      expect(receipt.ok, JSON.stringify(await statuses(page, '#receipt-checks'))).toBe(true);
      expect(receipt.text).toContain('EPHEMERAL key: lost on restart');
      expect(await page.getAttribute('#receipt-verdict', 'data-key-storage')).toBe('ephemeral');
      const fields = (await page.textContent('#receipt-fields')) ?? '';
      expect(fields).toContain('generate_key');
      expect(fields).toContain('key storage');
      expect(fields).toContain('ephemeral (lost on restart');
      // A signature's receipt has no key_storage claim: no label, no field.
      await page.fill('#receipt', signed.receipt);
      await page.click('#verify');
      expect((await verdictOf(page, '#receipt-verdict')).text).not.toContain('EPHEMERAL');
      expect(await page.getAttribute('#receipt-verdict', 'data-key-storage')).toBe('');
      expect(await page.textContent('#receipt-fields')).not.toContain('key storage');
    });

    it('a share link carries the development root and reproduces the DEVELOPMENT verdict', async () => {
      await page.click('#verify');
      const expected = await statuses(page);
      const expectedReceipt = await statuses(page, '#receipt-checks');
      await page.click('#share');
      const link = await page.inputValue('#share-link');
      expect(new URLSearchParams(new URL(link).hash.slice(1)).get('root')).toMatch(/\S/);
      const other = await openPage(context, link);
      const verdict = await verdictOf(other.page);
      expect(verdict.ok).toBe(true);
      expect(verdict.development).toBe(true);
      expect(await other.page.isVisible('#dev-banner')).toBe(true);
      expect(await statuses(other.page)).toEqual(expected);
      expect(await statuses(other.page, '#receipt-checks')).toEqual(expectedReceipt);
      expect(other.requests).toEqual([`GET ${url}/checker/`]);
      await other.page.close();
    });

    it('once loaded, works offline (a pasted AWS document verifies with the network off)', async () => {
      const d = byFile('qos_attestation-doc.bin');
      const offline = await openPage(context, `${url}/checker/`);
      await context.setOffline(true);
      try {
        await offline.page.fill('#document', docBytes(d).toString('hex'));
        await setAt(offline.page, d.timestamp_ms);
        await offline.page.click('#verify');
        expect((await verdictOf(offline.page)).ok).toBe(true);
      } finally {
        await context.setOffline(false);
      }
      expect(offline.requests).toEqual([`GET ${url}/checker/`]);
      await offline.page.close();
    });

    it('the file:// page fetches from the API cross-origin (CORS on the attestation routes)', async () => {
      const other = await openPage(context, fileUrl);
      expect(await other.page.inputValue('#url')).toBe('');
      await other.page.click('#root-details summary');
      await other.page.setInputFiles('#root-file', devRootPath);
      await other.page.click('#root-load');
      await other.page.waitForSelector('#dev-banner', { state: 'visible' });
      await other.page.fill('#url', `${url}/`);
      await other.page.click('#fetch-fresh');
      await other.page.waitForSelector('#verdict[data-ok]');
      const verdict = await verdictOf(other.page);
      expect(verdict.ok, JSON.stringify(await statuses(other.page))).toBe(true);
      expect(verdict.development).toBe(true);
      expect((await statuses(other.page)).nonce).toBe('pass');
      expect(other.requests).toHaveLength(2);
      expect(other.requests[1]).toMatch(new RegExp(`^GET ${url}/v1/attestation\\?nonce=[0-9a-f]{64}$`));
      expect(other.problems).toEqual([]);
      await other.page.close();
    });

    it("proves the receipt's record in the audit log: fetched on the page, every audit check passes", async () => {
      const seq = core.unsafeDecodeReceiptClaims(Buffer.from(signed.receipt.replace(/^0x/, ''), 'hex')).auditSeq!;
      expect(typeof seq).toBe('number');
      // A checkpoint that covers the record, stored (the enclave also signs one every second).
      await sidecar.request({ op: 'audit_checkpoint' });
      await writer.follow();
      expect(await page.inputValue('#receipt')).toBe(signed.receipt);
      const audit = await auditVerdict(page, () => page.click('#fetch-proof'));
      expect(audit.statuses).toEqual({ audit_key: 'pass', inclusion: 'pass', record: 'pass', checkpoint: 'pass' });
      expect(audit.ok, audit.text).toBe(true);
      const verdict = await verdictOf(page, '#audit-verdict');
      expect(verdict.text).toContain(`VERIFIED: record ${seq} in the audit log`);
      expect(verdict.development).toBe(true);
      expect(verdict.text).toContain('DEVELOPMENT');
      // The key the page derived from the document (WebCrypto key ID) is the log's.
      expect(audit.text).toContain(writer.info.verifier_key);
      const [record] = await writer.store.read(seq, 1);
      expect(await page.inputValue('#audit-record')).toBe(Buffer.from(record!).toString('hex'));
      expect(await page.inputValue('#audit-proof')).toMatch(new RegExp(`^c2sp\\.org/tlog-proof@v1\nindex ${seq}\n`));
      const fields = (await page.textContent('#audit-fields')) ?? '';
      const decoded = core.auditDecodeRecord(record!);
      for (const text of [decoded.kind, decoded.request_digest!, decoded.result_digest!, 'allowed', 'checkpoint (verified)']) expect(fields).toContain(text);
      // Its state effects too (a stamped request's record starts with the accepted stamp).
      expect(decoded.effects.length).toBeGreaterThan(0);
      expect(fields).toContain('state effects');
      for (const e of decoded.effects) for (const text of [e.op, e.target]) expect(fields).toContain(text);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.locator('#audit-result').screenshot({ path: join(ARTIFACTS, 'checker-audit.png') });
    });

    it("a tampered proof fails `inclusion` with the core's code; a valid proof of another record fails `record`; a share link reproduces the verdict", async () => {
      const seq = core.unsafeDecodeReceiptClaims(Buffer.from(signed.receipt.replace(/^0x/, ''), 'hex')).auditSeq!;
      const proof = await page.inputValue('#audit-proof');
      const record = Buffer.from(await page.inputValue('#audit-record'), 'hex');
      // Flip the first character of the first hash of the audit path (still canonical base64 of 32 bytes).
      const lines = proof.split('\n');
      const at = lines.findIndex((l, i) => i >= 2 && /^[A-Za-z0-9+/]{43}=$/.test(l));
      expect(at).toBeGreaterThan(1);
      lines[at] = (lines[at]![0] === 'A' ? 'B' : 'A') + lines[at]!.slice(1);
      const tampered = lines.join('\n');
      let coreCode = '';
      try {
        core.auditVerifyProof(tampered, record, writer.info.verifier_key);
      } catch (e) {
        coreCode = (e as { code: string }).code;
      }
      expect(coreCode).toBe('AUDIT_ROOT_MISMATCH');
      await page.fill('#audit-proof', tampered);
      const bad = await auditVerdict(page, () => page.click('#verify'));
      expect(bad.ok).toBe(false);
      expect(bad.statuses).toEqual({ audit_key: 'pass', inclusion: 'fail', record: 'pass', checkpoint: 'not_run' });
      expect(await page.textContent('#audit-checks li[data-check="inclusion"]')).toContain(coreCode);
      expect(await page.textContent('#audit-checks li[data-check="inclusion"] .status')).toBe('FAIL');

      // The host answers with a valid proof of an earlier record: it is in the log, but not the receipt's.
      const other = await fetch(`${url}/v1/audit/proof/${seq - 1}`).then((r) => r.text());
      const [otherRecord] = await writer.store.read(seq - 1, 1);
      await page.fill('#audit-proof', other);
      await page.fill('#audit-record', Buffer.from(otherRecord!).toString('base64'));
      const wrong = await auditVerdict(page, () => page.click('#verify'));
      expect(wrong.ok).toBe(false);
      expect(wrong.statuses).toEqual({ audit_key: 'pass', inclusion: 'pass', record: 'fail', checkpoint: 'pass' });
      expect(await page.textContent('#audit-checks li[data-check="record"]')).toContain('RECORD_SEQ_MISMATCH');
      // The receipt's record under another record's proof: the proof fails.
      await page.fill('#audit-record', record.toString('hex'));
      const mixed = await auditVerdict(page, () => page.click('#verify'));
      expect(mixed.statuses.inclusion).toBe('fail');
      expect(mixed.statuses.record).toBe('fail'); // the proof places it at another index
      await page.fill('#audit-proof', proof);
      expect((await auditVerdict(page, () => page.click('#verify'))).ok).toBe(true);

      // A share link carries the proof and the record, and reproduces the audit verdict offline.
      await page.click('#share');
      const link = await page.inputValue('#share-link');
      const params = new URLSearchParams(new URL(link).hash.slice(1));
      expect(params.get('auditProof')).toBe(proof.trim());
      expect(Buffer.from(params.get('auditRecord')!, 'base64url').equals(record)).toBe(true);
      const shared = await openPage(context, link);
      await shared.page.waitForSelector('#audit-verdict[data-ok]', { timeout: 10_000 });
      expect((await verdictOf(shared.page, '#audit-verdict')).ok).toBe(true);
      expect(await statuses(shared.page, '#audit-checks')).toEqual({ audit_key: 'pass', inclusion: 'pass', record: 'pass', checkpoint: 'pass' });
      expect(shared.requests).toEqual([`GET ${url}/checker/`]);
      expect(shared.problems).toEqual([]);
      await shared.page.close();
    });

    it('requested nothing but the page and the fetches it was asked for, and logged no error', () => {
      const fresh = requests.filter((r) => r.startsWith(`GET ${url}/v1/attestation?nonce=`));
      expect(fresh).toHaveLength(2);
      for (const r of fresh) expect(r).toMatch(/\?nonce=[0-9a-f]{64}$/);
      const audit = requests.filter((r) => r.startsWith(`GET ${url}/v1/audit/`));
      expect(audit).toHaveLength(2);
      expect(audit[0]).toMatch(/\/v1\/audit\/proof\/\d+$/);
      expect(audit[1]).toMatch(/\/v1\/audit\/tile\/entries\/(x\d{3}\/)*\d{3}(\.p\/\d+)?$/);
      expect(requests).toEqual([`GET ${url}/checker/`, fresh[0], fresh[1], `GET ${url}/v1/attestation/boot`, audit[0], audit[1]]);
      expect(problems).toEqual([]);
    });
  });

  it('page weight and time to verdict (artifacts/checker-metrics.json)', async () => {
    const d = byFile('eternis_example_attestation');
    const fragment = new URLSearchParams({ document: docBytes(d).toString('base64url'), at: new Date(d.timestamp_ms).toISOString() });
    const runs: Array<{ wallMs: number; inPageMs: number }> = [];
    for (let i = 0; i < 3; i++) {
      // A fresh context each time: nothing cached.
      const cold = await browser.newContext();
      const page = await cold.newPage();
      const started = Date.now();
      await page.goto(`${fileUrl}#${fragment}`);
      await page.waitForSelector('#verdict[data-ok="true"]', { timeout: 10_000 });
      const wallMs = Date.now() - started;
      const inPageMs = Number(await page.getAttribute('#verdict', 'data-elapsed-ms'));
      runs.push({ wallMs, inPageMs });
      await cold.close();
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const html = readFileSync(CHECKER_PAGE_PATH);
    Object.assign(metrics, {
      pageBytes: html.length,
      wasmBytes: Buffer.from(/const WASM_BASE64 = "([^"]*)"/.exec(html.toString('utf8'))![1]!, 'base64').length,
      timeToVerdictMs: { medianWall: median(runs.map((r) => r.wallMs)), medianInPage: median(runs.map((r) => r.inPageMs)), runs },
      what: 'pageBytes: host/checker/dist/index.html; timeToVerdictMs: navigation to a share link (file://, eternis_example_attestation) until the verdict is shown, fresh browser context each run; wall = measured by the test around page.goto, inPage = performance.now() when the verdict was rendered',
      chromium: browser.version(),
      measuredAt: new Date().toISOString(),
    });
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'checker-metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
    console.log(`[checker] page weight ${html.length} bytes; time to verdict: median ${median(runs.map((r) => r.wallMs))} ms (wall), ${median(runs.map((r) => r.inPageMs))} ms (in page)`);
    // The issue asks for under a second on this machine; the bound leaves room for a loaded CI machine.
    expect(median(runs.map((r) => r.inPageMs))).toBeLessThan(3_000);
  }, 60_000);
});

function maybeStack(name: string, fn: () => void): void {
  if (HAVE_ENCLAVE) describe(name, fn);
  else describe.skip(`${name} (${SKIP_REASON})`, fn);
}
