// A signature over an attested session from Node, through the native
// `SessionClient` of the N-API binding (bindings/node/src/session_client.rs:
// blocking Unix socket, Noise NK session and frames in Rust, one synchronous
// call per request), next to in-process signing in the same run.
//
// Starts the local enclave program (target/release/sentinel-enclave, feature set
// simulator, built by scripts/build.sh) with a development configuration made by
// the binding (`generateCredential`, `developmentConfiguration`), reads the
// session key and attestation hash (`SessionClient.fetchEvidence`, unverified:
// local mode), resumes it (it boots halted: a signed resume by the development
// admin, as `zcp up` does), opens a session as `dev-client`, creates a raw secp256k1 key in
// it and times `signDigest` over 256 digests, twice: the enclave with default
// scheduling and the enclave with `--busy-poll` (client spinning too).
//
// Baselines, same process, same digests:
//   in-process sign         = N-API `signDigest(localSecret, digest)` (the bare signature);
//   in-process sign+verify  = N-API `signDigest` then `verifyDigest` of the result: the work
//                             `Enclave::decide` does for a sign_digest (the enclave verifies every
//                             signature before releasing it), i.e. the decision without the session.
// Target: session signDigest p50 <= 1.6x in-process sign p50. Exit code 0 either way.
//   node bench/session-rtt.mjs [--quick] [--json]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const QUICK = process.argv.includes('--quick');
const JSON_OUT = process.argv.includes('--json');
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? (QUICK ? 2000 : 20000));
const ENCLAVE = path.join(ROOT, 'target/release/sentinel-enclave');
const log = (...a) => console.error(...a);

const core = require(path.join(ROOT, 'bindings/node'));
if (typeof core.SessionClient !== 'function') {
  throw new Error('bindings/node has no SessionClient: rebuild it (cd bindings/node && npx napi build --platform --release --js index.js --dts index.d.ts)');
}
if (!existsSync(ENCLAVE)) throw new Error(`${ENCLAVE} is missing: run scripts/build.sh`);

function pct(samples) {
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.round((samples.length - 1) * q)] / 1000;
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999) };
}

function measure(op) {
  for (let i = 0; i < ITERATIONS / 10; i++) op(i);
  const samples = new Array(ITERATIONS);
  for (let i = 0; i < ITERATIONS; i++) {
    const t = process.hrtime.bigint();
    op(i);
    samples[i] = Number(process.hrtime.bigint() - t);
  }
  return pct(samples);
}

/** Starts the enclave and resolves once it printed its `ready` line. */
function startEnclave(dir, configFile, busyPoll) {
  const socketPath = path.join(dir, busyPoll ? 'busy.sock' : 'enclave.sock');
  const args = ['--unix-socket', socketPath, '--nsm', 'simulator', '--data-dir', path.join(dir, 'data'), '--config', configFile, '--policy', policyFile];
  if (busyPoll) args.push('--busy-poll');
  // The enclave's log goes to stderr: kept, and shown only if it fails to start.
  const child = spawn(ENCLAVE, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let errors = '';
  child.stderr.on('data', (chunk) => { errors += chunk; });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('exit', (code) => reject(new Error(`sentinel-enclave exited with ${code} before it was ready:\n${errors}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('"ready"')) {
        child.removeAllListeners('exit');
        resolve({ socketPath, stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }) });
      }
    });
  });
}

/**
 * The enclave boots halted (kill switch Red, docs/oversight.md): resume it as `zcp up` does, with a `resume`
 * (scope global, level green) over a fresh challenge, signed by the development admin (the development
 * configuration's only overseer), sent as frames through the binding's codec.
 */
async function resume(socketPath, adminCredential) {
  const socket = net.connect(socketPath);
  await once(socket, 'connect');
  const decoder = new core.FrameDecoder();
  const waiting = new Map();
  socket.on('data', (chunk) => {
    decoder.push(chunk);
    for (let body = decoder.next(); body !== null; body = decoder.next()) {
      const answer = core.decodeResponse(body);
      waiting.get(answer.id)?.(answer);
    }
  });
  const ask = (id, request, expected) =>
    new Promise((resolve, reject) => {
      waiting.set(id, (answer) => (answer.type === expected ? resolve(answer) : reject(new Error(`${request.op}: ${JSON.stringify(answer)}`))));
      socket.write(core.encodeRequest(id, request));
    });
  try {
    const { challenge } = await ask(1, { op: 'oversight_challenge' }, 'oversight_challenge');
    const built = core.oversightCommand(
      JSON.stringify({
        action: 'resume',
        scope: 'global',
        level: 'green',
        challenge: `0x${Buffer.from(challenge).toString('hex')}`,
        timestamp_us: Date.now() * 1000,
        nonce: `0x${randomBytes(16).toString('hex')}`,
      }),
    );
    await ask(2, { op: 'oversight', command: built.command, signatures: [core.oversightSign(built.command, adminCredential)] }, 'oversight_status');
  } finally {
    socket.destroy();
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'sentinel-session-rtt-'));
const admin = core.generateCredential('admin', 'dev-admin', 'ed25519');
const client = core.generateCredential('client', 'dev-client', 'ed25519');
const configFile = path.join(dir, 'config.signed');
writeFileSync(configFile, core.developmentConfiguration(admin, client), { mode: 0o600 });
// Signing needs a policy: the development one (a single always-open time window), as `zcp up` installs.
const policyFile = path.join(dir, 'policy.json');
writeFileSync(policyFile, core.policyDevelopmentSigned(admin));

const digests = Array.from({ length: 256 }, (_, i) => Buffer.alloc(32, i));
const secret = Buffer.alloc(32, 0x42);
const results = {};
try {
  for (const busyPoll of [false, true]) {
    const label = busyPoll ? 'busy-poll (enclave --busy-poll, client spinning)' : 'default scheduling';
    if (busyPoll && os.availableParallelism() < 2) {
      log(`[bench] ${label}: skipped, one core (two spinners need two)`);
      continue;
    }
    const enclave = await startEnclave(dir, configFile, busyPoll);
    let session;
    try {
      await resume(enclave.socketPath, admin);
      const evidence = core.SessionClient.fetchEvidence(enclave.socketPath);
      session = core.SessionClient.connect(enclave.socketPath, {
        sessionKey: evidence.sessionKey,
        attestationHash: evidence.attestationHash,
        credential: client,
        busyPoll,
      });
      const created = session.call({ op: 'generate_key', curve: 'secp256k1', purpose: 'raw', label: 'bench' }, false);
      if (created.answer.type !== 'key_generated') throw new Error(`generate_key: ${JSON.stringify(created.answer)}`);
      const keyId = created.answer.key_id;
      const publicKey = created.answer.public_key;
      // Sanity: the session signature verifies under the key the enclave returned.
      const probe = session.signDigest(keyId, digests[7]);
      if (!core.verifyDigest(publicKey, digests[7], probe.signature, { lowS: true })) throw new Error('session signature does not verify');
      const receipted = session.call({ op: 'sign_digest', key_id: keyId, digest: digests[8] }, true);
      if (!(receipted.receipt && receipted.receipt.length > 0)) throw new Error('no receipt when asked');

      const sessionSign = measure((i) => session.signDigest(keyId, digests[i & 255]));
      const inProcessSign = measure((i) => core.signDigest(secret, digests[i & 255]));
      const localPublic = core.publicKeyFromSecret(secret, true);
      const inProcessSignVerify = measure((i) => {
        const s = core.signDigest(secret, digests[i & 255]);
        if (!core.verifyDigest(localPublic, digests[i & 255], s.signature, { lowS: true })) throw new Error('verify');
      });
      const ratioSign = sessionSign.p50 / inProcessSign.p50;
      const ratioDecide = sessionSign.p50 / inProcessSignVerify.p50;
      results[busyPoll ? 'busy_poll' : 'scheduled'] = { sessionSign, inProcessSign, inProcessSignVerify, ratioSign, ratioDecide };
      console.log(`\n== ${label}: Node -> N-API SessionClient -> enclave, ${ITERATIONS} sequential requests (µs)`);
      console.log(`${''.padEnd(50)} ${'p50'.padStart(9)} ${'p99'.padStart(9)} ${'p99.9'.padStart(9)}`);
      for (const [name, r] of [
        ['session signDigest (no receipt)', sessionSign],
        ['in process: N-API signDigest', inProcessSign],
        ['in process: N-API signDigest + verifyDigest', inProcessSignVerify],
      ]) {
        console.log(`${name.padEnd(50)} ${r.p50.toFixed(2).padStart(9)} ${r.p99.toFixed(2).padStart(9)} ${r.p999.toFixed(2).padStart(9)}`);
      }
      console.log(`session p50 / in-process sign p50 = ${ratioSign.toFixed(2)}x (target <= 1.60x): ${ratioSign <= 1.6 ? 'PASS' : 'FAIL'}`);
      console.log(`session p50 / in-process sign+verify p50 (the decide work) = ${ratioDecide.toFixed(2)}x (information)`);
    } finally {
      session?.close();
      await enclave.stop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (JSON_OUT) console.log(JSON.stringify(results));
