"""The citation grammar: find and normalise references such as 《民法典》第六百八十一条第一款.

Shared by ingest (cross references), the answer composer, the verifier and eval.
Pure functions over strings. ``find_citations`` runs one compiled regex per alias
table over the text, then resolves each matched expression: lists (、/和/及),
ranges (至), 之X suffixes, 款 and 项, 本法/前款/本条 against the caller's context, and
a law carried forward within a sentence.

Questions and answers are typed loosely, so two informal spellings are accepted as well: an
article without 第 right after a law's name, in digits or in Chinese numerals with a unit
(民法典1064条, 刑法 293 条之一, 《民法典》六百八十一条), and an article number written digit by
digit (第六八七条, see ``cn_to_int_loose``). ``find_laws`` lists the laws a text names, with or
without an article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from legalqa.ingest.aliases import PRC, AliasTable, clean_name
from legalqa.ingest.numerals import cn_to_int, cn_to_int_loose, int_to_cn

__all__ = [
    "CitationRef",
    "LawMention",
    "article_label",
    "canonical",
    "find_citations",
    "find_laws",
    "parse_article_label",
    "parse_citation",
]

_SP = r"[ \t\u3000]*"
_NUM = r"(?:[零〇一二两三四五六七八九十百千]+|[0-9０-９]+)"
_ART = rf"第{_SP}{_NUM}{_SP}条(?:{_SP}之{_SP}{_NUM})?"
# (?!项): 第一款项 / 提前款项 are sums of money, not paragraphs.
_PARA = rf"第{_SP}{_NUM}{_SP}款(?!项)"
_ITEM = rf"第{_SP}[（(]?{_SP}{_NUM}{_SP}[)）]?{_SP}项"
_ELEM = (
    rf"{_ART}(?:{_SP}{_PARA})?(?:{_SP}{_ITEM})?"
    rf"|本条{_SP}(?:{_PARA}(?:{_SP}{_ITEM})?|{_ITEM})"
    rf"|前{_NUM}?款(?!项)(?:{_SP}{_ITEM})?"
    rf"|本款{_SP}{_ITEM}"
    rf"|{_PARA}(?:{_SP}{_ITEM})?"
    rf"|{_ITEM}"
)
# 民法典1064条, 《民法典》六百八十一条: an article without 第, only right after a law's name, in
# digits or in Chinese numerals with a unit (十百千), because a count reads the same way
# (发了3条短信, 民法典的两条规定, 民法典三条).
_CN_BARE = r"(?=[零〇一二三四五六七八九]*[十百千])[一二三四五六七八九十][零〇一二三四五六七八九十百千]*"
_BARE_ART = rf"(?:[0-9０-９]+|{_CN_BARE}){_SP}条(?:{_SP}之{_SP}{_NUM})?"
_BARE_ELEM = rf"{_BARE_ART}(?:{_SP}{_PARA})?(?:{_SP}{_ITEM})?"
_SEP = rf"{_SP}(?:以及|或者|、|及|和|或|与|至|到){_SP}"
_LIST = rf"(?:{_ELEM})(?:{_SEP}(?:{_ELEM}))*"
_BARE_LIST = rf"(?:{_BARE_ELEM})(?:{_SEP}(?:{_ELEM}))*"
_SELF = r"本(?:法|条例|规定|解释|办法|细则|决定|规则)"
_THAT = r"该(?:法|条例|规定|解释|办法|细则|决定|规则)"

_TOKEN = re.compile(
    # 第 is optional here because _pattern has already admitted a bare 1064条 only after a law.
    rf"(?P<art>(?:第{_SP})?(?P<an>{_NUM}){_SP}条(?:{_SP}之{_SP}(?P<sn>{_NUM}))?)"
    rf"|(?P<para>第{_SP}(?P<pn>{_NUM}){_SP}款)"
    rf"|(?P<item>第{_SP}[（(]?{_SP}(?P<inum>{_NUM}){_SP}[)）]?{_SP}项)"
    rf"|(?P<prev>前(?P<prevn>{_NUM})?款)"
    r"|(?P<thispara>本款)|(?P<thisart>本条)"
    r"|(?P<range>至|到)|(?P<sep>以及|或者|、|及|和|或|与)"
)
_ART_RE = re.compile(_ART)
_LABEL_RE = re.compile(rf"第{_SP}(?P<an>{_NUM}){_SP}条(?:{_SP}之{_SP}(?P<sn>{_NUM}))?")
# A citation whose law the alias table does not know: any name, then one element.
_LOOSE_RE = re.compile(rf"(?P<name>[^\s，。；：,;:]+?){_SP}(?:的{_SP})?(?P<body>{_ELEM})")
_SENTENCE_END = re.compile(r"[。！？!?\n]")
# A bare 第一条 followed by one of these is an ordinal in prose (第一条路), not an article.
_PROSE_NOUNS = (
    "路", "线", "街", "河", "鱼", "狗", "船", "腿", "命",
    "短信", "消息", "微信", "评论", "建议", "理由", "新闻", "视频", "朋友圈",
)


@dataclass(frozen=True)
class CitationRef:
    """One cited article (and optionally 款/项), with where it was found in the text."""

    law: str | None  # full name; None when the text names no law and no context resolves it
    article: int
    suffix: int = 0  # 之一 -> 1
    paragraph: int | None = None  # 款
    item: int | None = None  # 项
    start: int = 0  # span of the whole citation expression (a list or range shares one span)
    end: int = 0
    raw: str = ""

    def __post_init__(self) -> None:
        _check_numbers(self.article, self.suffix, self.paragraph, self.item)

    def canonical(self) -> str:
        """《中华人民共和国民法典》第六百八十一条第一款第（三）项; without a law, 第六百八十一条…"""
        return canonical(self.law, self.article, self.suffix, self.paragraph, self.item)

    def article_key(self) -> tuple[str | None, int, int]:
        """(law, article, suffix): what a statute chunk is keyed by."""
        return (self.law, self.article, self.suffix)


def _check_numbers(article: int, suffix: int, paragraph: int | None, item: int | None) -> None:
    if not 1 <= article <= 9999:
        raise ValueError(f"article number must be in 1..9999, got {article!r}")
    if not 0 <= suffix <= 9999:
        raise ValueError(f"article suffix (之X) must be in 0..9999, got {suffix!r}")
    for name, value in (("paragraph", paragraph), ("item", item)):
        if value is not None and not 1 <= value <= 9999:
            raise ValueError(f"{name} must be None or in 1..9999, got {value!r}")


def article_label(number: int, suffix: int = 0) -> str:
    """第二百八十条之一 for (280, 1); 第六百八十一条 for (681, 0)."""
    _check_numbers(number, suffix, None, None)
    label = f"第{int_to_cn(number)}条"
    return f"{label}之{int_to_cn(suffix)}" if suffix else label


def parse_article_label(label: str) -> tuple[int, int]:
    """(number, suffix) of "第二百八十条之一", "第280条之一" or "第681条"; ValueError otherwise."""
    m = _LABEL_RE.fullmatch(label.strip())
    if m is None:
        raise ValueError(f"not an article label: {label!r}; expected e.g. 第六百八十一条 or 第280条之一")
    try:
        number = cn_to_int_loose(m["an"])
        suffix = cn_to_int(m["sn"]) if m["sn"] else 0
        _check_numbers(number, suffix, None, None)
    except ValueError as exc:
        raise ValueError(f"not an article label: {label!r} ({exc})") from None
    return number, suffix


def canonical(
    law: str | None,
    article: int,
    suffix: int = 0,
    paragraph: int | None = None,
    item: int | None = None,
) -> str:
    """The spelling the project stores and compares, e.g. 《中华人民共和国民法典》第六百八十一条第一款.

    ``law`` None (or empty) gives the bare 第六百八十一条…; a title that itself contains
    《》 is written with 〈〉 inside, as official titles are.
    """
    _check_numbers(article, suffix, paragraph, item)
    parts = []
    if law:
        parts.append("《" + law.replace("《", "〈").replace("》", "〉") + "》")
    parts.append(article_label(article, suffix))
    if paragraph is not None:
        parts.append(f"第{int_to_cn(paragraph)}款")
    if item is not None:
        parts.append(f"第（{int_to_cn(item)}）项")
    return "".join(parts)


@lru_cache(maxsize=1)
def _default_table() -> AliasTable:
    return AliasTable()


def _trie_regex(words: Iterable[str]) -> str:
    """An alternation of ``words`` as a prefix trie; the greedy ``?`` makes it longest-first."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie) or "(?!)"


def _table_pattern(table: AliasTable) -> re.Pattern[str]:
    """The citation regex for a table's names, kept on the table: even hashing the names costs more than a scan."""
    return table.memo("citation_pattern", lambda: _pattern(tuple(table.names())))


@lru_cache(maxsize=16)
def _pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    words = {n for n in names if len(n) >= 2}
    # Front matter may list only 中华人民共和国X法; text usually writes X法.
    words |= {n[len(PRC):] for n in words if n.startswith(PRC) and len(n) - len(PRC) >= 2}
    law = (
        r"(?P<lawpart>(?P<title>《[^《》\n]{1,80}》)"
        rf"|(?P<alias>(?:{PRC})?{_trie_regex(words)})"
        rf"|(?P<self>{_SELF})|(?P<that>{_THAT}))"
    )
    # The lookahead lets the scan skip most positions on one character test (about 4x faster).
    first = re.escape("".join(sorted({w[0] for w in words} | set("《本该前第中"))))
    # A law named without an article still matches, with an empty body, so that 该法 can
    # refer back to it; the conditional keeps a match from being empty. A bare 1064条 must
    # follow the name directly: 民法典的3条规定 counts provisions.
    body = rf"(?(lawpart)(?(de)(?:{_LIST})?|(?:{_LIST}|{_BARE_LIST})?)|{_LIST})"
    return re.compile(rf"(?=[{first}])(?:{law}{_SP}(?P<de>的{_SP})?)?(?P<body>{body})")


class _Unresolved(Exception):
    """An element names no article and no context supplies one."""


_BROKEN = object()  # the previous element of a list could not be resolved
_Ref = tuple[str | None, int, int, int | None, int | None]  # law, article, suffix, paragraph, item
_Ctx = tuple[str | None, tuple[int, int] | None, int | None]  # current law, article, paragraph


def _num(text: str | None) -> int:
    value = cn_to_int(text or "")
    if value < 1:
        raise ValueError(f"numbering starts at 1, got {text!r}")
    return value


def _article_num(text: str | None) -> int:
    # Only article numbers run to four digits, so only they are read digit by digit (第六八七条);
    # a 款 or 项 written 第二三款 is more likely 第二、三款 than 23.
    value = cn_to_int_loose(text or "")
    if value < 1:
        raise ValueError(f"numbering starts at 1, got {text!r}")
    return value


def _element(
    tokens: list[re.Match[str]], law: str | None, prev: object, ctx: _Ctx
) -> tuple[list[_Ref], str]:
    """The refs one list element names, and its level ("art", "para" or "item")."""
    ctx_law, ctx_article, ctx_paragraph = ctx
    art = para = item = None
    paras: list[int | None] | None = None
    level = None
    elaw = law

    def from_context():
        if ctx_article is None:
            raise _Unresolved
        return ctx_law, ctx_article, ctx_paragraph

    def inherit():
        # A bare 第二款 / 第三项 continues the previous element, or else the current article.
        if prev is _BROKEN:
            raise _Unresolved
        if prev is not None:
            return prev[0], (prev[1], prev[2]), prev[3]
        return from_context()

    for tok in tokens:
        kind = tok.lastgroup
        if kind == "art":
            art = (_article_num(tok["an"]), _num(tok["sn"]) if tok["sn"] else 0)
            elaw, level = law, "art"
        elif kind == "thisart":
            elaw, art, _ = from_context()
        elif kind == "para":
            if art is None:
                elaw, art, _ = inherit()
            para = _num(tok["pn"])
            level = level or "para"
        elif kind == "prev":
            elaw, art, current = from_context()
            back = _num(tok["prevn"]) if tok["prevn"] else 1
            if current is not None and current - back >= 1:
                paras = list(range(current - back, current))
            else:
                paras = [None]
            level = "para"
        elif kind == "thispara":
            elaw, art, para = from_context()
            level = "para"
        elif kind == "item":
            if art is None:
                elaw, art, para = inherit()
            item = _num(tok["inum"])
            level = level or "item"
    if art is None:
        raise _Unresolved
    return [(elaw, art[0], art[1], p, item) for p in (paras if paras is not None else [para])], level


def _between(p: _Ref, q: _Ref, level: str) -> list[_Ref]:
    """The refs strictly inside the range p 至 q, when both ends are at the same level."""
    pl, pa, ps, pp, pi = p
    ql, qa, qs, qp, qi = q
    if level == "art" and pl == ql and pp is None and pi is None and qp is None and qi is None:
        if pa < qa:
            # Articles with 之X inside a range cannot be known from the text; list the plain ones.
            return [(pl, k, 0, None, None) for k in range(pa + 1, qa)]
        if pa == qa and ps < qs:
            return [(pl, pa, k, None, None) for k in range(ps + 1, qs)]
    if level == "para" and (pl, pa, ps) == (ql, qa, qs) and pi is None and qi is None and pp and qp:
        return [(pl, pa, ps, k, None) for k in range(pp + 1, qp)]
    if level == "item" and (pl, pa, ps, pp) == (ql, qa, qs, qp) and pi and qi:
        return [(pl, pa, ps, pp, k) for k in range(pi + 1, qi)]
    return []


def _expand(
    text: str, start: int, end: int, law: str | None, ctx: _Ctx, strict: bool
) -> tuple[list[_Ref], int]:
    """The refs of the body text[start:end], and how many list elements it had."""
    elements: list[tuple[str | None, list[re.Match[str]]]] = [(None, [])]
    for tok in _TOKEN.finditer(text, start, end):
        if tok.lastgroup in ("sep", "range"):
            elements.append((tok.lastgroup, []))
        else:
            elements[-1][1].append(tok)
    refs: list[_Ref] = []
    prev = None
    for joiner, tokens in elements:
        try:
            found, level = _element(tokens, law, prev, ctx)
        except (ValueError, _Unresolved):
            if strict:
                raise
            prev = _BROKEN
            continue
        if joiner == "range" and prev not in (None, _BROKEN) and len(found) == 1:
            refs.extend(_between(prev, found[0], level))
        refs.extend(found)
        prev = found[-1]
    return refs, len(elements)


def _named_law(m: re.Match[str], table: AliasTable) -> str | None:
    if m["title"]:
        name = clean_name(m["title"])
        return table.resolve(name) or name
    if m["alias"]:
        return table.resolve(m["alias"])
    return None


def find_citations(
    text: str,
    *,
    aliases: AliasTable | None = None,
    current_law: str | None = None,
    current_article: tuple[int, int] | None = None,
    current_paragraph: int | None = None,
) -> list[CitationRef]:
    """Every article citation in ``text``, in order; a list or range gives one ref per article.

    Args:
        text: any text: a statute article, prose, a generated answer.
        aliases: law names to recognise; the default table when None.
        current_law: the law the text belongs to, for 本法第X条 and for a bare 第X条.
        current_article: (number, suffix) of the article the text belongs to, for 本条第二款,
            前款 and a bare 第二款.
        current_paragraph: the 款 the text is in, so that 前款 means the one before it;
            without it 前款 gives the current article with paragraph None.

    A law named in a sentence carries forward to bare 第X条 later in that sentence.
    """
    table = aliases if aliases is not None else _default_table()
    pattern = _table_pattern(table)
    ctx = (current_law, current_article, current_paragraph)
    out: list[CitationRef] = []
    sentence_law: str | None = None
    last_named: str | None = None
    last_end = 0
    for m in pattern.finditer(text):
        if not m["body"]:
            if m["title"] or m["alias"]:  # a law named without an article
                last_named = _named_law(m, table)
            continue
        if _SENTENCE_END.search(text, last_end, m.start()):
            sentence_law = None
        last_end = m.end()
        if m["lawpart"] is None:
            body = m["body"]
            if _ART_RE.fullmatch(body) and text.startswith(_PROSE_NOUNS, m.end()):
                continue
            law = sentence_law or current_law
        elif m["self"]:
            law = current_law
        elif m["that"]:
            law = last_named
        else:
            law = last_named = _named_law(m, table)
        if m["lawpart"] is not None and law is not None:
            sentence_law = law
        refs, _ = _expand(text, m.start("body"), m.end("body"), law, ctx, strict=False)
        for law_, article, suffix, paragraph, item in refs:
            out.append(CitationRef(law_, article, suffix, paragraph, item, m.start(), m.end(), m[0]))
    return out


@dataclass(frozen=True)
class LawMention:
    """A law named in a text (《中华人民共和国合同法》, 民法典), with or without an article after it."""

    law: str  # the full name when the alias table knows it, else the title as written (without 《》)
    start: int  # span of the name only
    end: int
    known: bool  # the alias table resolves the name
    with_article: bool  # an article citation follows the name


def find_laws(text: str, *, aliases: AliasTable | None = None) -> list[LawMention]:
    """Every law ``text`` names, in order: titles in 《》 (any title) and the names the alias table knows.

    本法 / 该法 are not listed: they name no law by themselves.
    """
    table = aliases if aliases is not None else _default_table()
    out = []
    for m in _table_pattern(table).finditer(text):
        if not (m["title"] or m["alias"]):
            continue
        law = _named_law(m, table)
        known = table.resolve(m["title"] or m["alias"]) is not None
        out.append(LawMention(law, m.start("lawpart"), m.end("lawpart"), known, bool(m["body"])))
    return out


def parse_citation(text: str, aliases: AliasTable | None = None) -> CitationRef:
    """Parse a string that is exactly one citation, e.g. the gold label "民法典第688条第2款".

    A law the alias table does not know is kept as written (without 《》). Raises
    ValueError naming the text when it is not one well-formed citation: a list or range,
    a malformed numeral (第六百八十八十条), or no article (前款, 第二款).
    """
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    table = aliases if aliases is not None else _default_table()
    m = _table_pattern(table).fullmatch(stripped)
    if m is not None and m["body"]:
        law = _named_law(m, table)
    else:
        m = _LOOSE_RE.fullmatch(stripped)
        if m is None:
            raise ValueError(f"not a citation: {text!r}; expected e.g. 民法典第六百八十一条第一款")
        if _ART_RE.search(m["name"]) or _SENTENCE_END.search(m["name"]):
            raise ValueError(f"not a single citation: {text!r} (it names more than one article)")
        name = clean_name(m["name"])
        law = table.resolve(name) or name
    try:
        refs, elements = _expand(stripped, m.start("body"), m.end("body"), law, (None, None, None), True)
    except _Unresolved:
        raise ValueError(f"not a citation: {text!r} (it names no article)") from None
    except ValueError as exc:
        raise ValueError(f"not a citation: {text!r} ({exc})") from None
    if elements != 1 or len(refs) != 1:
        raise ValueError(f"not a single citation: {text!r} (a list or range of {len(refs)} articles)")
    law, article, suffix, paragraph, item = refs[0]
    return CitationRef(law, article, suffix, paragraph, item, lead + m.start(), lead + m.end(), m[0])
