/**
 * `zcp build pins | record | verify`: the reproducible production build of the
 * enclave (docs/reproducible-build.md). The build itself is one shell script,
 * scripts/build-enclave-release.sh, the same command EIF.Dockerfile and
 * scripts/repro-check.sh run; these commands drive it from a checkout and
 * compare what it produced with a published build record.
 *
 * - `pins`: rust-toolchain.toml, EIF.Dockerfile and eif/images.env agree.
 * - `record [--out DIR] [--update]`: builds and prints the record written next to the binary;
 *   `--update` also writes it to eif/build-record.json, the record committed with the source.
 * - `verify --record FILE [--rebuilt DIR]`: rebuilds from this checkout (or takes
 *   an existing build output) and says whether it matches, naming the first
 *   field that differs.
 *
 * Exit codes: 0 match / pins agree, 1 mismatch / drift, 2 usage or build failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Command } from 'commander';

import { BuildRecordError, checkToolchainPins, compareBuildRecords, parseBuildRecord, type BuildRecord } from '../build-record.ts';

/**
 * The build record committed with the source: the production binary this tree builds to, made by
 * `zcp build record --update` on a development machine and rebuilt and compared by CI (from
 * another path, with another CARGO_HOME) on every run.
 */
export const PUBLISHED_RECORD = 'eif/build-record.json';

/** The checkout this zcp runs from (host/src/cli → the repository root). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function runBuild(outDir: string): BuildRecord {
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts/build-enclave-release.sh'), outDir], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new BuildRecordError(`scripts/build-enclave-release.sh failed (exit ${r.status ?? r.signal})`);
  return readRecord(join(outDir, 'build-record.json'));
}

function readRecord(file: string): BuildRecord {
  if (!existsSync(file)) throw new BuildRecordError(`${file}: no such file`);
  return parseBuildRecord(readFileSync(file, 'utf8'), file);
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

export function registerBuild(program: Command, setExit: (code: number) => void): void {
  const build = program.command('build').description('the reproducible production enclave build (docs/reproducible-build.md)');

  build
    .command('pins')
    .description('check that rust-toolchain.toml, EIF.Dockerfile and eif/images.env pin the same toolchain')
    .option('--json', 'print the report as JSON')
    .action((opts: { json?: boolean }) => {
      const report = checkToolchainPins(REPO_ROOT);
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else {
        console.log(`rust-toolchain.toml  ${report.toolchain ?? '(none)'}`);
        console.log(`EIF.Dockerfile       ${report.dockerfileRustImage ?? '(none)'}`);
        console.log(`eif/images.env       ${report.imagesEnvRustImage ?? '(none)'}`);
        for (const p of report.problems) console.log(`DRIFT ${p.file}: ${p.message}`);
        if (report.problems.length === 0) console.log('pins agree');
      }
      setExit(report.problems.length === 0 ? 0 : 1);
    });

  build
    .command('record')
    .description('build the production enclave binary (scripts/build-enclave-release.sh) and print its build record')
    .option('--out <dir>', 'output directory for sentinel-enclave and build-record.json', 'target/enclave-release')
    .option('--update', `also write the record to ${PUBLISHED_RECORD} (the one CI rebuilds and compares)`)
    .action((opts: { out: string; update?: boolean }) => {
      try {
        const record = runBuild(resolve(opts.out));
        // Without `source`: the commit is not known before the commit that carries this file.
        const published = { ...record, source: undefined };
        if (opts.update) writeFileSync(join(REPO_ROOT, PUBLISHED_RECORD), JSON.stringify(published, null, 2) + '\n');
        console.log(JSON.stringify(record, null, 2));
        if (opts.update) console.error(`wrote ${PUBLISHED_RECORD}`);
        setExit(0);
      } catch (e) {
        console.error(`error ${(e as BuildRecordError).code ?? 'BUILD_FAILED'}: ${(e as Error).message}`);
        setExit(2);
      }
    });

  build
    .command('verify')
    .description('rebuild from this checkout and compare with a build record, naming the first difference')
    .requiredOption('--record <file>', 'the build record to check (build-record.json)')
    .option('--rebuilt <dir>', 'compare with this existing build output instead of building again')
    .option('--keep', 'keep the rebuild directory')
    .option('--json', 'print the comparison as JSON')
    .action((opts: { record: string; rebuilt?: string; keep?: boolean; json?: boolean }) => {
      let work: string | null = null;
      try {
        const expected = readRecord(resolve(opts.record));
        let actual: BuildRecord;
        if (opts.rebuilt) actual = readRecord(join(resolve(opts.rebuilt), 'build-record.json'));
        else {
          work = mkdtempSync(join(tmpdir(), 'sentinel-build-verify-'));
          actual = runBuild(work);
        }
        const result = compareBuildRecords(expected, actual);
        if (opts.json) console.log(JSON.stringify({ ...result, expected, actual }, null, 2));
        else if (result.match) {
          console.log(`MATCH: sentinel-enclave ${actual.binary.sha256} (${actual.binary.size} bytes), ${actual.rustc}, Cargo.lock ${actual.cargoLockSha256.slice(0, 16)}…`);
        } else {
          const first = result.differences[0]!;
          console.log(`MISMATCH: first difference in ${first.field}`);
          console.log(`  record : ${show(first.expected)}`);
          console.log(`  rebuilt: ${show(first.actual)}`);
          for (const d of result.differences.slice(1)) console.log(`  also differs: ${d.field}`);
          if (resolve(opts.record) === join(REPO_ROOT, PUBLISHED_RECORD)) {
            console.log(`  (after changing what the enclave is built from, refresh it: npx zcp build record --update)`);
          }
        }
        setExit(result.match ? 0 : 1);
      } catch (e) {
        console.error(`error ${(e as BuildRecordError).code ?? 'BUILD_FAILED'}: ${(e as Error).message}`);
        setExit(2);
      } finally {
        if (work && !opts.keep) rmSync(work, { recursive: true, force: true });
      }
    });
}

/**
 * `zcp build …` on its own: `host/bin/zcp.mjs` runs this for the `build` commands so that they
 * load neither the native addon nor anything else that must be built first (a third party
 * verifying a release runs it on a fresh checkout).
 */
export async function buildMain(argv: string[]): Promise<number> {
  const { Command, CommanderError } = await import('commander');
  let exitCode = 0;
  const program = new Command()
    .name('zcp')
    .exitOverride()
    .configureOutput({ outputError: (text) => console.error(`error USAGE: ${text.replace(/^error: /, '').trimEnd()}`) });
  registerBuild(program, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  return exitCode;
}
