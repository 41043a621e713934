"""Qdrant (local mode) against Milvus Lite as the engine behind the retriever: the measurement
that chose the engine (docs/backends.md, "Choosing the engine").

    python experiments/measure_engines.py [--laws 300] [--queries 100]

Both engines get the same passages (the default corpus plus the first ``--laws`` statute files
of $LEGALQA_SHARED/laws), the same 384-dim vectors (FakeEmbedder, so no model is needed) and the
same jieba tokens as bm25s. For each engine it reports: build (upsert) time, warm hybrid query
p50/p95 (dense + BM25 fused in the engine, with a payload filter or without), RSS growth, and how
often the engine's BM25 top 10 equals bm25s's top 10 (same ids, same order) on the eval questions.

Milvus Lite is not a project dependency: install it into a separate venv to run this
(``pip install pymilvus milvus-lite qdrant-client``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import uuid
import zlib
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LEGALQA_SHARED", ROOT.parent / "shared"))
K1, B, RRF_K, DEPTH, CAND = 1.5, 0.75, 10, 15, 50


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def corpus(n_laws: int):
    from legalqa.index.store import embed_text
    from legalqa.ingest.pipeline import ingest

    paths = [ROOT / "corpus"] + sorted((SHARED / "laws").rglob("*.md"))[:n_laws]
    chunks = ingest([str(p) for p in paths]).chunks
    seen, out = set(), []
    for c in chunks:  # the same article may be in both the corpus and shared/
        if c.id not in seen:
            seen.add(c.id)
            out.append(c)
    return out, [embed_text(c) for c in out]


def hexed(tokens: list[str]) -> str:
    """Tokens as one whitespace-separated string of [0-9a-f] words, which any word tokenizer keeps whole."""
    return " ".join(t.encode("utf-8").hex() for t in tokens)


def sparse(tokens: list[str], avgdl: float) -> tuple[list[int], list[float]]:
    """The BM25 term-frequency part of a document, keyed by a 31-bit hash of each token."""
    tf = Counter(tokens)
    norm = K1 * (1 - B + B * len(tokens) / avgdl)
    idx = {t: zlib.crc32(t.encode()) & 0x7FFFFFFF for t in tf}
    return list(idx.values()), [tf[t] / (tf[t] + norm) for t in tf]


def qdrant_run(chunks, vectors, toks, queries, qvecs, qtoks, ref_top, law):
    from qdrant_client import QdrantClient, models

    t0 = time.perf_counter()
    r0 = rss_mib()
    folder = tempfile.mkdtemp(prefix="qdrant-")
    client = QdrantClient(path=folder)
    avgdl = sum(len(t) for t in toks) / len(toks)
    client.create_collection(
        "c",
        vectors_config={"dense": models.VectorParams(size=vectors.shape[1], distance=models.Distance.COSINE)},
        sparse_vectors_config={"bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)},
    )
    points = []
    for c, v, t in zip(chunks, vectors, toks, strict=True):
        i, vals = sparse(t, avgdl)
        points.append(models.PointStruct(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, c.id)),
            vector={"dense": v.tolist(), "bm25": models.SparseVector(indices=i, values=vals)},
            payload={"law": c.law or c.title, "kind": c.kind, "chunk": c.id},
        ))
    for s in range(0, len(points), 256):
        client.upsert("c", points[s : s + 256])
    build = time.perf_counter() - t0

    def query(qv, qt, flt):
        tf = Counter(qt)
        idx = {t: zlib.crc32(t.encode()) & 0x7FFFFFFF for t in tf}
        sv = models.SparseVector(indices=list(idx.values()), values=[float(tf[t]) for t in tf])
        return client.query_points(
            "c",
            prefetch=[models.Prefetch(query=qv.tolist(), using="dense", limit=CAND, filter=flt),
                      models.Prefetch(query=sv, using="bm25", limit=CAND, filter=flt)],
            query=models.RrfQuery(rrf=models.Rrf(k=RRF_K + 1)),
            limit=DEPTH,
        ).points

    def bm25_top(qt):
        tf = Counter(qt)
        idx = {t: zlib.crc32(t.encode()) & 0x7FFFFFFF for t in tf}
        sv = models.SparseVector(indices=list(idx.values()), values=[float(tf[t]) for t in tf])
        pts = client.query_points("c", query=sv, using="bm25", limit=10, with_payload=True).points
        return [p.payload["chunk"] for p in pts], [p.score for p in pts]

    flt = models.Filter(must=[models.FieldCondition(key="law", match=models.MatchValue(value=law))])
    return measure("qdrant", build, r0, query, bm25_top, flt, queries, qvecs, qtoks, ref_top,
                   lambda: client.close())


def milvus_run(chunks, vectors, toks, queries, qvecs, qtoks, ref_top, law):
    from pymilvus import AnnSearchRequest, DataType, Function, FunctionType, MilvusClient, RRFRanker

    t0 = time.perf_counter()
    r0 = rss_mib()
    client = MilvusClient(os.path.join(tempfile.mkdtemp(prefix="milvus-"), "m.db"))
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=vectors.shape[1])
    schema.add_field("terms", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                     analyzer_params={"tokenizer": "standard"})
    schema.add_field("bm25", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("law", DataType.VARCHAR, max_length=512)
    schema.add_field("kind", DataType.VARCHAR, max_length=16)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                 output_field_names=["bm25"]))
    index = client.prepare_index_params()
    index.add_index("dense", index_type="FLAT", metric_type="COSINE")
    index.add_index("bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                    params={"bm25_k1": K1, "bm25_b": B})
    client.create_collection("c", schema=schema, index_params=index)
    rows = [{"id": c.id, "dense": v.tolist(), "terms": hexed(t), "law": c.law or c.title, "kind": c.kind}
            for c, v, t in zip(chunks, vectors, toks, strict=True)]
    for s in range(0, len(rows), 256):
        client.insert("c", rows[s : s + 256])
    client.load_collection("c")
    build = time.perf_counter() - t0

    def query(qv, qt, flt):
        reqs = [AnnSearchRequest([qv.tolist()], "dense", {"metric_type": "COSINE"}, CAND, expr=flt),
                AnnSearchRequest([hexed(qt)], "bm25", {"metric_type": "BM25"}, CAND, expr=flt)]
        return client.hybrid_search("c", reqs, RRFRanker(RRF_K), limit=DEPTH)[0]

    def bm25_top(qt):
        res = client.search("c", [hexed(qt)], anns_field="bm25", limit=10, search_params={"metric_type": "BM25"})
        return [h["id"] for h in res[0]], [h["distance"] for h in res[0]]

    return measure("milvus-lite", build, r0, query, bm25_top, f'law == "{law}"', queries, qvecs, qtoks, ref_top,
                   lambda: client.close())


def measure(name, build, r0, query, bm25_top, flt, queries, qvecs, qtoks, ref_top, close):
    for qv, qt in list(zip(qvecs, qtoks, strict=True))[:5]:
        query(qv, qt, None)
    plain, filtered = [], []
    for qv, qt in zip(qvecs, qtoks, strict=True):
        t = time.perf_counter()
        query(qv, qt, None)
        plain.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        query(qv, qt, flt)
        filtered.append((time.perf_counter() - t) * 1000)
    same = scores = 0
    for qt, (ref, ref_scores) in zip(qtoks, ref_top, strict=True):
        ids, got = bm25_top(qt)
        same += ids == ref
        scores += len(got) == len(ref_scores) and np.allclose(got, ref_scores, rtol=1e-4)
    n_ref = len(ref_top)
    close()

    def pct(xs, p):
        return float(np.percentile(xs, p))

    return {"engine": name, "build_s": round(build, 2), "p50_ms": round(pct(plain, 50), 1),
            "p95_ms": round(pct(plain, 95), 1), "filtered_p50_ms": round(pct(filtered, 50), 1),
            "rss_growth_mib": round(rss_mib() - r0, 1), "bm25_top10_same_ids": f"{same}/{n_ref}",
            "bm25_top10_same_scores": f"{scores}/{n_ref}"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--laws", type=int, default=300)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--engine", choices=["qdrant", "milvus", "both"], default="both")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from legalqa.index.embedder import FakeEmbedder
    from legalqa.index.sparse import SparseIndex, tokenize

    chunks, texts = corpus(args.laws)
    emb = FakeEmbedder(384)
    vectors = emb.embed_documents(texts)
    toks = [tokenize(t) or [""] for t in texts]
    questions = [json.loads(line)["question"] for line in open(ROOT / "eval" / "questions.jsonl", encoding="utf-8")]
    queries = questions[: args.queries]
    qvecs = emb.embed_queries(queries)
    qtoks = [tokenize(q) for q in queries]
    bm = SparseIndex.build(texts)
    ref_top = []
    for q in queries:
        s = bm.scores(q)
        order = [int(r) for r in np.argsort(-s, kind="stable")[:10] if s[r] > 0]
        ref_top.append(([chunks[r].id for r in order], [float(s[r]) for r in order]))
    law = chunks[0].law or chunks[0].title
    print(f"{len(chunks)} passages, {len(queries)} queries, 384-dim vectors")
    runs = {"qdrant": qdrant_run, "milvus": milvus_run}
    for name in (["qdrant", "milvus"] if args.engine == "both" else [args.engine]):
        out = runs[name](chunks, vectors, toks, queries, qvecs, qtoks, ref_top, law)
        print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
