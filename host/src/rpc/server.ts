/**
 * The HTTP side of `zcp rpc`: JSON-RPC 2.0 over POST, single or batched.
 *
 * This process holds the caller's credential, so anything that can reach its
 * port can sign with the principal's keys. It therefore listens on loopback
 * by default and refuses what a web page could send it: a Host header other
 * than the loopback names on its own port (DNS rebinding), any request with
 * an `Origin` header (browsers add one; node clients such as ethers and viem
 * do not; no CORS headers are ever sent), and any content type other than
 * JSON (a form or text/plain POST needs no CORS preflight). Bodies are
 * limited in size and batches in length. JSON-RPC errors are answered with
 * HTTP 200, as nodes do, because ethers and viem drop the error object of a
 * non-2xx answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { hostAllowed, hostPolicy } from '../api/host-allowlist.ts';
import { RPC_CODES } from './errors.ts';
import type { RpcHandler } from './handler.ts';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface RpcServerOptions {
  handler: RpcHandler;
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Host header values served besides the loopback names (as `zcp up --allowed-host`). */
  allowedHosts?: string[];
}

export interface RpcServer {
  server: Server;
  /** Binds and resolves to the URL it serves, e.g. http://127.0.0.1:8545. */
  listen(host: string, port: number): Promise<string>;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function httpError(res: ServerResponse, status: number, code: number, message: string, sentinelCode: string, headers: Record<string, string> = {}): void {
  send(res, status, { jsonrpc: '2.0', id: null, error: { code, message, data: { code: sentinelCode } } }, headers);
}

/** 413, then the connection is closed once the answer is out (the rest of the body is not read). */
function tooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  res.on('finish', () => req.socket.destroy());
  httpError(res, 413, RPC_CODES.INVALID_REQUEST, `request body larger than ${limit} bytes`, 'PAYLOAD_TOO_LARGE', { connection: 'close' });
}

/** The body, or undefined once it exceeds `limit` (reading stops there). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  return mime === 'application/json' || mime === 'application/json-rpc';
}

export function createRpcServer(options: RpcServerOptions): RpcServer {
  const limit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const hosts = hostPolicy(options.allowedHosts ?? []);
  const handler = options.handler;

  const server = createServer({ requestTimeout: 120_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, (req, res) => {
    void serve(req, res).catch(() => {
      if (!res.headersSent) httpError(res, 500, RPC_CODES.INTERNAL_ERROR, 'internal error', 'INTERNAL');
      else res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const port = (req.socket as Socket).localPort;
    if (!hostAllowed(req.headers.host, port, hosts)) {
      req.resume();
      return httpError(res, 421, RPC_CODES.INVALID_REQUEST, `Host ${JSON.stringify(req.headers.host ?? '')} is not served here (DNS rebinding protection)`, 'HOST_NOT_ALLOWED');
    }
    if (req.headers.origin !== undefined) {
      req.resume();
      return httpError(res, 403, RPC_CODES.INVALID_REQUEST, 'requests from web pages (with an Origin header) are not served', 'ORIGIN_NOT_ALLOWED');
    }
    if (req.method !== 'POST') {
      req.resume();
      return httpError(res, 405, RPC_CODES.INVALID_REQUEST, 'JSON-RPC requests are POSTed', 'METHOD_NOT_ALLOWED', { allow: 'POST' });
    }
    if (!isJson(req.headers['content-type'])) {
      req.resume();
      return httpError(res, 415, RPC_CODES.INVALID_REQUEST, 'Content-Type must be application/json', 'UNSUPPORTED_MEDIA_TYPE');
    }
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) return tooLarge(req, res, limit);
    const body = await readBody(req, limit);
    if (body === undefined) return tooLarge(req, res, limit);
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      return send(res, 200, { jsonrpc: '2.0', id: null, error: { code: RPC_CODES.PARSE_ERROR, message: 'parse error: the body is not JSON' } });
    }
    const answer = await handler.handle(payload);
    if (answer === undefined) return send(res, 204, undefined);
    send(res, 200, answer);
  }

  return {
    server,
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address() as AddressInfo;
          const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          resolve(`http://${h}:${addr.port}`);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
