"""The composer without the real model: a five-article statute and one prose guide, indexed with the
fake embedder, so every decision (abstain, lead, 款, 项, notes) and every format can be checked exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from legalqa.index.embedder import FakeEmbedder
from legalqa.index.search import Hit, SearchConfig, Searcher
from legalqa.index.sparse import tokenize
from legalqa.index.store import build_index, load_index
from legalqa.ingest.crosscheck import QuoteCheck, misquote_note
from legalqa.ingest.models import Chunk
from legalqa.ingest.pipeline import Collection, ingest
from legalqa.qa.compose import AnswerConfig, Composer
from legalqa.qa.models import Abstention, Disclaimer, Lead, Note, Ref, ScopeNote, SourceList, StatuteQuote
from legalqa.qa.paragraphs import ParagraphModel, asked_terms
from legalqa.qa.plan import (
    abstains,
    choose_quotes,
    coverage,
    pick_lead,
    quote_spans,
    statute_choice,
)
from legalqa.qa.render import escape_markdown, escape_text, to_html, to_json, to_markdown, to_text
from legalqa.qa.verify import self_check

LAW = "中华人民共和国示例担保法"
STATUTE = f"""---
title: {LAW}
aliases: [示例担保法]
kind: statute
---
# {LAW}

第一条 保证合同是为保障债权的实现，保证人和债权人约定，当债务人不履行到期债务时，保证人履行债务的合同。

第二条 当事人在保证合同中对保证方式没有约定或者约定不明确的，按照一般保证承担保证责任。

连带责任保证的债务人不履行到期债务时，债权人可以请求保证人承担保证责任。

第三条 有下列情形之一的，保证人不承担保证责任：

（一）主合同无效；

（二）债权人隐瞒真实情况骗取担保；

（三）借款用于赌博。

第四条 催收人员不得以暴力、威胁或者骚扰亲友的方法催收债务。

第五条 征信机构对个人不良信息的保存期限，自不良行为终止之日起为五年。
"""
# The guide's second paragraph quotes 第一条 without "当债务人不履行到期债务时，保证人履行债务".
GUIDE = """---
title: 担保须知
kind: article
---
# 担保须知

## 担保人的责任

朋友借网贷让你做担保人，先看保证合同。借款人不还钱时，担保人要按约定承担保证责任。今天天气很好。

《示例担保法》第一条规定：“保证合同是为保障债权的实现，保证人和债权人约定的合同。”

## 催收的边界

催收人员天天打电话骚扰家人是违法的。遇到暴力催收可以报警。
"""
IMG = "<img src=x onerror=alert(1)>"
LINK = "[a](javascript:alert(1))"
ESC = "\x1b[2J"
# An upload whose title, heading and text carry markup (and a terminal control sequence).
HOSTILE = f"""---
title: 担保{IMG}须知
kind: article
---
## 担保人{LINK}的责任

担保人要承担保证责任{IMG}，详见{LINK}{ESC}。
"""
# Evidence (best cosine similarity under the fake embedder) between the unrelated and the related questions.
MIN_EVIDENCE = 0.45
GUARANTEE = "朋友借网贷让我做担保人，他不还钱，我要承担保证责任吗？"


def make_searcher(root: Path, files: dict[str, str], upload: dict[str, str] | None = None) -> Searcher:
    for name, text in {**files, **(upload or {})}.items():
        path = root / ("uploads" if upload and name in upload else "corpus") / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    also = [Collection((root / "uploads",), "user", "user-docs/")] if upload else []
    corpus = ingest([root / "corpus"], also=also)
    assert corpus.report.errors == []
    emb = FakeEmbedder()
    build_index(root / "index", corpus.chunks, corpus.sources, emb, report=corpus.report.to_dict())
    return Searcher(load_index(root / "index"), emb, SearchConfig(expand=False, correct_typos=False), rules=())


@pytest.fixture(scope="module")
def searcher(tmp_path_factory) -> Searcher:
    files = {"statutes/示例担保法.md": STATUTE, "articles/担保须知.md": GUIDE}
    return make_searcher(tmp_path_factory.mktemp("compose"), files)


@pytest.fixture(scope="module")
def composer(searcher) -> Composer:
    return Composer(searcher, AnswerConfig(selector="relative", min_evidence=MIN_EVIDENCE, max_statutes=1))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Composer:
    files = {"statutes/示例担保法.md": STATUTE}
    srch = make_searcher(tmp_path_factory.mktemp("hostile"), files, {"note.md": HOSTILE})
    return Composer(srch, AnswerConfig(selector="relative", min_evidence=0.0, max_statutes=1))


def of(blocks, kind):
    return [b for b in blocks if isinstance(b, kind)]


# ---- decisions, through ask -------------------------------------------------------------------------


def test_weak_evidence_abstains_and_names_what_was_searched(composer):
    a = composer.ask("怎么注册商标？")
    assert a.evidence["top_dense"] < MIN_EVIDENCE and a.evidence["named"] == 0
    assert a.abstained and a.citations == []
    assert [type(b) for b in a.blocks] == [Abstention, Disclaimer]
    assert (a.blocks[0].laws, a.blocks[0].articles) == ((LAW,), ("担保须知",))
    answered = composer.ask(GUARANTEE)
    assert answered.evidence["top_dense"] >= MIN_EVIDENCE and not answered.abstained


def test_a_question_about_another_countrys_law_abstains_and_says_why(searcher):
    eager = Composer(searcher, AnswerConfig(selector="relative", min_evidence=0.0))  # never abstains on evidence
    assert not eager.ask("担保人要承担保证责任吗？").abstained
    a = eager.ask("按美国法律，担保人要承担保证责任吗？")
    assert a.abstained and a.citations == [] and a.reason.startswith("问题问的是美国的法律")
    assert [type(b) for b in a.blocks] == [Abstention, Disclaimer] and a.blocks[0].foreign == "美国"
    assert "这个问题问的是美国的法律" in a.text and "美国" in to_html(a.blocks)
    # Where things happened, not under whose law: answered, with a note that the answer is Chinese law.
    b = eager.ask("在美国给朋友做担保人，要承担保证责任吗？")
    assert not b.abstained and b.citations and of(b.blocks, ScopeNote) == [ScopeNote("美国")]
    assert b.blocks.index(ScopeNote("美国")) < b.blocks.index(of(b.blocks, StatuteQuote)[0])
    assert "以下引用的是中华人民共和国的法律" in b.text and "以下引用的是中华人民共和国的法律" in b.markdown
    assert {"type": "scope", "place": "美国"} in b.to_dict()["blocks"]
    c = eager.ask("我老公是美国人，我给他做担保人，要承担保证责任吗？")  # a nationality: nothing to say
    assert not c.abstained and not of(c.blocks, ScopeNote)


def test_a_named_article_the_index_lacks_is_never_answered_from_another_article(searcher):
    eager = Composer(searcher, AnswerConfig(selector="relative", min_evidence=0.0))  # never abstains on evidence
    assert not eager.ask("保证人不承担保证责任的情形有哪些？").abstained
    for question in ("婚姻法第三条是怎么规定的？",  # a repealed law the corpus does not hold: not 示例担保法第三条
                     "示例担保法第九条是怎么规定的？"):  # past the law's last article
        answer = eager.ask(question)
        assert answer.abstained and answer.citations == [], question
    # The answer says why, as `legalqa verify` would (and names no unrelated laws it searched).
    past = eager.ask("示例担保法第九条是怎么规定的？")  # the fixture's law has no closing article: maybe incomplete
    why = f"《{LAW}》第九条：索引只收录了《{LAW}》的部分条文，无法确认这一条"
    assert past.blocks[0].unnamed == (why,) and past.reason == f"问题所指的条文不在索引中：{why}"
    assert why in past.text and "我检索了" not in past.text


def test_a_named_article_is_answered_however_weak_the_evidence(searcher):
    strict = Composer(searcher, AnswerConfig(selector="relative", min_evidence=1.01))
    a = strict.ask("示例担保法第五条是怎么规定的？")
    assert not a.abstained and [c.citation for c in a.citations] == [f"《{LAW}》第五条"]
    assert strict.ask(GUARANTEE).abstained


def test_the_lead_is_the_section_that_shares_the_question_words(composer):
    a = composer.ask(GUARANTEE)
    (lead,) = of(a.blocks, Lead)
    assert lead.citation == "《担保须知》·担保人的责任"
    # The two best sentences in reading order; the weather and the misquoting citation line are never chosen.
    assert [q.text for q in lead.quotes] == ["朋友借网贷让你做担保人，先看保证合同。", "借款人不还钱时，担保人要按约定承担保证责任。"]
    (lead,) = of(composer.ask("催收人员天天打电话骚扰家人，合法吗？").blocks, Lead)
    assert lead.citation == "《担保须知》·催收的边界"


def test_no_lead_when_the_question_names_an_article(composer):
    a = composer.ask("示例担保法第二条是怎么规定的？")
    assert of(a.blocks, Lead) == [] and all(c.kind == "statute" for c in a.citations)


@pytest.mark.parametrize(
    ("question", "paragraph", "quote"),
    [
        ("示例担保法第二条，没有约定保证方式怎么办？", 1, "当事人在保证合同中对保证方式没有约定或者约定不明确的"),
        ("示例担保法第二条，连带责任保证的债务人不还钱，债权人能找保证人吗？", 2, "连带责任保证的债务人不履行到期债务时"),
    ],
)
def test_the_paragraph_that_answers_is_quoted_and_cited(composer, question, paragraph, quote):
    (st,) = of(composer.ask(question).blocks, StatuteQuote)
    assert st.ref == Ref(LAW, 2, 0, paragraph, None)
    assert st.citation == f"《{LAW}》第二条第{'一二'[paragraph - 1]}款"
    assert [q.text[: len(quote)] for q in st.quotes] == [quote]


def test_an_article_asked_about_by_name_is_quoted_whole(composer, searcher):
    a = composer.ask("示例担保法第二条是怎么规定的？")
    (st,) = of(a.blocks, StatuteQuote)
    second = next(c for c in searcher.chunks if c.kind == "statute" and c.article == 2)
    assert st.ref == Ref(LAW, 2, 0, None, None) and st.citation == f"《{LAW}》第二条"
    assert [q.text for q in st.quotes] == [second.text] and len(second.paragraphs) == 2
    assert self_check(a, searcher) == []
    b = composer.ask("示例担保法第二条第三款是什么？")  # the article has two 款: quote it whole and say so
    assert [q.text for q in of(b.blocks, StatuteQuote)[0].quotes] == [second.text]
    assert [(n.kind, n.text) for n in of(b.blocks, Note)] == [("missing", "本条没有第三款，以上引用的是全条。")]
    assert "本条没有第三款" in b.text and self_check(b, searcher) == []


def test_an_item_is_quoted_with_the_words_that_introduce_it(composer):
    a = composer.ask("示例担保法第三条，借款用于赌博，保证人还要承担保证责任吗？")
    (st,) = of(a.blocks, StatuteQuote)
    # The article has one 款: its 项 follows the article, as the eval gold writes it.
    assert st.ref == Ref(LAW, 3, 0, None, 3)
    assert st.citation == f"《{LAW}》第三条第（三）项"
    assert [q.text for q in st.quotes] == ["有下列情形之一的，保证人不承担保证责任：", "（三）借款用于赌博。"]
    assert [c.item for c in a.citations] == [3, 3]


def test_a_misquoted_statute_carries_the_note(composer, searcher):
    a = composer.ask("示例担保法第一条是怎么规定的？")
    (finding,) = searcher.data.report["mismatches"]
    expected = misquote_note("担保须知", QuoteCheck.from_dict(finding["check"]))
    assert "漏掉了「,当债务人不履行到期债务时,保证人履行债务」" in expected
    st, note = of(a.blocks, StatuteQuote)[0], of(a.blocks, Note)[0]
    assert (note.kind, note.text, note.about) == ("misquote", expected, st.quotes[0].source_id)
    assert a.blocks.index(note) == a.blocks.index(st) + 1
    assert a.citations[0].notes == (expected,)
    assert f"  - 注意：{escape_markdown(expected)}" in a.markdown.splitlines()


def test_a_paragraph_that_lists_items_is_quoted_whole_when_no_item_is_chosen(searcher):
    chunk = searcher.article(LAW, 3, 0)
    (para,) = chunk.paragraphs
    # Its opening alone, 「有下列情形之一的，保证人不承担保证责任：」, would say nothing.
    assert [sp.text for sp in quote_spans(chunk, para, None)] == [para.text]
    item = [s for _, s in chunk.items][2]
    assert [sp.text for sp in quote_spans(chunk, para, item)] == ["有下列情形之一的，保证人不承担保证责任：", "（三）借款用于赌博。"]


def test_a_quote_over_several_lines_stays_inside_its_markdown_list_item(composer):
    a = composer.ask("示例担保法第三条是怎么规定的？")
    (c,) = a.citations
    assert "\n" in c.quote and "（三）借款用于赌博。" in c.quote
    start = a.markdown.index("- 《")
    item = a.markdown[start: a.markdown.index(f"」[{c.n}]", start)].splitlines()
    assert len(item) > 1 and all(line.startswith("  ") for line in item[1:] if line)


def test_sources_group_the_quotes_of_one_citation(composer):
    a = composer.ask("示例担保法第三条，借款用于赌博，保证人还要承担保证责任吗？")
    (sources,) = of(a.blocks, SourceList)
    assert [(e.markers, e.citation) for e in sources.entries] == [((1, 2), f"《{LAW}》第三条第（三）项")]
    assert f"[1][2] 《{LAW}》第三条第（三）项" in a.text.splitlines()


# ---- the pure decision functions --------------------------------------------------------------------


def test_abstains_unless_named_or_the_evidence_reaches_the_bound():
    cfg = AnswerConfig(min_evidence=0.8, rule_bonus=0.05)
    assert abstains({"named": 0, "top_dense": 0.79, "rules": 0}, cfg)
    assert not abstains({"named": 0, "top_dense": 0.80, "rules": 0}, cfg)
    assert not abstains({"named": 0, "top_dense": 0.75, "rules": 1}, cfg)  # a fired rule is evidence too
    assert abstains({"named": 0, "top_dense": 0.69, "rules": 5}, cfg)  # … counted at most twice
    assert not abstains({"named": 1, "top_dense": 0.0, "rules": 0}, cfg)


def prose(text: str, start: int = 100) -> Chunk:
    return Chunk("p", "article", "t", text, "s.md", start, start + len(text), heading_path=("一",))


def test_pick_lead_takes_the_best_sentences_in_reading_order_and_skips_quoted_spans():
    c = prose("甲乙丙丁戊己。担保人要承担保证责任。今天天气很好。保证合同要看清楚。")
    weights = {"担保人": 3.0, "保证责任": 4.0, "保证合同": 4.0}
    spans = pick_lead(c, weights, 2)
    assert [c.text[s:e] for s, e in spans] == ["担保人要承担保证责任。", "保证合同要看清楚。"]
    quoted = (c.start + 7, c.start + 12)  # source offsets inside the second sentence
    assert [c.text[s:e] for s, e in pick_lead(c, weights, 2, [quoted])] == ["保证合同要看清楚。"]
    assert [c.text[s:e] for s, e in pick_lead(c, {"无关": 2.0}, 2)] == ["甲乙丙丁戊己。"]  # nothing matches: the first


def test_choose_quotes_chooses_the_paragraph_and_the_item(searcher):
    model = ParagraphModel.load()
    art2, art3, art4 = (searcher.article(LAW, n, 0) for n in (2, 3, 4))

    def pick(chunk, question):
        choice = choose_quotes(chunk, asked_terms(question), model)
        return choice.paragraph, choice.item

    para, item = pick(art2, "连带责任保证的债务人不还钱")
    assert (para.index, item) == (2, None)
    para, item = pick(art2, "合同没有约定保证方式")
    assert (para.index, item) == (1, None)
    para, item = pick(art3, "借款用于赌博")
    assert (para.index, item.index, item.text) == (1, 3, "（三）借款用于赌博。")
    assert pick(art3, "无关") == (None, None)  # one 款 and no 项 touched: the article is cited whole
    assert pick(art4, "催收") == (None, None)  # one 款: the article is cited whole


def test_an_article_is_quoted_the_same_whether_chosen_or_quoted_as_a_side(searcher):
    model = ParagraphModel.load()
    art2, art3 = (searcher.article(LAW, n, 0) for n in (2, 3))
    for chunk, question in ((art3, "无关"), (art3, "借款用于赌博"), (art2, "连带责任保证的债务人不还钱")):
        asked = asked_terms(question)
        chosen = choose_quotes(chunk, asked, model)
        assert chosen == statute_choice(chunk, chosen.paragraph or chunk.paragraphs[0], asked, model)
    # One 款 and no 项 chosen: the article is cited and quoted whole, with no 款 in its key.
    whole = choose_quotes(art3, asked_terms("无关"), model)
    assert (whole.paragraph, whole.item, whole.cited_paragraph) == (None, None, None)
    assert [q.text for q in whole.quotes] == [art3.text]


def test_coverage_is_the_share_of_question_words_in_the_best_passages():
    hits = [Hit(prose("借款要签书面合同。"), 1, 1.0), Hit(prose("催收是违法的。"), 2, 0.5)]
    query = "催收 借款 商标"
    assert tokenize(query) == ["催收", "借款", "商标"]
    assert coverage(query, hits) == pytest.approx(4 / 6)  # 催收 and 借款 occur, 商标 does not
    assert coverage(query, hits, top=1) == pytest.approx(2 / 6)  # only the best passage counts
    assert coverage("商标", hits) == 0.0 and coverage("的", hits) == 0.0  # no word, or only stop words


# ---- rendering ----------------------------------------------------------------------------------------


def test_one_answer_in_four_formats_quotes_the_source_at_its_offsets(composer, searcher):
    a = composer.ask(GUARANTEE)
    assert of(a.blocks, Lead) and of(a.blocks, StatuteQuote) and self_check(a, searcher) == []
    sources = searcher.data.sources
    for c in a.citations:
        assert sources[c.source][c.start : c.end] == c.quote
        assert f"「{escape_markdown(c.quote)}」[{c.n}]" in to_markdown(a.blocks)
        assert f"「{escape_text(c.quote)}」[{c.n}]" in to_text(a.blocks)
    marks = BeautifulSoup(to_html(a.blocks), "html.parser").find_all("mark")
    assert [m.get_text() for m in marks] == [c.quote for c in a.citations]
    quotes = [q for b in json.loads(to_json(a.blocks)) for q in b.get("quotes", ())]
    assert [q["n"] for q in quotes] == [c.n for c in a.citations]
    for q in quotes:
        assert sources[q["source"]][q["start"] : q["end"]] == q["text"]
    data = json.loads(a.to_json())
    assert (data["markdown"], data["text"]) == (a.markdown, a.text)
    assert [c["ref"] for c in data["citations"] if c["kind"] == "statute"] == [
        {"law": LAW, "article": 2, "suffix": 0, "paragraph": 1, "item": None}  # the form is not stated: the default
    ]


def test_markdown_shows_uploaded_markup_as_text(hostile):
    from markdown_it import MarkdownIt

    a = hostile.ask("担保人要承担保证责任吗？")
    (lead,) = of(a.blocks, Lead)
    assert IMG in lead.quotes[0].text and LINK in lead.quotes[0].text and IMG in lead.citation
    md = MarkdownIt("commonmark")
    md.validateLink = lambda url: True  # a permissive renderer: any link it parses, it would emit
    live = {"html_inline", "html_block", "link_open", "image"}

    def kinds(text: str) -> set[str]:
        return {t.type for tok in md.parse(text) for t in [tok, *(tok.children or [])]}

    assert live & kinds(lead.quotes[0].text), "the raw quote is live markup (else this test proves nothing)"
    assert not live & kinds(a.markdown)
    rendered = md.render(a.markdown)
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered and "[a](javascript:alert(1))" in rendered


def test_markdown_for_streamlit_also_escapes_its_colon_syntax():
    """The answer's Markdown keeps 10:30 and 1.5 readable; the page's (every_punctuation) escapes
    every ASCII punctuation mark, since in Streamlit a colon starts directives, icons and emoji."""
    text = "10:30 付 1.5 万 :small :material/delete: **b**\x1b"
    assert escape_markdown(text) == r"10:30 付 1.5 万 :small :material/delete: \*\*b\*\*␛"
    assert escape_markdown(text, every_punctuation=True) == (
        r"10\:30 付 1\.5 万 \:small \:material\/delete\: \*\*b\*\*␛"
    )


def test_html_shows_uploaded_markup_as_text(hostile):
    a = hostile.ask("担保人要承担保证责任吗？")
    out = to_html(a.blocks, mark_style="color:red")
    tags = BeautifulSoup(out, "html.parser").find_all(True)
    assert {t.name for t in tags} <= {"div", "p", "strong", "em", "ul", "li", "mark", "sup", "br"}
    assert all(set(t.attrs) <= {"class", "style", "title"} for t in tags)
    assert "<img" not in out and "&lt;img src=x onerror=alert(1)&gt;" in out
    marks = BeautifulSoup(out, "html.parser").find_all("mark")
    # Each quote verbatim, its line breaks (a 款 quoted with its 项) as <br>.
    assert [m.get_text() for m in marks] == [c.quote.replace("\n", "") for c in a.citations]
    assert [len(m.find_all("br")) for m in marks] == [c.quote.count("\n") for c in a.citations]


def test_json_keeps_the_exact_text_and_cannot_open_a_tag(hostile):
    a = hostile.ask("担保人要承担保证责任吗？")
    raw = a.to_json()
    assert "<" not in raw and ">" not in raw
    data = json.loads(raw)
    assert [c["quote"] for c in data["citations"]] == [c.quote for c in a.citations]
    assert any(IMG in c["quote"] for c in data["citations"]) and "<" not in to_json(a.blocks)


def test_plain_text_shows_markup_literally_and_control_characters_as_symbols(hostile):
    a = hostile.ask("担保人要承担保证责任吗？")
    c = next(c for c in a.citations if IMG in c.quote)
    assert ESC in c.quote and ESC not in a.text and "\x1b" not in a.markdown
    assert f"「{c.quote.replace(ESC, '␛[2J')}」[{c.n}]" in a.text


def test_an_abstention_over_a_library_names_a_few_laws_and_how_many():
    laws = tuple(f"中华人民共和国示例{i}法" for i in range(30))
    text = to_text([Abstention("weak", laws, ("担保须知",))])
    assert "《中华人民共和国示例7法》等 30 部法律法规" in text and "示例8法" not in text
    assert "中国现行法律法规" in text and len(text) < 600
    few = to_text([Abstention("weak", laws[:2], ())])
    assert "《中华人民共和国示例0法》、《中华人民共和国示例1法》。" in few and "网贷逾期" in few
