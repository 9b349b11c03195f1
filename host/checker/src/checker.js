// The checker page's logic: plain JavaScript, no framework, no network access
// except the fetch the user asks for. Every verification decision is taken by
// the WASM verifier (`checkAttestation`, `checkReceipt`: sentinel-attestation
// and sentinel-evidence compiled to WebAssembly); this file reads the form,
// converts text to bytes, calls it, and renders what it reports.
//
// build.mjs puts this file in one inline module script after two bindings:
//   `verifier`     the wasm-bindgen web glue's exports (bindings/wasm-verify/web)
//   `WASM_BASE64`  the verifier's .wasm bytes, base64 (no fetch: works from file://)

/* global verifier, WASM_BASE64 */

const $ = (id) => document.getElementById(id);

const STATUS_TEXT = { pass: 'PASS', fail: 'FAIL', not_requested: 'not requested', not_run: 'not run' };
const PCR_FIELDS = [
  ['0', 'pcr0', 'PCR0'],
  ['1', 'pcr1', 'PCR1'],
  ['2', 'pcr2', 'PCR2'],
  ['8', 'pcr8', 'PCR8'],
];
/** Fragment parameter -> input id (text inputs); `root`, `allowDebug` and `at` are handled on their own. */
const FRAGMENT_FIELDS = [
  ['document', 'document'],
  ['pcr0', 'pcr0'],
  ['pcr1', 'pcr1'],
  ['pcr2', 'pcr2'],
  ['pcr8', 'pcr8'],
  ['configHash', 'config-hash'],
  ['policyHash', 'policy-hash'],
  ['nonce', 'nonce'],
  ['maxAgeSec', 'max-age'],
  ['receipt', 'receipt'],
];
const DEFAULT_MAX_AGE_SEC = 300;

const state = {
  /** DER of the embedded AWS Nitro Root-G1 (from the WASM). */
  awsRoot: null,
  /** DER of a development root the user loaded, or null (the AWS root is used). */
  devRoot: null,
  /** The last decoded document's timestamp (ms), for "the document's own timestamp". */
  documentTimestampMs: null,
  /** The verification time the last check used (ms), put in share links. */
  lastAtMs: null,
  ready: false,
};

// --- errors shown on the page, never only in the console -------------------------

class InputError extends Error {}

function showErrors(messages) {
  $('errors').textContent = '';
  for (const message of messages) addError(message);
}

function addError(message) {
  const p = document.createElement('p');
  p.textContent = message;
  $('errors').append(p);
  $('errors').scrollIntoView?.({ block: 'nearest' });
}

function describe(e) {
  if (e && typeof e === 'object' && typeof e.code === 'string') return `${e.code}: ${e.message ?? ''}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

window.addEventListener('error', (event) => addError(`Unexpected error: ${event.message}`));
window.addEventListener('unhandledrejection', (event) => addError(`Unexpected error: ${describe(event.reason)}`));

// --- bytes from text -----------------------------------------------------------

function snippet(text) {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function bytesToHex(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function base64ToBytes(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function bytesToBase64(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

function bytesToBase64Url(bytes) {
  return bytesToBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Hex (0x optional) or base64 (standard or URL-safe, padding optional) to bytes; PEM armour is
 * stripped. Whitespace is ignored. Hex wins when the text is both. Throws InputError naming `what`.
 */
function parseBytes(text, what) {
  let s = text.trim();
  const pem = /-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END [A-Z0-9 ]+-----/.exec(s);
  if (pem) s = pem[1];
  s = s.replace(/\s+/g, '');
  if (s === '') throw new InputError(`${what}: empty`);
  const hex = s.replace(/^0x/i, '');
  if (/^[0-9a-fA-F]+$/.test(hex) && hex.length % 2 === 0) return hexToBytes(hex);
  if (/^0x/i.test(s)) {
    const bad = /[^0-9a-fA-F]/.exec(hex);
    throw new InputError(
      bad ? `${what}: Not hex: "${bad[0]}" at position ${bad.index + 2} (${snippet(s)})` : `${what}: Not hex: an odd number of digits (${hex.length})`,
    );
  }
  const bad = /[^A-Za-z0-9+/_=-]/.exec(s);
  if (bad) throw new InputError(`${what}: Not hex or base64: "${bad[0]}" at position ${bad.index} (${snippet(s)})`);
  let b64 = s.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (b64.length % 4 === 1) throw new InputError(`${what}: Not hex or base64: the base64 is truncated (${s.length} characters)`);
  b64 += '='.repeat((4 - (b64.length % 4)) % 4);
  try {
    return base64ToBytes(b64);
  } catch {
    throw new InputError(`${what}: Not hex or base64: ${snippet(s)}`);
  }
}

/** A fixed-size hash as lowercase hex without 0x, or null when the field is empty. */
function parseHash(id, what, bytes) {
  const raw = $(id).value.trim();
  if (raw === '') return null;
  const hex = raw.replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]*$/.test(hex)) throw new InputError(`${what}: Not hex: ${snippet(raw)}`);
  if (hex.length !== bytes * 2) throw new InputError(`${what}: expected ${bytes} bytes of hex (${bytes * 2} digits), got ${hex.length} digits`);
  return hex.toLowerCase();
}

/** A file's bytes: raw binary as is; text (base64, hex, PEM) decoded. */
async function fileBytes(file, what, binaryFirstBytes) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes.length === 0) throw new InputError(`${what}: the file ${file.name} is empty`);
  if (binaryFirstBytes.includes(bytes[0])) return bytes;
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes; // binary of another shape: the verifier says what is wrong with it
  }
  return parseBytes(text, `${what} (${file.name})`);
}

// --- time ----------------------------------------------------------------------

/** The datetime-local value (read as UTC) to Unix ms; empty = now. */
function readAtMs() {
  const raw = $('at').value.trim();
  if (raw === '') return Date.now();
  const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(raw) ? raw : `${raw}Z`);
  if (!Number.isFinite(ms)) throw new InputError(`Verification time: not a date and time: ${raw}`);
  return ms;
}

/** Unix ms to a datetime-local value (UTC, milliseconds kept). */
function atValue(ms) {
  return new Date(ms).toISOString().replace(/Z$/, '');
}

function isoTime(ms) {
  return new Date(ms).toISOString();
}

// --- the trusted root ---------------------------------------------------------

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function sha256Hex(bytes) {
  if (!globalThis.crypto?.subtle) return null;
  return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}

async function setRoot(der) {
  if (der !== null && state.awsRoot !== null && sameBytes(der, state.awsRoot)) der = null; // the AWS root itself
  state.devRoot = der;
  const banner = $('dev-banner');
  if (der === null) {
    $('root-label').textContent = 'AWS Nitro Enclaves Root-G1 (embedded)';
    banner.hidden = true;
    return;
  }
  const fingerprint = await sha256Hex(der);
  const named = fingerprint ? ` (sha256 ${fingerprint})` : '';
  $('root-label').textContent = `DEVELOPMENT root${named}: not AWS hardware`;
  $('dev-banner-text').textContent = `Documents are checked against a root you loaded${named}, not the AWS Nitro Enclaves Root-G1.`;
  banner.hidden = false;
}

async function loadRootFromInputs() {
  const file = $('root-file').files?.[0];
  let der;
  if ($('root-text').value.trim() !== '') der = parseBytes($('root-text').value, 'Development root');
  else if (file) der = await fileBytes(file, 'Development root', [0x30]);
  else throw new InputError('Development root: choose a file or paste a certificate first');
  if (der[0] !== 0x30) throw new InputError('Development root: not a DER certificate (it must start with a SEQUENCE)');
  await setRoot(der);
}

// --- rendering -----------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function renderChecks(list, checks) {
  list.textContent = '';
  for (const check of checks) {
    const detail = el('span', { class: 'detail' }, check.detail ?? '');
    if (check.code) detail.append(' ', el('code', {}, check.code));
    list.append(
      el(
        'li',
        { 'data-check': check.id, 'data-status': check.status },
        el('span', { class: 'status' }, STATUS_TEXT[check.status] ?? check.status),
        el('span', { class: 'label' }, check.label),
        detail,
      ),
    );
  }
}

function renderFields(dl, rows) {
  dl.textContent = '';
  for (const [name, value] of rows) {
    if (value === undefined) continue;
    dl.append(el('dt', {}, name), el('dd', {}, value === null ? 'none' : value));
  }
}

function failedIds(checks) {
  return checks.filter((c) => c.status === 'fail').map((c) => c.id);
}

function setVerdict(node, report, what) {
  const failed = failedIds(report.checks);
  node.textContent = '';
  node.className = `verdict ${report.ok ? 'ok' : 'bad'}`;
  node.dataset.ok = String(report.ok);
  node.dataset.development = String(report.development);
  node.append(report.ok ? `VERIFIED: ${what}` : `NOT VERIFIED: ${what}, failed: ${failed.join(', ')}`);
  if (report.development) node.append(' ', el('span', { class: 'dev-label' }, 'DEVELOPMENT root: not AWS hardware'));
}

function pcrTable(pcrs) {
  const table = el('table', {}, el('caption', { class: 'help' }, 'PCRs that are not all zero'));
  let shown = 0;
  for (const [index, value] of Object.entries(pcrs).sort((a, b) => Number(a[0]) - Number(b[0]))) {
    if (/^(0x)?0*$/.test(value)) continue;
    table.append(el('tr', {}, el('th', { scope: 'row' }, `PCR${index}`), el('td', {}, value)));
    shown++;
  }
  return shown === 0 ? 'all zero (debug mode)' : table;
}

function attestedKeysText(publicKey) {
  if (!publicKey) return null;
  try {
    const keys = verifier.attestedKeys(hexToBytes(publicKey.replace(/^0x/, '')));
    return `receipt ${keys.receiptKey}, session ${keys.sessionKey}, import ${keys.importKey}`;
  } catch {
    return undefined; // not a Sentinel key bundle (another enclave's document)
  }
}

function renderAttestation(report, atMs, pcr0Pinned) {
  setVerdict($('verdict'), report, 'attestation document');
  const root = report.development ? `DEVELOPMENT root, sha256 ${report.rootFingerprint}` : `AWS Nitro Enclaves Root-G1, sha256 ${report.rootFingerprint}`;
  const unpinned = pcr0Pinned ? '' : ' No expected PCR0 was given: any enclave image passes.';
  $('verdict-context').textContent = `Checked at ${isoTime(atMs)} against the ${root}.${unpinned}`;
  renderChecks($('checks'), report.checks);
  const d = report.document;
  state.documentTimestampMs = d ? d.timestampMs : null;
  $('at-document').disabled = state.documentTimestampMs === null;
  if (!d) {
    renderFields($('fields'), [['document', 'not decoded (see the structure check)']]);
    return;
  }
  renderFields($('fields'), [
    ['module id', d.moduleId],
    ['timestamp', `${isoTime(d.timestampMs)} (${d.timestampMs} ms)`],
    ['digest', d.digest],
    ['PCRs', pcrTable(d.pcrs)],
    ['nonce', d.nonce],
    ['user data', d.userData],
    ['configuration hash', report.userData ? report.userData.configHash : undefined],
    ['policy hash', report.userData ? (report.userData.policyHash ?? 'none installed') : undefined],
    ['public key', d.publicKey],
    ['attested keys', attestedKeysText(d.publicKey)],
    ['root', `${report.development ? 'DEVELOPMENT' : 'AWS Nitro Enclaves Root-G1'} (sha256 ${report.rootFingerprint})`],
    ['leaf certificate', el('details', {}, el('summary', {}, 'DER, hex'), d.certificate)],
  ]);
}

function renderReceipt(report) {
  setVerdict($('receipt-verdict'), report, 'receipt');
  renderChecks($('receipt-checks'), report.checks);
  const c = report.claims;
  if (!c) {
    renderFields($('receipt-fields'), [['claims', 'not decoded (see the receipt structure check)']]);
    return;
  }
  let rules = null;
  if (c.rulesEvaluated.length > 0) {
    rules = el('table', {}, el('tr', {}, el('th', {}, 'rule'), el('th', {}, 'type'), el('th', {}, 'result'), el('th', {}, 'detail')));
    for (const r of c.rulesEvaluated) rules.append(el('tr', {}, el('td', {}, r.rule), el('td', {}, r.type), el('td', {}, r.result), el('td', {}, r.detail ?? '')));
  }
  renderFields($('receipt-fields'), [
    ['request id', c.requestId],
    ['time', `${isoTime(Math.floor(c.timestampUs / 1000))} (${c.timestampUs} µs)`],
    ['principal', c.principal],
    ['operation', c.op],
    ['key id', c.keyId],
    ['decision', c.code ? `${c.decision} (${c.code})` : c.decision],
    ['payload hash', c.payloadHash],
    ['result hash', c.resultHash],
    ['policy rules', rules ?? 'none evaluated'],
    ['configuration hash', c.configHash],
    ['policy hash', c.policyHash],
    ['attestation hash', c.attestationHash],
    ['approvals', c.approvals.length > 0 ? c.approvals.join(', ') : 'none'],
    ['oversight', `${c.oversightState} (${c.oversightScope})`],
  ]);
}

// --- the check ------------------------------------------------------------------

function readInputs() {
  const errors = [];
  const take = (f) => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      errors.push(e.message);
      return null;
    }
  };
  const docText = $('document').value;
  const doc = docText.trim() === '' ? (errors.push('Attestation document: paste one, upload a file or fetch one from a Sentinel URL'), null) : take(() => parseBytes(docText, 'Attestation document'));
  const pcrs = {};
  for (const [index, id, name] of PCR_FIELDS) {
    const value = take(() => parseHash(id, `Expected ${name}`, 48));
    if (value) pcrs[index] = value;
  }
  const configHash = take(() => parseHash('config-hash', 'Expected configuration hash', 32));
  const policyHash = take(() => parseHash('policy-hash', 'Expected policy hash', 32));
  const nonce = take(() => {
    const raw = $('nonce').value.trim();
    if (raw === '') return null;
    const hex = raw.replace(/^0x/i, '');
    if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length % 2 !== 0) throw new InputError(`Expected nonce: Not hex: ${snippet(raw)}`);
    return hex.toLowerCase();
  });
  const maxAgeMs = take(() => {
    const raw = $('max-age').value.trim();
    if (raw === '') return null;
    if (!/^\d+$/.test(raw) || Number(raw) <= 0) throw new InputError(`Maximum age: a positive whole number of seconds, not ${snippet(raw)}`);
    return Number(raw) * 1000;
  });
  const atMs = take(readAtMs);
  const receiptText = $('receipt').value;
  const receipt = receiptText.trim() === '' ? null : take(() => parseBytes(receiptText, 'Receipt'));
  return { errors, doc, pcrs, configHash, policyHash, nonce, maxAgeMs, atMs, receipt, allowDebug: $('allow-debug').checked };
}

/** Reads the form, runs the verifier, renders the verdicts. Returns true when a verdict was shown. */
function runCheck() {
  showErrors([]);
  const input = readInputs();
  if (input.errors.length > 0) {
    showErrors(input.errors);
    $('attestation-result').hidden = true;
    $('receipt-result').hidden = true;
    return false;
  }
  const expect = {};
  if (Object.keys(input.pcrs).length > 0) expect.pcrs = input.pcrs;
  if (input.nonce) expect.nonce = input.nonce;
  if (input.maxAgeMs) expect.maxAgeMs = input.maxAgeMs;
  if (input.configHash) expect.configHash = input.configHash;
  if (input.policyHash) expect.policyHash = input.policyHash;
  const options = { atMs: input.atMs, allowDebug: input.allowDebug, expect };
  if (state.devRoot) options.root = state.devRoot;
  let report;
  try {
    report = verifier.checkAttestation(input.doc, options);
  } catch (e) {
    showErrors([`The verifier refused the inputs: ${describe(e)}`]);
    $('attestation-result').hidden = true;
    return false;
  }
  state.lastAtMs = input.atMs;
  renderAttestation(report, input.atMs, input.pcrs['0'] !== undefined);
  $('attestation-result').hidden = false;

  $('receipt-result').hidden = true;
  if (input.receipt) {
    const receiptOptions = { root: state.devRoot ?? state.awsRoot, atMs: input.atMs, allowDebug: input.allowDebug };
    if (input.pcrs['0']) receiptOptions.expectedPcr0 = input.pcrs['0'];
    if (input.configHash) receiptOptions.expectedConfigHash = input.configHash;
    if (input.policyHash) receiptOptions.expectedPolicyHash = input.policyHash;
    try {
      renderReceipt(verifier.checkReceipt(input.receipt, input.doc, receiptOptions));
      $('receipt-result').hidden = false;
    } catch (e) {
      addError(`The verifier refused the receipt inputs: ${describe(e)}`);
    }
  }
  $('verdict').dataset.elapsedMs = String(Math.round(performance.now()));
  $('attestation-result').scrollIntoView?.({ block: 'start' });
  return true;
}

// --- fetching from a Sentinel API (the only network access, on request) -----------

function apiBase() {
  const raw = $('url').value.trim();
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(`Sentinel URL: not a URL: ${snippet(raw) || '(empty)'}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InputError(`Sentinel URL: must be http(s), not ${url.protocol}`);
  return url.href.replace(/\/+$/, '');
}

async function getJson(url) {
  let response;
  try {
    response = await fetch(url, { cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' });
  } catch (e) {
    throw new InputError(
      `Fetch failed: ${url}: ${describe(e)}. The API must be reachable from this browser and allow this page's origin ` +
        "(Sentinel's attestation routes send Access-Control-Allow-Origin: *); with a development HTTPS certificate, open the API's URL in this browser once and accept it.",
    );
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // reported below
  }
  if (!response.ok) {
    const err = body?.error;
    throw new InputError(`Fetch failed: ${url}: HTTP ${response.status}${err ? ` ${err.code}: ${err.message}` : ''}`);
  }
  if (body === null || typeof body !== 'object') throw new InputError(`Fetch failed: ${url}: the answer is not JSON`);
  return body;
}

async function fetchDocument(kind) {
  showErrors([]);
  const buttons = [$('fetch-fresh'), $('fetch-boot')];
  buttons.forEach((b) => (b.disabled = true));
  try {
    const base = apiBase();
    if (kind === 'fresh') {
      const nonce = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
      const body = await getJson(`${base}/v1/attestation?nonce=${nonce}`);
      if (typeof body.document !== 'string') throw new InputError('Fetch: the answer has no document');
      $('document').value = body.document;
      // Expected: the nonce generated here, whatever the answer claims it carries.
      $('nonce').value = nonce;
      if ($('max-age').value.trim() === '') $('max-age').value = String(DEFAULT_MAX_AGE_SEC);
    } else {
      const body = await getJson(`${base}/v1/attestation/boot`);
      if (typeof body.attestation !== 'string') throw new InputError('Fetch: the answer has no attestation');
      $('document').value = body.attestation;
      $('nonce').value = '';
      $('max-age').value = '';
    }
    $('at').value = '';
    runCheck();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    showErrors([e.message]);
  } finally {
    buttons.forEach((b) => (b.disabled = !state.ready));
  }
}

// --- share links: the inputs in the URL fragment ----------------------------------

function fragmentOf() {
  const params = new URLSearchParams();
  for (const [name, id] of FRAGMENT_FIELDS) {
    const value = $(id).value.trim();
    if (value === '') continue;
    if (name === 'document' || name === 'receipt') params.set(name, bytesToBase64Url(parseBytes(value, name === 'document' ? 'Attestation document' : 'Receipt')));
    else params.set(name, value);
  }
  if ($('allow-debug').checked) params.set('allowDebug', '1');
  // The time the shown verdict used, so the link reproduces it (a "now" check included).
  const at = $('at').value.trim() === '' && state.lastAtMs !== null ? state.lastAtMs : $('at').value.trim() === '' ? null : readAtMs();
  if (at !== null) params.set('at', isoTime(at));
  if (state.devRoot) params.set('root', bytesToBase64Url(state.devRoot));
  return params.toString();
}

function makeShareLink() {
  showErrors([]);
  try {
    const fragment = fragmentOf();
    const url = `${location.href.split('#')[0]}#${fragment}`;
    history.replaceState(null, '', `#${fragment}`);
    $('share-link').value = url;
    $('share-box').hidden = false;
    $('share-link').focus();
    $('share-link').select();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    showErrors([e.message]);
  }
}

/** Fills the form from the fragment and runs the check; false when the fragment holds no inputs. */
async function loadFragment() {
  const hash = location.hash.replace(/^#/, '');
  if (!hash.includes('=')) return false;
  const params = new URLSearchParams(hash);
  for (const [name, id] of FRAGMENT_FIELDS) $(id).value = params.get(name) ?? '';
  $('allow-debug').checked = params.get('allowDebug') === '1';
  $('at').value = '';
  const at = params.get('at');
  if (at !== null) {
    const ms = Date.parse(at);
    if (Number.isFinite(ms)) $('at').value = atValue(ms);
    else addError(`Share link: "at" is not a date and time: ${snippet(at)}`);
  }
  const root = params.get('root');
  try {
    await setRoot(root === null ? null : parseBytes(root, 'Share link root'));
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    addError(e.message);
    return true;
  }
  const earlier = [...$('errors').children].map((p) => p.textContent);
  runCheck();
  for (const message of earlier) addError(message);
  return true;
}

// --- start ----------------------------------------------------------------------

async function start() {
  const startup = $('startup');
  try {
    if (typeof WebAssembly !== 'object') throw new Error('this browser has no WebAssembly');
    await verifier.default({ module_or_path: base64ToBytes(WASM_BASE64) });
    if (typeof verifier.checkAttestation !== 'function' || typeof verifier.checkReceipt !== 'function') {
      throw new Error('this build of the verifier lacks checkAttestation/checkReceipt');
    }
    state.awsRoot = verifier.awsNitroRootG1();
  } catch (e) {
    startup.className = 'errors';
    startup.setAttribute('role', 'alert');
    startup.textContent = `The verifier could not start: ${describe(e)}. Nothing can be verified on this page.`;
    return;
  }
  startup.hidden = true;
  startup.textContent = '';

  if (location.protocol === 'http:' || location.protocol === 'https:') $('url').value = location.origin;
  $('form').addEventListener('submit', (event) => {
    event.preventDefault();
    runCheck();
  });
  $('fetch-fresh').addEventListener('click', () => void fetchDocument('fresh'));
  $('fetch-boot').addEventListener('click', () => void fetchDocument('boot'));
  $('share').addEventListener('click', makeShareLink);
  $('at-now').addEventListener('click', () => {
    $('at').value = atValue(Date.now());
  });
  $('at-document').addEventListener('click', () => {
    if (state.documentTimestampMs === null) return;
    $('at').value = atValue(state.documentTimestampMs);
    runCheck();
  });
  const onFile = (inputId, targetId, what, firstBytes) =>
    $(inputId).addEventListener('change', async () => {
      const file = $(inputId).files?.[0];
      if (!file) return;
      try {
        $(targetId).value = bytesToBase64(await fileBytes(file, what, firstBytes));
        showErrors([]);
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        showErrors([e.message]);
      } finally {
        $(inputId).value = ''; // the same file can be chosen again
      }
    });
  // COSE_Sign1: an array of 4 (0x84), or tagged 18 (0xd2).
  onFile('document-file', 'document', 'Attestation document', [0x84, 0xd2]);
  onFile('receipt-file', 'receipt', 'Receipt', [0x84, 0xd2]);
  $('root-file').addEventListener('change', () => ($('root-text').value = ''));
  $('root-load').addEventListener('click', async () => {
    showErrors([]);
    try {
      await loadRootFromInputs();
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      showErrors([e.message]);
    }
  });
  $('root-reset').addEventListener('click', async () => {
    $('root-text').value = '';
    $('root-file').value = '';
    await setRoot(null);
  });
  window.addEventListener('hashchange', () => void loadFragment());

  state.ready = true;
  for (const id of ['verify', 'fetch-fresh', 'fetch-boot']) $(id).disabled = false;
  document.body.dataset.ready = 'true';
  await loadFragment();
}

void start();
