"""Embeddings kept on disk by (model, text), so a build embeds only text it has not seen, and a
killed build loses nothing it embedded.

A cache folder holds, per model (a hash of its name):

    <model>.npz            keys (sha256 of each text) and their vectors: the settled cache
    <model>.part-*.npz     one file per batch embedded since: written as soon as the batch is done

Every file is written to a temporary name and renamed into place, so a file is whole or absent,
never half written; keys and vectors live in one file, so they cannot disagree. Loading reads the
settled file and every part. ``embed`` folds the parts into the settled file when it finishes (and
every ``FOLD_PARTS`` parts, so a long build does not leave thousands of files); a build killed at
any moment is resumed by the next one from the last batch it finished. No pickles.

Caches written before parts existed (``<model>.npy`` beside ``<model>.keys.json``) are read and
replaced by ``<model>.npz`` on the next save.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from legalqa.index.embedder import Embedder
from tqdm import tqdm

BATCH = 64  # texts per batch written to a part: a few seconds of embedding with the default model
FOLD_PARTS = 64  # parts that trigger folding them into one
STALE_TMP_SECONDS = 3600  # a temporary file this old belongs to no running write


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors by text for one model in ``folder``.

    Args:
        folder: the cache folder (created on the first save).
        model: the embedding model's name; each model has its own files.
        batch: texts embedded (and saved) at a time.
    """

    def __init__(self, folder: Path, model: str, *, batch: int = BATCH):
        if isinstance(batch, bool) or not isinstance(batch, int) or batch <= 0:
            raise ValueError(f"batch must be a positive integer. Currently, batch is {batch!r}")
        self.folder = Path(folder)
        self.slug = hashlib.sha256(model.encode()).hexdigest()[:12]
        self.path = self.folder / f"{self.slug}.npz"
        self.batch = batch
        self.rows: dict[str, int] = {}
        self._blocks: list[np.ndarray] = []  # vectors in row order, stacked on demand
        self._parts: list[Path] = []  # part files read or written since the last fold
        self._load()

    # -- reading ---------------------------------------------------------------------------
    def _load(self) -> None:
        settled = _read(self.path) if self.path.is_file() else self._legacy()
        if settled is not None:
            self._add(*settled)
        for part in sorted(self.folder.glob(f"{self.slug}.part-*.npz")):
            got = _read(part)
            if got is not None:  # a damaged part (a disk error) is skipped: its texts are embedded again
                self._add(*got)
                self._parts.append(part)

    def _legacy(self) -> tuple[list[str], np.ndarray] | None:
        try:
            keys = json.loads((self.folder / f"{self.slug}.keys.json").read_text())
            vectors = np.load(self.folder / f"{self.slug}.npy", allow_pickle=False)
        except (OSError, ValueError):
            return None
        return (keys, vectors) if isinstance(keys, list) and len(keys) == len(vectors) else None

    def _add(self, keys: list[str], vectors: np.ndarray) -> None:
        new = [i for i, k in enumerate(keys) if k not in self.rows]
        if not new:
            return
        if self._blocks and vectors.shape[1] != self._blocks[0].shape[1]:
            return  # another dimension: not this model's vectors
        base = len(self.rows)
        for j, i in enumerate(new):
            self.rows[keys[i]] = base + j
        self._blocks.append(np.ascontiguousarray(vectors[new], dtype=np.float32))

    @property
    def vectors(self) -> np.ndarray:
        if len(self._blocks) > 1:
            self._blocks = [np.concatenate(self._blocks)]
        return self._blocks[0] if self._blocks else np.zeros((0, 0), np.float32)

    def __len__(self) -> int:
        return len(self.rows)

    @staticmethod
    def key(text: str) -> str:
        return text_key(text)

    def seed(self, keys: tuple[str, ...] | list[str], vectors: np.ndarray, texts: list[str]) -> int:
        """Take precomputed vectors (``index/seeds.py``) for those of ``texts`` not cached yet.

        Only the texts asked for are taken, so a small build does not grow the cache by the whole
        library. They are saved as a part, like an embedded batch. Returns how many were taken.
        """
        where = {k: i for i, k in enumerate(keys)}
        want = sorted({k for k in (self.key(t) for t in texts) if k not in self.rows and k in where})
        if not want:
            return 0
        if self._blocks and vectors.shape[1] != self._blocks[0].shape[1]:
            return 0  # another dimension: not this model's vectors
        got = np.ascontiguousarray(vectors[[where[k] for k in want]], dtype=np.float32)
        self._save_part(want, got)
        self._add(want, got)
        return len(want)

    # -- embedding -------------------------------------------------------------------------
    def missing(self, texts: list[str]) -> list[tuple[str, str]]:
        """(key, text) of the distinct texts not cached yet, in key order."""
        return sorted({k: t for k, t in ((self.key(t), t) for t in texts) if k not in self.rows}.items())

    def embed(
        self,
        texts: list[str],
        embedder: Embedder,
        progress: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> tuple[np.ndarray, int]:
        """Vectors for ``texts``, embedding only the ones not cached. Returns (vectors, newly embedded).

        Each batch is saved as soon as it is embedded. ``progress`` shows a bar with counts and
        the time left; ``on_progress(done, total)`` is called after each batch.
        """
        todo = self.missing(texts)
        if todo:
            bar = tqdm(total=len(todo), desc="计算向量", unit="条", disable=not progress, smoothing=0.1)
            try:
                for start in range(0, len(todo), self.batch):
                    chunk = todo[start : start + self.batch]
                    vectors = embedder.embed_documents([t for _, t in chunk])
                    keys = [k for k, _ in chunk]
                    self._save_part(keys, vectors)
                    self._add(keys, vectors)
                    bar.update(len(chunk))
                    if on_progress is not None:
                        on_progress(min(start + self.batch, len(todo)), len(todo))
                    if len(self._parts) >= FOLD_PARTS:
                        self._fold_parts()
            finally:
                bar.close()
        self.settle()  # also folds the parts a killed build left, when nothing new was needed
        if not texts:
            return np.zeros((0, embedder.dim), np.float32), 0
        return self.vectors[[self.rows[self.key(t)] for t in texts]], len(todo)

    # -- writing ---------------------------------------------------------------------------
    def _save_part(self, keys: list[str], vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        part = self.folder / f"{self.slug}.part-{time.time_ns():020d}-{os.getpid()}.npz"
        _write(part, keys, vectors)
        self._parts.append(part)

    def _fold_parts(self) -> None:
        """The parts read or written so far as one part (the settled file is left as it is)."""
        if len(self._parts) < 2:
            return
        keys, vectors = [], []
        for part in self._parts:
            got = _read(part)
            if got is not None:
                keys += got[0]
                vectors.append(got[1])
        old = self._parts
        self._parts = []
        if vectors:
            self._save_part(keys, np.concatenate(vectors))
        for part in old:
            part.unlink(missing_ok=True)

    def settle(self) -> None:
        """Everything cached into the settled file; the parts and any legacy files are removed.

        What another build settled meanwhile is read first, so two builds sharing a cache keep
        each other's vectors.
        """
        if not self._parts and self.path.is_file():
            return
        if not self.rows:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        other = _read(self.path) if self.path.is_file() else None
        if other is not None:
            self._add(*other)
        keys = [k for k, _ in sorted(self.rows.items(), key=lambda kv: kv[1])]
        _write(self.path, keys, self.vectors)
        for part in self._parts:
            part.unlink(missing_ok=True)
        self._parts = []
        for legacy in (f"{self.slug}.npy", f"{self.slug}.keys.json"):
            (self.folder / legacy).unlink(missing_ok=True)
        for tmp in self.folder.glob(".tmp-*.npz"):  # left by a process killed while writing
            if time.time() - tmp.stat().st_mtime > STALE_TMP_SECONDS:
                tmp.unlink(missing_ok=True)


def _write(path: Path, keys: list[str], vectors: np.ndarray) -> None:
    """keys and vectors in one .npz, renamed into place once complete."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", suffix=".npz", delete=False) as f:
        np.savez(f, keys=np.array(keys, dtype="U64"), vectors=np.asarray(vectors, dtype=np.float32))
        f.flush()
        os.fsync(f.fileno())
    os.replace(f.name, path)


def _read(path: Path) -> tuple[list[str], np.ndarray] | None:
    """(keys, vectors) of a cache file, or None when it is unreadable or inconsistent."""
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = [str(k) for k in data["keys"]]
            vectors = np.asarray(data["vectors"], dtype=np.float32)
    except Exception:  # noqa: BLE001 - any unreadable file (bad zip, truncated array) means the same: skip it
        return None
    if vectors.ndim != 2 or len(keys) != len(vectors):
        return None
    return keys, vectors
