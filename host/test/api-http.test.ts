/**
 * The API's HTTP defaults, independent of the enclave: the Host allow-list
 * (DNS rebinding) and the timeouts that close slow or idle connections.
 */
import { connect, type Socket } from 'node:net';

import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';

import { buildApp, DEFAULT_HTTP_TIMEOUTS, type AppDeps } from '../src/api/app.ts';
import { isHostAllowed } from '../src/api/host-allowlist.ts';
import { httpStatusFor } from '../src/api/errors.ts';
import { fakeEnclave } from './helpers.ts';

/** Answers `describe` like an enclave would, enough for GET /v1/health. */
const describingEnclave = fakeEnclave(() => ({
  id: 1,
  type: 'description',
  protocol_version: 1,
  module_id: 'fake',
  attested_keys: Buffer.alloc(97),
  pcrs: [Buffer.alloc(48, 1)],
  sealing: 'development',
}));

const apps: FastifyInstance[] = [];
function app(extra: Partial<AppDeps> = {}): FastifyInstance {
  const built = buildApp({ enclave: describingEnclave, ...extra });
  apps.push(built);
  return built;
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

describe('Host allow-list (DNS rebinding)', () => {
  it('serves the loopback names and refuses any other Host with 421 HOST_NOT_ALLOWED', async () => {
    const api = app();
    for (const host of ['127.0.0.1:8787', 'localhost:8787', '[::1]:8787', 'LOCALHOST:8787', 'localhost']) {
      const res = await api.inject({ method: 'GET', url: '/v1/health', headers: { host } });
      expect(res.statusCode, host).toBe(200);
    }
    for (const host of ['evil.example:8787', 'evil.example', '127.0.0.1.evil.example:8787', 'localhost.:8787', '10.0.0.5:8787', 'a b']) {
      const res = await api.inject({ method: 'GET', url: '/v1/health', headers: { host } });
      expect(res.statusCode, host).toBe(421);
      expect(res.json().error.code, host).toBe('HOST_NOT_ALLOWED');
    }
    expect(httpStatusFor('HOST_NOT_ALLOWED')).toBe(421);
  });

  it('checks the Host before validation and routing', async () => {
    const api = app();
    const bad = await api.inject({ method: 'POST', url: '/v1/stamped', payload: { body: 'nope' }, headers: { host: 'evil.example' } });
    expect(bad.statusCode).toBe(421);
    const missing = await api.inject({ method: 'GET', url: '/v1/nope', headers: { host: 'evil.example' } });
    expect(missing.statusCode).toBe(421);
    expect(missing.json().error.code).toBe('HOST_NOT_ALLOWED');
  });

  it('serves configured names: NAME on the connection port, NAME:PORT exactly', async () => {
    const api = app({ allowedHosts: ['signer.internal', '10.0.0.5:9000', '[fd00::1]'] });
    for (const host of ['signer.internal:8787', 'SIGNER.internal', '10.0.0.5:9000', '[fd00::1]:8787']) {
      expect((await api.inject({ method: 'GET', url: '/v1/health', headers: { host } })).statusCode, host).toBe(200);
    }
    for (const host of ['10.0.0.5:8787', 'other.internal:8787']) {
      expect((await api.inject({ method: 'GET', url: '/v1/health', headers: { host } })).statusCode, host).toBe(421);
    }
    expect(() => app({ allowedHosts: ['http://x'] })).toThrow(/allowed host/);
  });

  it('compares the port with the connection port', () => {
    expect(isHostAllowed('127.0.0.1:8787', 8787)).toBe(true);
    expect(isHostAllowed('127.0.0.1:8788', 8787)).toBe(false);
    expect(isHostAllowed('localhost', 80)).toBe(true);
    expect(isHostAllowed('localhost', 8787)).toBe(false);
    expect(isHostAllowed(undefined, 8787)).toBe(false);
    expect(isHostAllowed('x.example:8787', 8787, ['x.example'])).toBe(true);
    expect(isHostAllowed('x.example:8787', 8787, ['x.example:9000'])).toBe(false);
  });

  it('on a real socket: the listening port must match', async () => {
    const api = app();
    const address = await api.listen({ port: 0, host: '127.0.0.1' });
    const port = Number(new URL(address).port);
    const ok = await rawRequest(port, `GET /v1/health HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`);
    expect(ok).toMatch(/^HTTP\/1\.1 200 /);
    const wrongPort = await rawRequest(port, `GET /v1/health HTTP/1.1\r\nHost: localhost:${port + 1}\r\nConnection: close\r\n\r\n`);
    expect(wrongPort).toMatch(/^HTTP\/1\.1 421 /);
    expect(wrongPort).toContain('HOST_NOT_ALLOWED');
    const rebound = await rawRequest(port, `GET /v1/health HTTP/1.1\r\nHost: attacker.example:${port}\r\nConnection: close\r\n\r\n`);
    expect(rebound).toMatch(/^HTTP\/1\.1 421 /);
  });
});

describe('HTTP timeouts', () => {
  it('applies the defaults to the server', () => {
    const { server } = app();
    expect(server.requestTimeout).toBe(DEFAULT_HTTP_TIMEOUTS.requestTimeoutMs);
    expect(server.headersTimeout).toBe(DEFAULT_HTTP_TIMEOUTS.headersTimeoutMs);
    expect(server.keepAliveTimeout).toBe(DEFAULT_HTTP_TIMEOUTS.keepAliveTimeoutMs);
    expect(server.timeout).toBe(DEFAULT_HTTP_TIMEOUTS.connectionTimeoutMs);
    expect(DEFAULT_HTTP_TIMEOUTS.connectionTimeoutMs).toBeGreaterThan(10_000); // longer than the default enclave timeout
  });

  it('takes overrides from buildApp(deps)', () => {
    const { server } = app({ timeouts: { connectionTimeoutMs: 1234, requestTimeoutMs: 2000, headersTimeoutMs: 5000, keepAliveTimeoutMs: 700 } });
    expect(server.timeout).toBe(1234);
    expect(server.requestTimeout).toBe(2000);
    expect(server.headersTimeout).toBe(2000); // capped at the request timeout
    expect(server.keepAliveTimeout).toBe(700);
  });

  it('closes a connection that sends nothing (idle timeout)', async () => {
    const api = app({ timeouts: { connectionTimeoutMs: 300 } });
    const port = await listen(api);
    const socket = connect(port, '127.0.0.1');
    const started = Date.now();
    await closed(socket);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('slow loris: headers trickled one byte at a time get 408 REQUEST_TIMEOUT and the connection is closed', async () => {
    // The idle timeout alone would never fire: a byte arrives every 50 ms.
    const api = app({ timeouts: { connectionTimeoutMs: 5_000, requestTimeoutMs: 400, headersTimeoutMs: 400, checkIntervalMs: 100 } });
    const port = await listen(api);
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const request = `GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`;
    let i = 0;
    const timer = setInterval(() => {
      if (!socket.destroyed && i < request.length) socket.write(request[i++]!);
    }, 50);
    const started = Date.now();
    try {
      await closed(socket);
    } finally {
      clearInterval(timer);
    }
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(i).toBeLessThan(request.length);
    const response = Buffer.concat(received).toString();
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(response).toContain('"code":"REQUEST_TIMEOUT"');
  });

  it('slow body: a body that does not arrive within the request timeout gets 408', async () => {
    const api = app({ timeouts: { connectionTimeoutMs: 5_000, requestTimeoutMs: 400, headersTimeoutMs: 400, checkIntervalMs: 100 } });
    const port = await listen(api);
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.write(`POST /v1/stamped HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
    const timer = setInterval(() => {
      if (!socket.destroyed) socket.write(' ');
    }, 50);
    try {
      await closed(socket);
    } finally {
      clearInterval(timer);
    }
    expect(Buffer.concat(received).toString()).toMatch(/^HTTP\/1\.1 408 /);
  });
});

async function listen(api: FastifyInstance): Promise<number> {
  const address = await api.listen({ port: 0, host: '127.0.0.1' });
  return Number(new URL(address).port);
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error('the server kept the connection open')), 5_000);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(guard);
      resolve();
    });
  });
}

function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}

describe('HTTP errors before a request exists', () => {
  it('oversized headers get 431 HEADERS_TOO_LARGE and malformed requests 400 INVALID_ARGUMENT, in the API error format', async () => {
    const api = app();
    const port = await listen(api);
    const big = await rawRequest(port, `GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(big).toContain('"code":"HEADERS_TOO_LARGE"');
    const garbage = await rawRequest(port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(garbage).toContain('"code":"INVALID_ARGUMENT"');
  });
});
