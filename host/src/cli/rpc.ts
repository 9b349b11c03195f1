/**
 * `zcp rpc`: a Web3Signer-compatible JSON-RPC endpoint on the caller's side.
 * Stock ethers and viem point at it as they would at a node with unlocked
 * accounts; it holds the caller's credential, verifies the enclave's
 * attestation on connect and every receipt (through `@sentinel/client`), signs
 * through Sentinel and forwards everything else to the upstream node. The
 * Sentinel host it talks to stays untrusted; the upstream node is trusted only
 * for chain state. It runs until SIGINT or SIGTERM (or `signal`, in process).
 */
import { createClient } from '@sentinel/client';
import type { Command } from 'commander';

import { checkAllowedHosts, LOOPBACK_HOSTS } from '../api/host-allowlist.ts';
import { SentinelError } from '../errors.ts';
import { RpcHandler, type RpcAccount, type RpcSentinelClient } from '../rpc/handler.ts';
import { createRpcServer, DEFAULT_BODY_LIMIT, type RpcServer } from '../rpc/server.ts';
import { redactUrl, Upstream } from '../rpc/upstream.ts';
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, reportError, UsageError } from './connect.ts';
import { clientOptionsFrom, type ConnectionOptions } from './stack.ts';

export const DEFAULT_RPC_LISTEN = '127.0.0.1:8545';

export interface RpcOptions extends ConnectionOptions {
  /** HOST:PORT to bind (default 127.0.0.1:8545; port 0 picks a free one; IPv6 as [::1]:8545). */
  listen?: string;
  /** The Ethereum node to forward to and to fill nonce, gas and fees from. */
  upstream?: string;
  /** Chain id (decimal or 0x-hex): served as eth_chainId without an upstream, checked against the upstream's with one. */
  chainId?: string;
  /** Host header values served besides the loopback names (repeatable `--allowed-host`). */
  allowedHost?: string[];
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number | string;
  /** Print one JSON line on start instead of text. */
  json?: boolean;
  /** In process only: stops the server when aborted (the CLI stops on SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** In process only: called once listening. */
  onListening?: (info: RpcListening) => void;
}

/** What `zcp rpc` prints on start (`--json`: this object, one line). */
export interface RpcListening {
  url: string;
  principal: string;
  chainId: string | null;
  upstream: string | null;
  accounts: Array<{ address: string; keyId: string; label: string }>;
}

/** Adds the `zcp rpc` options besides the connection options (for main.ts). */
export function addRpcOptions(cmd: Command): Command {
  return cmd
    .option('--listen <host:port>', 'address to serve JSON-RPC on (a non-loopback address prints a warning)', DEFAULT_RPC_LISTEN)
    .option('--upstream <url>', 'Ethereum node to forward other methods to and fill nonce, gas and fees from')
    .option('--chain-id <id>', 'chain id (decimal or 0x-hex): eth_chainId without --upstream; checked against the upstream with it')
    .option('--allowed-host <name>', 'also serve this Host header: NAME, IP, [IPv6] or NAME:PORT (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--body-limit <bytes>', 'largest request body', String(DEFAULT_BODY_LIMIT));
}

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError('INVALID_ARGUMENT', `--listen ${JSON.stringify(text)}: expected HOST:PORT, e.g. 127.0.0.1:8545 or [::1]:8545`);
  return { host: (m[1] ?? m[2])!, port };
}

export function parseChainId(text: string): bigint {
  const t = text.trim();
  const ok = /^0x[0-9a-fA-F]+$/.test(t) || /^[0-9]+$/.test(t);
  const id = ok ? BigInt(t) : 0n;
  if (id <= 0n || id >= 2n ** 64n) throw new UsageError('INVALID_ARGUMENT', `--chain-id ${JSON.stringify(text)}: expected a positive integer (decimal or 0x-hex)`);
  return id;
}

function parseBodyLimit(value: number | string | undefined): number {
  if (value === undefined) return DEFAULT_BODY_LIMIT;
  const n = typeof value === 'number' ? value : /^[0-9]+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1024) throw new UsageError('INVALID_ARGUMENT', `--body-limit ${JSON.stringify(String(value))}: expected a number of bytes >= 1024`);
  return n;
}

function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.includes(host === '::1' ? '[::1]' : host.toLowerCase()) || /^127\./.test(host);
}

function printStart(info: RpcListening, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(info));
    return;
  }
  console.log(`Sentinel JSON-RPC listening on ${info.url}`);
  console.log(`  principal  ${info.principal}`);
  console.log(`  upstream   ${info.upstream ?? 'none (signing only; other methods answer -32601)'}`);
  console.log(`  chain id   ${info.chainId ?? 'unknown'}`);
  if (info.accounts.length === 0) console.log('  accounts   none yet (zcp keys generate --curve secp256k1 --purpose ethereum)');
  for (const [i, a] of info.accounts.entries()) console.log(`  ${i === 0 ? 'accounts  ' : '          '} ${a.address}  ${a.keyId}  ${a.label}`);
}

/** Runs `zcp rpc` until SIGINT, SIGTERM or `opts.signal`; returns the exit code. */
export async function runRpc(opts: RpcOptions): Promise<number> {
  const json = Boolean(opts.json);
  let listen: { host: string; port: number };
  let chainId: bigint | undefined;
  let bodyLimit: number;
  let upstream: Upstream | undefined;
  let clientOptions: ReturnType<typeof clientOptionsFrom>;
  try {
    listen = parseListen(opts.listen ?? DEFAULT_RPC_LISTEN);
    chainId = opts.chainId === undefined ? undefined : parseChainId(opts.chainId);
    bodyLimit = parseBodyLimit(opts.bodyLimit);
    try {
      checkAllowedHosts(opts.allowedHost ?? []);
    } catch (e) {
      throw new UsageError('INVALID_ARGUMENT', `--allowed-host: ${(e as Error).message}`);
    }
    if (opts.upstream !== undefined) {
      try {
        upstream = new Upstream(opts.upstream);
      } catch (e) {
        throw new UsageError('INVALID_ARGUMENT', `--upstream: ${(e as Error).message}`);
      }
    }
    clientOptions = clientOptionsFrom(opts);
  } catch (e) {
    return reportError(e, { json }, EXIT_USAGE);
  }

  let client: Awaited<ReturnType<typeof createClient>> | undefined;
  let server: RpcServer | undefined;
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  try {
    client = await createClient(clientOptions);
    const handler = new RpcHandler({ client: client as unknown as RpcSentinelClient, upstream, chainId });
    await handler.refreshAccounts();
    let served: bigint | undefined;
    try {
      served = await handler.chainId();
    } catch (e) {
      if ((e as { data?: { code?: string } }).data?.code === 'CHAIN_ID_MISMATCH') throw new SentinelError('CHAIN_ID_MISMATCH', (e as Error).message);
      console.error(`warning: the upstream node did not answer eth_chainId (${(e as Error).message}); serving anyway`);
    }
    server = createRpcServer({ handler, bodyLimit, allowedHosts: opts.allowedHost ?? [] });
    let url: string;
    try {
      url = await server.listen(listen.host, listen.port);
    } catch (e) {
      throw new SentinelError('LISTEN_FAILED', `cannot listen on ${opts.listen ?? DEFAULT_RPC_LISTEN}: ${(e as Error).message}`);
    }
    if (!isLoopback(listen.host)) {
      console.error(`warning: ${url} is not a loopback address: anyone who reaches it can sign with ${client.principal}'s keys`);
    }
    const info: RpcListening = {
      url,
      principal: client.principal,
      chainId: served === undefined ? null : served.toString(),
      upstream: upstream === undefined ? null : redactUrl(upstream.url),
      accounts: handler.accounts().map((a: RpcAccount) => ({ address: a.address, keyId: a.keyId, label: a.label })),
    };
    printStart(info, json);
    opts.onListening?.(info);

    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const signals = [stop.signal, ...(opts.signal ? [opts.signal] : [])];
    await new Promise<void>((resolve) => {
      for (const s of signals) {
        if (s.aborted) return resolve();
        s.addEventListener('abort', () => resolve(), { once: true });
      }
    });
    if (!json) console.log('stopping');
    return EXIT_OK;
  } catch (e) {
    return reportError(e, { json }, EXIT_REFUSED);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await server?.close().catch(() => undefined);
    await client?.close().catch(() => undefined);
  }
}
