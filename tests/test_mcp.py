"""`legalqa mcp` as an assistant meets it: a real subprocess driven by the MCP SDK's own client.

One stdio server per module over a fake-embedder index of the default corpus (fast, no model).
Every tool's result must equal what the Engine gives in this process (same citations, same
order); every bad argument must come back as a tool error carrying the Chinese message, after
which the server still answers.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from legalqa.index.search import QueryError
from mcp import Client, StdioServerParameters

from legalqa.cli import main
from legalqa.config import load_settings
from legalqa.engine import Engine

REPO = Path(__file__).resolve().parents[1]
TOOLS = {"search_law", "get_article", "ask", "verify_citations"}
GUARANTEE = "我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？"


@pytest.fixture(scope="module")
def engine(fake_engine):
    return fake_engine


@pytest.fixture(scope="module")
def server_env(engine):
    s = engine.settings
    return {"LEGALQA_HOME": str(s.home), "LEGALQA_INDEX": str(s.index_dir), "LEGALQA_MODEL": "fake"}


class Session:
    """A connected SDK client, called from synchronous tests through an anyio portal."""

    def __init__(self, portal, client: Client):
        self.portal, self.client = portal, client

    def call(self, tool: str, arguments: dict):
        return self.portal.call(self.client.call_tool, tool, arguments)

    def data(self, tool: str, arguments: dict) -> dict:
        result = self.call(tool, arguments)
        assert not result.is_error, result.content[0].text
        # The JSON text block and the structured content carry the same object.
        assert json.loads(result.content[0].text) == result.structured_content
        return result.structured_content

    def __getattr__(self, name: str):
        method = getattr(self.client, name)
        return lambda *args: self.portal.call(method, *args)


@pytest.fixture(scope="module")
def mcp(server_env):
    params = StdioServerParameters(command=sys.executable, args=["-m", "legalqa.cli", "mcp"], env=server_env,
                                   cwd=str(REPO))
    with start_blocking_portal() as portal:
        with portal.wrap_async_context_manager(Client(params, read_timeout_seconds=120)) as client:
            yield Session(portal, client)


def as_json(data: dict) -> dict:
    """``data`` as it comes through JSON (tuples become lists)."""
    return json.loads(json.dumps(data, ensure_ascii=False))


def without(data: dict, *keys: str) -> dict:
    return {k: v for k, v in data.items() if k not in keys}


def test_the_four_tools_are_listed_with_typed_arguments_a_description_and_an_output_schema(mcp):
    tools = {t.name: t for t in mcp.list_tools().tools}
    assert set(tools) == TOOLS
    for t in tools.values():
        assert t.description and "\u4e00" <= t.description[0] <= "\u9fff"  # the assistant reads Chinese first
        assert t.output_schema["type"] == "object" and t.output_schema["properties"]
        assert t.annotations.read_only_hint is True
    search = tools["search_law"].input_schema
    assert search["required"] == ["query"]
    assert (search["properties"]["k"]["minimum"], search["properties"]["k"]["maximum"]) == (1, 100)
    assert tools["get_article"].input_schema["required"] == ["law", "article"]
    assert tools["verify_citations"].input_schema["properties"]["text"]["type"] == "string"


@pytest.mark.parametrize(
    ("query", "k", "filters"),
    [
        (GUARANTEE, 5, None),
        ("保证人", 3, {"law": "民法典", "kind": "statute"}),
        ("催收 骚扰 家人", 8, {"kind": ["statute", "article"]}),
        ("民法典第681条", 2, None),
    ],
)
def test_search_law_gives_what_the_engine_gives(mcp, engine, query, k, filters):
    args = {"query": query, "k": k} | ({"filters": filters} if filters else {})
    got = mcp.data("search_law", args)
    want = as_json(engine.search(query, k, filters).to_dict())
    assert [h["citation"] for h in got["hits"]] == [h["citation"] for h in want["hits"]]
    assert without(got, "timings_ms") == without(want, "timings_ms")
    assert len(got["hits"]) == k


@pytest.mark.parametrize(
    ("law", "article", "number", "suffix"),
    [
        ("民法典", "第681条", 681, 0),
        ("《中华人民共和国民法典》", "第六百八十一条", 681, 0),
        ("民法典", 681, 681, 0),
        ("中华人民共和国民法典", "六百八十八", 688, 0),
        ("刑法", "第二百八十条之一", 280, 1),
        ("刑法", "280条之一", 280, 1),
    ],
)
def test_get_article_reads_aliases_and_numerals(mcp, engine, law, article, number, suffix):
    got = mcp.data("get_article", {"law": law, "article": article})
    chunk = engine.article(law, number, suffix)
    assert got["citation"] == chunk.citation and got["text"] == chunk.text
    assert (got["number"], got["suffix"], got["article"]) == (number, suffix, chunk.label)
    assert [p["text"] for p in got["paragraphs"]] == [p.text for p in chunk.paragraphs]
    assert [p["paragraph"] for p in got["paragraphs"]] == list(range(1, len(chunk.paragraphs) + 1))
    assert (got["status"], got["version"], got["heading_path"]) == (chunk.status, chunk.version,
                                                                   list(chunk.heading_path))


def test_get_article_numbers_each_paragraph_with_its_citation(mcp):
    got = mcp.data("get_article", {"law": "民法典", "article": 688})
    assert [p["citation"] for p in got["paragraphs"]] == [
        "《中华人民共和国民法典》第六百八十八条第一款", "《中华人民共和国民法典》第六百八十八条第二款"]
    assert got["text"].startswith(got["paragraphs"][0]["text"]) and got["text"].endswith(got["paragraphs"][1]["text"])


@pytest.mark.parametrize(
    ("question", "filters"),
    [("民法典第六百八十八条", {"kind": "statute"}), (GUARANTEE, None), ("怎么申请专利？", None)],
)
def test_ask_gives_the_engines_answer(mcp, engine, question, filters):
    got = mcp.data("ask", {"question": question} | ({"filters": filters} if filters else {}))
    want = as_json(engine.ask(question, filters).to_dict())
    assert [(c["citation"], c["quote"]) for c in got["citations"]] == [(c["citation"], c["quote"])
                                                                      for c in want["citations"]]
    assert without(got, "timings") == without(want, "hits", "timings")


def test_ask_answers_and_abstains(mcp):
    answered = mcp.data("ask", {"question": "民法典第六百八十八条", "filters": {"kind": "statute"}})
    assert not answered["abstained"] and answered["citations"]
    assert answered["citations"][0]["citation"].startswith("《中华人民共和国民法典》第六百八十八条")
    abstained = mcp.data("ask", {"question": "怎么申请专利？"})
    assert abstained["abstained"] and not abstained["citations"] and abstained["reason"]


def test_verify_citations_gives_the_engines_report(mcp, engine):
    text = ("《民法典》第六百八十一条规定：“保证合同是为保障债权的实现”。"
            "民法典第六百八十八条规定：“当事人约定保证人承担连带责任的，为一般保证。”"
            "另见刑法第9999条和《商标法》第三条。")
    got = mcp.data("verify_citations", {"text": text})
    assert got == as_json(engine.verify(text).to_dict())
    assert [c["status"] for c in got["citations"]] == ["exact", "differs", "not_found", "unknown_law"]


def _message(fn) -> str:
    with pytest.raises((QueryError, ValueError)) as caught:
        fn()
    return str(caught.value)


def test_a_bad_argument_is_a_tool_error_with_the_clis_message_and_the_server_lives_on(mcp, engine):
    cases = [
        # (tool, arguments, the message: the CLI's own where the engine decides, else a part of it)
        ("search_law", {"query": "   "}, _message(lambda: engine.search("   "))),
        ("search_law", {"query": "x" * 2001}, _message(lambda: engine.search("x" * 2001))),
        ("search_law", {"query": "网贷", "filters": {"law": "商标法"}},
         _message(lambda: engine.search("网贷", 5, {"law": "商标法"}))),
        ("search_law", {"query": "网贷", "k": 0}, "k 应在 1 到 100 之间"),
        ("search_law", {"query": "网贷", "k": 101}, "k 应在 1 到 100 之间"),
        ("search_law", {"query": "网贷", "k": "3"}, "k 应是整数"),
        ("search_law", {"query": "网贷", "filters": {"kind": "law"}}, "filters.kind 只能是"),
        ("search_law", {"query": "网贷", "filters": {"law": 5}}, "filters.law 应是文字"),
        ("search_law", {"query": "网贷", "filters": {"colour": "red"}}, "filters.colour 不认识这个字段"),
        ("search_law", {"qeury": "网贷"}, "不认识的参数 qeury"),
        ("get_article", {"law": "商标法", "article": 1},
         _message(lambda: engine.searcher.resolve_filters({"law": "商标法"}))),
        ("get_article", {"law": "民法典", "article": 9999}, "语料中没有《中华人民共和国民法典》第九千九百九十九条"),
        ("get_article", {"law": "民法典", "article": "第六百八十八十条"}, "条号“第六百八十八十条”无法识别"),
        ("get_article", {"law": "民法典", "article": "第688条第二款"}, "只写到条"),
        ("get_article", {"law": "", "article": 1}, "没有给出法律名"),
        ("get_article", {"law": "民法典", "article": True}, "article 应是整数"),
        ("ask", {"question": ""}, _message(lambda: engine.ask(""))),
        ("ask", {"question": "网贷", "filters": {"law": "商标法"}},
         _message(lambda: engine.ask("网贷", {"law": "商标法"}))),
        ("ask", {"question": ["网贷"]}, "question 应是文字"),
        ("verify_citations", {"text": ""}, _message(lambda: engine.verify(""))),
        ("verify_citations", {"text": "字" * 200_001}, _message(lambda: engine.verify("字" * 200_001))),
        ("verify_citations", {"text": None}, "text 应是文字"),
        ("no_such_tool", {}, "没有工具“no_such_tool”"),
    ]
    for tool, arguments, message in cases:
        result = mcp.call(tool, arguments)
        assert result.is_error, (tool, arguments)
        text = result.content[0].text
        assert message in text, (tool, text)
        assert "Traceback" not in text and "Error executing" not in text and "validation error" not in text
        assert not any(tag in text for tag in ("literal[", "constrained", "list[", ".str", ".int")), text
        # The server is alive and well after each bad call.
        assert mcp.data("get_article", {"law": "民法典", "article": 681})["number"] == 681
    assert TOOLS <= {tool for tool, _, _ in cases}


def test_resources_list_the_laws_and_read_an_article_by_uri(mcp, engine):
    assert [r.uri for r in mcp.list_resources().resources] == ["law://laws"]
    assert [t.uri_template for t in mcp.list_resource_templates().resource_templates] == ["law://{law}/{article}"]
    laws = json.loads(mcp.read_resource("law://laws").contents[0].text)
    assert [entry["law"] for entry in laws] == engine.searcher.laws
    assert all(entry["articles"] > 0 for entry in laws)
    article = json.loads(mcp.read_resource("law://刑法/第二百八十条之一").contents[0].text)
    assert article == mcp.data("get_article", {"law": "刑法", "article": "第二百八十条之一"})
    with pytest.raises(Exception, match="语料中没有《中华人民共和国民法典》第九千九百九十九条"):
        mcp.read_resource("law://民法典/9999")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_http_serves_the_tools_and_a_key_guards_it(server_env, engine):
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    port, key = _free_port(), "s" * 24
    env = {**server_env, "LEGALQA_API_KEY": key, "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([sys.executable, "-m", "legalqa.cli", "mcp", "--http", "--port", str(port)], env=env,
                            cwd=REPO, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        for _ in range(300):
            try:
                refused = httpx.post(url, json={}, timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.1)
        assert refused.status_code == 401 and "LEGALQA_API_KEY" in refused.json()["detail"]
        rebound = httpx.post(url, json={}, headers={"Authorization": f"Bearer {key}", "Host": "evil.example:80"})
        assert rebound.status_code == 421  # a loopback server is not reachable by DNS rebinding

        async def lookup():
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=120)
            async with http, Client(streamable_http_client(url, http_client=http)) as client:
                return await client.call_tool("get_article", {"law": "民法典", "article": "第688条"})

        with start_blocking_portal() as portal:
            result = portal.call(lookup)
        assert not result.is_error and result.structured_content["text"] == engine.article("民法典", 688).text
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_command_line_checks_its_options_before_serving(capsys, monkeypatch):
    monkeypatch.delenv("LEGALQA_API_KEY", raising=False)
    assert main(["mcp", "--port", "9000"]) == 2
    assert "只用于 --http" in capsys.readouterr().err
    assert main(["mcp", "--http", "--host", "0.0.0.0"]) == 2
    assert "必须先设置 LEGALQA_API_KEY" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["mcp", "--http", "--port", "70000"])
    assert "端口必须是 1 到 65535" in capsys.readouterr().err


def test_without_an_index_the_server_starts_and_each_call_says_to_run_ingest(tmp_path):
    from legalqa.mcp import create_server

    empty = Engine(load_settings(env={}).with_(home=tmp_path, index_dir=tmp_path / "index", model="fake"))

    async def calls():
        async with Client(create_server(empty)) as client:  # in process: the same handlers, no subprocess
            return [await client.call_tool("search_law", {"query": "网贷"}),
                    await client.call_tool("get_article", {"law": "民法典", "article": 681})]

    with start_blocking_portal() as portal:
        results = portal.call(calls)
    for result in results:
        assert result.is_error and "legalqa ingest" in result.content[0].text
