"""Settings in one place: legalqa/defaults.toml, overridden by environment variables."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from legalqa.index.config import DENSE_KINDS as KINDS
from legalqa.index.config import SearchConfig
from legalqa.qa.config import AnswerConfig

PROJECT = Path(__file__).resolve().parents[1]
DEFAULTS = Path(__file__).with_name("defaults.toml")


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

    @property
    def cache_dir(self) -> Path:
        return self.home / "embedding-cache"

    @property
    def user_docs(self) -> Path:
        """Uploaded documents: a separate collection, indexed beside the default corpus."""
        return self.home / "user-docs"

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
    return Settings(
        corpus=tuple(_path(p) for p in corpus),
        home=home,
        index_dir=_path(env["LEGALQA_INDEX"]) if env.get("LEGALQA_INDEX") else home / "index",
        model=env.get("LEGALQA_MODEL") or model.get("name", "legalqa-e5-small"),
        search=SearchConfig(**search_args),
        answer=AnswerConfig(**raw.get("answer", {})),
        dense_kind=dense_kind,
        doc_hints=bool(retrieval.get("doc_hints", True)),
    )
