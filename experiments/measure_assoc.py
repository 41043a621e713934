"""Word associations learned from known questions, as re-ranker features (issue 13, session 9).

The known questions (the STARD tune part and the default file's tune questions) pair a layperson's
words with the words of the statute that answers them: 没钱还 with 不能履行, 骂 with 侮辱. Counting
those pairs gives a lexicon that bridges the two vocabularies for any article, not only the ones a
known question cites (the keys' votes only reach those). For a question word u and a statute word v:

    lift(u, v) = log( (n(u, v) + a * p(v)) / (n(u) + a) / p(v) )

n(u, v): known questions with u in the question and v in a gold article; n(u): known questions with
u; p(v): the share of statutes holding v; a: smoothing. Pairs seen in fewer than ``MIN_PAIR``
questions count 0. A question's own pairs never count (leave-one-out, as the keys leave out a
question's own key), so tune features are honest and the re-ranker's folds stay fair.

Features per candidate (``ASSOC``): the summed positive lift of its words for the question's words,
over the question's word count; the share of the question's words with a lift above 1 to some word
of the candidate; and the first feature relative to the best in the pool.

    LEGALQA_HOME=/work/libhome python experiments/measure_assoc.py --cache /tmp/rr.npz

The cache is measure_reranker.py's (built there on first use). Tune only: mean of four fold draws.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "experiments"))
sys.path.insert(0, str(REPO / "scripts"))
SHARED = Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared"))

ASSOC = ("assoc", "assoc_cov", "assoc_rel")
MIN_PAIR = 2
SMOOTH = 5.0


def question_words(text: str) -> set[str]:
    from legalqa.index.sparse import tokenize
    return {t for t in tokenize(text) if len(t) >= 2}


def statute_words(text: str) -> set[str]:
    from legalqa.index.sparse import tokenize
    return {t for t in tokenize(text) if len(t) >= 2}


class Lexicon:
    """Counts of (question word, gold statute word) over known questions, with leave-one-out."""

    def __init__(self, pairs: list[tuple[set[str], set[str]]], df: Counter, n_docs: int) -> None:
        self.pairs = pairs
        self.n_u: Counter = Counter()
        self.n_uv: dict[str, Counter] = defaultdict(Counter)
        for q, g in pairs:
            self.n_u.update(q)
            for u in q:
                self.n_uv[u].update(g)
        self.p = {v: (df[v] + 1) / (n_docs + 1) for v in df}
        self.p_floor = 1 / (n_docs + 1)

    def weights(self, words: set[str], own: int | None) -> dict[str, list[tuple[str, float]]]:
        """Per question word, the statute words it lifts: [(v, lift)], leaving out known question ``own``."""
        oq, og = self.pairs[own] if own is not None else (set(), set())
        out = {}
        for u in words:
            nu = self.n_u.get(u, 0) - (u in oq)
            if nu < MIN_PAIR:
                continue
            row = []
            for v, n in self.n_uv[u].items():
                n -= (u in oq) and (v in og)
                if n < MIN_PAIR:
                    continue
                p = self.p.get(v, self.p_floor)
                lift = math.log((n + SMOOTH * p) / (nu + SMOOTH) / p)
                if lift > 0:
                    row.append((v, lift))
            if row:
                out[u] = row
        return out


def columns(d: dict) -> np.ndarray:
    from legalqa.eval.run import load_searcher
    from measure_reranker import cached_questions

    s = load_searcher()
    t0 = time.time()
    qs, texts = cached_questions(s, d)
    chunk_words: dict[int, set[str]] = {}

    def words_of(r: int) -> set[str]:
        if r not in chunk_words:
            chunk_words[r] = statute_words(s.chunks[r].text)
        return chunk_words[r]

    df: Counter = Counter()
    statutes = [r for r, c in enumerate(s.chunks) if c.kind == "statute"]
    for r in statutes:
        df.update(words_of(r))
    print(f"statute words: {time.time() - t0:.0f} s", file=sys.stderr)
    row_of = {(c.law, c.article, c.suffix): r for r, c in enumerate(s.chunks) if c.kind == "statute"}
    train = [i for i, q in enumerate(qs) if q.split == "tune"]
    pairs, slot = [], {}
    for i in train:
        gold = set()
        for law, a, suf, *_ in qs[i].expected_keys:
            r = row_of.get((law, a, suf))
            if r is not None:
                gold |= words_of(r)
        slot[i] = len(pairs)
        pairs.append((question_words(texts[i]), gold))
    lex = Lexicon(pairs, df, len(statutes))
    grp, rows = d["grp"], d["rows"]
    starts = np.searchsorted(grp, np.arange(len(qs)))
    ends = np.append(starts[1:], len(grp))
    E = np.zeros((len(grp), len(ASSOC)), np.float32)
    for i in range(len(qs)):
        qw = question_words(texts[i])
        by_v: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for u, row in lex.weights(qw, slot.get(i)).items():
            for v, lift in row:
                by_v[v].append((u, lift))
        a, b = starts[i], ends[i]
        for k, r in enumerate(rows[a:b]):
            total, best = 0.0, {}
            for v in words_of(int(r)) & by_v.keys():
                for u, lift in by_v[v]:
                    total += lift
                    best[u] = max(best.get(u, 0.0), lift)
            E[a + k, 0] = total / max(len(qw), 1)
            E[a + k, 1] = sum(x > 1.0 for x in best.values()) / max(len(qw), 1)
        top = E[a:b, 0].max() if b > a else 0.0
        E[a:b, 2] = E[a:b, 0] / top if top > 0 else 0.0
    print(f"association columns: {time.time() - t0:.0f} s", file=sys.stderr)
    return E


def main() -> int:
    from ast import literal_eval

    import lightgbm as lgb
    from measure_reranker import metrics_of, ranked_keys

    p = argparse.ArgumentParser()
    p.add_argument("--cache", default="/tmp/rr.npz")
    p.add_argument("--seeds", default="1,2,3,4")
    p.add_argument("--heldout", action="store_true", help="also print held-out (report only, after deciding)")
    args = p.parse_args()
    d = dict(np.load(args.cache, allow_pickle=False))
    extra = Path(args.cache).with_name(Path(args.cache).stem + "_assoc.npz")
    if not extra.exists():
        np.savez_compressed(extra, E=columns(d))
    E = np.load(extra)["E"]
    names = list(d["names"]) + list(ASSOC)
    X = np.hstack([d["X"], E])
    y, grp, rows, src, split = d["y"], d["grp"], d["rows"], d["src"], d["split"]
    keys_of = [literal_eval(k) for k in d["keys"]]
    golds = [set(literal_eval(g)) for g in d["golds"]]
    nq = len(golds)
    starts = np.searchsorted(grp, np.arange(nq))
    ends = np.append(starts[1:], len(grp))
    exact = names.index("exact")
    from legalqa.index.rerank import FEATURES
    shipped = [names.index(n) for n in FEATURES]
    tune_q = np.array([i for i in range(nq) if split[i] == "tune"])

    def fit(cols, train_q):
        mask = np.isin(grp, train_q)
        qi = np.unique(grp[mask])
        m = lgb.LGBMRanker(objective="lambdarank", n_estimators=200, learning_rate=0.1, num_leaves=7,
                           min_child_samples=20, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                           lambdarank_truncation_level=10, verbose=-1, random_state=0, n_jobs=2)
        m.fit(X[mask][:, cols], y[mask], group=ends[qi] - starts[qi])
        return m.predict(X[:, cols])

    def order(i, score):
        a, b = starts[i], ends[i]
        return ranked_keys(score[a:b], X[a:b, exact], rows[a:b], keys_of)

    def summary(score, idx):
        m = metrics_of({i: order(i, score) for i in idx}, {i: golds[i] for i in idx})
        return np.array([m["hit@1"], m["hit@5"], m["recall@5"], m["mrr@10"]])

    variants = {"shipped": shipped} | {f"+{n}": shipped + [names.index(n)] for n in ASSOC}
    variants["+assoc,assoc_cov"] = shipped + [names.index("assoc"), names.index("assoc_cov")]
    variants["+all"] = shipped + [names.index(n) for n in ASSOC]
    for name, cols in variants.items():
        res = {"stard": [], "default": []}
        for seed in map(int, args.seeds.split(",")):
            f_ = np.arange(len(tune_q)) % 5
            np.random.default_rng(seed).shuffle(f_)
            cv = np.zeros(len(X))
            for f in range(5):
                te = np.isin(grp, tune_q[f_ == f])
                cv[te] = fit(cols, tune_q[f_ != f])[te]
            for s_ in res:
                res[s_].append(summary(cv, [i for i in tune_q if src[i] == s_]))
        line = " | ".join(f"{s_} tune " + " ".join(f"{x:.4f}" for x in np.mean(v, axis=0)) for s_, v in res.items())
        if args.heldout:
            full = fit(cols, tune_q)
            line += " || held-out " + " | ".join(
                f"{s_} " + " ".join(f"{x:.4f}" for x in summary(full, [i for i in range(nq)
                                                                   if src[i] == s_ and split[i] == "heldout"]))
                for s_ in res)
        print(f"{name}: {line}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
