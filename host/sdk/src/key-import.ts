/**
 * Client side of encrypted key import: seals a private key to the enclave's attested X25519
 * `import_key` (the last 32 bytes of the attestation document's key bundle) with HPKE
 * (RFC 9180) through `@hpke/core`. The host that relays the result sees only `enc` and the
 * ciphertext; only the enclave opens them (`crates/import`, `sentinel-import`).
 *
 * Suite: base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, empty aad.
 * `info = "sentinel/import/v1" || canonical CBOR {curve, label, principal, purpose}`, so a blob
 * opens only for the principal, label, curve and purpose it was sealed for. Take `importKey`
 * from an attestation document you verified yourself, never from the host's word.
 */
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';

import { core, isCoreError } from './core.ts';
import { SentinelClientError } from './errors.ts';

export type ImportCurve = 'secp256k1' | 'ed25519';
export type ImportPurpose = 'ethereum' | 'raw';

/** What an import is bound to (the HPKE `info`). */
export interface ImportContext {
  /** The principal id that will send the `import_key` operation. */
  principal: string;
  label: string;
  curve: ImportCurve;
  purpose: ImportPurpose;
}

export interface KeyImportParams extends ImportContext {
  /** The enclave's attested X25519 import key, 32 bytes. */
  importKey: Uint8Array;
  /** The private key: secp256k1 big-endian scalar or Ed25519 seed, 32 bytes. Yours to wipe. */
  secretKey: Uint8Array;
}

export interface SealedKeyImport {
  /** HPKE encapsulated key, 32 bytes: the `enc` argument of `import_key`. */
  enc: Uint8Array;
  /** Sealed key and tag, 48 bytes: the `ciphertext` argument of `import_key`. */
  ciphertext: Uint8Array;
}

/** Domain separation tag at the start of `info` (ASCII). */
export const IMPORT_INFO_TAG = 'sentinel/import/v1';
/** Longest `info` the enclave accepts (`sentinel_import::MAX_INFO_LEN`). */
export const IMPORT_MAX_INFO_BYTES = 8 * 1024;

const CURVES: readonly string[] = ['secp256k1', 'ed25519'];
const PURPOSES: readonly string[] = ['ethereum', 'raw'];

/** The one suite of key import. */
export function importSuite(): CipherSuite {
  return new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
}

/**
 * `info` for a context: the tag, then the CBOR map of the four text fields in RFC 8949 §4.2.1
 * deterministic encoding, computed by the Rust core (`sentinel_import::ImportContext::info`, the
 * code the enclave opens with), so both sides bind exactly the same bytes.
 */
export function importInfo(context: ImportContext): Uint8Array {
  checkText('principal', context.principal);
  checkText('label', context.label);
  checkChoice('curve', context.curve, CURVES);
  checkChoice('purpose', context.purpose, PURPOSES);
  return new Uint8Array(
    core.importInfo({ principal: context.principal, label: context.label, curve: context.curve, purpose: context.purpose }),
  );
}

/**
 * Seals `secretKey` to the enclave's `importKey` for this principal, label, curve and purpose.
 * Throws `INVALID_ARGUMENT` for a wrong shape, `IMPORT_KEY_INVALID` for a secp256k1 key outside
 * [1, n-1], `IMPORT_MALFORMED` for an oversized context (the enclave's own codes).
 */
export async function sealKeyImport(params: KeyImportParams): Promise<SealedKeyImport> {
  checkBytes('importKey', params.importKey, 32);
  checkBytes('secretKey', params.secretKey, 32);
  const info = importInfo(params);
  if (info.length > IMPORT_MAX_INFO_BYTES) {
    throw new SentinelClientError('IMPORT_MALFORMED', 'context: principal and label exceed the 8 KiB info limit');
  }
  if (params.curve === 'secp256k1') {
    // The enclave would refuse it after decrypting (IMPORT_KEY_INVALID); say so before sealing.
    try {
      core.publicKeyFromSecret(params.secretKey);
    } catch (e) {
      if (isCoreError(e) && e.code === 'INVALID_SECRET_KEY') {
        throw new SentinelClientError('IMPORT_KEY_INVALID', 'secretKey: not a secp256k1 scalar in [1, n-1]');
      }
      throw e;
    }
  }
  const suite = importSuite();
  const recipientPublicKey = await suite.kem.deserializePublicKey(params.importKey);
  const sealed = await suite.seal({ recipientPublicKey, info }, params.secretKey, new Uint8Array(0));
  return { enc: new Uint8Array(sealed.enc), ciphertext: new Uint8Array(sealed.ct) };
}

function checkBytes(name: string, value: unknown, length: number): void {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw new SentinelClientError('INVALID_ARGUMENT', `${name}: must be a Uint8Array of ${length} bytes`);
  }
}

function checkText(name: string, value: unknown): void {
  // A lone surrogate would be replaced by U+FFFD when encoded, sealing to a name the enclave never sees.
  if (typeof value !== 'string' || /\p{Surrogate}/u.test(value)) {
    throw new SentinelClientError('INVALID_ARGUMENT', `${name}: must be a well-formed string`);
  }
}

function checkChoice(name: string, value: unknown, choices: readonly string[]): void {
  if (typeof value !== 'string' || !choices.includes(value)) {
    throw new SentinelClientError('INVALID_ARGUMENT', `${name}: must be one of ${choices.join(', ')}`);
  }
}
