"""A learned re-ranker for searches over the statute library (learned from data, issue 13).

Over 26,000 articles, how much to trust each signal depends on the others: a known question at
cosine 0.95 should outrank the article's own words, one at 0.88 only when its law agrees with
the other neighbours; a BM25 match on a rare word matters more inside the law the question is
about. Hand-set weights (the keys' offset, law and chapter priors) cannot express that; a
gradient-boosted ranker (LightGBM's lambdarank) learns it from the tune part of the frozen
STARD split and the default question file's tune split.

Every candidate of one search (the dense and BM25 top lists, the articles of the nearest known
questions, the articles the question names) gets the ``FEATURES`` below, all measured at query
time from the index and the question keys (index/keys.py): nothing is written per article.
``scripts/train_reranker.py`` trains the model on the product's own candidate pools
(``Searcher.candidates``) and writes ``index/data/reranker.json``; the index pins a copy.
docs/retrieval.md has the measurements.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from legalqa.index.keys import ResolvedKeys
from legalqa.ingest.models import Chunk

DEFAULT_RERANKER = Path(__file__).with_name("data") / "reranker.json"

NEIGHBORS = 10  # the near neighbourhood of known questions (as the keys' own setting)
WIDE_NEIGHBORS = 30  # a wider one, for softer votes
NEAR_FLOOR = 0.92  # keys at least this similar count in the "_hi" votes
SOFT_TEMPERATURE = 0.02
UNRANKED = 200  # the rank given to a candidate one retriever did not return

# Column order of the feature matrix; the model file names the columns it was trained on.
FEATURES = (
    "cos",  # cosine similarity of the question and the passage
    "bm",  # BM25 score over the best BM25 score of the search
    "rd",  # 1 / log2(1 + dense rank)
    "rb",  # 1 / log2(1 + BM25 rank)
    "kmax",  # similarity of the nearest known question whose gold is this article (0: none)
    "kcnt",  # share of the 10 nearest known questions whose gold is this article
    "kmax_hi",  # kmax above 0.9
    "law",  # share of the 10 nearest known questions about this article's law
    "chap",  # … about its chapter
    "law_hi",  # … counting only those at cosine ≥ 0.92
    "chap_hi",
    "statute",  # a statute article (1), not a prose passage (0)
    "default",  # from the default corpus (the curated statutes and the article), not the library
    "exact",  # the question names this article
    "top_key",  # similarity of the nearest known question (how familiar the question is)
    "pop_art",  # log(1 + how many known questions have this article as gold)
    "pop_law",  # log(1 + how many known questions are about its law), over log(1 + keys)
    "ksoft",  # softmax (T 0.02) vote of the 30 nearest known questions for this article
    "kcnt30",  # share of the 30 nearest known questions whose gold is this article
    "law30",  # share of the 30 nearest about its law
    "chap30",  # … about its chapter
    "lawrank",  # 1 / log2(2 + its place by cosine among the candidates of its law)
    "qcov",  # share of the question's Chinese character pairs found in the passage
    "len",  # log(1 + the passage's length)
    "law_cov",  # share of the law name's character pairs found in the question
    "head_cov",  # share of the heading path's character pairs found in the question
)

_HAN = re.compile(r"[\u4e00-\u9fff]")


class RerankerError(ValueError):
    """A re-ranker model file that cannot be used; the message names the file and the fix."""


def char_pairs(text: str) -> frozenset[str]:
    """The Chinese character pairs of a text (other characters are dropped first)."""
    han = "".join(_HAN.findall(text))
    return frozenset(han[i : i + 2] for i in range(len(han) - 1))


def chapter(c: Chunk) -> tuple[str | None, str]:
    """A statute's innermost heading within its law (节, else 章, else 编): the group chapter votes go to."""
    return (c.law, c.heading_path[-1] if c.heading_path else "")


def _rank_weight(rank: int | None) -> float:
    return 1.0 / math.log2(1 + (rank or UNRANKED))


@dataclass(frozen=True)
class Pool:
    """The candidates of one search and their features (rows of ``FEATURES``).

    ``key_best`` is each candidate's nearest known question's similarity, for ``Hit.key_score``;
    ``dense`` and ``bm25`` are every candidate's cosine and BM25 score, for the hits.
    """

    rows: tuple[int, ...]
    features: np.ndarray
    key_best: dict[int, float]
    dense: dict[int, float]
    bm25: dict[int, float]


class PoolBuilder:
    """Computes candidate features over one index: its chunks and its resolved question keys."""

    def __init__(self, chunks: Sequence[Chunk], keys: ResolvedKeys):
        self.chunks = chunks
        self.keys = keys
        self._law = [c.law for c in chunks]
        self._chapter = [chapter(c) for c in chunks]
        self._art_count: Counter = Counter(r for rows in keys.rows for r in rows)
        self._law_count: Counter = Counter(law for rows in keys.rows for law in {self._law[r] for r in rows})
        self._n_keys = max(1, len(keys))
        # Bounded caches: a long-running server meets most of the library's texts in time.
        self._text_pairs = lru_cache(maxsize=4096)(lambda row: char_pairs(chunks[row].text))
        self._name_pairs = lru_cache(maxsize=4096)(char_pairs)

    def build(
        self,
        question: str,
        vector: np.ndarray,
        dense: Sequence[tuple[int, float]],
        sparse: Sequence[tuple[int, float]],
        exact: Sequence[int],
        admits: Callable[[Chunk], bool],
        more_scores: Callable[[list[int]], tuple[dict[int, float], dict[int, float]]],
    ) -> Pool:
        """The pool of one search.

        Args:
            question: the searched text (normalized, corrected; without expansion terms).
            vector: its query embedding.
            dense, sparse: the two retrievers' rankings, (row, score) best first.
            exact: rows of the articles the question names.
            admits: the search's filters; a known question's article outside them is no candidate.
            more_scores: (cosine, BM25) of rows a retriever did not rank (``Backend.scores``).
        """
        keys, law_of, chap_of = self.keys, self._law, self._chapter
        near = keys.nearest(vector, NEIGHBORS)
        wide = keys.nearest(vector, WIDE_NEIGHBORS)
        near_hi = [(j, s) for j, s in near if s >= NEAR_FLOOR]
        own = keys.own(vector)  # a key never answers its own question, in its counts either
        own_art = Counter(r for j in own for r in keys.rows[j])
        own_law = Counter(law for j in own for law in {law_of[r] for r in keys.rows[j]})

        kmax: dict[int, float] = {}
        kcnt: dict[int, float] = {}
        for j, sim in near:
            for r in keys.rows[j]:
                if admits(self.chunks[r]):
                    kmax[r] = max(kmax.get(r, -1.0), sim)
                    kcnt[r] = kcnt.get(r, 0.0) + 1.0 / NEIGHBORS
        top = wide[0][1] if wide else 0.0
        soft: dict[int, float] = {}
        c30: dict[int, float] = {}
        z = 0.0
        for j, sim in wide:
            w = math.exp((sim - top) / SOFT_TEMPERATURE)
            z += w
            for r in keys.rows[j]:
                soft[r] = soft.get(r, 0.0) + w
                c30[r] = c30.get(r, 0.0) + 1.0 / WIDE_NEIGHBORS
        votes = {
            "law": keys.votes(near, law_of.__getitem__, NEIGHBORS),
            "chap": keys.votes(near, chap_of.__getitem__, NEIGHBORS),
            "law_hi": keys.votes(near_hi, law_of.__getitem__, NEIGHBORS),
            "chap_hi": keys.votes(near_hi, chap_of.__getitem__, NEIGHBORS),
            "law30": keys.votes(wide, law_of.__getitem__, WIDE_NEIGHBORS),
            "chap30": keys.votes(wide, chap_of.__getitem__, WIDE_NEIGHBORS),
        }

        cos, bm = dict(dense), dict(sparse)
        d_rank = {r: i + 1 for i, (r, _) in enumerate(dense)}
        s_rank = {r: i + 1 for i, (r, _) in enumerate(sparse)}
        rows = list(dict.fromkeys([*exact, *cos, *bm, *kmax]))
        missing = [r for r in rows if r not in cos or r not in bm]
        if missing:
            d_more, s_more = more_scores(missing)
            for r in missing:
                cos.setdefault(r, d_more.get(r, 0.0))
                bm.setdefault(r, s_more.get(r, 0.0))
        best_bm = max((s for _, s in sparse), default=0.0) or 1.0
        by_law: dict[str | None, list[tuple[float, int]]] = {}
        for r in rows:
            by_law.setdefault(law_of[r], []).append((cos[r], r))
        law_place = {r: i for group in by_law.values() for i, (_, r) in enumerate(sorted(group, reverse=True))}
        q_pairs = char_pairs(question)
        nq = max(1, len(q_pairs))
        exact_set = set(exact)
        out = np.zeros((len(rows), len(FEATURES)), dtype=np.float32)
        for i, r in enumerate(rows):
            c = self.chunks[r]
            law, chap = law_of[r], chap_of[r]
            law_pairs = self._name_pairs(law or "")
            head_pairs = self._name_pairs(" ".join(c.heading_path))
            k = max(kmax.get(r, 0.0), 0.0)
            out[i] = (
                cos[r], bm[r] / best_bm, _rank_weight(d_rank.get(r)), _rank_weight(s_rank.get(r)),
                k, kcnt.get(r, 0.0), max(k - 0.9, 0.0),
                votes["law"].get(law, 0.0), votes["chap"].get(chap, 0.0),
                votes["law_hi"].get(law, 0.0), votes["chap_hi"].get(chap, 0.0),
                float(c.kind == "statute"), float(c.collection == "default"), float(r in exact_set), top,
                math.log1p(self._art_count[r] - own_art[r]),
                math.log1p(self._law_count[law] - own_law[law]) / math.log1p(self._n_keys),
                soft.get(r, 0.0) / z if z else 0.0, c30.get(r, 0.0),
                votes["law30"].get(law, 0.0), votes["chap30"].get(chap, 0.0),
                1.0 / math.log2(2 + law_place[r]),
                len(q_pairs & self._text_pairs(r)) / nq, math.log1p(len(c.text)),
                len(q_pairs & law_pairs) / max(1, len(law_pairs)),
                len(q_pairs & head_pairs) / max(1, len(head_pairs)),
            )
        return Pool(tuple(rows), out, {r: s for r, s in kmax.items()}, cos, bm)


@dataclass(frozen=True)
class Reranker:
    """A trained LightGBM ranker over ``FEATURES`` (``scripts/train_reranker.py``)."""

    booster: object  # lightgbm.Booster
    meta: dict

    @classmethod
    def load(cls, path: str | Path = DEFAULT_RERANKER) -> Reranker:
        import lightgbm

        path = Path(path)
        fix = "请运行 python scripts/train_reranker.py 重新生成"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            booster = lightgbm.Booster(model_str=data["model"])
        except FileNotFoundError as exc:
            raise RerankerError(f"找不到重排序模型 {path}：{fix}") from exc
        except Exception as exc:  # noqa: BLE001 - bad JSON, a missing field, a damaged model: all unreadable
            raise RerankerError(f"重排序模型 {path} 无法读取（{exc}）：{fix}") from exc
        if tuple(data.get("features", ())) != FEATURES or booster.num_feature() != len(FEATURES):
            raise RerankerError(f"重排序模型 {path} 的特征（{data.get('features')}）与本版本不同：{fix}")
        return cls(booster, data.get("meta", {}))

    def score(self, features: np.ndarray) -> np.ndarray:
        if not len(features):
            return np.zeros(0)
        return np.asarray(self.booster.predict(features, num_threads=1), dtype=np.float64)


def save_model(path: str | Path, model_text: str, meta: dict) -> None:
    """Write a re-ranker file (the LightGBM model as text, the feature names, where it came from)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"features": list(FEATURES), "meta": meta, "model": model_text},
                              ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
