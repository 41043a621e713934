"""The citation grammar: every supported form with its exact canonical output and span."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from legalqa.ingest.aliases import DEFAULT_ALIASES, AliasTable
from legalqa.ingest.citations import (
    CitationRef,
    article_label,
    canonical,
    find_citations,
    parse_article_label,
    parse_citation,
)
from legalqa.ingest.numerals import int_to_cn

CIVIL = "中华人民共和国民法典"
CRIMINAL = "中华人民共和国刑法"
PIPL = "中华人民共和国个人信息保护法"
CREDIT = "征信业管理条例"
LENDING = "最高人民法院关于审理民间借贷案件适用法律若干问题的规定"
GUARANTEE = "最高人民法院关于适用《中华人民共和国民法典》有关担保制度的解释"
GUARANTEE_44 = "《最高人民法院关于适用〈中华人民共和国民法典〉有关担保制度的解释》第四十四条"
ITEM3 = "《中华人民共和国民法典》第六百八十八条第二款第（三）项"


def found(text: str, **context) -> list[tuple[str, int, int]]:
    """(canonical, start, end) of each citation found in text."""
    return [(ref.canonical(), ref.start, ref.end) for ref in find_citations(text, **context)]


# --- single citations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("《中华人民共和国民法典》第六百八十一条", [("《中华人民共和国民法典》第六百八十一条", 0, 19)]),
        ("《民法典》第681条第一款", [("《中华人民共和国民法典》第六百八十一条第一款", 0, 13)]),
        ("民法典第六百八十八条第二款第（三）项", [(ITEM3, 0, 18)]),
        ("民法典第六百八十八条第二款第三项", [(ITEM3, 0, 16)]),
        ("民法典第六百八十八条第二款第(三)项", [(ITEM3, 0, 18)]),
        ("民法典第688条第2款第3项", [(ITEM3, 0, 14)]),
        ("刑法第二百八十条之一", [("《中华人民共和国刑法》第二百八十条之一", 0, 10)]),
        ("《征信业管理条例》第二十五条", [("《征信业管理条例》第二十五条", 0, 14)]),
        ("个保法第十三条", [("《中华人民共和国个人信息保护法》第十三条", 0, 7)]),
        ("民法典第一千零六十四条", [("《中华人民共和国民法典》第一千零六十四条", 0, 11)]),
        ("第６８１条", [("第六百八十一条", 0, 5)]),
        ("依据民法典第 681 条", [("《中华人民共和国民法典》第六百八十一条", 2, 12)]),
        ("《民法典》的第六百八十一条", [("《中华人民共和国民法典》第六百八十一条", 0, 13)]),
        (
            "根据《民法典》第681条第一款的规定，保证人应当承担责任。",
            [("《中华人民共和国民法典》第六百八十一条第一款", 2, 15)],
        ),
        ("劳动合同法第十条", [("《中华人民共和国劳动合同法》第十条", 0, 8)]),  # not 合同法
        ("民间借贷规定第二十五条", [(f"《{LENDING}》第二十五条", 0, 11)]),
        (GUARANTEE_44, [(GUARANTEE_44, 0, 38)]),
        ("最高人民法院关于适用《民法典》有关担保制度的解释第四十四条", [(GUARANTEE_44, 0, 29)]),
        ("《某市物业管理办法》第三条", [("《某市物业管理办法》第三条", 0, 13)]),  # unknown title: as written
        ("第六百八十一条", [("第六百八十一条", 0, 7)]),  # no law, no context
    ],
)
def test_single_citations(text: str, expected: list[tuple[str, int, int]]) -> None:
    assert found(text) == expected


# --- informal spellings from questions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # No 第: digits right after a law's name.
        ("民法典1064条", [(f"《{CIVIL}》第一千零六十四条", 0, 8)]),
        ("刑法293条之一", [(f"《{CRIMINAL}》第二百九十三条之一", 0, 8)]),
        ("民法典1064条第2款", [(f"《{CIVIL}》第一千零六十四条第二款", 0, 11)]),
        ("民法典1064条第二款第（一）项", [(f"《{CIVIL}》第一千零六十四条第二款第（一）项", 0, 16)]),
        ("民法典 688 条", [(f"《{CIVIL}》第六百八十八条", 0, 9)]),
        ("《民法典》1064条", [(f"《{CIVIL}》第一千零六十四条", 0, 10)]),
        ("《民法典》　６８８条", [(f"《{CIVIL}》第六百八十八条", 0, 10)]),  # ideographic space, full-width digits
        ("请问民法典1064条怎么理解？", [(f"《{CIVIL}》第一千零六十四条", 2, 10)]),
        ("个保法13条和第14条", [(f"《{PIPL}》第十三条", 0, 11), (f"《{PIPL}》第十四条", 0, 11)]),
        ("民法典第1064条第2款", [(f"《{CIVIL}》第一千零六十四条第二款", 0, 12)]),
        # No 第, Chinese numerals with a unit, right after the name (answers write 《民法典》六百八十一条).
        ("民法典六百八十八条", [(f"《{CIVIL}》第六百八十八条", 0, 9)]),
        ("《民法典》六百八十一条第二款", [(f"《{CIVIL}》第六百八十一条第二款", 0, 14)]),
        ("刑法二百八十条之一", [(f"《{CRIMINAL}》第二百八十条之一", 0, 9)]),
        # Digit by digit: only without 十百千 and with two or more digits.
        ("第六八七条", [("第六百八十七条", 0, 5)]),
        ("第一零六四条", [("第一千零六十四条", 0, 6)]),
        ("第一〇六四条", [("第一千零六十四条", 0, 6)]),
        ("刑法第二八零条之一", [(f"《{CRIMINAL}》第二百八十条之一", 0, 9)]),
        ("民法典第六八八条第二款", [(f"《{CIVIL}》第六百八十八条第二款", 0, 11)]),
        ("第十二条", [("第十二条", 0, 4)]),  # units keep their meaning: not 1, 2
        ("第二十条", [("第二十条", 0, 4)]),
        ("第六条", [("第六条", 0, 3)]),
        # Typos of well-known names.
        ("民法点第1064条", [(f"《{CIVIL}》第一千零六十四条", 0, 9)]),
        ("名法典1064条", [(f"《{CIVIL}》第一千零六十四条", 0, 8)]),
        ("民发典第六八七条", [(f"《{CIVIL}》第六百八十七条", 0, 8)]),
        ("《民法点》第六百八十一条", [(f"《{CIVIL}》第六百八十一条", 0, 12)]),
        ("刑发第3条", [("第三条", 2, 5)]),  # 刑发 is no alias: see ingest/aliases.py
    ],
)
def test_informal_spellings(text: str, expected: list[tuple[str, int, int]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "law", "expected"),
    [
        ("本法10条", CRIMINAL, [(f"《{CRIMINAL}》第十条", 0, 5)]),
        ("依照本条例25条", CREDIT, [(f"《{CREDIT}》第二十五条", 2, 8)]),
    ],
)
def test_informal_article_after_self_reference(
    text: str, law: str, expected: list[tuple[str, int, int]]
) -> None:
    assert found(text, current_law=law) == expected


def test_informal_article_after_that_law() -> None:
    assert found("《民法典》已经施行。该法1064条规定") == [(f"《{CIVIL}》第一千零六十四条", 10, 17)]


@pytest.mark.parametrize(
    "text",
    [
        "1064条短信",
        "3条路",
        "走3条路",
        "他发来的3条短信",
        "民法典的3条规定",  # 的 between: a count of provisions
        "民法典有3条规定",
        "民法典两条规定不同",  # Chinese numerals without 第 and without a unit (十百千) are counts
        "民法典三条规定",
        "民法典的六百八十八条",  # 的 between
        "民法典1064",  # no 条
        "民法典2020年施行",
        "共1064条",
        "民法典第1064款",
        "第二三款",  # digit by digit is for article numbers only
    ],
)
def test_informal_not_citations(text: str) -> None:
    assert find_citations(text) == []


def test_ref_fields_and_raw() -> None:
    [ref] = find_citations("见民法典第六百八十八条第二款第（三）项。")
    assert ref == CitationRef(CIVIL, 688, 0, 2, 3, 1, 19, "民法典第六百八十八条第二款第（三）项")
    assert ref.article_key() == (CIVIL, 688, 0)


# --- lists and ranges -------------------------------------------------------------------------


def test_list_of_two_shares_the_expression_span() -> None:
    assert found("第五百一十八条、第五百一十九条") == [("第五百一十八条", 0, 15), ("第五百一十九条", 0, 15)]


def test_range_expands_to_every_article() -> None:
    refs = find_citations("第六百六十七条至第六百八十条")
    assert len(refs) == 14
    assert [r.article for r in refs] == list(range(667, 681))
    assert {(r.law, r.suffix, r.paragraph, r.item, r.start, r.end) for r in refs} == {
        (None, 0, None, None, 0, 14)
    }


def test_list_with_law_and_mixed_separators() -> None:
    text = "《民法典》第五百一十八条、第五百一十九条和第五百二十条"
    assert found(text) == [
        ("《中华人民共和国民法典》第五百一十八条", 0, 27),
        ("《中华人民共和国民法典》第五百一十九条", 0, 27),
        ("《中华人民共和国民法典》第五百二十条", 0, 27),
    ]


def test_mixed_article_and_paragraph_list() -> None:
    assert found("第一千零六十四条、第一千零六十五条第一款") == [
        ("第一千零六十四条", 0, 20),
        ("第一千零六十五条第一款", 0, 20),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A bare 第二款 after 第六十条第一款 is the second paragraph of the same article.
        ("海关法第六十条第一款、第二款", ["第六十条第一款", "第六十条第二款"]),
        ("第十三条第(一)项和第(二)项", ["第十三条第（一）项", "第十三条第（二）项"]),
        ("第一条第二款第（一）项至第（三）项", [f"第一条第二款第（{n}）项" for n in "一二三"]),
        ("第十条、第十一条或者第十二条", ["第十条", "第十一条", "第十二条"]),
        ("第一百七十五条之一至第一百七十七条", ["第一百七十五条之一", "第一百七十六条", "第一百七十七条"]),
        ("第二百八十条至第二百八十条之二", ["第二百八十条", "第二百八十条之一", "第二百八十条之二"]),
        # Reversed or mixed-level ranges cannot be expanded: keep the two ends.
        ("第十条至第五条", ["第十条", "第五条"]),
        ("第十条第一款至第十二条", ["第十条第一款", "第十二条"]),
    ],
)
def test_lists_and_ranges(text: str, expected: list[str]) -> None:
    got = found(text)
    assert [c for c, _, _ in got] == [
        "《中华人民共和国海关法》" + e if text.startswith("海关法") else e for e in expected
    ]
    assert {(s, e) for _, s, e in got} == {(0, len(text))}


# --- the law carried forward, and context -----------------------------------------------------


def test_law_carried_within_a_list() -> None:
    assert found("依照民法典第六百八十一条和第六百八十八条") == [
        ("《中华人民共和国民法典》第六百八十一条", 2, 20),
        ("《中华人民共和国民法典》第六百八十八条", 2, 20),
    ]


def test_law_carried_to_the_end_of_the_sentence_only() -> None:
    text = "依照民法典第六百八十一条的规定，参照第六百八十八条。第六百八十九条另有规定。"
    assert found(text) == [
        ("《中华人民共和国民法典》第六百八十一条", 2, 12),
        ("《中华人民共和国民法典》第六百八十八条", 18, 25),
        ("第六百八十九条", 26, 33),
    ]


def test_each_named_law_starts_its_own_expression() -> None:
    assert found("民法典第五百七十七条和刑法第二百八十条") == [
        ("《中华人民共和国民法典》第五百七十七条", 0, 10),
        ("《中华人民共和国刑法》第二百八十条", 11, 19),
    ]


def test_that_law_refers_to_the_last_named_law() -> None:
    text = "《个人信息保护法》已经施行。该法第十三条规定"
    assert found(text) == [(f"《{PIPL}》第十三条", 14, 20)]


@pytest.mark.parametrize(
    ("text", "law", "expected"),
    [
        ("本法第十条", CRIMINAL, [(f"《{CRIMINAL}》第十条", 0, 5)]),
        ("本法第十条", None, [("第十条", 0, 5)]),
        ("违反本条例第二十五条规定", CREDIT, [(f"《{CREDIT}》第二十五条", 2, 10)]),
        ("本法第十三条第二款和第三款", CRIMINAL, [
            (f"《{CRIMINAL}》第十三条第二款", 0, 13),
            (f"《{CRIMINAL}》第十三条第三款", 0, 13),
        ]),
        ("依照第十条", CRIMINAL, [(f"《{CRIMINAL}》第十条", 2, 5)]),  # bare 第X条 inside a law's text
        # A law named earlier in the sentence beats the context for a bare 第X条.
        ("依照民法典第五百八十四条的规定，第十条", LENDING, [
            (f"《{CIVIL}》第五百八十四条", 2, 12),
            (f"《{CIVIL}》第十条", 16, 19),
        ]),
    ],
)
def test_current_law(text: str, law: str | None, expected: list[tuple[str, int, int]]) -> None:
    assert found(text, current_law=law) == expected


ART = (280, 1)


@pytest.mark.parametrize(
    ("text", "paragraph", "expected"),
    [
        ("前款", 3, [(f"《{CRIMINAL}》第二百八十条之一第二款", 0, 2)]),
        ("前款", None, [(f"《{CRIMINAL}》第二百八十条之一", 0, 2)]),
        ("有前款第（一）项情形的", 2, [(f"《{CRIMINAL}》第二百八十条之一第一款第（一）项", 1, 8)]),
        ("前两款", 3, [
            (f"《{CRIMINAL}》第二百八十条之一第一款", 0, 3),
            (f"《{CRIMINAL}》第二百八十条之一第二款", 0, 3),
        ]),
        ("本条第二款", None, [(f"《{CRIMINAL}》第二百八十条之一第二款", 0, 5)]),
        ("本条第一款、第二款", None, [
            (f"《{CRIMINAL}》第二百八十条之一第一款", 0, 9),
            (f"《{CRIMINAL}》第二百八十条之一第二款", 0, 9),
        ]),
        ("依照第二款规定", None, [(f"《{CRIMINAL}》第二百八十条之一第二款", 2, 5)]),
        ("第一款至第三款", None, [(f"《{CRIMINAL}》第二百八十条之一第{n}款", 0, 7) for n in "一二三"]),
        ("第三项", 2, [(f"《{CRIMINAL}》第二百八十条之一第二款第（三）项", 0, 3)]),
        ("本款第二项", 2, [(f"《{CRIMINAL}》第二百八十条之一第二款第（二）项", 0, 5)]),
    ],
)
def test_current_article_and_paragraph(
    text: str, paragraph: int | None, expected: list[tuple[str, int, int]]
) -> None:
    got = found(text, current_law=CRIMINAL, current_article=ART, current_paragraph=paragraph)
    assert got == expected


@pytest.mark.parametrize("text", ["前款", "本条第二款", "依照第二款规定", "第三项"])
def test_context_forms_need_a_current_article(text: str) -> None:
    assert find_citations(text) == []


# --- what is not a citation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "第一步：核实债务真实性",
        "第三章",
        "第三章第二节",
        "第二天",
        "第八届全国人民代表大会常务委员会第五次会议",
        "走第一条路",
        "他发来的第二条短信",
        "提前款项",  # 前款 inside a word
        "第六百八十八十条",  # malformed numeral
        "第零条",
        "民法典规定了保证合同",
    ],
)
def test_not_citations(text: str) -> None:
    assert find_citations(text, current_article=(1, 0)) == []


def test_chapter_before_an_article_is_skipped() -> None:
    assert found("第三章第二十条") == [("第二十条", 3, 7)]


def test_malformed_element_does_not_spoil_the_rest_of_the_list() -> None:
    got = found("民法典第六百八十八十条、第六百八十九条")
    assert [c for c, _, _ in got] == [f"《{CIVIL}》第六百八十九条"]


def test_custom_alias_table_is_used() -> None:
    table = AliasTable().with_laws({"某市物业管理办法": ["物业办法"]})
    assert found("物业办法第五条", aliases=table) == [("《某市物业管理办法》第五条", 0, 7)]
    assert found("物业办法第五条") == [("第五条", 4, 7)]


# --- labels and canonical form ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "label"),
    [
        ((280, 1), "第二百八十条之一"),
        ((681, 0), "第六百八十一条"),
        ((10, 0), "第十条"),
        ((1064, 0), "第一千零六十四条"),
    ],
)
def test_article_label(args: tuple[int, int], label: str) -> None:
    assert article_label(*args) == label
    assert parse_article_label(label) == args


@pytest.mark.parametrize(("args", "bad"), [((0, 0), "0"), ((10_000, 0), "10000"), ((5, -1), "-1")])
def test_article_label_rejects(args: tuple[int, int], bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        article_label(*args)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("第280条之一", (280, 1)),
        ("第681条", (681, 0)),
        ("第６８１条", (681, 0)),
        (" 第十条 ", (10, 0)),
        ("第六八七条", (687, 0)),
        ("第二八零条之一", (280, 1)),
    ],
)
def test_parse_article_label_variants(label: str, expected: tuple[int, int]) -> None:
    assert parse_article_label(label) == expected


@pytest.mark.parametrize(
    "label", ["第六百八十八十条", "681", "第681款", "第零条", "第一条第二款", "第一章", ""]
)
def test_parse_article_label_rejects(label: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(label))):
        parse_article_label(label)


def test_canonical() -> None:
    assert canonical(None, 681) == "第六百八十一条"
    assert canonical(CIVIL, 681, paragraph=1) == "《中华人民共和国民法典》第六百八十一条第一款"
    assert canonical(CIVIL, 688, 0, 2, 3) == "《中华人民共和国民法典》第六百八十八条第二款第（三）项"
    assert canonical(CRIMINAL, 280, 1) == "《中华人民共和国刑法》第二百八十条之一"
    assert canonical(GUARANTEE, 44) == GUARANTEE_44  # 〈〉 inside 《》
    with pytest.raises(ValueError, match="paragraph"):
        canonical(CIVIL, 681, paragraph=0)
    with pytest.raises(ValueError, match="article"):
        CitationRef(CIVIL, 0)


# --- parse_citation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("民法典第688条第2款", (CIVIL, 688, 0, 2, None)),
        ("《中华人民共和国刑法》第二百八十条之一", (CRIMINAL, 280, 1, None, None)),
        ("第681条", (None, 681, 0, None, None)),
        ("国家赔偿法第二条", ("中华人民共和国国家赔偿法", 2, 0, None, None)),
        ("《民间借贷规定》第二十五条", (LENDING, 25, 0, None, None)),
        ("最高人民法院关于适用《民法典》有关担保制度的解释第四十四条", (GUARANTEE, 44, 0, None, None)),
        ("某市物业管理办法第3条", ("某市物业管理办法", 3, 0, None, None)),  # unknown law: kept as written
        ("民法典1064条", (CIVIL, 1064, 0, None, None)),
        ("民法典1064条第2款", (CIVIL, 1064, 0, 2, None)),
        ("刑法293条之一", (CRIMINAL, 293, 1, None, None)),
        ("民法典 688 条", (CIVIL, 688, 0, None, None)),
        ("民法典第六八七条", (CIVIL, 687, 0, None, None)),
        ("刑法第二八零条之一", (CRIMINAL, 280, 1, None, None)),
        ("民法点第688条", (CIVIL, 688, 0, None, None)),
    ],
)
def test_parse_citation(text: str, fields: tuple) -> None:
    assert parse_citation(text) == CitationRef(*fields, 0, len(text), text)


def test_parse_citation_span_skips_outer_whitespace() -> None:
    assert parse_citation(" 第681条 ") == CitationRef(None, 681, 0, None, None, 1, 6, "第681条")


@pytest.mark.parametrize(
    "text",
    [
        "民法典第六百八十八十条",  # malformed numeral
        "第一条、第二条",  # a list
        "第一条至第三条",  # a range
        "民法典第681条、第682条",
        "某法第1条、第2条",
        "前款",  # no article without context
        "第二款",
        "民法典",
        "民法典第681条规定",
        "第一步",
        "1064条",  # no 第 and no law
        "民法典1064条、1065条",  # only the first element may omit 第; the rest is left over
        "第零六八条",  # digit by digit with a leading 零
        "第一二三四五条",  # beyond 9999
        "",
    ],
)
def test_parse_citation_errors_name_the_text(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_citation(text)


# --- the alias table --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "full"),
    [
        ("民法典", CIVIL),
        ("《民法典》", CIVIL),
        (CIVIL, CIVIL),
        ("刑法", CRIMINAL),
        ("个保法", PIPL),
        ("个人信息保护法", PIPL),
        ("中华人民共和国个人信息保护法", PIPL),
        ("治安管理处罚法", "中华人民共和国治安管理处罚法"),
        ("征信业管理条例", CREDIT),
        ("中华人民共和国征信业管理条例", CREDIT),  # a 中华人民共和国 too many is tolerated
        ("民间借贷司法解释", LENDING),
        ("民间借贷规定", LENDING),
        ("《民间借贷规定》", LENDING),
        ("合同法", "中华人民共和国合同法"),
        ("最高人民法院关于适用〈中华人民共和国民法典〉有关担保制度的解释", GUARANTEE),
        ("《最高人民法院关于适用〈民法典〉有关担保制度的解释》", GUARANTEE),
        ("民法点", CIVIL),  # typo aliases
        ("名法典", CIVIL),
        ("《民发典》", CIVIL),
        ("刑发", None),  # left out: 死刑发回重审
        ("不存在的法", None),
        ("", None),
    ],
)
def test_alias_resolve(name: str, full: str | None) -> None:
    assert AliasTable().resolve(name) == full


def test_default_aliases_map_full_names_to_themselves() -> None:
    assert DEFAULT_ALIASES["民法典"] == CIVIL
    assert DEFAULT_ALIASES["《民间借贷规定》"] == LENDING
    for full in DEFAULT_ALIASES.values():
        assert DEFAULT_ALIASES[full] == full


def test_names_longest_first() -> None:
    names = AliasTable().names()
    assert [len(n) for n in names] == sorted((len(n) for n in names), reverse=True)
    assert {"民法典", CIVIL, "个保法", CREDIT} <= set(names)
    assert names.index("劳动合同法") < names.index("合同法")


def test_with_laws_returns_a_new_table_and_extra_wins() -> None:
    base = AliasTable()
    table = base.with_laws({"某市物业管理办法": ["物业办法"], "某部民法典解读": ["民法典"]})
    assert table.resolve("物业办法") == "某市物业管理办法"
    assert table.resolve("某市物业管理办法") == "某市物业管理办法"
    assert table.resolve("民法典") == "某部民法典解读"  # corpus front matter is the authority
    assert base.resolve("物业办法") is None
    assert base.resolve("民法典") == CIVIL


@pytest.mark.parametrize("extra", [{"": CIVIL}, {"民法典": ""}, {"民法典": None}])
def test_alias_table_rejects_empty_entries(extra: dict) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        AliasTable(extra)


# --- round trips ------------------------------------------------------------------------------

LAWS = [None, CIVIL, CRIMINAL, CREDIT, LENDING, GUARANTEE]


@given(
    law=st.sampled_from(LAWS),
    article=st.integers(1, 9999),
    suffix=st.integers(0, 3),
    paragraph=st.none() | st.integers(1, 9),
    item=st.none() | st.integers(1, 9),
)
def test_canonical_round_trip(
    law: str | None, article: int, suffix: int, paragraph: int | None, item: int | None
) -> None:
    text = canonical(law, article, suffix, paragraph, item)
    expected = CitationRef(law, article, suffix, paragraph, item, 0, len(text), text)
    assert find_citations(text) == [expected]
    assert parse_citation(text) == expected
    # Inside prose, only the span moves.
    [ref] = find_citations(f"依照{text}的规定。")
    assert (ref.article_key(), ref.paragraph, ref.item, ref.start, ref.end) == (
        (law, article, suffix), paragraph, item, 2, 2 + len(text)
    )


@given(st.integers(1, 9999), st.integers(0, 20))
def test_article_label_round_trip(number: int, suffix: int) -> None:
    assert parse_article_label(article_label(number, suffix)) == (number, suffix)
    plain = f"第{number}条" + (f"之{suffix}" if suffix else "")
    assert parse_article_label(plain) == (number, suffix)


@given(
    name=st.sampled_from(["民法典", "《民法典》", "民法典 ", "民法点"]),
    article=st.integers(1, 9999),
    suffix=st.integers(0, 3),
    paragraph=st.none() | st.integers(1, 9),
)
def test_informal_article_round_trip(name: str, article: int, suffix: int, paragraph: int | None) -> None:
    text = f"{name}{article}条" + (f"之{int_to_cn(suffix)}" if suffix else "")
    text += f"第{paragraph}款" if paragraph else ""
    expected = CitationRef(CIVIL, article, suffix, paragraph, None, 0, len(text), text)
    assert find_citations(text) == [expected]
    assert parse_citation(text) == expected


@given(st.integers(10, 9999))
def test_digit_by_digit_round_trip(number: int) -> None:
    spelled = str(number).translate(str.maketrans("0123456789", "零一二三四五六七八九"))
    assert parse_article_label(f"第{spelled}条") == (number, 0)
    [ref] = find_citations(f"依照民法典第{spelled}条")
    assert (ref.law, ref.article, ref.start, ref.end) == (CIVIL, number, 2, 7 + len(spelled))


FUZZ_ALPHABET = "第条款项之至、和本前该法十百千零一二三四五六七八九（）()0123456789民法典《》，。"


@given(st.text(alphabet=FUZZ_ALPHABET, max_size=40))
def test_find_citations_never_crashes(text: str) -> None:
    for ref in find_citations(text, current_law=CIVIL, current_article=(5, 0), current_paragraph=2):
        assert 0 <= ref.start < ref.end <= len(text)
        assert text[ref.start : ref.end] == ref.raw


# --- real statutes (optional) -----------------------------------------------------------------


@pytest.mark.shared
def test_real_civil_code_labels_and_cross_references(shared_dir: Path) -> None:
    files = sorted((shared_dir / "laws" / "民法典").glob("*.md"))
    text = "\n".join(p.read_text(encoding="utf-8") for p in files)
    labels = re.findall(r"^第[零一二三四五六七八九十百千]+条(?=[ \u3000])", text, re.M)
    numbers = [parse_article_label(label) for label in labels]
    assert (1260, 0) in numbers
    refs = find_citations(text, current_law=CIVIL)
    assert refs and all(ref.law for ref in refs)
    assert all(text[ref.start : ref.end] == ref.raw for ref in refs)
