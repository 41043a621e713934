"""qa.scope: questions about another country's law, told apart from questions that only mention one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from legalqa.index.search import normalize_query
from legalqa.qa.scope import ForeignScope, foreign_scope

SHARED = Path(os.environ.get("LEGALQA_SHARED", Path(__file__).resolve().parents[2] / "shared"))
REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("question", "place"), [
    ("在美国开车超速被警察拦下，罚单怎么处理？", "美国"),  # a place there, and its police
    ("法国的劳动法规定每周工作多少小时？", "法国"),  # its law by name
    ("在日本打工签证到期了还能续签吗？", "日本"),
    ("美国法律怎么规定离婚？", "美国"),
    ("How do I apply for a US green card through marriage?", "美国"),  # English, another country
    ("What are Miranda rights in the United States?", "美国"),
])
def test_a_question_under_another_countrys_law_is_ruled_by_it(question, place):
    assert foreign_scope(normalize_query(question)) == ForeignScope(place, True)


@pytest.mark.parametrize(("question", "place"), [
    ("德国的租房押金最多能收几个月？", "德国"),
    ("英國的離婚財產是怎麼分割的？", "英国"),  # Traditional characters, normalized first
    ("去日本旅游，旅行社擅自改行程怎么办？", "日本"),  # a Chinese agency's contract may well be Chinese law
    ("中国人在美国开车超速会怎么罚？", "美国"),  # a Chinese citizen, but the facts are in the US
])
def test_a_country_named_as_where_things_happened_is_a_place(question, place):
    assert foreign_scope(normalize_query(question)) == ForeignScope(place, False)


@pytest.mark.parametrize("question", [
    "我老公是日本人，离婚后孩子归谁？",  # a nationality
    "美国籍的人在中国结婚需要什么材料？",
    "在美国的儿子不赡养我，我能告他吗？",  # a person who lives abroad; the parent's claim is under Chinese law
    "我嫁到美国了，国内的房子怎么办？",  # a Chinese place named too
    "在美国结婚在中国离婚怎么办？",
    "韩国人在国内打工被拖欠工资怎么办？",
    "买到假的法国红酒怎么维权？",  # where a product comes from
    "非法国际汇款怎么判？",  # 法国 only as characters inside other words
    "What is the statute of limitations in China?",
    "Is a guarantee valid if the form is not stated?",  # English, no country
    "我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？",
])
def test_a_question_that_only_mentions_another_country_is_not_foreign(question):
    assert foreign_scope(normalize_query(question)) is None


def test_no_question_of_chinese_law_in_the_eval_files_reads_as_foreign():
    rows = [json.loads(line) for line in (REPO / "eval" / "questions.jsonl").open(encoding="utf-8")]
    questions = [r["question"] for r in rows if r["answerable"] or r.get("library")]
    stard = SHARED / "stard" / "train.jsonl"
    if stard.is_file():  # 1,235 real questions, all about Chinese law
        questions += [json.loads(line)["question"] for line in stard.open(encoding="utf-8")]
    flagged = [q for q in questions if foreign_scope(normalize_query(q))]
    assert flagged == []
    assert len(questions) >= 250
