"""The HTTP face's guards, over a fake-embedder index of the default corpus (fast, no model).

A bad request is a 422 that names the field, never a 500; a big body is a 413; a foreign Host
header is refused; a server on a public address needs an API key.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from legalqa.http import MAX_BODY_BYTES, ServeOptions, create_app

REPO = Path(__file__).resolve().parents[1]
KEY = "k" * 24


@pytest.fixture(scope="module")
def engine(fake_engine):
    return fake_engine


@pytest.fixture(scope="module")
def client(engine):
    return TestClient(create_app(engine), base_url="http://localhost")


def test_a_good_search_and_a_good_ask(client):
    r = client.post("/search", json={"query": "保证人", "k": 3, "filters": {"law": "民法典", "kind": "statute"}})
    assert r.status_code == 200
    assert [h["law"] for h in r.json()["hits"]] == ["中华人民共和国民法典"] * 3
    r = client.post("/ask", json={"question": "民法典第六百八十八条", "filters": {"kind": ["statute"]}})
    assert r.status_code == 200 and "第六百八十八条" in r.json()["text"]


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        ("/search", {"query": "网贷", "filters": {"law": 5}}, "filters.law"),
        ("/search", {"query": "网贷", "k": "3"}, "k"),
        ("/search", {"query": "网贷", "k": True}, "k"),
        ("/search", {"query": "网贷", "k": 0}, "k"),
        ("/search", {"query": "网贷", "k": 101}, "k"),
        ("/search", {"query": "网贷", "filters": {"kind": "law"}}, "filters.kind"),
        ("/search", {"query": "网贷", "filters": {"colour": "red"}}, "filters.colour"),
        ("/search", {"query": 42}, "query"),
        ("/search", {"qeury": "网贷"}, "query"),
        ("/ask", {"question": ["网贷"]}, "question"),
        ("/ask", {"question": "网贷", "extra": 1}, "extra"),
        ("/verify", {"text": None}, "text"),
        ("/search", [1, 2], "请求体"),
    ],
)
def test_a_bad_request_is_a_422_that_names_the_field(client, path, body, says):
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail.startswith("请求参数有误") and says in detail
    # Only field names, never pydantic's type tags (literal[…], constrained-str, list[str]).
    assert not any(tag in detail for tag in ("literal[", "constrained", "list[", ".str", ".int")), detail


def test_an_unknown_law_is_a_422_from_the_searcher(client):
    r = client.post("/search", json={"query": "网贷", "filters": {"law": "商标法"}})
    assert r.status_code == 422 and "语料中没有法律“商标法”" in r.json()["detail"]


def test_not_json_is_a_422(client):
    r = client.post("/search", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_a_big_body_is_a_413_before_it_is_read(client):
    big = b'{"query": "' + b"a" * (MAX_BODY_BYTES + 10) + b'"}'
    r = client.post("/search", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "请求体太大" in r.json()["detail"]


def test_a_streamed_body_without_a_length_is_cut_off_too(client):
    def chunks():
        yield b'{"query": "'
        for _ in range(20):
            yield b"a" * 100_000
        yield b'"}'

    r = client.post("/search", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_a_foreign_host_header_is_refused(engine):
    rebinding = TestClient(create_app(engine), base_url="http://attacker.example")
    assert rebinding.get("/health").status_code == 400
    assert TestClient(create_app(engine), base_url="http://127.0.0.1:8765").get("/health").status_code == 200


def test_an_api_key_is_required_when_set(engine):
    app = create_app(engine, api_key=KEY, allowed_hosts=["*"])
    anon = TestClient(app, base_url="http://server.example")
    r = anon.post("/search", json={"query": "网贷"})
    assert r.status_code == 401 and "LEGALQA_API_KEY" in r.json()["detail"]
    assert anon.post("/search", json={"query": "网贷"}, headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = anon.post("/search", json={"query": "网贷"}, headers={"Authorization": f"Bearer {KEY}"})
    assert ok.status_code == 200


def test_serving_on_a_public_address_needs_a_key_or_insecure():
    with pytest.raises(ValueError, match="必须先设置 LEGALQA_API_KEY"):
        ServeOptions(host="0.0.0.0").checked(env={})
    key, hosts = ServeOptions(host="0.0.0.0").checked(env={"LEGALQA_API_KEY": KEY})
    assert key == KEY and hosts == ["*"]
    key, hosts = ServeOptions(host="0.0.0.0", insecure=True).checked(env={})
    assert key is None
    with pytest.raises(ValueError, match="太短"):
        ServeOptions(host="0.0.0.0").checked(env={"LEGALQA_API_KEY": "short"})
    key, hosts = ServeOptions().checked(env={})
    assert key is None and "attacker.example" not in hosts and "localhost" in hosts


def test_serve_refuses_a_public_address_without_a_key_on_the_command_line(capsys, monkeypatch):
    from legalqa.cli import main

    monkeypatch.delenv("LEGALQA_API_KEY", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "LEGALQA_API_KEY" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_serve_rejects_a_bad_port_with_one_line(capsys, port):
    from legalqa.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["serve", "--port", port])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "端口必须是 1 到 65535 之间的整数" in err and "Traceback" not in err
