"""The robustness suite: one table of bad inputs through every face, and faults injected into ingest.

Every bad input gets a clear error that names the problem, through Python (QueryError), the CLI
(exit 2, one line, no traceback) and HTTP (422). A build killed with SIGKILL leaves the old index
serving; truncated index files say to run `legalqa ingest`. Fake embedder: fast and exact.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from legalqa.index.search import QueryError
from legalqa.index.store import IndexLoadError

from legalqa.cli import main
from legalqa.config import load_settings
from legalqa.engine import Engine
from legalqa.http import create_app

REPO = Path(__file__).resolve().parents[1]

# (what, query, k, filters, words the message must contain)
BAD = [
    ("empty", "", 5, None, "问题是空的"),
    ("blank", " \n\t ", 5, None, "问题是空的"),
    ("too long", "借" * 2001, 5, None, "问题太长"),
    ("binary", "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b借", 5, None, "无法识别的字符"),
    ("replacement chars", "借款\ufffd\ufffd", 5, None, "无法识别的字符"),
    ("k zero", "借款", 0, None, "k"),
    ("k too big", "借款", 101, None, "k"),
    ("unknown law", "借款", 5, {"law": "商标法"}, "商标法"),
    ("law not text", "借款", 5, {"law": 5}, "law"),
    ("kind unknown", "借款", 5, {"kind": "law"}, "kind"),
    ("filter unknown", "借款", 5, {"colour": "red"}, "colour"),
]


@pytest.fixture(scope="module")
def engine(fake_engine):
    return fake_engine


@pytest.mark.parametrize(("what", "query", "k", "filters", "says"), BAD, ids=[b[0] for b in BAD])
def test_python_search_and_ask(engine, what, query, k, filters, says):
    with pytest.raises(QueryError, match=says):
        engine.search(query, k, filters)
    if k == 5:
        with pytest.raises(QueryError, match=says):
            engine.ask(query, filters)


@pytest.mark.parametrize(("what", "query", "k", "filters", "says"), BAD, ids=[b[0] for b in BAD])
def test_http_search(engine, what, query, k, filters, says):
    client = TestClient(create_app(engine), base_url="http://localhost")
    body = {"query": query, "k": k} | ({"filters": filters} if filters is not None else {})
    r = client.post("/search", json=body)
    assert r.status_code == 422, r.text
    assert says in r.json()["detail"]


# The CLI offers --law (any text) and --kind (argparse checks its choices, below).
CLI_BAD = [b for b in BAD if b[3] is None or (set(b[3]) == {"law"} and isinstance(b[3]["law"], str))]


@pytest.mark.parametrize(("what", "query", "k", "filters", "says"), CLI_BAD, ids=[b[0] for b in CLI_BAD])
def test_cli_search(engine, capsys, what, query, k, filters, says):
    argv = ["search", query, "-k", str(k), "--index", str(engine.settings.index_dir), "--model", "fake"]
    if filters:
        argv += ["--law", filters["law"]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：") and says in err and "Traceback" not in err


def test_cli_kind_choices_are_checked_by_argparse(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["search", "借款", "--kind", "law"])
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_verify_bad_input_everywhere(engine, capsys):
    for text in ("", "  "):
        with pytest.raises(ValueError, match="没有要核验的文字"):
            engine.verify(text)
    with pytest.raises(ValueError, match="文字太长"):
        engine.verify("借" * 200_001)
    client = TestClient(create_app(engine), base_url="http://localhost")
    assert client.post("/verify", json={"text": ""}).status_code == 422
    assert client.post("/verify", json={"text": 5}).status_code == 422
    assert main(["verify", "nothere.md", "--index", str(engine.settings.index_dir), "--model", "fake"]) == 2
    assert "文件不存在" in capsys.readouterr().err


# ---- faults ---------------------------------------------------------------------------------------

_SLOW_BUILD = """
import sys, time
from pathlib import Path
from legalqa.config import load_settings
from legalqa.engine import Engine
from legalqa.index.embedder import FakeEmbedder

class Slow(FakeEmbedder):
    def embed_documents(self, texts, batch_size=64, show_progress=False):
        Path(sys.argv[2]).write_text("embedding")
        time.sleep(60)  # killed here, half way through the build
        return super().embed_documents(texts, batch_size, show_progress)

home = Path(sys.argv[1])
s = load_settings(env={}).with_(home=home, index_dir=home / "index", model="fake")
Engine(s, embedder=Slow()).build([sys.argv[3]])
"""


def test_sigkill_during_a_build_leaves_the_old_index_serving(tmp_path):
    home = tmp_path / "home"
    s = load_settings(env={}).with_(home=home, index_dir=home / "index", model="fake")
    Engine(s).build([REPO / "corpus"])
    before = (s.index_dir / "chunks.jsonl").read_bytes()
    more = tmp_path / "more"
    more.mkdir()
    (more / "new.md").write_text("# 新文档\n\n这是一份新文档，讲借条怎么写。\n", encoding="utf-8")
    flag = tmp_path / "started"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_BUILD, str(home), str(flag), str(more)],
                            cwd=REPO, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not flag.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert flag.exists(), "the build never reached embedding"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert (s.index_dir / "chunks.jsonl").read_bytes() == before
    engine = Engine(s)
    assert engine.hits("保证人", k=3) and not any(c.source.endswith("new.md") for c in engine.searcher.chunks)
    Engine(s).build([REPO / "corpus"])  # the next build works, and the folder is whole again
    assert Engine(s).hits("保证人", k=3)


@pytest.mark.parametrize("name", ["manifest.json", "chunks.jsonl", "sources.jsonl", "dense.faiss", "hints.json"])
def test_a_truncated_index_file_says_to_run_ingest(engine, tmp_path, name, capsys):
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(engine.settings.index_dir, copy)
    data = (copy / name).read_bytes()
    (copy / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexLoadError, match="legalqa ingest"):
        Engine(engine.settings.with_(index_dir=copy)).search("保证人")
    assert main(["search", "保证人", "--index", str(copy), "--model", "fake"]) == 2
    (line, *rest) = capsys.readouterr().err.strip().splitlines()
    assert "legalqa ingest" in line + "".join(rest) and "Traceback" not in line


def test_a_missing_index_file_says_to_run_ingest(engine, tmp_path):
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(engine.settings.index_dir, copy)
    (copy / "sources.jsonl").unlink()
    with pytest.raises(IndexLoadError, match="legalqa ingest"):
        Engine(engine.settings.with_(index_dir=copy)).ask("保证人要承担什么责任？")


def test_asking_with_another_k_reuses_the_loaded_models(engine):
    base = engine.composer
    other = base.with_k(3)
    assert other.config.k == 3 and base.config.k == engine.settings.answer.k  # the engine's composer is unchanged
    assert other.selector is base.selector and other.paragraphs is base.paragraphs
    assert base.with_k(base.config.k) is base
    answer = engine.ask("民法典第六百八十八条", k=3)
    assert len(answer.hits) >= 1
    with pytest.raises(ValueError, match="k must be greater than 0"):
        engine.ask("民法典第六百八十八条", k=0)
