// The checker page's logic: plain JavaScript, no framework, no network access
// except the fetches the user asks for. Every cryptographic decision is taken by
// the WASM verifier (`checkAttestation`, `checkReceipt`, `verifyAuditProof`:
// sentinel-attestation, sentinel-evidence and sentinel-audit compiled to
// WebAssembly); this file reads the form, converts text to bytes, calls it,
// compares the fields it returns, and renders what it reports.
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
  ['auditProof', 'audit-proof'],
  ['auditRecord', 'audit-record'],
];
/** Fragment parameters carried as base64url bytes (the form takes hex or base64). */
const FRAGMENT_BYTES = { document: 'Attestation document', receipt: 'Receipt', auditRecord: 'Audit record' };
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
  /** Counts audit checks (they finish asynchronously): only the latest one renders. */
  auditRun: 0,
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
    return `receipt ${keys.receiptKey}, session ${keys.sessionKey}, import ${keys.importKey}, audit ${keys.auditKey}`;
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

/**
 * What a receipt's `keyStorage` claim means (docs/receipts.md): how the key that answer created is kept.
 * `null`: the answer created no key (the claim is absent). Anything else decodes only as one of the three.
 */
const KEY_STORAGE = {
  'sealed:aws-kms': { text: 'sealed:aws-kms (sealed under the AWS KMS master key: survives restarts)', label: null },
  'sealed:development': {
    text: 'sealed:development (DEVELOPMENT: sealed under a development master key kept on the host: survives restarts, protects nothing from the host; not for real funds)',
    label: 'DEVELOPMENT key storage',
  },
  ephemeral: { text: 'ephemeral (lost on restart: the key exists only in enclave memory)', label: 'EPHEMERAL key: lost on restart' },
};

function keyStorageOf(claims) {
  const storage = claims.keyStorage ?? null;
  return storage === null ? null : (KEY_STORAGE[storage] ?? { text: storage, label: null });
}

function renderReceipt(report) {
  setVerdict($('receipt-verdict'), report, 'receipt');
  renderChecks($('receipt-checks'), report.checks);
  const c = report.claims;
  const verdict = $('receipt-verdict');
  verdict.dataset.keyStorage = c?.keyStorage ?? '';
  if (!c) {
    renderFields($('receipt-fields'), [['claims', 'not decoded (see the receipt structure check)']]);
    return;
  }
  // A key that is not KMS-sealed is said next to the verdict, not only among the fields.
  const storage = keyStorageOf(c);
  if (storage?.label) verdict.append(' ', el('span', { class: 'dev-label', 'data-key-storage': c.keyStorage }, storage.label));
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
    // Only in the receipt of an answer that created a key.
    ['key storage', storage ? storage.text : undefined],
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
  // The proof's text is exact (a signed note); only surrounding whitespace is dropped and its final newline kept.
  const proofText = $('audit-proof').value.trim();
  const recordText = $('audit-record').value;
  const auditProof = proofText === '' ? null : `${proofText}\n`;
  const auditRecord = recordText.trim() === '' ? null : take(() => parseBytes(recordText, 'Audit record'));
  if (auditProof !== null && recordText.trim() === '') errors.push('Audit record: paste or upload the record too (the proof does not contain it), or fetch both');
  if (auditProof === null && recordText.trim() !== '') errors.push('Inclusion proof: paste or upload the proof too, or fetch both');
  return { errors, doc, pcrs, configHash, policyHash, nonce, maxAgeMs, atMs, receipt, auditProof, auditRecord, allowDebug: $('allow-debug').checked };
}

/** Reads the form, runs the verifier, renders the verdicts. Returns true when a verdict was shown. */
function runCheck() {
  showErrors([]);
  const input = readInputs();
  if (input.errors.length > 0) {
    showErrors(input.errors);
    $('attestation-result').hidden = true;
    $('receipt-result').hidden = true;
    $('audit-result').hidden = true;
    state.auditRun++;
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
    $('audit-result').hidden = true;
    state.auditRun++;
    return false;
  }
  state.lastAtMs = input.atMs;
  renderAttestation(report, input.atMs, input.pcrs['0'] !== undefined);
  $('attestation-result').hidden = false;

  $('receipt-result').hidden = true;
  let receiptReport = null;
  if (input.receipt) {
    const receiptOptions = { root: state.devRoot ?? state.awsRoot, atMs: input.atMs, allowDebug: input.allowDebug };
    if (input.pcrs['0']) receiptOptions.expectedPcr0 = input.pcrs['0'];
    if (input.configHash) receiptOptions.expectedConfigHash = input.configHash;
    if (input.policyHash) receiptOptions.expectedPolicyHash = input.policyHash;
    try {
      receiptReport = verifier.checkReceipt(input.receipt, input.doc, receiptOptions);
      renderReceipt(receiptReport);
      $('receipt-result').hidden = false;
    } catch (e) {
      addError(`The verifier refused the receipt inputs: ${describe(e)}`);
    }
  }
  $('audit-result').hidden = true;
  const auditRun = ++state.auditRun;
  if (input.auditProof !== null && input.auditRecord !== null) {
    void runAudit(auditRun, input.auditProof, input.auditRecord, report, input.receipt ? receiptReport : null, input.receipt !== null);
  }
  $('verdict').dataset.elapsedMs = String(Math.round(performance.now()));
  $('attestation-result').scrollIntoView?.({ block: 'start' });
  return true;
}

// --- the audit log: a record's inclusion proof (docs/audit.md) ---------------------

const TILE_WIDTH = 256;

/** A signed checkpoint note's body: `origin`, `size`, `root` (hex), or null when it does not have that shape. */
function checkpointBody(note) {
  const [origin, size, root] = note.split('\n');
  if (!origin || !/^(0|[1-9]\d{0,15})$/.test(size ?? '')) return null;
  let rootHex = null;
  try {
    rootHex = `0x${bytesToHex(base64ToBytes(root ?? ''))}`;
  } catch {
    // left to the verifier
  }
  return { origin, size: Number(size), root: rootHex };
}

/** A tlog-proof's index and its checkpoint (unverified: for display and routing only), or null. */
function proofParts(proof) {
  const at = proof.indexOf('\n\n');
  if (at < 0) return null;
  const index = /^index (\d+)$/m.exec(proof.slice(0, at));
  const note = proof.slice(at + 2);
  return { index: index ? Number(index[1]) : null, note, checkpoint: checkpointBody(note) };
}

/**
 * The key ID of a Go sumdb/note Ed25519 verifier key: the first 4 bytes of SHA-256(name || "\n" || 0x01 || key).
 * WebCrypto when the page has it (every secure context: https, localhost, file://); elsewhere the ID the
 * checkpoint's signature line states (the verifier checks it against the name and key, so a wrong one fails).
 */
async function noteKeyId(name, key, note) {
  if (globalThis.crypto?.subtle) {
    const data = new Uint8Array([...new TextEncoder().encode(name), 0x0a, 0x01, ...key]);
    return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', data)).subarray(0, 4));
  }
  for (const line of note.split('\n')) {
    const sig = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (sig && sig[1] === name) {
      try {
        return bytesToHex(base64ToBytes(sig[2]).subarray(0, 4));
      } catch {
        // no usable ID
      }
    }
  }
  return '00000000';
}

/** The audit key the verified document commits to, as a note verifier key; a failed check otherwise. */
async function attestedVerifierKey(docReport, note) {
  const publicKey = docReport.document?.publicKey;
  if (!publicKey) return { error: ['ATTESTED_KEYS_MALFORMED', 'The document carries no public_key, so it names no audit key.'] };
  let keys;
  try {
    keys = verifier.attestedKeys(hexToBytes(publicKey.replace(/^0x/, '')));
  } catch (e) {
    return { error: [e?.code ?? 'ATTESTED_KEYS_MALFORMED', `The document's public_key is not Sentinel's key bundle: ${e?.message ?? e}`] };
  }
  const key = hexToBytes(keys.auditKey.replace(/^0x/, ''));
  const origin = `sentinel/log/${bytesToHex(key.subarray(0, 8))}`;
  const id = await noteKeyId(origin, key, note);
  return { origin, verifierKey: `${origin}+${id}+${bytesToBase64(new Uint8Array([0x01, ...key]))}` };
}

function auditCheck(id, label, status, detail, code = null) {
  return { id, label, status, detail, code };
}

/** Which of the record's fields differ from the receipt's, as [code, what] pairs. */
function recordMismatches(record, claims, proofIndex) {
  const out = [];
  if (claims.auditSeq === null) out.push(['RECORD_SEQ_MISMATCH', 'the receipt names no audit record (auditSeq is null)']);
  else if (record.seq !== claims.auditSeq) out.push(['RECORD_SEQ_MISMATCH', `the record is number ${record.seq}, the receipt's is ${claims.auditSeq}`]);
  if (proofIndex !== null && record.seq !== proofIndex) out.push(['RECORD_SEQ_MISMATCH', `the record says it is number ${record.seq}, the proof places it at ${proofIndex}`]);
  if (record.request_digest !== claims.payloadHash) out.push(['RECORD_REQUEST_MISMATCH', `its request digest ${record.request_digest} is not the receipt's payload hash ${claims.payloadHash}`]);
  if (record.result_digest !== claims.resultHash) out.push(['RECORD_RESULT_MISMATCH', `its result digest ${record.result_digest} is not the receipt's result hash ${claims.resultHash}`]);
  return out;
}

/**
 * Checks an inclusion proof and its record against the verified document and receipt, then renders the
 * audit verdict, unless a later check started meanwhile (`run`).
 */
async function runAudit(run, proof, recordBytes, docReport, receiptReport, receiptGiven) {
  const parts = proofParts(proof);
  const note = parts?.note ?? '';
  const checks = [];
  const L = {
    key: 'Checkpoint key is the attested audit key',
    inclusion: 'Inclusion proof under the signed checkpoint',
    record: "The record is the receipt's",
    checkpoint: "Checkpoint at least as recent as the receipt's",
  };

  // 1. The key: from the verified document, never from the server.
  let key = null;
  if (!docReport.ok) {
    checks.push(auditCheck('audit_key', L.key, 'not_run', 'The attestation document did not verify, so it vouches for no audit key.'));
  } else {
    key = await attestedVerifierKey(docReport, note);
    if (run !== state.auditRun) return;
    if (key.error) {
      checks.push(auditCheck('audit_key', L.key, 'fail', key.error[1], key.error[0]));
      key = null;
    } else if (parts?.checkpoint && parts.checkpoint.origin !== key.origin) {
      checks.push(
        auditCheck('audit_key', L.key, 'fail', `The proof's checkpoint is of the log ${parts.checkpoint.origin}; the document's audit key is the log ${key.origin}'s.`, 'AUDIT_KEY_MISMATCH'),
      );
      key = null;
    } else {
      checks.push(auditCheck('audit_key', L.key, 'pass', `The log key is the document's audit key (public_key bytes 97..129): ${key.verifierKey}.`));
    }
  }

  // 2. The proof: the checkpoint's signature by that key, then the record's leaf under its root.
  let checkpoint = null;
  if (key === null) {
    checks.push(auditCheck('inclusion', L.inclusion, 'not_run', "Not checked: the document gave no audit key for this proof's checkpoint."));
  } else {
    try {
      checkpoint = verifier.verifyAuditProof(proof, recordBytes, key.verifierKey);
      checks.push(
        auditCheck('inclusion', L.inclusion, 'pass', `The record is entry ${parts?.index} of the tree of ${checkpoint.size} records whose root ${checkpoint.root} the audit key signed.`),
      );
    } catch (e) {
      checks.push(auditCheck('inclusion', L.inclusion, 'fail', e?.message ?? String(e), e?.code ?? 'AUDIT_PROOF_MALFORMED'));
    }
  }

  // 3. The record against the receipt's claims.
  let record = null;
  let recordError = null;
  try {
    record = verifier.auditDecodeRecord(recordBytes);
  } catch (e) {
    recordError = e;
  }
  const claims = receiptReport?.ok ? receiptReport.claims : null;
  if (recordError) {
    checks.push(auditCheck('record', L.record, 'fail', `The record does not decode: ${recordError?.message ?? recordError}`, recordError?.code ?? 'AUDIT_RECORD_MALFORMED'));
  } else if (!receiptGiven) {
    checks.push(auditCheck('record', L.record, 'not_requested', 'No receipt in the form: the record is not compared with one.'));
  } else if (!claims) {
    checks.push(auditCheck('record', L.record, 'not_run', 'The receipt did not verify, so its claims are not compared.'));
  } else {
    const bad = recordMismatches(record, claims, parts?.index ?? null);
    checks.push(
      bad.length > 0
        ? auditCheck('record', L.record, 'fail', `Not the receipt's record: ${bad.map((b) => b[1]).join('; ')}.`, bad[0][0])
        : auditCheck('record', L.record, 'pass', `Record ${record.seq} is the receipt's auditSeq; its request digest is the receipt's payload hash and its result digest the receipt's result hash.`),
    );
  }

  // 4. The proof's checkpoint is not older than the one the receipt names.
  const named = claims?.auditCheckpoint ? checkpointBody(claims.auditCheckpoint) : null;
  if (checkpoint === null) {
    checks.push(auditCheck('checkpoint', L.checkpoint, 'not_run', 'The proof did not verify, so its checkpoint is not compared.'));
  } else if (!receiptGiven) {
    checks.push(auditCheck('checkpoint', L.checkpoint, 'not_requested', 'No receipt in the form: no earlier checkpoint to compare with.'));
  } else if (!claims) {
    checks.push(auditCheck('checkpoint', L.checkpoint, 'not_run', 'The receipt did not verify, so its checkpoint is not compared.'));
  } else if (!claims.auditCheckpoint) {
    checks.push(auditCheck('checkpoint', L.checkpoint, 'not_requested', 'The receipt names no checkpoint (none was signed yet when it was made).'));
  } else if (named === null || named.root === null) {
    checks.push(auditCheck('checkpoint', L.checkpoint, 'fail', "The receipt's checkpoint is not a checkpoint note.", 'AUDIT_CHECKPOINT_MALFORMED'));
  } else if (named.origin !== checkpoint.origin) {
    checks.push(auditCheck('checkpoint', L.checkpoint, 'fail', `The receipt's checkpoint is of the log ${named.origin}, the proof's of ${checkpoint.origin}.`, 'CHECKPOINT_ORIGIN_MISMATCH'));
  } else if (checkpoint.size < named.size) {
    checks.push(
      auditCheck(
        'checkpoint',
        L.checkpoint,
        'fail',
        `The proof's checkpoint covers ${checkpoint.size} records, fewer than the ${named.size} of the receipt's: the log served is older than the receipt (a rolled-back copy).`,
        'CHECKPOINT_OLDER_THAN_RECEIPT',
      ),
    );
  } else if (checkpoint.size === named.size && checkpoint.root !== named.root) {
    checks.push(
      auditCheck('checkpoint', L.checkpoint, 'fail', `Two roots for ${named.size} records: the receipt's ${named.root}, the proof's ${checkpoint.root}.`, 'CHECKPOINT_ROOT_MISMATCH'),
    );
  } else {
    const same = checkpoint.size === named.size ? ', with the same root' : ' (that the larger tree extends the receipt\'s is a consistency proof, not checked here)';
    checks.push(auditCheck('checkpoint', L.checkpoint, 'pass', `The proof's checkpoint covers ${checkpoint.size} records; the receipt's covered ${named.size}${same}.`));
  }

  if (run !== state.auditRun) return;
  renderAudit(checks, record, checkpoint, parts, key, docReport.development);
}

function renderAudit(checks, record, checkpoint, parts, key, development) {
  const failed = checks.filter((c) => c.status === 'fail').map((c) => c.id);
  const notRun = checks.filter((c) => c.status === 'not_run').map((c) => c.id);
  const ok = failed.length === 0 && notRun.length === 0;
  const node = $('audit-verdict');
  node.textContent = '';
  node.className = `verdict ${ok ? 'ok' : 'bad'}`;
  node.dataset.ok = String(ok);
  node.dataset.development = String(development);
  const what = `record ${record?.seq ?? parts?.index ?? '?'} in the audit log`;
  if (ok) node.append(`VERIFIED: ${what}`);
  else node.append(`NOT VERIFIED: ${what}${failed.length > 0 ? `, failed: ${failed.join(', ')}` : ''}${notRun.length > 0 ? `, not run: ${notRun.join(', ')}` : ''}`);
  if (development) node.append(' ', el('span', { class: 'dev-label' }, 'DEVELOPMENT root: not AWS hardware'));
  renderChecks($('audit-checks'), checks);

  let rules;
  const d = record?.decision;
  if (d && d.rules.length > 0) {
    rules = el('table', {}, el('tr', {}, ...['rule', 'type', 'result', 'value', 'limit', 'window'].map((h) => el('th', {}, h))));
    for (const r of d.rules) rules.append(el('tr', {}, ...[r.rule, r.type, r.result, r.value, r.limit, r.window].map((v) => el('td', {}, v ?? ''))));
  }
  // The state the action changed (docs/audit.md): what a restarted enclave replays.
  let effects;
  if (record && record.effects.length > 0) {
    effects = el('table', {}, el('tr', {}, ...['op', 'target', 'subject', 'value'].map((h) => el('th', {}, h))));
    for (const e of record.effects) effects.append(el('tr', {}, ...[e.op, e.target, e.subject, e.value].map((v) => el('td', {}, v ?? ''))));
  }
  const cp = checkpoint ?? parts?.checkpoint;
  renderFields($('audit-fields'), [
    ['sequence number', record ? String(record.seq) : 'not decoded'],
    ['kind', record?.kind],
    ['time', record ? `${isoTime(Math.floor(record.time_us / 1000))} (${record.time_us} µs)` : undefined],
    ['principal', record?.principal],
    ['request digest', record?.request_digest],
    ['decision', d ? (d.code ? `${d.outcome} (${d.code})` : d.outcome) : record ? null : undefined],
    ['policy rules', d ? (rules ?? 'none evaluated') : undefined],
    ['state effects', record ? (effects ?? 'none') : undefined],
    ['result digest', record?.result_digest],
    ['previous record hash', record?.prev_hash],
    ['proof index', parts?.index === null || parts?.index === undefined ? undefined : String(parts.index)],
    [checkpoint ? 'checkpoint (verified)' : 'checkpoint (not verified)', cp ? `${cp.origin}, ${cp.size} records, root ${cp.root}` : undefined],
    ['log verifier key (from the document)', key?.verifierKey],
  ]);
  $('audit-result').hidden = false;
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

/** GET `url` as bytes; an HTTP error names the API's error code. */
async function getBytes(url) {
  let response;
  try {
    response = await fetch(url, { cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' });
  } catch (e) {
    throw new InputError(
      `Fetch failed: ${url}: ${describe(e)}. The audit routes send no CORS headers: fetching them works only when this page is served by that API ` +
        '(its /checker/ page, with the same URL above); otherwise paste or upload the proof and the record.',
    );
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (!response.ok) {
    let err = null;
    try {
      err = JSON.parse(new TextDecoder().decode(bytes)).error;
    } catch {
      // not a JSON error body
    }
    throw new InputError(`Fetch failed: ${url}: HTTP ${response.status}${err?.code ? ` ${err.code}: ${err.message}` : ''}`);
  }
  return bytes;
}

/** A tile index as C2SP tlog-tiles writes it: 3-digit groups, all but the last prefixed with x (1234067 -> x001/x234/067). */
function tileIndexPath(n) {
  let path = String(n % 1000).padStart(3, '0');
  for (n = Math.floor(n / 1000); n > 0; n = Math.floor(n / 1000)) path = `x${String(n % 1000).padStart(3, '0')}/${path}`;
  return path;
}

/** The entries of an entry bundle (each a big-endian u16 length and the bytes). */
function bundleEntries(bundle) {
  const entries = [];
  for (let at = 0; at < bundle.length; ) {
    const len = at + 2 <= bundle.length ? (bundle[at] << 8) | bundle[at + 1] : -1;
    if (len < 0 || at + 2 + len > bundle.length) throw new InputError(`Fetch: the entry bundle is cut short after ${entries.length} entries`);
    entries.push(bundle.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return entries;
}

/**
 * Fetches the inclusion proof of the receipt's record (its auditSeq) and the record itself, from the entry
 * bundle that holds it (a tlog-proof does not contain the entry), fills the form and verifies. Neither
 * is trusted: both are checked against the document and the receipt.
 */
async function fetchProof() {
  showErrors([]);
  $('fetch-proof').disabled = true;
  try {
    const base = apiBase();
    const receiptText = $('receipt').value;
    if (receiptText.trim() === '') throw new InputError('Fetch the proof: put a receipt in section 4 first (its auditSeq names the record)');
    let seq;
    try {
      seq = verifier.unsafeDecodeReceiptClaims(parseBytes(receiptText, 'Receipt')).auditSeq;
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`Receipt: ${describe(e)}`);
    }
    if (seq === null || seq === undefined) throw new InputError('Receipt: it names no audit record (auditSeq is null: the enclave had no audit log)');
    const proof = new TextDecoder().decode(await getBytes(`${base}/v1/audit/proof/${seq}`));
    const size = proofParts(proof)?.checkpoint?.size;
    const bundle = Math.floor(seq / TILE_WIDTH);
    const width = size === undefined ? 0 : Math.min(TILE_WIDTH, size - bundle * TILE_WIDTH);
    if (width <= 0) throw new InputError(`Fetch: the proof's checkpoint does not cover record ${seq}`);
    const path = `tile/entries/${tileIndexPath(bundle)}${width < TILE_WIDTH ? `.p/${width}` : ''}`;
    const record = bundleEntries(await getBytes(`${base}/v1/audit/${path}`))[seq % TILE_WIDTH];
    if (!record) throw new InputError(`Fetch: the entry bundle ${path} does not hold record ${seq}`);
    $('audit-proof').value = proof;
    $('audit-record').value = bytesToHex(record);
    runCheck();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    showErrors([e.message]);
  } finally {
    $('fetch-proof').disabled = !state.ready;
  }
}

// --- share links: the inputs in the URL fragment ----------------------------------

function fragmentOf() {
  const params = new URLSearchParams();
  for (const [name, id] of FRAGMENT_FIELDS) {
    const value = $(id).value.trim();
    if (value === '') continue;
    if (FRAGMENT_BYTES[name]) params.set(name, bytesToBase64Url(parseBytes(value, FRAGMENT_BYTES[name])));
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
    for (const fn of ['checkAttestation', 'checkReceipt', 'verifyAuditProof', 'auditDecodeRecord', 'attestedKeys', 'unsafeDecodeReceiptClaims']) {
      if (typeof verifier[fn] !== 'function') throw new Error(`this build of the verifier lacks ${fn}`);
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
  $('fetch-proof').addEventListener('click', () => void fetchProof());
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
  // An audit record is a CBOR map of eight keys (0xa8).
  onFile('audit-record-file', 'audit-record', 'Audit record', [0xa8]);
  $('audit-proof-file').addEventListener('change', async () => {
    const file = $('audit-proof-file').files?.[0];
    if (!file) return;
    $('audit-proof').value = await file.text();
    $('audit-proof-file').value = '';
  });
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
  for (const id of ['verify', 'fetch-fresh', 'fetch-boot', 'fetch-proof']) $(id).disabled = false;
  document.body.dataset.ready = 'true';
  await loadFragment();
}

void start();
