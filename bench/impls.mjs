// The four secp256k1 implementations under test behind one interface, so the
// runner times identical calls and the sanity check compares like with like.
//
// Each implementation has:
//   sign(secretKey, digest)            the library's own call, result untouched (this is what is timed)
//   toSig(result) -> { signature, recoveryId }   64-byte r||s + recovery id, for the sanity check only
//   verify(publicKey, digest, sig64)   the library's own low-S verify -> boolean (timed)
//   publicKey(secretKey)               33-byte compressed SEC1 key
//
// Loading is strict: a missing build or a silent fallback must abort the run,
// never produce numbers for the wrong code.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function load(what, fn, hint) {
  try {
    return fn();
  } catch (err) {
    throw new Error(`cannot load ${what}: ${err.message}\n  ${hint}`);
  }
}

const BUILD_HINT = 'build the bindings first: bash scripts/build.sh (or npm run bench from the repo root)';
const LOW_S = Object.freeze({ lowS: true });
const INTO = Buffer.alloc(64);

export async function loadImplementations() {
  const napi = load('@sentinel/node (N-API addon)', () => require('@sentinel/node'), BUILD_HINT);
  const wasm = load('@sentinel/wasm (Node build in bindings/wasm/pkg)', () => require('@sentinel/wasm'), BUILD_HINT);
  // secp256k1's index.js swallows a native load failure and returns its pure-JS
  // `elliptic` fallback; `secp256k1/bindings` is the native addon or an error.
  const npmSecp = load(
    'secp256k1/bindings (native addon of the npm secp256k1 package)',
    () => require('secp256k1/bindings'),
    'the prebuilt addon did not load; without it we would be timing the pure-JS fallback',
  );
  const { secp256k1: noble } = await import('@noble/curves/secp256k1.js');

  return [
    {
      name: 'sentinel N-API',
      key: 'napi',
      sign: (sk, d) => napi.signDigest(sk, d),
      toSig: (r) => ({ signature: new Uint8Array(r.signature), recoveryId: r.recoveryId }),
      verify: (pk, d, sig) => napi.verifyDigest(pk, d, sig, LOW_S),
      publicKey: (sk) => new Uint8Array(napi.publicKeyFromSecret(sk, true)),
    },
    {
      // The zero-allocation variant for latency-critical callers: the caller owns the output buffer.
      name: 'sentinel N-API signDigestInto',
      key: 'napiInto',
      sign: (sk, d) => napi.signDigestInto(sk, d, INTO),
      toSig: (recoveryId) => ({ signature: new Uint8Array(INTO), recoveryId }),
      verify: (pk, d, sig) => napi.verifyDigest(pk, d, sig, LOW_S),
      publicKey: (sk) => new Uint8Array(napi.publicKeyFromSecret(sk, true)),
    },
    {
      name: 'sentinel WASM',
      key: 'wasm',
      sign: (sk, d) => wasm.signDigest(sk, d),
      toSig: (r) => ({ signature: new Uint8Array(r.signature), recoveryId: r.recoveryId }),
      verify: (pk, d, sig) => wasm.verifyDigest(pk, d, sig, LOW_S),
      publicKey: (sk) => new Uint8Array(wasm.publicKeyFromSecret(sk, true)),
    },
    {
      name: 'npm secp256k1 (native)',
      key: 'npmSecp256k1',
      sign: (sk, d) => npmSecp.ecdsaSign(d, sk), // libsecp256k1 default nonce = RFC 6979; output is low-S
      toSig: (r) => ({ signature: new Uint8Array(r.signature), recoveryId: r.recid }),
      verify: (pk, d, sig) => npmSecp.ecdsaVerify(sig, d, pk), // rejects high-S like ours
      publicKey: (sk) => npmSecp.publicKeyCreate(sk, true),
    },
    {
      name: '@noble/curves',
      key: 'noble',
      // prehash: false = sign the 32 bytes as a digest; lowS defaults to true, extraEntropy to false.
      sign: (sk, d) => noble.sign(d, sk, { prehash: false }),
      toSig: (r) => ({ signature: r, recoveryId: undefined }),
      verify: (pk, d, sig) => noble.verify(sig, d, pk, { prehash: false, lowS: true }),
      publicKey: (sk) => noble.getPublicKey(sk, true),
      // Only for the sanity check: noble's 'recovered' format is recid || r || s.
      recoveryId: (sk, d) => noble.sign(d, sk, { prehash: false, format: 'recovered' })[0],
    },
  ];
}
