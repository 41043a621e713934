"""YAML front matter: the ``---`` block at the top of a corpus Markdown file.

``split_front_matter`` is the one entry point. Dates stay strings
(``version: 2020-05-28`` gives ``"2020-05-28"``, not a ``datetime.date``), so
the metadata can go into JSON as it is.
"""

from __future__ import annotations

import yaml

_FENCE = "---"
_CLOSERS = ("---", "...")
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _StringDateLoader(yaml.SafeLoader):
    """SafeLoader that leaves timestamps as plain strings."""


# Dropping the implicit timestamp resolver keeps "2021-01-01" a str; everything else is SafeLoader's.
_StringDateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def split_front_matter(text: str) -> tuple[dict, int]:
    """Split the YAML front matter off a document.

    Args:
        text: the whole file. The front matter must open on the first line
            (after an optional BOM) with a line that is exactly ``---`` and close
            with a line that is ``---`` (or ``...``).

    Returns:
        ``(meta, offset)``: the parsed mapping and the offset in ``text`` where
        the body starts (just after the closing line's newline). ``({}, 0)`` when
        the text has no front matter. An empty block gives ``({}, offset)``.

    Raises:
        ValueError: the block is never closed, is not valid YAML, or is not a
            mapping of ``key: value`` lines.
    """
    pos = 1 if text.startswith("\ufeff") else 0
    lines = text[pos:].splitlines(keepends=True)
    if not lines or lines[0].rstrip(" \t\r\n") != _FENCE:
        return {}, 0
    yaml_start = pos + len(lines[0])
    offset = yaml_start
    for number, line in enumerate(lines[1:], start=2):
        if line.rstrip(" \t\r\n") in _CLOSERS:
            block = text[yaml_start:offset]
            return _load(block, closing_line=number), offset + len(line)
        offset += len(line)
    raise ValueError(
        "front matter opens with '---' on line 1 but has no closing '---' line; "
        "add one after the last 'key: value' line"
    )


def _load(block: str, *, closing_line: int) -> dict:
    try:
        data = yaml.load(block, Loader=_StringDateLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        # YAML marks count lines from the block; +2 turns them into file lines (1-based, after '---').
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValueError(f"malformed YAML front matter{where}: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(
            f"front matter (lines 2-{closing_line - 1}) must be a YAML mapping of 'key: value' lines, "
            f"got a {type(data).__name__}: {block.strip()[:60]!r}"
        )
    return data
