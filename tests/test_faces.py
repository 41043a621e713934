"""The same search through LangChain, HTTP and the CLI's JSON: thin faces over one Engine."""

import json

import pytest

pytestmark = pytest.mark.model


def test_langchain_retriever_inside_a_runnable_chain(real_engine):
    from langchain_core.runnables import RunnableLambda

    from legalqa.langchain import LegalQARetriever

    retriever = LegalQARetriever(engine=real_engine, k=4, filters={"kind": "statute"})
    chain = retriever | RunnableLambda(lambda docs: [d.metadata["citation"] for d in docs])
    cites = chain.invoke("民法典第七百条")
    assert cites[0] == "《中华人民共和国民法典》第七百条" and len(cites) == 4
    doc = retriever.invoke("担保人承担保证责任后能追偿吗")[0]
    assert doc.page_content and {"citation", "law", "article", "scores", "source"} <= doc.metadata.keys()


def test_langchain_embeddings_match_the_index_model(real_searcher):
    import numpy as np

    from legalqa.langchain import LegalQAEmbeddings

    emb = LegalQAEmbeddings(real_searcher.embedder)
    q = emb.embed_query("保证人")
    docs = emb.embed_documents(["保证合同", "夫妻共同债务"])
    assert len(q) == real_searcher.embedder.dim and len(docs) == 2
    assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-4)


def test_http_api(real_engine):
    from fastapi.testclient import TestClient

    from legalqa.http import create_app

    client = TestClient(create_app(real_engine), base_url="http://localhost")
    assert client.get("/health").json()["status"] == "ok"
    r = client.post("/search", json={"query": "替朋友还了网贷能要回来吗", "k": 5})
    assert r.status_code == 200
    assert "《中华人民共和国民法典》第七百条" in [h["citation"] for h in r.json()["hits"][:3]]
    r = client.post("/ask", json={"question": "怎么注册商标？"})
    assert r.status_code == 200 and r.json()["abstained"] is True
    r = client.post("/search", json={"query": "  ", "k": 5})
    assert r.status_code == 422 and "问题是空的" in r.json()["detail"]
    r = client.post("/verify", json={"text": "《民法典》第六百八十一条：保证合同是为保障债权的实现。"})
    assert r.json()["citations"][0]["status"] == "exact"


def test_http_missing_index_is_503(tmp_path, real_settings):
    from fastapi.testclient import TestClient

    from legalqa.engine import Engine
    from legalqa.http import create_app

    client = TestClient(create_app(Engine(real_settings.with_(index_dir=tmp_path / "none"))),
                        base_url="http://localhost")
    r = client.post("/search", json={"query": "借款", "k": 5})
    assert r.status_code == 503 and "legalqa ingest" in r.json()["detail"]
    r = client.get("/health")
    assert r.status_code == 503 and "legalqa ingest" in r.json()["detail"]


def test_http_missing_selector_model_is_503_with_the_fix(tmp_path, real_settings):
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from legalqa.engine import Engine
    from legalqa.http import create_app

    answer = replace(real_settings.answer, selector_model=str(tmp_path / "none.json"))
    client = TestClient(create_app(Engine(real_settings.with_(answer=answer))), base_url="http://localhost")
    r = client.post("/ask", json={"question": "借款逾期怎么办"})
    assert r.status_code == 503 and "train_selector.py" in r.json()["detail"]


def test_http_missing_paragraph_model_is_503_naming_the_file(tmp_path, real_settings):
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from legalqa.engine import Engine
    from legalqa.http import create_app

    answer = replace(real_settings.answer, paragraph_model=str(tmp_path / "none.json"))
    client = TestClient(create_app(Engine(real_settings.with_(answer=answer))), base_url="http://localhost")
    r = client.post("/ask", json={"question": "借款逾期怎么办"})
    assert r.status_code == 503 and "none.json" in r.json()["detail"] and "train_paragraphs.py" in r.json()["detail"]


def test_cli_search_json_and_errors(real_settings, capsys, monkeypatch):
    from legalqa.cli import main

    monkeypatch.setenv("LEGALQA_HOME", str(real_settings.home))
    assert main(["search", "替朋友还了网贷能要回来吗", "--json", "--index", str(real_settings.index_dir)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "《中华人民共和国民法典》第七百条" in [h["citation"] for h in data["hits"][:3]]
    assert main(["search", "借款", "-k", "0", "--index", str(real_settings.index_dir)]) == 2
    assert "k 必须是 1 到 100" in capsys.readouterr().err
    assert main(["ask", "借款", "--index", str(real_settings.home / "missing")]) == 2
    assert "legalqa ingest" in capsys.readouterr().err


def test_mcp_tools_with_the_real_model(real_engine):
    """The MCP face in process (the subprocess and its errors: tests/test_mcp.py, with the fake model)."""
    from anyio.from_thread import start_blocking_portal
    from mcp import Client

    from legalqa.mcp import create_server

    async def calls():
        async with Client(create_server(real_engine)) as client:
            return (await client.call_tool("search_law", {"query": "替朋友还了网贷能要回来吗", "k": 5}),
                    await client.call_tool("ask", {"question": "怎么注册商标？"}),
                    await client.call_tool("get_article", {"law": "民法典", "article": "第七百条"}))

    with start_blocking_portal() as portal:
        search, ask, article = portal.call(calls)
    hits = search.structured_content["hits"]
    assert [h["citation"] for h in hits] == [h.citation for h in real_engine.hits("替朋友还了网贷能要回来吗", 5)]
    assert "《中华人民共和国民法典》第七百条" in [h["citation"] for h in hits[:3]]
    assert ask.structured_content["abstained"] is True
    assert article.structured_content["text"] == real_engine.article("民法典", 700).text
