/**
 * `zcp`: Sentinel's command line. Each command returns an exit code instead
 * of calling `process.exit`, so tests can run it in process.
 */
import { Command, CommanderError } from 'commander';

import { isCoreError } from '../core.ts';
import { runAttestVerify } from './attest-verify.ts';
import { registerAudit } from './audit.ts';
import { registerBuild } from './build.ts';
import {
  runConfigApply,
  runConfigInit,
  runConfigShow,
  runConfigSign,
  type ConfigApplyOptions,
  type ConfigInitOptions,
  type ConfigSignOptions,
} from './config.ts';
import { addConnectionOptions, collect } from './connect.ts';
import { printDemo, runDemo } from './demo.ts';
import { registerKeys } from './keys.ts';
import { registerOversight } from './oversight.ts';
import { registerSealing } from './sealing.ts';
import { registerReceipt } from './receipt.ts';
import { registerPolicy } from './policy.ts';
import { addRpcOptions, runRpc, type RpcOptions } from './rpc.ts';
import { registerSign } from './sign.ts';
import { runUp, type UpOptions } from './up.ts';
import { runVerify, type VerifyOptions } from './verify.ts';

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('zcp')
    .description('Sentinel: hardware-isolated signing on AWS Nitro Enclaves')
    .exitOverride()
    // Usage errors read like every other error: `error CODE: message` (commander's own text as the message).
    .configureOutput({ outputError: (text) => console.error(`error USAGE: ${text.replace(/^error: /, '').trimEnd()}`) });
  const set = (code: number): void => {
    exitCode = code;
  };

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

  program
    .command('up')
    .description('run the local stack: the enclave (simulated NSM), the sidecar and the API')
    .option('--port <port>', 'API port (0: any free port)', '8787')
    .option('--host <host>', 'API address to bind (a non-loopback address prints a warning)', '127.0.0.1')
    .option(
      '--data-dir <dir>',
      'data directory: simulated NSM state and dev root; admin.key, client.key, config.cbor, policy.json (created on first run)',
      '.sentinel',
    )
    .option('--policy-model <file>', 'an ONNX model DATA_DIR/policy.json pins in a risk_score rule (repeatable)', collect, [])
    .option('--enclave-bin <path>', 'enclave binary (default: target/release/sentinel-enclave)')
    .option('--enclave-logs', "pass the enclave's log lines through to stderr")
    .option('--busy-poll', 'latency mode: the enclave spins on each connection instead of sleeping (costs a core)')
    .option('--allowed-host <name>', 'also serve this Host header: NAME, IP, [IPv6] or NAME:PORT (repeatable)', collect, [])
    .option('--insecure-http', 'serve plain HTTP instead of HTTPS with the development certificate (loopback benchmarks only)')
    .option('--log-level <level>', 'request log level on stderr (JSON lines): fatal, error, warn, info, debug, trace or silent', 'info')
    .option(
      '--audit-mode <mode>',
      'strict: an answer leaves only once its audit record is durable (fsync); latency: it leaves first, the fsync follows (docs/audit.md)',
      'strict',
    )
    .option(
      '--audit-new-log',
      'start a new audit log instead of continuing the one in use (after the enclave refused to resume it): the kill switch and policy counters start fresh (docs/audit.md, "Restart")',
    )
    .option(
      '--sealing <provider>',
      'development: keys survive restarts, sealed under DATA_DIR/sealing/master.key (DEVELOPMENT: a file on this host); none: keys live in enclave memory only (docs/sealed-state.md)',
      'development',
    )
    .option(
      '--replica-of <dir>',
      "start as a replica of the running stack in DIR: its enclave hands this one its master key by attested forwarding, and the same sealed keys open here (development sealing; docs/sealed-state.md, \"Replicas\")",
    )
    .option(
      '--snapshot-every-s <seconds>',
      'seal a state snapshot every N seconds (decisions pause ~1 ms per 10,000 keys while it is taken), so a restart replays only the audit records after it; 0: only at start and clean stop (docs/sealed-state.md)',
      '60',
    )
    .option('--json', 'print one JSON object per line on stdout (ready: the stack.json fields; stopping; stopped) instead of the banner')
    .action(async (opts: UpOptions) => {
      exitCode = await runUp(opts);
    });

  program
    .command('verify')
    .description('fetch a fresh attestation from a Sentinel API and verify it locally')
    .requiredOption('--pcr0 <hex>', 'expected PCR0 (enclave image measurement)')
    .option('--url <url>', 'API base URL', 'https://127.0.0.1:8787')
    .option('--ca <file>', "TLS certificate (PEM) to trust for the API: a local stack's <data-dir>/tls/cert.pem")
    .option('--root <file>', 'trusted root certificate, PEM or DER (default: AWS Nitro Enclaves Root-G1)')
    .option('--max-age-sec <seconds>', 'reject documents older than this', '300')
    .option('--config-hash <hex>', 'expected configuration hash (zcp up prints it; zcp config show computes it)')
    .option('--policy-hash <hex>', 'expected policy hash (zcp policy show prints it); a document attesting no policy fails')
    .option('--allow-dev-root', 'accept a --root other than the AWS Nitro root (local testing: the simulated NSM)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: VerifyOptions) => {
      exitCode = await runVerify(opts);
    });

  program
    .command('attest')
    .description('attestation documents')
    .command('verify')
    .description('verify a saved attestation document (raw CBOR or base64)')
    .requiredOption('--doc <file>', 'the attestation document')
    .option('--root <file>', 'trusted root certificate, PEM or DER (default: AWS Nitro Enclaves Root-G1)')
    .option('--at <time>', 'verification time, RFC 3339 or unix seconds (default: now)')
    .option('--pcr <N=HEX>', 'expected PCR value (repeatable)', collect, [])
    .option('--nonce <hex>', 'expected nonce')
    .option('--allow-debug', 'accept a debug-mode enclave (all-zero PCR0)')
    .option('--allow-dev-root', 'accept a --root other than the AWS Nitro root (local testing: the simulated NSM)')
    .option('--json', 'print the result as JSON')
    .action(
      (opts: { doc: string; root?: string; at?: string; pcr: string[]; nonce?: string; allowDebug?: boolean; allowDevRoot?: boolean; json?: boolean }) => {
        exitCode = runAttestVerify(opts);
      },
    );

  const config = program.command('config').description('the signed configuration: admins, principals, permissions');
  config
    .command('init')
    .description('create admin keys (mode 0600) and an unsigned configuration document (JSON to edit + canonical CBOR)')
    .requiredOption('--data-dir <dir>', 'directory for the admin keys (admin.key, or admin-N.key with several admins)')
    .option('--admins <n>', 'number of admins', '1')
    .option('--threshold <m>', 'signatures an update needs (default: a majority of the admins)')
    .option('--alg <alg>', 'key algorithm: ed25519, p256 or secp256k1', 'ed25519')
    .option('--client <id>', 'also create client.key and a principal with this id (every operation, own keys)')
    .option('--out <file>', 'the JSON document (default: DIR/config.json; its CBOR goes next to it as NAME.unsigned.cbor)')
    .option('--json', 'print the result as JSON')
    .action((opts: ConfigInitOptions) => {
      exitCode = runConfigInit(opts);
    });
  config
    .command('sign')
    .description("add an admin's signature: JSON or CBOR document in, signed envelope out (an envelope gains one)")
    .requiredOption('--config <file>', 'config.json, config.unsigned.cbor, or a signed envelope')
    .requiredOption('--admin-key <file>', "the admin's credential file")
    .option('--out <file>', 'where to write the envelope (default: the envelope itself, or NAME.cbor)')
    .option('--json', 'print the result as JSON')
    .action((opts: ConfigSignOptions) => {
      exitCode = runConfigSign(opts);
    });
  config
    .command('show')
    .description('print a configuration (JSON, CBOR document or signed envelope): document, config hash, signers')
    .argument('<file>', 'the configuration file')
    .option('--json', 'print as JSON')
    .action((file: string, opts: { json?: boolean }) => {
      exitCode = runConfigShow(file, opts);
    });
  config
    .command('apply')
    .description('send a signed configuration to a running enclave (it needs a higher version and the current admin quorum)')
    .argument('<file>', 'the signed envelope (zcp config sign)')
    .option('--url <url>', "API base URL (default: the stack's in --data-dir, else https://127.0.0.1:8787)")
    .option('--data-dir <dir>', 'a local stack (zcp up): its stack.json gives the URL and TLS certificate (default: .sentinel, when present)')
    .option('--ca <file>', "PEM certificate to trust for the API's TLS (default: the stack's development certificate)")
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: ConfigApplyOptions) => {
      exitCode = await runConfigApply(file, opts);
    });

  registerKeys(program, set);
  registerSign(program, set);
  registerReceipt(program, set);
  registerPolicy(program, set);
  registerOversight(program, set);
  registerSealing(program, set);
  registerBuild(program, set);
  registerAudit(program, set);

  addConnectionOptions(
    addRpcOptions(
      program
        .command('rpc')
        .description('a Web3Signer-compatible JSON-RPC endpoint on this machine, signing through Sentinel (verifies attestation and every receipt)'),
    ),
  ).action(async (opts: RpcOptions) => {
    exitCode = await runRpc(opts);
  });

  try {
    await program.parseAsync(argv);
  } catch (e) {
    // Help and version are "errors" to commander (exit 0); every other commander error is a usage error.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (isCoreError(e)) {
      console.error(`error ${e.code}: ${e.message}`);
      return 2;
    }
    throw e;
  }
  return exitCode;
}
