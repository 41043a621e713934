"""BM25 over jieba tokens (bm25s), with a legal user dictionary.

The dictionary keeps terms such as 连带责任保证 and 夫妻共同债务 whole, so a
query for the term matches it as one token rather than as common pieces.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import bm25s
import jieba
import numpy as np

LEGAL_TERMS = Path(__file__).with_name("data") / "legal_terms.txt"

# Function words that carry no retrieval signal in legal questions.
STOPWORDS = frozenset(
    "的 了 是 在 和 与 或 及 等 对 把 被 从 向 以 为 之 其 这 那 有 也 就 都 而 但 "
    "吗 呢 吧 啊 呀 么 嘛 我 你 他 她 它 我们 你们 他们 自己 什么 怎么 怎么办 如何 "
    "可以 能 会 要 应该 需要 一个 没有 不 又 再 让 给 跟 如果 因为 所以 "
    "请问 一下 这个 那个 哪些 是否 吗 啥".split()
)
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
jieba.setLogLevel(logging.WARNING)


@lru_cache(maxsize=4)
def tokenizer_for(terms: str) -> jieba.Tokenizer:
    """A private jieba tokenizer with ``terms`` (the text of a legal_terms.txt) as its user dictionary.

    Private, so the legal dictionary never leaks into a caller's jieba; cached by the text, so an
    index's pinned copy of the shipped dictionary shares the tokenizer built from the shipped file.
    """
    tok = jieba.Tokenizer()
    tok.initialize()
    tok.load_userdict(io.BytesIO(terms.encode("utf-8")))
    return tok


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    return tokenizer_for(LEGAL_TERMS.read_text(encoding="utf-8"))


def segment(text: str) -> list[str]:
    """Split text into words as written (jieba's precise mode, the installed legal dictionary), every
    character kept: for reading a sentence's structure, where ``tokenize`` feeds BM25."""
    return _tokenizer().lcut(text)


def tokenize(text: str, tokenizer: jieba.Tokenizer | None = None) -> list[str]:
    """Segment text for BM25: jieba search mode, NFKC-folded, without stopwords or punctuation.

    ``tokenizer`` is one from ``tokenizer_for``; the default uses the installed legal_terms.txt.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    return [
        t
        for t in (tokenizer or _tokenizer()).cut_for_search(text)
        if t.strip() and t not in STOPWORDS and not _PUNCT.match(t)
    ]


class SparseIndex:
    """A bm25s index over chunk texts, addressed by row number.

    ``tokenizer`` segments the texts and the queries alike (``tokenizer_for``; None: the installed
    legal dictionary): an index queried with another dictionary than it was built with scores wrong.
    """

    def __init__(self, bm25: bm25s.BM25, tokenizer: jieba.Tokenizer | None = None):
        self.bm25 = bm25
        self.tokenizer = tokenizer

    @property
    def size(self) -> int:
        return int(self.bm25.scores["num_docs"])

    @classmethod
    def build(cls, texts: list[str], tokenizer: jieba.Tokenizer | None = None) -> SparseIndex:
        bm25 = bm25s.BM25()
        bm25.index([tokenize(t, tokenizer) or [""] for t in texts], show_progress=False)
        return cls(bm25, tokenizer)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for the query (zeros when no query token is known)."""
        tokens = tokenize(query, self.tokenizer)
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)

    def save(self, folder: Path) -> None:
        self.bm25.save(str(folder), allow_pickle=False, show_progress=False)

    @classmethod
    def load(cls, folder: Path, tokenizer: jieba.Tokenizer | None = None) -> SparseIndex:
        return cls(bm25s.BM25.load(str(folder), allow_pickle=False, show_progress=False, verbosity=0), tokenizer)
