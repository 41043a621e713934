"""The corpus and the statute library in one index, the corpus's statute files taking precedence.

``combine(chunks, sources, library)`` adds the library's chunks to what ``ingest`` read:

- An article the corpus holds is the corpus's chunk. A library article of the same law and
  number (第X条, 之X included) whose version is in force is left out; the library supplies
  the rest of that law and every other law.
- A 历史版本 or 已废止 library article is never replaced: it is another version, kept with its
  status (search skips it unless a filter asks, index/search.py ``Filters``).
- No two chunks share an id: a library chunk whose id is already taken is left out (counted).
- A law that the corpus and the library hold in different versions is named in a warning
  (the database's 刑法 is the 2020-12-26 text, marked 已被修改; the corpus quotes the 2023 one):
  its articles keep their own version and status, so a citation shows which text it quotes.

Pure: the inputs are not changed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from legalqa.ingest.library import Library
from legalqa.ingest.models import NOT_IN_FORCE, Chunk


@dataclass(frozen=True)
class Combined:
    """The chunks and source texts to index, and what the library added (for the ingest report)."""

    chunks: list[Chunk]
    sources: dict[str, str]
    summary: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def article_key(c: Chunk) -> tuple[str | None, int | None, int]:
    return (c.law, c.article, c.suffix)


def combine(chunks: list[Chunk], sources: dict[str, str], library: Library) -> Combined:
    """``chunks``/``sources`` (the corpus, uploads) plus ``library``'s chunks, corpus first.

    Raises:
        ValueError: a library source key names a different text than the corpus's source of that key.
    """
    lib_chunks, lib_sources = library.chunks()
    held = {article_key(c): c for c in chunks if c.kind == "statute" and c.provenance == "official"}
    ids = {c.id for c in chunks}
    kept: list[Chunk] = []
    replaced = duplicates = 0
    for c in lib_chunks:
        if c.status not in NOT_IN_FORCE and article_key(c) in held:
            replaced += 1
        elif c.id in ids:
            duplicates += 1
        else:
            ids.add(c.id)
            kept.append(c)
    used = {c.source for c in kept}
    merged = dict(sources)
    for key, text in lib_sources.items():
        if key not in used:
            continue  # every article of this text is the corpus's
        if key in merged and merged[key] != text:
            raise ValueError(
                f"法规库的文本 {key} 与语料中同名文件的内容不同；请把语料文件改名，或把法规库放到别的文件夹"
            )
        merged[key] = text
    warnings = _version_warnings(library, held, Counter((c.law, c.version) for c in kept))
    infos = library.infos()
    summary = {
        "source": library.source,
        "laws": len(infos),
        "articles": len(lib_chunks),
        "indexed": len(kept),
        "replaced_by_corpus": replaced,
        "duplicate_ids": duplicates,
        "statuses": dict(Counter(c.status for c in kept)),
        "skipped": list(library.skipped),
        "cleaning": dict(library.cleaning),
        "read_seconds": round(library.seconds, 3),
    }
    return Combined(chunks + kept, merged, summary, warnings)


def _version_warnings(library: Library, held: dict, supplied: Counter) -> list[str]:
    """A warning for each law whose in-force library version differs from the corpus's version of it."""
    corpus_versions: dict[str, Counter] = {}
    for c in held.values():
        corpus_versions.setdefault(c.law or "", Counter())[c.version] += 1
    out = []
    for info in library.infos():
        if info.status in NOT_IN_FORCE or info.law not in corpus_versions:
            continue
        for version, count in sorted(corpus_versions[info.law].items()):
            if version != info.version:
                out.append(
                    f"《{info.law}》：语料文件是 {version or '未注明版本'} 的文本，法规库是 {info.version} 的文本"
                    f"（{info.status or '未注明状态'}）；语料中的 {count} 条用语料文本，"
                    f"其余 {supplied[(info.law, info.version)]} 条用法规库文本，各条标明自己的版本"
                )
    return out

