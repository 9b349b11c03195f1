/**
 * `@sentinel/client/viem`: a viem custom account whose key lives in the
 * enclave, so existing viem code (wallet clients, `sendTransaction`,
 * `signTypedData`) signs through Sentinel unchanged. viem serializes the
 * transaction exactly as it would for a local key; the enclave signs those
 * unsigned bytes and the account returns the enclave's signed transaction,
 * after the client verified its receipt and the adapter checked the signer.
 */
import { getTypesForEIP712Domain, serializeTransaction, type Hex as ViemHex, type LocalAccount, type SerializeTransactionFn, type TransactionSerializable } from 'viem';
import { toAccount } from 'viem/accounts';

import { expectSigner, resolveEthereumKey, type KeySelector } from './adapters.ts';
import type { SentinelClient } from './client.ts';

export type { KeySelector } from './adapters.ts';

/** A viem `LocalAccount` (source `custom`) backed by the Sentinel key named by `selector`. */
export async function sentinelAccount(client: SentinelClient, selector: KeySelector): Promise<LocalAccount> {
  const key = await resolveEthereumKey(client, selector);
  const address = key.address;
  return toAccount({
    address,
    async signMessage({ message }) {
      const signed = await client.signMessage(key.keyId, message);
      expectSigner(address, signed.signer);
      return signed.signature;
    },
    async signTransaction(transaction, options) {
      const serializer = (options?.serializer ?? serializeTransaction) as SerializeTransactionFn<TransactionSerializable>;
      // As viem's private-key account: a blob transaction is signed without its sidecars.
      const tx = transaction as TransactionSerializable;
      const signable = tx.type === 'eip4844' ? ({ ...tx, sidecars: false } as TransactionSerializable) : tx;
      const unsigned = (await serializer(signable)) as ViemHex;
      const signed = await client.signTransaction(key.keyId, unsigned);
      expectSigner(address, signed.from);
      return signed.raw;
    },
    async signTypedData(parameters) {
      const { domain = {}, types, primaryType, message } = parameters as {
        domain?: Record<string, unknown>;
        types: Record<string, unknown>;
        primaryType: string;
        message?: Record<string, unknown>;
      };
      // The full eth_signTypedData_v4 document: EIP712Domain derived from the domain's fields, as viem does.
      const typedData = {
        types: { EIP712Domain: getTypesForEIP712Domain({ domain: domain as never }), ...types },
        primaryType,
        domain,
        message: message ?? {},
      };
      const signed = await client.signTypedData(key.keyId, typedData);
      expectSigner(address, signed.signer);
      return signed.signature;
    },
  });
}
