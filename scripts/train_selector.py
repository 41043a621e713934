"""Train the citation selector (qa/select.py) on the tune split and write qa/data/citation_selector.json.

    python scripts/train_selector.py [--C 0.1,0.3,1,3,10] [--folds 5] [--out qa/data/citation_selector.json]

Every answerable tune question gives one row per statute candidate the composer would see
(the same search depth, the same features): label 1 when the article is one of the
question's ``expected`` citations. A logistic regression (scikit-learn) learns the weights.
Its regularization C and the citation threshold are chosen together by question-grouped
cross-validation on the tune split: the pair whose worse ratio to target (recall/0.90,
precision/0.85, as in docs/retrieval.md) is highest (ties: the smaller C, the higher threshold). The held-out split is scored once at the end and printed; it
never chooses anything. Last, it prints the ranking's ceilings (``ceilings``): recall and
precision when every answer cites its k most probable candidates, for k = 1, 2 and the oracle
k = the question's number of expected articles. Re-run after changing the model, the hints or
the indexed text.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from legalqa.eval import metrics  # noqa: E402
from legalqa.eval.data import Question, load_questions, load_stard, restrict_to_index, select_split  # noqa: E402
from legalqa.eval.run import known_articles, load_searcher  # noqa: E402
from legalqa.index.search import Searcher  # noqa: E402
from legalqa.index.sparse import tokenize  # noqa: E402
from legalqa.qa.select import DEFAULT_MODEL, FEATURES, CitationSelector, candidate_features, candidates  # noqa: E402
from legalqa.qa.terms import term_weights  # noqa: E402

from scripts.training import add_grid_args  # noqa: E402
from scripts.training import grid as parse_grid  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 11))
TARGET_RECALL, TARGET_PRECISION = 0.90, 0.85


def question_rows(searcher: Searcher, qs: list[Question], hits: int, depth: int) -> list[dict]:
    """Per question: the candidates, their feature matrix, labels and the gold sets."""
    out = []
    for q in qs:
        found = searcher.run(q.question, k=hits)
        cands = candidates(found, depth)
        x = candidate_features(found, cands, term_weights(tokenize(found.searched)), searcher.data.hints)
        keys = [(h.chunk.law, h.chunk.article, h.chunk.suffix, None) for h in cands]
        expected = {metrics.article_level(k) for k in q.expected_keys}
        accept = {metrics.article_level(k) for k in q.accept_keys}
        out.append({"id": q.id, "cands": cands, "x": x, "keys": keys,
                    "y": np.array([k in expected for k in keys], dtype=bool),
                    "expected": expected, "accept": accept})
    return out


def fit(rows: list[dict], c: float, threshold: float, hits: int, depth: int, trained: dict | None = None):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = np.vstack([r["x"] for r in rows if len(r["x"])])
    y = np.concatenate([r["y"] for r in rows if len(r["x"])])
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    lr = LogisticRegression(C=c, max_iter=5000).fit((x - scaler.mean_) / scale, y)
    return CitationSelector(
        mean=tuple(map(float, scaler.mean_)), scale=tuple(map(float, scale)), coef=tuple(map(float, lr.coef_[0])),
        intercept=float(lr.intercept_[0]), threshold=threshold, depth=depth, hits=hits, trained=trained or {},
    )


def score(selector: CitationSelector, rows: list[dict], probs: list[np.ndarray] | None = None) -> tuple[float, float]:
    """Mean article-level citation recall and precision of the selector's choice (eval's definitions).

    ``probs`` are the candidates' probabilities per question; by default the selector's own.
    """
    if probs is None:
        probs = [selector.probabilities(r["x"]) for r in rows]
    recalls, precisions = [], []
    for r, p in zip(rows, probs, strict=True):
        chosen = {(h.chunk.law, h.chunk.article, h.chunk.suffix, None) for h, _ in selector.choose(r["cands"], p)}
        s = metrics.answer_citation_scores(chosen, r["expected"], r["accept"])
        recalls.append(s["recall"])
        if s["precision"] is not None:
            precisions.append(s["precision"])
    return float(np.mean(recalls)), float(np.mean(precisions)) if precisions else 0.0


def criterion(recall: float, precision: float) -> float:
    return min(recall / TARGET_RECALL, precision / TARGET_PRECISION)


def cv_probabilities(rows: list[dict], c: float, folds: int, hits: int, depth: int) -> list[np.ndarray]:
    """Each question's candidate probabilities from the model of the folds that left it out (fixed seed)."""
    order = np.random.RandomState(0).permutation(len(rows))
    probs: list[np.ndarray] = [np.zeros(0)] * len(rows)
    for part in np.array_split(order, folds):
        held = set(part.tolist())
        model = fit([rows[i] for i in order if i not in held], c, THRESHOLDS[0], hits, depth)
        for i in part:
            probs[i] = model.probabilities(rows[i]["x"])
    return probs


def by_threshold(rows: list[dict], probs: list[np.ndarray], rule: CitationSelector) -> dict[float, tuple[float, float]]:
    """Threshold -> (recall, precision) of ``rule``'s choice over the given probabilities."""
    return {t: score(replace(rule, threshold=t), rows, probs) for t in THRESHOLDS}


def ceilings(rows: list[dict], probs: list[np.ndarray]) -> dict[str, tuple[float, float]]:
    """Recall and precision if every answer cited its k most probable candidates.

    ``k=1`` and ``k=2`` are rules an answer could follow; ``k=gold`` (as many as the question's
    expected articles) is an oracle no answer has. It bounds what any choice of how many to cite
    can reach with this ranking: a recall gap that remains under it is a ranking problem.
    """
    out = {}
    for name in ("k=1", "k=gold", "k=2"):
        recalls, precisions = [], []
        for r, p in zip(rows, probs, strict=True):
            k = len(r["expected"]) if name == "k=gold" else int(name[2:])
            got = {r["keys"][i] for i in np.argsort(-p, kind="stable")[:k]}
            s = metrics.answer_citation_scores(got, r["expected"], r["accept"])
            recalls.append(s["recall"])
            if s["precision"] is not None:
                precisions.append(s["precision"])
        out[name] = (float(np.mean(recalls)), float(np.mean(precisions)) if precisions else 0.0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", default=str(REPO / "eval" / "questions.jsonl"))
    add_grid_args(ap, "0.1,0.3,1,3,10")
    ap.add_argument("--hits", type=int, default=15, help="retrieval depth the candidates come from")
    ap.add_argument("--depth", type=int, default=10, help="statute candidates per question")
    ap.add_argument("--out", default=str(DEFAULT_MODEL))
    ap.add_argument("--stard", metavar="FILE",
                    help="also train on the STARD tune part (questions whose gold articles are all in the index); "
                         "its held-out part is reported apart")
    args = ap.parse_args()
    grid = parse_grid(ap, args)
    if args.depth < 1 or args.hits < args.depth:
        ap.error(f"--depth must be at least 1 and --hits at least --depth. Currently, they are {args.depth} and {args.hits}")

    t0 = time.perf_counter()
    searcher = load_searcher()
    qs = load_questions(args.questions, aliases=searcher.aliases)
    tune = [q for q in select_split(qs, "tune") if q.answerable]
    heldout = [q for q in select_split(qs, "heldout") if q.answerable]
    stard_held: list[Question] = []
    if args.stard:
        stard, _ = restrict_to_index(load_stard(args.stard, aliases=searcher.aliases), known_articles(searcher.chunks))
        tune += [q for q in stard if q.split == "tune"]
        stard_held = [q for q in stard if q.split == "heldout"]
    rows = question_rows(searcher, tune, args.hits, args.depth)
    if len(rows) < args.folds:
        sys.exit(f"{len(rows)} answerable tune questions cannot fill {args.folds} folds: lower --folds")
    cv_probs = {c: cv_probabilities(rows, c, args.folds, args.hits, args.depth) for c in grid}
    # The choice rule (first candidate, then others above the threshold) does not depend on C's weights.
    cvs = {c: by_threshold(rows, cv_probs[c], fit(rows, c, THRESHOLDS[0], args.hits, args.depth)) for c in grid}
    c_best, best = max(((c, t) for c in grid for t in THRESHOLDS),
                       key=lambda ct: (round(criterion(*cvs[ct[0]][ct[1]]), 6), -ct[0], ct[1]))
    cv = cvs[c_best]
    print(f"{'C':>6}  best threshold  cv recall  cv precision  criterion")
    for c in grid:
        t = max(THRESHOLDS, key=lambda t: (round(criterion(*cvs[c][t]), 6), t))
        mark = "  <- chosen" if c == c_best else ""
        print(f"{c:>6g}  {t:>14.2f}  {cvs[c][t][0]:9.3f}  {cvs[c][t][1]:12.3f}  {criterion(*cvs[c][t]):9.3f}{mark}")
    print(f"\nC = {c_best:g}: {'threshold':>9}  cv recall  cv precision  criterion")
    for t in THRESHOLDS:
        mark = "  <- chosen" if t == best else ""
        print(f"{'':>9}{t:>9.2f}  {cv[t][0]:9.3f}  {cv[t][1]:12.3f}  {criterion(*cv[t]):9.3f}{mark}")
    trained = {
        "questions": Path(args.questions).name + (f" + {Path(args.stard).name} (STARD tune)" if args.stard else ""), "split": "tune", "answerable_questions": len(rows),
        "candidates": int(sum(len(r["x"]) for r in rows)), "positives": int(sum(r["y"].sum() for r in rows)),
        "C": c_best, "folds": args.folds, "model": searcher.embedder.name,
        "cv_recall": round(cv[best][0], 4), "cv_precision": round(cv[best][1], 4),
        "trained_at": time.strftime("%Y-%m-%d"),
    }
    selector = fit(rows, c_best, best, args.hits, args.depth, trained)
    selector.save(args.out)
    held_rows = question_rows(searcher, heldout, args.hits, args.depth)
    held = score(selector, held_rows)
    print(f"\nwrote {args.out}: threshold {best}, trained on {len(rows)} tune questions "
          f"({trained['candidates']} candidates, {trained['positives']} positive)")
    print("weights (standardized): " + ", ".join(f"{f} {w:+.2f}" for f, w in zip(FEATURES, selector.coef, strict=True)))
    print(f"held-out selection alone (reported, not used): recall {held[0]:.3f}, precision {held[1]:.3f}")
    if stard_held:
        sh = score(selector, question_rows(searcher, stard_held, args.hits, args.depth))
        print(f"STARD held-out selection alone ({len(stard_held)} questions, reported): "
              f"recall {sh[0]:.3f}, precision {sh[1]:.3f}")
    print("\nranking ceilings, recall / precision when citing the k most probable (k=gold is an oracle):")
    for name, table in (("tune (cv)", ceilings(rows, cv_probs[c_best])),
                        ("held-out", ceilings(held_rows, [selector.probabilities(r["x"]) for r in held_rows]))):
        print(f"{name:>10}  " + "  ".join(f"{k} {rp[0]:.3f} / {rp[1]:.3f}" for k, rp in table.items()))
    print(f"{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
