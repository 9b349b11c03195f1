/**
 * `zcp demo`: the end-to-end path of one signing request, in process.
 *
 * Until the enclave and the local stack exist, this is what `npm start` runs:
 * decode an unsigned EIP-1559 transaction (what the policy engine will read),
 * sign it with a fresh key, then verify the signed bytes by recovering the
 * signer. Everything goes through the native binding; nothing is computed in
 * TypeScript. The secret key is never printed.
 */
import { randomBytes } from 'node:crypto';

import { core, isCoreError } from '../core.ts';

/** 0.01 ETH to vitalik.eth on mainnet: 21000 gas, 1.5 gwei tip, 30 gwei cap, nonce 0. */
export const SAMPLE_UNSIGNED_TX =
  '02ef01808459682f008506fc23ac0082520894d8da6bf26964af9d7eed9e03e53415d37aa96045872386f26fc1000080c0';

function freshSecretKey(): Buffer {
  // A random 32-byte string is a valid secp256k1 scalar except with probability ~2^-128.
  for (;;) {
    const candidate = randomBytes(32);
    try {
      core.publicKeyFromSecret(candidate, true);
      return candidate;
    } catch (e) {
      if (!isCoreError(e) || e.code !== 'INVALID_SECRET_KEY') throw e;
    }
  }
}

export interface DemoResult {
  address: string;
  transaction: ReturnType<typeof core.decodeEthereumTransaction>;
  signedRawTransaction: string;
  recoveredSigner: string;
  verified: boolean;
  signMicros: number;
}

export function runDemo(unsignedHex = SAMPLE_UNSIGNED_TX): DemoResult {
  const secretKey = freshSecretKey();
  const address = core.ethereumAddress(core.publicKeyFromSecret(secretKey, false));
  const unsigned = Buffer.from(unsignedHex, 'hex');
  const transaction = core.decodeEthereumTransaction(unsigned);

  const started = process.hrtime.bigint();
  const signed = core.signEthereumTransaction(secretKey, unsigned);
  const signMicros = Number(process.hrtime.bigint() - started) / 1000;
  secretKey.fill(0);

  const recovered = core.recoverEthereumTransactionSigner(signed);
  return {
    address,
    transaction,
    signedRawTransaction: `0x${Buffer.from(signed).toString('hex')}`,
    recoveredSigner: recovered.signer,
    verified: recovered.signer === address && recovered.transaction.signingHash === transaction.signingHash,
    signMicros,
  };
}

export function printDemo(result: DemoResult, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const tx = result.transaction;
  console.log('Sentinel demo: sign and verify an Ethereum transaction through the native core');
  console.log(`  signer address   ${result.address} (fresh key, secret never printed)`);
  console.log(`  transaction      ${tx.kind}, chain ${tx.chainId}, nonce ${tx.nonce}`);
  console.log(`  to               ${tx.to ?? '(contract creation)'}`);
  console.log(`  value            ${tx.value} wei`);
  console.log(`  fees             max ${tx.maxFeePerGas} wei/gas, tip ${tx.maxPriorityFeePerGas} wei/gas, gas ${tx.gasLimit}`);
  console.log(`  signing hash     ${tx.signingHash}`);
  console.log(`  signed raw tx    ${result.signedRawTransaction}`);
  console.log(`  recovered signer ${result.recoveredSigner}`);
  console.log(`  verdict          ${result.verified ? 'VERIFIED: the signature recovers to the signer' : 'FAILED'}`);
  console.log(`  sign time        ${result.signMicros.toFixed(1)} us (first call, includes warm-up)`);
}
