"""The 款/项 chooser (qa/paragraphs.py): its features on hand-made spans, the agreement reading, the model
file's errors, and (with the real model) that the shipped model is what the script trains from tune."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from legalqa.ingest.models import Span
from legalqa.qa.paragraphs import (
    FEATURES,
    ParagraphModel,
    ParagraphModelError,
    agreement_match,
    asked_agreement,
    asked_terms,
    law_agreement,
    span_features,
)

from tests.conftest import REPO

AGREED = Span(1, "借贷双方对逾期利率有约定的，从其约定。", 0, 19)
NOT_AGREED = Span(2, "未约定逾期利率或者约定不明的，人民法院可以区分不同情况处理。", 20, 49)


@pytest.mark.parametrize(
    ("question", "status"),
    [
        ("借条上没写利息，我要付吗？", "none"),
        ("合同里没写是一般保证还是连带", "none"),
        ("借条写了有利息但没写多少", "unclear"),
        ("保证合同写得不清楚", "unclear"),
        ("借条上写了逾期每天千分之一的罚息", "agreed"),
        ("借条约定逾期利率年化30%", "agreed"),
        ("朋友借钱不还怎么办", None),
    ],
)
def test_what_a_question_says_was_agreed(question, status):
    assert asked_agreement(question) == status


def test_what_a_statute_says_was_agreed_and_how_the_two_match():
    assert law_agreement(AGREED.text) == {"agreed"}
    assert law_agreement(NOT_AGREED.text) == {"none", "unclear"}  # 约定不明 is not an agreement
    assert law_agreement("当事人在保证合同中对保证方式没有约定或者约定不明确的") == {"none", "unclear"}
    assert law_agreement("个人信息处理者应当及时提供。") == frozenset()
    assert agreement_match("none", law_agreement(NOT_AGREED.text)) == 1.0
    assert agreement_match("none", law_agreement(AGREED.text)) == -1.0
    assert agreement_match(None, law_agreement(AGREED.text)) == 0.0
    assert agreement_match("agreed", frozenset()) == 0.0


def test_span_features_count_what_only_one_sibling_holds():
    asked = asked_terms("借条上没约定逾期利率，出借人能要逾期利息吗？")
    x = span_features(asked, [AGREED, NOT_AGREED])
    col = {f: i for i, f in enumerate(FEATURES)}
    assert x.shape == (2, len(FEATURES))
    assert x[0, col["agreement"]] == -1.0 and x[1, col["agreement"]] == 1.0
    assert (x[0, col["first"]], x[1, col["first"]]) == (1.0, 0.0)
    assert x[0, col["overlap"]] > 0 and x[1, col["overlap"]] > 0  # both hold 逾期利率
    assert x[0, col["distinct_words"]] == 0.0  # what it shares with the question, its sibling has too
    assert span_features(asked, []).shape == (0, len(FEATURES))


def test_the_shipped_model_ranks_the_span_the_question_settles_first():
    model = ParagraphModel.load()
    assert model.rank(asked_terms("借条上没约定逾期利率，出借人能要逾期利息吗？"), [AGREED, NOT_AGREED]) == [1, 0]
    assert model.rank(asked_terms("借条上约定了逾期利率，法院都支持吗？"), [AGREED, NOT_AGREED]) == [0, 1]


def test_a_model_file_that_cannot_be_used_is_named_with_the_fix(tmp_path):
    good = json.loads((REPO / "qa" / "data" / "paragraph_model.json").read_text(encoding="utf-8"))
    cases = {
        "missing.json": None,
        "not-json.json": "{",
        "list.json": "[]",
        "no-coef.json": json.dumps({k: v for k, v in good.items() if k != "coef"}),
        "bad-features.json": json.dumps(good | {"features": ["overlap"]}),
        "zero-scale.json": json.dumps(good | {"scale": [0.0] * len(FEATURES)}),
    }
    for name, text in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text, encoding="utf-8")
        with pytest.raises(ParagraphModelError, match="scripts/train_paragraphs.py"):
            ParagraphModel.load(path)
    saved = tmp_path / "again.json"
    ParagraphModel.load().save(saved)
    assert ParagraphModel.load(saved) == ParagraphModel.load()


def train_script():
    spec = importlib.util.spec_from_file_location("train_paragraphs", REPO / "scripts" / "train_paragraphs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.model
def test_the_shipped_model_is_what_the_script_trains_from_the_tune_split(real_searcher):
    """A stale model (after the features, the statutes or the questions changed) fails here: re-run the script."""
    from legalqa.eval.data import load_questions, select_split

    train = train_script()
    shipped = ParagraphModel.load()
    qs = load_questions(REPO / "eval" / "questions.jsonl", aliases=real_searcher.aliases)
    groups = train.groups(real_searcher, [q for q in select_split(qs, "tune") if q.answerable])
    again = train.fit(groups, shipped.trained["C"])
    assert len(groups) == shipped.trained["groups"]
    assert np.allclose(again.coef, shipped.coef, atol=0.02) and again.intercept == pytest.approx(shipped.intercept, abs=0.02)
