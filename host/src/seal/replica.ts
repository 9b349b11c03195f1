/**
 * A replica of a running local stack (docs/sealed-state.md, "Replicas"): a second enclave that gets
 * the running one's master key by attested forwarding and then opens the same sealed keys.
 *
 * The host only relays: the new enclave (started with `--sealing-from-peer`) shows its boot
 * attestation document; the running one checks it (trusted root, not debug, its own PCR0 and
 * configuration) and HPKE-seals its master key to the new enclave's attested import key
 * (`forward_send`); the new one checks the sender's document the same way and opens the key
 * (`forward_accept`). A replica never writes the master key down: it asks its peer again at every
 * start. What the replica's data directory needs to be the same deployment is copied from the
 * peer's once: the signed configuration and policy, the development credentials, the simulated
 * NSM's development root (on real Nitro every enclave chains to the AWS root), and the sealed
 * records (ciphertext). `replica.json` remembers the peer, so the replica is never started on a
 * master key of its own by mistake.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { SentinelError } from '../errors.ts';
import type { EnclaveClientLike } from '../sidecar/client.ts';

/** What a replica copies from its peer's data directory before its first start. */
const SHARED_FILES = ['config.cbor', 'policy.json', 'admin.key', 'client.key'] as const;
/** The simulated NSM's development CA (the enclave crate's `DEV_CA_DIR`). */
const DEV_CA_DIR = 'nsm-dev-ca-v1';
export const REPLICA_FILE = 'replica.json';

export interface ReplicaInfo {
  /** The peer's data directory (absolute). */
  peer: string;
}

/** The peer this data directory is a replica of, or null. */
export function readReplica(dataDir: string): ReplicaInfo | null {
  const file = join(dataDir, REPLICA_FILE);
  if (!existsSync(file)) return null;
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { peer?: unknown };
  if (typeof raw.peer !== 'string' || raw.peer === '') throw new SentinelError('REPLICA_INVALID', `${file}: \`peer\` must be a data directory`);
  return { peer: raw.peer };
}

/**
 * Makes `dataDir` a replica of `peerDir`: copies what the two must share (missing files only; a file
 * both have must be the same, else REPLICA_MISMATCH) and every sealed record the peer stores, and
 * writes `replica.json`. A data directory with a master key of its own (`sealing/master.key`) is
 * refused: its records would not open under the peer's key.
 */
export function prepareReplica(peerDir: string, dataDir: string): ReplicaInfo {
  const peer = resolve(peerDir);
  const self = resolve(dataDir);
  if (peer === self) throw new SentinelError('INVALID_ARGUMENT', '--replica-of: a data directory cannot be a replica of itself');
  const known = readReplica(self);
  if (known !== null && known.peer !== peer) {
    throw new SentinelError('REPLICA_MISMATCH', `${self} is a replica of ${known.peer}, not of ${peer}`);
  }
  if (existsSync(join(self, 'sealing', 'master.key'))) {
    throw new SentinelError('REPLICA_MISMATCH', `${self} has a master key of its own (sealing/master.key): it cannot become a replica`);
  }
  for (const name of [...SHARED_FILES, join(DEV_CA_DIR, 'root.der')]) {
    if (!existsSync(join(peer, name))) {
      throw new SentinelError('REPLICA_PEER_NOT_FOUND', `${join(peer, name)} does not exist: --replica-of names the data directory of a running \`zcp up\``);
    }
  }
  mkdirSync(self, { recursive: true });
  for (const name of SHARED_FILES) {
    const mine = join(self, name);
    const theirs = readFileSync(join(peer, name));
    if (!existsSync(mine)) {
      writeFileSync(mine, theirs, { mode: name.endsWith('.key') ? 0o600 : 0o644 });
    } else if (!readFileSync(mine).equals(theirs)) {
      throw new SentinelError('REPLICA_MISMATCH', `${mine} differs from the peer's ${name}: a replica runs the same configuration, policy and credentials`);
    }
  }
  if (!existsSync(join(self, DEV_CA_DIR))) cpSync(join(peer, DEV_CA_DIR), join(self, DEV_CA_DIR), { recursive: true });
  copySealedRecords(join(peer, 'sealed'), join(self, 'sealed'));
  const info: ReplicaInfo = { peer };
  writeFileSync(join(self, REPLICA_FILE), `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

/** The peer's sealed records this replica lacks (the peer's are the reference; its own are kept). */
function copySealedRecords(from: string, to: string): void {
  mkdirSync(join(to, 'keys'), { recursive: true, mode: 0o700 });
  if (!existsSync(from)) return;
  const configuration = join(from, 'configuration.seal');
  if (existsSync(configuration)) cpSync(configuration, join(to, 'configuration.seal'));
  const keys = join(from, 'keys');
  if (!existsSync(keys)) return;
  for (const name of readdirSync(keys)) {
    if (name.endsWith('.seal') && !existsSync(join(to, 'keys', name))) cpSync(join(keys, name), join(to, 'keys', name));
  }
}

export interface Joined {
  /** The lineage the replica now seals under (the peer's), and the peer's PCR0. */
  lineage: string;
  peerPcr0: string;
}

/**
 * Attested forwarding of the master key from `peer` (a running enclave) to `replica` (started with
 * `--sealing-from-peer`), relayed by this host. Either enclave's refusal is thrown with its code
 * (FORWARD_ATTESTATION_INVALID, FORWARD_CONFIG_MISMATCH, FORWARD_PEER_NOT_APPROVED, ...).
 */
export async function joinFromPeer(peer: EnclaveClientLike, replica: EnclaveClientLike, upgradeApproval: Buffer | null = null): Promise<Joined> {
  const evidence = await replica.request({ op: 'evidence' });
  const sent = await peer.request({ op: 'forward_send', peer_attestation: evidence.attestation, upgrade_approval: upgradeApproval });
  const accepted = await replica.request({
    op: 'forward_accept',
    sender_attestation: sent.attestation,
    enc: sent.enc,
    ciphertext: sent.ciphertext,
    upgrade_approval: upgradeApproval,
  });
  return { lineage: accepted.lineage, peerPcr0: accepted.sender_pcr0 };
}
