"""The eval page: the latest report written by `legalqa eval`, or a run over any system's answers.

The runner for answers files lives in ui/answers_eval.py. The report view shows what the report has: ``metrics`` (flat, or one dict per split), the
gate's verdict, per-topic / per-style tables, per-question rows, and every PNG
chart next to the report. Nothing here computes a metric.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import streamlit as st
from legalqa.ui import answers_eval
from legalqa.ui.render import md_escape

from legalqa.config import PROJECT

DEFAULT_REPORT = PROJECT / "eval" / "out" / "report.json"
HEADLINE = {
    "citation_recall": "引用召回率",
    "citation_precision": "引用准确率",
    "citation_f1": "引用 F1",
    "quote_fidelity": "引文忠实度",
    "hit@5": "前 5 条命中率",
    "mrr@10": "MRR@10",
    "abstention_recall": "超范围问题拒答率",
    "false_abstention_rate": "误拒答率",
    "latency_p50_ms": "延迟中位数（毫秒）",
}
SPLITS = {"all": "全部", "heldout": "留出集（heldout）", "tune": "调参集（tune）"}
ROW_COLUMNS = ("id", "split", "topic", "style", "question", "abstained", "expected", "got", "missed", "wrong")


def report_path() -> Path:
    """$LEGALQA_EVAL_REPORT, or eval/out/report.json in the project."""
    env = os.environ.get("LEGALQA_EVAL_REPORT")
    return Path(env).expanduser() if env else DEFAULT_REPORT


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _fmt(name: str, value: float) -> str:
    if name.endswith("_ms"):
        return f"{value:.0f}"
    if isinstance(value, float) and 0.0 <= value <= 1.0:
        return f"{value:.1%}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _metric_block(metrics: dict) -> None:
    shown = [(k, HEADLINE[k]) for k in HEADLINE if _is_number(metrics.get(k))]
    if not shown:  # an unfamiliar report: headline whatever numbers it has
        shown = [(k, k) for k, v in metrics.items() if _is_number(v)][:8]
    for i in range(0, len(shown), 4):
        for col, (key, label) in zip(st.columns(4), shown[i : i + 4], strict=False):
            col.metric(md_escape(label), _fmt(key, metrics[key]), help=md_escape(key))
    rows = [{"指标": k, "数值": v} for k, v in metrics.items() if _is_number(v)]
    with st.expander("全部指标"):
        st.dataframe(rows, hide_index=True, width="stretch")


def _metrics(metrics: dict) -> None:
    splits = {k: v for k, v in metrics.items() if isinstance(v, dict)}
    if not splits:
        _metric_block(metrics)
        return
    names = list(splits)
    for tab, name in zip(st.tabs([SPLITS.get(n, n) for n in names]), names, strict=True):
        with tab:
            _metric_block(splits[name])


def _table(title: str, groups: dict) -> None:
    rows = []
    for group, values in groups.items():
        if isinstance(values, dict):
            rows.append({"分组": group} | {HEADLINE.get(k, k): v for k, v in values.items() if _is_number(v)})
    if rows:
        st.subheader(title)
        st.dataframe(rows, hide_index=True, width="stretch")


def _rows(rows: list) -> None:
    table = []
    for r in rows:
        if isinstance(r, dict):
            table.append({k: ("、".join(map(str, r[k])) if isinstance(r[k], list) else r[k])
                          for k in ROW_COLUMNS if k in r})
    if table:
        with st.expander(f"逐题结果（{len(table)} 题）"):
            st.dataframe(table, hide_index=True, width="stretch")


VIEWS = ("查看 legalqa eval 的报告", "评测任何系统的回答")


def page() -> None:
    st.title("📊 评测")
    view = st.radio("要做什么", VIEWS, horizontal=True, key="lq_eval_view", label_visibility="collapsed")
    if view == VIEWS[1]:
        answers_eval.view()
    else:
        report_view()


def report_view() -> None:
    """The latest report written by `legalqa eval`, with its charts."""
    path = report_path()
    if not path.is_file():
        st.info(
            "还没有评测报告。在项目目录运行 `legalqa eval`（或 `make eval`）生成，"
            "报告会写到 `eval/out/report.json`；也可以用环境变量 `LEGALQA_EVAL_REPORT` 指定报告文件。",
            icon="📝",
        )
        st.caption(md_escape(f"查找的位置：{path}"))
        return
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        st.error(md_escape(f"评测报告 {path} 无法读取（{exc}）；请重新运行 legalqa eval。"))
        return
    if not isinstance(report, dict):
        st.error(md_escape(f"评测报告 {path} 的格式不对：应是一个 JSON 对象。"))
        return
    meta = report.get("meta") if isinstance(report.get("meta"), dict) else {}
    when = meta.get("finished_at") or time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
    facts = [f"{path}", f"生成于 {when}"] + [f"{label} {meta[k]}" for k, label in
                                             (("n_questions", "题数"), ("model", "模型"), ("commit", "提交")) if meta.get(k)]
    st.caption(md_escape(" ｜ ".join(map(str, facts))))
    gate = report.get("gate")
    if isinstance(gate, dict):
        failures = gate.get("failures") or []
        if failures:
            st.error("未达到质量门槛：\n\n" + "\n".join("- " + md_escape(f) for f in failures))
        else:
            st.success("所有质量门槛均已达到。")
    metrics = report.get("metrics")
    if isinstance(metrics, dict) and metrics:
        st.subheader("指标")
        _metrics(metrics)
    else:
        st.warning("报告里没有 metrics 一项。")
    charts = sorted(path.parent.glob("*.png"))
    if charts:
        st.subheader("图表")
        for chart in charts:
            st.image(str(chart), caption=md_escape(chart.name))
    for key, title in (("by_topic", "按主题"), ("by_style", "按提问方式")):
        if isinstance(report.get(key), dict):
            _table(title, report[key])
    if isinstance(report.get("rows"), list):
        _rows(report["rows"])
    with st.expander("完整报告（JSON）"):
        st.json(report, expanded=False)
