"""The composer's decisions, as pure functions: abstain or not, which 款 and 项 of each cited statute
are quoted, where the law has two sides the question leaves open, and which passage (if any) follows
as commentary with which sentences. Their result is a ``Plan``; ``qa.compose`` searches, asks these
functions, and builds the answer's blocks from the plan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from legalqa.index.search import Hit, SearchResult
from legalqa.index.sparse import tokenize
from legalqa.ingest.citations import find_citations
from legalqa.ingest.models import Chunk, Span
from legalqa.ingest.numerals import int_to_cn
from legalqa.qa.alternatives import Side, Structure, ruling, settle
from legalqa.qa.paragraphs import AskedTerms, ParagraphModel, char_pairs, sibling_items
from legalqa.qa.scope import ForeignScope
from legalqa.qa.terms import overlap

if TYPE_CHECKING:
    from legalqa.qa.config import AnswerConfig

# A sentence keeps the closing quotation marks after its final punctuation: …关我什么事?”
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?[”’」』\"]*")


@dataclass(frozen=True)
class LeadChoice:
    """The article passage quoted as commentary, and its chosen sentences (offsets relative to the chunk).

    ``relevance`` is the share of the question's weight that the passage's section heading and chosen
    sentences hold (``lead_relevance``, 0 to 1); below ``AnswerConfig.lead_min_relevance`` there is no lead.
    """

    hit: Hit
    sentences: tuple[tuple[int, int], ...]
    relevance: float = 0.0


@dataclass(frozen=True)
class StatuteChoice:
    """What of one cited article is quoted: a 款 (None when the article has one), maybe one 项."""

    chunk: Chunk
    paragraph: Span | None
    item: Span | None  # its index is the number its marker gives
    quotes: tuple[Span, ...]  # source spans to quote, in order
    notes: tuple[str, ...] = ()  # e.g. where a prose source misquotes this article
    missing: str = ""  # the 款 or 项 the question names that the article does not have (第三款)

    @property
    def cited_paragraph(self) -> int | None:
        """The 款 the citation names: none for an article of one 款, whose 项 follows the article
        (刑法第二百九十三条之一第（二）项, not …第一款第（二）项)."""
        return self.paragraph.index if self.paragraph is not None and len(self.chunk.paragraphs) > 1 else None


@dataclass(frozen=True)
class BranchChoice:
    """One side of a distinction the question leaves open: its condition's words, then what applies.

    ``condition`` is a span inside ``statutes[0]``'s 款 (source offsets); ``default`` marks the law's
    rule for when nothing (clear) was agreed.
    """

    condition: Span
    statutes: tuple[StatuteChoice, ...]
    default: bool = False


@dataclass(frozen=True)
class BothSides:
    """The two sides of one distinction, each quoted with its own condition (the default first)."""

    branches: tuple[BranchChoice, BranchChoice]


@dataclass(frozen=True)
class Plan:
    """Everything the answer will say, decided; building it into blocks decides nothing more."""

    abstain: bool
    evidence: dict[str, float]
    lead: LeadChoice | None = None
    statutes: tuple[StatuteChoice | BothSides, ...] = ()
    corrections: tuple[tuple[str, str], ...] = ()  # (written, meant)
    hits: tuple[Hit, ...] = ()  # the hits the answer reports: shown ones, plus any cited from deeper
    expansions: tuple[str, ...] = ()
    scope: ForeignScope | None = None  # the foreign country the question places its facts in (qa.scope)
    # Why the articles the question names are not here, as `legalqa verify` says it (repealed, past the
    # law's last article, a law the index lacks): one line each.
    unnamed: tuple[str, ...] = ()


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
    The choice carries its ``lead_relevance``; whether it is shown is the caller's threshold.
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
            said = "".join(h.chunk.heading_path[-1:]) + "".join(h.chunk.text[a:b] for a, b in chosen)
            best, choice = score, LeadChoice(h, tuple(chosen), round(lead_relevance(said, weights), 4))
    return choice if choice is not None and choice.sentences else None


def lead_relevance(text: str, weights: dict[str, float]) -> float:
    """The share of the question's weight (its words and expansion terms) that ``text`` holds: 0 to 1."""
    return overlap(weights, text) / (sum(weights.values()) or 1.0)


def best_paragraph(chunk: Chunk, asked: AskedTerms, model: ParagraphModel) -> Span | None:
    """The 款 of ``chunk`` that best answers the question (by ``model``); None when it has no 款 spans."""
    paras = chunk.paragraphs
    if not paras:
        return None
    return paras[model.rank(asked, paras)[0]] if len(paras) > 1 else paras[0]


def pick_item(chunk: Chunk, para: Span, asked: AskedTerms, model: ParagraphModel) -> Span | None:
    """The 项 of a 款 that answers the question, or None: fewer than two 项, or the best one holds neither a
    question word (or expansion term) nor a question character pair that its 款's opening words and its
    sibling 项 lack (保证人 in 687②'s opening picks no 项)."""
    items = sibling_items(chunk, para.index)
    if len(items) < 2:
        return None
    best = items[model.rank(asked, items)[0]]
    around = para.text[: items[0].start - para.start] + "".join(s.text for s in items if s is not best)
    said = {t: w for t, w in asked.weights.items() if t not in around}
    return best if overlap(said, best.text) > 0 or any(
        p in best.text and p not in around for p in char_pairs(asked.text)) else None


def quote_spans(chunk: Chunk, para: Span | None, item: Span | None) -> tuple[Span, ...]:
    """What is quoted for a choice: the 款 (or the whole article); for a 款 that lists 项, its opening words
    and the chosen 项, or the whole 款 when no 项 was chosen (its opening alone, 「有下列情形之一的，……：」,
    would say nothing)."""
    if para is None:
        return (Span(1, chunk.text, chunk.start, chunk.end),)
    items = sibling_items(chunk, para.index)
    if len(items) < 2 or item is None:
        return (para,)
    intro = para.text[: items[0].start - para.start].rstrip()
    opening = (Span(para.index, intro, para.start, para.start + len(intro)),) if intro else ()
    return (*opening, item)


def statute_choice(
    chunk: Chunk, para: Span | None, asked: AskedTerms, model: ParagraphModel, notes: tuple[str, ...] = ()
) -> StatuteChoice:
    """Quote ``para`` of ``chunk`` (None: the article's one 款), with the 项 that answers, if any."""
    item = pick_item(chunk, para, asked, model) if para is not None else None
    if para is not None and len(chunk.paragraphs) < 2 and item is None:
        para = None  # one 款 and no 项 to pinpoint: cite the article
    return StatuteChoice(chunk, para, item, quote_spans(chunk, para, item), notes)


def choose_quotes(chunk: Chunk, asked: AskedTerms, model: ParagraphModel, notes: tuple[str, ...] = ()) -> StatuteChoice:
    """What of ``chunk`` is quoted: its best 款, through ``statute_choice`` as a side's 款 is (one path: an
    article of one 款 with no 项 chosen is cited and quoted whole, either way)."""
    return statute_choice(chunk, best_paragraph(chunk, asked, model), asked, model, notes)


# Words a question uses to ask what an article says; they pick out no 款.
_ASKING = frozenset("规定 内容 原文 条文 法条 意思 具体 分别 讲的 说的 说了 讲了 含义 解释".split())


def _own_words(question: str) -> set[str]:
    """The question's words of two or more characters, outside its citations (第一千零六十五条 is no
    word of the law's text) and other than the words of asking."""
    kept, at = [], 0
    for ref in sorted(find_citations(question), key=lambda r: r.start):
        kept.append(question[at : ref.start])
        at = max(at, ref.end)
    kept.append(question[at:])
    return {t for t in tokenize(" ".join(kept)) if len(t) >= 2 and t not in _ASKING}


def named_choice(chunk: Chunk, paragraph: int | None, item: int | None, asked: AskedTerms, model: ParagraphModel,
                 notes: tuple[str, ...] = ()) -> StatuteChoice:
    """What of an article the question names is quoted: the 款 (and 项) it names; else the 款 (or 项) the
    question's own words point to, the way ``choose_quotes`` picks one (示例担保法第三条，借款用于赌博…
    → its 第（三）项); else the whole article: 「第六百八十八条是怎么规定的」 asks for both its 款.

    A 款 points when the question has a word of its own (``_own_words``) that this 款 holds and no other
    款 does. A 款 or 项 the article does not have quotes the whole article (verify reports the number)."""
    whole = StatuteChoice(chunk, None, None, quote_spans(chunk, None, None), notes)
    if paragraph is None and item is None:
        best = best_paragraph(chunk, asked, model)
        if best is None or len(chunk.paragraphs) < 2:
            return statute_choice(chunk, best, asked, model, notes)  # one 款: its 项 only when one is asked about
        others = "".join(p.text for p in chunk.paragraphs if p is not best)
        points = any(t in best.text and t not in others for t in _own_words(asked.text))
        return statute_choice(chunk, best, asked, model, notes) if points else whole
    para = {p.index: p for p in chunk.paragraphs}.get(paragraph or 1)
    chosen = {s.index: s for s in sibling_items(chunk, para.index)}.get(item) if para and item else None
    if para is None or (item is not None and chosen is None):
        asked_for = "".join([f"第{int_to_cn(paragraph)}款" if paragraph else "",
                             f"第（{int_to_cn(item)}）项" if item else ""])
        return replace(whole, missing=asked_for)
    return StatuteChoice(chunk, para, chosen, quote_spans(chunk, para, chosen), notes)


def choose_statutes(
    chunks: list[Chunk],
    asked: AskedTerms,
    model: ParagraphModel,
    structure: Structure,
    notes: dict[str, tuple[str, ...]],
    named: Mapping[str, tuple[int | None, int | None]] | None = None,
) -> tuple[StatuteChoice | BothSides, ...]:
    """What of each chosen article is quoted, in order: its best 款 and 项; and where that 款 is one side
    of a distinction (``qa.alternatives``), the side the question settles, or both sides when it does not.
    An article quoted under a side is not quoted again after it.

    Args:
        chunks: the statute articles to cite, most direct first.
        notes: citation -> notes to show under the article (misquotes in prose).
        named: the articles the question names, by id, with the 款 and 项 it names (None: not named).
            They are quoted as asked (``named_choice``), never split into sides.
    """
    named = named or {}
    out: list[StatuteChoice | BothSides] = []
    done: set[tuple[str, int | None]] = set()

    def quote(place_chunk: Chunk, para: Span | None) -> StatuteChoice:
        return statute_choice(place_chunk, para, asked, model, notes.get(place_chunk.citation or "", ()))

    for chunk in chunks:
        if chunk.id in named:
            out.append(named_choice(chunk, *named[chunk.id], asked, model, notes.get(chunk.citation or "", ())))
            done.add((chunk.id, None))
            continue
        choice = choose_quotes(chunk, asked, model, notes.get(chunk.citation or "", ()))
        here = (chunk.id, choice.paragraph.index if choice.paragraph else None)
        if here in done or (chunk.id, None) in done:
            continue
        alts = None if choice.paragraph is None else structure.alternatives(chunk, choice.paragraph)
        if alts is None:
            out.append(choice)
            done.add(here)
            continue
        settled = settle(alts, asked.text)
        if settled is None:  # both sides, each with its condition: the law's default first, else the chosen 款's
            sides = sorted(alts.sides, key=lambda s: (not s.default, all(p.key != here for p in s.places)))
            out.append(BothSides(tuple(BranchChoice(s.condition, tuple(quote(p.chunk, p.paragraph) for p in s.places),
                                                    s.default) for s in sides)))
            done |= {p.key for s in sides for p in s.places} | {(chunk.id, None)}
            continue
        side = alts.sides[settled.side]
        if any(p.key == here for p in side.places) and not (side.default and settled.by_agreement):
            out.append(choice)  # the question names the case the chosen 款 is about: quote just that 款
            done.add(here)
        else:  # the question decides a case: quote its 款, the condition's first (686② with 687②)
            out += [quote(p.chunk, p.paragraph) for p in side.places]
            done |= {p.key for p in side.places}
    return tuple(out)


def sides_of(plan_statutes: tuple[StatuteChoice | BothSides, ...], structure: Structure) -> list[tuple[Side, Side, bool]]:
    """Each distinction an answer touches: (the side it quotes or the first, the other side, both quoted)."""
    out = []
    for part in plan_statutes:
        if isinstance(part, BothSides):
            first = part.branches[0].statutes[0]
            alts = structure.alternatives(first.chunk, first.paragraph) if first.paragraph else None
            if alts is not None:
                out.append((alts.sides[0], alts.sides[1], True))
        elif part.paragraph is not None:
            alts = structure.alternatives(part.chunk, part.paragraph)
            if alts is not None:
                quoted = next(i for i, s in enumerate(alts.sides)
                              if any(p.key == (part.chunk.id, part.paragraph.index) for p in s.places))
                out.append((alts.sides[quoted], alts.sides[1 - quoted], False))
    return out


def takes_a_side(text: str, alts_sides: list[tuple[Side, Side, bool]]) -> bool:
    """Whether prose states one side of a distinction as the rule, where the answer quotes the other side or
    both: it says what only the other side rules (作为担保人,你同样承担连带责任 next to 686②), or, where both
    sides are quoted, what one side rules and not the other (``qa.alternatives.ruling``)."""
    said = set(tokenize(text))
    for quoted, other, both in alts_sides:
        theirs, ours = bool(ruling(other, quoted) & said), bool(ruling(quoted, other) & said)
        if (both and theirs != ours) or (not both and theirs):
            return True
    return False


def reported_hits(
    result: SearchResult, statutes: list[Hit], cited: set[str], quoted: list[Chunk] = ()
) -> tuple[Hit, ...]:
    """The hits shown, plus any cited passage held back by the one-per-source rule, any cited statute
    the selector found deeper down, and any other article ``quoted`` (the other side of a distinction),
    which the search did not rank (rank 0, no scores)."""
    used = list(result.hits)
    for h in [*result.more, *statutes, *(Hit(c, 0, 0.0) for c in quoted)]:
        if h.chunk.id in cited and all(h.chunk.id != u.chunk.id for u in used):
            used.append(h)
    return tuple(used)
