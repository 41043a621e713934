"""Measure forms of a "known questions" feature for the 款/项 chooser by tune cross-validation (issue 14).

    python experiments/paragraph_keys.py [--cache /tmp/paragraph_groups.pkl] [--seeds 5] [--eval | --diagnose] [FORM ...]

Each tune question whose gold names a 款 (or 项) is a key: its query vector and the places it names.
For a candidate span, the feature is read from the keys of the other folds only: a group in the
held-out fold F sees keys outside F; a training group in fold G (G != F) sees keys outside F and G, so
no question ever sees itself or its own fold. Each form is appended to the word-level FEATURES and
scored like ``scripts/train_paragraphs.py`` does (same folds, same C grid). Held-out groups are scored
once per form with keys from all tune questions (reported, not used to choose).
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from legalqa.qa.paragraphs import span_features  # noqa: E402

from scripts import train_paragraphs  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
GRID = (0.1, 0.3, 1, 3, 10, 30)


def places_of(chunks) -> dict[int, tuple]:
    """id(span) -> (law, article, suffix, 款, 项 or None) for every 款 and 项 of the statute articles."""
    out = {}
    for c in chunks:
        if c.kind == "statute" and c.law and c.article:
            out |= {id(sp): (c.law, c.article, c.suffix, sp.index, None) for sp in c.paragraphs}
            out |= {id(sp): (c.law, c.article, c.suffix, k, sp.index) for k, sp in c.items}
    return out


def groups(searcher, qs) -> list[dict]:
    """scripts/train_paragraphs.groups, each with its question's vector as the searcher embeds it for dense
    retrieval (the searched text; ``expand_dense`` is off). The searcher caches query vectors, so each
    question is embedded once."""
    by_id = {q.id: q for q in qs}
    out = train_paragraphs.groups(searcher, qs)
    for g in out:
        g["vector"] = searcher.embedder.embed_query(searcher.run(by_id[g["id"]].question, k=5).searched)
    return out


def load_groups(cache: Path, searcher=None) -> tuple[list[dict], list[dict]]:
    """The tune and held-out groups (``groups``), from ``cache`` when it exists, else computed and cached."""
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    from legalqa.eval.data import load_questions, select_split
    from legalqa.eval.run import load_searcher

    searcher = searcher or load_searcher()
    qs = load_questions(str(REPO / "eval" / "questions.jsonl"), aliases=searcher.aliases)
    tune = groups(searcher, [q for q in select_split(qs, "tune") if q.answerable])
    held = groups(searcher, [q for q in select_split(qs, "heldout") if q.answerable])
    cache.write_bytes(pickle.dumps((tune, held)))
    return tune, held


def folds_of(rows: list[dict], folds: int = 5, seed: int = 0) -> dict[str, int]:
    """The fold of each question id, as scripts/train_paragraphs.cv_accuracy draws them (seed 0)."""
    ids = sorted({r["id"] for r in rows})
    order = np.random.RandomState(seed).permutation(len(ids))
    return {ids[i]: f for f, part in enumerate(np.array_split(order, folds)) for i in part}


def keys_of(rows: list[dict]) -> dict[str, tuple[np.ndarray, set]]:
    """Question id -> (vector, the places its gold names)."""
    out: dict[str, tuple[np.ndarray, set]] = {}
    for r in rows:
        v, places = out.get(r["id"], (r["vector"], set()))
        places |= {p for p, y in zip(r["places"], r["y"], strict=True) if y}
        out[r["id"]] = (v, places)
    return out


def feature(row: dict, keys: list[tuple[np.ndarray, set]], form: str) -> np.ndarray:
    """The extra column(s) for one group's spans, from ``keys`` (vector, places)."""
    n = len(row["places"])
    if not keys:
        return np.zeros((n, 1))
    sims = np.array([float(v @ row["vector"]) for v, _ in keys])
    name, _, arg = form.partition(":")
    if name in ("gap", "gap2", "raw", "hinge"):  # gap2: a gap only where keys name two siblings or more
        floor = float(arg)
        best = np.full(n, floor)
        for s, (_, places) in zip(sims, keys, strict=True):
            for i, p in enumerate(row["places"]):
                if p in places and s > best[i]:
                    best[i] = s
        if name == "raw":
            return best[:, None]
        if name == "hinge":
            return (best - floor)[:, None]
        if name == "gap2" and (best > floor).sum() < 2:
            return np.zeros((n, 1))
        other = np.array([max(np.delete(best, i)) for i in range(n)])
        return (best - other)[:, None]
    if name in ("vote", "wvote"):  # the k nearest keys naming any sibling vote for theirs
        k = int(arg)
        siblings = set(row["places"])
        near = [(s, places & siblings) for s, (_, places) in zip(sims, keys, strict=True) if places & siblings]
        near.sort(key=lambda t: -t[0])
        votes = np.zeros(n)
        for s, named in near[:k]:
            for i, p in enumerate(row["places"]):
                if p in named:
                    votes[i] += s if name == "wvote" else 1.0
        total = sum(s if name == "wvote" else 1.0 for s, _ in near[:k])
        return (votes / total if total else votes)[:, None]
    if name == "cent":  # cosine to the mean vector of the keys naming each span, as a gap to the best sibling's
        out = np.zeros(n)
        have = np.zeros(n, dtype=bool)
        for i, p in enumerate(row["places"]):
            vs = [v for v, places in keys if p in places]
            if vs:
                c = np.mean(vs, axis=0)
                out[i], have[i] = float(c @ row["vector"]) / float(np.linalg.norm(c)), True
        if have.sum() < 2:
            return np.zeros((n, 1))
        out = np.where(have, out, out[have].min())
        return (out - np.array([max(np.delete(out, i)) for i in range(n)]))[:, None]
    if name == "soft":  # every key naming a sibling votes, weighted exp((sim - best) / T)
        t = float(arg)
        siblings = set(row["places"])
        near = [(s, places & siblings) for s, (_, places) in zip(sims, keys, strict=True) if places & siblings]
        if not near:
            return np.zeros((n, 1))
        top = max(s for s, _ in near)
        votes = np.zeros(n)
        for s, named in near:
            for i, p in enumerate(row["places"]):
                if p in named:
                    votes[i] += np.exp((s - top) / t)
        return (votes / votes.sum())[:, None]
    raise ValueError(form)


def columns(rows: list[dict], keys: dict, folds: dict[str, int], exclude: set[int], form: str) -> list[np.ndarray]:
    """Each row's FEATURES plus the form's column(s), from keys whose fold is not in ``exclude`` (nor the
    row's own fold)."""
    out = []
    for r in rows:
        drop = exclude | {folds.get(r["id"], -1)}
        usable = [keys[i] for i in keys if folds[i] not in drop and i != r["id"]]
        out.append(r["x"] if form == "none" else np.hstack([r["x"], feature(r, usable, form)]))
    return out


def fit(xs: list[np.ndarray], ys: list[np.ndarray], c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x, y = np.vstack(xs), np.concatenate(ys)
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    lr = LogisticRegression(C=c, max_iter=5000).fit((x - scaler.mean_) / scale, y)
    return lambda z: (z - scaler.mean_) / scale @ lr.coef_[0] + lr.intercept_[0], lr.coef_[0]


def right(score, xs: list[np.ndarray], rows: list[dict]) -> list[bool]:
    return [bool(r["y"][int(np.argmax(score(x)))]) for x, r in zip(xs, rows, strict=True)]


def cross_validate(tune: list[dict], held: list[dict], form: str, folds_n: int = 5, seed: int = 0) -> dict:
    folds = folds_of(tune, folds_n, seed)
    keys = keys_of(tune)
    cv = {}
    for c in GRID:
        got = []
        for f in range(folds_n):
            test = [r for r in tune if folds[r["id"]] == f]
            train = [r for r in tune if folds[r["id"]] != f]
            score, _ = fit(columns(train, keys, folds, {f}, form), [r["y"] for r in train], c)
            got += right(score, columns(test, keys, folds, {f}, form), test)
        cv[c] = float(np.mean(got))
    best = max(GRID, key=lambda c: (round(cv[c], 6), -c))
    # The final model: each tune group's column from the keys outside its own fold; held-out sees all keys.
    score, coef = fit(columns(tune, keys, folds, set(), form), [r["y"] for r in tune], best)
    all_folds = {**folds, **{r["id"]: -2 for r in held}}
    held_right = right(score, columns(held, keys, all_folds, set(), form), held)
    para = [ok for ok, r in zip(held_right, held, strict=True) if r["kind"] == "款"]
    return {"form": form, "cv": cv[best], "C": best, "held": float(np.mean(held_right)),
            "held_para": float(np.mean(para)), "coef_extra": [round(float(w), 2) for w in coef[9:]]}


def end_to_end(cache: Path, forms: list[str]) -> None:
    """``legalqa eval --split all`` figures with the shipped 款/项 model ("none") or one retrained with a
    form's column at the C tune CV picks; a tune question reads keys outside its own CV fold (so tune
    figures stay out-of-fold for the keys), a held-out one all tune keys."""
    from legalqa.eval.data import load_questions
    from legalqa.eval.run import evaluate, load_engine

    engine = load_engine()
    searcher, composer = engine.searcher, engine.composer
    tune, held = load_groups(cache, searcher)
    folds, keys, places = folds_of(tune), keys_of(tune), places_of(searcher.chunks)
    qs = load_questions(str(REPO / "eval" / "questions.jsonl"), aliases=searcher.aliases)
    fold_of_text = {q.question: folds.get(q.id, -2) for q in qs}
    shipped, decide = composer.paragraphs, composer.decide
    now: dict = {}

    class Keyed:
        def __init__(self, score, form):
            self.score, self.form = score, form

        def rank(self, asked, spans):
            row = {"places": [places[id(sp)] for sp in spans], "vector": now["vector"]}
            usable = [keys[i] for i in keys if folds[i] != now["fold"]]
            sc = self.score(np.hstack([span_features(asked, spans), feature(row, usable, self.form)]))
            return sorted(range(len(spans)), key=lambda i: (-sc[i], i))

    def keyed_decide(found):
        now["vector"] = searcher.embedder.embed_query(found.searched)  # cached
        now["fold"] = fold_of_text.get(found.query, -2)
        return decide(found)

    composer.decide = keyed_decide
    names = ("citation_recall", "citation_precision", "para_hit", "para_first", "lead_relevance",
             "abstention_recall", "abstention_precision", "false_abstention_rate")
    print(f"{'form':>12}  {'split':>8}  " + "  ".join(f"{n:>10.10}" for n in names))
    for form in forms:
        if form == "none":
            composer.paragraphs = shipped
        else:
            m = cross_validate(tune, held, form)
            score, _ = fit(columns(tune, keys, folds, set(), form), [r["y"] for r in tune], m["C"])
            composer.paragraphs = Keyed(score, form)
        got = evaluate(qs, composer)["metrics"]
        for split in ("tune", "heldout"):
            print(f"{form:>12}  {split:>8}  " + "  ".join(f"{got[split][n]:10.3f}" for n in names))


def diagnose(tune: list[dict], held: list[dict]) -> None:
    """For each group where some usable key names a sibling: does the nearest such key name the gold
    (by e5 cosine, and by character-bigram TF-IDF cosine of the question texts), and does any key?"""
    import json

    from sklearn.feature_extraction.text import TfidfVectorizer

    text = {}
    for line in (REPO / "eval" / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        text[d["id"]] = d["question"]
    folds, keys = folds_of(tune), keys_of(tune)
    tfidf = TfidfVectorizer(analyzer="char", ngram_range=(2, 2)).fit([text[i] for i in keys])
    lexical = {i: v / (np.linalg.norm(v) or 1.0) for i, v in zip(
        text, tfidf.transform(list(text.values())).toarray(), strict=True)}
    for split, rows in (("tune (out of fold)", tune), ("held-out", held)):
        covered = gold_named = 0
        right = {"e5": 0, "tfidf": 0}
        for r in rows:
            siblings, gold = set(r["places"]), {p for p, y in zip(r["places"], r["y"], strict=True) if y}
            usable = [i for i in keys if folds[i] != folds.get(r["id"], -2) and keys[i][1] & siblings]
            if not usable:
                continue
            covered += 1
            gold_named += any(keys[i][1] & gold for i in usable)
            dense = {i: float(keys[i][0] @ r["vector"]) for i in usable}
            words = {i: float(lexical[i] @ lexical[r["id"]]) for i in usable}
            for kind, sim in (("e5", dense), ("tfidf", words)):
                right[kind] += bool(keys[max(usable, key=sim.__getitem__)][1] & gold)
        print(f"{split}: {len(rows)} groups, {covered} where a key names a sibling; the nearest names the gold "
              f"in {right['e5']} (e5) / {right['tfidf']} (TF-IDF); some key names the gold in {gold_named}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default="/tmp/paragraph_groups.pkl")
    ap.add_argument("--seeds", type=int, default=1, help="also draw the folds with seeds 1 .. N-1 (mean CV shown)")
    ap.add_argument("forms", nargs="*", default=[
        "none", "gap:0", "gap:0.8", "gap:0.85", "gap:0.9", "raw:0.8", "hinge:0.85",
        "vote:1", "vote:3", "vote:5", "wvote:3"])
    ap.add_argument("--eval", action="store_true", help="end-to-end eval figures for the forms instead of CV")
    ap.add_argument("--diagnose", action="store_true", help="how often the nearest key names the gold")
    args = ap.parse_args()
    if args.diagnose:
        diagnose(*load_groups(Path(args.cache)))
        return
    if args.eval:
        end_to_end(Path(args.cache), args.forms)
        return
    tune, held = load_groups(Path(args.cache))
    print(f"{len(tune)} tune groups ({len({r['id'] for r in tune})} questions), {len(held)} held-out groups")
    print(f"{'form':>12}  {'cv':>6}  {'C':>5}  {'held':>6}  {'held 款':>7}  extra weight"
          + ("  mean cv over seeds" if args.seeds > 1 else ""))
    for form in args.forms:
        m = cross_validate(tune, held, form)
        more = ""
        if args.seeds > 1:
            cvs = [m["cv"]] + [cross_validate(tune, held, form, seed=s)["cv"] for s in range(1, args.seeds)]
            more = f"  {np.mean(cvs):.3f} ({min(cvs):.3f}–{max(cvs):.3f})"
        print(f"{m['form']:>12}  {m['cv']:6.3f}  {m['C']:5g}  {m['held']:6.3f}  {m['held_para']:7.3f}  {m['coef_extra']}"
              + more)


if __name__ == "__main__":
    main()
