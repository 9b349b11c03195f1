/**
 * `zcp up --json` as a child process for end-to-end tests: start it on a data
 * directory and wait for its ready event, stop it with Ctrl-C, or kill it
 * with SIGKILL (and wait for its enclave to go too, --exit-with-parent).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { expect } from 'vitest';

import { isAlive } from './helpers.ts';

const ZCP = fileURLToPath(new URL('../bin/zcp.mjs', import.meta.url));

/** The ready event of `zcp up --json`. */
export interface Ready {
  url: string;
  clientKeyPath: string;
  adminKeyPath: string;
  devRootPath: string;
  killSwitch: { fromAuditLog: boolean; resumedWith: string | null; level: string | null; scopes: string[] };
  audit: {
    dir: string;
    origin: string;
    verifierKey: string;
    keys: number;
    resumed: null | { resumed: boolean; size: number; covered: number; resumedSeq: number | null; previousVerifierKey: string | null };
  };
  auditLog: { origin: string; verifierKey: string; resumed: boolean; resumedSeq: number | null };
}

export interface Up {
  child: ChildProcess;
  ready: Ready;
  stderr: () => string;
}

/** `zcp up --json` on `dataDir`: resolves with its ready event, or rejects with its stderr if it exits first. */
export function startUp(dataDir: string, extra: string[] = []): Promise<Up> {
  const child = spawn(
    process.execPath,
    [ZCP, 'up', '--port', '0', '--insecure-http', '--json', '--log-level', 'silent', '--data-dir', dataDir, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`zcp up not ready in time:\n${stderr}`)), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`zcp up exited ${code}:\n${stderr}`), { exitCode: code, stderr }));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { event: string } & Ready;
      if (event.event === 'ready') {
        clearTimeout(timer);
        resolve({ child, ready: event, stderr: () => stderr });
      }
    });
  });
}

/** The processes `pid` started (Linux: the enclave `zcp up` launched). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** SIGKILL of `zcp up` (no clean stop, no final checkpoint); waits until its enclave has gone too (--exit-with-parent). */
export async function killStack(up: Up): Promise<void> {
  const enclaves = childrenOf(up.child.pid!);
  const exited = new Promise((r) => (up.child.exitCode !== null || up.child.signalCode !== null ? r(null) : up.child.once('exit', r)));
  up.child.kill('SIGKILL');
  await exited;
  const deadline = Date.now() + 5_000;
  while (enclaves.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  expect(enclaves.filter(isAlive)).toEqual([]);
}

/** Ctrl-C: a clean stop (the enclave signs a final checkpoint and the host stores it). */
export async function stopStack(up: Up): Promise<void> {
  if (up.child.exitCode !== null || up.child.signalCode !== null) return;
  const exited = new Promise<number | null>((r) => up.child.once('exit', (code) => r(code)));
  up.child.kill('SIGINT');
  expect(await exited, up.stderr()).toBe(0);
}

