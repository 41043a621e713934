"""The known-questions feature experiment for the 款 chooser (experiments/paragraph_keys.py): the feature
forms on small exact fixtures, and the fold isolation that makes its cross-validated figure honest.

Run by hand from the repository root: ``.venv/bin/python -m pytest experiments/tests/test_paragraph_keys.py -q``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

EXPERIMENTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(EXPERIMENTS))

from paragraph_keys import columns, feature, keys_of  # noqa: E402

A1 = ("法", 1, 0, 1, None)  # 款 1 of article 1
A2 = ("法", 1, 0, 2, None)
A3 = ("法", 1, 0, 3, None)


def unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=float)
    return v / np.linalg.norm(v)


def test_gap_is_each_spans_best_key_minus_its_best_siblings_with_a_floor_for_none():
    row = {"places": [A1, A2, A3], "vector": unit(1, 0)}
    keys = [(unit(1, 0), {A1}), (unit(0.6, 0.8), {A2}), (unit(0, 1), {A1})]  # cosines 1.0, 0.6, 0.0
    got = feature(row, keys, "gap:0.5")[:, 0]
    assert got == pytest.approx([1.0 - 0.6, 0.6 - 1.0, 0.5 - 1.0])  # A3 has no key: the floor, 0.5
    assert feature(row, keys, "raw:0.5")[:, 0] == pytest.approx([1.0, 0.6, 0.5])
    assert feature(row, [], "gap:0.5")[:, 0] == pytest.approx([0, 0, 0])  # no keys: neutral


def test_vote_counts_the_nearest_keys_that_name_a_sibling():
    row = {"places": [A1, A2], "vector": unit(1, 0)}
    other = ("法", 9, 0, 1, None)  # a key about another article does not vote
    keys = [(unit(1, 0), {other}), (unit(0.8, 0.6), {A2}), (unit(0.6, 0.8), {A1}), (unit(0, 1), {A1})]
    assert feature(row, keys, "vote:1")[:, 0] == pytest.approx([0, 1])
    assert feature(row, keys, "vote:3")[:, 0] == pytest.approx([2 / 3, 1 / 3])


def test_a_row_never_reads_keys_of_its_own_fold_or_an_excluded_one():
    # Three questions, one per fold; each names A1 or A2 with the same vector as the row asking.
    v = unit(1, 0)
    rows = [{"id": i, "vector": v, "places": [A1, A2], "y": np.array(y), "x": np.zeros((2, 1))}
            for i, y in (("q0", [True, False]), ("q1", [False, True]), ("q2", [False, True]))]
    folds = {"q0": 0, "q1": 1, "q2": 2}
    keys = keys_of(rows)
    assert keys["q0"][1] == {A1} and keys["q1"][1] == {A2}
    # q0 sees q1 and q2 (both A2), never itself (A1).
    assert columns(rows[:1], keys, folds, set(), "gap:0")[0][:, 1] == pytest.approx([-1, 1])
    # Excluding fold 2 as well leaves q0 with q1 only; excluding 1 and 2, no key at all.
    assert columns(rows[:1], keys, folds, {2}, "gap:0")[0][:, 1] == pytest.approx([-1, 1])
    assert columns(rows[:1], keys, folds, {1, 2}, "gap:0")[0][:, 1] == pytest.approx([0, 0])
    # q1 reads q0 (A1) and q2 (A2), both at cosine 1: a tie, no gap.
    assert columns(rows[1:2], keys, folds, set(), "gap:0")[0][:, 1] == pytest.approx([0, 0])
