/**
 * What the viem and ethers adapters share: finding the Ethereum key an
 * account stands for, and refusing a signature that does not recover to that
 * account. The key list is bound by its receipt (its `result_hash`), so a
 * host cannot swap a public key; the address an adapter advertises is still
 * checked against every signature it returns, a second line of defence
 * against any slip in that chain.
 */
import type { SentinelClient } from './client.ts';
import { SentinelClientError } from './errors.ts';
import type { Hex, Key } from './types.ts';

/** Which key an account uses: its key id, or its address. */
export type KeySelector = { keyId: string } | { address: string };

/** The secp256k1 `ethereum` key named by `selector`, from the principal's key list. */
export async function resolveEthereumKey(client: SentinelClient, selector: KeySelector): Promise<Key & { address: Hex }> {
  const { keys } = await client.listKeys();
  const key =
    'keyId' in selector
      ? keys.find((k) => k.keyId === selector.keyId)
      : keys.find((k) => k.address !== null && k.address.toLowerCase() === selector.address.toLowerCase());
  const what = 'keyId' in selector ? `key ${selector.keyId}` : `address ${selector.address}`;
  if (key === undefined) throw new SentinelClientError('UNKNOWN_KEY', `${what}: not among this principal's keys`);
  if (key.curve !== 'secp256k1' || key.purpose !== 'ethereum' || key.address === null) {
    throw new SentinelClientError('KEY_PURPOSE_MISMATCH', `${what}: an Ethereum account needs a secp256k1 key of purpose \`ethereum\` (it is ${key.curve}/${key.purpose})`);
  }
  return key as Key & { address: Hex };
}

/** Throws SIGNER_MISMATCH unless `signer` is `address`. */
export function expectSigner(address: string, signer: string): void {
  if (address.toLowerCase() !== signer.toLowerCase()) {
    throw new SentinelClientError('SIGNER_MISMATCH', `the signature recovers to ${signer}, not the account ${address}`);
  }
}
