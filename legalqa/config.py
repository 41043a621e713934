"""Settings in one place: legalqa/defaults.toml, overridden by environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import tomllib

from index.search import SearchConfig
from qa.compose import AnswerConfig

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


def _path(value: str | Path) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else PROJECT / p


def load_settings(path: Path = DEFAULTS, env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    paths, model, retrieval = raw.get("paths", {}), raw.get("model", {}), raw.get("retrieval", {})
    home = _path(env.get("LEGALQA_HOME") or paths.get("home", ".legalqa"))
    corpus_env = env.get("LEGALQA_CORPUS")
    corpus = corpus_env.split(os.pathsep) if corpus_env else paths.get("corpus", ["corpus"])
    known = set(SearchConfig.__dataclass_fields__)
    search_args = {k: v for k, v in retrieval.items() if k in known}
    if "disabled_rules" in search_args:
        search_args["disabled_rules"] = frozenset(search_args["disabled_rules"])
    search = SearchConfig(**search_args)
    answer = AnswerConfig(**raw.get("answer", {}))
    return Settings(
        corpus=tuple(_path(p) for p in corpus),
        home=home,
        index_dir=_path(env["LEGALQA_INDEX"]) if env.get("LEGALQA_INDEX") else home / "index",
        model=env.get("LEGALQA_MODEL") or model.get("name", "legalqa-e5-small"),
        search=search,
        answer=answer,
        dense_kind=retrieval.get("dense_kind", "flat"),
        doc_hints=bool(retrieval.get("doc_hints", True)),
    )
