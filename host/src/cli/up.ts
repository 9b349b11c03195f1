/**
 * `zcp up`: the whole local stack in one process tree.
 *
 * Creates (first run) or reuses the development credentials, signed
 * configuration and signed policy in the data directory (local/dev-config.ts),
 * starts the enclave binary (simulated NSM) with that configuration and
 * policy (plus the ONNX models given with --policy-model), opens the audit
 * log, resumes the kill switch (it boots halted, Red) with the development
 * admin key, connects the sidecar to it, serves the API over HTTPS with a
 * development certificate
 * (local/dev-cert.ts; plain HTTP only with --insecure-http, for loopback
 * benchmarks), records where everything is in DATA_DIR/stack.json for the
 * client commands, and on SIGINT/SIGTERM stops them in dependency order: the
 * API stops accepting, the sidecar closes, the enclave gets SIGTERM and is
 * waited for. If the enclave dies on its own, so does the stack, loudly.
 * Request logs are pino JSON lines on stderr (the banner is on stdout).
 *
 * A restart continues the audit log in use (`DATA_DIR/audit/current`): the
 * enclave starts with `--audit-resume`, the audit writer hands it the stored
 * log, and the enclave rebuilds the kill switch and the policy counters from
 * it, so the kill switch is left as the log says (a halt survives the
 * restart) instead of being resumed with the development admin. A log the
 * enclave refuses stops the start: `--audit-new-log` starts a new log instead,
 * on the operator's word (docs/audit.md, "Restart"). A configuration or
 * policy applied through the API replaces `config.cbor` / `policy.json` (and
 * its models, `policy-models/`) once the enclave installed it, so the next
 * start boots with what the log ends with.
 *
 * Keys survive restarts (docs/sealed-state.md): with `--sealing development` (the default) the enclave
 * seals each key it creates under a master key in DATA_DIR/sealing/master.key, the API stores the
 * sealed record in DATA_DIR/sealed/ before it releases the key id, and the next start hands every
 * stored record back before anything else (`sealed_load`). `--sealing none` keeps keys in memory only.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { buildApp, type DevRoot } from '../api/app.ts';
import { checkAllowedHosts } from '../api/host-allowlist.ts';
import { ensureDevCertificate, type DevCertificate } from '../local/dev-cert.ts';
import { ensureDevConfiguration, type DevConfiguration } from '../local/dev-config.ts';
import {
  DEFAULT_ENCLAVE_BIN,
  resumeWithCredentials,
  startEnclave,
  type EnclaveExit,
  type EnclaveProcess,
} from '../local/enclave-process.ts';
import { readCurrentLog } from '../audit/log-info.ts';
import { writeFileAtomic } from '../audit/files.ts';
import { describeRefusals, loadSealedState, sealingLabel, storeSealedState, type SealedLoadSummary } from '../seal/boot.ts';
import { joinFromPeer, prepareReplica, readReplica, type Joined } from '../seal/replica.ts';
import { SealedStore } from '../seal/store.ts';
import { nodeIo } from '../audit/io.ts';
import { AuditWriter } from '../audit/writer.ts';
import { SentinelError } from '../errors.ts';
import { EnclaveClient } from '../sidecar/client.ts';
import { unixTransport } from '../sidecar/transport.ts';
import { errorCode } from './attestation-output.ts';
import { loadStack, STACK_FILE, type StackInfo } from './stack.ts';

export interface UpOptions {
  port: string;
  host: string;
  dataDir: string;
  enclaveBin?: string;
  enclaveLogs?: boolean;
  busyPoll?: boolean;
  /** Extra Host header values the API serves (besides 127.0.0.1, localhost, [::1]). */
  allowedHost?: string[];
  /** Serve plain HTTP instead of HTTPS (loopback benchmarks). */
  insecureHttp?: boolean;
  /** pino level of the request log on stderr (default info; `silent` for none). */
  logLevel?: string;
  /** One JSON object per line on stdout (`ready`, `stopping`, `stopped`) instead of the banner. */
  json?: boolean;
  /** ONNX models the policy in DATA_DIR/policy.json pins (`risk_score` rules), passed as `--policy-model`. */
  policyModel?: string[];
  /** `strict` (default): answers leave once their audit record is durable; `latency`: before the fsync. */
  auditMode?: string;
  /** Start a new audit log instead of continuing the one in use (after the enclave refused to resume it). */
  auditNewLog?: boolean;
  /** `development` (default): keys are sealed under DATA_DIR/sealing/master.key; `none`: memory only. */
  sealing?: string;
  /** Seconds between sealed state snapshots (default 60); 0: only at start and clean stop. */
  snapshotEveryS?: string;
  /** Start as a replica of the running stack in this data directory (attested forwarding of its master key). */
  replicaOf?: string;
}

/** The kill switch once the stack is up. */
interface KillSwitchState {
  /** Restored from the audit log the enclave continued (not resumed with the development admin). */
  fromAuditLog: boolean;
  /** The credential that resumed it after boot, or null. */
  resumedWith: string | null;
  /** The global level (green, yellow, red), or null when unknown. */
  level: string | null;
  /** Every other scope not green, as `scope=level`. */
  scopes: string[];
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;


/** 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`; any other name or address may be reachable from elsewhere. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (isIPv4(h)) return h.startsWith('127.');
  if (isIPv6(h)) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** What `zcp up` prints on stderr before binding the API anywhere but loopback. */
export function nonLoopbackWarning(host: string, insecureHttp = false): string | undefined {
  if (isLoopbackAddress(host)) return undefined;
  const lines = [`WARNING: --host ${host} is not a loopback address: the API will accept connections from other machines.`];
  if (insecureHttp) {
    lines.push(
      '  *** --insecure-http: it speaks PLAIN HTTP (no TLS): anyone on the path sees requests, answers and receipts in clear. ***',
      '  Key operations still need a stamp from a configured principal, checked by the enclave.',
    );
  } else {
    lines.push(
      '  It speaks HTTPS with a self-signed DEVELOPMENT certificate: clients must trust that file (--ca), and it is no',
      '  production certificate. Key operations need a stamp from a configured principal, checked by the enclave; anyone',
      '  who can reach this port can read evidence and attestations.',
    );
  }
  lines.push(
    '  Bind to 127.0.0.1 (the default) unless that is what you want. Clients must use this address or a name',
    '  given with --allowed-host; other Host headers get 421 HOST_NOT_ALLOWED.',
  );
  return lines.join('\n');
}

/** Host header values to serve: --allowed-host, plus the bound address itself unless it is a wildcard. */
function allowedHostsFor(opts: UpOptions): string[] {
  const bound = opts.host.replace(/^\[(.*)\]$/, '$1');
  const wildcard = bound === '' || bound === '0.0.0.0' || bound === '::' || bound === '0:0:0:0:0:0:0:0';
  const self = wildcard ? [] : [isIPv6(bound) ? `[${bound}]` : bound];
  return [...(opts.allowedHost ?? []), ...self];
}

/** sun_path holds 108 bytes; deep data dirs fall back to a short path. */
function socketPathFor(dataDir: string): string {
  const preferred = join(dataDir, 'enclave.sock');
  return Buffer.byteLength(preferred) < 100 ? preferred : join(tmpdir(), `sentinel-${process.pid}.sock`);
}

function describeExit(exit: EnclaveExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

export async function runUp(opts: UpOptions): Promise<number> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`error INVALID_ARGUMENT: --port ${opts.port}`);
    return 2;
  }
  const allowedHosts = allowedHostsFor(opts);
  try {
    checkAllowedHosts(allowedHosts);
  } catch (e) {
    console.error(`error ${errorCode(e)}: ${(e as Error).message}`);
    return 2;
  }
  const logLevel = opts.logLevel ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    console.error(`error INVALID_ARGUMENT: --log-level ${logLevel}: expected one of ${LOG_LEVELS.join(', ')}`);
    return 2;
  }
  const snapshotEveryS = Number(opts.snapshotEveryS ?? '60');
  if (!Number.isInteger(snapshotEveryS) || snapshotEveryS < 0 || snapshotEveryS > 86_400) {
    console.error(`error INVALID_ARGUMENT: --snapshot-every-s ${opts.snapshotEveryS}: expected whole seconds from 0 to 86400`);
    return 2;
  }
  const auditMode = opts.auditMode ?? 'strict';
  if (auditMode !== 'strict' && auditMode !== 'latency') {
    console.error(`error INVALID_ARGUMENT: --audit-mode ${auditMode}: expected strict or latency`);
    return 2;
  }
  const sealing = opts.sealing ?? 'development';
  if (sealing !== 'development' && sealing !== 'none') {
    console.error(`error INVALID_ARGUMENT: --sealing ${sealing}: expected development or none (aws-kms runs only inside a Nitro Enclave)`);
    return 2;
  }
  const warning = nonLoopbackWarning(opts.host, opts.insecureHttp);
  if (warning !== undefined) console.error(warning);
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const socketPath = socketPathFor(dataDir);

  // A replica shares its peer's configuration, credentials, development root and sealed records, and
  // gets the master key from the peer's running enclave; once a replica, always started as one.
  let replica: { peer: string; socket: string } | null = null;
  try {
    const known = readReplica(dataDir);
    if (known !== null && opts.replicaOf === undefined) {
      throw new SentinelError('REPLICA_PEER_REQUIRED', `${dataDir} is a replica of ${known.peer}: start it with --replica-of ${known.peer} (its master key comes from that stack's enclave)`);
    }
    if (opts.replicaOf !== undefined) {
      if (sealing !== 'development') throw new SentinelError('INVALID_ARGUMENT', '--replica-of needs --sealing development (the master key it receives)');
      const peerStack = loadStack(opts.replicaOf);
      if (peerStack.enclaveSocket === null || !existsSync(peerStack.enclaveSocket)) {
        throw new SentinelError('REPLICA_PEER_NOT_RUNNING', `${opts.replicaOf}: its stack is not running (no enclave socket); start it first`);
      }
      const info = prepareReplica(opts.replicaOf, dataDir);
      replica = { peer: info.peer, socket: peerStack.enclaveSocket };
    }
  } catch (e) {
    console.error(`error ${errorCode(e)}: ${(e as Error).message}`);
    return 1;
  }

  let dev: DevConfiguration;
  try {
    dev = ensureDevConfiguration(dataDir);
  } catch (e) {
    console.error(`error ${errorCode(e)}: ${(e as Error).message}`);
    return 1;
  }

  let tls: DevCertificate | undefined;
  if (!opts.insecureHttp) {
    try {
      tls = await ensureDevCertificate(dataDir, certificateNames(opts, allowedHosts));
    } catch (e) {
      console.error(`error ${errorCode(e)}: ${(e as Error).message}`);
      return 1;
    }
  }

  // The audit log in use, if any: the enclave then waits for it (--audit-resume) and the writer hands it over.
  const auditDir = join(dataDir, 'audit');
  let previousLog: string | null;
  try {
    previousLog = readCurrentLog(auditDir);
  } catch (e) {
    console.error(`error ${errorCode(e)}: ${(e as Error).message}`);
    return 1;
  }
  const auditResume = previousLog !== null;
  const newLog = auditResume && opts.auditNewLog === true;
  if (newLog) console.error(newLogWarning(join(auditDir, 'logs', previousLog!)));

  let enclave: EnclaveProcess;
  try {
    enclave = await startEnclave({
      bin: opts.enclaveBin ?? DEFAULT_ENCLAVE_BIN,
      socketPath,
      dataDir,
      configPath: dev.configPath,
      policyPath: dev.policyPath,
      policyModelPaths: opts.policyModel?.length ? opts.policyModel.map((m) => resolve(m)) : installedModels(dataDir),
      busyPoll: opts.busyPoll,
      onStderr: opts.enclaveLogs ? (line) => console.error(`[enclave] ${line}`) : undefined,
      auditResume,
      // Strict mode covers the session path too: session answers wait for their record to be durable.
      auditStrictSessions: auditMode === 'strict',
      sealing,
      sealingFromPeer: replica !== null,
      // It boots halted (kill switch Red): the development configuration's overseer, its admin, resumes it,
      // unless the audit log it continues says otherwise (decided once the log is open, below).
      ...(auditResume ? {} : { resumeWith: [dev.adminKeyPath] }),
    });
  } catch (e) {
    console.error(`error ${errorCode(e)}: ${(e as Error).message}`);
    return 1;
  }

  const sealedStore = sealing === 'none' ? null : new SealedStore(join(dataDir, 'sealed'));
  const client = new EnclaveClient({ transport: unixTransport(socketPath) });
  // The audit writer's own connection, on which it follows the log (`audit_wait`): nothing else waits on it.
  const watch = new EnclaveClient({ transport: unixTransport(socketPath) });
  let stopping = false;
  client.on('disconnect', (cause?: Error) => {
    if (!stopping) console.error(`warning: lost the connection to the enclave${cause ? ` (${cause.message})` : ''}; reconnecting`);
  });
  let writer: AuditWriter | undefined;
  const app = buildApp({
    enclave: client,
    devRoot: devRootOf(enclave),
    allowedHosts,
    logger: { level: logLevel, stream: process.stderr },
    ...(tls ? { https: { key: tls.key, cert: tls.cert } } : {}),
    // Opened once the enclave answers, before the API listens: no answer is relayed without it.
    audit: {
      persist: (entry) => (writer ? writer.persist(entry) : Promise.reject(new SentinelError('AUDIT_STORE_CLOSED', 'the audit log is not open'))),
      failure: () => (writer ? writer.failure() : new SentinelError('AUDIT_STORE_CLOSED', 'the audit log is not open')),
      log: () => writer?.log() ?? null,
    },
    // What the enclave has in force is what the next `zcp up` boots with: its audit log ends with it.
    // A new key's sealed record is durable before its id leaves (docs/sealed-state.md).
    ...(sealedStore ? { sealed: { persist: (record) => sealedStore.write(record), remove: (keyId) => sealedStore.remove(keyId) } } : {}),
    installed: {
      config: async (signed) => {
        await writeFileAtomic(nodeIo, dev.configPath, signed);
        // The lineage the next start must adopt: the record of the configuration now in force.
        if (sealedStore) await storeSealedState(client, sealedStore);
      },
      policy: async (signed, models) => {
        await writeFileAtomic(nodeIo, dev.policyPath, signed);
        await keepInstalledModels(dataDir, models);
      },
    },
  });
  const stackPath = join(dataDir, STACK_FILE);

  const shutdown = async (): Promise<EnclaveExit> => {
    stopping = true;
    removeStackFile(stackPath);
    await app.close();
    // A clean stop: the enclave signs a checkpoint of everything it recorded, and it is stored.
    if (writer) await writer.stop().catch((e) => console.error(`warning ${errorCode(e)}: audit log not closed cleanly: ${(e as Error).message}`));
    await watch.close();
    await client.close();
    return enclave.stop();
  };

  let address: string;
  let stack: StackInfo;
  let killSwitch: KillSwitchState;
  let sealed: SealedLoadSummary | null = null;
  let joined: Joined | null = null;
  let openingLog = false;
  try {
    await client.connect(5_000);
    await watch.connect(5_000);
    // A replica first gets its master key from the peer's enclave (nothing opens before it).
    if (replica) {
      const peer = new EnclaveClient({ transport: unixTransport(replica.socket) });
      try {
        await peer.connect(5_000);
        joined = await joinFromPeer(peer, client);
      } finally {
        await peer.close();
      }
    }
    // Before anything else: the keys of previous runs (no key operation may precede them).
    if (sealedStore) {
      sealed = await loadSealedState(client, sealedStore);
      if (sealed.refused.length > 0) console.error(describeRefusals(sealed.refused, sealedStore.dir));
    }
    openingLog = true;
    writer = await AuditWriter.open(client, { dir: auditDir, mode: auditMode, newLog, watch, snapshotEveryMs: snapshotEveryS * 1000 });
    openingLog = false;
    writer.start();
    // The state as the log left it, sealed at once: the next start replays only what follows.
    if (sealedStore && sealed?.sealing !== 'none') {
      await writer.snapshot().catch((e: unknown) => console.error(`warning: no sealed state snapshot was stored (${errorCode(e)}: ${(e as Error).message}); the next start replays the whole audit log`));
    }
    const keyCheck = writer.resumed ? keyCheckWarning(writer.resumed) : null;
    if (keyCheck) console.error(keyCheck);
    // Stale records of keys the log deleted (the enclave wiped them again): drop them too.
    for (const id of writer.resumed?.keys_wiped_ids ?? []) await sealedStore?.remove(id);
    if (writer.resumed?.resumed) {
      // The enclave restored the kill switch from the log: a halt survives the restart.
      killSwitch = { fromAuditLog: true, resumedWith: null, level: writer.resumed.global_level, scopes: writer.resumed.scopes };
    } else if (auditResume) {
      // A new log (--audit-new-log): nothing restored, the enclave is as booted (Red).
      const resumed = await resumeWithCredentials(client, [dev.adminKeyPath]);
      // Under a checkpoint at once: a resume in the log's unsigned tail would not be restored by the next start.
      await writer.checkpoint();
      killSwitch = { fromAuditLog: false, resumedWith: dev.adminKeyPath, level: resumed.global.level, scopes: [] };
    } else {
      killSwitch = { fromAuditLog: false, resumedWith: dev.adminKeyPath, level: enclave.resumed?.global.level ?? null, scopes: [] };
    }
    // The policy in force, as the enclave reports it (the file may have been refused or replaced).
    const evidence = await client.request({ op: 'evidence' });
    address = publicAddress(await app.listen({ port, host: opts.host }));
    stack = {
      url: address,
      caPath: tls?.certPath ?? null,
      pcr0: enclave.ready.pcr0,
      configHash: enclave.ready.config_hash ? `0x${enclave.ready.config_hash}` : null,
      policyHash: evidence.policy_hash ? `0x${Buffer.from(evidence.policy_hash).toString('hex')}` : null,
      policyVersion: evidence.policy_version === null || evidence.policy_version === undefined ? null : Number(evidence.policy_version),
      devRootPath: devRootOf(enclave)?.path ?? null,
      clientKeyPath: dev.clientKeyPath,
      adminKeyPath: dev.adminKeyPath,
      enclaveSocket: socketPath,
      pid: process.pid,
      auditLog: {
        origin: writer.info.origin,
        verifierKey: writer.info.verifier_key,
        resumed: writer.resumed?.resumed === true,
        resumedSeq: writer.resumed?.resumed_seq == null ? null : Number(writer.resumed.resumed_seq),
      },
    };
    writeStackFile(stackPath, stack);
  } catch (e) {
    await shutdown();
    console.error(`error ${errorCode(e)}: ${(e as Error).message}`);
    if (openingLog && auditResume && !newLog) console.error(resumeRefusedHint(join(auditDir, 'logs', previousLog!), dataDir, errorCode(e), devRootOf(enclave)?.path));
    return 1;
  }

  // Handlers first: a Ctrl-C the moment the banner says it may be pressed must stop the stack cleanly.
  let onSignal!: (signal: NodeJS.Signals) => void;
  const signalled = new Promise<NodeJS.Signals>((resolveSignal) => {
    onSignal = resolveSignal;
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (opts.json) {
    const ready = enclave.ready;
    console.log(
      JSON.stringify({
        event: 'ready',
        ...stack,
        stackPath,
        nsm: ready.nsm,
        configPath: dev.configPath,
        policyPath: dev.policyPath,
        killSwitch: { bootedHalted: true, ...killSwitch },
        sealing: sealed
          ? { provider: sealed.sealing, label: sealingLabel(sealed.sealing), dir: sealedStore!.dir, stored: sealed.stored, loaded: sealed.loaded, keys: sealed.keys, refused: sealed.refused, lineage: sealed.lineage }
          : { provider: 'none', label: sealingLabel('none'), dir: null, stored: 0, loaded: 0, keys: 0, refused: [], lineage: null },
        replica: replica && joined ? { peer: replica.peer, lineage: joined.lineage, peerPcr0: joined.peerPcr0 } : null,
        audit: writer
          ? { dir: writer.dir, ...writer.status(), verifierKey: writer.info.verifier_key, keys: writer.info.keys?.length ?? 1, resumed: resumedJson(writer) }
          : null,
        created: [...dev.created, ...(tls?.created ? ['tls/cert.pem'] : [])],
      }),
    );
  } else {
    printBanner(address, enclave, dev, tls, stackPath, stack, killSwitch, dataDir, writer, newLog ? previousLog : null, sealed, sealedStore?.dir ?? null);
    if (replica && joined) console.log(`  replica    of ${replica.peer}: master key forwarded from its enclave (PCR0 ${joined.peerPcr0}) after both attestations checked; never stored here`);
  }
  try {
    const outcome = await Promise.race([
      signalled.then((signal) => ({ signal })),
      enclave.exited.then((exit) => ({ exit })),
    ]);
    if ('exit' in outcome) {
      stopping = true;
      removeStackFile(stackPath);
      await app.close();
      // The enclave is gone: stop following its log (no checkpoint can be asked for) so the process can exit.
      await writer?.abandon().catch(() => {});
      await watch.close();
      await client.close();
      console.error(`error ENCLAVE_EXITED: the enclave exited unexpectedly (${describeExit(outcome.exit)})`);
      console.error(`--- enclave stderr (tail) ---\n${enclave.stderrTail()}`);
      return 1;
    }
    if (opts.json) console.log(JSON.stringify({ event: 'stopping', signal: outcome.signal }));
    else console.log(`received ${outcome.signal}, stopping`);
    const exit = await shutdown();
    const clean = exit.code === 0 || exit.signal === 'SIGTERM';
    if (opts.json) console.log(JSON.stringify({ event: 'stopped', enclave: { code: exit.code, signal: exit.signal } }));
    else console.log(`stopped (enclave ${describeExit(exit)})`);
    return clean ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** What `zcp up --audit-new-log` prints on stderr before it abandons the log in use. */
function newLogWarning(previousDir: string): string {
  return [
    `WARNING: --audit-new-log: the audit log in ${previousDir} is NOT continued. A new log starts, under a new origin:`,
    '  the kill switch and the policy counters (rate limits, notional windows) start fresh (the enclave boots halted and',
    '  the development admin resumes it). The old log stays where it is; zcp audit verify --data-dir still checks it.',
  ].join('\n');
}

/** Printed when the enclave refused to continue the log in use: nothing was started. */
function resumeRefusedHint(previousDir: string, dataDir: string, code: string, devRoot: string | undefined): string {
  const lines = [`  the audit log in ${previousDir} was NOT continued and no new log was started (the stack is stopped).`];
  if (code === 'AUDIT_RESUME_MISMATCH') {
    lines.push(
      `  The enclave continues a log only under the configuration and policy it was last kept under: boot with those`,
      `  (${join(dataDir, 'config.cbor')}, ${join(dataDir, 'policy.json')}; what zcp config apply or zcp policy apply installed`,
      '  lives in the enclave\'s memory only).',
    );
  } else {
    lines.push(`  Check it: zcp audit verify --data-dir ${dataDir}${devRoot ? ` --root ${devRoot} --allow-dev-root` : ''}`);
  }
  lines.push(`  Or start a new log, leaving that one as it is: zcp up --audit-new-log --data-dir ${dataDir}`);
  return lines.join('\n');
}

function resumedJson(writer: AuditWriter): Record<string, unknown> | null {
  const r = writer.resumed;
  if (!r) return null;
  return {
    resumed: r.resumed,
    previousVerifierKey: r.previous_verifier_key ?? null,
    size: Number(r.size),
    covered: Number(r.covered),
    resumedSeq: r.resumed_seq == null ? null : Number(r.resumed_seq),
    effectsApplied: Number(r.effects_applied),
    effectsSkipped: Number(r.effects_skipped),
    globalLevel: r.global_level,
    scopes: r.scopes,
    keysWiped: Number(r.keys_wiped),
    keysWipedIds: r.keys_wiped_ids,
    keysMissing: Number(r.keys_missing),
    keysMissingIds: r.keys_missing_ids,
    snapshotSize: r.snapshot_size == null ? null : Number(r.snapshot_size),
  };
}

/** What the resumed audit log said about the sealed keys: deleted ones served back, created ones not restored. */
function keyCheckWarning(r: NonNullable<AuditWriter['resumed']>): string | null {
  const lines: string[] = [];
  if (Number(r.keys_missing) > 0) {
    lines.push(
      `WARNING: ${Number(r.keys_missing)} key(s) the audit log created were not restored (sealed records missing or refused): ` +
        `${r.keys_missing_ids.join(', ')}. They are unavailable and are never re-created.`,
    );
  }
  if (Number(r.keys_wiped) > 0) {
    lines.push(`note: ${Number(r.keys_wiped)} key(s) the audit log deleted were served back by stale sealed records and wiped again: ${r.keys_wiped_ids.join(', ')}`);
  }
  return lines.length > 0 ? lines.join('\n') : null;
}

function devRootOf(enclave: EnclaveProcess): DevRoot | undefined {
  const path = enclave.ready.dev_root_der;
  if (enclave.ready.nsm !== 'simulator' || !path) return undefined;
  return { path, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') };
}

/** Names the certificate must cover besides loopback: the bound address (unless a wildcard) and --allowed-host names. */
function certificateNames(opts: UpOptions, allowedHosts: string[]): string[] {
  const names: string[] = [];
  for (const entry of allowedHosts) {
    const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(entry.trim().toLowerCase());
    if (m) names.push(m[1]!.replace(/^\[(.*)\]$/, '$1'));
  }
  const bound = opts.host.replace(/^\[(.*)\]$/, '$1');
  if (!['', '0.0.0.0', '::', '0:0:0:0:0:0:0:0'].includes(bound)) names.push(bound);
  return names;
}

/** fastify names a wildcard bind by its address; clients on this machine reach it on loopback. */
function publicAddress(address: string): string {
  const url = new URL(address);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.hostname === '[::]') url.hostname = '[::1]';
  return url.origin;
}

function writeStackFile(path: string, stack: StackInfo): void {
  writeFileSync(path, `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o644 });
}

/** Removes stack.json if it is still this process's (another `zcp up` may have taken the data dir over). */
function removeStackFile(path: string): void {
  try {
    const stack = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown };
    if (stack.pid === process.pid) rmSync(path, { force: true });
  } catch {
    // Already gone or unreadable: nothing of ours to remove.
  }
}

function printBanner(
  address: string,
  enclave: EnclaveProcess,
  dev: DevConfiguration,
  tls: DevCertificate | undefined,
  stackPath: string,
  stack: StackInfo,
  killSwitch: KillSwitchState,
  dataDir: string,
  writer?: AuditWriter,
  abandonedLog?: string | null,
  sealed?: SealedLoadSummary | null,
  sealedDir?: string | null,
): void {
  const ready = enclave.ready;
  const devRoot = ready.nsm === 'simulator' ? (ready.dev_root_der ?? undefined) : undefined;
  const made = (file: DevConfiguration['created'][number]): string => (dev.created.includes(file) ? ' (created)' : '');
  console.log('Sentinel local stack is up');
  console.log(`  API        ${address}`);
  if (tls) {
    console.log(`  TLS cert   ${tls.certPath}${tls.created ? ' (created)' : ''} (self-signed DEVELOPMENT certificate: clients pass --ca)`);
  } else {
    console.log('  TLS        NONE: --insecure-http, plain HTTP (loopback benchmarks only)');
  }
  console.log(`  stack      ${stackPath}`);
  console.log(`  checker    ${address}/checker/ (verify the attestation and receipts in a browser; load the dev root below)`);
  console.log(`  enclave    pid ${enclave.child.pid}, ${ready.listen}`);
  console.log(`  PCR0       ${ready.pcr0}`);
  console.log(`  config     ${dev.configPath}${made('config.cbor')}`);
  console.log(`  config hash  ${ready.config_hash ?? '(none installed)'}`);
  console.log(`  policy     ${dev.policyPath}${made('policy.json')}`);
  console.log(
    `  policy hash  ${stack.policyHash ? `${stack.policyHash.slice(2)} (version ${stack.policyVersion})` : '(none installed: signing is refused)'}`,
  );
  if (killSwitch.fromAuditLog) {
    const scopes = killSwitch.scopes.length > 0 ? killSwitch.scopes.join(', ') : 'no other scope halted or degraded';
    console.log(`  kill switch  as the audit log left it: global ${killSwitch.level}, ${scopes}`);
    const r = writer?.resumed;
    if (r?.resumed) {
      const from = r.snapshot_size == null ? 'the whole log replayed (no sealed snapshot)' : `from the sealed snapshot at record ${Number(r.snapshot_size)}, ${Number(r.size) - Number(r.snapshot_size)} later record(s) replayed`;
      console.log(`  state      ${from}`);
    }
    if (killSwitch.level === 'red') {
      console.log(`  resume it   zcp resume --scope global --key ${dev.adminKeyPath} --data-dir ${dataDir} (the quorum of overseers)`);
    }
  } else {
    console.log(`  kill switch  the enclave came up halted (global Red) and was resumed with the development admin key (${dev.adminKeyPath})`);
  }
  if (sealed && sealedDir) {
    console.log(`  sealing    ${sealingLabel(sealed.sealing)}`);
    const refused = sealed.refused.length ? `, ${sealed.refused.length} REFUSED (see above)` : '';
    console.log(`  sealed     ${sealedDir}: ${sealed.loaded} of ${sealed.stored} stored record(s) opened, ${sealed.keys} key(s) restored${refused}`);
  } else {
    console.log(`  sealing    ${sealingLabel('none')}`);
  }
  console.log(`  admin key   ${dev.adminKeyPath}${made('admin.key')} (secret, mode 0600)`);
  console.log(`  client key  ${dev.clientKeyPath}${made('client.key')} (secret, mode 0600)`);
  const pinConfig = ready.config_hash ? ` --config-hash ${ready.config_hash}` : '';
  const ca = tls ? ` --ca ${tls.certPath}` : '';
  if (devRoot !== undefined) {
    console.log('  NSM        SIMULATOR: attestation documents chain to a DEVELOPMENT root, not AWS hardware');
    console.log(`  dev root   ${devRoot}`);
    console.log(`  verify     zcp verify --url ${address}${ca} --pcr0 ${ready.pcr0}${pinConfig} --root ${devRoot} --allow-dev-root`);
  } else {
    console.log(`  NSM        ${ready.nsm}`);
    console.log(`  verify     zcp verify --url ${address}${ca} --pcr0 ${ready.pcr0}${pinConfig}`);
  }
  if (writer) {
    const how = writer.mode === 'strict' ? 'strict: an answer leaves once its record is durable' : 'LATENCY mode: answers leave before the fsync';
    console.log(`  audit log  ${writer.dir} (${how})`);
    console.log(`  log key    ${writer.info.verifier_key}`);
    const r = writer.resumed;
    if (r?.resumed) {
      console.log(
        `  log resumed  continued after a restart: ${Number(r.size)} records checked (${Number(r.covered)} under the previous key's checkpoint), ` +
          `this enclave's from record ${Number(r.resumed_seq)}; ${Number(r.effects_applied)} state changes restored, ${Number(r.effects_skipped)} not applied`,
      );
    } else if (abandonedLog) {
      console.log(`  log resumed  NO: --audit-new-log; the previous log ${abandonedLog} was not continued`);
    }
  }
  console.log('Ctrl-C to stop.');
}

/** Where `zcp up` keeps the ONNX models of a policy applied through the API (booted with it next time). */
const INSTALLED_MODELS_DIR = 'policy-models';

/** The models of the last policy applied through the API, as `--policy-model` paths (none: none kept). */
function installedModels(dataDir: string): string[] {
  const dir = join(dataDir, INSTALLED_MODELS_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.onnx'))
    .sort()
    .map((name) => join(dir, name));
}

/** Replaces the kept models with `models` (each as `<sha256>.onnx`), durably. */
async function keepInstalledModels(dataDir: string, models: Uint8Array[]): Promise<void> {
  const dir = join(dataDir, INSTALLED_MODELS_DIR);
  mkdirSync(dir, { recursive: true });
  const keep = new Set<string>();
  for (const model of models) {
    const name = `${createHash('sha256').update(model).digest('hex')}.onnx`;
    keep.add(name);
    await writeFileAtomic(nodeIo, join(dir, name), model);
  }
  for (const name of readdirSync(dir)) if (!keep.has(name)) rmSync(join(dir, name), { force: true });
}
