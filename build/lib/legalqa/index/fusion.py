"""Reciprocal rank fusion (Cormack et al., 2009), as a pure function."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[Hashable]],
    weights: Mapping[str, float] | None = None,
    k: int = 60,
) -> dict[Hashable, float]:
    """Fuse ranked lists: score(d) = sum_r weight_r / (k + rank_r(d)), ranks from 1.

    ``rankings`` maps a retriever name to its ids, best first. Returns id -> fused score.
    """
    if k <= 0:
        raise ValueError(f"k must be greater than 0. Currently, k is {k}")
    weights = weights or {}
    fused: dict[Hashable, float] = {}
    for name, ranked in rankings.items():
        w = weights.get(name, 1.0)
        for rank, item in enumerate(ranked, start=1):
            fused[item] = fused.get(item, 0.0) + w / (k + rank)
    return fused
