"""What the pages share: one Engine (loaded once per process), and friendly failures.

The Engine is held by ``st.cache_resource`` keyed on the settings, so every question after
the first reuses the loaded index and model; the Engine itself notices a rebuild (an upload)
and reloads the index on the next question.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import streamlit as st

from legalqa.config import Settings, load_settings
from legalqa.engine import AnswerCheckError, Engine
from legalqa.index.embedder import EmbedderError
from legalqa.index.search import Searcher
from legalqa.index.store import IndexLoadError
from legalqa.qa.models import Answer
from legalqa.ui.render import md_escape

__all__ = ["AnswerCheckError", "ask", "current", "guarded", "require_searcher", "run_build", "searcher", "settings"]

log = logging.getLogger("legalqa.ui")


PAGE_FAILED = "这个页面出错了"


def guarded(page: Callable[[], None]) -> Callable[[], None]:
    """A page that shows one plain line, not a traceback, when something unexpected fails.

    The error goes to the developer log. Streamlit's own rerun/stop signals are
    BaseExceptions and pass through untouched.
    """

    @functools.wraps(page)
    def run() -> None:
        try:
            page()
        except Exception as exc:
            log.exception("page %s failed", page.__module__)
            st.error(f"{PAGE_FAILED}，请刷新后重试。" + md_escape(f"（{type(exc).__name__}: {exc}）"), icon="🚧")

    return run


def settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner="正在加载索引和模型（启动后只需一次）…", max_entries=2)
def engine(_settings: Settings, key: str) -> Engine:
    """The page's one Engine for these settings (``key`` is their cache key); it follows index rebuilds itself."""
    return Engine(_settings)


def current() -> Engine:
    s = settings()
    return engine(s, repr(s))


def searcher() -> Searcher:
    """The engine's searcher. Raises IndexLoadError / EmbedderError when it cannot load."""
    return current().searcher


def ask(question: str, k: int, laws: tuple[str, ...] = (), kinds: tuple[str, ...] = ()) -> Answer:
    """Answer through the engine, as the CLI does (the engine self-checks every answer).

    Raises:
        QueryError: the question must change (empty, too long, bad filter).
        AnswerCheckError: the answer's quotes failed verification (a bug).
    """
    filters = {"law": list(laws), "kind": list(kinds)} if laws or kinds else None
    return current().ask(question, filters, k=k)


def run_build(on_done: Callable[[], None] | None = None) -> bool:
    """Rebuild the index with a progress bar. Returns whether it worked (failures are shown)."""
    bar = st.progress(0.0, text="准备建立索引…")
    try:
        manifest, report = current().build(on_progress=lambda f, msg: bar.progress(f, text=msg))
    except Exception as exc:  # shown, not raised: a failed build must not become a traceback on the page
        log.exception("index build failed")
        bar.empty()
        st.error(md_escape(f"建立索引失败：{exc}"))
        return False
    bar.progress(1.0, text=f"索引已建立：{manifest['chunks']} 个段落，用时 {manifest['build_seconds']:.1f} 秒")
    for err in report.errors:
        st.warning(md_escape(f"有文件未能读取：{err}"))
    if on_done:
        on_done()
    return True


def require_searcher() -> Searcher | None:
    """The searcher, or None after telling the user plainly why not and offering to build the index."""
    try:
        return searcher()
    except IndexLoadError as exc:
        st.warning("还没有可用的索引，或者索引需要重建。建立一次索引大约需要 20 秒。", icon="📚")
        st.caption(md_escape(str(exc)))
        if st.button("建立索引", type="primary", key="lq_build_index"):
            if run_build():
                st.rerun()
    except EmbedderError as exc:
        st.error(md_escape(f"无法加载向量模型：{exc}"), icon="🧩")
    return None
