"""Answer blocks → Markdown, plain text, JSON and HTML. Pure functions.

One layout (``layout``) decides the answer's wording: its headings, labels and the order of
its parts. Each format then writes that layout, escaping every piece of text that did not
come from this module (corpus and uploaded text, titles, notes, the question's words):

- Markdown: the characters that make links, images, HTML, emphasis, code, tables or math
  are backslash-escaped, and so are those that start a heading, list or quote at a line
  start, so an uploaded ``<img onerror=…>`` or ``[x](javascript:…)`` shows as text;
- HTML: ``html.escape`` first, and only then our own tags around it;
- plain text: control characters become visible symbols (␛), so a quote cannot drive a
  terminal;
- JSON: ``<``, ``>`` and ``&`` are written as \\u escapes, so JSON pasted into a page
  cannot open a tag; parsed, every string is the exact text.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from legalqa.qa.models import (
    Abstention,
    Block,
    Branch,
    Correction,
    Disclaimer,
    Lead,
    Note,
    Quote,
    ScopeNote,
    SourceList,
    StatuteQuote,
)

SCOPE = "网贷逾期、借款、担保、共同借款、夫妻债务、征信、个人信息、催收等"
SHOWN_LAWS = 8  # an abstention over the whole library names this many laws, then how many in all


def _searched(laws: tuple[str, ...], articles: tuple[str, ...]) -> tuple[str, str]:
    """What an abstention says was searched, and the scope it may have missed (long lists shortened)."""
    text = "、".join(f"《{law}》" for law in laws[:SHOWN_LAWS])
    if len(laws) > SHOWN_LAWS:
        text += f"等 {len(laws)} 部法律法规"
    if articles:
        text += "，以及文章" + "、".join(f"《{t}》" for t in articles[:SHOWN_LAWS])
        if len(articles) > SHOWN_LAWS:
            text += f"等 {len(articles)} 篇"
    scope = "中国现行法律法规" if len(laws) > SHOWN_LAWS else SCOPE
    return text, scope

# Inline syntax anywhere in a line: \ ` * _ [ ] < > & ~ | $ (GFM tables and strikethrough, math).
_MD_INLINE = re.compile(r"([\\`*_\[\]<>&~|$])")
# Every ASCII punctuation mark, for Streamlit's st.markdown and widget labels: there a plain colon
# also starts a directive (`:small`, `:help`, `:red[…]`, `:color{…}`), a Material icon
# (`:material/delete:`) or an emoji shortcode (`:smile:`), and each replaces the text it stands in.
_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
# Block syntax at a line's start: headings, quotes, lists, setext underlines.
_MD_LINE_START = re.compile(r"^([ \t]*(?:\d+)?)([#>+\-=.)])", re.M)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_PICTURES = {chr(c): chr(0x2400 + c) for c in range(0x20)} | {"\x7f": "\u2421"}
_JSON_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def escape_markdown(text: str, *, every_punctuation: bool = False) -> str:
    """Text that a Markdown renderer shows literally (CommonMark lets \\ escape any ASCII punctuation),
    with control characters shown as symbols as in plain text.

    By default only the characters that carry CommonMark or GFM syntax are escaped, so the answer's
    Markdown stays readable (``1.5``, ``10:30``). ``every_punctuation=True`` escapes every ASCII
    punctuation mark, as Streamlit's Markdown needs (its colon syntax: see ``_MD_PUNCT``).
    """
    text = escape_text(text)
    if every_punctuation:
        return _MD_PUNCT.sub(r"\\\1", text)
    return _MD_LINE_START.sub(r"\1\\\2", _MD_INLINE.sub(r"\\\1", text))


def escape_text(text: str) -> str:
    """Plain text with control characters shown as symbols (ESC → ␛); newlines and tabs kept."""
    return _CONTROL.sub(lambda m: _CONTROL_PICTURES.get(m.group(), "\ufffd"), text)


def escape_html(text: str) -> str:
    return html.escape(text, quote=True)


# ---- layout: what the answer says, in which order -----------------------------------------------

# A run of inline content: our own words ("text"), words from elsewhere ("data", escaped), a quote,
# or an aside ("aside", data the plain-text form leaves out).
Run = tuple[str, Any]


@dataclass
class Item:
    runs: list[Run]
    children: list[list[Run]] = field(default_factory=list)


@dataclass
class Section:
    heading: str  # "" for none
    items: list[Item]
    style: str  # "lines" | "list" | "paragraphs" | "emphasis" | "case"
    kind: str  # the block type it comes from
    label: list[Run] = field(default_factory=list)  # a case's 「如果…」 line, above its list


def _quotes(quotes: tuple[Quote, ...], sep: str) -> list[Run]:
    runs: list[Run] = []
    for i, q in enumerate(quotes):
        if i and sep:
            runs.append(("text", sep))
        runs.append(("quote", q))
    return runs


CASE_NUMBERS = "一二三四五六七八九十"
BOTH_SIDES = "法律依据（法律按情形分别规定，请对照你的情况）："
COMMENTARY = "评注（摘自文章，是作者的说法，不是法律条文）："


def _statute_item(b: StatuteQuote) -> Item:
    return Item([("data", b.citation), ("text", "："), *_quotes(b.quotes, "……")])


def layout(blocks: list[Block]) -> list[Section]:
    """The answer's sections: consecutive statutes and their notes form one list under 法律依据; the sides of a
    distinction form one section each (「情形一：如果「…」」 and its statutes); commentary follows, labelled."""
    out: list[Section] = []
    for b in blocks:
        if isinstance(b, Correction):
            fixed = "，".join(f"“{w}”理解为“{m}”" for w, m in b.pairs)
            out.append(Section("", [Item([("text", "（按读音把"), ("data", fixed), ("text", "。）")])], "emphasis", b.type))
        elif isinstance(b, ScopeNote):
            out.append(Section("", [Item([
                ("text", "（问题提到"), ("data", b.place),
                ("text", "。以下引用的是中华人民共和国的法律；事情如果适用"), ("data", b.place),
                ("text", "的法律，这些条文不适用，请咨询当地的执业律师。）"),
            ])], "emphasis", b.type))
        elif isinstance(b, Lead):
            runs = [("data", b.citation), ("text", "提到："), *_quotes(b.quotes, "")]
            out.append(Section(COMMENTARY, [Item(runs)], "lines", b.type))
        elif isinstance(b, Branch):
            number = CASE_NUMBERS[b.case - 1] if b.case <= len(CASE_NUMBERS) else str(b.case)
            label: list[Run] = [("text", f"情形{number}：如果"), ("quote", b.condition), ("text", "：")]
            heading = BOTH_SIDES if b.case == 1 else ""
            out.append(Section(heading, [_statute_item(st) for st in b.statutes], "case", b.type, label))
        elif isinstance(b, StatuteQuote | Note):
            if not out or out[-1].kind not in (StatuteQuote.type, Branch.type):
                out.append(Section("法律依据：", [], "list", StatuteQuote.type))
            section = out[-1]
            if isinstance(b, StatuteQuote):
                if section.kind == Branch.type:  # a statute after a distinction starts its own list
                    out.append(Section("", [_statute_item(b)], "list", StatuteQuote.type))
                else:
                    section.items.append(_statute_item(b))
            elif section.items:
                section.items[-1].children.append([("text", "注意："), ("data", b.text)])
            else:
                section.items.append(Item([("text", "注意："), ("data", b.text)]))
        elif isinstance(b, Abstention) and b.foreign:
            out.append(Section("", [
                Item([("text", "抱歉，这个问题问的是"), ("data", b.foreign),
                      ("text", "的法律，本系统只收录中华人民共和国的法律法规，不能回答。")]),
                Item([("text", "各国法律不同，中国法律的条文不能套用，我不做猜测。建议咨询当地的执业律师或有关机构。")]),
            ], "paragraphs", b.type))
        elif isinstance(b, Abstention) and b.unnamed:
            out.append(Section("", [
                Item([("text", "抱歉，你问的条文这里没有，我不做猜测：")]),
                *[Item([("data", line)]) for line in b.unnamed],
                Item([("text", "可以换个说法问现行的规定，或用“核验引用”核对一段文字里的引用。")]),
            ], "paragraphs", b.type))
        elif isinstance(b, Abstention):
            searched, scope = _searched(b.laws, b.articles)
            out.append(Section("", [
                Item([("text", "抱歉，现有资料不足以回答这个问题，我不做猜测。")]),
                Item([("text", "我检索了："), ("data", searched), ("text", "。")]),
                Item([("text", f"这些资料里没有与你的问题足够相关的内容，它可能超出了本系统语料的范围（{scope}）。")]),
                Item([("text", "建议换个说法再问，或咨询执业律师。")]),
            ], "paragraphs", b.type))
        elif isinstance(b, SourceList) and b.entries:
            items = []
            for e in b.entries:
                runs: list[Run] = [("text", "".join(f"[{n}]" for n in e.markers) + " "), ("data", e.citation)]
                if e.kind == "statute" and e.heading_path:
                    runs.append(("aside", " › ".join(e.heading_path)))
                items.append(Item(runs))
            out.append(Section("来源：", items, "lines", b.type))
        elif isinstance(b, Disclaimer):
            out.append(Section("", [Item([("data", b.text)])], "emphasis", b.type))
    return out


# ---- Markdown and plain text --------------------------------------------------------------------


_CONTINUED = re.compile(r"\n(?=.)")  # a line break before a non-empty line: indent it into the list item


def _inline_md(runs: list[Run]) -> str:
    parts = []
    for kind, value in runs:
        if kind == "text":
            parts.append(value)
        elif kind == "quote":
            parts.append(f"「{escape_markdown(value.text)}」[{value.n}]")
        elif kind == "aside":
            parts.append(f"（{escape_markdown(value)}）")
        else:
            parts.append(escape_markdown(value))
    return "".join(parts)


def _inline_text(runs: list[Run]) -> str:
    parts = []
    for kind, value in runs:
        if kind == "quote":
            parts.append(f"「{escape_text(value.text)}」[{value.n}]")
        elif kind != "aside":
            parts.append(value if kind == "text" else escape_text(value))
    return "".join(parts)


def to_markdown(blocks: list[Block]) -> str:
    """The answer as Markdown, safe to render anywhere: no text from a source can become markup."""
    chunks = []
    for s in layout(blocks):
        lines = [f"**{s.heading}**", ""] if s.heading else []
        if s.style == "case":
            lines += [_inline_md(s.label), ""]
        if s.style in ("list", "case"):
            for item in s.items:  # a quote's own line breaks (a 款 with its 项) stay inside the item
                lines.append("- " + _CONTINUED.sub("\n  ", _inline_md(item.runs)))
                lines += ["  - " + _inline_md(c) for c in item.children]
        elif s.style == "paragraphs":
            lines.append("\n\n".join(_inline_md(i.runs) for i in s.items))
        elif s.style == "emphasis":
            lines += [f"*{_inline_md(i.runs)}*" for i in s.items]
        else:
            lines += [_inline_md(i.runs) for i in s.items]
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks)


def to_text(blocks: list[Block]) -> str:
    """The answer as plain text, for a terminal."""
    chunks = []
    for s in layout(blocks):
        lines = [s.heading] if s.heading else []
        if s.style == "paragraphs":
            lines.append("\n\n".join(_inline_text(i.runs) for i in s.items))
        else:
            if s.style == "case":
                lines.append(_inline_text(s.label))
            indent = "  " if s.style == "case" else ""
            for item in s.items:
                lines.append(indent + _inline_text(item.runs))
                lines += [indent + _inline_text(c) for c in item.children]
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks)


# ---- HTML ---------------------------------------------------------------------------------------


def _html_text(text: str) -> str:
    return escape_html(text).replace("\n", "<br>")


def _inline_html(runs: list[Run], mark_style: str) -> str:
    mark = f'<mark style="{escape_html(mark_style)}">' if mark_style else "<mark>"
    parts = []
    for kind, value in runs:
        if kind == "quote":
            parts.append(
                f"「{mark}{_html_text(value.text)}</mark>」"
                f'<sup title="{escape_html(value.citation)}" style="font-weight:600">[{value.n}]</sup>'
            )
        elif kind == "aside":
            parts.append(f"（{_html_text(value)}）")
        else:
            parts.append(_html_text(value))
    return "".join(parts)


CASE_STYLE = "border:1px solid #cbd5e1;border-radius:6px;padding:4px 12px;margin:8px 0"


def to_html(blocks: list[Block], *, mark_style: str = "") -> str:
    """The answer as an HTML fragment: every text is escaped, and the only tags are ours."""
    out = []
    for s in layout(blocks):
        if s.heading:
            out.append(f"<p><strong>{escape_html(s.heading)}</strong></p>")
        if s.style in ("list", "case"):
            items = []
            for item in s.items:
                kids = "".join(f"<li>{_inline_html(c, mark_style)}</li>" for c in item.children)
                items.append(f"<li>{_inline_html(item.runs, mark_style)}" + (f"<ul>{kids}</ul>" if kids else "") + "</li>")
            body = f"<ul>{''.join(items)}</ul>"
            if s.style == "case":  # each side of a distinction in its own framed box
                body = (f'<div class="legalqa-branch" style="{CASE_STYLE}"><p><strong>'
                        f"{_inline_html(s.label, mark_style)}</strong></p>{body}</div>")
            out.append(body)
        elif s.style == "lines":
            out.append("<p>" + "<br>".join(_inline_html(i.runs, mark_style) for i in s.items) + "</p>")
        elif s.style == "emphasis":
            out += [f"<p><em>{_inline_html(i.runs, mark_style)}</em></p>" for i in s.items]
        else:
            out += [f"<p>{_inline_html(i.runs, mark_style)}</p>" for i in s.items]
    return f'<div class="legalqa-answer">{"".join(out)}</div>'


# ---- JSON ---------------------------------------------------------------------------------------


def block_dict(block: Block) -> dict[str, Any]:
    """A block as JSON-ready data, with its ``type`` (a branch's statutes carry theirs too)."""
    data = {"type": block.type, **asdict(block)}
    if isinstance(block, Branch):
        data["statutes"] = [block_dict(st) for st in block.statutes]
    return data


def dumps(data: Any, indent: int | None = 2) -> str:
    """JSON with ``<``, ``>`` and ``&`` as \\u escapes: the same data, and no tag if pasted into HTML."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return re.sub(r"[<>&]", lambda m: _JSON_UNSAFE[m.group()], text)


def to_json(blocks: list[Block], indent: int | None = 2) -> str:
    """The blocks as a JSON array (``Answer.to_json`` gives the whole answer)."""
    return dumps([block_dict(b) for b in blocks], indent)
