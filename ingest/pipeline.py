"""Ingestion: files → statute articles and prose passages → chunks, with a report.

``ingest(paths)`` reads every supported file below the paths. A file that
cannot be read is reported with its problem and skipped; the others still go in.

Provenance is decided here, once: only official collections (the corpus/ folder, checked
character for character against the official texts, and the statute library) yield statute
articles. A user collection (uploads) yields documents only: an uploaded file shaped like a
statute is read as a document, and one whose title names a known law is refused, so an upload
can never stand in for, or shadow, the law's own text.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from legalqa.ingest.aliases import AliasTable
from legalqa.ingest.citations import canonical, find_citations
from legalqa.ingest.crosscheck import QuoteCheck, compare_quote, quoted_after
from legalqa.ingest.frontmatter import split_front_matter
from legalqa.ingest.loaders import SUFFIXES, LoadError, load_text
from legalqa.ingest.models import Article, Chunk
from legalqa.ingest.prose import chunk_prose, title_of
from legalqa.ingest.statutes import StatuteDoc, StatuteError, check_unique, parse_statute
from tqdm import tqdm

STATUTE, ARTICLE = "statute", "article"


@dataclass(frozen=True)
class Finding:
    """What a prose source quotes after citing a statute article, checked against the statute."""

    source: str
    citation: str
    quoted: str
    start: int
    end: int
    check: QuoteCheck

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class IngestReport:
    files: int = 0
    articles: int = 0
    chunks: int = 0
    errors: list[str] = field(default_factory=list)  # "file: problem"; the file was skipped
    warnings: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    library: dict = field(default_factory=dict)  # what the statute library added (ingest/combine.py)

    @property
    def mismatches(self) -> list[Finding]:
        return [f for f in self.findings if f.check.status != "exact"]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["mismatches"] = [f.to_dict() for f in self.mismatches]
        return data

    def summary(self) -> str:
        lines = [
            f"文件 {self.files} 个，法条 {self.articles} 条，分块 {self.chunks} 个，"
            f"用时 {self.seconds:.2f} 秒；错误 {len(self.errors)}，警告 {len(self.warnings)}，"
            f"文章与法条不一致 {len(self.mismatches)} 处"
        ]
        if self.library:
            lib = self.library
            lines.append(
                f"法规库 {lib['source']}：{lib['laws']} 部法律（版本），{lib['articles']} 条，索引 {lib['indexed']} 条"
                f"（{lib['replaced_by_corpus']} 条以语料为准）；"
                + "，".join(f"{status or '未注明状态'} {n}" for status, n in sorted(lib["statuses"].items()))
            )
        lines += [f"  错误：{e}" for e in self.errors]
        lines += [f"  警告：{w}" for w in self.warnings]
        for f in self.mismatches:
            what = "改写/概括" if f.check.status == "paraphrase" else "引文与法条原文不同"
            detail = "；".join(d.describe() for d in f.check.differences)
            lines.append(f"  {f.source}：{f.citation} {what}" + (f"（{detail}）" if detail else ""))
        return "\n".join(lines)


@dataclass
class IngestResult:
    chunks: list[Chunk]
    sources: dict[str, str]  # source key -> full text the chunk offsets refer to
    articles: list[Article]
    aliases: AliasTable
    report: IngestReport


def chunk_id(*parts: str) -> str:
    """A stable content hash: the same law, article and text give the same id on every ingest."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """Supported files below the paths, sorted; and problems with paths that do not exist."""
    files: list[Path] = []
    problems: list[str] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(
                f for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in SUFFIXES
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        elif p.is_file():
            files.append(p)
        else:
            problems.append(f"{p}: 路径不存在")
    return files, problems


def source_key(path: Path, roots: list[Path]) -> str:
    path = path.resolve()
    for root in roots:
        root = root.resolve()
        base = root if root.is_dir() else root.parent
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return path.as_posix()


@dataclass(frozen=True)
class Collection:
    """More files to ingest with the main paths, under their own collection name and key prefix.

    ``official=False`` (uploads) never yields statute articles (see the module docstring).
    """

    paths: tuple[str | Path, ...]
    name: str
    key_prefix: str = ""
    official: bool = True


def ingest(
    paths: Iterable[str | Path],
    *,
    collection: str = "default",
    progress: bool = False,
    key_prefix: str = "",
    official: bool = True,
    also: Iterable[Collection] = (),
) -> IngestResult:
    """Read every file below ``paths`` (and ``also``) into chunks, in one pass.

    Articles in any collection are checked against the statutes of the official ones, so an
    uploaded article that misquotes a corpus statute is reported too. ``official=False`` reads
    ``paths`` as a user collection.
    """
    t0 = time.perf_counter()
    report = IngestReport()
    work: list[tuple[Path, str, str, bool]] = []  # (file, source key, collection, official)
    for group in [Collection(tuple(paths), collection, key_prefix, official), *also]:
        roots = [Path(p) for p in group.paths]
        files, problems = discover(roots)
        report.errors += problems
        work += [(f, group.key_prefix + source_key(f, roots), group.name, group.official) for f in files]
    chunks: list[Chunk] = []
    sources: dict[str, str] = {}
    articles: list[Article] = []
    prose_docs: list[tuple[str, str, int]] = []
    statute_laws: dict[str, list[str]] = {}

    known_laws = AliasTable()
    for path, key, coll, official in tqdm(work, desc="ingest", unit="file", disable=not progress):
        try:
            loaded = load_text(path)
            meta, body = split_front_matter(loaded.text)
            declared = _declared_kind(meta)
            # Undeclared: an official text has several lines that start an article.
            doc = None if declared == ARTICLE else parse_statute(loaded.text, source=key, front=(meta, body))
            statute_shaped = doc is not None and (declared == STATUTE or len(doc.articles) >= 3)
            if not official:
                title = str(meta.get("title") or title_of(loaded.text[body:], path.stem))
                claimed = known_laws.resolve(title) or (doc.law and known_laws.resolve(doc.law) if doc else None)
                if claimed:
                    raise ValueError(
                        f"标题自称是《{claimed}》。上传的文档不能替代法律原文（法律原文只来自官方法律库），"
                        "所以没有加入；如果这是你自己的笔记或文章，请把标题改成别的名字再添加"
                    )
                if statute_shaped:
                    report.warnings.append(
                        f"{path.name}: 看起来是法规文本，但上传的文档只按普通文档处理，不会被当作法律原文引用"
                    )
                    doc, statute_shaped = None, False
            if statute_shaped:
                if not doc.articles:
                    raise StatuteError(
                        f"{path.name}: 声明为法规（kind: statute），但没有找到任何“第X条”；"
                        "每条应另起一行，以“第X条”加空格开头，如“第一条 为了……”"
                    )
                check_unique(doc)  # a repeated 第X条 would make its citation name two articles
                articles.extend(doc.articles)
                statute_laws.setdefault(doc.law, []).extend(doc.aliases)
                chunks.extend(statute_chunks(doc, key, coll))
            else:
                title = str(meta.get("title") or title_of(loaded.text[body:], path.stem))
                passages = chunk_prose(loaded.text, body)
                if not passages:
                    raise LoadError(f"{path.name}: 没有正文段落")
                chunks.extend(_prose_chunks(passages, title, key, coll, meta))
                prose_docs.append((key, loaded.text, body))
        except (LoadError, StatuteError, ValueError) as exc:
            report.errors.append(str(exc) if path.name in str(exc) else f"{path.name}: {exc}")
            continue
        sources[key] = loaded.text
        report.files += 1

    aliases = AliasTable().with_laws(statute_laws)
    by_key = {(a.law, a.number, a.suffix): a for a in articles}
    for key, text, body in prose_docs:
        report.findings.extend(check_quotes(text, body, key, aliases, by_key))
    report.articles = len(articles)
    report.chunks = len(chunks)
    report.seconds = time.perf_counter() - t0
    return IngestResult(chunks, sources, articles, aliases, report)


def _declared_kind(meta: dict) -> str | None:
    declared = str(meta.get("kind", "")).strip().lower()
    if declared in (STATUTE, ARTICLE):
        return declared
    if declared:
        raise ValueError(f"front matter kind 只能是 statute 或 article，现在是 {declared!r}")
    return None


def statute_chunks(doc: StatuteDoc, key: str, collection: str) -> list[Chunk]:
    """One chunk per article of a parsed statute, keyed ``key`` (its source), in ``collection``."""
    return [
        Chunk(
            id=chunk_id(STATUTE, doc.law, a.label, a.text),
            kind=STATUTE,
            title=doc.law,
            text=doc.text[a.start : a.end],
            source=key,
            start=a.start,
            end=a.end,
            heading_path=a.heading_path,
            law=doc.law,
            article=a.number,
            suffix=a.suffix,
            label=a.label,
            citation=canonical(doc.law, a.number, a.suffix),
            paragraphs=a.paragraphs,
            items=a.items,
            status=a.status,
            version=a.version,
            collection=collection,
            meta=_statute_meta(doc, a),
        )
        for a in doc.articles
    ]


def _statute_meta(doc: StatuteDoc, article: Article) -> dict:
    """A statute chunk's meta: the law's aliases, and whether the file holds only some of its articles.

    ``excerpt`` is kept only when the front matter says it: without it nobody knows, and the
    verifier then never calls an article missing from the file nonexistent.
    """
    meta: dict = {"aliases": list(article.aliases)}
    if isinstance(doc.meta.get("excerpt"), bool):
        meta["excerpt"] = doc.meta["excerpt"]
    return meta


def _prose_chunks(passages, title: str, key: str, collection: str, meta: dict) -> list[Chunk]:
    return [
        Chunk(
            id=chunk_id(ARTICLE, title, "/".join(p.heading_path), p.text),
            kind=ARTICLE,
            title=title,
            text=p.text,
            source=key,
            start=p.start,
            end=p.end,
            heading_path=p.heading_path,
            collection=collection,
            meta={k: meta[k] for k in ("author", "date", "url") if k in meta},
        )
        for p in passages
    ]


def check_quotes(text: str, body: int, key: str, aliases: AliasTable, by_key: dict) -> list[Finding]:
    """Every citation of a known article in prose, followed by words: are they the law's words?"""
    refs = find_citations(text[body:], aliases=aliases)
    findings = []
    for i, ref in enumerate(refs):
        article = by_key.get((ref.law, ref.article, ref.suffix))
        if article is None:
            continue
        stop = body + refs[i + 1].start if i + 1 < len(refs) else len(text)
        if i + 1 < len(refs) and refs[i + 1].start == ref.start:
            continue  # a list or range: no single quote follows each member
        got = quoted_after(text, body + ref.end, stop)
        if got is None:
            continue
        words, start, end = got
        parts = [article.text] + [p.text for p in article.paragraphs]
        findings.append(Finding(key, ref.canonical(), words, start, end, compare_quote(words, parts)))
    return findings
