// Sending a transaction and showing what happened: the receipt and its decoded events, or the decoded
// custom error of a revert.
import {
  BaseError,
  ContractFunctionRevertedError,
  decodeEventLog,
  type Abi,
  type AbiParameter,
  type Address,
  type Log,
  type TransactionReceipt,
} from 'viem';

import { errorsAbi, feedAbi, marketAbi, nftAbi, registryAbi, tokenAbi, vaultAbi, bookAbi } from './abi';
import type { Deployment, Wallet } from './chain';
import { h, message, shortHex } from './dom';

/** A contract call: the same shape viem's `writeContract` takes. */
export interface Call {
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
}

/** One value as text: bigints in decimal, long bytes cut to their ends, tuples and arrays recursively. */
export function formatValue(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  // Addresses and words in full (they are what one compares); longer hex (proofs, aigcData) cut.
  if (typeof value === 'string') return value.startsWith('0x') && value.length > 66 ? shortHex(value) : value;
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${k}: ${formatValue(v)}`).join(', ')}}`;
  }
  return String(value);
}

/** `Name(arg: value, ...)`, the way the CLI prints events and errors. */
export function formatCall(name: string, inputs: readonly AbiParameter[], args: unknown): string {
  const values = Array.isArray(args) ? args : inputs.map((p, i) => (args as Record<string, unknown>)?.[p.name ?? i]);
  return `${name}(${inputs.map((p, i) => `${p.name || i}: ${formatValue(values[i])}`).join(', ')})`;
}

/**
 * A revert's custom error by name with its arguments, decoded with every contract's errors (a registry
 * error comes up through the NFT or the vault with the registry's selector).
 */
export function describeRevert(err: unknown): string {
  if (err instanceof BaseError) {
    const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError) {
      const item = reverted.data?.abiItem;
      if (reverted.data && item && 'inputs' in item) {
        return formatCall(reverted.data.errorName, item.inputs, reverted.data.args ?? []);
      }
      if (reverted.reason) return `reverted: ${reverted.reason}`;
      if (reverted.signature) return `reverted with an unknown error ${reverted.signature}`;
    }
  }
  return message(err);
}

/** Decodes a receipt's logs with the ABI of the contract that emitted each. */
export function decodeLogs(deployment: Deployment, logs: readonly Log[]): string[] {
  // By address, not one merged ABI: ERC-20 and ERC-721 `Transfer` share a selector but not their indexing.
  const abis = new Map<string, Abi>([
    [deployment.registry, registryAbi],
    [deployment.book, bookAbi],
    [deployment.nft, nftAbi],
    [deployment.vault, vaultAbi],
    [deployment.usd, tokenAbi],
    [deployment.weth, tokenAbi],
    [deployment.feed, feedAbi],
    [deployment.market, marketAbi],
  ].map(([address, abi]) => [(address as string).toLowerCase(), abi as Abi]));
  return logs.map((log) => {
    const abi = abis.get(log.address.toLowerCase());
    try {
      if (!abi) throw new Error('unknown contract');
      const { eventName, args } = decodeEventLog({ abi, data: log.data, topics: log.topics });
      const item = abi.find((i) => i.type === 'event' && i.name === eventName);
      const inputs = item && item.type === 'event' ? item.inputs : [];
      return formatCall(eventName ?? '?', inputs, args);
    } catch {
      return `${log.address}: ${log.topics[0] ?? 'anonymous'} (not decoded)`;
    }
  });
}

/**
 * Simulates `call` (a revert is decoded before anything is signed), sends it, waits for the receipt and
 * appends what happened to `out`. Returns the receipt of a successful transaction, else undefined.
 */
export async function send(
  wallet: Wallet,
  deployment: Deployment,
  out: HTMLElement,
  label: string,
  call: Call,
): Promise<TransactionReceipt | undefined> {
  const entry = h('div', { class: 'tx', testid: 'tx', 'data-function': call.functionName, 'data-status': 'pending' },
    h('div', { class: 'tx-label' }, label, ' ', h('span', { class: 'muted' }, '(sending…)')));
  out.append(entry);
  const fail = (status: string, text: string) => {
    entry.dataset.status = status;
    entry.replaceChildren(h('div', { class: 'tx-label' }, label, ' ', h('span', { class: 'bad' }, status)),
      h('div', { class: 'tx-error', testid: 'tx-error' }, text));
  };
  if (!wallet.walletClient || !wallet.account) {
    fail('not sent', 'no account: open the page with a wallet extension, or on a local anvil chain');
    return undefined;
  }
  try {
    const { request } = await wallet.publicClient.simulateContract({
      ...call,
      // The callee's errors too: a revert deep in the call comes up with the callee's selector.
      abi: [...call.abi, ...errorsAbi],
      account: wallet.walletClient.account ?? wallet.account,
    });
    const hash = await wallet.walletClient.writeContract({ ...request, chain: wallet.chain } as never);
    const receipt = await wallet.publicClient.waitForTransactionReceipt({ hash });
    const events = decodeLogs(deployment, receipt.logs);
    entry.dataset.status = receipt.status;
    entry.replaceChildren(
      h('div', { class: 'tx-label' }, label, ' ',
        h('span', { class: receipt.status === 'success' ? 'good' : 'bad' }, receipt.status)),
      h('div', {}, 'tx ', h('code', { testid: 'tx-hash' }, receipt.transactionHash),
        ', block ', receipt.blockNumber, ', gas used ', h('span', { testid: 'tx-gas' }, receipt.gasUsed)),
      h('ul', { class: 'events' }, events.map((e) => h('li', { testid: 'tx-event' }, h('code', {}, e)))),
    );
    return receipt.status === 'success' ? receipt : undefined;
  } catch (err) {
    const reverted = err instanceof BaseError && err.walk((e) => e instanceof ContractFunctionRevertedError);
    fail(reverted ? 'reverted' : 'failed', describeRevert(err));
    console.error(err);
    return undefined;
  }
}
