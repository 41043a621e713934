"""Eval output: report.json, report.md, the per-topic / per-split chart, and run-to-run comparison."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from legalqa.eval.run import why_failed

MATCHING_NOTE = (
    "Citations are matched exactly against the gold labels in the question file "
    "(canonical 《law》第X条[第X款]); no model judges whether an answer or a citation is right. "
    "引用与标准答案逐条精确比对，不由模型评判。"
)
CONVENTIONS = [
    "Citation recall / precision / F1 are computed per answer, then averaged (ALCE).",
    "Recall: over questions with expected citations; an abstention or an answer without statute "
    "citations has recall 0 and F1 0.",
    "Precision: over answers citing at least one statute (answerable or not); a citation counts as "
    "correct when it is in `expected` or `accept`. Abstentions do not enter precision; an out-of-scope "
    "question answered with citations has precision 0.",
    "款 level: a gold 第X款 is matched only by that 款; averaged over questions whose gold names a 款.",
    "款 hit: share of a question's gold 款 (and 项) that the answer quotes; 款 first: the first statute the "
    "answer quotes is a gold 款; both over questions whose gold names a 款 or 项, an abstention scores 0.",
    "Lead relevance: over answerable questions, the lead passage lies under the gold article_section, or "
    "there is no lead when the gold names none; lead rate: share of those answers with a lead.",
    "Retrieval (hit@k, recall@k, MRR@10): article level, over the searcher's top 10 (statutes and prose "
    "passages together, as the composer sees them); a hit counts when its statute article is expected.",
    "Quote fidelity: share of all quotes that qa.verify.self_check finds verbatim at their recorded span.",
    "Hallucinated citations: statute citations naming an article or 款 the index does not have.",
    "Abstention precision / recall: abstaining treated as predicting 'out of scope'.",
    "Latency: wall time of Composer.ask per question, including query embedding on the first pass.",
    "ci95: a 95% percentile bootstrap interval of the mean, resampling the split's questions 2,000 times "
    "(fixed seed); how far the figure could move with another draw of questions like these.",
]
SUMMARY_METRICS = (
    "citation_recall", "citation_precision", "citation_f1", "para_citation_recall", "para_citation_precision",
    "para_hit", "para_first", "lead_relevance", "lead_rate",
    "hit@1", "hit@5", "recall@5", "mrr@10", "quote_fidelity", "hallucinated_citations", "self_check_failures",
    "abstention_precision", "abstention_recall", "false_abstention_rate", "section_recall",
    "latency_p50_ms", "latency_p95_ms",
)
CHART_METRICS = ("citation_recall", "citation_precision", "hit@5", "abstention_recall")


def fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


INTERVALS = ("citation_recall_ci95", "citation_precision_ci95")


def fmt_interval(value: Any) -> str:
    """A bootstrap interval as "0.743–0.903" ("n/a" when undefined)."""
    return "n/a" if not value else f"{value[0]:.3f}–{value[1]:.3f}"


def worst(rows: list[dict], n: int = 10) -> list[tuple[float, dict, str]]:
    scored = [(*why_failed(r), r) for r in rows]
    bad = [(b, r, why) for b, why, r in scored if b > 0]
    return sorted(bad, key=lambda t: (-t[0], -len(t[1]["wrong"]), t[1]["id"]))[:n]


def metrics_table(per_split: dict[str, dict]) -> str:
    splits = list(per_split)
    lines = ["| metric | " + " | ".join(splits) + " |", "|---|" + "---|" * len(splits)]
    for m in SUMMARY_METRICS:
        lines.append(f"| {m} | " + " | ".join(fmt(per_split[s].get(m)) for s in splits) + " |")
    for m in INTERVALS:
        lines.append(f"| {m} | " + " | ".join(fmt_interval(per_split[s].get(m)) for s in splits) + " |")
    lines.append("| questions | " + " | ".join(str(per_split[s]["n_questions"]) for s in splits) + " |")
    return "\n".join(lines)


def group_table(groups: dict[str, dict]) -> str:
    cols = ("n_questions", "citation_recall", "citation_precision", "citation_f1", "para_hit", "para_first",
            "lead_relevance", "hit@5", "abstention_recall")
    lines = ["| group | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for name, m in groups.items():
        lines.append(f"| {name} | " + " | ".join(fmt(m.get(c)) for c in cols) + " |")
    return "\n".join(lines)


def render_markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    out = [
        "# legalqa eval report",
        "",
        f"`{meta['command']}` — {meta['n_questions']} questions from `{meta['questions']}` "
        f"({meta['format']}, split {meta['split']}), index `{meta['index']}`, model `{meta['model']}`, "
        f"{meta['finished_at']}. Eval time {meta['runtime_s']} s (plus {meta['load_s']} s loading).",
        "",
        f"**{MATCHING_NOTE}**",
        "",
        "## Metrics",
        "",
        metrics_table(report["metrics"]),
        "",
    ]
    if report.get("gate"):
        gate = report["gate"]
        out += ["## Gate (eval/thresholds.toml)", "", "PASS" if not gate["failures"] else "FAIL:", ""]
        out += [f"- {f}" for f in gate["failures"]] + [""]
    if report.get("gold_problems"):
        out += ["## Gold citations the index cannot match", "",
                "These are kept in the eval (each is a guaranteed miss), not dropped:", ""]
        out += [f"- {p['source']}:{p['line']} {p['id']} {p['field']} {p['citation']}: {p['problem']}"
                for p in report["gold_problems"]] + [""]
    for note in meta.get("notes", []):
        out += [f"> {note}", ""]
    out += ["## Worst questions", ""]
    rows = worst(report["rows"])
    if not rows:
        out.append("Nothing failed.")
    for _bad, r, why in rows:
        out.append(f"1. **{r['id']}** ({r['split']}, {r['topic']}, {r['style']}) {r['question']}  ")
        out.append(f"   expected {', '.join(r['expected']) or '— (out of scope)'}; "
                   f"got {', '.join(r['got']) or ('abstained' if r['abstained'] else 'no statute')}  ")
        out.append(f"   why: {why}")
    out += ["", "## Per topic", "", group_table(report["by_topic"]), "", "## Per style", "",
            group_table(report["by_style"]), ""]
    if report.get("retrieval_ablation"):
        from legalqa.eval.ablation import render_ablation

        out += ["## Retrieval ablation", "", render_ablation(report["retrieval_ablation"]), ""]
    if report.get("anchor"):
        a = report["anchor"]
        splits = list(a["metrics"])
        out += [f"## Anchor: {a['system']} {a['version']} on the same questions (its top {a['depth']}, article level)", "",
                "| metric | " + " | ".join(splits) + " |", "| --- |" + " --- |" * len(splits)]
        for m in ("hit@1", "hit@5", "recall@5", "mrr@10", "n_retrieval"):
            out.append(f"| {m} | " + " | ".join(fmt(a["metrics"][s].get(m)) for s in splits) + " |")
        out.append("")
    if report.get("compare"):
        out += ["## Compared with an earlier report", "", render_compare(report["compare"]), ""]
    out += ["## Conventions", ""] + [f"- {c}" for c in CONVENTIONS] + [""]
    if meta.get("chart"):
        out += [f"![metrics per topic and split]({meta['chart']})", ""]
    return "\n".join(out)


def plot(report: dict[str, Any], path: Path) -> Path:
    """A PNG with two panels: chart metrics per split, and per topic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels = [("per split", report["metrics"]), ("per topic", report["by_topic"])]
    fig, axes = plt.subplots(1, 2, figsize=(15, 5), gridspec_kw={"width_ratios": [1, 3]})
    for ax, (title, groups) in zip(axes, panels, strict=True):
        names = list(groups)
        x = np.arange(len(names))
        width = 0.8 / len(CHART_METRICS)
        for i, metric in enumerate(CHART_METRICS):
            vals = [groups[n].get(metric) for n in names]
            ax.bar(x + i * width - 0.4 + width / 2, [np.nan if v is None else v for v in vals], width, label=metric)
        ax.set_xticks(x, names, rotation=30, ha="right")
        ax.set_ylim(0, 1.05)
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(loc="lower left", fontsize=8)
    fig.suptitle("legalqa eval")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# --- comparison -----------------------------------------------------------------------------

def compare_reports(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Per-question and overall differences between two report.json dicts (old → new)."""
    old_rows = {r["id"]: r for r in old.get("rows", [])}
    new_rows = {r["id"]: r for r in new.get("rows", [])}
    changed = []
    for qid, n in new_rows.items():
        o = old_rows.get(qid)
        if o is None:
            continue
        diff = {}
        if o["abstained"] != n["abstained"]:
            diff["abstained"] = [o["abstained"], n["abstained"]]
        if o["got"] != n["got"]:
            diff["got"] = {"removed": [c for c in o["got"] if c not in n["got"]],
                           "added": [c for c in n["got"] if c not in o["got"]]}
        for m in ("recall", "precision"):
            if o["scores"].get(m) != n["scores"].get(m):
                diff[m] = [o["scores"].get(m), n["scores"].get(m)]
        if diff:
            verdict = _verdict(o, n)
            changed.append({"id": qid, "question": n["question"], "split": n.get("split"), "verdict": verdict,
                            "diff": diff})
    metric_delta = {}
    for split, m in new.get("metrics", {}).items():
        om = old.get("metrics", {}).get(split, {})
        metric_delta[split] = {k: [om.get(k), v] for k, v in m.items()
                               if k in SUMMARY_METRICS and om.get(k) != v}
    return {
        "old": old.get("meta", {}).get("finished_at"),
        "metrics": metric_delta,
        "changed": changed,
        "only_old": sorted(set(old_rows) - set(new_rows)),
        "only_new": sorted(set(new_rows) - set(old_rows)),
    }


def _score(row: dict) -> float:
    if not row["answerable"]:
        return 1.0 if row["abstained"] else 0.0
    return row["scores"].get("f1") or 0.0


def _verdict(old: dict, new: dict) -> str:
    a, b = _score(old), _score(new)
    return "better" if b > a else "worse" if b < a else "changed"


def render_compare(diff: dict[str, Any]) -> str:
    out = [f"Against the report of {diff['old']}."]
    counts = {v: sum(1 for c in diff["changed"] if c["verdict"] == v) for v in ("better", "worse", "changed")}
    out.append(f"{len(diff['changed'])} questions changed: {counts['better']} better, {counts['worse']} worse, "
               f"{counts['changed']} changed without a score change.")
    for split, deltas in diff["metrics"].items():
        if deltas:
            out.append(f"- {split}: " + ", ".join(f"{k} {fmt(a)} → {fmt(b)}" for k, (a, b) in deltas.items()))
    for c in sorted(diff["changed"], key=lambda c: ({"worse": 0, "better": 1}.get(c["verdict"], 2), c["id"])):
        parts = []
        d = c["diff"]
        if "abstained" in d:
            parts.append("now abstains" if d["abstained"][1] else "no longer abstains")
        if "got" in d:
            if d["got"]["added"]:
                parts.append("+" + "、".join(d["got"]["added"]))
            if d["got"]["removed"]:
                parts.append("-" + "、".join(d["got"]["removed"]))
        for m in ("recall", "precision"):
            if m in d:
                parts.append(f"{m} {fmt(d[m][0])} → {fmt(d[m][1])}")
        out.append(f"- [{c['verdict']}] {c['id']} {c['question']}: " + "; ".join(parts))
    return "\n".join(out + only_in_one(diff))


def only_in_one(diff: dict[str, Any]) -> list[str]:
    """The lines naming the ids that only one of two compared reports has."""
    out = []
    if diff["only_old"]:
        out.append(f"- only in the old report: {', '.join(diff['only_old'])}")
    if diff["only_new"]:
        out.append(f"- only in the new report: {', '.join(diff['only_new'])}")
    return out


def write(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write report.json, report.md and metrics.png into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    chart = plot(report, out_dir / "metrics.png")
    report["meta"]["chart"] = chart.name
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md", "png": chart}
    write_atomic(paths["json"], json.dumps(report, ensure_ascii=False, indent=1, default=_json_default))
    write_atomic(paths["md"], render_markdown(report))
    if report.get("compare"):
        paths["compare"] = out_dir / "compare.md"
        write_atomic(paths["compare"], render_compare(report["compare"]) + "\n")
    return paths


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over: a crash never leaves half a report."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
