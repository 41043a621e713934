"""The evaluation page's runner: upload any system's answers, score every citation, see and download the report.

A face over eval/answers.py and eval/answers_report.py (the same calls as
`legalqa eval --answers`): nothing here checks a citation or computes a rate.
Everything that comes from the uploaded file is shown through ``md_escape`` or
the ``*_html`` builders.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import streamlit as st
from legalqa.eval import answers_report
from legalqa.eval.answers import CATEGORIES, CATEGORY_LABELS, AnswersDataError, parse_answers
from legalqa.ingest.crosscheck import QuoteCheck
from legalqa.ui import resources
from legalqa.ui.render import md_escape, official_html, quote_html, text_block

from legalqa.config import PROJECT

SAMPLE = PROJECT / "eval" / "examples" / "answers.jsonl"
REPORT = "lq_eval_answers_report"
CHART = "lq_eval_answers_chart"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _interval(ci: Any) -> str:
    return "—" if not ci else f"{ci[0]:.1%}–{ci[1]:.1%}"


def _old_report(upload) -> dict | None:
    """The earlier report to compare with, or None; AnswersDataError when it is not one."""
    if upload is None:
        return None
    try:
        old = json.loads(upload.getvalue().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise AnswersDataError(f"{upload.name} 不是合法的 report.json（{exc}）") from None
    answers_report.check_report(old, upload.name)
    return old


def _run(data: bytes, name: str, compare_upload) -> None:
    srch = resources.require_searcher()
    if srch is None:
        return
    try:
        items = parse_answers(data, name, srch.aliases)
        old = _old_report(compare_upload)
    except AnswersDataError as exc:
        st.error(md_escape(str(exc)), icon="✍️")
        st.session_state.pop(REPORT, None)
        return
    bar = st.progress(0.0, text=f"正在核对 {len(items)} 条回答的引用…")
    report = answers_report.build(
        items, srch, answers_path=name, command="页面：评测回答", compare=old,
        on_progress=lambda done, total: bar.progress(done / total, text=f"已核对 {done}/{total} 条回答"),
    )
    bar.progress(1.0, text=f"完成：{len(items)} 条回答，用时 {report['meta']['runtime_s']} 秒")
    st.session_state[REPORT] = report
    with tempfile.TemporaryDirectory() as tmp:  # drawn once per report, not on every rerun of the page
        st.session_state[CHART] = answers_report.plot(report, Path(tmp) / answers_report.CHART).read_bytes()


def _summary(report: dict) -> None:
    summary = report["summary"]
    cols = st.columns(4)
    cols[0].metric("回答", summary["n_answers"])
    cols[1].metric("引用", summary["n_citations"])
    cols[2].metric("没有问题的回答", _pct(summary["clean"]["rate"]), help=_interval(summary["clean"]["ci95"]))
    if summary.get("n_with_expected"):
        cols[3].metric("引用召回率（条）", _pct(summary.get("citation_recall")),
                       help=f"有标准答案的 {summary['n_with_expected']} 条回答")
    rows = [{"问题类别": CATEGORY_LABELS[c], "类别代码": c, "有此问题的回答": summary["categories"][c]["answers"],
             "比例": _pct(summary["categories"][c]["rate"]), "95% 区间": _interval(summary["categories"][c]["ci95"]),
             "问题数": summary["categories"][c]["findings"]} for c in CATEGORIES]
    st.dataframe(rows, hide_index=True, width="stretch")
    if summary.get("n_with_expected"):
        st.dataframe([
            {"层级": level, "召回率": _pct(summary.get(p + "recall")), "召回率 95% 区间": _interval(summary.get(p + "recall_ci95")),
             "准确率": _pct(summary.get(p + "precision")),
             "准确率 95% 区间": _interval(summary.get(p + "precision_ci95"))}
            for level, p in (("条", "citation_"), ("款", "para_citation_"))
        ], hide_index=True, width="stretch")
    if st.session_state.get(CHART):
        st.image(st.session_state[CHART], caption="各类问题在回答中所占比例（95% 区间）")


def _quote_check(evidence: dict) -> QuoteCheck:
    """A finding's evidence as the QuoteCheck it was made from (crosscheck's own reader)."""
    return QuoteCheck.from_dict({"status": "differs", "similarity": evidence.get("similarity", 0.0),
                                 "differences": evidence.get("differences", ()),
                                 "matched_official": evidence.get("official", "")})


def _finding(f: dict) -> None:
    where = f"（原文写作“{f['raw']}”）" if f["raw"] else ""
    st.markdown(md_escape(f"{CATEGORY_LABELS[f['category']]}：{f['citation']}{where}"))
    lines = [f["detail"]] if f.get("detail") else []
    lines += [d["text"] for d in f["evidence"].get("differences", [])]
    for line in lines:
        st.markdown("- " + md_escape(line))
    ev = f["evidence"]
    if ev.get("quote") and ev.get("official"):
        check = _quote_check(ev)
        left, right = st.columns(2)
        with left:
            st.caption("法条原文（标红的是回答里没有或不同的字）")
            st.html(text_block(official_html(check)))
        with right:
            st.caption("回答给出的文字（标红的是法条里没有或不同的字）")
            st.html(text_block(quote_html(ev["quote"], check)))


def _failing(report: dict) -> None:
    failing = [r for r in report["answers"] if r["findings"]]
    st.subheader(f"有问题的回答（{len(failing)} / {len(report['answers'])}）")
    if not failing:
        st.success("每条回答的引用都核对无误。")
    for r in failing:
        kinds = "、".join(dict.fromkeys(CATEGORY_LABELS[f["category"]] for f in r["findings"]))
        with st.expander(md_escape(f"{r['id']}：{kinds}" + (f"（{r['question']}）" if r["question"] else ""))):
            for f in r["findings"]:
                _finding(f)


def _show(report: dict) -> None:
    st.caption(md_escape(f"{report['meta']['answers']} ｜ {report['meta']['finished_at']} ｜ "
                         f"索引 {report['meta']['index']}（{report['meta']['laws_held']} 部法律）"))
    _summary(report)
    if report.get("compare"):
        st.subheader("与之前的报告比较")
        st.text(answers_report.render_compare(report["compare"]))
    _failing(report)
    left, right = st.columns(2)
    left.download_button("下载 report.json", json.dumps(report, ensure_ascii=False, indent=1),
                         file_name="report.json", mime="application/json", key="lq_eval_answers_json")
    right.download_button("下载 report.md", answers_report.render_markdown(report), file_name="report.md",
                          mime="text/markdown", key="lq_eval_answers_md")


def view() -> None:
    st.markdown(
        "上传任何系统（例如大模型法律助手）写的回答，逐条核对其中引用的法条：这一条是否存在、"
        "引文是不是法条原文、法律是否已废止、款项是否正确；给出标准答案时还计算召回率和准确率。"
        "文件格式见 docs/evaluating-answers.md。"
    )
    upload = st.file_uploader("回答文件（.jsonl 或 .csv，每条至少有 id 和 answer）", type=["jsonl", "csv"],
                              key="lq_eval_answers_file")
    compare = st.file_uploader("（可选）之前下载的 report.json，用来比较", type=["json"], key="lq_eval_compare_file")
    left, right = st.columns(2)
    if left.button("评测上传的文件", type="primary", key="lq_eval_answers_go", disabled=upload is None):
        _run(upload.getvalue(), upload.name, compare)
    if right.button("评测示例文件（eval/examples/answers.jsonl）", key="lq_eval_answers_sample"):
        _run(SAMPLE.read_bytes(), SAMPLE.name, compare)
    report = st.session_state.get(REPORT)
    if report is not None:
        _show(report)
