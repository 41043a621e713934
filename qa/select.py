"""Which retrieved statute articles an answer cites, and in what order.

Retrieval ranks passages; citing is a different decision: the answer should quote the article
that answers the question first, and add a second or third only when it is likely to be needed
too. A logistic model scores every statute candidate from what retrieval already knows (its
fused rank, dense and BM25 scores, how much of the question's wording its text and hints
share, whether the question named it). It is trained on the tune split of eval/questions.jsonl
by ``scripts/train_selector.py``, which also picks the threshold by cross-validation; the
coefficients live in ``qa/data/citation_selector.json``. Scoring is plain numpy: nothing here
imports a learning library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from legalqa.index.search import Hit, SearchResult
from legalqa.qa.modelfile import load_model, save_model
from legalqa.qa.terms import overlap

DEFAULT_MODEL = Path(__file__).with_name("data") / "citation_selector.json"

# Column order of the feature matrix; a model file names the columns it was trained on.
FEATURES = (
    "rank",  # 1 / rank among all hits (article passages take ranks too)
    "dense_gap",  # cosine similarity minus the best candidate's
    "bm25",  # BM25 score over the best candidate's
    "bm25_rank",  # 1 / BM25 rank, 0 when BM25 did not return it
    "text_overlap",  # share of the question's wording (by length) found in the article text
    "hint_overlap",  # … found in the article's plain-language hints (index/data/article_hints.tsv)
    "named",  # the question named this article
    "length",  # log of the article's length: long articles answer more questions
    "prose_rank",  # 1 / rank of the best article passage; 0 when none was retrieved
)


class SelectorError(ValueError):
    """A citation-selector model file that cannot be used; the message says why and the fix."""


def candidates(result: SearchResult, limit: int) -> list[Hit]:
    """The statute hits a citation may be chosen from, best fused rank first."""
    return [h for h in result.hits if h.chunk.kind == "statute"][:limit]


def candidate_features(
    result: SearchResult, cands: list[Hit], question_weights: dict[str, float], hints: dict[str, str]
) -> np.ndarray:
    """One row of FEATURES per candidate.

    Args:
        result: the search the candidates came from (for the article-passage rank).
        cands: statute hits, from ``candidates``.
        question_weights: the searched question's tokens with their weights (qa.terms), without
            expansion terms, so the overlap measures the person's own words.
        hints: citation -> hint words, as the index was built with them (IndexData.hints).
    """
    if not cands:
        return np.zeros((0, len(FEATURES)))
    total = sum(question_weights.values()) or 1.0
    best_dense = max(h.dense_score or 0.0 for h in cands)
    best_bm25 = max(h.bm25_score or 0.0 for h in cands)
    prose = [h.rank for h in result.hits if h.chunk.kind != "statute" and h.rank > 0]
    prose_rank = 1.0 / min(prose) if prose else 0.0
    rows = []
    for h in cands:
        text = h.chunk.text
        rows.append([
            1.0 / h.rank if h.rank > 0 else 0.0,
            (h.dense_score or 0.0) - best_dense,
            (h.bm25_score or 0.0) / best_bm25 if best_bm25 > 0 else 0.0,
            1.0 / h.bm25_rank if h.bm25_rank else 0.0,
            overlap(question_weights, text) / total,
            overlap(question_weights, hints.get(h.chunk.citation or "", "")) / total,
            float(h.exact),
            math.log(max(len(text), 1)),
            prose_rank,
        ])
    return np.asarray(rows, dtype=float)


@dataclass(frozen=True)
class CitationSelector:
    """A logistic model over FEATURES, and the rule that turns its probabilities into citations.

    The first candidate by probability is always cited; others are cited while their
    probability is at least ``threshold``, up to ``max_cited`` in all. Articles the question
    names are cited first and always.
    """

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    max_cited: int = 3
    depth: int = 10  # statute candidates considered
    hits: int = 15  # retrieval depth the candidates come from (features such as rank depend on it)
    features: tuple[str, ...] = FEATURES
    trained: dict[str, Any] = field(default_factory=dict, compare=False)  # how and on what

    def __post_init__(self) -> None:
        if tuple(self.features) != FEATURES:
            raise SelectorError(
                f"模型的特征 {list(self.features)} 与代码的 {list(FEATURES)} 不一致："
                "请运行 python scripts/train_selector.py 重新训练"
            )
        n = len(FEATURES)
        if not (len(self.mean) == len(self.scale) == len(self.coef) == n):
            raise SelectorError(f"mean、scale、coef 都应有 {n} 个数：请运行 python scripts/train_selector.py 重新训练")
        if not 0.0 <= self.threshold <= 1.0:
            raise SelectorError(f"threshold 应在 0 到 1 之间，现在是 {self.threshold}")
        if min(self.max_cited, self.depth, self.hits) < 1:
            raise SelectorError(f"max_cited、depth、hits 至少为 1，现在是 {self.max_cited}、{self.depth}、{self.hits}")
        if any(s <= 0 for s in self.scale):
            raise SelectorError("scale 中有非正数：模型文件已损坏，请运行 python scripts/train_selector.py 重新训练")

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL) -> CitationSelector:
        return load_model(path, "引用选择模型", "scripts/train_selector.py", SelectorError, lambda raw: cls(
            mean=tuple(float(x) for x in raw["mean"]),
            scale=tuple(float(x) for x in raw["scale"]),
            coef=tuple(float(x) for x in raw["coef"]),
            intercept=float(raw["intercept"]),
            threshold=float(raw["threshold"]),
            max_cited=int(raw.get("max_cited", 3)),
            depth=int(raw.get("depth", 10)),
            hits=int(raw.get("hits", 15)),
            features=tuple(raw["features"]),
            trained=dict(raw.get("trained", {})),
        ))

    def save(self, path: str | Path) -> None:
        save_model(path, self)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """P(the article is one a lawyer would cite) for each row of a FEATURES matrix."""
        if x.shape[0] == 0:
            return np.zeros(0)
        z = (x - np.asarray(self.mean)) / np.asarray(self.scale) @ np.asarray(self.coef) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def choose(self, cands: list[Hit], probs: np.ndarray) -> list[tuple[Hit, float]]:
        """The candidates to cite with their probabilities, in the order the answer quotes them."""
        named = [(h, float(p)) for h, p in zip(cands, probs, strict=True) if h.exact]
        if named:
            return named
        order = sorted(zip(cands, probs, strict=True), key=lambda hp: -hp[1])
        return [(h, float(p)) for i, (h, p) in enumerate(order)
                if i == 0 or (i < self.max_cited and p >= self.threshold)]

    def select(
        self, result: SearchResult, question_weights: dict[str, float], hints: dict[str, str]
    ) -> list[tuple[Hit, float]]:
        """Candidates, features, probabilities and choice in one call."""
        cands = candidates(result, self.depth)
        return self.choose(cands, self.probabilities(candidate_features(result, cands, question_weights, hints)))


def by_rerank_margin(hits: list[Hit], margin: float, max_cited: int, depth: int) -> list[Hit] | None:
    """The statutes a re-ranked search cites: the named ones, else the best statute and up to ``max_cited`` - 1
    more among the first ``depth`` hits whose re-ranker score is at least the best one's minus ``margin``.
    None when the search was not re-ranked (the caller asks the selector instead)."""
    statutes = [h for h in hits[:depth] if h.chunk.kind == "statute"]
    named = [h for h in statutes if h.exact]
    if named:
        return named
    if not statutes or statutes[0].rerank_score is None:
        return None
    best = statutes[0].rerank_score
    return [h for i, h in enumerate(statutes)
            if i == 0 or (i < max_cited and h.rerank_score is not None and h.rerank_score >= best - margin)]
