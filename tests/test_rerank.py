"""The library search's learned re-ranker (index/rerank.py): its features, its file, and how it orders a search."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest
from legalqa.index.assets import AssetFiles, installed_assets
from legalqa.index.embedder import FAKE_MODEL, FakeEmbedder
from legalqa.index.keys import DEFAULT_KEYS, ResolvedKeys
from legalqa.index.rerank import (
    DEFAULT_RERANKER,
    FEATURES,
    PoolBuilder,
    Reranker,
    RerankerError,
    char_pairs,
    save_model,
)
from legalqa.index.search import SearchConfig, Searcher
from legalqa.index.store import build_index, load_index
from legalqa.ingest.models import Chunk
from legalqa.ingest.pipeline import ingest

from tests.test_keys import ASKED, KNOWN, STATUTE, keys_for


def statute(i: int, law: str, text: str, heading: str = "") -> Chunk:
    return Chunk(f"c{i}", "statute", law, text, "s.md", 0, len(text), (heading,) if heading else (), law, i + 1)


CHUNKS = [
    statute(0, "甲法", "借款人应当按照约定的期限返还借款。", "第一章 借款"),
    statute(1, "甲法", "保证人与债权人应当约定保证方式。", "第二章 保证"),
    statute(2, "乙法", "用人单位应当按月支付工资。"),
]


def col(pool, row: int, name: str) -> float:
    return float(pool.features[pool.rows.index(row), FEATURES.index(name)])


@pytest.fixture
def builder():
    # Three known questions: the first is the asked question itself (it must count nowhere), the
    # second points at row 1, the third at rows 1 and 2.
    vectors = np.array([[1, 0, 0], [0.96, 0.28, 0], [0.6, 0.8, 0]], dtype=np.float32)
    return PoolBuilder(CHUNKS, ResolvedKeys(vectors, ((0,), (1,), (1, 2))))


def build(builder, **kw):
    args = dict(question="借款到期了不还怎么办", vector=np.array([1, 0, 0], dtype=np.float32),
                dense=[(0, 0.9)], sparse=[(0, 4.0), (2, 2.0)], exact=[], admits=lambda c: True,
                more_scores=lambda rows: ({r: 0.5 for r in rows}, {r: 0.0 for r in rows}))
    args.update(kw)
    return builder.build(**args)


def test_the_pool_is_named_rows_then_both_lists_then_the_keys_articles(builder):
    pool = build(builder, exact=[2])
    assert pool.rows == (2, 0, 1)
    assert pool.features.shape == (3, len(FEATURES))
    assert col(pool, 2, "exact") == 1 and col(pool, 0, "exact") == 0


def test_key_features_skip_the_question_itself_and_count_the_others(builder):
    pool = build(builder)
    # Row 0's only key is the question itself: no key feature, no popularity.
    assert col(pool, 0, "kmax") == 0 and col(pool, 0, "kcnt") == 0 and col(pool, 0, "pop_art") == 0
    assert col(pool, 1, "kmax") == pytest.approx(0.96, abs=1e-6)
    assert col(pool, 1, "kmax_hi") == pytest.approx(0.06, abs=1e-6)
    assert col(pool, 1, "kcnt") == pytest.approx(0.2)  # two of the 10 near places
    assert col(pool, 1, "pop_art") == pytest.approx(math.log(3))
    assert col(pool, 1, "law") == pytest.approx(0.2) and col(pool, 2, "law") == pytest.approx(0.1)
    assert col(pool, 1, "law_hi") == pytest.approx(0.1)  # only the key at 0.96 is ≥ 0.92
    assert col(pool, 1, "top_key") == pytest.approx(0.96, abs=1e-6)
    assert pool.key_best == {1: pytest.approx(0.96, abs=1e-6), 2: pytest.approx(0.6, abs=1e-6)}


def test_scores_a_retriever_missed_are_filled_in(builder):
    pool = build(builder)
    assert col(pool, 1, "cos") == 0.5  # from more_scores: neither list had row 1
    assert col(pool, 2, "cos") == 0.5 and col(pool, 2, "bm") == pytest.approx(0.5)  # BM25 2.0 of the best 4.0
    assert col(pool, 0, "rd") == 1.0 and col(pool, 2, "rd") == pytest.approx(1 / math.log2(201))


def test_the_filters_keep_a_keys_article_out_of_the_pool(builder):
    pool = build(builder, admits=lambda c: c.law != "乙法", sparse=[(0, 4.0)])
    assert 2 not in pool.rows and 1 in pool.rows


def test_word_features_read_character_pairs():
    assert char_pairs("借款，到期") == {"借款", "款到", "到期"}
    pool = build(PoolBuilder(CHUNKS, ResolvedKeys(np.zeros((0, 3), np.float32), ())), question="借款期限")
    # 借款 and 期限 of the three pairs 借款 款期 期限 are in row 0's text; the heading 第一章 借款 has 借款 of 5 pairs.
    assert col(pool, 0, "qcov") == pytest.approx(2 / 3)
    assert col(pool, 0, "head_cov") == pytest.approx(1 / len(char_pairs("第一章 借款")))
    assert col(pool, 0, "law_cov") == 0


class KeyFirst:
    """A stand-in booster that ranks by the known-question similarity alone: exact, for ordering tests."""

    def predict(self, features, num_threads=1):
        return features[:, FEATURES.index("kmax")] * 10 + features[:, FEATURES.index("cos")]


@pytest.fixture(scope="module")
def library_like(tmp_path_factory):
    root = tmp_path_factory.mktemp("rerank")
    (root / "corpus" / "statutes").mkdir(parents=True)
    (root / "corpus" / "statutes" / "示例劳动法.md").write_text(STATUTE, encoding="utf-8")
    keys_for([KNOWN], [[("示例劳动法", 3, 0)]]).save(root / "question_keys.npz")
    corpus = ingest([root / "corpus"])
    assets = installed_assets(FAKE_MODEL, files=AssetFiles(keys=root / "question_keys.npz"))
    build_index(root / "index", corpus.chunks, corpus.sources, FakeEmbedder(), assets=assets)
    return load_index(root / "index", installed=assets)


def searcher(data, **cfg) -> Searcher:
    cfg = {"keys_scope": "all", "keys_neighbors": 10, **cfg}  # the fixture index holds no library
    config = SearchConfig(expand=False, correct_typos=False, **cfg)
    return Searcher(data, FakeEmbedder(), config, rules=())


def test_the_reranker_orders_the_search_and_its_score_is_shown(library_like):
    plain = searcher(library_like, keys_neighbors=0).search(ASKED, 3)
    assert plain[0].chunk.article != 3 and all(h.rerank_score is None for h in plain)
    s = searcher(library_like, rerank=True)
    s._reranker = Reranker(KeyFirst(), {})
    hits = s.search(ASKED, 3)
    assert hits[0].chunk.article == 3
    assert [h.rerank_score for h in hits] == sorted((h.rerank_score for h in hits), reverse=True)
    assert hits[0].to_dict()["scores"]["rerank"] == pytest.approx(hits[0].rerank_score, abs=1e-6)
    third = next(h for h in plain if h.chunk.article == 3)
    assert hits[0].key_score is not None and hits[0].dense_rank == third.dense_rank > 1  # the ranks stay its own


def test_no_reranker_where_the_keys_do_not_apply(library_like):
    s = searcher(library_like, rerank=True, keys_scope="library")  # the fixture holds no library
    assert s.reranker is None
    assert all(h.rerank_score is None for h in s.search(ASKED, 3))


def test_the_candidates_are_what_a_reranked_search_scores(library_like):
    s = searcher(library_like, rerank=True)
    s._reranker = Reranker(KeyFirst(), {})
    pool = s.candidates(ASKED)
    best = pool.rows[int(np.argmax(KeyFirst().predict(pool.features)))]
    assert s.search(ASKED, 1)[0].chunk is s.chunks[best]


def test_a_model_file_round_trips_and_bad_ones_name_the_fix(tmp_path):
    import lightgbm

    rng = np.random.default_rng(0)
    X = rng.random((60, len(FEATURES)))
    y = (X[:, 0] > 0.5).astype(int)
    model = lightgbm.LGBMRanker(n_estimators=5, min_child_samples=2, verbose=-1).fit(X, y, group=[10] * 6)
    save_model(tmp_path / "r.json", model.booster_.model_to_string(), {"note": "test"})
    back = Reranker.load(tmp_path / "r.json")
    assert np.allclose(back.score(X), model.predict(X)) and back.meta == {"note": "test"}
    with pytest.raises(RerankerError, match="找不到重排序模型.*train_reranker"):
        Reranker.load(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(RerankerError, match="bad.json 无法读取"):
        Reranker.load(tmp_path / "bad.json")
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1]
    (tmp_path / "old.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RerankerError, match="特征"):
        Reranker.load(tmp_path / "old.json")


def test_the_shipped_model_was_trained_with_the_shipped_keys():
    model = Reranker.load(DEFAULT_RERANKER)
    assert model.meta["keys_sha256"] == hashlib.sha256(DEFAULT_KEYS.read_bytes()).hexdigest()
    assert model.meta["tune_questions"]["stard"] > 500
    assert model.score(np.zeros((2, len(FEATURES)))).shape == (2,)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("rerank", "yes", "rerank must be true or false"),
    ("rerank_candidates", 0, "rerank_candidates must be an integer of at least 1"),
])
def test_bad_rerank_settings_are_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        SearchConfig(**{field: value})
