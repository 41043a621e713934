"""Verification: answers check themselves, and any text's citations are checked against the index.

``self_check`` proves an answer's quotes are verbatim at their recorded spans
and its citations resolve. ``verify_text`` is the one citation checker, behind
`legalqa verify`, the page and `legalqa eval --answers`: it finds every citation
in a text (with or without 《》, aliases, Arabic or Chinese numerals, Markdown
allowed) and gives each one status:

- ``exact`` / ``differs`` / ``not_a_quote`` / ``no_quote``: the article exists; the words
  the text gives as its text are the law's, differ from it (with the diff), are not the
  law's words at all, or there are none;
- ``wrong_paragraph``: the 款 (or 项) named is past the article's count, or the quote is
  another 款 of the article than the one named;
- ``not_found``: the law is held, but not this article, and the index cannot tell whether
  it exists (an excerpt, such as the default corpus's 民法典);
- ``nonexistent``: the law is held in full, or its last article is known, and the number
  is past the end;
- ``unknown_law``: the index does not hold the law (or the text names none);
- ``repealed``: the law is repealed or a superseded version, with its successor when known.

Words after a citation are judged by how the text presents them (crosscheck.presented_after):
in quotation marks or set out under the citation they claim to be the law's text, so anything
else is a misquote; in the running sentence they may be a summary, and are compared only when
they are close enough to be an attempt at the text (a near-quote).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from legalqa.index.search import Searcher
from legalqa.ingest.citations import CitationRef, article_label, find_citations, find_laws
from legalqa.ingest.crosscheck import QuoteCheck, compare_quote, mask_markdown, normalize, presented_after
from legalqa.ingest.models import Chunk
from legalqa.ingest.numerals import int_to_cn
from legalqa.qa.lawinfo import LawInfo, StatuteSource, statute_source
from legalqa.qa.models import Answer, Citation

MAX_VERIFY_CHARS = 200_000
# Words in the running sentence after a citation at least this close to the article are a
# near-quote and compared; below it they are the writer's summary, which is no error.
NEAR_QUOTE_ABOVE = 0.8
# ... and at least this long: a short phrase that reuses the article's words (按一般保证承担责任) is a summary.
NEAR_QUOTE_MIN_CHARS = 20
# A block under a citation that starts like this explains the article; it does not quote it.
_COMMENTARY = re.compile(r"\s*(?:本条|该条|这条|此条|这一条|该规定|这一规定|意思是|也就是说|即)")


def self_check(answer: Answer, searcher: Searcher) -> list[str]:
    """Problems with an answer's citations; an empty list means every quote and citation checks out."""
    return [p for ci in answer.citations for p in check_citation(ci, searcher)]


def check_citation(ci: Citation, searcher: Searcher) -> list[str]:
    """Problems with one citation: its quote is not the source's text at its offsets, or its
    citation (as displayed, and as data) does not name the article it quotes."""
    chunk = searcher.chunk(ci.source_id)
    if chunk is None:
        return [f"[{ci.n}] 引用的来源 {ci.source_id} 不在索引中"]
    problems = []
    source = searcher.data.sources.get(chunk.source, "")
    if source[ci.start : ci.end] != ci.quote:
        problems.append(f"[{ci.n}] 引文与来源 {chunk.source} 在 {ci.start}–{ci.end} 处的原文不一致")
    if not (chunk.start <= ci.start <= ci.end <= chunk.end):
        problems.append(f"[{ci.n}] 引文位置超出所引段落")
    if ci.kind == "statute":
        refs = find_citations(ci.citation, aliases=searcher.aliases)
        if len(refs) != 1 or searcher.article(refs[0].law, refs[0].article, refs[0].suffix) is None:
            problems.append(f"[{ci.n}] 引用 {ci.citation} 在语料中不存在")
        elif searcher.article(refs[0].law, refs[0].article, refs[0].suffix).id != chunk.id:
            problems.append(f"[{ci.n}] 引用 {ci.citation} 与所引段落不是同一条")
        elif ci.ref is not None and (ci.ref.canonical() != refs[0].canonical() or not _within(ci, chunk)):
            problems.append(f"[{ci.n}] 引用 {ci.citation} 与其结构化引用 {ci.ref} 不符")
    return problems


def _within(ci: Citation, chunk) -> bool:
    """The quote lies inside the 款 (and 项) its structured citation names."""
    ref = ci.ref
    if ref.paragraph is not None:
        if not 1 <= ref.paragraph <= len(chunk.paragraphs):
            return False
        para = chunk.paragraphs[ref.paragraph - 1]
        if not para.start <= ci.start <= ci.end <= para.end:
            return False
    if ref.item is not None:  # no 款 named: the article has one, and its 项 follow the article
        return any(k == (ref.paragraph or 1) and s.index == ref.item for k, s in chunk.items)
    return True


@dataclass
class CitationCheck:
    citation: str  # canonical form
    raw: str  # as written in the text
    start: int
    end: int
    exists: bool
    law_known: bool  # the index holds the law
    quote: str | None = None  # the words the text gives as the article's, if any
    check: QuoteCheck | None = None
    official: str | None = None  # the article's official text
    status: str = "no_quote"  # one of qa.models.STATUSES
    law: str | None = None
    article: int = 0
    suffix: int = 0
    paragraph: int | None = None  # 款 named
    item: int | None = None  # 项 named
    law_inferred: bool = False  # the text names no law here; the one named last before it is assumed
    presented: str | None = None  # how the quote is given: quoted / block / inline
    quote_start: int | None = None
    quote_end: int | None = None
    paragraphs: int | None = None  # how many 款 the article has
    items: int | None = None  # how many 项 the named 款 (or the article) has
    matched_paragraph: int | None = None  # wrong_paragraph: the 款 the quote actually is
    law_status: str = ""  # the law's status (已废止 …) when repealed or historical
    successor: str | None = None
    repealed_by: str | None = None
    last_article: str | None = None  # nonexistent: the law's last article

    def detail(self) -> str:
        """One line in Chinese on why the status was given (the successor, the last article, the 款 count …)."""
        if self.status == "repealed":
            what = "是历史版本" if self.law_status and "废止" not in self.law_status and "失效" not in self.law_status \
                else "已废止"
            by = f"（见{self.repealed_by}）" if self.repealed_by else ""
            after = f"，现行规定见《{self.successor}》" if self.successor else ""
            return f"《{self.law}》{what}{by}{after}"
        if self.status == "nonexistent":
            end = f"只到{self.last_article}" if self.last_article else "全文已收录，没有这一条"
            return f"《{self.law}》{end}"
        if self.status == "wrong_paragraph":
            if self.matched_paragraph is not None:
                return f"引文是本条第{int_to_cn(self.matched_paragraph)}款，不是第{int_to_cn(self.paragraph or 1)}款"
            if self.item is not None and self.items is not None and (self.paragraph or 0) <= (self.paragraphs or 0):
                return f"所引的款只有 {self.items} 项" if self.items else "所引的款没有分项"
            return f"本条只有 {self.paragraphs} 款"
        if self.status == "differs" and self.check is not None:
            return f"引文与法条原文有 {len(self.check.differences)} 处不同"
        if self.status == "not_a_quote" and self.check is not None:
            return f"当作法条原文给出的文字不是这一条的原文（相似度 {self.check.similarity:.2f}）"
        if self.status == "not_found":
            return f"索引只收录了《{self.law}》的部分条文，无法确认这一条"
        if self.status == "unknown_law":
            return "没有写明法律名称" if self.law is None else f"索引中没有《{self.law}》"
        if self.law_inferred:
            return f"文中此处未写法律名称，按前文视为《{self.law}》"
        return ""

    def key(self) -> tuple[str | None, int, int, int | None]:
        """(law, article, suffix, 款), as eval.metrics matches citations."""
        return (self.law, self.article, self.suffix, self.paragraph)


@dataclass
class VerifyReport:
    citations: list[CitationCheck] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.citations:
            out[c.status] = out.get(c.status, 0) + 1
        return out

    def to_dict(self) -> dict:
        return {"counts": self.counts(), "citations": [asdict(c) | {"detail": c.detail()} for c in self.citations]}


def verify_text(text: str, searcher: Searcher | StatuteSource) -> VerifyReport:
    """Check every citation in ``text`` against the index (a Searcher, or any ``StatuteSource``)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("没有要核验的文字：请粘贴文本，或给出文件路径")
    if len(text) > MAX_VERIFY_CHARS:
        raise ValueError(f"文字太长（{len(text)} 字）：一次最多核验 {MAX_VERIFY_CHARS} 字")
    return VerifyReport(check_citations(text, statute_source(searcher)))


def check_citations(text: str, source: StatuteSource) -> list[CitationCheck]:
    """One ``CitationCheck`` per cited article (a list or range gives one per article), in order."""
    masked = mask_markdown(text)
    refs = find_citations(masked, aliases=source.aliases)
    held = set(source.laws)
    named = None
    starts = sorted({r.start for r in refs})
    out = []
    for i, ref in enumerate(refs):
        law, inferred = ref.law, False
        if law is None:  # a bare 第X条: the law named last before it, if any
            if named is None:
                named = [m for m in find_laws(masked, aliases=source.aliases) if m.known or m.law in held]
            before = [m.law for m in named if m.end <= ref.start]
            law, inferred = (before[-1], True) if before else (None, False)
        in_list = (i + 1 < len(refs) and refs[i + 1].start == ref.start) or (i > 0 and refs[i - 1].start == ref.start)
        following = [s for s in starts if s > ref.start]
        stop = following[0] if following else len(text)
        out.append(_check(text, masked, ref, law, inferred, held, source, None if in_list else stop))
    return out


def _check(
    text: str, masked: str, ref: CitationRef, law: str | None, inferred: bool, held: set[str],
    source: StatuteSource, stop: int | None,
) -> CitationCheck:
    info = source.law_info(law) if law else None
    chunk = source.article(law, ref.article, ref.suffix) if law in held else None
    c = CitationCheck(
        CitationRef(law, ref.article, ref.suffix, ref.paragraph, ref.item).canonical(), text[ref.start : ref.end],
        ref.start, ref.end, chunk is not None, law in held, law=law, article=ref.article, suffix=ref.suffix,
        paragraph=ref.paragraph, item=ref.item, law_inferred=inferred,
    )
    if chunk is not None:
        c.official = chunk.text
    if info is not None and (info.repealed or info.historical):
        c.status, c.law_status = "repealed", info.status or "已废止"
        c.successor, c.repealed_by = info.successor, info.repealed_by
    elif law is None or law not in held:
        c.status = "unknown_law"
    elif chunk is None:
        c.status = "nonexistent" if _past_the_end(ref, info) else "not_found"
        if c.status == "nonexistent" and info.last_article is not None:
            c.last_article = article_label(*info.last_article)
    elif not _paragraph_exists(c, chunk):
        c.status = "wrong_paragraph"
    elif stop is not None:
        _check_quote(c, chunk, text, masked, stop)
    return c


def _past_the_end(ref: CitationRef, info: LawInfo | None) -> bool:
    if info is None:
        return False
    if info.complete:
        return True
    return info.last_article is not None and (ref.article, ref.suffix) > info.last_article


def _paragraph_exists(c: CitationCheck, chunk: Chunk) -> bool:
    """Whether the 款 and 项 the citation names are within the article; records the counts on ``c``."""
    c.paragraphs = max(1, len(chunk.paragraphs))
    if c.paragraph is not None and c.paragraph > c.paragraphs:
        return False
    if c.item is None:
        return True
    # The 项 as the parser numbered them, by their markers (a citation's 第（三）项 names the line marked （三）).
    items = [s for k, s in chunk.items if c.paragraph is None or k == c.paragraph]
    c.items = len(items)
    return any(s.index == c.item for s in items)


def _check_quote(c: CitationCheck, chunk: Chunk, text: str, masked: str, stop: int) -> None:
    """Set ``c``'s quote, check and status from the words the text gives after the citation."""
    paragraphs = [p.text for p in chunk.paragraphs] or [chunk.text]
    every = [chunk.text, *paragraphs]

    def continues(line: str) -> bool:
        return compare_quote(line, every).status != "paraphrase"

    got = presented_after(masked, c.end, stop, continues)
    if got is None:
        return
    line_start = text.rfind("\n", 0, c.start) + 1
    # Under a heading (### 民法典第六百八十一条) or opening with 本条/该条, a block explains the article.
    claims_text = got.how == "quoted" or (
        got.how == "block" and not text[line_start:c.start].lstrip().startswith("#")
        and not _COMMENTARY.match(got.words)
    )
    matched = None
    if c.paragraph is None:
        check = compare_quote(got.words, every)
    else:
        check, matched = _paragraph_check(got.words, chunk.text, paragraphs, c.paragraph)
    near_quote = check.similarity >= NEAR_QUOTE_ABOVE and len(normalize(got.words)) >= NEAR_QUOTE_MIN_CHARS
    if not claims_text and check.status != "exact" and (check.status == "paraphrase" or not near_quote):
        return  # the writer's own summary of the article
    c.quote, c.check, c.presented = text[got.start : got.end], check, got.how
    c.quote_start, c.quote_end, c.matched_paragraph = got.start, got.end, matched
    if matched is not None:
        c.status = "wrong_paragraph"
    else:
        c.status = {"exact": "exact", "differs": "differs", "paraphrase": "not_a_quote"}[check.status]


def _paragraph_check(
    words: str, whole: str, paragraphs: list[str], named: int
) -> tuple[QuoteCheck, int | None]:
    """Compare a quote given for 第``named``款 with that 款; the other 款 that it is instead, if any."""
    own = compare_quote(words, [paragraphs[named - 1]])
    if own.status == "exact":
        return own, None
    others = [(compare_quote(words, [p]), k) for k, p in enumerate(paragraphs, start=1) if k != named]
    best = max(others, key=lambda t: (t[0].status == "exact", t[0].similarity), default=None)
    if best is not None and (best[0].status == "exact"
                             or best[0].status == "differs" and best[0].similarity > own.similarity):
        return best
    spanning = compare_quote(words, [whole])
    return (spanning, None) if spanning.status == "exact" else (own, None)
