"""Train the library search's re-ranker (index/rerank.py) and write index/data/reranker.json.

    LEGALQA_HOME=<a home with the library index> python scripts/train_reranker.py

The training questions are the tune parts of the frozen STARD split (eval/stard_split.json;
those with a gold article in the index; figures count only those whose gold is all there) and of
eval/questions.jsonl (answerable ones, as a library index judges them): decided on tune only.
Their candidate pools come from the product's own search (``Searcher.candidates``: the same
retrieval, keys and features a search uses). The script prints question-grouped
cross-validated figures on tune, then fits on all of tune and prints the held-out figures,
which are reported only. Re-run after changing the keys, the features or the index's
contents; the index pins the file, so the next build picks it up.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from legalqa.eval.data import STARD_SPLIT, for_index, load_questions, load_stard, restrict_to_index  # noqa: E402
from legalqa.eval.metrics import retrieval_metrics  # noqa: E402
from legalqa.eval.run import load_searcher, quiet_openmp  # noqa: E402
from legalqa.index.rerank import DEFAULT_RERANKER, FEATURES, save_model  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared"))
OWN_QUESTIONS = REPO / "eval" / "questions.jsonl"
# Chosen on tune (three fold draws, mean cross-validated hit@5 / MRR@10; docs/retrieval.md).
PARAMS = {"learning_rate": 0.1, "num_leaves": 7, "n_estimators": 200}


def ranker(params: dict):
    import lightgbm

    return lightgbm.LGBMRanker(objective="lambdarank", min_child_samples=20, subsample=0.8, subsample_freq=1,
                               colsample_bytree=0.8, lambdarank_truncation_level=10, random_state=0,
                               deterministic=True, force_row_wise=True, n_jobs=1, verbose=-1, **params)


def article_key(chunk) -> tuple | None:
    return (chunk.law, chunk.article, chunk.suffix, None) if chunk.kind == "statute" else None


def ranked_articles(rows, scores, exact, key_of, depth: int = 10) -> list:
    """Article keys (``key_of(row)``, None for prose) best first as a search shows them: named
    articles first, then by score; each article once."""
    order = sorted(range(len(rows)), key=lambda i: (-exact[i], -scores[i], rows[i]))
    out, seen = [], set()
    for i in order:
        key = key_of(rows[i])
        if key is not None and key in seen:
            continue
        seen.add(key)
        out.append(key)
        if len(out) == depth:
            break
    return out


def training_questions(searcher, source: Path) -> tuple[list, list, list]:
    """The questions the re-ranker learns from, as three lists of ``eval.data.Question``:

    - STARD questions whose gold articles are all in the index (scored; their tune part trains);
    - the question file's answerable questions as a library index judges them: its out-of-scope
      questions that the library answers (field ``library``) come with their library gold;
    - STARD tune questions with only part of their gold in the index: they train (the gold that is
      there is labelled) and are never scored, as the eval counts only fully covered questions.
    """
    known = {(c.law, c.article, c.suffix): 1 for c in searcher.chunks if c.kind == "statute" and c.law}
    stard, rest = restrict_to_index(load_stard(source, aliases=searcher.aliases), known)
    partial = [q for q in rest if q.split == "tune" and any(tuple(k[:3]) in known for k in q.expected_keys)]
    own = [q for q in for_index(load_questions(OWN_QUESTIONS, aliases=searcher.aliases), has_library=True)
           if q.answerable and q.expected_keys]
    return stard, own, partial


def gold_labels(chunks, question, pool) -> np.ndarray:
    """1 for each candidate of ``pool`` that is one of the question's gold articles, else 0."""
    gold = {(law, art, suf) for law, art, suf, *_ in question.expected_keys}
    return np.array([int(chunks[r].kind == "statute" and (chunks[r].law, chunks[r].article, chunks[r].suffix) in gold)
                     for r in pool.rows])


def fit_ranker(pools, labels, idx: list[int], params: dict = PARAMS):
    """The ranker trained on the pools and labels of the questions at ``idx``."""
    return ranker(params).fit(np.vstack([pools[i].features for i in idx]), np.concatenate([labels[i] for i in idx]),
                              group=[len(pools[i].rows) for i in idx])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", default=str(SHARED / "stard" / "train.jsonl"), help="STARD train.jsonl")
    ap.add_argument("--out", default=str(DEFAULT_RERANKER))
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    source = Path(args.questions)
    if not source.is_file():
        print(f"找不到 STARD 文件 {source}：用 --questions 指定，或设置 LEGALQA_SHARED", file=sys.stderr)
        return 2
    if args.folds < 2:
        ap.error(f"--folds must be at least 2. Currently, it is {args.folds}")
    quiet_openmp()
    s = load_searcher()
    if s.keys is None:
        print("这个索引没有法规库（或问题键不适用）：先运行 legalqa ingest --library，再用同一个 LEGALQA_HOME 训练",
              file=sys.stderr)
        return 2
    stard, own, partial = training_questions(s, source)
    questions = [("stard", q) for q in stard] + [("default", q) for q in own] + [("partial", q) for q in partial]
    t0 = time.perf_counter()
    pools = [s.candidates(q.question) for _, q in questions]
    print(f"{len(questions)} 个问题的候选（STARD {len(stard)}，默认问题 {len(own)}，只有部分标准法条在索引中的 STARD tune "
          f"{len(partial)}），{time.perf_counter() - t0:.0f} 秒",
          file=sys.stderr)
    exact_col = FEATURES.index("exact")
    labels = [gold_labels(s.chunks, q, pool) for (_, q), pool in zip(questions, pools, strict=True)]
    golds = [{(law, art, suf, None) for law, art, suf, *_ in q.expected_keys} for _, q in questions]
    tune = [i for i, (kind, q) in enumerate(questions) if q.split == "tune" and kind != "partial"]
    only_train = [i for i, (kind, _) in enumerate(questions) if kind == "partial"]  # never scored
    held = [i for i, (_, q) in enumerate(questions) if q.split == "heldout"]

    def fit(idx: list[int]):
        return fit_ranker(pools, labels, idx)

    def figures(idx: list[int], score_of) -> str:
        out = []
        for kind in ("stard", "default"):
            part = [i for i in idx if questions[i][0] == kind]
            ranked = {i: ranked_articles(pools[i].rows, score_of(i), pools[i].features[:, exact_col],
                                         lambda r: article_key(s.chunks[r]))
                      for i in part}
            m = retrieval_metrics(ranked, {i: golds[i] for i in part})
            out.append(f"{kind} ({m['n_retrieval']}): hit@1 {m['hit@1']:.3f} hit@5 {m['hit@5']:.3f} "
                       f"recall@5 {m['recall@5']:.3f} MRR@10 {m['mrr@10']:.3f}")
        return "; ".join(out)

    folds = np.arange(len(tune)) % args.folds
    np.random.default_rng(0).shuffle(folds)
    cv: dict[int, np.ndarray] = {}
    for f in range(args.folds):
        model = fit([i for i, g in zip(tune, folds, strict=True) if g != f] + only_train)
        for i, g in zip(tune, folds, strict=True):
            if g == f:
                cv[i] = model.predict(pools[i].features)
    print(f"tune，{args.folds} 折交叉验证：{figures(tune, cv.__getitem__)}")
    model = fit(tune + only_train)
    print(f"held-out（只报告）：{figures(held, lambda i: model.predict(pools[i].features))}")
    keys_file = s.data.pinned.keys_path
    meta = {
        "params": PARAMS, "lightgbm": __import__("lightgbm").__version__,
        "stard": source.name, "stard_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "split_sha256": hashlib.sha256(STARD_SPLIT.read_bytes()).hexdigest(),
        "keys_sha256": hashlib.sha256(keys_file.read_bytes()).hexdigest(),
        "tune_questions": {"stard": sum(questions[i][0] == "stard" for i in tune), "stard_partial": len(only_train),
                           "default": sum(questions[i][0] == "default" for i in tune)},
    }
    save_model(args.out, model.booster_.model_to_string(), meta)
    print(f"→ {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
