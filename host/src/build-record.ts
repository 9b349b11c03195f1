/**
 * The production enclave build's record and the pins that keep its toolchain
 * honest (issue #13, docs/reproducible-build.md). A build record is what
 * scripts/build-enclave-release.sh writes next to the binary; comparing two
 * records field by field, in a fixed order, names the first thing that
 * differs (a toolchain before a lockfile before the binary), because the
 * earliest difference is usually the cause of the later ones. The pins check
 * reads rust-toolchain.toml, EIF.Dockerfile and eif/images.env and refuses any
 * drift between them, so the local build, CI and the EIF cannot silently use
 * different compilers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const BUILD_RECORD_SCHEMA = 'sentinel/build-record/v1';

export interface BuildRecord {
  schema: string;
  rustc: string;
  cargo: string;
  llvm: string;
  cc: string;
  rustToolchainTomlSha256: string;
  cargoLockSha256: string;
  package: string;
  target: string;
  features: string[];
  profile: string;
  binary: { name: string; size: number; sha256: string };
  source: { commit: string; dirty: boolean };
  eif: { PCR0: string; PCR1: string; PCR2: string } | null;
}

/** Compared in this order; `source` (which commit, dirty) is informative only. */
const FIELDS: Array<[string, (r: BuildRecord) => unknown]> = [
  ['schema', (r) => r.schema],
  ['rustc', (r) => r.rustc],
  ['cargo', (r) => r.cargo],
  ['llvm', (r) => r.llvm],
  ['cc', (r) => r.cc],
  ['rustToolchainTomlSha256', (r) => r.rustToolchainTomlSha256],
  ['cargoLockSha256', (r) => r.cargoLockSha256],
  ['package', (r) => r.package],
  ['target', (r) => r.target],
  ['features', (r) => r.features.join(',')],
  ['profile', (r) => r.profile],
  ['binary.size', (r) => r.binary.size],
  ['binary.sha256', (r) => r.binary.sha256],
  ['eif.PCR0', (r) => r.eif?.PCR0 ?? null],
  ['eif.PCR1', (r) => r.eif?.PCR1 ?? null],
  ['eif.PCR2', (r) => r.eif?.PCR2 ?? null],
];

export interface RecordDifference {
  field: string;
  expected: unknown;
  actual: unknown;
}

export interface RecordComparison {
  match: boolean;
  /** Every differing field, in comparison order: the first is the one to look at. */
  differences: RecordDifference[];
}

export class BuildRecordError extends Error {
  readonly code = 'BUILD_RECORD_INVALID';
}

/** Parses and checks the shape of a build record (JSON text). */
export function parseBuildRecord(text: string, what = 'build record'): BuildRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new BuildRecordError(`${what}: not JSON (${(e as Error).message})`);
  }
  const r = value as Partial<BuildRecord> | null;
  if (!r || typeof r !== 'object') throw new BuildRecordError(`${what}: not an object`);
  if (r.schema !== BUILD_RECORD_SCHEMA) throw new BuildRecordError(`${what}: schema is ${JSON.stringify(r.schema)}, expected ${BUILD_RECORD_SCHEMA}`);
  for (const key of ['rustc', 'cargo', 'llvm', 'cc', 'rustToolchainTomlSha256', 'cargoLockSha256', 'package', 'target', 'profile'] as const) {
    if (typeof r[key] !== 'string') throw new BuildRecordError(`${what}: ${key} must be a string`);
  }
  if (!Array.isArray(r.features) || !r.features.every((f) => typeof f === 'string')) {
    throw new BuildRecordError(`${what}: features must be an array of strings`);
  }
  const b = r.binary;
  if (!b || typeof b.size !== 'number' || typeof b.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(b.sha256)) {
    throw new BuildRecordError(`${what}: binary must have a size and a 64-hex-digit sha256`);
  }
  if (r.eif !== null && r.eif !== undefined) {
    for (const pcr of ['PCR0', 'PCR1', 'PCR2'] as const) {
      if (typeof r.eif[pcr] !== 'string') throw new BuildRecordError(`${what}: eif.${pcr} must be a hex string`);
    }
  }
  return { ...(r as BuildRecord), eif: r.eif ?? null, source: r.source ?? { commit: 'unknown', dirty: false } };
}

/**
 * Compares a rebuilt record with the expected one. EIF measurements are
 * compared only when both records have them (a rebuild without the AWS blobs
 * cannot produce an EIF).
 */
export function compareBuildRecords(expected: BuildRecord, actual: BuildRecord): RecordComparison {
  const differences: RecordDifference[] = [];
  for (const [field, get] of FIELDS) {
    if (field.startsWith('eif.') && (expected.eif === null || actual.eif === null)) continue;
    const want = get(expected);
    const got = get(actual);
    if (want !== got) differences.push({ field, expected: want, actual: got });
  }
  return { match: differences.length === 0, differences };
}

export interface PinProblem {
  file: string;
  message: string;
}

export interface PinReport {
  /** rust-toolchain.toml's channel. */
  toolchain: string | null;
  /** The rust image EIF.Dockerfile builds with by default. */
  dockerfileRustImage: string | null;
  /** eif/images.env's RUST_IMAGE. */
  imagesEnvRustImage: string | null;
  problems: PinProblem[];
}

const tag = (image: string): string => image.replace(/@sha256:[0-9a-f]+$/, '');

/**
 * Checks that rust-toolchain.toml, EIF.Dockerfile (its RUST_IMAGE default and
 * its build command) and eif/images.env agree. Reads the three files under `root`.
 */
export function checkToolchainPins(root: string): PinReport {
  const problems: PinProblem[] = [];
  const read = (file: string): string | null => {
    try {
      return readFileSync(join(root, file), 'utf8');
    } catch {
      problems.push({ file, message: 'missing' });
      return null;
    }
  };
  const toml = read('rust-toolchain.toml');
  const dockerfile = read('EIF.Dockerfile');
  const imagesEnv = read('eif/images.env');

  const toolchain = toml?.match(/^\s*channel\s*=\s*"([^"]+)"/m)?.[1] ?? null;
  if (toml !== null && toolchain === null) problems.push({ file: 'rust-toolchain.toml', message: 'no [toolchain] channel' });
  if (toolchain !== null && !/^\d+\.\d+\.\d+$/.test(toolchain)) {
    problems.push({ file: 'rust-toolchain.toml', message: `channel ${toolchain} is not an exact version (x.y.z): "stable" drifts` });
  }
  if (toml !== null && !/x86_64-unknown-linux-musl/.test(toml)) {
    problems.push({ file: 'rust-toolchain.toml', message: 'targets must include x86_64-unknown-linux-musl (the enclave binary is static musl)' });
  }

  const dockerfileRustImage = dockerfile?.match(/^ARG RUST_IMAGE=(\S+)/m)?.[1] ?? null;
  if (dockerfile !== null && dockerfileRustImage === null) problems.push({ file: 'EIF.Dockerfile', message: 'no `ARG RUST_IMAGE=` default' });
  if (dockerfileRustImage !== null && toolchain !== null) {
    const version = tag(dockerfileRustImage).match(/:(\d+\.\d+(?:\.\d+)?)(?:-|$)/)?.[1] ?? null;
    if (version !== toolchain) {
      problems.push({
        file: 'EIF.Dockerfile',
        message: `RUST_IMAGE ${dockerfileRustImage} carries Rust ${version ?? '(no version in the tag)'}, rust-toolchain.toml pins ${toolchain}`,
      });
    }
  }
  if (dockerfile !== null && !/^RUN bash scripts\/build-enclave-release\.sh /m.test(dockerfile)) {
    problems.push({ file: 'EIF.Dockerfile', message: 'does not build with scripts/build-enclave-release.sh (the one production build command)' });
  }

  const imagesEnvRustImage = imagesEnv?.match(/^RUST_IMAGE=(\S+)/m)?.[1] ?? null;
  if (imagesEnv !== null && imagesEnvRustImage === null) problems.push({ file: 'eif/images.env', message: 'no RUST_IMAGE=' });
  if (imagesEnvRustImage !== null && dockerfileRustImage !== null) {
    const same = imagesEnvRustImage.includes('@') && dockerfileRustImage.includes('@')
      ? imagesEnvRustImage === dockerfileRustImage
      : tag(imagesEnvRustImage) === tag(dockerfileRustImage);
    if (!same) {
      problems.push({ file: 'eif/images.env', message: `RUST_IMAGE ${imagesEnvRustImage} differs from EIF.Dockerfile's ${dockerfileRustImage}` });
    }
  }
  return { toolchain, dockerfileRustImage, imagesEnvRustImage, problems };
}
