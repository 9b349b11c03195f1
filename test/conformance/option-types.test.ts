/**
 * Option arguments: a value of the wrong type throws an `Error` with code
 * `INVALID_ARGUMENT` in every build (N-API, WASM, and the browser verifier for
 * the attestation options), never napi-rs's own `InvalidArg` and never a silent
 * coercion ('x' taken as `true`); `undefined` and `null` mean "unset", and an
 * unset option takes the core's default (`lowS` true, `compressed` true,
 * `allowDebug` false). Each case runs against every build and compares the
 * codes side by side.
 *
 * The bad values do not type-check against the generated declarations (that is
 * the point), so they are passed `as never`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attempt, codeOf, flipS, hex, vectorPath } from './helpers.ts';
import { attestationImplementations, implementations, type AttestationApi, type CoreApi } from './impls.ts';

const INVALID = 'INVALID_ARGUMENT';
const SK = new Uint8Array(32).fill(7);
const DIGEST = new Uint8Array(32).fill(1);

/** Runs `call` against every build; the outcome's code (or `<no throw>`) per build name. */
function codesOf<B extends { name: string }>(builds: B[], call: (build: B) => unknown): Record<string, string> {
  return Object.fromEntries(builds.map((b) => [b.name, codeOf(() => call(b))]));
}
const every = <B extends { name: string }>(builds: B[], code: string) => Object.fromEntries(builds.map((b) => [b.name, code]));

// ---------------------------------------------------------------------------
// signing core: verifyDigest options, publicKeyFromSecret / recoverPublicKey `compressed`

interface CoreCase {
  name: string;
  call: (core: CoreApi) => unknown;
}

const keyAndSignature = (core: CoreApi) => {
  const { signature, recoveryId } = core.signDigest(SK, DIGEST);
  return { pk: core.publicKeyFromSecret(SK), signature, recoveryId };
};

const BAD_CORE_OPTIONS: CoreCase[] = [
  ...(['yes', 1, 0, {}, []] as unknown[]).map((lowS) => ({
    name: `verifyDigest(..., { lowS: ${JSON.stringify(lowS)} })`,
    call: (core: CoreApi) => {
      const { pk, signature } = keyAndSignature(core);
      return core.verifyDigest(pk, DIGEST, signature, { lowS } as never);
    },
  })),
  ...(['strict', 5, true] as unknown[]).map((options) => ({
    name: `verifyDigest(..., ${JSON.stringify(options)}) (options not an object)`,
    call: (core: CoreApi) => {
      const { pk, signature } = keyAndSignature(core);
      return core.verifyDigest(pk, DIGEST, signature, options as never);
    },
  })),
  ...(['x', 'false', 1, 0, {}] as unknown[]).map((compressed) => ({
    name: `publicKeyFromSecret(sk, ${JSON.stringify(compressed)})`,
    call: (core: CoreApi) => core.publicKeyFromSecret(SK, compressed as never),
  })),
  ...(['x', 0] as unknown[]).map((compressed) => ({
    name: `recoverPublicKey(digest, sig, recid, ${JSON.stringify(compressed)})`,
    call: (core: CoreApi) => {
      const { signature, recoveryId } = keyAndSignature(core);
      return core.recoverPublicKey(DIGEST, signature, recoveryId, compressed as never);
    },
  })),
];

describe('bad option types give INVALID_ARGUMENT in every build (signing core)', () => {
  it.each(BAD_CORE_OPTIONS)('$name', ({ call }) => {
    expect(codesOf(implementations, ({ core }) => call(core))).toEqual(every(implementations, INVALID));
  });

  it('the thrown value is an Error naming the option', () => {
    for (const { core } of implementations) {
      const outcome = attempt(() => core.publicKeyFromSecret(SK, 'x' as never));
      expect(outcome.error).toBeInstanceOf(Error);
      expect((outcome.error as Error).message).toMatch(/^compressed: /);
    }
  });
});

describe.each(implementations)('unset options take the core defaults [$name]', ({ core }) => {
  const { pk, signature, recoveryId } = keyAndSignature(core);
  const high = flipS(signature);

  it('verifyDigest: lowS defaults to true (strict) when options or lowS are undefined or null', () => {
    for (const options of [undefined, null, {}, { lowS: undefined }, { lowS: null }] as unknown[]) {
      const where = JSON.stringify(options) ?? 'undefined';
      expect(core.verifyDigest(pk, DIGEST, high, options as never), where).toBe(false);
      expect(core.verifyDigest(pk, DIGEST, signature, options as never), where).toBe(true);
    }
    expect(core.verifyDigest(pk, DIGEST, high, { lowS: false })).toBe(true);
    // Unknown keys of a plain options object are ignored, as JS options usually are.
    expect(core.verifyDigest(pk, DIGEST, high, { lowS: false, other: 1 } as never)).toBe(true);
  });

  it('publicKeyFromSecret / recoverPublicKey: compressed unless `compressed` is false', () => {
    for (const compressed of [undefined, null, true]) {
      expect(core.publicKeyFromSecret(SK, compressed)).toHaveLength(33);
      expect(hex(core.recoverPublicKey(DIGEST, signature, recoveryId, compressed))).toBe(hex(pk));
    }
    expect(core.publicKeyFromSecret(SK)).toHaveLength(33);
    expect(core.publicKeyFromSecret(SK, false)).toHaveLength(65);
    expect(core.recoverPublicKey(DIGEST, signature, recoveryId, false)).toHaveLength(65);
  });
});

// ---------------------------------------------------------------------------
// attestation: verifyAttestation options (native, wasm, verify-wasm)

const QOS = new Uint8Array(readFileSync(vectorPath('nitro/qos_attestation-doc.bin')));
const DEBUG_DOC = new Uint8Array(readFileSync(vectorPath('nitro/evervault_beta_debug-mode-attestation-doc-bytes')));
interface ExpectedDocument {
  file: string;
  timestamp_ms: number;
}
const EXPECTED = JSON.parse(readFileSync(vectorPath('nitro/EXPECTED.json'), 'utf8')) as { documents: ExpectedDocument[] };
const atOf = (file: string) => {
  const doc = EXPECTED.documents.find((d) => d.file === file)!;
  return Math.floor(doc.timestamp_ms / 1000) * 1000 + 60_000;
};
const QOS_AT = atOf('qos_attestation-doc.bin');
const DEBUG_AT = atOf('evervault_beta_debug-mode-attestation-doc-bytes');

interface AttestationCase {
  name: string;
  options: unknown;
}

const BAD_ATTESTATION_OPTIONS: AttestationCase[] = [
  { name: 'options undefined', options: undefined },
  { name: 'options null', options: null },
  { name: 'options a number', options: 5 },
  { name: 'options a string', options: 'now' },
  { name: 'atMs missing', options: {} },
  { name: "atMs: 'now'", options: { atMs: 'now' } },
  { name: 'atMs: null', options: { atMs: null } },
  { name: 'atMs: a Date', options: { atMs: new Date(QOS_AT) } },
  { name: 'allowDebug: 1', options: { atMs: QOS_AT, allowDebug: 1 } },
  { name: "allowDebug: 'yes'", options: { atMs: QOS_AT, allowDebug: 'yes' } },
  { name: "root: 'aws'", options: { atMs: QOS_AT, root: 'aws' } },
  { name: 'root: 5', options: { atMs: QOS_AT, root: 5 } },
  { name: 'root: {}', options: { atMs: QOS_AT, root: {} } },
  { name: 'expect: 5', options: { atMs: QOS_AT, expect: 5 } },
  { name: "expect: 'pcrs'", options: { atMs: QOS_AT, expect: 'pcrs' } },
  { name: 'expect: { pcrs: 5 }', options: { atMs: QOS_AT, expect: { pcrs: 5 } } },
  { name: "expect: { pcrs: { '0': 5 } }", options: { atMs: QOS_AT, expect: { pcrs: { '0': 5 } } } },
  { name: 'expect: { nonce: 1 }', options: { atMs: QOS_AT, expect: { nonce: 1 } } },
  { name: 'expect: { userData: [] }', options: { atMs: QOS_AT, expect: { userData: [] } } },
  { name: 'expect: { publicKey: true }', options: { atMs: QOS_AT, expect: { publicKey: true } } },
  { name: "expect: { maxAgeMs: '1000' }", options: { atMs: QOS_AT, expect: { maxAgeMs: '1000' } } },
  { name: 'expect: { pcr: ... } (misspelt key)', options: { atMs: QOS_AT, expect: { pcr: { '0': '00' } } } },
  { name: 'expect: { maxAge: 1000 } (misspelt key)', options: { atMs: QOS_AT, expect: { maxAge: 1000 } } },
];

const verify = (api: AttestationApi, document: Uint8Array, options: unknown) => api.verifyAttestation(document, options as never);

describe('bad option types give INVALID_ARGUMENT in every build (verifyAttestation)', () => {
  it.each(BAD_ATTESTATION_OPTIONS)('$name', ({ options }) => {
    expect(codesOf(attestationImplementations, ({ api }) => verify(api, QOS, options))).toEqual(
      every(attestationImplementations, INVALID),
    );
  });

  it('values of the right type keep the core codes (INVALID_TIME, INVALID_EXPECTATION, EMPTY_EXPECTATION)', () => {
    const cases: Array<[unknown, string]> = [
      [{ atMs: Number.NaN }, 'INVALID_TIME'],
      [{ atMs: -1 }, 'INVALID_TIME'],
      [{ atMs: QOS_AT, expect: { nonce: 'xyz' } }, 'INVALID_EXPECTATION'],
      [{ atMs: QOS_AT, expect: { maxAgeMs: -1 } }, 'INVALID_EXPECTATION'],
      [{ atMs: QOS_AT, expect: { pcrs: { x: '00' } } }, 'INVALID_EXPECTATION'],
      [{ atMs: QOS_AT, expect: {} }, 'EMPTY_EXPECTATION'],
      [{ atMs: QOS_AT, expect: { nonce: null } }, 'EMPTY_EXPECTATION'],
      [{ atMs: QOS_AT, root: new Uint8Array(0) }, 'INVALID_TRUSTED_ROOT'],
    ];
    for (const [options, code] of cases) {
      const where = JSON.stringify(options);
      expect(codesOf(attestationImplementations, ({ api }) => verify(api, QOS, options)), where).toEqual(
        every(attestationImplementations, code),
      );
    }
  });
});

describe.each(attestationImplementations)('verifyAttestation: unset options take the core defaults [$name]', ({ api }) => {
  it('null and undefined mean unset; unknown top-level keys are ignored', () => {
    const plain = verify(api, QOS, { atMs: QOS_AT });
    for (const options of [
      { atMs: QOS_AT, root: null, allowDebug: null, expect: null },
      { atMs: QOS_AT, root: undefined, allowDebug: undefined, expect: undefined },
      { atMs: QOS_AT, root: Buffer.from(api.awsNitroRootG1()) },
      { atMs: QOS_AT, other: true },
    ]) {
      expect(verify(api, QOS, options), JSON.stringify(options)).toEqual(plain);
    }
  });

  it('allowDebug defaults to false', () => {
    for (const allowDebug of [undefined, null, false]) {
      expect(codeOf(() => verify(api, DEBUG_DOC, { atMs: DEBUG_AT, allowDebug }))).toBe('DEBUG_MODE_ENCLAVE');
    }
    expect(verify(api, DEBUG_DOC, { atMs: DEBUG_AT, allowDebug: true }).pcrs['0']).toMatch(/^0+$/);
  });
});
