"""What the composer returns: an Answer with numbered, located citations."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Citation:
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


@dataclass
class Answer:
    question: str
    markdown: str
    text: str
    citations: list[Citation]
    abstained: bool
    reason: str = ""
    hits: list[dict[str, Any]] = field(default_factory=list)
    expansions: list[str] = field(default_factory=list)
    corrections: list[str] = field(default_factory=list)  # typos read by sound, e.g. "网代→网贷"
    evidence: dict[str, float] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["citations"] = [asdict(c) for c in self.citations]
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)
