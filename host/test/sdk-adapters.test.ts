/**
 * The viem account and the ethers v6 signer of `@sentinel/client`, against the
 * real enclave and API: what they sign is checked by viem and ethers
 * themselves (both ways), name resolution goes through the provider as in
 * ethers' Wallet, and a host that lies about an account's public key is
 * caught at the first signature.
 */
import { JsonRpcProvider, Transaction, TypedDataEncoder, verifyMessage as ethersVerifyMessage, verifyTypedData as ethersVerifyTypedData, type Provider } from 'ethers';
import { createWalletClient, http, recoverTransactionAddress, verifyMessage, verifyTypedData } from 'viem';
import { mainnet } from 'viem/chains';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, type Key, type SentinelClient } from '@sentinel/client';
import { SentinelSigner } from '@sentinel/client/ethers';
import { sentinelAccount } from '@sentinel/client/viem';

import { HAVE_ENCLAVE, SKIP_REASON } from './helpers.ts';
import { rejection, startSdkStack, type SdkStack } from './sdk-fixture.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as const;

/** Typed data as apps write it: no EIP712Domain, bigints, bytes, nested structs, arrays. */
const domain = { name: 'Sentinel Test', version: '2', chainId: 31337n, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' } as const;
const types = {
  Order: [
    { name: 'maker', type: 'address' },
    { name: 'amount', type: 'uint256' },
    { name: 'delta', type: 'int64' },
    { name: 'salt', type: 'bytes32' },
    { name: 'memo', type: 'bytes' },
    { name: 'tags', type: 'string[]' },
    { name: 'leg', type: 'Leg' },
  ],
  Leg: [
    { name: 'token', type: 'address' },
    { name: 'qty', type: 'uint128' },
  ],
} as const;
const message = {
  maker: TO,
  amount: 2n ** 200n + 1n,
  delta: -42n,
  salt: `0x${'11'.repeat(32)}`,
  memo: '0xdeadbeef',
  tags: ['a', 'b'],
  leg: { token: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB', qty: 10n ** 20n },
} as const;

maybe('@sentinel/client adapters: viem account and ethers signer', () => {
  let stack: SdkStack;
  let client: SentinelClient;
  let key: Key;

  beforeAll(async () => {
    stack = await startSdkStack();
    client = await createClient(stack.options());
    key = await client.generateKey({ curve: 'secp256k1', purpose: 'ethereum', label: 'sdk-adapter' });
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await stack?.dispose();
  });

  it('viem: sentinelAccount signs messages, typed data and transactions that viem and ethers verify', async () => {
    const account = await sentinelAccount(client, { keyId: key.keyId });
    expect(account.address).toBe(key.address);
    expect(account.type).toBe('local');
    const byAddress = await sentinelAccount(client, { address: key.address!.toLowerCase() });
    expect(byAddress.address).toBe(key.address);

    const sig = await account.signMessage({ message: 'hello viem' });
    expect(await verifyMessage({ address: account.address, message: 'hello viem', signature: sig })).toBe(true);
    expect(ethersVerifyMessage('hello viem', sig)).toBe(key.address);
    const rawSig = await account.signMessage({ message: { raw: '0x01020304' } });
    expect(await verifyMessage({ address: account.address, message: { raw: '0x01020304' }, signature: rawSig })).toBe(true);

    const typedSig = await account.signTypedData({ domain, types, primaryType: 'Order', message });
    expect(await verifyTypedData({ address: account.address, domain, types, primaryType: 'Order', message, signature: typedSig })).toBe(true);
    expect(ethersVerifyTypedData(domain, types as never, message, typedSig)).toBe(key.address);

    for (const tx of [
      { chainId: 1, type: 'eip1559', nonce: 0, to: TO, value: 10n ** 16n, gas: 21_000n, maxFeePerGas: 20_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n },
      { chainId: 1, type: 'eip2930', nonce: 1, to: TO, value: 1n, gas: 30_000n, gasPrice: 10_000_000_000n, accessList: [] },
      { chainId: 1337, type: 'legacy', nonce: 2, to: TO, value: 0n, gas: 21_000n, gasPrice: 1n, data: '0xabcdef' },
    ] as const) {
      const raw = await account.signTransaction(tx);
      expect(await recoverTransactionAddress({ serializedTransaction: raw as never }), tx.type).toBe(key.address);
      const parsed = Transaction.from(raw);
      expect(parsed.from, tx.type).toBe(key.address);
      expect(parsed.to, tx.type).toBe(TO);
      expect(parsed.nonce, tx.type).toBe(tx.nonce);
    }

    // Through a wallet client: local accounts sign without the transport.
    const wallet = createWalletClient({ account, chain: mainnet, transport: http('http://127.0.0.1:9') });
    const viaWallet = await wallet.signMessage({ message: 'wallet client' });
    expect(await verifyMessage({ address: account.address, message: 'wallet client', signature: viaWallet })).toBe(true);
    const typedViaWallet = await wallet.signTypedData({ domain, types, primaryType: 'Order', message });
    expect(typedViaWallet).toBe(typedSig);
  });

  it('ethers: SentinelSigner signs messages, typed data and transactions that ethers and viem verify', async () => {
    const signer = await SentinelSigner.create(client, { address: key.address! });
    expect(await signer.getAddress()).toBe(key.address);
    expect(signer.provider).toBeNull();

    const sig = await signer.signMessage('hello ethers');
    expect(ethersVerifyMessage('hello ethers', sig)).toBe(key.address);
    expect(await verifyMessage({ address: key.address!, message: 'hello ethers', signature: sig as `0x${string}` })).toBe(true);
    const bytesSig = await signer.signMessage(Uint8Array.of(1, 2, 3));
    expect(ethersVerifyMessage(Uint8Array.of(1, 2, 3), bytesSig)).toBe(key.address);

    const typedSig = await signer.signTypedData(domain, types as never, message);
    expect(ethersVerifyTypedData(domain, types as never, message, typedSig)).toBe(key.address);
    expect(await verifyTypedData({ address: key.address!, domain, types, primaryType: 'Order', message, signature: typedSig as `0x${string}` })).toBe(true);
    expect(TypedDataEncoder.hash(domain, types as never, message)).toMatch(/^0x/);

    for (const request of [
      { chainId: 1n, type: 2, nonce: 5, to: TO, value: 123n, gasLimit: 21_000n, maxFeePerGas: 20_000_000_000n, maxPriorityFeePerGas: 1n },
      { chainId: 1n, type: 1, nonce: 6, to: TO, value: 0n, gasLimit: 40_000n, gasPrice: 5n, accessList: [{ address: TO, storageKeys: [`0x${'00'.repeat(32)}`] }] },
      { chainId: 5n, type: 0, nonce: 7, to: TO, value: 1n, gasLimit: 21_000n, gasPrice: 5n },
      { chainId: 1n, nonce: 8, gasLimit: 90_000n, maxFeePerGas: 2n, maxPriorityFeePerGas: 1n, data: '0x6000', from: key.address! },
    ]) {
      const raw = await signer.signTransaction(request);
      const parsed = Transaction.from(raw);
      expect(parsed.from).toBe(key.address);
      expect(parsed.nonce).toBe(request.nonce);
      expect(await recoverTransactionAddress({ serializedTransaction: raw as never })).toBe(key.address);
    }
    expect((await rejection(signer.signTransaction({ chainId: 1n, to: TO, from: TO, gasLimit: 21_000n, gasPrice: 1n, nonce: 0 }))).code).toBe('SIGNER_MISMATCH');
  });

  it('ethers: names are resolved through the provider, as ethers\' Wallet does; connect() keeps the key', async () => {
    const names: Record<string, string> = { 'alice.eth': TO, 'bob.eth': '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' };
    const provider = { resolveName: async (name: string) => names[name] ?? null } as unknown as Provider;
    const bare = await SentinelSigner.create(client, { keyId: key.keyId });
    const signer = bare.connect(provider);
    expect(signer.provider).toBe(provider);
    expect(signer.keyId).toBe(key.keyId);
    const raw = await signer.signTransaction({ chainId: 1n, to: 'alice.eth', nonce: 0, gasLimit: 21_000n, gasPrice: 1n, type: 0 });
    expect(Transaction.from(raw).to).toBe(TO);
    const ensMessage = { ...message, maker: 'alice.eth', leg: { ...message.leg, token: 'bob.eth' } };
    const sig = await signer.signTypedData(domain, types as never, ensMessage);
    expect(ethersVerifyTypedData(domain, types as never, { ...message }, sig)).toBe(key.address);
    expect((await rejection(bare.signTypedData(domain, types as never, ensMessage))).code).toBe('UNSUPPORTED_OPERATION');
    const rpc = new JsonRpcProvider('http://127.0.0.1:9', 1, { staticNetwork: true });
    expect(bare.connect(rpc).provider).toBe(rpc);
    rpc.destroy();
  });

  it('refuses keys that are not Ethereum accounts, and catches a host that lies about an account\'s public key', async () => {
    const raw = await client.generateKey({ curve: 'secp256k1', purpose: 'raw', label: 'sdk-not-eth' });
    expect((await rejection(sentinelAccount(client, { keyId: raw.keyId }))).code).toBe('KEY_PURPOSE_MISMATCH');
    expect((await rejection(SentinelSigner.create(client, { address: TO }))).code).toBe('UNKNOWN_KEY');

    // The host swaps this key's public key in the key list for another's: the list's receipt binds
    // every key (result_hash, docs/receipts.md), so the lie is caught before an account exists.
    const other = await client.generateKey({ curve: 'secp256k1', purpose: 'ethereum', label: 'sdk-other' });
    const lying: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).endsWith('/v1/keys/list')) return res;
      const json = (await res.json()) as { answer: { keys: Array<{ key_id: string; public_key: string }> } };
      for (const k of json.answer.keys) if (k.key_id === key.keyId) k.public_key = other.publicKey;
      return new Response(JSON.stringify(json), { status: res.status, headers: { 'content-type': 'application/json' } });
    };
    const fooled = await createClient(stack.options({ fetch: lying }));
    expect((await rejection(sentinelAccount(fooled, { keyId: key.keyId }))).code).toBe('RECEIPT_MISMATCH');
    expect((await rejection(SentinelSigner.create(fooled, { keyId: key.keyId }))).code).toBe('RECEIPT_MISMATCH');
  });
});
