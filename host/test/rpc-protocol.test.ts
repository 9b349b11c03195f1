/**
 * The JSON-RPC endpoint's protocol handling, independent of the enclave: a
 * fake Sentinel client and a fake upstream node, so that malformed requests,
 * batches, refusal codes and the HTTP guards (Host, Origin, content type,
 * body size) are pinned without a chain or an enclave.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseChainId, parseListen } from '../src/cli/rpc.ts';
import { RpcHandler, type RpcSentinelClient } from '../src/rpc/handler.ts';
import { createRpcServer, type RpcServer } from '../src/rpc/server.ts';
import { fillTransaction, parseTransactionRequest } from '../src/rpc/transactions.ts';
import { redactUrl, Upstream } from '../src/rpc/upstream.ts';

const ETH = '0x1111111111111111111111111111111111111111';
const RAW = '0x2222222222222222222222222222222222222222';
const OTHER = '0x3333333333333333333333333333333333333333';

class Refusal extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly receiptId?: string,
  ) {
    super(message);
  }
}

const signed: unknown[] = [];
const fakeClient: RpcSentinelClient = {
  async listKeys() {
    return {
      keys: [
        { keyId: 'k-eth', curve: 'secp256k1', purpose: 'ethereum', label: 'eth', address: ETH },
        { keyId: 'k-raw', curve: 'secp256k1', purpose: 'raw', label: 'raw', address: RAW },
        { keyId: 'k-ed', curve: 'ed25519', purpose: 'raw', label: 'ed', address: null },
      ],
    };
  },
  async signMessage(keyId, message) {
    if (keyId === 'k-raw') throw new Refusal('KEY_PURPOSE_MISMATCH', 'key k-raw has purpose raw', `0x${'ab'.repeat(16)}`);
    signed.push({ keyId, message });
    return { signature: `0x${'11'.repeat(65)}` };
  },
  async signTypedData(keyId, typedData) {
    signed.push({ keyId, typedData });
    return { signature: `0x${'22'.repeat(65)}` };
  },
  async signTransaction(keyId, tx) {
    signed.push({ keyId, tx });
    throw new Refusal('OPERATION_NOT_PERMITTED', 'not permitted', `0x${'cd'.repeat(16)}`);
  },
};

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text), headers: res.headers };
}

/** node:http, because fetch does not let a caller set Host. */
function rawPost(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function rpc(url: string, method: string, params: unknown[] = [], id: unknown = 1) {
  return post(url, JSON.stringify({ jsonrpc: '2.0', id, method, params })).then((r) => r.json);
}

describe('zcp rpc: JSON-RPC protocol (no upstream)', () => {
  let server: RpcServer;
  let url: string;

  beforeAll(async () => {
    const handler = new RpcHandler({ client: fakeClient, chainId: 1337n, maxBatch: 5 });
    await handler.refreshAccounts();
    server = createRpcServer({ handler, bodyLimit: 4096 });
    url = await server.listen('127.0.0.1', 0);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves eth_chainId and net_version from --chain-id, and lists only ethereum-purpose keys', async () => {
    expect(await rpc(url, 'eth_chainId')).toEqual({ jsonrpc: '2.0', id: 1, result: '0x539' });
    expect((await rpc(url, 'net_version')).result).toBe('1337');
    expect((await rpc(url, 'eth_accounts', [], 'a')).result).toEqual([ETH]);
  });

  it('malformed JSON is -32700, a malformed request -32600, an unknown method -32601, bad params -32602', async () => {
    const parse = await post(url, '{"jsonrpc":"2.0",');
    expect(parse.status).toBe(200);
    expect(parse.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    for (const bad of [{}, { jsonrpc: '1.0', id: 1, method: 'eth_chainId' }, { jsonrpc: '2.0', id: 1 }, { jsonrpc: '2.0', id: {}, method: 'x' }, { jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: 'x' }, 42]) {
      const r = await post(url, JSON.stringify(bad));
      expect(r.json.error.code, JSON.stringify(bad)).toBe(-32600);
    }
    expect((await rpc(url, 'eth_blockNumber', [], 7)).error).toMatchObject({ code: -32601, data: { code: 'NO_UPSTREAM' } });
    expect((await rpc(url, 'personal_unlockAccount', [ETH, 'pw'])).error.code).toBe(-32601);
    expect((await rpc(url, 'eth_sign', [ETH])).error.code).toBe(-32602);
    expect((await rpc(url, 'eth_sign', [ETH, 'hello'])).error.code).toBe(-32602);
    expect((await rpc(url, 'eth_sign', ['0x12', '0x00'])).error.code).toBe(-32602);
    expect((await rpc(url, 'eth_signTypedData_v4', [ETH, 'not json'])).error).toMatchObject({ code: -32602, data: { code: 'INVALID_TYPED_DATA' } });
    expect((await rpc(url, 'eth_signTypedData', [ETH, [{ type: 'string', name: 'a', value: 'b' }]])).error.code).toBe(-32602);
    expect((await rpc(url, 'eth_signTransaction', [{ from: ETH, to: OTHER, type: '0x3' }])).error).toMatchObject({ code: -32602, data: { code: 'UNSUPPORTED_TRANSACTION_TYPE' } });
  });

  it('answers batches in one array, ids preserved, notifications unanswered', async () => {
    const r = await post(
      url,
      JSON.stringify([
        { jsonrpc: '2.0', id: 'x', method: 'eth_chainId' },
        { jsonrpc: '2.0', method: 'eth_chainId' },
        { jsonrpc: '2.0', id: 2, method: 'eth_nope' },
        { bad: true },
        { jsonrpc: '2.0', id: 3, method: 'personal_sign', params: ['0x68656c6c6f', ETH] },
      ]),
    );
    expect(r.status).toBe(200);
    expect(r.json).toHaveLength(4);
    expect(r.json[0]).toEqual({ jsonrpc: '2.0', id: 'x', result: '0x539' });
    expect(r.json[1]).toMatchObject({ id: 2, error: { code: -32601 } });
    expect(r.json[2]).toMatchObject({ id: null, error: { code: -32600 } });
    expect(r.json[3]).toEqual({ jsonrpc: '2.0', id: 3, result: `0x${'11'.repeat(65)}` });
    expect((await post(url, '[]')).json).toMatchObject({ id: null, error: { code: -32600 } });
    const six = Array.from({ length: 6 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_chainId' }));
    expect((await post(url, JSON.stringify(six))).json).toMatchObject({ id: null, error: { code: -32005 } });
    const onlyNotifications = await post(url, JSON.stringify([{ jsonrpc: '2.0', method: 'eth_chainId' }]));
    expect(onlyNotifications.status).toBe(204);
  });

  it('maps refusals: enclave refusal -32003 with data { code, receiptId }; unknown account 4100', async () => {
    const refused = await rpc(url, 'personal_sign', ['0x00', RAW]);
    expect(refused.error).toMatchObject({ code: -32003, data: { code: 'KEY_PURPOSE_MISMATCH', receiptId: `0x${'ab'.repeat(16)}` } });
    const unknown = await rpc(url, 'eth_sign', [OTHER, '0x00']);
    expect(unknown.error).toMatchObject({ code: 4100, data: { code: 'UNKNOWN_ACCOUNT', address: OTHER } });
    const tx = await rpc(url, 'eth_signTransaction', [{ from: ETH, to: OTHER, value: '0x1', gas: '0x5208', gasPrice: '0x1', nonce: '0x0' }]);
    expect(tx.error).toMatchObject({ code: -32003, data: { code: 'OPERATION_NOT_PERMITTED' } });
    expect(signed.at(-1)).toEqual({
      keyId: 'k-eth',
      tx: { type: '0x0', chainId: '0x539', nonce: '0x0', to: OTHER, value: '0x1', data: '0x', gas: '0x5208', gasPrice: '0x1' },
    });
  });

  it('without an upstream, a transaction missing nonce, gas or fees is -32602', async () => {
    for (const tx of [
      { from: ETH, to: OTHER, gas: '0x5208', gasPrice: '0x1' },
      { from: ETH, to: OTHER, nonce: '0x0', gasPrice: '0x1' },
      { from: ETH, to: OTHER, nonce: '0x0', gas: '0x5208' },
    ]) {
      const r = await rpc(url, 'eth_signTransaction', [tx]);
      expect(r.error, JSON.stringify(tx)).toMatchObject({ code: -32602, data: { code: 'MISSING_TRANSACTION_FIELD' } });
    }
    const wrongChain = await rpc(url, 'eth_signTransaction', [{ from: ETH, to: OTHER, gas: '0x5208', gasPrice: '0x1', nonce: '0x0', chainId: '0x1' }]);
    expect(wrongChain.error).toMatchObject({ code: -32602, data: { code: 'CHAIN_ID_MISMATCH' } });
    expect((await rpc(url, 'eth_sendTransaction', [{ from: ETH, to: OTHER }])).error.code).toBe(-32601);
  });

  it('adds EIP712Domain when the typed data leaves it out', async () => {
    const td = { domain: { name: 'x', chainId: 1 }, primaryType: 'M', types: { M: [{ name: 'a', type: 'uint256' }] }, message: { a: '1' } };
    await rpc(url, 'eth_signTypedData_v4', [ETH, JSON.stringify(td)]);
    expect((signed.at(-1) as { typedData: { types: Record<string, unknown> } }).typedData.types.EIP712Domain).toEqual([
      { name: 'name', type: 'string' },
      { name: 'chainId', type: 'uint256' },
    ]);
    const withDomain = JSON.stringify({ ...td, types: { EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'chainId', type: 'uint256' }], ...td.types } });
    await rpc(url, 'eth_signTypedData_v4', [ETH, withDomain]);
    expect((signed.at(-1) as { typedData: unknown }).typedData).toBe(withDomain);
  });

  it('refuses web pages, other Hosts, other content types, GET and oversized bodies', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId' });
    expect((await post(url, body, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await post(url, body, { 'content-type': 'text/plain' })).status).toBe(415);
    const rebound = await rawPost(url, body, { host: 'evil.example:8545' });
    expect(rebound.status).toBe(421);
    expect(JSON.parse(rebound.body).error.data.code).toBe('HOST_NOT_ALLOWED');
    const get = await fetch(url);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const big = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_sign', params: [ETH, `0x${'00'.repeat(4096)}`] }));
    expect(big.status).toBe(413);
    expect(big.json.error.data.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('zcp rpc: upstream forwarding and transaction filling (fake node)', () => {
  let node: Server;
  let nodeUrl: string;
  const calls: Array<{ method: string; params: unknown }> = [];
  const authorizations: Array<string | undefined> = [];

  beforeAll(async () => {
    node = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const r = JSON.parse(text) as { id: unknown; method: string; params: unknown };
        calls.push({ method: r.method, params: r.params });
        authorizations.push(req.headers.authorization);
        const results: Record<string, unknown> = {
          eth_chainId: '0x539',
          eth_blockNumber: '0x2a',
          eth_getTransactionCount: '0x7',
          eth_estimateGas: '0x5208',
          eth_getBlockByNumber: { baseFeePerGas: '0x64' },
          eth_maxPriorityFeePerGas: '0xa',
        };
        const body = r.method in results ? { jsonrpc: '2.0', id: r.id, result: results[r.method] } : { jsonrpc: '2.0', id: r.id, error: { code: -32000, message: `nope ${r.method}`, data: 'x' } };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
    nodeUrl = `http://127.0.0.1:${(node.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => node.close(resolve));
  });

  it('forwards other methods unchanged with the caller\'s id, and passes node errors through', async () => {
    const handler = new RpcHandler({ client: fakeClient, upstream: new Upstream(nodeUrl) });
    expect(await handler.handle({ jsonrpc: '2.0', id: 'abc', method: 'eth_blockNumber', params: [] })).toEqual({ jsonrpc: '2.0', id: 'abc', result: '0x2a' });
    expect(await handler.handle({ jsonrpc: '2.0', id: 9, method: 'eth_call', params: [{}] })).toEqual({
      jsonrpc: '2.0',
      id: 9,
      error: { code: -32000, message: 'nope eth_call', data: 'x' },
    });
    // Signing methods never reach the node.
    calls.length = 0;
    await handler.handle({ jsonrpc: '2.0', id: 1, method: 'eth_signTypedData_v3', params: [] });
    await handler.handle({ jsonrpc: '2.0', id: 1, method: 'wallet_sendTransaction', params: [] });
    expect(calls).toEqual([]);
  });

  it('sends URL credentials as Basic authorization (fetch refuses them in the URL)', async () => {
    const handler = new RpcHandler({ client: fakeClient, upstream: new Upstream(nodeUrl.replace('http://', 'http://user:p%40ss@')) });
    expect(await handler.handle({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber' })).toMatchObject({ result: '0x2a' });
    expect(authorizations.at(-1)).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });

  it('fills chain id, pending nonce, gas estimate and EIP-1559 fees (2 * baseFee + tip)', async () => {
    const upstream = new Upstream(nodeUrl);
    const tx = await fillTransaction(parseTransactionRequest({ from: ETH, to: OTHER, value: '0x10' }), { chainId: async () => 1337n, upstream });
    expect(tx).toEqual({
      type: '0x2',
      chainId: '0x539',
      nonce: '0x7',
      to: OTHER,
      value: '0x10',
      data: '0x',
      gas: '0x5208',
      maxFeePerGas: '0xd2',
      maxPriorityFeePerGas: '0xa',
      accessList: [],
    });
    expect(calls.find((c) => c.method === 'eth_getTransactionCount')?.params).toEqual([ETH, 'pending']);
  });

  it('an unreachable node is -32603 UPSTREAM_UNAVAILABLE, its URL redacted', async () => {
    const handler = new RpcHandler({ client: fakeClient, upstream: new Upstream('http://127.0.0.1:1/secret-key', { timeoutMs: 2000 }) });
    const r = (await handler.handle({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber' })) as { error: { code: number; message: string; data: { code: string } } };
    expect(r.error.code).toBe(-32603);
    expect(r.error.data.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(r.error.message).not.toContain('secret-key');
    expect(redactUrl('https://user:pw@node.example/v3/KEY')).toBe('https://node.example/…');
  });

  it('parses --listen and --chain-id', () => {
    expect(parseListen('127.0.0.1:8545')).toEqual({ host: '127.0.0.1', port: 8545 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseListen('8545')).toThrow(/HOST:PORT/);
    expect(parseChainId('0x539')).toBe(1337n);
    expect(parseChainId('1')).toBe(1n);
    expect(() => parseChainId('abc')).toThrow(/chain-id/);
  });
});
