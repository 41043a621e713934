"""The citation checker (qa/verify.py) and what it stands on: law facts (qa/lawinfo.py) and quote reading.

Runs on an index of the default corpus built with FakeEmbedder: the checker never searches.
"""

from __future__ import annotations

import json
from difflib import SequenceMatcher

import pytest
from legalqa.ingest.aliases import AliasTable
from legalqa.ingest.crosscheck import mask_markdown, presented_after, similarity
from legalqa.ingest.models import Chunk, Span
from legalqa.qa.lawinfo import LawInfo, derive_law_info, is_commencement, repealed_laws, statute_source
from legalqa.qa.models import STATUSES
from legalqa.qa.verify import verify_text

CIVIL = "中华人民共和国民法典"
CIVIL_1260 = (
    "本法自2021年1月1日起施行。《中华人民共和国婚姻法》、《中华人民共和国继承法》、《中华人民共和国民法通则》、"
    "《中华人民共和国收养法》、《中华人民共和国担保法》、《中华人民共和国合同法》、《中华人民共和国物权法》、"
    "《中华人民共和国侵权责任法》、《中华人民共和国民法总则》同时废止。"
)
Q681 = "保证合同是为保障债权的实现，保证人和债权人约定，当债务人不履行到期债务或者发生当事人约定的情形时，保证人履行债务或者承担责任的合同。"


def one(text: str, searcher):
    (c,) = verify_text(text, searcher).citations
    return c


# --- law facts ------------------------------------------------------------------------------------


def test_repealed_laws_are_read_from_the_repealing_article():
    names = ["婚姻法", "继承法", "民法通则", "收养法", "担保法", "合同法", "物权法", "侵权责任法", "民法总则"]
    assert repealed_laws(CIVIL_1260, AliasTable()) == [f"中华人民共和国{n}" for n in names]
    # An alias without 《》 counts; a law that loses only one article does not; a law merely named does not.
    assert repealed_laws("1986年通过的民法通则同时废止。", AliasTable()) == ["中华人民共和国民法通则"]
    assert repealed_laws("《中华人民共和国合同法》第五十二条同时废止。", AliasTable()) == []
    assert repealed_laws("依照《中华人民共和国合同法》处理。本法自公布之日起施行。", AliasTable()) == []


@pytest.mark.parametrize(
    "text,expected",
    [(CIVIL_1260, True), ("本条例自2013年3月15日起施行。", True), ("本规定自2021年1月1日起施行。", True),
     ("一般规定。\n本法自公布之日起施行。", True), ("依照本法第十条的规定施行。", False), ("本法所称的以上，包括本数。", False)],
)
def test_commencement_article(text, expected):
    assert is_commencement(text) is expected


def _chunk(law: str, number: int, text: str, status: str = "现行有效", excerpt: bool | None = None) -> Chunk:
    meta = {"aliases": []} | ({} if excerpt is None else {"excerpt": excerpt})
    return Chunk(f"{law}{number}", "statute", law, text, "x.md", 0, len(text), law=law, article=number,
                 label=f"第{number}条", citation=f"《{law}》第{number}条", status=status,
                 paragraphs=(Span(1, text, 0, len(text)),), meta=meta)


def test_law_info_from_statuses_excerpts_and_repeals():
    chunks = [
        _chunk("甲法", 1, "为了……，制定本法。", excerpt=False),
        _chunk("甲法", 9, "本法自2020年1月1日起施行。《乙法》同时废止。", excerpt=False),
        _chunk("丙法", 3, "……", status="已废止"),
        _chunk("丁法", 5, "……", status="历史版本", excerpt=True),
    ]
    info = derive_law_info(chunks, AliasTable())
    assert info["甲法"] == LawInfo("甲法", True, "现行有效", False, (9, 0))
    assert info["甲法"].complete and not info["甲法"].repealed
    assert info["乙法"] == LawInfo("乙法", False, "", None, None, "《甲法》第9条", "甲法")
    assert info["乙法"].repealed and not info["乙法"].held
    assert info["丙法"].repealed and info["丙法"].successor is None and info["丙法"].excerpt is None
    assert info["丁法"].historical and not info["丁法"].repealed and not info["丁法"].complete


def test_default_index_knows_what_the_civil_code_repealed(fake_searcher):
    source = statute_source(fake_searcher)
    contract = source.law_info("中华人民共和国合同法")
    assert (contract.held, contract.successor, contract.repealed_by) == (False, CIVIL, f"《{CIVIL}》第一千二百六十条")
    civil = source.law_info(CIVIL)
    assert (civil.excerpt, civil.last_article, civil.repealed) == (True, (1260, 0), False)
    assert source.law_info("中华人民共和国刑法").last_article is None  # its commencement article is not held
    assert source.law_info("中华人民共和国个人信息保护法").complete


def test_an_index_that_answers_law_info_plugs_in_unchanged(fake_searcher):
    """A library index gives its own law facts; the checker uses them as they are."""

    class Library:
        aliases = fake_searcher.aliases
        laws = fake_searcher.laws

        def article(self, law, number, suffix=0):
            return fake_searcher.article(law, number, suffix)

        def law_info(self, law):
            return LawInfo(law, True, "现行有效", True, (452, 0)) if law == "中华人民共和国刑法" else None

    library = Library()
    assert statute_source(library) is library
    c = one("刑法第九百九十九条", library)
    assert (c.status, c.last_article) == ("nonexistent", "第四百五十二条")
    assert one("刑法第九百九十九条", fake_searcher).status == "not_found"  # the default index cannot tell


# --- statuses ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,citation,status",
    [
        ("民法典第一千三百条", f"《{CIVIL}》第一千三百条", "nonexistent"),
        ("民法典第一千二百六十条之一", f"《{CIVIL}》第一千二百六十条之一", "nonexistent"),
        ("民法典第一条", f"《{CIVIL}》第一条", "not_found"),
        ("征信业管理条例第四十七条", "《征信业管理条例》第四十七条", "no_quote"),
        ("征信业管理条例第四十八条", "《征信业管理条例》第四十八条", "nonexistent"),
        ("《商标法》第三条", "《中华人民共和国商标法》第三条", "unknown_law"),
        ("《某某办法》第三条", "《某某办法》第三条", "unknown_law"),
        ("《中华人民共和国合同法》第二百零六条", "《中华人民共和国合同法》第二百零六条", "repealed"),
        ("民法通则第一百零八条", "《中华人民共和国民法通则》第一百零八条", "repealed"),
        ("民法典第六百八十八条第三款", f"《{CIVIL}》第六百八十八条第三款", "wrong_paragraph"),
        ("民法典第六百八十一条第一款", f"《{CIVIL}》第六百八十一条第一款", "no_quote"),
        ("个保法第十三条第一款第（八）项", "《中华人民共和国个人信息保护法》第十三条第一款第（八）项", "wrong_paragraph"),
        ("个保法第十三条第一款第（七）项", "《中华人民共和国个人信息保护法》第十三条第一款第（七）项", "no_quote"),
        ("个保法第十三条第二款第（一）项", "《中华人民共和国个人信息保护法》第十三条第二款第（一）项", "wrong_paragraph"),
        ("《民法典》六百八十一条", f"《{CIVIL}》第六百八十一条", "no_quote"),
    ],
)
def test_citation_status(fake_searcher, text, citation, status):
    c = one(text, fake_searcher)
    assert (c.citation, c.status) == (citation, status)
    assert status in STATUSES


def test_repealed_names_the_successor(fake_searcher):
    c = one("依据《合同法》第二百零六条", fake_searcher)
    assert (c.successor, c.repealed_by, c.law_status) == (CIVIL, f"《{CIVIL}》第一千二百六十条", "已废止")
    assert c.detail() == (f"《中华人民共和国合同法》已废止（见《{CIVIL}》第一千二百六十条），现行规定见《{CIVIL}》")


@pytest.mark.parametrize(
    "text,status",
    [
        # Quoted or set out under the citation: the words claim to be the article's.
        (f"民法典第六百八十一条规定：“{Q681}”", "exact"),
        (f"民法典第六百八十一条\n\n{Q681}", "exact"),
        (f"**《民法典》第六百八十一条**：“{Q681}”", "exact"),
        (f"> 民法典第六百八十一条\n>\n> {Q681}", "exact"),
        ("民法典第六百八十一条规定：“保证合同是保证人和债权人之间的合同。”", "not_a_quote"),
        ("民法典第六百八十一条\n\n保证就是替别人还钱。", "not_a_quote"),
        (f"民法典第六百八十一条：“{Q681.replace('或者发生当事人约定的情形', '')}”", "differs"),
        # In the running sentence: a near-quote is compared, a summary is no quote.
        (f"民法典第六百八十一条规定，{Q681.replace('实现', '完成')}", "differs"),
        ("民法典第六百八十八条规定，保证人要和债务人一起承担还款责任。", "no_quote"),
        ("按照《民法典》第六百八十六条第二款，按一般保证承担责任。", "no_quote"),
        # Under a heading, or opening with 本条/该条, the block explains the article.
        ("### 民法典第六百八十一条\n\n这是关于保证合同定义的规定，保证人要承担责任。", "no_quote"),
        ("民法典第六百八十一条\n\n该条规定了保证合同的定义。", "no_quote"),
        # A quote of both 款, with the article named without a 款, is the article's text.
        ("民法典第六百八十八条：“当事人在保证合同中约定保证人和债务人对债务承担连带责任的，为连带责任保证。"
         "连带责任保证的债务人不履行到期债务或者发生当事人约定的情形时，债权人可以请求债务人履行债务，"
         "也可以请求保证人在其保证范围内承担保证责任。”", "exact"),
        ("民法典第六百八十八条第二款：“当事人在保证合同中约定保证人和债务人对债务承担连带责任的，为连带责任保证。”",
         "wrong_paragraph"),
    ],
)
def test_quotes_are_judged_by_how_the_text_presents_them(fake_searcher, text, status):
    assert one(text, fake_searcher).status == status


def test_quote_offsets_and_diff_in_markdown(fake_searcher):
    text = f"## 依据\n\n- **民法典第681条**：“{Q681.replace('或者发生当事人约定的情形', '')}”"
    c = one(text, fake_searcher)
    assert c.status == "differs" and c.presented == "quoted"
    assert text[c.start : c.end] == c.raw == "民法典第681条"
    assert text[c.quote_start : c.quote_end] == c.quote and c.quote.startswith("保证合同是")
    assert [(d.op, d.official) for d in c.check.differences] == [("missing", "或者发生当事人约定的情形")]


def test_a_bare_article_takes_the_law_named_before_it(fake_searcher):
    first, second = verify_text("《民法典》第六百七十九条规定了借款合同何时成立。第一千三百条则不存在。", fake_searcher).citations
    assert (first.law_inferred, second.law_inferred) == (False, True)
    assert (second.citation, second.status) == (f"《{CIVIL}》第一千三百条", "nonexistent")
    assert one("第一千三百条", fake_searcher).status == "unknown_law"  # no law anywhere before it


def test_verify_cli_json_reports_the_new_statuses(fake_engine, capsys):
    from legalqa.cli import main

    index = ["--index", str(fake_engine.settings.index_dir), "--model", "fake"]
    assert main(["verify", "--json", "依据《合同法》第二百零六条和民法典第一千三百条", *index]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"] == {"repealed": 1, "nonexistent": 1}
    assert out["citations"][0]["successor"] == CIVIL
    assert main(["verify", "民法典第六百八十八条第三款", *index]) == 0
    assert "款/项不对" in capsys.readouterr().out


# --- reading quotes -----------------------------------------------------------------------------------


def test_mask_markdown_keeps_every_offset():
    text = "## 标题\n\n> **民法典第681条**：`x` | y |\n|---|---|\n- 1. 列表\n***\n"
    masked = mask_markdown(text)
    assert len(masked) == len(text) and masked.count("\n") == text.count("\n")
    assert masked.split("\n") == ["   标题", "", "    民法典第681条  ： x    y  ", "         ", "     列表", "   ", ""]


@pytest.mark.parametrize(
    "after,how,words",
    [
        ("规定：“借款合同是借款人向贷款人借款的合同。”其后", "quoted", "借款合同是借款人向贷款人借款的合同。"),
        ("的规定，“借款合同是借款人的合同”", "quoted", "借款合同是借款人的合同"),
        ("规定，借款人应当还钱。然后呢？", "inline", "借款人应当还钱。"),
        ("：\n\n第一行内容在此。\n第二行内容在此。\n", "block", "第一行内容在此。"),
        ("\n第一行内容在此。\n第二行也算进来。\n", "block", "第一行内容在此。\n第二行也算进来。"),
    ],
)
def test_presented_after(after, how, words):
    text = "民法典第六百六十七条" + after
    got = presented_after(text, 10, len(text), continues=lambda line: "也算" in line)
    assert (got.how, got.words) == (how, words)
    assert text[got.start : got.end] == words


def test_presented_after_nothing():
    assert presented_after("民法典第一条。", 6, 7) is None
    assert presented_after("民法典第一条\n\n", 6, 8) is None


def test_similarity_judges_a_partial_quote_by_the_stretch_it_quotes():
    article = ("借款人应当按照约定的期限返还借款。对借款期限没有约定或者约定不明确，依据本法第五百一十条的规定仍不能确定的，"
               "借款人可以随时返还；贷款人可以催告借款人在合理期限内返还。")
    quote = "借款人应当按照约定的日期返还借款"
    assert SequenceMatcher(None, article, quote, autojunk=False).ratio() < 0.55
    assert similarity(article, quote) > 0.85
    summary = "借款到期要还，没约定期限的随时可以还"
    assert similarity(article, summary) < 0.55
