"""eval.metrics on small hand-made cases whose answers can be checked by eye."""

from __future__ import annotations

import pytest
from legalqa.eval import metrics as m

L = "中华人民共和国民法典"
A688 = (L, 688, 0, None)
A688_1 = (L, 688, 0, 1)
A688_2 = (L, 688, 0, 2)
A686 = (L, 686, 0, None)
A518 = (L, 518, 0, None)
A700 = (L, 700, 0, None)


# --- retrieval --------------------------------------------------------------------------------


def test_retrieval_metrics_exact_values():
    ranked = {
        "q1": ["A", "B", "C"],  # relevant at rank 1
        "q2": [None, "C", "B"],  # one of two relevant, at rank 3; None is a prose passage
        "q3": [],  # nothing retrieved
        "q4": ["A"],  # no relevant items: skipped
    }
    relevant = {"q1": {"A"}, "q2": {"B", "D"}, "q3": {"E"}, "q4": set()}
    out = m.retrieval_metrics(ranked, relevant, ks=(1, 3))
    assert out["n_retrieval"] == 3
    assert out["hit@1"] == pytest.approx(1 / 3)
    assert out["hit@3"] == pytest.approx(2 / 3)
    assert out["recall@1"] == pytest.approx(1 / 3)
    assert out["recall@3"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert out["mrr@10"] == pytest.approx((1 + 1 / 3 + 0) / 3)


def test_mrr_cutoff_and_repeated_keys():
    assert m.retrieval_metrics({"q": ["x", "y", "B"]}, {"q": {"B"}}, ks=(1,), mrr_at=2)["mrr@2"] == 0.0
    # A key retrieved twice counts once: recall@2 is 1 of 2, not 2 of 2.
    assert m.retrieval_metrics({"q": ["B", "B", "A"]}, {"q": {"A", "B"}}, ks=(2,))["recall@2"] == 0.5
    assert m.first_rank(["x", "B", "B"], "B") == 2
    assert m.first_rank(["x"], "B") is None


def test_retrieval_metrics_without_questions_and_bad_cutoff():
    out = m.retrieval_metrics({}, {"q": set()}, ks=(5,))
    assert out["hit@5"] is None and out["mrr@10"] is None and out["n_retrieval"] == 0
    with pytest.raises(ValueError, match="at least 1"):
        m.retrieval_metrics({}, {}, ks=(0,))


# --- per-answer citation scores ---------------------------------------------------------------


def test_answer_scores_recall_precision_f1():
    s = m.answer_citation_scores([A688, A700], expected=[A688, A518], accept=[A700])
    assert s == {"recall": 0.5, "precision": 1.0, "f1": pytest.approx(2 / 3)}
    s = m.answer_citation_scores([A688, A686], expected=[A688])
    assert s == {"recall": 1.0, "precision": 0.5, "f1": pytest.approx(2 / 3)}


def test_answer_scores_abstained_and_empty_answers():
    # An answerable question that abstains: recall 0, F1 0, no precision (its citations are ignored).
    assert m.answer_citation_scores([A688], [A688], abstained=True) == {"recall": 0.0, "precision": None, "f1": 0.0}
    # Answered without citing a statute: the same.
    assert m.answer_citation_scores([], [A688]) == {"recall": 0.0, "precision": None, "f1": 0.0}
    # Out of scope and answered with a citation: precision 0, recall and F1 undefined.
    assert m.answer_citation_scores([A700], []) == {"recall": None, "precision": 0.0, "f1": None}
    # Out of scope and abstained: nothing is defined.
    assert m.answer_citation_scores([], [], abstained=True) == {"recall": None, "precision": None, "f1": None}


def test_paragraph_matching():
    assert m.matches(A688_2, A688_2)
    assert not m.matches(A688_1, A688_2)  # the wrong 款
    assert not m.matches(A688, A688_2)  # the whole article does not pinpoint 第二款
    assert m.matches(A688_1, A688)  # gold without 款: any 款 of the article
    assert m.article_level(A688_2) == A688
    # Duplicates count once.
    assert m.answer_citation_scores([A688_2, A688_2], [A688_2])["precision"] == 1.0


def test_citation_metrics_article_and_paragraph_level():
    answers = {
        # 款 wrong, article right; the other citation is in accept.
        "a1": {"got": [A688_1, A686], "expected": [A688_2], "accept": [A686], "abstained": False},
        # Abstained on an answerable question.
        "a2": {"got": [], "expected": [A518], "accept": [], "abstained": True},
        # Out of scope, answered with a citation.
        "a3": {"got": [A700], "expected": [], "accept": [], "abstained": False},
    }
    art = m.citation_metrics(answers, "article")
    # recall: a1 1, a2 0 -> 0.5; precision: a1 1 (688 expected, 686 accepted), a3 0 -> 0.5; F1: a1 1, a2 0.
    assert art == {
        "citation_recall": 0.5,
        "citation_precision": 0.5,
        "citation_f1": 0.5,
        "n_citation_recall": 2,
        "n_citation_precision": 2,
    }
    para = m.citation_metrics(answers, "paragraph")
    # Only a1's gold names a 款: 第一款 misses 第二款 (recall 0); of its 2 citations only 686 is right.
    assert para == {
        "para_citation_recall": 0.0,
        "para_citation_precision": 0.5,
        "para_citation_f1": 0.0,
        "n_para_citation_recall": 1,
        "n_para_citation_precision": 1,
    }
    with pytest.raises(ValueError, match="level must be"):
        m.citation_metrics(answers, "item")


def test_citation_metrics_empty_is_undefined():
    out = m.citation_metrics({}, "article")
    assert out["citation_recall"] is None and out["citation_precision"] is None and out["n_citation_recall"] == 0


# --- hallucination, quotes, abstention, latency, sections --------------------------------------


def test_hallucinated_citations():
    known = {(L, 688, 0): 3, (L, 1, 0): 1}
    got = {
        "q1": [A688_2, (L, 688, 0, 4)],  # 第四款 of a 3-款 article
        "q2": [None, (L, 999, 0, None)],  # unparseable, and an article not in the index
        "q3": [(L, 1, 0, 1)],
        "q4": [],
    }
    assert m.hallucinated_citations(got, known) == {
        "hallucinated_citations": 3,
        "answers_with_hallucinations": 2,
        "n_citations": 5,
    }
    assert m.in_index(A688, known) and not m.in_index(None, known)


def test_quote_fidelity_pools_quotes():
    out = m.quote_fidelity({"q1": [True, True], "q2": [False, True], "q3": []})
    assert out == {"quote_fidelity": 0.75, "n_quotes": 4, "unfaithful_quotes": 1}
    assert m.quote_fidelity({"q": []})["quote_fidelity"] is None


def test_abstention_metrics():
    answers = {
        "oos1": {"answerable": False, "abstained": True},
        "oos2": {"answerable": False, "abstained": False},
        "a1": {"answerable": True, "abstained": True},
        "a2": {"answerable": True, "abstained": False},
        "a3": {"answerable": True, "abstained": False},
    }
    assert m.abstention_metrics(answers) == {
        "abstention_precision": 0.5,
        "abstention_recall": 0.5,
        "false_abstention_rate": pytest.approx(1 / 3),
        "n_out_of_scope": 2,
        "n_abstained": 2,
    }
    none = m.abstention_metrics({"a": {"answerable": True, "abstained": False}})
    assert none["abstention_precision"] is None and none["abstention_recall"] is None
    assert none["false_abstention_rate"] == 0.0


def test_bootstrap_interval_brackets_the_mean_and_narrows_with_more_questions():
    few = [1.0, 0.0] * 10
    many = few * 10
    lo, hi = m.bootstrap_interval(few)
    assert lo < 0.5 < hi
    lo2, hi2 = m.bootstrap_interval(many)
    assert lo < lo2 < 0.5 < hi2 < hi
    # The spread matches the normal approximation of a proportion: 1.96 * sqrt(0.25 / n).
    assert hi2 - lo2 == pytest.approx(2 * 1.96 * (0.25 / 200) ** 0.5, rel=0.15)
    assert m.bootstrap_interval(few) == m.bootstrap_interval(few)  # fixed seed: reproducible
    assert m.bootstrap_interval([0.7, 0.7, 0.7]) == pytest.approx((0.7, 0.7))
    assert m.bootstrap_interval([]) is None
    with pytest.raises(ValueError, match="level must be between 0 and 1"):
        m.bootstrap_interval(few, level=95)
    with pytest.raises(ValueError, match="resamples must be at least 1"):
        m.bootstrap_interval(few, resamples=0)


def test_latency_percentiles():
    out = m.latency_metrics([10.0, 20.0, 30.0, 40.0])
    # numpy linear interpolation: p95 sits at position 0.95 * 3 = 2.85, i.e. 30 + 0.85 * 10.
    assert out == {"latency_p50_ms": 25.0, "latency_p95_ms": pytest.approx(38.5), "latency_mean_ms": 25.0}
    assert m.latency_metrics([])["latency_p50_ms"] is None


def test_section_recall():
    answers = {
        "q1": {"section": "第一步", "cited_sections": ["逾期后", "第一步"], "abstained": False},
        "q2": {"section": "第一步", "cited_sections": [], "abstained": False},
        "q3": {"section": None, "cited_sections": ["第一步"], "abstained": False},  # no gold section: skipped
        "q4": {"section": "第二步", "cited_sections": ["第二步"], "abstained": True},
    }
    assert m.section_recall(answers) == {"section_recall": pytest.approx(1 / 3), "n_section": 3}


def test_summarize_combines_everything():
    known = {(L, 688, 0): 2, (L, 700, 0): 1}
    rows = [
        {"id": "q1", "answerable": True, "abstained": False, "expected": [A688_2], "accept": [],
         "got": [A688_2, (L, 5, 0, None)], "ranked": [A688, None], "quotes_ok": [True, True], "latency_ms": 10.0,
         "section": None, "cited_sections": [], "self_check": [],
         "gold": [(L, 688, 0, 2, None)], "quoted": [(L, 5, 0, None, None), (L, 688, 0, 2, None)], "lead": None},
        {"id": "q2", "answerable": False, "abstained": True, "expected": [], "accept": [], "got": [],
         "ranked": [A700], "quotes_ok": [], "latency_ms": 30.0, "section": None, "cited_sections": [],
         "self_check": ["[1] 引文不一致"], "gold": [], "quoted": [], "lead": None},
    ]
    out = m.summarize(rows, known, ks=(1, 5))
    assert out["n_questions"] == 2 and out["n_answerable"] == 1
    assert out["citation_recall"] == 1.0 and out["citation_precision"] == 0.5
    assert out["para_citation_recall"] == 1.0
    assert out["hit@1"] == 1.0 and out["mrr@10"] == 1.0 and out["n_retrieval"] == 1
    assert out["hallucinated_citations"] == 1  # 第五条 is not in the index
    assert out["quote_fidelity"] == 1.0
    assert out["abstention_recall"] == 1.0 and out["abstention_precision"] == 1.0
    assert out["latency_p50_ms"] == 20.0
    assert out["self_check_failures"] == 1
    assert (out["para_hit"], out["para_first"], out["n_para"]) == (1.0, 0.0, 1)  # 第五条 is quoted first
    assert (out["lead_relevance"], out["lead_rate"], out["n_lead"]) == (1.0, 0.0, 1)  # no lead, none wanted
    # One answerable answer: every resample is that answer, so the interval is a point.
    assert out["citation_recall_ci95"] == (1.0, 1.0) and out["citation_precision_ci95"] == (0.5, 0.5)


# --- 款 hit, 款 first, lead relevance -----------------------------------------------------------

R686_2 = (L, 686, 0, 2, None)
R687_2 = (L, 687, 0, 2, None)
R688_1 = (L, 688, 0, 1, None)
R50_1_5 = ("治安管理处罚法", 50, 0, 1, 5)


def test_quotes_ref_matches_article_then_named_paragraph_then_named_item():
    assert m.quotes_ref(R686_2, R686_2)
    assert not m.quotes_ref(R688_1, (L, 688, 0, 2, None))  # another 款 of the article
    assert m.quotes_ref((L, 688, 0, 1, None), (L, 688, 0, None, None))  # the gold names no 款
    assert m.quotes_ref(("治安管理处罚法", 50, 0, 1, 5), R50_1_5)
    assert not m.quotes_ref(("治安管理处罚法", 50, 0, 1, 1), R50_1_5)  # the 款, but another 项
    assert m.quotes_ref(("民间借贷规定", 13, 0, 1, 1), ("民间借贷规定", 13, 0, None, 1))  # gold 项 of a one-款 article
    assert m.quotes_ref((L, 687, 0, 2, 1), R687_2)  # the 款's opening and one of its 项 quote the 款


def test_paragraph_choice_counts_share_of_gold_paragraphs_and_whether_one_comes_first():
    answers = {
        "both": {"gold": [R686_2, R687_2], "quoted": [R686_2, R687_2, R688_1], "abstained": False},
        "half_second": {"gold": [R686_2, R687_2], "quoted": [R688_1, R687_2], "abstained": False},
        "abstained": {"gold": [R686_2], "quoted": [R686_2], "abstained": True},
        "article_gold_only": {"gold": [(L, 700, 0, None, None)], "quoted": [], "abstained": False},
        "nothing_quoted": {"gold": [R688_1], "quoted": [], "abstained": False},
    }
    out = m.paragraph_choice(answers)
    assert out["n_para"] == 4  # a gold without 款 or 项 does not count
    assert out["para_hit"] == pytest.approx((1 + 0.5 + 0 + 0) / 4)
    assert out["para_first"] == pytest.approx((1 + 0 + 0 + 0) / 4)
    assert m.paragraph_choice({}) == {"para_hit": None, "para_first": None, "n_para": 0}


def test_lead_relevance_wants_the_gold_section_or_no_lead():
    answers = {
        "right_section": {"answerable": True, "section": "第三步", "lead": ("逾期后该怎么办", "第三步")},
        "parent_section": {"answerable": True, "section": "先搞清楚", "lead": ("先搞清楚", "如果你是担保人")},
        "wrong_section": {"answerable": True, "section": "第三步", "lead": ("第一步",)},
        "missing_lead": {"answerable": True, "section": "第三步", "lead": None},
        "no_lead_wanted": {"answerable": True, "section": None, "lead": None},
        "unwanted_opening": {"answerable": True, "section": None, "lead": ()},
        "out_of_scope": {"answerable": False, "section": None, "lead": ()},
    }
    out = m.lead_relevance(answers)
    assert out["n_lead"] == 6
    assert out["lead_relevance"] == pytest.approx(3 / 6)
    assert out["lead_rate"] == pytest.approx(4 / 6)
