"""A trained query tower over the library index's fixed article vectors (issue 13, session 10), measured.

The strongest question–article model this machine can train without re-embedding the library: the
default model's query side alone, its float32 tensors (biases, LayerNorms: BitFit, as
train_embedder.py) trained in the PyTorch mirror (e5_torch.py) to rank each tune question's gold
articles first among every in-force statute of the index (softmax over all of them at temperature
0.05). The article vectors stay the shipped ones, so a product could run it as a second query
embedding without rebuilding anything. Compared, dense retrieval alone and cross-fitted by the same five
folds as measure_query_adapter.py: the plain query, the linear adapter, and the tower.

    LEGALQA_HOME=/work/libhome OMP_WAIT_POLICY=PASSIVE python experiments/measure_query_tower.py --cache /tmp/rr.npz
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from ast import literal_eval
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
SHARED = Path(os.environ.get("LEGALQA_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))


def train_tower(ids: list[list[int]], targets: list[list[int]], V: np.ndarray, epochs: int, lr: float,
                temperature: float = 0.05, batch: int = 32, seed: int = 0):
    import torch
    from e5_torch import TorchE5
    from e5file import base_model_file

    torch.manual_seed(seed)
    model = TorchE5(base_model_file())
    Vt = torch.from_numpy(V.T.copy())
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        t0 = time.perf_counter()
        order = rng.permutation(len(ids))
        for b in range(0, len(order), batch):
            idx = order[b:b + batch]
            logits = model([ids[i] for i in idx]) @ Vt / temperature
            target = torch.zeros_like(logits)
            for k, i in enumerate(idx):
                for c in targets[i]:
                    target[k, c] = 1.0 / len(targets[i])
            loss = -(target * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"    epoch {epoch + 1}: loss {loss.item():.3f}, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return model


def embed(model, ids: list[list[int]], batch: int = 64) -> np.ndarray:
    import torch

    out = np.zeros((len(ids), model.hidden), np.float32)
    order = np.argsort([len(x) for x in ids])
    with torch.no_grad():
        for k in range(0, len(order), batch):
            part = order[k:k + batch]
            out[part] = model([ids[j] for j in part]).numpy()
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--cache", default="/tmp/rr.npz")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=5e-4)
    args = p.parse_args()

    import faiss
    import torch
    from e5_torch import TorchE5
    from e5file import base_model_file
    from legalqa.eval.metrics import retrieval_metrics
    from legalqa.eval.run import load_searcher
    from measure_query_adapter import live_targets, train_adapter
    from measure_reranker import cached_questions

    torch.set_num_threads(os.cpu_count() or 1)
    d = dict(np.load(args.cache, allow_pickle=False))
    s = load_searcher()
    qs, texts = cached_questions(s, d)
    Q = s.embedder.embed_queries(texts).astype(np.float32)
    V = faiss.downcast_index(s.backend.data.dense.index).reconstruct_n(0, len(s.chunks)).astype(np.float32)
    live_rows, targets = live_targets(s, qs)
    Vl = V[live_rows]
    keys_of = [literal_eval(k) for k in d["keys"]]
    golds = [set(literal_eval(g)) for g in d["golds"]]
    split, src = d["split"], d["src"]
    tune = np.flatnonzero(split == "tune")
    fold = np.arange(len(tune)) % 5
    np.random.default_rng(0).shuffle(fold)
    tok = TorchE5(base_model_file()).tokenizer
    ids = [tok.encode(t, is_query=True) for t in texts]

    def dense(QQ, idx):
        sims = QQ[idx] @ Vl.T
        ranked = {i: [keys_of[live_rows[j]] for j in np.argsort(-sims[k])[:10]] for k, i in enumerate(idx)}
        return retrieval_metrics(ranked, {i: golds[i] for i in idx})

    QA = np.zeros_like(Q)
    QT = np.zeros_like(Q)
    for f in range(5):
        tr = [i for i, g in zip(tune, fold, strict=True) if g != f and targets[i]]
        te = [i for i, g in zip(tune, fold, strict=True) if g == f]
        QA[te] = Q[te] @ train_adapter(Q[tr], [targets[i] for i in tr], Vl, 20, 0.01)
        print(f"fold {f + 1}: tower on {len(tr)} questions", file=sys.stderr, flush=True)
        tower = train_tower([ids[i] for i in tr], [targets[i] for i in tr], Vl, args.epochs, args.lr)
        QT[te] = embed(tower, [ids[i] for i in te])
    QA[tune] /= np.linalg.norm(QA[tune], axis=1, keepdims=True)
    mirror = embed(TorchE5(base_model_file()), [ids[i] for i in tune])
    QM = np.zeros_like(Q)
    QM[tune] = mirror
    for kind in ("stard", "default"):
        idx = [i for i in tune if src[i] == kind]
        for name, QQ in (("plain query (engine)", Q), ("plain query (mirror)", QM), ("linear adapter", QA),
                         (f"query tower, {args.epochs} epochs, lr {args.lr}", QT)):
            m = dense(QQ, idx)
            print(f"{kind} tune, dense only, cross-fitted: {name}: hit@1 {m['hit@1']:.3f} hit@5 {m['hit@5']:.3f} "
                  f"recall@5 {m['recall@5']:.3f} MRR@10 {m['mrr@10']:.3f}", flush=True)
    np.savez_compressed(Path(args.cache).with_name(Path(args.cache).stem + f"_tower_{args.epochs}_{args.lr}.npz"), QT=QT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
