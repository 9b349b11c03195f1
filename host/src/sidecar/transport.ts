/**
 * How the sidecar reaches the enclave: a factory returning a fresh stream.
 *
 * The client only needs a duplex byte stream, so a vsock transport (production,
 * from the parent instance) plugs in here without touching the client; locally
 * the enclave listens on a Unix socket.
 */
import { connect, type Socket } from 'node:net';

/** Opens a new connection; called again on every reconnect. */
export type Transport = () => Socket;

export function unixTransport(path: string): Transport {
  return () => connect({ path });
}
