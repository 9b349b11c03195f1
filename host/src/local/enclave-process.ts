/**
 * The enclave as a local child process (local mode: simulated NSM, Unix socket).
 *
 * `zcp up` and the tests start the real enclave binary through this one path:
 * spawn, wait for its single `ready` JSON line on stdout, keep a tail of its
 * stderr so a crash can be explained, and stop it with SIGTERM.
 *
 * The enclave boots halted (kill switch Red, globally) until a quorum of
 * overseers resumes it, or until the audit log it continues says otherwise.
 * `resumeWith` resumes it right after boot for the local stack: a signed
 * `resume` (scope global, level green) over a fresh challenge, through the
 * socket, signed by the given credentials (the development admin, the
 * development configuration's only overseer). With `auditResume` the enclave
 * keeps its audit log closed, and refuses oversight commands, until the host
 * resumes the previous log or starts a new one (`AuditWriter.open`); the
 * caller then decides about the kill switch (`resumeWithCredentials`): a
 * resumed log restores it as the log left it (docs/audit.md, "Restart").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { SentinelError } from '../errors.ts';
import { resumeEnclave, type OversightStatusAnswer } from '../oversight-core.ts';
import { EnclaveClient, type EnclaveClientLike } from '../sidecar/client.ts';
import { unixTransport } from '../sidecar/transport.ts';

/**
 * The binary `bash scripts/build.sh` produces, relative to this file: the local-mode build
 * (`cargo build --release -p sentinel-enclave --no-default-features --features simulator`).
 * A default (`hardware`) build at the same path refuses to start here: it has no simulator.
 */
export const DEFAULT_ENCLAVE_BIN = fileURLToPath(new URL('../../../target/release/sentinel-enclave', import.meta.url));

/** The line the enclave prints once it listens (see enclave/src/main.rs). */
export interface EnclaveReady {
  event: 'ready';
  listen: string;
  nsm: string;
  pcr0: string;
  pcr1: string;
  pcr2: string;
  /** The attested key bundle (hex, 129 bytes): `02 || receipt key || session key || import key || audit key`. */
  attested_keys: string;
  /** SHA-256 of the configuration in force (hex), or null while none is installed. */
  config_hash: string | null;
  /** SHA-256 of the policy in force (hex), or null while none is installed. */
  policy_hash?: string | null;
  /** Its version, or null. */
  policy_version?: number | null;
  max_keys?: number;
  dev_root_der?: string | null;
  /** Where keys survive a restart: `development`, `none` or `aws-kms` (docs/sealed-state.md). */
  sealing?: string;
}

export interface EnclaveExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface EnclaveProcess {
  readonly child: ChildProcess;
  readonly ready: EnclaveReady;
  readonly exited: Promise<EnclaveExit>;
  /** The kill switch after the resume `resumeWith` asked for; null when the enclave was left halted as it booted. */
  readonly resumed: OversightStatusAnswer | null;
  stderrTail(): string;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<EnclaveExit>;
}

export interface StartEnclaveOptions {
  bin?: string;
  socketPath: string;
  dataDir: string;
  /** Signed configuration to install at boot (`--config`); without it the enclave answers only ping/describe. */
  configPath?: string;
  /**
   * Signed policy to install right after the configuration (`--policy`, a signed envelope, JSON).
   * Without one the enclave refuses every signing operation (POLICY_NOT_INSTALLED) until `update_policy`.
   */
  policyPath?: string;
  /** ONNX models the policy's `risk_score` rules pin (`--policy-model`, one each; exactly those). */
  policyModelPaths?: string[];
  readyTimeoutMs?: number;
  /** Latency mode (`--busy-poll`): one spinning enclave thread per connection. */
  busyPoll?: boolean;
  /** Seconds between boot attestation refreshes (`--evidence-refresh-secs`; the enclave's default is 3600). */
  evidenceRefreshSecs?: number;
  /** Receives every stderr line (the tail is kept regardless). */
  onStderr?: (line: string) => void;
  /**
   * Credential files (overseer keys, JSON) that sign a `resume` (scope global, level green) sent once the
   * enclave is ready: it boots halted. Needs a configuration (`configPath`) whose resume quorum they meet.
   * Unset or empty: the enclave stays halted until someone resumes it (`zcp resume`). Not with `auditResume`
   * (the enclave refuses oversight until its log is open): call `resumeWithCredentials` after `AuditWriter.open`.
   */
  resumeWith?: string[];
  /**
   * `--audit-resume`: the audit log stays closed (nothing is signed) until the host resumes the previous log
   * (`audit_resume_*`, which also restores the kill switch and the policy counters) or starts a new one
   * (`audit_start`); `AuditWriter.open` does either.
   */
  auditResume?: boolean;
  /**
   * `--audit-strict-sessions`: a session answer is written only once its audit record is durable (the
   * audit writer acknowledges it; give it a `watch` connection so that takes one fsync, not a poll).
   */
  auditStrictSessions?: boolean;
  /** `--sealing`: `development` seals keys under DATA_DIR/sealing/master.key; default (unset): the enclave's, `none`. */
  sealing?: 'development' | 'none';
  /** `--sealing-from-peer`: the master key comes from a running enclave by attested forwarding (a replica). */
  sealingFromPeer?: boolean;
}

const TAIL_LINES = 40;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

export async function startEnclave(options: StartEnclaveOptions): Promise<EnclaveProcess> {
  const bin = options.bin ?? DEFAULT_ENCLAVE_BIN;
  if (options.auditResume && (options.resumeWith?.length ?? 0) > 0) {
    throw new SentinelError(
      'INVALID_ARGUMENT',
      'startEnclave: resumeWith cannot run with auditResume (oversight is refused until the audit log is open); call resumeWithCredentials after AuditWriter.open',
    );
  }
  if (!existsSync(bin)) {
    throw new SentinelError(
      'ENCLAVE_BINARY_NOT_FOUND',
      `no enclave binary at ${bin} (build it with: bash scripts/build.sh, which runs ` +
        'cargo build --release -p sentinel-enclave --no-default-features --features simulator)',
    );
  }
  // Its own process group: a terminal's Ctrl-C reaches only the host, which then stops
  // the enclave itself, in order (API first, enclave last).
  // `--nsm simulator` explicitly: a hardware build then exits at once saying it has no simulator.
  // --exit-with-parent: if this process is killed outright, the enclave stops on its own.
  const args = ['--unix-socket', options.socketPath, '--nsm', 'simulator', '--data-dir', options.dataDir, '--exit-with-parent'];
  if (options.configPath !== undefined) args.push('--config', options.configPath);
  if (options.policyPath !== undefined) args.push('--policy', options.policyPath);
  for (const model of options.policyModelPaths ?? []) args.push('--policy-model', model);
  if (options.busyPoll) args.push('--busy-poll');
  if (options.evidenceRefreshSecs !== undefined) args.push('--evidence-refresh-secs', String(options.evidenceRefreshSecs));
  if (options.auditResume) args.push('--audit-resume');
  if (options.auditStrictSessions) args.push('--audit-strict-sessions');
  if (options.sealing !== undefined) args.push('--sealing', options.sealing);
  if (options.sealingFromPeer) args.push('--sealing-from-peer');
  const child = spawn(bin, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // ...and detached must not mean orphaned if the host exits without stopping it.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const tail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (raw) => {
    const line = raw.replace(ANSI, '');
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    options.onStderr?.(line);
  });
  const exited = new Promise<EnclaveExit>((resolve) => {
    child.once('exit', (code, signal) => {
      process.off('exit', killOnExit);
      resolve({ code, signal });
    });
  });
  const stderrTail = (): string => tail.join('\n');

  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  let ready: EnclaveReady;
  let resumed: OversightStatusAnswer | null = null;
  try {
    ready = await new Promise<EnclaveReady>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new SentinelError('ENCLAVE_START_TIMEOUT', `the enclave printed no ready line within ${readyTimeoutMs} ms`)),
        readyTimeoutMs,
      );
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new SentinelError('ENCLAVE_START_FAILED', `could not start ${bin}: ${e.message}`, { cause: e }));
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new SentinelError('ENCLAVE_START_FAILED', `the enclave exited (${signal ?? `code ${code}`}) before it was ready`));
      });
      // Later stdout lines are read and dropped so the pipe never fills.
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          return;
        }
        if ((parsed as { event?: unknown }).event === 'ready') {
          clearTimeout(timer);
          resolve(parsed as EnclaveReady);
        }
      });
    });
    if (options.resumeWith !== undefined && options.resumeWith.length > 0) {
      resumed = await resumeAfterBoot(options.socketPath, options.resumeWith);
    }
  } catch (e) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
    if (e instanceof SentinelError && tail.length > 0) e.message += `\n--- enclave stderr (tail) ---\n${stderrTail()}`;
    throw e;
  }

  return {
    child,
    ready,
    exited,
    resumed,
    stderrTail,
    async stop(graceMs = 5_000): Promise<EnclaveExit> {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    },
  };
}

/** `resumeWith`: a signed resume over a fresh challenge, on a connection of its own (closed after). */
async function resumeAfterBoot(socketPath: string, credentialPaths: string[]): Promise<OversightStatusAnswer> {
  const client = new EnclaveClient({ transport: unixTransport(socketPath) });
  try {
    try {
      await client.connect(5_000);
    } catch (e) {
      throw resumeFailed(e);
    }
    return await resumeWithCredentials(client, credentialPaths);
  } finally {
    await client.close();
  }
}

/**
 * Resumes the kill switch (scope global, level green) with the credential files given (overseer keys,
 * JSON), through `enclave`: what `resumeWith` does at boot, for a caller that opens the audit log first.
 * Errors keep the enclave's code (ENCLAVE_RESUME_FAILED when it gave none).
 */
export async function resumeWithCredentials(enclave: EnclaveClientLike, credentialPaths: string[]): Promise<OversightStatusAnswer> {
  const credentials = credentialPaths.map((path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw new SentinelError('FILE_UNREADABLE', `resumeWith: cannot read ${path}: ${(e as Error).message}`, { cause: e });
    }
  });
  try {
    return await resumeEnclave(enclave, credentials);
  } catch (e) {
    throw resumeFailed(e);
  }
}

function resumeFailed(e: unknown): SentinelError {
  const code = (e as { code?: unknown } | null)?.code;
  return new SentinelError(
    typeof code === 'string' && code !== '' ? code : 'ENCLAVE_RESUME_FAILED',
    `the enclave booted halted and could not be resumed: ${(e as Error).message}`,
    { cause: e },
  );
}
