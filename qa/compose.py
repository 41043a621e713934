"""The templated composer: an answer made only of quotes and claim-free template text.

Every sentence of an answer is either template text that makes no legal claim
("法律依据：", the disclaimer) or a verbatim quote from a source, followed by its
citation and a marker [n]. Statutes are quoted from the statute, never from an
article's paraphrase. Weak evidence → abstain.

``Composer.ask`` searches, then decides (``Composer.decide`` → a ``qa.plan.Plan``: abstain
or not, which statutes, which 款/项, which lead sentences, which notes), then builds the
plan into typed blocks (``build_blocks``); qa/render.py writes the blocks in each format.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from legalqa.index.search import Filters, Hit, Searcher, SearchResult, normalize_query, validate_query
from legalqa.index.sparse import tokenize
from legalqa.ingest.crosscheck import QuoteCheck, misquote_note
from legalqa.ingest.models import Chunk
from legalqa.qa.config import AnswerConfig
from legalqa.qa.models import (
    DISCLAIMER,
    Abstention,
    Answer,
    Block,
    Correction,
    Disclaimer,
    Lead,
    Note,
    Quote,
    Ref,
    SourceEntry,
    SourceList,
    StatuteQuote,
)
from legalqa.qa.plan import (
    Plan,
    abstains,
    choose_lead,
    choose_quotes,
    coverage,
    evidence_of,
    evidence_score,
    pick_lead,
    pick_paragraph,
    reported_hits,
)
from legalqa.qa.select import CitationSelector
from legalqa.qa.terms import term_weights

__all__ = [
    "DISCLAIMER",
    "AnswerConfig",
    "Composer",
    "abstains",
    "build_blocks",
    "coverage",
    "evidence_score",
    "pick_lead",
    "pick_paragraph",
]

ABSTAIN_REASON = "证据不足：没有足够相关的法条或文章段落"


def misquote_notes(report: dict) -> dict[str, list[str]]:
    """Article-level citation → notes on where a prose source departs from the statute (ingest report)."""
    notes: dict[str, list[str]] = {}
    for f in report.get("mismatches", []):
        title = f["source"].rsplit("/", 1)[-1].rsplit(".", 1)[0]
        notes.setdefault(f["citation"], []).append(misquote_note(title, QuoteCheck.from_dict(f["check"])))
    return notes


class Composer:
    def __init__(self, searcher: Searcher, config: AnswerConfig | None = None):
        self.searcher = searcher
        self.config = config or AnswerConfig()
        # Loaded here, not on the first question, so a missing or stale model file fails early.
        self.selector: CitationSelector | None = None
        if self.config.selector == "model":
            # The selector the index was built with (pinned in it), unless the settings name another.
            path = self.config.selector_model or searcher.data.selector_path
            self.selector = CitationSelector.load(Path(path))
        self._notes = misquote_notes(searcher.data.report)
        self._laws = tuple(searcher.laws)
        self._articles = tuple(sorted({c.title for c in searcher.chunks if c.kind == "article"}))
        # Where prose quotes or paraphrases a statute: never lead with those words, quote the law instead.
        self._quoted: dict[str, list[tuple[int, int]]] = {}
        for f in searcher.data.report.get("findings", []):
            self._quoted.setdefault(f["source"], []).append((f["start"], f["end"]))

    def ask(self, question: str, filters: dict | Filters | None = None) -> Answer:
        """Answer from the corpus (or the part ``filters`` admits: law, kind, status, collection)."""
        validate_query(question)
        t0 = time.perf_counter()
        depth = max(self.config.k, self.selector.hits) if self.selector else self.config.k
        found = self.searcher.run(question, k=depth, filters=filters)
        t1 = time.perf_counter()
        plan = self.decide(found)
        blocks = build_blocks(plan, self._laws, self._articles)
        answer = Answer(
            question, blocks, plan.abstain,
            reason=ABSTAIN_REASON if plan.abstain else "",
            hits=[h.to_dict() for h in plan.hits], expansions=list(plan.expansions), evidence=plan.evidence,
        )
        answer.timings = {
            "search_ms": round((t1 - t0) * 1000, 2),
            "compose_ms": round((time.perf_counter() - t1) * 1000, 2),
            "total_ms": round((time.perf_counter() - t0) * 1000, 2),
        }
        return answer

    def decide(self, found: SearchResult) -> Plan:
        """What the answer to this search says: abstain, or which lead sentences and which 款/项 to quote.

        ``found`` is the search at the selector's depth; the answer shows and leads from its top k.
        """
        cfg = self.config
        result = replace(found, hits=found.hits[: cfg.k], more=found.more[: cfg.k])
        q = result.searched or normalize_query(found.query)
        tokens = tokenize(q)
        weights = term_weights(tokens + list(result.expansion.terms))
        evidence = evidence_of(q, result, cfg)
        corrections = tuple((c.written, c.meant) for c in result.corrections)
        expansions = tuple(result.expansion.rules)
        if abstains(evidence, cfg):
            return Plan(True, evidence, corrections=corrections, hits=tuple(result.hits), expansions=expansions)
        terms = {t for t in weights if len(t) >= 2}  # the question's words and its expansion terms
        passages = [h for h in result.hits + result.more if h.chunk.kind == "article" and not result.named]
        lead = choose_lead(passages, weights, terms, cfg.lead_sentences, cfg.lead_min_terms, self._quoted)
        chosen = self._choose_statutes(found, term_weights(tokens))
        statutes = tuple(choose_quotes(h, weights, tuple(self._notes.get(h.chunk.citation or "", ()))) for h in chosen)
        cited = {h.chunk.id for h in chosen} | ({lead.hit.chunk.id} if lead else set())
        return Plan(False, evidence, lead, statutes, corrections, reported_hits(result, chosen, cited), expansions)

    def _choose_statutes(self, found: SearchResult, question_weights: dict[str, float]) -> list[Hit]:
        """The statute hits to quote, in order: by the citation selector, or by the relative rule."""
        cfg = self.config
        if self.selector:
            return [h for h, _ in self.selector.select(found, question_weights, self.searcher.data.hints)]
        statutes = [h for h in found.hits[: cfg.k] if h.chunk.kind == "statute"]
        chosen = [h for h in statutes if h.exact]
        rest = [h for h in statutes if not h.exact]
        if rest and not chosen:
            best = rest[0].score
            chosen = [h for h in rest if h.score >= cfg.relative * best][: cfg.max_statutes]
        return chosen[: max(cfg.max_statutes, len([h for h in statutes if h.exact]))]


def build_blocks(plan: Plan, laws: tuple[str, ...], articles: tuple[str, ...]) -> list[Block]:
    """The plan as answer blocks, its quotes numbered [1], [2] … in reading order.

    ``laws`` and ``articles`` (prose titles) are what an abstention says was searched.
    """
    blocks: list[Block] = [Correction(plan.corrections)] if plan.corrections else []
    if plan.abstain:
        return blocks + [Abstention(ABSTAIN_REASON, laws, articles), Disclaimer()]
    quotes: list[Quote] = []

    def quote(chunk: Chunk, start: int, end: int, citation: str, ref: Ref | None = None) -> Quote:
        """The next numbered quote: the chunk's words at source offsets start..end."""
        text = chunk.text[start - chunk.start : end - chunk.start]
        q = Quote(len(quotes) + 1, text, chunk.id, chunk.source, start, end, citation, ref)
        quotes.append(q)
        return q

    if plan.lead is not None:
        c = plan.lead.hit.chunk
        label = f"《{c.title}》" + ("·" + c.heading_path[-1] if c.heading_path else "")
        if c.provenance == "user":  # an upload is marked wherever the answer is shown
            label = "上传的文档" + label
        lead_quotes = tuple(quote(c, c.start + s, c.start + e, label) for s, e in plan.lead.sentences)
        blocks.append(Lead(label, c.title, c.heading_path, lead_quotes, c.provenance))
    for st in plan.statutes:
        c = st.hit.chunk
        ref = Ref(c.law or c.title, c.article, c.suffix, st.paragraph.index if st.paragraph else None,
                  st.item.index if st.item else None)
        cite = ref.canonical()
        blocks.append(StatuteQuote(cite, ref, c.heading_path, tuple(quote(c, sp.start, sp.end, cite, ref)
                                                                     for sp in st.quotes)))
        blocks += [Note("misquote", text, c.id) for text in st.notes]
    blocks.append(SourceList(source_entries(blocks)))
    return blocks + [Disclaimer()]


def source_entries(blocks: list[Block]) -> tuple[SourceEntry, ...]:
    """One entry per run of quotes from one source under one citation: [3][4] 《…》第二百九十三条之一…"""
    entries: list[SourceEntry] = []
    last: tuple[str, str] | None = None
    for b in blocks:
        if not isinstance(b, Lead | StatuteQuote):
            continue
        kind = "article" if isinstance(b, Lead) else "statute"
        for q in b.quotes:
            if last == (q.citation, q.source_id):
                e = entries[-1]
                entries[-1] = replace(e, markers=e.markers + (q.n,))
            else:
                entries.append(SourceEntry((q.n,), q.citation, kind, b.heading_path))
            last = (q.citation, q.source_id)
    return tuple(entries)
