/**
 * `zcp verify`: what a client does before trusting a Sentinel deployment.
 *
 * It asks the API for an attestation document bound to a fresh random nonce
 * and verifies it locally against a root it trusts (AWS's, embedded, unless
 * told otherwise) and the PCR0 it expects. The API is untrusted: nothing it
 * says besides the signed document is used.
 *
 * It says exactly what it checked. The document's public key is the attested
 * key bundle (receipt, session and import keys: shown decoded) and its user
 * data the configuration and policy hashes (`0x03 || config_hash ||
 * policy_hash`, parsed by the core), compared with `--config-hash` and
 * `--policy-hash` when given; answers are bound to both by receipts. A root other than AWS's is a
 * DEVELOPMENT root: said in the first line, and accepted (exit 0) only with
 * --allow-dev-root.
 *
 * The API speaks HTTPS; `--ca FILE` trusts exactly that certificate (a local
 * stack's DATA_DIR/tls/cert.pem) besides the system roots. TLS protects the
 * channel only: the verdict rests on the document, not on the connection.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { Agent, fetch as undiciFetch, type Response as UndiciResponse } from 'undici';

import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import {
  CHAIN_CODES,
  chainCheck,
  DEV_ROOT_NOT_ALLOWED,
  devRootRefusal,
  errorCode,
  field,
  isDevelopmentRoot,
  NOT_DEBUG_CHECK,
  printChecks,
  printVerifiedJson,
  reportNotVerified,
  rootLabel,
  SIGNATURE_CHECK,
  timestampLabel,
  UNBOUND_NOTE,
  type Check,
} from './attestation-output.ts';
import { readRoot } from './files.ts';

export interface VerifyOptions {
  pcr0: string;
  url: string;
  root?: string;
  maxAgeSec: string;
  /** Expected configuration hash (hex): the one in `user_data` (`0x03 || config_hash || policy_hash`) must be it. */
  configHash?: string;
  /** Expected policy hash (hex): the one in `user_data` must be it (a document attesting no policy fails). */
  policyHash?: string;
  allowDevRoot?: boolean;
  json?: boolean;
  /** PEM certificate to trust for the API's TLS (a local stack's dev certificate). */
  ca?: string;
}

/** TLS failures that mean "this certificate is not trusted" (node / OpenSSL codes). */
const UNTRUSTED_CERT = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function causeCode(e: unknown): string | undefined {
  for (let c: unknown = e, i = 0; c && i < 5; c = (c as { cause?: unknown }).cause, i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
  }
  return undefined;
}

async function fetchDocument(url: string, nonceHex: string, ca: string | undefined): Promise<Buffer> {
  const endpoint = new URL('/v1/attestation', url);
  endpoint.searchParams.set('nonce', `0x${nonceHex}`);
  const dispatcher = ca === undefined ? undefined : new Agent({ connect: { ca } });
  try {
    let response: UndiciResponse;
    try {
      response = await undiciFetch(endpoint, { signal: AbortSignal.timeout(15_000), ...(dispatcher ? { dispatcher } : {}) });
    } catch (e) {
      const code = causeCode(e);
      if (code !== undefined && UNTRUSTED_CERT.has(code)) {
        throw new SentinelError(
          'TLS_CERTIFICATE_UNTRUSTED',
          `${endpoint.origin}: ${code}: the API's TLS certificate is not trusted` +
            (ca === undefined ? ' (a local `zcp up` stack: pass --ca <data-dir>/tls/cert.pem)' : ' by --ca'),
          { cause: e },
        );
      }
      const detail = code ?? ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message;
      throw new SentinelError('API_UNREACHABLE', `${endpoint.origin}: ${detail}`, { cause: e });
    }
    const body = (await response.json().catch(() => null)) as
      | { document?: unknown; error?: { code?: unknown; message?: unknown } }
      | null;
    if (!response.ok || typeof body?.document !== 'string' || !/^0x([0-9a-f]{2})+$/.test(body.document)) {
      const code = typeof body?.error?.code === 'string' ? body.error.code : 'API_ERROR';
      const message = typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${response.status}: no 0x-hex document in the answer`;
      throw new SentinelError(code, message);
    }
    return Buffer.from(body.document.slice(2), 'hex');
  } finally {
    await dispatcher?.close();
  }
}

export async function runVerify(opts: VerifyOptions): Promise<number> {
  let root: Buffer | undefined;
  try {
    root = opts.root === undefined ? undefined : readRoot(opts.root);
  } catch (e) {
    return reportNotVerified(errorCode(e), (e as Error).message, { json: opts.json, devRoot: false, exitCode: 2 });
  }
  const devRoot = isDevelopmentRoot(root);
  const pcr0 = opts.pcr0.replace(/^0x/, '').toLowerCase();
  const maxAgeSec = Number(opts.maxAgeSec);
  if (!/^[0-9a-f]{96}$/.test(pcr0)) return usage('--pcr0 must be 48 bytes of hex (SHA-384)', opts.json, devRoot);
  if (!Number.isInteger(maxAgeSec) || maxAgeSec <= 0) return usage('--max-age-sec must be a positive integer', opts.json, devRoot);
  const configHash = opts.configHash?.replace(/^0x/, '').toLowerCase();
  if (configHash !== undefined && !/^[0-9a-f]{64}$/.test(configHash)) {
    return usage('--config-hash must be 32 bytes of hex (SHA-256 of the configuration)', opts.json, devRoot);
  }
  const policyHash = opts.policyHash?.replace(/^0x/, '').toLowerCase();
  if (policyHash !== undefined && !/^[0-9a-f]{64}$/.test(policyHash)) {
    return usage('--policy-hash must be 32 bytes of hex (SHA-256 of the policy)', opts.json, devRoot);
  }
  let ca: string | undefined;
  try {
    ca = opts.ca === undefined ? undefined : readFileSync(opts.ca, 'utf8');
  } catch (e) {
    return reportNotVerified('FILE_UNREADABLE', `--ca ${opts.ca}: ${(e as Error).message}`, { json: opts.json, devRoot, exitCode: 2 });
  }
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) {
    return usage(`--ca ${opts.ca}: not a PEM certificate`, opts.json, devRoot);
  }
  if (devRoot && !opts.allowDevRoot) {
    return reportNotVerified(DEV_ROOT_NOT_ALLOWED, devRootRefusal(opts.root!, root!), { json: opts.json, devRoot, exitCode: 1 });
  }

  const nonce = randomBytes(32).toString('hex');
  let document: Buffer;
  try {
    document = await fetchDocument(opts.url, nonce, ca);
  } catch (e) {
    return reportNotVerified(errorCode(e), (e as Error).message, { json: opts.json, devRoot, exitCode: 2 });
  }

  const atMs = Date.now();
  let result: ReturnType<typeof core.verifyAttestation>;
  try {
    result = core.verifyAttestation(document, {
      root,
      atMs,
      expect: {
        pcrs: { '0': pcr0 },
        nonce,
        maxAgeMs: maxAgeSec * 1000,
      },
    });
  } catch (e) {
    const code = errorCode(e);
    let message = (e as Error).message;
    if (opts.root === undefined && CHAIN_CODES.has(code)) {
      message +=
        '\n  hint: the document does not chain to the AWS Nitro root. A local `zcp up` stack uses a simulated NSM;' +
        ' verify it with --root <data-dir>/nsm-dev-ca-v1/root.der --allow-dev-root (its DEVELOPMENT root).';
    }
    return reportNotVerified(code, message, { json: opts.json, devRoot, exitCode: 1 });
  }

  // user_data is read by the core's parser (crates/evidence), then compared with what was asked for.
  const attested = parseUserData(result.userData);
  if (configHash !== undefined || policyHash !== undefined) {
    if (attested === undefined) {
      return reportNotVerified('USER_DATA_MALFORMED', 'user_data is not 0x03 || config_hash || policy_hash (65 bytes)', { json: opts.json, devRoot, exitCode: 1 });
    }
    if (configHash !== undefined && attested.configHash !== `0x${configHash}`) {
      const message = `user_data: the attested configuration hash ${attested.configHash.slice(2)} is not --config-hash`;
      return reportNotVerified('USER_DATA_MISMATCH', message, { json: opts.json, devRoot, exitCode: 1 });
    }
    if (policyHash !== undefined && attested.policyHash !== `0x${policyHash}`) {
      const what = attested.policyHash === null ? 'the document attests no policy' : `the attested policy hash ${attested.policyHash.slice(2)} is not --policy-hash`;
      return reportNotVerified('USER_DATA_MISMATCH', `user_data: ${what}`, { json: opts.json, devRoot, exitCode: 1 });
    }
  }

  // Exactly what core.verifyAttestation and the comparisons above enforced.
  const checked: Check[] = [
    chainCheck(devRoot, 'now'),
    SIGNATURE_CHECK,
    { id: 'pcr0', text: 'PCR0 equals --pcr0' },
    { id: 'nonce', text: 'nonce equals the fresh random nonce sent with this request' },
    { id: 'freshness', text: `issued at most ${maxAgeSec} s ago (--max-age-sec)` },
    NOT_DEBUG_CHECK,
  ];
  if (configHash !== undefined) checked.push({ id: 'config-hash', text: 'user data is 0x03 + --config-hash + a policy hash (the configuration in force)' });
  if (policyHash !== undefined) checked.push({ id: 'policy-hash', text: 'user data binds --policy-hash (the policy in force)' });
  // user data counts as compared only when all of it was: the configuration and the policy.
  const compared = configHash !== undefined && policyHash !== undefined ? ['user-data'] : [];
  if (opts.json) {
    printVerifiedJson({ devRoot, checked, notChecked: [], atMs, result, compared });
    return 0;
  }
  console.log(
    devRoot
      ? `VERIFIED against a DEVELOPMENT root, not AWS hardware: ${opts.url} relayed a fresh attestation document with the expected PCR0`
      : `VERIFIED: ${opts.url} relayed a fresh attestation document from an AWS Nitro enclave with the expected PCR0`,
  );
  const notChecked =
    configHash === undefined && policyHash === undefined
      ? [UNBOUND_NOTE]
      : [
          'public key (attested key bundle): shown; receipts bind answers to it (verifyReceipt)',
          ...(configHash === undefined ? ['configuration hash in user data: shown, not compared (pass --config-hash)'] : []),
          ...(policyHash === undefined ? ['policy hash in user data: shown, not compared (pass --policy-hash)'] : []),
        ];
  printChecks(checked, notChecked);
  console.log(field('module id', result.moduleId));
  console.log(field('PCR0', result.pcrs['0'] ?? '(none)'));
  console.log(field('timestamp', timestampLabel(result.timestampMs)));
  console.log(field('nonce', `${result.nonce} (fresh, ours)`));
  console.log(field('public key', `${result.publicKey ?? '(none)'} (the attested key bundle)`));
  if (result.publicKey) {
    try {
      const keys = core.attestedKeys(Buffer.from(result.publicKey, 'hex'));
      console.log(field('', `receipt key ${keys.receiptKey} (Ed25519)`));
      console.log(field('', `session key ${keys.sessionKey} (X25519)`));
      console.log(field('', `import key  ${keys.importKey} (X25519)`));
    } catch (e) {
      console.log(field('', `not a Sentinel key bundle: ${errorCode(e)}`));
    }
  }
  console.log(field('user data', result.userData ?? '(none)'));
  if (attested !== undefined) {
    console.log(field('', `configuration hash ${attested.configHash.slice(2)}${configHash === undefined ? ', not compared' : ', equals --config-hash'}`));
    const policy = attested.policyHash === null ? 'no policy installed' : `policy hash ${attested.policyHash.slice(2)}`;
    console.log(field('', `${policy}${policyHash === undefined ? ', not compared' : ', equals --policy-hash'}`));
  } else if (result.userData !== null) {
    console.log(field('', 'not 0x03 || config_hash || policy_hash (not a Sentinel user data of this version)'));
  }
  console.log(`  root: ${rootLabel(result)}`);
  return 0;
}

/** The configuration and policy hashes in `user_data` (parsed by the core), or undefined when it is not `0x03 || config_hash || policy_hash`. */
function parseUserData(userData: string | null): { configHash: string; policyHash: string | null } | undefined {
  if (userData === null) return undefined;
  try {
    const bytes = Buffer.from(userData, 'hex');
    return { configHash: core.userDataConfigHash(bytes), policyHash: core.userDataPolicyHash(bytes) };
  } catch {
    return undefined;
  }
}

function usage(message: string, json: boolean | undefined, devRoot: boolean): number {
  return reportNotVerified('INVALID_ARGUMENT', message, { json, devRoot, exitCode: 2 });
}

