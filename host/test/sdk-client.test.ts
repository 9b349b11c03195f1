/**
 * `@sentinel/client` against the real enclave and the real API: every method,
 * checked independently (viem, ethers and the core verify the signatures), and
 * the client's distrust of the host: altered answers, receipts and evidence,
 * a wrong PCR0 or configuration, TLS pinned to the development certificate,
 * and the attested-session path.
 */
import { randomBytes } from 'node:crypto';

import { Transaction, verifyMessage as ethersVerifyMessage, verifyTypedData as ethersVerifyTypedData } from 'ethers';
import { getAddress, keccak256, recoverTransactionAddress, serializeTransaction, verifyMessage, verifyTypedData, type TransactionSerializable } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createClient, SentinelClientError, type SentinelClient } from '@sentinel/client';

import { core } from '../src/core.ts';
import { EIP712_MAIL, HAVE_ENCLAVE, SKIP_REASON } from './helpers.ts';
import { rejection, startSdkStack, type SdkStack } from './sdk-fixture.ts';

const maybe = HAVE_ENCLAVE ? describe : describe.skip;
if (!HAVE_ENCLAVE) it.skip(SKIP_REASON, () => {});

const HAVE_TX_JSON = typeof (core as unknown as { encodeUnsignedTransaction?: unknown }).encodeUnsignedTransaction === 'function';
const HAVE_ED25519_OP = 'sign_ed25519' in core.bodyOperationAnswers();

/** EIP-712's own example, signed by keccak256("cow") (test/vectors/ethereum/eip712_mail_example.json). */
const MAIL = EIP712_MAIL.typedData;

const TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as const;
/** One transaction of each type the enclave signs. */
const TRANSACTIONS: Record<string, TransactionSerializable> = {
  legacy: { type: 'legacy', nonce: 0, gasPrice: 1_000_000_000n, gas: 21_000n, to: TO, value: 1n },
  eip155: { type: 'legacy', chainId: 1337, nonce: 1, gasPrice: 2_000_000_000n, gas: 21_000n, to: TO, value: 10n ** 15n },
  eip2930: {
    type: 'eip2930',
    chainId: 1,
    nonce: 2,
    gasPrice: 3_000_000_000n,
    gas: 50_000n,
    to: TO,
    value: 0n,
    data: '0xdeadbeef',
    accessList: [{ address: TO, storageKeys: [`0x${'00'.repeat(31)}01`] }],
  },
  eip1559: { type: 'eip1559', chainId: 1, nonce: 3, maxFeePerGas: 30_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, gas: 21_000n, to: TO, value: 12345n },
  create: { type: 'eip1559', chainId: 1, nonce: 4, maxFeePerGas: 30_000_000_000n, maxPriorityFeePerGas: 1n, gas: 100_000n, data: '0x6000' },
};

/** A fetch that lets `alter` rewrite the JSON answer of requests whose path matches. */
function tampering(match: RegExp, alter: (json: Record<string, unknown>) => void): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!match.test(String(input))) return res;
    const json = (await res.json()) as Record<string, unknown>;
    alter(json);
    return new Response(JSON.stringify(json), { status: res.status, headers: { 'content-type': 'application/json' } });
  };
}

const flipHex = (hex: string, at = 2): string => `${hex.slice(0, at)}${hex.slice(at, at + 2) === 'ff' ? '00' : 'ff'}${hex.slice(at + 2)}`;

maybe('@sentinel/client: every method through the API, verified', () => {
  let stack: SdkStack;
  let client: SentinelClient;

  beforeAll(async () => {
    stack = await startSdkStack();
    client = await createClient(stack.options());
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await stack?.dispose();
  });

  it('verifies the evidence on connect: the configuration the enclave booted with, its keys and PCR0', () => {
    expect(client.principal).toBe('dev-client');
    expect(client.usesSession).toBe(false);
    const ev = client.evidence;
    expect(ev.configHash).toBe(`0x${stack.enclave.process.ready.config_hash}`);
    // The attested policy (user_data 0x03 || config_hash || policy_hash), null when none is installed.
    const readyPolicy = stack.enclave.process.ready.policy_hash;
    expect(ev.policyHash).toBe(readyPolicy ? `0x${readyPolicy}` : null);
    expect(ev.pcr0).toBe(`0x${stack.enclave.process.ready.pcr0}`);
    expect(ev.rootKind).toBe('other');
    expect(ev.configVersion).toBeGreaterThanOrEqual(1);
    expect(ev.attestationHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(ev.attestedKeys.importKey).toMatch(/^0x[0-9a-f]{64}$/);
    expect(`02${ev.attestedKeys.receiptKey.slice(2)}`).toBe(stack.enclave.process.ready.attested_keys.slice(0, 66));
  });

  it('generates and lists keys: hex public keys, EIP-55 addresses, receipts verified and addressable by id', async () => {
    const eth = await client.generateKey({ curve: 'secp256k1', purpose: 'ethereum', label: 'sdk-eth' });
    expect(eth.publicKey).toMatch(/^0x0[23][0-9a-f]{64}$/);
    expect(eth.address).toBe(getAddress(eth.address!));
    expect(eth.address).toBe(core.ethereumAddress(Buffer.from(eth.publicKey.slice(2), 'hex')));
    expect(eth.verified.claims).toMatchObject({ op: 'generate_key', decision: 'allowed', principal: 'dev-client', keyId: eth.keyId });
    expect(eth.receiptId).toMatch(/^0x[0-9a-f]{32}$/);
    expect(eth.receiptId).toBe(eth.verified.claims.requestId);
    expect(eth.receipt).toMatch(/^0x[0-9a-f]+$/);

    const ed = await client.generateKey({ curve: 'ed25519', purpose: 'raw', label: 'sdk-ed' });
    expect(ed.address).toBeNull();
    expect(ed.publicKey).toMatch(/^0x[0-9a-f]{64}$/);

    const listed = await client.listKeys();
    expect(listed.verified.claims.op).toBe('list_keys');
    const mine = listed.keys.find((k) => k.keyId === eth.keyId);
    expect(mine).toMatchObject({ curve: 'secp256k1', purpose: 'ethereum', label: 'sdk-eth', owner: 'dev-client', publicKey: eth.publicKey, address: eth.address });
    expect(listed.keys.find((k) => k.keyId === ed.keyId)?.address).toBeNull();

    // The API keeps receipts by id; the client verifies what it fetches.
    const again = await client.getReceipt(eth.receiptId);
    expect(again.receipt).toBe(eth.receipt);
    expect(again.verified.claims.requestId).toBe(eth.receiptId);
    const missing = await rejection(client.getReceipt(`0x${'00'.repeat(16)}`));
    expect(missing.code).toBe('RECEIPT_NOT_FOUND');
  });

  it('imports a key sealed with HPKE (the host never sees the secret) and signs EIP-712 with it: the EIP\'s own signature', async () => {
    const cow = core.keccak256(Buffer.from('cow'));
    const secretHex = cow.toString('hex');
    const before = stack.seen.length;
    const key = await client.importKey({ curve: 'secp256k1', purpose: 'ethereum', label: 'sdk-cow', secretKey: cow });
    cow.fill(0);
    expect(key.address).toBe('0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826');
    expect(key.verified.claims.op).toBe('import_key');
    const signed = await client.signTypedData(key.keyId, MAIL);
    expect(signed.r).toBe(EIP712_MAIL.r);
    expect(signed.s).toBe(EIP712_MAIL.s);
    expect(signed.v).toBe(28);
    expect(signed.signer).toBe(key.address);
    expect(signed.verified.claims.op).toBe('sign_typed_data');
    const { EIP712Domain: _domain, ...types } = MAIL.types;
    expect(await verifyTypedData({ address: key.address!, domain: MAIL.domain, types, primaryType: 'Mail', message: MAIL.message, signature: signed.signature })).toBe(true);
    expect(ethersVerifyTypedData(MAIL.domain, types as never, MAIL.message, signed.signature)).toBe(key.address);
    for (const body of stack.seen.slice(before)) expect(body.toLowerCase()).not.toContain(secretHex);
  });

  it('signs every transaction type, as RLP bytes or hex; viem and ethers recover the key\'s address; hash = keccak256(raw)', async () => {
    const key = await client.generateKey({ curve: 'secp256k1', purpose: 'ethereum', label: 'sdk-tx' });
    for (const [name, tx] of Object.entries(TRANSACTIONS)) {
      const unsigned = serializeTransaction(tx);
      const signed = await client.signTransaction(key.keyId, name === 'legacy' ? Buffer.from(unsigned.slice(2), 'hex') : unsigned);
      expect(signed.raw, name).toMatch(/^0x[0-9a-f]+$/);
      expect(signed.hash, name).toBe(keccak256(signed.raw));
      expect(signed.from, name).toBe(key.address);
      expect(await recoverTransactionAddress({ serializedTransaction: signed.raw as never }), name).toBe(key.address);
      const parsed = Transaction.from(signed.raw);
      expect(parsed.from, name).toBe(key.address);
      expect(parsed.hash, name).toBe(signed.hash);
      expect(parsed.unsignedSerialized, name).toBe(unsigned);
      expect(signed.verified.claims.op).toBe('sign_ethereum_transaction');
    }
  });

  it.skipIf(!HAVE_TX_JSON)('signs a JSON transaction object (bigints as quantities), encoded by the core', async () => {
    const key = await client.generateKey({ curve: 'secp256k1', purpose: 'ethereum', label: 'sdk-tx-json' });
    const tx = { type: 2, chainId: 1n, nonce: 7, to: TO, value: 10n ** 18n, gas: 21_000n, maxFeePerGas: 30_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n, data: '0x' };
    const signed = await client.signTransaction(key.keyId, tx);
    const parsed = Transaction.from(signed.raw);
    expect(parsed.from).toBe(key.address);
    expect(parsed.value).toBe(10n ** 18n);
    expect(parsed.nonce).toBe(7);
    expect(parsed.to).toBe(TO);
    expect(await recoverTransactionAddress({ serializedTransaction: signed.raw as never })).toBe(key.address);
    // viem's shape: named type, `gas`, `input`; JSON-RPC's: 0x quantities.
    const viemStyle = await client.signTransaction(key.keyId, { type: 'eip2930', chainId: 1, nonce: 8, to: TO, value: 0n, gas: 30_000n, gasPrice: 10n ** 9n, input: '0xabcd', accessList: [] });
    expect(Transaction.from(viemStyle.raw)).toMatchObject({ type: 1, nonce: 8, data: '0xabcd', from: key.address });
    const rpcStyle = await client.signTransaction(key.keyId, { type: '0x0', chainId: '0x539', nonce: '0x9', to: TO, value: '0x1', gas: '0x5208', gasPrice: '0x3b9aca00', from: key.address! });
    expect(Transaction.from(rpcStyle.raw)).toMatchObject({ type: 0, nonce: 9, chainId: 1337n, from: key.address });
    expect(rpcStyle.from).toBe(key.address);
    // A `from` that is not the key's address is refused after signing (the receipt is attached).
    const wrongFrom = await rejection(client.signTransaction(key.keyId, { ...tx, from: TO }));
    expect(wrongFrom.code).toBe('SIGNER_MISMATCH');
  });

  it('signs EIP-191 messages (UTF-8 text, bytes, { raw }): viem and ethers verify them', async () => {
    const key = await client.generateKey({ curve: 'secp256k1', purpose: 'ethereum', label: 'sdk-msg' });
    const text = await client.signMessage(key.keyId, 'hello sentinel ✓');
    expect(text.signature).toMatch(/^0x[0-9a-f]{130}$/);
    expect(text.v).toBe(27 + text.recoveryId);
    expect(`0x${text.r.slice(2)}${text.s.slice(2)}${text.v.toString(16)}`).toBe(text.signature);
    expect(await verifyMessage({ address: key.address!, message: 'hello sentinel ✓', signature: text.signature })).toBe(true);
    expect(ethersVerifyMessage('hello sentinel ✓', text.signature)).toBe(key.address);

    const bytes = Uint8Array.of(0, 1, 2, 0xff);
    const raw = await client.signMessage(key.keyId, { raw: '0x000102ff' });
    const asBytes = await client.signMessage(key.keyId, bytes);
    expect(asBytes.signature).toBe(raw.signature);
    expect(await verifyMessage({ address: key.address!, message: { raw: bytes }, signature: raw.signature })).toBe(true);
    expect(ethersVerifyMessage(bytes, raw.signature)).toBe(key.address);
  });

  it('signs raw digests (secp256k1) and raw bytes (Ed25519) with raw-purpose keys', async () => {
    const k1 = await client.generateKey({ curve: 'secp256k1', purpose: 'raw', label: 'sdk-raw' });
    const digest = core.keccak256(Buffer.from('sdk digest'));
    const signed = await client.signDigest(k1.keyId, `0x${digest.toString('hex')}`);
    expect(signed.recoveryId === 0 || signed.recoveryId === 1).toBe(true);
    expect(core.verifyDigest(Buffer.from(k1.publicKey.slice(2), 'hex'), digest, Buffer.from(signed.signature.slice(2), 'hex'))).toBe(true);
    expect(signed.verified.claims.keyId).toBe(k1.keyId);
    if (!HAVE_ED25519_OP) return;
    const ed = await client.generateKey({ curve: 'ed25519', purpose: 'raw', label: 'sdk-ed-raw' });
    const message = randomBytes(100);
    const sig = await client.signEd25519(ed.keyId, message);
    expect(core.verifyEd25519(Buffer.from(ed.publicKey.slice(2), 'hex'), message, Buffer.from(sig.signature.slice(2), 'hex'))).toBe(true);
    expect(sig.verified.claims.op).toBe('sign_ed25519');
  });

  it('a refusal throws SentinelClientError with the code, HTTP status, receipt id and the verified receipt', async () => {
    const key = await client.generateKey({ curve: 'secp256k1', purpose: 'ethereum', label: 'sdk-refused' });
    const refused = await rejection(client.signDigest(key.keyId, new Uint8Array(32).fill(1)));
    expect(refused).toBeInstanceOf(SentinelClientError);
    expect(refused.code).toBe('KEY_PURPOSE_MISMATCH');
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    expect(refused.receiptId).toMatch(/^0x[0-9a-f]{32}$/);
    expect(refused.receipt?.receiptId).toBe(refused.receiptId);
    expect(refused.receipt?.verified.claims).toMatchObject({ decision: 'denied', code: 'KEY_PURPOSE_MISMATCH', op: 'sign_digest', requestId: refused.receiptId });
    const unknown = await rejection(client.signMessage('no-such-key', 'x'));
    expect(unknown.code).toBe('UNKNOWN_KEY');
    expect(unknown.receipt?.verified.claims.decision).toBe('denied');
    // An unstamped body is refused by the enclave, with a receipt naming no principal.
    const unstamped = await client.send({ op: 'list_keys' } as never, { stamp: false });
    expect(unstamped.answer).toMatchObject({ type: 'error', code: 'STAMP_MISSING' });
    expect(unstamped.status).toBe(401);
    expect(unstamped.verified.claims.principal).toBe('');
  });

  it('attests a fresh document for the client\'s nonce', async () => {
    const nonce = randomBytes(32);
    const fresh = await client.attest(nonce);
    expect(fresh.nonce).toBe(`0x${nonce.toString('hex')}`);
    expect(fresh.pcrs['0']?.toLowerCase()).toBe(stack.enclave.process.ready.pcr0.toLowerCase());
    expect(fresh.rootKind).toBe('other');
    expect((await client.attest()).nonce).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('catches a host that alters answers, receipts or receipt ids', async () => {
    const key = await client.generateKey({ curve: 'secp256k1', purpose: 'raw', label: 'sdk-tamper' });
    const digest = new Uint8Array(32).fill(7);
    const connect = async (f: typeof fetch) => createClient(stack.options({ fetch: f }));

    // A flipped signature byte: the receipt's result_hash no longer matches.
    const sigFlip = await connect(tampering(/\/v1\/sign\//, (j) => {
      const a = j.answer as { signature?: string };
      if (a.signature) a.signature = flipHex(a.signature);
    }));
    expect((await rejection(sigFlip.signDigest(key.keyId, digest))).code).toBe('RECEIPT_MISMATCH');

    // A flipped receipt byte, in its claims or in its signature: the receipt itself does not verify.
    for (const [where, expected] of [
      ['claims', /^RECEIPT_MALFORMED$/],
      ['signature', /^RECEIPT_SIGNATURE_INVALID$/],
    ] as const) {
      const receiptFlip = await connect(tampering(/\/v1\/sign\//, (j) => {
        const hex = String(j.receipt);
        j.receipt = flipHex(hex, where === 'claims' ? 40 : hex.length - 2);
      }));
      const bad = await rejection(receiptFlip.signDigest(key.keyId, digest));
      expect(bad, where).toBeInstanceOf(SentinelClientError);
      expect(bad.code, where).toMatch(expected);
      expect(bad.code, where).not.toBe('RECEIPT_MISMATCH');
    }

    // Another receipt id than the receipt's own.
    const idSwap = await connect(tampering(/\/v1\/sign\//, (j) => {
      j.receiptId = `0x${'ab'.repeat(16)}`;
    }));
    expect((await rejection(idSwap.signDigest(key.keyId, digest))).code).toBe('RECEIPT_MISMATCH');

    // Another key id in a generated key: the result hash binds only the public key, the receipt names the id.
    const keySwap = await connect(tampering(/\/v1\/keys\/generate/, (j) => {
      (j.answer as { key_id: string }).key_id = key.keyId;
    }));
    expect((await rejection(keySwap.generateKey({ curve: 'secp256k1', purpose: 'raw', label: 'swap' }))).code).toBe('RECEIPT_MISMATCH');

    // A key passed off as sealed under AWS KMS: the receipt's signed key_storage says how it is kept.
    expect(['sealed:development', 'ephemeral']).toContain(key.storage);
    const storageSwap = await connect(tampering(/\/v1\/keys\/generate/, (j) => {
      (j.answer as { storage: string }).storage = 'sealed:aws-kms';
    }));
    const storageLie = await rejection(storageSwap.generateKey({ curve: 'secp256k1', purpose: 'raw', label: 'kms-claim' }));
    expect(storageLie.code).toBe('RECEIPT_MISMATCH');
    expect(storageLie.message).toContain('key_storage');

    // Another public key in the key list: the receipt's result_hash binds every key of the list.
    const listed = (await client.listKeys()).keys;
    expect(listed.length).toBeGreaterThan(0);
    const listSwap = await connect(tampering(/\/v1\/keys\/list/, (j) => {
      const keys = (j.answer as { keys: { public_key: string }[] }).keys;
      keys[0]!.public_key = flipHex(keys[0]!.public_key, 4);
    }));
    const swapped = await rejection(listSwap.listKeys());
    expect(swapped.code).toBe('RECEIPT_MISMATCH');
    expect(swapped.message).toContain('result_hash');
    // A field the enclave never sends: not an answer it could have sent.
    const listExtra = await connect(tampering(/\/v1\/keys\/list/, (j) => {
      (j.answer as { keys: Record<string, unknown>[] }).keys[0]!.address = '0x00';
    }));
    expect((await rejection(listExtra.listKeys())).code).toBe('RECEIPT_MISMATCH');

    // A refusal passed off as another refusal.
    const codeSwap = await connect(tampering(/\/v1\/sign\//, (j) => {
      const a = j.answer as { type: string; code?: string };
      if (a.type === 'error') a.code = 'QUOTA_EXCEEDED';
    }));
    expect((await rejection(codeSwap.signMessage('no-such-key', 'x'))).code).toBe('RECEIPT_MISMATCH');

    // Evidence whose signed configuration is not the attested one.
    const configSwap = tampering(/\/v1\/evidence/, (j) => {
      j.signedConfig = flipHex(String(j.signedConfig), 20);
    });
    expect((await rejection(connect(configSwap))).code).toBe('EVIDENCE_INVALID');
  });

  it('refuses to connect to an enclave with another PCR0 or configuration', async () => {
    const pcr0 = stack.enclave.process.ready.pcr0;
    const wrongPcr0 = `${pcr0.slice(0, -2)}${pcr0.endsWith('00') ? '01' : '00'}`;
    expect((await rejection(createClient(stack.options({ expectedPcr0: wrongPcr0 })))).code).toBe('PCR_MISMATCH');
    expect((await rejection(createClient(stack.options({ expectedConfigHash: `0x${'00'.repeat(32)}` })))).code).toBe('CONFIG_HASH_MISMATCH');
    const pinned = await createClient(stack.options({ expectedConfigHash: `0x${stack.enclave.process.ready.config_hash}` }));
    expect(pinned.evidence.configHash).toBe(`0x${stack.enclave.process.ready.config_hash}`);
    await pinned.close();
    // The policy, pinned like the configuration: another one (or one where none is installed) is refused.
    const otherPolicy = await rejection(createClient(stack.options({ expectedPolicyHash: `0x${'11'.repeat(32)}` })));
    expect(otherPolicy.code).toBe('POLICY_HASH_MISMATCH');
    const readyPolicy = stack.enclave.process.ready.policy_hash;
    if (readyPolicy) {
      const pinnedPolicy = await createClient(stack.options({ expectedPolicyHash: `0x${readyPolicy}` }));
      expect(pinnedPolicy.evidence.policyHash).toBe(`0x${readyPolicy}`);
      // Its receipts are verified with the policy pinned too.
      const listed = await pinnedPolicy.listKeys();
      expect(listed.verified.claims.policyHash).toBe(`0x${readyPolicy}`);
      await pinnedPolicy.close();
    }
    // Another root: the document does not chain to it.
    const otherRoot = await rejection(createClient(stack.options({ root: core.awsNitroRootG1() })));
    expect(otherRoot.code).toBeDefined();
  });

  it('refuses credentials the configuration does not know', async () => {
    const mallory = await createClient(stack.options({ credentials: core.generateCredential('client', 'mallory', 'ed25519') }));
    const refused = await rejection(mallory.listKeys());
    expect(refused.code).toBe('UNKNOWN_PRINCIPAL');
    expect(refused.receipt?.verified.claims.decision).toBe('denied');
  });
});

maybe('@sentinel/client over HTTPS with the development certificate', () => {
  let stack: SdkStack;

  beforeAll(async () => {
    stack = await startSdkStack({ https: true });
  }, 30_000);

  afterAll(async () => {
    await stack?.dispose();
  });

  it('trusts exactly the given certificate: with `ca` it connects and signs; without it TLS fails', async () => {
    expect(stack.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const client = await createClient(stack.options());
    const key = await client.generateKey({ curve: 'secp256k1', purpose: 'ethereum', label: 'sdk-tls' });
    const signed = await client.signMessage(key.keyId, 'over TLS');
    expect(await verifyMessage({ address: key.address!, message: 'over TLS', signature: signed.signature })).toBe(true);
    await client.close();
    const { ca: _ca, ...untrusted } = stack.options();
    expect((await rejection(createClient(untrusted))).code).toBe('CONNECTION_FAILED');
  });
});

maybe('@sentinel/client over an attested session (low-latency path)', () => {
  let stack: SdkStack;
  let client: SentinelClient;

  beforeAll(async () => {
    stack = await startSdkStack();
    client = await createClient(stack.options({ session: { socketPath: stack.enclave.socketPath } }));
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await stack?.dispose();
  });

  it('runs the same operations through the session, with receipts verified like over HTTP; key operations never reach the API', async () => {
    expect(client.usesSession).toBe(true);
    const before = stack.seen.length;
    const key = await client.generateKey({ curve: 'secp256k1', purpose: 'ethereum', label: 'sdk-session' });
    expect(key.verified.claims).toMatchObject({ op: 'generate_key', principal: 'dev-client', decision: 'allowed' });
    const signed = await client.signMessage(key.keyId, 'through a session');
    expect(await verifyMessage({ address: key.address!, message: 'through a session', signature: signed.signature })).toBe(true);
    const tx = await client.signTransaction(key.keyId, serializeTransaction(TRANSACTIONS.eip1559!));
    expect(await recoverTransactionAddress({ serializedTransaction: tx.raw as never })).toBe(key.address);
    const typed = await client.signTypedData(key.keyId, { ...MAIL, message: { ...MAIL.message, contents: 'session' } });
    expect(typed.signer).toBe(key.address);
    expect((await client.listKeys()).keys.some((k) => k.keyId === key.keyId)).toBe(true);
    const refused = await rejection(client.signDigest(key.keyId, new Uint8Array(32)));
    expect(refused.code).toBe('KEY_PURPOSE_MISMATCH');
    expect(refused.receipt?.verified.claims.decision).toBe('denied');
    expect(stack.seen.length).toBe(before);
    // The session's receipts are the enclave's: the API can serve none of them, but they verify on their own.
    expect(core.verifyReceipt(Buffer.from(signed.receipt.slice(2), 'hex'), Buffer.from(client.evidence.attestation.slice(2), 'hex'), { root: stack.root }).claims.requestId).toBe(signed.receiptId);
  });

  it('after the enclave restarts, the failed call throws (it may have run), and the next one opens a session to the new, verified document', async () => {
    const before = client.evidence.attestationHash;
    await stack.enclave.restart();
    const failed = await rejection(client.listKeys());
    expect(failed.code).toBe('SESSION_CLIENT_IO');
    // The API's sidecar reconnects on its own; the evidence it relays is verified again.
    let listed: Awaited<ReturnType<SentinelClient['listKeys']>> | undefined;
    for (let i = 0; i < 50 && listed === undefined; i++) {
      try {
        listed = await client.listKeys();
      } catch (e) {
        if ((e as { code?: string }).code !== 'CONNECTION_FAILED' && (e as { code?: string }).code !== 'ENCLAVE_UNAVAILABLE') throw e;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect(listed?.verified.claims.op).toBe('list_keys');
    expect(client.evidence.attestationHash).not.toBe(before);
    expect(listed?.verified.claims.attestationHash).toBe(client.evidence.attestationHash);
  }, 30_000);

  it('refuses to open a session with an enclave whose evidence does not verify', async () => {
    const pcr0 = stack.enclave.process.ready.pcr0;
    const wrongPcr0 = `${pcr0.slice(0, -2)}${pcr0.endsWith('00') ? '01' : '00'}`;
    expect((await rejection(createClient(stack.options({ expectedPcr0: wrongPcr0, session: { socketPath: stack.enclave.socketPath } })))).code).toBe('PCR_MISMATCH');
  });
});

maybe('@sentinel/client follows the enclave\'s refreshed boot attestation', () => {
  let stack: SdkStack;

  beforeAll(async () => {
    stack = await startSdkStack({ evidenceRefreshSecs: 1 });
  }, 30_000);

  afterAll(async () => {
    await stack?.dispose();
  });

  it('a receipt naming a newer document makes the client verify that document, then accept the receipt', async () => {
    const client = await createClient(stack.options());
    const first = client.evidence.attestationHash;
    const key = await client.generateKey({ curve: 'ed25519', purpose: 'raw', label: 'refresh' });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const signed = await client.signDigest(key.keyId, randomBytes(32));
    expect(client.evidence.attestationHash).not.toBe(first);
    expect(signed.verified.claims.attestationHash).toBe(client.evidence.attestationHash);
    // A receipt under the earlier document still verifies: that document was verified too.
    expect((await client.getReceipt(key.receiptId)).verified.claims.attestationHash).toBe(first);
  }, 20_000);
});
