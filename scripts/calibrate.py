"""Calibrate the composer's abstention threshold on the tune split (never on held-out).

    python scripts/calibrate.py [--max-answerable-abstention 0.03]

Grid-searches ``min_evidence`` and ``rule_bonus`` (legalqa/defaults.toml, [answer]) for the
highest out-of-scope abstention whose answerable-question abstention stays under the bound,
then prints the held-out figures for the chosen pair. Rerun after changing the model or the
indexed text: the evidence score is a cosine similarity, so it moves with the model (for
legalqa-e5-law it sits near 0.65, for legalqa-e5-small near 0.89).

Each question is asked once; whether it would abstain at a setting follows from its evidence
(the composer abstains when no article is named and top_dense + rule_bonus x min(rules, 2) is
below min_evidence), so the grid costs no further searches. The chosen pair is then checked with
a real evaluation of the held-out split.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.data import load_questions, select_split  # noqa: E402
from eval.run import evaluate, load_searcher  # noqa: E402
from legalqa.config import load_settings  # noqa: E402
from qa.compose import Composer  # noqa: E402

BONUSES = (0.0, 0.005, 0.01, 0.02)
THRESHOLDS = tuple(round(t / 1000, 3) for t in range(400, 981))


def evidence(composer: Composer, questions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(top_dense, min(rules, 2), named, answerable) per question, from one answer each."""
    rows = []
    for q in questions:
        e = composer.ask(q.question).evidence
        rows.append((e["top_dense"], min(e["rules"], 2.0), e["named"], q.answerable))
    a = np.array(rows, dtype=float)
    return a[:, 0], a[:, 1], a[:, 2] > 0, a[:, 3] > 0


def rates(ev, bonus: float, threshold: float) -> tuple[float, float]:
    """(out-of-scope abstention, answerable abstention) at one setting."""
    dense, rules, named, answerable = ev
    abstains = ~named & (dense + bonus * rules < threshold)
    return float(abstains[~answerable].mean()), float(abstains[answerable].mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-answerable-abstention", type=float, default=0.03)
    args = ap.parse_args()
    searcher = load_searcher()
    questions = load_questions(ROOT / "eval" / "questions.jsonl", aliases=searcher.aliases)
    tune, held = select_split(questions, "tune"), select_split(questions, "heldout")
    base = load_settings().answer
    ev = evidence(Composer(searcher, replace(base, min_evidence=-1.0, rule_bonus=0.0)), tune)
    best = None
    for bonus in BONUSES:
        for t in THRESHOLDS:
            oos, false_ab = rates(ev, bonus, t)
            if false_ab <= args.max_answerable_abstention and (best is None or oos > best[0]):
                best = (oos, false_ab, bonus, t)
    if best is None:
        sys.exit("no setting keeps answerable abstention under the bound")
    oos, false_ab, bonus, t = best
    cfg = replace(base, min_evidence=t, rule_bonus=bonus)
    h = evaluate(held, Composer(searcher, cfg))["metrics"]["all"]
    print(f"min_evidence = {cfg.min_evidence}\nrule_bonus = {cfg.rule_bonus}")
    print(f"tune: out-of-scope abstention {oos:.3f}, answerable abstention {false_ab:.3f}")
    print(f"held-out: out-of-scope abstention {h['abstention_recall']:.3f}, "
          f"answerable abstention {h['false_abstention_rate']:.3f}")


if __name__ == "__main__":
    main()
