"""Pseudo-relevance feedback as re-ranker features over the library index (issue 13, session 10), measured.

The vocabulary gap is the re-ranker's most common miss: 「我租的房子房东要卖了，我还能继续住吗？」 shares
no word with 民法典第七百二十五条 (租赁物…所有权变动…不影响租赁合同的效力), yet its dense neighbours
(726, 734: 出租人, 承租人, 租赁) do. Two classic feedback forms, each computed for every cached
candidate of ``measure_reranker.py``'s pool (same questions, same folds, tune only):

- prf_bm: BM25 of the candidate for the words that weigh most in the top m dense hits (tf / length ×
  idf, summed; words of the question itself left out), over the pool's best;
- rocchio: the candidate's cosine to the question vector moved toward the mean of the top m dense hits
  (q + β·mean, renormalized), as a gap to the pool's best.

    LEGALQA_HOME=/work/libhome python experiments/measure_prf.py --cache /tmp/rr.npz
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def columns(d: dict, depth: int, n_terms: int, beta: float) -> np.ndarray:
    import faiss
    from legalqa.eval.run import load_searcher
    from legalqa.index.sparse import tokenize
    from measure_reranker import cached_questions

    s = load_searcher()
    qs, texts = cached_questions(s, d)
    vecs = faiss.downcast_index(s.backend.data.dense.index).reconstruct_n(0, len(s.chunks))
    qv = s.embedder.embed_queries(texts)
    names = list(d["names"])
    cos_col = names.index("cos")
    grp, rows, X = d["grp"], d["rows"], d["X"]
    starts = np.searchsorted(grp, np.arange(len(qs)))
    ends = np.append(starts[1:], len(grp))
    toks: dict[int, Counter] = {}
    df: Counter = Counter()
    print("document frequencies…", file=sys.stderr)
    for c in s.chunks:
        df.update(set(tokenize(c.text)))
    n = len(s.chunks)
    out = np.zeros((len(grp), 2), dtype=np.float32)
    bm25 = s.backend.data.sparse.scores
    for i, text in enumerate(texts):
        a, b = starts[i], ends[i]
        prow = rows[a:b]
        top = prow[np.argsort(-X[a:b, cos_col], kind="stable")[:depth]]
        q_words = set(tokenize(text))
        weight: Counter = Counter()
        for r in top:
            r = int(r)
            if r not in toks:
                toks[r] = Counter(tokenize(s.chunks[r].text))
            tc = toks[r]
            total = sum(tc.values()) or 1
            for w, f in tc.items():
                if w not in q_words and len(w) > 1:
                    weight[w] += f / total * math.log(n / (1 + df[w]))
        terms = [w for w, _ in weight.most_common(n_terms)]
        if terms:
            bm = bm25(" ".join(terms))
            sc = bm[prow]
            out[a:b, 0] = sc / (sc.max() or 1.0)
        q2 = qv[i] + beta * vecs[top].mean(axis=0)
        q2 /= np.linalg.norm(q2)
        rc = vecs[prow] @ q2
        out[a:b, 1] = rc - rc.max()
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--cache", default="/tmp/rr.npz")
    p.add_argument("--depth", type=int, default=5)
    p.add_argument("--terms", type=int, default=10)
    p.add_argument("--beta", type=float, default=0.5)
    args = p.parse_args()
    d = dict(np.load(args.cache, allow_pickle=False))
    extra = Path(args.cache).with_name(f"{Path(args.cache).stem}_prf_{args.depth}_{args.terms}_{args.beta}.npz")
    if not extra.exists():
        np.savez_compressed(extra, E=columns(d, args.depth, args.terms, args.beta))
    print(extra)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
