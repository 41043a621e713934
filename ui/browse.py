"""The browse page: find a law by name, then its outline (编/章/节 → 条), each article in full, and who cites it.

With the statute library the index holds hundreds of laws, some in several versions: the list
says each law's status, versions and articles, and a repealed or historical version is browsed
on its own, apart from the text in force.
"""

from __future__ import annotations

import streamlit as st
from legalqa.index.search import Searcher
from legalqa.ingest.citations import find_citations
from legalqa.ingest.models import NOT_IN_FORCE, Chunk
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


IN_FORCE_TEXT = "现行文本"


def texts_of(srch: Searcher) -> dict[str, dict[tuple[str, str], list[Chunk]]]:
    """law -> its texts: the text in force (any in-force version, key ``(IN_FORCE_TEXT, "")``), then each
    repealed or historical version (key ``(version, status)``), newest first; each a list of article chunks."""
    out: dict[str, dict[tuple[str, str], list[Chunk]]] = {}
    for c in srch.chunks:
        if c.kind == "statute" and c.provenance == "official" and c.law:
            key = (c.version, c.status) if c.status in NOT_IN_FORCE else (IN_FORCE_TEXT, "")
            out.setdefault(c.law, {}).setdefault(key, []).append(c)
    return {law: dict(sorted(texts.items(), key=lambda kv: (kv[0][0] != IN_FORCE_TEXT, _newest(kv[0][0]))))
            for law, texts in out.items()}


def _newest(version: str) -> str:
    return "".join(chr(0x10FFFF - ord(ch)) for ch in version)  # sorts newest first


def _text_label(key: tuple[str, str], chunks: list[Chunk]) -> str:
    version, status = key
    if version == IN_FORCE_TEXT:
        versions = sorted({c.version for c in chunks if c.version}, reverse=True)
        return f"{IN_FORCE_TEXT}（{'、'.join(versions) or '版本未注明'}，{len(chunks)} 条）"
    return f"{version}（{status}，{len(chunks)} 条）"


def matching_laws(srch: Searcher, query: str) -> list[str]:
    """The law ``query`` names (an alias: 个保法), then the laws whose name contains it (spaces ignored).

    All laws for an empty query.
    """
    want = "".join(query.split())
    if not want:
        return list(srch.laws)
    named = srch.aliases.resolve(want)
    first = [named] if named in srch.laws else []
    return first + [law for law in srch.laws if want in law and law not in first]


def _law_list(laws: list[str], texts: dict) -> None:
    rows = []
    for law in laws:
        for key, chunks in texts.get(law, {}).items():
            status = "、".join(sorted({c.status for c in chunks if c.status})) if key[1] == "" else key[1]
            version = "、".join(sorted({c.version for c in chunks if c.version}, reverse=True))
            rows.append({"法律": law, "版本": version, "状态": status, "条数": len(chunks)})
    with st.expander(f"法律列表（{len(laws)} 部，{len(rows)} 个文本）", expanded=False):
        st.dataframe(rows, hide_index=True, width="stretch")


def _statute(srch: Searcher) -> None:
    if not srch.laws:
        st.info("索引里没有法律条文。")
        return
    texts = texts_of(srch)
    query = st.text_input("查找法律", key="lq_browse_find", placeholder="输入名称的一部分，如“公司法”“民法典”")
    laws = matching_laws(srch, query)
    if not laws:
        st.info(md_escape(f"没有名称含“{query.strip()}”的法律。"))
        return
    _law_list(laws, texts)
    start = laws.index(MAIN_LAW) if MAIN_LAW in laws else 0
    law = st.selectbox("法律", laws, index=start, key="lq_browse_law")
    versions = texts.get(law, {})
    keys = list(versions)
    chosen = 0
    if len(keys) > 1:
        chosen = st.radio("文本", range(len(keys)), format_func=lambda i: _text_label(keys[i], versions[keys[i]]),
                          horizontal=True, key=f"lq_browse_text_{law}")
    key = keys[chosen] if keys else (IN_FORCE_TEXT, "")
    if key[1]:
        st.warning(md_escape(f"这是《{law}》{key[0]} 的文本，状态：{key[1]}。检索和回答默认不用它。"))
    groups = outline(versions.get(key, []))
    where = f"{law}" if chosen == 0 else f"{law}_{chosen}"
    left, right = st.columns([2, 3], gap="large")
    with left:
        sections = {_path_label(p): p for p in groups}
        label = st.selectbox("编 / 章 / 节", list(sections), key=f"lq_browse_path_{where}")
        articles = groups.get(sections.get(label, ()), [])
        row = st.radio("条文", range(len(articles)), format_func=lambda i: articles[i].label or "",
                       key=f"lq_browse_art_{where}_{list(sections).index(label)}")
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
    library = srch.data.manifest.get("library")
    source = "（含法规库）" if library else ""
    st.caption(f"{len(srch.laws)} 部法律{source}、{n_statutes} 条法条，以及 {len(srch.chunks) - n_statutes} 个文章段落。")
    mode = st.radio("浏览", ["法律法规", "文章与上传的文档"], horizontal=True, key="lq_browse_mode",
                    label_visibility="collapsed")
    if mode == "法律法规":
        _statute(srch)
    else:
        _documents(srch)
