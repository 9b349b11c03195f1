/**
 * Reading attestation inputs from disk, whatever form they were saved in:
 * documents as raw CBOR or base64 text, roots as PEM or DER.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { SentinelError } from '../errors.ts';

function read(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new SentinelError('FILE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * COSE_Sign1 starts with 0x84 (array of 4) or 0xd2 (tag 18), never with text;
 * text is `0x`-hex (what the API answers) or base64 (what older tools save).
 */
export function decodeDocument(bytes: Buffer): Buffer {
  const first = bytes[0];
  if (first === 0x84 || first === 0xd2) return bytes;
  const text = bytes.toString('latin1').trim();
  if (/^0x([0-9a-fA-F]{2})+$/.test(text)) return Buffer.from(text.slice(2), 'hex');
  if (text.length > 0 && /^[A-Za-z0-9+/=_\-\s]+$/.test(text)) return Buffer.from(text.replace(/\s+/g, ''), 'base64');
  return bytes;
}

export function readDocument(path: string): Buffer {
  return decodeDocument(read(path));
}

/**
 * A root certificate as DER, from a PEM or DER file. Node's X509Certificate
 * does the parsing (PEM armour, base64, DER structure); `.raw` is the DER the
 * verifier compares byte for byte with the document's `cabundle[0]`.
 */
export function readRoot(path: string): Buffer {
  const bytes = read(path);
  try {
    return new X509Certificate(bytes).raw;
  } catch (e) {
    throw new SentinelError('INVALID_TRUSTED_ROOT', `${path}: not an X.509 certificate in PEM or DER (${(e as Error).message})`, { cause: e });
  }
}
