#!/usr/bin/env python3
"""The synthetic ETH/USD hourly feed of examples/eth-price (standard library only).

No package on PyPI or npm ships a real, licensed hourly ETH/USD series inside the package (README.md,
"The data", lists what was checked), and this machine reaches nothing else, so the feed is made here:

- Log-price random walk (geometric Brownian motion) with a Markov-switching regime: calm, bull, bear.
  Each regime has its own drift and long-run volatility; the regime persists for days (expected stay
  RegimeSpec.hours) and then switches.
- Volatility clustering: GARCH(1,1) on the hourly shocks, whose long-run variance is the current
  regime's, so a switch moves volatility gradually, as on a real market.
- Fat tails: shocks are Student-t with 5 degrees of freedom, rescaled to unit variance.
- 8,760 hourly answers (one year) starting at 3,000 USD on 2024-01-01 00:00 UTC, fixed seed 0 (not
  tuned: the first seed tried), Chainlink-style integers with 8 decimals.

Nothing in it is predictable beyond what a regime's drift and the volatility clustering give: returns are
serially independent given the regime. It is a test bed for the pipeline, not a market.

    python3 data.py            write feed.json next to this file
    python3 data.py --stats    print summary statistics of the series (and write nothing)

Deterministic: random.Random(seed) and math's exp/log only, so any CPython 3 gives the same answers.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
FEED_PATH = HERE / "feed.json"

SEED = 0
HOURS = 8760  # answers: one year of hourly rounds
START_PRICE = 3000.0  # USD per ETH
START_TIME = 1704067200  # 2024-01-01T00:00:00Z
INTERVAL = 3600  # seconds between answers
DECIMALS = 8

# GARCH(1,1): var_t = (1 - ALPHA - BETA) * regime_var + ALPHA * shock_{t-1}^2 + BETA * var_{t-1}
GARCH_ALPHA = 0.06
GARCH_BETA = 0.92
STUDENT_DF = 5


@dataclass(frozen=True)
class RegimeSpec:
    name: str
    drift: float  # mean log return per hour
    vol: float  # long-run standard deviation of the hourly log return
    hours: float  # expected stay, in hours
    next: tuple[float, float, float]  # where it goes on leaving: P(calm), P(bull), P(bear)


REGIMES = (
    RegimeSpec("calm", drift=0.0, vol=0.0045, hours=240.0, next=(0.0, 0.55, 0.45)),
    RegimeSpec("bull", drift=+0.00025, vol=0.0065, hours=150.0, next=(0.7, 0.0, 0.3)),
    RegimeSpec("bear", drift=-0.00030, vol=0.0090, hours=100.0, next=(0.6, 0.4, 0.0)),
)


def student_t(rng: random.Random, df: int) -> float:
    """A Student-t draw rescaled to unit variance."""
    z = rng.gauss(0.0, 1.0)
    chi2 = rng.gammavariate(df / 2.0, 2.0)
    return z / math.sqrt(chi2 / df) * math.sqrt((df - 2) / df)


def generate(seed: int = SEED, hours: int = HOURS) -> tuple[list[int], list[str]]:
    """(answers, regime names): `hours` answers (USD per ETH * 10^8) and the regime each return was drawn in.

    regimes[t] is the regime of the return from answer t-1 to answer t (regimes[0] is the start regime).
    """
    rng = random.Random(seed)
    state = 0  # start calm
    var = REGIMES[state].vol ** 2
    log_price = math.log(START_PRICE)
    answers = [round(START_PRICE * 10**DECIMALS)]
    regimes = [REGIMES[state].name]
    shock = 0.0
    for _ in range(1, hours):
        spec = REGIMES[state]
        if rng.random() < 1.0 / spec.hours:  # leave the regime
            u = rng.random()
            acc = 0.0
            for k, p in enumerate(spec.next):
                acc += p
                if u < acc:
                    state = k
                    break
            spec = REGIMES[state]
        var = (1.0 - GARCH_ALPHA - GARCH_BETA) * spec.vol**2 + GARCH_ALPHA * shock**2 + GARCH_BETA * var
        shock = math.sqrt(var) * student_t(rng, STUDENT_DF)
        log_price += spec.drift - var / 2.0 + shock
        answers.append(round(math.exp(log_price) * 10**DECIMALS))
        regimes.append(spec.name)
    assert all(0 < a < 1 << 96 for a in answers)
    return answers, regimes


def feed_document(answers: list[int]) -> dict:
    return {
        "source": (
            "SYNTHETIC, not market data: regime-switching geometric Brownian motion with GARCH(1,1) "
            f"volatility clustering and Student-t shocks, examples/eth-price/data.py, seed {SEED}"
        ),
        "pair": "ETH/USD",
        "decimals": DECIMALS,
        "interval": INTERVAL,
        "startedAt": START_TIME,
        "answers": answers,
    }


def write_feed(path: Path = FEED_PATH) -> list[int]:
    answers, _ = generate()
    text = json.dumps(feed_document(answers), separators=(",", ":"))
    path.write_text(text + "\n")
    return answers


def stats(answers: list[int], regimes: list[str]) -> str:
    r = [math.log(b / a) for a, b in zip(answers, answers[1:])]
    n = len(r)
    mean = sum(r) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in r) / n)
    kurt = sum((x - mean) ** 4 for x in r) / n / sd**4

    def acf(xs: list[float], lag: int) -> float:
        m = sum(xs) / len(xs)
        v = sum((x - m) ** 2 for x in xs)
        return sum((xs[i] - m) * (xs[i - lag] - m) for i in range(lag, len(xs))) / v

    lines = [
        f"answers {len(answers)}, first {answers[0] / 1e8:.2f}, last {answers[-1] / 1e8:.2f}, "
        f"min {min(answers) / 1e8:.2f}, max {max(answers) / 1e8:.2f} USD",
        f"hourly log return: mean {mean * 1e4:.2f} bp, sd {sd * 1e4:.1f} bp "
        f"(annualized vol {sd * math.sqrt(8760) * 100:.0f}%), kurtosis {kurt:.1f}",
        f"autocorrelation of returns lag 1/2/24: {acf(r, 1):+.3f} {acf(r, 2):+.3f} {acf(r, 24):+.3f}",
        f"autocorrelation of |returns| lag 1/24: {acf([abs(x) for x in r], 1):+.3f} "
        f"{acf([abs(x) for x in r], 24):+.3f}",
        "hours per regime: " + ", ".join(f"{s.name} {regimes[1:].count(s.name)}" for s in REGIMES),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stats", action="store_true", help="print statistics of the series, write nothing")
    args = ap.parse_args(argv)
    if args.stats:
        print(stats(*generate()))
        return 0
    answers = write_feed()
    print(f"wrote {FEED_PATH.name}: {len(answers)} answers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
