"""qa.scope: questions about another country's law, told apart from questions that only mention one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from legalqa.index.search import normalize_query
from legalqa.qa.scope import foreign_place

SHARED = Path(os.environ.get("LEGALQA_SHARED", Path(__file__).resolve().parents[2] / "shared"))
REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("question", "place"), [
    ("在美国开车超速被警察拦下，罚单怎么处理？", "美国"),  # facts in another country
    ("德国的租房押金最多能收几个月？", "德国"),  # its law
    ("英國的離婚財產是怎麼分割的？", "英国"),  # Traditional characters, normalized first
    ("中国人在美国开车超速会怎么罚？", "美国"),  # a Chinese citizen, but the facts are in the US
    ("How do I apply for a US green card through marriage?", "美国"),
    ("What are Miranda rights in the United States?", "美国"),
    ("Can my landlord in Germany keep the deposit?", "德国"),
])
def test_a_question_about_another_countrys_law_names_the_country(question, place):
    assert foreign_place(normalize_query(question)) == place


@pytest.mark.parametrize("question", [
    "我老公是日本人，离婚后孩子归谁？",  # a nationality, not a place
    "美国籍的人在中国结婚需要什么材料？",
    "在美国的儿子不赡养我，我能告他吗？",  # a person who lives abroad; the parent's claim is under Chinese law
    "我嫁到美国了，国内的房子怎么办？",  # a Chinese place named too
    "韩国人在国内打工被拖欠工资怎么办？",
    "非法国际汇款怎么判？",  # 法国 only as characters inside other words
    "What is the statute of limitations in China?",
    "Is a guarantee valid if the form is not stated?",  # English, no country
    "我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？",
])
def test_a_question_that_only_mentions_another_country_is_not_foreign(question):
    assert foreign_place(normalize_query(question)) is None


def test_no_question_of_chinese_law_in_the_eval_files_reads_as_foreign():
    rows = [json.loads(line) for line in (REPO / "eval" / "questions.jsonl").open(encoding="utf-8")]
    questions = [r["question"] for r in rows if r["answerable"] or r.get("library")]
    stard = SHARED / "stard" / "train.jsonl"
    if stard.is_file():  # 1,235 real questions, all about Chinese law
        questions += [json.loads(line)["question"] for line in stard.open(encoding="utf-8")]
    flagged = [q for q in questions if foreign_place(normalize_query(q))]
    assert flagged == []
    assert len(questions) >= 250
