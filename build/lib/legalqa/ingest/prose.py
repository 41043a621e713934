"""Chunk prose (articles, notes, uploads) by its headings and paragraphs.

A chunk never crosses a heading, keeps its heading path, and is an exact
slice of the source text, so quotes from it can be located in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_RULE = re.compile(r"^\s*(-{3,}|\*{3,}|_{3,})\s*$")


@dataclass(frozen=True)
class Passage:
    text: str
    start: int
    end: int
    heading_path: tuple[str, ...]


def title_of(body: str, default: str) -> str:
    """The words of the first heading (any level), or the first non-empty line, or ``default``."""
    for line in body.splitlines():
        m = _HEADING.match(line)
        if m:
            return m.group(2)
        if line.strip():
            return line.strip()[:80]
    return default


def _blocks(text: str, offset: int):
    """Yield (kind, level, text, start, end) for headings, rules and paragraphs (blank-line separated)."""
    pos = offset
    para_start = None
    para_end = None
    for line in text[offset:].splitlines(keepends=True):
        stripped = line.strip()
        line_end = pos + len(line.rstrip("\n"))
        m = _HEADING.match(stripped)
        if m or _RULE.match(line) or not stripped:
            if para_start is not None:
                yield ("para", 0, None, para_start, para_end)
                para_start = None
            if m:
                yield ("heading", len(m.group(1)), m.group(2), pos, line_end)
            elif stripped:
                yield ("rule", 0, None, pos, line_end)
        else:
            lead = len(line) - len(line.lstrip())
            if para_start is None:
                para_start = pos + lead
            para_end = line_end - (len(line.rstrip("\n")) - len(line.rstrip()))
        pos += len(line)
    if para_start is not None:
        yield ("para", 0, None, para_start, para_end)


def chunk_prose(text: str, body_offset: int = 0, max_chars: int = 320) -> list[Passage]:
    """Split prose into passages: consecutive paragraphs under one heading, up to ``max_chars``.

    A paragraph longer than ``max_chars`` stays whole: splitting mid-sentence would
    make quotes harder to read. A thematic break (``---``) closes the current section.
    """
    passages: list[Passage] = []
    headings: list[tuple[int, str]] = []
    group: list[tuple[int, int]] = []

    def flush() -> None:
        if group:
            start, end = group[0][0], group[-1][1]
            path = tuple(h for lvl, h in headings if lvl > 1)
            passages.append(Passage(text[start:end], start, end, path))
            group.clear()

    for kind, level, heading, start, end in _blocks(text, body_offset):
        if kind == "heading":
            flush()
            headings = [(lvl, h) for lvl, h in headings if lvl < level] + [(level, heading)]
        elif kind == "rule":
            flush()
            headings = [(lvl, h) for lvl, h in headings if lvl <= 1]
        else:
            if group and end - group[0][0] > max_chars:
                flush()
            group.append((start, end))
    flush()
    return passages
