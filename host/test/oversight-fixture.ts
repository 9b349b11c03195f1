/**
 * Oversight commands as the tests send them: built and signed by the core
 * (host/src/oversight-core.ts), posted as `{ command, signatures }` JSON, and
 * a configuration with an `oversight` section made from the development
 * credentials (approvers alice and bob, threshold 2).
 */
import { readFileSync } from 'node:fs';

import { core } from '../src/core.ts';
import type { DevConfiguration } from '../src/local/dev-config.ts';
import { buildCommand, signCommand, type CommandFields } from '../src/oversight-core.ts';
import { hex } from './api-fixture.ts';

export type Fields = Parameters<typeof buildCommand>[0];

/** `{ command, signatures }` for the API: `fields` built now, signed by every credential (JSON texts). */
export function commandJson(fields: Fields, credentials: string[]): { command: string; signatures: Array<{ signer: string; signature: string }> } {
  const built = buildCommand(fields);
  return {
    command: hex(built.command),
    signatures: credentials.map((c) => {
      const s = signCommand(built.command, c);
      return { signer: s.signer, signature: hex(s.signature) };
    }),
  };
}

/** The JSON form of a command as the core reads it back. */
export function fieldsOf(commandHex: string): CommandFields {
  return JSON.parse(core.oversightDecode(Buffer.from(commandHex.slice(2), 'hex'))) as CommandFields;
}

/** A credential (admin-kind file, as `zcp config init` makes them) with this id. */
export function credential(id: string): string {
  return core.generateCredential('admin', id, 'ed25519');
}

/** `{ id, alg, public_key }` of a credential, as the configuration lists it. */
export function listed(credentialJson: string): { id: string; alg: string; public_key: string } {
  const parsed = JSON.parse(credentialJson) as { admin?: string; principal?: string; alg: string };
  return { id: (parsed.admin ?? parsed.principal)!, alg: parsed.alg, public_key: hex(core.credentialPublicKey(credentialJson)) };
}

export interface OversightSection {
  overseers: string[];
  resume_threshold: number;
  approvers: string[];
  approval_threshold: number;
  approval_ttl_s: number;
  max_pending: number;
  heartbeat_interval_ms?: number;
  trip_consecutive_denials?: number;
  trip_risk_score_bps?: number;
}

/**
 * The development configuration (same admin, client and version) with an `oversight` section naming these
 * credentials, signed by the development admin: what `startTestEnclave({ config })` boots with.
 */
export function configWithOversight(dev: DevConfiguration, section: OversightSection): Uint8Array {
  const admin = readFileSync(dev.adminKeyPath, 'utf8');
  const current = (JSON.parse(core.configToJson(readFileSync(dev.configPath))) as { config: Record<string, unknown> }).config;
  const document = core.configFromJson(
    JSON.stringify({
      ...current,
      oversight: {
        heartbeat_interval_ms: 0,
        trip_consecutive_denials: 0,
        trip_risk_score_bps: 0,
        ...section,
        overseers: section.overseers.map(listed),
        approvers: section.approvers.map(listed),
      },
    }),
  );
  return core.signedConfig(document, [core.configSign(document, admin)]);
}
