"""Backtest the eth-price model on the held-out hours, with the vault's trading rules.

Every hour of the test period the vault reads the last 13 answers of feed.json, runs model.onnx on the 12
returns and trades at the current answer p_t according to the predicted bucket:

  strong buy   spend 20% of its USD on ETH        sell         sell 10% of its ETH
  buy          spend 10% of its USD on ETH        strong sell  sell 20% of its ETH
  hold         nothing

Every swap pays a 0.30% fee plus 0.05% slippage on its notional (the slippage bound the vault enforces,
charged in full: the worst case the vault accepts). The vault starts with 10,000 USD of value split 50/50
between USD and ETH at the first test hour's price.

Compared with: holding the same 50/50 start without trading (buy and hold), holding all cash (doing
nothing), and a random vault that draws buckets independently with the model's own predicted-bucket
frequencies (seed 0; the spread over 1,000 seeds is in metrics.json).

Writes metrics.json's "backtest" block and backtest.png. Run after train.py:
  .venv/bin/python backtest.py
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import train  # noqa: E402

# The vault's parameters (what the on-chain vault enforces).
VAULT = {
    "strong_buy_spend_usd_bps": 2000,  # strong buy: 20% of the USD balance
    "buy_spend_usd_bps": 1000,  # buy: 10% of the USD balance
    "sell_eth_bps": 1000,  # sell: 10% of the ETH balance
    "strong_sell_eth_bps": 2000,  # strong sell: 20% of the ETH balance
    "fee_bps": 30,  # swap fee, on the notional
    "max_slippage_bps": 5,  # slippage bound; the backtest charges all of it on every swap
}
START_VALUE_USD = 10_000.0
START_ETH_FRACTION = 0.5  # 50/50 by value at the first test hour
SEED = 0
RANDOM_SEEDS = 1000


def simulate(buckets: np.ndarray, prices: np.ndarray, *, costs_on: bool = True) -> dict:
    """Follow `buckets[k]` at `prices[k]` (k = 0..n-1), mark to market at every price including the
    final prices[n]. Returns the equity curve and the trade statistics."""
    cost = (VAULT["fee_bps"] + VAULT["max_slippage_bps"]) / 10_000 if costs_on else 0.0
    fee_share = VAULT["fee_bps"] / (VAULT["fee_bps"] + VAULT["max_slippage_bps"])
    buy_frac = {4: VAULT["strong_buy_spend_usd_bps"] / 10_000, 3: VAULT["buy_spend_usd_bps"] / 10_000}
    sell_frac = {0: VAULT["strong_sell_eth_bps"] / 10_000, 1: VAULT["sell_eth_bps"] / 10_000}
    usd = START_VALUE_USD * (1 - START_ETH_FRACTION)
    eth = START_VALUE_USD * START_ETH_FRACTION / prices[0]
    equity = np.empty(len(prices))
    trades = 0
    costs = 0.0
    for k, b in enumerate(buckets):
        p = prices[k]
        equity[k] = usd + eth * p
        if b in buy_frac and usd > 0:
            spend = usd * buy_frac[b]
            usd -= spend
            eth += spend * (1 - cost) / p
            costs += spend * cost
            trades += 1
        elif b in sell_frac and eth > 0:
            sold = eth * sell_frac[b]
            eth -= sold
            usd += sold * p * (1 - cost)
            costs += sold * p * cost
            trades += 1
    equity[-1] = usd + eth * prices[-1]
    return {"equity": equity, "trades": trades, "fees": costs * fee_share, "slippage": costs * (1 - fee_share)}


def max_drawdown(equity: np.ndarray) -> float:
    peak = np.maximum.accumulate(equity)
    return float((1 - equity / peak).max())


def summary(name: str, equity: np.ndarray, trades: int, fees: float, slippage: float) -> dict:
    return {
        "strategy": name,
        "final_value_usd": round(float(equity[-1]), 2),
        "return_pct": round(float(equity[-1] / equity[0] - 1) * 100, 2),
        "max_drawdown_pct": round(max_drawdown(equity) * 100, 2),
        "trades": int(trades),
        "fees_usd": round(float(fees), 2),
        "slippage_usd": round(float(slippage), 2),
    }


def model_buckets(x: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(HERE / "model.onnx"), sess_options=opts, providers=["CPUExecutionProvider"])
    logits = np.concatenate([sess.run(["logits"], {"input": x[i:i + 1]})[0] for i in range(len(x))])
    return logits.argmax(axis=1)  # first maximum, as the circuit's ArgMax


def main() -> int:
    answers, x, y, t, _, test = train.load()
    x_test, t_test = x[test], t[test]
    # Trade at the last answer of each test window; mark to market through the answer after the last.
    hours = np.arange(t_test[0], t_test[-1] + 2)
    assert (hours[:-1] == t_test).all()
    prices = np.array([answers[i] / 1e8 for i in hours])

    pred = model_buckets(x_test)
    freqs = np.bincount(pred, minlength=len(train.CLASSES)) / len(pred)
    rand = np.random.default_rng(SEED).choice(len(train.CLASSES), size=len(pred), p=freqs)

    runs = {
        "model": simulate(pred, prices),
        "random buckets (model's frequencies, seed 0)": simulate(rand, prices),
    }
    gross = simulate(pred, prices, costs_on=False)
    hold = simulate(np.full(len(pred), 2), prices)
    cash = np.full(len(prices), START_VALUE_USD)
    rows = [
        summary("model", runs["model"]["equity"], runs["model"]["trades"], runs["model"]["fees"],
                runs["model"]["slippage"]),
        summary("random buckets (model's frequencies, seed 0)", *(runs["random buckets (model's frequencies, seed 0)"][k]
                for k in ("equity", "trades", "fees", "slippage"))),
        summary("model with no fee and no slippage (not possible; shows the edge before costs)",
                gross["equity"], gross["trades"], 0.0, 0.0),
        summary("buy and hold (50/50 start, never trades)", hold["equity"], 0, 0.0, 0.0),
        summary("all cash (does nothing)", cash, 0, 0.0, 0.0),
    ]

    finals, finals_gross = [], []
    for s in range(RANDOM_SEEDS):
        b = np.random.default_rng(1000 + s).choice(len(train.CLASSES), size=len(pred), p=freqs)
        finals.append(simulate(b, prices)["equity"][-1] / START_VALUE_USD - 1)
        finals_gross.append(simulate(b, prices, costs_on=False)["equity"][-1] / START_VALUE_USD - 1)
    finals = np.array(finals) * 100
    finals_gross = np.array(finals_gross) * 100
    model_ret = rows[0]["return_pct"]
    model_gross = rows[2]["return_pct"]

    start = datetime.fromtimestamp(train.data.START_TIME + int(hours[0]) * train.data.INTERVAL, timezone.utc)
    end = datetime.fromtimestamp(train.data.START_TIME + int(hours[-1]) * train.data.INTERVAL, timezone.utc)
    block = {
        "period": f"answers {hours[0]}..{hours[-1]} of feed.json ({len(pred)} hourly decisions, "
                  f"{start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC, synthetic)",
        "eth_price_usd": {"start": round(float(prices[0]), 2), "end": round(float(prices[-1]), 2)},
        "start": f"{START_VALUE_USD:,.0f} USD of value, {START_ETH_FRACTION:.0%} in ETH at the first price",
        "vault": VAULT,
        "model_bucket_frequencies": {c: round(float(f), 4) for c, f in zip(train.CLASSES, freqs)},
        "results": rows,
        "random_buckets_over_seeds": {
            "seeds": RANDOM_SEEDS,
            "return_pct_mean": round(float(finals.mean()), 2),
            "return_pct_p5": round(float(np.percentile(finals, 5)), 2),
            "return_pct_p95": round(float(np.percentile(finals, 95)), 2),
            "share_of_seeds_beating_model": round(float((finals > model_ret).mean()), 3),
            "no_costs_return_pct_mean": round(float(finals_gross.mean()), 2),
            "no_costs_return_pct_p5": round(float(np.percentile(finals_gross, 5)), 2),
            "no_costs_return_pct_p95": round(float(np.percentile(finals_gross, 95)), 2),
            "no_costs_share_of_seeds_beating_model": round(float((finals_gross > model_gross).mean()), 3),
        },
    }
    metrics_path = HERE / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    metrics["backtest"] = block
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")

    # --- table ---------------------------------------------------------------
    print(block["period"])
    print(f"ETH {prices[0]:,.2f} -> {prices[-1]:,.2f} USD; start {block['start']}")
    print()
    print("| strategy | final value (USD) | return | max drawdown | trades | fees + slippage (USD) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['strategy']} | {r['final_value_usd']:,.2f} | {r['return_pct']:+.2f}% | "
              f"{r['max_drawdown_pct']:.2f}% | {r['trades']} | "
              f"{r['fees_usd']:,.2f} + {r['slippage_usd']:,.2f} |")
    rs = block["random_buckets_over_seeds"]
    print()
    print(f"random buckets over {RANDOM_SEEDS} seeds: mean {rs['return_pct_mean']:+.2f}%, 5-95% "
          f"[{rs['return_pct_p5']:+.2f}%, {rs['return_pct_p95']:+.2f}%]; {rs['share_of_seeds_beating_model']:.1%} "
          "beat the model")
    print(f"  with no costs: mean {rs['no_costs_return_pct_mean']:+.2f}%, 5-95% [{rs['no_costs_return_pct_p5']:+.2f}%, "
          f"{rs['no_costs_return_pct_p95']:+.2f}%]; {rs['no_costs_share_of_seeds_beating_model']:.1%} beat the "
          "model with no costs")

    # --- plot ----------------------------------------------------------------
    when = [datetime.fromtimestamp(train.data.START_TIME + int(h) * train.data.INTERVAL, timezone.utc)
            for h in hours]
    fig, (ax_p, ax_v) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, height_ratios=[1, 2])
    ax_p.plot(when, prices, color="0.3", lw=0.8)
    ax_p.set_ylabel("ETH (USD)")
    ax_p.set_title("eth-price backtest on the held-out hours (synthetic feed)", fontsize=11)
    styles = [("model", runs["model"]["equity"], "tab:blue", 1.2),
              ("random buckets (seed 0)", runs["random buckets (model's frequencies, seed 0)"]["equity"],
               "tab:orange", 0.9),
              ("buy and hold 50/50", hold["equity"], "tab:green", 0.9),
              ("all cash", cash, "0.5", 0.9)]
    for label, eq, color, lw in styles:
        ax_v.plot(when, eq, label=label, color=color, lw=lw)
    ax_v.set_ylabel("vault value (USD)")
    ax_v.legend(loc="upper left", fontsize=9, frameon=False)
    ax_v.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    for ax in (ax_p, ax_v):
        ax.grid(alpha=0.3, lw=0.5)
    fig.tight_layout()
    fig.savefig(HERE / "backtest.png", dpi=80, metadata={"Software": None})
    print(f"\nwrote metrics.json (backtest block), backtest.png ({(HERE / 'backtest.png').stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
