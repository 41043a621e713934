"""The report of `legalqa eval --answers`: build it, compare two, and write report.json, report.md and a chart.

``build`` is the one entry point for the CLI and the page: answers in, the full report dict
out (meta, summary, every answer with its findings). ``write`` puts the files in place
whole or not at all.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from legalqa.eval.answers import (
    CATEGORIES,
    CATEGORY_LABELS,
    CONVENTIONS,
    AnswerItem,
    AnswersDataError,
    score_answers,
)
from legalqa.eval.report import fmt, fmt_interval, only_in_one, write_atomic
from legalqa.qa.lawinfo import statute_source

CHART = "categories.png"
RATE_METRICS = ("citation_recall", "citation_precision", "para_citation_recall", "para_citation_precision")


def build(
    items: Sequence[AnswerItem],
    searcher: Any,
    *,
    answers_path: str = "",
    command: str = "legalqa eval --answers",
    compare: dict[str, Any] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score ``items`` against the index behind ``searcher`` (a Searcher or any StatuteSource).

    ``compare`` is an earlier report dict (``load_report``); ``meta`` adds fields to the report's meta.
    """
    scored = score_answers(items, statute_source(searcher), on_progress)
    data = getattr(searcher, "data", None)
    manifest = getattr(data, "manifest", {}) or {}
    report: dict[str, Any] = {
        "meta": {
            "kind": "answers",
            "command": command,
            "answers": answers_path,
            "n_answers": len(items),
            "index": str(getattr(data, "path", "")),
            "index_built_at": manifest.get("built_at"),
            "corpus_hash": manifest.get("corpus_hash"),
            "laws_held": len(searcher.laws),
            "runtime_s": scored["runtime_s"],
            "finished_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "categories": CATEGORY_LABELS,
            "conventions": CONVENTIONS,
            **(meta or {}),
        },
        "summary": scored["summary"],
        "answers": scored["answers"],
    }
    if compare is not None:
        report["compare"] = compare_reports(compare, report)
    return report


def load_report(path: str | Path) -> dict[str, Any]:
    """An earlier answers report.json, checked to be one."""
    path = Path(path)
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AnswersDataError(f"找不到要比较的报告 {path}：请给出之前用 --answers 写出的 report.json") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AnswersDataError(f"{path} 不是合法的 report.json（{exc}）") from None
    check_report(old, str(path))
    return old


def check_report(old: Any, name: str) -> None:
    """Raise AnswersDataError unless ``old`` has what a comparison reads: per-answer ids and findings, a summary."""
    if not isinstance(old, dict) or not isinstance(old.get("meta"), dict) or old["meta"].get("kind") != "answers" \
            or not isinstance(old.get("answers"), list):
        raise AnswersDataError(
            f"{name} 不是 `legalqa eval --answers` 写出的报告（没有 meta.kind = answers）：请给出用 --answers 写出的 report.json"
        )
    rows_ok = all(isinstance(r, dict) and "id" in r and isinstance(r.get("findings"), list)
                  and all(isinstance(f, dict) and "category" in f and "citation" in f for f in r["findings"])
                  for r in old["answers"])
    summary = old.get("summary")
    if not rows_ok or not isinstance(summary, dict) or not isinstance(summary.get("clean"), dict):
        raise AnswersDataError(
            f"{name} 缺少比较所需的字段（answers[].id、answers[].findings、summary.clean）：它可能被改过，"
            "或来自不兼容的版本；请用当前的 legalqa eval --answers 重新生成"
        )


# --- comparison -----------------------------------------------------------------------------------


def _headline(summary: dict[str, Any]) -> dict[str, Any]:
    out = {"clean_rate": summary["clean"].get("rate")}
    # An older report may lack a category added since: its rate is unknown, not an error.
    out |= {f"{cat}_rate": (summary.get("categories") or {}).get(cat, {}).get("rate") for cat in CATEGORIES}
    out |= {m: summary.get(m) for m in RATE_METRICS}
    return out


def compare_reports(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Per-answer changes in findings, and the summary figures that moved (old → new)."""
    check_report(old, "要比较的报告")
    old_rows = {r["id"]: r for r in old["answers"]}
    new_rows = {r["id"]: r for r in new["answers"]}
    changed = []
    for aid, row in new_rows.items():
        before = old_rows.get(aid)
        if before is None:
            continue
        was = Counter((f["category"], f["citation"]) for f in before["findings"])
        now = Counter((f["category"], f["citation"]) for f in row["findings"])
        added, removed = sorted((now - was).elements()), sorted((was - now).elements())
        if added or removed:
            total_was, total_now = sum(was.values()), sum(now.values())
            verdict = "better" if total_now < total_was else "worse" if total_now > total_was else "changed"
            changed.append({"id": aid, "verdict": verdict, "added": [list(f) for f in added],
                            "removed": [list(f) for f in removed]})
    a, b = _headline(old["summary"]), _headline(new["summary"])
    return {
        "old": old.get("meta", {}).get("finished_at"),
        "old_answers": old.get("meta", {}).get("answers"),
        "summary": {k: [a.get(k), v] for k, v in b.items() if a.get(k) != v},
        "changed": changed,
        "only_old": sorted(set(old_rows) - set(new_rows)),
        "only_new": sorted(set(new_rows) - set(old_rows)),
    }


def render_compare(diff: dict[str, Any]) -> str:
    counts = Counter(c["verdict"] for c in diff["changed"])
    out = [f"Against the report of {diff['old']} ({diff.get('old_answers') or '?'}).",
           f"{len(diff['changed'])} answers changed: {counts['better']} with fewer findings, "
           f"{counts['worse']} with more, {counts['changed']} with different ones."]
    for k, (a, b) in diff["summary"].items():
        out.append(f"- {k}: {fmt(a)} → {fmt(b)}")
    order = {"worse": 0, "better": 1}
    for c in sorted(diff["changed"], key=lambda c: (order.get(c["verdict"], 2), c["id"])):
        parts = [f"+{cat} {cite}" for cat, cite in c["added"]] + [f"-{cat} {cite}" for cat, cite in c["removed"]]
        out.append(f"- [{c['verdict']}] {c['id']}: " + "; ".join(parts))
    return "\n".join(out + only_in_one(diff))


# --- text -----------------------------------------------------------------------------------------


def summary_table(summary: dict[str, Any]) -> str:
    """The per-category table: answers with a finding, their share with its 95% interval, findings."""
    lines = ["| category | 含义 | answers | rate | 95% CI | findings |", "|---|---|---|---|---|---|"]
    for cat in CATEGORIES:
        s = summary["categories"][cat]
        lines.append(f"| {cat} | {CATEGORY_LABELS[cat]} | {s['answers']} | {fmt(s['rate'])} | "
                     f"{fmt_interval(s['ci95'])} | {s['findings']} |")
    clean = summary["clean"]
    lines.append(f"| clean | 没有任何问题 | {clean['answers']} | {fmt(clean['rate'])} | "
                 f"{fmt_interval(clean['ci95'])} | — |")
    return "\n".join(lines)


def recall_table(summary: dict[str, Any]) -> str:
    lines = ["| level | recall | 95% CI | precision | 95% CI | answers (recall / precision) |", "|---|---|---|---|---|---|"]
    for level, prefix in (("article", "citation_"), ("款", "para_citation_")):
        lines.append(
            f"| {level} | {fmt(summary.get(prefix + 'recall'))} | {fmt_interval(summary.get(prefix + 'recall_ci95'))} "
            f"| {fmt(summary.get(prefix + 'precision'))} | {fmt_interval(summary.get(prefix + 'precision_ci95'))} "
            f"| {summary.get('n_' + prefix + 'recall', 0)} / {summary.get('n_' + prefix + 'precision', 0)} |"
        )
    return "\n".join(lines)


def finding_line(f: dict[str, Any]) -> str:
    """One finding in a line of Markdown: category, citation as written and where, why, and the diff."""
    where = f" “{f['raw']}”（第 {f['start']}–{f['end']} 字）" if f["raw"] is not None else ""
    why = f"：{f['detail']}" if f.get("detail") else ""
    diffs = [d["text"] for d in f["evidence"].get("differences", [])]
    quote = f["evidence"].get("quote") if f["category"] in ("misquote", "wrong_paragraph") else None
    if quote:
        diffs.insert(0, "引文“" + (quote if len(quote) <= 80 else quote[:80] + "……") + "”")
    tail = ("；" + "；".join(diffs)) if diffs else ""
    return f"- **{f['category']}** {f['citation']}{where}{why}{tail}"


def render_markdown(report: dict[str, Any]) -> str:
    meta, summary = report["meta"], report["summary"]
    out = [
        "# legalqa answers report",
        "",
        f"`{meta['command']}` — {meta['n_answers']} answers from `{meta['answers']}`, index `{meta['index']}` "
        f"({meta['laws_held']} laws), {meta['finished_at']}. Scoring took {meta['runtime_s']} s.",
        "",
        "**Every citation is checked against the official text in the index; no model judges anything.**",
        "",
        "## Findings per category",
        "",
        summary_table(summary),
        "",
        f"{summary['n_citations']} citations: "
        + ", ".join(f"{k} {v}" for k, v in sorted(summary["citation_statuses"].items())),
        "",
    ]
    if summary.get("n_with_expected"):
        out += ["## Citation recall and precision", "",
                f"Over the {summary['n_with_expected']} answers that give `expected`.", "", recall_table(summary), ""]
    failing = [r for r in report["answers"] if r["findings"]]
    out += ["## Answers with findings", ""]
    if not failing:
        out.append("None: every answer is clean.")
    for r in failing:
        out.append(f"### {r['id']}" + (f" — {r['question']}" if r["question"] else ""))
        out.append("")
        out += [finding_line(f) for f in r["findings"]]
        out.append("")
    clean = [r["id"] for r in report["answers"] if not r["findings"]]
    out += ["## Clean answers", "", ", ".join(clean) if clean else "None.", ""]
    if report.get("compare"):
        out += ["## Compared with an earlier report", "", render_compare(report["compare"]), ""]
    out += ["## Conventions", ""] + [f"- {c}" for c in meta["conventions"]] + [""]
    if meta.get("chart"):
        out += [f"![answers with a finding, per category]({meta['chart']})", ""]
    return "\n".join(out)


def print_summary(report: dict[str, Any], echo: Callable[[str], None] = print) -> None:
    summary = report["summary"]
    echo("")
    echo(f"{'category':<18}{'answers':>9}{'rate':>9}{'95% CI':>16}{'findings':>10}")
    rows = [(cat, summary["categories"][cat]) for cat in CATEGORIES]
    rows.append(("clean", {**summary["clean"], "findings": "—"}))
    for cat, s in rows:
        echo(f"{cat:<18}{s['answers']:>9}{fmt(s['rate']):>9}{fmt_interval(s['ci95']):>16}{s['findings']:>10}")
    if summary.get("n_with_expected"):
        echo("")
        echo(f"有标准答案的回答 {summary['n_with_expected']} 条：")
        for level, prefix in (("条", "citation_"), ("款", "para_citation_")):
            echo(f"  {level}级 召回 {fmt(summary.get(prefix + 'recall'))}（{fmt_interval(summary.get(prefix + 'recall_ci95'))}）"
                 f"  精确 {fmt(summary.get(prefix + 'precision'))}（{fmt_interval(summary.get(prefix + 'precision_ci95'))}）")
    echo("")
    echo(f"共 {summary['n_answers']} 条回答、{summary['n_citations']} 处引用，评分用时 {report['meta']['runtime_s']} 秒。")
    if report.get("compare"):
        echo("")
        echo(render_compare(report["compare"]))


# --- files ----------------------------------------------------------------------------------------


def plot(report: dict[str, Any], path: Path) -> Path:
    """A PNG of the share of answers with each category of finding, with 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = report["summary"]
    names = [*CATEGORIES, "clean"]
    stats = [summary["categories"][c] for c in CATEGORIES] + [summary["clean"]]
    rates = [s["rate"] or 0.0 for s in stats]
    low = [r - (s["ci95"] or (r, r))[0] for r, s in zip(rates, stats, strict=True)]
    high = [(s["ci95"] or (r, r))[1] - r for r, s in zip(rates, stats, strict=True)]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    colors = ["#9ca3af" if c == "not_in_index" else "#dc2626" for c in CATEGORIES] + ["#16a34a"]  # grey: unchecked, not wrong
    ax.barh(names, rates, xerr=[low, high], color=colors, capsize=3)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("share of answers (95% bootstrap interval)")
    ax.set_title(f"legalqa eval --answers: {summary['n_answers']} answers")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
    return path


def write(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write report.json, report.md and the chart (and compare.md) into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    chart = plot(report, out_dir / CHART)
    report["meta"]["chart"] = chart.name
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md", "png": chart}
    write_atomic(paths["json"], json.dumps(report, ensure_ascii=False, indent=1))
    write_atomic(paths["md"], render_markdown(report))
    if report.get("compare"):
        paths["compare"] = out_dir / "compare.md"
        write_atomic(paths["compare"], render_compare(report["compare"]) + "\n")
    return paths
