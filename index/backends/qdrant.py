"""Qdrant as the retrieval engine: one collection holds each passage's dense vector, its BM25
term weights and the fields filters use; the engine ranks, filters and fuses.

BM25 runs inside Qdrant with our own Chinese tokens (index/sparse.py: jieba with the legal
dictionary). A passage's sparse vector holds, for each of its tokens, BM25's term-frequency part
``tf / (tf + k1·(1 − b + b·len/avgdl))``; the collection's ``modifier=IDF`` multiplies in
``ln(1 + (N − df + 0.5)/(df + 0.5))`` at query time from the live document frequencies; the query
vector holds each token's count. The product is bm25s's Lucene BM25 (k1 1.5, b 0.75), score for
score. Token ids are 32-bit hashes of the tokens, so no vocabulary is shared between writers.

``QdrantStore`` is the connection (embedded folder, ``:memory:``, or a server by URL) and writes
the collection; ``QdrantBackend`` searches it for one index folder. The same code serves the
embedded store in tests and a server in production.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from legalqa.index.backends.base import Backend, Request, Retrieved, by_score
from legalqa.index.sparse import tokenize
from legalqa.index.store import FIX, IndexLoadError

if TYPE_CHECKING:
    from legalqa.index.search import Filters
    from legalqa.ingest.models import Chunk
    from qdrant_client import QdrantClient, models

DENSE, SPARSE = "dense", "bm25"
K1, B = 1.5, 0.75  # bm25s's defaults, so both backends score alike
# A passage's BM25 weights depend on the corpus's mean length. Within this drift the stored
# mean is kept, so adding a few documents rewrites only those; past it every point is rewritten.
AVGDL_DRIFT = 0.05
SCHEMA = 2  # what a point holds; a change rewrites every point (2: headings)
BATCH = 256
API_KEY_ENV = "LEGALQA_QDRANT_API_KEY"
_NAMESPACE = uuid.UUID("6f1c3a52-3c1e-4d8e-9a57-2f0b6f3d9b10")  # point ids: uuid5(namespace, chunk id)


# Qdrant locks an embedded store's folder to one client, so every QdrantStore of a process that
# names the same folder shares one client (the page's Engine and an upload's build, say). Weak
# references: the client, and with it the lock, goes when the last store lets go of it.
_EMBEDDED: weakref.WeakValueDictionary[str, QdrantClient] = weakref.WeakValueDictionary()
_EMBEDDED_LOCK = threading.Lock()


class EngineError(IndexLoadError):
    """The engine cannot be reached or holds data this index cannot use; the message says the fix."""


def point_id(chunk_id: str) -> str:
    """The point id of a chunk: derived from its content-hash id, so it is the same on every ingest."""
    return str(uuid.uuid5(_NAMESPACE, chunk_id))


def term_id(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=4).digest(), "big")


def bm25_terms(tokens: Sequence[str], avgdl: float) -> dict[int, float]:
    """A passage's BM25 term-frequency weights by term id (the IDF is the engine's)."""
    tf = Counter(tokens)
    norm = K1 * (1 - B + B * len(tokens) / avgdl)
    out: dict[int, float] = {}
    for t, n in tf.items():
        out[term_id(t)] = out.get(term_id(t), 0.0) + n / (n + norm)
    return out


def query_terms(tokens: Sequence[str]) -> dict[int, float]:
    """A query's term counts by term id: a repeated token counts as often as it occurs, as in bm25s."""
    out: dict[int, float] = {}
    for t in tokens:
        out[term_id(t)] = out.get(term_id(t), 0.0) + 1.0
    return out


def payload(chunk: Chunk) -> dict:
    """The fields a filter reads (the same as Filters.admits) and the chunk id."""
    return {"chunk": chunk.id, "law": chunk.law or chunk.title, "kind": chunk.kind, "status": chunk.status,
            "headings": list(chunk.heading_path),
            "collection": chunk.collection}


def fingerprint(chunk: Chunk, text: str, model: str, avgdl: float) -> str:
    """What a point must be rebuilt for: its embedded text, the model, the mean length, its fields."""
    key = json.dumps([SCHEMA, text, model, round(avgdl, 6), payload(chunk)], ensure_ascii=False)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def engine_filter(filters: Filters | None) -> models.Filter | None:
    """Filters as a Qdrant filter: every given field must match one of its values."""
    from legalqa.index.search import ANY_STATUS, Filters
    from legalqa.ingest.models import NOT_IN_FORCE
    from qdrant_client import models

    if filters is None:
        filters = Filters()
    statuses = () if ANY_STATUS in filters.statuses else filters.statuses
    fields = (("law", filters.laws), ("kind", filters.kinds), ("status", statuses),
              ("collection", filters.collections), ("headings", filters.headings))
    must = [models.FieldCondition(key=k, match=models.MatchAny(any=list(v))) for k, v in fields if v]
    # No status named: laws in force only, as Filters.admits (repealed and historical versions left out).
    must_not = [] if filters.statuses else [models.FieldCondition(key="status", match=models.MatchAny(any=list(NOT_IN_FORCE)))]
    return models.Filter(must=must, must_not=must_not) if must or must_not else None


class QdrantStore:
    """A connection to one Qdrant collection: a server URL, an embedded folder, or ``:memory:``.

    Args:
        location: ``http(s)://host:port`` for a server (the API key comes from
            $LEGALQA_QDRANT_API_KEY), ``:memory:``, or a folder for the embedded store.
        collection: the collection's name; one collection per index.

    The embedded store admits one process at a time (Qdrant locks its folder): open one
    store per process and share it, as ``legalqa.engine.Engine`` does.
    """

    def __init__(self, location: str, collection: str = "legalqa"):
        self.location = str(location)
        self.collection = collection
        self._client: QdrantClient | None = None

    def __repr__(self) -> str:
        return f"QdrantStore({self.location!r}, collection={self.collection!r})"

    @property
    def remote(self) -> bool:
        return self.location.startswith(("http://", "https://"))

    @property
    def client(self) -> QdrantClient:
        if self._client is None:
            from qdrant_client import QdrantClient

            try:
                if self.remote:
                    self._client = QdrantClient(url=self.location, api_key=os.environ.get(API_KEY_ENV) or None)
                elif self.location == ":memory:":
                    self._client = QdrantClient(location=":memory:")
                else:
                    folder = os.path.realpath(self.location)
                    with _EMBEDDED_LOCK:
                        client = _EMBEDDED.get(folder)
                        if client is None:
                            os.makedirs(folder, exist_ok=True)
                            client = _EMBEDDED[folder] = QdrantClient(path=folder)
                    self._client = client
            except (RuntimeError, OSError, ValueError) as exc:
                fix = ("内嵌存储同一时间只能由一个进程使用：请关闭正在使用它的 legalqa 进程（网页、HTTP 服务）后重试，"
                       "或改用 Qdrant 服务器（[index] uri）") if "already accessed" in str(exc) else \
                    "请检查这个文件夹能否读写，或在 [index] path 换一个文件夹"
                raise EngineError(f"无法打开向量引擎 {self.location}（{exc}）。{fix}") from exc
        return self._client

    def close(self) -> None:
        """Let go of the connection; an embedded store's client closes when no other store shares it."""
        if self._client is not None and (self.remote or self.location == ":memory:"):
            self._client.close()
        self._client = None

    def describe(self) -> dict:
        """Where the data is, for the manifest (never the API key)."""
        return {"name": "qdrant", "location": self.location, "collection": self.collection}

    def _call(self, what: str, fn: Callable, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except EngineError:
            raise
        except Exception as exc:  # the client raises several transport and API types
            if not self.remote:
                raise
            raise EngineError(f"向量引擎 {self.location} {what}失败（{type(exc).__name__}: {exc}）："
                              f"请检查服务是否在运行、地址和 {API_KEY_ENV} 是否正确") from exc

    # -- the collection's own record ------------------------------------------------------
    def metadata(self) -> dict | None:
        """The collection's metadata, or None when the collection does not exist."""
        c = self.client
        if not self._call("连接", c.collection_exists, self.collection):
            return None
        return dict(self._call("读取集合", c.get_collection, self.collection).config.metadata or {})

    def _set_metadata(self, meta: dict) -> None:
        self._call("写入集合信息", self.client.update_collection, self.collection, metadata=meta)

    def _create(self, dim: int, meta: dict) -> None:
        from qdrant_client import models

        c = self.client
        self._call("建立集合", c.create_collection, self.collection,
                   vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.DOT)},
                   sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
                   metadata=meta)
        if self.remote:  # the embedded store filters by scanning; a server needs the indexes
            for field in ("law", "kind", "status", "collection", "headings"):
                self._call("建立索引", c.create_payload_index, self.collection, field,
                           models.PayloadSchemaType.KEYWORD)

    def stored(self) -> dict[str, str]:
        """Point id -> fingerprint of every point in the collection."""
        out, offset = {}, None
        while True:
            points, offset = self._call("读取", self.client.scroll, self.collection, limit=1024, offset=offset,
                                        with_payload=["fp"], with_vectors=False)
            out.update({str(p.id): (p.payload or {}).get("fp", "") for p in points})
            if offset is None:
                return out

    def sync(self, chunks: Sequence[Chunk], vectors: np.ndarray, texts: Sequence[str], *, model: str,
             corpus_hash: str, progress: bool = False) -> dict:
        """Make the collection hold exactly these chunks: upsert new or changed points, delete the rest.

        Idempotent: a rerun after an interruption finds what was written, writes only the rest, and
        never duplicates a point (ids are derived from chunk ids). The collection's ``corpus``
        is set last, so a store that was interrupted is never taken for a finished one.

        Returns what it did, for the manifest: location, collection, avgdl, upserted, deleted, kept.
        """
        from qdrant_client import models

        tokens = [tokenize(t) or [""] for t in texts]  # bm25s indexes an empty text as one empty token
        avgdl_now = sum(len(t) for t in tokens) / max(len(tokens), 1)
        meta = self.metadata()
        dim = int(vectors.shape[1])
        if meta is None:
            avgdl = avgdl_now
            self._create(dim, {"dim": dim, "model": model, "avgdl": avgdl, "k1": K1, "b": B, "corpus": None})
        else:
            if meta.get("dim") not in (None, dim):
                raise EngineError(f"集合 {self.collection} 的向量是 {meta.get('dim')} 维，当前模型输出 {dim} 维："
                                  "请在 [index] collection 换一个集合名，或删除这个集合后重新运行 legalqa ingest")
            old = meta.get("avgdl")
            avgdl = old if old and abs(old / avgdl_now - 1) <= AVGDL_DRIFT else avgdl_now
            self._set_metadata({**meta, "dim": dim, "model": model, "avgdl": avgdl, "corpus": None})
        want: dict[str, tuple[int, str]] = {}
        for row, (c, t) in enumerate(zip(chunks, texts, strict=True)):
            want[point_id(c.id)] = (row, fingerprint(c, t, model, avgdl))
        have = self.stored()
        todo = [(pid, row, fp) for pid, (row, fp) in want.items() if have.get(pid) != fp]
        gone = [pid for pid in have if pid not in want]
        from tqdm import tqdm

        bar = tqdm(total=len(todo) + len(gone), desc="qdrant", disable=not progress, leave=False)
        for start in range(0, len(todo), BATCH):
            points = []
            for pid, row, fp in todo[start : start + BATCH]:
                terms = bm25_terms(tokens[row], avgdl)
                points.append(models.PointStruct(
                    id=pid,
                    vector={DENSE: vectors[row].tolist(),
                            SPARSE: models.SparseVector(indices=list(terms), values=list(terms.values()))},
                    payload={**payload(chunks[row]), "fp": fp},
                ))
            self._call("写入", self.client.upsert, self.collection, points, wait=True)
            bar.update(len(points))
        for start in range(0, len(gone), BATCH):
            batch = gone[start : start + BATCH]
            self._call("删除", self.client.delete, self.collection, models.PointIdsList(points=batch), wait=True)
            bar.update(len(batch))
        bar.close()
        self._set_metadata({**(self.metadata() or {}), "corpus": corpus_hash})
        return {**self.describe(), "avgdl": round(avgdl, 4), "upserted": len(todo), "deleted": len(gone),
                "kept": len(want) - len(todo)}

    def check(self, manifest: dict) -> None:
        """Raise EngineError unless the collection holds what this index folder was built with."""
        meta = self.metadata()
        if meta is None:
            raise EngineError(f"向量引擎 {self.location} 里没有集合 {self.collection}。{FIX}")
        if meta.get("corpus") != manifest.get("corpus_hash") or meta.get("model") != manifest.get("model"):
            raise EngineError(f"向量引擎 {self.location} 的集合 {self.collection} 与索引文件夹不一致"
                              f"（上次写入未完成，或由另一个索引写入）。{FIX}")


class QdrantBackend(Backend):
    """Search one index's chunks in a Qdrant collection.

    Args:
        store: the connection (see QdrantStore).
        chunks: the index folder's chunks, in row order; hits are mapped back to these rows.
        engine_fusion: fuse in the engine (Qdrant's Query API: prefetch both retrievers, RRF)
            when the fusion can be expressed there (equal weights); otherwise the Searcher fuses.
    """

    name = "qdrant"

    def __init__(self, store: QdrantStore, chunks: Sequence[Chunk], engine_fusion: bool = True):
        self.store = store
        self.engine_fusion = engine_fusion
        self._pids = [point_id(c.id) for c in chunks]
        self._rows = {pid: row for row, pid in enumerate(self._pids)}

    def _row(self, pid) -> int | None:
        return self._rows.get(str(pid))

    def _requests(self, request: Request, flt, limit: int) -> tuple[list, bool]:
        from qdrant_client import models

        vector = np.asarray(request.vector, dtype=np.float32).tolist()
        terms = query_terms(tokenize(request.text))
        sparse = models.SparseVector(indices=list(terms), values=list(terms.values()))
        searches = [models.QueryRequest(query=vector, using=DENSE, filter=flt, limit=limit)]
        if terms:
            searches.append(models.QueryRequest(query=sparse, using=SPARSE, filter=flt, limit=limit))
        return searches, bool(terms)

    def retrieve(self, request: Request) -> Retrieved:
        from qdrant_client import models

        flt = engine_filter(request.filters)
        c = request.candidates
        searches, has_terms = self._requests(request, flt, c)
        # Qdrant's RRF is 1/(rank/w + k − 1) with ranks from 1: k + 1 there is our 1/(k + rank), and with
        # equal weights the order is ours; unequal weights have no exact counterpart, so they fuse here.
        fuse = self.engine_fusion and has_terms and request.dense_weight == request.bm25_weight > 0
        if fuse:
            searches.append(models.QueryRequest(
                prefetch=[models.Prefetch(query=s.query, using=s.using, filter=flt, limit=c) for s in searches],
                query=models.RrfQuery(rrf=models.Rrf(k=request.rrf_k + 1)),
                filter=flt, limit=2 * c,  # every candidate of both lists, as the local fusion keeps them
            ))
        answers = self.store._call("检索", self.store.client.query_batch_points, self.store.collection, searches)

        def ranked(points, scale: float = 1.0, positive: bool = False):
            pairs = [(self._row(p.id), p.score * scale) for p in points]
            return by_score([(r, s) for r, s in pairs if r is not None and (s > 0 or not positive)], len(pairs))

        dense = ranked(answers[0].points)
        sparse = ranked(answers[1].points, positive=True) if has_terms else ()
        fused = ranked(answers[2].points, scale=request.dense_weight) if fuse else None
        return Retrieved(dense, sparse, fused)

    def scores(self, request: Request, rows: Sequence[int]) -> tuple[dict[int, float], dict[int, float]]:
        from qdrant_client import models

        if not rows:
            return {}, {}
        chunk_ids = {self._pids[r]: r for r in rows}
        only = models.Filter(must=[models.HasIdCondition(has_id=list(chunk_ids))])
        searches, has_terms = self._requests(request, only, len(chunk_ids))
        answers = self.store._call("检索", self.store.client.query_batch_points, self.store.collection, searches)
        dense = {chunk_ids[str(p.id)]: p.score for p in answers[0].points}
        bm25 = {r: 0.0 for r in rows}
        if has_terms:
            bm25.update({chunk_ids[str(p.id)]: p.score for p in answers[1].points})
        return dense, bm25
