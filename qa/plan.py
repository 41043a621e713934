"""The composer's decisions, as pure functions: abstain or not, which passage leads with which
sentences, which 款 and 项 of each cited statute are quoted. Their result is a ``Plan``;
``qa.compose`` searches, asks these functions, and builds the answer's blocks from the plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from legalqa.index.search import Hit, SearchResult
from legalqa.index.sparse import tokenize
from legalqa.ingest.citations import find_citations
from legalqa.ingest.models import Chunk, Span
from legalqa.qa.terms import overlap

if TYPE_CHECKING:
    from legalqa.qa.config import AnswerConfig

# A sentence keeps the closing quotation marks after its final punctuation: …关我什么事?”
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?[”’」』\"]*")


@dataclass(frozen=True)
class LeadChoice:
    """The article passage that leads, and its chosen sentences (offsets relative to the chunk)."""

    hit: Hit
    sentences: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class StatuteChoice:
    """What of one cited article is quoted: a 款 (None when the article has one), maybe one 项."""

    hit: Hit
    paragraph: Span | None
    item: Span | None  # its index is the number its marker gives
    quotes: tuple[Span, ...]  # source spans to quote, in order
    notes: tuple[str, ...] = ()  # e.g. where a prose source misquotes this article


@dataclass(frozen=True)
class Plan:
    """Everything the answer will say, decided; building it into blocks decides nothing more."""

    abstain: bool
    evidence: dict[str, float]
    lead: LeadChoice | None = None
    statutes: tuple[StatuteChoice, ...] = ()
    corrections: tuple[tuple[str, str], ...] = ()  # (written, meant)
    hits: tuple[Hit, ...] = ()  # the hits the answer reports: shown ones, plus any cited from deeper
    expansions: tuple[str, ...] = ()


def evidence_score(top_dense: float, rules: float, cfg: AnswerConfig) -> float:
    """The evidence a question has: its best cosine similarity plus rule_bonus per fired rule (at most 2)."""
    return round(top_dense + cfg.rule_bonus * min(rules, 2), 4)


def abstains(evidence: dict, cfg: AnswerConfig) -> bool:
    """The abstention rule: no article named and evidence below min_evidence (scripts/calibrate.py uses it too)."""
    return not evidence["named"] and evidence_score(evidence["top_dense"], evidence["rules"], cfg) < cfg.min_evidence


def coverage(query: str, hits: list[Hit], top: int = 5) -> float:
    """Share of the question's content terms (by length) that occur in the best passages."""
    tokens = set(tokenize(query))
    if not tokens:
        return 0.0
    pool = "".join(h.chunk.text + h.chunk.title + "".join(h.chunk.heading_path) for h in hits[:top])
    total = sum(len(t) for t in tokens)
    return sum(len(t) for t in tokens if t in pool) / total


def evidence_of(query: str, result: SearchResult, cfg: AnswerConfig) -> dict[str, float]:
    """What the abstention rule and the report read: best similarity, coverage, rules fired, articles named."""
    evidence = {
        "top_dense": round(max((h.dense_score or 0.0 for h in result.hits), default=0.0), 4),
        "coverage": round(coverage(query, result.hits), 4),
        "top_bm25": round(max((h.bm25_score or 0.0 for h in result.hits), default=0.0), 3),
        "rules": float(len(result.expansion.rules)),
        "named": float(len([h for h in result.hits if h.exact])),
    }
    evidence["score"] = evidence_score(evidence["top_dense"], evidence["rules"], cfg)
    return evidence


def sentences(chunk: Chunk) -> list[tuple[int, int]]:
    """(start, end) offsets, relative to the chunk, of its sentences; list markers are left out."""
    out = []
    for m in _SENTENCE.finditer(chunk.text):
        s, e = m.start(), m.end()
        seg = chunk.text[s:e]
        lead = len(seg) - len(seg.lstrip(" -*•\t"))
        if len(seg.strip(" -*•\t")) >= 6:
            out.append((s + lead, e - (len(seg) - len(seg.rstrip()))))
    return out


def pick_lead(
    chunk: Chunk, weights: dict[str, float], n: int, exclude: tuple[tuple[int, int], ...] | list = ()
) -> list[tuple[int, int]]:
    """The n sentences of a prose passage that best match the question, in reading order.

    Sentences overlapping an ``exclude`` span (source offsets of statute quotes) are never chosen.
    """
    sents = [
        (s, e) for s, e in sentences(chunk)
        if not any(chunk.start + s < xe and xs < chunk.start + e for xs, xe in exclude)
        and not find_citations(chunk.text[s:e])  # a citation line is not advice: quote the law itself
    ]
    if not sents:
        return []
    scored = sorted(
        sents, key=lambda se: -overlap(weights, chunk.text[se[0] : se[1]]) / (1 + (se[1] - se[0]) / 120)
    )
    best = [se for se in scored[:n] if overlap(weights, chunk.text[se[0] : se[1]]) > 0] or scored[:1]
    return sorted(best)


def choose_lead(
    passages: list[Hit],
    weights: dict[str, float],
    terms: set[str],
    n: int,
    min_terms: int,
    quoted: dict[str, list[tuple[int, int]]],
) -> LeadChoice | None:
    """The passage whose section heading and best sentences share most of the question's terms.

    A passage with fewer than ``min_terms`` of ``terms`` is no lead; ``quoted`` holds, per source,
    the spans where prose quotes a statute, which never lead (the law itself is quoted instead).
    """
    best, choice = 0.0, None
    for h in passages:
        if sum(t in h.chunk.text for t in terms) < min_terms:
            continue  # a passage that shares only a heading word with the question is no lead
        chosen = pick_lead(h.chunk, weights, n, quoted.get(h.chunk.source, ()))
        score = overlap(weights, "".join(h.chunk.heading_path[-1:])) + sum(
            overlap(weights, h.chunk.text[a:b]) for a, b in chosen
        )
        if score > best:
            best, choice = score, LeadChoice(h, tuple(chosen))
    return choice if choice is not None and choice.sentences else None


def pick_paragraph(chunk: Chunk, weights: dict[str, float]) -> tuple[Span | None, Span | None]:
    """The 款 that best answers the question and, when it lists 项, the best-matching 项.

    Returns (款, 项): the 款 is None when the article has one 款 and lists no 项 (cite the article);
    the 项 is None when the 款 lists fewer than two or none shares a word with the question.
    """
    paras = chunk.paragraphs
    if len(paras) <= 1:
        para = paras[0] if paras else None
    else:
        para = max(paras, key=lambda p: (overlap(weights, p.text) / (1 + len(p.text) / 200), -p.index))
    if para is None:
        return None, None
    items = [s for k, s in chunk.items if k == para.index]
    if len(items) < 2:
        return (para if len(paras) > 1 else None), None
    best = max(items, key=lambda s: overlap(weights, s.text))  # the first of equals, in reading order
    return para, (best if overlap(weights, best.text) > 0 else None)


def quote_spans(chunk: Chunk, para: Span | None, item: Span | None) -> tuple[Span, ...]:
    """What is quoted for a choice: the 款 (or the whole article); for a 款 that lists 项, its opening words
    and the chosen 项."""
    if para is None:
        return (Span(1, chunk.text, chunk.start, chunk.end),)
    items = [s for k, s in chunk.items if k == para.index]
    if len(items) < 2:
        return (para,)
    intro = para.text[: items[0].start - para.start].rstrip()
    opening = (Span(para.index, intro, para.start, para.start + len(intro)),) if intro else ()
    return (opening + ((item,) if item is not None else ())) or (para,)


def choose_quotes(hit: Hit, weights: dict[str, float], notes: tuple[str, ...] = ()) -> StatuteChoice:
    para, item = pick_paragraph(hit.chunk, weights)
    return StatuteChoice(hit, para, item, quote_spans(hit.chunk, para, item), notes)


def reported_hits(result: SearchResult, statutes: list[Hit], cited: set[str]) -> tuple[Hit, ...]:
    """The hits shown, plus any cited passage held back by the one-per-source rule and any cited
    statute the selector found deeper down."""
    used = list(result.hits)
    for h in [*result.more, *statutes]:
        if h.chunk.id in cited and all(h.chunk.id != u.chunk.id for u in used):
            used.append(h)
    return tuple(used)
