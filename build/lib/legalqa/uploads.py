"""The user collection: uploaded documents kept in ``Settings.user_docs``, indexed beside the corpus.

``add`` validates each file (it must load, and yield at least one searchable
passage) before any goes in: a batch goes in whole, or not at all.
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
MAX_NAME_BYTES = 200  # UTF-8; file systems allow 255, and a Chinese character takes 3
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
    valid: bool = False  # the file itself passed the checks (it may still wait for a bad file in its batch)


def safe_name(name: str) -> str:
    """The file's own name with path parts and unsafe characters removed.

    Raises:
        UploadError: the name is empty, hidden, too long for a file system, or has a suffix the
            loaders cannot read.
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
    size = len(base.encode("utf-8"))
    if len(base) > MAX_NAME_CHARS or size > MAX_NAME_BYTES:
        raise UploadError(
            f"{base[:20]}…{suffix}: 文件名太长（{len(base)} 字，{size} 字节；最多 {MAX_NAME_CHARS} 字、"
            f"{MAX_NAME_BYTES} 字节）；请把文件改个短一点的名字再添加"
        )
    return base


def validate(path: Path) -> int:
    """How many searchable chunks the file yields.

    Raises:
        UploadError: the file cannot be read, or ingest finds nothing to index in it.
    """
    result = ingest([path], collection="user", official=False)  # an unreadable file comes back in report.errors
    if result.report.errors:
        raise UploadError("；".join(result.report.errors))
    if not result.chunks:
        raise UploadError(f"{path.name}: 没有找到可以检索的正文")
    return len(result.chunks)


def _writable(folder: Path) -> Path:
    """The staging folder inside ``folder``, created; an unwritable home is one clear UploadError."""
    staging = folder / STAGING
    try:
        staging.mkdir(parents=True, exist_ok=True)
        probe = Path(tempfile.mkdtemp(dir=staging))
        probe.rmdir()
    except OSError as exc:
        raise UploadError(
            f"无法写入上传文件夹 {folder}（{exc.strerror or exc}）；请把 LEGALQA_HOME 设为一个可写的文件夹"
        ) from exc
    return staging


def add(files: Iterable[tuple[str, bytes]], s: Settings | None = None) -> list[AddResult]:
    """Validate and save uploaded files ``(name, content)`` into the user collection, all or nothing.

    Every file is checked first. When any one fails, none is saved: each file gets a result
    saying why (or that it waited for the others), and the collection is unchanged. When all
    pass, they are moved in together; a failure while moving puts back what was there before.
    The index is not rebuilt here.
    """
    s = s or load_settings()
    files = list(files)
    folder = s.user_docs
    if not files:
        raise UploadError("没有要添加的文件")
    staging = _writable(folder)
    try:
        checked = [_check_one(name, data, staging) for name, data in files]
        targets = [c[1] for c in checked if isinstance(c, tuple)]
        dupes = {t for t in targets if targets.count(t) > 1}
        if dupes:
            checked = [UploadError(f"{c[1]}: 同一批里有两个文件都叫这个名字；请改名后再添加")
                       if isinstance(c, tuple) and c[1] in dupes else c for c in checked]
        if any(isinstance(c, UploadError) for c in checked):
            return [
                AddResult(str(name), False, str(c)) if isinstance(c, UploadError)
                else AddResult(c[1], False, f"{c[1]}: 检查通过，但同一批里有文件出错，所以整批都没有加入", c[2], valid=True)
                for (name, _), c in zip(files, checked, strict=True)
            ]
        return _commit([c for c in checked if isinstance(c, tuple)], folder, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def add_files(paths: Iterable[Path], s: Settings | None = None) -> list[AddResult]:
    """``add`` for files on disk (the `legalqa add` command); a missing or oversized file is refused."""
    items = []
    for p in map(Path, paths):
        if not p.is_file():
            raise UploadError(f"{p}: 不是一个存在的文件；请检查路径")
        if p.stat().st_size > MAX_BYTES:
            raise UploadError(f"{p.name}: 文件太大（{p.stat().st_size / 1e6:.1f} MB）；单个文件最多 {MAX_BYTES // 2**20} MB")
        items.append((p.name, p.read_bytes()))
    return add(items, s)


def _check_one(name: str, data: bytes, staging: Path) -> tuple[Path, str, int] | UploadError:
    """(the validated file in staging, its target name, its chunk count), or what is wrong with it."""
    try:
        target = safe_name(name)
        if not isinstance(data, bytes | bytearray):
            raise UploadError(f"{target}: 文件内容必须是字节，现在是 {type(data).__name__}")
        if len(data) > MAX_BYTES:
            raise UploadError(f"{target}: 文件太大（{len(data) / 1e6:.1f} MB）；单个文件最多 {MAX_BYTES // 2**20} MB")
        # Validate under the real name (loaders read the suffix; messages quote the name) in a private folder.
        trial = Path(tempfile.mkdtemp(dir=staging)) / target
        try:
            trial.write_bytes(bytes(data))
        except OSError as exc:
            raise UploadError(f"{target}: 无法保存（{exc.strerror or exc}）") from exc
        return trial, target, validate(trial)
    except UploadError as exc:
        return exc


def _commit(checked: list[tuple[Path, str, int]], folder: Path, staging: Path) -> list[AddResult]:
    """Move validated files into ``folder``; on any failure, undo the moves already made."""
    backups = Path(tempfile.mkdtemp(dir=staging))
    done: list[tuple[str, bool]] = []  # (name, replaced)
    try:
        for trial, target, _ in checked:
            replaced = (folder / target).exists()
            if replaced:
                os.replace(folder / target, backups / target)
            done.append((target, replaced))
            os.replace(trial, folder / target)
    except OSError as exc:
        for target, replaced in reversed(done):
            (folder / target).unlink(missing_ok=True)
            if replaced:
                os.replace(backups / target, folder / target)
        raise UploadError(f"保存文件时出错（{exc.strerror or exc}），这一批文件都没有加入") from exc
    results = []
    for (_, target, chunks), (_, replaced) in zip(checked, done, strict=True):
        message = f"{target}: 已加入（{chunks} 个段落）" + ("，替换了同名文件" if replaced else "")
        results.append(AddResult(target, True, message, chunks, replaced, valid=True))
    return results


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
    from legalqa.engine import Engine

    return Engine(s or load_settings()).build(on_progress=on_progress)
