"""Calibrate the composer's abstention threshold on the tune split (never on held-out).

    python scripts/calibrate.py [--max-answerable-abstention 0.03]

Grid-searches ``min_evidence`` and ``rule_bonus`` (legalqa/defaults.toml, [answer]) for the
highest out-of-scope abstention whose answerable-question abstention stays under the bound,
then prints the held-out figures for the chosen pair. Rerun after changing the model or the
indexed text: the evidence score is a cosine similarity, so it moves with the model (for
legalqa-e5-small the chosen threshold is 0.888; for the STARD-trained model of
docs/embedders.md, 0.696).

Each question is asked once; whether it would abstain at a setting follows from its evidence by
the composer's own rule (``qa.compose.abstains``), so the grid costs no further searches. The chosen pair is then checked with
a real evaluation of the held-out split.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from legalqa.eval.data import load_questions, select_split  # noqa: E402
from legalqa.eval.run import evaluate, load_searcher  # noqa: E402
from legalqa.qa.compose import Composer, abstains  # noqa: E402

from legalqa.config import load_settings  # noqa: E402

BONUSES = (0.0, 0.005, 0.01, 0.02)
THRESHOLDS = tuple(round(t / 1000, 3) for t in range(400, 981))


def rates(evidence: list[dict], answerable: list[bool], cfg) -> tuple[float, float]:
    """(out-of-scope abstention, answerable abstention) at one setting, by the composer's own rule."""
    gone = [abstains(e, cfg) for e in evidence]
    oos = [g for g, a in zip(gone, answerable, strict=True) if not a]
    ans = [g for g, a in zip(gone, answerable, strict=True) if a]
    return sum(oos) / max(len(oos), 1), sum(ans) / max(len(ans), 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-answerable-abstention", type=float, default=0.03)
    args = ap.parse_args()
    searcher = load_searcher()
    questions = load_questions(ROOT / "eval" / "questions.jsonl", aliases=searcher.aliases)
    tune, held = select_split(questions, "tune"), select_split(questions, "heldout")
    base = load_settings().answer
    asker = Composer(searcher, replace(base, min_evidence=-1.0))  # nothing abstains: every answer has its evidence
    evidence = [asker.ask(q.question).evidence for q in tune]
    answerable = [q.answerable for q in tune]
    best = None
    for bonus in BONUSES:
        for t in THRESHOLDS:
            oos, false_ab = rates(evidence, answerable, replace(base, min_evidence=t, rule_bonus=bonus))
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
