"""The records that leave ingestion: statute articles and searchable chunks.

Plain frozen dataclasses, serializable with ``to_dict`` / ``from_dict`` so an
index can store them as JSON lines.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Span:
    """A 款 (paragraph) or 项 (item): its text and character offsets in the source file."""

    index: int  # 款: 1-based, in document order; 项: the number its marker gives, （三） → 3
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Article:
    """One statute article (条), as parsed from an official text."""

    law: str  # full name, e.g. 中华人民共和国民法典
    number: int  # 681
    suffix: int  # 0, or 1 for 第二百八十条之一
    label: str  # 第六百八十一条 / 第二百八十条之一
    text: str  # the body without the label; 款 joined by "\n"
    start: int  # offset of the body in the source text
    end: int
    paragraphs: tuple[Span, ...]
    items: tuple[tuple[int, Span], ...] = ()  # (款 index, 项 span)
    heading_path: tuple[str, ...] = ()  # ("第三编 合同", "第二分编 典型合同", "第十三章 保证合同", ...)
    aliases: tuple[str, ...] = ()
    source: str = ""
    version: str = ""
    status: str = ""


USER_COLLECTION = "user"  # uploads: documents only, never law (ingest/pipeline.py)

# A law version's status, as the national database words it.
IN_FORCE = "现行有效"
AMENDED = "已被修改"  # amendments exist; the text is the latest the source holds
REPEALED = "已废止"
SUPERSEDED = "历史版本"  # an older version of a law whose newer version is also held
# Searched and answered from only when a filter names their status (index/search.py Filters).
NOT_IN_FORCE = (REPEALED, SUPERSEDED)


@dataclass(frozen=True)
class Chunk:
    """A searchable piece of a source: one statute article, or a passage of prose.

    ``text == source_text[start:end]`` always holds, so a quote found in the
    chunk can be located in its source file.
    """

    id: str
    kind: str  # "statute" | "article"
    title: str  # law full name, or the prose document's title
    text: str
    source: str  # path of the source file, relative to the corpus root when possible
    start: int
    end: int
    heading_path: tuple[str, ...] = ()
    law: str | None = None
    article: int | None = None
    suffix: int = 0
    label: str | None = None  # 第六百八十一条
    citation: str | None = None  # canonical citation, for statute chunks
    paragraphs: tuple[Span, ...] = ()
    items: tuple[tuple[int, Span], ...] = ()  # (款 index, 项 span), as Article.items
    status: str = ""
    version: str = ""
    collection: str = "default"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def provenance(self) -> str:
        """"official" for the corpus and the statute library, "user" for an uploaded document."""
        return "user" if self.collection == USER_COLLECTION else "official"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["heading_path"] = tuple(kwargs.get("heading_path", ()))
        kwargs["paragraphs"] = tuple(Span(**p) for p in kwargs.get("paragraphs", ()))
        kwargs["items"] = tuple((int(k), Span(**s)) for k, s in kwargs.get("items", ()))
        return cls(**kwargs)
