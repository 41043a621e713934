"""Query expansion: everyday words (网贷, 老公, 爆通讯录) → the legal terms statutes use.

Rules live in a data file (index/data/expansions.tsv) so they can be read,
measured and changed without touching code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_RULES = Path(__file__).with_name("data") / "expansions.tsv"


@dataclass(frozen=True)
class Rule:
    id: str
    triggers: tuple[str, ...]
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Expansion:
    """Which rules fired for a query, and the terms they added."""

    rules: tuple[str, ...]
    terms: tuple[str, ...]

    def apply(self, query: str) -> str:
        return query if not self.terms else query + " " + " ".join(self.terms)


def parse_rules(text: str, source: str = "<rules>") -> tuple[Rule, ...]:
    rules = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(
                f"{source}:{lineno}: expected 3 tab-separated fields (id, triggers, terms), got {len(parts)}"
            )
        rid, triggers, terms = (p.strip() for p in parts)
        rules.append(Rule(rid, tuple(t for t in triggers.split("|") if t), tuple(terms.split())))
    return tuple(rules)


@lru_cache(maxsize=8)
def load_rules(path: Path = DEFAULT_RULES) -> tuple[Rule, ...]:
    return parse_rules(Path(path).read_text(encoding="utf-8"), str(path))


def expand(query: str, rules: tuple[Rule, ...], disabled: frozenset[str] = frozenset()) -> Expansion:
    """Fire every rule (not in ``disabled``) with a trigger in the query; terms are deduplicated."""
    fired: list[str] = []
    terms: list[str] = []
    for rule in rules:
        if rule.id in disabled or not any(t in query for t in rule.triggers):
            continue
        fired.append(rule.id)
        terms.extend(t for t in rule.terms if t not in terms and t not in query)
    return Expansion(tuple(fired), tuple(terms))
