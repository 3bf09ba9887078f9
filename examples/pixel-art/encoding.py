#!/usr/bin/env python3
"""The pixel-art encodings of docs/encodings.md, in Python integers (standard library only).

    prompt (5 bytes)        -> 14 quantized model inputs at scale 2^S
    64 quantized outputs   <-> aigcData (256 bytes)
    64 quantized outputs    -> 64 pixel brightnesses 0..255

The same rules are written in Rust (zkml_model::encode) and Solidity, and all three read the fixture
test/fixtures/encodings/pixel-art.json, so they agree bit for bit. tokenId = keccak256(prompt) is not
here: the standard library has no keccak.

    python3 encoding.py --check [FIXTURE]   recompute every case and error of the fixture; exit 1 on a mismatch
    python3 encoding.py --write [FIXTURE]   rewrite the fixture: the hand-made cases from this file, the
                                            real-prompt cases kept from the fixture as it is (their outputs
                                            come from the float model, which train.py runs; train.py
                                            rewrites them)

FIXTURE defaults to test/fixtures/encodings/pixel-art.json in this repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SCALE = 12  # S: the example compiles with --scale 12
CLASSES = 10
LATENTS = 4
PROMPT_LEN = 1 + LATENTS  # class, then the latents
INPUTS = CLASSES + LATENTS
LATENT_FRACTION_BITS = 4  # a latent byte z is the real input z / 16
OUTPUTS = 64  # the 8x8 image, row-major
WORD_BYTES = 4  # bytes per output in aigcData
AIGC_DATA_LEN = OUTPUTS * WORD_BYTES

DEFAULT_FIXTURE = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "encodings" / "pixel-art.json"


class PromptError(ValueError):
    """A prompt byte that is not part of the encoding.

    `byte` is the offending byte's index: 0 for a class above 9, and the prompt's length (the index just
    past its last byte) when the prompt is not exactly 5 bytes long.
    """

    def __init__(self, byte: int, reason: str) -> None:
        super().__init__(f"prompt byte {byte}: {reason}")
        self.byte = byte
        self.reason = reason


class AigcDataError(ValueError):
    """aigcData that does not hold exactly the model's outputs, or an output that does not fit a word."""


def rdiv(a: int, b: int) -> int:
    """a / b rounded half away from zero, for b > 0: sign(a) * floor((2|a| + b) / 2b)."""
    if b <= 0:
        raise ValueError(f"rdiv: divisor {b} is not positive")
    q = (2 * abs(a) + b) // (2 * b)
    return -q if a < 0 else q


# ---------------------------------------------------------------------------
# Prompt -> inputs
# ---------------------------------------------------------------------------

def decode_prompt(prompt: bytes) -> tuple[int, list[int]]:
    """(class, [z_1..z_4]) of a prompt; PromptError for any other length or a class above 9."""
    prompt = bytes(prompt)
    if len(prompt) != PROMPT_LEN:
        raise PromptError(
            len(prompt),
            f"a prompt is exactly {PROMPT_LEN} bytes (class, then {LATENTS} signed latents), not {len(prompt)}",
        )
    c = prompt[0]
    if c >= CLASSES:
        raise PromptError(0, f"the class is {c}; classes are 0..9")
    latents = [b - 256 if b >= 128 else b for b in prompt[1:]]  # two's complement
    return c, latents


def encode_prompt(c: int, latents: list[int]) -> bytes:
    """The 5 prompt bytes of a class 0..9 and four latents -128..127."""
    if not 0 <= c < CLASSES:
        raise ValueError(f"class {c} is not 0..9")
    if len(latents) != LATENTS or any(not -128 <= z <= 127 for z in latents):
        raise ValueError(f"latents {latents}: need {LATENTS} values in -128..127")
    return bytes([c] + [z & 0xFF for z in latents])


def prompt_inputs(prompt: bytes, scale: int = SCALE) -> list[int]:
    """The 14 quantized inputs at 2^scale: one-hot 2^S or 0, then z * 2^(S-4)."""
    if scale < LATENT_FRACTION_BITS:
        raise ValueError(f"scale 2^{scale}: latents in 1/16 steps need an input scale of at least 2^4")
    c, latents = decode_prompt(prompt)
    one = 1 << scale
    return [one if k == c else 0 for k in range(CLASSES)] + [z << (scale - LATENT_FRACTION_BITS) for z in latents]


def prompt_floats(prompt: bytes) -> list[float]:
    """The float inputs the model is given (and trained on): one-hot, then z / 16. Exact in binary."""
    return [q / (1 << SCALE) for q in prompt_inputs(prompt)]


# ---------------------------------------------------------------------------
# Outputs <-> aigcData -> pixels
# ---------------------------------------------------------------------------

def aigc_data(outputs: list[int]) -> bytes:
    """Every quantized output as a 4-byte big-endian two's-complement integer: exactly 256 bytes."""
    if len(outputs) != OUTPUTS:
        raise AigcDataError(f"{len(outputs)} outputs; the model has exactly {OUTPUTS}")
    out = bytearray()
    for k, q in enumerate(outputs):
        if not -(1 << 31) <= q < (1 << 31):
            raise AigcDataError(f"output {k} is {q}, which does not fit a signed 32-bit aigcData word")
        out += q.to_bytes(WORD_BYTES, "big", signed=True)
    return bytes(out)


def outputs_from_aigc_data(data: bytes) -> list[int]:
    """The 64 quantized outputs aigcData holds; AigcDataError unless it is exactly 256 bytes."""
    data = bytes(data)
    if len(data) != AIGC_DATA_LEN:
        raise AigcDataError(
            f"{len(data)} bytes; the model's {OUTPUTS} outputs take exactly {AIGC_DATA_LEN} ({WORD_BYTES} bytes each)"
        )
    return [int.from_bytes(data[i:i + WORD_BYTES], "big", signed=True) for i in range(0, len(data), WORD_BYTES)]


def pixels(outputs: list[int], scale: int = SCALE) -> list[int]:
    """Brightness of each pixel: clamp(rdiv(q * 255, 2^S), 0, 255) (0 black, 255 white)."""
    return [min(max(rdiv(q * 255, 1 << scale), 0), 255) for q in outputs]


def quantize(value: float, scale: int = SCALE) -> int:
    """A float at 2^scale, rounded half away from zero (how the fixture turns float outputs into q_k)."""
    from fractions import Fraction  # exact: a float is a dyadic rational

    f = Fraction(value) * (1 << scale)
    return rdiv(f.numerator, f.denominator)


# ---------------------------------------------------------------------------
# Fixture
# ---------------------------------------------------------------------------

def hexstr(data: bytes) -> str:
    return "0x" + bytes(data).hex()


def unhex(text: str) -> bytes:
    if not isinstance(text, str) or not text.startswith("0x"):
        raise ValueError(f"{text!r} is not a 0x-prefixed hex string")
    return bytes.fromhex(text[2:])


def make_case(name: str, prompt: bytes, outputs: list[int]) -> dict:
    data = aigc_data(outputs)
    return {
        "name": name,
        "prompt": hexstr(prompt),
        "inputs": prompt_inputs(prompt),
        "aigcData": hexstr(data),
        "outputs": list(outputs),
        "pixels": pixels(outputs),
    }


def hand_made_cases() -> list[dict]:
    """Outputs chosen for the rounding and the clamp, not produced by the model."""
    # q * 255 / 4096 is an exact half only for q = 2048 * odd (2048 -> 127.5, 6144 -> 382.5).
    rounding = [
        0, 1, 8, 9,  # 0.06 -> 0, 0.498 -> 0, 0.56 -> 1
        16, 24, 25, 2047,  # 0.996 -> 1, 1.494 -> 1, 1.556 -> 2, 127.44 -> 127
        2048, 2049, 4080, 4095,  # 127.5 -> 128 (exact half, up), 127.56 -> 128, 254.0, 254.94 -> 255
        4096, -1, -8, -9,  # 255; small negatives round toward 0 or -1 and clamp to 0
        -2048, -2047, -2049, 6144,  # -127.5 -> -128 (half away from zero), clamps; 382.5 -> 383 -> 255
    ]
    rounding += [(k * 257) % 4097 for k in range(OUTPUTS - len(rounding))]  # a spread over 0..4096
    clamp = [
        -1, -4096, -100000, -(1 << 31),  # negatives: 0
        4096, 4097, 4112, 4113,  # 255.0, 255.06, 256.0 and 256.06: all 255
        8192, 1 << 20, (1 << 31) - 1, 2048,  # far above 2^S: 255; the largest aigcData word
        -2048, 6144, 4079, 4081,  # exact halves both sides of the clamp; 253.94 -> 254, 254.06 -> 254
    ]
    clamp += [(-1) ** k * k * 129 for k in range(OUTPUTS - len(clamp))]  # alternating signs
    assert len(rounding) == OUTPUTS and len(clamp) == OUTPUTS
    return [
        make_case("hand-made outputs: rounding half away from zero", encode_prompt(0, [0, 0, 0, 0]), rounding),
        make_case("hand-made outputs: clamp to 0..255, int32 extremes", encode_prompt(9, [127, -128, 1, -1]), clamp),
    ]


def error_cases() -> list[dict]:
    cases = [
        ("empty prompt", b""),
        ("4 bytes", bytes([3, 0, 0, 0])),
        ("6 bytes", bytes([3, 0, 0, 0, 0, 0])),
        ("class 10", bytes([10, 0, 0, 0, 0])),
        ("class 255", bytes([255, 1, 2, 3, 4])),
    ]
    out = []
    for name, prompt in cases:
        try:
            decode_prompt(prompt)
        except PromptError as e:
            out.append({"name": name, "prompt": hexstr(prompt), "byte": e.byte})
        else:  # pragma: no cover - a bug in this file
            raise AssertionError(f"error case {name!r} decodes")
    return out


def build_fixture(real_cases: list[tuple[str, bytes, list[int]]]) -> dict:
    """real_cases: (name, prompt, quantized float-model outputs)."""
    return {
        "scale": SCALE,
        "cases": [make_case(n, p, q) for n, p, q in real_cases] + hand_made_cases(),
        "errors": error_cases(),
    }


def dumps_fixture(doc: dict) -> str:
    """JSON with one key per line and every array on one line."""
    def line(v) -> str:
        return json.dumps(v, separators=(", ", ": "))

    lines = ["{", f'  "scale": {line(doc["scale"])},', '  "cases": [']
    for i, case in enumerate(doc["cases"]):
        body = ",\n".join(f"      {json.dumps(k)}: {line(v)}" for k, v in case.items())
        lines.append("    {\n" + body + "\n    }" + ("," if i + 1 < len(doc["cases"]) else ""))
    lines.append("  ],")
    lines.append('  "errors": [')
    for i, err in enumerate(doc["errors"]):
        lines.append("    " + line(err) + ("," if i + 1 < len(doc["errors"]) else ""))
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_fixture(path: Path, real_cases: list[tuple[str, bytes, list[int]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps_fixture(build_fixture(real_cases)))


def is_hand_made(case: dict) -> bool:
    return case["name"].startswith("hand-made")


def check_fixture(doc: dict) -> list[str]:
    """Every mismatch between the fixture and this file's encodings, as messages (empty: all agree)."""
    problems = []
    if doc.get("scale") != SCALE:
        problems.append(f"scale is {doc.get('scale')!r}, expected {SCALE}")
        return problems
    cases = doc.get("cases", [])
    errors = doc.get("errors", [])
    if not cases or not errors:
        problems.append(f"{len(cases)} cases and {len(errors)} errors: the fixture needs both")
    for case in cases:
        name = case.get("name", "?")
        try:
            prompt = unhex(case["prompt"])
            got = prompt_inputs(prompt)
            if got != case["inputs"]:
                problems.append(f"case {name!r}: inputs of prompt {case['prompt']} are {got}, fixture has {case['inputs']}")
            outputs = case["outputs"]
            data = aigc_data(outputs)
            if hexstr(data) != case["aigcData"]:
                problems.append(f"case {name!r}: aigcData of the outputs is {hexstr(data)}, fixture has {case['aigcData']}")
            back = outputs_from_aigc_data(unhex(case["aigcData"]))
            if back != outputs:
                problems.append(f"case {name!r}: the fixture's aigcData decodes to {back}, fixture outputs are {outputs}")
            px = pixels(outputs)
            if px != case["pixels"]:
                bad = [k for k in range(len(px)) if k >= len(case["pixels"]) or px[k] != case["pixels"][k]]
                k = bad[0] if bad else len(px)
                problems.append(
                    f"case {name!r}: pixel {k} of output {outputs[k] if k < len(outputs) else '?'} is "
                    f"{px[k] if k < len(px) else '?'}, fixture has "
                    f"{case['pixels'][k] if k < len(case['pixels']) else 'nothing'} ({len(bad)} pixels differ)"
                )
        except (KeyError, TypeError, ValueError) as e:
            problems.append(f"case {name!r}: {type(e).__name__}: {e}")
    expected_hand = hand_made_cases()
    got_hand = [c for c in cases if is_hand_made(c)]
    if got_hand != expected_hand:
        problems.append("the hand-made cases differ from encoding.py's (run --write to regenerate them)")
    for err in errors:
        name = err.get("name", "?")
        try:
            prompt = unhex(err["prompt"])
        except (KeyError, ValueError) as e:
            problems.append(f"error {name!r}: {e}")
            continue
        try:
            decode_prompt(prompt)
        except PromptError as e:
            if e.byte != err.get("byte"):
                problems.append(f"error {name!r}: prompt {err['prompt']} is refused at byte {e.byte}, fixture says {err.get('byte')}")
        else:
            problems.append(f"error {name!r}: prompt {err['prompt']} decodes, fixture expects an error at byte {err.get('byte')}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="recompute the fixture; exit 1 on a mismatch")
    mode.add_argument("--write", action="store_true", help="rewrite the fixture (real-prompt cases kept)")
    ap.add_argument("fixture", nargs="?", type=Path, default=DEFAULT_FIXTURE)
    args = ap.parse_args(argv)

    if args.write:
        real = []
        if args.fixture.exists():
            old = json.loads(args.fixture.read_text())
            real = [(c["name"], unhex(c["prompt"]), c["outputs"]) for c in old["cases"] if not is_hand_made(c)]
        write_fixture(args.fixture, real)
        print(f"wrote {args.fixture} ({len(real)} real-prompt cases kept)")
        return 0

    try:
        doc = json.loads(args.fixture.read_text())
    except (OSError, json.JSONDecodeError) as e:
        print(f"{args.fixture}: {e}", file=sys.stderr)
        return 1
    problems = check_fixture(doc)
    if problems:
        print(f"{args.fixture}: {len(problems)} mismatch(es):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print(f"{args.fixture}: {len(doc['cases'])} cases and {len(doc['errors'])} errors agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
