"""Which faiss index kind for the library: recall@10 against exact search, and query latency.

    .venv/bin/python experiments/measure_faiss_kinds.py --index .legalqa/index [--queries 400]

Reads the vectors of a built index (its dense.faiss, any kind: every vector is reconstructed), and
embeds real questions with the index's model: the STARD questions in $LEGALQA_SHARED/stard/train.jsonl
(default ../shared), else eval/questions.jsonl. For each kind (``index/dense.py`` builds them as
the product does; HNSW also at a larger efSearch) it reports the build time, the size on disk,
recall@10 against flat (the share of flat's top 10 it returns), and the median and p95 latency of
one query (k=50, the searcher's candidate depth), unfiltered and with the default filter (laws in
force) applied inside faiss.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def questions(limit: int) -> list[str]:
    shared = Path(os.environ.get("LEGALQA_SHARED", ROOT.parent / "shared"))
    stard = shared / "stard" / "train.jsonl"
    path = stard if stard.is_file() else ROOT / "eval" / "questions.jsonl"
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        text = row.get("question") or row.get("query") or row.get("content")
        if text:
            out.append(text)
    return out[:limit]


def timed(fn, repeat: int = 1) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    from legalqa.index.dense import DenseIndex
    from legalqa.index.embedder import get_embedder
    from legalqa.index.store import load_index
    from legalqa.ingest.models import NOT_IN_FORCE

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, default=ROOT / ".legalqa" / "index")
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    data = load_index(args.index)
    n = data.dense.size
    vectors = np.vstack([data.dense.index.reconstruct(i) for i in range(n)]).astype(np.float32)
    allowed = np.array([c.status not in NOT_IN_FORCE for c in data.chunks])
    qs = questions(args.queries)
    queries = get_embedder(data.manifest["model"]).embed_queries(qs)
    exact = DenseIndex.build(vectors, "flat")
    threads = faiss.omp_get_max_threads()
    for q in queries[:20]:
        exact.search(q, 50)
    flat_threads = [timed(lambda q=q: exact.search(q, 50))[0] for q in queries]
    print(f"flat with faiss's default {threads} OpenMP threads: p50 {statistics.median(flat_threads) * 1000:.2f} ms")
    faiss.omp_set_num_threads(1)  # one query at a time, as a search does; also steadier on a shared machine
    truth = [set(exact.search(q, 10)[1].tolist()) for q in queries]
    truth_filtered = [set(exact.search(q, 10, allowed)[1].tolist()) for q in queries]
    rows = []
    for kind, ef in (("flat", None), ("hnsw", None), ("hnsw", 64), ("hnsw", 128), ("ivf", None)):
        t_build = timed(lambda kind=kind: DenseIndex.build(vectors, kind))[0] if ef is None else None
        dense = DenseIndex.build(vectors, kind)
        if ef is not None:
            dense.index.hnsw.efSearch = ef
        with tempfile.TemporaryDirectory() as tmp:
            dense.save(Path(tmp) / "d.faiss")
            size = (Path(tmp) / "d.faiss").stat().st_size
        recall = statistics.mean(
            len(set(dense.search(q, 10)[1].tolist()) & t) / 10 for q, t in zip(queries, truth, strict=True))
        recall_f = statistics.mean(
            len(set(dense.search(q, 10, allowed)[1].tolist()) & t) / 10
            for q, t in zip(queries, truth_filtered, strict=True))
        for q in queries[:20]:
            dense.search(q, 50)
        lat = [timed(lambda q=q, d=dense: d.search(q, 50))[0] for q in queries]
        lat_f = [timed(lambda q=q, d=dense: d.search(q, 50, allowed))[0] for q in queries]
        name = kind if ef is None else f"{kind} efSearch={ef}"
        if kind == "hnsw" and ef is None:
            name += f" efSearch={dense.index.hnsw.efSearch}"
        if kind == "ivf":
            inner = faiss.downcast_index(dense.index)
            name += f" nlist={inner.nlist} nprobe={inner.nprobe}"
        rows.append({
            "kind": name, "build_s": t_build, "size_mb": size / 1e6, "recall10": recall, "recall10_filtered": recall_f,
            "p50_ms": statistics.median(lat) * 1000, "p95_ms": float(np.percentile(lat, 95) * 1000),
            "p50_filtered_ms": statistics.median(lat_f) * 1000,
        })
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    print(f"\n{n} vectors, {len(qs)} questions, load average {os.getloadavg()[0]:.1f}")
    print("| kind | build s | MB | recall@10 | recall@10, in force | p50 ms | p95 ms | p50 ms, in force |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        build = "" if r["build_s"] is None else f"{r['build_s']:.1f}"
        print(f"| {r['kind']} | {build} | {r['size_mb']:.0f} | {r['recall10']:.3f} | {r['recall10_filtered']:.3f} | "
              f"{r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['p50_filtered_ms']:.2f} |")
    if args.json:
        args.json.write_text(json.dumps({"vectors": n, "queries": len(qs), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
