"""Hybrid retrieval: exact article lookup, then dense + BM25 fused by reciprocal rank.

The two retrievers run in a backend (index/backends/: faiss + bm25s in the index folder, or
a Qdrant engine); what happens around them (typo correction, expansion, exact lookup, fusion
when the backend did not fuse, one passage per source) is here, the same for every backend.

``Searcher.search(query, k, filters) -> list[Hit]`` is the one entry point;
``Searcher.run`` also returns what happened (expansions fired, exact matches).
"""

from __future__ import annotations

import copy
import time
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np
from legalqa.index.backends.base import Backend, Request
from legalqa.index.backends.faiss import FaissBackend
from legalqa.index.config import MAX_K, MAX_QUERY_CHARS, SearchConfig
from legalqa.index.embedder import Embedder
from legalqa.index.expansion import Expansion, Rule, expand
from legalqa.index.fusion import reciprocal_rank_fusion
from legalqa.index.keys import QuestionKeys, ResolvedKeys, merge_dense
from legalqa.index.rerank import Pool, PoolBuilder, Reranker, chapter
from legalqa.index.spelling import Correction, Speller, dictionary_words, domain_words
from legalqa.index.store import IndexData
from legalqa.ingest.aliases import AliasTable
from legalqa.ingest.citations import CitationRef, find_citations
from legalqa.ingest.models import AMENDED, IN_FORCE, NOT_IN_FORCE, Chunk

ANY_STATUS = "all"  # a status filter value that admits every version, repealed and historical included
STATUSES = (IN_FORCE, AMENDED, *NOT_IN_FORCE)
FILTER_NAMES = ("law", "kind", "status", "heading", "collection")


def _status_order(status: str) -> tuple[int, str]:
    return (STATUSES.index(status) if status in STATUSES else len(STATUSES), status)


def _heading_names(heading: str) -> set[str]:
    """What a filter may call a heading: all of it, its number, its words, and X编 for a part's words X.

    Spaces are dropped, so "第三编合同" matches too.

    >>> sorted(_heading_names("第三编 合同"))
    ['合同', '合同编', '第三编', '第三编合同']
    """
    number, _, words = heading.partition(" ")
    names = {heading, number}
    if words:
        names |= {words, words + "编"} if number.endswith("编") else {words}
    elif heading.endswith("编") and not heading.startswith("第"):  # 婚姻家庭编, as LawRefBook names a part
        names.add(heading.removesuffix("编"))
    return {"".join(n.split()) for n in names}


class QueryError(ValueError):
    """A query or search argument the user must change; the message says how."""


@dataclass(frozen=True)
class Filters:
    """Which chunks a search may return. Empty fields admit everything, except status:

    with no ``statuses``, repealed (已废止) and historical (历史版本) law versions are left out, so
    search and answers default to laws in force; naming statuses admits exactly those
    (``ANY_STATUS`` admits all). ``headings`` are full 编/分编/章/节 headings as the index holds
    them (``Searcher.resolve_filters`` finds them from "第三编", "合同编" or "保证合同").
    """

    laws: tuple[str, ...] = ()  # full names (aliases are resolved by Searcher)
    kinds: tuple[str, ...] = ()  # "statute" / "article"
    statuses: tuple[str, ...] = ()
    collections: tuple[str, ...] = ()
    headings: tuple[str, ...] = ()

    def admits(self, c: Chunk) -> bool:
        return (
            (not self.laws or (c.law or c.title) in self.laws)
            and (not self.kinds or c.kind in self.kinds)
            and self.admits_status(c.status)
            and (not self.collections or c.collection in self.collections)
            and (not self.headings or any(h in self.headings for h in c.heading_path))
        )

    def admits_named(self, c: Chunk) -> bool:
        """``admits``, for an article the question names by number: with no status filter, a
        repealed or historical version is admitted too (the person asked for it; answers say its status)."""
        return self.admits(c) or (not self.statuses and replace(self, statuses=(ANY_STATUS,)).admits(c))

    def admits_status(self, status: str) -> bool:
        if not self.statuses:
            return status not in NOT_IN_FORCE
        return ANY_STATUS in self.statuses or status in self.statuses


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    rank: int
    score: float  # fused RRF score (exact matches rank first regardless)
    dense_score: float | None = None  # cosine similarity
    bm25_score: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None
    exact: bool = False  # the question named this article
    key_score: float | None = None  # similarity of its best known-question key, minus the offset (index/keys.py)
    rerank_score: float | None = None  # the learned re-ranker's score, when it ordered the search (index/rerank.py)

    @property
    def citation(self) -> str:
        if self.chunk.citation and self.chunk.provenance == "official":
            return self.chunk.citation
        where = "《" + self.chunk.title + "》" + ("·" + self.chunk.heading_path[-1] if self.chunk.heading_path else "")
        return ("上传的文档" + where) if self.chunk.provenance == "user" else where

    def to_dict(self) -> dict[str, Any]:
        c = self.chunk
        return {
            "rank": self.rank,
            "citation": self.citation,
            "kind": c.kind,
            "law": c.law,
            "title": c.title,
            "article": c.label,
            "heading_path": list(c.heading_path),
            "text": c.text,
            "source": c.source,
            "start": c.start,
            "end": c.end,
            "chunk_id": c.id,
            "collection": c.collection,
            "provenance": c.provenance,
            "status": c.status,
            "version": c.version,
            "scores": {
                "fused": round(self.score, 6),
                "dense": None if self.dense_score is None else round(self.dense_score, 6),
                "bm25": None if self.bm25_score is None else round(self.bm25_score, 6),
                "dense_rank": self.dense_rank,
                "bm25_rank": self.bm25_rank,
                "key": None if self.key_score is None else round(self.key_score, 6),
                "rerank": None if self.rerank_score is None else round(self.rerank_score, 6),
                "exact": self.exact,
            },
        }


@dataclass(frozen=True)
class _Retrieval:
    """What one search found before ranking (Searcher._retrieve)."""

    text: str  # the normalized, corrected query
    fixes: list[Correction]
    expansion: Expansion
    named: list[CitationRef]
    exact: list[int]  # rows of the articles the query names
    vector: np.ndarray
    request: Request
    dense: list[tuple[int, float]]
    sparse: list[tuple[int, float]]
    fused: tuple[tuple[int, float], ...] | None
    timings: dict[str, float]


@dataclass
class SearchResult:
    query: str
    hits: list[Hit]
    expansion: Expansion
    named: list[CitationRef] = field(default_factory=list)  # articles the query names
    timings: dict[str, float] = field(default_factory=dict)
    # Passages held back by the one-passage-per-source rule (rank 0), for callers that want more prose.
    more: list[Hit] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)  # homophone typos fixed before searching
    searched: str = ""  # the query as searched: normalized, typos corrected

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "hits": [h.to_dict() for h in self.hits],
            "expansions": {"rules": list(self.expansion.rules), "terms": list(self.expansion.terms)},
            "corrections": [{"written": c.written, "meant": c.meant} for c in self.corrections],
            "named_articles": [r.canonical() for r in self.named],
            "timings_ms": {k: round(v * 1000, 2) for k, v in self.timings.items()},
        }


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


def normalize_query(query: str) -> str:
    """NFKC-fold widths and convert Traditional characters to Simplified (the corpus is Simplified)."""
    return _t2s().convert(unicodedata.normalize("NFKC", query)).strip()


def validate_query(query: object, k: int = 5) -> str:
    if not isinstance(query, str):
        raise QueryError(f"问题必须是文字，现在是 {type(query).__name__}")
    if not query.strip():
        raise QueryError("问题是空的：请输入一个问题，例如“我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？”")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"问题太长（{len(query)} 字）：请控制在 {MAX_QUERY_CHARS} 字以内，只写关键情况")
    printable = sum(ch.isprintable() or ch in "\n\t" for ch in query)
    if printable < 0.9 * len(query) or "\ufffd" in query:
        raise QueryError("问题里有大量无法识别的字符（可能是二进制内容）：请输入文字问题")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise QueryError(f"k 必须是 1 到 {MAX_K} 之间的整数，现在是 {k!r}")
    return query


class Searcher:
    def __init__(
        self,
        data: IndexData,
        embedder: Embedder,
        config: SearchConfig | None = None,
        rules: tuple[Rule, ...] | None = None,
        aliases: AliasTable | None = None,
        backend: Backend | None = None,
    ):
        """``backend`` runs the dense and BM25 retrievers (default: faiss + bm25s in the index folder)."""
        self.data = data
        self.backend = backend or FaissBackend(data)
        self.embedder = embedder
        self.config = config or SearchConfig()
        self.rules = data.rules if rules is None else rules  # the index's pinned copy by default
        self._speller: Speller | None = None
        self.chunks = data.chunks
        laws: dict[str, list[str]] = {}
        for c in self.chunks:
            if c.kind == "statute" and c.law and c.provenance == "official":
                laws.setdefault(c.law, list(c.meta.get("aliases", [])))
        self.aliases = (aliases or AliasTable()).with_laws(laws)
        self.laws = sorted(laws)
        # Only official text answers "what does this article say": an upload never shadows the law.
        # With several versions of a law, the one in force answers (the first one, if none is).
        self._articles: dict[tuple, int] = {}
        for i, c in enumerate(self.chunks):
            if c.kind == "statute" and c.provenance == "official":
                key = (c.law, c.article, c.suffix)
                held = self._articles.get(key)
                if held is None or (self.chunks[held].status in NOT_IN_FORCE and c.status not in NOT_IN_FORCE):
                    self._articles[key] = i
        self._by_id = {c.id: c for c in self.chunks}
        self._citers: dict[str, list[Chunk]] | None = None  # built on first use
        self._headings: dict[str, set[str]] | None = None  # heading -> laws that have it, on first use
        self._statuses: frozenset[str] | None = None  # statuses a filter may name, on first use
        self._keys: ResolvedKeys | None = None  # the pinned question keys over this index, on first use
        self._reranker: Reranker | None = None  # the pinned re-ranker, on first use
        self._pool_builder: PoolBuilder | None = None

    def with_(self, *, config: SearchConfig | None = None, embedder: Embedder | None = None) -> Searcher:
        """The same loaded index under another SearchConfig or embedder; this searcher is unchanged.

        Eval and calibration use it to try settings without reloading the index.
        """
        out = copy.copy(self)
        if config is not None:
            if not isinstance(config, SearchConfig):
                raise TypeError(f"config must be a SearchConfig. Currently, config is {type(config).__name__}")
            out.config = config
        if embedder is not None:
            out.embedder = embedder
            out._keys = None  # keys apply only with the model they were computed with
            out._pool_builder = None
        return out

    @property
    def keys(self) -> ResolvedKeys | None:
        """The index's pinned question keys (index/keys.py) as rows of this index, when they apply:
        computed with this searcher's model, turned on (``keys_neighbors``), and for this index
        (``keys_scope`` "library": only an index that holds the statute library); else None."""
        cfg = self.config
        if not cfg.keys_neighbors or (cfg.keys_scope == "library" and not self.data.manifest.get("library")):
            return None
        if self._keys is None:
            keys = QuestionKeys.load(self.data.pinned.keys_path)  # checked against the manifest at load
            if keys.model != self.embedder.name or keys.dim != self.embedder.dim:
                self._keys = ResolvedKeys(np.zeros((0, self.embedder.dim), np.float32), ())
            else:
                self._keys = keys.resolve(
                    lambda a: self._articles.get((self.aliases.resolve(a[0]) or a[0], a[1], a[2])))
        return self._keys if len(self._keys) else None

    @property
    def reranker(self) -> Reranker | None:
        """The index's pinned re-ranker (index/rerank.py), when it applies: turned on (``rerank``)
        and the question keys it reads apply to this index and model; else None."""
        if not self.config.rerank or self.keys is None:
            return None
        if self._reranker is None:
            self._reranker = Reranker.load(self.data.pinned.reranker_path)
        return self._reranker

    @property
    def speller(self) -> Speller:
        """Homophone correction against the domain's words: legal terms, expansion rules, article hints
        (the index's pinned copies)."""
        if self._speller is None:
            tok = self.data.tokenizer
            words = domain_words(self.rules, self.data.article_hints, self.data.terms, tok)
            self._speller = Speller(words, known=dictionary_words(tok), tokenizer=tok)
        return self._speller

    def article(self, law: str | None, number: int, suffix: int = 0) -> Chunk | None:
        """The chunk of one statute article, or None when the corpus does not have it."""
        row = self._articles.get((self.aliases.resolve(law) if law else law, number, suffix))
        return None if row is None else self.chunks[row]

    def chunk(self, chunk_id: str) -> Chunk | None:
        """The chunk with this id, or None when the index does not have it."""
        return self._by_id.get(chunk_id)

    def resolve_filters(self, filters: Filters | dict | None) -> Filters:
        """``filters`` as a ``Filters``: law aliases resolved, statuses and headings checked against the index."""
        if filters is None:
            return Filters()
        if isinstance(filters, Filters):
            return filters
        if not isinstance(filters, dict):
            raise QueryError(f"filters 应是 dict 或 Filters，现在是 {type(filters).__name__}")
        unknown = set(filters) - set(FILTER_NAMES)
        if unknown:
            raise QueryError(f"不认识的过滤条件 {sorted(unknown)}；可用 {'、'.join(FILTER_NAMES)}")

        def values(name: str) -> tuple[str, ...]:
            v = filters.get(name)
            if v is None:
                return ()
            v = (v,) if isinstance(v, str) else v
            if not isinstance(v, list | tuple | set | frozenset) or not all(isinstance(x, str) for x in v):
                raise QueryError(f"过滤条件 {name} 应是文字或文字列表，现在是 {filters.get(name)!r}")
            return tuple(v)

        laws = []
        for name in values("law"):
            full = self.aliases.resolve(name)
            if full is None or full not in self.laws:
                shown = "、".join(self.laws[:20]) + (f" 等 {len(self.laws)} 部" if len(self.laws) > 20 else "")
                raise QueryError(f"语料中没有法律“{name}”；现有：{shown}")
            laws.append(full)
        kinds = values("kind")
        bad = set(kinds) - {"statute", "article"}
        if bad:
            raise QueryError(f"kind 只能是 statute（法条）或 article（文章），现在是 {sorted(bad)}")
        statuses = tuple(ANY_STATUS if s in (ANY_STATUS, "全部") else s for s in values("status"))
        if self._statuses is None:
            self._statuses = frozenset(STATUSES) | {c.status for c in self.chunks if c.status}
        known = self._statuses
        bad = set(statuses) - known - {ANY_STATUS}
        if bad:
            raise QueryError(
                f"status 只能是 {'、'.join(sorted(known, key=_status_order))} 或 {ANY_STATUS}（全部版本），现在是 {sorted(bad)}"
            )
        headings = self._resolve_headings(values("heading"), tuple(laws))
        return Filters(tuple(laws), kinds, statuses, values("collection"), headings)

    def _resolve_headings(self, names: tuple[str, ...], laws: tuple[str, ...]) -> tuple[str, ...]:
        """The index's headings each name means: the whole heading, its number (第三编) or its words (合同, 合同编)."""
        if not names:
            return ()
        if self._headings is None:
            found: dict[str, set[str]] = {}
            for c in self.chunks:
                for h in c.heading_path:
                    found.setdefault(h, set()).add(c.law or c.title)
            self._headings = found
        out: list[str] = []
        for name in names:
            want = "".join(name.split())
            matched = [
                h for h, owners in self._headings.items()
                if (not laws or owners & set(laws)) and want in _heading_names(h)
            ]
            if not matched:
                where = f"《{'》《'.join(laws)}》" if laws else "索引"
                raise QueryError(
                    f"{where}中没有编、章或节“{name}”；请写完整的标题（如“第十三章 保证合同”）、"
                    "编号（如“第三编”）或名称（如“合同编”“保证合同”）"
                )
            out += [h for h in sorted(matched) if h not in out]
        return tuple(out)

    def search(self, query: str, k: int = 5, filters: Filters | dict | None = None) -> list[Hit]:
        return self.run(query, k, filters).hits

    def run(self, query: str, k: int = 5, filters: Filters | dict | None = None) -> SearchResult:
        validate_query(query, k)
        flt = self.resolve_filters(filters)
        t0 = time.perf_counter()
        cfg = self.config
        ranker = self.reranker
        got = self._retrieve(query, flt, cfg.rerank_candidates if ranker is not None else cfg.candidates)
        dense, sparse, engine_fused, exact_rows = got.dense, got.sparse, got.fused, got.exact
        keyed: dict[int, float] = {}
        t2 = time.perf_counter()
        keys = self.keys
        order: dict[int, float] | None = None
        pool: Pool | None = None
        nearest: list[tuple[int, float]] = []
        if ranker is not None:  # the learned re-ranker orders the whole candidate pool (index/rerank.py)
            pool = self.pool(got, flt)
            scores = ranker.score(pool.features)
            order = dict(zip(pool.rows, scores.tolist(), strict=True))
            keyed = pool.key_best
            engine_fused = None
        else:
            nearest = keys.nearest(got.vector, cfg.keys_neighbors, cfg.keys_min_similarity) if keys is not None else []
            if nearest:
                keyed = {r: s for r, s in keys.dense(nearest, cfg.keys_offset) if flt.admits(self.chunks[r])}
                if keyed:  # the keys change the dense ranking, so the Searcher fuses
                    own = dict(dense)
                    dense = [(r, own.get(r)) for r, _ in merge_dense(dense, list(keyed.items()), cfg.candidates)]
                    engine_fused = None
        got.timings["rank"] = time.perf_counter() - t2

        if engine_fused is not None:  # the engine fused the two rankings
            fused = dict(engine_fused)
        else:
            fused = reciprocal_rank_fusion(
                {"dense": [r for r, _ in dense], "bm25": [r for r, _ in sparse]},
                {"dense": cfg.dense_weight, "bm25": cfg.bm25_weight},
                k=cfg.rrf_k,
            )
        if nearest and (cfg.keys_law_prior or cfg.keys_heading_prior):
            self._route(fused, keys, nearest)
        d_info = {r: (i + 1, s) for i, (r, s) in enumerate(dense)}
        s_info = {r: (i + 1, s) for i, (r, s) in enumerate(sparse)}
        by = order if order is not None else fused
        ranked = exact_rows + [r for r in sorted(by, key=lambda r: (-by[r], r)) if r not in exact_rows]
        ranked, held_back = self._diversify(ranked)
        shown = ranked[:k] + [row for row in held_back[:k] if row not in ranked[:k]]
        # A hit one retriever did not rank still shows both scores (the composer and selector read them);
        # a re-ranked search's pool has them already.
        unscored = [r for r in shown if d_info.get(r, (None, None))[1] is None or r not in s_info]
        if pool is not None:
            d_more, s_more = pool.dense, pool.bm25
        else:
            d_more, s_more = self.backend.scores(got.request, unscored) if unscored else ({}, {})

        def hit(rank: int, row: int) -> Hit:
            dr, ds = d_info.get(row, (None, None))
            br, bs = s_info.get(row, (None, None))
            return Hit(self.chunks[row], rank, fused.get(row, 0.0), d_more[row] if ds is None else ds,
                       s_more[row] if bs is None else bs, dr, br, row in exact_rows, keyed.get(row),
                       None if order is None else order.get(row))

        hits = [hit(rank, row) for rank, row in enumerate(ranked[:k], start=1)]
        more = [hit(0, row) for row in held_back[:k] if row not in ranked[:k]]
        timings = got.timings
        timings["total"] = time.perf_counter() - t0
        return SearchResult(query, hits, got.expansion, got.named, timings, more, got.fixes, got.text)

    def _retrieve(self, query: str, flt: Filters, depth: int) -> _Retrieval:
        """Everything a search does before ranking: typo correction, expansion, exact lookup, the
        query embedding and both retrievers (``candidates`` deep, or the re-ranker's pool depth)."""
        t0 = time.perf_counter()
        cfg = self.config
        q, fixes = self.speller.correct(normalize_query(query)) if cfg.correct_typos else (normalize_query(query), [])
        expansion = expand(q, self.rules, cfg.disabled_rules) if cfg.expand else Expansion((), ())
        timings = {"prepare": time.perf_counter() - t0}
        named = [r for r in find_citations(q, aliases=self.aliases) if r.law is not None]
        exact_rows = []
        for ref in named:
            row = self._articles.get((ref.law, ref.article, ref.suffix))
            if row is not None and flt.admits_named(self.chunks[row]) and row not in exact_rows:
                exact_rows.append(row)
        t1 = time.perf_counter()
        qvec = self.embedder.embed_query(expansion.apply(q) if cfg.expand_dense else q)
        timings["embed"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        request = Request(qvec, expansion.apply(q), flt, depth, cfg.rrf_k, cfg.dense_weight, cfg.bm25_weight)
        got = self.backend.retrieve(request)
        timings["retrieve"] = time.perf_counter() - t2
        return _Retrieval(q, fixes, expansion, named, exact_rows, qvec, request,
                          list(got.dense), list(got.sparse), got.fused, timings)

    def pool(self, got: _Retrieval, flt: Filters) -> Pool:
        """The re-ranker's candidates of one retrieval, with their features (index/rerank.py)."""
        if self._pool_builder is None:
            keys = self.keys
            if keys is None:
                raise QueryError("这个索引没有可用的问题键，无法计算重排序特征")
            self._pool_builder = PoolBuilder(self.chunks, keys)
        return self._pool_builder.build(got.text, got.vector, got.dense, got.sparse, got.exact, flt.admits,
                                        lambda rows: self.backend.scores(got.request, rows))

    def candidates(self, query: str, filters: Filters | dict | None = None) -> Pool:
        """The candidate pool a re-ranked search would score, for training the re-ranker
        (scripts/train_reranker.py): the same steps as ``run``, whether or not a model is loaded."""
        validate_query(query)
        flt = self.resolve_filters(filters)
        return self.pool(self._retrieve(query, flt, self.config.rerank_candidates), flt)

    def _route(self, fused: dict[int, float], keys: ResolvedKeys, nearest: list[tuple[int, float]]) -> None:
        """Add the keys' law and chapter votes to the fused scores (index/keys.py), in place."""
        cfg, chunks = self.config, self.chunks
        laws = keys.votes(nearest, lambda r: chunks[r].law, cfg.keys_neighbors)
        heads = keys.votes(nearest, lambda r: chapter(chunks[r]), cfg.keys_neighbors)
        for r in fused:
            c = chunks[r]
            if c.kind == "statute":
                fused[r] += cfg.keys_law_prior * laws.get(c.law, 0.0) + cfg.keys_heading_prior * heads.get(chapter(c), 0.0)

    def _diversify(self, ranked: list[int]) -> tuple[list[int], list[int]]:
        """Keep at most ``max_per_source`` passages of one prose source ahead of everything else.

        Returns (the new order, the passages that were moved back, best first).
        """
        limit = self.config.max_per_source
        if limit <= 0:
            return ranked, []
        seen: dict[str, int] = {}
        head, tail = [], []
        for row in ranked:
            c = self.chunks[row]
            if c.kind != "statute":
                seen[c.source] = seen.get(c.source, 0) + 1
                if seen[c.source] > limit:
                    tail.append(row)
                    continue
            head.append(row)
        return head + tail, tail

    def cited_by(self, chunk: Chunk) -> list[Chunk]:
        """Chunks (other articles, article passages) whose text cites this statute article."""
        if chunk.kind != "statute":
            return []
        if self._citers is None:
            citers: dict[str, list[Chunk]] = {}
            for c in self.chunks:
                context = (c.article, c.suffix) if c.kind == "statute" else None
                refs = find_citations(c.text, aliases=self.aliases, current_law=c.law, current_article=context)
                for ref in refs:
                    target = self._articles.get((ref.law, ref.article, ref.suffix))
                    if target is not None and self.chunks[target].id != c.id:
                        bucket = citers.setdefault(self.chunks[target].id, [])
                        if c not in bucket:
                            bucket.append(c)
            self._citers = citers
        return list(self._citers.get(chunk.id, []))

    def references(self, chunk: Chunk) -> list[Chunk]:
        """Articles a statute chunk refers to (本法第X条, 前款 …) that the corpus holds, for context."""
        if chunk.kind != "statute":
            return []
        refs = find_citations(chunk.text, aliases=self.aliases, current_law=chunk.law,
                              current_article=(chunk.article, chunk.suffix))
        out: list[Chunk] = []
        for ref in refs:
            target = self.article(ref.law, ref.article, ref.suffix)
            if target is not None and target.id != chunk.id and target not in out:
                out.append(target)
        return out
