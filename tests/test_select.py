"""The citation selector: features on hand-made hits, the choice rule, and the model file."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from legalqa.index.expansion import Expansion
from legalqa.index.search import Hit, SearchResult
from legalqa.ingest.models import Chunk
from legalqa.qa.select import (
    DEFAULT_MODEL,
    FEATURES,
    CitationSelector,
    SelectorError,
    by_rerank_margin,
    candidate_features,
    candidates,
)
from legalqa.qa.terms import overlap, term_weights


def statute(n: int, text: str) -> Chunk:
    cite = f"《测试法》第{n}条"
    return Chunk(f"s{n}", "statute", "测试法", text, "law.md", 0, len(text), law="测试法", article=n,
                 label=f"第{n}条", citation=cite)


def prose(text: str) -> Chunk:
    return Chunk("p1", "article", "一篇文章", text, "a.md", 0, len(text), heading_path=("如果你是担保人",))


def result(hits: list[Hit]) -> SearchResult:
    return SearchResult("q", hits, Expansion((), ()), searched="q")


HITS = [
    Hit(prose("担保人要不要还钱"), 1, 0.2, 0.90, 3.0, 1, 1),
    Hit(statute(1, "保证人承担连带责任"), 2, 0.18, 0.88, 4.0, 2, 2),
    Hit(statute(2, "借款合同应当采用书面形式，当事人另有约定的除外"), 3, 0.10, 0.80, 0.0, 3, None),
]
WEIGHTS = term_weights(["保证人", "连带", "还钱"])  # total weight 3 + 2 + 2 = 7


def test_overlap_counts_each_token_by_its_length():
    assert overlap(WEIGHTS, "保证人承担连带责任") == 5.0
    assert overlap(WEIGHTS, "") == 0.0


def test_features_of_hand_made_hits():
    cands = candidates(result(HITS), 10)
    assert [h.chunk.id for h in cands] == ["s1", "s2"]  # prose is never a citation candidate
    x = candidate_features(result(HITS), cands, WEIGHTS, {"《测试法》第2条": "借钱 还钱 写借条"})
    assert x.shape == (2, len(FEATURES))
    row1, row2 = (dict(zip(FEATURES, r, strict=True)) for r in x)
    assert row1["rank"] == pytest.approx(1 / 2) and row2["rank"] == pytest.approx(1 / 3)
    assert row1["dense_gap"] == 0.0 and row2["dense_gap"] == pytest.approx(-0.08)
    assert row1["bm25"] == 1.0 and row2["bm25"] == 0.0
    assert row1["bm25_rank"] == 0.5 and row2["bm25_rank"] == 0.0  # not returned by BM25
    assert row1["text_overlap"] == pytest.approx(5 / 7) and row2["text_overlap"] == 0.0
    assert row1["hint_overlap"] == 0.0 and row2["hint_overlap"] == pytest.approx(2 / 7)
    assert row1["named"] == 0.0
    assert row1["length"] == pytest.approx(math.log(9))
    assert row1["prose_rank"] == row2["prose_rank"] == 1.0


def test_no_candidates_gives_an_empty_matrix():
    assert candidate_features(result(HITS[:1]), [], WEIGHTS, {}).shape == (0, len(FEATURES))


def selector(threshold: float = 0.5, max_cited: int = 2) -> CitationSelector:
    # Only "rank" matters: probability = sigmoid(10 * (1/rank) - 4).
    coef = tuple(10.0 if f == "rank" else 0.0 for f in FEATURES)
    return CitationSelector((0.0,) * len(FEATURES), (1.0,) * len(FEATURES), coef, -4.0, threshold, max_cited)


def test_probabilities_are_the_logistic_of_the_standardized_score():
    x = np.zeros((2, len(FEATURES)))
    x[:, 0] = [1.0, 0.25]
    assert selector().probabilities(x) == pytest.approx([1 / (1 + math.exp(-6)), 1 / (1 + math.exp(1.5))])


def test_choice_takes_the_best_always_and_others_above_the_threshold():
    a, b, c = (Hit(statute(i, "x"), i, 0.1) for i in (1, 2, 3))
    sel = selector(threshold=0.5, max_cited=2)
    assert [h.chunk.id for h, _ in sel.choose([a, b, c], np.array([0.2, 0.9, 0.6]))] == ["s2", "s3"]
    assert [h.chunk.id for h, _ in sel.choose([a, b, c], np.array([0.1, 0.2, 0.3]))] == ["s3"]  # never empty
    assert [h.chunk.id for h, _ in sel.choose([a, b, c], np.array([0.9, 0.8, 0.7]))] == ["s1", "s2"]  # max_cited
    assert sel.choose([], np.zeros(0)) == []


def test_named_articles_are_cited_whatever_the_model_says():
    a, b = Hit(statute(1, "x"), 1, 0.1), Hit(statute(2, "x"), 2, 0.0, exact=True)
    assert [h.chunk.id for h, _ in selector().choose([a, b], np.array([0.99, 0.01]))] == ["s2"]


def test_a_reranked_search_cites_the_best_and_the_statutes_within_the_margin():
    p = Hit(prose("x"), 1, 0.3, rerank_score=5.0)
    a, b, c, d = (Hit(statute(i, "x"), i + 1, 0.1, rerank_score=r) for i, r in ((1, 2.0), (2, 1.2), (3, 0.9), (4, 0.5)))
    ids = lambda hits: [h.chunk.id for h in hits]  # noqa: E731
    assert ids(by_rerank_margin([p, a, b, c, d], 1.0, 3, 10)) == ["s1", "s2"]  # prose never counts; 0.9 < 2.0 - 1.0
    assert ids(by_rerank_margin([p, a, b, c, d], 1.5, 3, 10)) == ["s1", "s2", "s3"]
    assert ids(by_rerank_margin([p, a, b, c, d], 1.5, 2, 10)) == ["s1", "s2"]  # at most max_cited
    assert ids(by_rerank_margin([p, a, b, c, d], 0.0, 3, 10)) == ["s1"]  # never empty
    assert ids(by_rerank_margin([p, a, b, c, d], 9.0, 3, 3)) == ["s1", "s2"]  # only the first `depth` hits
    named = replace(c, exact=True)
    assert ids(by_rerank_margin([p, a, b, named], 1.0, 3, 10)) == ["s3"]  # a named article is what is asked
    assert by_rerank_margin([Hit(statute(1, "x"), 1, 0.1)], 1.0, 3, 10) is None  # not re-ranked: the selector
    assert by_rerank_margin([p], 1.0, 3, 10) is None


def test_model_file_round_trips(tmp_path):
    sel = replace(selector(), trained={"split": "tune"})
    sel.save(tmp_path / "m.json")
    again = CitationSelector.load(tmp_path / "m.json")
    assert again == sel and again.trained == {"split": "tune"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "找不到"),
        ("{not json", "无法读取"),
        ("[1, 2]", "JSON 对象"),
        ('{"mean": [0]}', "缺少或写错"),
    ],
)
def test_bad_model_files_say_how_to_fix_them(tmp_path, content, message):
    path = tmp_path / "m.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SelectorError, match=message) as err:
        CitationSelector.load(path)
    assert "train_selector.py" in str(err.value)


def test_a_model_for_other_features_is_refused(tmp_path):
    data = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1] + ["something_else"]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SelectorError, match="特征"):
        CitationSelector.load(path)


@pytest.mark.parametrize(("field", "value", "message"), [("threshold", 1.5, "threshold"), ("max_cited", 0, "至少")])
def test_bad_settings_are_refused(field, value, message):
    with pytest.raises(SelectorError, match=message):
        replace(selector(), **{field: value})


def train_script():
    import importlib.util

    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location("train_selector", REPO / "scripts" / "train_selector.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    return train


def test_ceilings_cite_the_k_most_probable_and_the_oracle_k_is_the_gold_count():
    a, b, c = (("法", n, 0, None) for n in (1, 2, 3))
    rows = [
        {"keys": [a, b, c], "expected": {a, c}, "accept": set()},  # needs two; c is third by probability
        {"keys": [b, a], "expected": {b}, "accept": {a}},  # one is enough; a second is accepted
        {"keys": [], "expected": {a}, "accept": set()},  # retrieval found nothing
    ]
    probs = [np.array([0.9, 0.5, 0.4]), np.array([0.2, 0.7]), np.zeros(0)]
    got = train_script().ceilings(rows, probs)
    # k=1: a (recall 1/2, precision 1); a (recall 0, precision 1); nothing (recall 0).
    assert got["k=1"] == pytest.approx(((0.5 + 0 + 0) / 3, 1.0))
    # k=gold: a, b (1/2, 1/2); a (0, 1); nothing.
    assert got["k=gold"] == pytest.approx(((0.5 + 0 + 0) / 3, 0.75))
    # k=2: a, b (1/2, 1/2); a, b (1, 1); nothing.
    assert got["k=2"] == pytest.approx(((0.5 + 1 + 0) / 3, 0.75))


@pytest.mark.model
def test_the_shipped_model_is_what_the_script_trains_from_the_tune_split(real_searcher):
    """A stale model (after the hints, the model or the corpus changed) fails here: re-run the script."""
    from legalqa.eval.data import load_questions, select_split

    from tests.conftest import REPO

    train = train_script()
    shipped = CitationSelector.load()
    qs = load_questions(REPO / "eval" / "questions.jsonl", aliases=real_searcher.aliases)
    tune = [q for q in select_split(qs, "tune") if q.answerable]
    rows = train.question_rows(real_searcher, tune, shipped.hits, shipped.depth)
    again = train.fit(rows, shipped.trained["C"], shipped.threshold, shipped.hits, shipped.depth)
    assert len(rows) == shipped.trained["answerable_questions"]
    # Loose enough for float noise between CPUs, tight enough for a changed hint (which moves weights by ~0.05).
    assert np.allclose(again.coef, shipped.coef, atol=0.02) and again.intercept == pytest.approx(shipped.intercept, abs=0.02)
