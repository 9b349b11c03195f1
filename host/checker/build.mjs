#!/usr/bin/env node
// Builds the browser checker into one self-contained file, dist/index.html:
// the CSS and the JavaScript inline, the WASM verifier embedded as base64, so
// the page works from any static host and from file:// (where browsers refuse
// to fetch a .wasm). No bundler: the wasm-bindgen web glue
// (bindings/wasm-verify/web, built by scripts/build.sh) is wrapped in a
// function scope and the page's script (src/checker.js) follows it in the same
// module script. The Content-Security-Policy names the inline script and style
// by their SHA-256, so nothing else can run; the API sends the same policy as a
// header (host/src/api/routes/checker.ts reads it from the page).
//
//   node host/checker/build.mjs [--wasm-dir DIR] [--out DIR]
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const GLUE = 'sentinel_verify_wasm.js';
const WASM = 'sentinel_verify_wasm_bg.wasm';

function fail(message) {
  console.error(`[checker] ERROR: ${message}`);
  process.exit(1);
}

function args(argv) {
  const out = { wasmDir: join(ROOT, 'bindings', 'wasm-verify', 'web'), out: join(HERE, 'dist') };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if ((flag === '--wasm-dir' || flag === '--out') && value !== undefined) {
      out[flag === '--out' ? 'out' : 'wasmDir'] = resolve(value);
      i++;
    } else fail(`unknown argument ${flag} (usage: node build.mjs [--wasm-dir DIR] [--out DIR])`);
  }
  return out;
}

function read(path, what, encoding) {
  try {
    return readFileSync(path, encoding);
  } catch (e) {
    fail(`${what} ${relative(process.cwd(), path)}: ${e.message} (build the WASM packages first: bash scripts/build.sh)`);
  }
}

/**
 * The wasm-bindgen `--target web` glue as a function body returning its exports: `export function f`
 * becomes `function f`, the closing `export { a, b as default }` becomes the returned object. Anything
 * else that imports or exports fails the build rather than being guessed at.
 */
export function wrapGlue(source) {
  const names = new Map(); // exported name -> local name
  let body = source.replace(/^export (function|class|const|let) ([A-Za-z_$][\w$]*)/gm, (_m, kind, name) => {
    names.set(name, name);
    return `${kind} ${name}`;
  });
  body = body.replace(/^export \{([^}]*)\};?[ \t]*$/gm, (_m, list) => {
    for (const item of list.split(',').map((s) => s.trim()).filter(Boolean)) {
      const [local, exported] = item.split(/\s+as\s+/);
      names.set(exported ?? local, local);
    }
    return '';
  });
  const left = /^\s*(export|import)\b[^.(]/m.exec(body);
  if (left) fail(`the WASM glue has a module statement this build does not handle: ${JSON.stringify(body.slice(left.index, left.index + 80))}`);
  if (!names.has('default')) fail('the WASM glue exports no default init function');
  const entries = [...names].map(([exported, local]) => `${JSON.stringify(exported)}: ${local}`).join(', ');
  return `const verifier = (() => {\n${body}\nreturn Object.freeze({ ${entries} });\n})();\n`;
}

function sha256Source(text) {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

function build() {
  const opts = args(process.argv.slice(2));
  const glue = read(join(opts.wasmDir, GLUE), 'WASM glue', 'utf8');
  for (const fn of ['checkAttestation', 'checkReceipt', 'awsNitroRootG1', 'attestedKeys', 'unsafeDecodeReceiptClaims', 'verifyAuditProof', 'auditDecodeRecord']) {
    if (!new RegExp(`^export function ${fn}\\b`, 'm').test(glue)) {
      fail(`${relative(process.cwd(), join(opts.wasmDir, GLUE))} has no ${fn}: rebuild the WASM packages (bash scripts/build.sh)`);
    }
  }
  const wasm = read(join(opts.wasmDir, WASM), 'WASM module');
  const template = read(join(HERE, 'src', 'index.html'), 'page template', 'utf8');
  const style = read(join(HERE, 'src', 'checker.css'), 'style sheet', 'utf8');
  const page = read(join(HERE, 'src', 'checker.js'), 'page script', 'utf8');

  const script = `\n${wrapGlue(glue)}const WASM_BASE64 = "${wasm.toString('base64')}";\n${page}`;
  if (/<\/script/i.test(script) || /<\/style/i.test(style)) fail('the inline script or style contains a closing tag');
  const csp = [
    "default-src 'none'",
    `script-src ${sha256Source(script)} 'wasm-unsafe-eval'`,
    `style-src ${sha256Source(style)}`,
    'img-src data:',
    // The user may fetch a document from any Sentinel API.
    'connect-src *',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  let html = template;
  for (const [placeholder, value] of [
    ['%CSP%', csp],
    ['%STYLE%', style],
    ['%SCRIPT%', script],
  ]) {
    const at = html.indexOf(placeholder);
    if (at < 0 || html.indexOf(placeholder, at + 1) >= 0) fail(`the template must hold ${placeholder} exactly once`);
    html = html.slice(0, at) + value + html.slice(at + placeholder.length);
  }
  mkdirSync(opts.out, { recursive: true });
  const target = join(opts.out, 'index.html');
  writeFileSync(target, html);
  const bytes = Buffer.byteLength(html);
  console.error(`[checker] wrote ${relative(process.cwd(), target)}: ${bytes} bytes (WASM ${wasm.length} bytes, embedded)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) build();
