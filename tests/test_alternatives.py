"""Both sides where the facts decide: which 款 are alternatives (read from the statutes' structure), which side
a question settles, and how a both-sides answer is built and shown. A six-article statute with the shapes
of 民法典 686–688, 1064 and 民间借贷规定 28, indexed with the fake embedder, so every decision is exact.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from bs4 import BeautifulSoup
from legalqa.ingest.models import Span
from legalqa.qa.alternatives import Structure, condition, parallel, settle
from legalqa.qa.compose import AnswerConfig, Composer
from legalqa.qa.models import Branch, Lead, StatuteQuote
from legalqa.qa.paragraphs import ParagraphModel, asked_terms
from legalqa.qa.plan import BothSides, StatuteChoice, choose_statutes, sides_of, takes_a_side
from legalqa.qa.render import BOTH_SIDES, COMMENTARY, to_html, to_json, to_markdown, to_text
from legalqa.qa.verify import self_check

from tests.test_compose_unit import make_searcher

LAW = "中华人民共和国示例保证法"
STATUTE = f"""---
title: {LAW}
aliases: [示例保证法]
kind: statute
---
# {LAW}

第一条 保证的方式包括一般保证和连带责任保证。

当事人在保证合同中对保证方式没有约定或者约定不明确的，按照一般保证承担保证责任。

第二条 当事人在保证合同中约定，债务人不能履行债务时，由保证人承担保证责任的，为一般保证。

一般保证的保证人在主合同纠纷未经审判或者仲裁前，有权拒绝向债权人承担保证责任。

第三条 当事人在保证合同中约定保证人和债务人对债务承担连带责任的，为连带责任保证。

连带责任保证的债务人不履行到期债务时，债权人可以请求保证人在其保证范围内承担保证责任。

第四条 夫妻一方在婚姻关系存续期间以个人名义为家庭日常生活需要所负的债务，属于夫妻共同债务。

夫妻一方在婚姻关系存续期间以个人名义超出家庭日常生活需要所负的债务，不属于夫妻共同债务。

第五条 借贷双方对逾期利率有约定的，从其约定。

未约定逾期利率或者约定不明的，人民法院可以参照借期内利率处理。

第六条 保证合同可以是单独订立的书面合同。

第三人单方以书面形式向债权人作出保证，债权人接收且未提出异议的，保证合同成立。
"""
GUIDE = """---
title: 担保须知
kind: article
---
# 担保须知

## 如果你是担保人

作为担保人，你同样承担连带责任，一旦借款人逾期，债权人有权直接要求你还钱。

## 借款要写借条

借款时要写清楚借条，保证合同要单独写清楚保证方式。
"""
UNSTATED = "朋友借钱我做了保证人，他不还钱，债权人能直接找我还吗？"


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    files = {"statutes/示例保证法.md": STATUTE, "articles/担保须知.md": GUIDE}
    return make_searcher(tmp_path_factory.mktemp("sides"), files)


@pytest.fixture(scope="module")
def structure(searcher) -> Structure:
    return Structure(searcher.chunks, searcher.article)


@pytest.fixture(scope="module")
def model() -> ParagraphModel:
    return ParagraphModel.load()


def article(searcher, n: int):
    return searcher.article(LAW, n, 0)


def places(side) -> list[tuple[int, int]]:
    return [(p.chunk.article, p.paragraph.index) for p in side.places]


# ---- the structure ----------------------------------------------------------------------------------


def test_condition_is_the_words_up_to_the_first_clause_ending_in_de(searcher):
    first, third = article(searcher, 1), article(searcher, 3)
    cond = condition(first.paragraphs[1])
    assert cond.text == "当事人在保证合同中对保证方式没有约定或者约定不明确的"
    assert searcher.data.sources[first.source][cond.start : cond.end] == cond.text  # verbatim, at its offsets
    assert condition(third.paragraphs[0]).text == "当事人在保证合同中约定保证人和债务人对债务承担连带责任的"
    assert condition(first.paragraphs[0]) is None  # one clause: it states no condition


def test_parallel_paragraphs_contrast_by_a_negation_or_by_the_two_kinds(searcher):
    fourth, fifth, sixth = article(searcher, 4), article(searcher, 5), article(searcher, 6)
    assert parallel(*fourth.paragraphs)  # 为 / 超出 …, 属于 / 不属于
    assert parallel(*fifth.paragraphs)  # 有约定 / 未约定
    assert not parallel(*sixth.paragraphs)  # two rules, no contrast
    a = "一般保证的债权人在保证期间届满前对债务人提起诉讼的"
    b = "连带责任保证的债权人在保证期间届满前请求保证人承担保证责任的"

    def span(text: str) -> Span:
        return Span(1, text + "，保证人不再承担保证责任。", 0, len(text) + 12)

    assert not parallel(span(a), span(b))
    assert parallel(span(a), span(b), [("一般保证", "连带责任保证")])


def test_the_enumerated_kinds_their_definitions_and_the_default(structure):
    assert structure.kinds == {LAW: [("一般保证", "连带责任保证")]}
    assert {k: p.chunk.article for k, p in structure.definitions.items()} == {(LAW, "一般保证"): 2, (LAW, "连带责任保证"): 3}
    assert {k: (p.chunk.article, p.paragraph.index) for k, p in structure.defaults.items()} == {(LAW, "一般保证"): (1, 2)}


def test_kind_sides_the_default_with_what_follows_then_the_other_definition(searcher, structure):
    for n, para in ((1, 2), (2, 2), (3, 1), (3, 2)):
        alts = structure.alternatives(article(searcher, n), article(searcher, n).paragraphs[para - 1])
        default, other = alts.sides
        assert (default.default, default.kind, places(default)) == (True, "一般保证", [(1, 2), (2, 2)])
        assert (other.default, other.kind, places(other)) == (False, "连带责任保证", [(3, 1), (3, 2)])
        assert other.condition.text == "当事人在保证合同中约定保证人和债务人对债务承担连带责任的"


def test_parallel_sides_of_one_article_the_default_first(searcher, structure):
    fourth, fifth = article(searcher, 4), article(searcher, 5)
    alts = structure.alternatives(fourth, fourth.paragraphs[1])
    assert [places(s) for s in alts.sides] == [[(4, 1)], [(4, 2)]]
    assert alts.sides[1].condition.text == "夫妻一方在婚姻关系存续期间以个人名义超出家庭日常生活需要所负的债务"
    alts = structure.alternatives(fifth, fifth.paragraphs[0])
    assert [places(s) for s in alts.sides] == [[(5, 2)], [(5, 1)]]  # 未约定…的 is the default
    assert structure.alternatives(article(searcher, 6), article(searcher, 6).paragraphs[0]) is None


@pytest.mark.parametrize(
    ("n", "question", "side", "by_agreement"),
    [
        (3, "合同里没写是一般保证还是连带，我要还吗？", 0, True),  # nothing agreed: the default
        (3, "保证合同写得不清楚，到底算哪种保证？", 0, True),
        (3, "我做的是连带责任担保，债主能直接找我吗？", 1, False),
        (3, "我是一般保证人，能先不还吗？", 0, False),
        (3, UNSTATED, None, None),  # the question does not say which
        (4, "老公借钱买的东西超出家庭日常生活需要，我要还吗？", 1, False),
        (4, "老公瞒着我借钱去赌博，我要还吗？", None, None),
        (5, "借条上写了逾期利率，法院都支持吗？", 1, True),
        (5, "借条上没说逾期了怎么算利息", 0, True),
    ],
)
def test_settle_reads_the_agreement_then_the_words_only_one_side_has(searcher, structure, n, question, side,
                                                                   by_agreement):
    chunk = article(searcher, n)
    settled = settle(structure.alternatives(chunk, chunk.paragraphs[-1]), question)
    assert (settled and (settled.side, settled.by_agreement)) == (side is not None and (side, by_agreement) or None)


# ---- the plan ------------------------------------------------------------------------------------------


def statute_keys(parts) -> list:
    out = []
    for p in parts:
        if isinstance(p, BothSides):
            out.append([[(s.chunk.article, s.paragraph.index) for s in br.statutes] for br in p.branches])
        else:
            out.append((p.chunk.article, p.paragraph.index if p.paragraph else None))
    return out


def test_an_open_question_gets_both_sides_each_with_its_condition(searcher, structure, model):
    parts = choose_statutes([article(searcher, 3)], asked_terms(UNSTATED), model, structure, {})
    assert statute_keys(parts) == [[[(1, 2), (2, 2)], [(3, 1), (3, 2)]]]
    first, second = parts[0].branches
    assert first.default and not second.default
    assert first.condition.text == "当事人在保证合同中对保证方式没有约定或者约定不明确的"


def test_a_settled_question_quotes_its_side(searcher, structure, model):
    third = [article(searcher, 3)]
    unstated = choose_statutes(third, asked_terms("合同里没写是一般保证还是连带，我要还吗？"), model, structure, {})
    assert statute_keys(unstated) == [(1, 2), (2, 2)]  # the default rule, and what follows from it
    joint = choose_statutes(third, asked_terms("我做的是连带责任保证，债务人不履行到期债务，债权人能直接找我吗？"),
                            model, structure, {})
    assert statute_keys(joint) == [(3, 2)]  # the case is named: just the 款 that answers


def test_an_article_the_question_names_is_quoted_as_asked_never_split_into_sides(searcher, structure, model):
    third = article(searcher, 3)

    def named(question, place=(None, None)):
        (part,) = choose_statutes([third], asked_terms(question), model, structure, {}, named={third.id: place})
        assert isinstance(part, StatuteChoice)
        return part

    whole = named("示例保证法第三条是怎么规定的？")  # what the article says: all of it
    assert whole.paragraph is None and [(q.start, q.end) for q in whole.quotes] == [(third.start, third.end)]
    assert statute_keys([named("示例保证法第三条，债权人能直接找保证人吗？")]) == [(3, 2)]  # only ② has 债权人
    assert statute_keys([named("示例保证法第三条是怎么规定的？", (2, None))]) == [(3, 2)]  # 第三条第二款
    assert named("示例保证法第三条第五款", (5, None)).paragraph is None  # no such 款: the article, whole


def test_prose_that_states_one_side_as_the_rule_takes_a_side(searcher, structure, model):
    parts = choose_statutes([article(searcher, 3)], asked_terms(UNSTATED), model, structure, {})
    sides = sides_of(parts, structure)
    assert takes_a_side("作为担保人，你同样承担连带责任。", sides)
    assert not takes_a_side("借款时要写清楚借条。", sides)
    settled = choose_statutes([article(searcher, 3)], asked_terms("合同里没写是一般保证还是连带"), model, structure, {})
    assert takes_a_side("作为担保人，你同样承担连带责任。", sides_of(settled, structure))  # the other side's rule


# ---- the answer -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def composer(searcher) -> Composer:
    return Composer(searcher, AnswerConfig(selector="relative", min_evidence=0.0, max_statutes=1))


def test_both_sides_answer_blocks_self_check_and_no_lead_that_takes_a_side(composer, searcher):
    a = composer.ask(UNSTATED)
    branches = [b for b in a.blocks if isinstance(b, Branch)]
    assert [b.case for b in branches] == [1, 2]
    assert [b.condition.text for b in branches] == [
        "当事人在保证合同中对保证方式没有约定或者约定不明确的", "当事人在保证合同中约定保证人和债务人对债务承担连带责任的"]
    assert [[st.citation for st in b.statutes] for b in branches] == [
        [f"《{LAW}》第一条第二款", f"《{LAW}》第二条第二款"], [f"《{LAW}》第三条第一款", f"《{LAW}》第三条第二款"]]
    assert branches[0].condition.ref.paragraph == 2 and branches[0].condition.citation == f"《{LAW}》第一条第二款"
    assert not [b for b in a.blocks if isinstance(b, Lead)]  # 「作为担保人，你同样承担连带责任」 takes a side
    assert self_check(a, searcher) == []
    assert [c.n for c in a.citations] == list(range(1, 7))
    # the other side's articles, which the search did not rank, are reported too (rank 0), for the sources panel
    assert {c.source_id for c in a.citations} <= {h["chunk_id"] for h in a.hits}


def test_both_sides_in_every_format(composer):
    a = composer.ask(UNSTATED)
    md, text = to_markdown(a.blocks), to_text(a.blocks)
    for out in (md, text):
        assert BOTH_SIDES in out
        assert out.index("情形一：如果「当事人在保证合同中对保证方式没有约定或者约定不明确的」[1]：") < out.index("情形二：如果")
    soup = BeautifulSoup(to_html(a.blocks), "html.parser")
    boxes = soup.select("div.legalqa-branch")
    assert len(boxes) == 2
    assert boxes[0].find("strong").get_text().startswith("情形一：如果「当事人在保证合同中对保证方式没有约定")
    assert [len(b.find_all("li")) for b in boxes] == [2, 2]
    data = json.loads(to_json(a.blocks))
    branches = [b for b in data if b["type"] == "branch"]
    assert [b["case"] for b in branches] == [1, 2] and branches[0]["default"] is True
    assert [s["type"] for s in branches[0]["statutes"]] == ["statute", "statute"]
    assert branches[1]["condition"]["ref"] == {"law": LAW, "article": 3, "suffix": 0, "paragraph": 1, "item": None}


def test_statutes_come_first_and_commentary_follows_labelled(composer):
    a = composer.ask("借款时要写借条吗？保证合同要单独写清楚保证方式吗？")
    kinds = [type(b) for b in a.blocks if isinstance(b, Lead | StatuteQuote | Branch)]
    assert Lead in kinds and kinds.index(Lead) == len(kinds) - 1
    text = a.text
    assert text.index("法律依据") < text.index(COMMENTARY)
    lead = next(c for c in a.citations if c.kind == "article")
    assert lead.n == max(c.n for c in a.citations)


def test_a_lead_below_the_relevance_bound_or_beyond_the_similarity_gap_is_left_out(searcher):
    question = "借款时要写借条吗？还有哪些风险要注意？"
    cfg = AnswerConfig(selector="relative", min_evidence=0.0, max_statutes=1)
    lead = Composer(searcher, cfg).decide(searcher.run(question, k=8)).lead
    assert lead is not None and 0 < lead.relevance < 1  # the passage holds some of the question's words

    def leads(**kw) -> bool:
        a = Composer(searcher, replace(cfg, **kw)).ask(question)
        return any(isinstance(b, Lead) for b in a.blocks)

    assert leads(lead_min_relevance=lead.relevance) and not leads(lead_min_relevance=lead.relevance + 0.01)
    assert leads(lead_max_gap=1.0) and not leads(lead_max_gap=-0.01)  # no passage is nearer than the best hit
