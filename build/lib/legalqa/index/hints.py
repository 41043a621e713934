"""Document-side expansion: plain-language hints for statute articles.

The question side has ``expansion.py`` (网贷 → 借款); this is its mirror: an article is indexed
together with the words people use for it (担保人要替他还 for 第六百八十八条). Hints change
what the retrievers match, never what an answer quotes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

DEFAULT_HINTS = Path(__file__).with_name("data") / "article_hints.tsv"


def parse_hints(text: str, source: str = "<hints>") -> dict[str, str]:
    """canonical citation -> hint words. Errors name the line."""
    hints: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].startswith("《"):
            raise ValueError(f"{source}:{lineno}: expected “《law》第X条<TAB>words”")
        cite, words = parts[0].strip(), parts[1].strip()
        if cite in hints:
            raise ValueError(f"{source}:{lineno}: {cite} appears twice")
        hints[cite] = words
    return hints


@lru_cache(maxsize=4)
def load_hints(path: Path = DEFAULT_HINTS) -> dict[str, str]:
    return parse_hints(Path(path).read_text(encoding="utf-8"), str(path))
