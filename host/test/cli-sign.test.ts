/**
 * `zcp sign eth-tx | message | typed-data | digest | ed25519` against the
 * real enclave and API. Every signature is checked here independently with
 * the core (recovery, verification), not only by the CLI's own receipt check.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { SAMPLE_UNSIGNED_TX } from '../src/cli/demo.ts';
import { core } from '../src/core.ts';
import { startCliStack, type CliStack } from './cli-fixture.ts';
import { EIP712_MAIL, HAVE_ENCLAVE, SKIP_REASON } from './helpers.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

interface Key {
  keyId: string;
  publicKey: string;
  address: string | null;
}

interface EthSig {
  keyId: string;
  signature: string;
  r: string;
  s: string;
  v: number;
  recoveryId: number;
  digest: string;
  signer: string;
  receiptId: string;
  receipt: string;
  verified: { claims: { op: string; keyId: string; resultHash: string | null; decision: string } };
}

const bytes = (hex: string): Buffer => Buffer.from(hex.replace(/^0x/, ''), 'hex');

/** The address a 65-byte r‖s‖v signature over `digest` recovers to, computed by the test. */
function recovered(digest: Uint8Array, signature: string): string {
  const sig = bytes(signature);
  return core.ethereumAddress(core.recoverPublicKey(digest, sig.subarray(0, 64), sig[64]! - 27));
}

const MAIL = EIP712_MAIL.typedData;

maybe('zcp sign', () => {
  let s: CliStack;
  let eth: Key;
  let raw: Key;
  let ed: Key;

  async function key(...args: string[]): Promise<Key> {
    const { code, value, err } = await s.json<Key>('keys', 'generate', ...args);
    expect(err).toBe('');
    expect(code).toBe(0);
    return value;
  }

  beforeAll(async () => {
    s = await startCliStack();
    eth = await key('--label', 'sign-eth');
    raw = await key('--purpose', 'raw', '--label', 'sign-raw');
    ed = await key('--curve', 'ed25519', '--label', 'sign-ed');
    vi.restoreAllMocks();
  }, 30_000);
  afterAll(async () => {
    await s?.dispose();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('eth-tx --tx: unsigned RLP in, raw signed transaction out; it recovers to the key\'s address', async () => {
    const { code, value } = await s.json<{ raw: string; hash: string; from: string; transaction: { kind: string; chainId: string }; receiptId: string; verified: EthSig['verified'] }>(
      'sign', 'eth-tx', '--key', eth.keyId, '--tx', `0x${SAMPLE_UNSIGNED_TX}`,
    );
    expect(code).toBe(0);
    expect(value.raw).toMatch(/^0x02/);
    const signer = core.recoverEthereumTransactionSigner(bytes(value.raw));
    expect(signer.signer).toBe(eth.address);
    expect(value.from).toBe(eth.address);
    expect(value.hash).toBe(`0x${core.keccak256(bytes(value.raw)).toString('hex')}`);
    expect(value.transaction).toMatchObject({ kind: 'eip1559', chainId: '1', nonce: '0' });
    expect(value.verified.claims).toMatchObject({ op: 'sign_ethereum_transaction', keyId: eth.keyId, decision: 'allowed' });

    const text = await s.run('sign', 'eth-tx', '--key', eth.keyId, '--tx', SAMPLE_UNSIGNED_TX);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^transaction signed\n/);
    expect(text.out).toContain(`from         ${eth.address} (recovered from the signature)`);
    expect(text.out).toContain('type         eip1559');
    expect(text.out).toMatch(/receipt 0x[0-9a-f]{32} verified/);
  });

  it('eth-tx --tx-json: a JSON transaction object, inline or in a file', async () => {
    const tx = {
      type: 2,
      chainId: 1,
      nonce: 7,
      to: '0xd8da6bf26964af9d7eed9e03e53415d37aa96045',
      value: '0x2386f26fc10000',
      maxPriorityFeePerGas: '1500000000',
      maxFeePerGas: '0x6fc23ac00',
      gas: 21000,
    };
    const inline = await s.json<{ raw: string; transaction: { nonce: string; kind: string } }>('sign', 'eth-tx', '--key', eth.keyId, '--tx-json', JSON.stringify(tx));
    expect(inline.err).toBe('');
    expect(inline.code).toBe(0);
    expect(core.recoverEthereumTransactionSigner(bytes(inline.value.raw)).signer).toBe(eth.address);
    expect(inline.value.transaction).toMatchObject({ kind: 'eip1559', nonce: '7', chainId: '1' });

    const legacy = join(s.dataDir, 'legacy-tx.json');
    writeFileSync(legacy, JSON.stringify({ chainId: '0x5', nonce: '0x0', to: null, value: '0', data: '0x6000', gasLimit: '0x10000', gasPrice: '0x3b9aca00' }));
    const fromFile = await s.json<{ raw: string; transaction: { kind: string; to: string | null; chainId: string } }>('sign', 'eth-tx', '--key', eth.keyId, '--tx-json', legacy);
    expect(fromFile.code).toBe(0);
    expect(core.recoverEthereumTransactionSigner(bytes(fromFile.value.raw)).signer).toBe(eth.address);
    expect(fromFile.value.transaction).toMatchObject({ kind: 'eip155', to: null, chainId: '5' });
  });

  it('message: --message (UTF-8) and --hex give EIP-191 signatures that recover to the key', async () => {
    const text = 'hello from zcp ✓';
    const { code, value } = await s.json<EthSig>('sign', 'message', '--key', eth.keyId, '--message', text);
    expect(code).toBe(0);
    const digest = core.hashPersonalMessage(Buffer.from(text, 'utf8'));
    expect(value.digest).toBe(`0x${digest.toString('hex')}`);
    expect(recovered(digest, value.signature)).toBe(eth.address);
    expect(value.signer).toBe(eth.address);
    expect(value.v).toBe(27 + value.recoveryId);
    expect(value.r).toBe(value.signature.slice(0, 66));
    expect(value.verified.claims.op).toBe('sign_personal_message');

    const hex = await s.json<EthSig>('sign', 'message', '--key', eth.keyId, '--hex', '0xdeadbeef00');
    expect(hex.code).toBe(0);
    expect(recovered(core.hashPersonalMessage(bytes('deadbeef00')), hex.value.signature)).toBe(eth.address);

    const human = await s.run('sign', 'message', '--key', eth.keyId, '--message', 'hi');
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/^message signed \(EIP-191\)\n/);
    expect(human.out).toContain(`signer       ${eth.address} (recovered from the signature)`);
  });

  it('typed-data: the EIP-712 Mail example with the EIP\'s key (imported) gives the EIP\'s r, s, v', async () => {
    const cow = join(s.dataDir, 'cow.secret');
    writeFileSync(cow, core.keccak256(Buffer.from('cow')).toString('hex'), { mode: 0o600 });
    chmodSync(cow, 0o600);
    const imported = await s.json<Key>('keys', 'import', '--secret-file', cow, '--label', 'cow');
    expect(imported.code).toBe(0);
    expect(imported.value.address).toBe(EIP712_MAIL.signerAddress);

    const file = join(s.dataDir, 'mail.json');
    writeFileSync(file, JSON.stringify(MAIL, null, 2));
    const { code, value } = await s.json<EthSig>('sign', 'typed-data', '--key', imported.value.keyId, '--file', file);
    expect(code).toBe(0);
    expect(value.r).toBe(EIP712_MAIL.r);
    expect(value.s).toBe(EIP712_MAIL.s);
    expect(value.v).toBe(28);
    expect(recovered(core.hashTypedData(JSON.stringify(MAIL)), value.signature)).toBe(EIP712_MAIL.signerAddress);
    expect(value.verified.claims.op).toBe('sign_typed_data');
  });

  it('--key also takes the key\'s Ethereum address (any case); an address of no key is UNKNOWN_KEY, exit 1', async () => {
    const { code, value } = await s.json<EthSig>('sign', 'message', '--key', eth.address!.toLowerCase(), '--message', 'by address');
    expect(code).toBe(0);
    expect(value.signer).toBe(eth.address);
    expect(value.verified.claims.keyId).toBe(eth.keyId);
    const missing = await s.run('sign', 'message', '--key', `0x${'11'.repeat(20)}`, '--message', 'x');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^error UNKNOWN_KEY: /m);
  });

  it('digest: a raw secp256k1 key signs 32 bytes as given', async () => {
    const digest = core.keccak256(Buffer.from('zcp digest'));
    const { code, value } = await s.json<{ signature: string; recoveryId: number; verified: EthSig['verified'] }>('sign', 'digest', '--key', raw.keyId, '--digest', `0x${digest.toString('hex')}`);
    expect(code).toBe(0);
    expect(core.verifyDigest(bytes(raw.publicKey), digest, bytes(value.signature).subarray(0, 64))).toBe(true);
    expect([0, 1]).toContain(value.recoveryId);
    expect(value.verified.claims.op).toBe('sign_digest');
  });

  it('ed25519: raw bytes signed with a raw Ed25519 key verify with the key\'s public key', async () => {
    const message = Buffer.from('sentinel ed25519 via zcp');
    const { code, value } = await s.json<{ signature: string; message: string; verified: EthSig['verified'] }>('sign', 'ed25519', '--key', ed.keyId, '--hex', `0x${message.toString('hex')}`);
    expect(code).toBe(0);
    expect(value.message).toBe(`0x${message.toString('hex')}`);
    expect(core.verifyEd25519(bytes(ed.publicKey), message, bytes(value.signature))).toBe(true);
    expect(value.verified.claims.op).toBe('sign_ed25519');

    const text = await s.run('sign', 'ed25519', '--key', ed.keyId, '--message', 'utf8 text');
    expect(text.code).toBe(0);
    const sig = /signature {4}(0x[0-9a-f]{128})/.exec(text.out)![1]!;
    expect(core.verifyEd25519(bytes(ed.publicKey), Buffer.from('utf8 text'), bytes(sig))).toBe(true);
  });

  it('--receipt-out writes { receiptId, receipt } for the answer\'s receipt', async () => {
    const out = join(s.dataDir, 'digest.receipt.json');
    const digest = Buffer.alloc(32, 0x42);
    const { code, value } = await s.json<{ receiptId: string; receipt: string }>('sign', 'digest', '--key', raw.keyId, '--digest', digest.toString('hex'), '--receipt-out', out);
    expect(code).toBe(0);
    const saved = JSON.parse(readFileSync(out, 'utf8'));
    expect(saved).toEqual({ receiptId: value.receiptId, receipt: value.receipt });
    expect(core.unsafeDecodeReceiptClaims(bytes(saved.receipt)).requestId).toBe(saved.receiptId);

    const text = await s.run('sign', 'message', '--key', eth.keyId, '--message', 'x', '--receipt-out', out);
    expect(text.code).toBe(0);
    expect(text.out).toContain(`receipt written to ${out}`);
    expect(core.unsafeDecodeReceiptClaims(bytes(JSON.parse(readFileSync(out, 'utf8')).receipt)).op).toBe('sign_personal_message');
  });

  it('refusals exit 1 with the enclave\'s code and the receipt id; --receipt-out keeps the denial\'s receipt', async () => {
    const out = join(s.dataDir, 'denied.receipt.json');
    let r = await s.run('sign', 'digest', '--key', eth.keyId, '--digest', '11'.repeat(32), '--receipt-out', out);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^error KEY_PURPOSE_MISMATCH: .* \(receipt 0x[0-9a-f]{32}\)$/);
    const saved = JSON.parse(readFileSync(out, 'utf8'));
    const claims = core.unsafeDecodeReceiptClaims(bytes(saved.receipt));
    expect(claims).toMatchObject({ decision: 'denied', code: 'KEY_PURPOSE_MISMATCH', requestId: saved.receiptId });

    r = await s.run('sign', 'message', '--key', 'no-such-key', '--message', 'x', '--json');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error UNKNOWN_KEY: /);
    expect(JSON.parse(r.out)).toEqual({ error: { code: 'UNKNOWN_KEY', message: expect.any(String), receiptId: expect.stringMatching(/^0x[0-9a-f]{32}$/) } });

    r = await s.run('sign', 'ed25519', '--key', raw.keyId, '--hex', '0x01');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error KEY_CURVE_MISMATCH: .* \(receipt 0x[0-9a-f]{32}\)$/);
    r = await s.run('sign', 'ed25519', '--key', eth.keyId, '--hex', '0x01');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error KEY_PURPOSE_MISMATCH: /);
  });

  it('usage errors exit 2 before anything is sent', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['sign', 'eth-tx', '--key', eth.keyId], /^error INVALID_ARGUMENT: one of --tx or --tx-json is required/],
      [['sign', 'eth-tx', '--key', eth.keyId, '--tx', '0x01', '--tx-json', '{}'], /^error INVALID_ARGUMENT: give only one of --tx or --tx-json/],
      [['sign', 'eth-tx', '--key', eth.keyId, '--tx', '0xzz'], /^error INVALID_ARGUMENT: --tx: not hex bytes/],
      [['sign', 'eth-tx', '--key', eth.keyId, '--tx-json', '{ nope'], /^error INVALID_ARGUMENT: --tx-json: not JSON/],
      [['sign', 'eth-tx', '--key', eth.keyId, '--tx-json', '/nonexistent/tx.json'], /^error FILE_UNREADABLE: /],
      [['sign', 'message', '--key', eth.keyId], /^error INVALID_ARGUMENT: one of --message or --hex is required/],
      [['sign', 'message', '--message', 'x'], /^error USAGE: required option '--key <id>' not specified/],
      [['sign', 'digest', '--key', raw.keyId, '--digest', '0x1234'], /^error INVALID_ARGUMENT: --digest: 2 bytes, expected 32/],
      [['sign', 'typed-data', '--key', eth.keyId, '--file', '/nonexistent/typed.json'], /^error FILE_UNREADABLE: /],
      [['sign', 'ed25519', '--key', ed.keyId, '--hex', '0x'], /^error INVALID_ARGUMENT: the message must not be empty/],
      [['sign', 'frobnicate', '--key', ed.keyId], /^error USAGE: /],
    ];
    for (const [args, expected] of cases) {
      const r = await s.run(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(expected);
      expect(r.out, args.join(' ')).toBe('');
    }
    const notTyped = join(s.dataDir, 'not-typed.json');
    writeFileSync(notTyped, JSON.stringify({ hello: 'world' }));
    const r = await s.run('sign', 'typed-data', '--key', eth.keyId, '--file', notTyped);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error [A-Z_]+: --file .*not-typed\.json: /);
  });

  it('a bad field of a JSON transaction is a usage error naming the field', async () => {
    const r = await s.run('sign', 'eth-tx', '--key', eth.keyId, '--tx-json', JSON.stringify({ chainId: 1, nonce: 'seven', gas: 21000, maxFeePerGas: 1, maxPriorityFeePerGas: 1, to: null, value: 0 }));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error INVALID_TRANSACTION_JSON: .*nonce/);
  });
});
