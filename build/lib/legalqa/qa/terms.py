"""How much of a question's wording a text shares: the one overlap measure the composer and the
citation selector use, so a feature means the same thing at training time and at answer time."""

from __future__ import annotations


def term_weights(tokens: list[str]) -> dict[str, float]:
    """Each distinct token weighted by its length: 连带责任 says more than 我."""
    return {t: float(len(t)) for t in tokens}


def overlap(weights: dict[str, float], text: str) -> float:
    """The summed weight of the tokens that occur in ``text``."""
    return sum(w for t, w in weights.items() if t in text)
