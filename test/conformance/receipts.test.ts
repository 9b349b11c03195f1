/**
 * Receipts (crates/evidence via `verifyReceipt`, docs/receipts.md): the worked
 * example's receipts (crates/evidence/tests/data/example.json: a simulated
 * enclave's boot attestation document under its development root, two
 * receipts, the test-only receipt key) verify in every build with the same
 * result, and each way of getting the evidence wrong is refused with the same
 * code in every build.
 *
 * Also checked here without our code: the receipt's Ed25519 signature over the
 * RFC 9052 Sig_structure with node:crypto, and attestation_hash with SHA-256.
 * (test/interop/cose-go checks the whole format with Go libraries.)
 *
 * Runs against all three builds that carry the verifier: native (N-API), wasm
 * and the browser package `@sentinel/verify-wasm`.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attempt, codeOf, concat, expectCode, fromHex, hex, sha256, utf8 } from './helpers.ts';
import { attestationImplementations, native, type VerifiedReceipt } from './impls.ts';

interface ClaimsView {
  requestId: string;
  timestampUs: number;
  principal: string;
  keyId: string | null;
  op: string;
  payloadHash: string;
  decision: 'allowed' | 'denied';
  code: string | null;
  resultHash: string | null;
  rulesEvaluated: Array<{
    rule: string;
    type: string;
    result: string;
    value: string | null;
    limit: string | null;
    window: string | null;
    detail: string | null;
  }>;
  configHash: string;
  policyHash: string | null;
  attestationHash: string;
  approvals: string[];
  oversightState: 'green' | 'yellow' | 'red';
  oversightScope: string;
  /** `null`: the receipt has no key_storage entry (its answer created no key). */
  keyStorage: 'sealed:aws-kms' | 'sealed:development' | 'ephemeral' | null;
}
interface Fixture {
  root: string;
  document: string;
  later_document: string;
  now_ms: number;
  pcr0: string;
  config_hash: string;
  policy_hash: string;
  attested_keys: string;
  user_data: string;
  receipt_secret_key: string;
  receipts: { allowed: string; denied: string };
  claims: { allowed: ClaimsView; denied: ClaimsView };
}

const F = JSON.parse(
  readFileSync(new URL('../../crates/evidence/tests/data/example.json', import.meta.url), 'utf8'),
) as Fixture;
const ROOT = fromHex(F.root);
const DOCUMENT = fromHex(F.document);
const LATER_DOCUMENT = fromHex(F.later_document);
const ALLOWED = fromHex(F.receipts.allowed);
const DENIED = fromHex(F.receipts.denied);
const KEYS = fromHex(F.attested_keys);
const NOW = F.now_ms;
const WHICH = ['allowed', 'denied'] as const;

/** The receipt with one byte replaced. */
function withByte(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out[at] = value;
  return out;
}

function indexOf(bytes: Uint8Array, needle: string): number {
  const at = Buffer.from(bytes).indexOf(Buffer.from(needle, 'utf8'));
  if (at < 0) throw new Error(`${needle} not found`);
  return at;
}

/** Payload (claims) of a canonical receipt: `d2 84 43 a10127 a0 <bstr payload> 58 40 <sig>`. */
function payloadOf(receipt: Uint8Array): Uint8Array {
  const head = receipt[7]!;
  const [len, skip] = head === 0x59 ? [(receipt[8]! << 8) | receipt[9]!, 3] : head === 0x58 ? [receipt[8]!, 2] : [head - 0x40, 1];
  return receipt.subarray(7 + skip, 7 + skip + len);
}

function bstr(content: Uint8Array): Uint8Array {
  const n = content.length;
  const head = n < 24 ? [0x40 + n] : n < 256 ? [0x58, n] : [0x59, n >> 8, n & 0xff];
  return concat(Uint8Array.from(head), content);
}

/** A short CBOR text string (under 24 bytes). */
function tstr(text: string): Uint8Array {
  const bytes = utf8(text);
  return concat(Uint8Array.of(0x60 + bytes.length), bytes);
}

const KEY_STORAGES = ['sealed:aws-kms', 'sealed:development', 'ephemeral'] as const;

/**
 * The example's allowed claims (18 keys, map head b2) with a `key_storage` entry of `value` (its CBOR
 * bytes) at `place`: its canonical one, after config_hash's 32-byte string, or last; map head b3.
 */
function withKeyStorage(value: Uint8Array, place: 'canonical' | 'last' = 'canonical'): Uint8Array {
  const claims = payloadOf(ALLOWED);
  const at = place === 'last' ? claims.length : indexOf(claims, 'config_hash') + 'config_hash'.length + 2 + 32;
  return concat(Uint8Array.of(0xb3), claims.subarray(1, at), tstr('key_storage'), value, claims.subarray(at));
}

/** RFC 9052 Sig_structure ["Signature1", h'a10127', h'', payload]. */
function sigStructure(payload: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(0x84, 0x6a), utf8('Signature1'), Uint8Array.of(0x43, 0xa1, 0x01, 0x27, 0x40), bstr(payload));
}

/** A receipt around any payload, signed with the fixture's (test-only) receipt key through the core's signEd25519. */
function signPayload(payload: Uint8Array): Uint8Array {
  const signature = native.core.signEd25519(fromHex(F.receipt_secret_key), sigStructure(payload));
  return concat(Uint8Array.of(0xd2, 0x84, 0x43, 0xa1, 0x01, 0x27, 0xa0), bstr(payload), Uint8Array.of(0x58, 0x40), signature);
}

describe('receipt example, checked without our code', () => {
  it('the Ed25519 signature verifies over the RFC 9052 Sig_structure (node:crypto)', () => {
    const spki = concat(fromHex('302a300506032b6570032100'), KEYS.subarray(1, 33));
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    for (const receipt of [ALLOWED, DENIED]) {
      const signature = receipt.subarray(receipt.length - 64);
      expect(hex(receipt.subarray(receipt.length - 66, receipt.length - 64))).toBe('5840');
      expect(cryptoVerify(null, sigStructure(payloadOf(receipt)), key, signature)).toBe(true);
      const tampered = withByte(receipt, indexOf(receipt, 'dev-client'), 0x44);
      expect(cryptoVerify(null, sigStructure(payloadOf(tampered)), key, signature)).toBe(false);
    }
  });

  it('attestation_hash is SHA-256 of the document, config_hash and policy_hash are in user_data', () => {
    const userData = fromHex(F.user_data);
    for (const which of WHICH) {
      expect(F.claims[which].attestationHash).toBe(`0x${hex(sha256(DOCUMENT))}`);
      expect(F.claims[which].configHash).toBe(`0x${hex(userData.subarray(1, 33))}`);
      expect(F.claims[which].policyHash).toBe(`0x${hex(userData.subarray(33, 65))}`);
    }
    expect(userData.length).toBe(65);
    expect(userData[0]).toBe(0x03);
    expect(KEYS[0]).toBe(0x02);
    expect(KEYS.length).toBe(129);
  });
});

describe.each(attestationImplementations)('receipts ($name)', ({ api }) => {
  const { verifyReceipt, unsafeDecodeReceiptClaims, attestedKeys, verifyAttestation } = api;
  const options = { root: ROOT, expectedPcr0: F.pcr0, expectedConfigHash: F.config_hash, expectedPolicyHash: F.policy_hash, now: NOW };

  it('verifies the example receipts', () => {
    for (const which of WHICH) {
      const v: VerifiedReceipt = verifyReceipt(fromHex(F.receipts[which]), DOCUMENT, options);
      expect(v.claims).toEqual(F.claims[which]);
      expect(v.rootKind).toBe('other');
      expect(v.pcr0).toBe(F.pcr0);
      expect(v.attestedKeys).toEqual({
        receiptKey: `0x${hex(KEYS.subarray(1, 33))}`,
        sessionKey: `0x${hex(KEYS.subarray(33, 65))}`,
        importKey: `0x${hex(KEYS.subarray(65, 97))}`,
        auditKey: `0x${hex(KEYS.subarray(97, 129))}`,
      });
    }
    expect(F.claims.denied).toMatchObject({ decision: 'denied', code: 'POLICY_DENIED', resultHash: null });
    expect(typeof F.claims.allowed.timestampUs).toBe('number');
    // Rules as objects with every key present (null when absent), in policy order.
    expect(F.claims.denied.rulesEvaluated[0]).toEqual({
      rule: 'digests-per-minute',
      type: 'rate_limit',
      result: 'deny',
      value: '101',
      limit: '100',
      window: '1m',
      detail: 'key',
    });
    for (const rule of verifyReceipt(ALLOWED, DOCUMENT, options).claims.rulesEvaluated) {
      expect(Object.keys(rule).sort()).toEqual(['detail', 'limit', 'result', 'rule', 'type', 'value', 'window']);
    }
    // The kill-switch claims: the allowed request was held (its key at Yellow) and released by two
    // approvers; the denied one was decided with everything green.
    expect(verifyReceipt(ALLOWED, DOCUMENT, options).claims).toMatchObject({
      approvals: ['alice', 'risk-desk'],
      oversightState: 'yellow',
      oversightScope: 'key:key-1',
    });
    expect(verifyReceipt(DENIED, DOCUMENT, options).claims).toMatchObject({ approvals: [], oversightState: 'green', oversightScope: 'global' });
  });

  it('refuses oversight claims outside their values, even validly signed', () => {
    const claims = payloadOf(ALLOWED);
    const edited = (from: string, to: string): Uint8Array => {
      const at = indexOf(claims, from);
      return concat(claims.subarray(0, at), utf8(to), claims.subarray(at + from.length));
    };
    // Same lengths, so still canonical CBOR: an unknown state, a scope of no known kind, and
    // approvals out of order ("zlice" after "risk-desk").
    for (const payload of [edited('yellow', 'yelloW'), edited('key:key-1', 'kez:key-1'), edited('alice', 'zlice')]) {
      expectCode(() => verifyReceipt(signPayload(payload), DOCUMENT, options), 'RECEIPT_MALFORMED');
      expectCode(() => unsafeDecodeReceiptClaims(signPayload(payload)), 'RECEIPT_MALFORMED');
    }
    // Another approver still in order, another key: well-formed claims, but not what was signed.
    for (const [from, to] of [['alice', 'alicf'], ['key:key-1', 'key:key-2']] as const) {
      const at = indexOf(ALLOWED, from);
      const forged = concat(ALLOWED.subarray(0, at), utf8(to), ALLOWED.subarray(at + from.length));
      expectCode(() => verifyReceipt(forged, DOCUMENT, options), 'RECEIPT_SIGNATURE_INVALID');
    }
  });

  it('reads key_storage, the claim left out (not null) when the answer created no key', () => {
    // The example receipts (sign_digest) have none: 18 keys, keyStorage null in the view.
    expect(payloadOf(ALLOWED)[0]).toBe(0xb2);
    expect(verifyReceipt(ALLOWED, DOCUMENT, options).claims.keyStorage).toBeNull();
    expect(unsafeDecodeReceiptClaims(DENIED).keyStorage).toBeNull();
    // With each of its values, in its place between config_hash and policy_hash: the same claims plus it.
    for (const storage of KEY_STORAGES) {
      const payload = withKeyStorage(tstr(storage));
      expect(Buffer.from(payload).indexOf(Buffer.from(concat(tstr('key_storage'), tstr(storage), tstr('policy_hash'))))).toBeGreaterThan(0);
      const receipt = signPayload(payload);
      expect(verifyReceipt(receipt, DOCUMENT, options).claims).toEqual({ ...F.claims.allowed, keyStorage: storage });
      expect(unsafeDecodeReceiptClaims(receipt).keyStorage).toBe(storage);
    }
    // Signed like every claim: the example's signature over claims with it added does not verify.
    const unsigned = concat(ALLOWED.subarray(0, 7), bstr(withKeyStorage(tstr('ephemeral'))), ALLOWED.subarray(ALLOWED.length - 66));
    expectCode(() => verifyReceipt(unsigned, DOCUMENT, options), 'RECEIPT_SIGNATURE_INVALID');
    // Present but null, another value or type, or out of its place: malformed, even validly signed.
    for (const payload of [
      withKeyStorage(Uint8Array.of(0xf6)),
      withKeyStorage(tstr('sealed')),
      withKeyStorage(tstr('Ephemeral')),
      withKeyStorage(bstr(utf8('ephemeral'))),
      withKeyStorage(Uint8Array.of(0x01)),
      withKeyStorage(tstr('ephemeral'), 'last'),
    ]) {
      expectCode(() => verifyReceipt(signPayload(payload), DOCUMENT, options), 'RECEIPT_MALFORMED');
      expectCode(() => unsafeDecodeReceiptClaims(signPayload(payload)), 'RECEIPT_MALFORMED');
    }
    // The refusal names the claim.
    const outcome = attempt(() => unsafeDecodeReceiptClaims(signPayload(withKeyStorage(tstr('sealed:kms')))));
    expect(outcome.threw).toBe(true);
    if (outcome.threw) expect((outcome.error as Error).message).toContain('key_storage must be');
  });

  it('the attested key bundle is the document public_key', () => {
    const doc = verifyAttestation(DOCUMENT, { root: ROOT, atMs: NOW });
    expect(doc.publicKey).toBe(hex(KEYS));
    expect(doc.userData).toBe(hex(fromHex(F.user_data)));
    expect(attestedKeys(fromHex(doc.publicKey!))).toEqual(verifyReceipt(ALLOWED, DOCUMENT, options).attestedKeys);
  });

  it('takes expectations as bytes or hex, and none at all', () => {
    const bytes = { root: ROOT, expectedPcr0: fromHex(F.pcr0), expectedConfigHash: fromHex(F.config_hash), expectedPolicyHash: fromHex(F.policy_hash), now: NOW };
    const bare = {
      root: ROOT,
      expectedPcr0: F.pcr0.slice(2),
      expectedConfigHash: F.config_hash.slice(2).toUpperCase(),
      expectedPolicyHash: F.policy_hash.slice(2),
      now: NOW,
    };
    for (const o of [bytes, bare, { root: ROOT, now: NOW }, { root: ROOT, now: NOW, allowDebug: false }]) {
      expect(verifyReceipt(ALLOWED, DOCUMENT, o).claims).toEqual(F.claims.allowed);
    }
    // `null` is unset, as `undefined` is.
    const nulls = { root: ROOT, now: NOW, expectedPcr0: null, expectedConfigHash: null, expectedPolicyHash: null, allowDebug: null };
    expect(verifyReceipt(ALLOWED, DOCUMENT, nulls as never).claims).toEqual(F.claims.allowed);
  });

  it('refuses a tampered claim, a tampered signature and a forged key', () => {
    const tampered = withByte(ALLOWED, indexOf(ALLOWED, 'dev-client'), 0x44); // 'D'
    expectCode(() => verifyReceipt(tampered, DOCUMENT, options), 'RECEIPT_SIGNATURE_INVALID');
    // Decoding without verification still works, and shows the tampered claim: never trust it.
    expect(unsafeDecodeReceiptClaims(tampered).principal).toBe('Dev-client');
    const badSignature = withByte(ALLOWED, ALLOWED.length - 1, ALLOWED[ALLOWED.length - 1]! ^ 1);
    expectCode(() => verifyReceipt(badSignature, DOCUMENT, options), 'RECEIPT_SIGNATURE_INVALID');
    // Claims naming a different document hash fail on the binding before the signature.
    const at = indexOf(ALLOWED, 'attestation_hash') + 'attestation_hash'.length + 2;
    expectCode(() => verifyReceipt(withByte(ALLOWED, at, ALLOWED[at]! ^ 1), DOCUMENT, options), 'RECEIPT_ATTESTATION_MISMATCH');
    // Claims naming another policy than the document binds, pinned or not.
    const policyAt = indexOf(ALLOWED, 'policy_hash') + 'policy_hash'.length + 2;
    const otherPolicy = withByte(ALLOWED, policyAt, ALLOWED[policyAt]! ^ 1);
    expectCode(() => verifyReceipt(otherPolicy, DOCUMENT, options), 'RECEIPT_POLICY_MISMATCH');
    expectCode(() => verifyReceipt(otherPolicy, DOCUMENT, { root: ROOT, now: NOW }), 'RECEIPT_POLICY_MISMATCH');
  });

  it('refuses a swapped document', () => {
    // Same simulated enclave, same keys and configuration, issued a second later.
    expectCode(() => verifyReceipt(ALLOWED, LATER_DOCUMENT, options), 'RECEIPT_ATTESTATION_MISMATCH');
  });

  it('refuses another configuration, policy or image', () => {
    const otherConfig = `0x${'00'.repeat(32)}`;
    expectCode(() => verifyReceipt(ALLOWED, DOCUMENT, { ...options, expectedConfigHash: otherConfig }), 'RECEIPT_CONFIG_MISMATCH');
    expectCode(() => verifyReceipt(ALLOWED, DOCUMENT, { ...options, expectedPolicyHash: `0x${'11'.repeat(32)}` }), 'RECEIPT_POLICY_MISMATCH');
    const otherPcr0 = `0x${F.pcr0.slice(2, -2)}${F.pcr0.endsWith('00') ? '01' : '00'}`;
    expectCode(() => verifyReceipt(ALLOWED, DOCUMENT, { ...options, expectedPcr0: otherPcr0 }), 'RECEIPT_PCR0_MISMATCH');
  });

  it('passes the attestation codes through', () => {
    const awsRoot = api.awsNitroRootG1();
    expectCode(() => verifyReceipt(ALLOWED, DOCUMENT, { ...options, root: awsRoot }), 'ROOT_MISMATCH');
    expectCode(() => verifyReceipt(ALLOWED, DOCUMENT, { ...options, now: NOW + 4 * 3600_000 }), 'CERTIFICATE_NOT_VALID_AT_TIME');
    // Without `now` the current time is used: the example's leaf certificate
    // (valid three hours from 2026-01-01T00:00Z) is not valid today.
    const { now: _, ...withoutNow } = options;
    expectCode(() => verifyReceipt(ALLOWED, DOCUMENT, withoutNow), 'CERTIFICATE_NOT_VALID_AT_TIME');
    const tamperedDocument = withByte(DOCUMENT, DOCUMENT.length - 1, DOCUMENT[DOCUMENT.length - 1]! ^ 1);
    expectCode(() => verifyReceipt(ALLOWED, tamperedDocument, options), 'SIGNATURE_INVALID');
  });

  it('refuses malformed receipts, even validly signed ones', () => {
    for (const bad of [new Uint8Array(0), ALLOWED.subarray(0, ALLOWED.length - 1), ALLOWED.subarray(1), concat(ALLOWED, Uint8Array.of(0))]) {
      expectCode(() => verifyReceipt(bad, DOCUMENT, options), 'RECEIPT_MALFORMED');
      expectCode(() => unsafeDecodeReceiptClaims(bad), 'RECEIPT_MALFORMED');
    }
    const claims = payloadOf(ALLOWED);
    // The canonical payload, re-signed here, is the example receipt byte for byte.
    expect(hex(signPayload(claims))).toBe(hex(ALLOWED));
    // Correctly signed, but the map head (18 pairs) spelled long (b8 12) or indefinite (bf ... ff), or
    // the first rules_evaluated entry's map head (a7) spelled long (b8 07).
    expect(claims[0]).toBe(0xb2);
    const longHead = concat(Uint8Array.of(0xb8, 0x12), claims.subarray(1));
    const indefinite = concat(Uint8Array.of(0xbf), claims.subarray(1), Uint8Array.of(0xff));
    const ruleHead = Buffer.from(claims).indexOf(Buffer.from(concat(Uint8Array.of(0x64), utf8('rule')))) - 1; // before tstr(4) "rule"
    expect(claims[ruleHead]).toBe(0xa7);
    const longRuleHead = concat(claims.subarray(0, ruleHead), Uint8Array.of(0xb8, 0x07), claims.subarray(ruleHead + 1));
    for (const payload of [longHead, indefinite, longRuleHead]) {
      expectCode(() => verifyReceipt(signPayload(payload), DOCUMENT, options), 'RECEIPT_MALFORMED');
    }
  });

  it('attestedKeys slices the 129-byte bundle and refuses anything else', () => {
    expect(attestedKeys(KEYS)).toEqual(verifyReceipt(ALLOWED, DOCUMENT, options).attestedKeys);
    // The version-1 layout (97 bytes, no audit key) is refused like any other length or version.
    for (const bad of [KEYS.subarray(0, 97), KEYS.subarray(0, 128), concat(KEYS, Uint8Array.of(0)), withByte(KEYS, 0, 0x01), new Uint8Array(0)]) {
      expectCode(() => attestedKeys(bad), 'ATTESTED_KEYS_MALFORMED');
    }
  });

  it('refuses bad options with stable codes', () => {
    const call = (o: unknown) => () => verifyReceipt(ALLOWED, DOCUMENT, o as typeof options);
    for (const bad of [
      {},
      { now: NOW },
      { root: null, now: NOW },
      { root: 'root', now: NOW },
      { root: ROOT, now: 'now' },
      { root: ROOT, now: NOW, allowDebug: 1 },
      { root: ROOT, now: NOW, expectedPcr0: 5 },
      { root: ROOT, now: NOW, expectedPCR0: F.pcr0 }, // misspelt: refused, never ignored
      { root: ROOT, now: NOW, expectedPolicy: F.policy_hash },
      { root: ROOT, now: NOW, expectedPolicyHash: 5 },
      5,
      null,
    ]) {
      expectCode(call(bad), 'INVALID_ARGUMENT');
    }
    expectCode(call({ ...options, expectedPcr0: '0x00' }), 'INVALID_EXPECTATION');
    expectCode(call({ ...options, expectedConfigHash: 'zz' }), 'INVALID_EXPECTATION');
    expectCode(call({ ...options, expectedConfigHash: new Uint8Array(31) }), 'INVALID_EXPECTATION');
    expectCode(call({ ...options, expectedPolicyHash: 'zz' }), 'INVALID_EXPECTATION');
    expectCode(call({ ...options, expectedPolicyHash: new Uint8Array(33) }), 'INVALID_EXPECTATION');
    expectCode(call({ ...options, now: -1 }), 'INVALID_TIME');
    expectCode(call({ ...options, now: 1.5 }), 'INVALID_TIME');
  });
});

describe('receipts: every build answers the same', () => {
  const cases: Array<[string, () => [Uint8Array, Uint8Array, unknown]]> = [
    ['allowed', () => [ALLOWED, DOCUMENT, { root: ROOT, now: NOW }]],
    ['denied', () => [DENIED, DOCUMENT, { root: ROOT, now: NOW, expectedPcr0: F.pcr0 }]],
    ['swapped document', () => [ALLOWED, LATER_DOCUMENT, { root: ROOT, now: NOW }]],
    ['pinned policy', () => [DENIED, DOCUMENT, { root: ROOT, now: NOW, expectedPolicyHash: F.policy_hash }]],
    ['another policy', () => [ALLOWED, DOCUMENT, { root: ROOT, now: NOW, expectedPolicyHash: `0x${'22'.repeat(32)}` }]],
    ['tampered', () => [withByte(DENIED, indexOf(DENIED, 'denied'), 0x44), DOCUMENT, { root: ROOT, now: NOW }]],
    ['truncated', () => [ALLOWED.subarray(0, 100), DOCUMENT, { root: ROOT, now: NOW }]],
    ['key storage', () => [signPayload(withKeyStorage(tstr('sealed:development'))), DOCUMENT, { root: ROOT, now: NOW }]],
    ['null key storage', () => [signPayload(withKeyStorage(Uint8Array.of(0xf6))), DOCUMENT, { root: ROOT, now: NOW }]],
  ];
  it.each(cases)('%s', (_name, make) => {
    const [receipt, document, opts] = make();
    const outcomes = attestationImplementations.map(({ api }) => {
      const o = attempt(() => api.verifyReceipt(receipt, document, opts as never));
      return o.threw ? { error: codeOf(() => api.verifyReceipt(receipt, document, opts as never)) } : { value: o.value };
    });
    for (const o of outcomes.slice(1)) expect(o).toEqual(outcomes[0]);
  });
});
