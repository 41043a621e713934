"""Index folders: built whole or not at all, loaded with clear errors, re-ingested incrementally."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from legalqa.index.embedder import FakeEmbedder
from legalqa.index.folders import file_checksums
from legalqa.index.store import (
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    build_index,
    embed_text,
    load_index,
)
from legalqa.ingest.pipeline import ingest

from tests.conftest import CORPUS, CountingEmbedder


@pytest.fixture(scope="module")
def corpus():
    return ingest([CORPUS])


@pytest.fixture
def built(tmp_path, corpus):
    emb = CountingEmbedder()
    build_index(tmp_path / "index", corpus.chunks, corpus.sources, emb, cache_dir=tmp_path / "cache")
    return tmp_path / "index", emb


def test_index_is_a_folder_of_plain_files(built):
    path, emb = built
    names = {p.name for p in path.iterdir()}
    assert {"manifest.json", "chunks.jsonl", "sources.jsonl", "dense.faiss", "bm25", "report.json", "hints.json",
            "assets"} <= names
    assert not list(path.rglob("*.pkl")) and not list(path.rglob("*.pickle"))
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["model"] == emb.name and manifest["dim"] == emb.dim
    assert {"corpus_hash", "versions", "built_at", "chunks", "assets", "checksums"} <= manifest.keys()
    every_file = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["checksums"]["files"]) == every_file
    data = load_index(path, model=emb.name, dim=emb.dim)
    assert len(data.chunks) == manifest["chunks"] == data.dense.size


def test_reingest_embeds_only_new_chunks(tmp_path, built, corpus):
    path, emb = built
    first = emb.embedded
    assert first == len({embed_text(c) for c in corpus.chunks})  # identical texts are embedded once
    build_index(path, corpus.chunks, corpus.sources, emb, cache_dir=tmp_path / "cache")
    assert emb.embedded == first  # nothing new to embed
    extra = tmp_path / "extra.md"
    extra.write_text("# 新文章\n\n一段全新的内容，讲借条怎么写。\n", encoding="utf-8")
    more = ingest([CORPUS, extra])
    build_index(path, more.chunks, more.sources, emb, cache_dir=tmp_path / "cache")
    assert emb.embedded == first + 1


def test_missing_index_says_to_run_ingest(tmp_path):
    with pytest.raises(IndexMissingError, match="legalqa ingest"):
        load_index(tmp_path / "nowhere")


@pytest.mark.parametrize("victim", ["dense.faiss", "chunks.jsonl", "manifest.json", "hints.json"])
def test_corrupt_files_give_a_clear_error(built, victim):
    path, emb = built
    (path / victim).write_bytes(b"\x00garbage{")
    with pytest.raises((IndexCorruptError, IndexMismatchError), match="legalqa ingest"):
        load_index(path, model=emb.name, dim=emb.dim)


def overwrite(path, offset, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def test_random_bytes_inside_dense_faiss_are_detected(built):
    path, emb = built
    size = (path / "dense.faiss").stat().st_size
    overwrite(path / "dense.faiss", size // 2, np.random.default_rng(1).bytes(64))  # vectors: faiss loads it
    with pytest.raises(IndexCorruptError, match=r"dense\.faiss 已损坏.*legalqa ingest"):
        load_index(path, model=emb.name, dim=emb.dim)


def test_a_changed_character_in_chunks_is_detected(built):
    path, emb = built
    raw = (path / "chunks.jsonl").read_bytes()
    at = raw.index("保证人".encode())
    overwrite(path / "chunks.jsonl", at, "债务人".encode())  # still valid JSON, same length
    with pytest.raises(IndexCorruptError, match=r"chunks\.jsonl 已损坏"):
        load_index(path, model=emb.name, dim=emb.dim)


@pytest.mark.parametrize("victim", ["bm25/vocab.index.json", "assets/expansions.tsv", "sources.jsonl"])
def test_every_index_file_is_checked(built, victim):
    path, emb = built
    overwrite(path / victim, 0, b" ")
    with pytest.raises(IndexCorruptError, match=f"{victim} 已损坏"):
        load_index(path, model=emb.name, dim=emb.dim)
    (path / victim).unlink()
    with pytest.raises(IndexCorruptError, match=f"{victim} 不见了"):
        load_index(path, model=emb.name, dim=emb.dim)


def test_an_index_of_the_previous_format_is_refused(built):
    path, emb = built
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["format"] = 2
    del manifest["assets"], manifest["checksums"]
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="legalqa ingest"):
        load_index(path, model=emb.name, dim=emb.dim)


def test_truncated_chunks_file_is_caught(built):
    path, emb = built
    lines = (path / "chunks.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (path / "chunks.jsonl").write_text("".join(lines[:-3]), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match=r"chunks\.jsonl 已损坏.*校验和"):
        load_index(path, model=emb.name, dim=emb.dim)
    # Past the checksums (a manifest rewritten to match), the files still have to agree.
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["checksums"]["files"] = file_checksums(path)
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="不一致"):
        load_index(path, model=emb.name, dim=emb.dim)


def test_model_or_dimension_mismatch(built):
    path, emb = built
    with pytest.raises(IndexMismatchError, match="legalqa ingest"):
        load_index(path, model="another-model", dim=emb.dim)
    with pytest.raises(IndexMismatchError, match="维度"):
        load_index(path, model=emb.name, dim=emb.dim + 1)


def test_interrupted_build_leaves_the_old_index(built, corpus, monkeypatch):
    path, emb = built
    before = (path / "manifest.json").read_text()

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("legalqa.index.store.SparseIndex.build", boom)
    with pytest.raises(KeyboardInterrupt):
        build_index(path, corpus.chunks[:10], corpus.sources, emb)
    assert (path / "manifest.json").read_text() == before
    assert load_index(path, model=emb.name, dim=emb.dim).manifest["chunks"] == len(corpus.chunks)
    assert not [p for p in path.parent.iterdir() if ".building-" in p.name]


def test_empty_corpus_is_refused(tmp_path):
    with pytest.raises(ValueError, match="没有可索引的内容"):
        build_index(tmp_path / "i", [], {}, FakeEmbedder())


def test_copy_of_index_loads_elsewhere(built, tmp_path):
    path, emb = built
    shutil.copytree(path, tmp_path / "moved")
    assert load_index(tmp_path / "moved", model=emb.name).chunks


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_every_dense_kind_finds_and_reconstructs_vectors_after_a_reload(tmp_path, kind):
    from legalqa.index.dense import DenseIndex

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(1100, 16)).astype(np.float32)  # IVF trains only from 1,024 vectors
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    DenseIndex.build(vectors, kind).save(tmp_path / "d.faiss")
    dense = DenseIndex.load(tmp_path / "d.faiss")
    _, rows = dense.search(vectors[7], 5)
    assert rows[0] == 7
    assert np.allclose(dense.index.reconstruct(1000), vectors[1000], atol=1e-6)
    # A filter is applied inside the search: every row returned is admitted, and k of them come back.
    allowed = np.zeros(len(vectors), bool)
    allowed[::9] = True
    scores, rows = dense.search(vectors[7], 5, allowed)
    assert len(rows) == 5 and allowed[rows].all() and 7 not in rows
    exact = np.argsort(-(vectors[allowed] @ vectors[7]))[:5]
    assert rows[0] == np.flatnonzero(allowed)[exact[0]]


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_next_build_removes_folders_a_killed_build_left(tmp_path, corpus):
    dead, now = dead_pid(), time.time_ns()
    stray = [
        tmp_path / f".index.building-{dead}-{now}",
        tmp_path / f".index.old-{dead}-{now}",
        # this process's pid, in a folder made long before it started: a pid reused after a restart
        tmp_path / f".index.old-{os.getpid()}-1000",
    ]
    kept = [
        tmp_path / f".index.building-{os.getpid()}-{now}",  # a build running now in this process
        tmp_path / f".index.old-{os.getppid()}-{now}",  # … and one in a live parent
        tmp_path / f".other.building-{dead}-{now}",  # another index's: not this build's to clean
        tmp_path / ".index.building-abc",  # not a name a build makes
    ]
    for folder in stray + kept:
        folder.mkdir()
        (folder / "dense.faiss").write_bytes(b"x")
    build_index(tmp_path / "index", corpus.chunks[:20], corpus.sources, FakeEmbedder(), cache_dir=tmp_path / "c")
    assert [p for p in stray if p.exists()] == []
    assert [p for p in kept if not p.exists()] == []


def test_a_build_killed_mid_write_is_cleaned_up_by_the_next(tmp_path, corpus):
    index, cache = tmp_path / "index", tmp_path / "cache"
    script = f"""
import os, signal
from legalqa.index import store
from legalqa.index.embedder import FakeEmbedder
from legalqa.index.folders import file_checksums
from legalqa.ingest.pipeline import ingest

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

store.SparseIndex.build = die  # dense.faiss and assets/ are written by then
c = ingest([{str(CORPUS)!r}])
store.build_index({str(index)!r}, c.chunks[:20], c.sources, FakeEmbedder(), cache_dir={str(cache)!r})
"""
    proc = subprocess.run([sys.executable, "-c", script], timeout=300)
    assert proc.returncode == -signal.SIGKILL
    left = [p for p in tmp_path.iterdir() if ".building-" in p.name]
    assert len(left) == 1 and (left[0] / "dense.faiss").is_file() and not index.exists()
    build_index(index, corpus.chunks[:20], corpus.sources, FakeEmbedder(), cache_dir=cache)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert len(load_index(index).chunks) == 20


def test_a_rebuild_from_the_same_inputs_leaves_the_index_alone(tmp_path, corpus):
    from dataclasses import replace

    path = tmp_path / "index"
    first = build_index(path, corpus.chunks, corpus.sources, FakeEmbedder(), cache_dir=tmp_path / "cache")
    stamp = (path / "manifest.json").stat().st_mtime_ns
    again = build_index(path, corpus.chunks, corpus.sources, FakeEmbedder(), cache_dir=tmp_path / "cache")
    assert again["unchanged"] is True and again["embedded"] == 0
    assert again["content_key"] == first["content_key"] and (path / "manifest.json").stat().st_mtime_ns == stamp
    # A change the chunk ids do not show (a status) is a change; so is a damaged file or another kind.
    changed = [replace(corpus.chunks[0], status="已废止"), *corpus.chunks[1:]]
    rebuilt = build_index(path, changed, corpus.sources, FakeEmbedder(), cache_dir=tmp_path / "cache")
    assert "unchanged" not in rebuilt and rebuilt["content_key"] != first["content_key"]
    assert load_index(path).chunks[0].status == "已废止"
    (path / "chunks.jsonl").write_text("damaged", encoding="utf-8")
    assert "unchanged" not in build_index(path, changed, corpus.sources, FakeEmbedder(), cache_dir=tmp_path / "cache")
    assert load_index(path).chunks[0].status == "已废止"
    other = build_index(path, changed, corpus.sources, FakeEmbedder(), cache_dir=tmp_path / "cache", dense_kind="hnsw")
    assert "unchanged" not in other and other["dense_kind"] == "hnsw"


def test_a_new_read_error_rewrites_the_report_though_no_chunk_changed(tmp_path, corpus):
    path = tmp_path / "index"
    build_index(path, corpus.chunks, corpus.sources, FakeEmbedder(), cache_dir=tmp_path / "cache",
                report={"errors": [], "seconds": 1.0})
    timing_only = build_index(path, corpus.chunks, corpus.sources, FakeEmbedder(), cache_dir=tmp_path / "cache",
                              report={"errors": [], "seconds": 2.0})
    assert timing_only["unchanged"] is True
    failed = {"errors": ["user-docs/坏文件.docx：无法读取"], "seconds": 1.0}
    rebuilt = build_index(path, corpus.chunks, corpus.sources, FakeEmbedder(), cache_dir=tmp_path / "cache",
                          report=failed)
    assert "unchanged" not in rebuilt and load_index(path).report["errors"] == failed["errors"]
