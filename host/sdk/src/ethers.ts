/**
 * `@sentinel/client/ethers`: an ethers v6 signer whose key lives in the
 * enclave, so code written against `Signer` (contracts, `sendTransaction`,
 * `signTypedData`) signs through Sentinel unchanged. It prepares requests as
 * ethers' own `Wallet` does (names resolved, `from` checked, the unsigned
 * serialization built by `Transaction`), has the enclave sign those exact
 * bytes, and returns only what the client verified and what recovers to the
 * account.
 */
import {
  AbstractSigner,
  Transaction,
  TypedDataEncoder,
  copyRequest,
  getAddress,
  resolveAddress,
  resolveProperties,
  type Provider,
  type TransactionLike,
  type TransactionRequest,
  type TypedDataDomain,
  type TypedDataField,
} from 'ethers';

import { expectSigner, resolveEthereumKey, type KeySelector } from './adapters.ts';
import type { SentinelClient } from './client.ts';
import { SentinelClientError } from './errors.ts';

export type { KeySelector } from './adapters.ts';

export class SentinelSigner extends AbstractSigner {
  readonly client: SentinelClient;
  readonly keyId: string;
  readonly address: string;

  private constructor(client: SentinelClient, keyId: string, address: string, provider: Provider | null) {
    super(provider);
    this.client = client;
    this.keyId = keyId;
    this.address = address;
  }

  /** The signer for the Sentinel key named by `selector` (a secp256k1 key of purpose `ethereum`). */
  static async create(client: SentinelClient, selector: KeySelector, provider?: Provider | null): Promise<SentinelSigner> {
    const key = await resolveEthereumKey(client, selector);
    return new SentinelSigner(client, key.keyId, key.address, provider ?? null);
  }

  async getAddress(): Promise<string> {
    return this.address;
  }

  connect(provider: Provider | null): SentinelSigner {
    return new SentinelSigner(this.client, this.keyId, this.address, provider);
  }

  async signTransaction(request: TransactionRequest): Promise<string> {
    // As ethers' BaseWallet: resolve `to` and `from` (ENS names, Addressables), check `from`, drop it.
    const tx = copyRequest(request);
    const { to, from } = await resolveProperties({
      to: tx.to ? resolveAddress(tx.to, this) : undefined,
      from: tx.from ? resolveAddress(tx.from, this) : undefined,
    });
    if (to != null) tx.to = to;
    if (from != null) tx.from = from;
    if (tx.from != null) {
      if (getAddress(tx.from as string) !== this.address) {
        throw new SentinelClientError('SIGNER_MISMATCH', `transaction from ${tx.from} is not this signer's address ${this.address}`);
      }
      delete tx.from;
    }
    const btx = Transaction.from(tx as TransactionLike<string>);
    const signed = await this.client.signTransaction(this.keyId, btx.unsignedSerialized as `0x${string}`);
    expectSigner(this.address, signed.from);
    return signed.raw;
  }

  async signMessage(message: string | Uint8Array): Promise<string> {
    const signed = await this.client.signMessage(this.keyId, message);
    expectSigner(this.address, signed.signer);
    return signed.signature;
  }

  async signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string> {
    // As ethers' BaseWallet: ENS names in address fields resolved through the provider.
    const populated = await TypedDataEncoder.resolveNames(domain, types, value, async (name: string) => {
      if (this.provider === null) {
        throw new SentinelClientError('UNSUPPORTED_OPERATION', `cannot resolve ENS name ${name}: the signer has no provider`);
      }
      const address = await this.provider.resolveName(name);
      if (address === null) throw new SentinelClientError('UNCONFIGURED_NAME', `ENS name ${name} does not resolve`);
      return address;
    });
    const payload = TypedDataEncoder.getPayload(populated.domain, types, populated.value);
    const signed = await this.client.signTypedData(this.keyId, payload);
    expectSigner(this.address, signed.signer);
    return signed.signature;
  }
}
