"""The 款/项 chooser (qa/paragraphs.py): how it grows with data, other model forms, and word
associations learned from the known questions (issue 14, session 9; none adopted).

    python experiments/paragraph_curve.py [--curve] [--forms] [--second] [--assoc <library index folder>]

Groups are scripts/train_paragraphs.py's, on the default index's tune split; every figure is
question-grouped 5-fold cross-validated over five fold draws (tune only).

- ``--curve``: each training fold cut to 40/60/80/100% of its questions (seeded).
- ``--forms``: the shipped pointwise logistic regression against a pairwise one (gold minus each
  sibling) and a conditional logit (softmax over siblings, L2), over C.
- ``--second``: with the script's folds, how often the gold span is ranked first or second, by the
  gap between the first two scores (would quoting the runner-up too pay?).
- ``--assoc``: measure_assoc.py's lexicon (question word → gold statute word lifts, from the STARD
  tune questions and the question file's tune ones, a question's own pair left out), as a span's
  summed lift and its lift on words no sibling holds, and both as gaps to the best sibling.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "experiments"))


class Scorer:
    def __init__(self, score) -> None:
        self.score = score

    def scores(self, x: np.ndarray) -> np.ndarray:
        return self.score(x)


def pointwise(rows: list[dict], c: float) -> Scorer:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = np.vstack([r["x"] for r in rows])
    sc = StandardScaler().fit(x)
    m = LogisticRegression(C=c, max_iter=5000).fit(sc.transform(x), np.concatenate([r["y"] for r in rows]))
    return Scorer(lambda z: m.decision_function(sc.transform(z)))


def pairwise(rows: list[dict], c: float) -> Scorer:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    sc = StandardScaler().fit(np.vstack([r["x"] for r in rows]))
    diffs, labels = [], []
    for r in rows:
        z = sc.transform(r["x"])
        for i in np.where(r["y"])[0]:
            for j in np.where(~r["y"])[0]:
                diffs += [z[i] - z[j], z[j] - z[i]]
                labels += [1, 0]
    m = LogisticRegression(C=c, max_iter=5000, fit_intercept=False).fit(np.array(diffs), np.array(labels))
    return Scorer(lambda z: sc.transform(z) @ m.coef_[0])


def softmax(rows: list[dict], c: float, steps: int = 3000, rate: float = 0.1) -> Scorer:
    """A conditional logit: each group's gold against its siblings, by gradient descent."""
    from sklearn.preprocessing import StandardScaler

    sc = StandardScaler().fit(np.vstack([r["x"] for r in rows]))
    zs = [sc.transform(r["x"]) for r in rows]
    ys = [r["y"] / r["y"].sum() for r in rows]
    w = np.zeros(zs[0].shape[1])
    for _ in range(steps):
        grad = np.zeros_like(w)
        for z, y in zip(zs, ys, strict=True):
            s = z @ w
            p = np.exp(s - s.max())
            grad += z.T @ (p / p.sum() - y)
        w -= rate * (grad / len(zs) + w / (c * len(zs)))
    return Scorer(lambda z: sc.transform(z) @ w)


def cv_accuracy(rows: list[dict], fitter, c: float, seed: int, keep: float = 1.0, cols=None) -> float:
    """Left-out share of groups whose gold span ranks first; folds by question, training cut to ``keep``."""
    pick = (lambda r: r) if cols is None else (lambda r: dict(r, x=r["x"][:, cols]))
    rows = [pick(r) for r in rows]
    ids = sorted({r["id"] for r in rows})
    order = np.random.RandomState(seed).permutation(len(ids))
    cut = np.random.RandomState(50 + seed)
    right = []
    for part in np.array_split(order, 5):
        held = {ids[i] for i in part}
        train = [ids[i] for i in order if ids[i] not in held]
        kept = set(cut.choice(train, int(len(train) * keep), replace=False)) if keep < 1 else set(train)
        model = fitter([r for r in rows if r["id"] in kept], c)
        right += [r["y"][int(np.argmax(model.scores(r["x"])))] for r in rows if r["id"] in held]
    return float(np.mean(right))


def draws(rows, fitter, c, keep=1.0, cols=None) -> str:
    a = [cv_accuracy(rows, fitter, c, seed, keep, cols) for seed in range(5)]
    return f"{np.mean(a):.3f} ({min(a):.3f}-{max(a):.3f})"


def assoc_columns(tune: list[dict], library: str) -> list[dict]:
    """Four columns per span from the association lexicon (module docstring), appended to ``x``."""
    from legalqa.eval.data import load_questions, load_stard, restrict_to_index
    from legalqa.eval.run import load_searcher
    from legalqa.index.search import normalize_query
    from legalqa.qa.paragraphs import sibling_items
    from measure_assoc import SHARED, Lexicon, question_words, statute_words

    s = load_searcher(index_dir=library)
    known = {(c.law, c.article, c.suffix): 1 for c in s.chunks if c.kind == "statute" and c.law}
    stard, _ = restrict_to_index(load_stard(SHARED / "stard" / "train.jsonl", aliases=s.aliases), known)
    own = [q for q in load_questions(REPO / "eval" / "questions.jsonl", aliases=s.aliases)
           if q.answerable and q.expected_keys]
    row_of = {(c.law, c.article, c.suffix): r for r, c in enumerate(s.chunks) if c.kind == "statute"}
    words = {r: statute_words(s.chunks[r].text) for r in row_of.values()}
    df: Counter = Counter()
    for w in words.values():
        df.update(w)

    def searched(text: str) -> str:
        return s.speller.correct(normalize_query(text))[0]

    pairs, slot = [], {}
    for q in stard + own:
        if q.split == "tune":
            gold = set().union(*[words[row_of[k[:3]]] for k in q.expected_keys if k[:3] in row_of])
            slot[q.id] = len(pairs)
            pairs.append((question_words(searched(q.question)), gold))
    lex = Lexicon(pairs, df, len(words))
    text = {q.id: q.question for q in own}
    out = []
    for r in tune:
        law, article, suffix, paragraph, _ = r["places"][0]
        chunk = s.article(law, article, suffix)
        spans = list(chunk.paragraphs) if r["kind"] == "款" else sibling_items(chunk, paragraph)
        qw = question_words(searched(text[r["id"]]))
        lifts = lex.weights(qw, slot.get(r["id"]))
        sw = [statute_words(sp.text) for sp in spans]
        f = []
        for j, ws in enumerate(sw):
            others = set().union(*[x for i, x in enumerate(sw) if i != j])
            f.append([sum(v for row in lifts.values() for w, v in row if w in ws) / max(len(qw), 1),
                      sum(v for row in lifts.values() for w, v in row if w in ws and w not in others) / max(len(qw), 1)])
        f = np.array(f)
        out.append(dict(r, x=np.hstack([r["x"], f, f - f.max(axis=0, keepdims=True)])))
    return out


def main() -> int:
    from legalqa.eval.data import load_questions, select_split
    from legalqa.eval.run import load_searcher

    from scripts.train_paragraphs import groups

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--curve", action="store_true")
    p.add_argument("--forms", action="store_true")
    p.add_argument("--second", action="store_true")
    p.add_argument("--assoc", metavar="LIBRARY_INDEX")
    args = p.parse_args()
    s = load_searcher()
    qs = load_questions(REPO / "eval" / "questions.jsonl", aliases=s.aliases)
    tune = groups(s, [q for q in select_split(qs, "tune") if q.answerable])
    print(f"{len(tune)} tune groups; mean of five fold draws (range)")
    if args.curve:
        for keep in (0.4, 0.6, 0.8, 1.0):
            print(f"training folds cut to {keep:.0%}: {draws(tune, pointwise, 3, keep)}", flush=True)
    if args.forms:
        for name, fitter in (("pointwise", pointwise), ("pairwise", pairwise), ("softmax", softmax)):
            for c in (0.1, 0.3, 1, 3, 10):
                print(f"{name} C {c}: {draws(tune, fitter, c)}", flush=True)
    if args.second:  # would quoting the runner-up 款 too pay, below some gap between the first two?
        from scripts.train_paragraphs import fit

        ids = sorted({r["id"] for r in tune})
        order = np.random.RandomState(0).permutation(len(ids))
        ranks, gaps = [], []
        for part in np.array_split(order, 5):
            held = {ids[i] for i in part}
            model = fit([r for r in tune if r["id"] not in held], 3)
            for r in tune:
                if r["id"] in held:
                    sc = model.scores(r["x"])
                    o = np.argsort(-sc)
                    ranks.append(int(np.where(r["y"][o])[0][0]))
                    gaps.append(sc[o[0]] - sc[o[1]])
        ranks, gaps = np.array(ranks), np.array(gaps)
        print(f"gold first {np.mean(ranks == 0):.3f}, second {np.mean(ranks == 1):.3f}")
        for t in (0.25, 0.5, 0.75, 1.0):
            below = gaps < t
            print(f"gap below {t}: {below.sum()} groups, gold first in {(ranks[below] == 0).sum()}, "
                  f"second in {(ranks[below] == 1).sum()}")
    if args.assoc:
        rows = assoc_columns(tune, args.assoc)
        shipped = list(range(tune[0]["x"].shape[1]))
        n = len(shipped)
        for name, extra in (("shipped", []), ("+ lift", [n]), ("+ distinct lift", [n + 1]), ("+ both", [n, n + 1]),
                            ("+ gaps", [n + 2, n + 3]), ("+ all four", [n, n + 1, n + 2, n + 3])):
            print(f"{name}: {draws(rows, pointwise, 3, cols=shipped + extra)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
