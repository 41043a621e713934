"""The composition root: settings → ingest → index → searcher, each built once per process."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from legalqa.config import Settings, load_settings
from legalqa.index.embedder import Embedder, get_embedder
from legalqa.index.hints import load_hints
from legalqa.index.search import Searcher
from legalqa.index.store import build_index, load_index, read_manifest
from legalqa.ingest.pipeline import Collection, IngestReport, ingest

_lock = threading.Lock()
_searchers: dict[tuple, Searcher] = {}
_composer: tuple | None = None  # (searcher, answer settings, composer): one at a time


def settings() -> Settings:
    return load_settings()


def embedder_for(s: Settings) -> Embedder:
    return get_embedder(s.model)


def build(
    s: Settings | None = None,
    paths: list[str | Path] | None = None,
    *,
    progress: bool = False,
    on_progress: Callable[[float, str], None] | None = None,
) -> tuple[dict, IngestReport]:
    """Ingest the corpus (or ``paths``) plus the user collection, and write the index atomically.

    ``on_progress(fraction, message)`` is told each stage as it starts, for a progress bar.
    """
    s = s or settings()
    step = on_progress or (lambda fraction, message: None)
    step(0.0, "读取语料和上传的文档")
    uploads = paths is None and s.user_docs.is_dir() and any(s.user_docs.iterdir())
    also = [Collection((s.user_docs,), "user", "user-docs/")] if uploads else []
    result = ingest(paths or list(s.corpus), progress=progress, also=also)
    chunks, sources, report = result.chunks, dict(result.sources), result.report
    if not chunks:
        raise ValueError("没有可索引的内容，原有索引未改动。\n" + report.summary())
    step(0.3, f"计算向量并写入索引（{len(chunks)} 块）")
    manifest = build_index(
        s.index_dir,
        chunks,
        sources,
        embedder_for(s),
        report=report.to_dict(),
        cache_dir=s.cache_dir,
        dense_kind=s.dense_kind,
        hints=load_hints() if s.doc_hints else None,
        progress=progress,
    )
    forget()
    step(1.0, "索引已更新")
    return manifest, report


def searcher(s: Settings | None = None) -> Searcher:
    """The process-wide searcher for these settings; reloaded when the index on disk changes."""
    s = s or settings()
    # A stat, not a parse, on every call: a rebuilt index replaces manifest.json, changing its stamp.
    try:
        stamp = (s.index_dir / "manifest.json").stat()
    except OSError:
        read_manifest(s.index_dir)  # raises the clear "run legalqa ingest" error
        raise
    key = (str(s.index_dir), s.model, s.search, stamp.st_mtime_ns, stamp.st_ino, stamp.st_size)
    with _lock:
        if key not in _searchers:
            emb = embedder_for(s)
            data = load_index(s.index_dir, model=emb.name, dim=emb.dim)
            _searchers.clear()
            _searchers[key] = Searcher(data, emb, s.search)
        return _searchers[key]


def forget() -> None:
    with _lock:
        _searchers.clear()


def composer(s: Settings | None = None):
    """The composer over the process-wide searcher, for these answer settings (rebuilt when either changes)."""
    from legalqa.qa.compose import Composer

    global _composer
    s = s or settings()
    srch = searcher(s)
    with _lock:
        if _composer is None or _composer[0] is not srch or _composer[1] != s.answer:
            _composer = (srch, s.answer, Composer(srch, s.answer))
        return _composer[2]

