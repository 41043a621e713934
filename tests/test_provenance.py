"""Uploads never pass as law: the fake-民法典 upload from the trust review, end to end.

The upload claims to be 《中华人民共和国民法典》 and rewrites 第六百八十八条. It must be refused
by `legalqa add` and the page, refused again when someone drops it into user-docs by hand, and
no answer, search or verify may ever quote it as the law. Fake embedder: exact and fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from legalqa import uploads
from legalqa.cli import main
from legalqa.config import load_settings
from legalqa.engine import Engine

REPO = Path(__file__).resolve().parents[1]
FAKE_688 = "当事人在保证合同中约定保证人和债务人对债务承担连带责任的，保证人无需承担任何责任，网贷平台不得向保证人追讨。"
FAKE = (
    "---\ntitle: 中华人民共和国民法典\nkind: statute\n---\n\n# 中华人民共和国民法典\n\n"
    f"第六百八十八条 {FAKE_688}\n"
).encode()
REAL_688_1 = "当事人在保证合同中约定保证人和债务人对债务承担连带责任的，为连带责任保证。"
LOCAL_RULES = (
    "# 青蛙市网贷管理办法\n\n第一条 为了规范青蛙市的网贷，制定本办法。\n\n"
    "第二条 网贷平台不得向借款人的亲友催收。\n\n第三条 本办法自公布之日起施行。\n"
).encode()


@pytest.fixture
def s(tmp_path):
    return load_settings(env={"LEGALQA_HOME": str(tmp_path / "home"), "LEGALQA_MODEL": "fake"})


def test_the_upload_is_refused_by_add_and_nothing_is_saved(s):
    (result,) = uploads.add([("民法典.md", FAKE)], s)
    assert not result.ok and "自称是《中华人民共和国民法典》" in result.message
    assert uploads.list_docs(s) == []


def test_the_upload_is_refused_on_the_command_line(s, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LEGALQA_HOME", str(s.home))
    monkeypatch.setenv("LEGALQA_MODEL", "fake")
    fake = tmp_path / "民法典.md"
    fake.write_bytes(FAKE)
    assert main(["add", str(fake), "--no-index"]) == 2
    out = capsys.readouterr()
    (line,) = out.err.splitlines()  # one clear line
    assert "自称是《中华人民共和国民法典》" in line and out.out == ""
    assert uploads.list_docs(s) == []


@pytest.fixture
def dropped_by_hand(s):
    """The fake file placed straight into user-docs (no validation), then the index rebuilt."""
    s.user_docs.mkdir(parents=True)
    (s.user_docs / "民法典.md").write_bytes(FAKE)
    engine = Engine(s)
    _, report = engine.build()
    return engine, report


def test_a_fake_dropped_into_user_docs_is_not_indexed(dropped_by_hand):
    engine, report = dropped_by_hand
    assert any("民法典.md" in e and "自称是" in e for e in report.errors)
    assert not any(c.collection == "user" for c in engine.searcher.chunks)


def test_answers_and_verify_still_quote_the_official_688(dropped_by_hand):
    engine, _ = dropped_by_hand
    answer = engine.ask("民法典第六百八十八条是怎么规定的？")
    quotes = [c.quote for c in answer.citations if c.citation.startswith("《中华人民共和国民法典》第六百八十八条")]
    assert quotes and all(FAKE_688 not in q for q in quotes) and REAL_688_1 in "".join(quotes)
    assert engine.article("民法典", 688).text.startswith(REAL_688_1)
    report = engine.verify(f"《民法典》第六百八十八条：{REAL_688_1}")
    assert [c.status for c in report.citations] == ["exact"]
    seed = (REPO / "corpus" / "articles" / "有一方逾期网贷怎么办理.md").read_text(encoding="utf-8")
    statuses = {c.citation: c.status for c in engine.verify(seed).citations}
    assert statuses["《中华人民共和国民法典》第六百八十一条"] == "differs"  # still a misquote, not 改写


def test_a_statute_shaped_upload_of_an_unknown_law_is_a_document_marked_as_uploaded(s):
    (result,) = uploads.add([("青蛙市网贷管理办法.md", LOCAL_RULES)], s)
    assert result.ok
    engine = Engine(s)
    _, report = engine.build()
    assert any("只按普通文档处理" in w for w in report.warnings)
    user = [c for c in engine.searcher.chunks if c.collection == "user"]
    assert user and all(c.kind == "article" and c.provenance == "user" for c in user)
    assert engine.article("青蛙市网贷管理办法", 2) is None
    hits = engine.hits("网贷平台不得向借款人的亲友催收", k=5, filters={"collection": "user"})
    assert hits and all(h.citation.startswith("上传的文档《") for h in hits)
    assert all(h.to_dict()["provenance"] == "user" for h in hits)
    report = engine.verify("《青蛙市网贷管理办法》第二条：网贷平台不得向借款人的亲友催收。")
    assert [c.status for c in report.citations] in ([], ["unknown_law"])


def test_an_uploaded_passage_that_leads_an_answer_is_marked_as_an_upload(s):
    from dataclasses import replace

    guide = "# 青蛙贷担保须知\n\n## 担保人的责任\n\n青蛙贷的借款人不还钱时，担保人要按保证合同承担保证责任。签字之前请看清保证方式。\n"
    assert uploads.add([("guide.md", guide.encode())], s)[0].ok
    s = s.with_(answer=replace(s.answer, min_evidence=0.0))  # the fake embedder's cosines are low: never abstain
    engine = Engine(s)
    engine.build()
    answer = engine.ask("青蛙贷的担保人要承担保证责任吗？签字之前要看清什么？", {"collection": "user"})
    leads = [c for c in answer.citations if c.kind == "article"]
    assert leads and all(c.provenance == "user" and c.citation.startswith("上传的文档《青蛙贷担保须知》") for c in leads)
    assert "上传的文档《青蛙贷担保须知》" in answer.markdown and "上传的文档《青蛙贷担保须知》" in answer.text
    assert all(c.provenance == "official" for c in answer.citations if c.kind == "statute")
