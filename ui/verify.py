"""The verify page: paste any text; every citation in it is checked for existence and exact wording."""

from __future__ import annotations

import streamlit as st
from legalqa.qa.verify import MAX_VERIFY_CHARS, VerifyReport
from legalqa.ui import resources
from legalqa.ui.render import (
    STATUS_LABELS,
    difference_lines,
    highlight,
    md_escape,
    official_html,
    quote_html,
    text_block,
)

# The seed article's quotation of 民法典第六百八十一条 (verbatim, it leaves words out), and an exact one.
EXAMPLE = (
    "《中华人民共和国民法典》第六百八十一条\n\n"
    "保证合同是为保障债权的实现,保证人和债权人约定,当债务人不履行到期债务时,保证人履行债务或者承担责任的合同。\n\n"
    "另外，《民法典》第六百八十八条第二款：“连带责任保证的债务人不履行到期债务或者发生当事人约定的情形时，"
    "债权人可以请求债务人履行债务，也可以请求保证人在其保证范围内承担保证责任。”"
)
TEXT = "lq_verify_text"
REPORT = "lq_verify_report"


def _fill_example() -> None:
    st.session_state[TEXT] = EXAMPLE
    st.session_state.pop(REPORT, None)


def _show(report: VerifyReport) -> None:
    if not report.citations:
        st.info("这段文字里没有找到法条引用（例如“《民法典》第六百八十一条”或“民法典第681条”）。")
        return
    counts = report.counts()
    cols = st.columns(min(len(counts), 4))
    for col, (status, n) in zip(cols, counts.items(), strict=False):
        col.metric(STATUS_LABELS[status], n)
    rows = [
        {
            "引用": c.citation,
            "原文写作": c.raw,
            "结果": STATUS_LABELS[c.status],
            "说明": c.detail(),
            "引文": c.quote or "",
            "差异": "；".join(difference_lines(c.check)),
        }
        for c in report.citations
    ]
    st.dataframe(rows, hide_index=True, width="stretch")
    for c in report.citations:
        if c.official is None:
            continue
        with st.expander(md_escape(f"{c.citation}：{STATUS_LABELS[c.status]}"), expanded=c.status in ("differs", "wrong_paragraph")):
            for line in difference_lines(c.check):
                st.markdown("- " + md_escape(line))
            if c.check is not None and c.check.matched_official:
                left, right = st.columns(2)
                with left:
                    st.caption("法条原文（标红的是引文里没有或不同的字）")
                    st.html(text_block(official_html(c.check)))
                with right:
                    st.caption("文中的引文（标红的是法条里没有或不同的字）")
                    st.html(text_block(quote_html(c.quote or "", c.check)))
            else:
                st.caption("法条原文")
                st.html(text_block(highlight(c.official)))


def page() -> None:
    st.title("🔎 核验引用")
    st.markdown(
        "粘贴任何文字，比如催收函、律师函或合同条款。这里会找出其中引用的每一条法律，"
        "检查这一条是否存在，以及引号里的话是不是法条原文。"
    )
    srch = resources.require_searcher()
    if srch is None:
        return
    st.button("填入示例（文章对民法典第六百八十一条的引用）", on_click=_fill_example, key="lq_verify_example")
    text = st.text_area("要核验的文字", key=TEXT, height=200, max_chars=MAX_VERIFY_CHARS,
                        placeholder="例如：根据《民法典》第六百八十一条规定：“……”")
    if st.button("核验", type="primary", key="lq_verify_go"):
        if not text or not text.strip():
            st.warning("请先粘贴要核验的文字。", icon="✍️")
            st.session_state.pop(REPORT, None)
        else:
            try:
                st.session_state[REPORT] = resources.current().verify(text)  # law facts derived once per index
            except ValueError as exc:
                st.warning(md_escape(str(exc)), icon="✍️")
                st.session_state.pop(REPORT, None)
    report = st.session_state.get(REPORT)
    if report is not None:
        _show(report)
