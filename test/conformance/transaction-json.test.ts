/**
 * JSON transaction objects -> unsigned RLP (`encodeUnsignedTransaction`), the
 * one encoder every client (SDK, CLI, viem and ethers adapters) uses so that
 * the bytes a principal signs are the same whichever build made them. Checked
 * against every ethers.js vector object in each of its four unsigned forms,
 * byte for byte in both builds; malformed objects are refused with
 * INVALID_TRANSACTION_JSON naming the field, the same code in both builds.
 */
import { describe, expect, it } from 'vitest';
import { ethersTransactions, expectCode, hex, isEip155WithChainIdZero, TX_FORMS, type EthersEntry, type TxForm } from './helpers.ts';
import { implementations } from './impls.ts';

const entries = ethersTransactions();

/** The entry's object restricted to the fields of one form (typed forms: chain id 1 when absent, as the generator did). */
function objectFor(entry: EthersEntry, form: TxForm): Record<string, unknown> {
  const { maxFeePerGas, maxPriorityFeePerGas, accessList, gasPrice, chainId, ...common } = entry.transaction;
  switch (form.kind) {
    case 'legacy':
      return { ...common, gasPrice };
    case 'eip155':
      return { ...common, gasPrice, chainId };
    case 'eip2930':
      return { ...common, type: 1, chainId: chainId ?? 1, gasPrice, accessList };
    case 'eip1559':
      return { ...common, type: 2, chainId: chainId ?? 1, maxFeePerGas, maxPriorityFeePerGas, accessList };
  }
}

const BAD: Array<{ name: string; json: string; field: string }> = [
  { name: 'not JSON', json: '{ nope', field: 'transaction:' },
  { name: 'an array', json: '[]', field: 'transaction:' },
  { name: 'an unknown key', json: '{ "blobVersionedHashes": [] }', field: 'blobVersionedHashes:' },
  { name: 'a duplicate key', json: '{ "nonce": 1, "nonce": 2 }', field: 'duplicate key `nonce`' },
  { name: 'type 3', json: '{ "type": 3, "chainId": 1 }', field: 'type:' },
  { name: 'gasPrice in type 2', json: '{ "type": 2, "chainId": 1, "gasPrice": "0x1" }', field: 'gasPrice:' },
  { name: 'a typed transaction without chainId', json: '{ "maxFeePerGas": "0x1" }', field: 'chainId:' },
  { name: 'a nonce over 64 bits', json: '{ "nonce": "0x10000000000000000" }', field: 'nonce:' },
  { name: 'a value over 256 bits', json: `{ "value": "0x1${'0'.repeat(64)}" }`, field: 'value:' },
  { name: 'a negative gas', json: '{ "gas": -1 }', field: 'gas:' },
  { name: 'a short to', json: '{ "to": "0x1234" }', field: 'to:' },
  { name: 'a bad checksum', json: '{ "to": "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96046" }', field: 'to:' },
  { name: 'odd hex data', json: '{ "data": "0x123" }', field: 'data:' },
  { name: 'a short storage key', json: '{ "chainId": 1, "accessList": [{ "address": "0x0000000000000000000000000000000000000001", "storageKeys": ["0x01"] }] }', field: 'accessList[0].storageKeys[0]:' },
];

describe.each(implementations)('encodeUnsignedTransaction [$name]', ({ core }) => {
  it('encodes every ethers vector object to its unsigned serialisation in each form', () => {
    let encoded = 0;
    for (const entry of entries) {
      for (const form of TX_FORMS) {
        if (isEip155WithChainIdZero(entry, form)) continue;
        const got = core.encodeUnsignedTransaction(JSON.stringify(objectFor(entry, form)));
        expect(hex(got), `${entry.name} ${form.label}`).toBe(entry[form.unsigned].slice(2));
        encoded += 1;
      }
    }
    expect(encoded).toBe(896 * 3 + 495);
  });

  it('infers the type and accepts decimal, hex and integer numbers alike', () => {
    const base = { chainId: 1, to: '0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045', gas: 21000, maxPriorityFeePerGas: '1500000000' };
    const want = '02ef01808459682f008506fc23ac0082520894d8da6bf26964af9d7eed9e03e53415d37aa96045872386f26fc1000080c0';
    for (const value of ['0x2386f26fc10000', '10000000000000000']) {
      for (const maxFeePerGas of ['0x6fc23ac00', '30000000000', 30000000000]) {
        expect(hex(core.encodeUnsignedTransaction(JSON.stringify({ ...base, value, maxFeePerGas })))).toBe(want);
      }
    }
    const decoded = core.decodeEthereumTransaction(core.encodeUnsignedTransaction('{ "chainId": "0x5", "gasLimit": "21000" }'));
    expect([decoded.kind, decoded.chainId, decoded.gasLimit, decoded.to]).toEqual(['eip155', '5', '21000', null]);
  });

  it.each(BAD)('refuses $name with INVALID_TRANSACTION_JSON naming the field', ({ json, field }) => {
    const err = expectCode(() => core.encodeUnsignedTransaction(json), 'INVALID_TRANSACTION_JSON');
    expect(err.message).toContain(field);
  });
});
