"""The one seam between the Searcher and where retrieval runs.

A backend answers one question per search: given the query's vector, its BM25 text and the
filters, which passages does the dense retriever rank first, which does BM25 rank first, and
(when it can) how do the two fuse? Rows are positions in the index folder's chunks.jsonl.
Everything else a search does (typo correction, expansion, exact article lookup,
diversification, quoting) stays in the Searcher and is the same on every backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from legalqa.index.search import Filters

Ranked = tuple[tuple[int, float], ...]  # (row, score), best first


@dataclass(frozen=True)
class Request:
    """What one search asks of a backend.

    Args:
        vector: the query embedding, L2-normalized.
        text: the text BM25 scores (the query with its expansion terms).
        filters: the passages allowed (law, kind, status, collection), applied inside the backend.
        candidates: how many passages each retriever returns.
        rrf_k, dense_weight, bm25_weight: the fusion settings (SearchConfig).
    """

    vector: np.ndarray
    text: str
    filters: Filters
    candidates: int
    rrf_k: int
    dense_weight: float = 1.0
    bm25_weight: float = 1.0


@dataclass(frozen=True)
class Retrieved:
    """Each retriever's ranking, and the fused one when the backend fused them itself.

    ``dense`` holds cosine similarities; ``sparse`` holds BM25 scores above 0. ``fused`` is None
    when the Searcher must fuse (reciprocal_rank_fusion over ``dense`` and ``sparse``).
    """

    dense: Ranked
    sparse: Ranked
    fused: Ranked | None = None


class Backend(ABC):
    """Dense + BM25 retrieval over the chunks of one index; ``name`` says which engine."""

    name: str = ""

    @abstractmethod
    def retrieve(self, request: Request) -> Retrieved:
        """Both rankings for ``request``, filtered inside the backend."""

    @abstractmethod
    def scores(self, request: Request, rows: Sequence[int]) -> tuple[dict[int, float], dict[int, float]]:
        """(cosine, BM25) of the given rows for ``request``, for hits one retriever did not rank.

        A row BM25 does not match scores 0.
        """


def by_score(pairs, limit: int) -> Ranked:
    """(row, score) pairs, best first, ties by row: the same order from every backend."""
    return tuple(sorted(pairs, key=lambda p: (-p[1], p[0]))[:limit])
