/**
 * The development TLS certificate `zcp up` serves HTTPS with.
 *
 * A local stack still speaks TLS so that clients are written for HTTPS from
 * the start and nothing on the machine reads requests in clear. The
 * certificate is self-signed (ECDSA P-256, `selfsigned`), names the loopback
 * addresses (and any other name the stack is served under), lives in the data
 * directory (key mode 0600) and is reused until it nears expiry or lacks a
 * name; clients trust exactly this file (`--ca`), never "any certificate".
 * TLS here protects the channel only: what the enclave says is trusted
 * because of attestation and receipts, not because of this certificate.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

import { generate } from 'selfsigned';

export const DEV_CERT_DIR = 'tls';
const VALIDITY_DAYS = 365;
/** Regenerate when less than this remains. */
const RENEW_BEFORE_MS = 24 * 3600 * 1000;

export interface DevCertificate {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
  /** The names and addresses it covers. */
  names: string[];
  notAfter: Date;
  /** True when this run made it (first run, expired, or a name was missing). */
  created: boolean;
}

export const LOOPBACK_NAMES: readonly string[] = ['127.0.0.1', '::1', 'localhost'];

function covers(cert: X509Certificate, name: string): boolean {
  return isIP(name) ? cert.checkIP(name) !== undefined : cert.checkHost(name) !== undefined;
}

function reusable(certPath: string, keyPath: string, names: string[], nowMs: number): { cert: string; key: string; x509: X509Certificate } | undefined {
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  try {
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    const x509 = new X509Certificate(cert);
    if (Date.parse(x509.validTo) - nowMs < RENEW_BEFORE_MS || Date.parse(x509.validFrom) > nowMs) return undefined;
    if (!x509.checkPrivateKey(createPrivateKey(key))) return undefined;
    if (!names.every((n) => covers(x509, n))) return undefined;
    return { cert, key, x509 };
  } catch {
    return undefined;
  }
}

/**
 * DATA_DIR/tls/cert.pem and key.pem: reused when valid for at least a day more
 * and covering `extraNames` (names or IP addresses) besides the loopback ones;
 * otherwise made anew.
 */
export async function ensureDevCertificate(dataDir: string, extraNames: string[] = [], nowMs: number = Date.now()): Promise<DevCertificate> {
  const dir = join(dataDir, DEV_CERT_DIR);
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const names = [...new Set([...LOOPBACK_NAMES, ...extraNames.map((n) => n.replace(/^\[(.*)\]$/, '$1'))])];
  const existing = reusable(certPath, keyPath, names, nowMs);
  if (existing) {
    return { certPath, keyPath, cert: existing.cert, key: existing.key, names, notAfter: new Date(existing.x509.validTo), created: false };
  }
  const notBeforeDate = new Date(nowMs - 60_000);
  const notAfterDate = new Date(nowMs + VALIDITY_DAYS * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: 'Sentinel local development' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })) },
    ],
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  writeFileSync(certPath, pems.cert, { mode: 0o644 });
  return { certPath, keyPath, cert: pems.cert, key: pems.private, names, notAfter: new Date(new X509Certificate(pems.cert).validTo), created: true };
}
