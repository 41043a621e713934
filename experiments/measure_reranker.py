"""A learned re-ranker over the library index's candidates (issue 13), measured.

For every question (STARD questions whose gold is in the index, and the default question file's
answerable ones) the product's ``Searcher.candidates`` gives the candidate pool and its FEATURES
(index/rerank.py); law and chapter centroids (EXTRA) are added beside them. Logistic (pointwise,
pairwise) and LightGBM lambdarank models learn from the tune parts which candidates are gold.
Tune figures are question-grouped 5-fold cross-validated; held-out is only reported.

    LEGALQA_HOME=/work/libhome python experiments/measure_reranker.py --cache /tmp/rr.npz [--grid | --compare | --more | --curve | --twins | --confidence | --lgb 100]

The first run gathers the pool (a few minutes) into --cache; later runs only fit.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared"))
LR, LEAVES, MINCHILD = float(os.environ.get("RR_LR", 0.05)), int(os.environ.get("RR_LEAVES", 15)), int(os.environ.get("RR_MINCHILD", 20))


EXTRA = ("law_cent", "law_cent_rank", "chap_cent")  # tried beside the product's FEATURES, not adopted
# Session 8's trial (``--more``), not adopted: the nearest known question citing an article one or two
# places away in the same law (10 and 30 neighbours), co-citation with the near keys' articles, the
# law's share of the pool and its best BM25, and the IDF-weighted share of the question's words.
MORE = ("kadj", "kadj30", "cocite", "lawpool", "lawbm", "qcov_w")


def gather(args) -> dict:
    """Each question's candidate pool through the product (``Searcher.candidates``: the shipped
    FEATURES), plus the EXTRA columns, the gold labels and the product's own top 10."""
    import faiss
    from legalqa.eval.data import load_questions, load_stard, restrict_to_index
    from legalqa.eval.run import load_searcher
    from legalqa.index.rerank import FEATURES, chapter
    from legalqa.index.search import normalize_query

    s = load_searcher()
    known = {(c.law, c.article, c.suffix): 1 for c in s.chunks if c.kind == "statute" and c.law}
    stard, _ = restrict_to_index(load_stard(args.questions, aliases=s.aliases), known)
    own = [q for q in load_questions(Path(__file__).resolve().parents[1] / "eval" / "questions.jsonl",
                                     aliases=s.aliases) if q.answerable and q.expected_keys]
    qs = [("stard", q) for q in stard] + [("default", q) for q in own]
    print(f"{len(stard)} STARD, {len(own)} default questions", file=sys.stderr)
    qvecs = s.embedder.embed_queries([s.speller.correct(normalize_query(q.question))[0] for _, q in qs])

    # Law and chapter centroids: the mean vector of their in-force statutes.
    vecs = faiss.downcast_index(s.backend.data.dense.index).reconstruct_n(0, len(s.chunks))
    law_of = [c.law for c in s.chunks]
    chap_of = [chapter(c) for c in s.chunks]

    def centroids(group_of):
        groups: dict = {}
        for r, c in enumerate(s.chunks):
            if c.kind == "statute" and c.status not in ("已废止", "历史版本"):
                groups.setdefault(group_of[r], []).append(r)
        m = np.stack([vecs[rows].mean(axis=0) for rows in groups.values()])
        return {g: i for i, g in enumerate(groups)}, m / np.linalg.norm(m, axis=1, keepdims=True)

    law_idx, law_m = centroids(law_of)
    chap_idx, chap_m = centroids(chap_of)
    X, y, grp, src, split, rows_all, base_rank = [], [], [], [], [], [], []
    for i, (kind, q) in enumerate(qs):
        pool = s.candidates(q.question)
        lc, cc = law_m @ qvecs[i], chap_m @ qvecs[i]
        law_rank = np.empty(len(lc), int)
        law_rank[np.argsort(-lc)] = np.arange(1, len(lc) + 1)
        extra = np.array([[lc[law_idx[law_of[r]]] if law_of[r] in law_idx else 0.0,
                           1 / np.log2(1 + law_rank[law_idx[law_of[r]]]) if law_of[r] in law_idx else 0.0,
                           cc[chap_idx[chap_of[r]]] if chap_of[r] in chap_idx else 0.0] for r in pool.rows])
        X.append(np.hstack([pool.features, extra]))
        gold = {(law, a, suf) for law, a, suf, *_ in q.expected_keys}
        y += [int(s.chunks[r].kind == "statute" and (s.chunks[r].law, s.chunks[r].article, s.chunks[r].suffix) in gold)
              for r in pool.rows]
        grp += [i] * len(pool.rows)
        rows_all += list(pool.rows)
        src.append(kind)
        split.append(q.split)
        base_rank.append([(h.chunk.law, h.chunk.article, h.chunk.suffix, None) if h.chunk.kind == "statute" else None
                          for h in s.search(q.question, 10)])
    keys_of = [(c.law, c.article, c.suffix, None) if c.kind == "statute" else None for c in s.chunks]
    golds = [sorted({(k[0], k[1], k[2], None) for k in q.expected_keys}) for _, q in qs]
    return {"X": np.vstack(X).astype(np.float32), "y": np.array(y), "grp": np.array(grp), "rows": np.array(rows_all),
            "src": np.array(src), "split": np.array(split), "names": np.array([*FEATURES, *EXTRA]),
            "ids": np.array([q.id for _, q in qs]),
            "keys": np.array([repr(k) for k in keys_of]), "golds": np.array([repr(g) for g in golds]),
            "base": np.array([repr(b) for b in base_rank])}


def cached_questions(s, d: dict) -> tuple[list, list[str]]:
    """The cache's questions (STARD whose gold is in the index, then the default file's answerable
    ones), checked against it, and their text as the searcher reads it."""
    from legalqa.eval.data import load_questions, load_stard, restrict_to_index
    from legalqa.index.search import normalize_query

    known = {(c.law, c.article, c.suffix): 1 for c in s.chunks if c.kind == "statute" and c.law}
    stard, _ = restrict_to_index(load_stard(SHARED / "stard" / "train.jsonl", aliases=s.aliases), known)
    own = [q for q in load_questions(REPO / "eval" / "questions.jsonl", aliases=s.aliases)
           if q.answerable and q.expected_keys]
    qs = stard + own
    assert [q.id for q in qs] == list(d["ids"]), "the cache holds other questions: rebuild it"
    return qs, [s.speller.correct(normalize_query(q.question))[0] for q in qs]


def more_columns(d: dict) -> np.ndarray:
    """One row of MORE per cached candidate, in the cache's order (session 8's trial, ``--more``).

    Every count over known questions leaves out the question's own key, as ``PoolBuilder`` does
    (co-citation once did not, and its gain was that leak).
    """
    from legalqa.eval.run import load_searcher
    from legalqa.index.sparse import tokenize

    names = list(d["names"])
    X, grp, rows = d["X"], d["grp"], d["rows"]
    nq = len(d["golds"])
    starts = np.searchsorted(grp, np.arange(nq))
    ends = np.append(starts[1:], len(grp))
    s = load_searcher()
    qs, texts = cached_questions(s, d)
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
    E = np.zeros((len(X), len(MORE)), np.float32)
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


def ranked_keys(score: np.ndarray, exact: np.ndarray, rows: np.ndarray, keys_of: list, depth: int = 10) -> list:
    """One question's article keys best first, as scripts/train_reranker.py ranks them."""
    from train_reranker import ranked_articles

    return ranked_articles(rows, score, exact, keys_of.__getitem__, depth)


def metrics_of(ranked: dict, gold: dict) -> dict:
    from legalqa.eval.metrics import retrieval_metrics
    return retrieval_metrics(ranked, gold)


def fmt(m: dict) -> str:
    return " ".join(f"{m[k]:.3f}" for k in ("hit@1", "hit@5", "recall@5", "mrr@10")) + f" (n={m['n_retrieval']})"


def main() -> int:
    global LR, LEAVES, MINCHILD
    p = argparse.ArgumentParser()
    p.add_argument("--questions", default=str(SHARED / "stard" / "train.jsonl"))
    p.add_argument("--depth", type=int, default=50)
    p.add_argument("--cache", default="/tmp/rerank_pool.npz")
    p.add_argument("--features", default="", help="comma-separated feature names to use (default: the shipped FEATURES)")
    p.add_argument("--lgb", type=int, nargs="*", default=[])
    p.add_argument("--grid", action="store_true", help="the tune-only grid (prints no held-out figure)")
    p.add_argument("--compare", action="store_true", help="feature groups at the chosen settings, tune only")
    p.add_argument("--more", nargs="*", metavar="VARIANT",
                   help="session 8's MORE features at the chosen settings, tune only (all variants, or the named ones)")
    p.add_argument("--curve", action="store_true", help="session 9: the shipped model on 25-100%% of each training fold")
    p.add_argument("--twins", action="store_true",
                   help="session 9: figures with and without a near-duplicate known question (prints held-out)")
    p.add_argument("--confidence", action="store_true",
                   help="session 9: how well the best re-ranker score tells right answers from wrong ones (tune)")
    p.add_argument("--prf", metavar="FILE",
                   help="session 10: feedback columns written by measure_prf.py, beside the shipped features (tune)")
    p.add_argument("--bias", action="store_true",
                   help="session 10: how often a default-corpus article tops a question whose gold is elsewhere (tune)")
    args = p.parse_args()
    if Path(args.cache).exists():
        d = dict(np.load(args.cache, allow_pickle=False))
    else:
        d = gather(args)
        np.savez_compressed(args.cache, **d)
    from ast import literal_eval

    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X, y, grp = d["X"], d["y"], d["grp"]
    names = list(d["names"])
    if args.more is not None:  # session 8's columns beside the cached ones, computed once
        more_cache = Path(args.cache).with_name(Path(args.cache).stem + "_more.npz")
        if not more_cache.exists():
            np.savez_compressed(more_cache, E=more_columns(d))
        X = np.hstack([X, np.load(more_cache)["E"]])
        names += list(MORE)
    keys_of = [literal_eval(k) for k in d["keys"]]
    golds = [set(literal_eval(g)) for g in d["golds"]]
    base = [literal_eval(b) for b in d["base"]]
    src, split, rows = d["src"], d["split"], d["rows"]
    nq = len(golds)

    def report(name: str, ranked_of) -> None:
        out = []
        for s_ in ("stard", "default"):
            for sp in ("tune", "heldout"):
                idx = [i for i in range(nq) if src[i] == s_ and split[i] == sp]
                m = metrics_of({i: ranked_of(i) for i in idx}, {i: golds[i] for i in idx})
                out.append(f"{s_}/{sp} {fmt(m)}")
        print(f"{name}\n   " + "\n   ".join(out), flush=True)

    report("product today", lambda i: base[i])

    starts = np.searchsorted(grp, np.arange(nq))
    ends = np.append(starts[1:], len(grp))
    exact_col = names.index("exact")

    def order(i: int, score: np.ndarray) -> list:
        a, b = starts[i], ends[i]
        return ranked_keys(score[a:b], X[a:b, exact_col], rows[a:b], keys_of)

    def fit(cols, train_q, C, pairwise, weight_default=1.0):
        mask = np.isin(grp, train_q)
        if pairwise == "lgb":
            import lightgbm as lgb
            qi = np.unique(grp[mask])
            sizes = ends[qi] - starts[qi]
            m = lgb.LGBMRanker(objective="lambdarank", n_estimators=int(C), learning_rate=LR, num_leaves=LEAVES,
                               min_child_samples=MINCHILD, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                               lambdarank_truncation_level=10, verbose=-1, random_state=0, n_jobs=2)
            gw = np.where(src[grp[mask]] == "default", weight_default, 1.0) if weight_default != 1.0 else None
            m.fit(X[mask][:, cols], y[mask], group=sizes, sample_weight=gw)
            return lambda Z: m.predict(Z[:, cols])
        Xs = X[mask][:, cols]
        sc = StandardScaler().fit(Xs)
        if not pairwise:
            w = np.where(src[grp[mask]] == "default", weight_default, 1.0)
            m = LogisticRegression(C=C, max_iter=2000, class_weight="balanced").fit(sc.transform(Xs), y[mask], sample_weight=w)
            return lambda Z: m.decision_function(sc.transform(Z[:, cols]))
        D, L, W = [], [], []
        Z = sc.transform(X[:, cols])
        rng = np.random.default_rng(0)
        for i in train_q:
            a, b = starts[i], ends[i]
            pos = [j for j in range(a, b) if y[j]]
            neg = [j for j in range(a, b) if not y[j]]
            if not pos or not neg:
                continue
            neg = rng.choice(neg, size=min(len(neg), 30), replace=False)
            wq = weight_default if src[i] == "default" else 1.0
            for pj in pos:
                for nj in neg:
                    D += [Z[pj] - Z[nj], Z[nj] - Z[pj]]
                    L += [1, 0]
                    W += [wq / len(pos), wq / len(pos)]
        m = LogisticRegression(C=C, max_iter=2000, fit_intercept=False).fit(np.array(D), np.array(L), sample_weight=np.array(W))
        return lambda Zx: sc.transform(Zx[:, cols]) @ m.coef_[0]

    tune_q = np.array([i for i in range(nq) if split[i] == "tune"])
    folds = np.arange(len(tune_q)) % 5
    np.random.default_rng(1).shuffle(folds)

    def run(name, cols, C=1.0, pairwise=False, weight_default=1.0):
        cv = np.zeros(len(X))
        for f in range(5):
            tr, te = tune_q[folds != f], tune_q[folds == f]
            sc = fit(cols, tr, C, pairwise, weight_default)(X)
            te_mask = np.isin(grp, te)
            cv[te_mask] = sc[te_mask]
        full = fit(cols, tune_q, C, pairwise, weight_default)(X)
        both = np.where(np.isin(grp, tune_q), cv, full)
        report(name, lambda i: order(i, both))

    def draws(cols, trees, seeds, keep=1.0, weight_default=1.0, bias=False):
        """Mean tune cross-validated (hit@5, recall@5, MRR@10) per source over fold draws; ``keep`` cuts
        each training fold to that share of its questions (seeded)."""
        ms = []
        for seed in seeds:
            f_ = np.arange(len(tune_q)) % 5
            np.random.default_rng(seed).shuffle(f_)
            cut = np.random.default_rng(100 + seed)
            cv = np.zeros(len(X))
            for f in range(5):
                te = np.isin(grp, tune_q[f_ == f])
                train = tune_q[f_ != f]
                if keep < 1:
                    train = cut.choice(train, int(len(train) * keep), replace=False)
                if weight_default == 0:
                    train = train[src[train] != "default"]
                cv[te] = fit(cols, train, trees, "lgb", weight_default or 1.0)(X)[te]
            for s_ in ("stard", "default"):
                idx = [i for i in tune_q if src[i] == s_]
                m = metrics_of({i: order(i, cv) for i in idx}, {i: golds[i] for i in idx})
                ms.append((s_, m["hit@1"], m["hit@5"], m["recall@5"], m["mrr@10"]))
            if bias:  # STARD tune questions whose gold has no default-corpus article
                idx = [i for i in tune_q if src[i] == "stard" and not golds[i] & default_keys]
                tops = [order(i, cv)[:1] for i in idx]
                ms.append(("bias", np.mean([bool(t) and t[0] in default_keys for t in tops]),
                           np.mean([bool(t) and t[0] in golds[i] for t, i in zip(tops, idx, strict=True)]), len(idx), 0))
        st = np.mean([m[1:] for m in ms if m[0] == "stard"], axis=0)
        de = np.mean([m[1:] for m in ms if m[0] == "default"], axis=0)
        out = (f"stard tune hit@1 {st[0]:.4f} hit@5 {st[1]:.4f} R@5 {st[2]:.4f} MRR {st[3]:.4f}"
               f" | default tune hit@1 {de[0]:.4f} hit@5 {de[1]:.4f} R@5 {de[2]:.4f} MRR {de[3]:.4f}")
        if bias:
            b = np.mean([m[1:] for m in ms if m[0] == "bias"], axis=0)
            out += f" | gold outside the default corpus ({int(b[2])}): default-corpus article first {b[0]:.4f}, hit@1 {b[1]:.4f}"
        return out

    all_cols = [names.index(n) for n in names if n not in EXTRA and n not in MORE]
    dcol = names.index("default")
    default_keys = {keys_of[int(r)] for r, x in zip(rows, X[:, dcol], strict=True) if x and keys_of[int(r)] is not None}

    def shipped_cv():
        """The shipped model's tune scores, cross-validated over one fold draw (seed 1)."""
        f_ = np.arange(len(tune_q)) % 5
        np.random.default_rng(1).shuffle(f_)
        cv = np.zeros(len(X))
        for f in range(5):
            te = np.isin(grp, tune_q[f_ == f])
            cv[te] = fit(all_cols, tune_q[f_ != f], 200, "lgb")(X)[te]
        return cv
    sel = args.features.split(",") if args.features else None
    if sel:
        run(f"pointwise {sel}", [names.index(n) for n in sel])
        return 0
    if args.compare:  # the chosen settings, with and without feature groups, over four fold draws (tune only)
        LR, LEAVES = 0.1, 7
        base_cols = all_cols
        variants = {"shipped features": base_cols,
                    "+ law/chapter centroids": base_cols + [names.index(n) for n in EXTRA],
                    "+ law centroids only": base_cols + [names.index(n) for n in ("law_cent", "law_cent_rank")]}
        for vname, cols in variants.items():
            print(f"{vname}: {draws(cols, 200, (1, 2, 3, 4))}", flush=True)
        return 0
    if args.more is not None:  # session 8: more features, and the shipped ones without the default-corpus flag
        LR, LEAVES = 0.1, 7
        variants = {"shipped": all_cols} | {f"+{m}": all_cols + [names.index(m)] for m in MORE}
        variants["+all"] = all_cols + [names.index(m) for m in MORE]
        variants["without_default"] = [c for c in all_cols if names[c] != "default"]
        for vname, cols in variants.items():
            if not args.more or vname in args.more:
                print(f"{vname}: {draws(cols, 200, (1, 2, 3, 4))}", flush=True)
        return 0
    if args.prf:  # session 10: pseudo-relevance feedback features (experiments/measure_prf.py)
        LR, LEAVES = 0.1, 7
        X = np.hstack([X, np.load(args.prf)["E"]])
        names += ["prf_bm", "rocchio"]
        for vname, extra in (("shipped", []), ("+ prf_bm", ["prf_bm"]), ("+ rocchio", ["rocchio"]),
                             ("+ both", ["prf_bm", "rocchio"])):
            print(f"{vname}: {draws(all_cols + [names.index(e) for e in extra], 200, (1, 2, 3, 4))}", flush=True)
        return 0
    if args.bias:  # session 10: the default-corpus flag and the default questions' weight in training
        LR, LEAVES = 0.1, 7
        no_flag = [c for c in all_cols if names[c] != "default"]
        for vname, cols, w in (("shipped", all_cols, 1.0), ("without the default flag", no_flag, 1.0),
                               ("default questions weighted 0.3", all_cols, 0.3),
                               ("without the flag, default questions weighted 0.3", no_flag, 0.3),
                               ("without the default questions", all_cols, 0),
                               ("without the flag and the default questions", no_flag, 0)):
            print(f"{vname}: {draws(cols, 200, (1, 2, 3, 4), weight_default=w, bias=True)}", flush=True)
        return 0
    if args.curve:  # session 9: the shipped model with less training data (tune only)
        LR, LEAVES = 0.1, 7
        for keep in (0.25, 0.5, 0.75, 1.0):
            print(f"training folds cut to {keep:.0%}: {draws(all_cols, 200, (1, 2, 3), keep)}", flush=True)
        return 0
    if args.twins:  # session 9: tune (cross-validated) and held-out, with and without a near twin
        LR, LEAVES = 0.1, 7
        full = fit(all_cols, tune_q, 200, "lgb")(X)
        score = np.where(np.isin(grp, tune_q), shipped_cv(), full)
        kmax = names.index("kmax")
        twin = [bool((y[starts[i]:ends[i]] == 1).any()) and X[starts[i]:ends[i]][y[starts[i]:ends[i]] == 1, kmax].max()
                >= 0.95 for i in range(nq)]
        for sp in ("tune", "heldout"):
            for has in (True, False):
                idx = [i for i in range(nq) if src[i] == "stard" and split[i] == sp and twin[i] == has]
                m = metrics_of({i: order(i, score) for i in idx}, {i: golds[i] for i in idx})
                print(f"stard/{sp} {'with' if has else 'without'} a known question at ≥ 0.95 citing its gold: {fmt(m)}")
        return 0
    if args.confidence:  # session 9: does the best score tell a right answer from a wrong one? (tune only)
        LR, LEAVES = 0.1, 7
        from sklearn.metrics import roc_auc_score
        cv = shipped_cv()

        def answer(i):  # (any citation of the margin rule is gold, the best score): top + 2 within 1.0
            a, b = starts[i], ends[i]
            best: dict = {}
            for r, sc in zip(rows[a:b], cv[a:b], strict=True):
                if keys_of[int(r)] is not None:
                    best[keys_of[int(r)]] = max(best.get(keys_of[int(r)], -np.inf), sc)
            ranked = [k for k in order(i, cv) if k in best]
            if not ranked:
                return False, -np.inf
            top = best[ranked[0]]
            return any(k in golds[i] for k in [k for k in ranked if best[k] >= top - 1.0][:3]), top

        tau = None
        for s_ in ("stard", "default"):
            ok, top = map(np.array, zip(*[answer(i) for i in tune_q if src[i] == s_], strict=True))
            print(f"{s_} tune: {len(ok)} answers, {ok.mean():.3f} cite a gold article; AUC of the best score {roc_auc_score(ok, top):.3f}")
            if tau is None:
                lr = LogisticRegression().fit(top[:, None], ok)
                tau = -lr.intercept_[0] / lr.coef_[0][0]
                print(f"   P(right) = 0.5 at a best score of {tau:.3f}")
            low = top < tau
            print(f"   below it: {low.sum()} answers, {ok[low].mean():.3f} right; above: {(~low).sum()}, {ok[~low].mean():.3f} right")
            for t in (-1.5, -1.0, -0.5, 0.0):
                low = top < t
                print(f"   best score below {t}: {low.sum()} answers, right {ok[low].mean() if low.any() else float('nan'):.3f}")
        return 0
    if args.grid:  # decide on tune only: two fold draws, mean of the cross-validated figures
        for lr in (0.05, 0.1):
            for leaves in (7, 15, 31):
                for n in (50, 100, 200):
                    LR, LEAVES = lr, leaves
                    print(f"lr {lr} leaves {leaves} trees {n}: {draws(all_cols, n, (1, 2))}", flush=True)
        return 0
    for n in args.lgb:
        run(f"lambdarank {n} trees", all_cols, C=n, pairwise="lgb")
    if not args.lgb:
        run("pairwise all", all_cols, pairwise=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
