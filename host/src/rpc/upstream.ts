/**
 * The Ethereum node `zcp rpc` stands in front of. It is trusted for chain
 * state only (nonces, gas, fees, the chain id, everything it is forwarded); it
 * never sees a key or a credential, and a node that lies can at worst make a
 * transaction fail or overpay, exactly as with any wallet. Errors it answers
 * pass through unchanged, so ethers and viem recognise "insufficient funds",
 * "nonce too low" or a revert as they would from the node itself; a node that
 * cannot be reached becomes one JSON-RPC error with code UPSTREAM_UNAVAILABLE.
 */
import { RPC_CODES, RpcError, type JsonRpcErrorObject } from './errors.ts';

export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: unknown;
  error?: JsonRpcErrorObject;
}

export interface UpstreamOptions {
  /** Per call, milliseconds (default 30 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The node URL with any credentials, path or query (API keys live there) left out, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const hidden = u.username !== '' || u.password !== '' || (u.pathname !== '/' && u.pathname !== '') || u.search !== '';
    return `${u.protocol}//${u.host}${hidden ? '/…' : ''}`;
  } catch {
    return '<invalid url>';
  }
}

export class Upstream {
  readonly url: string;
  private readonly target: string;
  private readonly authorization?: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private nextId = 1;

  constructor(url: string, options: UpstreamOptions = {}) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TypeError(`upstream ${redactUrl(url)}: only http:// and https:// node URLs are supported`);
    }
    this.url = url;
    // fetch refuses URLs with credentials: send them as Basic authorization instead.
    if (parsed.username !== '' || parsed.password !== '') {
      this.authorization = `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
      parsed.username = '';
      parsed.password = '';
    }
    this.target = parsed.toString();
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetchFn = options.fetch ?? fetch;
  }

  /** Sends one JSON-RPC request object as is and returns the node's response object. */
  async forward(request: { id?: unknown; method: string; params?: unknown; jsonrpc?: unknown }): Promise<JsonRpcResponse> {
    let response: Response;
    try {
      response = await this.fetchFn(this.target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(this.authorization !== undefined ? { authorization: this.authorization } : {}),
        },
        body: JSON.stringify(request),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw unavailable(`${redactUrl(this.url)} unreachable: ${(e as Error).message}`);
    }
    const text = await response.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw unavailable(`${redactUrl(this.url)} answered HTTP ${response.status} without a JSON-RPC response`);
    }
    const obj = parsed as Partial<JsonRpcResponse> | null;
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || (!('result' in obj) && typeof obj.error !== 'object')) {
      throw unavailable(`${redactUrl(this.url)} answered HTTP ${response.status} with something other than a JSON-RPC response`);
    }
    return { jsonrpc: '2.0', id: (request.id ?? null) as JsonRpcResponse['id'], ...(obj.error ? { error: obj.error } : { result: obj.result }) };
  }

  /** Calls a method for the server's own use; the node's error object becomes an RpcError unchanged. */
  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const response = await this.forward({ jsonrpc: '2.0', id: this.nextId++, method, params });
    if (response.error) {
      const err = response.error;
      throw new RpcError(typeof err.code === 'number' ? err.code : RPC_CODES.INTERNAL_ERROR, String(err.message ?? 'upstream error'), err.data);
    }
    return response.result as T;
  }
}

function unavailable(message: string): RpcError {
  return new RpcError(RPC_CODES.INTERNAL_ERROR, `upstream unavailable: ${message}`, { code: 'UPSTREAM_UNAVAILABLE' });
}
