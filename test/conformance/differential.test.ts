/**
 * Differential testing against @noble/curves 2.x (an independent, audited
 * secp256k1 with RFC 6979 and low-S by default): 500 seeded random
 * (secret key, digest) pairs must give identical r||s and recovery id, each
 * side must verify the other's signatures, public keys must match, and
 * verification verdicts on mutated signatures must agree.
 *
 * The seed is printed; rerun a failure with SENTINEL_TEST_SEED=<seed>.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { attempt, bigToBytes, flipS, hex, N, SeededRng, testSeed } from './helpers.ts';
import { implementations } from './impls.ts';

const PAIRS = 500;
const seed = testSeed();
console.log(`[differential] seed ${seed} (set SENTINEL_TEST_SEED=${seed} to reproduce)`);

/** Edge-case digests tried first, then random ones. */
const EDGE_DIGESTS = [new Uint8Array(32), new Uint8Array(32).fill(0xff), bigToBytes(N), bigToBytes(N - 1n), bigToBytes(N + 1n), bigToBytes(1n)];

function nobleVerify(sig: Uint8Array, digest: Uint8Array, pk: Uint8Array, lowS: boolean): boolean {
  try {
    return secp256k1.verify(sig, digest, pk, { prehash: false, lowS });
  } catch {
    return false;
  }
}

describe.each(implementations)('differential vs @noble/curves [$name]', ({ name, core }) => {
  it(`${PAIRS} random (secret key, digest) pairs: same signature, recovery id and public keys; mutual verification (seed ${seed})`, () => {
    const rng = new SeededRng(seed, 'differential-sign');
    const failures: string[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const sk = i === 0 ? bigToBytes(1n) : i === 1 ? bigToBytes(N - 1n) : rng.secretKey();
      const digest = i < EDGE_DIGESTS.length ? EDGE_DIGESTS[i]! : rng.bytes(32);
      const where = `[${name}] seed ${seed} #${i} sk=${hex(sk)} digest=${hex(digest)}`;

      const ours = core.signDigest(sk, digest);
      const noble = secp256k1.sign(digest, sk, { prehash: false, format: 'recovered' });
      const nobleRecid = noble[0]!;
      const nobleCompact = noble.subarray(1);
      if (hex(ours.signature) !== hex(nobleCompact)) failures.push(`${where}: signature ${hex(ours.signature)} vs noble ${hex(nobleCompact)}`);
      if (ours.recoveryId !== nobleRecid) failures.push(`${where}: recovery id ${ours.recoveryId} vs noble ${nobleRecid}`);

      const pkC = core.publicKeyFromSecret(sk, true);
      const pkU = core.publicKeyFromSecret(sk, false);
      const noblePkC = secp256k1.getPublicKey(sk, true);
      const noblePkU = secp256k1.getPublicKey(sk, false);
      if (hex(pkC) !== hex(noblePkC)) failures.push(`${where}: compressed public key ${hex(pkC)} vs noble ${hex(noblePkC)}`);
      if (hex(pkU) !== hex(noblePkU)) failures.push(`${where}: uncompressed public key ${hex(pkU)} vs noble ${hex(noblePkU)}`);

      if (!nobleVerify(ours.signature, digest, noblePkC, true)) failures.push(`${where}: noble rejects our signature`);
      if (!core.verifyDigest(noblePkC, digest, nobleCompact)) failures.push(`${where}: we reject noble's signature (compressed key)`);
      if (!core.verifyDigest(noblePkU, digest, nobleCompact, { lowS: true })) failures.push(`${where}: we reject noble's signature (uncompressed key)`);

      const recovered = attempt(() => core.recoverPublicKey(digest, nobleCompact, nobleRecid, false));
      if (recovered.threw || hex(recovered.value!) !== hex(noblePkU)) {
        failures.push(`${where}: recoverPublicKey(noble sig, noble recid) = ${recovered.threw ? recovered.code : hex(recovered.value!)}`);
      }
      const nobleRecovered = secp256k1.recoverPublicKey(
        new Uint8Array([ours.recoveryId, ...ours.signature]),
        digest,
        { prehash: false },
      );
      if (hex(nobleRecovered) !== hex(pkC)) failures.push(`${where}: noble recovers ${hex(nobleRecovered)} from our signature`);
    }
    expect(failures.length, `${failures.length} failures (seed ${seed}):\n${failures.slice(0, 10).join('\n')}`).toBe(0);
  });

  it(`verification verdicts agree with noble on 300 mutated signatures, strict and plain (seed ${seed})`, () => {
    const rng = new SeededRng(seed, 'differential-verify');
    const failures: string[] = [];
    let trueVerdicts = 0;
    for (let i = 0; i < 300; i++) {
      const sk = rng.secretKey();
      const digest = rng.bytes(32);
      const pk = secp256k1.getPublicKey(sk, true);
      const good = secp256k1.sign(digest, sk, { prehash: false });
      let sig: Uint8Array;
      switch (i % 5) {
        case 0:
          sig = good; // valid low-S
          break;
        case 1:
          sig = flipS(good); // valid high-S: strict false, plain true
          break;
        case 2: {
          sig = Uint8Array.from(good);
          const bit = rng.int(512);
          sig[bit >> 3]! ^= 1 << (bit & 7);
          break;
        }
        case 3:
          sig = rng.bytes(64); // random r, s (possibly >= n)
          break;
        default:
          sig = good;
          digest[rng.int(32)]! ^= 1 << rng.int(8); // wrong digest
      }
      for (const lowS of [true, false]) {
        const ours = attempt(() => core.verifyDigest(pk, digest, sig, { lowS }));
        const theirs = nobleVerify(sig, digest, pk, lowS);
        if (ours.threw || ours.value !== theirs) {
          failures.push(
            `seed ${seed} #${i} lowS=${lowS} pk=${hex(pk)} digest=${hex(digest)} sig=${hex(sig)}: ours ${ours.threw ? ours.code : ours.value}, noble ${theirs}`,
          );
        }
        if (theirs) trueVerdicts++;
      }
    }
    expect(failures.length, failures.slice(0, 10).join('\n')).toBe(0);
    // 60 valid low-S (x2) + 60 high-S (plain only) at least; a broken loop would give 0.
    expect(trueVerdicts).toBeGreaterThanOrEqual(180);
  });
});
