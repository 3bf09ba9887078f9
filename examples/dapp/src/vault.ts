// Section 2: the VerifiedTradingVault: its holdings and share price, every decision it took on a proven
// prediction, its value per share against buy-and-hold, and deposit / withdraw.
import { formatUnits, parseUnits, type Address } from 'viem';

import { feedAbi, tokenAbi, vaultAbi } from './abi';
import { ANVIL_CHAIN_ID, type Deployment, type Wallet } from './chain';
import { BUCKETS } from './codec.js';
import { busy, h, message, replace, units } from './dom';
import { send } from './tx';

const HOLD_REASONS = ['the model predicted hold', 'the cooldown since the last trade runs', 'nothing to trade'];

export interface Context {
  wallet: Wallet;
  deployment: Deployment;
  /** Re-reads every section after a transaction. */
  refreshAll: () => Promise<void>;
}

interface Decimals {
  usd: number;
  weth: number;
  feed: number;
  shares: number;
}

export class VaultSection {
  private readonly info = h('div', { class: 'grid' });
  private readonly decisions = h('div');
  private readonly chart = h('div');
  private readonly result = h('div', { class: 'result', testid: 'vault-result' });
  private decimals?: Decimals;

  constructor(private readonly ctx: Context, el: HTMLElement) {
    replace(el, this.info, this.actions(), this.result,
      h('h3', {}, 'Decisions'), this.decisions,
      h('h3', {}, 'Value per share'), this.chart);
  }

  private get vault() {
    return { address: this.ctx.deployment.vault, abi: vaultAbi } as const;
  }

  private async readDecimals(): Promise<Decimals> {
    if (this.decimals) return this.decimals;
    const { publicClient: c } = this.ctx.wallet;
    const d = this.ctx.deployment;
    const [usd, weth, feed, shares] = await Promise.all([
      c.readContract({ address: d.usd, abi: tokenAbi, functionName: 'decimals' }),
      c.readContract({ address: d.weth, abi: tokenAbi, functionName: 'decimals' }),
      c.readContract({ address: d.feed, abi: feedAbi, functionName: 'decimals' }),
      c.readContract({ ...this.vault, functionName: 'decimals' }),
    ]);
    this.decimals = { usd, weth, feed, shares };
    return this.decimals;
  }

  async refresh(): Promise<void> {
    const dec = await this.readDecimals();
    const { publicClient: c, account } = this.ctx.wallet;
    const d = this.ctx.deployment;
    const balance = (token: Address, who: Address) =>
      c.readContract({ address: token, abi: tokenAbi, functionName: 'balanceOf', args: [who] });
    // Priced views revert (or read 0) while the feed is stale: show why instead of failing the section.
    const priced = async (read: () => Promise<bigint>, decimals: number, unit: string) => {
      try {
        return `${units(await read(), decimals)} ${unit}`;
      } catch (err) {
        return `unavailable (${message(err)})`;
      }
    };
    const [round, vaultUsd, vaultWeth, supply] = await Promise.all([
      c.readContract({ address: d.feed, abi: feedAbi, functionName: 'latestRoundData' }),
      balance(d.usd, d.vault),
      balance(d.weth, d.vault),
      c.readContract({ ...this.vault, functionName: 'totalSupply' }),
    ]);
    const sharePrice = await priced(
      () => c.readContract({ ...this.vault, functionName: 'convertToAssets', args: [10n ** BigInt(dec.shares)] }),
      dec.usd, 'USD');
    const totalAssets = await priced(() => c.readContract({ ...this.vault, functionName: 'totalAssets' }), dec.usd, 'USD');
    const mine = account
      ? await Promise.all([c.readContract({ ...this.vault, functionName: 'balanceOf', args: [account] }), balance(d.usd, account)])
      : undefined;
    const worth = mine
      ? await priced(() => c.readContract({ ...this.vault, functionName: 'convertToAssets', args: [mine[0]] }), dec.usd, 'USD')
      : '';

    const [roundId, answer, , updatedAt] = round;
    const row = (label: string, testid: string, value: string) =>
      h('div', { class: 'kv' }, h('span', { class: 'k' }, label), h('span', { class: 'v', testid }, value));
    replace(this.info,
      h('div', { class: 'card' }, h('h3', {}, 'Feed'),
        row('latest round', 'feed-round', roundId.toString()),
        row('ETH price', 'feed-price', `${units(answer, dec.feed, 2)} USD`),
        row('updated', 'feed-updated', new Date(Number(updatedAt) * 1000).toISOString())),
      h('div', { class: 'card' }, h('h3', {}, 'Vault'),
        row('share price', 'share-price', sharePrice),
        row('USD held', 'vault-usd', `${units(vaultUsd, dec.usd)} USD`),
        row('WETH held', 'vault-weth', `${units(vaultWeth, dec.weth)} WETH`),
        row('total assets', 'vault-total-assets', totalAssets),
        row('shares issued', 'vault-supply', units(supply, dec.shares))),
      h('div', { class: 'card' }, h('h3', {}, 'You'),
        mine
          ? [row('shares', 'your-shares', units(mine[0], dec.shares)),
             row('worth', 'your-worth', worth),
             row('USD balance', 'your-usd', `${units(mine[1], dec.usd)} USD`)]
          : h('p', { class: 'muted' }, 'no account (read only)')));

    await this.renderHistory(dec);
  }

  /** Decisions from the vault's `Traded` and `Held` events; the chart from its state at each event's block. */
  private async renderHistory(dec: Decimals): Promise<void> {
    const { publicClient: c } = this.ctx.wallet;
    const d = this.ctx.deployment;
    // From the genesis block: fine on anvil; on a public chain start at the vault's deployment block.
    const logs = await c.getContractEvents({ ...this.vault, fromBlock: 0n });
    const decisions = logs.flatMap((log) => {
      if (log.eventName === 'Traded') {
        const a = log.args;
        const buying = a.tokenIn?.toLowerCase() === d.usd.toLowerCase();
        const [inDec, outDec, inSym, outSym] = buying
          ? [dec.usd, dec.weth, 'USD', 'WETH'] : [dec.weth, dec.usd, 'WETH', 'USD'];
        const what = `${buying ? 'bought' : 'sold'}: ${units(a.amountIn!, inDec)} ${inSym} → ` +
          `${units(a.amountOut!, outDec)} ${outSym} at ${units(a.feedPrice!, dec.feed, 2)} USD`;
        return [{ block: log.blockNumber, round: a.roundId!, bucket: a.bucket!, actor: a.actor!, what, kind: 'Traded' }];
      }
      if (log.eventName === 'Held') {
        const a = log.args;
        const what = `held: ${HOLD_REASONS[a.reason!] ?? `reason ${a.reason}`}`;
        return [{ block: log.blockNumber, round: a.roundId!, bucket: a.bucket!, actor: a.actor!, what, kind: 'Held' }];
      }
      return [];
    });
    replace(this.decisions, decisions.length === 0
      ? h('p', { class: 'muted', testid: 'no-decisions' }, 'No decision yet: submit an eth-price proof below.')
      : h('table', { testid: 'decisions-table' },
          h('thead', {}, h('tr', {}, ['block', 'round', 'predicted', 'decision', 'by'].map((c) => h('th', {}, c)))),
          h('tbody', {}, decisions.map((x) =>
            h('tr', { testid: 'decision', 'data-kind': x.kind, 'data-round': x.round },
              h('td', {}, x.block), h('td', {}, x.round),
              h('td', { testid: 'decision-bucket' }, `${x.bucket} ${BUCKETS[x.bucket] ?? '?'}`),
              h('td', { testid: 'decision-outcome' }, x.what), h('td', {}, h('code', {}, x.actor)))))));

    // One point per block where the vault's holdings or supply changed, and one now.
    const moving = new Set(['Deposit', 'Withdraw', 'Traded', 'Held', 'RedeemedInKind']);
    const blocks = [...new Set(logs.filter((l) => moving.has(l.eventName)).map((l) => l.blockNumber))];
    // `cacheTime: 0`: viem caches the block number for a polling interval, and a stale one would put
    // "now" before the last event.
    const latest = await c.getBlockNumber({ cacheTime: 0 });
    if (blocks.length && latest > blocks[blocks.length - 1]) blocks.push(latest);
    const points = (await Promise.all(blocks.map((b) => this.pointAt(b, dec)))).filter((p) => p !== undefined);
    replace(this.chart, chart(points));
  }

  /** The value of one share at `blockNumber`, priced with the feed's answer then. */
  private async pointAt(blockNumber: bigint, dec: Decimals): Promise<Point | undefined> {
    const { publicClient: c } = this.ctx.wallet;
    const d = this.ctx.deployment;
    const at = { blockNumber } as const;
    const [usd, weth, supply, round] = await Promise.all([
      c.readContract({ address: d.usd, abi: tokenAbi, functionName: 'balanceOf', args: [d.vault], ...at }),
      c.readContract({ address: d.weth, abi: tokenAbi, functionName: 'balanceOf', args: [d.vault], ...at }),
      c.readContract({ ...this.vault, functionName: 'totalSupply', ...at }),
      c.readContract({ address: d.feed, abi: feedAbi, functionName: 'latestRoundData', ...at }),
    ]);
    if (supply === 0n) return undefined;
    // Floats are enough for a picture; balances stay exact everywhere else.
    const price = Number(formatUnits(round[1], dec.feed));
    const value = Number(formatUnits(usd, dec.usd)) + Number(formatUnits(weth, dec.weth)) * price;
    return { block: blockNumber, perShare: value / Number(formatUnits(supply, dec.shares)), price };
  }

  private actions(): HTMLElement {
    const { wallet, deployment: d } = this.ctx;
    const amount = h('input', { type: 'text', value: '1000', size: 10, testid: 'vault-amount', 'aria-label': 'amount in USD' });
    const run = (button: HTMLButtonElement, action: (value: bigint) => Promise<void>) => () =>
      busy(button, async () => {
        const dec = await this.readDecimals();
        let value: bigint;
        try {
          value = parseUnits(amount.value.trim(), dec.usd);
        } catch {
          this.result.append(h('div', { class: 'tx bad' }, `not an amount: ${amount.value}`));
          return;
        }
        await action(value);
        await this.ctx.refreshAll();
      });
    const deposit = h('button', { testid: 'deposit-button' }, 'Deposit');
    const withdraw = h('button', { testid: 'withdraw-button' }, 'Withdraw');
    const mint = h('button', { testid: 'mint-usd-button' }, 'Mint test USD');
    const account = wallet.account;
    deposit.onclick = run(deposit, async (value) => {
      // ERC-4626 pulls the assets: approve the vault first, unless it may already take enough. (Without an
      // account `send` says so.)
      if (account) {
        const allowance = await wallet.publicClient.readContract({
          address: d.usd, abi: tokenAbi, functionName: 'allowance', args: [account, d.vault] });
        const approve = { address: d.usd, abi: tokenAbi, functionName: 'approve', args: [d.vault, value] };
        if (allowance < value && !(await send(wallet, d, this.result, 'approve USD', approve))) return;
      }
      await send(wallet, d, this.result, `deposit ${amount.value} USD`, this.vaultCall('deposit', [value, account]));
    });
    withdraw.onclick = run(withdraw, async (value) => {
      await send(wallet, d, this.result, `withdraw ${amount.value} USD`,
        this.vaultCall('withdraw', [value, account, account]));
    });
    mint.onclick = run(mint, async (value) => {
      await send(wallet, d, this.result, `mint ${amount.value} test USD`, {
        address: d.usd, abi: tokenAbi, functionName: 'mint', args: [account, value] });
    });
    return h('div', { class: 'actions' },
      h('label', {}, 'Amount ', amount, ' USD '),
      // Test tokens have a public mint; only offered where they are test tokens.
      wallet.chain.id === ANVIL_CHAIN_ID ? mint : null,
      deposit, withdraw);
  }

  private vaultCall(functionName: string, args: readonly unknown[]) {
    return { ...this.vault, functionName, args };
  }
}

interface Point {
  block: bigint;
  perShare: number;
  price: number;
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag: string, attrs: Record<string, string | number>, ...children: (Node | string)[]): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

/**
 * The vault's value per share against buy-and-hold: one share's value at the first point, put into WETH
 * and held (what RockyBot's trades had to beat). An inline SVG; x is the block number.
 */
function chart(points: Point[]): Element {
  if (points.length === 0) {
    return h('p', { class: 'muted', testid: 'vault-chart-empty' }, 'No shares yet: deposit to start the chart.');
  }
  const [w, hgt, pad] = [640, 220, 48];
  const hold = points.map((p) => (points[0].perShare * p.price) / points[0].price);
  const values = [...points.map((p) => p.perShare), ...hold];
  let [lo, hi] = [Math.min(...values), Math.max(...values)];
  if (hi - lo < 1e-9 * Math.max(1, Math.abs(hi))) [lo, hi] = [lo * 0.99 - 1e-9, hi * 1.01 + 1e-9];
  const [b0, b1] = [Number(points[0].block), Number(points[points.length - 1].block)];
  const x = (b: bigint) => pad + (b1 === b0 ? (w - 2 * pad) / 2 : ((Number(b) - b0) / (b1 - b0)) * (w - 2 * pad));
  const y = (v: number) => hgt - pad / 2 - ((v - lo) / (hi - lo)) * (hgt - pad);
  const line = (ys: number[], cls: string) =>
    svg('polyline', { class: cls, fill: 'none', points: points.map((p, i) => `${x(p.block)},${y(ys[i])}`).join(' ') });
  const dots = (ys: number[], cls: string) => points.map((p, i) => svg('circle', { class: cls, cx: x(p.block), cy: y(ys[i]), r: 3 }));
  const label = (tx: number, ty: number, text: string, anchor = 'start') =>
    svg('text', { x: tx, y: ty, 'text-anchor': anchor, class: 'axis' }, text);
  return h('figure', { class: 'chart' },
    svg('svg', { viewBox: `0 0 ${w} ${hgt}`, width: w, height: hgt, role: 'img', 'data-testid': 'vault-chart',
      'data-points': points.length, 'aria-label': 'vault value per share against buy-and-hold' },
      svg('line', { class: 'frame', x1: pad, y1: hgt - pad / 2, x2: w - pad, y2: hgt - pad / 2 }),
      label(4, y(hi) + 4, hi.toFixed(4)), label(4, y(lo) + 4, lo.toFixed(4)),
      label(x(points[0].block), hgt - 4, `block ${points[0].block}`, 'middle'),
      points.length > 1 ? label(x(points[points.length - 1].block), hgt - 4, `block ${points[points.length - 1].block}`, 'middle') : '',
      line(hold, 'hold'), line(points.map((p) => p.perShare), 'vault'),
      ...dots(hold, 'hold'), ...dots(points.map((p) => p.perShare), 'vault')),
    h('figcaption', {},
      h('span', { class: 'swatch vault' }), ' vault, USD per share  ',
      h('span', { class: 'swatch hold' }), ' buy-and-hold: the first point\'s share value held as WETH'));
}
