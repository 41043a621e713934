"""The composition root: one ``Engine`` owns the running system.

An Engine is built from ``Settings``. It owns the embedder, the loaded index with its
searcher, and the composer, and it reloads them when the index on disk changes (a rebuild
replaces manifest.json). Every face holds an Engine and calls it: the CLI, HTTP, the page,
LangChain, eval and ``legalqa.search/ask/verify``. Nothing here is cached at module level::

    from legalqa.engine import Engine

    engine = Engine()                       # settings from legalqa/defaults.toml and the environment
    result = engine.search("替朋友还了网贷能要回来吗", k=5, filters={"kind": "statute"})
    answer = engine.ask("我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？")   # self-checked
    report = engine.verify("《民法典》第六百八十一条 保证合同是……")
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from legalqa.config import Settings, load_settings

if TYPE_CHECKING:
    from legalqa.index.backends.qdrant import QdrantStore
    from legalqa.index.embedder import Embedder
    from legalqa.index.search import Filters, Hit, Searcher, SearchResult
    from legalqa.ingest.models import Chunk
    from legalqa.ingest.pipeline import IngestReport
    from legalqa.qa.compose import Composer
    from legalqa.qa.lawinfo import StatuteSource
    from legalqa.qa.models import Answer
    from legalqa.qa.verify import VerifyReport


class AnswerCheckError(RuntimeError):
    """An answer failed its self-check: a bug, never shown as if the answer were fine."""

    def __init__(self, problems: list[str]):
        super().__init__("答案自检失败（这是程序缺陷，请报告）：" + "；".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class _Loaded:
    stamp: tuple  # manifest.json's (mtime_ns, inode, size): a rebuild changes it
    searcher: Searcher
    composer: Composer | None = None
    statutes: StatuteSource | None = None  # law facts for verify, derived once per loaded index


class Engine:
    """Settings → embedder → index → searcher → composer, loaded on first use and kept fresh.

    Args:
        settings: where the corpus, index and model are, and how to search and answer
            (default: ``load_settings()``).
        embedder: use this embedder instead of loading ``settings.model`` (eval passes one
            that caches query vectors; unit tests pass a ``FakeEmbedder``).

    Thread-safe: HTTP serves requests from a thread pool through one Engine.
    """

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None):
        self.settings = settings or load_settings()
        self._embedder = embedder
        self._lock = threading.RLock()
        self._loaded: _Loaded | None = None
        self._store: QdrantStore | None = None

    def __repr__(self) -> str:
        return (f"Engine(index={str(self.settings.index_dir)!r}, model={self.settings.model!r}, "
                f"backend={self.settings.backend.name!r})")

    # -- what it owns ------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        """The embedding model (loaded on first use; raises EmbedderError when it cannot load)."""
        with self._lock:
            if self._embedder is None:
                from legalqa.index.embedder import get_embedder

                self._embedder = get_embedder(self.settings.model)
            return self._embedder

    @property
    def store(self) -> QdrantStore | None:
        """The engine backend's connection (None on faiss), opened once and shared by builds and searches.

        The embedded store admits one client per process, so the Engine keeps a single one.
        """
        with self._lock:
            if self._store is None and self.settings.backend.name == "qdrant":
                from legalqa.index.backends.qdrant import QdrantStore

                self._store = QdrantStore(self.settings.engine_location, self.settings.backend.collection)
            return self._store

    def close(self) -> None:
        """Close the engine backend's connection (the embedded store's lock is released)."""
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
            self._loaded = None

    @property
    def searcher(self) -> Searcher:
        """The searcher over the index on disk, reloaded when a rebuild replaced it.

        Raises:
            IndexLoadError: no index, a damaged one, or one built with another model; the
                message says to run ``legalqa ingest``.
        """
        return self._current().searcher

    @property
    def composer(self) -> Composer:
        """The answer composer over ``searcher`` (raises SelectorError for a broken selector model)."""
        from legalqa.qa.compose import Composer

        with self._lock:
            loaded = self._current()
            if loaded.composer is None:
                library = bool(loaded.searcher.data.manifest.get("library"))
                composer = Composer(loaded.searcher, self.settings.answer_for(library), statutes=lambda: self.statutes)
                loaded = replace(loaded, composer=composer)
                self._loaded = loaded
            return loaded.composer

    @property
    def statutes(self) -> StatuteSource:
        """What citation checks look articles and law facts up in (status, successor, last article), derived
        from the loaded index once: a pass over every chunk, so not on every verify."""
        from legalqa.qa.lawinfo import statute_source

        with self._lock:
            loaded = self._current()
            if loaded.statutes is None:
                loaded = replace(loaded, statutes=statute_source(loaded.searcher))
                self._loaded = loaded
            return loaded.statutes

    @property
    def manifest(self) -> dict:
        return self.searcher.data.manifest

    def _assets(self, library: bool = False):
        """What the index is built with and checked against: installed files, model, calibrated settings
        (those for an index with the library when ``library``)."""
        from legalqa.index.assets import installed_for
        from legalqa.qa.paragraphs import ParagraphModel
        from legalqa.qa.select import CitationSelector

        answer = self.settings.answer_for(library)
        for path, load in ((answer.selector_model if answer.selector == "model" else "", CitationSelector.load),
                           (answer.paragraph_model, ParagraphModel.load)):
            if path and not Path(path).is_file():
                load(Path(path))  # raises SelectorError / ParagraphModelError, which names the file and the fix
        return installed_for(self.embedder.name, answer)

    def _stamp(self) -> tuple:
        from legalqa.index.store import read_manifest

        try:
            st = (self.settings.index_dir / "manifest.json").stat()
        except OSError:
            read_manifest(self.settings.index_dir)  # raises the clear "run legalqa ingest" error
            raise
        return (st.st_mtime_ns, st.st_ino, st.st_size)

    def _current(self) -> _Loaded:
        # A stat, not a parse, on every call: a rebuilt index replaces manifest.json, changing its stamp.
        stamp = self._stamp()
        with self._lock:
            if self._loaded is None or self._loaded.stamp != stamp:
                from legalqa.index.search import Searcher
                from legalqa.index.store import load_index

                emb = self.embedder
                data = load_index(self.settings.index_dir, model=emb.name, dim=emb.dim,
                                  installed=lambda manifest: self._assets(bool(manifest.get("library"))))
                searcher = Searcher(data, emb, self.settings.search, backend=self._backend(data))
                self._loaded = _Loaded(stamp, searcher)
            return self._loaded

    def _backend(self, data):
        """The retrieval backend the settings name, over this index; None for faiss (the Searcher's default)."""
        from legalqa.index.store import IndexMismatchError

        built = (data.manifest.get("backend") or {}).get("name", "faiss")
        wanted = self.settings.backend.name
        if built != wanted:
            raise IndexMismatchError(f"索引是为 {built} 建立的，当前设置 [index] backend = {wanted!r}。"
                                     "请运行 `legalqa ingest` 重新建立索引")
        if wanted == "faiss":
            return None
        from legalqa.index.backends.qdrant import QdrantBackend

        self.store.check(data.manifest)
        return QdrantBackend(self.store, data.chunks, engine_fusion=self.settings.backend.fusion == "engine")

    def reload(self) -> None:
        """Forget the loaded index, so the next call reads it from disk again."""
        with self._lock:
            self._loaded = None

    # -- what it does ------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, filters: dict | Filters | None = None) -> SearchResult:
        """Hybrid search: the hits, best first, with what happened (expansions, typo fixes, timings).

        ``filters``: a dict of ``law`` (names or aliases), ``kind`` (statute/article), ``status``
        (现行有效, 已被修改, 已废止, 历史版本 or all; without it, laws in force only), ``heading``
        (编/章/节: "第十三章 保证合同", "第三编", "合同编") and ``collection``; each a string or a list.

        Raises:
            QueryError: the query, k or filters must change; the message says how.
        """
        return self.searcher.run(query, k, filters)

    def hits(self, query: str, k: int = 5, filters: dict | Filters | None = None) -> list[Hit]:
        """Just the hits of ``search``."""
        return self.search(query, k, filters).hits

    def ask(self, question: str, filters: dict | Filters | None = None, *, k: int | None = None) -> Answer:
        """A grounded answer (quotes with citations) or an abstention, always self-checked.

        Args:
            question: the user's question, in plain words.
            filters: restrict the sources (law, kind, status, heading, collection), as for ``search``.
            k: how many sources to retrieve before choosing quotes (default: settings.answer.k).

        Raises:
            QueryError: the question or filters must change.
            AnswerCheckError: a quote is not verbatim at its recorded place, or a citation does not
                resolve. This is a bug; the answer is never returned.
        """
        from legalqa.qa.verify import self_check

        composer = self.composer if k is None else self.composer.with_k(k)
        answer = composer.ask(question, filters)
        problems = self_check(answer, composer.searcher)
        if problems:
            raise AnswerCheckError(problems)
        return answer

    def verify(self, text: str) -> VerifyReport:
        """Check every citation in ``text``: does the article exist, and is the quote after it the law's words?"""
        from legalqa.qa.verify import verify_text

        return verify_text(text, self.statutes)

    def article(self, law: str, number: int, suffix: int = 0) -> Chunk | None:
        """One statute article by law (any alias) and number, or None when the index does not hold it."""
        return self.searcher.article(law, number, suffix)

    def build(
        self,
        paths: list[str | Path] | None = None,
        *,
        library: bool | None = None,
        progress: bool = False,
        on_progress: Callable[[float, str], None] | None = None,
    ) -> tuple[dict, IngestReport]:
        """Ingest the corpus (or ``paths``) plus the user collection, and write the index atomically.

        Args:
            paths: files or folders to read instead of the configured corpus.
            library: add the statute library (``[library] source``; ``ingest/combine.py`` says
                how it meets the corpus). None: when ``[library] enabled`` is set, or when the
                index on disk was built with the library, so a rebuild after an upload keeps it.
            progress: show progress bars on the terminal (counts and time left while embedding).
            on_progress: ``on_progress(fraction, message)`` is told each stage as it starts and,
                while embedding, after each batch (done/total and the time left), for a progress bar.

        The next call to search, ask or verify uses the new index. A killed build loses none of
        the embeddings it computed: the next build starts from them.
        """
        from legalqa.index.hints import load_hints
        from legalqa.index.store import build_index
        from legalqa.ingest.pipeline import Collection, ingest

        s = self.settings
        step = on_progress or (lambda fraction, message: None)
        with_library = self._wants_library() if library is None else library
        step(0.0, "读取语料和上传的文档")
        uploads = paths is None and s.user_docs.is_dir() and any(s.user_docs.iterdir())
        also = [Collection((s.user_docs,), "user", "user-docs/", official=False)] if uploads else []
        result = ingest(paths or list(s.corpus), progress=progress, also=also)
        chunks, sources, report = result.chunks, dict(result.sources), result.report
        if not chunks:
            raise ValueError("没有可索引的内容，原有索引未改动。\n" + report.summary())
        recorded = None
        if with_library:
            chunks, sources, recorded = self._add_library(chunks, sources, report, step)
        step(0.1, f"计算向量并写入索引（{len(chunks)} 块）")
        manifest = build_index(
            s.index_dir,
            chunks,
            sources,
            self.embedder,
            report=report.to_dict(),
            cache_dir=s.cache_dir,
            dense_kind=s.dense_kind,
            hints=load_hints() if s.doc_hints else None,
            assets=self._assets(recorded is not None),
            progress=progress,
            engine=self.store,
            on_progress=_embedding_steps(step, 0.1, 0.9),
            library=recorded,
        )
        self.reload()
        step(1.0, "索引已更新")
        return manifest, report

    def _wants_library(self) -> bool:
        """[library] enabled, or the index on disk was built with the library."""
        if self.settings.library.enabled:
            return True
        from legalqa.index.store import IndexLoadError, read_manifest

        try:
            return bool(read_manifest(self.settings.index_dir).get("library"))
        except IndexLoadError:
            return False

    def _add_library(self, chunks, sources, report, step) -> tuple[list, dict, dict]:
        """The corpus's chunks plus the library's; what was added goes into the report."""
        from legalqa.ingest.combine import combine
        from legalqa.ingest.library import load_library

        lib = self.settings.library
        step(0.05, "读取法规库")
        combined = combine(chunks, sources, load_library(lib.path, current_only=lib.versions == "current"))
        report.warnings += combined.warnings
        report.library = combined.summary
        report.articles += combined.summary["indexed"]
        report.chunks = len(combined.chunks)
        recorded = {"source": lib.source, "versions": lib.versions}
        recorded |= {k: combined.summary[k] for k in ("laws", "indexed", "replaced_by_corpus", "statuses")}
        return combined.chunks, combined.sources, recorded


def _embedding_steps(step: Callable[[float, str], None], start: float, end: float) -> Callable[[int, int], None]:
    """``on_progress(done, total)`` for the embedding cache, told to ``step`` as a fraction and a message with the time left."""
    began = time.monotonic()

    def told(done: int, total: int) -> None:
        elapsed = time.monotonic() - began
        left = f"，预计还需 {_duration(elapsed / done * (total - done))}" if 0 < done < total else ""
        step(start + (end - start) * done / total, f"计算向量：{done}/{total} 条{left}")

    return told


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} 秒"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} 分 {secs} 秒" if minutes < 60 else f"{minutes // 60} 小时 {minutes % 60} 分"
