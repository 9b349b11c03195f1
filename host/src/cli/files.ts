/**
 * Reading attestation inputs from disk, whatever form they were saved in:
 * documents as raw CBOR or base64 text, roots as PEM or DER.
 */
import { readFileSync } from 'node:fs';

import { SentinelError } from '../errors.ts';

function read(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new SentinelError('FILE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** COSE_Sign1 starts with 0x84 (array of 4) or 0xd2 (tag 18), never with base64 text. */
export function decodeDocument(bytes: Buffer): Buffer {
  const first = bytes[0];
  if (first === 0x84 || first === 0xd2) return bytes;
  const text = bytes.toString('latin1').trim();
  if (text.length > 0 && /^[A-Za-z0-9+/=_\-\s]+$/.test(text)) return Buffer.from(text.replace(/\s+/g, ''), 'base64');
  return bytes;
}

export function readDocument(path: string): Buffer {
  return decodeDocument(read(path));
}

/** The first certificate of a PEM file, or the file itself as DER. */
export function readRoot(path: string): Buffer {
  const bytes = read(path);
  const text = bytes.toString('latin1');
  if (!text.includes('-----BEGIN')) return bytes;
  const match = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(text);
  if (!match) throw new SentinelError('INVALID_TRUSTED_ROOT', `${path}: PEM without a CERTIFICATE block`);
  return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
}
