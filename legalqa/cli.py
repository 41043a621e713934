"""The `legalqa` command: ingest, search, ask, verify, eval, serve.

User-facing messages are Chinese; every failure is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from legalqa.config import Settings, load_settings
from legalqa.index.search import QueryError
from legalqa.index.store import IndexLoadError


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings().with_cli(getattr(args, "index", None), getattr(args, "model", None))


def cmd_ingest(args: argparse.Namespace) -> int:
    from legalqa import engine

    s = _settings(args)
    manifest, report = engine.build(s, args.paths or None, progress=not args.quiet)
    print(report.summary())
    print(f"索引已写入 {s.index_dir}（模型 {manifest['model']}，{manifest['dim']} 维，新嵌入 {manifest['embedded']} 块，"
          f"总用时 {manifest['build_seconds']:.2f} 秒）")
    # The index was written (build raises when nothing was readable); unreadable files still mean exit 1.
    return 1 if report.errors else 0


def _filters(args: argparse.Namespace) -> dict:
    out = {}
    if args.law:
        out["law"] = args.law
    if args.kind:
        out["kind"] = args.kind
    return out


def cmd_search(args: argparse.Namespace) -> int:
    from legalqa import engine

    result = engine.searcher(_settings(args)).run(args.query, args.k, _filters(args))
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if result.corrections:
        print("已按读音更正：" + "，".join(f"{c.written}→{c.meant}" for c in result.corrections))
    if result.expansion.rules:
        print(f"扩展词：{' '.join(result.expansion.terms)}（规则 {', '.join(result.expansion.rules)}）")
    for h in result.hits:
        flag = " [指名]" if h.exact else ""
        print(f"{h.rank}. {h.citation}{flag}  融合 {h.score:.4f}  向量 {h.dense_score or 0:.3f}  BM25 {h.bm25_score or 0:.2f}")
        print("   " + h.chunk.text.replace("\n", " ")[:160])
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from legalqa import engine
    from legalqa.qa.verify import self_check

    s = _settings(args)
    answer = engine.composer(s).ask(args.question)
    problems = self_check(answer, engine.searcher(s))
    if problems:  # a failed self-check is a bug: never print an unverified answer as if it were fine
        print("错误：答案自检失败（这是程序缺陷，请报告）：\n" + "\n".join(problems), file=sys.stderr)
        return 3
    print(answer.to_json() if args.json else answer.text)
    return 0


def _read_text_or_file(value: str) -> str:
    """The text itself, a file's text when ``value`` names one, or stdin for ``-``."""
    from legalqa.ingest.loaders import SUFFIXES, load_text

    if value == "-":
        return sys.stdin.read()
    looks_like_path = len(value) < 1024 and "\n" not in value and Path(value).suffix.lower() in SUFFIXES
    if looks_like_path:
        if not Path(value).exists():
            raise ValueError(f"文件不存在：{value}（要核验一段文字，请直接把文字作为参数，或用 - 从标准输入读取）")
        return load_text(value).text
    return value


def cmd_verify(args: argparse.Namespace) -> int:
    from legalqa import engine
    from legalqa.qa.verify import verify_text

    report = verify_text(_read_text_or_file(args.text), engine.searcher(_settings(args)))
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return 0
    labels = {"exact": "引文与原文一致", "differs": "引文与原文不同", "not_a_quote": "不是原文引用（概括/改写）",
              "no_quote": "条文存在，其后没有引文", "not_found": "语料中没有这一条", "unknown_law": "语料中没有这部法律",
              "wrong_paragraph": "款/项不对（超出本条款数，或引文是另一款）", "nonexistent": "这一条不存在（超出该法条文范围）",
              "repealed": "该法已废止或不是现行版本"}
    if not report.citations:
        print("没有找到法条引用。")
    for c in report.citations:
        print(f"{c.citation}（原文写作“{c.raw}”）：{labels[c.status]}")
        for d in c.check.differences if c.check is not None else ():
            print(f"    {d.describe()}")
    print("统计：" + "，".join(f"{labels[k]} {v}" for k, v in report.counts().items()))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from legalqa.qa.http import create_app

    uvicorn.run(create_app(_settings(args)), host=args.host, port=args.port, log_level="warning")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="legalqa", description="中文法律问答：检索、引用原文、核验引用。")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="读取语料并建立索引")
    p.add_argument("paths", nargs="*", help="文件或文件夹（默认：内置语料加上用户上传的文档）")
    p.add_argument("--index", help="索引文件夹（默认 .legalqa/index 或 $LEGALQA_INDEX）")
    p.add_argument("--model", help="sentence-transformers 模型名或本地路径")
    p.add_argument("-q", "--quiet", action="store_true", help="不显示进度条")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="检索法条和文章段落")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5, help="返回条数，1 到 100（默认 5）")
    p.add_argument("--law", action="append", help="只检索这部法律（可重复）")
    p.add_argument("--kind", choices=["statute", "article"], action="append", help="来源类型")
    p.add_argument("--json", action="store_true", help="输出 JSON（格式见 docs/search-json.md）")
    p.add_argument("--index")
    p.add_argument("--model")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="提问，得到引用法条原文的回答")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="输出结构化结果（JSON）")
    p.add_argument("--index")
    p.add_argument("--model")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("verify", help="核验一段文字或一个文件中的法条引用")
    p.add_argument("text", help="文字、文件路径，或 - 表示从标准输入读取")
    p.add_argument("--json", action="store_true")
    p.add_argument("--index")
    p.add_argument("--model")
    p.set_defaults(func=cmd_verify)

    from legalqa.eval.cli import add_parser as add_eval_parser  # the eval command lives in eval/

    add_eval_parser(sub)

    p = sub.add_parser("serve", help="启动 HTTP 接口（/search /ask /verify）")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--index")
    p.add_argument("--model")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (QueryError, IndexLoadError, ValueError, OSError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断；原有索引未被改动。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
