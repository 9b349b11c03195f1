/**
 * Sealed keys survive crashes (issue #14, docs/sealed-state.md): `zcp up --sealing development` on a
 * data directory, keys of every kind made over the API (secp256k1 `ethereum`, secp256k1 `raw`,
 * Ed25519 `raw`), signatures taken, one key halted (kill switch scope `key:…`) and a rate-limited key
 * partly spent; then, under concurrent signing and key generation over HTTP,
 *
 *   1. SIGKILL of the enclave process alone (the child `sentinel-enclave`: an enclave crash; `zcp up`
 *      notices and exits 1), and `zcp up` again on the same data directory;
 *   2. SIGKILL of `zcp up` itself (a host crash; its enclave goes with it, --exit-with-parent), and
 *      `zcp up` again.
 *
 * After each restart: every key id a client ever received is back, with the same public key; each key
 * signs the same digests / messages / transaction into byte-identical signatures (RFC 6979, Ed25519 are
 * deterministic) that recover (N-API core and, for Ethereum, ethers) to the same addresses; every
 * signature a client received under load is reproduced; the configuration and policy hashes and
 * versions are the same (GET /v1/evidence, stack.json); the halted key is still halted while the
 * others sign; the rate-limited key keeps the tokens it spent. Finally, the test opens the sealed
 * records itself with the development master key (HKDF-SHA256 + AES-256-GCM in node:crypto, checked
 * first against the independent Python vectors test/vectors/seal/v1.json), checks that each opens to
 * the secret of the key it names (public key derived with node:crypto and the core; a local signature
 * with that secret equals the enclave's), and scans every file of the data directory (except the
 * master key and the two principal credentials) and every response body the API relayed for each
 * secret: raw bytes, hex (both cases), base64 and base64url. None may appear.
 */
import { createDecipheriv, createECDH, createHash, createPrivateKey, createPublicKey, hkdfSync, sign as cryptoSign } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Signature, Transaction, verifyMessage } from 'ethers';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

import type { Operation } from '@sentinel/node/protocol';

import { SAMPLE_UNSIGNED_TX } from '../src/cli/demo.ts';
import { core } from '../src/core.ts';
import { ensureDevConfiguration } from '../src/local/dev-config.ts';
import { policyCore } from '../src/policy-core.ts';
import { stampedJson } from './api-fixture.ts';
import { HAVE_ENCLAVE, isAlive, runZcp, SKIP_REASON } from './helpers.ts';
import { killStack, startUp, stopStack, type Up } from './zcp-up-fixture.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

const unhex = (h: string): Buffer => Buffer.from(h.replace(/^0x/, ''), 'hex');
const sha256 = (s: string | Uint8Array): Buffer => createHash('sha256').update(s).digest();
const step = (what: string): void => {
  if (process.env.SEALED_TEST_DEBUG) console.error(`[sealed-restart] ${new Date().toISOString()} ${what}`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The sealing part of `zcp up --json`'s ready event (not in the shared fixture's type). */
interface SealingReady {
  provider: string;
  stored: number;
  loaded: number;
  keys: number;
  refused: Array<{ kind: string; name: string; code: string; message: string }>;
  lineage: string | null;
}
const sealingOf = (up: Up): SealingReady => (up.ready as unknown as { sealing: SealingReady }).sealing;

interface Answer {
  status: number;
  json: {
    answer?: { type?: string; key_id?: string; public_key?: string; signature?: string; recovery_id?: number | null; raw?: string; storage?: string; keys?: Array<{ key_id: string; public_key: string; label: string; curve: string; purpose: string }> };
    error?: { code: string; message: string };
  };
}

interface KeyInfo {
  id: string;
  curve: 'secp256k1' | 'ed25519';
  purpose: 'ethereum' | 'raw';
  label: string;
  publicKey: string;
  /** EIP-55 address (secp256k1 keys). */
  address: string | null;
}

/** What a signing request was and what came back. */
interface Signed {
  keyId: string;
  route: string;
  operation: Operation;
  /** Signature hex (sign_digest, sign_personal_message, sign_ed25519) or the signed transaction (sign_ethereum_transaction). */
  result: string;
  recoveryId: number | null;
}

// ---- the sealed-record format, independently of crates/seal (docs/sealed-state.md) --------------------

const MAGIC = Buffer.from('SNTLSEAL');
const FIXED = 8 + 1 + 32 + 2;

/** Reads the canonical CBOR header [kind, name, version, lineage] by hand (text, text, uint, bytes(32)). */
function readHeader(h: Buffer): { kind: string; name: string; version: bigint; lineage: Buffer } {
  let at = 0;
  const head = (): [number, bigint] => {
    const b = h[at++]!;
    const info = b & 31;
    if (info < 24) return [b >> 5, BigInt(info)];
    const n = ({ 24: 1, 25: 2, 26: 4, 27: 8 } as Record<number, number>)[info];
    if (n === undefined) throw new Error(`header: CBOR additional info ${info}`);
    let value = 0n;
    for (let i = 0; i < n; i++) value = (value << 8n) | BigInt(h[at + i]!);
    at += n;
    return [b >> 5, value];
  };
  const [m0, len] = head();
  expect([m0, len]).toEqual([4, 4n]);
  const text = (): string => {
    const [m, n] = head();
    expect(m).toBe(3);
    const s = h.subarray(at, at + Number(n)).toString('utf8');
    at += Number(n);
    return s;
  };
  const kind = text();
  const name = text();
  const [mv, version] = head();
  expect(mv).toBe(0);
  const [mb, bl] = head();
  expect([mb, bl]).toEqual([2, 32n]);
  const lineage = h.subarray(at, at + 32);
  at += 32;
  expect(at).toBe(h.length);
  return { kind, name, version, lineage: Buffer.from(lineage) };
}

/** Opens a sealed record with the master key: HKDF-SHA256(master, salt, "sentinel/seal/v1") → 32-byte key ‖ 12-byte nonce; AES-256-GCM over everything before the ciphertext. */
function openRecord(master: Buffer, record: Buffer): { header: ReturnType<typeof readHeader>; plaintext: Buffer } {
  expect(record.subarray(0, 8).equals(MAGIC)).toBe(true);
  expect(record[8]).toBe(1);
  const salt = record.subarray(9, 41);
  const headerLen = record.readUInt16BE(41);
  const aadLen = FIXED + headerLen;
  const header = readHeader(record.subarray(FIXED, aadLen));
  const okm = Buffer.from(hkdfSync('sha256', master, salt, 'sentinel/seal/v1', 44));
  const decipher = createDecipheriv('aes-256-gcm', okm.subarray(0, 32), okm.subarray(32));
  decipher.setAAD(record.subarray(0, aadLen));
  decipher.setAuthTag(record.subarray(record.length - 16));
  const plaintext = Buffer.concat([decipher.update(record.subarray(aadLen, record.length - 16)), decipher.final()]);
  return { header, plaintext };
}

/** A key record's plaintext: `1 | curve (0 secp256k1, 1 ed25519) | purpose (0 ethereum, 1 raw) | secret (32) | u16 + label | u16 + owner`. */
function decodeKeyPlaintext(p: Buffer): { curve: string; purpose: string; secret: Buffer; label: string; owner: string } {
  expect(p[0]).toBe(1);
  const curve = ['secp256k1', 'ed25519'][p[1]!]!;
  const purpose = ['ethereum', 'raw'][p[2]!]!;
  const secret = Buffer.from(p.subarray(3, 35));
  let at = 35;
  const text = (): string => {
    const n = p.readUInt16BE(at);
    const s = p.subarray(at + 2, at + 2 + n).toString('utf8');
    at += 2 + n;
    return s;
  };
  const label = text();
  const owner = text();
  expect(at).toBe(p.length);
  return { curve, purpose, secret, label, owner };
}

/** Ed25519 seed → node:crypto private key (RFC 8410 PKCS#8). */
const ed25519Private = (seed: Buffer): ReturnType<typeof createPrivateKey> =>
  createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });

/** Every encoding of `secret` the scan looks for. */
function encodings(secret: Buffer): string[] {
  return [secret.toString('hex'), secret.toString('hex').toUpperCase(), secret.toString('base64'), secret.toString('base64url')];
}

/** Every regular file under `dir` (recursively). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

// ---- the stack over HTTP ---------------------------------------------------------------------------------

/** Every response body the API relayed to this test, for the plaintext scan. */
const relayed: string[] = [];

async function post(url: string, path: string, credential: string, operation: Operation): Promise<Answer> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(stampedJson(credential, operation)),
  });
  const text = await res.text();
  relayed.push(text);
  return { status: res.status, json: JSON.parse(text) as Answer['json'] };
}

async function getJson<T>(url: string, path: string): Promise<T> {
  const res = await fetch(`${url}${path}`);
  const text = await res.text();
  relayed.push(text);
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as T;
}

async function generate(url: string, credential: string, curve: KeyInfo['curve'], purpose: KeyInfo['purpose'], label: string): Promise<KeyInfo> {
  const r = await post(url, '/v1/keys/generate', credential, { op: 'generate_key', curve, purpose, label });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  const a = r.json.answer!;
  expect(a.storage).toBe('sealed:development');
  const publicKey = a.public_key!;
  return { id: a.key_id!, curve, purpose, label, publicKey, address: curve === 'secp256k1' ? core.ethereumAddress(unhex(publicKey)) : null };
}

/** The signing request a test key gets for input `tag`: a digest, an EIP-191 message, the sample transaction, an Ed25519 message. */
function requestFor(key: KeyInfo, tag: string, transaction = false): { route: string; operation: Operation } {
  if (key.curve === 'ed25519') return { route: '/v1/sign/ed25519', operation: { op: 'sign_ed25519', key_id: key.id, message: Buffer.from(`sealed restart ${tag}`) } };
  if (key.purpose === 'raw') return { route: '/v1/sign/digest', operation: { op: 'sign_digest', key_id: key.id, digest: sha256(`sealed restart ${tag}`) } };
  if (transaction) return { route: '/v1/sign/transaction', operation: { op: 'sign_ethereum_transaction', key_id: key.id, unsigned_tx: unhex(SAMPLE_UNSIGNED_TX) } };
  return { route: '/v1/sign/message', operation: { op: 'sign_personal_message', key_id: key.id, message: Buffer.from(`sealed restart ${tag}`) } };
}

async function signWith(url: string, credential: string, key: KeyInfo, tag: string, transaction = false): Promise<Signed> {
  const { route, operation } = requestFor(key, tag, transaction);
  const r = await post(url, route, credential, operation);
  expect(r.status, `${key.label} ${route}: ${JSON.stringify(r.json)}`).toBe(200);
  const a = r.json.answer!;
  return { keyId: key.id, route, operation, result: (a.raw ?? a.signature)!, recoveryId: a.recovery_id ?? null };
}

/** That `s` was made by `key`: recovered with the core (and ethers for Ethereum keys), or verified (Ed25519). */
function checkSigner(key: KeyInfo, s: Signed): void {
  const op = s.operation as Operation & { digest?: Uint8Array; message?: Uint8Array };
  if (key.curve === 'ed25519') {
    expect(core.verifyEd25519(unhex(key.publicKey), op.message!, unhex(s.result))).toBe(true);
    return;
  }
  if (op.op === 'sign_ethereum_transaction') {
    expect(core.recoverEthereumTransactionSigner(unhex(s.result)).signer).toBe(key.address);
    expect(Transaction.from(s.result).from).toBe(key.address);
    return;
  }
  const digest = op.op === 'sign_digest' ? op.digest! : core.hashPersonalMessage(op.message!);
  const recovered = core.recoverPublicKey(digest, unhex(s.result), s.recoveryId!, true);
  expect(`0x${recovered.toString('hex')}`).toBe(key.publicKey);
  expect(core.ethereumAddress(recovered)).toBe(key.address);
  if (op.op === 'sign_personal_message') {
    const sig = unhex(s.result);
    const full = Signature.from({ r: `0x${sig.subarray(0, 32).toString('hex')}`, s: `0x${sig.subarray(32).toString('hex')}`, v: 27 + s.recoveryId! }).serialized;
    expect(verifyMessage(op.message!, full)).toBe(key.address);
  }
}

const zcp = runZcp;

/** The enclave `zcp up` launched (its direct child). */
function enclaveOf(up: Up): number {
  const pid = up.child.pid!;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  const enclaves = children.filter((c) => {
    try {
      return readFileSync(`/proc/${c}/comm`, 'utf8').trim().startsWith('sentinel-enclav');
    } catch {
      return false;
    }
  });
  expect(enclaves).toHaveLength(1);
  return enclaves[0]!;
}

interface Evidence {
  configHash: string;
  configVersion: number;
  policyHash: string | null;
  policyVersion: number | null;
}

/**
 * Load while a crash happens: `signers` loops signing with the fixed keys (the tags they used are
 * recorded with the signature), `generators` loops making new keys (every key id a client received is
 * recorded). Resolves once `crash` has run and every loop has stopped.
 */
async function underLoad(
  url: string,
  credential: string,
  keys: KeyInfo[],
  crash: () => Promise<void>,
  received: { signed: Signed[]; generated: KeyInfo[] },
  round: string,
): Promise<{ signedOk: number; failed: number }> {
  let stop = false;
  let signedOk = 0;
  let failed = 0;
  let counter = 0;
  const signers = Array.from({ length: 6 }, async (_, w) => {
    while (!stop) {
      const key = keys[(w + counter) % keys.length]!;
      const tag = `${round}-load-${counter++}`;
      try {
        const { route, operation } = requestFor(key, tag);
        const r = await post(url, route, credential, operation);
        if (r.status !== 200) continue;
        const a = r.json.answer!;
        received.signed.push({ keyId: key.id, route, operation, result: a.signature!, recoveryId: a.recovery_id ?? null });
        signedOk++;
      } catch {
        failed++; // the stack died mid-request, or is down: this client got nothing
        await sleep(10);
      }
    }
  });
  const generators = Array.from({ length: 2 }, async (_, w) => {
    let i = 0;
    while (!stop) {
      const curve = (i + w) % 2 === 0 ? 'secp256k1' : 'ed25519';
      const label = `${round}-gen-${w}-${i++}`;
      try {
        const r = await post(url, '/v1/keys/generate', credential, { op: 'generate_key', curve, purpose: 'raw', label });
        if (r.status !== 200) continue;
        const a = r.json.answer!;
        received.generated.push({ id: a.key_id!, curve, purpose: 'raw', label, publicKey: a.public_key!, address: curve === 'secp256k1' ? core.ethereumAddress(unhex(a.public_key!)) : null });
      } catch {
        failed++;
        await sleep(10);
      }
    }
  });
  await sleep(400 + Math.floor(Math.random() * 400));
  const before = signedOk;
  await crash();
  stop = true;
  let pending = signers.length + generators.length;
  for (const l of [...signers, ...generators]) void l.finally(() => pending--);
  const ticker = setInterval(() => step(`after the crash: ${pending} load loop(s) still waiting`), 2000);
  await Promise.all([...signers, ...generators]);
  clearInterval(ticker);
  step('load loops done');
  expect(before, 'signatures were flowing when the crash came').toBeGreaterThan(10);
  return { signedOk, failed };
}

maybe('sealed keys across crashes (zcp up --sealing development)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-sealed-restart-'));
  const dataDir = join(dir, 'data');
  const running: Up[] = [];
  const outputs: string[] = [];

  afterEach(() => vi.restoreAllMocks());
  afterAll(async () => {
    for (const up of running) await stopStack(up).catch(() => up.child.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('our HKDF + AES-256-GCM open reproduces the independent Python vectors (test/vectors/seal/v1.json)', () => {
    const vectors = JSON.parse(readFileSync(fileURLToPath(new URL('../../test/vectors/seal/v1.json', import.meta.url)), 'utf8')) as {
      master_key: string;
      lineage: string;
      vectors: Array<{ kind: string; name: string; version: string; plaintext: string; salt: string; sealed: string }>;
    };
    const master = unhex(vectors.master_key);
    expect(vectors.vectors.length).toBeGreaterThanOrEqual(4);
    for (const v of vectors.vectors) {
      const sealed = unhex(v.sealed);
      const { header, plaintext } = openRecord(master, sealed);
      expect({ kind: header.kind, name: header.name, version: header.version.toString(), lineage: header.lineage.toString('hex') }).toEqual({
        kind: v.kind,
        name: v.name,
        version: v.version,
        lineage: vectors.lineage,
      });
      expect(plaintext.toString('hex')).toBe(v.plaintext);
      expect(sealed.subarray(9, 41).toString('hex')).toBe(v.salt);
      // And a flipped ciphertext bit or another master key does not open.
      const flipped = Buffer.from(sealed);
      flipped[flipped.length - 20]! ^= 1;
      expect(() => openRecord(master, flipped)).toThrow();
      expect(() => openRecord(Buffer.alloc(32, 0x43), sealed)).toThrow();
    }
    // The scan's encodings find a planted secret (positive control for the scan at the end).
    const planted = sha256('planted');
    const haystack = `{"x":"0x${planted.toString('hex')}"}`;
    expect(encodings(planted).some((e) => haystack.includes(e))).toBe(true);
    expect(Buffer.concat([Buffer.from('abc'), planted]).includes(planted)).toBe(true);
  });

  it('keys, signatures, kill switch and rate limit survive an enclave SIGKILL and a host SIGKILL under load; no secret in clear on disk or on the wire', async () => {
    const started = Date.now();
    // The development data directory, with a policy that rate-limits keys labelled `limited` (5 tokens, one a day).
    mkdirSync(dataDir, { recursive: true });
    const dev = ensureDevConfiguration(dataDir);
    const admin = readFileSync(dev.adminKeyPath, 'utf8');
    const policy = {
      name: 'sealed restart test',
      version: 1,
      rules: [
        { id: 'any-time', type: 'time_window', preset: 'crypto_24_7' },
        { id: 'limited-five', type: 'rate_limit', per: 'key', rate: { count: 1, per: '1d' }, burst: 5, scope: { labels: ['limited'] } },
      ],
    };
    writeFileSync(dev.policyPath, `${policyCore.policySign(JSON.stringify(policy), admin)}\n`);

    // ---- first start ------------------------------------------------------------------------------------
    step('first start');
    const first = await startUp(dataDir, ['--sealing', 'development']);
    running.push(first);
    const url1 = first.ready.url;
    const credential = readFileSync(first.ready.clientKeyPath, 'utf8');
    expect(sealingOf(first)).toMatchObject({ provider: 'development', stored: 0, loaded: 0, keys: 0, refused: [] });
    const lineage = sealingOf(first).lineage;
    expect(lineage).toMatch(/^[0-9a-f]{64}$/);
    const evidence1 = await getJson<Evidence>(url1, '/v1/evidence');
    const stack1 = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as Record<string, unknown>;
    expect(evidence1.policyVersion).toBe(1);

    const keys: KeyInfo[] = [
      await generate(url1, credential, 'secp256k1', 'ethereum', 'eth-1'),
      await generate(url1, credential, 'secp256k1', 'ethereum', 'eth-2'),
      await generate(url1, credential, 'secp256k1', 'raw', 'raw-1'),
      await generate(url1, credential, 'ed25519', 'raw', 'ed-1'),
      await generate(url1, credential, 'ed25519', 'raw', 'ed-2'),
    ];
    const halted = await generate(url1, credential, 'secp256k1', 'raw', 'halted');
    const limited = await generate(url1, credential, 'ed25519', 'raw', 'limited');
    const fixed = [...keys, halted, limited];
    expect(new Set(fixed.map((k) => k.id)).size).toBe(fixed.length);
    for (const k of fixed) expect(readdirSync(join(dataDir, 'sealed', 'keys'))).toContain(`${k.id}.seal`);

    // Reference signatures: two inputs per key, plus the sample transaction for Ethereum keys.
    step('reference signatures');
    const reference: Signed[] = [];
    for (const k of [...keys, halted]) {
      for (const tag of ['a', 'b']) reference.push(await signWith(url1, credential, k, tag));
      if (k.purpose === 'ethereum') reference.push(await signWith(url1, credential, k, 'tx', true));
    }
    for (const s of reference) checkSigner(fixed.find((k) => k.id === s.keyId)!, s);
    // Deterministic: the same input signs identically while the key is held.
    expect((await signWith(url1, credential, keys[0]!, 'a')).result).toBe(reference[0]!.result);

    // Kill switch: halt one key's scope; the others still sign.
    step('halt one key');
    const halt = await zcp('halt', '--scope', `key:${halted.id}`, '--key', first.ready.adminKeyPath, '--reason', 'sealed restart drill', '--data-dir', dataDir);
    expect(halt.code, halt.err).toBe(0);
    const refusedHalted = await post(url1, '/v1/sign/digest', credential, requestFor(halted, 'a').operation);
    expect(refusedHalted.status).toBe(423);
    expect(refusedHalted.json.error?.code).toBe('KILL_SWITCH_HALTED');
    checkSigner(keys[2]!, await signWith(url1, credential, keys[2]!, 'after-halt'));
    // Rate limit: 3 of the 5 tokens spent.
    for (let i = 0; i < 3; i++) await signWith(url1, credential, limited, `limited-${i}`);

    // ---- crash 1: SIGKILL of the enclave alone, under load ---------------------------------------------------
    step('crash 1');
    const received: { signed: Signed[]; generated: KeyInfo[] } = { signed: [], generated: [] };
    const firstExit = new Promise<number | null>((r) => first.child.once('exit', (code) => r(code)));
    const enclave1 = enclaveOf(first);
    const load1 = await underLoad(url1, credential, keys, async () => {
      process.kill(enclave1, 'SIGKILL');
    }, received, 'r1');
    // `zcp up` notices its enclave died and stops its API, loudly.
    const noticed = Date.now() + 10_000;
    while (!first.stderr().includes('error ENCLAVE_EXITED') && Date.now() < noticed) await sleep(25);
    expect(first.stderr()).toContain('error ENCLAVE_EXITED: the enclave exited unexpectedly (signal SIGKILL)');
    expect(isAlive(enclave1)).toBe(false);
    expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);
    // Then it exits 1 (it abandons the audit log it followed: no checkpoint can be asked of a dead enclave).
    const exit1 = await Promise.race([firstExit, sleep(5_000).then(() => 'still running' as const)]);
    if (exit1 === 'still running') first.child.kill('SIGKILL');
    expect(exit1, 'zcp up exits once its enclave died').toBe(1);
    outputs.push(first.stderr());
    running.pop();
    const generatedBeforeRestart1 = received.generated.length;
    expect(generatedBeforeRestart1, 'keys were made under load before the crash').toBeGreaterThan(0);

    /** Everything that must hold after a restart. */
    const checkRestarted = async (up: Up, label: string): Promise<void> => {
      const url = up.ready.url;
      const sealing = sealingOf(up);
      const everyKey = [...fixed, ...received.generated];
      expect(sealing.provider).toBe('development');
      expect(sealing.refused, label).toEqual([]);
      expect(sealing.loaded, label).toBe(sealing.stored);
      expect(sealing.lineage, label).toBe(lineage);
      // The store may hold keys whose id never reached a client (the crash hit between store and reply), never fewer.
      expect(sealing.keys, label).toBe(readdirSync(join(dataDir, 'sealed', 'keys')).length);
      expect(sealing.keys, label).toBeGreaterThanOrEqual(everyKey.length);

      // Every key id a client received is back, with its public key, label, curve and purpose.
      const listed = await post(url, '/v1/keys/list', credential, { op: 'list_keys' } as Operation);
      expect(listed.status).toBe(200);
      const byId = new Map(listed.json.answer!.keys!.map((k) => [k.key_id, k]));
      expect(byId.size).toBe(sealing.keys);
      for (const k of everyKey) {
        expect(byId.get(k.id), `${label}: key ${k.label} (${k.id})`).toMatchObject({ public_key: k.publicKey, label: k.label, curve: k.curve, purpose: k.purpose });
      }

      // Same inputs, byte-identical signatures, same signers.
      for (const s of reference) {
        const key = fixed.find((k) => k.id === s.keyId)!;
        if (key === halted) continue;
        const r = await post(url, s.route, credential, s.operation);
        expect(r.status, `${label}: ${key.label} ${s.route}: ${JSON.stringify(r.json)}`).toBe(200);
        const result = (r.json.answer!.raw ?? r.json.answer!.signature)!;
        expect(result, `${label}: ${key.label} ${s.route}`).toBe(s.result);
        checkSigner(key, { ...s, result, recoveryId: r.json.answer!.recovery_id ?? null });
      }
      // Every signature a client received under load is reproduced (a sample, to keep the run short).
      const sample = received.signed.filter((_, i) => i % Math.max(1, Math.floor(received.signed.length / 40)) === 0);
      for (const s of sample) {
        const r = await post(url, s.route, credential, s.operation);
        expect(r.status).toBe(200);
        expect(r.json.answer!.signature, `${label}: load signature of ${s.keyId}`).toBe(s.result);
      }
      // Every key made under load signs, and its signature recovers / verifies to its public key.
      for (const k of received.generated) checkSigner(k, await signWith(url, credential, k, `${label}-gen`));

      // Configuration and policy: the same hashes and versions.
      const evidence = await getJson<Evidence>(url, '/v1/evidence');
      expect(evidence).toMatchObject({ configHash: evidence1.configHash, configVersion: evidence1.configVersion, policyHash: evidence1.policyHash, policyVersion: evidence1.policyVersion });
      const stack = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as Record<string, unknown>;
      for (const f of ['configHash', 'policyHash', 'policyVersion', 'pcr0']) expect(stack[f], `${label}: stack.json ${f}`).toEqual(stack1[f]);

      // The state started from a sealed snapshot (taken at the previous start), not the whole log.
      const resumedFrom = (up.ready as unknown as { audit: { resumed: { snapshotSize: number | null; size: number } } }).audit.resumed;
      expect(resumedFrom.snapshotSize, `${label}: resumed from a sealed snapshot`).toEqual(expect.any(Number));
      expect(resumedFrom.snapshotSize!).toBeLessThanOrEqual(resumedFrom.size);
      // The kill switch as the audit log left it: the key is still halted, nothing else is.
      expect(up.ready.killSwitch).toMatchObject({ fromAuditLog: true, resumedWith: null, level: 'green' });
      expect(up.ready.killSwitch.scopes).toEqual([`key:${halted.id}=red`]);
      const stillHalted = await post(url, '/v1/sign/digest', credential, requestFor(halted, 'a').operation);
      expect(stillHalted.status, label).toBe(423);
      expect(stillHalted.json.error?.code).toBe('KILL_SWITCH_HALTED');
    };

    // ---- second start: same data directory ----------------------------------------------------------------------
    step('second start');
    const second = await startUp(dataDir, ['--sealing', 'development']);
    running.push(second);
    await checkRestarted(second, 'after the enclave SIGKILL');
    // The rate-limited key spent 3 of 5 tokens before the crash: 2 left, then denied.
    for (let i = 0; i < 2; i++) await signWith(second.ready.url, credential, limited, `limited-after-${i}`);
    const denied = await post(second.ready.url, '/v1/sign/ed25519', credential, requestFor(limited, 'limited-over').operation);
    expect(denied.status).toBe(403);
    expect(denied.json.error?.code).toBe('POLICY_DENIED');

    // ---- crash 2: SIGKILL of the whole host (`zcp up`; its enclave follows), under load ------------------------------
    step('crash 2');
    const enclave2 = enclaveOf(second);
    const load2 = await underLoad(second.ready.url, credential, keys, () => killStack(second), received, 'r2');
    expect(isAlive(enclave2)).toBe(false);
    outputs.push(second.stderr());
    running.pop();

    // ---- third start ------------------------------------------------------------------------------------------------
    step('third start');
    const third = await startUp(dataDir, ['--sealing', 'development']);
    running.push(third);
    await checkRestarted(third, 'after the host SIGKILL');
    const stillDenied = await post(third.ready.url, '/v1/sign/ed25519', credential, requestFor(limited, 'limited-over-2').operation);
    expect(stillDenied.status).toBe(403);
    expect(stillDenied.json.error?.code).toBe('POLICY_DENIED');
    const finalList = await post(third.ready.url, '/v1/keys/list', credential, { op: 'list_keys' } as Operation);
    const publicKeyOf = new Map(finalList.json.answer!.keys!.map((k) => [k.key_id, k]));
    await stopStack(third);
    outputs.push(third.stderr());
    running.pop();

    // ---- ground truth: open every sealed record with the development master key ------------------------------------
    step('ground truth');
    const master = readFileSync(join(dataDir, 'sealing', 'master.key'));
    expect(master.length).toBe(32);
    expect(lstatSync(join(dataDir, 'sealing', 'master.key')).mode & 0o777).toBe(0o600);
    const secrets = new Map<string, Buffer>();
    const keyFiles = readdirSync(join(dataDir, 'sealed', 'keys'));
    expect(keyFiles.length).toBe(publicKeyOf.size);
    for (const file of keyFiles) {
      const record = readFileSync(join(dataDir, 'sealed', 'keys', file));
      const { header, plaintext } = openRecord(master, record);
      expect(header.kind).toBe('key');
      expect(`${header.name}.seal`).toBe(file);
      expect(header.version).toBe(1n);
      expect(header.lineage.toString('hex')).toBe(lineage);
      const key = decodeKeyPlaintext(plaintext);
      const listed = publicKeyOf.get(header.name);
      expect(listed, `sealed record ${file} names a key the enclave holds`).toBeDefined();
      expect({ curve: key.curve, purpose: key.purpose, label: key.label, owner: key.owner }).toEqual({ curve: listed!.curve, purpose: listed!.purpose, label: listed!.label, owner: 'dev-client' });
      // The secret is the key's: its public key, derived two ways.
      if (key.curve === 'secp256k1') {
        const ecdh = createECDH('secp256k1');
        ecdh.setPrivateKey(key.secret);
        expect(`0x${ecdh.getPublicKey('hex', 'compressed')}`).toBe(listed!.public_key);
        expect(`0x${core.publicKeyFromSecret(key.secret, true).toString('hex')}`).toBe(listed!.public_key);
      } else {
        const spki = createPublicKey(ed25519Private(key.secret)).export({ format: 'der', type: 'spki' });
        expect(`0x${spki.subarray(-32).toString('hex')}`).toBe(listed!.public_key);
        expect(`0x${core.ed25519PublicKey(key.secret).toString('hex')}`).toBe(listed!.public_key);
      }
      secrets.set(header.name, key.secret);
    }
    // A local signature with each opened secret is the enclave's signature (RFC 6979 / Ed25519 determinism).
    for (const s of reference) {
      const key = fixed.find((k) => k.id === s.keyId)!;
      const secret = secrets.get(key.id)!;
      const op = s.operation as Operation & { digest?: Uint8Array; message?: Uint8Array };
      if (op.op === 'sign_digest') expect(`0x${core.signDigest(secret, op.digest!).signature.toString('hex')}`).toBe(s.result);
      if (op.op === 'sign_personal_message') expect(`0x${core.signDigest(secret, core.hashPersonalMessage(op.message!)).signature.toString('hex')}`).toBe(s.result);
      if (op.op === 'sign_ed25519') expect(`0x${cryptoSign(null, op.message!, ed25519Private(secret)).toString('hex')}`).toBe(s.result);
    }
    // The configuration record opens to the signed configuration the stack boots with.
    const configRecord = openRecord(master, readFileSync(join(dataDir, 'sealed', 'configuration.seal')));
    expect(configRecord.header.kind).toBe('configuration');
    expect(configRecord.header.name).toBe('current');
    expect(configRecord.plaintext.equals(readFileSync(dev.configPath))).toBe(true);

    // ---- the plaintext scan -----------------------------------------------------------------------------------------
    step('the plaintext scan');
    const excluded = new Set([join(dataDir, 'sealing', 'master.key'), dev.adminKeyPath, dev.clientKeyPath]);
    const files = filesUnder(dataDir).filter((f) => !excluded.has(f));
    const names = files.map((f) => relative(dataDir, f));
    // The scan covers what matters: the sealed records, the audit log, the configuration and policy.
    expect(names).toContain('sealed/configuration.seal');
    expect(names.filter((n) => n.startsWith('sealed/keys/'))).toHaveLength(secrets.size);
    expect(names.some((n) => n.startsWith('audit/logs/') && n.includes('segments'))).toBe(true);
    expect(names).toEqual(expect.arrayContaining(['config.cbor', 'policy.json']));
    const wire = [...relayed, ...outputs].join('\n');
    expect(relayed.length).toBeGreaterThan(100);
    const hits: string[] = [];
    for (const file of files) {
      const bytes = readFileSync(file);
      const text = bytes.toString('latin1');
      for (const [id, secret] of secrets) {
        if (bytes.includes(secret)) hits.push(`${relative(dataDir, file)}: raw secret of ${id}`);
        for (const e of encodings(secret)) if (text.includes(e)) hits.push(`${relative(dataDir, file)}: encoded secret of ${id}`);
      }
    }
    for (const [id, secret] of secrets) {
      for (const e of encodings(secret)) if (wire.includes(e)) hits.push(`API response or zcp output: secret of ${id}`);
      if (Buffer.from(wire, 'latin1').includes(secret)) hits.push(`API response or zcp output: raw secret of ${id}`);
    }
    expect(hits).toEqual([]);

    console.log(
      `[sealed-restart] ${secrets.size} sealed keys (${fixed.length} fixed + ${received.generated.length} made under load, ` +
        `${load1.signedOk + load2.signedOk} signatures under load, ${load1.failed + load2.failed} requests failed while a stack went down; ` +
        `${secrets.size - fixed.length - received.generated.length} key(s) stored whose id never reached a client); ` +
        `enclave SIGKILL and host SIGKILL both restored every key; ${files.length} files and ${relayed.length} responses scanned for ${secrets.size} secrets: none found; ${Date.now() - started} ms`,
    );
  }, 120_000);
});
