"""Retrieval ablation (issue 3): dense only, BM25 only and hybrid, with and without expansion,
and what each expansion rule gains, on the answerable questions of a question file.

All variants share one loaded index and one query-vector cache (Searcher.with_),
so the model embeds each question once. Exact article lookup (a question that names an
article gets it at rank 1) stays on in every variant: it is not a retriever being compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from legalqa.eval.data import Question
from legalqa.eval.metrics import article_level, retrieval_metrics
from legalqa.eval.run import RETRIEVAL_K
from legalqa.index.expansion import expand
from legalqa.index.search import Searcher, normalize_query

VARIANTS = (
    ("hybrid", {}),
    ("dense", {"bm25_weight": 0.0}),
    ("bm25", {"dense_weight": 0.0}),
)
SHOWN = ("hit@1", "hit@5", "recall@5", "mrr@10")


def ranking(searcher: Searcher, questions: Sequence[Question], k: int = RETRIEVAL_K) -> dict[str, list]:
    """Question id -> article keys of the top-k hits (None for prose).

    A hit with fused score 0 that the question did not name came from a retriever whose
    weight is 0; it is left out, so "BM25 only" ranks only what BM25 found.
    """
    out = {}
    for q in questions:
        hits = [h for h in searcher.search(q.question, k) if h.exact or h.score > 0]
        out[q.id] = [(h.chunk.law, h.chunk.article, h.chunk.suffix, None) if h.chunk.kind == "statute" else None
                     for h in hits]
    return out


def _by_split(ranked: dict[str, list], questions: Sequence[Question]) -> dict[str, dict[str, Any]]:
    relevant = {q.id: {article_level(k) for k in q.expected_keys} for q in questions}
    out = {"all": retrieval_metrics(ranked, relevant)}
    for split in sorted({q.split for q in questions if q.split}):
        ids = {q.id for q in questions if q.split == split}
        out[split] = retrieval_metrics(ranked, {i: r for i, r in relevant.items() if i in ids})
    return out


def retrieval_ablation(questions: Sequence[Question], searcher: Searcher, progress: bool = False) -> dict[str, Any]:
    """Retrieval metrics per variant and split, and the per-rule gains of expansion.

    Returns ``{"variants": {name: {split: metrics}}, "rules": [{"rule", "fired", "delta": {split: {...}}}],
    "config": …}``. Variant names are ``hybrid``, ``dense``, ``bm25``, each with ``+expansion``
    or not; rule deltas are hybrid+expansion minus hybrid+expansion with that one rule disabled
    (positive = the rule helps).
    """
    from tqdm import tqdm

    questions = [q for q in questions if q.expected_keys]
    base = searcher.config
    variants: dict[str, dict] = {}
    rankings: dict[str, dict] = {}
    jobs = [(name + ("+expansion" if exp else ""), {**changes, "expand": exp})
            for name, changes in VARIANTS for exp in (True, False)]
    bar = tqdm(total=len(jobs) + len(searcher.rules), desc="ablation", disable=not progress, leave=False)
    for name, changes in jobs:
        rankings[name] = ranking(searcher.with_(config=replace(base, **changes)), questions)
        variants[name] = _by_split(rankings[name], questions)
        bar.update()
    full = rankings["hybrid+expansion"]
    rules = []
    normalized = {q.id: normalize_query(q.question) for q in questions}
    for rule in searcher.rules:
        fired = [q for q in questions if rule.id in expand(normalized[q.id], (rule,)).rules]
        off = replace(base, expand=True, disabled_rules=frozenset(base.disabled_rules) | {rule.id})
        # Only questions where the rule fires can change: rerank those, keep the rest.
        ranked = full | ranking(searcher.with_(config=off), fired)
        without = _by_split(ranked, questions)
        delta = {
            split: {m: _diff(variants["hybrid+expansion"][split][m], without[split][m]) for m in ("hit@5", "mrr@10")}
            for split in without
        }
        rules.append({"rule": rule.id, "fired": len(fired), "delta": delta})
        bar.update()
    bar.close()
    return {
        "variants": variants,
        "rules": rules,
        "n_questions": len(questions),
        "config": {k: (sorted(v) if isinstance(v, frozenset) else v) for k, v in vars(base).items()},
    }


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _fmt(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "n/a"
    return f"{v:+.3f}" if signed else f"{v:.3f}"


def render_ablation(result: dict[str, Any]) -> str:
    """The ablation as two Markdown tables (variants per split; per-rule deltas)."""
    splits = list(next(iter(result["variants"].values())).keys())
    lines = ["| variant | split | n | " + " | ".join(SHOWN) + " |", "|---|---|---|" + "---|" * len(SHOWN)]
    for name, per_split in result["variants"].items():
        for split in splits:
            m = per_split[split]
            lines.append(f"| {name} | {split} | {m['n_retrieval']} | " + " | ".join(_fmt(m[k]) for k in SHOWN) + " |")
    lines += ["", "| rule | fired on | " + " | ".join(f"Δhit@5 {s} | ΔMRR@10 {s}" for s in splits) + " |",
              "|---|---|" + "---|---|" * len(splits)]
    for r in result["rules"]:
        cells = " | ".join(f"{_fmt(r['delta'][s]['hit@5'], True)} | {_fmt(r['delta'][s]['mrr@10'], True)}"
                           for s in splits)
        lines.append(f"| {r['rule']} | {r['fired']} | {cells} |")
    return "\n".join(lines)
