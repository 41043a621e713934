"""Known-question key settings, through the product's own Searcher and Composer (not a re-implementation).

    LEGALQA_HOME=<library home> python experiments/measure_keys_settings.py stard tune -1,0,0.9,0.92
    LEGALQA_HOME=<library home> python experiments/measure_keys_settings.py eval heldout -1,0.92

First argument: ``stard`` (../shared/stard/train.jsonl, gold in the index) or ``eval``
(eval/questions.jsonl); second: the split; third: comma-separated ``keys_min_similarity`` floors,
where -1 means the keys off. Every other setting is the configured one. Tune figures are
leave-one-out by construction: a key never answers its own question (index/keys.py).
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared"))


def main() -> int:
    from legalqa.eval.data import load_questions, load_stard, restrict_to_index
    from legalqa.eval.run import evaluate, known_articles, load_engine
    from legalqa.qa.compose import Composer

    which, split, floors = sys.argv[1], sys.argv[2], [float(x) for x in sys.argv[3].split(",")]
    engine = load_engine()
    s = engine.searcher
    if which == "stard":
        qs, _ = restrict_to_index(load_stard(SHARED / "stard" / "train.jsonl", aliases=s.aliases),
                                  known_articles(s.chunks))
    else:
        qs = load_questions(REPO / "eval" / "questions.jsonl", aliases=s.aliases)
    qs = [q for q in qs if q.split == split]
    for floor in floors:
        change = {"keys_neighbors": 0} if floor < 0 else {"keys_min_similarity": floor}
        result = evaluate(qs, Composer(s.with_(config=replace(s.config, **change)), engine.settings.answer))
        m = result["metrics"]["all"]
        shown = {k: round(m[k], 3) for k in ("citation_recall", "citation_precision", "hit@1", "hit@5", "recall@5",
                                            "mrr@10", "abstention_recall") if m.get(k) is not None}
        print(which, split, "keys off" if floor < 0 else f"floor {floor}", shown, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
