"""The user collection: uploaded documents kept in ``Settings.user_docs``, indexed beside the corpus.

``add`` validates each file (it must load, and yield at least one searchable
passage) before it goes in; a bad file is reported and the others still go in.
``remove`` takes one out again. Both leave the index alone: call ``rebuild``
afterwards so the change is searched. The default corpus is never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from legalqa.config import Settings, load_settings
from legalqa.ingest.loaders import SUFFIXES
from legalqa.ingest.pipeline import IngestReport, ingest

MAX_BYTES = 20 * 1024 * 1024
MAX_NAME_CHARS = 120
STAGING = ".incoming"  # ingest skips dot-folders, so a half-written upload is never indexed
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


class UploadError(ValueError):
    """An uploaded file that cannot join the collection; the message names it and says why."""


@dataclass(frozen=True)
class UserDoc:
    name: str
    path: Path
    size: int  # bytes
    modified: float  # seconds since the epoch


@dataclass(frozen=True)
class AddResult:
    name: str  # the name the file was saved under (or was offered as, when it failed)
    ok: bool
    message: str  # what happened, in Chinese, for the page
    chunks: int = 0
    replaced: bool = False


def safe_name(name: str) -> str:
    """The file's own name with path parts and unsafe characters removed.

    Raises:
        UploadError: the name is empty, hidden or has a suffix the loaders cannot read.
    """
    if not isinstance(name, str):
        raise UploadError(f"文件名必须是文字，现在是 {type(name).__name__}")
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = _UNSAFE.sub("_", base)
    if not base or base.startswith("."):
        raise UploadError(f"{name!r}: 文件名无效；请给文件起一个不以“.”开头的名字")
    suffix = Path(base).suffix.lower()
    if suffix not in SUFFIXES:
        raise UploadError(f"{base}: 不支持的文件类型 {suffix or '(无扩展名)'}；支持 {', '.join(SUFFIXES)}")
    if len(base) > MAX_NAME_CHARS:
        base = base[: MAX_NAME_CHARS - len(suffix)] + suffix
    return base


def validate(path: Path) -> int:
    """How many searchable chunks the file yields.

    Raises:
        UploadError: the file cannot be read, or ingest finds nothing to index in it.
    """
    result = ingest([path], collection="user")  # an unreadable file comes back in report.errors
    if result.report.errors:
        raise UploadError("；".join(result.report.errors))
    if not result.chunks:
        raise UploadError(f"{path.name}: 没有找到可以检索的正文")
    return len(result.chunks)


def add(files: Iterable[tuple[str, bytes]], s: Settings | None = None) -> list[AddResult]:
    """Validate and save uploaded files ``(name, content)`` into the user collection.

    Each file is checked on its own: a bad one gets a result with ``ok=False`` and
    a message saying why, and the rest still go in. The index is not rebuilt here.
    """
    s = s or load_settings()
    folder = s.user_docs
    staging = folder / STAGING
    staging.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for name, data in files:
            results.append(_add_one(name, data, folder, staging))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return results


def _add_one(name: str, data: bytes, folder: Path, staging: Path) -> AddResult:
    try:
        target = safe_name(name)
        if not isinstance(data, bytes | bytearray):
            raise UploadError(f"{target}: 文件内容必须是字节，现在是 {type(data).__name__}")
        if len(data) > MAX_BYTES:
            raise UploadError(f"{target}: 文件太大（{len(data) / 1e6:.1f} MB）；单个文件最多 {MAX_BYTES // 2**20} MB")
        # Validate under the real name (loaders read the suffix; messages quote the name) in a private folder.
        trial_dir = Path(tempfile.mkdtemp(dir=staging))
        trial = trial_dir / target
        trial.write_bytes(bytes(data))
        chunks = validate(trial)
        replaced = (folder / target).exists()
        os.replace(trial, folder / target)
    except UploadError as exc:
        return AddResult(str(name), False, str(exc))
    message = f"{target}: 已加入（{chunks} 个段落）" + ("，替换了同名文件" if replaced else "")
    return AddResult(target, True, message, chunks, replaced)


def list_docs(s: Settings | None = None) -> list[UserDoc]:
    """The documents in the user collection, by name."""
    s = s or load_settings()
    if not s.user_docs.is_dir():
        return []
    docs = []
    for p in sorted(s.user_docs.iterdir()):
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUFFIXES:
            st = p.stat()
            docs.append(UserDoc(p.name, p, st.st_size, st.st_mtime))
    return docs


def remove(name: str, s: Settings | None = None) -> None:
    """Delete one document from the user collection (never from the default corpus).

    Raises:
        UploadError: no uploaded document has that name.
    """
    s = s or load_settings()
    target = s.user_docs / safe_name(name)
    if not target.is_file():
        raise UploadError(f"{name}: 上传的文档里没有这个文件")
    target.unlink()


def rebuild(
    s: Settings | None = None, on_progress: Callable[[float, str], None] | None = None
) -> tuple[dict, IngestReport]:
    """Rebuild the index over the default corpus plus the user collection, so changes are searched."""
    from legalqa import engine

    return engine.build(s or load_settings(), on_progress=on_progress)
