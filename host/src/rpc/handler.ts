/**
 * The JSON-RPC methods `zcp rpc` answers itself, in the shape Web3Signer and
 * a node with unlocked accounts answer them, so that ethers' JsonRpcSigner and
 * viem's JSON-RPC account work unchanged. Signing goes through the Sentinel
 * SDK, which verifies every receipt against the attested enclave before the
 * signature comes back here; the host relaying it is never trusted. Methods
 * that would ask the upstream node to use its own keys (other `personal_*`,
 * `wallet_*`, older typed-data versions) are refused rather than forwarded: a
 * caller pointed at this endpoint signs with Sentinel keys or not at all.
 * Everything else goes to the upstream unchanged, ids preserved.
 *
 * Accounts are the principal's secp256k1 keys of purpose `ethereum` (from
 * list_keys). Other secp256k1 keys it can see are still signed with when asked
 * by address, so the enclave, not this process, refuses them (with a receipt).
 */
import { core } from '../core.ts';
import { invalidParams, RPC_CODES, RpcError, toRpcError, type JsonRpcErrorObject } from './errors.ts';
import { fillTransaction, isAddress, isHexBytes, parseTransactionRequest, quantity, toQuantity, type Hex, type TransactionObject } from './transactions.ts';
import type { JsonRpcResponse, Upstream } from './upstream.ts';

/** What the handler needs from `@sentinel/client` (its createClient result satisfies this). */
export interface RpcSentinelClient {
  listKeys(): Promise<{ keys: Array<{ keyId: string; curve: string; purpose: string; label: string; address: string | null }> }>;
  signTransaction(keyId: string, tx: TransactionObject): Promise<{ raw: string; hash: string }>;
  signMessage(keyId: string, message: { raw: Hex }): Promise<{ signature: string }>;
  signTypedData(keyId: string, typedData: string | object): Promise<{ signature: string }>;
}

export interface RpcAccount {
  address: Hex;
  keyId: string;
  label: string;
  purpose: string;
}

export interface RpcHandlerOptions {
  client: RpcSentinelClient;
  upstream?: Upstream;
  /** Served as eth_chainId; must equal the upstream's when both exist. */
  chainId?: bigint;
  /** Most requests in one batch (default 100). */
  maxBatch?: number;
}

export type JsonRpcId = string | number | null;

/** Methods never forwarded: they would make the upstream node sign with its own keys, or manage a wallet. */
function neverForwarded(method: string): boolean {
  return (
    method.startsWith('personal_') ||
    method.startsWith('wallet_') ||
    method.startsWith('eth_signTypedData') ||
    method === 'eth_signTransaction' ||
    method === 'eth_sendTransaction' ||
    method === 'eth_sign'
  );
}

const DOMAIN_FIELDS: Array<[string, string]> = [
  ['name', 'string'],
  ['version', 'string'],
  ['chainId', 'uint256'],
  ['verifyingContract', 'address'],
  ['salt', 'bytes32'],
];

export class RpcHandler {
  private readonly client: RpcSentinelClient;
  private readonly upstream?: Upstream;
  private readonly configuredChainId?: bigint;
  private readonly maxBatch: number;
  private upstreamChainId?: Promise<bigint>;
  private book = new Map<string, RpcAccount>();
  private refreshing?: Promise<void>;
  private readonly sendLocks = new Map<string, Promise<unknown>>();

  constructor(options: RpcHandlerOptions) {
    this.client = options.client;
    this.upstream = options.upstream;
    this.configuredChainId = options.chainId;
    this.maxBatch = options.maxBatch ?? 100;
  }

  /** Re-reads the principal's keys (list_keys, receipt verified by the SDK). */
  async refreshAccounts(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const { keys } = await this.client.listKeys();
        const book = new Map<string, RpcAccount>();
        for (const k of keys) {
          if (k.curve !== 'secp256k1' || k.address === null || !isAddress(k.address)) continue;
          const lower = k.address.toLowerCase();
          if (!book.has(lower)) book.set(lower, { address: k.address, keyId: k.keyId, label: k.label, purpose: k.purpose });
        }
        this.book = book;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** The accounts eth_accounts lists: secp256k1 keys of purpose `ethereum`. */
  accounts(): RpcAccount[] {
    return [...this.book.values()].filter((a) => a.purpose === 'ethereum');
  }

  /** The chain id served: the upstream's (checked against --chain-id), or --chain-id. */
  async chainId(): Promise<bigint | undefined> {
    if (this.upstream === undefined) return this.configuredChainId;
    const upstream = this.upstream;
    this.upstreamChainId ??= upstream.call('eth_chainId').then(
      (v) => quantity(v, 'chainId'),
      (e: unknown) => {
        this.upstreamChainId = undefined;
        throw e;
      },
    );
    const id = await this.upstreamChainId;
    if (this.configuredChainId !== undefined && id !== this.configuredChainId) {
      throw new RpcError(RPC_CODES.INTERNAL_ERROR, `the upstream node serves chain ${id}, not --chain-id ${this.configuredChainId}`, { code: 'CHAIN_ID_MISMATCH' });
    }
    return id;
  }

  /**
   * Answers a parsed JSON-RPC payload (one request or a batch). Returns
   * undefined when nothing is to be answered (notifications only).
   */
  async handle(payload: unknown): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
    if (Array.isArray(payload)) {
      if (payload.length === 0) return errorResponse(null, { code: RPC_CODES.INVALID_REQUEST, message: 'invalid request: empty batch' });
      if (payload.length > this.maxBatch) {
        return errorResponse(null, { code: RPC_CODES.LIMIT_EXCEEDED, message: `batch of ${payload.length} requests exceeds the limit of ${this.maxBatch}` });
      }
      const answers = await Promise.all(payload.map((r) => this.handleOne(r)));
      const present = answers.filter((a): a is JsonRpcResponse => a !== undefined);
      return present.length === 0 ? undefined : present;
    }
    return this.handleOne(payload);
  }

  private async handleOne(request: unknown): Promise<JsonRpcResponse | undefined> {
    if (request === null || typeof request !== 'object' || Array.isArray(request)) {
      return errorResponse(null, { code: RPC_CODES.INVALID_REQUEST, message: 'invalid request: expected a JSON-RPC 2.0 request object' });
    }
    const r = request as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
    const idValid = r.id === undefined || r.id === null || typeof r.id === 'string' || (typeof r.id === 'number' && Number.isFinite(r.id));
    const id = idValid ? ((r.id ?? null) as JsonRpcId) : null;
    if (r.jsonrpc !== '2.0' || !idValid || typeof r.method !== 'string' || r.method === '' || (r.params !== undefined && (r.params === null || typeof r.params !== 'object'))) {
      return errorResponse(id, { code: RPC_CODES.INVALID_REQUEST, message: 'invalid request: expected { jsonrpc: "2.0", id, method, params? }' });
    }
    const notification = r.id === undefined;
    let response: JsonRpcResponse;
    try {
      response = await this.dispatch(id, r.method, r.params, request as { method: string });
    } catch (e) {
      response = errorResponse(id, toRpcError(e).toJSON());
    }
    return notification ? undefined : response;
  }

  private async dispatch(id: JsonRpcId, method: string, params: unknown, request: { method: string }): Promise<JsonRpcResponse> {
    const ok = (result: unknown): JsonRpcResponse => ({ jsonrpc: '2.0', id, result });
    switch (method) {
      case 'eth_chainId': {
        const chainId = await this.chainId();
        if (chainId === undefined) throw new RpcError(RPC_CODES.INTERNAL_ERROR, 'the chain is unknown: start zcp rpc with --chain-id or --upstream', { code: 'CHAIN_ID_UNKNOWN' });
        return ok(toQuantity(chainId));
      }
      case 'net_version':
        if (this.upstream === undefined && this.configuredChainId !== undefined) return ok(this.configuredChainId.toString());
        break;
      case 'eth_accounts':
      case 'eth_requestAccounts':
        positional(params, 0, 0);
        await this.refreshAccounts();
        return ok(this.accounts().map((a) => a.address));
      case 'eth_sign': {
        const [address, data] = positional(params, 2, 2);
        const account = await this.account(address);
        return ok((await this.client.signMessage(account.keyId, { raw: hexBytes(data, 'data') })).signature);
      }
      case 'personal_sign': {
        const [data, address] = positional(params, 2, 3);
        const account = await this.account(address);
        return ok((await this.client.signMessage(account.keyId, { raw: hexBytes(data, 'data') })).signature);
      }
      case 'eth_signTypedData':
      case 'eth_signTypedData_v4': {
        const [address, typedData] = positional(params, 2, 2);
        const account = await this.account(address);
        return ok((await this.client.signTypedData(account.keyId, typedDataParam(typedData))).signature);
      }
      case 'eth_signTransaction': {
        const [txParam] = positional(params, 1, 1);
        const req = parseTransactionRequest(txParam);
        const account = await this.account(req.from);
        const tx = await fillTransaction(req, { chainId: () => this.chainId(), upstream: this.upstream });
        return ok((await this.signChecked(account, tx)).raw);
      }
      case 'eth_sendTransaction': {
        const [txParam] = positional(params, 1, 1);
        const req = parseTransactionRequest(txParam);
        const account = await this.account(req.from);
        const upstream = this.upstream;
        if (upstream === undefined) throw new RpcError(RPC_CODES.METHOD_NOT_FOUND, 'eth_sendTransaction needs an upstream node (start zcp rpc with --upstream)', { code: 'NO_UPSTREAM' });
        const send = async (): Promise<unknown> => {
          const tx = await fillTransaction(req, { chainId: () => this.chainId(), upstream });
          const signed = await this.signChecked(account, tx);
          return upstream.call('eth_sendRawTransaction', [signed.raw]);
        };
        // Filling the nonce and sending are one step per account, so that concurrent sends get consecutive nonces.
        return ok(req.nonce === undefined ? await this.serialized(req.from, send) : await send());
      }
    }
    if (neverForwarded(method)) {
      throw new RpcError(RPC_CODES.METHOD_NOT_FOUND, `the method ${method} does not exist/is not available here: Sentinel signs with eth_sign, personal_sign, eth_signTypedData_v4, eth_signTransaction and eth_sendTransaction`, { code: 'METHOD_NOT_SUPPORTED' });
    }
    if (this.upstream === undefined) {
      throw new RpcError(RPC_CODES.METHOD_NOT_FOUND, `the method ${method} does not exist/is not available (no upstream node: start zcp rpc with --upstream)`, { code: 'NO_UPSTREAM' });
    }
    const forwarded = await this.upstream.forward(request);
    return { ...forwarded, id };
  }

  /** Signs, then checks the raw transaction is signed by the account (the SDK verified the receipt already). */
  private async signChecked(account: RpcAccount, tx: TransactionObject): Promise<{ raw: Hex; hash: string }> {
    const signed = await this.client.signTransaction(account.keyId, tx);
    const raw = signed.raw.startsWith('0x') ? (signed.raw as Hex) : (`0x${signed.raw}` as Hex);
    const signer = core.recoverEthereumTransactionSigner(Buffer.from(raw.slice(2), 'hex')).signer;
    if (signer.toLowerCase() !== account.address.toLowerCase()) {
      throw new RpcError(RPC_CODES.INTERNAL_ERROR, `the signed transaction recovers to ${signer}, not ${account.address}`, { code: 'SIGNER_MISMATCH' });
    }
    return { raw, hash: signed.hash };
  }

  private async serialized<T>(address: string, fn: () => Promise<T>): Promise<T> {
    const key = address.toLowerCase();
    const previous = this.sendLocks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.sendLocks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.sendLocks.get(key) === tail) this.sendLocks.delete(key);
    }
  }

  /** The key behind an address; re-reads the keys once when it is unknown. Unknown: 4100 unauthorized. */
  private async account(address: unknown): Promise<RpcAccount> {
    if (!isAddress(address)) throw invalidParams('expected a 20-byte account address');
    const lower = address.toLowerCase();
    let account = this.book.get(lower);
    if (account === undefined) {
      await this.refreshAccounts();
      account = this.book.get(lower);
    }
    if (account === undefined) {
      throw new RpcError(RPC_CODES.UNAUTHORIZED, `unauthorized: ${address} is not a key this principal holds in Sentinel`, { code: 'UNKNOWN_ACCOUNT', address });
    }
    return account;
  }
}

function errorResponse(id: JsonRpcId, error: JsonRpcErrorObject): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error };
}

function positional(params: unknown, min: number, max: number): unknown[] {
  const list = params === undefined ? [] : params;
  if (!Array.isArray(list)) throw invalidParams('params must be an array');
  if (list.length < min || list.length > max) {
    throw invalidParams(min === max ? `expected ${min} params, got ${list.length}` : `expected ${min} to ${max} params, got ${list.length}`);
  }
  return list;
}

function hexBytes(value: unknown, what: string): Hex {
  if (!isHexBytes(value)) throw invalidParams(`${what}: expected 0x-hex bytes`);
  return value.toLowerCase() as Hex;
}

/**
 * Typed data as JSON text or an object. A string is passed on unchanged when
 * it already declares EIP712Domain (its numbers keep their precision);
 * otherwise the domain type is derived from the domain's fields, in the
 * EIP-712 order, as wallets do.
 */
function typedDataParam(value: unknown): string | object {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw invalidParams('typed data: not JSON', 'INVALID_TYPED_DATA');
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidParams('typed data: expected an EIP-712 object { types, primaryType, domain, message } (eth_signTypedData v1 arrays are not supported)', 'INVALID_TYPED_DATA');
  }
  const td = parsed as { types?: unknown; domain?: unknown };
  if (td.types === null || typeof td.types !== 'object' || Array.isArray(td.types)) throw invalidParams('typed data: `types` must be an object', 'INVALID_TYPED_DATA');
  const types = td.types as Record<string, unknown>;
  if (types.EIP712Domain !== undefined) return value as string | object;
  const domain = (td.domain ?? {}) as Record<string, unknown>;
  if (domain === null || typeof domain !== 'object') throw invalidParams('typed data: `domain` must be an object', 'INVALID_TYPED_DATA');
  const EIP712Domain = DOMAIN_FIELDS.filter(([name]) => domain[name] !== undefined && domain[name] !== null).map(([name, type]) => ({ name, type }));
  return { ...(parsed as object), types: { EIP712Domain, ...types } };
}
