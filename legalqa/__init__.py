"""legalqa: question answering over Chinese law, grounded in verbatim quotes.

Hold one ``Engine`` and call it; it loads the index and model once and follows rebuilds::

    from legalqa import Engine

    engine = Engine()
    hits = engine.hits("替朋友还了网贷能要回来吗", k=5, filters={"kind": "statute"})
    answer = engine.ask("我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？")
    report = engine.verify("《民法典》第六百八十一条 保证合同是……")

``legalqa.search/ask/verify`` are the same calls for a one-off script: each builds an Engine
from the settings, so it loads the index every time (the model itself is loaded once per process).
The index path comes from $LEGALQA_INDEX (or legalqa/defaults.toml); build it with `legalqa ingest`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from legalqa.engine import Engine
    from legalqa.index.search import Hit
    from legalqa.qa.models import Answer
    from legalqa.qa.verify import VerifyReport

__all__ = ["Engine", "search", "ask", "verify"]


def __getattr__(name: str):
    if name == "Engine":  # imported on first use, so `import legalqa` stays light
        from legalqa.engine import Engine

        return Engine
    raise AttributeError(f"module 'legalqa' has no attribute {name!r}")


def _engine() -> Engine:
    from legalqa.engine import Engine

    return Engine()


def search(query: str, k: int = 5, filters: dict | None = None) -> list[Hit]:
    """Hybrid search over the index: statute articles and article passages, best first.

    ``filters`` as for ``Engine.search``: law, kind, status (laws in force unless it names
    已废止/历史版本 or "all"), heading (编/章/节) and collection.
    """
    return _engine().hits(query, k, filters)


def ask(question: str, filters: dict | None = None) -> Answer:
    """A grounded, self-checked answer: quotes with citations, or an abstention when the corpus does not cover it."""
    return _engine().ask(question, filters)


def verify(text: str) -> VerifyReport:
    """Check every citation in a text: does the article exist, and is the quote after it the law's words?"""
    return _engine().verify(text)
