#!/usr/bin/env node
// Regenerates import-v1.json: the interoperability vector between sentinel-import (Rust) and
// the npm package @hpke/core. Run from the repository root:
//
//   node test/vectors/hpke-import/generate.mjs
//
// 1. The inputs below (TEST-ONLY keys, public in this file) go to the crate's own example
//    `import_vector` (`cargo run -p sentinel-import --example import_vector`), which answers with
//    what the Rust code produces: the recipient's X25519 public key, the `info` bytes of each
//    context, and a blob sealed by `seal_import` for each case it accepts.
// 2. @hpke/core (DhkemX25519HkdfSha256, HkdfSha256, Aes128Gcm, base mode, empty aad) seals each
//    case's plaintext to that public key under the Rust-produced `info`; it never sees our code.
// 3. Both halves are written to import-v1.json. The Rust test (crates/import/tests/interop.rs)
//    opens the @hpke/core blobs and re-derives the Rust half; the vitest
//    (host/test/key-import.test.ts) compares host/sdk/src/key-import.ts's `info` with the Rust
//    bytes and opens the Rust blobs and its own with @hpke/core.
//
// Sealing is randomized (fresh ephemeral keys), so each run rewrites enc/ciphertext; the tests
// accept any run's output.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');

const hex = (bytes) => '0x' + Buffer.from(bytes).toString('hex');
const unhex = (text) => new Uint8Array(Buffer.from(text.replace(/^0x/, ''), 'hex'));
const repeat = (byte, n) => hex(new Uint8Array(n).fill(byte));

// TEST-ONLY recipient secret: the ASCII bytes of "sentinel/test-only/import-key/v1".
const recipientSecret = hex(new TextEncoder().encode('sentinel/test-only/import-key/v1'));
const SECP256K1_N = '0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141';
const SECP256K1_N_MINUS_1 = '0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140';

// Every secret key here is a well-known public test value or a pattern: TEST-ONLY.
const cases = [
  // The EIP-155 example key 0x46…46.
  { name: 'secp256k1-ethereum', principal: 'dev-client', label: 'treasury', curve: 'secp256k1', purpose: 'ethereum', secret_key: repeat(0x46, 32), expect: 'ok' },
  { name: 'secp256k1-raw-scalar-one', principal: 'dev-client', label: 'bridge-hot', curve: 'secp256k1', purpose: 'raw', secret_key: hex(new Uint8Array(32).fill(0).map((_, i) => (i === 31 ? 1 : 0))), expect: 'ok' },
  { name: 'secp256k1-raw-n-minus-1', principal: 'ops', label: 'edge', curve: 'secp256k1', purpose: 'raw', secret_key: SECP256K1_N_MINUS_1, expect: 'ok' },
  // RFC 8032 §7.1 TEST 1 secret key.
  { name: 'ed25519-raw', principal: 'ops', label: 'ssh-ca', curve: 'ed25519', purpose: 'raw', secret_key: '0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', expect: 'ok' },
  { name: 'ed25519-raw-zero-seed', principal: 'ops', label: 'zero', curve: 'ed25519', purpose: 'raw', secret_key: repeat(0, 32), expect: 'ok' },
  { name: 'utf8-principal-and-label', principal: 'équipe-β', label: 'clé 🔑 signing', curve: 'secp256k1', purpose: 'raw', secret_key: repeat(0x11, 32), expect: 'ok' },
  { name: 'empty-label', principal: 'dev-client', label: '', curve: 'ed25519', purpose: 'raw', secret_key: repeat(0x22, 32), expect: 'ok' },
  // Text of 24..255 bytes takes a two-byte CBOR head (0x78 n), 256..65535 a three-byte one (0x79 n n).
  { name: 'label-24-bytes', principal: 'dev-client', label: 'x'.repeat(24), curve: 'secp256k1', purpose: 'ethereum', secret_key: repeat(0x33, 32), expect: 'ok' },
  { name: 'label-300-bytes', principal: 'p'.repeat(23), label: 'y'.repeat(300), curve: 'ed25519', purpose: 'raw', secret_key: repeat(0x44, 32), expect: 'ok' },
  { name: 'secp256k1-zero', principal: 'dev-client', label: 'bad', curve: 'secp256k1', purpose: 'raw', secret_key: repeat(0, 32), expect: 'IMPORT_KEY_INVALID' },
  { name: 'secp256k1-order-n', principal: 'dev-client', label: 'bad', curve: 'secp256k1', purpose: 'ethereum', secret_key: SECP256K1_N, expect: 'IMPORT_KEY_INVALID' },
  { name: 'secp256k1-all-ff', principal: 'dev-client', label: 'bad', curve: 'secp256k1', purpose: 'raw', secret_key: repeat(0xff, 32), expect: 'IMPORT_KEY_INVALID' },
  { name: 'plaintext-31-bytes', principal: 'dev-client', label: 'short', curve: 'ed25519', purpose: 'raw', secret_key: repeat(0x55, 31), expect: 'IMPORT_MALFORMED' },
  { name: 'plaintext-33-bytes', principal: 'dev-client', label: 'long', curve: 'ed25519', purpose: 'raw', secret_key: repeat(0x66, 33), expect: 'IMPORT_MALFORMED' },
];

// 1. What the Rust crate produces for these inputs.
const rustInput = JSON.stringify({
  recipient_secret: recipientSecret,
  cases: cases.map(({ principal, label, curve, purpose, secret_key }) => ({ principal, label, curve, purpose, secret_key })),
});
const rust = JSON.parse(
  execFileSync('cargo', ['run', '--quiet', '-p', 'sentinel-import', '--example', 'import_vector'], {
    cwd: root,
    input: rustInput,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'inherit'],
  }),
);

// 2. @hpke/core seals each plaintext to the Rust-derived public key under the Rust `info`.
const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
const recipientPublicKey = await suite.kem.deserializePublicKey(unhex(rust.recipient_public));
const hpkeCoreVersion = JSON.parse(
  readFileSync(join(root, 'node_modules', '@hpke', 'core', 'package.json'), 'utf8'),
).version;

const out = {
  comment:
    'TEST-ONLY keys. Interop vector for sentinel-import <-> @hpke/core; provenance in NOTE.md; regenerate with generate.mjs.',
  test_only: true,
  suite: { mode: 'base', kem: 'DHKEM(X25519, HKDF-SHA256)', kem_id: 32, kdf: 'HKDF-SHA256', kdf_id: 1, aead: 'AES-128-GCM', aead_id: 1, aad: '0x' },
  produced_by: { rust: rust.crate, hpke_core: `@hpke/core ${hpkeCoreVersion}`, node: process.version },
  recipient: { secret: recipientSecret, public: rust.recipient_public },
  cases: [],
};
for (const [i, c] of cases.entries()) {
  const plaintext = unhex(c.secret_key);
  const sealed = await suite.seal({ recipientPublicKey, info: unhex(rust.cases[i].info) }, plaintext, new Uint8Array(0));
  if (sealed.enc.byteLength !== 32 || sealed.ct.byteLength !== plaintext.length + 16) {
    throw new Error(`${c.name}: unexpected @hpke/core output lengths`);
  }
  out.cases.push({
    ...c,
    info: rust.cases[i].info,
    hpke_core_sealed: { enc: hex(new Uint8Array(sealed.enc)), ciphertext: hex(new Uint8Array(sealed.ct)) },
    rust_sealed: rust.cases[i].rust_sealed,
  });
}

writeFileSync(join(here, 'import-v1.json'), JSON.stringify(out, null, 2) + '\n');
console.log(`wrote ${out.cases.length} cases to ${join(here, 'import-v1.json')}`);
