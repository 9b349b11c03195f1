// Where does an N-API sign call spend time beyond the Rust core? The binding
// exposes no no-op, so this times the cheapest calls it has, next to the
// JS-side costs of the same kind (Buffer and object creation) and the npm
// secp256k1 addon's cheapest call, to bound the per-call binding overhead.
// Run: node bench/overhead.mjs   (about 20 s; numbers are ns per call)
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Benchmark = require('benchmark');
const napi = require('@sentinel/node');
const npmSecp = require('secp256k1/bindings'); // the native addon, never the JS fallback

const sha = (s) => createHash('sha256').update(s).digest();
const SK_BUF = sha('sentinel bench secret key'); // Buffer
const SK_U8 = new Uint8Array(SK_BUF);
const DIGESTS_BUF = Array.from({ length: 256 }, (_, i) => sha(`d${i}`));
const DIGESTS_U8 = DIGESTS_BUF.map((d) => new Uint8Array(d));
const PK = napi.publicKeyFromSecret(SK_BUF, true);
const PK65 = napi.publicKeyFromSecret(SK_BUF, false); // parsing needs no square root
const SIGS = DIGESTS_BUF.map((d) => napi.signDigest(SK_BUF, d).signature);
const EMPTY = new Uint8Array(0);
const SIG64 = new Uint8Array(SIGS[0]);
const LOW_S = { lowS: true };

let sink;
let i = 0;
const cases = {
  // JS-only reference costs
  'JS: new Uint8Array(64)': () => { sink = new Uint8Array(64); },
  'JS: Buffer.from(u8[64]) (copy)': () => { sink = Buffer.from(SIG64); },
  'JS: { signature, recoveryId } literal': () => { sink = { signature: SIG64, recoveryId: i++ & 1 }; },
  // cheapest native calls
  'npm secp256k1 privateKeyVerify(sk)': () => { sink = npmSecp.privateKeyVerify(SK_U8); },
  'N-API keccak256(empty) -> Buffer(32)': () => { sink = napi.keccak256(EMPTY); },
  'N-API hashPersonalMessage(empty)': () => { sink = napi.hashPersonalMessage(EMPTY); },
  // the real calls, by argument type
  'N-API signDigest(Uint8Array args)': () => { sink = napi.signDigest(SK_U8, DIGESTS_U8[i++ & 255]); },
  'N-API signDigest(Buffer args)': () => { sink = napi.signDigest(SK_BUF, DIGESTS_BUF[i++ & 255]); },
  'npm secp256k1 ecdsaSign': () => { sink = npmSecp.ecdsaSign(DIGESTS_U8[i++ & 255], SK_U8); },
  'N-API verifyDigest(..., { lowS })': () => { const n = i++ & 255; sink = napi.verifyDigest(PK, DIGESTS_BUF[n], SIGS[n], LOW_S); },
  'N-API verifyDigest(...) no options': () => { const n = i++ & 255; sink = napi.verifyDigest(PK, DIGESTS_BUF[n], SIGS[n]); },
  'N-API verifyDigest(65-byte key)': () => { const n = i++ & 255; sink = napi.verifyDigest(PK65, DIGESTS_BUF[n], SIGS[n], LOW_S); },
  'npm secp256k1 ecdsaVerify': () => { const n = i++ & 255; sink = npmSecp.ecdsaVerify(SIGS[n], DIGESTS_BUF[n], PK); },
};

const rows = [];
for (const [name, fn] of Object.entries(cases)) {
  const b = new Benchmark(name, fn, { maxTime: 1, minSamples: 10 });
  b.run();
  if (b.error) throw b.error;
  rows.push([name, (b.stats.mean * 1e9).toFixed(0), `±${b.stats.rme.toFixed(2)}%`]);
  console.error(`${name}: ${(b.stats.mean * 1e9).toFixed(0)} ns`);
}
const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length), ['case', 'ns/call', 'rme'][c].length));
console.log(['case'.padEnd(w[0]), 'ns/call'.padStart(w[1]), 'rme'.padStart(w[2])].join('  '));
for (const r of rows) console.log([r[0].padEnd(w[0]), r[1].padStart(w[1]), r[2].padStart(w[2])].join('  '));
