"""LangChain faces over the same search and model: a retriever and an Embeddings."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from legalqa.engine import Engine
from legalqa.index.embedder import Embedder
from legalqa.index.search import Hit


def hit_to_document(hit: Hit) -> Document:
    data = hit.to_dict()
    text = data.pop("text")
    return Document(page_content=text, metadata=data, id=hit.chunk.id)


class LegalQARetriever(BaseRetriever):
    """Returns statute articles and article passages as Documents with citation and score metadata.

    ``engine`` defaults to an Engine over the configured index, made on first use and kept by
    this retriever. ``filters`` is the dict ``Engine.search`` takes (law, kind, status, heading,
    collection), passed through as it is: ``{"law": "民法典", "heading": "合同编"}``. Without a
    status, repealed and historical law versions are left out.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: Engine | None = None
    k: int = 5
    filters: dict[str, Any] | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        if self.engine is None:
            self.engine = Engine()
        return [hit_to_document(h) for h in self.engine.hits(query, self.k, self.filters)]


class LegalQAEmbeddings(Embeddings):
    """The index's embedding model, with E5's query/passage sides handled for you."""

    def __init__(self, embedder: Embedder | None = None):
        self.embedder = embedder if embedder is not None else Engine().embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_documents(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()
