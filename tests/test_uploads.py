"""The user collection: validate, save, list, remove, rebuild; the default corpus is never touched.

Rebuilds use the deterministic fake embedder over a copy-free pointer to the
real corpus, so these run in a second or two without the model.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from legalqa.index.search import Searcher
from legalqa.index.store import load_index

from legalqa import engine, uploads
from legalqa.config import load_settings

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


def test_long_names_are_shortened_but_keep_their_suffix():
    name = uploads.safe_name("长" * 300 + ".md")
    assert name.endswith(".md") and len(name) == uploads.MAX_NAME_CHARS


# ---- add / list / remove ------------------------------------------------------------------------------


def test_bad_files_are_reported_and_the_good_one_still_goes_in(s):
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
    assert [r.ok for r in results] == [False, False, False, False, False, True, False]
    assert "文件是空的" in by_name["empty.md"].message
    assert "二进制文件" in by_name["binary.txt"].message
    assert "broken.pdf" in by_name["broken.pdf"].message and "无法读取" in by_name["broken.pdf"].message
    assert "不支持的文件类型" in by_name["virus.exe"].message
    assert by_name["good.md"].chunks == 1 and "已加入" in by_name["good.md"].message
    assert [d.name for d in uploads.list_docs(s)] == ["good.md"]
    assert not (s.user_docs / uploads.STAGING).exists()  # nothing half-written is left behind


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
    hits = Searcher(data, engine.embedder_for(s)).search("担保须知 签字前请看清保证方式", k=3, filters={"collection": "user"})
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
