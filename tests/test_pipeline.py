"""Ingestion of the default corpus and of bad user files: exact, labelled, and never all-or-nothing."""

import time

import pytest
from legalqa.ingest.crosscheck import compare_quote
from legalqa.ingest.pipeline import chunk_id, ingest

from tests.conftest import CORPUS


@pytest.fixture(scope="module")
def default():
    return ingest([CORPUS])


def test_default_corpus_ingests_cleanly_and_fast(default):
    r = default.report
    assert r.errors == [] and r.files == 7
    assert r.articles == 215
    assert {c.kind for c in default.chunks} == {"statute", "article"}
    t0 = time.perf_counter()
    ingest([CORPUS])
    assert time.perf_counter() - t0 < 2.0  # the budget, without embedding


def test_every_chunk_is_an_exact_slice_of_its_source(default):
    for c in default.chunks:
        assert default.sources[c.source][c.start : c.end] == c.text, c.id
        for p in c.paragraphs:
            assert default.sources[c.source][p.start : p.end] == p.text


def test_statute_chunks_carry_labels_and_canonical_citations(default):
    by_cite = {c.citation: c for c in default.chunks if c.kind == "statute"}
    c = by_cite["《中华人民共和国民法典》第六百八十八条"]
    assert c.label == "第六百八十八条" and c.article == 688 and c.suffix == 0
    assert c.heading_path[-2:] == ("第十三章 保证合同", "第一节 一般规定")
    assert len(c.paragraphs) == 2
    assert "《中华人民共和国刑法》第二百八十条之一" in by_cite
    assert "《中华人民共和国民法典》第一千零六十四条" in by_cite


def test_statute_chunks_carry_their_items_through_the_index_format(default):
    from legalqa.ingest.models import Chunk

    by_cite = {c.citation: c for c in default.chunks if c.kind == "statute"}
    listing = [c for c in by_cite.values() if c.items]
    assert listing, "the default corpus has articles that list 项"
    for c in listing:
        for k, item in c.items:
            assert default.sources[c.source][item.start : item.end] == item.text
            para = c.paragraphs[k - 1]
            assert para.start <= item.start < item.end <= para.end
        assert Chunk.from_dict(c.to_dict()) == c  # what chunks.jsonl stores comes back whole
    numbers = {c.citation: [(k, s.index) for k, s in c.items] for c in listing}
    assert numbers["《中华人民共和国民法典》第六百八十七条"] == [(2, 1), (2, 2), (2, 3), (2, 4)]


def test_prose_chunks_keep_their_heading_path(default):
    paths = {c.heading_path for c in default.chunks if c.kind == "article"}
    assert ("先搞清楚:你是“谁”?", "如果你只是知情者或担保人") in paths
    assert ("逾期后该怎么办?三步走,稳住局面!", "第一步:核实债务真实性") in paths


def test_ids_are_stable_content_hashes(default):
    again = ingest([CORPUS])
    assert [c.id for c in again.chunks] == [c.id for c in default.chunks]
    assert chunk_id("a", "b") == chunk_id("a", "b") != chunk_id("a", "c")


def test_report_records_the_seed_misquote_of_article_681(default):
    found = {f.citation: f for f in default.report.mismatches}
    f681 = found["《中华人民共和国民法典》第六百八十一条"]
    assert f681.check.status == "differs"
    assert [(d.op, d.official) for d in f681.check.differences] == [("missing", "或者发生当事人约定的情形")]
    assert found["《中华人民共和国刑法》第二百八十条之一"].check.status == "paraphrase"
    exact = {f.citation for f in default.report.findings if f.check.status == "exact"}
    assert "《中华人民共和国民法典》第一千零六十四条" in exact
    assert "《征信业管理条例》第二十五条" in exact


def test_compare_quote_ignores_width_and_whitespace_only():
    official = ["保证合同是为保障债权的实现，保证人和债权人约定。"]
    assert compare_quote("保证合同是为保障债权的实现,保证人和债权人约定。", official).status == "exact"
    check = compare_quote("保证合同是为保障债权的实现，保证人与债权人约定。", official)
    assert check.status == "differs"
    assert [(d.op, d.official, d.quoted) for d in check.differences] == [("changed", "和", "与")]


def test_bad_files_are_reported_and_the_rest_still_ingests(tmp_path):
    (tmp_path / "good.md").write_text("# 须知\n\n借款要签书面合同。\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "binary.md").write_bytes(b"\x00\x01garbage")
    (tmp_path / "nolaw.md").write_text("---\ntitle: 某法\nkind: statute\n---\n没有条文。\n", encoding="utf-8")
    (tmp_path / "badmeta.md").write_text("---\ntitle: [unclosed\n---\n正文\n", encoding="utf-8")
    r = ingest([tmp_path, tmp_path / "missing.md"])
    assert r.report.files == 1 and len(r.chunks) == 1
    problems = "\n".join(r.report.errors)
    for name in ("empty.txt", "binary.md", "nolaw.md", "badmeta.md", "missing.md"):
        assert name in problems
    assert "没有找到任何“第X条”" in problems


def test_quote_after_a_reporting_verb_is_found():
    from legalqa.ingest.crosscheck import quoted_after

    text = "《民法典》第六百八十一条规定：“保证合同是为保障债权的实现。”其后的话。"
    words, start, end = quoted_after(text, text.index("规定"), len(text))
    assert words == "保证合同是为保障债权的实现。" and text[start:end] == words
