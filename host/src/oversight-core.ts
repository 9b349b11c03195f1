/**
 * Oversight commands (docs/oversight.md) as the host's tools build them: the
 * CLI (`zcp halt | resume | status | heartbeat | approvals`), the local
 * stack's resume after boot and the tests.
 *
 * The host never encodes, hashes or signs a command itself: the Rust crate
 * the enclave runs (`crates/oversight`, through `core.oversightCommand`,
 * `oversightDecode`, `oversightSign`) does. What is decided here is what a
 * fresh command carries: the time now in µs and a 16-byte random nonce.
 */
import { randomBytes } from 'node:crypto';

import { core } from './core.ts';
import type { Answer, EnclaveClientLike, Request } from './sidecar/client.ts';

export type OversightAction = 'halt' | 'resume' | 'heartbeat' | 'approve' | 'reject' | 'status' | 'list_approvals';
export type OversightLevel = 'green' | 'yellow' | 'red';

/** The JSON editing form of a command (crates/oversight/src/command.rs): bytes as 0x-hex, absent fields omitted. */
export interface CommandFields {
  action: OversightAction;
  scope?: string;
  level?: OversightLevel;
  reason?: string;
  /** 32 bytes: the enclave's current resume challenge (resume only). */
  challenge?: string;
  /** 16 bytes (approve, reject). */
  request_id?: string;
  /** 32 bytes: SHA-256 of the held request's body (approve, reject). */
  request_digest?: string;
  timestamp_us: number;
  nonce: string;
}

/** A built command: the canonical CBOR that is sent and signed, its digest, and its JSON form. */
export interface BuiltCommand {
  command: Buffer;
  digest: Buffer;
  json: string;
  fields: CommandFields;
}

/** One signer's entry, as the API and the `oversight` frame take it. */
export interface CommandSignature {
  signer: string;
  signature: Buffer;
}

function hex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes).toString('hex')}`;
}

/**
 * A fresh command: `timestamp_us` = now (µs), `nonce` = 16 random bytes, unless given. The core validates it
 * (OVERSIGHT_MALFORMED naming the field) and encodes it.
 */
export function buildCommand(fields: Omit<CommandFields, 'timestamp_us' | 'nonce'> & Partial<Pick<CommandFields, 'timestamp_us' | 'nonce'>>): BuiltCommand {
  const full: CommandFields = {
    ...fields,
    timestamp_us: fields.timestamp_us ?? Date.now() * 1000,
    nonce: fields.nonce ?? hex(randomBytes(16)),
  };
  const built = core.oversightCommand(JSON.stringify(full));
  return { command: built.command, digest: built.digest, json: built.json, fields: JSON.parse(built.json) as CommandFields };
}

/** A command's JSON form, read back from its canonical CBOR by the core (OVERSIGHT_MALFORMED otherwise). */
export function decodeCommand(command: Uint8Array): CommandFields {
  return JSON.parse(core.oversightDecode(command)) as CommandFields;
}

/** Signs a command (decoded and checked by the core first) with a credential file's key (JSON text). */
export function signCommand(command: Uint8Array, credentialJson: string): CommandSignature {
  return core.oversightSign(command, credentialJson);
}

/** The kill switch's state, as the `oversight` frame answers it. */
export type OversightStatusAnswer = Answer<Extract<Request, { op: 'oversight' }>>;

/**
 * Resumes a freshly booted enclave through the sidecar: asks for a challenge, builds `resume` (scope global,
 * level green) over it and sends it signed by every credential (JSON texts). Local mode: the enclave boots
 * Red (halted) and the development configuration's overseer is its admin.
 */
export async function resumeEnclave(enclave: EnclaveClientLike, credentials: string[]): Promise<OversightStatusAnswer> {
  const challenge = await enclave.request({ op: 'oversight_challenge' });
  const built = buildCommand({ action: 'resume', scope: 'global', level: 'green', challenge: hex(challenge.challenge) });
  const signatures = credentials.map((c) => signCommand(built.command, c));
  return enclave.request({ op: 'oversight', command: built.command, signatures });
}
