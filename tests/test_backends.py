"""The retrieval backends (index/backends/): faiss and Qdrant's embedded store rank alike, filter
inside the backend, and `legalqa ingest` writes the engine incrementally, idempotently and
convergently after a crash. FakeEmbedder keeps every ranking exact and needs no model.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from legalqa.index.backends import qdrant as qd
from legalqa.index.backends.base import Request
from legalqa.index.backends.faiss import FaissBackend
from legalqa.index.backends.qdrant import EngineError, QdrantBackend, QdrantStore, point_id
from legalqa.index.config import BackendConfig, BackendConfigError, SearchConfig
from legalqa.index.embedder import FakeEmbedder
from legalqa.index.search import Filters, Searcher
from legalqa.index.store import IndexMismatchError, build_index, load_index
from legalqa.ingest.models import Chunk
from legalqa.ingest.pipeline import ingest

from legalqa.config import load_settings
from legalqa.engine import Engine
from tests.conftest import CORPUS, REPO

# A hand-made library: two laws, one prose article, one repealed regulation.
TEXTS = [
    ("民法典", "statute", "", "保证人和债权人可以约定保证的方式，保证方式为一般保证或者连带责任保证。"),
    ("民法典", "statute", "", "连带责任保证的债务人不履行到期债务时，债权人可以请求保证人在其保证范围内承担保证责任。"),
    ("民法典", "statute", "", "夫妻双方共同签名或者夫妻一方事后追认等共同意思表示所负的债务，属于夫妻共同债务。"),
    ("民法典", "statute", "", "借款人应当按照约定的期限返还借款。"),
    ("征信业管理条例", "statute", "", "信息主体认为征信机构采集、保存、提供的信息存在错误、遗漏的，有权提出异议。"),
    ("征信业管理条例", "statute", "废止", "征信机构应当按照规定保存个人不良信息，保存期限自不良行为终止之日起为5年。"),
    ("网贷逾期怎么办", "article", "", "网贷逾期以后，平台催收时借款人可以先核对债务，再协商还款计划，担保人承担连带责任。"),
    ("网贷逾期怎么办", "article", "", "夫妻一方借的网贷，另一方是否承担还款责任，要看借款是否用于家庭共同生活。"),
]
QUERIES = ["连带责任保证 保证人", "夫妻共同债务 网贷", "征信 信息错误 异议", "借款 返还", "网贷逾期 催收 担保"]


def fixture_chunks(texts=TEXTS) -> tuple[list[Chunk], dict[str, str]]:
    chunks, sources = [], {}
    for i, (law, kind, status, text) in enumerate(texts):
        source = f"{law}.md"
        start = len(sources.get(source, ""))
        sources[source] = sources.get(source, "") + text
        statute = kind == "statute"
        chunks.append(Chunk(
            id=hashlib.sha256(f"{law}|{i}|{text}".encode()).hexdigest()[:20], kind=kind, title=law, text=text,
            source=source, start=start, end=start + len(text), law=law if statute else None,
            article=i + 1 if statute else None, label=f"第{i + 1}条" if statute else None,
            citation=f"《{law}》第{i + 1}条" if statute else None, status=status,
        ))
    return chunks, sources


def request(vector, text, filters: Filters | None = None, candidates=50) -> Request:
    return Request(vector, text, filters or Filters(), candidates, rrf_k=10)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The fixture library built twice: faiss files, and the embedded Qdrant store."""
    tmp = tmp_path_factory.mktemp("pair")
    chunks, sources = fixture_chunks()
    emb = FakeEmbedder()
    build_index(tmp / "faiss", chunks, sources, emb)
    store = QdrantStore(":memory:")
    build_index(tmp / "qdrant", chunks, sources, emb, engine=store)
    faiss_data, qdrant_data = load_index(tmp / "faiss"), load_index(tmp / "qdrant")
    yield emb, FaissBackend(faiss_data), QdrantBackend(store, qdrant_data.chunks), faiss_data, qdrant_data
    store.close()


def assert_same_ranking(a, b):
    assert [r for r, _ in a] == [r for r, _ in b]
    for (_, x), (_, y) in zip(a, b, strict=True):
        assert math.isclose(x, y, rel_tol=1e-5, abs_tol=1e-6)


@pytest.mark.parametrize("query", QUERIES)
def test_both_backends_give_the_same_rankings_and_scores(pair, query):
    emb, faiss, qdrant, _, _ = pair
    req = request(emb.embed_query(query), query)
    got_f, got_q = faiss.retrieve(req), qdrant.retrieve(req)
    assert got_f.dense and got_f.sparse
    assert_same_ranking(got_f.dense, got_q.dense)
    assert_same_ranking(got_f.sparse, got_q.sparse)  # Qdrant's sparse vectors + IDF are bm25s's BM25
    # The engine fused (RRF k + 1 in its formula): the same order and scores as our own fusion.
    from legalqa.index.fusion import reciprocal_rank_fusion

    ours = reciprocal_rank_fusion({"d": [r for r, _ in got_f.dense], "s": [r for r, _ in got_f.sparse]}, k=10)
    assert got_q.fused is not None
    assert_same_ranking(sorted(ours.items(), key=lambda p: (-p[1], p[0])), got_q.fused)
    rows = [r for r, _ in got_f.dense]
    for want, got in zip(faiss.scores(req, rows), qdrant.scores(req, rows), strict=True):
        assert set(want) == set(got) and all(math.isclose(want[r], got[r], rel_tol=1e-5, abs_tol=1e-6) for r in want)


def test_unequal_weights_are_fused_by_the_searcher(pair):
    emb, _, qdrant, _, _ = pair
    req = replace(request(emb.embed_query("借款"), "借款"), dense_weight=2.0)
    assert qdrant.retrieve(req).fused is None


def test_searcher_hits_are_identical_on_both_backends(pair):
    emb, faiss, qdrant, faiss_data, qdrant_data = pair
    for fusion in (True, False):
        qdrant.engine_fusion = fusion
        a = Searcher(faiss_data, emb, SearchConfig(rrf_k=10), backend=faiss)
        b = Searcher(qdrant_data, emb, SearchConfig(rrf_k=10), backend=qdrant)
        for q in QUERIES + ["民法典第2条连带责任"]:
            ha, hb = a.run(q, k=8), b.run(q, k=8)
            assert [h.to_dict() | {"scores": None} for h in ha.hits] == [h.to_dict() | {"scores": None} for h in hb.hits]
            for x, y in zip(ha.hits + ha.more, hb.hits + hb.more, strict=True):
                assert (x.dense_rank, x.bm25_rank, x.exact) == (y.dense_rank, y.bm25_rank, y.exact)
                for f in ("score", "dense_score", "bm25_score"):
                    assert math.isclose(getattr(x, f), getattr(y, f), rel_tol=1e-5, abs_tol=1e-6), (q, f)
    qdrant.engine_fusion = True


def test_filters_run_inside_the_engine(pair, monkeypatch):
    emb, faiss, qdrant, _, _ = pair
    client = qdrant.store.client
    sent = []
    real = client.query_batch_points
    monkeypatch.setattr(client, "query_batch_points", lambda name, searches: sent.append(searches) or real(name, searches))
    flt = Filters(laws=("征信业管理条例",), statuses=("",))
    # One candidate per retriever: a post-filter would see only the unfiltered best passage (民法典).
    req = request(emb.embed_query("保证人 连带责任"), "保证人 连带责任 信息", flt, candidates=1)
    got = qdrant.retrieve(req)
    assert [r for r, _ in got.dense] == [4] and [r for r, _ in got.sparse] == [4]
    assert_same_ranking(faiss.retrieve(req).dense, got.dense)
    for search in sent[0]:
        conditions = {c.key: c.match.any for c in search.filter.must}
        assert conditions == {"law": ["征信业管理条例"], "status": [""]}
        for pre in search.prefetch or []:
            assert pre.filter == search.filter


def test_filter_by_kind_and_collection(pair):
    emb, faiss, qdrant, _, _ = pair
    for flt in (Filters(kinds=("article",)), Filters(collections=("user",)), Filters(statuses=("废止",))):
        req = request(emb.embed_query("网贷 借款"), "网贷 借款 征信", flt)
        got, want = qdrant.retrieve(req), faiss.retrieve(req)
        assert_same_ranking(want.dense, got.dense)
        assert_same_ranking(want.sparse, got.sparse)
    assert {r for r, _ in qdrant.retrieve(request(emb.embed_query("网贷"), "网贷", Filters(kinds=("article",)))).dense} == {6, 7}
    assert qdrant.retrieve(request(emb.embed_query("网贷"), "网贷", Filters(collections=("user",)))).dense == ()


# --- writing the engine: incremental, idempotent, convergent ---------------------------------


def count(store: QdrantStore) -> int:
    return store.client.count(store.collection, exact=True).count


def test_reingest_is_idempotent_and_incremental(tmp_path):
    chunks, sources = fixture_chunks()
    emb = FakeEmbedder()
    store = QdrantStore(str(tmp_path / "q"))
    first = build_index(tmp_path / "i", chunks, sources, emb, engine=store)["backend"]
    assert (first["upserted"], first["deleted"], first["kept"]) == (8, 0, 0)
    again = build_index(tmp_path / "i", chunks, sources, emb, engine=store)["backend"]
    assert (again["upserted"], again["deleted"], again["kept"]) == (0, 0, 8) and count(store) == 8
    # One passage changed (a new content hash), one gone, one added: only those are written.
    texts = list(TEXTS)
    texts[3] = ("民法典", "statute", "", "借款人应当按照约定的期限和数额返还借款。")
    texts.append(("民法典", "statute", "", "自然人之间的借款合同，自贷款人提供借款时成立。"))
    del texts[6]
    changed, sources2 = fixture_chunks(texts)
    out = build_index(tmp_path / "i", changed, sources2, emb, engine=store)["backend"]
    new_ids = {point_id(c.id) for c in changed}
    assert set(store.stored()) == new_ids and count(store) == len(changed) == 8
    assert out["deleted"] == len({point_id(c.id) for c in chunks} - new_ids) == 3
    assert out["upserted"] == 3 and out["kept"] == 5
    store.check(load_index(tmp_path / "i").manifest)  # the folder and the engine agree
    store.close()


def fake_settings(tmp_path: Path, name: str = "qdrant"):
    home = tmp_path / "home"
    return load_settings(env={}).with_(home=home, index_dir=home / "index", model="fake", backend=BackendConfig(name))


def test_a_crash_halfway_leaves_the_old_index_and_a_rerun_converges(tmp_path, monkeypatch):
    s = fake_settings(tmp_path)
    corpus = [str(CORPUS / "statutes" / "征信业管理条例.md")]
    engine = Engine(s)
    first = engine.build(corpus)[0]["backend"]
    before = [h.chunk.id for h in engine.hits("征信 异议", 5)]
    # A bigger library, written in batches of 8; the third batch fails.
    monkeypatch.setattr(qd, "BATCH", 8)
    client = engine.store.client
    real, calls = client.upsert, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("simulated crash")
        return real(*args, **kwargs)

    monkeypatch.setattr(client, "upsert", failing)
    bigger = corpus + [str(CORPUS / "statutes" / "中华人民共和国个人信息保护法.md")]
    with pytest.raises(RuntimeError, match="simulated crash"):
        engine.build(bigger)
    # The folder is the old one, and the engine says it no longer matches it.
    assert load_index(s.index_dir).manifest["chunks"] == 47
    engine.reload()
    with pytest.raises(EngineError, match="不一致"):
        engine.hits("征信 异议", 5)
    monkeypatch.setattr(client, "upsert", real)
    manifest, _ = engine.build(bigger)
    # The bigger library's mean length is within AVGDL_DRIFT of the first one's, so the first 47 points
    # stay as they were, and so do the two batches that landed before the crash.
    assert manifest["backend"]["avgdl"] == first["avgdl"]
    assert manifest["backend"]["upserted"] == manifest["chunks"] - 47 - 16
    chunks = load_index(s.index_dir).chunks
    assert set(engine.store.stored()) == {point_id(c.id) for c in chunks} and count(engine.store) == len(chunks)
    engine.close()
    # Converged: the same hits as a faiss index of the same library.
    faiss = Engine(fake_settings(tmp_path / "f", "faiss"))
    faiss.build(bigger)
    again = Engine(s)
    for q in ("征信 异议", "个人信息 处理者 同意", "删除个人信息"):
        assert [h.chunk.id for h in again.hits(q, 5)] == [h.chunk.id for h in faiss.hits(q, 5)]
    assert [h.chunk.id for h in again.hits("征信 异议", 5, {"law": "征信业管理条例"})] == before
    again.close()


KILLER = """
import os, sys
from legalqa.config import load_settings
from legalqa.engine import Engine
from legalqa.index.backends import qdrant as qd
from legalqa.index.config import BackendConfig
from pathlib import Path
home = Path(sys.argv[1])
s = load_settings(env={}).with_(home=home, index_dir=home / "index", model="fake", backend=BackendConfig("qdrant"))
engine = Engine(s)
qd.BATCH = 16
real, n = engine.store.client.upsert, []
def upsert(*a, **k):
    n.append(1)
    if len(n) == 4:
        os._exit(9)  # killed: no cleanup, no exception handlers, the store's lock dies with the process
    return real(*a, **k)
engine.store.client.upsert = upsert
engine.build([sys.argv[2]])
"""


def test_a_killed_ingest_converges_on_rerun(tmp_path):
    s = fake_settings(tmp_path)
    killed = subprocess.run([sys.executable, "-c", KILLER, str(s.home), str(CORPUS)], capture_output=True, text=True,
                            cwd=REPO)
    assert killed.returncode == 9, killed.stderr
    assert not (s.index_dir / "manifest.json").exists()
    store = QdrantStore(s.engine_location)
    assert count(store) == 48 and store.metadata()["corpus"] is None  # three batches landed, unfinished
    store.close()
    engine = Engine(s)
    manifest, _ = engine.build([CORPUS])
    assert manifest["backend"]["kept"] == 48 and manifest["backend"]["upserted"] == manifest["chunks"] - 48
    ids = list(engine.store.stored())
    assert len(ids) == len(set(ids)) == manifest["chunks"] == count(engine.store)
    assert engine.hits("民法典第681条", 1)[0].exact
    engine.close()


# --- settings and mismatches ------------------------------------------------------------------


def test_engine_settings_and_their_errors(tmp_path):
    s = load_settings(env={})
    assert s.backend == BackendConfig() and s.backend.name == "faiss"
    assert s.engine_location == str(s.index_dir.with_name("index.qdrant"))
    s = load_settings(env={"LEGALQA_BACKEND": "qdrant", "LEGALQA_QDRANT_URL": "https://q.example:6333"})
    assert (s.backend.name, s.engine_location) == ("qdrant", "https://q.example:6333")
    with pytest.raises(ValueError, match="LEGALQA_BACKEND 只能是 faiss、qdrant，现在是 'milvus'"):
        load_settings(env={"LEGALQA_BACKEND": "milvus"})
    with pytest.raises(ValueError, match="LEGALQA_QDRANT_URL 应是 http:// 或 https:// 开头"):
        load_settings(env={"LEGALQA_QDRANT_URL": "localhost:6333"})
    base = (REPO / "legalqa" / "defaults.toml").read_text(encoding="utf-8")
    for old, new, message in (
        ('backend = "faiss"', 'backend = "elastic"', r"\[index\] backend 只能是 faiss、qdrant"),
        ('fusion = "engine"', 'fusion = "server"', r"\[index\] fusion 只能是 engine、local"),
        ('collection = "legalqa"', 'collection = ""', r"\[index\] collection 应是不含 / 的名字"),
        ('uri = ""', 'uri = "qdrant:6333"', r"\[index\] uri 应是 http:// 或 https:// 开头"),
        ('path = ""', "path = 3", r"\[index\] path 应是文件夹路径（文字），现在是 3$"),
    ):
        path = tmp_path / "s.toml"
        path.write_text(base.replace(old, new), encoding="utf-8")
        with pytest.raises(ValueError, match=f"^配置文件 {re.escape(str(path))} 的 {message}"):
            load_settings(path, env={})


@pytest.mark.parametrize(("args", "message"), [
    ({"name": "milvus"}, "[index] backend 只能是 faiss、qdrant，现在是 'milvus'"),
    ({"fusion": "server"}, "[index] fusion 只能是 engine、local，现在是 'server'"),
    ({"uri": "localhost:6333"}, "[index] uri 应是 http:// 或 https:// 开头的地址，例如 http://localhost:6333，现在是 'localhost:6333'"),
    ({"collection": "a/b"}, "[index] collection 应是不含 / 的名字，现在是 'a/b'"),
    ({"path": None}, "[index] path 应是文件夹路径（文字），现在是 None"),
])
def test_a_backend_config_built_in_python_is_checked_like_the_settings_file(args, message):
    """Python callers (bench.py, Settings.with_) get the same check as [index], at construction."""
    with pytest.raises(BackendConfigError) as caught:
        BackendConfig(**args)
    assert str(caught.value) == message
    with pytest.raises(BackendConfigError):
        replace(BackendConfig(), **args)


def test_an_index_built_for_one_backend_is_refused_by_the_other(tmp_path):
    s = fake_settings(tmp_path, "faiss")
    Engine(s).build([CORPUS / "statutes" / "征信业管理条例.md"])
    engine = Engine(s.with_(backend=BackendConfig("qdrant")))
    with pytest.raises(IndexMismatchError, match="索引是为 faiss 建立的.*legalqa ingest"):
        engine.search("征信")
    engine.close()


def test_an_unreachable_server_is_named_with_the_fix(monkeypatch):
    from qdrant_client.qdrant_remote import QdrantRemote

    # The client's version check runs in a thread and would warn during some later test.
    monkeypatch.setattr(QdrantRemote, "_check_compatibility", staticmethod(lambda *args: None))
    store = QdrantStore("http://127.0.0.1:9", "legalqa")
    with pytest.raises(EngineError, match=r"http://127.0.0.1:9.*LEGALQA_QDRANT_API_KEY"):
        store.metadata()


def test_the_default_corpus_ranks_alike_on_both_backends(tmp_path):
    """The eval questions: the same hits from faiss and from Qdrant fusing locally.

    Exact but for ties: FakeEmbedder gives many passages the same cosine, and the two engines'
    float32 arithmetic may order a tied pair differently (a dense rank one apart).
    """
    corpus = ingest([CORPUS])
    emb = FakeEmbedder()
    build_index(tmp_path / "f", corpus.chunks, corpus.sources, emb)
    store = QdrantStore(":memory:")
    build_index(tmp_path / "q", corpus.chunks, corpus.sources, emb, engine=store)
    cfg = load_settings(env={}).search
    a = Searcher(load_index(tmp_path / "f"), emb, cfg)
    data = load_index(tmp_path / "q")
    b = Searcher(data, emb, cfg, backend=QdrantBackend(store, data.chunks, engine_fusion=False))
    questions = [json.loads(line)["question"] for line in (REPO / "eval" / "questions.jsonl").open(encoding="utf-8")]
    same = 0
    for q in questions[::2]:
        ha, hb = a.search(q, 10), b.search(q, 10)
        same += [(h.chunk.id, h.dense_rank, h.bm25_rank) for h in ha] == [(h.chunk.id, h.dense_rank, h.bm25_rank) for h in hb]
        assert [h.chunk.id for h in ha[:3]] == [h.chunk.id for h in hb[:3]], q
        for x, y in zip(ha, hb, strict=True):
            if x.chunk.id == y.chunk.id:
                assert math.isclose(x.bm25_score, y.bm25_score, rel_tol=1e-5, abs_tol=1e-6)
                assert math.isclose(x.dense_score, y.dense_score, rel_tol=1e-5, abs_tol=1e-6)
    assert same >= 0.95 * len(questions[::2]), f"{same} of {len(questions[::2])} identical"
    store.close()


def test_engines_of_one_process_share_the_embedded_store_and_another_process_is_told_why_not(tmp_path):
    s = fake_settings(tmp_path)
    page = Engine(s)
    page.build([CORPUS / "statutes" / "征信业管理条例.md"])
    assert page.hits("个人信息 处理者", 1)[0].chunk.law == "征信业管理条例"
    # Another Engine of the same process (an upload's rebuild) writes through the same client ...
    Engine(s).build([CORPUS / "statutes" / "征信业管理条例.md", CORPUS / "statutes" / "中华人民共和国个人信息保护法.md"])
    # ... and the first one follows the rebuild.
    assert page.hits("个人信息 处理者", 1)[0].chunk.law == "中华人民共和国个人信息保护法"
    other = subprocess.run(
        [sys.executable, "-m", "legalqa.cli", "search", "--index", str(s.index_dir), "--model", "fake", "征信"],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "LEGALQA_BACKEND": "qdrant"})
    assert other.returncode == 2 and "同一时间只能由一个进程使用" in other.stderr, other.stderr
    page.close()


def test_the_faces_work_unchanged_on_the_engine_backend(tmp_path):
    """ask, verify, HTTP and LangChain through an Engine on Qdrant answer as they do on faiss."""
    from fastapi.testclient import TestClient

    from legalqa.http import create_app
    from legalqa.langchain import LegalQARetriever

    engines = {}
    for name in ("faiss", "qdrant"):
        engines[name] = Engine(fake_settings(tmp_path / name, name))
        engines[name].build([CORPUS])
    out = {}
    for name, engine in engines.items():
        client = TestClient(create_app(engine), base_url="http://localhost")
        searched = client.post("/search", json={"query": "保证人 连带责任", "k": 5, "filters": {"kind": "statute"}})
        asked = client.post("/ask", json={"question": "我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？"})
        assert searched.status_code == asked.status_code == 200
        docs = LegalQARetriever(engine=engine, k=4).invoke("替朋友还了网贷能要回来吗")
        out[name] = ([h["citation"] for h in searched.json()["hits"]], asked.json()["text"], [d.id for d in docs],
                     engine.verify("《民法典》第六百八十一条 保证合同是为保障债权的实现").to_dict(),
                     engine.ask("离婚后还要还对方借的网贷吗").text)
    assert out["faiss"] == out["qdrant"]
    engines["qdrant"].close()


def test_the_rerankers_candidates_are_identical_on_both_backends(pair):
    """The re-ranker's pool reads both retrievers and fills missing scores (Backend.scores) on either engine."""
    import numpy as np
    from legalqa.index.keys import ResolvedKeys
    from legalqa.index.rerank import FEATURES, Reranker

    class ByCosine:
        def predict(self, features, num_threads=1):
            return features[:, FEATURES.index("cos")] + features[:, FEATURES.index("kmax")]

    emb, faiss, qdrant, faiss_data, qdrant_data = pair
    keys = ResolvedKeys(emb.embed_queries(QUERIES[:2]), ((0,), (1, 2)))
    searchers = []
    for data, backend in ((faiss_data, faiss), (qdrant_data, qdrant)):
        s = Searcher(data, emb, SearchConfig(rrf_k=10, keys_scope="all", keys_neighbors=10, rerank=True), backend=backend)
        s._keys, s._reranker = keys, Reranker(ByCosine(), {})
        searchers.append(s)
    a, b = searchers
    for q in QUERIES:
        pa, pb = a.candidates(q), b.candidates(q)
        assert pa.rows == pb.rows and np.allclose(pa.features, pb.features, atol=1e-5)
        ha, hb = a.search(q, 5), b.search(q, 5)
        assert [h.chunk.id for h in ha] == [h.chunk.id for h in hb]
        assert all(h.rerank_score is not None for h in ha)
