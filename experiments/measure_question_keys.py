"""Tune-part STARD questions as extra keys for their gold articles, measured on the library index.

Each tune question's vector (the default model, query side) points at its gold articles. At
search time the question's nearest known questions rank their gold articles, and that ranking
joins dense and BM25 in reciprocal-rank fusion. Tune figures are leave-one-out (a question
never finds itself); held-out is only reported.

    LEGALQA_HOME=/work/libhome python experiments/measure_question_keys.py

Prints hit@1/5, recall@5 and MRR@10 per split for each variant.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

SHARED = Path(os.environ.get("LEGALQA_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--questions", default=str(SHARED / "stard" / "train.jsonl"))
    p.add_argument("--depth", type=int, default=50)
    args = p.parse_args()

    from legalqa.eval.data import load_stard, restrict_to_index
    from legalqa.eval.metrics import retrieval_metrics
    from legalqa.eval.run import load_searcher

    s = load_searcher()
    known = {}
    for c in s.chunks:
        if c.kind == "statute" and c.law:
            known[(c.law, c.article, c.suffix)] = max(1, len(c.paragraphs or ()))
    qs, dropped = restrict_to_index(load_stard(args.questions, aliases=s.aliases), known)
    print(f"{len(qs)} questions with every gold article in the index ({len(dropped)} not)", file=sys.stderr)
    all_qs = load_stard(args.questions, aliases=s.aliases)
    tune_all = [q for q in all_qs if q.split == "tune"]

    # Keys: every tune question (also those with a gold article outside the index: its other golds count).
    key_vecs = s.embedder.embed_queries([q.question for q in tune_all])
    key_rows = []
    for q in tune_all:
        rows = []
        for law, art, suf, _ in q.expected_keys:
            r = s._articles.get((law, art, suf))
            if r is not None:
                rows.append(r)
        key_rows.append(rows)
    key_id = {q.id: i for i, q in enumerate(tune_all)}

    from legalqa.index.backends.base import Request
    from legalqa.index.expansion import expand
    from legalqa.index.fusion import reciprocal_rank_fusion
    from legalqa.index.search import Filters, normalize_query
    from legalqa.ingest.citations import find_citations

    cfg = s.config
    qvecs = s.embedder.embed_queries([q.question for q in qs])
    base = {}
    flt = Filters()
    for i, q in enumerate(qs):
        text = normalize_query(q.question)
        exp = expand(text, s.rules, cfg.disabled_rules)
        got = s.backend.retrieve(Request(qvecs[i], exp.apply(text), flt, args.depth, cfg.rrf_k))
        exact = [s._articles[(r.law, r.article, r.suffix)] for r in find_citations(text, aliases=s.aliases)
                 if r.law and (r.law, r.article, r.suffix) in s._articles]
        base[q.id] = (list(got.dense), list(got.sparse), exact)
    row_key = {r: (c.law, c.article, c.suffix) if c.kind == "statute" else None for r, c in enumerate(s.chunks)}

    def key_dense(i: int, qid: str, m: int, delta: float) -> list[tuple[int, float]]:
        sims = key_vecs @ qvecs[i]
        if qid in key_id:
            sims[key_id[qid]] = -9
        top = np.argsort(-sims)[:m]
        out: dict[int, float] = {}
        for j in top:
            for r in key_rows[j]:
                out[r] = max(out.get(r, -9), float(sims[j]) - delta)
        return list(out.items())

    law_of = [c.law for c in s.chunks]
    law_mask = {}
    for law in set(c.law for c in s.chunks):
        law_mask[law] = np.array([c.law == law and c.status not in ("已废止", "历史版本") for c in s.chunks])
    head_of = [(c.law, c.heading_path[-1] if c.heading_path else "") for c in s.chunks]

    def neighbor_votes(i: int, qid: str, km: int, group: list, floor: float) -> dict:
        """Share of the km nearest keys (never the question's own, none below floor) per group of their rows."""
        sims = key_vecs @ qvecs[i]
        if qid in key_id:
            sims[key_id[qid]] = -9
        votes: dict = {}
        for j in np.argsort(-sims)[:km]:
            if sims[j] >= floor:
                for g in {group[r] for r in key_rows[j]}:
                    votes[g] = votes.get(g, 0) + 1.0 / km
        return votes

    def variant(mode: str, m: int, x: float, bw: float = 1.0, rk: int | None = None, law_boost: float = 0.0,
                km: int = 10, kd: float = 0.02, head_boost: float = 0.0, inlaw: int = 0,
                prf: float = 0.0, prf_n: int = 20, floor: float = -1.0) -> dict:
        ranked = {}
        for i, q in enumerate(qs):
            dense, sparse, exact = base[q.id]
            lists = {"dense": [r for r, _ in dense], "bm25": [r for r, _ in sparse]}
            weights = {"dense": cfg.dense_weight, "bm25": bw}
            if mode == "maxsim":  # keys join the dense list: an article scores its best key
                merged = dict(dense)
                for r, sc in key_dense(i, q.id, km, kd):
                    merged[r] = max(merged.get(r, -9), sc)
                if inlaw:
                    votes = neighbor_votes(i, q.id, km, law_of, -1.0)
                    if votes:
                        top_law = max(votes, key=votes.get)
                        sc, rws = s.backend.data.dense.search(qvecs[i], inlaw, law_mask[top_law])
                        for r, v in zip(rws.tolist(), sc.tolist(), strict=True):
                            merged[r] = max(merged.get(r, -9), v)
                lists["dense"] = sorted(merged, key=lambda r: -merged[r])[: args.depth + inlaw]
            elif mode == "list":  # keys as a third ranking of weight x
                kd = key_dense(i, q.id, m, 0.0)
                lists["keys"] = [r for r, _ in sorted(kd, key=lambda t: -t[1])]
                weights["keys"] = x
            fused = reciprocal_rank_fusion(lists, weights, k=rk or cfg.rrf_k)
            if prf:  # pseudo-relevance feedback: the laws of the top fused candidates vote
                top = sorted(fused, key=lambda r: -fused[r])[:prf_n]
                pv: dict = {}
                for r in top:
                    if law_of[r]:
                        pv[law_of[r]] = pv.get(law_of[r], 0) + 1.0 / prf_n
                for r in fused:
                    fused[r] += prf * pv.get(law_of[r], 0.0)
            if law_boost:
                votes = neighbor_votes(i, q.id, km, law_of, floor)
                hv = neighbor_votes(i, q.id, km, head_of, floor)
                for r in fused:
                    fused[r] += law_boost * votes.get(law_of[r], 0.0) + head_boost * hv.get(head_of[r], 0.0)
            order = exact + [r for r in sorted(fused, key=lambda r: (-fused[r], r)) if r not in exact]
            keys = []
            for r in order:
                k = row_key[r]
                keys.append(None if k is None else (*k, None))
                if len(keys) == 10:
                    break
            ranked[q.id] = keys
        out = {}
        for split in ("tune", "heldout"):
            rel = {q.id: set(q.expected_keys) for q in qs if q.split == split}
            out[split] = retrieval_metrics({k: v for k, v in ranked.items() if k in rel}, rel)
        return out

    print(f"keys: {len(tune_all)} tune questions, {sum(map(len, key_rows))} gold rows", file=sys.stderr)
    rows = [("baseline", "none", 0, 0.0)]
    for prf in (0.05, 0.1, 0.2):
        for n in (10, 20):
            rows.append((f"prf {prf} n={n}", "none", 0, 0.0, 1.0, None, 0.0, 10, 0.02, 0.0, 0, prf, n))
    rows.append(("keys 0.15/0.1 (harness, no floor)", "maxsim", 0, 0.0, 1.0, None, 0.15, 10, 0.02, 0.1))
    for prf in (0.05, 0.1):
        rows.append((f"keys + prf {prf} n=20", "maxsim", 0, 0.0, 1.0, None, 0.15, 10, 0.02, 0.1, 0, prf, 20))
    print("variant | tune hit@1 hit@5 recall@5 mrr@10 | heldout hit@1 hit@5 recall@5 mrr@10")
    for name, mode, m, x, *extra in rows:
        r = variant(mode, m, x, *extra)
        f = lambda d: " ".join(f"{d[k]:.3f}" for k in ("hit@1", "hit@5", "recall@5", "mrr@10"))  # noqa: E731
        print(f"{name} | {f(r['tune'])} (n={r['tune']['n_retrieval']}) | {f(r['heldout'])} (n={r['heldout']['n_retrieval']})",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
