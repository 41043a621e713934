"""More re-ranker features over the cached pools of experiments/measure_reranker.py (issue 13, session 8;
none adopted, docs/retrieval.md). Tune only: mean of four question-grouped fold draws, at the shipped
settings (lr 0.1, 7 leaves, 200 trees).

    LEGALQA_HOME=<library home> python experiments/measure_reranker.py --cache /tmp/rr.npz --compare
    LEGALQA_HOME=<library home> python experiments/measure_reranker_extra.py /tmp/rr.npz [variant ...]

The extra columns (EXTRA) are computed once into ``<cache>_extra.npz``. Every count over known
questions leaves out the question's own key, as ``PoolBuilder`` does (co-citation once did not,
and its gain was that leak).
"""

from __future__ import annotations

import math
import os
import sys
import time
from ast import literal_eval
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared"))
sys.path.insert(0, str(REPO / "scripts"))

EXTRA = ("kadj", "kadj30", "cocite", "lawpool", "lawbm", "qcov_w")


def extra_columns(d: dict) -> np.ndarray:
    """One row of EXTRA per cached candidate, in the cache's order."""
    from legalqa.eval.data import load_questions, load_stard, restrict_to_index
    from legalqa.eval.run import load_searcher
    from legalqa.index.search import normalize_query
    from legalqa.index.sparse import tokenize

    names = list(d["names"])
    X, grp, rows = d["X"], d["grp"], d["rows"]
    nq = len(d["golds"])
    starts = np.searchsorted(grp, np.arange(nq))
    ends = np.append(starts[1:], len(grp))
    s = load_searcher()
    known = {(c.law, c.article, c.suffix): 1 for c in s.chunks if c.kind == "statute" and c.law}
    stard, _ = restrict_to_index(load_stard(SHARED / "stard" / "train.jsonl", aliases=s.aliases), known)
    own = [q for q in load_questions(REPO / "eval" / "questions.jsonl", aliases=s.aliases)
           if q.answerable and q.expected_keys and q.topic != "library"]
    qs = stard + own
    assert [q.id for q in qs] == list(d["ids"]), "the cache holds other questions: rebuild it"
    texts = [s.speller.correct(normalize_query(q.question))[0] for q in qs]
    vectors = s.embedder.embed_queries(texts)
    keys, chunks = s.keys, s.chunks
    t0 = time.time()
    df: Counter = Counter()
    for c in chunks:
        df.update(set(tokenize(c.text)))
    idf = {t: math.log(len(chunks) / (1 + n)) for t, n in df.items()}
    print(f"document frequencies: {time.time() - t0:.0f} s", file=sys.stderr)
    place: dict[tuple, list[int]] = {}
    for r, c in enumerate(chunks):
        if c.kind == "statute":
            place.setdefault((c.law, c.article), []).append(r)
    cocited: dict[int, Counter] = {}
    for krows in keys.rows:
        for a in krows:
            for b in krows:
                if a != b:
                    cocited.setdefault(a, Counter())[b] += 1
    E = np.zeros((len(X), len(EXTRA)), np.float32)
    for i in range(nq):
        own_keys = set(keys.own(vectors[i]))
        near = [(j, sim) for j, sim in keys.nearest(vectors[i], 10) if j not in own_keys]
        wide = [(j, sim) for j, sim in keys.nearest(vectors[i], 30) if j not in own_keys]
        adjacent: tuple[dict, dict] = ({}, {})
        for neighbours, out in zip((near, wide), adjacent, strict=True):
            for j, sim in neighbours:
                for r in keys.rows[j]:
                    c = chunks[r]
                    for step in (-2, -1, 1, 2):
                        for r2 in place.get((c.law, (c.article or 0) + step), []):
                            out[r2] = max(out.get(r2, 0.0), sim)
        own_pairs = Counter((a, b) for j in own_keys for a in keys.rows[j] for b in keys.rows[j] if a != b)
        co: Counter = Counter()
        for j, sim in near:
            for r in keys.rows[j]:
                for r2, n in cocited.get(r, {}).items():
                    if n - own_pairs[(r, r2)] > 0:
                        co[r2] += sim * (n - own_pairs[(r, r2)])
        a, b = starts[i], ends[i]
        pool = rows[a:b]
        bm = X[a:b, names.index("bm")]
        laws = [chunks[r].law for r in pool]
        per_law = Counter(laws)
        best_bm: dict = {}
        for law, score in zip(laws, bm, strict=True):
            best_bm[law] = max(best_bm.get(law, 0.0), score)
        words = set(tokenize(texts[i]))
        weight = sum(idf.get(t, 0.0) for t in words) or 1.0
        for k, r in enumerate(pool):
            E[a + k] = (adjacent[0].get(r, 0.0), adjacent[1].get(r, 0.0), math.log1p(co.get(r, 0.0)),
                        per_law[laws[k]] / len(pool), best_bm[laws[k]],
                        sum(idf.get(t, 0.0) for t in words if t in chunks[r].text) / weight)
    return E


def main() -> int:
    import lightgbm as lgb
    from legalqa.eval.metrics import retrieval_metrics
    from train_reranker import ranked_articles

    cache = Path(sys.argv[1])
    d = dict(np.load(cache, allow_pickle=False))
    extra_cache = cache.with_name(cache.stem + "_extra.npz")
    if extra_cache.exists():
        E = np.load(extra_cache)["E"]
    else:
        E = extra_columns(d)
        np.savez_compressed(extra_cache, E=E)
    X, y, grp, rows, src, split = d["X"], d["y"], d["grp"], d["rows"], d["src"], d["split"]
    names = list(d["names"])
    nq = len(d["golds"])
    golds = [set(literal_eval(g)) for g in d["golds"]]
    keys_of = [literal_eval(k) for k in d["keys"]]
    starts = np.searchsorted(grp, np.arange(nq))
    ends = np.append(starts[1:], len(grp))
    XE = np.hstack([X, E])
    all_names = names + list(EXTRA)
    exact = names.index("exact")
    tune_q = np.array([i for i in range(nq) if split[i] == "tune"])

    def fit(cols, train_q):
        mask = np.isin(grp, train_q)
        sizes = ends[np.unique(grp[mask])] - starts[np.unique(grp[mask])]
        m = lgb.LGBMRanker(objective="lambdarank", n_estimators=200, learning_rate=0.1, num_leaves=7,
                           min_child_samples=20, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                           lambdarank_truncation_level=10, verbose=-1, random_state=0, n_jobs=2)
        m.fit(XE[mask][:, cols], y[mask], group=sizes)
        return m.predict(XE[:, cols])

    def draws(cols, seeds=(1, 2, 3, 4)) -> str:
        res: dict[str, list] = {"stard": [], "default": []}
        for seed in seeds:
            folds = np.arange(len(tune_q)) % 5
            np.random.default_rng(seed).shuffle(folds)
            cv = np.zeros(len(XE))
            for f in range(5):
                held = np.isin(grp, tune_q[folds == f])
                cv[held] = fit(cols, tune_q[folds != f])[held]
            for kind, out in res.items():
                idx = [i for i in tune_q if src[i] == kind]
                ranked = {i: ranked_articles(rows[starts[i]:ends[i]], cv[starts[i]:ends[i]],
                                             XE[starts[i]:ends[i], exact], keys_of.__getitem__, 10) for i in idx}
                m = retrieval_metrics(ranked, {i: golds[i] for i in idx})
                out.append([m["hit@1"], m["hit@5"], m["recall@5"], m["mrr@10"]])
        st, de = np.mean(res["stard"], 0), np.mean(res["default"], 0)
        return (f"STARD tune h1 {st[0]:.4f} h5 {st[1]:.4f} R5 {st[2]:.4f} MRR {st[3]:.4f} | "
                f"default h1 {de[0]:.4f} h5 {de[1]:.4f} R5 {de[2]:.4f} MRR {de[3]:.4f}")

    base = [names.index(n) for n in names if n not in ("law_cent", "law_cent_rank", "chap_cent")]
    variants = {"shipped": base} | {f"+{e}": base + [all_names.index(e)] for e in EXTRA}
    variants["+all"] = base + [all_names.index(e) for e in EXTRA]
    variants["-default"] = [c for c in base if names[c] != "default"]
    for name, cols in variants.items():
        if sys.argv[2:] and name not in sys.argv[2:]:
            continue
        print(name, draws(cols), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
