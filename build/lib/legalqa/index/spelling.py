"""Homophone typos (网代 → 网贷, 崔收 → 催收, 身份正 → 身份证), corrected by pinyin.

People type Chinese through pinyin input, so their typos are usually words that sound like the
right one. A window of the question whose pinyin equals that of a word the corpus uses, while the
window itself is neither a corpus word nor a word of the general dictionary (同事 stays 同事), is
taken for that word.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from legalqa.index.expansion import Rule
from pypinyin import lazy_pinyin

if TYPE_CHECKING:
    import jieba

_CJK = re.compile(r"^[\u4e00-\u9fff]+$")


@dataclass(frozen=True)
class Correction:
    written: str
    meant: str
    start: int


class Speller:
    """Corrects homophone typos against a lexicon (the words of the indexed corpus)."""

    def __init__(
        self, lexicon: Iterable[str], known: Container[str] = frozenset(), min_len: int = 2, max_len: int = 4,
        tokenizer: jieba.Tokenizer | None = None,
    ):
        words = {w for w in lexicon if min_len <= len(w) <= max_len and _CJK.match(w)}
        by_sound: dict[tuple[str, ...], set[str]] = {}
        for w in words:
            by_sound.setdefault(tuple(lazy_pinyin(w)), set()).add(w)
        # A sound shared by two corpus words is ambiguous: leave such windows alone.
        self.by_sound = {s: next(iter(ws)) for s, ws in by_sound.items() if len(ws) == 1}
        self.words = words
        self.known = known  # real words that are never typos, e.g. jieba's dictionary
        self.lengths = sorted({len(w) for w in words}, reverse=True)
        self.tokenizer = tokenizer  # finds the real words a correction may not cut (None: the installed one)

    def corrections(self, text: str, inside_words: set[int] | None = None) -> list[Correction]:
        """Typos in ``text``. A window may not start or end at an offset in ``inside_words`` (the
        inside of a real word): in 家人和同事, 和同 is not 合同 because it cuts 同事 in half."""
        out: list[Correction] = []
        taken = [False] * len(text)
        for n in self.lengths:
            for i in range(len(text) - n + 1):
                window = text[i : i + n]
                if any(taken[i : i + n]) or window in self.words or window in self.known or not _CJK.match(window):
                    continue
                if inside_words and (i in inside_words or i + n in inside_words):
                    continue
                meant = self.by_sound.get(tuple(lazy_pinyin(window)))
                if meant is not None:
                    out.append(Correction(window, meant, i))
                    taken[i : i + n] = [True] * n
        return sorted(out, key=lambda c: c.start)

    def correct(self, text: str) -> tuple[str, list[Correction]]:
        fixes = self.corrections(text, inside_real_words(text, self.known, self.tokenizer))
        for c in reversed(fixes):
            text = text[: c.start] + c.meant + text[c.start + len(c.written) :]
        return text, fixes


def domain_words(
    rules: Iterable[Rule] = (),
    hints: Mapping[str, str] | None = None,
    terms: str | None = None,
    tokenizer: jieba.Tokenizer | None = None,
) -> set[str]:
    """The words typos are corrected to: the legal dictionary, expansion triggers and terms, hint words.

    Args:
        rules: expansion rules (index/expansion.py).
        hints: the article hint table (index/hints.py); None reads the installed one.
        terms: the text of legal_terms.txt; None reads the installed one.
        tokenizer: segments the hints (``sparse.tokenizer_for``); None uses the installed dictionary.
    """
    from legalqa.index.hints import load_hints
    from legalqa.index.sparse import LEGAL_TERMS, tokenize

    terms = LEGAL_TERMS.read_text(encoding="utf-8") if terms is None else terms
    legal = {line.split()[0] for line in terms.splitlines() if line.strip()}
    words: set[str] = set()
    for rule in rules:
        words.update(rule.triggers)
        words.update(rule.terms)
    for hint in (load_hints() if hints is None else hints).values():
        words.update(tokenize(hint, tokenizer))
    # Very common words (任何, 他们) are not domain words: a typo is rarely meant as one of them.
    freq = _dictionary_freq(tokenizer)
    return legal | {w for w in words if freq.get(w, 0) <= COMMON_WORD_FREQ}


COMMON_WORD_FREQ = 5000  # jieba dictionary frequency above which a word counts as everyday, not domain


def _dictionary_freq(tokenizer: jieba.Tokenizer | None = None) -> dict[str, int]:
    from legalqa.index.sparse import _tokenizer

    return (tokenizer or _tokenizer()).FREQ


def dictionary_words(tokenizer: jieba.Tokenizer | None = None) -> frozenset[str]:
    """Every word of jieba's general dictionary: real words are never taken for typos."""
    from legalqa.index.sparse import _tokenizer

    return _dictionary_words(tokenizer or _tokenizer())


@lru_cache(maxsize=2)
def _dictionary_words(tokenizer: jieba.Tokenizer) -> frozenset[str]:
    return frozenset(w for w, f in _dictionary_freq(tokenizer).items() if f > 0)


def inside_real_words(text: str, known: Container[str], tokenizer: jieba.Tokenizer | None = None) -> set[int]:
    """Offsets strictly inside the dictionary words jieba finds in ``text`` (同事 in 家人和同事).

    Words jieba only guesses (人要 in 担宝人要还钱) do not count: typos make such guesses.
    """
    from legalqa.index.sparse import _tokenizer

    inside, pos = set(), 0
    for token in (tokenizer or _tokenizer()).cut(text):
        if len(token) > 1 and token in known:
            inside.update(range(pos + 1, pos + len(token)))
        pos += len(token)
    return inside
