"""Train the 款/项 chooser (qa/paragraphs.py) on the tune split and write qa/data/paragraph_model.json.

    python scripts/train_paragraphs.py [--C 0.03,0.1,0.3,1,3] [--folds 5] [--out qa/data/paragraph_model.json]

Every tune question whose expected citation names a 款 of an article with several 款 gives one
group: the article's 款, each described by ``qa.paragraphs.span_features``, labelled 1 for the gold
款. A gold 项 of a 款 with several 项 gives a group of that 款's 项 the same way. The question is read
as the composer reads it (searched text and expansion terms of ``Searcher.run``). A logistic
regression (scikit-learn) learns the weights; its regularization C is chosen by question-grouped
cross-validation on tune: the C whose left-out groups most often rank their gold span first (ties:
the smaller C). The held-out split is scored once at the end and printed; it chooses nothing.
Re-run after changing the features, the statutes or the questions.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from legalqa.eval.data import Question, load_questions, select_split  # noqa: E402
from legalqa.eval.run import load_searcher  # noqa: E402
from legalqa.index.search import Searcher  # noqa: E402
from legalqa.qa.paragraphs import (  # noqa: E402
    DEFAULT_MODEL,
    FEATURES,
    ParagraphModel,
    asked_terms,
    sibling_items,
    span_features,
)

from scripts.training import add_grid_args  # noqa: E402
from scripts.training import grid as parse_grid  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def groups(searcher: Searcher, qs: list[Question]) -> list[dict]:
    """One group per gold 款 (or 项) among several siblings: its features, labels, question id and the
    place of each span, (law, article, suffix, 款, 项 or None)."""
    out = []
    for q in qs:
        found = None
        for law, article, suffix, paragraph, item in q.expected_refs:
            chunk = searcher.article(law, article, suffix)
            if chunk is None or (paragraph is None and item is None):
                continue
            found = found or searcher.run(q.question, k=5)
            asked = asked_terms(found.searched, found.expansion.terms)
            if paragraph is not None and len(chunk.paragraphs) > 1:
                spans = list(chunk.paragraphs)
                out.append({"id": q.id, "x": span_features(asked, spans),
                            "y": np.array([s.index == paragraph for s in spans]), "kind": "款",
                            "places": [(law, article, suffix, s.index, None) for s in spans]})
            items = sibling_items(chunk, paragraph or 1)
            if item is not None and len(items) > 1:
                out.append({"id": q.id, "x": span_features(asked, items),
                            "y": np.array([s.index == item for s in items]), "kind": "项",
                            "places": [(law, article, suffix, paragraph or 1, s.index) for s in items]})
    return [g for g in out if g["y"].any()]


def fit(rows: list[dict], c: float, trained: dict | None = None) -> ParagraphModel:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = np.vstack([r["x"] for r in rows])
    y = np.concatenate([r["y"] for r in rows])
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    lr = LogisticRegression(C=c, max_iter=5000).fit((x - scaler.mean_) / scale, y)
    return ParagraphModel(tuple(map(float, scaler.mean_)), tuple(map(float, scale)), tuple(map(float, lr.coef_[0])),
                          float(lr.intercept_[0]), trained=trained or {})


def first_right(model: ParagraphModel, rows: list[dict]) -> float:
    """Share of groups whose gold span the model ranks first."""
    return float(np.mean([r["y"][int(np.argmax(model.scores(r["x"])))] for r in rows])) if rows else 0.0


def cv_accuracy(rows: list[dict], c: float, folds: int) -> float:
    """Left-out accuracy, folds drawn by question (a question's groups stay together; fixed seed)."""
    ids = sorted({r["id"] for r in rows})
    order = np.random.RandomState(0).permutation(len(ids))
    right = []
    for part in np.array_split(order, folds):
        held = {ids[i] for i in part}
        model = fit([r for r in rows if r["id"] not in held], c)
        right += [r["y"][int(np.argmax(model.scores(r["x"])))] for r in rows if r["id"] in held]
    return float(np.mean(right))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", default=str(REPO / "eval" / "questions.jsonl"))
    add_grid_args(ap, "0.1,0.3,1,3,10,30")
    ap.add_argument("--out", default=str(DEFAULT_MODEL))
    args = ap.parse_args()
    grid = parse_grid(ap, args)

    t0 = time.perf_counter()
    searcher = load_searcher()
    qs = load_questions(args.questions, aliases=searcher.aliases)
    tune = groups(searcher, [q for q in select_split(qs, "tune") if q.answerable])
    held = groups(searcher, [q for q in select_split(qs, "heldout") if q.answerable])
    if len({r["id"] for r in tune}) < args.folds:
        sys.exit(f"{len(tune)} tune groups cannot fill {args.folds} folds: lower --folds")
    cvs = {c: cv_accuracy(tune, c, args.folds) for c in grid}
    best = max(grid, key=lambda c: (round(cvs[c], 6), -c))
    print(f"{'C':>6}  cv accuracy")
    for c in grid:
        print(f"{c:>6g}  {cvs[c]:11.3f}" + ("  <- chosen" if c == best else ""))
    trained = {
        "questions": Path(args.questions).name, "split": "tune", "groups": len(tune),
        "paragraph_groups": sum(r["kind"] == "款" for r in tune), "item_groups": sum(r["kind"] == "项" for r in tune),
        "C": best, "folds": args.folds, "cv_accuracy": round(cvs[best], 4), "trained_at": time.strftime("%Y-%m-%d"),
    }
    model = fit(tune, best, trained)
    model.save(args.out)
    first = {c: np.mean([r["y"][0] for r in rows]) if rows else 0.0 for c, rows in (("tune", tune), ("held", held))}
    print(f"\nwrote {args.out}: C {best:g}, {len(tune)} tune groups ({trained['paragraph_groups']} 款, "
          f"{trained['item_groups']} 项)")
    print("weights (standardized): " + ", ".join(f"{f} {w:+.2f}" for f, w in zip(FEATURES, model.coef, strict=True)))
    print(f"always the first span: tune {first['tune']:.3f}, held-out {first['held']:.3f}")
    for kind in ("款", "项"):
        print(f"held-out {kind} (reported, not used): {first_right(model, [r for r in held if r['kind'] == kind]):.3f} "
              f"of {sum(r['kind'] == kind for r in held)} groups")
    print(f"held-out, all groups: {first_right(model, held):.3f}; tune (in sample): {first_right(model, tune):.3f}")
    print(f"{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
