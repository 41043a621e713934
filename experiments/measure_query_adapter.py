"""A query-side linear adapter as a re-ranker feature over the library index (experiment, issue 13).

The adapter maps a query vector q to normalize(q @ W), W a 384x384 matrix started at the identity
and trained (softmax over every in-force statute of the library index, temperature 0.05, L2 pull
toward the identity) to rank the tune questions' gold articles first. Document vectors are
unchanged, so nothing is re-embedded. Its cosine and rank join the re-ranker's features
(measure_reranker.py's pool cache). Tune questions get the adapter's features from an adapter
trained without their fold (cross-fitting), so the re-ranker never learns from in-sample values;
held-out questions from one trained on all of tune (reported only).

    LEGALQA_HOME=/work/libhome python experiments/measure_query_adapter.py --cache /tmp/rr4.npz
"""

from __future__ import annotations

import argparse
import os
import sys
from ast import literal_eval
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
SHARED = Path(os.environ.get("LEGALQA_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))


def train_adapter(Q: np.ndarray, targets: list[list[int]], V: np.ndarray, epochs: int, lam: float, lr: float = 1e-3,
                  temperature: float = 0.05, seed: int = 0) -> np.ndarray:
    import torch

    torch.manual_seed(seed)
    d = Q.shape[1]
    Vt = torch.from_numpy(V.T.copy())
    delta = torch.zeros(d, d, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=lr)
    eye = torch.eye(d)
    Qt = torch.from_numpy(Q)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(Q))
        for b in range(0, len(order), 64):
            idx = order[b:b + 64]
            q = Qt[idx] @ (eye + delta)
            q = q / q.norm(dim=1, keepdim=True)
            logits = (q @ Vt) / temperature
            target = torch.zeros_like(logits)
            for k, i in enumerate(idx):
                for c in targets[i]:
                    target[k, c] = 1.0 / len(targets[i])
            loss = -(target * torch.log_softmax(logits, dim=1)).sum(dim=1).mean() + lam * (delta ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return (eye + delta).detach().numpy()


def live_targets(s, qs) -> tuple[np.ndarray, list[list[int]]]:
    """The rows of the index's in-force statutes, and each question's gold as columns among them."""
    live_rows = np.flatnonzero([c.kind == "statute" and c.status not in ("已废止", "历史版本") for c in s.chunks])
    col_of = {r: k for k, r in enumerate(live_rows)}
    targets = []
    for q in qs:
        gold = {(law, a, suf) for law, a, suf, *_ in q.expected_keys}
        targets.append([col_of[r] for r in (s._articles.get(g) for g in gold) if r is not None and r in col_of])
    return live_rows, targets


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--cache", default="/tmp/rr4.npz")
    p.add_argument("--questions", default=str(SHARED / "stard" / "train.jsonl"))
    p.add_argument("--epochs", type=int, nargs="*", default=[10])
    p.add_argument("--lam", type=float, nargs="*", default=[0.01])
    p.add_argument("--heldout", action="store_true", help="also print held-out figures (reported only)")
    args = p.parse_args()

    import faiss
    from legalqa.eval.data import load_questions, load_stard, restrict_to_index
    from legalqa.eval.metrics import retrieval_metrics
    from legalqa.eval.run import load_searcher
    from legalqa.index.search import normalize_query

    d = dict(np.load(args.cache, allow_pickle=False))
    s = load_searcher()
    known = {(c.law, c.article, c.suffix): 1 for c in s.chunks if c.kind == "statute" and c.law}
    stard, _ = restrict_to_index(load_stard(args.questions, aliases=s.aliases), known)
    own = [q for q in load_questions(Path(__file__).resolve().parents[1] / "eval" / "questions.jsonl",
                                     aliases=s.aliases) if q.answerable and q.expected_keys]
    qs = [q for q in stard] + [q for q in own]
    assert [q.id for q in qs] == list(d["ids"]), "the pool cache is of other questions"
    texts = [s.speller.correct(normalize_query(q.question))[0] for q in qs]
    Q = s.embedder.embed_queries(texts).astype(np.float32)
    V = faiss.downcast_index(s.backend.data.dense.index).reconstruct_n(0, len(s.chunks)).astype(np.float32)
    live_rows, targets = live_targets(s, qs)
    Vl = V[live_rows]
    split = d["split"]
    tune = np.flatnonzero(split == "tune")
    held = np.flatnonzero(split == "heldout")
    fold = np.arange(len(tune)) % 5
    np.random.default_rng(0).shuffle(fold)

    import measure_reranker as mr

    X, grp, rows = d["X"], d["grp"], d["rows"]
    names = list(d["names"])
    keys_of = [literal_eval(k) for k in d["keys"]]
    golds = [set(literal_eval(g)) for g in d["golds"]]
    src = d["src"]
    nq = len(qs)
    starts = np.searchsorted(grp, np.arange(nq))
    ends = np.append(starts[1:], len(grp))

    # Dense-only figures of the adapter (tune cross-fitted, held-out) against the plain query.
    def dense_metrics(QQ, idx):
        sims = QQ[idx] @ Vl.T
        ranked = {}
        for k, i in enumerate(idx):
            top = np.argsort(-sims[k])[:10]
            ranked[i] = [keys_of[live_rows[j]] for j in top]
        return retrieval_metrics(ranked, {i: golds[i] for i in idx})

    base_cols = [names.index(n) for n in names if n not in mr.EXTRA]
    exact_col = names.index("exact")
    import lightgbm as lgb

    def order(i, score):
        a, b = starts[i], ends[i]
        return mr.ranked_keys(score[a:b], X[a:b, exact_col], rows[a:b], keys_of)

    def cv_figures(Xf, cols, seeds=(1, 2, 3, 4)):
        res = {"stard": [], "default": []}
        for seed in seeds:
            f_ = np.arange(len(tune)) % 5
            np.random.default_rng(seed).shuffle(f_)
            cv = np.zeros(len(Xf))
            for f in range(5):
                tr = tune[f_ != f]
                m = np.isin(grp, tr)
                sizes = ends[tr] - starts[tr]
                model = lgb.LGBMRanker(objective="lambdarank", n_estimators=200, learning_rate=0.1, num_leaves=7,
                                       min_child_samples=20, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                                       lambdarank_truncation_level=10, random_state=0, verbose=-1, n_jobs=2)
                model.fit(Xf[m][:, cols], d["y"][m], group=sizes)
                te = np.isin(grp, tune[f_ == f])
                cv[te] = model.predict(Xf[te][:, cols])
            for kind in res:
                idx = [i for i in tune if src[i] == kind]
                mm = retrieval_metrics({i: order(i, cv) for i in idx}, {i: golds[i] for i in idx})
                res[kind].append((mm["hit@5"], mm["recall@5"], mm["mrr@10"]))
        return {k: np.mean(v, axis=0) for k, v in res.items()}

    def heldout_figures(Xf, cols):
        m = np.isin(grp, tune)
        model = lgb.LGBMRanker(objective="lambdarank", n_estimators=200, learning_rate=0.1, num_leaves=7,
                               min_child_samples=20, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                               lambdarank_truncation_level=10, random_state=0, verbose=-1, n_jobs=2)
        model.fit(Xf[m][:, cols], d["y"][m], group=ends[tune] - starts[tune])
        sc = model.predict(Xf[:, cols])
        out = {}
        for kind in ("stard", "default"):
            idx = [i for i in held if src[i] == kind]
            mm = retrieval_metrics({i: order(i, sc) for i in idx}, {i: golds[i] for i in idx})
            out[kind] = (mm["hit@5"], mm["recall@5"], mm["mrr@10"])
        return out

    def show(name, f):
        print(f"{name}: stard tune hit@5 {f['stard'][0]:.4f} R@5 {f['stard'][1]:.4f} MRR {f['stard'][2]:.4f}"
              f" | default tune hit@5 {f['default'][0]:.4f} R@5 {f['default'][1]:.4f} MRR {f['default'][2]:.4f}", flush=True)

    show("shipped features", cv_figures(X, base_cols))
    trainable = [i for i in tune if targets[i]]
    for epochs in args.epochs:
        for lam in args.lam:
            QA = np.zeros_like(Q)
            for f in range(5):
                tr = [i for i, g in zip(tune, fold, strict=True) if g != f and targets[i]]
                W = train_adapter(Q[tr], [targets[i] for i in tr], Vl, epochs, lam)
                te = [i for i, g in zip(tune, fold, strict=True) if g == f]
                QA[te] = Q[te] @ W
            W = train_adapter(Q[trainable], [targets[i] for i in trainable], Vl, epochs, lam)
            QA[held] = Q[held] @ W
            QA /= np.linalg.norm(QA, axis=1, keepdims=True)
            tune_st = [i for i in tune if src[i] == "stard"]
            plain, adapted = dense_metrics(Q, tune_st), dense_metrics(QA, tune_st)
            print(f"epochs {epochs} lam {lam}: dense only, STARD tune (cross-fitted) hit@5 {plain['hit@5']:.3f} -> "
                  f"{adapted['hit@5']:.3f}, MRR {plain['mrr@10']:.3f} -> {adapted['mrr@10']:.3f}", flush=True)
            for depth in (20, 50, 100):  # how many gold articles the adapter's own top list adds to the pool
                gain = {"stard": [0, 0], "default": [0, 0]}
                for i in tune:
                    pool_keys = {keys_of[r] for r in rows[starts[i]:ends[i]]}
                    top = np.argsort(-(Vl @ QA[i]))[:depth]
                    added = {keys_of[live_rows[j]] for j in top}
                    gain[src[i]][0] += bool(golds[i] & pool_keys)
                    gain[src[i]][1] += bool(golds[i] & (pool_keys | added))
                print(f"    pool has a gold (tune): stard {gain['stard'][0]} -> {gain['stard'][1]}, "
                      f"default {gain['default'][0]} -> {gain['default'][1]} with the adapter's top {depth}", flush=True)
            # features: adapted cosine and the adapted rank among all live statutes
            acos = np.zeros(len(X), np.float32)
            arank = np.zeros(len(X), np.float32)
            for i in range(nq):
                a, b = starts[i], ends[i]
                sims_all = Vl @ QA[i]
                pool_rows = rows[a:b]
                own_sims = V[pool_rows] @ QA[i]
                acos[a:b] = own_sims
                ranks = (sims_all[None, :] > own_sims[:, None]).sum(axis=1) + 1
                arank[a:b] = 1 / np.log2(1 + np.minimum(ranks, 200))
            Xf = np.hstack([X, acos[:, None], arank[:, None]])
            cols = base_cols + [Xf.shape[1] - 2, Xf.shape[1] - 1]
            show(f"  + adapter features (epochs {epochs}, lam {lam})", cv_figures(Xf, cols))
            if args.heldout:
                print("  held-out, shipped:", heldout_figures(X, base_cols), "with adapter:", heldout_figures(Xf, cols))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
