"""Calibrate the composer's abstention threshold and its commentary bounds on the tune split (never on held-out).

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

Then, at the chosen pair, it grid-searches ``lead_max_gap`` and ``lead_min_relevance`` (which article
passage may follow the statutes as commentary, qa/compose.py) for the highest lead relevance
(``eval.metrics.lead_relevance``) on the tune split's answerable questions (ties: the larger
relevance bound, then the smaller gap, i.e. fewer leads). Each question is searched once and the
composer decides on that search at every setting (``Composer.decide``).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from legalqa.eval.data import Question, load_questions, select_split  # noqa: E402
from legalqa.eval.metrics import lead_relevance  # noqa: E402
from legalqa.eval.run import evaluate, load_searcher  # noqa: E402
from legalqa.index.search import Searcher  # noqa: E402
from legalqa.qa.compose import AnswerConfig, Composer, abstains  # noqa: E402

from legalqa.config import load_settings  # noqa: E402

BONUSES = (0.0, 0.005, 0.01, 0.02)
THRESHOLDS = tuple(round(t / 1000, 3) for t in range(400, 981))
LEAD_GAPS = tuple(round(g / 1000, 3) for g in range(5, 45, 5))
LEAD_RELEVANCE = tuple(round(r / 100, 2) for r in range(0, 45, 5))


def rates(evidence: list[dict], answerable: list[bool], cfg) -> tuple[float, float]:
    """(out-of-scope abstention, answerable abstention) at one setting, by the composer's own rule."""
    gone = [abstains(e, cfg) for e in evidence]
    oos = [g for g, a in zip(gone, answerable, strict=True) if not a]
    ans = [g for g, a in zip(gone, answerable, strict=True) if a]
    return sum(oos) / max(len(oos), 1), sum(ans) / max(len(ans), 1)


def lead_bounds(searcher: Searcher, questions: list[Question], base: AnswerConfig) -> tuple[float, float, float]:
    """(lead_max_gap, lead_min_relevance, lead relevance) with the highest lead relevance on ``questions``."""
    asked = [q for q in questions if q.answerable]
    depth = Composer(searcher, base).selector
    found = [searcher.run(q.question, k=max(base.k, depth.hits if depth else base.k)) for q in asked]
    best = None
    for gap in LEAD_GAPS:
        for rel in LEAD_RELEVANCE:
            composer = Composer(searcher, replace(base, lead_max_gap=gap, lead_min_relevance=rel))
            rows = {}
            for q, f in zip(asked, found, strict=True):
                lead = composer.decide(f).lead
                rows[q.id] = {"answerable": True, "section": q.article_section,
                              "lead": None if lead is None else lead.hit.chunk.heading_path}
            score = lead_relevance(rows)["lead_relevance"]
            if best is None or (round(score, 6), rel, -gap) > (round(best[2], 6), best[1], -best[0]):
                best = (gap, rel, score)
    return best


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
    gap, rel, score = lead_bounds(searcher, tune, cfg)
    h = evaluate(held, Composer(searcher, replace(cfg, lead_max_gap=gap, lead_min_relevance=rel)))["metrics"]["all"]
    print(f"lead_max_gap = {gap}\nlead_min_relevance = {rel}")
    print(f"tune: lead relevance {score:.3f}; held-out: lead relevance {h['lead_relevance']:.3f}")


if __name__ == "__main__":
    main()
