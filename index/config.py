"""Search settings: a plain dataclass with no heavy imports, so reading settings loads no model or index."""

from __future__ import annotations

from dataclasses import dataclass

DENSE_KINDS = ("flat", "hnsw", "ivf")
BACKENDS = ("faiss", "qdrant")  # where the dense and BM25 retrievers run (index/backends/)
FUSIONS = ("engine", "local")  # where an engine backend fuses the two rankings
KEYS_SCOPES = ("library", "all")  # which indexes the known-question keys apply to (index/keys.py)
MAX_QUERY_CHARS = 2000
MAX_K = 100


@dataclass(frozen=True)
class SearchConfig:
    """How the hybrid searcher ranks; legalqa/defaults.toml [retrieval] overrides the defaults."""

    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    candidates: int = 50  # per retriever, before fusion
    expand: bool = True
    expand_dense: bool = False  # expanded terms are keywords: they help BM25 more than embeddings
    disabled_rules: frozenset[str] = frozenset()
    # One article can fill a whole page of hits with its passages; past this many passages from
    # one prose source, further ones move below the other results (statutes are not limited).
    max_per_source: int = 1
    correct_typos: bool = True  # 网代 → 网贷: pinyin homophones of domain words (index/spelling.py)
    # Known questions as dense keys for their gold articles (index/keys.py): the nearest
    # ``keys_neighbors`` keys lift their articles to (key similarity - ``keys_offset``); 0 turns them off.
    keys_neighbors: int = 0
    keys_offset: float = 0.0
    keys_scope: str = "library"  # library: only over an index that holds the statute library; all: any index
    keys_min_similarity: float = 0.0  # keys less similar to the question than this are not neighbors
    keys_law_prior: float = 0.0  # added to a candidate's fused score × its law's share of the keys' votes
    keys_heading_prior: float = 0.0  # … × its chapter's share
    # The learned re-ranker (index/rerank.py) orders the candidates wherever the keys apply; it
    # replaces the keys' offset and priors above. Each retriever returns ``rerank_candidates``.
    rerank: bool = False
    rerank_candidates: int = 100

    def __post_init__(self) -> None:
        def integer(name: str, low: int) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer of at least {low}. Currently, {name} is {value!r}")

        integer("rrf_k", 1)
        integer("candidates", 1)
        integer("max_per_source", 0)
        integer("keys_neighbors", 0)
        integer("rerank_candidates", 1)
        if self.keys_scope not in KEYS_SCOPES:
            raise ValueError(f"keys_scope must be one of {KEYS_SCOPES}. Currently, keys_scope is {self.keys_scope!r}")
        if isinstance(self.keys_min_similarity, bool) or not isinstance(self.keys_min_similarity, int | float) or not -1 <= self.keys_min_similarity <= 1:
            raise ValueError(f"keys_min_similarity must be a number from -1 to 1. Currently, it is {self.keys_min_similarity!r}")
        if isinstance(self.keys_offset, bool) or not isinstance(self.keys_offset, int | float) or not -1 <= self.keys_offset <= 2:
            raise ValueError(f"keys_offset must be a number from -1 to 2. Currently, keys_offset is {self.keys_offset!r}")
        for name in ("dense_weight", "bm25_weight", "keys_law_prior", "keys_heading_prior"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number of at least 0. Currently, {name} is {value!r}")
        if self.dense_weight == 0 and self.bm25_weight == 0:
            raise ValueError("dense_weight and bm25_weight cannot both be 0: nothing would rank the hits")
        for name in ("expand", "expand_dense", "correct_typos", "rerank"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false. Currently, {name} is {getattr(self, name)!r}")
        rules = self.disabled_rules
        if isinstance(rules, str) or not all(isinstance(r, str) for r in rules):
            raise ValueError(f"disabled_rules must be a list of rule names. Currently, it is {rules!r}")
        object.__setattr__(self, "disabled_rules", frozenset(rules))


class BackendConfigError(ValueError):
    """A BackendConfig value it cannot take: ``setting`` is its [index] key, ``rule`` what it must be."""

    def __init__(self, setting: str, value: object, rule: str) -> None:
        self.setting, self.value, self.rule = setting, value, rule
        super().__init__(f"[index] {setting} {rule}，现在是 {value!r}")


@dataclass(frozen=True)
class BackendConfig:
    """Where retrieval runs; legalqa/defaults.toml [index] overrides the defaults.

    ``faiss`` keeps everything in the index folder (dense.faiss + bm25/). ``qdrant`` keeps the
    vectors and the BM25 term weights in a Qdrant collection: a server at ``uri``, or the
    embedded store at ``path`` when no uri is given. The API key is read from the environment
    (LEGALQA_QDRANT_API_KEY) when connecting, never stored in settings or the manifest.
    """

    name: str = "faiss"
    uri: str = ""  # http(s)://host:6333 for a Qdrant server; empty for the embedded store
    path: str = ""  # the embedded store's folder; empty: beside the index folder (<index>.qdrant)
    collection: str = "legalqa"
    fusion: str = "engine"  # engine: RRF in Qdrant's Query API; local: RRF in the Searcher

    def __post_init__(self) -> None:
        # The one check of these values, for settings files and Python callers alike; load_settings
        # names where a bad value came from (the file or an environment variable).
        if self.name not in BACKENDS:
            raise BackendConfigError("backend", self.name, f"只能是 {'、'.join(BACKENDS)}")
        if self.fusion not in FUSIONS:
            raise BackendConfigError("fusion", self.fusion, f"只能是 {'、'.join(FUSIONS)}")
        if not isinstance(self.uri, str) or self.uri and not self.uri.startswith(("http://", "https://")):
            raise BackendConfigError("uri", self.uri, "应是 http:// 或 https:// 开头的地址，例如 http://localhost:6333")
        if not isinstance(self.collection, str) or not self.collection.strip() or "/" in self.collection:
            raise BackendConfigError("collection", self.collection, "应是不含 / 的名字")
        if not isinstance(self.path, str):
            raise BackendConfigError("path", self.path, "应是文件夹路径（文字）")
