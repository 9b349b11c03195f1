/**
 * The Host allow-list (DNS rebinding protection): a web page that rebinds its
 * own name to 127.0.0.1 could otherwise drive the API from the user's
 * browser, but its requests still carry its own name in `Host`. Only loopback
 * names on the connection's own port and names the operator lists are served.
 */
import { SentinelError } from '../errors.ts';

export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?$/;

export interface HostPolicy {
  /** Names served on whichever port the connection arrived on. */
  names: Set<string>;
  /** Exact `name:port` pairs. */
  pairs: Set<string>;
}

export function hostPolicy(extra: string[]): HostPolicy {
  const policy: HostPolicy = { names: new Set(LOOPBACK_HOSTS), pairs: new Set() };
  for (const entry of extra) {
    const match = HOST_HEADER.exec(entry.trim().toLowerCase());
    if (!match) throw new SentinelError('INVALID_ARGUMENT', `allowed host ${JSON.stringify(entry)}: expected NAME, IP, [IPv6] or NAME:PORT`);
    if (match[2] === undefined) policy.names.add(match[1]!);
    else policy.pairs.add(`${match[1]!}:${Number(match[2])}`);
  }
  return policy;
}

/** Throws INVALID_ARGUMENT for an allowedHosts entry buildApp would refuse. */
export function checkAllowedHosts(entries: string[]): void {
  hostPolicy(entries);
}

/**
 * Whether a Host header names this API. `port` is the local port of the
 * connection; undefined (inject(), no socket) means the port is not compared.
 * A Host without a port means port 80, as in HTTP.
 */
export function isHostAllowed(host: string | undefined, port: number | undefined, extra: string[] = []): boolean {
  return hostAllowed(host, port, hostPolicy(extra));
}

export function hostAllowed(host: string | undefined, port: number | undefined, policy: HostPolicy): boolean {
  if (host === undefined) return false;
  const match = HOST_HEADER.exec(host.toLowerCase());
  if (!match) return false;
  const name = match[1]!;
  const hostPort = match[2] === undefined ? 80 : Number(match[2]);
  if (policy.pairs.has(`${name}:${hostPort}`)) return true;
  return policy.names.has(name) && (port === undefined || port === hostPort);
}
