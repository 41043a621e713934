"""Compare what prose quotes after a citation with the statute's official text.

The seed article quotes 民法典第六百八十一条 without "或者发生当事人约定的情形";
this module finds such differences so the answer can quote the law and say
where the article's paraphrase departs from it. Also used by ``legalqa verify``:
``presented_after`` reads how a text gives the words after a citation (quoted, set
out under it, or in the running sentence) and ``mask_markdown`` lets it read through
Markdown without moving an offset.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher

# Quotation marks around a quoted passage, in the forms Chinese text uses.
_QUOTED = re.compile(
    r"^[\s:：]*(?:的?(?:中|里|明确|明文)?(?:规定|写道|指出|载明|表述为)[\s:：,，]*)?[「“\"『]([^」”\"』]{4,})[」”\"』]"
)
# What an answer writes between a citation and the words it gives as the article's: 规定：, ：, ，
_LEAD_IN = re.compile(r"[\s:：,，]*(?:的?(?:中|里|明确|明文)?(?:规定|写道|指出|载明|表述为))?[\s:：,，]*")
_SENTENCE = re.compile(r"[^。！？!?]*[。！？!?]?")
# Below this similarity the text after a citation is a summary, not an attempt at a quote.
PARAPHRASE_BELOW = 0.55


def normalize(text: str) -> str:
    """Fold full-width/half-width forms (，→,) and drop whitespace: differences that are not wording."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@dataclass(frozen=True)
class Difference:
    op: str  # "missing" (in the law, not the quote), "added" (in the quote, not the law), "changed"
    official: str
    quoted: str

    def describe(self) -> str:
        """The difference in a few words: the one wording of answers, verify, the page and the ingest report."""
        if self.op == "missing":
            return f"漏掉了「{self.official}」"
        if self.op == "added":
            return f"多出了「{self.quoted}」"
        return f"把「{self.official}」写成了「{self.quoted}」"


@dataclass(frozen=True)
class QuoteCheck:
    status: str  # "exact" | "differs" | "paraphrase"
    similarity: float
    differences: tuple[Difference, ...] = field(default_factory=tuple)
    matched_official: str = ""  # the part of the official text compared against

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> QuoteCheck:
        """The check as ``to_dict`` wrote it (the index keeps the ingest report as JSON)."""
        diffs = tuple(Difference(d["op"], d["official"], d["quoted"]) for d in data.get("differences", ()))
        return cls(data["status"], data["similarity"], diffs, data.get("matched_official", ""))


def misquote_note(title: str, check: QuoteCheck) -> str:
    """What an answer says under a statute that the prose source ``title`` quotes inexactly or paraphrases."""
    if check.status == "paraphrase":
        return f"文章《{title}》对本条的表述是概括性的说法，并非法条原文；以上以法条原文为准。"
    parts = "，".join(d.describe() for d in check.differences)
    return f"文章《{title}》引用本条时与法条原文不一致：{parts}；以上以法条原文为准。"


def compare_quote(quoted: str, official_parts: list[str]) -> QuoteCheck:
    """Check a quotation against an article's official text.

    ``official_parts`` are the article's whole text and its 款: a quote of one 款
    is judged against that 款. Exact means equal after width/whitespace folding,
    or a verbatim part of the official text. The similarity is that of the quote to
    the stretch of official text it lines up with, so a quote of one sentence of a
    long article is judged as a quote of that sentence.
    """
    q = normalize(quoted).rstrip("。.;；")
    # An article of one 款 is its own only part: compare it once.
    official_parts = list(dict.fromkeys(official_parts))
    normalized = [normalize(part) for part in official_parts]
    for part, o in zip(official_parts, normalized, strict=True):
        if q and q in o:
            return QuoteCheck("exact", 1.0, (), part)
    best: tuple[float, str, str] = (-1.0, "", "")
    for part, o in zip(official_parts, normalized, strict=True):
        ratio = similarity(o, q)
        if ratio > best[0]:
            best = (ratio, o, part)
    ratio, o, part = best
    if ratio < PARAPHRASE_BELOW:
        return QuoteCheck("paraphrase", round(ratio, 3), (), part)
    return QuoteCheck("differs", round(ratio, 3), tuple(diff(o, q.rstrip("。"))), part)


def similarity(official: str, quoted: str) -> float:
    """How close ``quoted`` is to the stretch of ``official`` it lines up with (0..1), both normalized.

    SequenceMatcher's ratio over the whole article would call a faithful quote of one
    sentence a paraphrase; here the official text is cut to the span from the first to the
    last matching character. A summary matches words scattered over the article, so its
    span stays long and its similarity low.
    """
    if not official or not quoted:
        return 0.0
    sm = SequenceMatcher(None, official, quoted, autojunk=False)
    blocks = [b for b in sm.get_matching_blocks() if b.size]
    if not blocks:
        return 0.0
    matched = sum(b.size for b in blocks)
    span = blocks[-1].a + blocks[-1].size - blocks[0].a
    return max(sm.ratio(), 2 * matched / (span + len(quoted)))


def diff(official: str, quoted: str) -> list[Difference]:
    """Character-level differences between two normalized strings."""
    out = []
    # A quote usually stops at the end of a sentence: ignore the official text's tail past the quote.
    sm = SequenceMatcher(None, official, quoted, autojunk=False)
    ops = sm.get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        if tag == "delete":
            out.append(Difference("missing", official[i1:i2], ""))
        elif tag == "insert":
            out.append(Difference("added", "", quoted[j1:j2]))
        else:
            out.append(Difference("changed", official[i1:i2], quoted[j1:j2]))
    # Trailing official text after the quote's last character is an excerpt, not a misquote.
    if out and ops and ops[-1][0] == "delete" and ops[-1][3] == len(quoted):
        out.pop()
    if out and ops and ops[0][0] == "delete" and ops[0][3] == 0:
        out.pop(0)
    return out


def quoted_after(text: str, end: int, stop: int) -> tuple[str, int, int] | None:
    """The words that follow a citation ending at ``end``, up to ``stop``: a quotation, or the next paragraph.

    Returns (words, start, end) or None when nothing follows.
    """
    rest = text[end:stop]
    m = _QUOTED.match(rest)
    if m:
        return m.group(1), end + m.start(1), end + m.end(1)
    # Otherwise: the rest of this line, or else the next non-empty paragraph.
    offset = 0
    line_end = rest.find("\n")
    same_line = rest if line_end < 0 else rest[:line_end]
    if not same_line.strip(" :：\t"):
        offset = len(same_line)
        tail = rest[offset:]
        lead = len(tail) - len(tail.lstrip())
        offset += lead
        tail = tail[lead:]
        para_end = re.search(r"\n\s*\n", tail)
        same_line = tail if para_end is None else tail[: para_end.start()]
    else:
        lead = len(same_line) - len(same_line.lstrip(" :：\t"))
        offset = lead
        same_line = same_line[lead:]
    words = same_line.rstrip()
    if len(normalize(words)) < 4:
        return None
    return words, end + offset, end + offset + len(words)


@dataclass(frozen=True)
class Presented:
    """Words a text gives right after a citation as (or in place of) the article's text."""

    words: str
    start: int
    end: int
    how: str  # "quoted" (in quotation marks), "block" (the lines under a citation that ends its line), "inline"


def presented_after(
    text: str, end: int, stop: int, continues: Callable[[str], bool] | None = None
) -> Presented | None:
    """The words after a citation ending at ``end`` (up to ``stop``), and how the text presents them.

    - "quoted": “…” right after the citation (规定：“…”);
    - "block": the citation ends its line and the next line follows; further lines join while
      ``continues(line)`` says they still quote the article (a 款 each);
    - "inline": the first sentence after the citation on its own line (规定，…。).

    None when nothing of at least four characters follows. Run on ``mask_markdown`` text,
    so emphasis and list marks do not hide a line's end.
    """
    rest = text[end:stop]
    m = _QUOTED.match(rest)
    if m:
        return Presented(m.group(1), end + m.start(1), end + m.end(1), "quoted")
    lead = _LEAD_IN.match(rest).end()
    first_nl = rest.find("\n")
    if first_nl < 0 or lead <= first_nl:  # the lead-in stays on the citation's line
        line_end = len(rest) if first_nl < 0 else first_nl
        if len(normalize(rest[lead:line_end])) >= 4:
            words = _SENTENCE.match(rest, lead, line_end).group().rstrip()
            return Presented(words, end + lead, end + lead + len(words), "inline")
        if first_nl < 0:
            return None
    lines = [(mo.start(), mo.end()) for mo in re.finditer(r"[^\n]+", rest) if mo.start() > first_nl
             and mo.group().strip()]
    if not lines:
        return None
    last = lines[0]
    for line in lines[1:]:
        if continues is None or not continues(rest[line[0] : line[1]]):
            break
        last = line
    a, b = lines[0][0], last[1]
    a += len(rest[a:b]) - len(rest[a:b].lstrip())
    b -= len(rest[a:b]) - len(rest[a:b].rstrip())
    if len(normalize(rest[a:b])) < 4:
        return None
    return Presented(rest[a:b], end + a, end + b, "block")


_MD_LINE_START = re.compile(r"(?m)^[ \t]*(?:(?:>[ \t]?)+|#{1,6}[ \t]|[-*+][ \t]|[0-9]{1,3}[.)][ \t])*")
_MD_RULE = re.compile(r"(?m)^[ \t]*(?:[-*_][ \t]*){3,}$|^[ \t]*\|?(?:[ \t]*:?-{3,}:?[ \t]*\|)+[ \t]*:?-*:?[ \t]*$")
_MD_INLINE = re.compile(r"\*+|_{2,}|~~|`+|\|")


def mask_markdown(text: str) -> str:
    """``text`` with Markdown marks (#, >, list bullets, **, `, table pipes, rules) turned into spaces.

    The length and every offset stay the same, so a citation found in the masked text is
    found at the same place in the original; the words are untouched.
    """
    def blank(m: re.Match[str]) -> str:
        marks = m.group()
        return " " * len(marks) if "\n" not in marks else "".join("\n" if ch == "\n" else " " for ch in marks)

    for pattern in (_MD_RULE, _MD_LINE_START, _MD_INLINE):
        text = pattern.sub(blank, text)
    return text
