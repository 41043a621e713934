"""Rank fusion and query expansion: pure functions with exact expectations."""

import pytest
from legalqa.index.expansion import Expansion, expand, load_rules, parse_rules
from legalqa.index.fusion import reciprocal_rank_fusion


def test_rrf_sums_weighted_reciprocal_ranks():
    fused = reciprocal_rank_fusion({"dense": ["a", "b"], "bm25": ["b", "c"]}, k=60)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["c"] == pytest.approx(1 / 62)
    assert max(fused, key=fused.get) == "b"


def test_rrf_weights_change_the_winner():
    fused = reciprocal_rank_fusion({"dense": ["a"], "bm25": ["c"]}, {"dense": 1.0, "bm25": 2.0}, k=60)
    assert fused["c"] > fused["a"]


def test_rrf_rejects_bad_k():
    with pytest.raises(ValueError, match="k must be greater than 0"):
        reciprocal_rank_fusion({"x": ["a"]}, k=0)


def test_expansion_fires_rules_and_deduplicates():
    rules = parse_rules("g\t担保人|担保\t保证人 保证\ns\t老公\t配偶 夫妻\n")
    exp = expand("我给老公做了担保", rules)
    assert exp.rules == ("g", "s")
    assert exp.terms == ("保证人", "保证", "配偶", "夫妻")
    assert exp.apply("q") == "q 保证人 保证 配偶 夫妻"
    assert expand("无关的问题", rules) == Expansion((), ())
    assert expand("担保", rules, disabled=frozenset({"g"})).rules == ()


def test_expansion_skips_terms_already_in_the_query():
    rules = parse_rules("g\t担保\t保证人 担保\n")
    assert expand("担保", rules).terms == ("保证人",)


def test_rules_file_errors_name_the_line():
    with pytest.raises(ValueError, match="rules.tsv:2: expected 3 tab-separated fields"):
        parse_rules("# c\nbroken line\n", "rules.tsv")


def test_shipped_rules_cover_the_issue_examples():
    rules = load_rules()
    cases = {"担保人": "保证人", "老公": "配偶", "老婆": "夫妻", "网贷": "借款", "骚扰": "滋扰", "爆通讯录": "滋扰", "征信": "信用信息"}
    for word, term in cases.items():
        assert term in expand(word, rules).terms, word
