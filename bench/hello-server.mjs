// The baseline of bench/api-load.mjs: the smallest fastify server there is,
// `GET /` -> `{"hello":"world"}`, with the same fastify the API uses (resolved
// from the host package) and its logger off, in its own process on loopback.
// Its latency under the same load generator is what "the HTTP layer alone"
// costs on this machine; the sign route's overhead is judged against it.
// Prints one JSON line `{"url": "http://127.0.0.1:PORT"}` on stdout once
// listening; stops on SIGTERM/SIGINT.
//   node bench/hello-server.mjs [--port N]
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The API's fastify, not whatever a bench dependency might pull in.
const requireFromHost = createRequire(path.join(ROOT, 'host/package.json'));
const Fastify = requireFromHost('fastify');

const portFlag = process.argv.indexOf('--port');
const port = portFlag > 0 ? Number(process.argv[portFlag + 1]) : 0;

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));

const address = await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ url: address, fastify: app.version, pid: process.pid })}\n`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0), () => process.exit(1));
  });
}
