/**
 * AWS Nitro attestation documents (crates/attestation via `verifyAttestation`):
 * the six real documents of test/vectors/nitro/ give their EXPECTED.json
 * verdict at a time inside the leaf's validity window, debug-mode documents
 * need `allowDebug`, sampled single-byte mutations are all rejected, times
 * outside the window and a wrong root are rejected, with stable error codes.
 *
 * Runs against all three builds that carry the verifier: native (N-API), wasm
 * and the browser package `@sentinel/verify-wasm`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attempt, codeOf, expectCode, fromHex, hex, SeededRng, sha256, vectorPath } from './helpers.ts';
import { attestationImplementations } from './impls.ts';

interface ExpectedDocument {
  file: string;
  encoding: string;
  cose_signature_valid: boolean;
  chain_valid: boolean;
  pcr0_all_zero: boolean;
  timestamp_ms: number;
  leaf_not_before: string;
  leaf_not_after: string;
  nonce_hex_prefix?: string;
  optional_fields_null?: string[];
  pcr0?: string;
  pcr1?: string;
  pcr2?: string;
  user_data_hex?: string;
}
interface Expected {
  root_der_sha256: string;
  documents: ExpectedDocument[];
}

const EXPECTED = JSON.parse(readFileSync(vectorPath('nitro/EXPECTED.json'), 'utf8')) as Expected;
const ROOT_FINGERPRINT = '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';

function load(doc: ExpectedDocument): Uint8Array {
  const raw = readFileSync(vectorPath(`nitro/${doc.file}`));
  return new Uint8Array(doc.encoding === 'base64' ? Buffer.from(raw.toString('ascii').trim(), 'base64') : raw);
}
function pemToDer(file: string): Uint8Array {
  const body = readFileSync(vectorPath(`nitro/${file}`), 'ascii').replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(body, 'base64'));
}
/** Inside the leaf window: the document's second + 60 s. */
const atOf = (doc: ExpectedDocument) => Math.floor(doc.timestamp_ms / 1000) * 1000 + 60_000;
const VALID = EXPECTED.documents.filter((d) => d.cose_signature_valid);
const QOS = EXPECTED.documents.find((d) => d.file === 'qos_attestation-doc.bin')!;
const AWS_ROOT = pemToDer('aws_nitro_root_g1.pem');

describe('attestation vectors', () => {
  it('the shipped root PEM is the pinned AWS Nitro Root-G1', () => {
    expect(hex(sha256(AWS_ROOT))).toBe(ROOT_FINGERPRINT);
    expect(EXPECTED.root_der_sha256).toBe(ROOT_FINGERPRINT);
  });
});

describe.each(attestationImplementations)('attestation ($name)', ({ api }) => {
  const { verifyAttestation, awsNitroRootG1 } = api;

  it('embeds the AWS Nitro Root-G1 certificate', () => {
    expect(hex(awsNitroRootG1())).toBe(hex(AWS_ROOT));
  });

  it.each(EXPECTED.documents.map((d) => [d.file, d] as const))('%s gives its expected verdict', (_file, doc) => {
    const bytes = load(doc);
    const atMs = atOf(doc);
    if (!doc.cose_signature_valid) {
      expectCode(() => verifyAttestation(bytes, { atMs, allowDebug: true }), 'SIGNATURE_INVALID');
      expectCode(() => verifyAttestation(bytes, { atMs }), 'SIGNATURE_INVALID');
      return;
    }
    const v = verifyAttestation(bytes, { atMs, allowDebug: true });
    expect(v.timestampMs).toBe(doc.timestamp_ms);
    expect(v.digest).toBe('SHA384');
    expect(Object.keys(v.pcrs)).toHaveLength(16);
    for (const value of Object.values(v.pcrs)) expect(value).toMatch(/^[0-9a-f]{96}$/);
    expect(v.rootFingerprint).toBe(ROOT_FINGERPRINT);
    expect(v.rootKind).toBe('aws-nitro');
    expect(v.moduleId.length).toBeGreaterThan(0);
    expect(v.certificate).toMatch(/^30[0-9a-f]+$/);
    expect(/^0+$/.test(v.pcrs['0']!)).toBe(doc.pcr0_all_zero);
    const fields: Record<string, string | null> = { public_key: v.publicKey, user_data: v.userData, nonce: v.nonce };
    for (const name of doc.optional_fields_null ?? []) expect(fields[name], name).toBeNull();
    if (doc.nonce_hex_prefix !== undefined) expect(v.nonce!.startsWith(doc.nonce_hex_prefix)).toBe(true);
    // Default policy: debug-mode documents are refused with their own code.
    if (doc.pcr0_all_zero) {
      expectCode(() => verifyAttestation(bytes, { atMs }), 'DEBUG_MODE_ENCLAVE');
    } else {
      expect(verifyAttestation(bytes, { atMs })).toEqual(v);
      expect(verifyAttestation(bytes, { atMs, root: AWS_ROOT })).toEqual(v);
    }
  });

  it('qos: expected PCRs, user data and PEM public key; expectations', () => {
    const bytes = load(QOS);
    const atMs = atOf(QOS);
    const v = verifyAttestation(bytes, { atMs });
    expect(v.pcrs['0']).toBe(QOS.pcr0);
    expect(v.pcrs['1']).toBe(QOS.pcr1);
    expect(v.pcrs['2']).toBe(QOS.pcr2);
    expect(v.userData).toBe(QOS.user_data_hex);
    expect(v.nonce).toBeNull();
    expect(Buffer.from(v.publicKey!, 'hex').toString('latin1').startsWith('-----BEGIN')).toBe(true);

    const pcrs = { '0': QOS.pcr0!, '1': QOS.pcr1!, '2': QOS.pcr2! };
    expect(verifyAttestation(bytes, { atMs, expect: { pcrs, userData: QOS.user_data_hex!, maxAgeMs: 120_000 } })).toEqual(v);
    const wrong = `${QOS.pcr0!.slice(0, 94)}00`;
    expectCode(() => verifyAttestation(bytes, { atMs, expect: { pcrs: { '0': wrong } } }), 'PCR_MISMATCH');
    expectCode(() => verifyAttestation(bytes, { atMs, expect: { pcrs: { '5': QOS.pcr0! } } }), 'PCR_MISMATCH');
    expectCode(() => verifyAttestation(bytes, { atMs, expect: { nonce: '01' } }), 'NONCE_MISMATCH');
    expectCode(() => verifyAttestation(bytes, { atMs, expect: { userData: '00' } }), 'USER_DATA_MISMATCH');
    expectCode(() => verifyAttestation(bytes, { atMs, expect: { publicKey: '00' } }), 'PUBLIC_KEY_MISMATCH');
    expectCode(() => verifyAttestation(bytes, { atMs, expect: {} }), 'EMPTY_EXPECTATION');
    expectCode(() => verifyAttestation(bytes, { atMs, expect: { pcrs: { '0': '' } } }), 'EMPTY_EXPECTATION');
    expectCode(() => verifyAttestation(bytes, { atMs, expect: { nonce: '' } }), 'EMPTY_EXPECTATION');
    expectCode(() => verifyAttestation(bytes, { atMs, expect: { nonce: 'xyz' } }), 'INVALID_EXPECTATION');
    expectCode(() => verifyAttestation(bytes, { atMs, expect: { maxAgeMs: 1_000 } }), 'TIMESTAMP_TOO_OLD');
  });

  it('the eternis nonce matches and a changed one does not', () => {
    const doc = EXPECTED.documents.find((d) => d.file === 'eternis_example_attestation')!;
    const bytes = load(doc);
    const atMs = atOf(doc);
    const nonce = verifyAttestation(bytes, { atMs }).nonce!;
    verifyAttestation(bytes, { atMs, expect: { nonce } });
    const flipped = nonce.slice(0, -1) + (nonce.endsWith('0') ? '1' : '0');
    expectCode(() => verifyAttestation(bytes, { atMs, expect: { nonce: flipped } }), 'NONCE_MISMATCH');
  });

  it.each(VALID.map((d) => [d.file, d] as const))('%s: times outside the leaf window are rejected', (_file, doc) => {
    const bytes = load(doc);
    const nb = Date.parse(doc.leaf_not_before);
    const na = Date.parse(doc.leaf_not_after);
    for (const atMs of [nb, na]) verifyAttestation(bytes, { atMs, allowDebug: true });
    for (const atMs of [nb - 1, na + 1, 0, doc.timestamp_ms + 86_400_000, doc.timestamp_ms - 86_400_000]) {
      expectCode(() => verifyAttestation(bytes, { atMs, allowDebug: true }), 'CERTIFICATE_NOT_VALID_AT_TIME');
    }
    for (const atMs of [Number.NaN, -1, 1.5, Number.POSITIVE_INFINITY]) {
      expectCode(() => verifyAttestation(bytes, { atMs, allowDebug: true }), 'INVALID_TIME');
    }
  });

  it('a wrong trusted root is rejected', () => {
    const bytes = load(QOS);
    const atMs = atOf(QOS);
    const tls = new Uint8Array(readFileSync(vectorPath('nitro/evervault_valid-certificate.der')));
    expectCode(() => verifyAttestation(bytes, { atMs, root: tls }), 'INVALID_TRUSTED_ROOT');
    expectCode(() => verifyAttestation(bytes, { atMs, root: new Uint8Array(0) }), 'INVALID_TRUSTED_ROOT');
    const altered = AWS_ROOT.slice();
    altered[altered.length - 1]! ^= 1; // last byte of the signature: still parses, different bytes
    expect(codeOf(() => verifyAttestation(bytes, { atMs, root: altered }))).toMatch(/^(ROOT_MISMATCH|INVALID_TRUSTED_ROOT)$/);
    // A certificate of the document's own bundle is not its root.
    const cert = fromHex(verifyAttestation(bytes, { atMs }).certificate);
    expect(codeOf(() => verifyAttestation(bytes, { atMs, root: cert }))).toBe('ROOT_MISMATCH');
  });

  it('envelope: tag 18 and an indefinite-length array are accepted, trailing bytes are not', () => {
    const bytes = load(QOS);
    const atMs = atOf(QOS);
    const plain = verifyAttestation(bytes, { atMs });
    expect(verifyAttestation(Uint8Array.of(0xd2, ...bytes), { atMs })).toEqual(plain);
    expect(verifyAttestation(Uint8Array.of(0x9f, ...bytes.subarray(1), 0xff), { atMs })).toEqual(plain);
    expectCode(() => verifyAttestation(Uint8Array.of(...bytes, 0), { atMs }), 'TRAILING_BYTES');
    expectCode(() => verifyAttestation(new Uint8Array(0), { atMs }), 'MALFORMED_CBOR');
    expectCode(() => verifyAttestation(new Uint8Array(16 * 1024 + 1), { atMs }), 'DOCUMENT_TOO_LARGE');
  });

  it('500 sampled single-byte mutations of valid documents are all rejected', () => {
    const rng = new SeededRng('fixed', 'nitro-attestation-mutations');
    const docs = VALID.map((d) => ({ d, bytes: load(d), atMs: atOf(d) }));
    let tried = 0;
    const accepted: string[] = [];
    const codes = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const { d, bytes, atMs } = docs[i % docs.length]!;
      const position = rng.int(bytes.length);
      const delta = 1 + rng.int(255);
      const mutated = bytes.slice();
      mutated[position]! ^= delta;
      tried++;
      const outcome = attempt(() => verifyAttestation(mutated, { atMs, allowDebug: true }));
      if (!outcome.threw) accepted.push(`${d.file}@${position}^${delta}`);
      else {
        expect(outcome.code, String(outcome.error)).toMatch(/^[A-Z][A-Z0-9_]+$/);
        codes.add(outcome.code!);
      }
    }
    expect(tried).toBe(500);
    expect(accepted).toEqual([]);
    expect(codes.has('SIGNATURE_INVALID') || codes.has('CERTIFICATE_SIGNATURE_INVALID')).toBe(true);
  });
});
