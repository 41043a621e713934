"""Statute parser: the official layout of a Chinese statute (.md or .txt) → ``Article`` records.

The layout (LawRefBook's, and this project's ``corpus/statutes``):

- optional YAML front matter (``title``, ``aliases``, ``version``, ``status``, ...);
- ``# 全名`` and an optional ``# 副标题`` (民法典 split per 编: ``# 合同编``), then a block
  of dates ending at ``<!-- INFO END -->``;
- headings for 编/分编/章/节. The parser reads a heading's words, not its number of
  ``#``; plain .txt files write them as lines of their own (``第一章 总则``);
- each article starts a line with ``第X条`` (or ``第X条之一``) and whitespace;
- 款 as separate lines (blank-line separated in Markdown), 项 as ``（一）…`` lines.

Decisions, so that every offset stays exact:

- Each non-blank line of an article is a 款, except 项 lines (``（一）``/``(一)``) and
  their 目 lines (``1．``/``（1）``/``①``), which belong to the 款 that introduces them.
  A 款 ``Span`` runs from its first line to its last 项/目 line, so its text is the
  exact source slice, blank lines between those lines included. ``Article.text`` is
  ``"\\n".join`` of the 款 texts: not itself a source slice (the source separates
  款 by blank lines); ``text[Article.start:Article.end]`` is the raw body.
- ``第X条`` starts an article only at the start of a line (after whitespace or
  ``**``) and only when followed by whitespace or the line end, so cross-references
  (``依照本法第十条规定``) and quoted amendment text (``“第十七条 …``) never split one.
- An article whose last 款 announces a text (``……内容如下：``) quotes what follows: the
  next ``第X条`` lines whose numbers do not continue the article's own (宪法修正案（2018年）
  第五十二条 prints the new 第一百二十三条–第一百二十七条 unquoted, after a plain
  ``第七节 监察委员会`` line) are 款 of that article, not articles, up to the next
  Markdown heading or the article that does continue the numbering.
- Not part of any article: HTML comments, the title/date block up to
  ``<!-- INFO END -->``, lines before the first article (preamble, 目录, 序言),
  footnotes (``① …``) and annexes (from a ``附件``/``附表``/``附：`` line to the next
  article or heading). A heading ends the article before it.
- Offsets index the text exactly as decoded; newlines are not translated.
- A number (with its 之X) that starts two articles is recorded in ``StatuteDoc.repeats``, with both
  line numbers, and ``check_unique`` refuses such a file as a statute: a citation must name one
  article. No official text repeats one (0 of the 1,430 files with articles in ../shared/laws, and 0
  of corpus/statutes, counted when this rule was made), so a repeat means two laws in one file, or an
  article or annex that quotes one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from legalqa.ingest.frontmatter import split_front_matter
from legalqa.ingest.models import Article, Span
from legalqa.ingest.numerals import cn_to_int

__all__ = [
    "StatuteDoc",
    "StatuteError",
    "check_unique",
    "announces_quote",
    "continues",
    "heading_level",
    "is_annex",
    "normalize_heading",
    "parse_statute",
    "plain_heading",
    "read_statute",
]

_NUM = r"[零〇一二两三四五六七八九十百千]+|[0-9０-９]+"
# 笫 (for 第) and a space before 条 are typos in official texts (农民专业合作社法 "笫五十四条",
# 刑事诉讼法 "第一百二十八 条侦查人员…"); the label is set right for them. Without that stray
# space the label must be followed by whitespace, so "第十条规定的……" is never an article.
_ARTICLE = re.compile(
    rf"[ \t\u3000]*(?:\*\*)?[第笫](?P<num>{_NUM})(?P<gap>[ \t\u3000]*)条"
    r"(?:之(?P<suffix>[一二三四五六七八九十]+))?(?:\*\*)?(?P<sep>\s|$)?"
)
_STRUCTURE = re.compile(rf"(?P<marker>第(?:{_NUM})(?P<kind>分编|编|章|节))(?P<title>.*)", re.S)
_LEVELS = {"编": 1, "分编": 2, "章": 3, "节": 4}
_TOP_WORDS = ("总则", "分则", "附则")
_MD_HEADING = re.compile(r"(#{1,6})(?!#)(.*)")
# A plain-text heading is a short line without sentence punctuation: "第一章 总则", not "第一章规定的…。".
_PLAIN_HEADING_MAX = 40
_SENTENCE_PUNCT = re.compile(r"[。；，：,;:！？]")
_ITEM = re.compile(r"[（(][一二三四五六七八九十]+[）)]")
_SUBITEM = re.compile(r"[0-9０-９]+(?:[.．](?![0-9０-９])|[、)）])|[（(][0-9０-９]+[)）]|[①-⑳]")
_FOOTNOTE = re.compile(r"[①-⑳]\s")
_ANNEX = re.compile(r"(?:\*\*)?附(?:件|表|录|图)?[一二三四五六七八九十0-9０-９]*(?:\*\*)?(?:[\s:：]|$)")
_RULE = re.compile(r"-{3,}|\*{3,}|_{3,}")
_TOC = "目录"
# A 款 that ends announcing a text: what follows it is quoted, even when printed without quotes.
_ANNOUNCE = re.compile(r"如下[：:]$")
_INFO_END = "<!-- INFO END -->"
_CJK = r"[\u3400-\u9fff\uf900-\ufaff]"
_CJK_GAP = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")
# Zero-width characters that editors leave on "empty" lines; they count as whitespace here.
_INVISIBLE = str.maketrans({c: " " for c in "\u200b\u200c\u200d\u2060\ufeff"})


# Article numbers repeat across files; caching the conversion halves the parse time of a large library.
_number = lru_cache(maxsize=4096)(cn_to_int)


class StatuteError(ValueError):
    """A statute file that cannot be parsed; the message names the file and the fix."""


@dataclass(frozen=True)
class StatuteDoc:
    """A parsed statute file: its name, metadata, exact text and articles."""

    law: str  # full name: `law` argument, front matter title, first # heading, first line, file stem
    aliases: tuple[str, ...]  # front matter `aliases`
    meta: dict = field(hash=False)  # front matter, dates kept as strings
    text: str  # the full source text, exactly as read; every offset indexes it
    source: str  # path as given
    articles: tuple[Article, ...]
    # (label, line of its first article, line of the repeat), 1-based, for each number seen before.
    repeats: tuple[tuple[str, int, int], ...] = ()


def normalize_heading(text: str) -> str:
    """Clean a heading's words: ``"第一章  一般规定"`` → ``"第一章 一般规定"``.

    Drops ``#`` and ``**`` marks and the typesetter's spaces between Chinese
    characters (``"第四章 肖 像 权"`` → ``"第四章 肖像权"``), and puts one space
    between the 第X章 marker and the title.
    """
    text = _CJK_GAP.sub("", text.replace("**", "").strip().strip("#").strip())
    text = " ".join(text.split())
    m = _STRUCTURE.fullmatch(text)
    if m and m.group("title").strip():
        return f"{m.group('marker')} {m.group('title').strip()}"
    return text


def heading_level(heading: str) -> int:
    """The nesting level of a normalized heading: 编 1, 分编 2, 章 3, 节 4.

    总则/分则/附则 and names ending in 编 (``合同编``, the split 民法典 files) are
    编-level; any other heading (``序言``, ``一、一般规定``, ``附件一``) counts as a 章.
    """
    m = _STRUCTURE.match(heading)
    if m:
        return _LEVELS[m.group("kind")]
    if heading in _TOP_WORDS or heading.endswith("编"):
        return 1
    return 3


def parse_statute(
    text: str, *, source: str = "", law: str | None = None, front: tuple[dict, int] | None = None
) -> StatuteDoc:
    """Parse a statute's text into a ``StatuteDoc``.

    Args:
        text: the whole file, front matter included.
        source: the path to record on the document and its articles.
        law: the full name to use, overriding the front matter and the headings.
        front: ``split_front_matter(text)`` when the caller has already read it.

    A text without articles gives a document with no articles (``read_statute``
    treats that as an error). Raises ``StatuteError`` for malformed front matter.
    """
    where = source or "<text>"
    try:
        meta, body_start = front if front is not None else split_front_matter(text)
    except ValueError as exc:
        raise StatuteError(f"{where}: {exc}") from exc
    aliases = _aliases(meta.get("aliases"), where)
    parser = _Parser(text, body_start)
    parser.run()
    name = law or _str(meta.get("title")) or parser.title or parser.first_line
    if not name and source:
        name = Path(source).stem
    common = {
        "law": name,
        "aliases": aliases,
        "source": source,
        "version": _str(meta.get("version")),
        "status": _str(meta.get("status")),
    }
    articles = tuple(Article(**draft, **common) for draft in parser.articles)
    return StatuteDoc(
        law=name,
        aliases=aliases,
        meta=meta,
        text=text,
        source=source,
        articles=articles,
        repeats=parser.repeats(),
    )


def check_unique(doc: StatuteDoc) -> None:
    """Refuse a statute in which one article number (with its 之X) starts two articles.

    Raises:
        StatuteError: naming the file, each repeated label and the lines of both articles.
    """
    if not doc.repeats:
        return
    shown = "；".join(f"{label} 在第 {first} 行和第 {again} 行" for label, first, again in doc.repeats[:3])
    more = f"等 {len(doc.repeats)} 处" if len(doc.repeats) > 3 else ""
    raise StatuteError(
        f"{doc.source or doc.law}: 条号重复：{shown}{more}；一部法规的条号不能重复，否则引用无法指明是哪一条。"
        "若文件里是两部法规，请分成两个文件；若它是文章而不是法规，请在 front matter 写 kind: article"
    )


def read_statute(path: str | Path) -> StatuteDoc:
    """Read and parse a .md or .txt statute file (UTF-8, with or without a BOM).

    Raises ``StatuteError`` naming the file when it is not .md/.txt, is binary,
    not UTF-8 or empty, has no ``第X条`` articles or repeats an article number
    (``check_unique``). A missing file raises the usual ``FileNotFoundError``.
    """
    p = Path(path)
    if p.suffix.lower() not in (".md", ".txt"):
        raise StatuteError(f"{path}: 不支持的文件类型 {p.suffix or '(无扩展名)'!s}；法规文件应为 .md 或 .txt")
    data = p.read_bytes()
    if b"\x00" in data[:8192]:
        raise StatuteError(f"{path}: 这是二进制文件，不是文本；法规文件应为 UTF-8 编码的 .md 或 .txt")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StatuteError(
            f"{path}: 不是 UTF-8 文本（第 {exc.start} 字节为 0x{data[exc.start]:02x}）；请另存为 UTF-8 后再试"
        ) from exc
    if not text.strip():
        raise StatuteError(f"{path}: 文件是空的")
    doc = parse_statute(text, source=str(path))
    if not doc.articles:
        raise StatuteError(
            f"{path}: 没有找到任何条文；每条应另起一行，以“第X条”加空格开头，如“第一条 为了……”"
        )
    check_unique(doc)
    return doc


def _str(value: object) -> str:
    return "" if value is None else str(value).strip()


def _aliases(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    raise StatuteError(f"{where}: front matter 的 aliases 应是名称列表，如 [民法典]，现在是 {value!r}")


def _mask(line: str, in_comment: bool) -> tuple[str, bool]:
    """Blank out HTML comments with spaces.

    The masked line keeps the line's length, so a position in it is a position in the source.
    """
    if not in_comment and "<!--" not in line:
        return line, False
    out = []
    i = 0
    while i < len(line):
        if in_comment:
            end = line.find("-->", i)
            stop = len(line) if end < 0 else end + 3
            out.append(" " * (stop - i))
            in_comment = end < 0
            i = stop
        else:
            begin = line.find("<!--", i)
            if begin < 0:
                out.append(line[i:])
                break
            out.append(line[i:begin])
            in_comment = True
            i = begin
    return "".join(out), in_comment


def _match_article(line: str) -> re.Match | None:
    """The 第X条 label that starts ``line``, or None (a cross-reference, a quote, prose)."""
    m = _ARTICLE.match(line)
    if m is None or (m.group("sep") is None and not m.group("gap")):
        return None
    try:
        _number(m.group("num"))
    except ValueError:  # 第一二条: not a numeral, so not a label
        return None
    return m


def _label(m: re.Match) -> str:
    """The label as written, with the two known typos (笫, a space before 条) set right."""
    suffix = m.group("suffix")
    return f"第{m.group('num')}条" + (f"之{suffix}" if suffix else "")


def announces_quote(paragraph: str) -> bool:
    """Whether a 款 ends by announcing a quoted text (``……增加五条……内容如下：``)."""
    return _ANNOUNCE.search(paragraph.rstrip()) is not None


def continues(previous: tuple[int, int], key: tuple[int, int]) -> bool:
    """Whether article ``key`` (number, suffix) may follow ``previous``: 第五条 → 第六条 or 第五条之一."""
    (n0, s0), (n1, s1) = previous, key
    return (n1, s1) == (n0 + 1, 0) if s1 == 0 else (n1, s1) == (n0, s0 + 1)


def is_annex(stripped: str) -> bool:
    """Whether a line starts an annex (``附件一``, ``附：``, ``附表一：``), which is no article text."""
    return _ANNEX.match(stripped) is not None


def plain_heading(stripped: str) -> str:
    """The normalized heading when a line of its own is one (``第一章 总则``, ``附　则``), else ""."""
    text = stripped.replace("**", "").strip()
    if _CJK_GAP.sub("", text) in _TOP_WORDS:
        return _CJK_GAP.sub("", text)
    if len(text) > _PLAIN_HEADING_MAX or not _STRUCTURE.match(text) or _SENTENCE_PUNCT.search(text):
        return ""
    return normalize_heading(text)


class _Parser:
    """One pass over the lines, collecting article drafts (dicts of ``Article`` fields)."""

    def __init__(self, text: str, body_start: int) -> None:
        self.text = text
        self.body_start = body_start
        info = text.find(_INFO_END, body_start)
        if info < 0:
            self.header_end = body_start
        else:
            newline = text.find("\n", info)
            self.header_end = len(text) if newline < 0 else newline + 1
        self.title = ""  # the first # heading
        self.first_line = ""  # the first non-empty line, when it is neither heading nor article
        self.articles: list[dict] = []
        self.path: list[str | None] = [None] * 5  # current heading by level 1..4
        self.current: dict | None = None
        self.paragraphs: list[list] = []  # [start, end, [(start, end) of each 项]] per 款
        self.started = False  # a non-empty line has been seen
        self.label_at: dict[tuple[int, int], int] = {}  # (number, suffix) -> offset of its first label line
        self.repeated: list[tuple[str, int, int]] = []  # (label, first offset, repeat offset)
        self.quoting = False  # the current article is quoting articles it announced (内容如下：)

    def run(self) -> None:
        pos = self.body_start
        in_comment = False
        # Translating one character to one keeps every position, so the lines index self.text.
        body = self.text[self.body_start :].translate(_INVISIBLE)
        for line in body.splitlines(keepends=True):
            start = pos
            pos += len(line)
            masked, in_comment = _mask(line, in_comment)
            stripped = masked.strip()
            if not stripped:
                continue
            first = not self.started
            self.started = True
            if start < self.header_end:
                self._header_line(stripped, first)
            else:
                self._body_line(masked, stripped, start, first)
        self._close()

    def _header_line(self, stripped: str, first: bool) -> None:
        """The title/date block: the first ``#`` heading is the title, later ones are headings (# 合同编)."""
        m = _MD_HEADING.match(stripped)
        if not m:
            if first:
                self.first_line = stripped
            return
        heading = normalize_heading(m.group(2))
        if heading and not self.title and m.group(1) == "#":
            self.title = heading
        elif heading:
            self._set_heading(heading)

    def _body_line(self, masked: str, stripped: str, start: int, first: bool) -> None:
        m = _MD_HEADING.match(stripped)
        if m:
            heading = normalize_heading(m.group(2))
            if not heading:
                return
            # Only a level-1 heading before any structure can be the title (# 全名).
            untouched = self.current is None and not self.articles and not any(self.path)
            if not self.title and untouched and m.group(1) == "#" and not _STRUCTURE.match(heading):
                self.title = heading
            else:
                self._close()
                self._set_heading(heading)
            return
        if _RULE.fullmatch(stripped) or _FOOTNOTE.match(stripped):
            return
        a = _match_article(masked)
        if a and not self._quoting(a):
            self._close()
            self._open(a, masked, start)
            return
        heading = "" if a else plain_heading(stripped)
        if heading and not self._announced():
            self._close()
            self._set_heading(heading)
            return
        if heading or a:  # a heading or article the current article quotes
            self.quoting = True
        elif _ANNEX.match(stripped) or (len(stripped) < 8 and _CJK_GAP.sub("", stripped) == _TOC):
            self._close()
            return
        if first:
            self.first_line = stripped
        if self.current is not None:
            lead = len(masked) - len(masked.lstrip())
            self._add_line(start + lead, start + len(masked.rstrip()), stripped)

    def _announced(self) -> bool:
        """Whether the current article quotes, or its last 款 announces a quote."""
        if self.current is None or not self.paragraphs:
            return False
        last = self.paragraphs[-1]
        return self.quoting or announces_quote(self.text[last[0] : last[1]])

    def _quoting(self, a: re.Match) -> bool:
        """Whether a 第X条 line is text the current article quotes rather than the next article."""
        if not self._announced():
            return False
        suffix = a.group("suffix")
        key = (_number(a.group("num")), _number(suffix) if suffix else 0)
        return not continues((self.current["number"], self.current["suffix"]), key)

    def _add_line(self, begin: int, end: int, stripped: str) -> None:
        """A body line: a new 款, or a 项/目 line that extends the 款 before it."""
        item = _ITEM.match(stripped)
        if self.paragraphs and (item or _SUBITEM.match(stripped)):
            para = self.paragraphs[-1]
            para[1] = end
        else:
            para = [begin, end, []]
            self.paragraphs.append(para)
        if item:
            # Numbered as the text numbers it: a citation's 第（三）项 names the line marked （三）,
            # even where a source drops a marker before it.
            try:
                number = cn_to_int(item.group(0)[1:-1])
            except ValueError:  # a mistyped marker such as （一一）: the next number in the 款
                number = len(para[2]) + 1
            para[2].append((begin, end, number))

    def _set_heading(self, heading: str) -> None:
        level = heading_level(heading)
        self.path[level] = heading
        for deeper in range(level + 1, len(self.path)):
            self.path[deeper] = None

    def _open(self, a: re.Match, masked: str, start: int) -> None:
        suffix = a.group("suffix")
        label_end = start + a.end()
        self.current = {
            "number": _number(a.group("num")),
            "suffix": _number(suffix) if suffix else 0,
            "label": _label(a),
            "heading_path": tuple(h for h in self.path if h),
            "label_end": label_end,
        }
        key = (self.current["number"], self.current["suffix"])
        if key in self.label_at:
            self.repeated.append((self.current["label"], self.label_at[key], start))
        else:
            self.label_at[key] = start
        self.paragraphs = []
        rest = masked[a.end() :]
        if rest.strip():
            begin = label_end + len(rest) - len(rest.lstrip())
            self._add_line(begin, start + len(masked.rstrip()), rest.strip())

    def repeats(self) -> tuple[tuple[str, int, int], ...]:
        """``self.repeated`` with offsets as 1-based line numbers."""
        return tuple(
            (label, self.text.count("\n", 0, first) + 1, self.text.count("\n", 0, again) + 1)
            for label, first, again in self.repeated
        )

    def _close(self) -> None:
        draft = self.current
        self.quoting = False
        if draft is None:
            return
        self.current = None
        text = self.text
        paragraphs = tuple(Span(k, text[s:e], s, e) for k, (s, e, _) in enumerate(self.paragraphs, 1))
        items = tuple(
            (k, Span(number, text[s:e], s, e))
            for k, (_, _, spans) in enumerate(self.paragraphs, 1)
            for s, e, number in spans
        )
        label_end = draft.pop("label_end")
        draft.update(
            text="\n".join(p.text for p in paragraphs),
            start=paragraphs[0].start if paragraphs else label_end,
            end=paragraphs[-1].end if paragraphs else label_end,
            paragraphs=paragraphs,
            items=items,
        )
        self.articles.append(draft)
