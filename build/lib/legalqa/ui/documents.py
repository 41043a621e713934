"""The "add documents" page: upload files into the user collection, see them, remove them.

Every change rebuilds the index (with a progress bar), so uploads are searched
beside the default corpus. The default corpus itself is never written to.
"""

from __future__ import annotations

import time

import streamlit as st

from legalqa import uploads
from legalqa.ingest.loaders import SUFFIXES
from legalqa.ui import resources
from legalqa.ui.render import md_escape

FLASH = "lq_upload_flash"  # messages to show after a rerun
ROUND = "lq_upload_round"  # bumping it gives the uploader a new key, which clears it


def _add(files) -> None:
    st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1
    try:
        results = uploads.add([(f.name, f.getvalue()) for f in files], resources.settings())
    except uploads.UploadError as exc:
        st.error(md_escape(str(exc)))
        return
    for r in results:
        (st.success if r.ok else st.warning if r.valid else st.error)(md_escape(r.message))
    if all(r.ok for r in results):
        resources.run_build()


def _remove(name: str) -> None:
    try:
        uploads.remove(name, resources.settings())
    except uploads.UploadError as exc:
        st.session_state[FLASH] = [("error", str(exc))]
        return
    ok = resources.run_build()
    st.session_state[FLASH] = [("success", f"已删除 {name}" + ("，索引已更新" if ok else "；索引更新失败，请重试"))]


def _size(n: int) -> str:
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def page() -> None:
    st.title("📎 添加文档")
    s = resources.settings()
    st.markdown(
        "上传你自己的资料（"
        + md_escape("、".join(SUFFIXES))
        + "）。它们放在单独的“用户文档”里，和内置语料一起检索；内置语料不会被修改。"
        "每次添加或删除后，索引会自动更新。"
    )
    for level, message in st.session_state.pop(FLASH, []):
        getattr(st, level)(md_escape(message))
    round_ = st.session_state.get(ROUND, 0)
    files = st.file_uploader("选择文件", type=[x.lstrip(".") for x in SUFFIXES], accept_multiple_files=True,
                             max_upload_size=uploads.MAX_BYTES // 2**20, key=f"lq_uploader_{round_}")
    if st.button("加入并更新索引", type="primary", disabled=not files, key="lq_upload_go"):
        _add(files)
    st.subheader("已上传的文档")
    docs = uploads.list_docs(s)
    if not docs:
        st.caption("还没有上传的文档。")
    for d in docs:
        left, mid, right = st.columns([6, 3, 1], vertical_alignment="center")
        left.markdown(md_escape(d.name))
        mid.caption(f"{_size(d.size)} ｜ {time.strftime('%Y-%m-%d %H:%M', time.localtime(d.modified))}")
        if right.button("删除", key=f"lq_rm_{d.name}"):
            _remove(d.name)
            st.rerun()
    with st.expander("索引状态"):
        try:
            srch = resources.searcher()
        except Exception as exc:  # shown, not raised: this panel is informational
            st.caption(md_escape(f"索引不可用：{exc}"))
            if st.button("建立索引", key="lq_docs_build"):
                resources.run_build()
        else:
            m = srch.data.manifest
            user = sum(c.collection == "user" for c in srch.chunks)
            st.caption(md_escape(
                f"共 {m.get('chunks')} 个段落，其中上传的文档 {user} 个；建立于 {m.get('built_at')}；模型 {m.get('model')}"
            ))
            for e in srch.data.report.get("errors", []):
                st.warning(md_escape(f"未能读取：{e}"))
