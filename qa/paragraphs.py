"""Which 款 of a cited article, and which 项 of a 款, answer the question.

An article often states a rule in one 款 and its default, exception or special case in another;
which one answers a question decides the answer. Each candidate span (a 款 among the article's
款, or a 项 among its 款's 项) is described by measured features (``FEATURES``): how much of the
question's wording it holds, how much of it only this span holds among its siblings (words, and
pairs of characters, which catch 撤案 → 撤销案件), whether its condition says something was
agreed, not agreed or agreed unclearly as the question says (``agreement``), and where it stands
(first, refers back to 前款, defines a term, states an exception, its length). A logistic model
scores each span; the best one is quoted. It is trained on the tune split of eval/questions.jsonl
by ``scripts/train_paragraphs.py`` (weights in ``qa/data/paragraph_model.json``); scoring is
plain numpy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from legalqa.index.sparse import tokenize
from legalqa.ingest.models import Chunk, Span
from legalqa.qa.modelfile import load_model, save_model
from legalqa.qa.terms import overlap, term_weights

DEFAULT_MODEL = Path(__file__).with_name("data") / "paragraph_model.json"

FEATURES = (
    "overlap",  # share of the question's weight (its words and expansion terms) found in the span
    "distinct_words",  # … found in this span and in no sibling
    "distinct_pairs",  # question character pairs found in this span and in no sibling
    "agreement",  # +1 the span's condition agrees with what the question says was (not) agreed, -1 it contradicts
    "first",  # the first span of its siblings
    "refers_back",  # it refers to 前款 / 前项 …: it qualifies another span
    "defines",  # it defines a term (所称 / 是指)
    "exception",  # it states an exception (但是 / 除外)
    "length",  # log of its length
)

_REFERS_BACK = re.compile(r"前款|前两款|前三款|前项|前两项")
_DEFINES = re.compile(r"所称|是指")
_EXCEPTION = re.compile(r"但是|除外")
_NOT_A_PAIR = re.compile(r"[\W\d_a-zA-Z]")


# What a text says about an agreement. In the statute: 没有约定 / 未约定 (none), 约定不明确 (unclear),
# 约定 otherwise (agreed). In a question, people say 写/说/提/签/定 as well as 约定.
_LAW_NONE = re.compile(r"没有约定|未约定|无约定|没有载明|未表明")
_LAW_UNCLEAR = re.compile(r"约定不明")
_LAW_AGREED = re.compile(r"(?<!没有)(?<!未)(?<!无)约定(?!不明)")
_ASK_UNCLEAR = re.compile(r"[没沒](?:有)?(?:写|寫|说|說|讲|講)(?:清|明|多少)|不清楚|不明确|不明確|约定不明|約定不明")
_ASK_NONE = re.compile(r"[没沒未](?:有)?(?:写|寫|约定|約定|说|說|提|签|簽|定|讲|講|注明|写明|寫明)")
_ASK_AGREED = re.compile(r"写了|寫了|写着|寫著|约定了|約定了|说好|說好|讲好|講好|签了|簽了|(?<![没沒未])(?:约定|約定)")


class ParagraphModelError(ValueError):
    """A 款 model file that cannot be used; the message says why and the fix."""


@dataclass(frozen=True)
class AskedTerms:
    """The question as the 款 scorer reads it: its text as searched, and its weighted words."""

    text: str  # normalized, typos corrected
    weights: dict[str, float]  # the question's tokens and expansion terms, by length (qa.terms)
    own: dict[str, float]  # the question's own tokens only

    @property
    def own_weight(self) -> float:
        """The summed weight of the question's own tokens (the overlap share's base)."""
        return sum(self.own.values())


def asked_terms(searched: str, expansion_terms: Sequence[str] = ()) -> AskedTerms:
    """The question as searched (normalized, typos corrected) and the terms its expansion rules added."""
    tokens = tokenize(searched)
    return AskedTerms(searched, term_weights(tokens + list(expansion_terms)), term_weights(tokens))


def sibling_items(chunk: Chunk, paragraph: int) -> list[Span]:
    """The 项 of one 款 of an article (its index as the 款's number), in order."""
    return [s for k, s in chunk.items if k == paragraph]


def law_agreement(text: str) -> frozenset[str]:
    """What a statute span says about an agreement: any of "none", "unclear", "agreed"."""
    out = set()
    if _LAW_NONE.search(text):
        out.add("none")
    if _LAW_UNCLEAR.search(text):
        out.add("unclear")
    if _LAW_AGREED.search(text):
        out.add("agreed")
    return frozenset(out)


def asked_agreement(text: str) -> str | None:
    """What a question says about an agreement: "unclear", "none", "agreed", or None when it says nothing."""
    for status, pattern in (("unclear", _ASK_UNCLEAR), ("none", _ASK_NONE), ("agreed", _ASK_AGREED)):
        if pattern.search(text):
            return status
    return None


def agreement_match(asked: str | None, law: frozenset[str]) -> float:
    """+1 when a statute span speaks of the agreement status the question states, -1 when it speaks only of
    others, 0 when either says nothing."""
    if asked is None or not law:
        return 0.0
    return 1.0 if asked in law else -1.0


def char_pairs(text: str) -> set[str]:
    """The character pairs of ``text`` that can say something (no punctuation, digit or Latin letter)."""
    return {text[i : i + 2] for i in range(len(text) - 1) if not _NOT_A_PAIR.search(text[i : i + 2])}


def span_features(asked: AskedTerms, spans: Sequence[Span]) -> np.ndarray:
    """One row of FEATURES per span; ``spans`` are siblings (the 款 of one article, or the 项 of one 款)."""
    if not spans:
        return np.zeros((0, len(FEATURES)))
    total = asked.own_weight or 1.0
    status = asked_agreement(asked.text)
    asked_pairs = char_pairs(asked.text)
    rows = []
    for k, sp in enumerate(spans):
        others = "".join(o.text for j, o in enumerate(spans) if j != k)
        distinct = {t: w for t, w in asked.weights.items() if t in sp.text and t not in others}
        other_pairs = char_pairs(others)
        rows.append([
            overlap(asked.weights, sp.text) / total,
            sum(distinct.values()) / total,
            float(len({p for p in asked_pairs if p in sp.text and p not in other_pairs})),
            agreement_match(status, law_agreement(sp.text)),
            float(k == 0),
            float(bool(_REFERS_BACK.search(sp.text))),
            float(bool(_DEFINES.search(sp.text))),
            float(bool(_EXCEPTION.search(sp.text))),
            math.log(max(len(sp.text), 1)),
        ])
    return np.asarray(rows, dtype=float)


@dataclass(frozen=True)
class ParagraphModel:
    """A logistic model over FEATURES: the span with the highest score among its siblings is quoted."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    features: tuple[str, ...] = FEATURES
    trained: dict[str, Any] = field(default_factory=dict, compare=False)  # how and on what

    def __post_init__(self) -> None:
        fix = "请运行 python scripts/train_paragraphs.py 重新训练"
        if tuple(self.features) != FEATURES:
            raise ParagraphModelError(f"款选择模型的特征 {list(self.features)} 与代码的 {list(FEATURES)} 不一致：{fix}")
        if not (len(self.mean) == len(self.scale) == len(self.coef) == len(FEATURES)):
            raise ParagraphModelError(f"mean、scale、coef 都应有 {len(FEATURES)} 个数：{fix}")
        if any(s <= 0 for s in self.scale):
            raise ParagraphModelError(f"scale 中有非正数：款选择模型文件已损坏，{fix}")

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL) -> ParagraphModel:
        return load_model(path, "款选择模型", "scripts/train_paragraphs.py", ParagraphModelError, lambda raw: cls(
            mean=tuple(float(x) for x in raw["mean"]), scale=tuple(float(x) for x in raw["scale"]),
            coef=tuple(float(x) for x in raw["coef"]), intercept=float(raw["intercept"]),
            features=tuple(raw["features"]), trained=dict(raw.get("trained", {})),
        ))

    def save(self, path: str | Path) -> None:
        save_model(path, self)

    def scores(self, x: np.ndarray) -> np.ndarray:
        """The model's logit for each row of a FEATURES matrix (higher: more likely the span that answers)."""
        if x.shape[0] == 0:
            return np.zeros(0)
        return (x - np.asarray(self.mean)) / np.asarray(self.scale) @ np.asarray(self.coef) + self.intercept

    def rank(self, asked: AskedTerms, spans: Sequence[Span]) -> list[int]:
        """Positions of ``spans``, best first (the earlier of equals first)."""
        s = self.scores(span_features(asked, spans))
        return sorted(range(len(spans)), key=lambda i: (-s[i], i))
