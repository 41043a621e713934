"""How a re-ranked search should choose its citations (issue 13, session 8; docs/library.md).

Tune only, end to end through the product's Composer, with cross-fitted re-rankers: the tune
questions (STARD tune and the question file's tune part as a library index judges it) are split into
the same five folds as the re-ranker's training, and each question is answered with a re-ranker
trained without its fold. Compared: the citation selector (trained on the default corpus) against
the re-ranker's margin rule (``qa.select.by_rerank_margin``) at several margins.

    LEGALQA_HOME=<library home> python experiments/measure_cite_margin.py [margin ...]
"""

from __future__ import annotations

import os
import sys
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared"))
sys.path.insert(0, str(REPO / "scripts"))


def main() -> int:
    from legalqa.eval.data import for_index, load_questions, select_split
    from legalqa.eval.run import evaluate, load_engine, quiet_openmp
    from legalqa.index.rerank import Reranker
    from legalqa.qa.compose import Composer
    from train_reranker import fit_ranker, gold_labels, training_questions

    margins = [float(x) for x in sys.argv[1:]] or [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0]
    quiet_openmp()
    engine = load_engine()
    s, base = engine.searcher, engine.composer
    stard, own, partial = training_questions(s, SHARED / "stard" / "train.jsonl")
    # The re-ranker's tune questions, scored ones first; the partial STARD questions only ever train.
    tune = [q for q in stard + own if q.split == "tune"]
    n_scored = len(tune)
    tune += partial
    pools = [s.candidates(q.question) for q in tune]
    labels = [gold_labels(s.chunks, q, pool) for q, pool in zip(tune, pools, strict=True)]
    folds = np.arange(n_scored) % 5
    np.random.default_rng(0).shuffle(folds)
    fold_of = {q.id: int(f) for q, f in zip(tune, folds, strict=False)}
    models = []
    for f in range(5):
        idx = [i for i in range(n_scored) if folds[i] != f] + list(range(n_scored, len(tune)))
        models.append(Reranker(fit_ranker(pools, labels, idx).booster_, {}))
    # Every tune question of both files as the library judges them, out-of-scope ones too.
    sets = {"stard": select_split(stard, "tune"),
            "default": select_split(for_index(load_questions(REPO / "eval" / "questions.jsonl", aliases=s.aliases),
                                              True), "tune")}
    for margin in [None, *margins]:
        out = []
        for name, qs in sets.items():
            rows = []
            for f in range(5):  # a question the re-ranker never saw (out of scope) gets a fold by its id
                part = [q for q in qs if fold_of.get(q.id, zlib.crc32(q.id.encode()) % 5) == f]
                s._reranker = models[f]
                rows += evaluate(part, Composer(s, replace(base.config, cite_margin=margin)))["rows"]
            recall = np.mean([r["scores"]["recall"] or 0 for r in rows if r["answerable"]])
            precision = np.mean([r["scores"]["precision"] for r in rows if r["scores"].get("precision") is not None])
            para = [r["scores"] for r in rows if r["scores"].get("para_hit") is not None]
            out.append(f"{name} R {recall:.3f} P {precision:.3f}" + (
                f" 款hit {np.mean([p['para_hit'] for p in para]):.3f} 款first {np.mean([p['para_first'] for p in para]):.3f}"
                if para else ""))
        print("selector" if margin is None else f"margin {margin}", " | ".join(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
