/**
 * `zcp rpc` with real clients: the real enclave behind the real API, a real
 * local chain (ganache), the endpoint in front of both, and stock ethers v6
 * and viem pointed at it with nothing Sentinel-specific. What users need is
 * that their transactions are mined and their signatures verify in either
 * library; that is what is checked.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

import { createClient, type SentinelClient } from '@sentinel/client';
import { JsonRpcProvider, Transaction, parseEther, verifyMessage, verifyTypedData } from 'ethers';
import type { FastifyInstance } from 'fastify';
import ganache from 'ganache';
import { createPublicClient, createWalletClient, http, recoverTransactionAddress, verifyMessage as viemVerifyMessage, verifyTypedData as viemVerifyTypedData } from 'viem';
import { localhost } from 'viem/chains';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { buildApp } from '../src/api/app.ts';
import { runRpc, type RpcListening, type RpcOptions } from '../src/cli/rpc.ts';
import { core } from '../src/core.ts';
import { EnclaveClient } from '../src/sidecar/client.ts';
import { unixTransport } from '../src/sidecar/transport.ts';
import { capture, clientCredential, HAVE_ENCLAVE, SKIP_REASON, startTestEnclave, type TestEnclave } from './helpers.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

type Hex = `0x${string}`;

const domain = { name: 'Sentinel RPC test', version: '1', chainId: 1337, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' as Hex };
const types = {
  Person: [
    { name: 'name', type: 'string' },
    { name: 'wallet', type: 'address' },
  ],
  Mail: [
    { name: 'from', type: 'Person' },
    { name: 'to', type: 'Person' },
    { name: 'contents', type: 'string' },
    { name: 'amount', type: 'uint256' },
  ],
};
const mail = {
  from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' as Hex },
  to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' as Hex },
  contents: 'Hello, Bob!',
  amount: 12345678901234567890n,
};

async function rpc(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.json();
}

maybe('zcp rpc in front of ganache, driven by stock ethers v6 and viem', () => {
  let enclave: TestEnclave;
  let sidecar: EnclaveClient;
  let app: FastifyInstance;
  let apiUrl: string;
  let sdk: SentinelClient;
  let chain: ReturnType<typeof ganache.server>;
  let chainUrl: string;
  let address: Hex;
  let rawAddress: Hex;
  const stops: AbortController[] = [];
  const runs: Promise<number>[] = [];
  let rpcUrl: string;
  let started: RpcListening;
  const recipient = '0x000000000000000000000000000000000000bEEF' as Hex;

  async function startRpc(extra: Partial<RpcOptions>): Promise<RpcListening> {
    const stop = new AbortController();
    stops.push(stop);
    return new Promise<RpcListening>((resolve, reject) => {
      const run = runRpc({
        listen: '127.0.0.1:0',
        url: apiUrl,
        credentials: enclave.dev.clientKeyPath,
        pcr0: enclave.process.ready.pcr0,
        root: enclave.process.ready.dev_root_der!,
        allowDevRoot: true,
        json: true,
        signal: stop.signal,
        onListening: resolve,
        ...extra,
      });
      runs.push(run);
      void run.then((code) => reject(new Error(`runRpc exited with ${code} before listening`)));
    });
  }

  beforeAll(async () => {
    enclave = await startTestEnclave();
    sidecar = new EnclaveClient({ transport: unixTransport(enclave.socketPath) });
    await sidecar.connect();
    app = buildApp({ enclave: sidecar });
    apiUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    sdk = await createClient({
      url: apiUrl,
      credentials: clientCredential(enclave),
      expectedPcr0: enclave.process.ready.pcr0,
      root: readFileSync(enclave.process.ready.dev_root_der!),
    });
    const key = await sdk.generateKey({ curve: 'secp256k1', purpose: 'ethereum', label: 'rpc-eth' });
    address = key.address as Hex;
    rawAddress = (await sdk.generateKey({ curve: 'secp256k1', purpose: 'raw', label: 'rpc-raw' })).address as Hex;

    // ganache's option types resolve to `undefined` under this TypeScript (its bundled typings); the options are the documented ones.
    chain = ganache.server({ wallet: { deterministic: true, totalAccounts: 1 }, logging: { quiet: true }, chain: { chainId: 1337 } } as never);
    await chain.listen(0, '127.0.0.1');
    chainUrl = `http://127.0.0.1:${(chain.address() as AddressInfo).port}`;
    const [funder] = (await chain.provider.request({ method: 'eth_accounts', params: [] })) as string[];
    await chain.provider.request({ method: 'eth_sendTransaction', params: [{ from: funder!, to: address, value: `0x${parseEther('100').toString(16)}` }] });

    const out = capture();
    started = await startRpc({ upstream: chainUrl });
    rpcUrl = started.url;
    vi.restoreAllMocks();
    expect(JSON.parse(out.out.at(-1)!)).toEqual(started);
  }, 60_000);

  afterAll(async () => {
    for (const s of stops) s.abort();
    await Promise.allSettled(runs);
    await chain?.close();
    await sdk?.close();
    await app?.close();
    await sidecar?.close();
    await enclave?.dispose();
  });

  it('prints the URL, principal, chain and accounts on start; eth_accounts lists ethereum-purpose keys', async () => {
    expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(started.principal).toBe('dev-client');
    expect(started.chainId).toBe('1337');
    expect(started.accounts.map((a) => a.address)).toEqual([address]);
    const accounts = await rpc(rpcUrl, { jsonrpc: '2.0', id: 1, method: 'eth_accounts', params: [] });
    expect(accounts.result).toEqual([address]);
    expect(accounts.result).not.toContain(rawAddress);
  });

  it('ethers v6: JsonRpcProvider.getSigner() sends a transaction that is mined and moves the balance; signatures verify in ethers and viem', async () => {
    const provider = new JsonRpcProvider(rpcUrl, undefined, { pollingInterval: 100, cacheTimeout: -1 });
    try {
      const signer = await provider.getSigner(address);
      const before = await provider.getBalance(recipient);
      const tx = await signer.sendTransaction({ to: recipient, value: parseEther('1') });
      const receipt = await tx.wait();
      expect(receipt?.status).toBe(1);
      expect(receipt?.from.toLowerCase()).toBe(address.toLowerCase());
      expect((await provider.getBalance(recipient)) - before).toBe(parseEther('1'));

      const message = 'hello from ethers through zcp rpc';
      const sig = await signer.signMessage(message);
      expect(verifyMessage(message, sig)).toBe(address);
      expect(await viemVerifyMessage({ address, message, signature: sig as Hex })).toBe(true);

      const typed = await signer.signTypedData(domain, types, mail);
      expect(verifyTypedData(domain, types, mail, typed)).toBe(address);
      expect(await viemVerifyTypedData({ address, domain, types, primaryType: 'Mail', message: mail, signature: typed as Hex })).toBe(true);
    } finally {
      provider.destroy();
    }
  }, 60_000);

  it('viem: a wallet client sends an EIP-1559 transaction that is mined and moves the balance; signatures verify in viem and ethers', async () => {
    const wallet = createWalletClient({ transport: http(rpcUrl), account: address, chain: localhost });
    const pub = createPublicClient({ transport: http(rpcUrl), chain: localhost });
    const before = await pub.getBalance({ address: recipient });
    const hash = await wallet.sendTransaction({ to: recipient, value: parseEther('2') });
    const receipt = await pub.waitForTransactionReceipt({ hash, pollingInterval: 100 });
    expect(receipt.status).toBe('success');
    expect(receipt.type).toBe('eip1559');
    expect(receipt.from.toLowerCase()).toBe(address.toLowerCase());
    expect((await pub.getBalance({ address: recipient })) - before).toBe(parseEther('2'));

    const message = 'hello from viem through zcp rpc';
    const sig = await wallet.signMessage({ message });
    expect(await viemVerifyMessage({ address, message, signature: sig })).toBe(true);
    expect(verifyMessage(message, sig)).toBe(address);

    const typed = await wallet.signTypedData({ domain, types, primaryType: 'Mail', message: mail });
    expect(await viemVerifyTypedData({ address, domain, types, primaryType: 'Mail', message: mail, signature: typed })).toBe(true);
    expect(verifyTypedData(domain, types, mail, typed)).toBe(address);
  }, 60_000);

  it('eth_signTransaction returns a raw transaction whose sender is the account (fields filled from the node)', async () => {
    const r = await rpc(rpcUrl, { jsonrpc: '2.0', id: 5, method: 'eth_signTransaction', params: [{ from: address, to: recipient, value: '0x1' }] });
    expect(r.id).toBe(5);
    expect(r.result).toMatch(/^0x02/);
    const tx = Transaction.from(r.result);
    expect(tx.from).toBe(address);
    expect(tx.chainId).toBe(1337n);
    expect(await recoverTransactionAddress({ serializedTransaction: r.result })).toBe(address);
    expect(core.recoverEthereumTransactionSigner(Buffer.from(r.result.slice(2), 'hex')).signer.toLowerCase()).toBe(address.toLowerCase());

    const legacy = await rpc(rpcUrl, {
      jsonrpc: '2.0',
      id: 6,
      method: 'eth_signTransaction',
      params: [{ from: address, to: recipient, value: '0x1', gas: '0x5208', gasPrice: '0x3b9aca00', nonce: '0x0' }],
    });
    const ltx = Transaction.from(legacy.result);
    expect(ltx.type).toBe(0);
    expect(ltx.from).toBe(address);
  }, 30_000);

  it('answers a batch in one array with ids preserved; other methods pass through to the node', async () => {
    const r = await rpc(rpcUrl, [
      { jsonrpc: '2.0', id: 'chain', method: 'eth_chainId', params: [] },
      { jsonrpc: '2.0', id: 2, method: 'eth_blockNumber', params: [] },
      { jsonrpc: '2.0', id: 3, method: 'eth_getBalance', params: [recipient, 'latest'] },
      { jsonrpc: '2.0', id: 4, method: 'personal_sign', params: ['0x68656c6c6f', address] },
    ]);
    expect(r.map((x: { id: unknown }) => x.id)).toEqual(['chain', 2, 3, 4]);
    expect(r[0].result).toBe('0x539');
    const direct = (await chain.provider.request({ method: 'eth_blockNumber', params: [] })) as string;
    expect(r[1].result).toBe(direct);
    expect(BigInt(r[2].result)).toBeGreaterThanOrEqual(parseEther('3'));
    expect(await viemVerifyMessage({ address, message: 'hello', signature: r[3].result })).toBe(true);
  });

  it('refusals: a raw-purpose key is refused by the enclave (-32003, data { code, receiptId }); an unknown address is 4100', async () => {
    const refused = await rpc(rpcUrl, { jsonrpc: '2.0', id: 1, method: 'personal_sign', params: ['0x68656c6c6f', rawAddress] });
    expect(refused.error.code).toBe(-32003);
    expect(refused.error.data.code).toBe('KEY_PURPOSE_MISMATCH');
    expect(refused.error.data.receiptId).toMatch(/^0x[0-9a-f]{32}$/);
    // The receipt is signed evidence of the denial, and the SDK verifies it.
    const receipt = await sdk.getReceipt(refused.error.data.receiptId);
    expect(receipt.verified.claims.decision).toBe('denied');

    const sendRefused = await rpc(rpcUrl, { jsonrpc: '2.0', id: 2, method: 'eth_sendTransaction', params: [{ from: rawAddress, to: recipient, value: '0x1' }] });
    expect(sendRefused.error).toMatchObject({ code: -32003, data: { code: 'KEY_PURPOSE_MISMATCH' } });

    const unknown = await rpc(rpcUrl, { jsonrpc: '2.0', id: 3, method: 'eth_sign', params: [recipient, '0x00'] });
    expect(unknown.error).toMatchObject({ code: 4100, data: { code: 'UNKNOWN_ACCOUNT' } });

    // ethers surfaces the JSON-RPC error object.
    const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
    try {
      const err = await provider.send('personal_sign', ['0x00', rawAddress]).then(
        () => undefined,
        (e: unknown) => e as { error?: { code: number; data: { code: string } } },
      );
      expect(err?.error).toMatchObject({ code: -32003, data: { code: 'KEY_PURPOSE_MISMATCH' } });
    } finally {
      provider.destroy();
    }
  });

  it('malformed JSON is -32700 and malformed requests -32600', async () => {
    const parse = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[{"jsonrpc":' });
    expect(parse.status).toBe(200);
    expect((await parse.json()).error.code).toBe(-32700);
    expect((await rpc(rpcUrl, { id: 1, method: 'eth_chainId' })).error.code).toBe(-32600);
    expect((await rpc(rpcUrl, { jsonrpc: '2.0', id: 1, method: 'eth_signTransaction', params: [{ from: address, to: 'nope' }] })).error.code).toBe(-32602);
  });

  it('without an upstream: --chain-id is served, other methods are -32601, complete transactions still sign', async () => {
    const offline = await startRpc({ chainId: '1337' });
    expect(offline.chainId).toBe('1337');
    expect(offline.upstream).toBeNull();
    expect((await rpc(offline.url, { jsonrpc: '2.0', id: 1, method: 'eth_chainId' })).result).toBe('0x539');
    expect((await rpc(offline.url, { jsonrpc: '2.0', id: 1, method: 'eth_blockNumber' })).error.code).toBe(-32601);
    const missing = await rpc(offline.url, { jsonrpc: '2.0', id: 1, method: 'eth_signTransaction', params: [{ from: address, to: recipient }] });
    expect(missing.error.code).toBe(-32602);
    const full = await rpc(offline.url, {
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_signTransaction',
      params: [{ from: address, to: recipient, value: '0x1', gas: '0x5208', maxFeePerGas: '0x77359400', maxPriorityFeePerGas: '0x3b9aca00', nonce: '0x9' }],
    });
    const tx = Transaction.from(full.result);
    expect(tx.from).toBe(address);
    expect(tx.nonce).toBe(9);
    expect(tx.chainId).toBe(1337n);
  }, 30_000);

  it('refuses to start when --chain-id disagrees with the upstream node', async () => {
    const out = capture();
    const code = await runRpc({
      listen: '127.0.0.1:0',
      upstream: chainUrl,
      chainId: '1',
      url: apiUrl,
      credentials: enclave.dev.clientKeyPath,
      pcr0: enclave.process.ready.pcr0,
      root: enclave.process.ready.dev_root_der!,
      allowDevRoot: true,
    });
    const usage = await runRpc({ listen: 'nope', url: apiUrl, credentials: enclave.dev.clientKeyPath, pcr0: enclave.process.ready.pcr0 });
    vi.restoreAllMocks();
    expect(code).toBe(1);
    expect(out.err.join('\n')).toMatch(/CHAIN_ID_MISMATCH/);
    expect(usage).toBe(2);
  }, 30_000);
});
