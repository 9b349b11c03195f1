/**
 * `zcp`: Sentinel's command line. Commands are added with their issues
 * (`up`, `attest verify`, `verify` arrive with the enclave); each returns an
 * exit code instead of calling `process.exit`, so tests can run it in process.
 */
import { Command, CommanderError } from 'commander';

import { isCoreError } from '../core.ts';
import { printDemo, runDemo } from './demo.ts';

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('zcp')
    .description('Sentinel: hardware-isolated signing on AWS Nitro Enclaves')
    .exitOverride();

  program
    .command('demo')
    .description('sign and verify a sample Ethereum transaction through the native core')
    .option('--tx <hex>', 'unsigned transaction (hex) instead of the built-in EIP-1559 sample')
    .option('--json', 'print the result as JSON')
    .action((opts: { tx?: string; json?: boolean }) => {
      const result = runDemo(opts.tx?.replace(/^0x/, ''));
      printDemo(result, Boolean(opts.json));
      exitCode = result.verified ? 0 : 1;
    });

  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (isCoreError(e)) {
      console.error(`error ${e.code}: ${e.message}`);
      return 2;
    }
    throw e;
  }
  return exitCode;
}
