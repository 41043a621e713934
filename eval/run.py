"""Run the eval: ask every question, record what came back, and summarize it with eval.metrics.

For calibration, evaluate many settings against one loaded index and model::

    from dataclasses import replace
    from legalqa.eval.data import load_questions, select_split
    from legalqa.eval.run import evaluate, load_searcher
    from legalqa.qa.compose import AnswerConfig, Composer

    searcher = load_searcher()                      # index + model loaded once; query vectors cached
    tune = select_split(load_questions("eval/questions.jsonl", aliases=searcher.aliases), "tune")
    for min_evidence in (0.88, 0.89, 0.90):
        result = evaluate(tune, Composer(searcher, AnswerConfig(min_evidence=min_evidence)))
        print(min_evidence, result["metrics"]["all"]["citation_recall"])
    other = searcher.with_(config=replace(searcher.config, bm25_weight=0.5))

After the first pass every question's vector is cached, so a pass over 221 questions
costs only retrieval and composition (about a second or two).
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from legalqa.eval import metrics
from legalqa.eval.data import Key, Question
from legalqa.index.embedder import Embedder
from legalqa.index.search import Searcher
from legalqa.ingest.aliases import AliasTable
from legalqa.ingest.citations import parse_citation
from legalqa.ingest.models import Chunk
from legalqa.qa.models import Answer, Lead
from legalqa.qa.verify import check_citation

if TYPE_CHECKING:
    from legalqa.qa.compose import Composer

    from legalqa.config import Settings
    from legalqa.engine import Engine

RETRIEVAL_K = 10


class CachingEmbedder(Embedder):
    """Wraps an embedder and remembers query vectors (bounded, least recently used first out).

    The vectors are the inner embedder's, unchanged: eval asks the composer and then
    searches again for the top-10 ranking, and calibration asks the same questions under
    many settings, so each question is embedded once.
    """

    def __init__(self, inner: Embedder, maxsize: int = 8192) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be greater than 0. Currently, maxsize is {maxsize}")
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.maxsize = maxsize
        self.misses = 0
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed_documents(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        return self.inner.embed_documents(texts, batch_size, show_progress)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            self.misses += len(todo)
            for text, vec in zip(todo, self.inner.embed_queries(todo), strict=True):
                self._cache[text] = vec
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            self._cache.move_to_end(text)
            out[i] = self._cache[text]
        while len(self._cache) > self.maxsize:
            self._cache.popitem(last=False)
        return out


def quiet_openmp() -> None:
    """Make OpenMP threads sleep, not spin, while they wait (unless the caller chose otherwise).

    With the default (active) policy, one query embedding on a 2-core machine that other
    processes also use takes 10x longer (measured: 80 single queries 15-31 s vs 2.5-3 s).
    It only takes effect when set before the embedding engine is first loaded.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def load_engine(settings: Settings | None = None, *, index_dir: str | None = None) -> Engine:
    """An Engine over the configured index whose embedder caches query vectors (settings from legalqa.config)."""
    from pathlib import Path

    from legalqa.index.embedder import get_embedder

    from legalqa.config import load_settings
    from legalqa.engine import Engine

    quiet_openmp()
    s = settings or load_settings()
    if index_dir is not None:
        s = s.with_(index_dir=Path(index_dir).resolve())
    return Engine(s, embedder=CachingEmbedder(get_embedder(s.model)))


def load_searcher(settings: Settings | None = None, *, index_dir: str | None = None) -> Searcher:
    """The searcher of ``load_engine``: the index and model loaded once, query vectors cached."""
    return load_engine(settings, index_dir=index_dir).searcher


def _cached(composer: Composer) -> Composer:
    """The composer itself when its searcher caches query vectors, else one over a searcher that does."""
    from legalqa.qa.compose import Composer

    if isinstance(composer.searcher.embedder, CachingEmbedder):
        return composer
    return Composer(composer.searcher.with_(embedder=CachingEmbedder(composer.searcher.embedder)), composer.config)


def known_articles(chunks: Iterable[Chunk]) -> dict[tuple, int]:
    """(law, article, suffix) -> number of 款, for every statute article among ``chunks`` (an index's, or ingest's)."""
    return {
        (c.law, c.article, c.suffix): max(1, len(c.paragraphs))
        for c in chunks
        if c.kind == "statute" and c.law and c.article
    }


def citation_key(text: str, aliases: AliasTable) -> Key | None:
    """The key of a written citation (a gold label), or None when it does not parse as one citation."""
    try:
        ref = parse_citation(text, aliases)
    except ValueError:
        return None
    return (ref.law, ref.article, ref.suffix, ref.paragraph)


def _label(key: Key) -> str:
    from legalqa.ingest.citations import canonical

    return canonical(key[0], key[1], key[2], key[3])


def _label5(ref: tuple) -> str:
    """(law, article, suffix, 款, 项) as its canonical citation."""
    from legalqa.ingest.citations import canonical

    return canonical(*ref)


def _ranked(searcher: Searcher, question: str, k: int) -> tuple[list[Key | None], list[str]]:
    hits = searcher.search(question, k)
    keys = [(h.chunk.law, h.chunk.article, h.chunk.suffix, None) if h.chunk.kind == "statute" else None for h in hits]
    return keys, [h.citation for h in hits]


def ask_one(q: Question, composer: Any, known: dict[tuple, int], retrieval_k: int = RETRIEVAL_K) -> dict[str, Any]:
    """Ask one question and record everything the metrics and the report need."""
    searcher = composer.searcher
    emb = searcher.embedder
    misses = getattr(emb, "misses", None)
    t0 = time.perf_counter()
    answer: Answer = composer.ask(q.question)
    latency = (time.perf_counter() - t0) * 1000
    embedded_live = misses is None or emb.misses > misses
    ranked, top = _ranked(searcher, q.question, retrieval_k)

    # One key per citation as displayed, read from the answer's structured citation.
    cited = {c.citation: c.ref.key() for c in answer.citations if c.kind == "statute" and c.ref is not None}
    got_text, got_keys = list(cited), list(cited.values())
    # The engine's self-check, one citation at a time (eval records the problems instead of raising).
    quotes_ok, quote_problems = [], []
    for ci in answer.citations:
        problems = check_citation(ci, searcher)
        quotes_ok.append(not problems)
        quote_problems += problems
    problems = quote_problems
    expected_art = list(dict.fromkeys(metrics.article_level(k) for k in q.expected_keys))
    ranks = {_label(k): metrics.first_rank(ranked, k) for k in expected_art}
    art = metrics.answer_citation_scores(
        [metrics.article_level(k) for k in got_keys if k is not None],
        expected_art,
        [metrics.article_level(k) for k in q.accept_keys],
        answer.abstained,
    )
    para = metrics.answer_citation_scores(
        [k for k in got_keys if k is not None], q.expected_keys, q.accept_keys, answer.abstained
    )
    pool = list(q.expected_keys) + list(q.accept_keys)
    matched = [k is not None and any(metrics.matches(metrics.article_level(k), metrics.article_level(e)) for e in pool)
               for k in got_keys]
    missed = [t for t, k in zip(q.expected, q.expected_keys, strict=True)
              if answer.abstained or not any(g is not None and metrics.matches(g, k) for g in got_keys)]
    cited_sections = sorted({h for c in answer.citations if c.kind == "article" for h in c.heading_path})
    # The statutes quoted, in reading order, down to the 款 and 项 (款 hit, 款 first), and the lead passage.
    quoted = [(c.ref.law, c.ref.article, c.ref.suffix, c.ref.paragraph, c.ref.item)
              for c in answer.citations if c.kind == "statute" and c.ref is not None]
    lead = next((b.heading_path for b in answer.blocks if isinstance(b, Lead)), None)
    choice = metrics.paragraph_choice({q.id: {"gold": q.expected_refs, "quoted": quoted, "abstained": answer.abstained}})
    return {
        "id": q.id,
        "question": q.question,
        "line": q.line,
        "split": q.split,
        "topic": q.topic,
        "style": q.style,
        "answerable": q.answerable,
        "expected": list(q.expected),
        "accept": list(q.accept),
        "got": got_text,
        "got_passages": list(dict.fromkeys(c.citation for c in answer.citations if c.kind == "article")),
        "missed": missed,
        "wrong": [t for t, ok in zip(got_text, matched, strict=True) if not ok and not answer.abstained],
        "abstained": answer.abstained,
        "reason": answer.reason,
        "evidence": answer.evidence,
        "answer": answer.text,
        "scores": {"recall": art["recall"], "precision": art["precision"], "f1": art["f1"],
                   "para_recall": para["recall"], "para_precision": para["precision"],
                   "para_hit": choice["para_hit"], "para_first": choice["para_first"]},
        "first_quoted": _label5(quoted[0]) if quoted and not answer.abstained else None,
        "lead": None if lead is None else list(lead),
        "retrieval": {"ranks": ranks, "top": top},
        "n_quotes": len(quotes_ok),
        "quote_problems": quote_problems,
        "hallucinated": [t for t, k in zip(got_text, got_keys, strict=True)
                         if not answer.abstained and not metrics.in_index(k, known)],
        "self_check": problems,
        "latency_ms": round(latency, 2),
        "latency_includes_embedding": embedded_live,
        "article_section": q.article_section,
        # Inputs of eval.metrics.summarize; not written to report.json.
        "_m": {
            "id": q.id, "answerable": q.answerable, "abstained": answer.abstained,
            "expected": list(q.expected_keys), "accept": list(q.accept_keys), "got": got_keys,
            "ranked": ranked, "quotes_ok": quotes_ok, "latency_ms": latency,
            "section": q.article_section, "cited_sections": cited_sections, "self_check": problems,
            "gold": list(q.expected_refs), "quoted": quoted, "lead": lead,
        },
    }


def _group(rows: Sequence[dict], field: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r[field] or "(none)", []).append(r)
    return dict(sorted(out.items()))


def summarize_rows(rows: Sequence[dict], known: dict[tuple, int]) -> dict[str, Any]:
    """Metrics overall, per split, per topic and per style, from ``ask_one`` rows."""

    def summ(subset: Sequence[dict]) -> dict[str, Any]:
        return metrics.summarize([r["_m"] for r in subset], known)

    by_split = {"all": summ(rows)}
    for split, subset in _group(rows, "split").items():
        if split != "(none)":
            by_split[split] = summ(subset)
    return {
        "metrics": by_split,
        "by_topic": {t: summ(s) for t, s in _group(rows, "topic").items()},
        "by_style": {t: summ(s) for t, s in _group(rows, "style").items()},
    }


def evaluate(
    questions: Iterable[Question],
    composer: Any,
    *,
    progress: bool = False,
    retrieval_k: int = RETRIEVAL_K,
) -> dict[str, Any]:
    """Ask every question with ``composer`` and return metrics and per-question rows.

    Args:
        questions: from eval.data.load_questions (optionally select_split).
        composer: a qa.compose.Composer; its searcher is reused as loaded. When that
            searcher's embedder does not cache query vectors, a copy that does is used
            (the caller's objects are not changed).
        progress: show a tqdm progress bar on stderr.
        retrieval_k: depth of the retrieval ranking (hit@k, recall@k, MRR@10).

    Returns ``{"metrics": {"all": …, "tune": …, "heldout": …}, "by_topic": …, "by_style": …,
    "rows": [...], "runtime_s": …, "primary_metric": "citation_f1"}``; each metrics dict is
    ``eval.metrics.summarize``'s.
    """
    from tqdm import tqdm

    questions = list(questions)
    composer = _cached(composer)
    known = known_articles(composer.searcher.chunks)
    t0 = time.perf_counter()
    rows = [
        ask_one(q, composer, known, retrieval_k)
        for q in tqdm(questions, desc="eval", unit="题", disable=not progress, leave=False)
    ]
    out = summarize_rows(rows, known)
    out["rows"] = rows
    out["runtime_s"] = round(time.perf_counter() - t0, 2)
    out["primary_metric"] = metrics.PRIMARY_METRIC
    return out


def public_rows(rows: Sequence[dict]) -> list[dict]:
    """Rows as written to report.json (without the metric inputs)."""
    return [{k: v for k, v in r.items() if k != "_m"} for r in rows]


def why_failed(row: dict) -> tuple[float, str]:
    """(badness, a one-line reason) for one row; badness 0 means nothing went wrong."""
    reasons: list[str] = []
    bad = 0.0
    if row["self_check"] or row["hallucinated"] or row["quote_problems"]:
        bad += 2
        if row["hallucinated"]:
            reasons.append("cited articles not in the index: " + "、".join(row["hallucinated"]))
        reasons += row["self_check"][:2] or row["quote_problems"][:2]
    ev = row.get("evidence") or {}
    evidence = ", ".join(f"{k}={v}" for k, v in ev.items())
    if row["answerable"]:
        f1 = row["scores"]["f1"] or 0.0
        bad += 1 - f1
        if row["abstained"]:
            reasons.append(f"abstained on an answerable question ({evidence})")
        for cite in row["missed"] if not row["abstained"] else []:
            rank = row["retrieval"]["ranks"].get(_article_of(cite))
            where = f"retrieval rank {rank}" if rank else f"not in retrieval top {RETRIEVAL_K}"
            reasons.append(f"missed {cite} ({where})")
        if row["abstained"]:
            ranks = [f"{c} at rank {r}" if r else f"{c} not in top {RETRIEVAL_K}"
                     for c, r in row["retrieval"]["ranks"].items()]
            reasons.append("retrieval: " + "; ".join(ranks))
        if row["wrong"]:
            reasons.append("cited neither expected nor accepted: " + "、".join(row["wrong"]))
        if not row["abstained"] and not row["got"]:
            reasons.append("answered without citing any statute")
        if row["scores"].get("para_first") == 0.0 and not row["abstained"]:
            bad += 0.5
            reasons.append(f"the governing 款 is not quoted first (first: {row.get('first_quoted') or 'none'})")
        section, lead = row.get("article_section"), row.get("lead")
        if (lead is not None) != bool(section) or (section and section not in lead):
            bad += 0.25
            shown = "none" if lead is None else " › ".join(lead) or "the opening"
            reasons.append(f"lead passage: {shown}; gold section: {section or 'none'}")
    elif not row["abstained"]:
        bad += 1
        reasons.append("out of scope but answered, citing " + ("、".join(row["got"] + row["got_passages"]) or "nothing")
                       + f" ({evidence})")
    return bad, "; ".join(reasons)


@lru_cache(maxsize=1)
def _aliases() -> AliasTable:
    return AliasTable()


def _article_of(citation: str) -> str:
    key = citation_key(citation, _aliases())
    return citation if key is None else _label(metrics.article_level(key))
