"""Which 款 are alternatives: where the law distinguishes cases by a condition the question may leave open.

Read from the statutes' own structure, never from a list per article:

- **Parallel 款 of one article.** Two 款 whose conditions (or consequences) say the same thing but
  for one negation: 1064① 「…为家庭日常生活需要所负的债务，属于夫妻共同债务」 and 1064②
  「…超出家庭日常生活需要所负的债务，不属于夫妻共同债务」; 民间借贷规定 28① 「对逾期利率有约定的」
  and 28② 「未约定逾期利率或者约定不明的」. Or that say it for the two kinds of a pair the law
  enumerates (693① 一般保证 / 693② 连带责任保证).
- **Kinds the law enumerates.** 686① 「保证的方式包括一般保证和连带责任保证」 names two kinds. A 款
  that ends 「…的，为连带责任保证」 defines one (688①); the other 款 of that article say what follows
  from it (688②). A 款 that applies when nothing was agreed names the kind that then applies — the
  law's default (686② 「没有约定或者约定不明确的，按照一般保证承担保证责任」). A question that
  touches one kind without saying which was agreed has both sides: the default, and the other kind's
  definition.

A ``Side`` is one case: the words of its condition (verbatim, a span inside its 款), the 款 that
hold it, and the 款 that say what follows. ``settle`` says which side, if any, the question's own
words decide; when none, the answer quotes both sides, each with its condition.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from legalqa.index.sparse import tokenize
from legalqa.ingest.models import Chunk, Span
from legalqa.qa.paragraphs import asked_agreement, law_agreement

# Words that turn a condition or a consequence into its opposite.
_NEGATION = re.compile(r"不|未|没有|无|超出")
_CLAUSE_END = re.compile(r"[，,；;：:。]")
_SENTENCE_END = re.compile(r"[；;：:。]")
_PAIR = re.compile(r"(?:包括|分为)([\u4e00-\u9fff]{2,8})和([\u4e00-\u9fff]{2,8})。")
_DEFINES = re.compile(r"[，,]为([\u4e00-\u9fff]{2,8})。$")


def _is_default(text: str) -> bool:
    """A condition that applies when nothing (or nothing clear) was agreed: the law's default, by the same
    reading of 没有约定 / 约定不明 as the 款 model's (qa.paragraphs.law_agreement)."""
    return bool(law_agreement(text) & {"none", "unclear"})


# Two clauses are parallel when difflib finds at least this share of them in common (less when they name
# the two kinds of a pair: 一般保证的债权人… / 连带责任保证的债权人…).
PARALLEL_RATIO = 0.5
KIND_RATIO = 0.35


@dataclass(frozen=True)
class Place:
    """One 款 of one article."""

    chunk: Chunk
    paragraph: Span

    @property
    def key(self) -> tuple[str, int]:
        return (self.chunk.id, self.paragraph.index)


@dataclass(frozen=True)
class Side:
    """One case the law distinguishes: the words of its condition and the 款 that apply in it.

    ``condition`` is a span of ``places[0]``'s 款 (source offsets); ``places`` are the 款 to quote
    for this case, the condition's own 款 first; ``default`` marks the law's rule for when nothing
    was agreed; ``kind`` is the enumerated kind the side stands for, if any (一般保证).
    """

    condition: Span
    places: tuple[Place, ...]
    default: bool = False
    kind: str = ""

    @cached_property
    def agreement(self) -> frozenset[str]:
        return law_agreement(self.condition.text)


@dataclass(frozen=True)
class Alternatives:
    """Two sides of one distinction, the law's default (if any) first."""

    sides: tuple[Side, Side]

    def keys(self) -> set[tuple[str, int]]:
        return {p.key for s in self.sides for p in s.places}


def clauses(span: Span) -> list[Span]:
    """The clauses of a 款's first sentence (up to ；：。, split at ，), as spans with source offsets."""
    text = span.text
    stop = _SENTENCE_END.search(text)
    end = stop.start() if stop else len(text)
    out, start = [], 0
    for m in _CLAUSE_END.finditer(text[: end + 1]):
        if m.start() > start:
            out.append(Span(span.index, text[start : m.start()], span.start + start, span.start + m.start()))
        start = m.end()
    if start < end:
        out.append(Span(span.index, text[start:end], span.start + start, span.start + end))
    return out


def split_condition(span: Span) -> tuple[list[Span], list[Span]]:
    """(condition clauses, consequence clauses) of a 款's first sentence: the condition runs to the first
    clause that ends in 的 (「…没有约定或者约定不明确的，」), else to all but the last clause."""
    parts = clauses(span)
    if len(parts) < 2:
        return [], parts
    ends = [i for i, c in enumerate(parts[:-1]) if c.text.endswith("的")]
    cut = ends[0] + 1 if ends else len(parts) - 1
    return parts[:cut], parts[cut:]


def condition(span: Span) -> Span | None:
    """The words of a 款 that state when it applies (its condition clauses, verbatim), or None."""
    head, _ = split_condition(span)
    if not head:
        return None
    return Span(span.index, span.text[: head[-1].end - span.start], span.start, head[-1].end)


def _negated(text: str) -> list[str]:
    """The two characters each negation in ``text`` negates (未约定 → 约定, 不属于 → 属于, 超出家庭 → 家庭)."""
    return [text[m.end() : m.end() + 2] for m in _NEGATION.finditer(text) if len(text) >= m.end() + 2]


def _affirms(text: str, words: str) -> bool:
    """``words`` occur in ``text`` with no negation right before them."""
    return any(not _NEGATION.search(text[max(0, m.start() - 2) : m.start()]) for m in re.finditer(re.escape(words), text))


def _contrast(a: str, b: str, kinds: Iterable[tuple[str, str]]) -> bool:
    """Parallel clauses that say opposite things: one negates words the other affirms (未约定 / 有约定), or
    they name the two kinds of an enumerated pair (一般保证 / 连带责任保证)."""
    ratio = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    if ratio >= KIND_RATIO and any((x in a and y in b) or (y in a and x in b) for x, y in kinds):
        return True
    if ratio < PARALLEL_RATIO:
        return False
    return any(_affirms(b, w) for w in _negated(a)) or any(_affirms(a, w) for w in _negated(b))


def parallel(a: Span, b: Span, kinds: Iterable[tuple[str, str]] = ()) -> bool:
    """Whether two 款 of one article are alternatives: some clause of one and the clause in the same role
    of the other (a condition clause, or the consequence) contrast."""
    (ca, ra), (cb, rb) = split_condition(a), split_condition(b)
    if not ca or not cb:
        return False
    kinds = list(kinds)
    return any(_contrast(x.text, y.text, kinds) for x in ca for y in cb) or any(
        _contrast(x.text, y.text, kinds) for x in ra for y in rb)


class Structure:
    """The alternatives among the statute articles of an index, found on first use of each article.

    Args:
        chunks: the index's chunks (statute chunks of official provenance are read).
        article: (law, number, suffix) -> its chunk, or None.
    """

    def __init__(self, chunks: Iterable[Chunk], article: Callable[[str, int, int], Chunk | None]):
        self._statutes = [c for c in chunks if c.kind == "statute" and c.provenance == "official" and c.law]
        self._article = article
        self._cache: dict[tuple[str, int], Alternatives | None] = {}

    @cached_property
    def kinds(self) -> dict[str, list[tuple[str, str]]]:
        """Law -> the pairs of kinds it enumerates (包括X和Y。)."""
        out: dict[str, list[tuple[str, str]]] = {}
        for c in self._statutes:
            for p in c.paragraphs:
                for m in _PAIR.finditer(p.text):
                    out.setdefault(c.law, []).append((m.group(1), m.group(2)))
        return out

    @cached_property
    def definitions(self) -> dict[tuple[str, str], Place]:
        """(law, kind) -> the 款 that defines it (…的，为X。), for the enumerated kinds."""
        wanted = {(law, k) for law, pairs in self.kinds.items() for pair in pairs for k in pair}
        out: dict[tuple[str, str], Place] = {}
        for c in self._statutes:
            for p in c.paragraphs:
                m = _DEFINES.search(p.text)
                if m and (c.law, m.group(1)) in wanted:
                    out.setdefault((c.law, m.group(1)), Place(c, p))
        return out

    @cached_property
    def defaults(self) -> dict[tuple[str, str], Place]:
        """(law, kind) -> the 款 that applies the kind when nothing (clear) was agreed."""
        out: dict[tuple[str, str], Place] = {}
        for c in self._statutes:
            for p in c.paragraphs:
                cond = condition(p)
                if cond is None or not _is_default(cond.text):
                    continue
                rest = p.text[cond.end - p.start :]
                for pair in self.kinds.get(c.law, ()):
                    named = [k for k in pair if k in rest]
                    if len(named) == 1:
                        out.setdefault((c.law, named[0]), Place(c, p))
        return out

    def _follows(self, defined: Place) -> tuple[Place, ...]:
        """The other 款 of the article that defines a kind: what follows from it."""
        return tuple(Place(defined.chunk, p) for p in defined.chunk.paragraphs if p.index != defined.paragraph.index)

    def _kind_sides(self, law: str, pair: tuple[str, str]) -> Alternatives | None:
        sides = []
        for kind in pair:
            definition = self.definitions.get((law, kind))
            default = self.defaults.get((law, kind))
            start = default or definition
            cond = condition(start.paragraph) if start else None
            if start is None or cond is None:
                return None
            follows = self._follows(definition) if definition else ()
            places = (start,) + tuple(p for p in ((definition,) if default and definition else ()) + follows
                                      if p.key != start.key and (not default or p.key != definition.key))
            sides.append(Side(cond, places, default=default is not None, kind=kind))
        sides.sort(key=lambda s: not s.default)
        return Alternatives((sides[0], sides[1]))

    def alternatives(self, chunk: Chunk, paragraph: Span) -> Alternatives | None:
        """The distinction the 款 is one side of, or None. Parallel 款 of its own article come first; then
        a pair of enumerated kinds whose definition, default or consequences it is."""
        key = (chunk.id, paragraph.index)
        if key not in self._cache:
            self._cache[key] = self._find(chunk, paragraph)
        return self._cache[key]

    def _find(self, chunk: Chunk, paragraph: Span) -> Alternatives | None:
        law = chunk.law or ""
        kinds = self.kinds.get(law, [])
        for other in chunk.paragraphs:
            if other.index != paragraph.index and parallel(paragraph, other, kinds):
                pair = []
                for p in sorted((paragraph, other), key=lambda s: s.index):
                    cond = condition(p)
                    if cond is None:
                        break
                    pair.append(Side(cond, (Place(chunk, p),), default=_is_default(cond.text)))
                if len(pair) == 2:
                    pair.sort(key=lambda s: not s.default)
                    return Alternatives((pair[0], pair[1]))
        here = Place(chunk, paragraph).key
        for pair in kinds:
            alts = self._kind_sides(law, pair)
            if alts is not None and here in alts.keys():
                return alts
        return None


def distinctive(side: Side, other: Side) -> set[str]:
    """Words a side says that nothing on the other side says: in its condition, its kind's name and the 款
    that holds its condition (超出, 债权人能够证明 for 1064②; 连带 for 连带责任保证)."""
    theirs = "".join(p.paragraph.text for p in other.places) + other.condition.text + other.kind
    mine = set(tokenize(side.condition.text + side.kind + side.places[0].paragraph.text))
    return {t for t in mine if len(t) >= 2 and t not in theirs}


def ruling(side: Side, other: Side) -> set[str]:
    """Words of what a side rules (its kind's name, the consequence of its condition's 款) that nothing on the
    other side says: 连带责任 for 「…的，为连带责任保证」. Prose that says them states that side's rule."""
    theirs = "".join(p.paragraph.text for p in other.places) + other.condition.text + other.kind
    _, consequence = split_condition(side.places[0].paragraph)
    mine = set(tokenize(side.kind + "".join(c.text for c in consequence)))
    return {t for t in mine if len(t) >= 2 and t not in theirs}


@dataclass(frozen=True)
class Settled:
    """The side a question decides (0 or 1), and how: by what it says was (not) agreed, or by its words."""

    side: int
    by_agreement: bool


def settle(alts: Alternatives, question: str) -> Settled | None:
    """Which side the question's own words decide, or None when they leave it open.

    What the question says about an agreement decides first (没写 → the side whose condition is that
    nothing or nothing clear was agreed); then words only one side says (连带, 超出, 证明 …). When both
    sides or neither have such words, the question leaves it open.
    """
    status = asked_agreement(question)
    if status is not None:
        fits = [i for i, s in enumerate(alts.sides) if status in s.agreement]
        if len(fits) == 1:
            return Settled(fits[0], True)
    a, b = alts.sides
    said = set(tokenize(question))
    evidence = [bool(distinctive(a, b) & said), bool(distinctive(b, a) & said)]
    if evidence.count(True) == 1:
        return Settled(evidence.index(True), False)
    return None
