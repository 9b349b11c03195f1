/**
 * `zcp sign eth-tx | message | typed-data | digest | ed25519`: one signature
 * from a key in the enclave, printed only once the SDK has verified its
 * receipt (the enclave's signed statement that this principal asked for
 * exactly these bytes and got exactly this result). For secp256k1 results
 * the text output also shows the address the signature recovers to, computed
 * here by the core, so a reader can compare it with the key's address
 * without trusting anything else.
 */

import type { Command } from 'commander';

import { core } from '../core.ts';
import {
  addConnectionOptions,
  addReceiptOut,
  codeOf,
  exactlyOne,
  hex0x,
  parseHex,
  printResult,
  readText,
  runClientCommand,
  UsageError,
  type CommonOptions,
  type Receipted,
} from './connect.ts';

export interface SignOptions extends CommonOptions {
  key: string;
}

export interface EthTxOptions extends SignOptions {
  tx?: string;
  txJson?: string;
}

export interface MessageOptions extends SignOptions {
  message?: string;
  hex?: string;
}

export interface TypedDataOptions extends SignOptions {
  file: string;
}

export interface DigestOptions extends SignOptions {
  digest: string;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError('INVALID_ARGUMENT', `${what}: not JSON (${(e as Error).message})`);
  }
}

/** `--tx-json`: inline JSON when it starts with `{`, else a file holding it. */
export function readTxJson(value: string): Record<string, unknown> {
  const inline = value.trimStart().startsWith('{');
  const parsed = parseJson(inline ? value : readText(value, '--tx-json'), inline ? '--tx-json' : `--tx-json ${value}`);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError('INVALID_ARGUMENT', '--tx-json: a transaction must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** The address a 65-byte `r ‖ s ‖ v` secp256k1 signature over `digest` recovers to (EIP-55). */
function recoverAddress(digest: Uint8Array, signature: string, recoveryId: number): string {
  const rs = Buffer.from(signature.slice(2, 130), 'hex');
  return core.ethereumAddress(core.recoverPublicKey(digest, rs, recoveryId));
}

/** The SDK refused an argument before sending anything (no receipt): a usage error. */
async function argumentChecked<T>(codes: string[], call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    const local = codes.includes(codeOf(e)) && (e as { receiptId?: unknown }).receiptId === undefined;
    if (local) throw new UsageError(codeOf(e), (e as Error).message, { cause: e });
    throw e;
  }
}

interface EthSignature {
  signature: `0x${string}`;
  r: string;
  s: string;
  v: number;
  recoveryId: number;
}

function ethSignatureOutput(keyId: string, sig: EthSignature, digest: Uint8Array): { json: Record<string, unknown>; lines: Array<[string, string]> } {
  const signer = recoverAddress(digest, sig.signature, sig.recoveryId);
  return {
    json: { keyId, signature: sig.signature, r: sig.r, s: sig.s, v: sig.v, recoveryId: sig.recoveryId, digest: hex0x(digest), signer },
    lines: [
      ['key id', keyId],
      ['signature', sig.signature],
      ['r', sig.r],
      ['s', sig.s],
      ['v', String(sig.v)],
      ['digest', hex0x(digest)],
      ['signer', `${signer} (recovered from the signature)`],
    ],
  };
}

/** `zcp sign eth-tx`. */
export function runSignEthTx(opts: EthTxOptions): Promise<number> {
  return runClientCommand(
    opts,
    () => {
      const which = exactlyOne(opts, [
        ['tx', '--tx'],
        ['txJson', '--tx-json'],
      ]);
      return which === 'tx' ? hex0x(parseHex('--tx', opts.tx!)) : readTxJson(opts.txJson!);
    },
    async (client, tx) => {
      const signed = await argumentChecked(['INVALID_TRANSACTION_JSON', 'INVALID_ARGUMENT'], () =>
        client.signTransaction(opts.key, tx as Parameters<typeof client.signTransaction>[1]),
      );
      const recovered = core.recoverEthereumTransactionSigner(Buffer.from(signed.raw.slice(2), 'hex'));
      const t = recovered.transaction;
      const lines: Array<[string, string]> = [
        ['key id', opts.key],
        ['raw', signed.raw],
        ['hash', signed.hash],
        ['from', `${recovered.signer} (recovered from the signature)`],
        ['type', t.kind],
        ['chain id', t.chainId ?? 'none (pre-EIP-155)'],
        ['nonce', t.nonce],
        ['to', t.to ?? '(contract creation)'],
        ['value', t.value],
      ];
      const json = { keyId: opts.key, raw: signed.raw, hash: signed.hash, from: recovered.signer, transaction: t };
      return printResult(opts, 'transaction signed', json, lines, signed as unknown as Receipted);
    },
  );
}

/** `zcp sign message` (EIP-191 personal_sign). */
export function runSignMessage(opts: MessageOptions): Promise<number> {
  return runClientCommand(
    opts,
    () => {
      const which = exactlyOne(opts, [
        ['message', '--message'],
        ['hex', '--hex'],
      ]);
      return which === 'message' ? Buffer.from(opts.message!, 'utf8') : parseHex('--hex', opts.hex!);
    },
    async (client, bytes) => {
      const message = opts.message !== undefined ? opts.message : { raw: hex0x(bytes) };
      const sig = await client.signMessage(opts.key, message);
      const out = ethSignatureOutput(opts.key, sig, core.hashPersonalMessage(bytes));
      return printResult(opts, 'message signed (EIP-191)', { ...out.json, message: hex0x(bytes) }, out.lines, sig as unknown as Receipted);
    },
  );
}

/** `zcp sign typed-data` (EIP-712 v4). */
export function runSignTypedData(opts: TypedDataOptions): Promise<number> {
  return runClientCommand(
    opts,
    () => {
      const text = readText(opts.file, '--file');
      const parsed = parseJson(text, `--file ${opts.file}`);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new UsageError('INVALID_ARGUMENT', `--file ${opts.file}: typed data must be a JSON object`);
      }
      let digest: Buffer;
      try {
        digest = core.hashTypedData(text);
      } catch (e) {
        throw new UsageError(codeOf(e), `--file ${opts.file}: ${(e as Error).message}`, { cause: e });
      }
      return { text, digest };
    },
    async (client, { text, digest }) => {
      const sig = await client.signTypedData(opts.key, text);
      const out = ethSignatureOutput(opts.key, sig, digest);
      return printResult(opts, 'typed data signed (EIP-712)', out.json, out.lines, sig as unknown as Receipted);
    },
  );
}

/** `zcp sign digest` (a raw-purpose key). */
export function runSignDigest(opts: DigestOptions): Promise<number> {
  return runClientCommand(
    opts,
    () => parseHex('--digest', opts.digest, 32),
    async (client, digest) => {
      const sig = await client.signDigest(opts.key, digest);
      const json = { keyId: opts.key, digest: hex0x(digest), signature: sig.signature, recoveryId: sig.recoveryId };
      const lines: Array<[string, string]> = [
        ['key id', opts.key],
        ['digest', hex0x(digest)],
        ['signature', sig.signature],
        ['recovery id', sig.recoveryId === null ? 'none (ed25519)' : String(sig.recoveryId)],
      ];
      return printResult(opts, 'digest signed', json, lines, sig as unknown as Receipted);
    },
  );
}

/** `zcp sign ed25519` (raw bytes, a raw-purpose Ed25519 key). */
export function runSignEd25519(opts: MessageOptions): Promise<number> {
  return runClientCommand(
    opts,
    () => {
      const which = exactlyOne(opts, [
        ['hex', '--hex'],
        ['message', '--message'],
      ]);
      const bytes = which === 'message' ? Buffer.from(opts.message!, 'utf8') : parseHex('--hex', opts.hex!);
      if (bytes.length === 0) throw new UsageError('INVALID_ARGUMENT', 'the message must not be empty');
      return bytes;
    },
    async (client, bytes) => {
      const sig = await client.signEd25519(opts.key, bytes);
      const json = { keyId: opts.key, message: hex0x(bytes), signature: sig.signature };
      const lines: Array<[string, string]> = [
        ['key id', opts.key],
        ['message', `${bytes.length} bytes`],
        ['signature', sig.signature],
      ];
      return printResult(opts, 'message signed (Ed25519)', json, lines, sig as unknown as Receipted);
    },
  );
}

function signCommand(parent: Command, name: string, description: string): Command {
  return parent.command(name).description(description).requiredOption('--key <id>', 'key id, or the Ethereum address of a secp256k1 key (zcp keys list)');
}

function finish(cmd: Command): Command {
  return addReceiptOut(addConnectionOptions(cmd));
}

/** Registers `zcp sign ...` on the program. `set` receives each command's exit code. */
export function registerSign(program: Command, set: (code: number) => void): void {
  const sign = program.command('sign').description('sign with a key in the enclave (each result printed only after its receipt verified)');
  finish(
    signCommand(sign, 'eth-tx', 'sign an Ethereum transaction (legacy, EIP-155, EIP-2930, EIP-1559)')
      .option('--tx <hex>', 'the unsigned transaction, RLP as 0x-hex')
      .option('--tx-json <json|file>', 'the transaction as a JSON object (ethers/viem field names), inline or in a file'),
  ).action(async (opts: EthTxOptions) => set(await runSignEthTx(opts)));
  finish(
    signCommand(sign, 'message', 'sign an EIP-191 personal message (personal_sign)')
      .option('--message <text>', 'the message, as UTF-8 text')
      .option('--hex <hex>', 'the message, as 0x-hex bytes'),
  ).action(async (opts: MessageOptions) => set(await runSignMessage(opts)));
  finish(
    signCommand(sign, 'typed-data', 'sign EIP-712 typed data (v4)').requiredOption(
      '--file <file>',
      'the typed data: JSON with types (incl. EIP712Domain), primaryType, domain, message',
    ),
  ).action(async (opts: TypedDataOptions) => set(await runSignTypedData(opts)));
  finish(
    signCommand(sign, 'digest', 'sign a 32-byte digest with a raw-purpose key (no hashing, no prefix)').requiredOption(
      '--digest <hex>',
      'the digest, 32 bytes as 0x-hex',
    ),
  ).action(async (opts: DigestOptions) => set(await runSignDigest(opts)));
  finish(
    signCommand(sign, 'ed25519', 'sign raw bytes with a raw-purpose Ed25519 key (pure Ed25519)')
      .option('--hex <hex>', 'the message, as 0x-hex bytes (1 to 65536)')
      .option('--message <text>', 'the message, as UTF-8 text'),
  ).action(async (opts: MessageOptions) => set(await runSignEd25519(opts)));
}
