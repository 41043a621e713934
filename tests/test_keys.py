"""Known questions as dense keys (index/keys.py): the file, and how a key moves a search, with the fake embedder."""

from __future__ import annotations

import numpy as np
import pytest
from legalqa.index.assets import AssetFiles, installed_assets
from legalqa.index.embedder import FAKE_MODEL, FakeEmbedder
from legalqa.index.keys import DEFAULT_KEYS, KeysError, QuestionKeys, merge_dense
from legalqa.index.search import SearchConfig, Searcher
from legalqa.index.store import build_index, load_index
from legalqa.ingest.pipeline import ingest

LAW = "中华人民共和国示例劳动法"
STATUTE = f"""---
title: {LAW}
aliases: [示例劳动法]
kind: statute
---
# {LAW}

第一条 用人单位应当依法为劳动者缴纳社会保险费。

第二条 劳动者每日工作时间不超过八小时。

第三条 用人单位应当按月以货币形式支付工资。
"""
ASKED = "老板一直拖着工钱不发我能怎么办"  # shares no character pair with 第三条
KNOWN = "老板一直拖着工钱不发我该怎么办呢"  # the known question: close to ASKED, not the same
OTHER = "今天中午吃什么好呢"


def keys_for(questions: list[str], targets, model: str = FAKE_MODEL) -> QuestionKeys:
    return QuestionKeys(FakeEmbedder().embed_queries(questions), tuple(tuple(t) for t in targets), model)


@pytest.fixture(scope="module")
def index_with_keys(tmp_path_factory):
    root = tmp_path_factory.mktemp("keys")
    (root / "corpus" / "statutes").mkdir(parents=True)
    (root / "corpus" / "statutes" / "示例劳动法.md").write_text(STATUTE, encoding="utf-8")
    keys_file = root / "question_keys.npz"
    keys_for([KNOWN], [[("示例劳动法", 3, 0)]]).save(keys_file)  # an alias: resolved against the index
    corpus = ingest([root / "corpus"])
    emb = FakeEmbedder()
    assets = installed_assets(FAKE_MODEL, files=AssetFiles(keys=keys_file))
    build_index(root / "index", corpus.chunks, corpus.sources, emb, assets=assets)
    return load_index(root / "index", installed=assets), emb


def searcher(data, emb, **cfg) -> Searcher:
    cfg.setdefault("keys_scope", "all")  # the fixture index holds no library
    return Searcher(data, emb, SearchConfig(expand=False, correct_typos=False, **cfg), rules=())


def test_save_and_load_keep_vectors_targets_and_model(tmp_path):
    keys = keys_for([ASKED, OTHER], [[(LAW, 3, 0)], [(LAW, 1, 0), ("某法", 2, 1)]])
    keys.save(tmp_path / "k.npz")
    back = QuestionKeys.load(tmp_path / "k.npz")
    assert back.targets == keys.targets and back.model == FAKE_MODEL
    assert np.allclose(back.vectors, keys.vectors, atol=1e-3)
    assert np.allclose(np.linalg.norm(back.vectors, axis=1), 1.0, atol=1e-6)


def test_a_damaged_or_missing_file_names_the_file_and_the_fix(tmp_path):
    bad = tmp_path / "k.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(KeysError, match="k.npz.*scripts/train_keys.py"):
        QuestionKeys.load(bad)
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(KeysError, match="empty.npz 无法读取.*scripts/train_keys.py"):
        QuestionKeys.load(tmp_path / "empty.npz")
    with pytest.raises(KeysError, match="找不到问题键文件"):
        QuestionKeys.load(tmp_path / "none.npz")


def test_the_shipped_keys_are_tune_questions_of_the_default_model_without_their_text():
    keys = QuestionKeys.load(DEFAULT_KEYS)
    assert keys.model == "legalqa-e5-small" and keys.dim == 384
    assert keys.meta["part"] == "tune" and keys.meta["questions"] == len(keys.targets) == 735
    with np.load(DEFAULT_KEYS, allow_pickle=False) as z:
        assert set(z.files) == {"vectors", "key", "law", "article", "suffix", "info"}


def test_merge_keeps_each_rows_better_score():
    assert merge_dense([(1, 0.9), (2, 0.8)], [(2, 0.95), (3, 0.5)], 3) == [(2, 0.95), (1, 0.9), (3, 0.5)]
    assert merge_dense([(1, 0.9)], [(3, 0.5)], 1) == [(1, 0.9)]


def test_a_key_lifts_its_article_and_keeps_the_articles_own_similarity(index_with_keys):
    data, emb = index_with_keys
    plain = searcher(data, emb).search(ASKED, 3)
    keyed = searcher(data, emb, keys_neighbors=1).search(ASKED, 3)
    third = next(h for h in plain if h.chunk.article == 3)
    assert plain[0].chunk.article != 3 and third.key_score is None
    top = keyed[0]
    assert top.chunk.article == 3 and top.dense_rank == 1
    similarity = float(FakeEmbedder().embed_query(ASKED) @ FakeEmbedder().embed_query(KNOWN))
    assert top.key_score == pytest.approx(similarity, abs=1e-3)
    assert top.dense_score == pytest.approx(third.dense_score)  # its own cosine, not the key's
    assert top.to_dict()["scores"]["key"] == pytest.approx(similarity, abs=1e-3)


def test_a_key_never_answers_its_own_question(index_with_keys):
    data, emb = index_with_keys
    hits = searcher(data, emb, keys_neighbors=1).search(KNOWN, 3)
    assert all(h.key_score is None for h in hits)


def test_the_offset_and_the_filters_bound_what_a_key_can_do(index_with_keys):
    data, emb = index_with_keys
    far = searcher(data, emb, keys_neighbors=1, keys_offset=1.5).search(ASKED, 3)
    assert far[0].chunk.article != 3 and all(h.key_score is None or h.key_score < 0 for h in far)
    blocked = searcher(data, emb, keys_neighbors=1).search(ASKED, 3, {"kind": "article"})
    assert all(h.chunk.kind == "article" for h in blocked)


def test_keys_of_another_model_are_not_used(index_with_keys, tmp_path):
    data, emb = index_with_keys
    other = FakeEmbedder(name="another-model")
    hits = searcher(data, other, keys_neighbors=1).search(ASKED, 3)
    assert hits[0].chunk.article != 3 and all(h.key_score is None for h in hits)


def test_by_default_the_keys_serve_only_an_index_with_the_library(index_with_keys):
    data, emb = index_with_keys
    hits = searcher(data, emb, keys_neighbors=1, keys_scope="library").search(ASKED, 3)
    assert all(h.key_score is None for h in hits)
    with pytest.raises(ValueError, match="keys_scope"):
        SearchConfig(keys_scope="corpus")


def test_votes_share_the_neighbor_places_among_laws():
    from legalqa.index.keys import ResolvedKeys

    keys = ResolvedKeys(np.eye(3, dtype=np.float32), ((0, 1), (1,), ()))
    near = keys.nearest(np.array([0.6, 0.8, 0.0], dtype=np.float32), 3, floor=0.1)
    assert [j for j, _ in near] == [1, 0]  # the third key is below the floor
    law = {0: "甲法", 1: "乙法"}
    assert keys.votes(near, law.get, 4) == {"甲法": 0.25, "乙法": 0.5}
    assert sorted(keys.dense(near, 0.1)) == [(0, pytest.approx(0.5)), (1, pytest.approx(0.7))]
    assert len(keys) == 2


def test_keys_off_by_default():
    assert SearchConfig().keys_neighbors == 0
    with pytest.raises(ValueError, match="keys_neighbors"):
        SearchConfig(keys_neighbors=-1)
    with pytest.raises(ValueError, match="keys_offset"):
        SearchConfig(keys_offset="0.1")
