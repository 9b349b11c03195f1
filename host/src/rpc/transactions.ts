/**
 * Turning a JSON-RPC transaction request (as ethers' JsonRpcSigner and viem's
 * wallet client send it to `eth_sendTransaction`) into the complete
 * transaction object the SDK signs. Callers usually leave the nonce, gas and
 * fees to the wallet; the wallet here is `zcp rpc`, so it fills them from the
 * upstream node the way ethers and viem would for a local account: the pending
 * nonce, `eth_estimateGas`, and for EIP-1559 `maxFeePerGas = 2 * baseFee +
 * priority` with the priority fee from `eth_maxPriorityFeePerGas`. Nothing
 * here decides what may be signed; the enclave does.
 */
import { invalidParams, RpcError } from './errors.ts';
import type { Upstream } from './upstream.ts';

export type Hex = `0x${string}`;

/** What the SDK's signTransaction takes as a JSON transaction object (every number a 0x quantity). */
export interface TransactionObject {
  type: Hex;
  chainId: Hex;
  nonce: Hex;
  to: Hex | null;
  value: Hex;
  data: Hex;
  gas: Hex;
  gasPrice?: Hex;
  maxFeePerGas?: Hex;
  maxPriorityFeePerGas?: Hex;
  accessList?: Array<{ address: Hex; storageKeys: Hex[] }>;
}

/** A caller's transaction request after checking, before filling. */
export interface TransactionRequest {
  from: Hex;
  to: Hex | null;
  value: bigint;
  data: Hex;
  type?: 0 | 1 | 2;
  chainId?: bigint;
  nonce?: bigint;
  gas?: bigint;
  gasPrice?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  accessList?: Array<{ address: Hex; storageKeys: Hex[] }>;
}

/** Fields of newer transaction types that Sentinel does not sign (blob and set-code transactions). */
const UNSUPPORTED_FIELDS = ['blobs', 'blobVersionedHashes', 'maxFeePerBlobGas', 'sidecars', 'authorizationList'];

const ONE_GWEI = 1_000_000_000n;

export function quantity(value: unknown, field: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'string') {
    if (/^0x[0-9a-fA-F]+$/.test(value)) return BigInt(value);
    if (/^[0-9]+$/.test(value)) return BigInt(value);
  }
  throw invalidParams(`transaction field \`${field}\`: expected a 0x-hex quantity`);
}

export function toQuantity(n: bigint): Hex {
  return `0x${n.toString(16)}`;
}

export function isAddress(value: unknown): value is Hex {
  return typeof value === 'string' && /^0x[0-9a-fA-F]{40}$/.test(value);
}

export function isHexBytes(value: unknown): value is Hex {
  return typeof value === 'string' && /^0x([0-9a-fA-F]{2})*$/.test(value);
}

function optionalQuantity(tx: Record<string, unknown>, field: string): bigint | undefined {
  const v = tx[field];
  return v === undefined || v === null ? undefined : quantity(v, field);
}

function parseType(value: unknown): 0 | 1 | 2 | undefined {
  if (value === undefined || value === null) return undefined;
  const n = quantity(value, 'type');
  if (n === 0n || n === 1n || n === 2n) return Number(n) as 0 | 1 | 2;
  throw invalidParams(`transaction type ${toQuantity(n)} is not supported (legacy, EIP-2930 and EIP-1559 only)`, 'UNSUPPORTED_TRANSACTION_TYPE');
}

function parseAccessList(value: unknown): TransactionRequest['accessList'] {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalidParams('transaction field `accessList`: expected an array');
  return value.map((entry, i) => {
    const e = entry as { address?: unknown; storageKeys?: unknown } | null;
    if (e === null || typeof e !== 'object' || !isAddress(e.address) || !Array.isArray(e.storageKeys)) {
      throw invalidParams(`transaction field \`accessList[${i}]\`: expected { address, storageKeys }`);
    }
    const keys = e.storageKeys.map((k) => {
      if (typeof k !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(k)) throw invalidParams(`transaction field \`accessList[${i}].storageKeys\`: expected 32-byte hex`);
      return k.toLowerCase() as Hex;
    });
    return { address: e.address.toLowerCase() as Hex, storageKeys: keys };
  });
}

/** Checks a JSON-RPC transaction request's shape; `from` is required. */
export function parseTransactionRequest(value: unknown): TransactionRequest {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidParams('expected a transaction object');
  const tx = value as Record<string, unknown>;
  for (const field of UNSUPPORTED_FIELDS) {
    const v = tx[field];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) {
      throw invalidParams(`transaction field \`${field}\` is not supported (blob and set-code transactions are not signed)`, 'UNSUPPORTED_TRANSACTION_TYPE');
    }
  }
  if (!isAddress(tx.from)) throw invalidParams('transaction field `from`: expected a 20-byte address');
  let to: Hex | null = null;
  if (tx.to !== undefined && tx.to !== null && tx.to !== '0x') {
    if (!isAddress(tx.to)) throw invalidParams('transaction field `to`: expected a 20-byte address or null');
    to = tx.to.toLowerCase() as Hex;
  }
  const data = tx.data ?? tx.input;
  if (tx.data !== undefined && tx.input !== undefined && tx.data !== null && tx.input !== null && String(tx.data).toLowerCase() !== String(tx.input).toLowerCase()) {
    throw invalidParams('transaction fields `data` and `input` differ');
  }
  if (data !== undefined && data !== null && !isHexBytes(data)) throw invalidParams('transaction field `data`: expected 0x-hex bytes');
  const gasLimit = optionalQuantity(tx, 'gasLimit');
  const gas = optionalQuantity(tx, 'gas') ?? gasLimit;
  const req: TransactionRequest = {
    from: tx.from.toLowerCase() as Hex,
    to,
    value: optionalQuantity(tx, 'value') ?? 0n,
    data: ((data as Hex | undefined | null) ?? '0x').toLowerCase() as Hex,
    type: parseType(tx.type),
    chainId: optionalQuantity(tx, 'chainId'),
    nonce: optionalQuantity(tx, 'nonce'),
    gas,
    gasPrice: optionalQuantity(tx, 'gasPrice'),
    maxFeePerGas: optionalQuantity(tx, 'maxFeePerGas'),
    maxPriorityFeePerGas: optionalQuantity(tx, 'maxPriorityFeePerGas'),
    accessList: parseAccessList(tx.accessList),
  };
  const has1559 = req.maxFeePerGas !== undefined || req.maxPriorityFeePerGas !== undefined;
  if (req.type !== undefined && req.type < 2 && has1559) throw invalidParams(`a type ${req.type} transaction has no maxFeePerGas / maxPriorityFeePerGas`);
  if (req.type === 2 && req.gasPrice !== undefined) throw invalidParams('an EIP-1559 (type 2) transaction has no gasPrice');
  if (req.type === 0 && req.accessList !== undefined && req.accessList.length > 0) throw invalidParams('a legacy (type 0) transaction has no accessList');
  if (req.gasPrice !== undefined && has1559) throw invalidParams('give either gasPrice or maxFeePerGas / maxPriorityFeePerGas, not both');
  if (req.maxFeePerGas !== undefined && req.maxPriorityFeePerGas !== undefined && req.maxPriorityFeePerGas > req.maxFeePerGas) {
    throw invalidParams('maxPriorityFeePerGas exceeds maxFeePerGas');
  }
  return req;
}

interface Block {
  baseFeePerGas?: string | null;
}

/** Where missing fields come from: the chain id the server serves and, when there is one, the node. */
export interface FillContext {
  chainId: () => Promise<bigint | undefined>;
  upstream?: Upstream;
}

function needUpstream(field: string, ctx: FillContext): Upstream {
  if (ctx.upstream === undefined) {
    throw invalidParams(`transaction field \`${field}\` is missing and there is no upstream node to fill it (start zcp rpc with --upstream, or give the field)`, 'MISSING_TRANSACTION_FIELD');
  }
  return ctx.upstream;
}

/**
 * Fills what the caller left out: chain id, nonce (pending count), gas
 * (estimate) and fees, then returns the SDK's transaction object.
 */
export async function fillTransaction(req: TransactionRequest, ctx: FillContext): Promise<TransactionObject> {
  const served = await ctx.chainId();
  let chainId = req.chainId;
  if (chainId === undefined) {
    if (served === undefined) throw invalidParams('transaction field `chainId` is missing and the chain is unknown (start zcp rpc with --chain-id or --upstream)', 'MISSING_TRANSACTION_FIELD');
    chainId = served;
  } else if (served !== undefined && chainId !== served) {
    throw invalidParams(`transaction chainId ${toQuantity(chainId)} is not the chain served here (${toQuantity(served)})`, 'CHAIN_ID_MISMATCH');
  }

  let type = req.type;
  let block: Block | null | undefined;
  const latestBlock = async (): Promise<Block | null> => {
    if (block === undefined) block = await needUpstream('maxFeePerGas', ctx).call<Block | null>('eth_getBlockByNumber', ['latest', false]);
    return block;
  };
  if (type === undefined) {
    if (req.maxFeePerGas !== undefined || req.maxPriorityFeePerGas !== undefined) type = 2;
    else if (req.gasPrice !== undefined) type = req.accessList !== undefined ? 1 : 0;
    else {
      const b = await latestBlock().catch((e: unknown) => {
        if (ctx.upstream === undefined) throw invalidParams('transaction fees are missing (gasPrice, or maxFeePerGas and maxPriorityFeePerGas) and there is no upstream node to fill them', 'MISSING_TRANSACTION_FIELD');
        throw e;
      });
      type = b?.baseFeePerGas !== undefined && b?.baseFeePerGas !== null ? 2 : req.accessList !== undefined ? 1 : 0;
    }
  }

  const nonce = req.nonce ?? quantity(await needUpstream('nonce', ctx).call('eth_getTransactionCount', [req.from, 'pending']), 'nonce');

  let gas = req.gas;
  if (gas === undefined) {
    const estimate: Record<string, unknown> = { from: req.from, value: toQuantity(req.value), data: req.data };
    if (req.to !== null) estimate.to = req.to;
    if (req.accessList !== undefined) estimate.accessList = req.accessList;
    gas = quantity(await needUpstream('gas', ctx).call('eth_estimateGas', [estimate]), 'gas');
  }

  const out: TransactionObject = {
    type: toQuantity(BigInt(type)),
    chainId: toQuantity(chainId),
    nonce: toQuantity(nonce),
    to: req.to,
    value: toQuantity(req.value),
    data: req.data,
    gas: toQuantity(gas),
  };
  if (type === 2) {
    let { maxFeePerGas, maxPriorityFeePerGas } = req;
    if (maxFeePerGas === undefined || maxPriorityFeePerGas === undefined) {
      const upstream = needUpstream(maxFeePerGas === undefined ? 'maxFeePerGas' : 'maxPriorityFeePerGas', ctx);
      const b = await latestBlock();
      const baseFee = b?.baseFeePerGas ? quantity(b.baseFeePerGas, 'baseFeePerGas') : 0n;
      if (maxPriorityFeePerGas === undefined) {
        maxPriorityFeePerGas = await priorityFee(upstream, baseFee);
        if (maxFeePerGas !== undefined && maxPriorityFeePerGas > maxFeePerGas) maxPriorityFeePerGas = maxFeePerGas;
      }
      maxFeePerGas ??= 2n * baseFee + maxPriorityFeePerGas;
    }
    out.maxFeePerGas = toQuantity(maxFeePerGas);
    out.maxPriorityFeePerGas = toQuantity(maxPriorityFeePerGas);
  } else {
    out.gasPrice = toQuantity(req.gasPrice ?? quantity(await needUpstream('gasPrice', ctx).call('eth_gasPrice'), 'gasPrice'));
  }
  if (type !== 0) out.accessList = req.accessList ?? [];
  return out;
}

/** The node's suggested tip; nodes without eth_maxPriorityFeePerGas: gasPrice - baseFee, else 1 gwei. */
async function priorityFee(upstream: Upstream, baseFee: bigint): Promise<bigint> {
  try {
    return quantity(await upstream.call('eth_maxPriorityFeePerGas'), 'maxPriorityFeePerGas');
  } catch (e) {
    if (e instanceof RpcError && (e.data as { code?: string } | undefined)?.code === 'UPSTREAM_UNAVAILABLE') throw e;
  }
  try {
    const gasPrice = quantity(await upstream.call('eth_gasPrice'), 'gasPrice');
    if (gasPrice > baseFee) return gasPrice - baseFee;
  } catch (e) {
    if (e instanceof RpcError && (e.data as { code?: string } | undefined)?.code === 'UPSTREAM_UNAVAILABLE') throw e;
  }
  return ONE_GWEI;
}
