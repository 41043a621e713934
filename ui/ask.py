"""The chat page: ask in plain words, read an answer made of quoted law, check every source."""

from __future__ import annotations

import logging

import streamlit as st
from legalqa.index.search import QueryError
from legalqa.index.store import IndexLoadError
from legalqa.qa.models import DISCLAIMER, Answer
from legalqa.qa.paragraphs import ParagraphModelError
from legalqa.qa.select import SelectorError
from legalqa.ui import resources
from legalqa.ui.render import (
    KIND_LABELS,
    answer_html,
    highlight,
    hit_rows,
    md_escape,
    source_cards,
    text_block,
)

log = logging.getLogger("legalqa.ui")

EXAMPLES = (
    "我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？",
    "老公背着我借的网贷，我要替他还吗？",
    "催收人员天天打电话骚扰我家人，合法吗？",
    "民法典第六百八十八条是怎么规定的？",
)
HISTORY = "lq_messages"
PENDING = "lq_pending"


def _queue(question: str) -> None:
    st.session_state[PENDING] = question


def _controls(laws: list[str]) -> dict:
    sb = st.sidebar
    sb.header("回答设置")
    k = sb.slider("检索来源数量", 1, 20, resources.settings().answer.k, key="lq_k",
                  help="回答前检索多少个法条或文章段落；引用从其中挑选。")
    chosen_laws = sb.multiselect("只看这些法律", laws, key="lq_laws", placeholder="全部法律")
    kinds = sb.multiselect("来源类型", list(KIND_LABELS), format_func=KIND_LABELS.get, key="lq_kinds",
                           placeholder="法条和文章")
    details = sb.toggle("显示检索详情", key="lq_details", help="向量、BM25 和融合分数，以及触发的查询扩展。")
    if sb.button("清空对话", key="lq_clear"):
        st.session_state[HISTORY] = []
    return {"k": k, "laws": tuple(chosen_laws), "kinds": tuple(kinds), "details": details}


def _intro() -> None:
    st.markdown(
        "用自己的话描述你遇到的情况。回答只由**法条原文**和**文章原文**的引用组成，"
        "每段引文后面的 [n] 对应下方“来源”里的出处，你可以逐条核对。资料不足时，系统会明说，不会猜测。"
    )
    st.caption("可以先试试这些问题：")
    for i, q in enumerate(EXAMPLES):
        st.button(q, key=f"lq_example_{i}", on_click=_queue, args=(q,), icon="💬")


def _sources(answer: Answer, expand_first: bool) -> None:
    def lookup(chunk_id: str) -> dict | None:
        # Only for a citation whose passage is not among the answer's hits, which the composer never makes.
        c = resources.searcher().chunk(chunk_id)
        if c is None:
            return None
        return {"text": c.text, "start": c.start, "citation": c.citation, "heading_path": c.heading_path,
                "collection": c.collection}

    cards = source_cards(answer, lookup)
    st.markdown("**来源**（点开查看出处和全文，黄色是引用的原文）")
    # The latest answer opens its first statute, so its full text is in view.
    opened = next((c for c in cards if c.kind == "statute"), cards[0] if cards else None) if expand_first else None
    for card in cards:
        label = f"{card.markers} {card.citation}"
        if card.collection == "user":
            label += "（上传的文档）"
        if card.notes:
            label += " ⚠️ 有文章对本条的引用与原文不符"
        with st.expander(md_escape(label), expanded=card is opened):
            if card.heading_path:
                st.caption(md_escape(" › ".join(card.heading_path)))
            for ci in card.citations:
                if ci.citation != card.citation:
                    st.caption(md_escape(f"[{ci.n}] 引用：{ci.citation}"))
            for note in card.notes:
                st.warning(md_escape(note), icon="⚠️")
            if card.text:
                st.html(text_block(highlight(card.text, card.spans)))
            else:
                st.caption("（这段来源的全文不在当前索引中）")


def _details(answer: Answer) -> None:
    with st.expander("检索详情"):
        if answer.expansions:
            st.markdown(md_escape("触发的查询扩展：" + "、".join(answer.expansions)))
        else:
            st.markdown("没有触发查询扩展。")
        ev = answer.evidence
        st.caption(md_escape(
            f"证据：最高向量相似度 {ev.get('top_dense', 0):.3f}，问题用词覆盖率 {ev.get('coverage', 0):.0%}，"
            f"问题指名的条文 {int(ev.get('named', 0))} 条；用时 {answer.timings.get('total_ms', 0):.0f} 毫秒"
        ))
        st.dataframe(hit_rows(answer.hits), hide_index=True, width="stretch")


def _render_answer(answer: Answer, details: bool, latest: bool) -> None:
    if answer.abstained:
        st.info(md_escape(f"系统没有作答（{answer.reason}）。"), icon="🙅")
    st.html(answer_html(answer))
    if not answer.abstained and answer.citations:
        _sources(answer, expand_first=latest)
    st.caption(DISCLAIMER)
    with st.expander("复制为 Markdown（连同引用）"):
        st.code(answer.markdown, language="markdown")
    if details:
        _details(answer)


def _render(m: dict, details: bool, latest: bool) -> None:
    with st.chat_message(m["role"]):
        if m["role"] == "user":
            st.markdown(md_escape(m["text"]))
        elif m.get("answer") is not None:
            _render_answer(m["answer"], details, latest)
        elif m.get("level") == "warning":
            st.warning(md_escape(m["text"]), icon="✍️")
        else:
            st.error(md_escape(m["text"]), icon="🚧")


def _answer(question: str, controls: dict) -> dict:
    try:
        answer = resources.ask(question, controls["k"], controls["laws"], controls["kinds"])
    except QueryError as exc:
        return {"role": "assistant", "level": "warning", "text": str(exc)}
    except IndexLoadError as exc:
        return {"role": "assistant", "level": "error", "text": f"索引无法使用：{exc}"}
    except SelectorError as exc:
        return {"role": "assistant", "level": "error", "text": f"引用选择模型无法使用：{exc}"}
    except ParagraphModelError as exc:
        return {"role": "assistant", "level": "error", "text": f"款项选择模型无法使用：{exc}"}
    except resources.AnswerCheckError as exc:
        log.error("answer failed self-check: %s", exc)
        return {"role": "assistant", "level": "error",
                "text": f"这次的回答没有通过引文自检，因此不显示（这是程序缺陷，请报告）：{exc}"}
    except Exception as exc:  # a bug: log it for developers, show one plain line instead of a traceback
        log.exception("ask failed")
        return {"role": "assistant", "level": "error", "text": f"出错了，请稍后再试（{type(exc).__name__}）"}
    return {"role": "assistant", "answer": answer}


def page() -> None:
    st.title("⚖️ 网贷与担保法律问答")
    srch = resources.require_searcher()
    if srch is None:
        return
    controls = _controls(srch.laws)
    history: list[dict] = st.session_state.setdefault(HISTORY, [])
    prompt = st.chat_input("用自己的话描述你的问题，例如：朋友借网贷让我担保，他不还钱怎么办？", key="lq_prompt")
    question = prompt if prompt is not None else st.session_state.pop(PENDING, None)
    if not history and question is None:
        _intro()
    for i, m in enumerate(history):
        _render(m, controls["details"], latest=question is None and i == len(history) - 1)
    if question is not None:
        _ask(question, history, controls)
    _copy_latest(history)


def _ask(question: str, history: list[dict], controls: dict) -> None:
    user = {"role": "user", "text": question}
    _render(user, controls["details"], latest=False)
    with st.spinner("正在检索法条和文章…"):
        reply = _answer(question, controls)
    history += [user, reply]
    _render(reply, controls["details"], latest=True)


def _copy_latest(history: list[dict]) -> None:
    latest = next((m["answer"] for m in reversed(history) if m.get("answer") is not None), None)
    if latest is None:
        return
    st.sidebar.divider()
    st.sidebar.caption("最新回答连同引用，Markdown 格式（右上角可复制）：")
    with st.sidebar.expander("复制最新回答"):
        st.code(latest.markdown, language="markdown")
    st.sidebar.download_button("下载最新回答（.md）", latest.markdown, file_name="legalqa-answer.md",
                               mime="text/markdown", key="lq_dl_latest")
