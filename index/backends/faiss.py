"""The embedded default: faiss for the dense ranking and bm25s for BM25, both in the index folder.

Filters are a boolean mask over the rows (cached per filter): faiss searches the admitted rows
only (an ID selector), so a filter never crowds them out of the top k, and BM25 scores are masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from legalqa.index.backends.base import Backend, Request, Retrieved, by_score
from legalqa.index.store import IndexData


class FaissBackend(Backend):
    name = "faiss"

    def __init__(self, data: IndexData):
        if data.dense is None or data.sparse is None:
            raise ValueError(f"the index at {data.path} was built for another backend, not faiss")
        self.data = data
        # One search asks for BM25 twice (the ranking, then the scores of dense-only hits): compute once.
        self._bm25 = lru_cache(maxsize=16)(self.data.sparse.scores)
        self._mask = lru_cache(maxsize=32)(self._compute_mask)  # thread-safe: one Searcher serves HTTP threads

    def _allowed(self, request: Request) -> np.ndarray | None:
        """The admitted rows, or None when the filter admits every row; one pass over the chunks per filter."""
        return self._mask(request.filters)

    def _compute_mask(self, f) -> np.ndarray | None:
        mask = np.fromiter((f.admits(c) for c in self.data.chunks), dtype=bool, count=len(self.data.chunks))
        return None if mask.all() else mask

    def retrieve(self, request: Request) -> Retrieved:
        allowed = self._allowed(request)
        if allowed is not None and not allowed.any():
            return Retrieved([], [])
        d_scores, d_rows = self.data.dense.search(request.vector, request.candidates, allowed)
        dense = [(int(r), float(s)) for s, r in zip(d_scores, d_rows, strict=True)]  # faiss applied the filter
        bm = self._bm25(request.text)
        masked = bm if allowed is None else np.where(allowed, bm, -1.0)
        order = np.argsort(-masked, kind="stable")[: request.candidates]
        sparse = [(int(r), float(bm[r])) for r in order if masked[r] > 0]
        return Retrieved(by_score(dense, request.candidates), by_score(sparse, request.candidates))

    def scores(self, request: Request, rows: Sequence[int]) -> tuple[dict[int, float], dict[int, float]]:
        bm = self._bm25(request.text)
        index = self.data.dense.index
        return ({r: float(np.dot(index.reconstruct(int(r)), request.vector)) for r in rows},
                {r: float(bm[r]) for r in rows})
