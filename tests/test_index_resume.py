"""A killed build loses nothing it embedded: the embedding cache saves each batch as it is done, and the
next build embeds only the rest. The kill is a real SIGKILL of a child process, after N batches."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from legalqa.index import cache as cache_module
from legalqa.index.cache import EmbeddingCache
from legalqa.index.embedder import FakeEmbedder
from legalqa.index.store import build_index, embed_text, load_index
from legalqa.ingest.pipeline import ingest

from tests.conftest import CORPUS, REPO, CountingEmbedder


@pytest.fixture(scope="module")
def corpus():
    return ingest([CORPUS])


# The child embeds with a FakeEmbedder that writes every text it returns to a log, and hangs at the
# start of batch N+1: by then batches 1..N are embedded and (the cache saves before asking for the
# next batch) saved. The parent kills it there with SIGKILL.
CHILD = r"""
import json, sys, time
from legalqa.index.embedder import FakeEmbedder
from legalqa.index.store import build_index
from legalqa.ingest.pipeline import ingest

corpus, index, cache, log, stop_after = sys.argv[1:6]

class Hanging(FakeEmbedder):
    calls = 0

    def embed_documents(self, texts, batch_size=64, show_progress=False):
        Hanging.calls += 1
        if Hanging.calls > int(stop_after):
            with open(log, "a", encoding="utf-8") as f:
                f.write("HANGING\n")
            time.sleep(600)
        out = super().embed_documents(texts, batch_size, show_progress)
        with open(log, "a", encoding="utf-8") as f:
            f.writelines(json.dumps(t, ensure_ascii=False) + "\n" for t in texts)
        return out

c = ingest([corpus])
build_index(index, c.chunks, c.sources, Hanging(), cache_dir=cache)
"""


def run_until_hanging(tmp_path: Path, stop_after: int, run: int = 1) -> list[str]:
    """Start a build in a child, SIGKILL it when it hangs at batch stop_after + 1; the texts it embedded."""
    log = tmp_path / f"embedded-{run}.log"
    args = [sys.executable, "-c", CHILD, str(CORPUS), str(tmp_path / "index"), str(tmp_path / "cache"), str(log),
            str(stop_after)]
    child = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not (log.is_file() and log.read_text(encoding="utf-8").endswith("HANGING\n")):
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the child never reached the batch it hangs at"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line != "HANGING"]


def test_a_killed_build_resumes_without_embedding_anything_twice(tmp_path, corpus):
    first = run_until_hanging(tmp_path, stop_after=2)
    assert len(first) == 2 * cache_module.BATCH
    assert not (tmp_path / "index").exists()  # the index was never written
    parts = list((tmp_path / "cache").glob("*.part-*.npz"))
    assert len(parts) == 2  # one file per finished batch, nothing half written

    again = CountingEmbedder()
    manifest = build_index(tmp_path / "index", corpus.chunks, corpus.sources, again, cache_dir=tmp_path / "cache")
    every = {embed_text(c) for c in corpus.chunks}
    assert not set(first) & set(again.texts)  # nothing embedded twice
    assert set(first) | set(again.texts) == every and len(again.texts) == len(every) - len(first)
    assert manifest["embedded"] == len(again.texts)

    # The resumed index is the index an uninterrupted build makes.
    whole = tmp_path / "whole"
    build_index(whole, corpus.chunks, corpus.sources, FakeEmbedder(), cache_dir=tmp_path / "fresh-cache")
    resumed, fresh = load_index(tmp_path / "index"), load_index(whole)
    assert [c.id for c in resumed.chunks] == [c.id for c in fresh.chunks]
    got = np.vstack([resumed.dense.index.reconstruct(i) for i in range(resumed.dense.size)])
    want = np.vstack([fresh.dense.index.reconstruct(i) for i in range(fresh.dense.size)])
    np.testing.assert_array_equal(got, want)
    # The parts were folded into the settled file.
    assert not list((tmp_path / "cache").glob("*.part-*.npz")) and len(list((tmp_path / "cache").glob("*.npz"))) == 1


def test_a_second_kill_keeps_both_runs_work(tmp_path, corpus):
    first = run_until_hanging(tmp_path, stop_after=1, run=1)
    second = run_until_hanging(tmp_path, stop_after=1, run=2)
    assert len(first) == len(second) == cache_module.BATCH and not set(first) & set(second)
    again = CountingEmbedder()
    build_index(tmp_path / "index", corpus.chunks, corpus.sources, again, cache_dir=tmp_path / "cache")
    assert not (set(first) | set(second)) & set(again.texts)
    assert len(again.texts) == len({embed_text(c) for c in corpus.chunks}) - 2 * cache_module.BATCH


# --- the cache's files -------------------------------------------------------------------------------


def texts(n: int, tag: str = "") -> list[str]:
    return [f"第{i}条{tag} 文字{i * 7}" for i in range(n)]


def test_each_batch_is_a_part_until_the_end_settles_them(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(EmbeddingCache, "settle", lambda self: seen.append(sorted(p.name for p in self._parts)))
    cache = EmbeddingCache(tmp_path, "fake", batch=4)
    cache.embed(texts(10), FakeEmbedder())
    assert len(seen) == 1 and len(seen[0]) == 3  # 4 + 4 + 2
    monkeypatch.undo()
    cache.settle()
    assert [p.name for p in tmp_path.iterdir()] == [f"{cache.slug}.npz"]
    reread = EmbeddingCache(tmp_path, "fake")
    emb = CountingEmbedder()
    vectors, new = reread.embed(texts(10), emb)
    assert new == 0 and emb.calls == 0
    np.testing.assert_array_equal(vectors, FakeEmbedder().embed_documents(texts(10)))


def test_progress_is_told_after_every_batch(tmp_path):
    told = []
    EmbeddingCache(tmp_path, "fake", batch=4).embed(texts(10), FakeEmbedder(), on_progress=lambda d, t: told.append((d, t)))
    assert told == [(4, 10), (8, 10), (10, 10)]


def test_many_parts_are_folded_into_one(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "FOLD_PARTS", 3)
    folded = []
    real_fold = EmbeddingCache._fold_parts
    monkeypatch.setattr(EmbeddingCache, "_fold_parts", lambda self: (folded.append(len(self._parts)), real_fold(self)))
    monkeypatch.setattr(EmbeddingCache, "settle", lambda self: None)  # as if killed before the end
    cache = EmbeddingCache(tmp_path, "fake", batch=2)
    cache.embed(texts(14), FakeEmbedder())
    assert folded == [3, 3, 3]  # 7 batches: 3 parts -> 1, then that one and 2 new -> 1, twice
    assert len(list(tmp_path.glob("*.part-*.npz"))) == 1
    emb = CountingEmbedder()
    vectors, new = EmbeddingCache(tmp_path, "fake").embed(texts(14), emb)
    assert new == 0 and len(vectors) == 14


def test_a_damaged_part_costs_only_its_own_batch(tmp_path, monkeypatch):
    monkeypatch.setattr(EmbeddingCache, "settle", lambda self: None)
    EmbeddingCache(tmp_path, "fake", batch=3).embed(texts(9), FakeEmbedder())
    first = sorted(tmp_path.glob("*.part-*.npz"))[0]
    first.write_bytes(first.read_bytes()[:50])
    monkeypatch.undo()
    emb = CountingEmbedder()
    EmbeddingCache(tmp_path, "fake", batch=3).embed(texts(9), emb)
    assert len(emb.texts) == 3


def test_a_cache_written_before_parts_is_read_and_replaced(tmp_path):
    cache = EmbeddingCache(tmp_path, "fake")
    old = texts(5)
    keys = [cache.key(t) for t in old]
    (tmp_path / f"{cache.slug}.keys.json").write_text(json.dumps(keys))
    np.save(tmp_path / f"{cache.slug}.npy", FakeEmbedder().embed_documents(old))
    emb = CountingEmbedder()
    vectors, new = EmbeddingCache(tmp_path, "fake").embed(old + ["新的一条"], emb)
    assert new == 1 and emb.texts == ["新的一条"] and len(vectors) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{cache.slug}.npz"]


def test_two_builds_sharing_a_cache_keep_each_others_vectors(tmp_path):
    a, b = EmbeddingCache(tmp_path, "fake"), EmbeddingCache(tmp_path, "fake")
    a.embed(texts(3, "甲"), FakeEmbedder())
    b.embed(texts(3, "乙"), FakeEmbedder())  # b never read a's vectors, and settles after it
    emb = CountingEmbedder()
    EmbeddingCache(tmp_path, "fake").embed(texts(3, "甲") + texts(3, "乙"), emb)
    assert emb.texts == []


def test_a_stale_temporary_file_is_removed_a_fresh_one_kept(tmp_path):
    stale, fresh = tmp_path / ".tmp-old.npz", tmp_path / ".tmp-new.npz"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(stale, (time.time() - 2 * cache_module.STALE_TMP_SECONDS,) * 2)
    EmbeddingCache(tmp_path, "fake").embed(texts(2), FakeEmbedder())
    assert not stale.exists() and fresh.exists()


def test_batch_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="batch must be a positive integer. Currently, batch is 0"):
        EmbeddingCache(tmp_path, "fake", batch=0)
