"""Dense vectors in faiss.

Vectors are L2-normalized, so inner product equals cosine similarity and
``IndexFlatIP`` gives exact cosine search; HNSW and IVF trade a little recall
for speed on large libraries.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
from legalqa.index.config import DENSE_KINDS as KINDS


class DenseIndex:
    def __init__(self, index: faiss.Index):
        self.index = index

    @property
    def dim(self) -> int:
        return self.index.d

    @property
    def size(self) -> int:
        return self.index.ntotal

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "flat") -> DenseIndex:
        if kind not in KINDS:
            raise ValueError(f"dense index kind must be one of {KINDS}. Currently, kind is {kind!r}")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        elif kind == "ivf" and n >= 1024:
            nlist = max(16, int(np.sqrt(n)))
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            index.train(vectors)
            index.nprobe = min(nlist, 16)
            index.make_direct_map()  # the searcher reconstructs vectors of hits past the dense top k
        else:
            # IVF needs enough points to train its centroids; small corpora stay exact.
            index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return cls(index)

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, rows) for one normalized query vector.

        ``allowed`` (one bool per row) restricts the search to those rows: faiss skips the others
        while it searches, so a filter never crowds the admitted rows out of the top k.
        """
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        q = np.asarray(query, dtype=np.float32).reshape(1, -1)
        if allowed is None or allowed.all():
            scores, rows = self.index.search(q, k)
        else:
            bits = np.packbits(np.asarray(allowed, dtype=bool), bitorder="little")  # alive during the search
            scores, rows = self.index.search(q, k, params=self._params(faiss.IDSelectorBitmap(self.size, faiss.swig_ptr(bits))))
        keep = rows[0] >= 0
        return scores[0][keep], rows[0][keep]

    def _params(self, selector: faiss.IDSelector) -> faiss.SearchParameters:
        """Search parameters of this index's kind (faiss refuses another kind's) with ``selector``."""
        inner = faiss.downcast_index(self.index)
        if isinstance(inner, faiss.IndexHNSW):
            return faiss.SearchParametersHNSW(sel=selector, efSearch=inner.hnsw.efSearch)
        if isinstance(inner, faiss.IndexIVF):
            return faiss.SearchParametersIVF(sel=selector, nprobe=inner.nprobe)
        return faiss.SearchParameters(sel=selector)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        return cls(faiss.read_index(str(path)))
