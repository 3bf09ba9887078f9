#!/usr/bin/env python3
"""The price-feed -> model-input encoding of docs/encodings.md, in Python integers (standard library only).

    answers p_0..p_12 (USD per ETH * 10^8, oldest first)  ->  12 quantized model inputs at scale 2^S

    x_i = rdiv((p_i - p_{i-1}) * M * 2^S, p_{i-1})   for i = 1..N,   N = 12, M = 100, S = 12

rdiv rounds half away from zero; every answer must satisfy 0 < p < 2^96, and any other value is an
error naming its index and value. x_i is the integer the proof's input section holds; the float the
model is trained on and given is x_i / 2^S (exact in binary). The same rule is written in Rust
(zkml_model::encode) and Solidity, and all three read the fixture test/fixtures/encodings/eth-price.json,
so they agree bit for bit.

    python3 features.py --check [FIXTURE]   recompute every case and error case; exit 1 on a mismatch
    python3 features.py --write [FIXTURE]   rewrite the fixture: hand-made cases from this file, real
                                            windows from feed.json
    python3 features.py --feed feed.json [--at I]
                                            the inputs of the window ending at answer I (default: last)

FIXTURE defaults to test/fixtures/encodings/eth-price.json in this repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

WINDOW = 12  # N: returns per window, so WINDOW + 1 answers
MULTIPLIER = 100  # M: returns in percent
SCALE = 12  # S: the example compiles with --scale 12
MAX_ANSWER_BITS = 96  # every answer is below 2^96

HERE = Path(__file__).resolve().parent
DEFAULT_FIXTURE = HERE.parents[1] / "test" / "fixtures" / "encodings" / "eth-price.json"
DEFAULT_FEED = HERE / "feed.json"


class AnswerError(ValueError):
    """A feed answer outside (0, 2^96). `index` is its position among the answers given (0-based)."""

    def __init__(self, index: int, value: int) -> None:
        super().__init__(
            f"feed answer {index} is {value}: answers must be positive and below 2^{MAX_ANSWER_BITS}"
        )
        self.index = index
        self.value = value


class AnswerCountError(ValueError):
    """Not WINDOW + 1 answers."""

    def __init__(self, given: int, window: int) -> None:
        super().__init__(
            f"{given} feed answers given: a window of {window} returns needs {window + 1} consecutive answers"
        )
        self.given = given
        self.window = window


def rdiv(a: int, b: int) -> int:
    """a / b rounded half away from zero, for b > 0: sign(a) * floor((2|a| + b) / 2b)."""
    if b <= 0:
        raise ValueError(f"rdiv: divisor {b} is not positive")
    q = (2 * abs(a) + b) // (2 * b)
    return -q if a < 0 else q


def check_answers(answers: list[int], offset: int = 0) -> None:
    """AnswerError for the first answer that is not an integer in (0, 2^96); its index plus `offset`."""
    for i, p in enumerate(answers):
        if isinstance(p, bool) or not isinstance(p, int) or not 0 < p < 1 << MAX_ANSWER_BITS:
            raise AnswerError(i + offset, p)


def inputs(answers: list[int], window: int = WINDOW, multiplier: int = MULTIPLIER, scale: int = SCALE) -> list[int]:
    """x_1..x_N of exactly N + 1 answers p_0..p_N, oldest first: the quantized model inputs."""
    answers = list(answers)
    if len(answers) != window + 1:
        raise AnswerCountError(len(answers), window)
    check_answers(answers)
    factor = multiplier << scale
    return [rdiv((b - a) * factor, a) for a, b in zip(answers, answers[1:])]


def floats(quantized: list[int], scale: int = SCALE) -> list[float]:
    """x_i / 2^S: what the model is trained on and given (quantizes back to x_i exactly)."""
    return [x / (1 << scale) for x in quantized]


def feed_inputs(answers: list[int], window: int = WINDOW) -> list[list[int]]:
    """The inputs of every window of a whole feed: row k is the window ending at answer k + window."""
    check_answers(answers)
    factor = MULTIPLIER << SCALE
    returns = [rdiv((b - a) * factor, a) for a, b in zip(answers, answers[1:])]
    return [returns[k:k + window] for k in range(len(returns) - window + 1)]


def parse_answer(v) -> int:
    """An answer from JSON: an integer, or a decimal string (answers may exceed 2^53)."""
    if isinstance(v, bool):
        raise ValueError(f"answer {v!r} is not an integer")
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        s = v.strip()
        if s and (s.lstrip("-").isdigit()):
            return int(s)
    raise ValueError(f"answer {v!r} is not an integer or a decimal string")


def load_feed(path: Path) -> list[int]:
    """The answers of a feed file {"answers": [...]} (or a bare array)."""
    doc = json.loads(Path(path).read_text())
    raw = doc["answers"] if isinstance(doc, dict) else doc
    return [parse_answer(v) for v in raw]


# ---------------------------------------------------------------------------
# Fixture
# ---------------------------------------------------------------------------

def _halves_window() -> tuple[list[int], list[int]]:
    """13 answers near 3,000 USD whose returns 1, 3, 5, 7, 9, 11 are exact halves, alternating sign.

    With F = M * 2^S = 409,600 and p_{i-1} = 2F * m, a move of d = m * (2k + 1) gives
    d * F / p_{i-1} = k + 1/2 exactly. The even returns (back to the base) are ordinary values.
    """
    F = MULTIPLIER << SCALE
    m = 366_211  # 2F * m = 300,000,051,200: 3,000.000512 USD
    base = 2 * F * m
    halves = [0, -1, 2047, -2048, 123, -40960]  # x = k + 1/2: 0.5, -0.5, 2047.5, -2047.5, 123.5, -40959.5
    answers = [base]
    expected_halves = []
    for k in halves:
        answers += [base + m * (2 * k + 1), base]
        expected_halves.append(k + 1 if k >= 0 else k)  # away from zero: 0.5 -> 1, -0.5 -> -1, -2047.5 -> -2048
    return answers, expected_halves


def hand_cases() -> list[dict]:
    cases = []

    def case(name: str, answers: list[int]) -> None:
        cases.append({"name": name, "answers": answers})

    usd = 10**8
    case("flat", [3000 * usd] * 13)
    case("rising", [3000 * usd + k * k * 7_654_321 * 100 + k * 13 for k in range(13)])
    case("falling", [3000 * usd - k * 1_234_567_891 - k * k * 9 for k in range(13)])
    case("one percent up then down",
         [300_000_000_000, 303_000_000_000, 300_000_000_000] + [300_000_000_000] * 9 + [297_000_000_000])
    halves, _ = _halves_window()
    case("exact halves round away from zero (x = 0.5, -0.5, 2047.5, -2047.5, 123.5, -40959.5)", halves)
    # Just below and just above a half: (p_i - p_{i-1}) * F / p_{i-1} = 0.5 -/+ 1/(2 * 819,200 * m).
    F = MULTIPLIER << SCALE
    base = 2 * F * 366_211
    case("just below and above halves",
         [base, base + 366_211 - 1, base, base + 366_211 + 1, base, base - 366_211 + 1, base,
          base - 366_211 - 1, base, base + 3 * 366_211 - 1, base, base - 3 * 366_211 - 1, base])
    top = (1 << 96) - 1
    case("near 2^96", [top, top - 1, top, top - 10**20, top - 10**25, top - 2**90, top - 2**95 + 1,
                       2**95, top, top - 12345678901234567890123, top - 1, 2**96 - 2**94, top])
    case("tiny answers", [1, 2, 1, 3, 2, 5, 7, 1, 1, 100, 99, 101, 1])
    case("large moves", [3000 * usd, 6000 * usd, 1500 * usd, 1501 * usd, 15 * usd, 3000 * usd,
                         3000 * usd + 1, 3000 * usd, 2999 * usd, 4500 * usd, 4500 * usd, 1, 1])
    return cases


def error_cases() -> list[dict]:
    ok = [300_000_000_000 + 1_000_000 * k for k in range(13)]

    def bad(index: int, value: int) -> list[int]:
        answers = list(ok)
        answers[index] = value
        return answers

    both = bad(4, 0)
    both[9] = -1
    return [
        {"name": "zero answer", "answers": bad(5, 0), "index": 5},
        {"name": "zero first answer", "answers": bad(0, 0), "index": 0},
        {"name": "negative answer", "answers": bad(7, -300_000_000_000), "index": 7},
        {"name": "negative one", "answers": bad(1, -1), "index": 1},
        {"name": "answer equal to 2^96", "answers": bad(12, 1 << 96), "index": 12},
        {"name": "answer above 2^96", "answers": bad(3, (1 << 96) + 12345), "index": 3},
        {"name": "answer far above 2^96 (2^255)", "answers": bad(11, 1 << 255), "index": 11},
        {"name": "most negative int256", "answers": bad(2, -(1 << 255)), "index": 2},
        {"name": "two bad answers: the first is named", "answers": both, "index": 4},
    ]


def feed_windows(answers: list[int]) -> list[dict]:
    """Real windows of feed.json: the first, the biggest absolute move, a few spread out, the last."""
    n = len(answers)
    ends = [WINDOW, n // 3, 2 * n // 3, n - 1]
    moves = [abs(b - a) * 10**6 // a for a, b in zip(answers, answers[1:])]
    biggest = max(range(len(moves)), key=lambda i: (moves[i], -i)) + 1  # answer index ending the move
    ends.append(max(biggest, WINDOW))
    out = []
    for end in sorted(set(ends)):
        out.append({"name": f"feed.json answers {end - WINDOW}..{end}", "answers": answers[end - WINDOW:end + 1]})
    return out


def build_fixture(feed: Path = DEFAULT_FEED) -> dict:
    cases = hand_cases() + feed_windows(load_feed(feed))
    for c in cases:
        c["inputs"] = inputs(c["answers"])
        c["answers"] = [str(p) for p in c["answers"]]
    errors = []
    for e in error_cases():
        try:
            inputs(e["answers"])
        except AnswerError as err:
            assert err.index == e["index"], (e["name"], err.index)
        else:
            raise AssertionError(f"error case {e['name']} passed")
        errors.append({"name": e["name"], "answers": [str(p) for p in e["answers"]], "index": e["index"]})
    return {"window": WINDOW, "multiplier": MULTIPLIER, "scale": SCALE, "cases": cases, "errors": errors}


def write_fixture(path: Path, feed: Path = DEFAULT_FEED) -> dict:
    doc = build_fixture(feed)
    lines = ["{", f'  "window": {doc["window"]},', f'  "multiplier": {doc["multiplier"]},',
             f'  "scale": {doc["scale"]},', '  "cases": [']
    # One case per line group: readable diffs, and still plain JSON.
    for k, c in enumerate(doc["cases"]):
        comma = "," if k + 1 < len(doc["cases"]) else ""
        lines.append(f'    {{"name": {json.dumps(c["name"])},')
        lines.append(f'     "answers": {json.dumps(c["answers"])},')
        lines.append(f'     "inputs": {json.dumps(c["inputs"])}}}{comma}')
    lines.append("  ],")
    lines.append('  "errors": [')
    for k, e in enumerate(doc["errors"]):
        comma = "," if k + 1 < len(doc["errors"]) else ""
        lines.append(f'    {{"name": {json.dumps(e["name"])}, "index": {e["index"]},')
        lines.append(f'     "answers": {json.dumps(e["answers"])}}}{comma}')
    lines.append("  ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == doc
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return doc


def check_fixture(path: Path) -> list[str]:
    """Every mismatch between the fixture and this file's encoding (empty: they agree)."""
    doc = json.loads(Path(path).read_text())
    problems = []
    for key, want in (("window", WINDOW), ("multiplier", MULTIPLIER), ("scale", SCALE)):
        if doc.get(key) != want:
            problems.append(f'"{key}" is {doc.get(key)!r}, the encoding has {want}')
    for c in doc.get("cases", []):
        name = c.get("name", "?")
        try:
            answers = [parse_answer(v) for v in c["answers"]]
            got = inputs(answers, doc.get("window", WINDOW), doc.get("multiplier", MULTIPLIER),
                         doc.get("scale", SCALE))
        except (ValueError, KeyError) as err:
            problems.append(f"case {name!r}: {err}")
            continue
        if got != c.get("inputs"):
            diff = [i for i, (a, b) in enumerate(zip(got, c.get("inputs") or [])) if a != b]
            problems.append(f"case {name!r}: computed {got}, fixture has {c.get('inputs')} "
                            f"(first difference at x_{diff[0] + 1 if diff else '?'})")
    for e in doc.get("errors", []):
        name = e.get("name", "?")
        try:
            answers = [parse_answer(v) for v in e["answers"]]
            got = inputs(answers, doc.get("window", WINDOW), doc.get("multiplier", MULTIPLIER),
                         doc.get("scale", SCALE))
        except AnswerError as err:
            if err.index != e.get("index"):
                problems.append(f"error case {name!r}: refused answer {err.index}, fixture says {e.get('index')}")
            continue
        except (ValueError, KeyError) as err:
            problems.append(f"error case {name!r}: {err}")
            continue
        problems.append(f"error case {name!r}: accepted, gave {got}; fixture expects answer {e.get('index')} refused")
    if not doc.get("cases") or not doc.get("errors"):
        problems.append("the fixture has no cases or no error cases")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", nargs="?", const=DEFAULT_FIXTURE, type=Path, metavar="FIXTURE")
    mode.add_argument("--write", nargs="?", const=DEFAULT_FIXTURE, type=Path, metavar="FIXTURE")
    mode.add_argument("--feed", type=Path, metavar="FEED.json")
    ap.add_argument("--at", type=int, help="with --feed: index of the window's last answer (default: the last)")
    args = ap.parse_args(argv)

    if args.check is not None:
        try:
            problems = check_fixture(args.check)
        except (OSError, json.JSONDecodeError) as err:
            print(f"{args.check}: {err}", file=sys.stderr)
            return 1
        doc = json.loads(args.check.read_text())
        if problems:
            for p in problems:
                print(f"{args.check}: {p}", file=sys.stderr)
            print(f"{args.check}: {len(problems)} mismatch(es)", file=sys.stderr)
            return 1
        print(f"{args.check}: {len(doc['cases'])} cases and {len(doc['errors'])} error cases agree")
        return 0
    if args.write is not None:
        doc = write_fixture(args.write)
        print(f"wrote {args.write}: {len(doc['cases'])} cases, {len(doc['errors'])} error cases")
        return 0

    answers = load_feed(args.feed)
    end = len(answers) - 1 if args.at is None else (args.at if args.at >= 0 else len(answers) + args.at)
    if not WINDOW <= end < len(answers):
        print(f"{args.feed}: --at {args.at} does not end a window of {WINDOW + 1} answers "
              f"(indices {WINDOW}..{len(answers) - 1})", file=sys.stderr)
        return 1
    try:
        xs = inputs(answers[end - WINDOW:end + 1])
    except AnswerError as err:
        print(f"{args.feed}: answer {err.index + end - WINDOW} is {err.value}: answers must be positive "
              f"and below 2^{MAX_ANSWER_BITS}", file=sys.stderr)
        return 1
    print(json.dumps({"first": end - WINDOW, "last": end, "quantized": xs, "inputs": floats(xs)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
