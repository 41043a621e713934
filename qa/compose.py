"""The templated composer: an answer made only of quotes and claim-free template text.

Every sentence of an answer is either template text that makes no legal claim
("法律依据：", 「如果」, the disclaimer) or a verbatim quote from a source, followed by its
citation and a marker [n]. Statutes are quoted from the statute, never from an
article's paraphrase, and come first; an article's words follow as commentary. Weak
evidence → abstain.

``Composer.ask`` searches, then decides (``Composer.decide`` → a ``qa.plan.Plan``: abstain
or not, which statutes, which 款/项 (``qa.paragraphs``), both sides where the law distinguishes
cases the question leaves open (``qa.alternatives``), which commentary sentences, which
notes), then builds the plan into typed blocks (``build_blocks``); qa/render.py writes the
blocks in each format.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from legalqa.index.search import Filters, Hit, Searcher, SearchResult, normalize_query, validate_query
from legalqa.index.sparse import tokenize
from legalqa.ingest.citations import CitationRef
from legalqa.ingest.crosscheck import QuoteCheck, misquote_note
from legalqa.ingest.models import AMENDED, NOT_IN_FORCE, Chunk
from legalqa.qa.alternatives import Structure
from legalqa.qa.config import AnswerConfig
from legalqa.qa.lawinfo import StatuteSource, statute_source
from legalqa.qa.models import (
    DISCLAIMER,
    Abstention,
    Answer,
    Block,
    Branch,
    Correction,
    Disclaimer,
    Lead,
    Note,
    Quote,
    Ref,
    ScopeNote,
    SourceEntry,
    SourceList,
    StatuteQuote,
    citations_of,
)
from legalqa.qa.paragraphs import ParagraphModel, asked_terms
from legalqa.qa.plan import (
    BothSides,
    Plan,
    StatuteChoice,
    abstains,
    choose_lead,
    choose_statutes,
    coverage,
    evidence_of,
    evidence_score,
    pick_lead,
    reported_hits,
    sides_of,
    takes_a_side,
)
from legalqa.qa.scope import foreign_scope
from legalqa.qa.select import CitationSelector, by_rerank_margin
from legalqa.qa.terms import term_weights
from legalqa.qa.verify import check_citations

__all__ = [
    "DISCLAIMER",
    "AnswerConfig",
    "Composer",
    "abstains",
    "build_blocks",
    "choose_statutes",
    "coverage",
    "evidence_score",
    "pick_lead",
]

ABSTAIN_REASON = "证据不足：没有足够相关的法条或文章段落"
# The verify statuses that say why a named article is not in the index (qa/verify.py).
WHY_NOT_HERE = ("repealed", "nonexistent", "unknown_law", "not_found")


def named_places(chunks: list[Chunk], refs: Sequence[CitationRef]) -> dict[str, tuple[int | None, int | None]]:
    """Each named article's id, with the 款 and 项 the question names in it ((None, None): the article).
    An article named twice is asked for whole."""
    out: dict[str, tuple[int | None, int | None]] = {}
    for c in chunks:
        places = [(r.paragraph, r.item) for r in refs if r.article_key() == (c.law, c.article, c.suffix)]
        out[c.id] = places[0] if len(places) == 1 else (None, None)
    return out


def abstain_reason(plan: Plan) -> str:
    """Why an answer abstains, in one line (the answer's ``reason``; empty when it answers)."""
    if not plan.abstain:
        return ""
    if plan.scope and plan.scope.ruled:
        return f"问题问的是{plan.scope.place}的法律：本系统只收录中华人民共和国的法律法规"
    if plan.unnamed:
        return f"问题所指的条文不在索引中：{plan.unnamed[0]}"
    return ABSTAIN_REASON


def misquote_notes(report: dict) -> dict[str, list[str]]:
    """Article-level citation → notes on where a prose source departs from the statute (ingest report)."""
    notes: dict[str, list[str]] = {}
    for f in report.get("mismatches", []):
        title = f["source"].rsplit("/", 1)[-1].rsplit(".", 1)[0]
        notes.setdefault(f["citation"], []).append(misquote_note(title, QuoteCheck.from_dict(f["check"])))
    return notes


class Composer:
    def __init__(self, searcher: Searcher, config: AnswerConfig | None = None,
                 statutes: Callable[[], StatuteSource] | None = None):
        """``statutes`` gives the law facts verify checks against (``Engine.statutes``, derived once per
        index); without it the composer derives its own on first need."""
        self.searcher = searcher
        self.config = config or AnswerConfig()
        # Loaded here, not on the first question, so a missing or stale model file fails early.
        self.selector: CitationSelector | None = None
        if self.config.selector == "model":
            # The selector the index was built with (pinned in it), unless the settings name another.
            path = self.config.selector_model or searcher.data.selector_path
            self.selector = CitationSelector.load(Path(path))
        # The 款/项 model the index was built with (pinned in it), unless the settings name another.
        self.paragraphs = ParagraphModel.load(Path(self.config.paragraph_model or searcher.data.paragraphs_path))
        self.structure = Structure(searcher.chunks, searcher.article)
        self._notes = misquote_notes(searcher.data.report)
        self._laws = tuple(searcher.laws)
        self._articles = tuple(sorted({c.title for c in searcher.chunks if c.kind == "article"}))
        # Where prose quotes or paraphrases a statute: never lead with those words, quote the law instead.
        self._statutes_of = statutes
        self._statutes: StatuteSource | None = None  # its own, when no ``statutes`` was given
        self._quoted: dict[str, list[tuple[int, int]]] = {}
        for f in searcher.data.report.get("findings", []):
            self._quoted.setdefault(f["source"], []).append((f["start"], f["end"]))

    def with_k(self, k: int) -> Composer:
        """This composer retrieving ``k`` sources per question; the loaded models are shared, not reloaded."""
        if k == self.config.k:
            return self
        out = copy.copy(self)
        out.config = replace(self.config, k=k)  # validated by AnswerConfig
        return out

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
            reason=abstain_reason(plan),
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
        # No Chinese statute answers a question about another country's law, however many words
        # they share: say so instead of quoting one. A country named only as where things happened
        # gets its answer, with a note that it is Chinese law.
        scope = foreign_scope(q)
        if scope and scope.ruled:
            return Plan(True, evidence, corrections=corrections, hits=tuple(result.hits), expansions=expansions,
                        scope=scope)
        # A question that names an article the index does not hold (婚姻法第十七条, repealed and absent)
        # is about that article: another law's 第十七条, or whatever else matches its few other
        # words, would answer a question nobody asked.
        if result.named and not any(h.exact for h in found.hits):
            return Plan(True, evidence, corrections=corrections, hits=tuple(result.hits), expansions=expansions,
                        unnamed=self._why_not_here(q))
        if abstains(evidence, cfg):
            return Plan(True, evidence, corrections=corrections, hits=tuple(result.hits), expansions=expansions)
        terms = {t for t in weights if len(t) >= 2}  # the question's words and its expansion terms
        chosen = self._choose_statutes(found, term_weights(tokens))
        asked = asked_terms(q, result.expansion.terms)
        notes = {c: tuple(n) for c, n in self._notes.items()}
        named = named_places([h.chunk for h in chosen if h.exact], result.named)
        statutes = choose_statutes([h.chunk for h in chosen], asked, self.paragraphs, self.structure, notes, named)
        # Commentary only from a passage about as close to the question as the best hit, whose words
        # hold enough of the question, and that does not state one side of a distinction as the rule.
        near = evidence["top_dense"] - cfg.lead_max_gap
        passages = [h for h in result.hits + result.more
                    if h.chunk.kind == "article" and not result.named and (h.dense_score or 0.0) >= near]
        lead = choose_lead(passages, weights, terms, cfg.lead_sentences, cfg.lead_min_terms, self._quoted)
        if lead is not None and (lead.relevance < cfg.lead_min_relevance or takes_a_side(
                "".join(lead.hit.chunk.text[a:b] for a, b in lead.sentences), sides_of(statutes, self.structure))):
            lead = None
        cited = {st.chunk.id for st in _flat(statutes)} | ({lead.hit.chunk.id} if lead else set())
        hits = reported_hits(result, chosen, cited, [st.chunk for st in _flat(statutes)])
        return Plan(False, evidence, lead, statutes, corrections, hits, expansions, scope)

    def _why_not_here(self, question: str) -> tuple[str, ...]:
        """Why the articles a question names are not in the index, as ``legalqa verify`` reports them."""
        if self._statutes_of is not None:
            source = self._statutes_of()
        else:  # a pass over every chunk: only when a question needs it
            source = self._statutes = self._statutes or statute_source(self.searcher)
        return tuple(f"{c.citation}：{c.detail()}" for c in check_citations(question, source)
                     if c.status in WHY_NOT_HERE and c.detail())

    def _choose_statutes(self, found: SearchResult, question_weights: dict[str, float]) -> list[Hit]:
        """The statute hits to quote, in order: by the re-ranker's margin (a re-ranked search, when
        ``cite_margin`` is set), else by the citation selector, or by the relative rule."""
        cfg = self.config
        if cfg.cite_margin is not None:
            by_margin = by_rerank_margin(found.hits, cfg.cite_margin, cfg.max_statutes,
                                         self.selector.depth if self.selector else cfg.k)
            if by_margin is not None:
                return by_margin
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
        foreign = plan.scope.place if plan.scope and plan.scope.ruled else ""
        return blocks + [Abstention(abstain_reason(plan), laws, articles, foreign, plan.unnamed), Disclaimer()]
    if plan.scope:
        blocks.append(ScopeNote(plan.scope.place))
    quotes: list[Quote] = []

    def quote(chunk: Chunk, start: int, end: int, citation: str, ref: Ref | None = None) -> Quote:
        """The next numbered quote: the chunk's words at source offsets start..end."""
        text = chunk.text[start - chunk.start : end - chunk.start]
        q = Quote(len(quotes) + 1, text, chunk.id, chunk.source, start, end, citation, ref)
        quotes.append(q)
        return q

    def statute(st: StatuteChoice) -> StatuteQuote:
        c = st.chunk
        ref = Ref(c.law or c.title, c.article, c.suffix, st.cited_paragraph, st.item.index if st.item else None)
        cite = ref.canonical()
        return StatuteQuote(cite, ref, c.heading_path, tuple(quote(c, sp.start, sp.end, cite, ref) for sp in st.quotes))

    def notes(st: StatuteChoice) -> list[Block]:
        out: list[Block] = [Note("missing", f"本条没有{st.missing}，以上引用的是全条。", st.chunk.id)] if st.missing else []
        out += [Note("misquote", text, st.chunk.id) for text in st.notes]
        status = status_note(st.chunk)
        return out + ([Note("status", status, st.chunk.id)] if status else [])

    for part in plan.statutes:
        if isinstance(part, BothSides):
            after: list[Block] = []
            for case, br in enumerate(part.branches, start=1):
                first = br.statutes[0]
                c = first.chunk
                ref = Ref(c.law or c.title, c.article, c.suffix, first.cited_paragraph)
                cond = quote(c, br.condition.start, br.condition.end, ref.canonical(), ref)
                blocks.append(Branch(case, cond, tuple(statute(st) for st in br.statutes), br.default))
                after += [n for st in br.statutes for n in notes(st)]
            blocks += after
        else:
            blocks.append(statute(part))
            blocks += notes(part)
    if plan.lead is not None:
        c = plan.lead.hit.chunk
        label = f"《{c.title}》" + ("·" + c.heading_path[-1] if c.heading_path else "")
        if c.provenance == "user":  # an upload is marked wherever the answer is shown
            label = "上传的文档" + label
        lead_quotes = tuple(quote(c, c.start + s, c.start + e, label) for s, e in plan.lead.sentences)
        blocks.append(Lead(label, c.title, c.heading_path, lead_quotes, c.provenance))
    blocks.append(SourceList(source_entries(blocks)))
    return blocks + [Disclaimer()]


def status_note(c: Chunk) -> str:
    """What an answer must say when it quotes a version of a law that is not the one in force."""
    version = f"（{c.version} 版本）" if c.version else ""
    if c.status in NOT_IN_FORCE:
        return f"《{c.law}》{version}的状态是“{c.status}”：这一条不是现行规定，请以现行法律为准。"
    if c.status == AMENDED:
        return f"《{c.law}》{version}的状态是“{c.status}”：现行文本可能与这里引用的不同。"
    return ""


def _flat(parts: tuple[StatuteChoice | BothSides, ...]) -> list[StatuteChoice]:
    """Every statute choice of a plan, inside branches too, in reading order."""
    return [st for p in parts for st in (
        [s for br in p.branches for s in br.statutes] if isinstance(p, BothSides) else [p])]


def source_entries(blocks: list[Block]) -> tuple[SourceEntry, ...]:
    """One entry per run of quotes from one source under one citation: [3][4] 《…》第二百九十三条之一…"""
    entries: list[SourceEntry] = []
    last: tuple[str, str] | None = None
    for c in citations_of(blocks):  # marker order, which is reading order
        if last == (c.citation, c.source_id):
            entries[-1] = replace(entries[-1], markers=entries[-1].markers + (c.n,))
        else:
            entries.append(SourceEntry((c.n,), c.citation, c.kind, c.heading_path))
        last = (c.citation, c.source_id)
    return tuple(entries)
