"""The user collection: validate, save, list, remove, rebuild; the default corpus is never touched.

Rebuilds use the deterministic fake embedder over a copy-free pointer to the
real corpus, so these run in a second or two without the model.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from legalqa.index.search import Searcher
from legalqa.index.store import load_index

from legalqa import uploads
from legalqa.config import load_settings
from legalqa.engine import Engine

REPO = Path(__file__).resolve().parents[1]
GOOD = "# 担保须知\n\n## 担保人的责任\n\n借款人不还钱时，担保人要按保证合同承担保证责任。签字前请看清保证方式。\n"


def corpus_digest() -> str:
    h = hashlib.sha256()
    for p in sorted((REPO / "corpus").rglob("*")):
        if p.is_file():
            h.update(p.relative_to(REPO).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def s(tmp_path):
    return load_settings(env={"LEGALQA_HOME": str(tmp_path / "home"), "LEGALQA_MODEL": "fake"})


# ---- names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "saved"),
    [
        ("说明.md", "说明.md"),
        ("../../etc/担保.txt", "担保.txt"),
        ("C:\\Users\\me\\合同.DOCX", "合同.DOCX"),
        ('a<b>:"c"?.html', "a_b___c__.html"),
    ],
)
def test_safe_name_keeps_only_the_files_own_name(given, saved):
    assert uploads.safe_name(given) == saved


@pytest.mark.parametrize(
    ("given", "says"), [("", "文件名无效"), (".hidden.md", "文件名无效"), ("run.exe", "不支持的文件类型"), ("README", "无扩展名")]
)
def test_safe_name_rejects(given, says):
    with pytest.raises(uploads.UploadError, match=says):
        uploads.safe_name(given)


@pytest.mark.parametrize("name", ["长" * 100 + ".md", "a" * 300 + ".md"])
def test_names_too_long_for_a_file_system_are_refused_with_one_clear_line(name):
    with pytest.raises(uploads.UploadError, match="文件名太长") as err:
        uploads.safe_name(name)
    assert "\n" not in str(err.value) and "改个短一点的名字" in str(err.value)


# ---- add / list / remove ------------------------------------------------------------------------------


def test_one_bad_file_keeps_the_whole_batch_out_and_each_file_says_why(s):
    results = uploads.add(
        [
            ("empty.md", b"  \n"),
            ("binary.txt", b"\x00\x01\x02 not text"),
            ("broken.pdf", b"%PDF-1.4 truncated"),
            ("broken.docx", b"PK\x03\x04 not a zip"),
            ("virus.exe", b"MZ"),
            ("good.md", GOOD.encode()),
            ("only-front-matter.md", b"---\ntitle: x\n---\n"),
        ],
        s,
    )
    by_name = {r.name: r for r in results}
    assert [r.ok for r in results] == [False] * 7
    assert "文件是空的" in by_name["empty.md"].message
    assert "二进制文件" in by_name["binary.txt"].message
    assert "broken.pdf" in by_name["broken.pdf"].message and "无法读取" in by_name["broken.pdf"].message
    assert "不支持的文件类型" in by_name["virus.exe"].message
    assert "检查通过" in by_name["good.md"].message and "整批都没有加入" in by_name["good.md"].message
    assert uploads.list_docs(s) == []
    assert not (s.user_docs / uploads.STAGING).exists()  # nothing half-written is left behind
    (good,) = uploads.add([("good.md", GOOD.encode())], s)
    assert good.ok and good.chunks == 1 and "已加入" in good.message
    assert [d.name for d in uploads.list_docs(s)] == ["good.md"]


def test_a_100_character_name_changes_nothing(s):
    uploads.add([("good.md", GOOD.encode())], s)
    before = sorted(p.name for p in s.user_docs.iterdir())
    results = uploads.add([("ok.md", GOOD.encode()), ("长" * 100 + ".md", GOOD.encode())], s)
    assert [r.ok for r in results] == [False, False] and "文件名太长" in results[1].message
    assert sorted(p.name for p in s.user_docs.iterdir()) == before


def test_an_unwritable_home_is_one_clear_error(s):
    s.user_docs.parent.mkdir(parents=True)
    # A file where the folder should be: as unwritable as a read-only home, and root cannot write through it either.
    s.user_docs.write_text("a file where the folder should be")
    with pytest.raises(uploads.UploadError, match="无法写入上传文件夹.*LEGALQA_HOME"):
        uploads.add([("good.md", GOOD.encode())], s)
    assert s.user_docs.read_text() == "a file where the folder should be"


def test_a_failure_while_moving_puts_back_what_was_there(s, monkeypatch):
    uploads.add([("a.md", GOOD.encode())], s)
    real_replace = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if str(dst).endswith("b.md"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(uploads.os, "replace", flaky)
    new_a = GOOD.replace("签字前", "签字之前").encode()
    with pytest.raises(uploads.UploadError, match="这一批文件都没有加入"):
        uploads.add([("a.md", new_a), ("b.md", GOOD.encode())], s)
    monkeypatch.undo()
    assert (s.user_docs / "a.md").read_bytes() == GOOD.encode() and not (s.user_docs / "b.md").exists()


def test_same_name_replaces(s):
    uploads.add([("good.md", GOOD.encode())], s)
    (again,) = uploads.add([("good.md", GOOD.replace("签字前", "签字之前").encode())], s)
    assert again.ok and again.replaced and "替换" in again.message
    assert "签字之前" in (s.user_docs / "good.md").read_text(encoding="utf-8")


def test_add_rejects_wrong_content_type_and_oversize(s, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_BYTES", 10)
    big, text = uploads.add([("big.md", GOOD.encode()), ("str.md", "不是字节")], s)
    assert not big.ok and "文件太大" in big.message
    assert not text.ok and "必须是字节" in text.message


def test_remove(s):
    uploads.add([("good.md", GOOD.encode())], s)
    uploads.remove("good.md", s)
    assert uploads.list_docs(s) == []
    with pytest.raises(uploads.UploadError, match="没有这个文件"):
        uploads.remove("good.md", s)


def test_remove_cannot_reach_outside_the_collection(s):
    s.user_docs.mkdir(parents=True)
    outside = s.home / "keep.md"
    outside.write_text(GOOD, encoding="utf-8")
    with pytest.raises(uploads.UploadError):
        uploads.remove("../keep.md", s)
    assert outside.is_file()


def test_list_is_empty_without_a_folder(s):
    assert uploads.list_docs(s) == []


# ---- rebuild ------------------------------------------------------------------------------------------


def test_rebuild_searches_uploads_beside_the_corpus_and_forgets_removed_ones(s):
    before = corpus_digest()
    uploads.add([("good.md", GOOD.encode())], s)
    steps = []
    manifest, report = uploads.rebuild(s, on_progress=lambda f, msg: steps.append((f, msg)))
    assert manifest["collections"] == ["default", "user"]
    assert [f for f, _ in steps] == sorted(f for f, _ in steps) and steps[-1][0] == 1.0
    data = load_index(s.index_dir)
    user = [c for c in data.chunks if c.collection == "user"]
    assert [c.title for c in user] == ["担保须知"] and user[0].source == "user-docs/good.md"
    assert sum(c.collection == "default" for c in data.chunks) > 200
    hits = Searcher(data, Engine(s).embedder).search("担保须知 签字前请看清保证方式", k=3, filters={"collection": "user"})
    assert hits and hits[0].chunk.title == "担保须知"

    uploads.remove("good.md", s)
    manifest, _ = uploads.rebuild(s)
    assert manifest["collections"] == ["default"]
    assert corpus_digest() == before


def test_an_upload_that_misquotes_a_corpus_statute_is_reported(s):
    text = "# 保证人须知\n\n《民法典》第六百八十一条规定：“保证合同是为保障债权的实现，保证人和债权人约定，当债务人不履行到期债务时，保证人履行债务或者承担责任的合同。”\n"
    uploads.add([("note.md", text.encode())], s)
    _, report = uploads.rebuild(s)
    found = [m for m in report.mismatches if m.source == "user-docs/note.md"]
    assert [m.citation for m in found] == ["《中华人民共和国民法典》第六百八十一条"]
    assert [d.describe() for d in found[0].check.differences] == ["漏掉了「或者发生当事人约定的情形」"]


# ---- the same through `legalqa add` ---------------------------------------------------------------


def _cli(s, monkeypatch, *argv):
    from legalqa.cli import main

    monkeypatch.setenv("LEGALQA_HOME", str(s.home))
    monkeypatch.setenv("LEGALQA_MODEL", "fake")
    return main(["add", *map(str, argv)])


def test_cli_add_a_100_character_name_is_one_line_and_changes_nothing(s, tmp_path, capsys, monkeypatch):
    path = tmp_path / ("名" * 60 + ".md")  # 60 characters, 183 bytes
    path.write_bytes(GOOD.encode())
    assert _cli(s, monkeypatch, path, "--no-index") == 0
    assert [d.name for d in uploads.list_docs(s)] == [path.name]
    capsys.readouterr()
    too_long = tmp_path / ("长" * 75 + ".md")  # 228 bytes: the disk holds it, a user-docs name may not
    too_long.write_bytes(GOOD.encode())
    assert _cli(s, monkeypatch, too_long) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "文件名太长" in line
    assert [d.name for d in uploads.list_docs(s)] == [path.name]


def test_cli_add_refuses_the_batch_when_one_file_is_bad(s, tmp_path, capsys, monkeypatch):
    good, bad = tmp_path / "good.md", tmp_path / "bad.txt"
    good.write_bytes(GOOD.encode())
    bad.write_bytes(b"\x00\x01\x02")
    assert _cli(s, monkeypatch, good, bad, "--no-index") == 2
    out = capsys.readouterr()
    assert "bad.txt" in out.err and "整批不加入" in out.err
    assert uploads.list_docs(s) == []


def test_cli_add_into_an_unwritable_home_is_one_line(s, tmp_path, capsys, monkeypatch):
    good = tmp_path / "good.md"
    good.write_bytes(GOOD.encode())
    s.user_docs.parent.mkdir(parents=True)
    s.user_docs.write_text("a file where the folder should be")
    assert _cli(s, monkeypatch, good, "--no-index") == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "无法写入上传文件夹" in line and "LEGALQA_HOME" in line


def test_cli_add_then_search_finds_the_upload(s, tmp_path, capsys, monkeypatch):
    good = tmp_path / "good.md"
    good.write_bytes(GOOD.encode())
    monkeypatch.setenv("LEGALQA_CORPUS", str(REPO / "corpus"))
    assert _cli(s, monkeypatch, good, "-q") == 0
    assert "索引已更新" in capsys.readouterr().out
    hits = Engine(load_settings(env={"LEGALQA_HOME": str(s.home), "LEGALQA_MODEL": "fake"})).hits(
        "担保须知 签字前请看清保证方式", k=3, filters={"collection": "user"})
    assert hits and hits[0].citation.startswith("上传的文档《担保须知》")
