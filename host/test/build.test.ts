/**
 * The reproducible build's pins and records (issue #13): the repository's own
 * rust-toolchain.toml, EIF.Dockerfile and eif/images.env agree; each kind of
 * drift is named; build records compare field by field and name the first
 * difference. The builds themselves are checked by scripts/repro-check.sh in CI
 * (two full builds), not here.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { checkToolchainPins, compareBuildRecords, parseBuildRecord, type BuildRecord } from '../src/build-record.ts';
import { PUBLISHED_RECORD, REPO_ROOT } from '../src/cli/build.ts';
import { main } from '../src/cli/main.ts';

function copyPins(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-pins-'));
  for (const f of ['rust-toolchain.toml', 'EIF.Dockerfile', 'eif/images.env']) cpSync(join(REPO_ROOT, f), join(dir, f), { recursive: true });
  return dir;
}

function edit(dir: string, file: string, from: RegExp, to: string): void {
  const text = readFileSync(join(dir, file), 'utf8');
  expect(text).toMatch(from);
  writeFileSync(join(dir, file), text.replace(from, to));
}

describe('toolchain pins', () => {
  it('agree in this repository (rust-toolchain.toml = the Dockerfile image = eif/images.env)', () => {
    const report = checkToolchainPins(REPO_ROOT);
    expect(report.problems).toEqual([]);
    expect(report.toolchain).toMatch(/^\d+\.\d+\.\d+$/);
    expect(report.dockerfileRustImage).toContain(`rust:${report.toolchain}-`);
  });

  it('names a Dockerfile image older than the pinned toolchain', () => {
    const dir = copyPins();
    edit(dir, 'EIF.Dockerfile', /^ARG RUST_IMAGE=.*$/m, 'ARG RUST_IMAGE=docker.io/library/rust:1.88-slim-bookworm');
    const { problems } = checkToolchainPins(dir);
    expect(problems.map((p) => p.file)).toContain('EIF.Dockerfile');
    expect(problems.find((p) => p.file === 'EIF.Dockerfile')!.message).toMatch(/Rust 1\.88, rust-toolchain\.toml pins/);
  });

  it('names a floating channel and a Dockerfile that does not use the one build command', () => {
    const dir = copyPins();
    edit(dir, 'rust-toolchain.toml', /^channel = ".*"$/m, 'channel = "stable"');
    edit(dir, 'EIF.Dockerfile', /bash scripts\/build-enclave-release\.sh \/out/, 'cargo build --release');
    const messages = checkToolchainPins(dir).problems.map((p) => `${p.file}: ${p.message}`);
    expect(messages.some((m) => /rust-toolchain\.toml: channel stable is not an exact version/.test(m))).toBe(true);
    expect(messages.some((m) => /EIF\.Dockerfile: does not build with scripts\/build-enclave-release\.sh/.test(m))).toBe(true);
  });

  it('names eif/images.env pinning another image than the Dockerfile', () => {
    const dir = copyPins();
    edit(dir, 'eif/images.env', /^RUST_IMAGE=.*$/m, 'RUST_IMAGE=docker.io/library/rust:1.94.0-slim-bookworm@sha256:' + 'ab'.repeat(32));
    const { problems } = checkToolchainPins(dir);
    expect(problems).toEqual([expect.objectContaining({ file: 'eif/images.env' })]);
  });

  it('`zcp build pins` exits 0 here', async () => {
    expect(await main(['node', 'zcp', 'build', 'pins', '--json'])).toBe(0);
  });
});

const record = (over: Partial<BuildRecord> = {}): BuildRecord => ({
  schema: 'sentinel/build-record/v1',
  rustc: 'rustc 1.95.0 (59807616e 2026-04-14)',
  cargo: 'cargo 1.95.0 (f2d3ce0bd 2026-03-21)',
  llvm: '20.1.8',
  cc: 'gcc (Debian 12.2.0-14+deb12u1) 12.2.0',
  rustToolchainTomlSha256: '1'.repeat(64),
  cargoLockSha256: '2'.repeat(64),
  package: 'sentinel-enclave',
  target: 'x86_64-unknown-linux-musl',
  features: ['hardware'],
  profile: 'release',
  binary: { name: 'sentinel-enclave', size: 3309176, sha256: 'a'.repeat(64) },
  source: { commit: 'c'.repeat(40), dirty: false },
  eif: null,
  ...over,
});

describe('build records', () => {
  it('match when every compared field is equal (the source commit is informative only)', () => {
    const result = compareBuildRecords(record(), record({ source: { commit: 'd'.repeat(40), dirty: true } }));
    expect(result).toEqual({ match: true, differences: [] });
  });

  it('name the earliest difference first: the toolchain before the binary', () => {
    const actual = record({ rustc: 'rustc 1.96.0 (x 2026-06-01)', binary: { name: 'sentinel-enclave', size: 3309168, sha256: 'b'.repeat(64) } });
    const { match, differences } = compareBuildRecords(record(), actual);
    expect(match).toBe(false);
    expect(differences.map((d) => d.field)).toEqual(['rustc', 'binary.size', 'binary.sha256']);
    expect(differences[0]).toEqual({ field: 'rustc', expected: 'rustc 1.95.0 (59807616e 2026-04-14)', actual: 'rustc 1.96.0 (x 2026-06-01)' });
  });

  it('compare EIF measurements only when both records have them', () => {
    const pcrs = { PCR0: '0'.repeat(96), PCR1: '1'.repeat(96), PCR2: '2'.repeat(96) };
    expect(compareBuildRecords(record({ eif: pcrs }), record()).match).toBe(true);
    const other = compareBuildRecords(record({ eif: pcrs }), record({ eif: { ...pcrs, PCR2: '3'.repeat(96) } }));
    expect(other.differences.map((d) => d.field)).toEqual(['eif.PCR2']);
  });

  it('refuse a record of another schema or without a binary hash, naming the field', () => {
    expect(() => parseBuildRecord(JSON.stringify({ ...record(), schema: 'other' }))).toThrow(/schema is "other"/);
    expect(() => parseBuildRecord(JSON.stringify({ ...record(), binary: { size: 1 } }))).toThrow(/binary must have a size and a 64-hex-digit sha256/);
    expect(() => parseBuildRecord('{')).toThrow(/not JSON/);
  });

  it('`zcp build verify --rebuilt` compares two build outputs and exits 1 naming the field', async () => {
    const a = mkdtempSync(join(tmpdir(), 'sentinel-rec-a-'));
    const b = mkdtempSync(join(tmpdir(), 'sentinel-rec-b-'));
    writeFileSync(join(a, 'build-record.json'), JSON.stringify(record()));
    writeFileSync(join(b, 'build-record.json'), JSON.stringify(record({ cargoLockSha256: '3'.repeat(64) })));
    const lines: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => void lines.push(args.join(' '));
    try {
      expect(await main(['node', 'zcp', 'build', 'verify', '--record', join(a, 'build-record.json'), '--rebuilt', b])).toBe(1);
      expect(await main(['node', 'zcp', 'build', 'verify', '--record', join(a, 'build-record.json'), '--rebuilt', a])).toBe(0);
    } finally {
      console.log = log;
    }
    expect(lines[0]).toBe('MISMATCH: first difference in cargoLockSha256');
    expect(lines.some((l) => l.startsWith('MATCH: sentinel-enclave aaaa'))).toBe(true);
  });
});

describe('the committed build record (eif/build-record.json)', () => {
  // CI rebuilds the binary and compares it with this record (`zcp build verify`); this cheap check
  // catches the usual way it goes stale first: a Cargo.lock or toolchain change without
  // `npx zcp build record --update`.
  const sha256 = (file: string): string => createHash('sha256').update(readFileSync(join(REPO_ROOT, file))).digest('hex');
  const published = parseBuildRecord(readFileSync(join(REPO_ROOT, PUBLISHED_RECORD), 'utf8'), PUBLISHED_RECORD);

  it('was made from this Cargo.lock and rust-toolchain.toml (else: npx zcp build record --update)', () => {
    expect(published.cargoLockSha256).toBe(sha256('Cargo.lock'));
    expect(published.rustToolchainTomlSha256).toBe(sha256('rust-toolchain.toml'));
  });

  it('describes the production binary: sentinel-enclave, static musl, hardware features only', () => {
    expect(published).toMatchObject({ package: 'sentinel-enclave', target: 'x86_64-unknown-linux-musl', features: ['hardware'], profile: 'release' });
    expect(published.binary.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
