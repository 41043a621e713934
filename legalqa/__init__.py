"""legalqa: question answering over Chinese law, grounded in verbatim quotes.

The stable Python API::

    import legalqa
    hits = legalqa.search("替朋友还了网贷能要回来吗", k=5, filters={"kind": "statute"})
    answer = legalqa.ask("我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？")
    report = legalqa.verify("《民法典》第六百八十一条 保证合同是……")

The index path comes from $LEGALQA_INDEX (or legalqa/defaults.toml); build it with `legalqa ingest`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from legalqa.index.search import Hit
    from legalqa.qa.models import Answer
    from legalqa.qa.verify import VerifyReport

__all__ = ["search", "ask", "verify"]


def search(query: str, k: int = 5, filters: dict | None = None) -> list[Hit]:
    """Hybrid search over the index: statute articles and article passages, best first."""
    from legalqa import engine

    return engine.searcher().search(query, k, filters)


def ask(question: str) -> Answer:
    """A grounded answer: quotes with citations, or an abstention when the corpus does not cover it."""
    from legalqa import engine

    return engine.composer().ask(question)


def verify(text: str) -> VerifyReport:
    """Check every citation in a text: does the article exist, and is the quote after it the law's words?"""
    from legalqa import engine
    from legalqa.qa.verify import verify_text

    return verify_text(text, engine.searcher())
