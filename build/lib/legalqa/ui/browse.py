"""The browse page: every law as an outline (编/章/节 → 条), each article in full, and who cites it."""

from __future__ import annotations

import streamlit as st

from legalqa.index.search import Searcher
from legalqa.ingest.citations import find_citations
from legalqa.ingest.models import Chunk
from legalqa.ui import resources
from legalqa.ui.render import highlight, md_escape, text_block

ALL = "（全部）"
MAIN_LAW = "中华人民共和国民法典"  # opened first: most questions about loans and guarantees land in it


def outline(chunks: list[Chunk]) -> dict[tuple[str, ...], list[Chunk]]:
    """Chunks grouped by heading path, in document order (dicts keep insertion order)."""
    groups: dict[tuple[str, ...], list[Chunk]] = {}
    for c in chunks:
        groups.setdefault(tuple(c.heading_path), []).append(c)
    return groups


def _path_label(path: tuple[str, ...]) -> str:
    return " › ".join(path) if path else "（无章节）"


def mention_spans(srch: Searcher, citer: Chunk, target: Chunk) -> list[tuple[int, int]]:
    """Where ``citer``'s text cites ``target``, to highlight in it."""
    context = (citer.article, citer.suffix) if citer.kind == "statute" else None
    refs = find_citations(citer.text, aliases=srch.aliases, current_law=citer.law, current_article=context)
    return [(r.start, r.end) for r in refs if (r.law, r.article, r.suffix) == (target.law, target.article, target.suffix)]


def _chunk_label(c: Chunk) -> str:
    if c.kind == "statute":
        return c.citation or f"《{c.title}》{c.label}"
    return f"《{c.title}》" + ("·" + c.heading_path[-1] if c.heading_path else "")


def _statute(srch: Searcher) -> None:
    if not srch.laws:
        st.info("索引里没有法律条文。")
        return
    start = srch.laws.index(MAIN_LAW) if MAIN_LAW in srch.laws else 0
    law = st.selectbox("法律", srch.laws, index=start, key="lq_browse_law")
    groups = outline([c for c in srch.chunks if c.kind == "statute" and c.law == law])
    left, right = st.columns([2, 3], gap="large")
    with left:
        sections = {_path_label(p): p for p in groups}
        label = st.selectbox("编 / 章 / 节", list(sections), key=f"lq_browse_path_{law}")
        articles = groups.get(sections.get(label, ()), [])
        row = st.radio("条文", range(len(articles)), format_func=lambda i: articles[i].label or "",
                       key=f"lq_browse_art_{law}_{list(sections).index(label)}")
        article = articles[row] if row is not None and articles else None
        with st.expander("本法目录", expanded=False):
            st.markdown("\n".join(
                f"- {md_escape(_path_label(p))}（{md_escape(g[0].label)}—{md_escape(g[-1].label)}，{len(g)} 条）"
                for p, g in groups.items()
            ))
    with right:
        if article is not None:
            _article(srch, article)


def _article(srch: Searcher, c: Chunk) -> None:
    st.subheader(md_escape(_chunk_label(c)))
    meta = [" › ".join(c.heading_path)] + [x for x in (c.status, f"版本 {c.version}" if c.version else "") if x]
    st.caption(md_escape(" ｜ ".join(m for m in meta if m)))
    st.html(text_block(highlight(c.text)))
    refs = srch.references(c)
    if refs:
        st.markdown("**本条提到的条文**")
        for r in refs:
            with st.expander(md_escape(_chunk_label(r))):
                st.html(text_block(highlight(r.text)))
    citers = srch.cited_by(c)
    st.markdown(f"**引用本条的内容**（{len(citers)} 处）")
    if not citers:
        st.caption("语料中没有其他条文或文章段落引用本条。")
    for other in citers:
        kind = "法条" if other.kind == "statute" else ("上传的文档" if other.collection == "user" else "文章")
        with st.expander(md_escape(f"{kind}：{_chunk_label(other)}")):
            if other.heading_path and other.kind != "statute":
                st.caption(md_escape(" › ".join(other.heading_path)))
            st.html(text_block(highlight(other.text, mention_spans(srch, other, c))))


def _documents(srch: Searcher) -> None:
    docs: dict[str, list[Chunk]] = {}
    for c in srch.chunks:
        if c.kind == "article":
            docs.setdefault(c.title, []).append(c)
    if not docs:
        st.info("索引里没有文章。可以在“添加文档”页上传。")
        return
    user = {t for t, cs in docs.items() if cs[0].collection == "user"}
    title = st.selectbox("文章", list(docs), key="lq_browse_doc",
                         format_func=lambda t: f"{t}（上传）" if t in user else t)
    groups = outline(docs[title])
    chosen = st.selectbox("章节", [ALL, *map(_path_label, groups)], key=f"lq_browse_sec_{title}")
    st.subheader(md_escape(title))
    meta = docs[title][0].meta
    extra = [f"{k}：{meta[k]}" for k in ("author", "date") if meta.get(k)]
    st.caption(md_escape(" ｜ ".join(extra + [f"来源文件 {docs[title][0].source}"])))
    for p, passages in groups.items():
        if chosen != ALL and _path_label(p) != chosen:
            continue
        if p:
            st.markdown("**" + md_escape(_path_label(p)) + "**")
        for c in passages:
            st.html(text_block(highlight(c.text)))


def page() -> None:
    st.title("📖 浏览语料")
    srch = resources.require_searcher()
    if srch is None:
        return
    n_statutes = sum(c.kind == "statute" for c in srch.chunks)
    st.caption(f"{len(srch.laws)} 部法律、{n_statutes} 条法条，以及 {len(srch.chunks) - n_statutes} 个文章段落。")
    mode = st.radio("浏览", ["法律法规", "文章与上传的文档"], horizontal=True, key="lq_browse_mode",
                    label_visibility="collapsed")
    if mode == "法律法规":
        _statute(srch)
    else:
        _documents(srch)
