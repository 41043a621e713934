"""What the composer returns: an Answer made of typed blocks, each quote located and cited.

The blocks are the answer. Renderers (qa/render.py) turn them into Markdown, plain text,
JSON and HTML; ``Answer.citations`` numbers their quotes [n] for the self-check, the page and
eval. No consumer reads another renderer's text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from legalqa.ingest.citations import article_label, canonical

DISCLAIMER = "以上内容是根据所列来源整理的一般性法律信息，不构成针对个案的法律意见；具体情况请咨询执业律师。"


# Every status a citation check can give, with what it means in the words every face shows.
STATUS_LABELS = {
    "exact": "引文与法条原文一致",
    "differs": "引文与法条原文不同",
    "not_a_quote": "不是原文引用（概括或改写）",
    "no_quote": "条文存在，其后没有引文",
    "wrong_paragraph": "款/项不对（超出本条款数，或引文是另一款）",
    "not_found": "语料中没有这一条",
    "nonexistent": "这一条不存在（超出该法条文范围）",
    "unknown_law": "语料中没有这部法律",
    "repealed": "该法已废止或不是现行版本",
}
STATUSES = tuple(STATUS_LABELS)


@dataclass(frozen=True)
class Ref:
    """A statute citation as data: law (full name), article number, 之X suffix, 款 and 项."""

    law: str
    article: int
    suffix: int = 0
    paragraph: int | None = None  # 款
    item: int | None = None  # 项, as its marker numbers it

    @property
    def label(self) -> str:
        """第六百八十八条, 第二百八十条之一."""
        return article_label(self.article, self.suffix)

    def canonical(self) -> str:
        """《中华人民共和国民法典》第六百八十八条第二款 (with 第（X）项 when an item is cited)."""
        return canonical(self.law, self.article, self.suffix, self.paragraph, self.item)

    def key(self) -> tuple[str, int, int, int | None]:
        """(law, article, suffix, 款): the key eval compares with its gold (eval.data.Key)."""
        return (self.law, self.article, self.suffix, self.paragraph)


@dataclass(frozen=True)
class Quote:
    """Verbatim words of a source: ``sources[source][start:end] == text``."""

    n: int  # the marker [n]
    text: str
    source_id: str  # chunk id
    source: str  # source file key
    start: int
    end: int
    citation: str  # as displayed
    ref: Ref | None = None  # statutes only


@dataclass(frozen=True)
class Correction:
    """Words of the question read by sound before searching: (written, meant) pairs."""

    type: ClassVar[str] = "correction"
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ScopeNote:
    """The question places its facts in another country (qa.scope): what follows is Chinese law."""

    type: ClassVar[str] = "scope"
    place: str  # the country, by its Chinese name


@dataclass(frozen=True)
class Lead:
    """Commentary, not law: sentences of an article passage that bear on the question."""

    type: ClassVar[str] = "lead"
    citation: str  # 《title》·section; 上传的文档《title》·section for an upload
    title: str
    heading_path: tuple[str, ...]
    quotes: tuple[Quote, ...]
    provenance: str = "official"  # "user": an uploaded document, never law


@dataclass(frozen=True)
class StatuteQuote:
    """One cited article: the words of its chosen 款, or the 款's opening and its chosen 项."""

    type: ClassVar[str] = "statute"
    citation: str  # as displayed, down to the 款/项 quoted
    ref: Ref
    heading_path: tuple[str, ...]
    quotes: tuple[Quote, ...]


@dataclass(frozen=True)
class Branch:
    """One side of a distinction the question leaves open: 「如果」 its condition, in the statute's own words,
    then the statutes that apply in that case.

    Consecutive branches with ``case`` 1, 2 … are the sides of one distinction, the law's default first.
    ``condition`` quotes the words of the first statute's 款 that state the case (its ``ref`` names that 款).
    """

    type: ClassVar[str] = "branch"
    case: int  # 1, 2 …: its place among the sides of its distinction
    condition: Quote
    statutes: tuple[StatuteQuote, ...]
    default: bool = False  # the law's rule when nothing (clear) was agreed


@dataclass(frozen=True)
class Note:
    """A remark on the statute quoted in the block before it, e.g. where an article misquotes it."""

    type: ClassVar[str] = "note"
    kind: str  # "misquote" | "status" (the quoted version is repealed, historical or amended) | "missing" (the
    # 款 or 项 the question names is not in the article, which is quoted whole)
    text: str
    about: str  # chunk id of the statute it is about


@dataclass(frozen=True)
class Abstention:
    """No answer: the evidence is too weak (names what was searched), or the question is about
    another country's law (names the country)."""

    type: ClassVar[str] = "abstention"
    reason: str
    laws: tuple[str, ...]
    articles: tuple[str, ...]  # titles of the prose sources
    foreign: str = ""  # the foreign country whose law the question asks about (qa.scope)
    unnamed: tuple[str, ...] = ()  # why the articles the question names are not here (repealed, past the end …)


@dataclass(frozen=True)
class SourceEntry:
    markers: tuple[int, ...]  # consecutive quotes of one source under one citation share a line
    citation: str
    kind: str  # "statute" | "article"
    heading_path: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceList:
    """Where every quote came from, in marker order."""

    type: ClassVar[str] = "sources"
    entries: tuple[SourceEntry, ...]


@dataclass(frozen=True)
class Disclaimer:
    type: ClassVar[str] = "disclaimer"
    text: str = DISCLAIMER


Block = Correction | ScopeNote | Lead | StatuteQuote | Branch | Note | Abstention | SourceList | Disclaimer


@dataclass(frozen=True)
class Citation:
    """One numbered quote [n], flattened from the blocks with its citation as text and as data."""

    n: int  # the marker [n] in the answer
    citation: str  # canonical, e.g. 《中华人民共和国民法典》第六百八十八条第二款; for prose, 《title》·section
    kind: str  # "statute" | "article"
    quote: str  # verbatim text from the source
    source_id: str  # chunk id
    source: str  # source file key
    start: int  # the quote's span in the source text
    end: int
    law: str | None = None
    article: str | None = None  # 第六百八十八条
    paragraph: int | None = None  # 款
    item: int | None = None  # 项
    title: str = ""
    heading_path: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # e.g. where an article misquotes this statute
    ref: Ref | None = None  # the statute citation as data (None for prose)
    provenance: str = "official"  # "user": quoted from an uploaded document (never law)


def citations_of(blocks: list[Block]) -> list[Citation]:
    """Every quote in the blocks as a Citation, in marker order; a statute's notes travel with it."""
    notes: dict[str, list[str]] = {}
    for b in blocks:
        if isinstance(b, Note):
            notes.setdefault(b.about, []).append(b.text)
    out = []

    def statute(q: Quote, heading_path: tuple[str, ...]) -> Citation:
        ref = q.ref
        return Citation(q.n, q.citation, "statute", q.text, q.source_id, q.source, q.start, q.end,
                        law=ref.law, article=ref.label, paragraph=ref.paragraph, item=ref.item, title=ref.law,
                        heading_path=heading_path, notes=tuple(notes.get(q.source_id, ())), ref=ref)

    for b in blocks:
        if isinstance(b, Lead):
            out += [
                Citation(q.n, q.citation, "article", q.text, q.source_id, q.source, q.start, q.end,
                         title=b.title, heading_path=b.heading_path, provenance=b.provenance)
                for q in b.quotes
            ]
        elif isinstance(b, StatuteQuote):
            out += [statute(q, b.heading_path) for q in b.quotes]
        elif isinstance(b, Branch):
            first = b.statutes[0].heading_path if b.statutes else ()
            out.append(statute(b.condition, first))
            out += [statute(q, st.heading_path) for st in b.statutes for q in st.quotes]
    return sorted(out, key=lambda c: c.n)


@dataclass
class Answer:
    """The composer's answer: its blocks, plus what search and the evidence rule saw."""

    question: str
    blocks: list[Block]
    abstained: bool
    reason: str = ""
    hits: list[dict[str, Any]] = field(default_factory=list)
    expansions: list[str] = field(default_factory=list)
    evidence: dict[str, float] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds

    @property
    def citations(self) -> list[Citation]:
        return citations_of(self.blocks)

    @property
    def corrections(self) -> list[str]:
        """Typos read by sound, e.g. "网代→网贷"."""
        return [f"{w}→{m}" for b in self.blocks if isinstance(b, Correction) for w, m in b.pairs]

    @property
    def markdown(self) -> str:
        from legalqa.qa.render import to_markdown

        return to_markdown(self.blocks)

    @property
    def text(self) -> str:
        from legalqa.qa.render import to_text

        return to_text(self.blocks)

    def to_dict(self) -> dict[str, Any]:
        from legalqa.qa.render import block_dict

        return {
            "question": self.question,
            "markdown": self.markdown,
            "text": self.text,
            "citations": [asdict(c) for c in self.citations],
            "abstained": self.abstained,
            "reason": self.reason,
            "hits": self.hits,
            "expansions": self.expansions,
            "corrections": self.corrections,
            "evidence": self.evidence,
            "timings": self.timings,
            "blocks": [block_dict(b) for b in self.blocks],
        }

    def to_json(self, indent: int | None = 2) -> str:
        from legalqa.qa.render import dumps

        return dumps(self.to_dict(), indent=indent)
