"""Backtest the eth-price model on the held-out hours, with the vault's trading rules.

Every hour of the test period the vault reads the last 13 answers of feed.json, runs model.onnx on the 12
returns and trades at the current answer p_t according to the predicted bucket:

  strong buy   spend 20% of its USD on ETH        sell         sell 10% of its ETH
  buy          spend 10% of its USD on ETH        strong sell  sell 20% of its ETH
  hold         nothing

Every swap pays a 0.30% fee plus 0.05% slippage on its notional (the slippage bound the vault enforces,
charged in full: the worst case the vault accepts). After a trade the vault is in COOLDOWN: it trades
again at the earliest `cooldown_hours` hours later, and a buy or sell prediction arriving before that is
not acted on (a hold, or a prediction that is not acted on, does not restart the cooldown). A cooldown of
1 hour is no constraint (one decision an hour). The vault starts with 10,000 USD of value split 50/50
between USD and ETH at the first test hour's price.

The model is run at cooldowns of 1, 4, 12 and 24 hours, each beside the control at the same cooldown: a
random vault that draws buckets independently with the model's own predicted-bucket frequencies (seed 0
in the table; the spread over 1,000 seeds, with and without costs, is in metrics.json), then obeys the
same cooldown. Also compared with holding the same 50/50 start without trading (buy and hold) and with
holding all cash (doing nothing).

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
    "cooldown_hours": 12,  # minimum hours between two trades: the default README.md recommends
}
COOLDOWNS_HOURS = (1, 4, 12, 24)  # the cooldowns compared (1 = trade every hour, no cooldown)
START_VALUE_USD = 10_000.0
START_ETH_FRACTION = 0.5  # 50/50 by value at the first test hour
SEED = 0
RANDOM_SEEDS = 1000
RANDOM_NAME = "random buckets (model's frequencies, seed 0)"


def simulate(buckets: np.ndarray, prices: np.ndarray, *, cooldown_hours: int, costs_on: bool = True) -> dict:
    """Follow `buckets[k]` at `prices[k]` (k = 0..n-1) under the cooldown, mark to market at every price
    including the final prices[n]. `buckets` is one run (n,) or m runs side by side (n, m); the runs are
    independent (elementwise arithmetic, the same operations in the same order for every run). Returns the
    equity curves (n+1, m) and per run the trades, fees and slippage."""
    b = buckets.reshape(len(buckets), -1)
    m = b.shape[1]
    cost = (VAULT["fee_bps"] + VAULT["max_slippage_bps"]) / 10_000 if costs_on else 0.0
    fee_share = VAULT["fee_bps"] / (VAULT["fee_bps"] + VAULT["max_slippage_bps"])
    buy_frac = np.zeros(len(train.CLASSES))
    buy_frac[4] = VAULT["strong_buy_spend_usd_bps"] / 10_000
    buy_frac[3] = VAULT["buy_spend_usd_bps"] / 10_000
    sell_frac = np.zeros(len(train.CLASSES))
    sell_frac[0] = VAULT["strong_sell_eth_bps"] / 10_000
    sell_frac[1] = VAULT["sell_eth_bps"] / 10_000
    usd = np.full(m, START_VALUE_USD * (1 - START_ETH_FRACTION))
    eth = np.full(m, START_VALUE_USD * START_ETH_FRACTION / prices[0])
    equity = np.empty((len(prices), m))
    trades = np.zeros(m, dtype=np.int64)
    costs = np.zeros(m)
    next_trade = np.zeros(m, dtype=np.int64)  # the first hour the cooldown lets the vault trade again
    for k in range(len(b)):
        p = prices[k]
        equity[k] = usd + eth * p
        free = k >= next_trade
        fb, fs = buy_frac[b[k]], sell_frac[b[k]]
        buy = free & (fb > 0) & (usd > 0)
        sell = free & (fs > 0) & (eth > 0)
        spend = np.where(buy, usd * fb, 0.0)
        usd = usd - spend
        eth = eth + spend * (1 - cost) / p
        costs = costs + spend * cost
        sold = np.where(sell, eth * fs, 0.0)
        eth = eth - sold
        usd = usd + sold * p * (1 - cost)
        costs = costs + sold * p * cost
        traded = buy | sell
        trades += traded
        next_trade = np.where(traded, k + cooldown_hours, next_trade)
    equity[-1] = usd + eth * prices[-1]
    return {"equity": equity, "trades": trades, "fees": costs * fee_share, "slippage": costs * (1 - fee_share)}


def max_drawdown(equity: np.ndarray) -> float:
    peak = np.maximum.accumulate(equity)
    return float((1 - equity / peak).max())


def summary(name: str, cooldown, run: dict) -> dict:
    equity = run["equity"][:, 0]
    return {
        "strategy": name,
        "cooldown_hours": cooldown,
        "final_value_usd": round(float(equity[-1]), 2),
        "return_pct": round(float(equity[-1] / equity[0] - 1) * 100, 2),
        "max_drawdown_pct": round(max_drawdown(equity) * 100, 2),
        "trades": int(run["trades"][0]),
        "fees_usd": round(float(run["fees"][0]), 2),
        "slippage_usd": round(float(run["slippage"][0]), 2),
    }


def model_buckets(x: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(HERE / "model.onnx"), sess_options=opts, providers=["CPUExecutionProvider"])
    logits = np.concatenate([sess.run(["logits"], {"input": x[i:i + 1]})[0] for i in range(len(x))])
    return logits.argmax(axis=1)  # first maximum, as the circuit's ArgMax


def pct(a: float) -> float:
    return round(float(a), 2)


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
    # The spread: 1,000 more random vaults (seeds 1000..1999), the same draws at every cooldown.
    many = np.stack([np.random.default_rng(1000 + s).choice(len(train.CLASSES), size=len(pred), p=freqs)
                     for s in range(RANDOM_SEEDS)], axis=1)

    runs, rows, controls = {}, [], []
    for c in COOLDOWNS_HOURS:
        model = simulate(pred, prices, cooldown_hours=c)
        rnd = simulate(rand, prices, cooldown_hours=c)
        gross = simulate(pred, prices, cooldown_hours=c, costs_on=False)
        runs[c] = {"model": model, "random": rnd}
        rows.append(summary("model", c, model))
        rows.append(summary(RANDOM_NAME, c, rnd))
        spread = simulate(many, prices, cooldown_hours=c)
        spread_gross = simulate(many, prices, cooldown_hours=c, costs_on=False)
        net = spread["equity"][-1] / START_VALUE_USD * 100 - 100
        net_gross = spread_gross["equity"][-1] / START_VALUE_USD * 100 - 100
        drag = net_gross - net  # what the same buckets lose to fees and slippage
        p5, p95 = np.percentile(net, 5), np.percentile(net, 95)
        no_costs = summary("", c, gross)
        model_ret, model_gross = rows[-2]["return_pct"], no_costs["return_pct"]
        controls.append({
            "cooldown_hours": c,
            "model_return_pct": model_ret,
            "model_no_costs": {k: v for k, v in no_costs.items() if k not in ("strategy", "cooldown_hours")},
            "random_seeds": RANDOM_SEEDS,
            "random_trades_mean": round(float(spread["trades"].mean()), 1),
            "random_return_pct_mean": pct(net.mean()),
            "random_return_pct_p5": pct(p5),
            "random_return_pct_p95": pct(p95),
            "share_of_seeds_beating_model": round(float((net > model_ret).mean()), 3),
            "random_no_costs_return_pct_mean": pct(net_gross.mean()),
            "random_no_costs_return_pct_p5": pct(np.percentile(net_gross, 5)),
            "random_no_costs_return_pct_p95": pct(np.percentile(net_gross, 95)),
            "no_costs_share_of_seeds_beating_model": round(float((net_gross > model_gross).mean()), 3),
            "random_cost_drag_pct_mean": pct(drag.mean()),
            "random_cost_drag_below_half_the_p5_p95_spread": bool(drag.mean() < (p95 - p5) / 2),
        })
    hold = simulate(np.full(len(pred), 2), prices, cooldown_hours=1)
    cash = {"equity": np.full((len(prices), 1), START_VALUE_USD), "trades": [0], "fees": [0.0], "slippage": [0.0]}
    rows.append(summary("buy and hold (50/50 start, never trades)", None, hold))
    rows.append(summary("all cash (does nothing)", None, cash))

    start = datetime.fromtimestamp(train.data.START_TIME + int(hours[0]) * train.data.INTERVAL, timezone.utc)
    end = datetime.fromtimestamp(train.data.START_TIME + int(hours[-1]) * train.data.INTERVAL, timezone.utc)
    block = {
        "period": f"answers {hours[0]}..{hours[-1]} of feed.json ({len(pred)} hourly decisions, "
                  f"{start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC, synthetic)",
        "eth_price_usd": {"start": round(float(prices[0]), 2), "end": round(float(prices[-1]), 2)},
        "start": f"{START_VALUE_USD:,.0f} USD of value, {START_ETH_FRACTION:.0%} in ETH at the first price",
        "vault": VAULT,
        "cooldown_rule": "after a trade at hour k the vault trades again at hour k + cooldown_hours at the earliest; "
                         "buy/sell predictions before that are not acted on; holds do not restart the cooldown",
        "cooldowns_compared_hours": list(COOLDOWNS_HOURS),
        "model_bucket_frequencies": {c: round(float(f), 4) for c, f in zip(train.CLASSES, freqs)},
        "results": rows,
        "control_random_buckets_over_seeds": controls,
    }
    metrics_path = HERE / "metrics.json"
    metrics = json.loads(metrics_path.read_text())
    metrics["backtest"] = block
    metrics_path.write_text(json.dumps(metrics, indent=2) + "\n")

    # --- tables --------------------------------------------------------------
    print(block["period"])
    print(f"ETH {prices[0]:,.2f} -> {prices[-1]:,.2f} USD; start {block['start']}")
    print()
    print("| strategy | cooldown | final value (USD) | return | max drawdown | trades | fees + slippage (USD) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        cd = "-" if r["cooldown_hours"] is None else f"{r['cooldown_hours']} h"
        print(f"| {r['strategy']} | {cd} | {r['final_value_usd']:,.2f} | {r['return_pct']:+.2f}% | "
              f"{r['max_drawdown_pct']:.2f}% | {r['trades']:,} | "
              f"{r['fees_usd']:,.2f} + {r['slippage_usd']:,.2f} |")
    print()
    print(f"| cooldown | model | {RANDOM_SEEDS:,} random vaults: mean (5-95%) | beat the model | model, no costs | "
          "random, no costs: mean (5-95%) | beat the model, no costs | random vaults' cost drag (mean) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in controls:
        print(f"| {r['cooldown_hours']} h | {r['model_return_pct']:+.2f}% | {r['random_return_pct_mean']:+.2f}% "
              f"({r['random_return_pct_p5']:+.2f}% .. {r['random_return_pct_p95']:+.2f}%) | "
              f"{r['share_of_seeds_beating_model']:.1%} | {r['model_no_costs']['return_pct']:+.2f}% | "
              f"{r['random_no_costs_return_pct_mean']:+.2f}% ({r['random_no_costs_return_pct_p5']:+.2f}% .. "
              f"{r['random_no_costs_return_pct_p95']:+.2f}%) | {r['no_costs_share_of_seeds_beating_model']:.1%} | "
              f"{r['random_cost_drag_pct_mean']:.2f} points |")

    # --- plot ----------------------------------------------------------------
    when = [datetime.fromtimestamp(train.data.START_TIME + int(h) * train.data.INTERVAL, timezone.utc)
            for h in hours]
    fig, (ax_p, ax_v) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, height_ratios=[1, 2])
    ax_p.plot(when, prices, color="0.3", lw=0.8)
    ax_p.set_ylabel("ETH (USD)")
    ax_p.set_title("eth-price backtest on the held-out hours (synthetic feed)", fontsize=11)
    d = VAULT["cooldown_hours"]
    styles = [("model, every hour", runs[1]["model"]["equity"], "tab:blue", "-", 1.2),
              ("random buckets (seed 0), every hour", runs[1]["random"]["equity"], "tab:orange", "-", 0.9),
              (f"model, {d} h cooldown", runs[d]["model"]["equity"], "tab:purple", "-", 1.2),
              (f"random buckets (seed 0), {d} h cooldown", runs[d]["random"]["equity"], "tab:red", "--", 0.9),
              ("buy and hold 50/50", hold["equity"], "tab:green", "-", 0.9),
              ("all cash", cash["equity"], "0.5", "-", 0.9)]
    for label, eq, color, ls, lw in styles:
        ax_v.plot(when, eq[:, 0], label=label, color=color, ls=ls, lw=lw)
    ax_v.set_ylabel("vault value (USD)")
    ax_v.legend(loc="lower left", fontsize=8, frameon=False)
    ax_v.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    for ax in (ax_p, ax_v):
        ax.grid(alpha=0.3, lw=0.5)
    fig.tight_layout()
    fig.savefig(HERE / "backtest.png", dpi=80, metadata={"Software": None})
    print(f"\nwrote metrics.json (backtest block), backtest.png ({(HERE / 'backtest.png').stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
