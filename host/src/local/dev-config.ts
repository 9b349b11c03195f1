/**
 * The local stack's credentials and configuration, kept in the data directory.
 *
 * On first use it creates `admin.key` and `client.key` (credential JSON,
 * mode 0600: they hold secret keys) and `config.cbor`, the development
 * configuration signed by that admin, naming that client as its principal.
 * Later runs reuse them, so keys stay valid and clients keep working across
 * restarts. Secrets are written to files only, never printed or logged.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { core } from '../core.ts';
import { SentinelError } from '../errors.ts';

export interface DevConfiguration {
  adminKeyPath: string;
  clientKeyPath: string;
  configPath: string;
  /** What this call created (empty when everything was reused). */
  created: Array<'admin.key' | 'client.key' | 'config.cbor'>;
}

export const ADMIN_KEY_FILE = 'admin.key';
export const CLIENT_KEY_FILE = 'client.key';
export const CONFIG_FILE = 'config.cbor';

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

/** Creates what is missing in `dataDir` and returns the paths of all three files. */
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
  return { adminKeyPath, clientKeyPath, configPath, created };
}
