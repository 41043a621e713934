"""Turning answers, sources and checks into safe display text. Pure functions, no Streamlit.

Everything shown on the page that comes from the corpus, the user or an
uploaded file goes through one of two doors:

- ``md_escape`` for text handed to ``st.markdown`` and widget labels: the answer's
  own Markdown escaper (``legalqa.qa.render.escape_markdown``) with every ASCII
  punctuation mark backslash-escaped, so no link, image, emphasis, HTML tag,
  LaTeX, Streamlit directive, icon or emoji shortcode in the text can take effect
  (Streamlit still links a bare https://… or e-mail address, as GFM does);
- ``highlight`` and the ``*_html`` builders for ``st.html``: the text is
  ``html.escape``d first, and only then are our own ``<mark>``/``<sup>`` tags
  put around spans of it. No Markdown is parsed there at all. The answer itself
  is drawn from its blocks by ``legalqa.qa.render.to_html``, which works the same way.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from legalqa.qa.models import STATUS_LABELS as VERIFY_STATUS_LABELS
from legalqa.qa.models import Answer, Citation, Disclaimer, SourceList
from legalqa.qa.render import escape_markdown, to_html

MARK_STYLE = "background:#fde68a;color:inherit;padding:0 2px;border-radius:3px"
DIFF_STYLE = "background:#fecaca;color:inherit;padding:0 2px;border-radius:3px"
TEXT_STYLE = "white-space:pre-wrap;line-height:1.85;font-size:1rem"
ANSWER_STYLE = "line-height:1.85;font-size:1rem"

KIND_LABELS = {"statute": "法条", "article": "文章"}
_ICONS = {"exact": "✅", "no_quote": "✅", "differs": "⚠️", "repealed": "⚠️", "not_a_quote": "ℹ️",
          "unknown_law": "❓", "not_found": "❌", "wrong_paragraph": "❌", "nonexistent": "❌"}
STATUS_LABELS = {status: f"{_ICONS[status]} {label}" for status, label in VERIFY_STATUS_LABELS.items()}


def md_escape(text: object) -> str:
    """Text that ``st.markdown`` shows literally: no link, image, tag or formatting can fire."""
    return escape_markdown(str(text), every_punctuation=True)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def merge_spans(spans: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Spans clamped to [0, length], empty ones dropped, overlapping ones merged, in order."""
    out: list[tuple[int, int]] = []
    for s, e in sorted((max(0, s), min(length, e)) for s, e in spans):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def highlight(text: str, spans: Iterable[tuple[int, int]] = (), style: str = MARK_STYLE) -> str:
    """``text`` as HTML with each span wrapped in ``<mark>``; every character of ``text`` is escaped."""
    parts, pos = [], 0
    for s, e in merge_spans(spans, len(text)):
        parts.append(esc(text[pos:s]))
        parts.append(f'<mark style="{style}">{esc(text[s:e])}</mark>')
        pos = e
    parts.append(esc(text[pos:]))
    return "".join(parts)


def text_block(inner_html: str, style: str = TEXT_STYLE) -> str:
    """A block that keeps the text's own line breaks (statute 款 are separate lines)."""
    return f'<div style="{style}">{inner_html}</div>'


def find_all(text: str, needles: Iterable[str]) -> list[tuple[int, int]]:
    """Spans of every occurrence of each non-empty needle in text."""
    spans = []
    for n in needles:
        if not n:
            continue
        i = text.find(n)
        while i >= 0:
            spans.append((i, i + len(n)))
            i = text.find(n, i + len(n))
    return spans


def answer_html(answer: Answer) -> str:
    """The answer's body as HTML, from its blocks: quotes highlighted, each followed by its marker [n].

    The list of sources and the disclaimer are left out: the page shows its own sources
    panel and the disclaimer as a caption. qa.render escapes every text and adds only its own tags.
    """
    body = [b for b in answer.blocks if not isinstance(b, SourceList | Disclaimer)]
    return text_block(to_html(body, mark_style=MARK_STYLE), ANSWER_STYLE)


@dataclass
class SourceCard:
    """One source passage of an answer, with every citation [n] that quotes it."""

    source_id: str
    citation: str  # the passage's own citation: the whole article, or 《title》·section
    kind: str
    heading_path: tuple[str, ...]
    text: str  # the passage's full text ("" when it could not be found)
    collection: str = "default"
    offset: int = 0  # where ``text`` starts in its source file (citation spans are source offsets)
    citations: list[Citation] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)  # quote spans, relative to text
    notes: list[str] = field(default_factory=list)

    @property
    def markers(self) -> str:
        return "".join(f"[{c.n}]" for c in self.citations)


def source_cards(answer: Answer, lookup: Callable[[str], dict | None] | None = None) -> list[SourceCard]:
    """Group an answer's citations by the passage they quote, in marker order.

    Passage text comes from ``answer.hits`` (the composer quotes only retrieved
    passages); ``lookup(chunk_id)`` is asked for any other, returning a dict
    with ``text``, ``start``, ``citation`` and ``heading_path``.
    """
    hits = {h.get("chunk_id"): h for h in answer.hits}
    cards: dict[str, SourceCard] = {}
    for ci in answer.citations:
        card = cards.get(ci.source_id)
        if card is None:
            hit = hits.get(ci.source_id) or (lookup(ci.source_id) if lookup else None) or {}
            base = ci.citation
            if ci.kind == "statute" and ci.law and ci.article:
                base = f"《{ci.law}》{ci.article}"
            card = cards[ci.source_id] = SourceCard(
                ci.source_id, hit.get("citation") or base, ci.kind,
                tuple(hit.get("heading_path") or ci.heading_path), hit.get("text", ""),
                hit.get("collection", "default"), hit.get("start", 0),
            )
        card.citations.append(ci)
        s, e = ci.start - card.offset, ci.end - card.offset
        if card.text and card.text[s:e] == ci.quote:
            card.spans.append((s, e))
        elif card.text and ci.quote:
            card.spans += find_all(card.text, [ci.quote])
        for note in ci.notes:
            if note not in card.notes:
                card.notes.append(note)
    return list(cards.values())


def hit_rows(hits: list[dict]) -> list[dict]:
    """Retrieval details for a table: one row per hit, with its dense, BM25 and fused scores."""
    rows = []
    for h in hits:
        sc = h.get("scores", {})
        rows.append({  # scores first: the citations are long and would push them out of view
            "排名": h.get("rank"),
            "融合分 (RRF)": sc.get("fused"),
            "重排分": sc.get("rerank"),
            "向量相似度": sc.get("dense"),
            "向量排名": sc.get("dense_rank"),
            "BM25 分": sc.get("bm25"),
            "BM25 排名": sc.get("bm25_rank"),
            "指名": "是" if sc.get("exact") else "",
            "类型": KIND_LABELS.get(h.get("kind"), h.get("kind")),
            "来源": h.get("citation"),
        })
    return rows


def difference_lines(check) -> list[str]:
    """Plain-text lines for each difference between a quote and the law (QuoteCheck.differences)."""
    return [d.describe() for d in check.differences] if check is not None else []


def quote_html(quote: str, check) -> str:
    """The quote as HTML, with the words the law does not have marked."""
    needles = [d.quoted for d in check.differences if d.op in ("added", "changed")] if check else []
    return highlight(quote, find_all(quote, needles), DIFF_STYLE)


def official_html(check) -> str:
    """The part of the law the quote was compared with, as HTML, with the words the quote lacks marked."""
    official = check.matched_official or ""
    needles = [d.official for d in check.differences if d.op in ("missing", "changed")]
    return highlight(official, find_all(official, needles), DIFF_STYLE)
