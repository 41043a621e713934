"""Calibrate the composer's abstention threshold on the tune split (never on held-out).

    python scripts/calibrate.py [--max-answerable-abstention 0.03]

Grid-searches ``min_evidence`` and ``rule_bonus`` (legalqa/defaults.toml, [answer]) for the
highest out-of-scope abstention whose answerable-question abstention stays under the bound,
then prints the held-out figures for the chosen pair. Rerun after changing the model or the
indexed text: the evidence score is a cosine similarity, so it moves with the model.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.data import load_questions, select_split  # noqa: E402
from eval.run import evaluate, load_searcher  # noqa: E402
from legalqa.config import load_settings  # noqa: E402
from qa.compose import Composer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-answerable-abstention", type=float, default=0.03)
    args = ap.parse_args()
    searcher = load_searcher()
    questions = load_questions(ROOT / "eval" / "questions.jsonl", aliases=searcher.aliases)
    tune, held = select_split(questions, "tune"), select_split(questions, "heldout")
    base = load_settings().answer
    best = None
    for bonus in (0.0, 0.005, 0.01, 0.02):
        for t in range(860, 931, 2):
            cfg = replace(base, min_evidence=t / 1000, rule_bonus=bonus)
            m = evaluate(tune, Composer(searcher, cfg))["metrics"]["all"]
            oos, false_ab = m["abstention_recall"], m["false_abstention_rate"]
            if false_ab <= args.max_answerable_abstention and (best is None or oos > best[0]):
                best = (oos, false_ab, cfg)
    if best is None:
        sys.exit("no setting keeps answerable abstention under the bound")
    oos, false_ab, cfg = best
    h = evaluate(held, Composer(searcher, cfg))["metrics"]["all"]
    print(f"min_evidence = {cfg.min_evidence}\nrule_bonus = {cfg.rule_bonus}")
    print(f"tune: out-of-scope abstention {oos:.3f}, answerable abstention {false_ab:.3f}")
    print(f"held-out: out-of-scope abstention {h['abstention_recall']:.3f}, "
          f"answerable abstention {h['false_abstention_rate']:.3f}")


if __name__ == "__main__":
    main()
