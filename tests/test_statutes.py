"""The statute parser: hand-made fixtures with exact expectations, then every law in ../shared."""

from __future__ import annotations

import time
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from legalqa.ingest.numerals import int_to_cn
from legalqa.ingest.statutes import (
    StatuteDoc,
    StatuteError,
    announces_quote,
    check_unique,
    continues,
    heading_level,
    is_annex,
    normalize_heading,
    parse_statute,
    plain_heading,
    read_statute,
)

MD = """---
title: 中华人民共和国示例法
aliases: [示例法, 示例]
kind: statute
version: 2020-05-28
status: 现行有效
---

# 中华人民共和国示例法

2020年5月28日 第十三届全国人民代表大会第三次会议通过

第一条 日期块里的这一行不是条文。

<!-- INFO END -->

## 第一编  总则 <!-- 编 -->

### 第一章  一般规定

第一条 为了规范示例，制定本法。

第二条 有下列情形之一的，适用本法：

（一）甲；

（二）乙；

（三）丙。

依照本法第一条 规定处理的，从其规定。

第十条规定的期间，不适用本条。

## 第三编 合同

### 第二分编 典型合同

#### 第十三章  保证合同

##### 第一节 一般规定

第二百八十条 保证合同是从合同。

<!-- FORCE BREAK -->

第二百八十条之一 保证人可以是自然人。

第二百八十条之二 保证人不得是机关法人。

##### 第二节 保证责任

第一千零六十四条 夫妻双方共同签名的债务，属于夫妻共同债务。

① 本条为示例。

附件：格式文本

第一条 附件中不是本法的条文，但以第X条开头的行仍按条文读。
"""


def assert_exact_offsets(doc: StatuteDoc) -> None:
    """Every span is its source slice; the article text joins its 款; 项 sit inside their 款."""
    text = doc.text
    for a in doc.articles:
        assert a.text == "\n".join(p.text for p in a.paragraphs), a.label
        if a.paragraphs:
            assert (a.start, a.end) == (a.paragraphs[0].start, a.paragraphs[-1].end), a.label
        assert [p.index for p in a.paragraphs] == list(range(1, len(a.paragraphs) + 1))
        for p in a.paragraphs:
            assert text[p.start : p.end] == p.text == p.text.strip(), a.label
        for k, item in a.items:
            para = a.paragraphs[k - 1]
            assert text[item.start : item.end] == item.text, a.label
            assert para.start <= item.start < item.end <= para.end, a.label


def by_label(doc: StatuteDoc) -> dict:
    """Articles by label; the first one wins when a label repeats."""
    out: dict = {}
    for a in doc.articles:
        out.setdefault(a.label, a)
    return out


def test_markdown_fixture_articles():
    doc = parse_statute(MD, source="corpus/statutes/示例法.md")
    assert_exact_offsets(doc)
    assert doc.law == "中华人民共和国示例法"
    assert doc.aliases == ("示例法", "示例")
    assert doc.meta["version"] == "2020-05-28"
    assert doc.text is MD
    assert [(a.label, a.number, a.suffix) for a in doc.articles] == [
        ("第一条", 1, 0),
        ("第二条", 2, 0),
        ("第二百八十条", 280, 0),
        ("第二百八十条之一", 280, 1),
        ("第二百八十条之二", 280, 2),
        ("第一千零六十四条", 1064, 0),
        ("第一条", 1, 0),  # in the annex: the annex ends 第一千零六十四条, but a label is a label
    ]
    assert doc.repeats == (("第一条", 21, 59),)  # so check_unique (read_statute, ingest) refuses the file
    first = doc.articles[0]
    assert first.text == "为了规范示例，制定本法。"
    assert (first.law, first.source, first.version, first.status) == (
        "中华人民共和国示例法",
        "corpus/statutes/示例法.md",
        "2020-05-28",
        "现行有效",
    )
    assert first.aliases == ("示例法", "示例")


def test_items_belong_to_the_paragraph_that_introduces_them():
    a = by_label(parse_statute(MD))["第二条"]
    assert [p.text for p in a.paragraphs] == [
        "有下列情形之一的，适用本法：\n\n（一）甲；\n\n（二）乙；\n\n（三）丙。",
        "依照本法第一条 规定处理的，从其规定。",  # a mid-sentence 第X条 does not split
        "第十条规定的期间，不适用本条。",  # 第X条 at a line start without a space does not either
    ]
    assert [(k, s.index, s.text) for k, s in a.items] == [
        (1, 1, "（一）甲；"),
        (1, 2, "（二）乙；"),
        (1, 3, "（三）丙。"),
    ]
    assert a.text.startswith("有下列情形之一的，适用本法：\n\n（一）甲；")


def test_a_mistyped_item_marker_takes_the_next_number_instead_of_failing_the_file():
    md = "# 中华人民共和国示例法\n\n第一条 有下列情形之一的，适用本法：\n\n（一）甲；\n\n（一一）乙；\n\n（三）丙。\n"
    a = by_label(parse_statute(md))["第一条"]
    assert [(k, s.index, s.text) for k, s in a.items] == [(1, 1, "（一）甲；"), (1, 2, "（一一）乙；"), (1, 3, "（三）丙。")]


def test_heading_paths():
    arts = by_label(parse_statute(MD))
    assert arts["第一条"].heading_path == ("第一编 总则", "第一章 一般规定")
    assert arts["第二百八十条"].heading_path == (
        "第三编 合同",
        "第二分编 典型合同",
        "第十三章 保证合同",
        "第一节 一般规定",
    )
    assert arts["第一千零六十四条"].heading_path[-1] == "第二节 保证责任"


def test_comments_footnotes_and_annexes_are_not_article_text():
    arts = by_label(parse_statute(MD))
    assert arts["第二百八十条"].text == "保证合同是从合同。"
    assert arts["第一千零六十四条"].text == "夫妻双方共同签名的债务，属于夫妻共同债务。"


def test_body_offsets_point_into_the_source():
    doc = parse_statute(MD)
    a = by_label(doc)["第二百八十条之一"]
    assert MD[a.start : a.end] == "保证人可以是自然人。"
    assert MD[a.start - len("第二百八十条之一 ") : a.start] == "第二百八十条之一 "


def test_amendment_quotes_are_not_articles():
    text = """# 中华人民共和国刑法修正案（示例）

<!-- INFO END -->

第一条 将刑法第十七条修改为：“已满十六周岁的人犯罪，应当负刑事责任。

“已满十四周岁不满十六周岁的人，犯故意杀人罪的，应当负刑事责任。”

第二条 在刑法第一百三十三条之一后增加一条，作为第一百三十三条之二：

“第一百三十三条之二 对行驶中的公共交通工具的驾驶人员使用暴力的，处一年以下有期徒刑。

"第一百三十三条之三 半角引号也是引文。"

第三条 本修正案自公布之日起施行。
"""
    doc = parse_statute(text)
    assert_exact_offsets(doc)
    assert [a.label for a in doc.articles] == ["第一条", "第二条", "第三条"]
    assert len(by_label(doc)["第二条"].paragraphs) == 3


ANNOUNCED = """# 中华人民共和国宪法修正案（示例）

<!-- INFO END -->

第五十二条 宪法第三章中增加一节，作为第七节“监察委员会”；增加两条。内容如下：

第七节 监察委员会

第一百二十三条 中华人民共和国各级监察委员会是国家的监察机关。

第一百二十四条 中华人民共和国设立国家监察委员会。

监察委员会由下列人员组成：

第五十三条 本修正案自公布之日起施行。

## 第二章 其他

第五十四条 前条后的一条，内容如下：

第五十五条 接续的条号开始新的一条。
"""


def test_announced_unquoted_articles_stay_in_the_announcing_article():
    doc = parse_statute(ANNOUNCED)
    assert_exact_offsets(doc)
    assert [a.label for a in doc.articles] == ["第五十二条", "第五十三条", "第五十四条", "第五十五条"]
    a52 = by_label(doc)["第五十二条"]
    assert [p.text for p in a52.paragraphs][1:] == [
        "第七节 监察委员会",
        "第一百二十三条 中华人民共和国各级监察委员会是国家的监察机关。",
        "第一百二十四条 中华人民共和国设立国家监察委员会。",
        "监察委员会由下列人员组成：",
    ]
    assert a52.heading_path == () and by_label(doc)["第五十三条"].heading_path == ()
    assert by_label(doc)["第五十五条"].heading_path == ("第二章 其他",)


def test_quote_helpers():
    assert announces_quote("……分别作为第一百二十三条至第一百二十七条。内容如下:")
    assert announces_quote("内容如下：") and not announces_quote("有下列情形之一的：")
    assert continues((5, 0), (6, 0)) and continues((5, 0), (5, 1)) and continues((5, 1), (5, 2))
    assert not continues((5, 0), (7, 0)) and not continues((5, 1), (5, 3)) and not continues((5, 0), (5, 0))
    assert is_annex("附件一") and is_annex("附：国旗制法说明") and not is_annex("附条件的民事法律行为")
    assert plain_heading("第二编 物 权") == "第二编 物权" and plain_heading("附 则") == "附则"
    assert plain_heading("第四章规定的期间，不适用本条。") == ""


TXT = """中华人民共和国示例法

（2020年5月28日第十三届全国人民代表大会第三次会议通过）

目　　录
第一章　总　　则
第二章　合同
第一章　总　　则
第一条　为了规范示例，制定本法。
第二条　本法所称示例，包括：
（一）甲；
（二）乙。
前款规定以外的，不适用本法。
第二章 合同
第一节　一般规定
第12条 阿拉伯数字的条号也是条号。
附　　则
第十三条　本法自2021年1月1日起施行。
"""


def test_plain_text_headings_and_paragraphs():
    doc = parse_statute(TXT, source="示例法.txt")
    assert_exact_offsets(doc)
    assert doc.law == "中华人民共和国示例法"
    assert [(a.label, a.number, a.heading_path) for a in doc.articles] == [
        ("第一条", 1, ("第一章 总则",)),
        ("第二条", 2, ("第一章 总则",)),
        ("第12条", 12, ("第二章 合同", "第一节 一般规定")),
        ("第十三条", 13, ("附则",)),
    ]
    second = doc.articles[1]
    assert [p.text for p in second.paragraphs] == [
        "本法所称示例，包括：\n（一）甲；\n（二）乙。",
        "前款规定以外的，不适用本法。",
    ]
    assert len(second.items) == 2
    assert doc.articles[0].text == "为了规范示例，制定本法。"  # the full-width space is not text


def test_items_are_numbered_as_their_markers_number_them():
    # An official text that drops the markers of （一） and （二）: the line marked （三） is still 项 3.
    text = "第四十五条 有下列情形之一的，属于重大案件：\n\n数额在五十万元以上的；\n\n有重大社会影响的；\n\n（三）涉及国家重大利益的。\n"
    (a,) = parse_statute(text, source="x.md", front=({"title": "某规则", "kind": "statute"}, 0)).articles
    assert [(k, s.index, s.text) for k, s in a.items] == [(3, 3, "（三）涉及国家重大利益的。")]


def test_label_variants_bold_and_typos():
    text = (
        "**第一条**　粗体的条号。\n\n"
        "第二条\n\n条号单独一行，正文在下一行。\n\n"
        "笫三条 “笫”是“第”的常见错字。\n\n"
        "第四 条写错了空格的位置。\n"
    )
    doc = parse_statute(text)
    assert_exact_offsets(doc)
    assert [(a.label, a.number, a.text) for a in doc.articles] == [
        ("第一条", 1, "粗体的条号。"),
        ("第二条", 2, "条号单独一行，正文在下一行。"),
        ("第三条", 3, "“笫”是“第”的常见错字。"),
        ("第四条", 4, "写错了空格的位置。"),
    ]


def test_crlf_offsets_stay_exact():
    text = "# 示例\r\n\r\n第一条 第一款。\r\n\r\n第二款：\r\n（一）项。\r\n"
    doc = parse_statute(text)
    assert_exact_offsets(doc)
    a = doc.articles[0]
    assert [p.text for p in a.paragraphs] == ["第一款。", "第二款：\r\n（一）项。"]


def test_split_civil_code_subtitle_is_the_top_heading():
    text = """# 中华人民共和国民法典

# 合同编

2020年5月28日 第十三届全国人民代表大会第三次会议通过

<!-- INFO END -->

## 第一分编  通则

### 第一章  一般规定

第四百六十三条 本编调整因合同产生的民事关系。
"""
    doc = parse_statute(text)
    assert doc.law == "中华人民共和国民法典"
    assert doc.articles[0].heading_path == ("合同编", "第一分编 通则", "第一章 一般规定")
    assert (doc.articles[0].number, doc.meta, doc.aliases) == (463, {}, ())


@pytest.mark.parametrize(
    ("text", "kwargs", "law"),
    [
        ("---\ntitle: 前言中的名称\n---\n# 标题\n第一条 正文。\n", {}, "前言中的名称"),
        ("---\ntitle: 前言中的名称\n---\n第一条 正文。\n", {"law": "参数"}, "参数"),
        ("# 标题 <!-- 注 -->\n\n第一条 正文。\n", {}, "标题"),
        ("示例条例\n第一条 正文。\n", {}, "示例条例"),
        ("第一条 正文。\n", {"source": "dir/某某条例.txt"}, "某某条例"),
        ("第一章 总则\n第一条 正文。\n", {"source": "某某条例.txt"}, "某某条例"),
    ],
)
def test_law_name_precedence(text, kwargs, law):
    assert parse_statute(text, **kwargs).law == law


def test_only_a_level_one_heading_is_the_title():
    doc = parse_statute("## 序言\n\n序言不是条文。\n\n## 第一章 总纲\n\n第一条 正文。\n", source="宪法.md")
    assert doc.law == "宪法"
    assert doc.articles[0].heading_path == ("第一章 总纲",)
    doc = parse_statute("# 某解释\n\n## 一、一般规定\n\n第一条 正文。\n\n## 二、附则\n\n第二条 正文。\n")
    assert [a.heading_path for a in doc.articles] == [("一、一般规定",), ("二、附则",)]


def test_no_articles_is_an_empty_document_not_an_error():
    doc = parse_statute("# 决定\n\n一、将第十条修改为：“……”\n")
    assert doc.articles == ()
    assert doc.law == "决定"


def test_malformed_front_matter_and_aliases():
    with pytest.raises(StatuteError, match="x.md: malformed YAML"):
        parse_statute("---\ntitle: [\n---\n第一条 正文。\n", source="x.md")
    with pytest.raises(StatuteError, match="aliases"):
        parse_statute("---\naliases: {a: 1}\n---\n第一条 正文。\n")


def test_heading_helpers():
    assert normalize_heading("##  第十三章　保证合同  ") == "第十三章 保证合同"
    assert normalize_heading("第四章  肖 像 权") == "第四章 肖像权"
    assert normalize_heading("**第一节**一般规定") == "第一节 一般规定"
    assert normalize_heading("第二十一章") == "第二十一章"
    levels = ("第三编 合同", "第二分编 典型合同", "第一章 总则", "第一节 一般规定")
    assert [heading_level(h) for h in levels] == [1, 2, 3, 4]
    assert [heading_level(h) for h in ("合同编", "总则", "附则", "序言", "一、一般规定")] == [1, 1, 1, 3, 3]


# --- read_statute: files and their errors ---------------------------------------------------


def test_read_statute_md_and_txt(tmp_path):
    md = tmp_path / "示例法.md"
    without_annex = MD[: MD.index("附件：格式文本")]
    md.write_text(without_annex, encoding="utf-8")
    doc = read_statute(md)
    assert (doc.source, len(doc.articles), doc.text, doc.repeats) == (str(md), 6, without_annex, ())
    txt = tmp_path / "示例法.txt"
    txt.write_bytes(b"\xef\xbb\xbf" + TXT.encode("utf-8"))  # with a BOM
    doc = read_statute(txt)
    assert doc.law == "中华人民共和国示例法"
    assert doc.text == TXT
    assert_exact_offsets(doc)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.md", b"", "文件是空的"),
        ("blank.txt", b" \n\n\t\n", "文件是空的"),
        ("binary.md", b"PK\x03\x04\x00\x00\x00law", "二进制文件"),
        ("gbk.txt", "第一条 中文。".encode("gb18030"), "不是 UTF-8"),
        ("prose.md", "# 随笔\n\n这篇文章引用了民法典第一条 的规定。\n".encode(), "没有找到任何条文"),
        ("law.docx", b"PK\x03\x04", "不支持的文件类型 .docx"),
        ("bad.md", b"---\ntitle: [\n---\n\xe7\xac\xac\xe4\xb8\x80\xe6\x9d\xa1 x\n", "malformed YAML"),
    ],
)
def test_read_statute_errors_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(StatuteError, match=message) as info:
        read_statute(path)
    assert name in str(info.value)


def test_read_statute_refuses_a_repeated_article_number_naming_both_lines(tmp_path):
    md = tmp_path / "示例法.md"
    md.write_text(MD, encoding="utf-8")  # its annex starts a second 第一条 (line 59; the first is line 21)
    with pytest.raises(StatuteError) as info:
        read_statute(md)
    message = str(info.value)
    assert message.startswith(f"{md}: 条号重复：第一条 在第 21 行和第 59 行；")
    assert "请分成两个文件" in message and "kind: article" in message


def test_repeats_name_each_number_and_its_suffix_apart():
    text = "# 某法\n\n第一条 甲。\n\n第二条 乙。\n\n第二条之一 丙。\n\n第二条 丁。\n\n第二条之一 戊。\n\n第一条 己。\n"
    doc = parse_statute(text, source="x.md")
    assert doc.repeats == (("第二条", 5, 9), ("第二条之一", 7, 11), ("第一条", 3, 13))
    with pytest.raises(StatuteError, match="x.md: 条号重复：第二条 在第 5 行和第 9 行；第二条之一 在第 7 行和第 11 行；第一条 在第 3 行和第 13 行；"):
        check_unique(doc)
    many = "".join(f"第{int_to_cn(n)}条 文。\n" for n in (1, 2, 3, 4, 1, 2, 3, 4))
    with pytest.raises(StatuteError, match="第三条 在第 3 行和第 7 行等 4 处；"):
        check_unique(parse_statute(many, source="y.md"))
    check_unique(parse_statute("第一条 甲。\n第一条之一 乙。\n第二条 丙。\n"))  # no repeat: no error


def test_read_statute_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_statute(tmp_path / "nope.md")


# --- a property: any run of numbered articles comes back as written -------------------------

_body = st.text(alphabet="法律规定的人民合同当事人，。、；", min_size=1, max_size=30).filter(
    lambda s: s[0] not in "，。、；"
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 9999), st.integers(0, 3), st.lists(_body, min_size=1, max_size=3))))
def test_numbered_articles_round_trip(specs):
    lines = ["# 某法", ""]
    for number, suffix, paragraphs in specs:
        label = f"第{int_to_cn(number)}条" + (f"之{int_to_cn(suffix)}" if suffix else "")
        lines += [f"{label} {paragraphs[0]}", ""] + [f"{p}\n" for p in paragraphs[1:]]
    doc = parse_statute("\n".join(lines))
    assert_exact_offsets(doc)
    assert [(a.number, a.suffix, a.text) for a in doc.articles] == [
        (n, s, "\n".join(ps)) for n, s, ps in specs
    ]


# --- every law in ../shared/laws ---------------------------------------------------------------

SKIP = {"_index.md", "法律法规模版.md"}

# Laws split over several files (one per 编): checked as one sequence, files ordered by first article.
SPLIT = {"民法典": "民法典 is one file per 编 (总则 … 附则); together they run 第一条–第一千二百六十条"}

# Files whose own text lacks or repeats articles, each with the exact numbering problems it has.
ALLOWED = {
    "宪法/宪法修正案（1993年）.md": (
        "constitutional amendments are numbered across all five (1988: 第一条–第二条); 1993 starts at 第三条",
        ["starts at 3"],
    ),
    "宪法/宪法修正案（1999年）.md": ("numbered on from 1993: starts at 第十二条", ["starts at 12"]),
    "宪法/宪法修正案（2004年）.md": ("numbered on from 1999: starts at 第十八条", ["starts at 18"]),
    "宪法/宪法修正案（2018年）.md": (
        "starts at 第三十二条; its 第五十二条 quotes the new 第一百二十三条–第一百二十七条 (printed "
        "unquoted, as lines of their own), which stay 款 of 第五十二条",
        ["starts at 32"],
    ),
    "行政法规/飞行基本规则(2007-10-18).md": (
        "the source runs each chapter's articles together on one line (第二条 … 第十条 follow "
        "第一条 mid-line), so only each chapter's first article starts a line",
        [f"{a} -> {b}" for a, b in pairwise([1, 11, 28, 43, 64, 79, 89, 98, 104, 112, 116, 121])],
    ),
}


def _key(number: int, suffix: int) -> str:
    return f"{number}之{suffix}" if suffix else str(number)


def numbering_problems(keys: list[tuple[int, int]], first: int = 1) -> list[str]:
    """Gaps and repeats in (number, suffix) order: 1, 2, 2之1, 2之2, 3 … with no holes."""
    problems = []
    if keys and keys[0] != (first, 0):
        problems.append(f"starts at {_key(*keys[0])}")
    for (n0, s0), (n1, s1) in pairwise(keys):
        ok = (n1, s1) == (n0 + 1, 0) if s1 == 0 else (n1, s1) == (n0, s0 + 1)
        if not ok:
            problems.append(f"{_key(n0, s0)} -> {_key(n1, s1)}")
    return problems


def test_numbering_problems_helper():
    assert numbering_problems([(1, 0), (2, 0), (2, 1), (2, 2), (3, 0)]) == []
    assert numbering_problems([(1, 0), (3, 0), (3, 2), (3, 2)]) == ["1 -> 3", "3 -> 3之2", "3之2 -> 3之2"]
    assert numbering_problems([(5, 1)]) == ["starts at 5之1"]


def _shared_files(shared_dir: Path) -> list[Path]:
    return sorted(p for p in (shared_dir / "laws").rglob("*.md") if p.name not in SKIP)


@pytest.mark.shared
def test_every_shared_law_parses_with_consecutive_articles(shared_dir):
    laws = shared_dir / "laws"
    t0 = time.perf_counter()
    found: dict[str, list[str]] = {}
    split: dict[str, list[list[tuple[int, int]]]] = defaultdict(list)
    articles = with_articles = 0
    repeated: dict[str, tuple] = {}
    for path in _shared_files(shared_dir):
        rel = path.relative_to(laws).as_posix()
        doc = parse_statute(path.read_text(encoding="utf-8"), source=rel)
        assert_exact_offsets(doc)
        if doc.repeats:
            repeated[rel] = doc.repeats
        keys = [(a.number, a.suffix) for a in doc.articles]
        articles += len(keys)
        with_articles += bool(keys)
        if rel.split("/")[0] in SPLIT:
            split[rel.split("/")[0]].append(keys)
        elif keys:
            found[rel] = numbering_problems(keys)
    seconds = time.perf_counter() - t0

    for folder, parts in split.items():
        whole = [k for part in sorted(parts, key=lambda keys: keys[0]) for k in part]
        assert numbering_problems(whole) == [], SPLIT[folder]
    assert repeated == {}  # no official text repeats an article number, so check_unique refuses none
    unexpected = {rel: p for rel, p in found.items() if p and rel not in ALLOWED}
    assert unexpected == {}
    for rel, (reason, problems) in ALLOWED.items():
        assert found.get(rel) == problems, f"{rel}: expected {problems} ({reason})"
    assert with_articles > 1400 and articles > 60_000, (with_articles, articles)
    assert seconds < 20, f"parsing ../shared/laws took {seconds:.1f}s"


@pytest.mark.shared
def test_shared_landmarks(shared_dir):
    laws = shared_dir / "laws"
    contract = by_label(read_statute(laws / "民法典" / "合同编.md"))
    a470 = contract["第四百七十条"]
    assert (len(a470.paragraphs), len(a470.items)) == (2, 8)
    assert a470.heading_path == ("合同编", "第一分编 通则", "第二章 合同的订立")
    assert contract["第六百八十一条"].heading_path[-2:] == ("第十三章 保证合同", "第一节 一般规定")

    criminal = read_statute(laws / "刑法" / "刑法.md")
    keys = [(a.number, a.suffix) for a in criminal.articles]
    i = keys.index((133, 1))
    assert keys[i - 1 : i + 3] == [(133, 0), (133, 1), (133, 2), (134, 0)]
    last = criminal.articles[-1]
    assert (last.label, last.heading_path, len(last.paragraphs)) == ("第四百五十二条", ("附则",), 3)

    # Typos in the official text: "第一百二十八 条侦查人员…", "笫五十四条".
    procedure = by_label(read_statute(laws / "诉讼与非诉讼程序法" / "刑事诉讼法(2018-10-26).md"))
    assert procedure["第一百二十八条"].text.startswith("侦查人员对于与犯罪有关的场所")
    coop = by_label(read_statute(laws / "民法商法" / "农民专业合作社法(2017-12-27).md"))
    assert coop["第五十四条"].text.startswith("清算组成员应当忠于职守")

    # The constitution's preamble is no article; its first article sits under 第一章.
    constitution = read_statute(laws / "宪法" / "宪法.md")
    assert constitution.articles[0].heading_path == ("第一章 总纲",)
    assert len(constitution.articles) == 143
