/**
 * The local stack's credentials, configuration and policy, kept in the data directory.
 *
 * On first use it creates `admin.key` and `client.key` (credential JSON,
 * mode 0600: they hold secret keys), `config.cbor`, the development
 * configuration signed by that admin, naming that client as its principal,
 * and `policy.json`, the development policy (the core's permissive default,
 * docs/policy.md) signed by that admin: the enclave refuses to sign anything
 * until a policy is installed, so the local stack always boots with one.
 * Later runs reuse them, so keys stay valid and clients keep working across
 * restarts; `policy.json` is signed again only when it no longer carries a
 * valid signature of the current admin (a new `admin.key`), so an edited and
 * re-signed policy there is kept. Secrets are written to files only, never
 * printed or logged.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';
import { policyCore } from '../policy-core.ts';

export interface DevConfiguration {
  adminKeyPath: string;
  clientKeyPath: string;
  configPath: string;
  /** The signed policy the enclave boots with (`--policy`). */
  policyPath: string;
  /** What this call created (empty when everything was reused). */
  created: Array<'admin.key' | 'client.key' | 'config.cbor' | 'policy.json'>;
}

export const ADMIN_KEY_FILE = 'admin.key';
export const CLIENT_KEY_FILE = 'client.key';
export const CONFIG_FILE = 'config.cbor';
export const POLICY_FILE = 'policy.json';

/** Writes a new file only (never replaces one), readable by its owner alone. */
function writeSecretFile(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600); // the umask could have narrowed it further, never widened; make it exact
}

function checkPrivate(path: string): void {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new SentinelError(
      'CREDENTIAL_FILE_EXPOSED',
      `${path} is readable by others (mode ${mode.toString(8)}); it holds a secret key: chmod 600 it`,
    );
  }
}

/**
 * Whether the signed policy at `path` carries a valid signature of `admin`.
 * Signatures are deterministic (Ed25519; RFC 6979 for ECDSA), so the admin's
 * signature is valid exactly when signing the same policy again reproduces it:
 * the core signs, nothing here re-implements the signing format.
 */
function signedByAdmin(path: string, admin: string): boolean {
  const text = readFileSync(path, 'utf8');
  let resigned: string;
  try {
    resigned = policyCore.policySign(text, admin);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new SentinelError(
      typeof code === 'string' ? code : 'POLICY_MALFORMED',
      `${path} is not a signed policy the core can read (${(e as Error).message}); fix it, or delete it to get the development policy again`,
      { cause: e },
    );
  }
  const signatures = (json: string): Map<string, string> => {
    const parsed = JSON.parse(json) as { signatures?: Array<{ admin?: unknown; signature?: unknown }> };
    return new Map((parsed.signatures ?? []).map((s) => [String(s.admin), String(s.signature).toLowerCase()]));
  };
  const id = String((JSON.parse(admin) as { admin?: unknown }).admin);
  // The admin's entry in the re-signed envelope is the one this admin makes; it must already be there, unchanged.
  const mine = signatures(resigned).get(id);
  return mine !== undefined && signatures(text).get(id) === mine;
}

/** Creates what is missing in `dataDir` and returns the paths of all four files. */
export function ensureDevConfiguration(dataDir: string): DevConfiguration {
  const adminKeyPath = join(dataDir, ADMIN_KEY_FILE);
  const clientKeyPath = join(dataDir, CLIENT_KEY_FILE);
  const configPath = join(dataDir, CONFIG_FILE);
  const created: DevConfiguration['created'] = [];
  if (!existsSync(adminKeyPath)) {
    writeSecretFile(adminKeyPath, core.generateCredential('admin', 'dev-admin', 'ed25519'));
    created.push('admin.key');
  }
  if (!existsSync(clientKeyPath)) {
    writeSecretFile(clientKeyPath, core.generateCredential('client', 'dev-client', 'ed25519'));
    created.push('client.key');
  }
  checkPrivate(adminKeyPath);
  checkPrivate(clientKeyPath);
  // A new key invalidates an old configuration (it names the old keys): sign a new one.
  if (!existsSync(configPath) || created.length > 0) {
    const admin = readFileSync(adminKeyPath, 'utf8');
    const client = readFileSync(clientKeyPath, 'utf8');
    const signed = core.developmentConfiguration(admin, client);
    writeFileSync(configPath, signed, { mode: 0o644 });
    created.push('config.cbor');
  }
  const policyPath = join(dataDir, POLICY_FILE);
  const admin = readFileSync(adminKeyPath, 'utf8');
  if (!existsSync(policyPath) || created.includes('admin.key') || !signedByAdmin(policyPath, admin)) {
    writeFileSync(policyPath, `${policyCore.policyDevelopmentSigned(admin)}\n`, { mode: 0o644 });
    created.push('policy.json');
  }
  return { adminKeyPath, clientKeyPath, configPath, policyPath, created };
}
