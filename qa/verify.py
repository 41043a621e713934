"""Verification: answers check themselves, and `legalqa verify` checks any text.

``self_check`` proves an answer's quotes are verbatim at their recorded spans
and its citations resolve. ``verify_text`` finds every citation in a text, in
any form the citation grammar knows (with or without 《》), and reports
whether the article exists and whether the words after it are the law's words.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from legalqa.index.search import Searcher
from legalqa.ingest.citations import find_citations
from legalqa.ingest.crosscheck import QuoteCheck, compare_quote, quoted_after
from legalqa.qa.models import Answer, Citation

MAX_VERIFY_CHARS = 200_000


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
    if ref.item is not None:
        return any(k == ref.paragraph and s.index == ref.item for k, s in chunk.items)
    return True


@dataclass
class CitationCheck:
    citation: str  # canonical form
    raw: str  # as written in the text
    start: int
    end: int
    exists: bool
    law_known: bool
    quote: str | None = None  # the words after the citation, if any
    check: QuoteCheck | None = None
    official: str | None = None  # the article's official text

    @property
    def status(self) -> str:
        if not self.law_known:
            return "unknown_law"
        if not self.exists:
            return "not_found"
        if self.check is None:
            return "no_quote"
        return {"exact": "exact", "differs": "differs", "paraphrase": "not_a_quote"}[self.check.status]


@dataclass
class VerifyReport:
    citations: list[CitationCheck] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.citations:
            out[c.status] = out.get(c.status, 0) + 1
        return out

    def to_dict(self) -> dict:
        return {
            "counts": self.counts(),
            "citations": [asdict(c) | {"status": c.status} for c in self.citations],
        }


def verify_text(text: str, searcher: Searcher) -> VerifyReport:
    if not isinstance(text, str) or not text.strip():
        raise ValueError("没有要核验的文字：请粘贴文本，或给出文件路径")
    if len(text) > MAX_VERIFY_CHARS:
        raise ValueError(f"文字太长（{len(text)} 字）：一次最多核验 {MAX_VERIFY_CHARS} 字")
    refs = find_citations(text, aliases=searcher.aliases)
    report = VerifyReport()
    for i, ref in enumerate(refs):
        law_known = ref.law is not None and ref.law in searcher.laws
        chunk = searcher.article(ref.law, ref.article, ref.suffix) if law_known else None
        check = CitationCheck(ref.canonical(), ref.raw, ref.start, ref.end, chunk is not None, law_known)
        in_list = (i + 1 < len(refs) and refs[i + 1].start == ref.start) or (i > 0 and refs[i - 1].start == ref.start)
        if chunk is not None and not in_list:
            stop = refs[i + 1].start if i + 1 < len(refs) else len(text)
            got = quoted_after(text, ref.end, stop)
            check.official = chunk.text
            if got is not None:
                check.quote = got[0]
                parts = [chunk.text] + [p.text for p in chunk.paragraphs]
                if ref.paragraph and ref.paragraph <= len(chunk.paragraphs):
                    parts = [chunk.paragraphs[ref.paragraph - 1].text]
                check.check = compare_quote(got[0], parts)
        elif chunk is not None:
            check.official = chunk.text
        report.citations.append(check)
    return report
