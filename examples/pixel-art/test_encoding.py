#!/usr/bin/env python3
"""Tests of encoding.py (standard library only).

    python3 -m unittest discover -s examples/pixel-art -p 'test_*.py'     (from the repository root)
    python3 test_encoding.py                                              (from this folder)
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import encoding as enc  # noqa: E402


class Rdiv(unittest.TestCase):
    def test_half_away_from_zero(self):
        self.assertEqual([enc.rdiv(a, b) for a, b in [(5, 2), (-5, 2), (4, 3), (-4, 3), (7, 2), (0, 9), (-1, 2)]],
                         [3, -3, 1, -1, 4, 0, -1])

    def test_matches_exact_rounding(self):
        from fractions import Fraction

        for a in range(-600, 601, 7):
            for b in (1, 2, 3, 16, 255, 4096):
                f = Fraction(a, b)
                mag = abs(f)
                r = int(mag) + (1 if mag - int(mag) >= Fraction(1, 2) else 0)
                self.assertEqual(enc.rdiv(a, b), r if f >= 0 else -r, (a, b))

    def test_refuses_nonpositive_divisor(self):
        with self.assertRaises(ValueError):
            enc.rdiv(1, 0)


class Prompt(unittest.TestCase):
    def test_decode_signed_latents(self):
        self.assertEqual(enc.decode_prompt(bytes([7, 0x10, 0xF0, 0x80, 0x7F])), (7, [16, -16, -128, 127]))

    def test_inputs(self):
        inputs = enc.prompt_inputs(bytes([7, 0x10, 0xF0, 0x80, 0x7F]))
        self.assertEqual(len(inputs), enc.INPUTS)
        self.assertEqual(inputs[:10], [0] * 7 + [4096] + [0, 0])
        self.assertEqual(inputs[10:], [4096, -4096, -32768, 32512])  # z * 2^(12-4)

    def test_inputs_at_other_scales(self):
        self.assertEqual(enc.prompt_inputs(bytes([0, 1, 0xFF, 0, 0]), scale=4)[:1] + enc.prompt_inputs(
            bytes([0, 1, 0xFF, 0, 0]), scale=4)[10:12], [16, 1, -1])
        with self.assertRaises(ValueError):
            enc.prompt_inputs(bytes(5), scale=3)

    def test_floats_are_exact(self):
        floats = enc.prompt_floats(bytes([2, 0x81, 3, 0, 0xFF]))
        self.assertEqual(floats[2], 1.0)
        self.assertEqual(floats[10:], [-127 / 16, 3 / 16, 0.0, -1 / 16])

    def test_encode_round_trips(self):
        for c in range(10):
            for z in ([0, 0, 0, 0], [-128, 127, -1, 1], [5, -6, 7, -8]):
                self.assertEqual(enc.decode_prompt(enc.encode_prompt(c, z)), (c, z))
        with self.assertRaises(ValueError):
            enc.encode_prompt(10, [0, 0, 0, 0])
        with self.assertRaises(ValueError):
            enc.encode_prompt(0, [128, 0, 0, 0])

    def test_errors_name_the_byte(self):
        for prompt, byte in [(b"", 0), (bytes(4), 4), (bytes(6), 6), (bytes(300), 300),
                             (bytes([10, 0, 0, 0, 0]), 0), (bytes([255, 0, 0, 0, 0]), 0)]:
            with self.assertRaises(enc.PromptError) as cm:
                enc.decode_prompt(prompt)
            self.assertEqual(cm.exception.byte, byte, prompt.hex())
            self.assertIn(f"prompt byte {byte}", str(cm.exception))
        with self.assertRaises(enc.PromptError) as cm:
            enc.prompt_inputs(bytes([12, 0, 0, 0, 0]))
        self.assertIn("class is 12", str(cm.exception))

    def test_length_is_checked_before_the_class(self):
        with self.assertRaises(enc.PromptError) as cm:
            enc.decode_prompt(bytes([99, 0, 0]))
        self.assertEqual(cm.exception.byte, 3)


class AigcData(unittest.TestCase):
    def test_round_trip(self):
        outputs = [0, -1, 4096, 4097, 2**31 - 1, -(2**31)] + list(range(-29, 29))
        data = enc.aigc_data(outputs)
        self.assertEqual(len(data), 256)
        self.assertEqual(data[4:8], b"\xff\xff\xff\xff")
        self.assertEqual(data[8:12], bytes([0, 0, 0x10, 0]))
        self.assertEqual(data[20:24], bytes([0x80, 0, 0, 0]))
        self.assertEqual(enc.outputs_from_aigc_data(data), outputs)

    def test_wrong_lengths(self):
        for n in (0, 4, 252, 255, 257, 260):
            with self.assertRaises(enc.AigcDataError) as cm:
                enc.outputs_from_aigc_data(bytes(n))
            self.assertIn(f"{n} bytes", str(cm.exception))
        for n in (0, 63, 65):
            with self.assertRaises(enc.AigcDataError):
                enc.aigc_data([0] * n)

    def test_word_overflow(self):
        for v in (2**31, -(2**31) - 1):
            outputs = [0] * 64
            outputs[9] = v
            with self.assertRaises(enc.AigcDataError) as cm:
                enc.aigc_data(outputs)
            self.assertIn("output 9", str(cm.exception))


class Pixels(unittest.TestCase):
    def test_rule(self):
        q = [0, 8, 9, 2047, 2048, 2049, 4096, 4097, 4112, 6144, -1, -2048, -(2**31), 2**31 - 1]
        self.assertEqual(enc.pixels(q), [0, 0, 1, 127, 128, 128, 255, 255, 255, 255, 0, 0, 0, 255])

    def test_exact_halves(self):
        # q * 255 / 4096 = k + 1/2 exactly when q = 2048 * odd.
        for odd in (1, 3, 5):
            q = 2048 * odd
            self.assertEqual(q * 255 * 2 % 4096, 0)
            self.assertEqual(enc.rdiv(q * 255, 4096), (255 * odd + 1) // 2)
            self.assertEqual(enc.rdiv(-q * 255, 4096), -((255 * odd + 1) // 2))

    def test_monotone_and_in_range(self):
        px = enc.pixels(list(range(-100, 4300)))
        self.assertTrue(all(0 <= v <= 255 for v in px))
        self.assertTrue(all(a <= b for a, b in zip(px, px[1:])))

    def test_quantize_half_away_from_zero(self):
        self.assertEqual(enc.quantize(0.5 / 4096), 1)
        self.assertEqual(enc.quantize(-0.5 / 4096), -1)
        self.assertEqual(enc.quantize(1.0), 4096)
        self.assertEqual(enc.quantize(0.49 / 4096), 0)
        self.assertEqual(enc.quantize(-2.75), -11264)


def flip_last_byte(hex_text: str) -> str:
    return hex_text[:-2] + f"{int(hex_text[-2:], 16) ^ 1:02x}"


class Fixture(unittest.TestCase):
    def setUp(self):
        self.doc = json.loads(enc.DEFAULT_FIXTURE.read_text())

    def test_fixture_agrees(self):
        self.assertEqual(enc.check_fixture(self.doc), [])

    def test_fixture_covers_the_spec(self):
        cases = self.doc["cases"]
        outputs = [q for c in cases for q in c["outputs"]]
        self.assertTrue(any(q < 0 for q in outputs), "a negative output")
        self.assertTrue(any(q > 4096 for q in outputs), "an output above 2^S")
        self.assertTrue(any((q * 255 * 2) % 4096 == 0 and (q * 255) % 4096 != 0 for q in outputs), "an exact half")
        self.assertGreaterEqual(sum(not enc.is_hand_made(c) for c in cases), 3, "real prompts")
        self.assertEqual({e["name"] for e in self.doc["errors"]},
                         {"empty prompt", "4 bytes", "6 bytes", "class 10", "class 255"})

    def test_check_finds_mismatches(self):
        for mutate, needle in [
            (lambda d: d["cases"][0]["inputs"].__setitem__(0, 4095), "inputs"),
            (lambda d: d["cases"][0]["pixels"].__setitem__(5, 1), "pixel 5"),
            (lambda d: d["cases"][1].__setitem__("aigcData", flip_last_byte(d["cases"][1]["aigcData"])), "aigcData"),
            (lambda d: d["errors"][1].__setitem__("byte", 5), "refused at byte 4"),
            (lambda d: d["errors"][0].__setitem__("prompt", "0x0100000000"), "decodes"),
            (lambda d: d.__setitem__("scale", 8), "scale"),
        ]:
            doc = copy.deepcopy(self.doc)
            mutate(doc)
            problems = enc.check_fixture(doc)
            self.assertTrue(problems, needle)
            self.assertIn(needle, " ".join(problems))

    def test_cli_check_and_write(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "pixel-art.json"
            path.write_text(enc.DEFAULT_FIXTURE.read_text())
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                self.assertEqual(enc.main(["--write", str(path)]), 0)
                self.assertEqual(enc.main(["--check", str(path)]), 0)
            self.assertEqual(path.read_text(), enc.DEFAULT_FIXTURE.read_text(), "--write reproduces the fixture")
            doc = json.loads(path.read_text())
            doc["cases"][2]["pixels"][0] += 1
            path.write_text(json.dumps(doc))
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                self.assertEqual(enc.main(["--check", str(path)]), 1)
            self.assertIn("mismatch", err.getvalue())


if __name__ == "__main__":
    unittest.main()
