"""Answer settings: a plain dataclass with no heavy imports, so reading settings loads no model or index."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerConfig:
    """Composer settings; legalqa/defaults.toml overrides them. scripts/calibrate.py calibrates
    ``min_evidence`` on the tune split; docs/retrieval.md records how the selection was chosen."""

    k: int = 8
    # Evidence = best cosine similarity + rule_bonus per fired expansion rule (at most 2): in-domain
    # words (网贷, 担保, 征信 …) are evidence too. Below min_evidence, with no named article, abstain.
    min_evidence: float = 0.888
    rule_bonus: float = 0.0
    # Which statutes to cite: "model" asks the trained citation selector (qa/select.py, file
    # ``selector_model``, default qa/data/citation_selector.json); "relative" cites up to
    # max_statutes whose fused score is at least ``relative`` times the best one's.
    selector: str = "model"
    selector_model: str = ""
    max_statutes: int = 3
    relative: float = 0.90
    # Over a search the learned re-ranker ordered (a library index, index/rerank.py): cite the best statute
    # and up to max_statutes - 1 more whose re-ranker score is within cite_margin of it, instead of asking
    # the selector (trained on the default corpus). None: the selector everywhere. [library] sets it.
    cite_margin: float | None = None
    lead_sentences: int = 2
    lead_min_terms: int = 1  # distinct question or expansion words (2+ characters) the lead passage must contain
    # A passage is quoted as commentary only when its cosine similarity is within lead_max_gap of the best hit's
    # and its heading and chosen sentences hold at least lead_min_relevance of the question's weight
    # (qa.plan.lead_relevance); both calibrated on the tune split for lead relevance (scripts/calibrate.py).
    lead_max_gap: float = 1.0
    lead_min_relevance: float = 0.0
    # Which 款/项 to quote: the model of qa/paragraphs.py (default qa/data/paragraph_model.json).
    paragraph_model: str = ""

    def __post_init__(self) -> None:
        if self.selector not in ("model", "relative"):
            raise ValueError(f"selector must be 'model' or 'relative'. Currently, selector is {self.selector!r}")
        if isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise ValueError(f"k must be greater than 0. Currently, k is {self.k!r}")
        if isinstance(self.max_statutes, bool) or not isinstance(self.max_statutes, int) or self.max_statutes < 1:
            raise ValueError(f"max_statutes must be greater than 0. Currently, max_statutes is {self.max_statutes!r}")
        for name in ("min_evidence", "rule_bonus", "relative", "lead_max_gap", "lead_min_relevance"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number. Currently, {name} is {value!r}")
        if self.cite_margin is not None and (isinstance(self.cite_margin, bool) or not isinstance(
                self.cite_margin, int | float) or self.cite_margin < 0):
            raise ValueError(f"cite_margin must be a number of at least 0. Currently, cite_margin is {self.cite_margin!r}")
        if not 0 < self.relative <= 1:
            raise ValueError(f"relative must be in (0, 1]. Currently, relative is {self.relative!r}")
        for name in ("lead_sentences", "lead_min_terms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer of at least 0. Currently, {name} is {value!r}")


