/**
 * Ethereum transactions: ethers.js' 896 vectors (testcases/transaction.json.gz)
 * in legacy, EIP-155, EIP-2930 (Berlin) and EIP-1559 (London) form, signed
 * byte-for-byte and decoded; the EIP-155 spec example; signer recovery; and
 * the address of every ethers key, across builds and against an independent
 * derivation (@noble/curves + @noble/hashes).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import {
  addressFromUncompressed,
  attempt,
  bigFromHex,
  bytesToBig,
  concat,
  flipS,
  rlp,
  rlpInt,
  type RlpItem,
  ethersTransactions,
  ethersTypedChainId,
  fromHex,
  hex,
  hex0x,
  isEip155WithChainIdZero,
  keccak,
  loadJson,
  toChecksumAddress,
  TX_FORMS,
  type EthersEntry,
  type TxForm,
} from './helpers.ts';
import { implementations, native, wasm, type CoreApi, type DecodedTransaction } from './impls.ts';

const ENTRIES = 896;
const entries = ethersTransactions();
const chainIdZeroEip155 = entries.filter((e) => isEip155WithChainIdZero(e, TX_FORMS[1]!)).length;

interface Eip155Example {
  privateKey: string;
  chainId: number;
  transaction: { nonce: number; gasPrice: string; gasLimit: number; to: string; value: string; data: string };
  signingData: string;
  signingHash: string;
  v: number;
  r: string;
  s: string;
  signedRawTx: string;
}
const eip155 = loadJson<Eip155Example>('ethereum/eip155_spec_example.json');

/** What decodeEthereumTransaction must return for one ethers entry in one form. */
function expectedView(entry: EthersEntry, form: TxForm): DecodedTransaction {
  const tx = entry.transaction;
  const typed = form.kind === 'eip2930' || form.kind === 'eip1559';
  const london = form.kind === 'eip1559';
  return {
    kind: form.kind,
    chainId: form.kind === 'legacy' ? null : (typed ? ethersTypedChainId(entry) : bigFromHex(tx.chainId)).toString(),
    nonce: String(tx.nonce ?? 0),
    gasLimit: bigFromHex(tx.gasLimit).toString(),
    value: bigFromHex(tx.value).toString(),
    gasPrice: london ? null : bigFromHex(tx.gasPrice).toString(),
    maxFeePerGas: london ? bigFromHex(tx.maxFeePerGas).toString() : null,
    maxPriorityFeePerGas: london ? bigFromHex(tx.maxPriorityFeePerGas).toString() : null,
    to: tx.to === undefined || tx.to === '' ? null : toChecksumAddress(tx.to),
    data: (tx.data ?? '0x').toLowerCase(),
    accessList: typed
      ? (tx.accessList ?? []).map((item) => ({
          address: toChecksumAddress(item.address),
          storageKeys: item.storageKeys.map((k) => k.toLowerCase()),
        }))
      : [],
    signingHash: hex0x(keccak(fromHex(entry[form.unsigned]))),
  };
}

/** Field-by-field comparison, so a failure names entry, form and field. */
function diffView(got: DecodedTransaction, want: DecodedTransaction): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(want), ...Object.keys(got)]);
  for (const key of keys) {
    const g = JSON.stringify((got as unknown as Record<string, unknown>)[key]);
    const w = JSON.stringify((want as unknown as Record<string, unknown>)[key]);
    if (g !== w) out.push(`${key}: got ${g}, expected ${w}`);
  }
  return out;
}

describe('ethers transaction vectors (data)', () => {
  it(`has ${ENTRIES} entries, each with all eight forms`, () => {
    expect(entries.length).toBe(ENTRIES);
    for (const e of entries) for (const f of TX_FORMS) expect(typeof e[f.unsigned] && typeof e[f.signed]).toBe('string');
    // EIP-155 forms with chain id 0, which ethers encoded non-canonically (see helpers.ts).
    expect(chainIdZeroEip155).toBe(17 + 384);
    for (const e of entries) {
      if (isEip155WithChainIdZero(e, TX_FORMS[1]!)) expect(e.unsignedEip155.endsWith('008080'), e.name).toBe(true);
    }
  });
});

describe.each(implementations)('Ethereum transactions [$name]', ({ name, core }) => {
  it(`signs all ${ENTRIES} ethers entries in all four forms byte-for-byte`, () => {
    const failures: string[] = [];
    let signed = 0;
    let refused = 0;
    let sameSignature = 0;
    for (const entry of entries) {
      const sk = fromHex(entry.privateKey);
      for (const form of TX_FORMS) {
        const where = `${entry.name} ${form.label}`;
        const out = attempt(() => core.signEthereumTransaction(sk, fromHex(entry[form.unsigned])));
        if (isEip155WithChainIdZero(entry, form)) {
          // chain id 0 spelled 0x00 (non-canonical): refused, never signed (see helpers.ts).
          if (out.threw && out.code === 'INTEGER_LEADING_ZERO') refused++;
          else failures.push(`${where}: chain id 0x00 EIP-155 expected INTEGER_LEADING_ZERO, got ${out.threw ? out.code : 'a signature'}`);
          // The refusal is about the encoding, not the signer: RFC 6979 over keccak(bytes) still
          // reproduces ethers' v (= 0 * 2 + 35 + y), r and s exactly.
          const sig = core.signDigest(sk, keccak(fromHex(entry[form.unsigned])));
          const tail = rlp([rlpInt(35 + sig.recoveryId), rlpInt(bytesToBig(sig.signature.slice(0, 32))), rlpInt(bytesToBig(sig.signature.slice(32)))]);
          // rlp() wraps the three items in a list header; the signed form holds them bare at its end.
          const bare = hex(tail).slice(2 * listHeaderLength(tail));
          if (!entry[form.signed].toLowerCase().endsWith(bare)) failures.push(`${where}: v, r, s differ from ethers`);
          else sameSignature++;
          continue;
        }
        if (out.threw) {
          failures.push(`${where}: threw ${out.code ?? String(out.error)} for ${entry[form.unsigned]}`);
          continue;
        }
        const got = hex0x(out.value!);
        if (got !== entry[form.signed].toLowerCase()) failures.push(`${where}: got ${got}, expected ${entry[form.signed]}`);
        else signed++;
      }
    }
    expect(failures.length, `[${name}] ${failures.length} failures:\n${failures.slice(0, 10).join('\n')}`).toBe(0);
    expect(signed).toBe(ENTRIES * 4 - chainIdZeroEip155);
    expect(signed + refused).toBe(ENTRIES * 4);
    expect(sameSignature).toBe(chainIdZeroEip155);
  });

  it(`decodes all ${ENTRIES} x 4 unsigned forms (kind, chainId, nonce, to, value, fees, data, access list, signing hash)`, () => {
    const failures: string[] = [];
    let decoded = 0;
    for (const entry of entries) {
      for (const form of TX_FORMS) {
        const where = `${entry.name} ${form.label}`;
        const out = attempt(() => core.decodeEthereumTransaction(fromHex(entry[form.unsigned])));
        if (isEip155WithChainIdZero(entry, form)) {
          if (!(out.threw && out.code === 'INTEGER_LEADING_ZERO')) {
            failures.push(`${where}: expected INTEGER_LEADING_ZERO, got ${out.threw ? out.code : 'a decoded transaction'}`);
          }
          // Spelled canonically (0x80), chain id 0 is still refused.
          const canonical = fromHex(entry[form.unsigned].replace(/008080$/, '808080'));
          const again = attempt(() => core.decodeEthereumTransaction(canonical));
          if (!(again.threw && again.code === 'INVALID_EIP155_TAIL')) {
            failures.push(`${where} (chain id as 0x80): expected INVALID_EIP155_TAIL, got ${again.threw ? again.code : 'a decoded transaction'}`);
          }
          continue;
        }
        if (out.threw) {
          failures.push(`${where}: threw ${out.code ?? String(out.error)}`);
          continue;
        }
        const diff = diffView(out.value!, expectedView(entry, form));
        if (diff.length > 0) failures.push(`${where}: ${diff.join('; ')}`);
        else decoded++;
      }
    }
    expect(failures.length, `[${name}] ${failures.length} failures:\n${failures.slice(0, 10).join('\n')}`).toBe(0);
    expect(decoded).toBe(ENTRIES * 4 - chainIdZeroEip155);
  });

  it('decodes the first entry with exactly the documented shape', () => {
    const entry = entries[0]!;
    const view = core.decodeEthereumTransaction(fromHex(entry.unsignedLondon));
    expect(Object.keys(view).sort()).toEqual(
      [
        'accessList',
        'chainId',
        'data',
        'gasLimit',
        'gasPrice',
        'kind',
        'maxFeePerGas',
        'maxPriorityFeePerGas',
        'nonce',
        'signingHash',
        'to',
        'value',
      ].sort(),
    );
    expect(view).toStrictEqual(expectedView(entry, TX_FORMS[3]!));
  });

  it('EIP-155 spec example: signing data, signing hash, v/r/s and raw transaction', () => {
    const sk = fromHex(eip155.privateKey);
    const signingData = fromHex(eip155.signingData);
    expect(hex0x(core.keccak256(signingData))).toBe(eip155.signingHash);
    const view = core.decodeEthereumTransaction(signingData);
    expect(view).toStrictEqual({
      kind: 'eip155',
      chainId: '1',
      nonce: '9',
      gasLimit: '21000',
      value: '1000000000000000000',
      gasPrice: '20000000000',
      maxFeePerGas: null,
      maxPriorityFeePerGas: null,
      to: '0x3535353535353535353535353535353535353535',
      data: '0x',
      accessList: [],
      signingHash: eip155.signingHash,
    });
    expect(hex0x(core.signEthereumTransaction(sk, signingData))).toBe(eip155.signedRawTx);
    const { signature, recoveryId } = core.signDigest(sk, fromHex(eip155.signingHash));
    expect(BigInt(`0x${hex(signature.subarray(0, 32))}`).toString()).toBe(eip155.r);
    expect(BigInt(`0x${hex(signature.subarray(32))}`).toString()).toBe(eip155.s);
    expect(recoveryId + 35 + 2 * eip155.chainId).toBe(eip155.v);
  });

  it(
    'recoverEthereumTransactionSigner: signer and transaction of every signed ethers form',
    () => {
      const recover = core.recoverEthereumTransactionSigner;
      const failures: string[] = [];
      let recovered = 0;
      for (const entry of entries) {
        const sk = fromHex(entry.privateKey);
        const address = core.ethereumAddress(core.publicKeyFromSecret(sk));
        for (const form of TX_FORMS) {
          const where = `${entry.name} ${form.label}`;
          const out = attempt(() => recover(fromHex(entry[form.signed])));
          if (isEip155WithChainIdZero(entry, form)) {
            // v = 35/36 means chain id 0: refused (crates/eth/README.md: INVALID_SIGNATURE_V, chainId >= 1).
            if (!(out.threw && out.code === 'INVALID_SIGNATURE_V')) {
              failures.push(`${where}: expected INVALID_SIGNATURE_V, got ${out.threw ? out.code : `signer ${out.value!.signer}`}`);
            }
            continue;
          }
          if (out.threw) {
            failures.push(`${where}: threw ${out.code ?? String(out.error)}`);
            continue;
          }
          const { signer, transaction } = out.value!;
          if (signer !== address) failures.push(`${where}: signer ${signer}, expected ${address}`);
          const diff = diffView(transaction, expectedView(entry, form));
          if (diff.length > 0) failures.push(`${where}: ${diff.join('; ')}`);
          if (signer === address && diff.length === 0) recovered++;
        }
      }
      expect(failures.length, `[${name}] ${failures.length} failures:\n${failures.slice(0, 10).join('\n')}`).toBe(0);
      expect(recovered).toBe(ENTRIES * 4 - chainIdZeroEip155);
    },
  );

  it(
    'recoverEthereumTransactionSigner: EIP-155 spec example',
    () => {
      const { signer, transaction } = core.recoverEthereumTransactionSigner(fromHex(eip155.signedRawTx));
      expect(signer).toBe(core.ethereumAddress(core.publicKeyFromSecret(fromHex(eip155.privateKey))));
      expect(transaction.signingHash).toBe(eip155.signingHash);
      expect(transaction.kind).toBe('eip155');
      expect(transaction.chainId).toBe('1');
    },
  );

  it(
    'recoverEthereumTransactionSigner: refuses unsigned, malformed, high-S and bad-v input with the documented codes',
    () => {
      const recover = core.recoverEthereumTransactionSigner;
      for (const [label, input, code] of badSignedTransactions(core)) {
        const out = attempt(() => recover(input));
        expect(out.threw, `${label}: ${hex0x(input)}`).toBe(true);
        expect(out.error, label).toBeInstanceOf(Error);
        expect(out.code, label).toBe(code);
      }
    },
  );
});

/** A signed EIP-1559 transaction built here, so r, s and yParity can be varied. */
function signedLondon(core: CoreApi, variant: 'good' | 'high-s' | 'y=2'): Uint8Array {
  const sk = new Uint8Array(32).fill(0x46);
  const body: RlpItem[] = [rlpInt(1), rlpInt(7), rlpInt(2), rlpInt(100), rlpInt(21000), new Uint8Array(20).fill(0x35), rlpInt(5), new Uint8Array(0), []];
  const unsigned = concat(Uint8Array.of(2), rlp(body));
  const { signature, recoveryId } = core.signDigest(sk, keccak(unsigned));
  let sig = signature;
  let y = recoveryId;
  if (variant === 'high-s') {
    sig = flipS(signature);
    y ^= 1; // same R, negated s: the other parity recovers the same key
  }
  if (variant === 'y=2') y = 2;
  const strip = (b: Uint8Array) => rlpInt(bytesToBig(b));
  return concat(Uint8Array.of(2), rlp([...body, rlpInt(y), strip(sig.subarray(0, 32)), strip(sig.subarray(32))]));
}

/** Bad signed transactions and the code crates/eth/README.md documents for each. */
function badSignedTransactions(core: CoreApi): Array<[string, Uint8Array, string]> {
  const chainIdZero = entries.find((e) => isEip155WithChainIdZero(e, TX_FORMS[1]!))!;
  return [
    ['empty input', new Uint8Array(0), 'EMPTY_INPUT'],
    ['an unsigned EIP-155 transaction', fromHex(eip155.signingData), 'INVALID_SIGNATURE_V'],
    ['an unsigned EIP-1559 transaction', fromHex(entries[0]!.unsignedLondon), 'WRONG_FIELD_COUNT'],
    ['signed EIP-155 with trailing bytes', concat(fromHex(eip155.signedRawTx), Uint8Array.of(0)), 'TRAILING_BYTES'],
    [`legacy v = 36 (chain id 0; ethers ${chainIdZero.name})`, fromHex(chainIdZero.signedEip155), 'INVALID_SIGNATURE_V'],
    ['EIP-1559 with yParity 2', signedLondon(core, 'y=2'), 'INVALID_SIGNATURE_V'],
    ['EIP-1559 with a high-S signature', signedLondon(core, 'high-s'), 'SIGNATURE_HIGH_S'],
  ];
}

describe.each(implementations)('signed transaction fixture [$name]', ({ core }) => {
  it(
    'a self-built signed EIP-1559 transaction recovers to its key (fixture check)',
    () => {
      const { signer, transaction } = core.recoverEthereumTransactionSigner(signedLondon(core, 'good'));
      expect(signer).toBe('0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F');
      expect(transaction.kind).toBe('eip1559');
      expect(transaction.nonce).toBe('7');
    },
  );
});

describe('ethers private keys: addresses', () => {
  it(`the address of each of the ${ENTRIES} ethers keys is identical in both builds and matches an independent derivation`, () => {
    const failures: string[] = [];
    for (const entry of entries) {
      const sk = fromHex(entry.privateKey);
      const independent = addressFromUncompressed(secp256k1.getPublicKey(sk, false));
      const results = {
        nativeCompressed: native.core.ethereumAddress(native.core.publicKeyFromSecret(sk)),
        nativeUncompressed: native.core.ethereumAddress(native.core.publicKeyFromSecret(sk, false)),
        wasmCompressed: wasm.core.ethereumAddress(wasm.core.publicKeyFromSecret(sk)),
        wasmUncompressed: wasm.core.ethereumAddress(wasm.core.publicKeyFromSecret(sk, false)),
      };
      for (const [k, v] of Object.entries(results)) {
        if (v !== independent) failures.push(`${entry.name} ${k}: ${v}, expected ${independent}`);
      }
    }
    expect(failures.length, failures.slice(0, 10).join('\n')).toBe(0);
  });
});

/** Length of the RLP list header at the start of `encoded`. */
function listHeaderLength(encoded: Uint8Array): number {
  const first = encoded[0]!;
  return first <= 0xf7 ? 1 : 1 + (first - 0xf7);
}
