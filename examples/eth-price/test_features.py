#!/usr/bin/env python3
"""Tests of features.py (standard library only): python3 -m unittest test_features (from this folder),
or python3 test_features.py from anywhere."""

from __future__ import annotations

import sys
import unittest
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import features as f  # noqa: E402

F = f.MULTIPLIER << f.SCALE  # 409,600


class Rdiv(unittest.TestCase):
    def test_rounds_half_away_from_zero(self):
        self.assertEqual([f.rdiv(5, 2), f.rdiv(-5, 2), f.rdiv(4, 3), f.rdiv(-4, 3), f.rdiv(7, 2), f.rdiv(0, 9)],
                         [3, -3, 1, -1, 4, 0])
        self.assertEqual([f.rdiv(1, 4), f.rdiv(-1, 4), f.rdiv(3, 4), f.rdiv(-3, 4)], [0, 0, 1, -1])

    def test_matches_exact_rounding(self):
        for a in range(-60, 61):
            for b in range(1, 13):
                q = Fraction(a, b)
                want = int(abs(q) + Fraction(1, 2)) * (1 if q >= 0 else -1)
                self.assertEqual(f.rdiv(a, b), want, (a, b))

    def test_refuses_non_positive_divisor(self):
        with self.assertRaises(ValueError):
            f.rdiv(1, 0)


class Inputs(unittest.TestCase):
    def test_hand_computed(self):
        p = [300_000_000_000] * 13
        self.assertEqual(f.inputs(p), [0] * 12)
        p[12] = 303_000_000_000  # +1%: 1 * 2^12
        self.assertEqual(f.inputs(p)[11], 4096)
        p[1] = 303_000_000_000  # +1% then -0.990099...%: -4055.44 -> -4055
        self.assertEqual(f.inputs(p)[:2], [4096, -4055])
        # 3000 -> 3000.01 USD: 1e6 * 409600 / 3e11 = 1.3653 -> 1
        self.assertEqual(f.inputs([300_000_000_000, 300_001_000_000] + [300_001_000_000] * 11)[0], 1)
        # tiny answers: 1 -> 2 is +100%, 2 -> 1 is -50%, 3 -> 2 is -33.33% (-136533.33 -> -136533)
        self.assertEqual(f.inputs([1, 2, 1, 3, 2] + [2] * 8)[:4], [409_600, -204_800, 819_200, -136_533])

    def test_exact_halves(self):
        answers, expected = f._halves_window()
        for i in range(1, 13, 2):  # the constructed returns are exact halves
            exact = Fraction((answers[i] - answers[i - 1]) * F, answers[i - 1])
            self.assertEqual(exact.denominator, 2, i)
        got = f.inputs(answers)
        self.assertEqual(got[0::2], expected)
        self.assertEqual(expected, [1, -1, 2048, -2048, 124, -40960])

    def test_validity(self):
        ok = [300_000_000_000] * 13
        for index, value in [(0, 0), (5, -1), (12, 1 << 96), (3, (1 << 96) + 1)]:
            bad = list(ok)
            bad[index] = value
            with self.assertRaises(f.AnswerError) as cm:
                f.inputs(bad)
            self.assertEqual((cm.exception.index, cm.exception.value), (index, value))
            self.assertIn(f"answer {index} is {value}", str(cm.exception))
        top = list(ok)
        top[6] = (1 << 96) - 1
        f.inputs(top)  # just below 2^96 is accepted
        with self.assertRaises(f.AnswerCountError):
            f.inputs(ok[:12])

    def test_feed_inputs_are_the_windows(self):
        answers = f.load_feed(f.DEFAULT_FEED)
        rows = f.feed_inputs(answers)
        self.assertEqual(len(rows), len(answers) - f.WINDOW)
        for end in (f.WINDOW, 1000, len(answers) - 1):
            self.assertEqual(rows[end - f.WINDOW], f.inputs(answers[end - f.WINDOW:end + 1]))
        self.assertTrue(all(0 < p < 1 << 96 for p in answers))


class Fixture(unittest.TestCase):
    def test_fixture_agrees(self):
        self.assertEqual(f.check_fixture(f.DEFAULT_FIXTURE), [])

    def test_fixture_is_what_write_makes(self):
        import json
        self.assertEqual(json.loads(f.DEFAULT_FIXTURE.read_text()), f.build_fixture())

    def test_check_catches_a_wrong_value(self):
        import json
        import tempfile
        doc = json.loads(f.DEFAULT_FIXTURE.read_text())
        doc["cases"][1]["inputs"][3] += 1
        doc["errors"][0]["index"] += 1
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "bad.json"
            path.write_text(json.dumps(doc))
            problems = f.check_fixture(path)
        self.assertEqual(len(problems), 2, problems)


if __name__ == "__main__":
    unittest.main()
