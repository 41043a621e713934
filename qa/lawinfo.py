"""What the verifier needs to know about the statutes behind an index, and where it comes from.

``StatuteSource`` is the small read-only interface the citation checker (qa/verify.py)
runs against: the laws held, one article by number, and ``law_info`` (status, successor,
last article, excerpt or full text). ``statute_source(searcher)`` gives one for any index:
an object that already has ``law_info`` (a library index) is used as it is; a ``Searcher``
is wrapped in ``IndexStatutes``, which derives the facts from the statutes it holds:

- a law is repealed when its front-matter status says so (已废止, 失效), or historical when it
  says 历史版本 / 已被修改; or when a held article repeals it by name, as 民法典第一千二百六十条
  does (“《中华人民共和国合同法》……同时废止”), which also names the successor (民法典);
- a law's last article is known when the index holds its commencement article
  (本法自……起施行), which is always a law's last;
- ``excerpt`` comes from the front matter (corpus/statutes marks the laws it holds only
  parts of); without it nothing is assumed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from legalqa.ingest.aliases import AliasTable
from legalqa.ingest.citations import find_laws
from legalqa.ingest.models import Chunk

REPEALED_WORDS = ("废止", "失效")
HISTORICAL_WORDS = ("历史版本", "已被修改", "已修改")
_COMMENCEMENT = re.compile(
    r"^\s*本(?:法|条例|规定|解释|办法|细则|决定|规则)(?:自|从)[^。；]{0,40}?施行"
)
_CLAUSE = re.compile(r"[^。；]+")
_REPEAL_CLAUSE = re.compile(r"(?:同时|予以|即行|一并)?废止\s*$")


@dataclass(frozen=True)
class LawInfo:
    """What is known about one law: how much of it the index holds, and whether it is still in force."""

    law: str
    held: bool  # the index holds at least one of its articles
    status: str = ""  # as its source says: 现行有效, 已废止, 已被修改, 历史版本 …
    excerpt: bool | None = None  # True: the index holds only some articles; None: not known
    last_article: tuple[int, int] | None = None  # (number, suffix) of its last article, when known
    repealed_by: str | None = None  # canonical citation of the held article that repealed it
    successor: str | None = None  # the law that replaced it, when known

    @property
    def repealed(self) -> bool:
        return self.repealed_by is not None or any(w in self.status for w in REPEALED_WORDS)

    @property
    def historical(self) -> bool:
        """A superseded version of a law still in force under the same name."""
        return not self.repealed and any(w in self.status for w in HISTORICAL_WORDS)

    @property
    def complete(self) -> bool:
        """The index holds every article of the law, so one it lacks does not exist."""
        return self.held and self.excerpt is False


@runtime_checkable
class StatuteSource(Protocol):
    """The read-only view of an index's statutes that the citation checker needs."""

    @property
    def aliases(self) -> AliasTable: ...

    @property
    def laws(self) -> Sequence[str]: ...

    def article(self, law: str | None, number: int, suffix: int = 0) -> Chunk | None: ...

    def law_info(self, law: str) -> LawInfo | None: ...


def repealed_laws(text: str, aliases: AliasTable) -> list[str]:
    """The laws an article's text repeals by name: those named in a clause that ends in 废止.

    Found with the citation grammar's law names (``find_laws``), so a repealed law is
    recognised by its title in 《》 or by any alias. A law named together with an article
    (《X法》第十条同时废止) loses only that article and is not listed.
    """
    out: list[str] = []
    for clause in _CLAUSE.finditer(text):
        if not _REPEAL_CLAUSE.search(clause.group()):
            continue
        for mention in find_laws(clause.group(), aliases=aliases):
            if not mention.with_article and mention.law not in out:
                out.append(mention.law)
    return out


def is_commencement(text: str) -> bool:
    """Whether an article (or one of its 款) is the commencement article: 本法自……起施行."""
    return any(_COMMENCEMENT.match(line) for line in text.splitlines())


def derive_law_info(chunks: Iterable[Chunk], aliases: AliasTable) -> dict[str, LawInfo]:
    """LawInfo for every law the statute chunks hold, and for every law one of them repeals."""
    held: dict[str, dict] = {}
    repeals: dict[str, tuple[str, str]] = {}  # repealed law -> (repealing citation, successor)
    for c in chunks:
        if c.kind != "statute" or not c.law or c.article is None:
            continue
        facts = held.setdefault(c.law, {"status": c.status, "excerpt": c.meta.get("excerpt"), "last": None})
        if "施行" in c.text and is_commencement(c.text):
            facts["last"] = max(facts["last"] or (0, 0), (c.article, c.suffix))
        if "废止" in c.text:
            for law in repealed_laws(c.text, aliases):
                if law != c.law:
                    repeals.setdefault(law, (c.citation or c.law, c.law))
    out = {
        law: LawInfo(law, True, f["status"], f["excerpt"] if isinstance(f["excerpt"], bool) else None, f["last"])
        for law, f in held.items()
    }
    for law, (citation, successor) in repeals.items():
        base = out.get(law, LawInfo(law, False))
        out[law] = LawInfo(base.law, base.held, base.status, base.excerpt, base.last_article, citation, successor)
    return out


class IndexStatutes:
    """``StatuteSource`` over a Searcher (or anything with ``chunks``, ``aliases``, ``laws`` and ``article``)."""

    def __init__(self, searcher) -> None:
        self._searcher = searcher
        self.aliases: AliasTable = searcher.aliases
        self.laws: Sequence[str] = searcher.laws
        self._info = derive_law_info(searcher.chunks, searcher.aliases)

    def article(self, law: str | None, number: int, suffix: int = 0) -> Chunk | None:
        return self._searcher.article(law, number, suffix)

    def law_info(self, law: str) -> LawInfo | None:
        return self._info.get(law)


def statute_source(searcher) -> StatuteSource:
    """``searcher`` itself when it already is a ``StatuteSource`` (an ``IndexStatutes``, a test's fake), else a new
    ``IndexStatutes`` over it: a pass over every chunk, so callers that check often keep it (``Engine.statutes``)."""
    if isinstance(searcher, StatuteSource):
        return searcher
    return IndexStatutes(searcher)
