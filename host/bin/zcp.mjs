#!/usr/bin/env node
// Entry point of the `zcp` CLI: registers the TypeScript loader, then runs the CLI.
// `zcp build …` (the reproducible-build commands) loads only its own module: it must run on a
// fresh checkout, before the native addon it would otherwise load has been built.
import { register } from 'tsx/esm/api';

register();
const { main } =
  process.argv[2] === 'build'
    ? await import('../src/cli/build.ts').then((m) => ({ main: m.buildMain }))
    : await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
