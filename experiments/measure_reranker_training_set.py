"""What the re-ranker trains on (issue 13, session 8; docs/retrieval.md): with and without the question
file's library-gold tune questions, and with the STARD tune questions that have only part of their gold
in the index (those only ever train; figures count the questions whose gold is all there). Same folds
for every row, three draws, tune only.

    LEGALQA_HOME=<library home> python experiments/measure_reranker_training_set.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared"))
sys.path.insert(0, str(REPO / "scripts"))


def main() -> int:
    from legalqa.eval.metrics import retrieval_metrics
    from legalqa.eval.run import load_searcher, quiet_openmp
    from legalqa.index.rerank import FEATURES
    from train_reranker import article_key, fit_ranker, gold_labels, ranked_articles, training_questions

    quiet_openmp()
    s = load_searcher()
    stard, own, partial = training_questions(s, SHARED / "stard" / "train.jsonl")
    qs = ([("stard", q) for q in stard] + [("lib" if q.topic == "library" else "default", q) for q in own]
          + [("partial", q) for q in partial])
    pools = [s.candidates(q.question) for _, q in qs]
    exact = FEATURES.index("exact")
    labels = [gold_labels(s.chunks, q, pool) for (_, q), pool in zip(qs, pools, strict=True)]
    golds = [{(law, art, suf, None) for law, art, suf, *_ in q.expected_keys} for _, q in qs]
    tune = [i for i, (kind, q) in enumerate(qs) if q.split == "tune" and kind != "partial"]
    only_train = [i for i, (kind, _) in enumerate(qs) if kind == "partial"]

    def fit(idx):
        return fit_ranker(pools, labels, idx)

    def figures(idx, scores) -> str:
        out = []
        for kind in ("stard", "default", "lib"):
            part = [i for i in idx if qs[i][0] == kind]
            ranked = {i: ranked_articles(pools[i].rows, scores[i], pools[i].features[:, exact],
                                         lambda r: article_key(s.chunks[r])) for i in part}
            m = retrieval_metrics(ranked, {i: golds[i] for i in part})
            out.append(f"{kind}({m['n_retrieval']}) {m['hit@1']:.3f} {m['hit@5']:.3f} {m['recall@5']:.3f} {m['mrr@10']:.3f}")
        return " | ".join(out)

    for seed in (0, 1, 2):
        folds = np.arange(len(tune)) % 5
        np.random.default_rng(seed).shuffle(folds)
        for name, use, extra in (("without lib", lambda i: qs[i][0] != "lib", []), ("with lib", lambda i: True, []),
                                 ("with lib and partial", lambda i: True, only_train)):
            cv = {}
            for f in range(5):
                model = fit([i for i, g in zip(tune, folds, strict=True) if g != f and use(i)] + extra)
                for i, g in zip(tune, folds, strict=True):
                    if g == f:
                        cv[i] = model.predict(pools[i].features)
            print(seed, name, figures(tune, cv), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
