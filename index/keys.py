"""Known questions as extra dense keys for the articles that answer them (learned from data).

A lawyer's gold answer to a real question says which articles that question is about. Stored as a
query-side vector with its gold articles, such a question is one more key by which those articles
can be found: a new question close to it in meaning finds them even when the article's own words
are far from the question's (「单位不给交社保」 against 「用人单位应当依法为劳动者缴纳社会保险费」).

The keys are the tune part of the frozen STARD split (eval/stard_split.json), embedded by
``scripts/train_keys.py`` with the default model. Only vectors and article references are kept
(``index/data/question_keys.npz``): no question text. The held-out part never becomes a key, so
held-out figures measure questions the keys have not seen.

At search time the ``keys_neighbors`` keys nearest the question do two things (index/search.py):

- the dense retriever's ranking takes, for each of their articles, the better of its own cosine
  similarity and ``similarity to the key - keys_offset`` (``ResolvedKeys.dense``), so a key lifts
  an article the way a closer article text would;
- they vote for laws and for chapters (``ResolvedKeys.votes``): every fused candidate gains
  ``keys_law_prior`` × its law's share of the votes and ``keys_heading_prior`` × its chapter's.
  This routes a question to the law it is about (担保制度解释 rather than 民法典, 劳动合同法 rather
  than 劳动法) without a hand-written rule.

The keys only apply with the model they were computed with; an index on another model searches
without them. docs/retrieval.md has the measurements behind the settings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DEFAULT_KEYS = Path(__file__).with_name("data") / "question_keys.npz"

Article = tuple[str, int, int]  # (law, article number, 之X suffix)
# A key this close to the question is the question itself (float16 storage keeps it above 0.9999):
# it is skipped, so the keys generalize from other questions and never just recall their own gold.
# This also makes every figure measured on the tune part leave-one-out.
SAME_QUESTION = 0.9995


class KeysError(ValueError):
    """A question-keys file that cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class QuestionKeys:
    """Key vectors (L2-normalized, one per known question) and the articles each one answers.

    Attributes:
        vectors: (n, dim) float32.
        targets: per key, the gold articles it points at.
        model: the embedding model the vectors come from (``Embedder.name``).
        meta: where they came from (source file hash, split, counts), for the record.
    """

    vectors: np.ndarray
    targets: tuple[tuple[Article, ...], ...]
    model: str
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.targets):
            raise KeysError(f"问题键的向量 {self.vectors.shape} 与目标条文 {len(self.targets)} 组不一致")

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def save(self, path: str | Path) -> None:
        """Write the keys (vectors as float16) through a temporary file."""
        path = Path(path)
        flat = [(i, law, art, suf) for i, arts in enumerate(self.targets) for law, art, suf in arts]
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as f:
            np.savez_compressed(
                f,
                vectors=self.vectors.astype(np.float16),
                key=np.array([t[0] for t in flat], dtype=np.int32),
                law=np.array([t[1] for t in flat], dtype=str),
                article=np.array([t[2] for t in flat], dtype=np.int32),
                suffix=np.array([t[3] for t in flat], dtype=np.int32),
                info=np.array(json.dumps({"model": self.model, **self.meta}, ensure_ascii=False)),
            )
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path = DEFAULT_KEYS) -> QuestionKeys:
        path = Path(path)
        fix = "请运行 python scripts/train_keys.py 重新生成"
        try:
            with np.load(path, allow_pickle=False) as z:
                vectors = z["vectors"].astype(np.float32)
                info = json.loads(str(z["info"]))
                key, law, article, suffix = z["key"], z["law"], z["article"], z["suffix"]
        except FileNotFoundError as exc:
            raise KeysError(f"找不到问题键文件 {path}：{fix}") from exc
        except Exception as exc:  # noqa: BLE001 - a bad zip, a truncated array, a missing field: all unreadable
            raise KeysError(f"问题键文件 {path} 无法读取（{exc}）：{fix}") from exc
        targets: list[list[Article]] = [[] for _ in range(len(vectors))]
        for i, la, a, s in zip(key.tolist(), law.tolist(), article.tolist(), suffix.tolist(), strict=True):
            if not 0 <= i < len(targets):
                raise KeysError(f"问题键文件 {path} 已损坏（目标指向第 {i} 个键）：{fix}")
            targets[i].append((la, a, s))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms > 0, norms, 1.0)  # float16 storage: normalize again
        model = info.pop("model", "")
        return cls(vectors, tuple(tuple(t) for t in targets), model, info)

    def resolve(self, article_row: Callable[[Article], int | None]) -> ResolvedKeys:
        """The keys with their articles as index rows. Every key stays a neighbor candidate, also one
        whose articles the index lacks (its rows are empty): the nearest known questions are the
        nearest whatever the index holds, and what they point at outside it is simply not found."""
        rows = []
        for arts in self.targets:
            got = [r for r in (article_row(a) for a in arts) if r is not None]
            rows.append(tuple(dict.fromkeys(got)))
        return ResolvedKeys(np.ascontiguousarray(self.vectors), tuple(rows))


@dataclass(frozen=True)
class ResolvedKeys:
    """Keys whose targets are rows of one index."""

    vectors: np.ndarray
    rows: tuple[tuple[int, ...], ...]

    def __len__(self) -> int:
        """How many keys point at an article of this index."""
        return sum(1 for r in self.rows if r)

    def nearest(self, query: np.ndarray, neighbors: int, floor: float = -1.0) -> list[tuple[int, float]]:
        """(key, cosine similarity) of the ``neighbors`` keys nearest the query, nearest first; keys
        below ``floor`` are not neighbors (a question far from every known one gets no help)."""
        if not len(self.rows) or neighbors <= 0:
            return []
        sims = self.vectors @ np.asarray(query, dtype=np.float32)
        sims[(sims >= SAME_QUESTION) | (sims < floor)] = -np.inf  # a key never answers its own question
        order = np.argsort(-sims, kind="stable")[:neighbors].tolist()
        return [(j, float(sims[j])) for j in order if np.isfinite(sims[j])]

    def own(self, query: np.ndarray) -> list[int]:
        """The keys that are the question itself (cosine ≥ ``SAME_QUESTION``): never its neighbours,
        and left out of whatever is counted over the keys for it."""
        if not len(self.rows):
            return []
        sims = self.vectors @ np.asarray(query, dtype=np.float32)
        return np.flatnonzero(sims >= SAME_QUESTION).tolist()

    def dense(self, nearest: list[tuple[int, float]], offset: float) -> list[tuple[int, float]]:
        """(row, best key similarity - offset) for the articles of the ``nearest`` keys."""
        out: dict[int, float] = {}
        for j, sim in nearest:
            for r in self.rows[j]:
                if sim - offset > out.get(r, -np.inf):
                    out[r] = sim - offset
        return list(out.items())

    def votes(self, nearest: list[tuple[int, float]], group: Callable[[int], Hashable],
              neighbors: int) -> dict[Hashable, float]:
        """For each group (a law, a chapter), the share of ``neighbors`` key places taken by
        ``nearest`` keys whose articles fall in it: which law and which part of it the known
        questions most like this one were about. Places left empty by the similarity floor count
        as no vote, so two far keys never speak for ten."""
        out: dict[Hashable, float] = {}
        for j, _ in nearest:
            for g in {group(r) for r in self.rows[j]}:
                out[g] = out.get(g, 0.0) + 1.0 / neighbors
        return out


def merge_dense(dense: Sequence[tuple[int, float]], keyed: Sequence[tuple[int, float]],
                limit: int) -> list[tuple[int, float]]:
    """One dense ranking from the retriever's (row, cosine) and the keys' (row, score): each row
    keeps its better score; best first, at most ``limit``."""
    best = dict(dense)
    for r, s in keyed:
        if s > best.get(r, -np.inf):
            best[r] = s
    return sorted(best.items(), key=lambda rs: (-rs[1], rs[0]))[:limit]
