/**
 * The boot half of sealed state (docs/sealed-state.md): hand the enclave every stored record
 * (`sealed_load`, the configuration first, in batches within the protocol's limits), and store the
 * configuration record the enclave seals for the configuration in force (`sealed_state`), after
 * boot and after every configuration update. What the enclave refuses is reported, never hidden:
 * a refused key stays unusable, and nothing re-creates it.
 */
import type { EnclaveClientLike } from '../sidecar/client.ts';
import { SentinelError } from '../errors.ts';
import { sealedBatches, type SealedStore } from './store.ts';

export interface SealedRefusal {
  kind: string;
  name: string;
  code: string;
  message: string;
}

export interface SealedLoadSummary {
  /** `development`, `none` or `aws-kms`. */
  sealing: string;
  /** Records the store held, records the enclave opened, keys it holds now. */
  stored: number;
  loaded: number;
  keys: number;
  refused: SealedRefusal[];
  /** The configuration lineage in force (hex). */
  lineage: string | null;
}

/** Loads every stored record into a freshly booted enclave, then stores its configuration record. */
export async function loadSealedState(client: EnclaveClientLike, store: SealedStore): Promise<SealedLoadSummary> {
  const records = store.readAll();
  let loaded = 0;
  let keys = 0;
  const refused: SealedRefusal[] = [];
  for (const batch of sealedBatches(records)) {
    const answer = await client.request({ op: 'sealed_load', records: batch });
    loaded += Number(answer.loaded);
    keys = Number(answer.keys);
    for (const r of answer.refused) refused.push({ kind: r.kind, name: r.name, code: r.code, message: r.message });
  }
  const state = await storeSealedState(client, store);
  return { sealing: state.sealing, stored: records.length, loaded, keys, refused, lineage: state.lineage };
}

/** Asks the enclave to seal the configuration in force and stores the record (atomic replace). */
export async function storeSealedState(client: EnclaveClientLike, store: SealedStore): Promise<{ sealing: string; lineage: string | null }> {
  const state = await client.request({ op: 'sealed_state' });
  if (state.configuration) await store.write(state.configuration);
  return { sealing: state.sealing, lineage: state.lineage ?? null };
}

/** One line per refused record, for stderr. */
export function describeRefusals(refused: SealedRefusal[], dir: string): string {
  const lines = [`WARNING: ${refused.length} sealed record(s) in ${dir} were refused by the enclave; those keys are NOT available:`];
  for (const r of refused) lines.push(`  ${r.kind || '?'} ${r.name || '?'}: ${r.code}: ${r.message}`);
  lines.push('  They are never re-created. docs/sealed-state.md lists what each code means.');
  return lines.join('\n');
}

/** Whether the sealing provider is the production one; other kinds are labelled on every surface. */
export function sealingLabel(sealing: string): string {
  if (sealing === 'development') return 'DEVELOPMENT (master key file on this host: not for real funds)';
  if (sealing === 'none') return 'none (keys in enclave memory only: a restart loses every key)';
  if (sealing === 'aws-kms') return 'aws-kms';
  throw new SentinelError('UNEXPECTED_RESPONSE', `the enclave reports an unknown sealing provider ${JSON.stringify(sealing)}`);
}
