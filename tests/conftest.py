"""Shared fixtures: where the read-only reference data lives, and the repo paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from legalqa.index.embedder import FakeEmbedder

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"


class CountingEmbedder(FakeEmbedder):
    """A FakeEmbedder that records the passages it embeds (``texts``), and how many calls it got."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self.calls = 0

    @property
    def embedded(self) -> int:
        return len(self.texts)

    def embed_documents(self, texts, batch_size=64, show_progress=False):
        self.calls += 1
        self.texts += list(texts)
        return super().embed_documents(texts, batch_size, show_progress)


def shared_path() -> Path:
    """../shared beside the checkout, or $LEGALQA_SHARED."""
    return Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = shared_path()
    if not (path / "laws").is_dir():
        pytest.skip(f"reference data not found at {path} (set LEGALQA_SHARED to its folder)")
    return path


@pytest.fixture(scope="session")
def fake_engine(tmp_path_factory):
    """An Engine over an index of the default corpus built with the FakeEmbedder: fast, no model. Never rebuild it."""
    from legalqa.config import load_settings
    from legalqa.engine import Engine

    home = tmp_path_factory.mktemp("fake-home")
    engine = Engine(load_settings(env={}).with_(home=home, index_dir=home / "index", model="fake"))
    engine.build([CORPUS])
    return engine


@pytest.fixture(scope="session")
def real_engine(tmp_path_factory):
    """An Engine over a fresh index of the default corpus, built once with the real default model."""
    from legalqa.config import load_settings
    from legalqa.engine import Engine

    home = tmp_path_factory.mktemp("legalqa-home")
    engine = Engine(load_settings().with_(home=home, index_dir=home / "index"))
    engine.build()
    return engine


@pytest.fixture(scope="session")
def real_settings(real_engine):
    return real_engine.settings


@pytest.fixture(scope="session")
def real_searcher(real_engine):
    return real_engine.searcher


@pytest.fixture(scope="session")
def real_composer(real_engine):
    return real_engine.composer


@pytest.fixture(scope="session")
def fake_searcher(tmp_path_factory):
    """A searcher over an index of the default corpus built with FakeEmbedder: exact and fast, for
    everything that does not need real embeddings (the citation checker never searches)."""
    from legalqa.index.embedder import FakeEmbedder
    from legalqa.index.search import Searcher
    from legalqa.index.store import build_index, load_index
    from legalqa.ingest.pipeline import ingest

    corpus = ingest([CORPUS])
    path = tmp_path_factory.mktemp("fake-index") / "index"
    emb = FakeEmbedder()
    build_index(path, corpus.chunks, corpus.sources, emb, report=corpus.report.to_dict())
    return Searcher(load_index(path), emb)
